/* The Elasticsearch/OpenSearch event source. Every answer is an aggregation:
 * composite aggregations paged with after_key (exact and complete, unlike
 * terms), with min/max of the timestamp and a value_count of errorCode per
 * (eventSource, eventName, eventType) bucket, so one request (plus pages) answers what
 * the store answers with one SQL statement. */
#include "cloudtracker/es.h"

#include "cloudtracker/util.h"
#include "es/es_http.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Composite page size: at most search.max_buckets of ES 7.0-7.8 (10,000).
 * A cluster set lower makes it shrink tenfold per refusal, down to
 * MIN_PAGE_SIZE. */
#define PAGE_SIZE 10000
#define MIN_PAGE_SIZE 10
/* Access keys per terms query in --destrole's second phase: far below
 * index.max_terms_count (65,536). */
#define KEY_BATCH 10000

/* The CloudTrail fields the queries use. */
enum field {
    F_SOURCE,     /* eventSource */
    F_NAME,       /* eventName */
    F_ERROR,      /* errorCode */
    F_TYPE,       /* userIdentity.type */
    F_ARN,        /* userIdentity.arn */
    F_KEY,        /* userIdentity.accessKeyId */
    F_ISSUER,     /* userIdentity.sessionContext.sessionIssuer.arn */
    F_ROLE_ARN,   /* requestParameters.roleArn */
    F_ISSUED,     /* responseElements.credentials.accessKeyId */
    F_ACCOUNT,    /* recipientAccountId */
    F_EVENT_TYPE, /* eventType */
    F_CATEGORY,   /* eventCategory */
    F_READ_ONLY,  /* readOnly (boolean) */
    F_MANAGEMENT, /* managementEvent (boolean; a keyword in the ECS schema) */
    F_SESSION,    /* requestParameters.roleSessionName */
    F_EVENT_ID,   /* eventID */
    F_SHARED_ID,  /* sharedEventID */
    F_COUNT
};

static const char *const CLOUDTRAIL_NAMES[F_COUNT] = {
    "eventSource",
    "eventName",
    "errorCode",
    "userIdentity.type",
    "userIdentity.arn",
    "userIdentity.accessKeyId",
    "userIdentity.sessionContext.sessionIssuer.arn",
    "requestParameters.roleArn",
    "responseElements.credentials.accessKeyId",
    "recipientAccountId",
    "eventType",
    "eventCategory",
    "readOnly",
    "managementEvent",
    "requestParameters.roleSessionName",
    "eventID",
    "sharedEventID",
};

/* Fields dynamic mapping makes booleans (JSON true/false), which have no
 * .keyword sub-field. */
static const bool BOOLEAN_FIELD[F_COUNT] = {[F_READ_ONLY] = true, [F_MANAGEMENT] = true};

/* Elastic's AWS integration (elastic/integrations, ingest pipeline
 * packages/aws/data_stream/cloudtrail/elasticsearch/ingest_pipeline/default.yml):
 * it renames json.eventID to event.id and json.sharedEventId to
 * aws.cloudtrail.shared_event_id (sic: CloudTrail writes sharedEventID, so
 * its documents may lack it, and the answer then has ""), and keeps
 * requestParameters and responseElements whole under aws.cloudtrail.flattened. */
static const char *const ECS_NAMES[F_COUNT] = {
    "event.provider",
    "event.action",
    "aws.cloudtrail.error_code",
    "aws.cloudtrail.user_identity.type",
    "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.access_key_id",
    "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
    "aws.cloudtrail.flattened.request_parameters.roleArn",
    "aws.cloudtrail.flattened.response_elements.credentials.accessKeyId",
    "aws.cloudtrail.recipient_account_id",
    "aws.cloudtrail.event_type",
    "aws.cloudtrail.event_category",
    "aws.cloudtrail.read_only",
    "aws.cloudtrail.management_event",
    "aws.cloudtrail.flattened.request_parameters.roleSessionName",
    "event.id",
    "aws.cloudtrail.shared_event_id",
};

typedef struct es_source {
    ct_source base;
    const ct_es_config *cfg;
    ct_es_client *client;
    bool detected;
    bool total_hits_flag; /* the engine takes track_total_hits (not ES 6) */
    ct_es_schema schema;
    int page_size;
    char *fields[F_COUNT];
    char *time_field;
} es_source;

/* ---- detection ---- */

static int version_of(const char *s, int *major, int *minor)
{
    return sscanf(s, "%d.%d", major, minor) == 2 ? 0 : -1;
}

/* GET /: which engine and version. Composite paging needs after_key (ES 6.3). */
static int detect_engine(es_source *s, ct_error *err)
{
    const ct_es_config *cfg = s->cfg;
    /* OpenSearch Serverless has no GET /; it is OpenSearch 2.x. */
    if (cfg->aws_sigv4 && strcmp(cfg->aws_service, "aoss") == 0) {
        s->total_hits_flag = true;
        return 0;
    }
    ct_es_request req = {"GET", "/", NULL, NULL, 0, NULL, false};
    cJSON *root = NULL;
    int rc = ct_es_request_json(s->client, &req, &root, err);
    if (rc)
        return rc;
    cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    cJSON *number = cJSON_GetObjectItemCaseSensitive(version, "number");
    cJSON *dist = cJSON_GetObjectItemCaseSensitive(version, "distribution");
    int major = 0, minor = 0;
    if (!cJSON_IsString(number) || version_of(number->valuestring, &major, &minor) != 0) {
        cJSON_Delete(root);
        return ct_error_set(err, CT_EUNREACHABLE,
                            "elasticsearch at %s: not an Elasticsearch or OpenSearch server (GET / "
                            "has no version.number)",
                            ct_es_client_host(s->client));
    }
    bool opensearch = cJSON_IsString(dist) && strcmp(dist->valuestring, "opensearch") == 0;
    cJSON_Delete(root);
    if (!opensearch && (major < 6 || (major == 6 && minor < 3)))
        return ct_error_set(err, CT_ECONFIG,
                            "elasticsearch at %s: version %d.%d is too old (6.3 or later is "
                            "needed for composite aggregations)",
                            ct_es_client_host(s->client), major, minor);
    s->total_hits_flag = opensearch || major >= 7;
    return 0;
}

/* Looks for the field mappings in one index's "mappings" object, which ES 6
 * wraps in a type name. */
static cJSON *field_mappings(cJSON *mappings, const char *probe)
{
    if (cJSON_GetObjectItemCaseSensitive(mappings, probe))
        return mappings;
    cJSON *child;
    cJSON_ArrayForEach(child, mappings)
    {
        cJSON *f;
        cJSON_ArrayForEach(f, child)
        {
            if (cJSON_GetObjectItemCaseSensitive(f, "full_name"))
                return child;
        }
    }
    return mappings;
}

static const char *leaf_type(cJSON *fields, const char *full)
{
    cJSON *f = cJSON_GetObjectItemCaseSensitive(fields, full);
    cJSON *mapping = cJSON_GetObjectItemCaseSensitive(f, "mapping");
    cJSON *leaf = mapping ? mapping->child : NULL;
    cJSON *type = cJSON_GetObjectItemCaseSensitive(leaf, "type");
    return cJSON_IsString(type) ? type->valuestring : NULL;
}

/* One _mapping/field request tells which schema the indices use. */
static int detect_schema(es_source *s, ct_es_schema *out, ct_error *err)
{
    const ct_es_config *cfg = s->cfg;
    const char *prefix = cfg->key_prefix ? cfg->key_prefix : "";
    ct_buf path = CT_BUF_INIT, name = CT_BUF_INIT, kw = CT_BUF_INIT;
    int rc = 0;
    if (ct_buf_printf(&name, "%seventName", prefix) ||
        ct_buf_printf(&kw, "%seventName.keyword", prefix) ||
        ct_buf_printf(&path, "/%s/_mapping/field/%s,%s,%s", cfg->index, name.data, kw.data,
                      ECS_NAMES[F_NAME]))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    cJSON *root = NULL;
    ct_es_request req = {"GET", path.data, NULL, NULL, 0, NULL, false};
    if (rc == 0)
        rc = ct_es_request_json(s->client, &req, &root, err);
    int seen[4] = {0}; /* per schema: indices using it */
    const char *text_index = NULL;
    cJSON *index, *indices = rc == 0 ? root : NULL;
    cJSON_ArrayForEach(index, indices)
    {
        cJSON *fields =
            field_mappings(cJSON_GetObjectItemCaseSensitive(index, "mappings"), name.data);
        const char *t_name = leaf_type(fields, name.data);
        const char *t_kw = leaf_type(fields, kw.data);
        const char *t_ecs = leaf_type(fields, ECS_NAMES[F_NAME]);
        if (t_kw && strcmp(t_kw, "keyword") == 0)
            seen[CT_ES_SCHEMA_DYNAMIC]++;
        else if (t_name && strcmp(t_name, "keyword") == 0)
            seen[CT_ES_SCHEMA_KEYWORD]++;
        else if (t_ecs)
            seen[CT_ES_SCHEMA_ECS]++;
        else if (t_name && !text_index)
            text_index = index->string;
    }
    int kinds =
        !!seen[CT_ES_SCHEMA_DYNAMIC] + !!seen[CT_ES_SCHEMA_KEYWORD] + !!seen[CT_ES_SCHEMA_ECS];
    if (rc == 0 && kinds > 1)
        rc = ct_error_set(err, CT_ECONFIG,
                          "elasticsearch at %s: the indices of '%s' map CloudTrail fields in "
                          "different ways; narrow elasticsearch.index or set elasticsearch.schema",
                          ct_es_client_host(s->client), cfg->index);
    else if (rc == 0 && kinds == 0 && text_index)
        rc = ct_error_set(err, CT_ECONFIG,
                          "elasticsearch at %s: index %s maps %s as text without a keyword "
                          "sub-field, which cannot be aggregated",
                          ct_es_client_host(s->client), text_index, name.data);
    if (rc == 0)
        /* No index yet (a pattern matching nothing): any schema answers
         * "no events"; keyword is the recommended template. */
        *out = seen[CT_ES_SCHEMA_DYNAMIC] ? CT_ES_SCHEMA_DYNAMIC
               : seen[CT_ES_SCHEMA_ECS]   ? CT_ES_SCHEMA_ECS
                                          : CT_ES_SCHEMA_KEYWORD;
    cJSON_Delete(root);
    ct_buf_release(&path);
    ct_buf_release(&name);
    ct_buf_release(&kw);
    return rc;
}

static int set_fields(es_source *s, ct_error *err)
{
    const ct_es_config *cfg = s->cfg;
    const char *prefix = cfg->key_prefix ? cfg->key_prefix : "";
    for (int f = 0; f < F_COUNT; f++) {
        ct_buf b = CT_BUF_INIT;
        int rc = s->schema == CT_ES_SCHEMA_ECS ? ct_buf_puts(&b, ECS_NAMES[f])
                 : s->schema == CT_ES_SCHEMA_DYNAMIC && !BOOLEAN_FIELD[f]
                     ? ct_buf_printf(&b, "%s%s.keyword", prefix, CLOUDTRAIL_NAMES[f])
                     : ct_buf_printf(&b, "%s%s", prefix, CLOUDTRAIL_NAMES[f]);
        if (rc || !(s->fields[f] = ct_buf_detach(&b)))
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    ct_buf t = CT_BUF_INIT;
    int rc = cfg->timestamp_field            ? ct_buf_puts(&t, cfg->timestamp_field)
             : s->schema == CT_ES_SCHEMA_ECS ? ct_buf_puts(&t, "@timestamp")
                                             : ct_buf_printf(&t, "%seventTime", prefix);
    if (rc || !(s->time_field = ct_buf_detach(&t)))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* Detection happens once, before the first query. */
static int ensure_ready(es_source *s, ct_error *err)
{
    if (s->detected)
        return 0;
    int rc = detect_engine(s, err);
    s->schema = s->cfg->schema;
    if (rc == 0 && s->schema == CT_ES_SCHEMA_AUTO)
        rc = detect_schema(s, &s->schema, err);
    if (rc == 0)
        rc = set_fields(s, err);
    if (rc == 0)
        s->detected = true;
    return rc;
}

/* ---- query building ---- */

static int put_time(ct_buf *b, int64_t seconds)
{
    int64_t day = ct_day_of_seconds(seconds), rest = seconds - day * 86400;
    char d[11];
    ct_date_format_day(day, d);
    return ct_buf_printf(b, "\"%sT%02d:%02d:%02dZ\"", d, (int)(rest / 3600), (int)(rest / 60 % 60),
                         (int)(rest % 60));
}

/* {"range":{T:{"gte":from,"lt":to}}} for seconds [from, to). */
static int put_range(es_source *s, ct_buf *b, int64_t from, int64_t to)
{
    if (ct_buf_puts(b, "{\"range\":{") || ct_es_json_string(b, s->time_field) ||
        ct_buf_puts(b, ":{\"gte\":") || put_time(b, from) || ct_buf_puts(b, ",\"lt\":") ||
        put_time(b, to) || ct_buf_puts(b, ",\"format\":\"strict_date_optional_time\"}}}"))
        return CT_ENOMEM;
    return 0;
}

static int put_window(es_source *s, ct_buf *b, const ct_window *w)
{
    return put_range(s, b, w->first_day * 86400, (w->last_day + 1) * 86400);
}

static int put_term(es_source *s, ct_buf *b, enum field f, const char *value)
{
    if (ct_buf_puts(b, "{\"term\":{") || ct_es_json_string(b, s->fields[f]) ||
        ct_buf_puts(b, ":") || ct_es_json_string(b, value) || ct_buf_puts(b, "}}"))
        return CT_ENOMEM;
    return 0;
}

/* {"exists":{"field":F}} */
static int put_exists(es_source *s, ct_buf *b, enum field f)
{
    if (ct_buf_puts(b, "{\"exists\":{\"field\":") || ct_es_json_string(b, s->fields[f]) ||
        ct_buf_puts(b, "}}"))
        return CT_ENOMEM;
    return 0;
}

static int put_terms(es_source *s, ct_buf *b, enum field f, const char *const *values, size_t n)
{
    if (ct_buf_puts(b, "{\"terms\":{") || ct_es_json_string(b, s->fields[f]) ||
        ct_buf_puts(b, ":["))
        return CT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if ((i && ct_buf_puts(b, ",")) || ct_es_json_string(b, values[i]))
            return CT_ENOMEM;
    return ct_buf_puts(b, "]}}") ? CT_ENOMEM : 0;
}

/* The calls charged to `arn`, as the store charges them: a role session's
 * calls to its role (userIdentity.type AssumedRole, sessionIssuer.arn),
 * everything else to userIdentity.arn. */
static int put_principal(es_source *s, ct_buf *b, const char *arn)
{
    if (ct_buf_puts(b, "{\"bool\":{\"minimum_should_match\":1,\"should\":[") ||
        put_term(s, b, F_ARN, arn) || ct_buf_puts(b, ",{\"bool\":{\"filter\":[") ||
        put_term(s, b, F_ISSUER, arn) || ct_buf_puts(b, ",") ||
        put_term(s, b, F_TYPE, "AssumedRole") || ct_buf_puts(b, "]}}]}}"))
        return CT_ENOMEM;
    return 0;
}

static int put_composite_source(es_source *s, ct_buf *b, const char *name, enum field f,
                                bool missing)
{
    if (ct_buf_printf(b, "{\"%s\":{\"terms\":{\"field\":", name) ||
        ct_es_json_string(b, s->fields[f]) ||
        ct_buf_puts(b, missing ? ",\"missing_bucket\":true}}}" : "}}}"))
        return CT_ENOMEM;
    return 0;
}

/* ---- composite paging ---- */

typedef int (*bucket_fn)(void *ud, cJSON *key, cJSON *bucket, ct_error *err);

/* One composite aggregation to page through: `query` is the query clause,
 * `sources` the sources array, `sub` the sub-aggregations (or NULL); `fn`
 * gets each bucket with `ud`. */
typedef struct pager {
    const char *query;
    const char *sources;
    const char *sub;
    bucket_fn fn;
    void *ud;
    char *after; /* JSON of the last after_key; NULL on the first page */
    bool done;
    ct_buf body;
} pager;

static int build_body(es_source *s, pager *p)
{
    ct_buf *b = &p->body;
    ct_buf_reset(b);
    if (ct_buf_printf(b,
                      "{\"size\":0,%s\"query\":%s,\"aggs\":{\"c\":{\"composite\":{\"size\":%d,"
                      "\"sources\":%s",
                      s->total_hits_flag ? "\"track_total_hits\":false," : "", p->query,
                      s->page_size, p->sources) ||
        (p->after && ct_buf_printf(b, ",\"after\":%s", p->after)) || ct_buf_puts(b, "}") ||
        (p->sub && ct_buf_printf(b, ",\"aggs\":%s", p->sub)) || ct_buf_puts(b, "}}}"))
        return CT_ENOMEM;
    return 0;
}

/* Pages through n composite aggregations, all in flight at once (curl
 * multi), calling each pager's fn for every bucket of its aggregation. A
 * page shorter than the page size is the last one, which saves the empty
 * page a naive loop would fetch. */
static int run_pagers(es_source *s, pager *ps, size_t n, ct_error *err)
{
    ct_buf path = CT_BUF_INIT;
    ct_es_request *reqs = calloc(n ? n : 1, sizeof(*reqs));
    cJSON **outs = calloc(n ? n : 1, sizeof(*outs));
    size_t *which = calloc(n ? n : 1, sizeof(*which));
    int rc = 0;
    if (!reqs || !outs || !which || ct_buf_printf(&path, "/%s/_search", s->cfg->index))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    while (rc == 0) {
        size_t m = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (ps[i].done)
                continue;
            if (build_body(s, &ps[i])) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                break;
            }
            reqs[m] = (ct_es_request){"POST", path.data, NULL, ps[i].body.data, ps[i].body.len, NULL, false};
            which[m++] = i;
        }
        if (rc || m == 0)
            break;
        rc = ct_es_request_many(s->client, reqs, m, outs, err);
        if (rc && ct_es_client_too_many_buckets(s->client) && s->page_size > MIN_PAGE_SIZE) {
            /* Nothing of this round was used: ask again with smaller pages. */
            s->page_size /= 10;
            ct_error_clear(err);
            rc = 0;
            continue;
        }
        for (size_t j = 0; rc == 0 && j < m; j++) {
            pager *p = &ps[which[j]];
            cJSON *agg = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(outs[j], "aggregations"), "c");
            cJSON *buckets = cJSON_GetObjectItemCaseSensitive(agg, "buckets");
            cJSON *after = cJSON_GetObjectItemCaseSensitive(agg, "after_key");
            /* A search over no index at all answers without aggregations,
             * and says it searched no shard. Any other answer without them
             * (a proxy's "{}", a filtered body) would read as "no calls"
             * and turn every grant into a "-": it is refused. */
            cJSON *total = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(outs[j], "_shards"), "total");
            if (!cJSON_GetObjectItemCaseSensitive(outs[j], "aggregations") &&
                cJSON_IsNumber(total) && total->valuedouble == 0) {
                p->done = true;
                continue;
            }
            if (!cJSON_IsArray(buckets)) {
                rc = ct_error_set(err, CT_EPARTIAL,
                                  "elasticsearch at %s: the search answered without its "
                                  "composite buckets",
                                  ct_es_client_host(s->client));
                break;
            }
            int count = 0;
            cJSON *bucket;
            cJSON_ArrayForEach(bucket, buckets)
            {
                count++;
                cJSON *key = cJSON_GetObjectItemCaseSensitive(bucket, "key");
                if (!cJSON_IsObject(key)) {
                    rc = ct_error_set(err, CT_EPARTIAL,
                                      "elasticsearch at %s: a composite bucket has no key",
                                      ct_es_client_host(s->client));
                    break;
                }
                if ((rc = p->fn(p->ud, key, bucket, err)))
                    break;
            }
            if (rc)
                break;
            free(p->after);
            p->after = NULL;
            if (count < s->page_size || !cJSON_IsObject(after)) {
                p->done = true;
            } else if (!(p->after = cJSON_PrintUnformatted(after))) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            }
        }
        for (size_t j = 0; j < m; j++) {
            cJSON_Delete(outs[j]);
            outs[j] = NULL;
        }
    }
    ct_buf_release(&path);
    free(reqs);
    free(outs);
    free(which);
    return rc;
}

static void pagers_release(pager *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ps[i].after);
        ct_buf_release(&ps[i].body);
    }
}

/* ---- calls ---- */

/* Calls being summed over buckets (several batches may hold the same pair). */
typedef struct call_sum {
    ct_calls *out;
    size_t keep;
    ct_strmap *index; /* "source\tname\tkind" -> item index + 1 */
    ct_buf key;
} call_sum;

static const char *key_string(cJSON *key, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(key, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t day_of_metric(cJSON *bucket, const char *name, bool *ok)
{
    cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bucket, name), "value");
    if (!cJSON_IsNumber(v)) {
        *ok = false;
        return 0;
    }
    /* Dates come back as epoch milliseconds. */
    return (int64_t)floor(v->valuedouble / 86400000.0);
}

/* What one bucket of a calls aggregation (call_sources, call_metrics) says. */
typedef struct bucket_call {
    const char *src, *name;
    ct_event_kind kind;
    uint64_t ok, errors;
    int64_t first_day, last_day;
} bucket_call;

static int call_of_bucket(cJSON *key, cJSON *bucket, bucket_call *c, ct_error *err)
{
    c->src = key_string(key, "src");
    c->name = key_string(key, "name");
    /* eventType: a missing bucket (null) is an API call, as in the store. */
    c->kind = ct_event_kind_of(key_string(key, "type"));
    cJSON *docs = cJSON_GetObjectItemCaseSensitive(bucket, "doc_count");
    cJSON *errors = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(bucket, "errors"), "value");
    bool ok = c->src && c->name && cJSON_IsNumber(docs) && cJSON_IsNumber(errors);
    c->first_day = day_of_metric(bucket, "first", &ok);
    c->last_day = day_of_metric(bucket, "last", &ok);
    if (!ok)
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch: a calls bucket lacks its key, doc_count or metrics");
    uint64_t total = (uint64_t)docs->valuedouble, nerr = (uint64_t)errors->valuedouble;
    c->errors = nerr > total ? total : nerr;
    c->ok = total - c->errors;
    return 0;
}

static int on_call_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    call_sum *cs = ud;
    bucket_call b;
    int rc = call_of_bucket(key, bucket, &b, err);
    if (rc)
        return rc;
    ct_buf_reset(&cs->key);
    if (ct_buf_printf(&cs->key, "%s\t%s\t%d", b.src, b.name, (int)b.kind))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    void *v = NULL;
    if (ct_strmap_get(cs->index, cs->key.data, &v)) {
        ct_call *c = &cs->out->items[(size_t)(uintptr_t)v - 1];
        c->count += b.ok;
        c->error_count += b.errors;
        c->first_day = b.first_day < c->first_day ? b.first_day : c->first_day;
        c->last_day = b.last_day > c->last_day ? b.last_day : c->last_day;
        return 0;
    }
    if (ct_calls_add(cs->out, b.src, b.name, b.kind, b.ok, b.errors, b.first_day, b.last_day) ||
        ct_strmap_put(cs->index, cs->key.data, (void *)(uintptr_t)cs->out->count))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* Appends the composite sources of a calls aggregation (eventSource,
 * eventName, eventType) to a sources array being written. */
static int put_call_sources(es_source *s, ct_buf *b)
{
    if (put_composite_source(s, b, "src", F_SOURCE, false) || ct_buf_puts(b, ",") ||
        put_composite_source(s, b, "name", F_NAME, false) || ct_buf_puts(b, ",") ||
        put_composite_source(s, b, "type", F_EVENT_TYPE, true))
        return CT_ENOMEM;
    return 0;
}

/* The sub-aggregations of a calls bucket: first and last time, errors. */
static int put_call_metrics(es_source *s, ct_buf *b)
{
    if (ct_buf_puts(b, "{\"first\":{\"min\":{\"field\":") || ct_es_json_string(b, s->time_field) ||
        ct_buf_puts(b, "}},\"last\":{\"max\":{\"field\":") || ct_es_json_string(b, s->time_field) ||
        ct_buf_puts(b, "}},\"errors\":{\"value_count\":{\"field\":") ||
        ct_es_json_string(b, s->fields[F_ERROR]) || ct_buf_puts(b, "}}}"))
        return CT_ENOMEM;
    return 0;
}

/* Whether a record with this userIdentity type and ARN is a role session
 * (the store's rule; without a type, the ARN tells). */
static bool is_role_session(const char *arn, const char *type)
{
    return type ? strcmp(type, "AssumedRole") == 0 : (arn && strstr(arn, ":assumed-role/"));
}

/* Whom the store charges a record's call to: a role session's to its role
 * (sessionIssuer.arn), anything else's to userIdentity.arn. NULL: nobody. */
static const char *charged_to(const char *arn, const char *issuer, const char *type)
{
    return is_role_session(arn, type) && issuer ? issuer : arn;
}

/* Runs call aggregations over n queries (in parallel) and appends the summed
 * calls to out, sorted as the store sorts them. */
static int collect_calls(es_source *s, char **queries, size_t n, ct_calls *out, ct_error *err)
{
    ct_buf sources = CT_BUF_INIT, sub = CT_BUF_INIT;
    call_sum cs = {out, out->count, ct_strmap_new(), CT_BUF_INIT};
    pager *ps = calloc(n ? n : 1, sizeof(*ps));
    int rc = 0;
    if (!cs.index || !ps || ct_buf_puts(&sources, "[") || put_call_sources(s, &sources) ||
        ct_buf_puts(&sources, "]") || put_call_metrics(s, &sub))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        ps[i] = (pager){.query = queries[i],
                        .sources = sources.data,
                        .sub = sub.data,
                        .fn = on_call_bucket,
                        .ud = &cs};
    if (rc == 0)
        rc = run_pagers(s, ps, n, err);
    if (rc == 0)
        ct_calls_sort(out, cs.keep);
    if (rc)
        ct_calls_truncate(out, cs.keep);
    if (ps)
        pagers_release(ps, n);
    free(ps);
    ct_strmap_free(cs.index);
    ct_buf_release(&cs.key);
    ct_buf_release(&sources);
    ct_buf_release(&sub);
    return rc;
}

static int principal_calls(ct_source *src, const char *principal_arn, const ct_window *window,
                           ct_calls *out, ct_error *err)
{
    es_source *s = (es_source *)src;
    int rc = ensure_ready(s, err);
    if (rc)
        return rc;
    ct_buf q = CT_BUF_INIT;
    if (ct_buf_puts(&q, "{\"bool\":{\"filter\":[") || put_principal(s, &q, principal_arn) ||
        ct_buf_puts(&q, ",") || put_window(s, &q, window) || ct_buf_puts(&q, "]}}")) {
        ct_buf_release(&q);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    char *queries[1] = {q.data};
    rc = collect_calls(s, queries, 1, out, err);
    ct_buf_release(&q);
    return rc;
}

/* ---- role sessions ---- */

typedef struct key_list {
    char **items;
    size_t count, cap;
} key_list;

static int on_key_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    (void)bucket;
    key_list *k = ud;
    const char *v = key_string(key, "key");
    if (!v)
        return ct_error_set(err, CT_EPARTIAL, "elasticsearch: an access-key bucket has no key");
    if (!v[0])
        return 0;
    char **items = ct_array_grow(k->items, &k->cap, k->count, sizeof(*items), 64);
    if (!items)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    k->items = items;
    if (!(k->items[k->count] = ct_strdup(v)))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    k->count++;
    return 0;
}

/* The filter clauses (comma-separated) of the events that may have opened a
 * session of `role_arn` reaching into the window: AssumeRole,
 * AssumeRoleWithSAML or AssumeRoleWithWebIdentity for the role, from
 * CT_SESSION_REACH before the window to its end. The caller adds that they
 * have no errorCode (a must_not put_exists). */
static int put_opening_filters(es_source *s, ct_buf *b, const char *role_arn, const ct_window *w)
{
    static const char *const assume_names[] = {"AssumeRole", "AssumeRoleWithSAML",
                                               "AssumeRoleWithWebIdentity"};
    if (put_term(s, b, F_SOURCE, "sts.amazonaws.com") || ct_buf_puts(b, ",") ||
        put_terms(s, b, F_NAME, assume_names, 3) || ct_buf_puts(b, ",") ||
        put_term(s, b, F_ROLE_ARN, role_arn) || ct_buf_puts(b, ",") ||
        put_range(s, b, w->first_day * 86400 - CT_SESSION_REACH, (w->last_day + 1) * 86400))
        return CT_ENOMEM;
    return 0;
}

/* Two phases, whatever the number of sessions: the keys the caller's
 * AssumeRole calls issued for the role (one composite aggregation), then the
 * role's calls made with those keys (one aggregation per KEY_BATCH keys, all
 * batches in parallel). */
static int role_session_calls(ct_source *src, const char *caller_arn, const char *role_arn,
                              const ct_window *window, ct_calls *out, ct_error *err)
{
    es_source *s = (es_source *)src;
    int rc = ensure_ready(s, err);
    if (rc)
        return rc;
    ct_buf q = CT_BUF_INIT, sources = CT_BUF_INIT;
    key_list keys = {0};
    char **queries = NULL;
    size_t batches = 0;
    if (ct_buf_puts(&q, "{\"bool\":{\"filter\":[") ||
        put_opening_filters(s, &q, role_arn, window) || ct_buf_puts(&q, ",") ||
        put_principal(s, &q, caller_arn) || ct_buf_puts(&q, "],\"must_not\":[") ||
        put_exists(s, &q, F_ERROR) || ct_buf_puts(&q, "]}}") || ct_buf_puts(&sources, "[") ||
        put_composite_source(s, &sources, "key", F_ISSUED, false) || ct_buf_puts(&sources, "]")) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    pager phase_a = {q.data, sources.data, NULL, on_key_bucket, &keys, NULL, false, CT_BUF_INIT};
    rc = run_pagers(s, &phase_a, 1, err);
    pagers_release(&phase_a, 1);
    if (rc || keys.count == 0)
        goto done;
    batches = (keys.count + KEY_BATCH - 1) / KEY_BATCH;
    if (!(queries = calloc(batches, sizeof(*queries)))) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < batches; i++) {
        size_t from = i * KEY_BATCH,
               n = keys.count - from < KEY_BATCH ? keys.count - from : KEY_BATCH;
        ct_buf b = CT_BUF_INIT;
        if (ct_buf_puts(&b, "{\"bool\":{\"filter\":[") ||
            put_terms(s, &b, F_KEY, (const char *const *)keys.items + from, n) ||
            ct_buf_puts(&b, ",") || put_term(s, &b, F_ISSUER, role_arn) || ct_buf_puts(&b, ",") ||
            put_term(s, &b, F_TYPE, "AssumedRole") || ct_buf_puts(&b, ",") ||
            put_window(s, &b, window) || ct_buf_puts(&b, "]}}") ||
            !(queries[i] = ct_buf_detach(&b))) {
            ct_buf_release(&b);
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
    }
    rc = collect_calls(s, queries, batches, out, err);
done:
    for (size_t i = 0; queries && i < batches; i++)
        free(queries[i]);
    free(queries);
    for (size_t i = 0; i < keys.count; i++)
        free(keys.items[i]);
    free(keys.items);
    ct_buf_release(&q);
    ct_buf_release(&sources);
    return rc;
}

/* ---- activity and coverage ---- */

typedef struct activity {
    ct_strmap *wanted; /* arn -> index + 1 */
    bool *active;
} activity;

static int on_activity_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    (void)bucket;
    (void)err;
    activity *a = ud;
    const char *who =
        charged_to(key_string(key, "arn"), key_string(key, "issuer"), key_string(key, "type"));
    void *v;
    if (who && ct_strmap_get(a->wanted, who, &v))
        a->active[(size_t)(uintptr_t)v - 1] = true;
    return 0;
}

/* One composite aggregation over (arn, issuer, type) of the calls that may
 * belong to any of the principals, sorted out here by the store's rule. */
static int active_principals(ct_source *src, const char *const *arns, size_t n,
                             const ct_window *window, bool *active, ct_error *err)
{
    es_source *s = (es_source *)src;
    for (size_t i = 0; i < n; i++)
        active[i] = false;
    if (n == 0)
        return 0;
    int rc = ensure_ready(s, err);
    if (rc)
        return rc;
    activity a = {ct_strmap_new(), active};
    ct_buf q = CT_BUF_INIT, sources = CT_BUF_INIT;
    if (!a.wanted)
        rc = CT_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = ct_strmap_put(a.wanted, arns[i], (void *)(uintptr_t)(i + 1));
    if (rc || ct_buf_puts(&q, "{\"bool\":{\"filter\":[") || put_window(s, &q, window) ||
        ct_buf_puts(&q, ",{\"bool\":{\"minimum_should_match\":1,\"should\":[") ||
        put_terms(s, &q, F_ARN, arns, n) || ct_buf_puts(&q, ",") ||
        put_terms(s, &q, F_ISSUER, arns, n) || ct_buf_puts(&q, "]}}]}}") ||
        ct_buf_puts(&sources, "[") || put_composite_source(s, &sources, "arn", F_ARN, true) ||
        ct_buf_puts(&sources, ",") || put_composite_source(s, &sources, "issuer", F_ISSUER, true) ||
        ct_buf_puts(&sources, ",") || put_composite_source(s, &sources, "type", F_TYPE, true) ||
        ct_buf_puts(&sources, "]")) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    } else {
        pager p = {q.data, sources.data, NULL, on_activity_bucket, &a, NULL, false, CT_BUF_INIT};
        rc = run_pagers(s, &p, 1, err);
        pagers_release(&p, 1);
    }
    if (rc)
        for (size_t i = 0; i < n; i++)
            active[i] = false;
    ct_strmap_free(a.wanted);
    ct_buf_release(&q);
    ct_buf_release(&sources);
    return rc;
}

/* ---- bulk questions ---- */

/* Whether the account field of `arn` (arn:PARTITION:SERVICE:REGION:ACCOUNT:
 * resource) is `account_id`: the store's rule (ct_arn_account), where only
 * the first five colons delimit fields, since an IAM path may hold more. */
static bool arn_in_account(const char *arn, const char *account_id)
{
    if (strncmp(arn, "arn:", 4) != 0)
        return false;
    const char *p = arn + 4;
    for (int i = 0; i < 3; i++) { /* partition, service, region */
        if (!(p = strchr(p, ':')))
            return false;
        p++;
    }
    size_t n = strlen(account_id);
    return strncmp(p, account_id, n) == 0 && strchr(p, ':') == p + n;
}

/* {"regexp":{F:"arn:[^:]*:[^:]*:[^:]*:ACCOUNT:.*"}}: the values
 * arn_in_account accepts, in the Lucene syntax of ES 6.x-8.x and OpenSearch
 * (anchored at both ends). ASCII other than letters and digits is escaped,
 * so an odd account id cannot add an operator. */
static int put_account_regexp(es_source *s, ct_buf *b, enum field f, const char *account_id)
{
    ct_buf rx = CT_BUF_INIT;
    int rc = ct_buf_puts(&rx, "arn:[^:]*:[^:]*:[^:]*:");
    for (const char *c = account_id; rc == 0 && *c; c++) {
        unsigned char u = (unsigned char)*c;
        bool plain =
            u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
        rc = (!plain && ct_buf_puts(&rx, "\\")) || ct_buf_append(&rx, c, 1) ? CT_ENOMEM : 0;
    }
    if (rc || ct_buf_puts(&rx, ":.*") || ct_buf_puts(b, "{\"regexp\":{") ||
        ct_es_json_string(b, s->fields[f]) || ct_buf_puts(b, ":") ||
        ct_es_json_string(b, rx.data) || ct_buf_puts(b, "}}"))
        rc = CT_ENOMEM;
    ct_buf_release(&rx);
    return rc;
}

typedef struct account_sum {
    const char *account_id;
    ct_account_calls *out;
} account_sum;

/* A calls bucket keyed also by (arn, issuer, itype): the calls are the
 * account's when whom they are charged to is. */
static int on_account_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    account_sum *a = ud;
    bucket_call c;
    int rc = call_of_bucket(key, bucket, &c, err);
    if (rc)
        return rc;
    const char *who =
        charged_to(key_string(key, "arn"), key_string(key, "issuer"), key_string(key, "itype"));
    if (!who || !arn_in_account(who, a->account_id))
        return 0;
    if (ct_account_calls_add(a->out, who, c.src, c.name, c.kind, c.ok, c.errors, c.first_day,
                             c.last_day))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* Two calls aggregations in flight together, sorted out in C by the store's
 * rule (charged_to, arn_in_account); regexps on the ARN fields keep other
 * accounts' calls on the server. Role sessions (the bulk of most accounts)
 * are keyed by their role only, not by each session's ARN; the rest by
 * (arn, issuer, itype), which also covers a session whose record has no
 * userIdentity.type. */
static int account_calls(ct_source *src, const char *account_id, const ct_window *window,
                         ct_account_calls *out, ct_error *err)
{
    es_source *s = (es_source *)src;
    int rc = ensure_ready(s, err);
    if (rc)
        return rc;
    account_sum sum = {account_id, out};
    ct_buf q_roles = CT_BUF_INIT, q_rest = CT_BUF_INIT, src_roles = CT_BUF_INIT,
           src_rest = CT_BUF_INIT, sub = CT_BUF_INIT;
    if (ct_buf_puts(&q_roles, "{\"bool\":{\"filter\":[") || put_window(s, &q_roles, window) ||
        ct_buf_puts(&q_roles, ",") || put_term(s, &q_roles, F_TYPE, "AssumedRole") ||
        ct_buf_puts(&q_roles, ",") || put_account_regexp(s, &q_roles, F_ISSUER, account_id) ||
        ct_buf_puts(&q_roles, "]}}") || ct_buf_puts(&q_rest, "{\"bool\":{\"filter\":[") ||
        put_window(s, &q_rest, window) ||
        ct_buf_puts(&q_rest, ",{\"bool\":{\"minimum_should_match\":1,\"should\":[") ||
        put_account_regexp(s, &q_rest, F_ARN, account_id) || ct_buf_puts(&q_rest, ",") ||
        put_account_regexp(s, &q_rest, F_ISSUER, account_id) ||
        ct_buf_puts(&q_rest, "]}}],\"must_not\":[{\"bool\":{\"filter\":[") ||
        put_term(s, &q_rest, F_TYPE, "AssumedRole") || ct_buf_puts(&q_rest, ",") ||
        put_exists(s, &q_rest, F_ISSUER) || ct_buf_puts(&q_rest, "]}}]}}") ||
        ct_buf_puts(&src_roles, "[") ||
        put_composite_source(s, &src_roles, "issuer", F_ISSUER, false) ||
        ct_buf_puts(&src_roles, ",") ||
        put_composite_source(s, &src_roles, "itype", F_TYPE, false) ||
        ct_buf_puts(&src_roles, ",") || put_call_sources(s, &src_roles) ||
        ct_buf_puts(&src_roles, "]") || ct_buf_puts(&src_rest, "[") ||
        put_composite_source(s, &src_rest, "arn", F_ARN, true) || ct_buf_puts(&src_rest, ",") ||
        put_composite_source(s, &src_rest, "issuer", F_ISSUER, true) ||
        ct_buf_puts(&src_rest, ",") || put_composite_source(s, &src_rest, "itype", F_TYPE, true) ||
        ct_buf_puts(&src_rest, ",") || put_call_sources(s, &src_rest) ||
        ct_buf_puts(&src_rest, "]") || put_call_metrics(s, &sub)) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    } else {
        pager ps[2] = {
            {q_roles.data, src_roles.data, sub.data, on_account_bucket, &sum, NULL, false,
             CT_BUF_INIT},
            {q_rest.data, src_rest.data, sub.data, on_account_bucket, &sum, NULL, false,
             CT_BUF_INIT},
        };
        rc = run_pagers(s, ps, 2, err);
        pagers_release(ps, 2);
    }
    if (rc == 0)
        ct_account_calls_finish(out);
    else
        ct_account_calls_release(out);
    ct_buf_release(&q_roles);
    ct_buf_release(&q_rest);
    ct_buf_release(&src_roles);
    ct_buf_release(&src_rest);
    ct_buf_release(&sub);
    return rc;
}

/* readOnly as a composite key: true/false (booleans), 1/0 or "true"/"false"
 * (engines and schemas differ), null when the record has none. */
static int read_only_of(cJSON *v)
{
    if (cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble == 1) ||
        (cJSON_IsString(v) && strcmp(v->valuestring, "true") == 0))
        return 1;
    if (cJSON_IsFalse(v) || (cJSON_IsNumber(v) && v->valuedouble == 0) ||
        (cJSON_IsString(v) && strcmp(v->valuestring, "false") == 0))
        return 0;
    return -1;
}

static int on_data_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    ct_data_events *out = ud;
    const char *src = key_string(key, "src"), *name = key_string(key, "name");
    cJSON *docs = cJSON_GetObjectItemCaseSensitive(bucket, "doc_count");
    bool ok = src && name && cJSON_IsNumber(docs);
    int64_t first = day_of_metric(bucket, "first", &ok), last = day_of_metric(bucket, "last", &ok);
    if (!ok)
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch: a data-events bucket lacks its key, doc_count or "
                            "metrics");
    int read_only = read_only_of(cJSON_GetObjectItemCaseSensitive(key, "ro"));
    if (ct_data_events_add(out, src, name, read_only, (uint64_t)docs->valuedouble, first, last))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* One composite aggregation over (eventSource, eventName, readOnly) of the
 * account's data events, by the rule of ct_is_data_event: eventCategory
 * Data, or no eventCategory and managementEvent false. */
static int data_events(ct_source *src, const char *account_id, const ct_window *window,
                       ct_data_events *out, ct_error *err)
{
    es_source *s = (es_source *)src;
    int rc = ensure_ready(s, err);
    if (rc)
        return rc;
    ct_buf q = CT_BUF_INIT, sources = CT_BUF_INIT, sub = CT_BUF_INIT;
    if (ct_buf_puts(&q, "{\"bool\":{\"filter\":[") || put_term(s, &q, F_ACCOUNT, account_id) ||
        ct_buf_puts(&q, ",") || put_window(s, &q, window) ||
        ct_buf_puts(&q, ",{\"bool\":{\"minimum_should_match\":1,\"should\":[") ||
        put_term(s, &q, F_CATEGORY, "Data") || ct_buf_puts(&q, ",{\"bool\":{\"must_not\":[") ||
        put_exists(s, &q, F_CATEGORY) || ct_buf_puts(&q, "],\"filter\":[") ||
        /* "false" as a string matches a boolean field and a keyword one. */
        put_term(s, &q, F_MANAGEMENT, "false") || ct_buf_puts(&q, "]}}]}}]}}") ||
        ct_buf_puts(&sources, "[") || put_composite_source(s, &sources, "src", F_SOURCE, false) ||
        ct_buf_puts(&sources, ",") || put_composite_source(s, &sources, "name", F_NAME, false) ||
        ct_buf_puts(&sources, ",") || put_composite_source(s, &sources, "ro", F_READ_ONLY, true) ||
        ct_buf_puts(&sources, "]") || ct_buf_puts(&sub, "{\"first\":{\"min\":{\"field\":") ||
        ct_es_json_string(&sub, s->time_field) ||
        ct_buf_puts(&sub, "}},\"last\":{\"max\":{\"field\":") ||
        ct_es_json_string(&sub, s->time_field) || ct_buf_puts(&sub, "}}}")) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    } else {
        pager p = {q.data, sources.data, sub.data, on_data_bucket, out, NULL, false, CT_BUF_INIT};
        rc = run_pagers(s, &p, 1, err);
        pagers_release(&p, 1);
    }
    if (rc == 0)
        ct_data_events_sort(out);
    else
        ct_data_events_release(out);
    ct_buf_release(&q);
    ct_buf_release(&sources);
    ct_buf_release(&sub);
    return rc;
}

static int account_event_count(ct_source *src, const char *account_id, const ct_window *window,
                               uint64_t *count, ct_error *err)
{
    es_source *s = (es_source *)src;
    *count = 0;
    int rc = ensure_ready(s, err);
    if (rc)
        return rc;
    ct_buf path = CT_BUF_INIT, body = CT_BUF_INIT;
    if (ct_buf_printf(&path, "/%s/_count", s->cfg->index) ||
        ct_buf_puts(&body, "{\"query\":{\"bool\":{\"filter\":[") ||
        put_term(s, &body, F_ACCOUNT, account_id) || ct_buf_puts(&body, ",") ||
        put_window(s, &body, window) || ct_buf_puts(&body, "]}}}")) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    } else {
        ct_es_request req = {"POST", path.data, NULL, body.data, body.len, NULL, false};
        cJSON *root = NULL;
        rc = ct_es_request_json(s->client, &req, &root, err);
        cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "count");
        if (rc == 0 && !cJSON_IsNumber(c))
            rc = ct_error_set(err, CT_EPARTIAL, "elasticsearch at %s: _count answered no count",
                              ct_es_client_host(s->client));
        else if (rc == 0)
            *count = (uint64_t)c->valuedouble;
        cJSON_Delete(root);
    }
    ct_buf_release(&path);
    ct_buf_release(&body);
    return rc;
}

/* Elasticsearch is kept up to date by whoever indexes into it. */
static int refresh(ct_source *src, ct_input_problems *problems, ct_error *err)
{
    (void)src;
    (void)problems;
    (void)err;
    return 0;
}

/* Rejected records are the loader's business (issue 4): none known here. */
static int input_problems(ct_source *src, ct_input_problems *problems, ct_error *err)
{
    (void)src;
    (void)problems;
    (void)err;
    return 0;
}

static void source_free(ct_source *src)
{
    es_source *s = (es_source *)src;
    ct_es_client_free(s->client);
    for (int f = 0; f < F_COUNT; f++)
        free(s->fields[f]);
    free(s->time_field);
    free(s);
}

int ct_es_source(ct_source **out, const ct_es_config *cfg, ct_error *err)
{
    *out = NULL;
    es_source *s = calloc(1, sizeof(*s));
    if (!s)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    s->cfg = cfg;
    s->page_size = PAGE_SIZE;
    s->base.name = "elasticsearch";
    s->base.refresh = refresh;
    s->base.principal_calls = principal_calls;
    s->base.role_session_calls = role_session_calls;
    s->base.active_principals = active_principals;
    s->base.data_events = data_events;
    s->base.account_event_count = account_event_count;
    s->base.account_calls = account_calls;
    s->base.input_problems = input_problems;
    s->base.free = source_free;
    int rc = ct_es_client_new(&s->client, cfg, err);
    if (rc) {
        free(s);
        return rc;
    }
    *out = &s->base;
    return 0;
}
