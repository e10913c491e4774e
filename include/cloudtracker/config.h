/* The YAML config file (compatible with the original cloudtracker's
 * `accounts:` list) loaded into plain structs. libyaml types never leave the
 * loader. Relative paths are resolved against the config file's folder. */
#ifndef CLOUDTRACKER_CONFIG_H
#define CLOUDTRACKER_CONFIG_H

#include "cloudtracker/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ct_account {
    char *name;     /* e.g. "demo" */
    char *id;       /* 12 digits */
    char *iam_path; /* authorization-details JSON, resolved; NULL if not given */
    char *identity_store_path; /* `aws identitystore list-users` JSON, resolved; NULL if not given */
    char *credential_report_path; /* IAM credential report CSV, resolved; NULL if not given */
} ct_account;

/* Which field names the CloudTrail records carry in the index. */
typedef enum ct_es_schema {
    CT_ES_SCHEMA_AUTO = 0, /* detect with one _mapping/field request */
    CT_ES_SCHEMA_KEYWORD,  /* CloudTrail's names mapped as keyword (the recommended template) */
    CT_ES_SCHEMA_DYNAMIC,  /* CloudTrail's names under dynamic mapping: text + .keyword */
    CT_ES_SCHEMA_ECS       /* Elastic's AWS integration (event.provider, aws.cloudtrail.*) */
} ct_es_schema;

/* The elasticsearch: section. Secrets are resolved at load time (from the
 * file or from the environment variable the file names); they are never
 * put in an error message. Strings are NULL when not given. */
typedef struct ct_es_config {
    int line;              /* where the section starts, for messages */
    char **urls;           /* base URLs ("http://h:9200", no trailing slash), tried in turn */
    size_t url_count;      /* from url, hosts, cloud_id or host+port (default localhost:9200) */
    char *index;           /* index expression: name, pattern, comma list or alias */
    char *key_prefix;      /* prefix of every CloudTrail field name ("" by default) */
    char *timestamp_field; /* NULL: eventTime (with key_prefix), @timestamp for ecs */
    ct_es_schema schema;
    char *username, *password; /* Basic */
    char *api_key;             /* "id:key" or the encoded form, sent as ApiKey */
    char *bearer_token;
    char *ca_cert; /* resolved paths */
    char *client_cert, *client_key;
    bool insecure; /* skip TLS verification (the CLI warns) */
    char *proxy;
    long connect_timeout_ms, request_timeout_ms;
    int retries; /* extra attempts after 429/503, default 3 */
    long max_response_bytes; /* largest answer body read (decoded), default 256 MiB */
    bool aws_sigv4;
    char *aws_region;
    char *aws_service; /* "es" or "aoss" */
    /* The loader (ingest --to elasticsearch). */
    char *index_format; /* index names by eventTime: %Y, %m, %d (default cloudtrail-%Y.%m) */
    char *state_index;  /* the loader's bookkeeping (default cloudtracker-state) */
    long bulk_bytes;    /* size of one _bulk request (default 8 MiB) */
    long bulk_requests; /* _bulk requests in flight (default 4) */
    long bulk_retries;  /* sends again of a _bulk request or item refused as busy or
                           lost (default 9: about a minute of backoff) */
} ct_es_config;

typedef struct ct_config {
    char *path; /* the file loaded */
    char *dir;  /* its folder: base of relative paths */
    ct_account *accounts;
    size_t account_count;
    char **log_paths; /* files.paths, resolved */
    size_t log_path_count;
    char *store_path; /* files.store, resolved (default .cloudtracker/store.db) */
    char *time_field; /* files.timestamp_field: time of records without eventTime, or NULL */
    /* window: default analysis window; CLI flags override */
    bool has_window_start, has_window_end;
    int64_t window_start, window_end; /* days since the epoch */
    int64_t window_days;              /* window.days, default 365 */
    bool has_elasticsearch;           /* an elasticsearch: section is present */
    int elasticsearch_line;
    ct_es_config es; /* valid when has_elasticsearch */
} ct_config;

/* Limits on a config file, each an error naming the file when exceeded:
 * its size (real configs are a few KB), how deep lists and mappings nest
 * (real configs use 3 levels), and YAML anchors and aliases (&a, *a)
 * counted together (libyaml's loader slows with the square of their count). */
#define CT_CONFIG_MAX_BYTES ((size_t)16 << 20)
#define CT_CONFIG_MAX_DEPTH 64
#define CT_CONFIG_MAX_ANCHORS 10000

/* Loads and validates `path`. Errors (CT_ECONFIG, with file:line:col where
 * known): missing or unreadable file, not a regular file, larger than
 * CT_CONFIG_MAX_BYTES, YAML syntax, nesting or anchors past the limits,
 * unknown keys, wrong types, an account id that is not 12 digits, duplicate
 * account names or ids, an empty path setting, a bad date. In path settings
 * a leading ~/ or ~ is $HOME (an error when HOME is unset) and ~user/ that
 * user's home folder. *out belongs to the caller (ct_config_free). */
int ct_config_load(ct_config **out, const char *path, ct_error *err);
/* The same from text in memory; `path` names it in errors and is the base of
 * relative paths. */
int ct_config_parse(ct_config **out, const char *text, size_t len, const char *path, ct_error *err);
void ct_config_free(ct_config *cfg);

/* Finds an account by name, else by 12-digit id; NULL when absent. */
const ct_account *ct_config_find_account(const ct_config *cfg, const char *name_or_id);

/* Joins a relative path onto a base folder (an absolute path is returned as
 * is). Returns a malloc'd string or NULL when out of memory. */
char *ct_path_resolve(const char *base_dir, const char *path);

#endif
