/* HTTP transport of the Elasticsearch backend: libcurl (easy handles driven
 * by one multi handle), host failover, authentication (Basic, ApiKey,
 * Bearer, SigV4), TLS, timeouts, bounded retries of 429/503 with jittered
 * backoff, JSON parsing and error classification. Internal to src/source/es_*:
 * cJSON types never leave these modules. */
#ifndef CT_SOURCE_ES_HTTP_H
#define CT_SOURCE_ES_HTTP_H

#include "cloudtracker/config.h"
#include "cloudtracker/error.h"
#include "cloudtracker/util.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ct_es_client ct_es_client;

/* One request. `path` starts with '/' and is sent as is (index expressions
 * may hold '*' and ','); `query` is NULL or "k=v&k2=v2". */
typedef struct ct_es_request {
    const char *method; /* "GET" or "POST" */
    const char *path;
    const char *query;
    const char *body; /* JSON, or NULL */
    size_t body_len;
} ct_es_request;

/* Makes a client for `cfg` (borrowed: it must outlive the client). Reads the
 * AWS credentials from the environment when cfg->aws_sigv4. Returns 0,
 * CT_ECONFIG (missing AWS credentials) or CT_ENOMEM. */
int ct_es_client_new(ct_es_client **out, const ct_es_config *cfg, ct_error *err);
/* NULL-safe. */
void ct_es_client_free(ct_es_client *c);

/* The base URL requests currently go to (never holds credentials). */
const char *ct_es_client_host(const ct_es_client *c);

/* Whether the last failed request failed for exceeding the cluster's
 * search.max_buckets (a smaller composite page would pass). */
bool ct_es_client_too_many_buckets(const ct_es_client *c);

/* Sends one request and parses the 2xx answer into *out (the caller frees it
 * with cJSON_Delete). Errors, each naming the host and never a credential:
 * CT_EUNREACHABLE (DNS, connect, TLS, timeout, closed connection, 401/403,
 * still 429/503 after the retries, 502/504), CT_ECONFIG (missing index),
 * CT_EPARTIAL (other 4xx/5xx, a truncated or non-JSON body, timed_out or
 * failed shards). */
int ct_es_request_json(ct_es_client *c, const ct_es_request *req, cJSON **out, ct_error *err);

/* Sends n requests concurrently and parses each answer into outs[i]. All or
 * nothing: on error every outs[i] is NULL. */
int ct_es_request_many(ct_es_client *c, const ct_es_request *reqs, size_t n, cJSON **outs,
                       ct_error *err);

/* Appends `s` as a JSON string literal (quotes included). 0 or CT_ENOMEM. */
int ct_es_json_string(ct_buf *b, const char *s);

#endif
