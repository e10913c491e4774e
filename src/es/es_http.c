/* libcurl transport for the Elasticsearch backend. Every request goes
 * through run_batch(): one round sends all pending requests in parallel on
 * the client's multi handle; then failures are sorted into retry (429/503),
 * fail over to the next host (connection failures) and fatal. */
#include "es/es_http.h"

#include "cloudtracker/es.h"
#include "cloudtracker/util.h"
#include "es/es_sigv4.h"
#include "util/sha256.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Upper bounds on retrying a busy server (429/503): the delay doubles from
 * BACKOFF_BASE_MS up to BACKOFF_CAP_MS, and all waits together stay under
 * RETRY_BUDGET_MS, so a server that stays busy fails the query in bounded
 * time rather than hanging it. */
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 4000
#define RETRY_BUDGET_MS 30000

struct ct_es_client {
    const ct_es_config *cfg;
    CURLM *multi;      /* holds the connection pool, so requests reuse connections */
    CURLM *amulti;     /* the same for requests in flight (ct_es_async_*), kept apart so a
                          request made meanwhile neither waits for them nor reaps them */
    size_t current;    /* index of the base URL in use */
    char *auth_header; /* "Authorization: ..." for ApiKey and Bearer */
    char *aws_key, *aws_secret, *aws_token;
    uint64_t rng;
    bool too_many_buckets; /* the last failure was search.max_buckets */
    struct xfer *async;    /* started with ct_es_async_start, not yet returned */
    size_t async_count;
};

typedef struct xfer {
    const ct_es_request *req;
    CURL *easy;
    struct curl_slist *headers;
    ct_buf body;
    size_t limit; /* elasticsearch.max_response_bytes */
    bool too_big; /* the body passed the limit: the transfer was stopped */
    char errbuf[CURL_ERROR_SIZE];
    CURLcode result;
    long status;
    int attempts;
    bool done;
    bool any_status;    /* ct_es_request_status: any answer but "busy" will do */
    void *tag;          /* async requests: the caller's */
    struct xfer *next;  /* async requests: the client's list */
} xfer;

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

int ct_es_json_string(ct_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (ct_buf_puts(b, "\""))
        return CT_ENOMEM;
    /* Runs of bytes that need no escape are appended whole: the loader
     * writes an ARN list into every document. */
    const unsigned char *p = (const unsigned char *)s, *run = p;
    for (;; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        if (p > run && ct_buf_append(b, run, (size_t)(p - run)))
            return CT_ENOMEM;
        if (!*p)
            break;
        int rc;
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            rc = ct_buf_append(b, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            rc = ct_buf_append(b, e, 6);
        }
        if (rc)
            return CT_ENOMEM;
        run = p + 1;
    }
    return ct_buf_puts(b, "\"") ? CT_ENOMEM : 0;
}

/* Whether s holds a byte below 0x20 or DEL. */
static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

static char *base64(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(CT_BASE64_SIZE(n));
    if (out)
        ct_base64_encode(s, n, out);
    return out;
}

int ct_es_client_new(ct_es_client **out, const ct_es_config *cfg, ct_error *err)
{
    *out = NULL;
    if (cfg->url_count == 0)
        return ct_error_set(err, CT_EINTERNAL, "elasticsearch: no host configured");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ct_error_set(err, CT_ENOMEM, "cannot initialise libcurl");
    ct_es_client *c = calloc(1, sizeof(*c));
    if (!c) {
        curl_global_cleanup();
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    c->cfg = cfg;
    c->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
    int rc = 0;
    if (!(c->multi = curl_multi_init()) || !(c->amulti = curl_multi_init()))
        rc = CT_ENOMEM;
    if (rc == 0 && cfg->api_key) {
        /* "id:key" is encoded here; an already encoded key is sent as is. */
        char *enc = strchr(cfg->api_key, ':') ? base64(cfg->api_key) : ct_strdup(cfg->api_key);
        ct_buf b = CT_BUF_INIT;
        if (!enc || ct_buf_printf(&b, "Authorization: ApiKey %s", enc))
            rc = CT_ENOMEM;
        wipe_free(enc);
        c->auth_header = ct_buf_detach(&b);
    } else if (rc == 0 && cfg->bearer_token) {
        ct_buf b = CT_BUF_INIT;
        if (ct_buf_printf(&b, "Authorization: Bearer %s", cfg->bearer_token))
            rc = CT_ENOMEM;
        c->auth_header = ct_buf_detach(&b);
    }
    if (rc == 0 && (cfg->api_key || cfg->bearer_token) && !c->auth_header)
        rc = CT_ENOMEM;
    if (rc == 0 && cfg->aws_sigv4) {
        const char *key = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY"),
                   *token = getenv("AWS_SESSION_TOKEN");
        if (!key || !key[0] || !secret || !secret[0]) {
            ct_es_client_free(c);
            return ct_error_set_at(err, CT_ECONFIG, "", cfg->line, 0,
                                   "elasticsearch.aws_sigv4 needs AWS_ACCESS_KEY_ID and "
                                   "AWS_SECRET_ACCESS_KEY in the environment");
        }
        /* The key id and the token are sent in headers, where a CR or LF
         * would start a header of their own. */
        const char *bad = has_control(key)              ? "AWS_ACCESS_KEY_ID"
                          : has_control(secret)         ? "AWS_SECRET_ACCESS_KEY"
                          : token && has_control(token) ? "AWS_SESSION_TOKEN"
                                                        : NULL;
        if (bad) {
            ct_es_client_free(c);
            return ct_error_set_at(err, CT_ECONFIG, "", cfg->line, 0,
                                   "environment variable '%s' (elasticsearch.aws_sigv4) holds a "
                                   "control character (a byte below 0x20, or 0x7f), which cannot "
                                   "be sent in an HTTP header",
                                   bad);
        }
        if (!(c->aws_key = ct_strdup(key)) || !(c->aws_secret = ct_strdup(secret)) ||
            (token && token[0] && !(c->aws_token = ct_strdup(token))))
            rc = CT_ENOMEM;
    }
    if (rc) {
        ct_es_client_free(c);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    *out = c;
    return 0;
}

static void xfer_release(struct xfer *x);

void ct_es_client_free(ct_es_client *c)
{
    if (!c)
        return;
    while (c->async) {
        struct xfer *x = c->async;
        c->async = x->next;
        curl_multi_remove_handle(c->amulti, x->easy);
        xfer_release(x);
        free(x);
    }
    if (c->amulti)
        curl_multi_cleanup(c->amulti);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    wipe_free(c->auth_header);
    wipe_free(c->aws_key);
    wipe_free(c->aws_secret);
    wipe_free(c->aws_token);
    free(c);
    curl_global_cleanup();
}

bool ct_es_client_too_many_buckets(const ct_es_client *c)
{
    return c->too_many_buckets;
}

bool ct_es_url_is_loopback(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *end;
    if (*p == '[') { /* an IPv6 literal */
        end = strchr(++p, ']');
        if (!end)
            return false;
    } else {
        end = p + strcspn(p, ":/?#");
    }
    char host[256];
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= sizeof(host))
        return false;
    memcpy(host, p, n);
    host[n] = '\0';
    if (n > 1 && host[n - 1] == '.') /* the fully qualified "localhost." */
        host[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        host[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
    /* libcurl answers localhost and names under .localhost with the loopback
     * addresses itself, without asking DNS. */
    if (strcmp(host, "localhost") == 0 || (n > 10 && strcmp(host + n - 10, ".localhost") == 0))
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return false;
}

const char *ct_es_cleartext_url(const ct_es_config *cfg)
{
    if (!cfg->username && !cfg->password && !cfg->api_key && !cfg->bearer_token && !cfg->aws_sigv4)
        return NULL;
    for (size_t i = 0; i < cfg->url_count; i++)
        if (ct_str_starts_with(cfg->urls[i], "http://") && !ct_es_url_is_loopback(cfg->urls[i]))
            return cfg->urls[i];
    return NULL;
}

const char *ct_es_client_host(const ct_es_client *c)
{
    return c->cfg->urls[c->current];
}

static size_t on_data(char *data, size_t size, size_t n, void *user)
{
    xfer *x = user;
    /* libcurl hands over the body decoded, a piece at a time, so the limit
     * holds for what a small gzip body inflates to; stopping here ends the
     * transfer before the rest is read. Returning less than given makes
     * libcurl fail with CURLE_WRITE_ERROR. */
    if (size * n > x->limit - x->body.len) {
        x->too_big = true;
        return 0;
    }
    return ct_buf_append(&x->body, data, size * n) ? 0 : size * n;
}

static int add_header(xfer *x, const char *line)
{
    struct curl_slist *h = curl_slist_append(x->headers, line);
    if (!h)
        return CT_ENOMEM;
    x->headers = h;
    return 0;
}

/* The authority part of a base URL ("host:port"), as the Host header. */
static int authority_of(const char *url, ct_buf *out)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    return ct_buf_append(out, p, n);
}

/* Signs the request with SigV4 and adds the headers. The Host header is
 * set explicitly so the value signed is the value sent. */
static int add_sigv4(ct_es_client *c, xfer *x, const char *base)
{
    const ct_es_request *r = x->req;
    ct_buf host = CT_BUF_INIT, auth = CT_BUF_INIT, line = CT_BUF_INIT;
    char amz_date[17], hash[2 * CT_SHA256_LEN + 1];
    uint8_t digest[CT_SHA256_LEN];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    ct_sha256_digest(r->body ? r->body : "", r->body ? r->body_len : 0, digest);
    ct_hex_lower(digest, sizeof(digest), hash);
    int rc = authority_of(base, &host);
    /* A base URL may carry a path prefix (a reverse proxy's): it is part of
     * the path AWS sees, so it is signed too. */
    ct_buf path = CT_BUF_INIT;
    const char *after = strstr(base, "://");
    after = after ? after + 3 : base;
    const char *prefix = after + strcspn(after, "/?#");
    if (rc == 0 &&
        (ct_buf_append(&path, prefix, strcspn(prefix, "?#")) || ct_buf_puts(&path, r->path)))
        rc = CT_ENOMEM;
    const char *names[4] = {"host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"};
    const char *values[4] = {host.data ? host.data : "", hash, amz_date, c->aws_token};
    ct_sigv4_request sr = {.method = r->method,
                           .path = path.data ? path.data : r->path,
                           .query = r->query,
                           .header_names = names,
                           .header_values = values,
                           .header_count = c->aws_token ? 4 : 3,
                           .payload_hash = hash,
                           .amz_date = amz_date,
                           .region = c->cfg->aws_region,
                           .service = c->cfg->aws_service,
                           .access_key = c->aws_key,
                           .secret_key = c->aws_secret};
    if (rc == 0)
        rc = ct_sigv4_sign(&sr, &auth, NULL);
    for (size_t i = 0; rc == 0 && i < sr.header_count; i++) {
        ct_buf_reset(&line);
        rc = ct_buf_printf(&line, "%s: %s", names[i], values[i]);
        if (rc == 0)
            rc = add_header(x, line.data);
    }
    if (rc == 0) {
        ct_buf_reset(&line);
        rc = ct_buf_printf(&line, "Authorization: %s", auth.data);
        if (rc == 0)
            rc = add_header(x, line.data);
    }
    if (line.data)
        memset(line.data, 0, line.len);
    ct_buf_release(&line);
    ct_buf_release(&auth);
    ct_buf_release(&host);
    ct_buf_release(&path);
    return rc ? CT_ENOMEM : 0;
}

/* Prepares x's easy handle for the base URL `base`. */
static int setup(ct_es_client *c, xfer *x, const char *base)
{
    const ct_es_config *cfg = c->cfg;
    const ct_es_request *r = x->req;
    ct_buf url = CT_BUF_INIT;
    int rc = 0;
    if (x->easy)
        curl_easy_reset(x->easy);
    else if (!(x->easy = curl_easy_init()))
        return CT_ENOMEM;
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    ct_buf_reset(&x->body);
    x->limit = (size_t)cfg->max_response_bytes;
    x->too_big = false;
    x->errbuf[0] = '\0';
    x->status = 0;
    x->done = false;
    /* A transfer the multi loop never finished must not pass for a success. */
    x->result = CURLE_FAILED_INIT;
    if (ct_buf_printf(&url, "%s%s%s%s", base, r->path, r->query ? "?" : "",
                      r->query ? r->query : ""))
        return CT_ENOMEM;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, url.data);
    ct_buf_release(&url); /* libcurl keeps its own copy */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cfg->request_timeout_ms);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* whatever libcurl can decode */
    if (strcmp(r->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    if (r->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        /* ES >= 6 refuses libcurl's default form content type with a 406. */
        ct_buf ct = CT_BUF_INIT;
        rc = ct_buf_printf(&ct, "Content-Type: %s",
                           r->content_type ? r->content_type : "application/json");
        if (rc == 0)
            rc = add_header(x, ct.data);
        ct_buf_release(&ct);
    }
    if (rc == 0)
        rc = add_header(x, "Expect:");
    if (rc == 0 && c->auth_header)
        rc = add_header(x, c->auth_header);
    if (rc == 0 && cfg->username) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, cfg->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->password);
    }
    if (rc == 0 && cfg->aws_sigv4)
        rc = add_sigv4(c, x, base);
    if (cfg->ca_cert)
        curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_cert);
    if (cfg->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg->client_cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->client_cert);
    if (cfg->client_key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->client_key);
    if (cfg->proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, cfg->proxy);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    return rc;
}

static void xfer_release(xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    ct_buf_release(&x->body);
    memset(x, 0, sizeof(*x));
}

/* Records the outcome of every transfer of `m` that has finished (and, for
 * requests in flight, that it has). */
static void reap(CURLM *m, bool mark_done)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        x->result = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &x->status);
        if (mark_done)
            x->done = true;
    }
}

/* Runs every transfer not yet done, in parallel, until each has finished. */
static int run_round(ct_es_client *c, xfer *xs, size_t n)
{
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        if (xs[i].done)
            continue;
        if (curl_multi_add_handle(c->multi, xs[i].easy) != CURLM_OK) {
            for (size_t j = 0; j < i; j++)
                if (!xs[j].done)
                    curl_multi_remove_handle(c->multi, xs[j].easy);
            return CT_ENOMEM;
        }
        added++;
    }
    int running = 1;
    while (running) {
        if (curl_multi_perform(c->multi, &running) != CURLM_OK)
            break;
        if (running && curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK)
            break;
    }
    reap(c->multi, false);
    for (size_t i = 0; i < n; i++)
        if (!xs[i].done)
            curl_multi_remove_handle(c->multi, xs[i].easy);
    return 0;
}

/* Connection-level failures: the next host may work. */
static bool host_failure(CURLcode r)
{
    return r == CURLE_COULDNT_RESOLVE_HOST || r == CURLE_COULDNT_CONNECT ||
           r == CURLE_COULDNT_RESOLVE_PROXY || r == CURLE_SSL_CONNECT_ERROR ||
           r == CURLE_PEER_FAILED_VERIFICATION;
}

static bool busy(long status)
{
    return status == 429 || status == 503;
}

/* ES 7 answers a search over search.max_buckets with a 503 that retrying
 * cannot cure. */
static bool too_many_buckets(const xfer *x)
{
    return x->body.len && strstr(x->body.data, "too_many_buckets_exception") != NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Exponential backoff with "equal jitter": half fixed, half random, so
 * clients that were rejected together do not come back together. */
long ct_es_backoff_ms(ct_es_client *c, int attempt, long cap_ms)
{
    int64_t d = BACKOFF_BASE_MS;
    for (int i = 1; i < attempt && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return (long)(d / 2 + (int64_t)(c->rng % (uint64_t)(d / 2 + 1)));
}

/* The `error.type: reason` of an ES error body, as the server gave it: what
 * prints a message makes it safe for a terminal (escaping it here too would
 * show a backslash doubled). */
static void error_detail(const xfer *x, char *out, size_t size)
{
    out[0] = '\0';
    cJSON *j = x->body.len ? cJSON_ParseWithLength(x->body.data, x->body.len) : NULL;
    cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *type = NULL, *reason = NULL;
    if (cJSON_IsString(e)) {
        reason = e->valuestring;
    } else if (cJSON_IsObject(e)) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "reason");
        /* A search-phase error's cause is in its root_cause. */
        cJSON *rc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "root_cause"), 0);
        if ((!cJSON_IsString(r) || !r->valuestring[0]) && rc) {
            t = cJSON_GetObjectItemCaseSensitive(rc, "type");
            r = cJSON_GetObjectItemCaseSensitive(rc, "reason");
        }
        type = cJSON_IsString(t) ? t->valuestring : NULL;
        reason = cJSON_IsString(r) ? r->valuestring : NULL;
    } else {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        if (!m)
            m = cJSON_GetObjectItemCaseSensitive(j, "Message");
        reason = cJSON_IsString(m) ? m->valuestring : NULL;
    }
    if (type || reason) {
        ct_buf b = CT_BUF_INIT;
        if (type && ct_buf_puts(&b, type) == 0 && reason)
            ct_buf_puts(&b, ": ");
        if (reason)
            ct_buf_puts(&b, reason);
        snprintf(out, size, "%.300s%s", b.data ? b.data : "", b.len > 300 ? "..." : "");
        ct_buf_release(&b);
    }
    cJSON_Delete(j);
}

/* Turns a finished, failed transfer into an error naming the host. */
static int fail(ct_es_client *c, const xfer *x, ct_error *err)
{
    const char *host = ct_es_client_host(c);
    const char *what = x->req->path;
    char detail[400];
    if (x->too_big)
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch at %s: the answer to %s %s is larger than %ld bytes "
                            "(elasticsearch.max_response_bytes): stopped reading it",
                            host, x->req->method, what, c->cfg->max_response_bytes);
    if (x->result != CURLE_OK) {
        const char *cause;
        int code = CT_EUNREACHABLE;
        switch (x->result) {
        case CURLE_COULDNT_RESOLVE_HOST:
            cause = "cannot resolve the host name";
            break;
        case CURLE_COULDNT_RESOLVE_PROXY:
            cause = "cannot resolve the proxy's host name";
            break;
        case CURLE_COULDNT_CONNECT:
            cause = "cannot connect (refused or unreachable)";
            break;
        case CURLE_OPERATION_TIMEDOUT:
            return ct_error_set(err, CT_EUNREACHABLE,
                                "elasticsearch at %s: no answer to %s %s within %.3g s "
                                "(elasticsearch.request_timeout)",
                                host, x->req->method, what,
                                (double)c->cfg->request_timeout_ms / 1000.0);
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER:
            cause = "TLS failure";
            break;
        case CURLE_PARTIAL_FILE:
            cause = "the response was cut short";
            code = CT_EPARTIAL;
            break;
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
            cause = "the connection closed without a complete answer";
            break;
        case CURLE_OUT_OF_MEMORY:
        case CURLE_WRITE_ERROR:
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        default:
            cause = curl_easy_strerror(x->result);
            break;
        }
        /* libcurl's message names hosts and files, never the credentials we
         * pass through options. */
        return ct_error_set(err, code, "elasticsearch at %s: %s (%s)", host, cause,
                            x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
    }
    error_detail(x, detail, sizeof(detail));
    const char *sep = detail[0] ? ": " : "";
    long s = x->status;
    if (s == 401 || s == 403)
        return ct_error_set(err, CT_EUNREACHABLE,
                            "elasticsearch at %s: authentication refused (HTTP %ld)%s%s: check "
                            "the credentials in the config",
                            host, s, sep, detail);
    if (s == 404 && strstr(detail, "index_not_found"))
        return ct_error_set(err, CT_ECONFIG,
                            "elasticsearch at %s: index '%s' does not exist (HTTP 404)%s%s: "
                            "check elasticsearch.index",
                            host, c->cfg->index, sep, detail);
    if (too_many_buckets(x)) {
        c->too_many_buckets = true;
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch at %s: the search needs more buckets than the "
                            "cluster's search.max_buckets allows (HTTP %ld)%s%s",
                            host, s, sep, detail);
    }
    if (busy(s))
        return ct_error_set(err, CT_EUNREACHABLE,
                            "elasticsearch at %s: server still busy (HTTP %ld) after %d "
                            "attempts%s%s",
                            host, s, x->attempts, sep, detail);
    if (s == 502 || s == 504)
        return ct_error_set(err, CT_EUNREACHABLE,
                            "elasticsearch at %s: a gateway could not reach the cluster (HTTP %ld)",
                            host, s);
    return ct_error_set(err, CT_EPARTIAL, "elasticsearch at %s: %s %s failed (HTTP %ld)%s%s", host,
                        x->req->method, what, s, sep, detail);
}

/* Parses a 2xx body; a body that says the search was cut short is an error. */
static int parse(const ct_es_client *c, const xfer *x, cJSON **out, ct_error *err)
{
    const char *host = ct_es_client_host(c);
    cJSON *j = x->body.len ? cJSON_ParseWithLength(x->body.data, x->body.len) : NULL;
    if (!j)
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch at %s: the answer to %s %s is not JSON (%zu bytes, "
                            "cut short?)",
                            host, x->req->method, x->req->path, x->body.len);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "timed_out"))) {
        cJSON_Delete(j);
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch at %s: the search timed out on the server "
                            "(timed_out: true): results would be partial",
                            host);
    }
    cJSON *shards = cJSON_GetObjectItemCaseSensitive(j, "_shards");
    cJSON *failed = cJSON_GetObjectItemCaseSensitive(shards, "failed");
    if (cJSON_IsNumber(failed) && failed->valuedouble > 0) {
        cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(shards, "failures"), 0);
        cJSON *reason = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(f, "reason"), "reason");
        /* The reason is kept as given: the message is escaped when printed. */
        const char *why = cJSON_IsString(reason) ? reason->valuestring : NULL;
        int rc = ct_error_set(err, CT_EPARTIAL,
                              "elasticsearch at %s: %d shard(s) failed: results would be "
                              "partial%s%.300s",
                              host, (int)failed->valuedouble, why ? ": " : "", why ? why : "");
        cJSON_Delete(j);
        return rc;
    }
    *out = j;
    return 0;
}

static int run_batch(ct_es_client *c, xfer *xs, size_t n, ct_error *err)
{
    int64_t start = now_ms();
    size_t hosts_failed = 0;
    for (;;) {
        for (size_t i = 0; i < n; i++)
            if (!xs[i].done) {
                if (setup(c, &xs[i], ct_es_client_host(c)))
                    return ct_error_set(err, CT_ENOMEM, "out of memory");
                xs[i].attempts++;
            }
        if (run_round(c, xs, n))
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        bool retry = false, failover = false;
        for (size_t i = 0; i < n; i++) {
            xfer *x = &xs[i];
            if (x->done)
                continue;
            if (x->result == CURLE_OK &&
                ((x->status >= 200 && x->status < 300) || (x->any_status && !busy(x->status)))) {
                x->done = true;
            } else if (x->result != CURLE_OK && host_failure(x->result)) {
                failover = true;
            } else if (x->result == CURLE_OK && busy(x->status) && !too_many_buckets(x) &&
                       x->attempts <= c->cfg->retries) {
                retry = true;
            } else {
                return fail(c, x, err);
            }
        }
        if (failover) {
            /* Try the next host; give up once each has failed in turn. */
            if (++hosts_failed >= c->cfg->url_count) {
                for (size_t i = 0; i < n; i++)
                    if (!xs[i].done && host_failure(xs[i].result)) {
                        int rc = fail(c, &xs[i], err);
                        if (c->cfg->url_count > 1)
                            ct_error_wrap(
                                err, "none of the %zu hosts answered; last: ", c->cfg->url_count);
                        return rc;
                    }
            }
            c->current = (c->current + 1) % c->cfg->url_count;
            for (size_t i = 0; i < n; i++)
                if (!xs[i].done)
                    xs[i].attempts = 0;
            continue;
        }
        if (!retry)
            return 0;
        int attempt = 0;
        for (size_t i = 0; i < n; i++)
            if (!xs[i].done && xs[i].attempts > attempt)
                attempt = xs[i].attempts;
        int64_t wait = ct_es_backoff_ms(c, attempt, BACKOFF_CAP_MS);
        if (now_ms() - start + wait > RETRY_BUDGET_MS) {
            for (size_t i = 0; i < n; i++)
                if (!xs[i].done)
                    return fail(c, &xs[i], err);
        }
        sleep_ms(wait);
    }
}

int ct_es_request_many(ct_es_client *c, const ct_es_request *reqs, size_t n, cJSON **outs,
                       ct_error *err)
{
    for (size_t i = 0; i < n; i++)
        outs[i] = NULL;
    if (n == 0)
        return 0;
    c->too_many_buckets = false;
    xfer *xs = calloc(n, sizeof(*xs));
    if (!xs)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        xs[i].req = &reqs[i];
    int rc = run_batch(c, xs, n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = parse(c, &xs[i], &outs[i], err);
    if (rc)
        for (size_t i = 0; i < n; i++) {
            cJSON_Delete(outs[i]);
            outs[i] = NULL;
        }
    for (size_t i = 0; i < n; i++)
        xfer_release(&xs[i]);
    free(xs);
    return rc;
}

int ct_es_request_json(ct_es_client *c, const ct_es_request *req, cJSON **out, ct_error *err)
{
    return ct_es_request_many(c, req, 1, out, err);
}

/* ---- requests in flight ---- */

int ct_es_async_start(ct_es_client *c, const ct_es_request *req, void *tag, ct_error *err)
{
    xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    x->req = req;
    x->tag = tag;
    x->attempts = 1;
    if (setup(c, x, ct_es_client_host(c)) != 0 ||
        curl_multi_add_handle(c->amulti, x->easy) != CURLM_OK) {
        xfer_release(x);
        free(x);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    x->next = c->async;
    c->async = x;
    c->async_count++;
    return 0;
}

size_t ct_es_async_pending(const ct_es_client *c)
{
    return c->async_count;
}

/* Takes x off the client's list and fills *out from it. */
static void async_finish(ct_es_client *c, xfer *x, ct_es_outcome *out)
{
    for (xfer **pp = &c->async; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    c->async_count--;
    curl_multi_remove_handle(c->amulti, x->easy);
    memset(out, 0, sizeof(*out));
    ct_error_clear(&out->err);
    out->tag = x->tag;
    out->status = x->result == CURLE_OK ? x->status : 0;
    if (x->result == CURLE_OK && x->status >= 200 && x->status < 300 && x->req->raw_answer) {
        out->body = x->body;
        memset(&x->body, 0, sizeof(x->body));
    } else if (x->result == CURLE_OK && x->status >= 200 && x->status < 300) {
        out->rc = parse(c, x, &out->json, &out->err);
    } else {
        bool lost = x->result != CURLE_OK &&
                    (host_failure(x->result) || x->result == CURLE_OPERATION_TIMEDOUT ||
                     x->result == CURLE_GOT_NOTHING || x->result == CURLE_RECV_ERROR ||
                     x->result == CURLE_SEND_ERROR || x->result == CURLE_PARTIAL_FILE);
        out->retryable = lost || (x->result == CURLE_OK && (busy(x->status) || x->status == 502 ||
                                                            x->status == 504));
        out->rc = fail(c, x, &out->err);
        /* The next attempt goes to the next host, if there is one. */
        if (lost && host_failure(x->result) && c->cfg->url_count > 1)
            c->current = (c->current + 1) % c->cfg->url_count;
    }
    xfer_release(x);
    free(x);
}

int ct_es_async_next(ct_es_client *c, int timeout_ms, ct_es_outcome *out, bool *have,
                     ct_error *err)
{
    *have = false;
    if (!c->async)
        return 0;
    /* Look, wait once if asked to, look again. */
    for (int pass = 0; pass < 2; pass++) {
        int running;
        if (curl_multi_perform(c->amulti, &running) != CURLM_OK)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        reap(c->amulti, true);
        for (xfer *x = c->async; x; x = x->next)
            if (x->done) {
                async_finish(c, x, out);
                *have = true;
                return 0;
            }
        if (pass == 1 || timeout_ms <= 0)
            break;
        if (curl_multi_poll(c->amulti, NULL, 0, timeout_ms, NULL) != CURLM_OK)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return 0;
}

int ct_es_request_status(ct_es_client *c, const ct_es_request *req, long *status, cJSON **out,
                         ct_error *err)
{
    *out = NULL;
    *status = 0;
    c->too_many_buckets = false;
    xfer x;
    memset(&x, 0, sizeof(x));
    x.req = req;
    x.any_status = true;
    int rc = run_batch(c, &x, 1, err);
    if (rc == 0) {
        *status = x.status;
        if (x.body.len)
            *out = cJSON_ParseWithLength(x.body.data, x.body.len);
    }
    xfer_release(&x);
    return rc;
}
