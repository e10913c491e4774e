/* The Elasticsearch loader (es_load.h). One thread reads trail files (the
 * same walk and reader as the embedded ingest) and appends each record to
 * the _bulk request being built; full requests are sent while the next is
 * built, up to cfg->bulk_requests at a time. Each answer settles its items
 * (created, already there, to retry, rejected); a file is recorded as
 * loaded in the state index once all of its items are settled, so a run
 * that dies anywhere leaves only files that the next run reads again, and
 * _id = eventID makes that harmless. */
#include "cloudtracker/es_load.h"

#include "cloudtracker/date.h"
#include "cloudtracker/outfile.h"
#include "cloudtracker/trail.h"
#include "cloudtracker/util.h"
#include "es/es_doc.h"
#include "es/es_http.h"
#include "trail/trail_file.h"
#include "trail/walk.h"
#include "util/sha256.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Settings of an index while it is loaded, and those the template gives. */
#define LOAD_REFRESH "-1"
#define LOAD_REPLICAS 0
#define TEMPLATE_SHARDS 1
#define TEMPLATE_REPLICAS 1
#define TEMPLATE_REFRESH "30s"
/* Above the priority of built-in templates (100) and distinct from it:
 * composable templates of equal priority must not overlap. */
#define TEMPLATE_PRIORITY 210
/* A _bulk request or item refused as busy (429/5xx) or lost is sent again
 * up to cfg->bulk_retries times, the waits doubling up to BACKOFF_CAP_MS:
 * with the default 9, a cluster may be away for about a minute before the
 * load stops (to be re-run). */
#define BACKOFF_CAP_MS 30000
/* Files looked up in the state index per _mget. */
#define LOOKUP_BATCH 256

/* A file being loaded: read, and waiting for its items to be settled. */
typedef struct lfile {
    char *path;
    int64_t size, mtime_ns;
    ct_file_scan scan; /* valid once read_done */
    bool read_done;
    uint64_t pending; /* items sent or waiting to be, not yet settled */
    uint64_t rejected_remote;
    char *first_remote; /* the cluster's first refusal, for the file's reason */
    struct lfile *prev, *next;
} lfile;

/* One document of a _bulk request. */
typedef struct item {
    lfile *file; /* NULL for the loader's own state documents */
    size_t off;  /* action line, then the document, in the body */
    size_t len;  /* both lines, newlines included */
} item;

typedef struct bulk {
    ct_buf body;
    item *items;
    size_t count, cap;
    int attempts;        /* sends so far */
    int64_t not_before;  /* monotonic ms: a retry waits for its backoff */
    ct_es_request req;
    struct bulk *next;   /* in the queue of bulks ready to send */
} bulk;

/* An index written to: its settings before the load, to restore. */
typedef struct prepared {
    char *name;
    char *refresh;  /* NULL: not set (the default) */
    char *replicas; /* NULL: not set */
    bool restored;
} prepared;

typedef struct loader {
    const ct_es_config *cfg;
    const ct_es_load_options *opts;
    ct_es_load_summary *sum;
    ct_es_client *client;
    ct_error *err;
    int fatal; /* first fatal status; err holds its message */
    bool patient; /* retry unreachable plain requests (see request()) */
    bool legacy;   /* ES < 7.8: legacy templates */
    bool types;    /* ES 6: _type in bulk metadata */
    char *pattern; /* index_format with tokens made '*' */
    const char *alias; /* elasticsearch.index, when the loaded indices go behind it */
    ct_strmap *foreign; /* indices of the pattern cloudtracker did not make */
    ct_strmap *old_mapping; /* indices of ours with an older mapping_version, counted once */
    ct_strmap *indices; /* name -> prepared */
    prepared **order;   /* the same, in the order prepared */
    size_t order_count;
    char last_index[256]; /* index of the previous record, and its day */
    int64_t last_day;
    ct_outfile rejects; /* open from the first reject on */
    uint64_t reject_lines;
    bulk *cur;               /* being built */
    bulk *spare;             /* for reuse (bulk_done) */
    size_t spare_count;
    bulk *ready, *ready_end; /* queue to send */
    lfile *files;            /* not yet complete */
    uint64_t inflight;
    ct_file_reader *reader;
    lfile *reading; /* the file whose records are being read */
    ct_buf resources; /* the resources the record at hand names */
    char id_hex[2 * CT_SHA256_LEN + 1];
} loader;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int nomem(loader *L)
{
    return ct_error_set(L->err, CT_ENOMEM, "out of memory");
}

/* Records the first fatal error (later ones are consequences). */
static int set_fatal(loader *L, const ct_error *e)
{
    if (!L->fatal) {
        L->fatal = e->code ? e->code : CT_EINTERNAL;
        if (e != L->err)
            *L->err = *e;
    }
    return L->fatal;
}

static bool interrupted(const loader *L)
{
    return L->opts->interrupted && *L->opts->interrupted;
}

void ct_es_load_summary_release(ct_es_load_summary *summary)
{
    if (!summary)
        return;
    ct_input_problems_release(&summary->problems);
    memset(summary, 0, sizeof(*summary));
}

/* ---- plain requests ---- */

/* A request whose body is built in `body` (may be empty: no body). While
 * loading, a cluster that cannot be reached gets the same patience as the
 * _bulk requests (bulk_retries, with backoff), so a short outage between
 * two bulks does not end the load; when restoring settings after a
 * failure it gets one try (the next run restores what is left). */
static int request(loader *L, const char *method, const char *path, const char *query,
                   const ct_buf *body, long *status, cJSON **out)
{
    ct_es_request req = {method, path, query, body && body->len ? body->data : NULL,
                         body ? body->len : 0, NULL, false};
    for (int attempt = 1;; attempt++) {
        int rc = ct_es_request_status(L->client, &req, status, out, L->err);
        if (rc != CT_EUNREACHABLE || !L->patient || attempt > L->cfg->bulk_retries ||
            interrupted(L))
            return rc;
        struct timespec ts;
        long ms = ct_es_backoff_ms(L->client, attempt, BACKOFF_CAP_MS);
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000L;
        nanosleep(&ts, NULL);
    }
}

/* The `type: reason` of an error answer, for messages. */
static void error_text(const cJSON *j, char *out, size_t size)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "reason");
    if (cJSON_IsString(e))
        snprintf(out, size, "%.300s", e->valuestring);
    else
        snprintf(out, size, "%.100s%s%.300s", cJSON_IsString(t) ? t->valuestring : "error",
                 cJSON_IsString(r) ? ": " : "", cJSON_IsString(r) ? r->valuestring : "");
}

static int unexpected(loader *L, const char *what, long status, const cJSON *j)
{
    char detail[420];
    error_text(j, detail, sizeof(detail));
    /* As the server gave it: the message is escaped once, when printed. */
    return ct_error_set(L->err, status == 401 || status == 403 ? CT_EUNREACHABLE : CT_EPARTIAL,
                        "elasticsearch at %s: %s failed (HTTP %ld): %s",
                        ct_es_client_host(L->client), what, status, detail);
}

/* An answer of status 200 that should be an object of indices is not. */
static int not_indices(loader *L, const char *what)
{
    return ct_error_set(L->err, CT_EPARTIAL,
                        "elasticsearch at %s: the answer to %s is not an object of indices",
                        ct_es_client_host(L->client), what);
}

static bool error_is(const cJSON *j, const char *type)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
    return cJSON_IsString(t) && strcmp(t->valuestring, type) == 0;
}

/* ---- set-up: engine, template, state index, existing indices ---- */

static int detect(loader *L)
{
    if (L->cfg->aws_sigv4 && strcmp(L->cfg->aws_service, "aoss") == 0)
        return ct_error_set(L->err, CT_ECONFIG,
                            "loading into OpenSearch Serverless (aws_service aoss) is not "
                            "supported: it has no index templates or refresh settings to manage");
    long status;
    cJSON *j = NULL;
    int rc = request(L, "GET", "/", NULL, NULL, &status, &j);
    if (rc)
        return rc;
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(j, "version");
    const cJSON *number = cJSON_GetObjectItemCaseSensitive(version, "number");
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive(version, "distribution");
    int major = 0, minor = 0;
    if (status != 200 || !cJSON_IsString(number) ||
        sscanf(number->valuestring, "%d.%d", &major, &minor) != 2) {
        rc = status == 200 ? ct_error_set(L->err, CT_EUNREACHABLE,
                                          "elasticsearch at %s: not an Elasticsearch or "
                                          "OpenSearch server (GET / has no version.number)",
                                          ct_es_client_host(L->client))
                           : unexpected(L, "GET /", status, j);
        cJSON_Delete(j);
        return rc;
    }
    bool opensearch = cJSON_IsString(dist) && strcmp(dist->valuestring, "opensearch") == 0;
    cJSON_Delete(j);
    if (!opensearch && major < 6)
        return ct_error_set(L->err, CT_ECONFIG,
                            "elasticsearch at %s: version %d.%d is too old to load into (6.x or "
                            "later)",
                            ct_es_client_host(L->client), major, minor);
    L->types = !opensearch && major == 6;
    L->legacy = !opensearch && (major < 7 || (major == 7 && minor < 8));
    return 0;
}

/* index_format with every token made '*' ("cloudtrail-%Y.%m" ->
 * "cloudtrail-*"), runs of '*' merged. */
static char *pattern_of(const char *format)
{
    ct_buf b = CT_BUF_INIT;
    for (const char *p = format; *p; p++) {
        const char *piece = p;
        size_t n = 1;
        if (*p == '%' && p[1]) {
            p++;
            if (*p != '%')
                piece = "*";
        }
        if (piece[0] == '*' && b.len && b.data[b.len - 1] == '*')
            continue;
        if (ct_buf_append(&b, piece, n)) {
            ct_buf_release(&b);
            return NULL;
        }
    }
    if (!b.data && ct_buf_puts(&b, ""))
        return NULL;
    return ct_buf_detach(&b);
}

/* Whether elasticsearch.index is one plain index name (no pattern, list or
 * exclusion; the characters config.c allows in index_format) that is not
 * itself a name index_format makes: one the loaded indices can be put
 * behind as an alias. */
static bool alias_wanted(const char *name, const char *pattern)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || strchr("-_+.", name[0]))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-_.+", *p)))
            return false;
    return fnmatch(pattern, name, 0) != 0;
}

/* Decides whether the loaded indices go behind elasticsearch.index as an
 * alias (L->alias): yes unless an index of that name exists (the original
 * tool's data: an alias cannot share its name), or the name is an alias of
 * an index cloudtracker did not make (queries reading it would then read
 * something else than before); summary->index_taken then names that
 * index, for the warning. */
static int probe_alias(loader *L)
{
    const char *name = L->cfg->index;
    if (!alias_wanted(name, L->pattern))
        return 0;
    ct_buf path = CT_BUF_INIT;
    if (ct_buf_printf(&path, "/%s/_mapping", name))
        return nomem(L);
    long status = 0;
    cJSON *j = NULL;
    int rc = request(L, "GET", path.data, NULL, NULL, &status, &j);
    ct_buf_release(&path);
    if (rc == 0 && status != 200 && status != 404)
        rc = unexpected(L, "looking up elasticsearch.index", status, j);
    else if (rc == 0 && status == 200 && !cJSON_IsObject(j))
        rc = not_indices(L, "looking up elasticsearch.index");
    const char *taken = NULL;
    cJSON *idx, *list = rc == 0 && status == 200 ? j : NULL;
    cJSON_ArrayForEach(idx, list)
    {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(idx, "mappings");
        char *text = m ? cJSON_PrintUnformatted(m) : NULL;
        bool ours = text && ct_es_mappings_are_ours(text, strlen(text));
        free(text);
        if (strcmp(idx->string, name) == 0 || (!ours && !taken))
            taken = idx->string;
    }
    if (taken)
        snprintf(L->sum->index_taken, sizeof(L->sum->index_taken), "%s", taken);
    else if (rc == 0)
        L->alias = name;
    cJSON_Delete(j);
    return rc;
}

/* Puts the existing indices of the pattern that cloudtracker made (by an
 * earlier run, maybe before the alias was asked for) behind L->alias; the
 * template does it for those made from now on. One POST /_aliases, sent
 * only when some index lacks the alias. */
static int alias_existing(loader *L)
{
    if (!L->alias)
        return 0;
    ct_buf path = CT_BUF_INIT, names = CT_BUF_INIT, body = CT_BUF_INIT;
    if (ct_buf_printf(&path, "/%s/_alias", L->pattern))
        return nomem(L);
    long status = 0;
    cJSON *j = NULL;
    int rc = request(L, "GET", path.data, NULL, NULL, &status, &j);
    if (rc == 0 && status != 200)
        rc = unexpected(L, "reading the aliases of existing indices", status, j);
    else if (rc == 0 && !cJSON_IsObject(j))
        rc = not_indices(L, "reading the aliases of existing indices");
    cJSON *idx, *list = rc == 0 ? j : NULL;
    cJSON_ArrayForEach(idx, list)
    {
        void *found;
        const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(idx, "aliases");
        if (ct_strmap_get(L->foreign, idx->string, &found) ||
            cJSON_GetObjectItemCaseSensitive(aliases, L->alias))
            continue;
        if ((names.len && ct_buf_puts(&names, ",")) || ct_es_json_string(&names, idx->string)) {
            rc = nomem(L);
            break;
        }
    }
    cJSON_Delete(j);
    j = NULL;
    if (rc == 0 && names.len) {
        if (ct_buf_puts(&body, "{\"actions\":[{\"add\":{\"alias\":") ||
            ct_es_json_string(&body, L->alias) ||
            ct_buf_printf(&body, ",\"indices\":[%s]}}]}", names.data))
            rc = nomem(L);
        if (rc == 0)
            rc = request(L, "POST", "/_aliases", NULL, &body, &status, &j);
        if (rc == 0 && status != 200) {
            rc = unexpected(L, "putting existing indices behind the alias elasticsearch.index",
                            status, j);
            if (status == 400)
                L->err->code = rc = CT_ECONFIG;
        }
    }
    cJSON_Delete(j);
    ct_buf_release(&path);
    ct_buf_release(&names);
    ct_buf_release(&body);
    return rc;
}

static int put_template(loader *L)
{
    ct_buf body = CT_BUF_INIT, path = CT_BUF_INIT;
    int rc = 0;
    /* One template per pattern: "cloudtrail-*" -> "cloudtracker-cloudtrail". */
    size_t stem = strcspn(L->pattern, "*");
    while (stem > 0 && strchr("-_.", L->pattern[stem - 1]))
        stem--;
    if (ct_es_template_body(&body, L->legacy, L->pattern, L->alias, TEMPLATE_PRIORITY,
                            TEMPLATE_SHARDS, TEMPLATE_REPLICAS, TEMPLATE_REFRESH) ||
        ct_buf_printf(&path, "/%s/cloudtracker-%.*s", L->legacy ? "_template" : "_index_template",
                      (int)stem, L->pattern))
        rc = nomem(L);
    long status = 0;
    cJSON *j = NULL;
    if (rc == 0)
        rc = request(L, "PUT", path.data, NULL, &body, &status, &j);
    if (rc == 0 && status != 200) {
        rc = unexpected(L, "installing the index template", status, j);
        if (status == 400)
            L->err->code = rc = CT_ECONFIG;
    }
    cJSON_Delete(j);
    ct_buf_release(&body);
    ct_buf_release(&path);
    return rc;
}

/* The state index: one document per file loaded ("file-<sha256>") and per
 * index whose settings are changed while loading ("index-<name>"). */
static int ensure_state_index(loader *L)
{
    ct_buf body = CT_BUF_INIT, path = CT_BUF_INIT;
    const char *props = "{\"dynamic\":false,\"properties\":{\"kind\":{\"type\":\"keyword\"},"
                        "\"path\":{\"type\":\"keyword\"},\"index\":{\"type\":\"keyword\"}}}";
    int rc = 0;
    if (ct_buf_printf(&body,
                      "{\"settings\":{\"index\":{\"number_of_shards\":1}},\"mappings\":%s%s%s}",
                      L->types ? "{\"_doc\":" : "", props, L->types ? "}" : "") ||
        ct_buf_printf(&path, "/%s", L->cfg->state_index))
        rc = nomem(L);
    long status = 0;
    cJSON *j = NULL;
    if (rc == 0)
        rc = request(L, "PUT", path.data, NULL, &body, &status, &j);
    if (rc == 0 && status != 200 && !error_is(j, "resource_already_exists_exception"))
        rc = unexpected(L, "creating the state index", status, j);
    cJSON_Delete(j);
    ct_buf_release(&body);
    ct_buf_release(&path);
    return rc;
}

/* Which existing indices of the pattern were not made by cloudtracker. */
static int find_foreign(loader *L)
{
    ct_buf path = CT_BUF_INIT;
    if (ct_buf_printf(&path, "/%s/_mapping", L->pattern))
        return nomem(L);
    long status = 0;
    cJSON *j = NULL;
    int rc = request(L, "GET", path.data, NULL, NULL, &status, &j);
    ct_buf_release(&path);
    if (rc)
        return rc;
    if (status != 200 || !cJSON_IsObject(j)) {
        rc = status != 200 ? unexpected(L, "reading the mappings of existing indices", status, j)
                           : not_indices(L, "reading the mappings of existing indices");
        cJSON_Delete(j);
        return rc;
    }
    cJSON *idx;
    cJSON_ArrayForEach(idx, j)
    {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(idx, "mappings");
        char *text = m ? cJSON_PrintUnformatted(m) : NULL;
        bool ours = text && ct_es_mappings_are_ours(text, strlen(text));
        free(text);
        if (!ours && ct_strmap_put(L->foreign, idx->string, NULL)) {
            rc = nomem(L);
            break;
        }
    }
    cJSON_Delete(j);
    return rc;
}

static char *setting_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return ct_strdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        char num[32];
        snprintf(num, sizeof(num), "%.0f", v->valuedouble);
        return ct_strdup(num);
    }
    return NULL;
}

static int remember_prepared(loader *L, const char *name, const cJSON *refresh,
                             const cJSON *replicas, prepared **out)
{
    prepared *p = calloc(1, sizeof(*p));
    prepared **order = realloc(L->order, (L->order_count + 1) * sizeof(*order));
    if (!p || !order) {
        free(p);
        return nomem(L);
    }
    L->order = order;
    p->name = ct_strdup(name);
    p->refresh = setting_text(refresh);
    p->replicas = setting_text(replicas);
    if (!p->name || (refresh && !cJSON_IsNull(refresh) && !p->refresh) ||
        (replicas && !cJSON_IsNull(replicas) && !p->replicas) ||
        ct_strmap_put(L->indices, p->name, p)) {
        free(p->name);
        free(p->refresh);
        free(p->replicas);
        free(p);
        return nomem(L);
    }
    L->order[L->order_count++] = p;
    *out = p;
    return 0;
}

/* Indices a killed run left with the load settings: restored at the end
 * of this one. */
static int find_leftovers(loader *L)
{
    ct_buf path = CT_BUF_INIT, body = CT_BUF_INIT;
    int rc = 0;
    long status = 0;
    cJSON *j = NULL;
    if (ct_buf_printf(&path, "/%s/_refresh", L->cfg->state_index))
        return nomem(L);
    rc = request(L, "POST", path.data, NULL, NULL, &status, &j);
    cJSON_Delete(j);
    j = NULL;
    if (rc == 0 && status != 200)
        rc = unexpected(L, "refreshing the state index", status, NULL);
    ct_buf_reset(&path);
    if (rc == 0 &&
        (ct_buf_printf(&path, "/%s/_search", L->cfg->state_index) ||
         ct_buf_puts(&body, "{\"size\":10000,\"query\":{\"term\":{\"kind\":\"index\"}}}")))
        rc = nomem(L);
    if (rc == 0)
        rc = request(L, "POST", path.data, NULL, &body, &status, &j);
    if (rc == 0 && status != 200)
        rc = unexpected(L, "reading the state index", status, j);
    const cJSON *hits =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "hits"), "hits");
    const cJSON *hit, *list = rc == 0 ? hits : NULL;
    cJSON_ArrayForEach(hit, list)
    {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(hit, "_source");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(src, "index");
        void *known;
        if (!cJSON_IsString(name) || ct_strmap_get(L->indices, name->valuestring, &known))
            continue;
        prepared *p;
        if ((rc = remember_prepared(L, name->valuestring,
                                    cJSON_GetObjectItemCaseSensitive(src, "refresh_interval"),
                                    cJSON_GetObjectItemCaseSensitive(src, "number_of_replicas"),
                                    &p)))
            break;
    }
    cJSON_Delete(j);
    ct_buf_release(&path);
    ct_buf_release(&body);
    return rc;
}

/* ---- indices written to ---- */

static int put_settings(loader *L, const char *index, const char *refresh, const char *replicas,
                        long *status)
{
    ct_buf path = CT_BUF_INIT, body = CT_BUF_INIT;
    int rc = 0;
    if (ct_buf_printf(&path, "/%s/_settings", index) ||
        ct_buf_puts(&body, "{\"index\":{\"refresh_interval\":") ||
        (refresh ? ct_es_json_string(&body, refresh) : ct_buf_puts(&body, "null")) ||
        ct_buf_puts(&body, ",\"number_of_replicas\":") ||
        (replicas ? ct_es_json_string(&body, replicas) : ct_buf_puts(&body, "null")) ||
        ct_buf_puts(&body, "}}"))
        rc = nomem(L);
    cJSON *j = NULL;
    if (rc == 0)
        rc = request(L, "PUT", path.data, NULL, &body, status, &j);
    if (rc == 0 && *status != 200)
        rc = unexpected(L, "changing index settings", *status, j);
    cJSON_Delete(j);
    ct_buf_release(&path);
    ct_buf_release(&body);
    return rc;
}

/* The state document of an index: written before its settings change, so
 * a killed run's successor knows what to restore. */
static int put_index_state(loader *L, const prepared *p)
{
    ct_buf path = CT_BUF_INIT, body = CT_BUF_INIT;
    int rc = 0;
    if (ct_buf_printf(&path, "/%s/_doc/index-%s", L->cfg->state_index, p->name) ||
        ct_buf_puts(&body, "{\"kind\":\"index\",\"index\":") ||
        ct_es_json_string(&body, p->name) || ct_buf_puts(&body, ",\"refresh_interval\":") ||
        (p->refresh ? ct_es_json_string(&body, p->refresh) : ct_buf_puts(&body, "null")) ||
        ct_buf_puts(&body, ",\"number_of_replicas\":") ||
        (p->replicas ? ct_es_json_string(&body, p->replicas) : ct_buf_puts(&body, "null")) ||
        ct_buf_puts(&body, "}"))
        rc = nomem(L);
    long status = 0;
    cJSON *j = NULL;
    if (rc == 0)
        rc = request(L, "PUT", path.data, NULL, &body, &status, &j);
    if (rc == 0 && status != 200 && status != 201)
        rc = unexpected(L, "writing the state index", status, j);
    cJSON_Delete(j);
    ct_buf_release(&path);
    ct_buf_release(&body);
    return rc;
}

/* An index setting from a "settings" object, flat ("index.x") or nested
 * ({"index":{"x"}}); NULL when not set. */
static const cJSON *index_setting(const cJSON *settings, const char *name)
{
    char flat[64];
    snprintf(flat, sizeof(flat), "index.%s", name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(settings, flat);
    if (!v)
        v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(settings, "index"),
                                             name);
    return v;
}

static int not_ours(loader *L, const char *name)
{
    return ct_error_set(L->err, CT_ECONFIG,
                        "elasticsearch at %s: index %s exists with a mapping cloudtracker did "
                        "not make; it is left alone (choose another "
                        "elasticsearch.index_format to load elsewhere)",
                        ct_es_client_host(L->client), name);
}

/* GET /<name>: *status 404 when it does not exist; else whether it is ours
 * and its settings (*j, for the caller to free). */
static int get_index(loader *L, const char *name, long *status, cJSON **j, const cJSON **settings)
{
    ct_buf path = CT_BUF_INIT;
    *j = NULL;
    *settings = NULL;
    if (ct_buf_printf(&path, "/%s", name))
        return nomem(L);
    int rc = request(L, "GET", path.data, "flat_settings=true", NULL, status, j);
    ct_buf_release(&path);
    if (rc || *status == 404)
        return rc;
    if (*status != 200)
        return unexpected(L, "reading an index", *status, *j);
    const cJSON *idx = *j ? (*j)->child : NULL;
    const cJSON *mappings = cJSON_GetObjectItemCaseSensitive(idx, "mappings");
    char *text = mappings ? cJSON_PrintUnformatted(mappings) : NULL;
    int version = text ? ct_es_mappings_version(text, strlen(text)) : 0;
    free(text);
    if (version <= 0)
        return not_ours(L, name);
    /* Ours, from an older cloudtracker: loading goes on (its records are
     * still answers for the older questions), and the CLI says what the
     * index cannot answer. */
    void *seen;
    if (version < CT_ES_MAPPING_VERSION && !ct_strmap_get(L->old_mapping, name, &seen)) {
        if (ct_strmap_put(L->old_mapping, name, NULL) != 0)
            return nomem(L);
        if (L->sum->indices_old_mapping++ == 0)
            snprintf(L->sum->old_mapping_index, sizeof(L->sum->old_mapping_index), "%s", name);
        if (L->sum->old_mapping_version == 0 || version < L->sum->old_mapping_version)
            L->sum->old_mapping_version = version;
    }
    *settings = cJSON_GetObjectItemCaseSensitive(idx, "settings");
    return 0;
}

/* Makes sure `name` exists, is ours and has the load settings. The order
 * matters for a run killed half-way: what to restore is in the state index
 * before any setting changes, and a new index is created with the load
 * settings only once its state document says what it gets back. */
static int prepare_index(loader *L, const char *name)
{
    void *found;
    if (ct_strmap_get(L->indices, name, &found))
        return 0; /* prepared by this run, or left so by a killed one */
    if (ct_strmap_get(L->foreign, name, &found))
        return not_ours(L, name);
    long status = 0;
    cJSON *j = NULL;
    const cJSON *settings;
    prepared *p = NULL;
    int rc = get_index(L, name, &status, &j, &settings);
    if (rc == 0 && status == 404) {
        /* New: it gets the template's settings back. */
        cJSON *refresh = cJSON_CreateString(TEMPLATE_REFRESH);
        cJSON *replicas = cJSON_CreateNumber(TEMPLATE_REPLICAS);
        rc = refresh && replicas ? remember_prepared(L, name, refresh, replicas, &p) : nomem(L);
        cJSON_Delete(refresh);
        cJSON_Delete(replicas);
        if (rc == 0)
            rc = put_index_state(L, p);
        ct_buf path = CT_BUF_INIT, body = CT_BUF_INIT;
        if (rc == 0 && (ct_buf_printf(&path, "/%s", name) ||
                        ct_buf_printf(&body,
                                      "{\"settings\":{\"index\":{\"refresh_interval\":\"%s\","
                                      "\"number_of_replicas\":%d}}}",
                                      LOAD_REFRESH, LOAD_REPLICAS)))
            rc = nomem(L);
        cJSON *created = NULL;
        if (rc == 0)
            rc = request(L, "PUT", path.data, NULL, &body, &status, &created);
        ct_buf_release(&path);
        ct_buf_release(&body);
        if (rc == 0 && status != 200 && error_is(created, "resource_already_exists_exception")) {
            /* Someone made it meanwhile: take it as an existing index. */
            cJSON_Delete(j);
            rc = get_index(L, name, &status, &j, &settings);
            if (rc == 0 && status == 200) {
                free(p->refresh);
                free(p->replicas);
                p->refresh = setting_text(index_setting(settings, "refresh_interval"));
                p->replicas = setting_text(index_setting(settings, "number_of_replicas"));
                rc = put_index_state(L, p);
                status = 0; /* the load settings are still to be put */
            }
        } else if (rc == 0 && status != 200) {
            rc = unexpected(L, "creating an index", status, created);
            if (status == 400)
                L->err->code = rc = CT_ECONFIG;
        }
        cJSON_Delete(created);
    } else if (rc == 0) {
        rc = remember_prepared(L, name, index_setting(settings, "refresh_interval"),
                               index_setting(settings, "number_of_replicas"), &p);
        if (rc == 0)
            rc = put_index_state(L, p);
        status = 0;
    }
    if (rc == 0 && status != 200) {
        char replicas[16];
        snprintf(replicas, sizeof(replicas), "%d", LOAD_REPLICAS);
        rc = put_settings(L, name, LOAD_REFRESH, replicas, &status);
    }
    if (rc == 0)
        L->sum->indices++;
    cJSON_Delete(j);
    return rc;
}

/* Puts every prepared index back to its settings from before the load,
 * refreshes it so what was loaded can be searched, and forgets its state
 * document. Runs whatever happened before; returns the first failure. */
static int restore_indices(loader *L)
{
    int first = 0;
    ct_error e;
    ct_error_clear(&e);
    ct_error *saved = L->err;
    L->err = &e;
    unsigned failed = 0;
    for (size_t i = 0; i < L->order_count; i++) {
        prepared *p = L->order[i];
        if (p->restored)
            continue;
        long status = 0;
        ct_buf path = CT_BUF_INIT;
        cJSON *j = NULL;
        /* Not there (its creation failed): nothing to put back. */
        cJSON *probe = NULL;
        const cJSON *settings;
        int rc = get_index(L, p->name, &status, &probe, &settings);
        cJSON_Delete(probe);
        bool exists = rc == 0 && status != 404;
        if (exists)
            rc = put_settings(L, p->name, p->refresh, p->replicas, &status);
        if (rc == 0 && exists && ct_buf_printf(&path, "/%s/_refresh", p->name))
            rc = nomem(L);
        if (rc == 0 && exists)
            rc = request(L, "POST", path.data, NULL, NULL, &status, &j);
        cJSON_Delete(j);
        j = NULL;
        ct_buf_reset(&path);
        if (rc == 0 && ct_buf_printf(&path, "/%s/_doc/index-%s", L->cfg->state_index, p->name))
            rc = nomem(L);
        if (rc == 0)
            rc = request(L, "DELETE", path.data, NULL, NULL, &status, &j);
        cJSON_Delete(j);
        ct_buf_release(&path);
        if (rc == 0) {
            p->restored = true;
        } else {
            failed++;
            if (!first)
                first = rc;
        }
    }
    L->err = saved;
    L->sum->indices_unrestored = failed;
    if (first && !L->fatal) {
        *L->err = e;
        ct_error_wrap(L->err,
                      "the settings of %u %s could not be restored (the next run restores "
                      "them): ",
                      failed, failed == 1 ? "index" : "indices");
    }
    return first;
}

/* ---- the reject file ---- */

static int reject_write(loader *L, ct_buf *line)
{
    if (ct_buf_puts(line, "}\n"))
        return nomem(L);
    int rc;
    if (!L->rejects.fp && (rc = ct_outfile_open(&L->rejects, L->opts->rejects_path, L->err)))
        return rc;
    /* Flushed line by line: a run killed before the rename leaves what it
     * rejected in the temporary file rather than nowhere. */
    if (fwrite(line->data, 1, line->len, L->rejects.fp) != line->len || fflush(L->rejects.fp) != 0)
        return ct_error_set(L->err, CT_EIO, "%s: cannot write: %s", L->opts->rejects_path,
                            strerror(errno));
    L->reject_lines++;
    return 0;
}

/* A record (or stretch) the trail scanner refused. */
static int on_local_reject(void *ud, const char *text, size_t len, size_t offset,
                           const char *reason)
{
    loader *L = ud;
    ct_buf line = CT_BUF_INIT;
    int rc = 0;
    if (ct_buf_puts(&line, "{\"file\":") || ct_es_json_string(&line, L->reading->path))
        rc = nomem(L);
    if (rc == 0 && text && offset != SIZE_MAX) {
        int ln, col;
        ct_text_position(text, len, offset, &ln, &col);
        if (ct_buf_printf(&line, ",\"line\":%d,\"column\":%d", ln, col))
            rc = nomem(L);
    }
    if (rc == 0 && (ct_buf_puts(&line, ",\"rejected_by\":\"cloudtracker\",\"reason\":") ||
                    ct_es_json_string(&line, reason)))
        rc = nomem(L);
    if (rc == 0)
        rc = reject_write(L, &line);
    ct_buf_release(&line);
    return rc;
}

/* A document the cluster refused for good. */
static int remote_reject(loader *L, const bulk *b, const item *it, long status,
                         const cJSON *error)
{
    char detail[420];
    cJSON *wrap = cJSON_CreateObject();
    if (!wrap)
        return nomem(L);
    cJSON_AddItemReferenceToObject(wrap, "error", (cJSON *)error);
    error_text(wrap, detail, sizeof(detail));
    cJSON_Delete(wrap);
    if (!it->file->first_remote && !(it->file->first_remote = ct_strdup(detail)))
        return nomem(L);
    /* The item's two lines: the action (with _index and _id) and the
     * document, which is JSON already. */
    const char *action = b->body.data + it->off;
    const char *nl = memchr(action, '\n', it->len);
    const char *doc = nl + 1;
    size_t doc_len = it->len - (size_t)(doc - action) - 1;
    ct_buf line = CT_BUF_INIT;
    int rc = 0;
    if (ct_buf_puts(&line, "{\"file\":") || ct_es_json_string(&line, it->file->path) ||
        ct_buf_printf(&line, ",\"rejected_by\":\"elasticsearch\",\"status\":%ld,\"reason\":",
                      status) ||
        ct_es_json_string(&line, detail) || ct_buf_puts(&line, ",\"action\":") ||
        ct_buf_append(&line, action, (size_t)(nl - action)) ||
        ct_buf_puts(&line, ",\"record\":") || ct_buf_append(&line, doc, doc_len))
        rc = nomem(L);
    if (rc == 0)
        rc = reject_write(L, &line);
    ct_buf_release(&line);
    return rc;
}

/* ---- bulk requests ---- */

static void bulk_free(bulk *b)
{
    if (!b)
        return;
    ct_buf_release(&b->body);
    free(b->items);
    free(b);
}

/* Bulks are reused, buffers and all: allocating and growing 8 MiB bodies
 * over and over costs page faults. A few are kept (those in flight, plus
 * the one being built, are all a load ever needs at once). */
#define SPARE_BULKS 6

static int bulk_new(loader *L, bulk **out)
{
    if (L->spare) {
        *out = L->spare;
        L->spare = (*out)->next;
        L->spare_count--;
        (*out)->next = NULL;
        return 0;
    }
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : nomem(L);
}

/* Done with b: keep it for reuse, or free it. */
static void bulk_done(loader *L, bulk *b)
{
    if (!b)
        return;
    if (L->spare_count >= SPARE_BULKS) {
        bulk_free(b);
        return;
    }
    ct_buf_reset(&b->body);
    b->count = 0;
    b->attempts = 0;
    b->not_before = 0;
    b->next = L->spare;
    L->spare = b;
    L->spare_count++;
}

static int bulk_add_item(loader *L, bulk *b, lfile *f, size_t off)
{
    item *items = ct_array_grow(b->items, &b->cap, b->count, sizeof(*items), 1024);
    if (!items)
        return nomem(L);
    b->items = items;
    b->items[b->count++] = (item){f, off, b->body.len - off};
    if (f)
        f->pending++;
    return 0;
}

static void queue_push(loader *L, bulk *b)
{
    b->next = NULL;
    if (L->ready_end)
        L->ready_end->next = b;
    else
        L->ready = b;
    L->ready_end = b;
}

/* Starts every queued bulk whose backoff is over while there is room. */
static int start_ready(loader *L)
{
    int64_t now = now_ms();
    bulk **pp = &L->ready, *prev = NULL;
    while (*pp && L->inflight < (uint64_t)L->cfg->bulk_requests) {
        bulk *b = *pp;
        if (b->not_before > now) {
            prev = b;
            pp = &b->next;
            continue;
        }
        *pp = b->next;
        if (L->ready_end == b)
            L->ready_end = prev;
        b->req = (ct_es_request){"POST", "/_bulk", "filter_path=errors,items.*.status,items.*.error",
                                 b->body.data, b->body.len, "application/x-ndjson", true};
        b->attempts++;
        int rc = ct_es_async_start(L->client, &b->req, b, L->err);
        if (rc) {
            bulk_free(b);
            return rc;
        }
        L->inflight++;
    }
    return 0;
}

static void file_unlink(loader *L, lfile *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        L->files = f->next;
    if (f->next)
        f->next->prev = f->prev;
}

static void file_free(lfile *f)
{
    free(f->path);
    free(f->first_remote);
    ct_file_scan_release(&f->scan);
    free(f);
}

/* The _id of a file's state document: the file is known by its path and
 * by where its records go. */
static void file_state_id(loader *L, const char *path, char out[5 + 2 * CT_SHA256_LEN + 1])
{
    ct_sha256 h;
    uint8_t d[CT_SHA256_LEN];
    ct_sha256_init(&h);
    ct_sha256_update(&h, L->cfg->index_format, strlen(L->cfg->index_format) + 1);
    ct_sha256_update(&h, path, strlen(path));
    ct_sha256_final(&h, d);
    memcpy(out, "file-", 5);
    ct_hex_lower(d, sizeof(d), out + 5);
}

/* The action line of a document. Index names are plain (config.c checks
 * index_format); the id is escaped. Built without printf: it is written
 * once per record. */
static int append_action(loader *L, bulk *b, const char *op, const char *index, const char *id)
{
    if (ct_buf_puts(&b->body, "{\"") || ct_buf_puts(&b->body, op) ||
        ct_buf_puts(&b->body, "\":{\"_index\":\"") || ct_buf_puts(&b->body, index) ||
        ct_buf_puts(&b->body, L->types ? "\",\"_type\":\"_doc\",\"_id\":" : "\",\"_id\":") ||
        ct_es_json_string(&b->body, id) || ct_buf_puts(&b->body, "}}\n"))
        return nomem(L);
    return 0;
}

static int flush_current(loader *L);

/* A file all of whose items are settled: counted, and recorded as loaded
 * when nothing of it was lost. */
static int file_complete(loader *L, lfile *f)
{
    ct_es_load_summary *s = L->sum;
    file_unlink(L, f);
    int rc = 0;
    s->records_rejected += f->scan.rejected + f->rejected_remote;
    s->bytes_done += (uint64_t)f->size;
    enum ct_file_status st = f->scan.status;
    if (st == CT_FILE_OK && f->rejected_remote)
        st = CT_FILE_PARTIAL;
    if (st == CT_FILE_OK) {
        s->files_read++;
        char id[5 + 2 * CT_SHA256_LEN + 1];
        file_state_id(L, f->path, id);
        if (!L->cur && (rc = bulk_new(L, &L->cur)) != 0)
            goto out;
        size_t off = L->cur->body.len;
        time_t now = time(NULL);
        if (append_action(L, L->cur, "index", L->cfg->state_index, id) ||
            ct_buf_puts(&L->cur->body, "{\"kind\":\"file\",\"path\":") ||
            ct_es_json_string(&L->cur->body, f->path) ||
            ct_buf_puts(&L->cur->body, ",\"index_format\":") ||
            ct_es_json_string(&L->cur->body, L->cfg->index_format) ||
            ct_buf_printf(&L->cur->body,
                          ",\"size\":%lld,\"mtime_ns\":\"%lld\",\"records\":%llu,"
                          "\"loaded_at\":%lld}\n",
                          (long long)f->size, (long long)f->mtime_ns,
                          (unsigned long long)f->scan.records, (long long)now)) {
            rc = nomem(L);
            goto out;
        }
        rc = bulk_add_item(L, L->cur, NULL, off);
        goto out;
    }
    ct_buf reason = CT_BUF_INIT;
    if (f->scan.reason && ct_buf_puts(&reason, f->scan.reason))
        rc = nomem(L);
    if (rc == 0 && f->rejected_remote &&
        ct_buf_printf(&reason, "%s%llu record%s rejected by elasticsearch (first: %s)",
                      reason.len ? "; " : "", (unsigned long long)f->rejected_remote,
                      f->rejected_remote == 1 ? "" : "s", f->first_remote ? f->first_remote : "?"))
        rc = nomem(L);
    if (rc == 0 && ct_input_problems_add(&s->problems, f->path,
                                         reason.data ? reason.data : "unreadable"))
        rc = nomem(L);
    ct_buf_release(&reason);
    if (st == CT_FILE_PARTIAL)
        s->files_partial++;
    else
        s->files_skipped++;
out:
    file_free(f);
    return rc;
}

static int settle(loader *L, lfile *f)
{
    if (--f->pending == 0 && f->read_done)
        return file_complete(L, f);
    return 0;
}

/* Copies the item into the bulk of items to send again. */
static int retry_item(loader *L, bulk **retry, const bulk *from, const item *it)
{
    if (!*retry) {
        int rc = bulk_new(L, retry);
        if (rc)
            return rc;
        (*retry)->attempts = from->attempts;
    }
    size_t off = (*retry)->body.len;
    if (ct_buf_append(&(*retry)->body, from->body.data + it->off, it->len))
        return nomem(L);
    int rc = bulk_add_item(L, *retry, it->file, off);
    if (rc == 0 && it->file)
        it->file->pending--; /* moved over, not added */
    return rc;
}

static int busy_too_long(loader *L, const char *what, long status)
{
    return ct_error_set(L->err, CT_EUNREACHABLE,
                        "elasticsearch at %s: %s still refused (HTTP %ld) after %ld attempts: the "
                        "cluster is overloaded; run the load again later (nothing is lost)",
                        ct_es_client_host(L->client), what, status, L->cfg->bulk_retries + 1);
}

/* Whether a _bulk answer says no item failed ("errors":false, which ES
 * puts before the items): its items then need not be read one by one. */
static bool all_created(const ct_buf *body)
{
    if (!body->data)
        return false;
    size_t n = body->len < 128 ? body->len : 128;
    const char *p = NULL, *end = body->data + n;
    for (size_t i = 0; !p && i + 8 <= n; i++)
        if (memcmp(body->data + i, "\"errors\"", 8) == 0)
            p = body->data + i + 8;
    if (!p)
        return false;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ':'))
        p++;
    return end - p >= 5 && memcmp(p, "false", 5) == 0;
}

/* Settles the items of an answered bulk. */
static int bulk_answered(loader *L, bulk *b, ct_es_outcome *o)
{
    ct_es_load_summary *s = L->sum;
    s->bulk_requests++;
    int rc = 0;
    if (o->rc != 0) {
        if (o->retryable && b->attempts <= L->cfg->bulk_retries) {
            s->retries++;
            b->not_before = now_ms() + ct_es_backoff_ms(L->client, b->attempts, BACKOFF_CAP_MS);
            queue_push(L, b);
            return 0;
        }
        if (o->status == 413)
            rc = ct_error_set(L->err, CT_ECONFIG,
                              "elasticsearch at %s: the cluster refuses _bulk requests of %zu "
                              "bytes (HTTP 413): lower elasticsearch.bulk_bytes",
                              ct_es_client_host(L->client), b->body.len);
        else if (o->retryable && o->status)
            rc = busy_too_long(L, "a _bulk request", o->status);
        else
            rc = set_fatal(L, &o->err);
        bulk_done(L, b);
        return rc;
    }
    if (all_created(&o->body)) {
        for (size_t i = 0; i < b->count && rc == 0; i++)
            if (b->items[i].file) {
                s->records_indexed++;
                rc = settle(L, b->items[i].file);
            }
        bulk_done(L, b);
        return rc;
    }
    cJSON *json = cJSON_ParseWithLength(o->body.data ? o->body.data : "", o->body.len);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(json, "items");
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(json, "errors");
    size_t n = (size_t)cJSON_GetArraySize(items);
    if (!cJSON_IsBool(errors) || (cJSON_IsTrue(errors) && n != b->count) ||
        (n != b->count && n != 0)) {
        rc = ct_error_set(L->err, CT_EPARTIAL,
                          "elasticsearch at %s: the answer to a _bulk request of %zu documents "
                          "does not account for them (%s)",
                          ct_es_client_host(L->client), b->count,
                          json ? "items missing" : "not JSON");
        cJSON_Delete(json);
        bulk_done(L, b);
        return rc;
    }
    bulk *retry = NULL;
    long retry_status = 0;
    const cJSON *entry = items ? items->child : NULL;
    for (size_t i = 0; i < b->count && rc == 0; i++) {
        const item *it = &b->items[i];
        const cJSON *res = entry ? entry->child : NULL;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(res, "status");
        /* With errors:false, filter_path may leave only the statuses, or
         * (some proxies) nothing: every item then succeeded. */
        long status = cJSON_IsNumber(st) ? (long)st->valuedouble : (entry ? 0 : 201);
        if (entry)
            entry = entry->next;
        if (!it->file) { /* a state document: only incrementality is at stake */
            if (status != 200 && status != 201)
                s->files_unrecorded++;
            continue;
        }
        if (status == 200 || status == 201) {
            s->records_indexed++;
        } else if (status == 409) {
            s->records_present++;
        } else if (status == 429 || status >= 500 || status == 0) {
            retry_status = status;
            rc = retry_item(L, &retry, b, it);
            continue;
        } else {
            it->file->rejected_remote++;
            rc = remote_reject(L, b, it, status, cJSON_GetObjectItemCaseSensitive(res, "error"));
        }
        if (rc == 0)
            rc = settle(L, it->file);
    }
    if (rc == 0 && retry) {
        if (retry->attempts > L->cfg->bulk_retries) {
            rc = busy_too_long(L, "documents were", retry_status);
            /* Their files stay unsettled, so they are not recorded as loaded. */
            bulk_done(L, retry);
        } else {
            s->retries += retry->count;
            retry->not_before =
                now_ms() + ct_es_backoff_ms(L->client, retry->attempts, BACKOFF_CAP_MS);
            queue_push(L, retry);
        }
    } else {
        bulk_done(L, retry);
    }
    cJSON_Delete(json);
    bulk_done(L, b);
    return rc;
}

/* Handles finished requests, waiting up to timeout_ms for the first. */
static int pump(loader *L, int timeout_ms)
{
    int rc = start_ready(L);
    while (rc == 0 && L->inflight > 0) {
        ct_es_outcome o;
        bool have;
        if ((rc = ct_es_async_next(L->client, timeout_ms, &o, &have, L->err)) != 0 || !have)
            break;
        L->inflight--;
        rc = bulk_answered(L, o.tag, &o);
        cJSON_Delete(o.json);
        ct_buf_release(&o.body);
        if (rc == 0)
            rc = start_ready(L);
        timeout_ms = 0;
    }
    if (rc)
        set_fatal(L, L->err);
    return rc;
}

/* Sends the bulk being built once there is room for it. Memory stays
 * bounded: at most bulk_requests requests in flight, plus this one. */
static int flush_current(loader *L)
{
    if (!L->cur || L->cur->count == 0)
        return 0;
    queue_push(L, L->cur);
    L->cur = NULL;
    int rc = start_ready(L);
    while (rc == 0 && L->ready) {
        if (interrupted(L))
            return L->fatal = CT_EINTERRUPTED;
        /* Full, or the queue waits for a backoff: wait a little. */
        rc = pump(L, 100);
        if (rc == 0 && L->ready && L->inflight == 0) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return rc;
}

/* ---- records ---- */

/* The index for an event time, by index_format. */
static int index_for(loader *L, int64_t seconds, const char **name)
{
    int64_t day = ct_day_of_seconds(seconds);
    if (L->last_index[0] && day == L->last_day) {
        *name = L->last_index;
        return 0;
    }
    int64_t y;
    unsigned m, d;
    ct_civil_from_days(day, &y, &m, &d);
    char out[256];
    size_t n = 0;
    for (const char *p = L->cfg->index_format; *p && n < sizeof(out) - 8; p++) {
        if (*p != '%' || !p[1]) {
            out[n++] = *p;
            continue;
        }
        p++;
        int w;
        if (*p == 'Y')
            w = snprintf(out + n, sizeof(out) - n, "%04lld", (long long)(y < 0 ? 0 : y % 10000));
        else if (*p == 'm')
            w = snprintf(out + n, sizeof(out) - n, "%02u", m);
        else if (*p == 'd')
            w = snprintf(out + n, sizeof(out) - n, "%02u", d);
        else
            w = snprintf(out + n, sizeof(out) - n, "%c", *p);
        if (w > 0)
            n += (size_t)w < sizeof(out) - n ? (size_t)w : sizeof(out) - n - 1;
    }
    out[n] = '\0';
    if (strcmp(out, L->last_index) != 0) {
        int rc = prepare_index(L, out);
        if (rc)
            return rc;
        memcpy(L->last_index, out, n + 1);
    }
    L->last_day = day;
    *name = L->last_index;
    return 0;
}

static int on_record(void *ud, const ct_trail_record *rec)
{
    loader *L = ud;
    if (L->fatal)
        return L->fatal;
    if (interrupted(L))
        return L->fatal = CT_EINTERRUPTED;
    const char *index;
    int rc = index_for(L, rec->event_time, &index);
    if (rc)
        return set_fatal(L, L->err);
    if (!L->cur && (rc = bulk_new(L, &L->cur)) != 0)
        return set_fatal(L, L->err);
    bulk *b = L->cur;
    size_t off = b->body.len;
    const char *id = rec->event_id;
    size_t id_len = id ? strlen(id) : 0;
    if (!id || id_len == 0 || id_len > 512) {
        /* No usable eventID: the record's own hash keeps re-runs idempotent. */
        uint8_t d[CT_SHA256_LEN];
        ct_sha256_digest(rec->raw, rec->raw_len, d);
        ct_hex_lower(d, sizeof(d), L->id_hex);
        id = L->id_hex;
    }
    unsigned moved = 0;
    /* Every record, failed calls too: the queries choose what counts. */
    if ((rc = ct_trail_resource_set(rec, &L->resources, L->err)) != 0)
        return set_fatal(L, L->err);
    if (append_action(L, b, "create", index, id))
        return set_fatal(L, L->err);
    size_t doc = b->body.len;
    rc = ct_es_doc_prepare(&b->body, rec->raw, rec->raw_len, rec->event_time, rec->time_elsewhere,
                           &moved);
    if (rc == 0)
        rc = ct_es_doc_add_resources(&b->body, doc, L->resources.data);
    if (rc == CT_EINPUT || rc == CT_EINTERNAL) /* the scanner validated it: cannot happen */
        rc = ct_error_set(L->err, CT_EINTERNAL, "%s: a record the scanner accepted is not JSON",
                          L->reading->path);
    else if (rc || ct_buf_puts(&b->body, "\n"))
        rc = nomem(L);
    if (rc == 0)
        rc = bulk_add_item(L, b, L->reading, off);
    if (rc)
        return set_fatal(L, L->err);
    if (moved)
        L->sum->records_moved++;
    if (b->body.len >= (size_t)L->cfg->bulk_bytes && flush_current(L) != 0)
        return L->fatal;
    return 0;
}

/* Reads one file and queues its records. */
static int load_file(loader *L, ct_found_file *ff)
{
    lfile *f = calloc(1, sizeof(*f));
    if (!f)
        return nomem(L);
    f->path = ff->path;
    ff->path = NULL;
    f->size = ff->size;
    f->mtime_ns = ff->mtime_ns;
    f->pending = 1; /* the reading itself, settled below */
    f->next = L->files;
    if (L->files)
        L->files->prev = f;
    L->files = f;
    L->reading = f;
    int rc = ct_file_scan_path(L->reader, f->path, on_record, on_local_reject, L, &f->scan, L->err);
    L->reading = NULL;
    if (rc)
        return L->fatal ? L->fatal : set_fatal(L, L->err);
    f->size = f->scan.size ? f->scan.size : f->size;
    f->mtime_ns = f->scan.size ? f->scan.mtime_ns : f->mtime_ns;
    f->read_done = true;
    L->sum->records_read += f->scan.records + f->scan.rejected;
    L->sum->bytes_json += f->scan.bytes_json;
    return settle(L, f);
}

/* ---- finding the files to read ---- */

typedef struct lookup {
    ct_found_file files[LOOKUP_BATCH];
    bool loaded[LOOKUP_BATCH];
    size_t count;
} lookup;

/* Asks the state index which of the files were loaded completely before,
 * as they are now. One _mget (realtime: a file recorded just before a
 * crash is seen). */
static int lookup_loaded(loader *L, lookup *lk)
{
    ct_buf path = CT_BUF_INIT, body = CT_BUF_INIT;
    int rc = 0;
    if (ct_buf_printf(&path, "/%s/_mget", L->cfg->state_index) ||
        ct_buf_puts(&body, "{\"docs\":["))
        rc = nomem(L);
    for (size_t i = 0; rc == 0 && i < lk->count; i++) {
        char id[5 + 2 * CT_SHA256_LEN + 1];
        file_state_id(L, lk->files[i].path, id);
        lk->loaded[i] = false;
        if (ct_buf_printf(&body, "%s{\"_id\":\"%s\"%s}", i ? "," : "", id,
                          L->types ? ",\"_type\":\"_doc\"" : ""))
            rc = nomem(L);
    }
    if (rc == 0 && ct_buf_puts(&body, "]}"))
        rc = nomem(L);
    long status = 0;
    cJSON *j = NULL;
    if (rc == 0)
        rc = request(L, "POST", path.data, NULL, &body, &status, &j);
    if (rc == 0 && status != 200)
        rc = unexpected(L, "reading the state index", status, j);
    const cJSON *docs = cJSON_GetObjectItemCaseSensitive(j, "docs");
    if (rc == 0 && cJSON_GetArraySize(docs) != (int)lk->count)
        rc = ct_error_set(L->err, CT_EPARTIAL,
                          "elasticsearch at %s: _mget answered %d documents for %zu",
                          ct_es_client_host(L->client), cJSON_GetArraySize(docs), lk->count);
    size_t i = 0;
    const cJSON *d, *list = rc == 0 ? docs : NULL;
    cJSON_ArrayForEach(d, list)
    {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(d, "_source");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(src, "size");
        const cJSON *mtime = cJSON_GetObjectItemCaseSensitive(src, "mtime_ns");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(src, "path");
        /* mtime_ns is beyond a double's precision: kept as text. */
        char want[32];
        snprintf(want, sizeof(want), "%lld", (long long)lk->files[i].mtime_ns);
        lk->loaded[i] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "found")) &&
                        cJSON_IsString(p) && strcmp(p->valuestring, lk->files[i].path) == 0 &&
                        cJSON_IsNumber(size) && size->valuedouble == (double)lk->files[i].size &&
                        cJSON_IsString(mtime) && strcmp(mtime->valuestring, want) == 0;
        i++;
    }
    cJSON_Delete(j);
    ct_buf_release(&path);
    ct_buf_release(&body);
    return rc;
}

static int load_batch(loader *L, lookup *lk)
{
    int rc = lk->count ? lookup_loaded(L, lk) : 0;
    for (size_t i = 0; i < lk->count; i++) {
        if (rc == 0 && !L->fatal && !interrupted(L)) {
            if (lk->loaded[i]) {
                L->sum->files_unchanged++;
                L->sum->bytes_done += (uint64_t)lk->files[i].size;
            } else {
                rc = load_file(L, &lk->files[i]);
                if (rc == 0)
                    rc = pump(L, 0);
            }
            if (L->opts->progress)
                L->opts->progress(L->opts->progress_ud, L->sum);
        }
        ct_found_file_release(&lk->files[i]);
    }
    lk->count = 0;
    return rc ? rc : L->fatal;
}

/* On-disk bytes of every file to look at, for the progress's ETA. */
static int count_total(loader *L)
{
    ct_input_problems ignored = {0};
    ct_walk *w = NULL;
    int rc = ct_walk_new(&w, L->opts->paths, L->opts->path_count, L->opts->account_id, &ignored,
                         L->err);
    for (bool have = true; rc == 0 && have;) {
        ct_found_file f;
        rc = ct_walk_next(w, &f, &have, L->err);
        if (rc == 0 && have) {
            L->sum->files_total++;
            L->sum->bytes_total += (uint64_t)f.size;
            ct_found_file_release(&f);
        }
    }
    ct_walk_free(w);
    ct_input_problems_release(&ignored);
    return rc;
}

/* Waits until everything sent is answered and every file settled. */
static int drain(loader *L)
{
    int rc = 0;
    while (rc == 0 && !L->fatal && (L->inflight || L->ready || (L->cur && L->cur->count))) {
        if (interrupted(L))
            return L->fatal = CT_EINTERRUPTED;
        rc = flush_current(L);
        if (rc == 0)
            rc = pump(L, 200);
        if (rc == 0 && L->ready && L->inflight == 0) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (L->opts->progress)
            L->opts->progress(L->opts->progress_ud, L->sum);
    }
    return rc ? rc : L->fatal;
}

/* After a failure: what is in flight is still answered (and settled, so
 * nothing acknowledged is counted as lost), nothing new is sent. */
static void abandon(loader *L)
{
    /* Not forever, though: a server that stopped answering is let go. */
    int64_t deadline = now_ms() + 10000;
    while (L->inflight > 0 && now_ms() < deadline) {
        ct_es_outcome o;
        bool have;
        ct_error e;
        if (ct_es_async_next(L->client, 1000, &o, &have, &e) != 0)
            break;
        if (!have)
            continue;
        L->inflight--;
        bulk *b = o.tag;
        cJSON_Delete(o.json);
        ct_buf_release(&o.body);
        bulk_free(b);
    }
    while (L->ready) {
        bulk *b = L->ready;
        L->ready = b->next;
        bulk_free(b);
    }
    L->ready_end = NULL;
    bulk_free(L->cur);
    L->cur = NULL;
}

static void loader_release(loader *L)
{
    while (L->files) {
        lfile *f = L->files;
        L->files = f->next;
        file_free(f);
    }
    for (size_t i = 0; i < L->order_count; i++) {
        free(L->order[i]->name);
        free(L->order[i]->refresh);
        free(L->order[i]->replicas);
        free(L->order[i]);
    }
    free(L->order);
    while (L->spare) {
        bulk *b = L->spare;
        L->spare = b->next;
        bulk_free(b);
    }
    ct_strmap_free(L->indices);
    ct_strmap_free(L->foreign);
    ct_strmap_free(L->old_mapping);
    ct_file_reader_free(L->reader);
    ct_es_client_free(L->client);
    free(L->pattern);
    ct_buf_release(&L->resources);
}

/* The loader writes CloudTrail's own field names as keywords (the schema
 * "keyword"); a config that tells the queries to look elsewhere would
 * never find what it loads. */
static int check_query_settings(const ct_es_config *cfg, ct_error *err)
{
    const char *why = NULL;
    if (cfg->schema == CT_ES_SCHEMA_DYNAMIC || cfg->schema == CT_ES_SCHEMA_ECS)
        why = cfg->schema == CT_ES_SCHEMA_ECS ? "elasticsearch.schema is ecs"
                                              : "elasticsearch.schema is dynamic";
    else if (cfg->key_prefix && cfg->key_prefix[0])
        why = "elasticsearch.key_prefix is set";
    else if (cfg->timestamp_field && strcmp(cfg->timestamp_field, "eventTime") != 0)
        why = "elasticsearch.timestamp_field is not eventTime";
    if (!why)
        return 0;
    return ct_error_set_at(err, CT_ECONFIG, "", cfg->line, 0,
                           "%s, but the loader writes CloudTrail's own field names as keywords "
                           "(schema keyword): queries would not find what it loads; remove it "
                           "(or set it to auto or keyword) to load",
                           why);
}

/* Whether elasticsearch.index (a name, pattern or comma list) names `index`
 * itself; an alias cannot be told from here. */
static bool query_sees(const char *expr, const char *index)
{
    bool seen = false;
    for (const char *p = expr; *p && !seen;) {
        size_t n = strcspn(p, ",");
        char part[256];
        if (n < sizeof(part) && p[0] != '-') {
            memcpy(part, p, n);
            part[n] = '\0';
            seen = fnmatch(part, index, 0) == 0 || strcmp(part, "_all") == 0;
        }
        p += n + (p[n] == ',');
    }
    return seen;
}

int ct_es_load(const ct_es_config *cfg, const ct_es_load_options *opts,
               ct_es_load_summary *summary, ct_error *err)
{
    memset(summary, 0, sizeof(*summary));
    int check = check_query_settings(cfg, err);
    if (check)
        return check;
    loader L;
    memset(&L, 0, sizeof(L));
    L.cfg = cfg;
    L.opts = opts;
    L.sum = summary;
    L.err = err;
    L.last_day = INT64_MIN;
    ct_walk *walk = NULL;
    lookup *lk = calloc(1, sizeof(*lk));
    int rc = 0;
    if (!lk || !(L.pattern = pattern_of(cfg->index_format)) || !(L.indices = ct_strmap_new()) ||
        !(L.foreign = ct_strmap_new()) || !(L.old_mapping = ct_strmap_new()) ||
        ct_file_reader_new(&L.reader, 0, opts->time_field) != 0) {
        rc = nomem(&L);
        goto out;
    }
    snprintf(summary->index_pattern, sizeof(summary->index_pattern), "%s", L.pattern);
    /* Paths first: a typo should not cost a round-trip to the cluster. */
    if ((rc = ct_walk_new(&walk, opts->paths, opts->path_count, opts->account_id,
                          &summary->problems, err)))
        goto out;
    /* The reject file is created at the first reject, as a temporary file
     * renamed over the target at the end; a trial one now tells at once
     * when the folder cannot take it. A reject file of an earlier run is
     * not read as a log. */
    if ((rc = ct_outfile_open(&L.rejects, opts->rejects_path, err)))
        goto out;
    ct_outfile_abort(&L.rejects);
    struct stat st;
    if (stat(opts->rejects_path, &st) == 0 && ct_walk_skip(walk, st.st_dev, st.st_ino) != 0) {
        rc = nomem(&L);
        goto out;
    }
    if ((rc = ct_es_client_new(&L.client, cfg, err)) || (rc = detect(&L)) ||
        (rc = probe_alias(&L)) || (rc = put_template(&L)) || (rc = ensure_state_index(&L)) ||
        (rc = find_foreign(&L)) || (rc = alias_existing(&L)) || (rc = find_leftovers(&L)))
        goto out;
    if (opts->progress && (rc = count_total(&L)))
        goto out;
    /* A cluster that was not there at the start is a wrong address, told at
     * once; one that goes away during the load may come back. */
    L.patient = true;

    for (bool have = true; rc == 0 && have;) {
        if (interrupted(&L)) {
            rc = CT_EINTERRUPTED;
            break;
        }
        ct_found_file *f = &lk->files[lk->count];
        if ((rc = ct_walk_next(walk, f, &have, err)))
            break;
        if (have) {
            summary->files_seen++;
            lk->count++;
        }
        if (lk->count == LOOKUP_BATCH || (!have && lk->count))
            rc = load_batch(&L, lk);
    }
    if (rc == 0)
        rc = drain(&L);
    if (rc == 0 && L.files)
        rc = ct_error_set(err, CT_EINTERNAL, "the load ended with files not settled");
    /* Behind the alias, every index is seen; an index in the alias's way
     * has its own warning. */
    for (size_t i = 0; i < L.order_count && !L.alias && !summary->index_taken[0] &&
                       !summary->unseen_index[0];
         i++)
        if (!query_sees(cfg->index, L.order[i]->name))
            snprintf(summary->unseen_index, sizeof(summary->unseen_index), "%s",
                     L.order[i]->name);
out:
    if (rc == CT_EINTERRUPTED || (L.fatal == CT_EINTERRUPTED))
        rc = ct_error_set(err, CT_EINTERRUPTED, "interrupted: the load stopped; run it again to "
                                                "go on where it stopped");
    L.patient = false;
    if (L.client) {
        if (rc)
            abandon(&L);
        /* Whatever happened, indices get their settings back. */
        int rrc = restore_indices(&L);
        if (rc == 0)
            rc = rrc;
    }
    for (size_t i = 0; lk && i < lk->count; i++)
        ct_found_file_release(&lk->files[i]);
    free(lk);
    /* Rejects are kept whatever ended the run; with none, no file is made
     * and whatever lies at the path is left alone. */
    if (L.rejects.fp) {
        ct_error e;
        int crc = ct_outfile_commit(&L.rejects, &e);
        if (crc && rc == 0) {
            rc = crc;
            *err = e;
        }
    }
    ct_walk_free(walk);
    loader_release(&L);
    return rc;
}
