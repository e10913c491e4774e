/* HTTP transport of the Elasticsearch backend: libcurl (easy handles driven
 * by one multi handle), host failover, authentication (Basic, ApiKey,
 * Bearer, SigV4), TLS, timeouts, bounded retries of 429/503 with jittered
 * backoff, JSON parsing and error classification. Internal to src/es/:
 * cJSON types never leave these modules. */
#ifndef CT_ES_HTTP_H
#define CT_ES_HTTP_H

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
    const char *content_type; /* NULL: application/json */
    bool raw_answer;          /* async only: hand back the 2xx body unparsed */
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

/* Like ct_es_request_json, but any answer except a lasting 429/503 is a
 * success: *status is its HTTP status and *out its body parsed (NULL when
 * it is not JSON), for requests whose 404 or 400 means something (an index
 * that does not exist yet, one that already does). */
int ct_es_request_status(ct_es_client *c, const ct_es_request *req, long *status, cJSON **out,
                         ct_error *err);

/* Sends n requests concurrently and parses each answer into outs[i]. All or
 * nothing: on error every outs[i] is NULL. */
int ct_es_request_many(ct_es_client *c, const ct_es_request *reqs, size_t n, cJSON **outs,
                       ct_error *err);

/* ---- requests in flight, for the bulk loader ----
 * The caller keeps several requests running on the client's connections
 * while it prepares the next ones, and decides itself what to retry and
 * when (ct_es_request_many retries within a fixed budget instead). */

/* How one request started with ct_es_async_start ended. */
typedef struct ct_es_outcome {
    void *tag;      /* as given to ct_es_async_start */
    int rc;         /* 0: a 2xx answer, parsed into json; else err says why */
    cJSON *json;    /* the caller frees it (cJSON_Delete) */
    ct_buf body;    /* instead of json with req->raw_answer (ct_buf_release) */
    long status;    /* HTTP status, 0 when there was no answer */
    bool retryable; /* busy (429/503), a gateway error or a lost connection:
                       the same request may succeed later */
    ct_error err;
} ct_es_outcome;

/* Starts `req` (which, with its body, must stay valid until its outcome is
 * returned). 0 or CT_ENOMEM. */
int ct_es_async_start(ct_es_client *c, const ct_es_request *req, void *tag, ct_error *err);
/* How many started requests have not been returned yet. */
size_t ct_es_async_pending(const ct_es_client *c);
/* Moves the transfers along and returns one finished request in *out
 * (*have true), waiting up to timeout_ms for one (0: do not wait). A
 * connection failure also moves the client on to the next host, so the
 * retry goes there. Returns 0 or CT_ENOMEM. */
int ct_es_async_next(ct_es_client *c, int timeout_ms, ct_es_outcome *out, bool *have,
                     ct_error *err);
/* Delays before retry `attempt` (1, 2, ...): exponential with jitter,
 * capped at cap_ms. */
long ct_es_backoff_ms(ct_es_client *c, int attempt, long cap_ms);

/* Appends `s` as a JSON string literal (quotes included). 0 or CT_ENOMEM. */
int ct_es_json_string(ct_buf *b, const char *s);

#endif
