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
} ct_account;

typedef struct ct_config {
    char *path; /* the file loaded */
    char *dir;  /* its folder: base of relative paths */
    ct_account *accounts;
    size_t account_count;
    char **log_paths; /* files.paths, resolved */
    size_t log_path_count;
    char *store_path; /* files.store, resolved (default .cloudtracker/store.db) */
    /* window: default analysis window; CLI flags override */
    bool has_window_start, has_window_end;
    int64_t window_start, window_end; /* days since the epoch */
    int64_t window_days;              /* window.days, default 365 */
    bool has_elasticsearch;           /* an elasticsearch: section is present */
    int elasticsearch_line;
} ct_config;

/* Loads and validates `path`. Errors (CT_ECONFIG, with file:line:col where
 * known): missing or unreadable file, YAML syntax, unknown keys, wrong
 * types, an account id that is not 12 digits, duplicate account names or
 * ids, a bad date. *out belongs to the caller (ct_config_free). */
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
