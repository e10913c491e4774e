/* The Elasticsearch/OpenSearch event source. Every answer is an aggregation:
 * composite aggregations paged with after_key (exact and complete, unlike
 * terms), with min/max of the timestamp and a value_count of errorCode per
 * (eventSource, eventName, eventType) bucket, so one request (plus pages) answers what
 * the store answers with one SQL statement. */
#include "cloudtracker/es.h"

#include "cloudtracker/util.h"
#include "es/es_doc.h"
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
/* Most awsRegion values the coverage question takes (AWS has a few dozen
 * Regions): more fails the question rather than leave some out. What a
 * search expects of them when it leaves room for buckets in its page: more
 * than the cluster's search.max_buckets allows makes the pages shrink. */
#define REGION_BUCKETS 1000
#define REGIONS_EXPECTED 64

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
    F_REGION,     /* awsRegion */
    F_RESOURCES,  /* cloudtrackerResources: derived by our loader (es_doc.h) */
    /* Who is behind a role session (the sessions question): */
    F_USER_NAME,        /* userIdentity.userName */
    F_PROVIDER,         /* userIdentity.identityProvider */
    F_SOURCE_IDENTITY,  /* userIdentity.sessionContext.sourceIdentity */
    F_ON_BEHALF_OF,     /* userIdentity.onBehalfOf.userId */
    F_IDENTITY_STORE,   /* userIdentity.onBehalfOf.identityStoreArn */
    F_REQ_SOURCE_ID,    /* requestParameters.sourceIdentity */
    F_RESP_SOURCE_ID,   /* responseElements.sourceIdentity */
    F_RESP_SUBJECT,     /* responseElements.subject (AssumeRoleWithSAML) */
    F_RESP_WEB_SUBJECT, /* responseElements.subjectFromWebIdentityToken */
    F_RESP_ISSUER,      /* responseElements.issuer (AssumeRoleWithSAML) */
    F_RESP_PROVIDER,    /* responseElements.provider (AssumeRoleWithWebIdentity) */
    F_COUNT
};
/* The fields above that only the sessions question reads: an index whose
 * explicit mapping lacks one of them cannot answer it (old_mapping). */
#define F_ATTRIBUTION_FIRST F_USER_NAME

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
    "awsRegion",
    CT_ES_RESOURCES_KEY,
    "userIdentity.userName",
    "userIdentity.identityProvider",
    "userIdentity.sessionContext.sourceIdentity",
    "userIdentity.onBehalfOf.userId",
    "userIdentity.onBehalfOf.identityStoreArn",
    "requestParameters.sourceIdentity",
    "responseElements.sourceIdentity",
    "responseElements.subject",
    "responseElements.subjectFromWebIdentityToken",
    "responseElements.issuer",
    "responseElements.provider",
};

/* Fields dynamic mapping makes booleans (JSON true/false), which have no
 * .keyword sub-field. */
static const bool BOOLEAN_FIELD[F_COUNT] = {[F_READ_ONLY] = true, [F_MANAGEMENT] = true};

/* Elastic's AWS integration (elastic/integrations, ingest pipeline
 * packages/aws/data_stream/cloudtrail/elasticsearch/ingest_pipeline/default.yml,
 * as of commit bf3be6b): it renames json.eventID to event.id and
 * json.sharedEventId to aws.cloudtrail.shared_event_id (sic: CloudTrail
 * writes sharedEventID, so its documents may lack it, and the answer then has
 * ""), and keeps requestParameters and responseElements whole under
 * aws.cloudtrail.flattened (when their text is under 32,766 characters).
 * It copies awsRegion to cloud.region (leaving out an empty one, which
 * then reads as none, as in the store).
 * It renames userIdentity.userName to user.name, then
 * sessionContext.sessionIssuer.userName to user.name when that is still
 * free: a record with a session issuer has the role's name there (see
 * on_opening_bucket). It keeps no copy of userIdentity.identityProvider
 * (only in the list related.entity), sessionContext.sourceIdentity or
 * onBehalfOf (the "json" object holding them is removed at its end): NULL
 * here, those are "" in answers from ECS indices. */
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
    "cloud.region",
    NULL, /* F_RESOURCES: Elastic's pipeline derives no such field */
    "user.name",
    NULL,
    NULL,
    NULL,
    NULL,
    "aws.cloudtrail.flattened.request_parameters.sourceIdentity",
    "aws.cloudtrail.flattened.response_elements.sourceIdentity",
    "aws.cloudtrail.flattened.response_elements.subject",
    "aws.cloudtrail.flattened.response_elements.subjectFromWebIdentityToken",
    "aws.cloudtrail.flattened.response_elements.issuer",
    "aws.cloudtrail.flattened.response_elements.provider",
};

typedef struct es_source {
    ct_source base;
    const ct_es_config *cfg;
    ct_es_client *client;
    bool detected;
    bool total_hits_flag; /* the engine takes track_total_hits (not ES 6) */
    /* How a date_histogram names its interval: "interval" before ES 7.2,
     * "fixed_interval" from then on and in OpenSearch (ES 8 refuses
     * "interval"). */
    const char *interval_param;
    ct_es_schema schema;
    int page_size;
    char *fields[F_COUNT]; /* NULL: the schema keeps no such field */
    char *time_field;
    bool mappings_read; /* the attribution fields' mappings were looked at */
    char *old_indices;  /* indices that cannot answer `sessions` ("a, b and 3 more") */
    char *old_missing;  /* the attribution fields the first of them lacks */
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
        s->interval_param = "fixed_interval";
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
    s->interval_param =
        opensearch || major > 7 || (major == 7 && minor >= 2) ? "fixed_interval" : "interval";
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

#define MISSING_FIELDS_NAMED 3

/* Appends the names of the fields index mapping `fields` lacks among those
 * only the sessions question reads ("a, b, c and 6 more", prefixed). */
static int put_missing_attribution(ct_buf *out, cJSON *fields, const char *prefix)
{
    ct_buf full = CT_BUF_INIT;
    int rc = 0, missing = 0;
    for (int f = F_ATTRIBUTION_FIRST; rc == 0 && f < F_COUNT; f++) {
        ct_buf_reset(&full);
        if (ct_buf_printf(&full, "%s%s", prefix, CLOUDTRAIL_NAMES[f]))
            rc = CT_ENOMEM;
        else if (!cJSON_GetObjectItemCaseSensitive(fields, full.data) &&
                 missing++ < MISSING_FIELDS_NAMED &&
                 ((out->len && ct_buf_puts(out, ", ")) || ct_buf_puts(out, full.data)))
            rc = CT_ENOMEM;
    }
    if (rc == 0 && missing > MISSING_FIELDS_NAMED &&
        ct_buf_printf(out, " and %d more", missing - MISSING_FIELDS_NAMED))
        rc = CT_ENOMEM;
    ct_buf_release(&full);
    return rc;
}

/* The indices whose explicit mapping (the keyword schema) lacks fields the
 * sessions question reads, gathered while reading the field mappings: an
 * older cloudtracker mapping (mapping_version 1) or template. Under dynamic
 * mapping a field only shows once a document had it, so there no field
 * means no value. */
typedef struct old_mapping {
    ct_buf indices, missing;
    size_t count;
} old_mapping;

#define OLD_INDICES_NAMED 5

static int note_old_mapping(old_mapping *o, const char *index, cJSON *fields, const char *prefix)
{
    ct_buf missing = CT_BUF_INIT;
    int rc = put_missing_attribution(&missing, fields, prefix);
    if (rc == 0 && missing.len) {
        if (o->count == 0) {
            ct_buf_release(&o->missing);
            o->missing = missing;
            missing = (ct_buf)CT_BUF_INIT;
        }
        if (o->count < OLD_INDICES_NAMED &&
            ((o->count && ct_buf_puts(&o->indices, ", ")) || ct_buf_puts(&o->indices, index)))
            rc = CT_ENOMEM;
        o->count++;
    }
    ct_buf_release(&missing);
    return rc;
}

/* One _mapping/field request tells which schema the indices use (when
 * `detected` is not NULL) and which indices of the keyword schema lack the
 * fields the sessions question reads (s->old_indices). */
static int read_mappings(es_source *s, ct_es_schema *detected, ct_error *err)
{
    const ct_es_config *cfg = s->cfg;
    const char *prefix = cfg->key_prefix ? cfg->key_prefix : "";
    ct_buf path = CT_BUF_INIT, name = CT_BUF_INIT, kw = CT_BUF_INIT;
    old_mapping old = {CT_BUF_INIT, CT_BUF_INIT, 0};
    int rc = 0;
    if (ct_buf_printf(&name, "%seventName", prefix) ||
        ct_buf_printf(&kw, "%seventName.keyword", prefix) ||
        ct_buf_printf(&path, "/%s/_mapping/field/%s,%s,%s", cfg->index, name.data, kw.data,
                      ECS_NAMES[F_NAME]))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    for (int f = F_ATTRIBUTION_FIRST; rc == 0 && f < F_COUNT; f++)
        if (ct_buf_printf(&path, ",%s%s", prefix, CLOUDTRAIL_NAMES[f]))
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
        if (t_kw && strcmp(t_kw, "keyword") == 0) {
            seen[CT_ES_SCHEMA_DYNAMIC]++;
        } else if (t_name && strcmp(t_name, "keyword") == 0) {
            seen[CT_ES_SCHEMA_KEYWORD]++;
            if (note_old_mapping(&old, index->string, fields, prefix)) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                break;
            }
        } else if (t_ecs) {
            seen[CT_ES_SCHEMA_ECS]++;
        } else if (t_name && !text_index) {
            text_index = index->string;
        }
    }
    int kinds =
        !!seen[CT_ES_SCHEMA_DYNAMIC] + !!seen[CT_ES_SCHEMA_KEYWORD] + !!seen[CT_ES_SCHEMA_ECS];
    if (rc == 0 && detected && kinds > 1)
        rc = ct_error_set(err, CT_ECONFIG,
                          "elasticsearch at %s: the indices of '%s' map CloudTrail fields in "
                          "different ways; narrow elasticsearch.index or set elasticsearch.schema",
                          ct_es_client_host(s->client), cfg->index);
    else if (rc == 0 && detected && kinds == 0 && text_index)
        rc = ct_error_set(err, CT_ECONFIG,
                          "elasticsearch at %s: index %s maps %s as text without a keyword "
                          "sub-field, which cannot be aggregated",
                          ct_es_client_host(s->client), text_index, name.data);
    if (rc == 0 && detected)
        /* No index yet (a pattern matching nothing): any schema answers
         * "no events"; keyword is the recommended template. */
        *detected = seen[CT_ES_SCHEMA_DYNAMIC] ? CT_ES_SCHEMA_DYNAMIC
                    : seen[CT_ES_SCHEMA_ECS]   ? CT_ES_SCHEMA_ECS
                                               : CT_ES_SCHEMA_KEYWORD;
    if (rc == 0 && old.count > OLD_INDICES_NAMED &&
        ct_buf_printf(&old.indices, " and %zu more", old.count - OLD_INDICES_NAMED))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    if (rc == 0 && old.count &&
        (!(s->old_indices = ct_buf_detach(&old.indices)) ||
         !(s->old_missing = ct_buf_detach(&old.missing))))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    if (rc == 0)
        s->mappings_read = true;
    cJSON_Delete(root);
    ct_buf_release(&path);
    ct_buf_release(&name);
    ct_buf_release(&kw);
    ct_buf_release(&old.indices);
    ct_buf_release(&old.missing);
    return rc;
}

static int set_fields(es_source *s, ct_error *err)
{
    const ct_es_config *cfg = s->cfg;
    const char *prefix = cfg->key_prefix ? cfg->key_prefix : "";
    for (int f = 0; f < F_COUNT; f++) {
        if (s->schema == CT_ES_SCHEMA_ECS && !ECS_NAMES[f])
            continue;
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
        rc = read_mappings(s, &s->schema, err);
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

/* One source of a composite aggregation: its name in bucket keys, its
 * field, and whether documents without the field get a (null) bucket. */
typedef struct source_spec {
    const char *name;
    enum field f;
    bool missing;
} source_spec;

/* Appends the sources of n specs, comma-separated, to a sources array
 * being written, leaving out the fields the schema does not keep (their key
 * is then absent, read as ""). The first spec's field must be kept. */
static int put_sources(es_source *s, ct_buf *b, const source_spec *specs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!s->fields[specs[i].f])
            continue;
        if ((i && ct_buf_puts(b, ",")) ||
            put_composite_source(s, b, specs[i].name, specs[i].f, specs[i].missing))
            return CT_ENOMEM;
    }
    return 0;
}

/* ---- composite paging ---- */

typedef int (*bucket_fn)(void *ud, cJSON *key, cJSON *bucket, ct_error *err);
/* Gets the "aggregations" object of an answer (NULL: the search matched no
 * index, so there is nothing). */
typedef int (*answer_fn)(void *ud, cJSON *aggregations, ct_error *err);

/* One composite aggregation to page through: `query` is the query clause,
 * `sources` the sources array, `sub` the sub-aggregations (or NULL); `fn`
 * gets each bucket with `ud`. */
typedef struct pager {
    const char *query;
    const char *sources;
    const char *sub;
    /* Buckets one of its composite buckets may bring, those of `sub`
     * included (0 counts as 1): the page size is shared out by these. */
    int weight;
    bucket_fn fn;
    void *ud;
    /* Asked in the same search as the pager before it, whose query it
     * shares: a search may hold several composite aggregations, each paged
     * with its own after key (one cannot sit under a filter aggregation, so
     * they cannot have queries of their own). */
    bool with_previous;
    /* Other aggregations (members of an "aggs" object) asked once, with the
     * pager's first page (a first pager of a search only): they may return
     * up to `once_buckets` buckets, for which that page leaves room.
     * `once_fn` gets that answer's aggregations with `once_ud`. */
    const char *once;
    int once_buckets;
    answer_fn once_fn;
    void *once_ud;
    bool once_taken;
    char *after; /* JSON of the last after_key; NULL on the first page */
    bool done;
    int size;     /* its page size in this round's search; 0: not asked */
    char name[8]; /* its aggregation's name in the search: "c", "c1", ... */
    ct_buf body;  /* the search's body, in the first pager of a search */
} pager;

/* Writes the body of the search of pagers ps[0..n) (ps[1..n) being
 * with_previous), asking each one not done for its next page, and ps[0]'s
 * `once` aggregations if not taken yet; the page size is shared among
 * them, so that a search never asks for more buckets than the page size
 * (search.max_buckets counts those of the whole answer). *asked is false
 * when every one is done. */
static int build_body(es_source *s, pager *ps, size_t n, bool *asked)
{
    int active = 0, weights = 0;
    for (size_t i = 0; i < n; i++) {
        active += !ps[i].done;
        weights += ps[i].done ? 0 : ps[i].weight > 0 ? ps[i].weight : 1;
    }
    bool once = ps[0].once && !ps[0].once_taken;
    *asked = active > 0 || once;
    if (!*asked)
        return 0;
    int room = s->page_size - (once ? ps[0].once_buckets : 0);
    int size = weights && room / weights > 0 ? room / weights : 1;
    ct_buf *b = &ps[0].body;
    ct_buf_reset(b);
    if (ct_buf_printf(b, "{\"size\":0,%s\"query\":%s,\"aggs\":{",
                      s->total_hits_flag ? "\"track_total_hits\":false," : "", ps[0].query))
        return CT_ENOMEM;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        pager *p = &ps[i];
        p->size = p->done ? 0 : size;
        if (p->done)
            continue;
        if (ct_buf_printf(b, "%s\"%s\":{\"composite\":{\"size\":%d,\"sources\":%s",
                          first ? "" : ",", p->name, size, p->sources) ||
            (p->after && ct_buf_printf(b, ",\"after\":%s", p->after)) || ct_buf_puts(b, "}") ||
            (p->sub && ct_buf_printf(b, ",\"aggs\":%s", p->sub)) || ct_buf_puts(b, "}"))
            return CT_ENOMEM;
        first = false;
    }
    if (once && ct_buf_printf(b, "%s%s", first ? "" : ",", ps[0].once))
        return CT_ENOMEM;
    return ct_buf_puts(b, "}}") ? CT_ENOMEM : 0;
}

/* Hands the buckets of pager p's aggregation in answer `out` to its fn and
 * moves it to its next page, or marks it done. */
static int take_page(es_source *s, pager *p, cJSON *out, ct_error *err)
{
    cJSON *agg = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(out, "aggregations"), p->name);
    cJSON *buckets = cJSON_GetObjectItemCaseSensitive(agg, "buckets");
    cJSON *after = cJSON_GetObjectItemCaseSensitive(agg, "after_key");
    if (!cJSON_IsArray(buckets))
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch at %s: the search answered without its "
                            "composite buckets",
                            ct_es_client_host(s->client));
    int count = 0, rc = 0;
    cJSON *bucket;
    cJSON_ArrayForEach(bucket, buckets)
    {
        count++;
        cJSON *key = cJSON_GetObjectItemCaseSensitive(bucket, "key");
        if (!cJSON_IsObject(key))
            return ct_error_set(err, CT_EPARTIAL,
                                "elasticsearch at %s: a composite bucket has no key",
                                ct_es_client_host(s->client));
        if ((rc = p->fn(p->ud, key, bucket, err)))
            return rc;
    }
    free(p->after);
    p->after = NULL;
    if (count < p->size || !cJSON_IsObject(after))
        p->done = true;
    else if (!(p->after = cJSON_PrintUnformatted(after)))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* The end of the search that starts at ps[i]: the first pager after it not
 * asked with_previous. */
static size_t search_end(const pager *ps, size_t n, size_t i)
{
    while (++i < n && ps[i].with_previous)
        ;
    return i;
}

/* Pages through n composite aggregations, all in flight at once (curl
 * multi; with_previous ones in one search), calling each pager's fn for
 * every bucket of its aggregation. A page shorter than the page size is
 * the last one, which saves the empty page a naive loop would fetch. */
static int run_pagers(es_source *s, pager *ps, size_t n, ct_error *err)
{
    ct_buf path = CT_BUF_INIT;
    ct_es_request *reqs = calloc(n ? n : 1, sizeof(*reqs));
    cJSON **outs = calloc(n ? n : 1, sizeof(*outs));
    size_t *which = calloc(n ? n : 1, sizeof(*which));
    int rc = 0;
    if (!reqs || !outs || !which || ct_buf_printf(&path, "/%s/_search", s->cfg->index))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0, k = 0; i < n; i++) {
        k = i && ps[i].with_previous ? k + 1 : 0;
        snprintf(ps[i].name, sizeof(ps[i].name), k ? "c%zu" : "c", k);
    }
    while (rc == 0) {
        size_t m = 0;
        for (size_t i = 0; rc == 0 && i < n; i = search_end(ps, n, i)) {
            bool asked = false;
            if (build_body(s, ps + i, search_end(ps, n, i) - i, &asked)) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                break;
            }
            if (!asked)
                continue;
            reqs[m] = (ct_es_request){.method = "POST",
                                      .path = path.data,
                                      .body = ps[i].body.data,
                                      .body_len = ps[i].body.len};
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
            size_t end = search_end(ps, n, which[j]);
            /* A search over no index at all answers without aggregations,
             * and says it searched no shard. Any other answer without them
             * (a proxy's "{}", a filtered body) would read as "no calls"
             * and turn every grant into a "-": it is refused (take_page). */
            cJSON *total = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(outs[j], "_shards"), "total");
            cJSON *aggs = cJSON_GetObjectItemCaseSensitive(outs[j], "aggregations");
            bool no_index = !aggs && cJSON_IsNumber(total) && total->valuedouble == 0;
            pager *head = &ps[which[j]];
            if (head->once && !head->once_taken) {
                head->once_taken = true;
                rc = aggs || no_index
                         ? head->once_fn(head->once_ud, aggs, err)
                         : ct_error_set(err, CT_EPARTIAL,
                                        "elasticsearch at %s: the search answered without its "
                                        "aggregations",
                                        ct_es_client_host(s->client));
            }
            for (size_t i = which[j]; rc == 0 && i < end; i++) {
                if (ps[i].size == 0)
                    continue;
                if (no_index)
                    ps[i].done = true;
                else
                    rc = take_page(s, &ps[i], outs[j], err);
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

/* ---- the resources calls named ---- */

/* Sets asked per call kind: one more than an answer lists tells "more"
 * apart. shard_size is the same, which keeps the answer exact: a kind with
 * at most CT_RESOURCE_SETS_MAX sets has at most that many on each shard,
 * all returned with their counts; one with more has SETS_ASKED on some
 * shard or more than that across them. */
#define SETS_ASKED (CT_RESOURCE_SETS_MAX + 1)

/* A call kind's bucket: its sets (a terms sub-aggregation). */
static int on_resources_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    ct_resources *out = ud;
    const char *src = key_string(key, "src"), *name = key_string(key, "name");
    /* eventType: a missing bucket (null) is an API call, as in the store. */
    ct_event_kind kind = ct_event_kind_of(key_string(key, "type"));
    cJSON *sets = cJSON_GetObjectItemCaseSensitive(bucket, "sets");
    cJSON *list = cJSON_GetObjectItemCaseSensitive(sets, "buckets");
    cJSON *other = cJSON_GetObjectItemCaseSensitive(sets, "sum_other_doc_count");
    if (!src || !name || !cJSON_IsArray(list) || !cJSON_IsNumber(other))
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch: a resources bucket lacks its key or its sets");
    cJSON *set;
    cJSON_ArrayForEach(set, list)
    {
        const char *arns = key_string(set, "key");
        cJSON *docs = cJSON_GetObjectItemCaseSensitive(set, "doc_count");
        if (!arns || !cJSON_IsNumber(docs))
            return ct_error_set(err, CT_EPARTIAL,
                                "elasticsearch: a resource set's bucket lacks its key or count");
        /* "" is no set our loader writes: those calls name nothing. */
        if (arns[0] && docs->valuedouble >= 1 &&
            ct_resources_add(out, src, name, kind, arns, (uint64_t)docs->valuedouble))
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    /* The calls of the sets not listed count as named, under the set that
     * says "more" (as the store keeps them). */
    if (other->valuedouble >= 1 &&
        ct_resources_add(out, src, name, kind, CT_RESOURCES_MORE, (uint64_t)other->valuedouble))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* One composite aggregation over the principal's successful calls that
 * name resources, per call kind, with the first SETS_ASKED sets of each:
 * one search for up to PAGE_SIZE / (1 + SETS_ASKED) call kinds. Records
 * without the derived field (loaded by another loader or an older
 * cloudtracker, or with a set longer than the mapping indexes) name
 * nothing; with the ECS schema none has it, and nothing is asked. */
static int principal_resources(ct_source *src, const char *principal_arn, const ct_window *window,
                               ct_resources *out, ct_error *err)
{
    es_source *s = (es_source *)src;
    int rc = ensure_ready(s, err);
    ct_buf q = CT_BUF_INIT, sources = CT_BUF_INIT, sub = CT_BUF_INIT;
    if (rc == 0 && s->fields[F_RESOURCES]) {
        if (ct_buf_puts(&q, "{\"bool\":{\"filter\":[") || put_principal(s, &q, principal_arn) ||
            ct_buf_puts(&q, ",") || put_window(s, &q, window) || ct_buf_puts(&q, ",") ||
            put_exists(s, &q, F_RESOURCES) || ct_buf_puts(&q, "],\"must_not\":[") ||
            put_exists(s, &q, F_ERROR) || ct_buf_puts(&q, "]}}") || ct_buf_puts(&sources, "[") ||
            put_call_sources(s, &sources) || ct_buf_puts(&sources, "]") ||
            ct_buf_puts(&sub, "{\"sets\":{\"terms\":{\"field\":") ||
            ct_es_json_string(&sub, s->fields[F_RESOURCES]) ||
            ct_buf_printf(&sub, ",\"size\":%d,\"shard_size\":%d}}}", SETS_ASKED, SETS_ASKED)) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        } else {
            pager p = {.query = q.data,
                       .sources = sources.data,
                       .sub = sub.data,
                       .weight = 1 + SETS_ASKED,
                       .fn = on_resources_bucket,
                       .ud = out};
            rc = run_pagers(s, &p, 1, err);
            pagers_release(&p, 1);
        }
    }
    if (rc == 0)
        ct_resources_finish(out);
    else
        ct_resources_release(out);
    ct_buf_release(&q);
    ct_buf_release(&sources);
    ct_buf_release(&sub);
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

/* The queries of the calls made with n access keys, KEY_BATCH keys per
 * query: {"bool":{"filter":[terms of the keys, `filters`]}} (`filters`: a
 * comma-separated list of clauses). *queries (*batches of them) belongs to
 * the caller (free_queries). Returns 0 or CT_ENOMEM. */
static int key_batch_queries(es_source *s, const char *const *keys, size_t n, const char *filters,
                             char ***queries, size_t *batches)
{
    *batches = (n + KEY_BATCH - 1) / KEY_BATCH;
    if (!(*queries = calloc(*batches ? *batches : 1, sizeof(**queries))))
        return CT_ENOMEM;
    for (size_t i = 0; i < *batches; i++) {
        size_t from = i * KEY_BATCH, count = n - from < KEY_BATCH ? n - from : KEY_BATCH;
        ct_buf b = CT_BUF_INIT;
        if (ct_buf_puts(&b, "{\"bool\":{\"filter\":[") ||
            put_terms(s, &b, F_KEY, keys + from, count) || ct_buf_printf(&b, ",%s]}}", filters) ||
            !((*queries)[i] = ct_buf_detach(&b))) {
            ct_buf_release(&b);
            return CT_ENOMEM;
        }
    }
    return 0;
}

static void free_queries(char **queries, size_t n)
{
    for (size_t i = 0; queries && i < n; i++)
        free(queries[i]);
    free(queries);
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
    ct_buf q = CT_BUF_INIT, sources = CT_BUF_INIT, filters = CT_BUF_INIT;
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
    pager phase_a = {.query = q.data, .sources = sources.data, .fn = on_key_bucket, .ud = &keys};
    rc = run_pagers(s, &phase_a, 1, err);
    pagers_release(&phase_a, 1);
    if (rc || keys.count == 0)
        goto done;
    if (put_term(s, &filters, F_ISSUER, role_arn) || ct_buf_puts(&filters, ",") ||
        put_term(s, &filters, F_TYPE, "AssumedRole") || ct_buf_puts(&filters, ",") ||
        put_window(s, &filters, window) ||
        key_batch_queries(s, (const char *const *)keys.items, keys.count, filters.data, &queries,
                          &batches)) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    rc = collect_calls(s, queries, batches, out, err);
done:
    free_queries(queries, batches);
    for (size_t i = 0; i < keys.count; i++)
        free(keys.items[i]);
    free(keys.items);
    ct_buf_release(&q);
    ct_buf_release(&sources);
    ct_buf_release(&filters);
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
        pager p = {.query = q.data, .sources = sources.data, .fn = on_activity_bucket, .ud = &a};
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

/* The two aggregations of account_calls share one search, whose query is
 * the union of theirs: each takes from it only the buckets of its own
 * query, told apart by the keys that the two queries differ on. */
static bool bucket_of_role_sessions(cJSON *key)
{
    const char *itype = key_string(key, "itype"), *issuer = key_string(key, "issuer");
    return itype && strcmp(itype, "AssumedRole") == 0 && issuer && issuer[0];
}

static int on_role_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    return bucket_of_role_sessions(key) ? on_account_bucket(ud, key, bucket, err) : 0;
}

static int on_rest_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    return bucket_of_role_sessions(key) ? 0 : on_account_bucket(ud, key, bucket, err);
}

/* Two calls aggregations in one search (an access review asks this of
 * every account), sorted out in C by the store's
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
    ct_buf q_roles = CT_BUF_INIT, q_rest = CT_BUF_INIT, q_both = CT_BUF_INIT,
           src_roles = CT_BUF_INIT, src_rest = CT_BUF_INIT, sub = CT_BUF_INIT;
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
        ct_buf_puts(&src_rest, "]") || put_call_metrics(s, &sub) ||
        ct_buf_printf(&q_both, "{\"bool\":{\"minimum_should_match\":1,\"should\":[%s,%s]}}",
                      q_roles.data, q_rest.data)) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    } else {
        pager ps[2] = {
            {.query = q_both.data,
             .sources = src_roles.data,
             .sub = sub.data,
             .fn = on_role_bucket,
             .ud = &sum},
            {.query = q_both.data,
             .sources = src_rest.data,
             .sub = sub.data,
             .fn = on_rest_bucket,
             .ud = &sum,
             .with_previous = true},
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
    ct_buf_release(&q_both);
    ct_buf_release(&src_roles);
    ct_buf_release(&src_rest);
    ct_buf_release(&sub);
    return rc;
}

/* ---- role sessions: who is behind them ---- */

static const char *or_empty(const char *v)
{
    return v ? v : "";
}

/* "a, else b": the first of the two that is not empty. */
static const char *first_of(const char *a, const char *b)
{
    return a && a[0] ? a : or_empty(b);
}

/* The session name of a role session's ARN
 * (arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION), or "": the
 * store's rule. */
static const char *session_name_of(const char *arn)
{
    static const char marker[] = ":assumed-role/";
    const char *p = arn ? strstr(arn, marker) : NULL;
    p = p ? strchr(p + sizeof(marker) - 1, '/') : NULL;
    return p ? p + 1 : "";
}

/* Whether records with these keys are a role session's that the store
 * keeps by key: is_role_session, with a session issuer and a key. */
static bool keyed_session(const char *access_key, const char *arn, const char *type,
                          const char *issuer)
{
    return access_key[0] && issuer && is_role_session(arn, type);
}

/* The filter clauses (comma-separated) of the records of role sessions as
 * keyed_session tells them, which the caller checks on the ARN for records
 * without a type. */
static int put_role_session_filters(es_source *s, ct_buf *b)
{
    if (put_exists(s, b, F_KEY) || ct_buf_puts(b, ",") || put_exists(s, b, F_ISSUER) ||
        ct_buf_puts(b, ",{\"bool\":{\"minimum_should_match\":1,\"should\":[") ||
        put_term(s, b, F_TYPE, "AssumedRole") || ct_buf_puts(b, ",{\"bool\":{\"must_not\":[") ||
        put_exists(s, b, F_TYPE) || ct_buf_puts(b, "]}}]}}"))
        return CT_ENOMEM;
    return 0;
}

/* Fails when the indices cannot tell who is behind role sessions: an
 * explicit mapping without the fields attribution reads (the index
 * template of cloudtracker's mapping_version 1, or an older template of
 * one's own) answers "" for them, and so would name fewer people. */
static int check_attribution_fields(es_source *s, ct_error *err)
{
    if (s->schema != CT_ES_SCHEMA_KEYWORD)
        return 0;
    if (!s->mappings_read) {
        /* elasticsearch.schema skipped detection: one request all the same. */
        int rc = read_mappings(s, NULL, err);
        if (rc)
            return rc;
    }
    if (!s->old_indices)
        return 0;
    bool several = strchr(s->old_indices, ',') || strstr(s->old_indices, " more");
    const char *them = several ? "them" : "it";
    /* The reload is docs/elasticsearch-load.md's: the state index says which
     * files were loaded, so it goes too. */
    return ct_error_set(
        err, CT_ECONFIG,
        "elasticsearch at %s: %s %s %s loaded with an older mapping, which lacks fields that tell "
        "who is behind a role session (%s): answering from %s would name fewer people. To reload "
        "%s, delete %s and the state index (%s), then run `cloudtracker ingest --to "
        "elasticsearch` again (docs/elasticsearch-load.md); indices cloudtracker did not load "
        "need these fields mapped as keyword, and a reindex",
        ct_es_client_host(s->client), several ? "indices" : "index", s->old_indices,
        several ? "were" : "was", s->old_missing, them, them, them,
        s->cfg->state_index ? s->cfg->state_index : "cloudtracker-state");
}

/* A bucket of the sessions search's evidence aggregation: records with an
 * access key, keyed by it, the session's role (issuer) and the evidence
 * fields. Records of users that the openings' clause brings in are left
 * out by the store's rule (keyed_session). */
static int on_evidence_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    ct_role_sessions *out = ud;
    const char *access_key = key_string(key, "key"), *arn = key_string(key, "arn");
    bool ok = access_key != NULL;
    int64_t last = day_of_metric(bucket, "last", &ok);
    if (!ok)
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch: a role-session bucket lacks its key or time");
    const char *issuer = key_string(key, "issuer");
    if (!keyed_session(access_key, arn, key_string(key, "itype"), issuer))
        return 0;
    ct_session_evidence e = {(char *)session_name_of(arn), (char *)key_string(key, "sid"),
                             (char *)key_string(key, "obo"), (char *)key_string(key, "store")};
    if (ct_role_sessions_add_evidence(out, access_key, issuer, last, &e))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

typedef struct openings {
    es_source *s;
    ct_role_sessions *out;
} openings;

/* Whether the fields of an event make it one that opened a role session,
 * by the store's rule: a successful AssumeRole, AssumeRoleWithSAML or
 * AssumeRoleWithWebIdentity of STS naming the role and issuing a key. */
static bool opened_session(const char *source, const char *name, const char *error,
                           const char *role_arn, const char *issued_key)
{
    return !error && source && strcmp(source, "sts.amazonaws.com") == 0 && name &&
           (strcmp(name, "AssumeRole") == 0 || strcmp(name, "AssumeRoleWithSAML") == 0 ||
            strcmp(name, "AssumeRoleWithWebIdentity") == 0) &&
           role_arn && issued_key && issued_key[0];
}

/* A bucket of the sessions search's openings aggregation: one event (keyed
 * by the key it issued, its eventID and every field an opening keeps, with
 * its time as the "at" minimum). Role-session records with an issued key
 * that the evidence clause brings in are left out by opened_session. */
static int on_opening_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    openings *o = ud;
    const char *access_key = key_string(key, "key");
    cJSON *at =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bucket, "at"), "value");
    if (!access_key || !cJSON_IsNumber(at))
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch: an AssumeRole bucket lacks its key or time");
    const char *name = key_string(key, "name"), *role = key_string(key, "role");
    if (!opened_session(key_string(key, "src"), name, key_string(key, "err"), role, access_key))
        return 0;
    const char *arn = key_string(key, "arn"), *issuer = key_string(key, "issuer"),
               *type = key_string(key, "itype"), *user_name = key_string(key, "uname");
    /* ECS's user.name holds the session issuer's name when the record has
     * one and no userName of its own (see ECS_NAMES): no user of a role
     * session has one. */
    if (o->s->schema == CT_ES_SCHEMA_ECS && issuer)
        user_name = NULL;
    ct_session_opening op = {
        .event_name = (char *)name,
        .role_arn = (char *)role,
        .caller = (char *)charged_to(arn, issuer, type),
        .caller_type = (char *)type,
        .caller_key = (char *)key_string(key, "ckey"),
        .caller_name = (char *)user_name,
        .provider = (char *)key_string(key, "prov"),
        .subject = (char *)first_of(key_string(key, "subj"), key_string(key, "wsubj")),
        .issuer = (char *)first_of(key_string(key, "iss"), key_string(key, "rprov")),
        .source_identity = (char *)first_of(key_string(key, "rsid"), key_string(key, "qsid")),
        .session_name = (char *)key_string(key, "sname"),
        /* Dates come back as epoch milliseconds. */
        .at = (int64_t)floor(at->valuedouble / 1000.0),
        .account = (char *)key_string(key, "account"),
        .event_id = (char *)key_string(key, "id"),
        .shared_event_id = (char *)key_string(key, "shared"),
    };
    if (ct_role_sessions_add_opening(o->out, access_key, &op))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* The evidence of role sessions is read per day (the store keeps days) from
 * CT_CHAIN_REACH before the window, and the openings from that second on:
 * the same records while the reach is whole days, which lets one query
 * serve both aggregations. */
_Static_assert(CT_CHAIN_REACH % 86400 == 0, "CT_CHAIN_REACH is whole days");

/* One search per round of pages, whatever the number of sessions: two
 * composite aggregations over the records from CT_CHAIN_REACH before the
 * window to its end that are a role session's (with a key) or that opened
 * one, paged together (run_pagers, with_previous). The evidence one keys
 * records by (key, role, ARN, type, sourceIdentity, onBehalfOf) with their
 * last time; the openings one keys events by the key they issued, their
 * eventID and every field an opening keeps, one bucket each. A composite
 * cannot sit under a filter aggregation, so each aggregation also sees the
 * other's records and its bucket callback leaves them out by the store's
 * rules (the fields they need are keyed). */
static int sessions(ct_source *src, const ct_window *window, ct_role_sessions *out, ct_error *err)
{
    static const char *const assume_names[] = {"AssumeRole", "AssumeRoleWithSAML",
                                               "AssumeRoleWithWebIdentity"};
    static const source_spec evidence_sources[] = {{"key", F_KEY, false},
                                                   {"issuer", F_ISSUER, true},
                                                   {"arn", F_ARN, true},
                                                   {"itype", F_TYPE, true},
                                                   {"sid", F_SOURCE_IDENTITY, true},
                                                   {"obo", F_ON_BEHALF_OF, true},
                                                   {"store", F_IDENTITY_STORE, true}};
    static const source_spec opening_sources[] = {{"key", F_ISSUED, false},
                                                  {"id", F_EVENT_ID, true},
                                                  {"src", F_SOURCE, true},
                                                  {"name", F_NAME, true},
                                                  {"err", F_ERROR, true},
                                                  {"role", F_ROLE_ARN, true},
                                                  {"arn", F_ARN, true},
                                                  {"issuer", F_ISSUER, true},
                                                  {"itype", F_TYPE, true},
                                                  {"ckey", F_KEY, true},
                                                  {"uname", F_USER_NAME, true},
                                                  {"prov", F_PROVIDER, true},
                                                  {"subj", F_RESP_SUBJECT, true},
                                                  {"wsubj", F_RESP_WEB_SUBJECT, true},
                                                  {"iss", F_RESP_ISSUER, true},
                                                  {"rprov", F_RESP_PROVIDER, true},
                                                  {"rsid", F_RESP_SOURCE_ID, true},
                                                  {"qsid", F_REQ_SOURCE_ID, true},
                                                  {"sname", F_SESSION, true},
                                                  {"account", F_ACCOUNT, true},
                                                  {"shared", F_SHARED_ID, true}};
    es_source *s = (es_source *)src;
    int rc = ensure_ready(s, err);
    if (rc == 0)
        rc = check_attribution_fields(s, err);
    if (rc)
        return rc;
    openings o = {s, out};
    ct_buf q = CT_BUF_INIT, src_e = CT_BUF_INIT, src_o = CT_BUF_INIT, sub_e = CT_BUF_INIT,
           sub_o = CT_BUF_INIT;
    if (ct_buf_puts(&q, "{\"bool\":{\"filter\":[") ||
        put_range(s, &q, window->first_day * 86400 - CT_CHAIN_REACH,
                  (window->last_day + 1) * 86400) ||
        ct_buf_puts(&q, ",{\"bool\":{\"minimum_should_match\":1,\"should\":[{\"bool\":{"
                        "\"filter\":[") ||
        put_role_session_filters(s, &q) || ct_buf_puts(&q, "]}},{\"bool\":{\"filter\":[") ||
        put_term(s, &q, F_SOURCE, "sts.amazonaws.com") || ct_buf_puts(&q, ",") ||
        put_terms(s, &q, F_NAME, assume_names, 3) || ct_buf_puts(&q, ",") ||
        put_exists(s, &q, F_ISSUED) || ct_buf_puts(&q, ",") || put_exists(s, &q, F_ROLE_ARN) ||
        ct_buf_puts(&q, "],\"must_not\":[") || put_exists(s, &q, F_ERROR) ||
        ct_buf_puts(&q, "]}}]}}]}}") || ct_buf_puts(&src_e, "[") ||
        put_sources(s, &src_e, evidence_sources,
                    sizeof(evidence_sources) / sizeof(*evidence_sources)) ||
        ct_buf_puts(&src_e, "]") || ct_buf_puts(&src_o, "[") ||
        put_sources(s, &src_o, opening_sources,
                    sizeof(opening_sources) / sizeof(*opening_sources)) ||
        ct_buf_puts(&src_o, "]") || ct_buf_puts(&sub_e, "{\"last\":{\"max\":{\"field\":") ||
        ct_es_json_string(&sub_e, s->time_field) || ct_buf_puts(&sub_e, "}}}") ||
        ct_buf_puts(&sub_o, "{\"at\":{\"min\":{\"field\":") ||
        ct_es_json_string(&sub_o, s->time_field) || ct_buf_puts(&sub_o, "}}}")) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    } else {
        pager ps[2] = {
            {.query = q.data,
             .sources = src_e.data,
             .sub = sub_e.data,
             .fn = on_evidence_bucket,
             .ud = out},
            {.query = q.data,
             .sources = src_o.data,
             .sub = sub_o.data,
             .fn = on_opening_bucket,
             .ud = &o,
             .with_previous = true},
        };
        rc = run_pagers(s, ps, 2, err);
        pagers_release(ps, 2);
    }
    if (rc == 0 && ct_role_sessions_finish(out, window))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    if (rc)
        ct_role_sessions_release(out);
    ct_buf_release(&q);
    ct_buf_release(&src_e);
    ct_buf_release(&src_o);
    ct_buf_release(&sub_e);
    ct_buf_release(&sub_o);
    return rc;
}

/* A calls bucket keyed also by (key, arn, itype, issuer): the calls of the
 * session with that access key, when the records are a role session's
 * (keyed_session). */
static int on_session_call_bucket(void *ud, cJSON *key, cJSON *bucket, ct_error *err)
{
    ct_role_sessions *out = ud;
    bucket_call c;
    int rc = call_of_bucket(key, bucket, &c, err);
    if (rc)
        return rc;
    const char *access_key = key_string(key, "key");
    if (!access_key)
        return ct_error_set(err, CT_EPARTIAL, "elasticsearch: a session bucket has no key");
    if (!keyed_session(access_key, key_string(key, "arn"), key_string(key, "itype"),
                       key_string(key, "issuer")))
        return 0;
    if (ct_role_sessions_add_call(out, access_key, c.src, c.name, c.kind, c.ok, c.errors,
                                  c.first_day, c.last_day))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* One search per KEY_BATCH keys (plus pages), all in flight together: the
 * window's role-session records with those keys, per (key, ARN, type,
 * issuer) and call. */
static int session_calls(ct_source *src, const char *const *keys, size_t n, const ct_window *window,
                         ct_role_sessions *out, ct_error *err)
{
    static const source_spec session_sources[] = {{"key", F_KEY, false},
                                                  {"arn", F_ARN, true},
                                                  {"itype", F_TYPE, true},
                                                  {"issuer", F_ISSUER, true}};
    es_source *s = (es_source *)src;
    int rc = n ? ensure_ready(s, err) : 0;
    if (rc)
        return rc;
    ct_buf filters = CT_BUF_INIT, sources = CT_BUF_INIT, sub = CT_BUF_INIT;
    char **queries = NULL;
    size_t batches = 0;
    pager *ps = NULL;
    if (n && (put_window(s, &filters, window) || ct_buf_puts(&filters, ",") ||
              put_role_session_filters(s, &filters) ||
              key_batch_queries(s, keys, n, filters.data, &queries, &batches) ||
              ct_buf_puts(&sources, "[") ||
              put_sources(s, &sources, session_sources,
                          sizeof(session_sources) / sizeof(*session_sources)) ||
              ct_buf_puts(&sources, ",") || put_call_sources(s, &sources) ||
              ct_buf_puts(&sources, "]") || put_call_metrics(s, &sub) ||
              !(ps = calloc(batches, sizeof(*ps)))))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < batches; i++)
        ps[i] = (pager){.query = queries[i],
                        .sources = sources.data,
                        .sub = sub.data,
                        .fn = on_session_call_bucket,
                        .ud = out};
    if (rc == 0)
        rc = run_pagers(s, ps, batches, err);
    if (ps)
        pagers_release(ps, batches);
    if (rc == 0 && ct_role_sessions_finish(out, window))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    if (rc)
        ct_role_sessions_release(out);
    free(ps);
    free_queries(queries, batches);
    ct_buf_release(&filters);
    ct_buf_release(&sources);
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

/* The search of an account's data events: the query (by the rule of
 * ct_is_data_event: eventCategory Data, or no eventCategory and
 * managementEvent false) and the composite aggregation's sources
 * (eventSource, eventName, readOnly) and sub-aggregations. Returns 0 or
 * CT_ENOMEM. */
static int put_data_search(es_source *s, const char *account_id, const ct_window *window, ct_buf *q,
                           ct_buf *sources, ct_buf *sub)
{
    if (ct_buf_puts(q, "{\"bool\":{\"filter\":[") || put_term(s, q, F_ACCOUNT, account_id) ||
        ct_buf_puts(q, ",") || put_window(s, q, window) ||
        ct_buf_puts(q, ",{\"bool\":{\"minimum_should_match\":1,\"should\":[") ||
        put_term(s, q, F_CATEGORY, "Data") || ct_buf_puts(q, ",{\"bool\":{\"must_not\":[") ||
        put_exists(s, q, F_CATEGORY) || ct_buf_puts(q, "],\"filter\":[") ||
        /* "false" as a string matches a boolean field and a keyword one. */
        put_term(s, q, F_MANAGEMENT, "false") || ct_buf_puts(q, "]}}]}}]}}") ||
        ct_buf_puts(sources, "[") || put_composite_source(s, sources, "src", F_SOURCE, false) ||
        ct_buf_puts(sources, ",") || put_composite_source(s, sources, "name", F_NAME, false) ||
        ct_buf_puts(sources, ",") || put_composite_source(s, sources, "ro", F_READ_ONLY, true) ||
        ct_buf_puts(sources, "]") || ct_buf_puts(sub, "{\"first\":{\"min\":{\"field\":") ||
        ct_es_json_string(sub, s->time_field) ||
        ct_buf_puts(sub, "}},\"last\":{\"max\":{\"field\":") ||
        ct_es_json_string(sub, s->time_field) || ct_buf_puts(sub, "}}}"))
        return CT_ENOMEM;
    return 0;
}

/* Pages through the data events of `account_id` into `data` (one
 * composite aggregation), asking the `once` aggregations of `once` (NULL:
 * none) in the first search; sorts them, or releases them on error. */
static int run_data_search(es_source *s, const char *account_id, const ct_window *window,
                           ct_data_events *data, pager *once, ct_error *err)
{
    ct_buf q = CT_BUF_INIT, sources = CT_BUF_INIT, sub = CT_BUF_INIT;
    int rc;
    if (put_data_search(s, account_id, window, &q, &sources, &sub)) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    } else {
        pager p = {.query = q.data,
                   .sources = sources.data,
                   .sub = sub.data,
                   .fn = on_data_bucket,
                   .ud = data};
        if (once) {
            p.once = once->once;
            p.once_buckets = once->once_buckets;
            p.once_fn = once->once_fn;
            p.once_ud = once->once_ud;
        }
        rc = run_pagers(s, &p, 1, err);
        pagers_release(&p, 1);
    }
    if (rc == 0)
        ct_data_events_sort(data);
    else
        ct_data_events_release(data);
    ct_buf_release(&q);
    ct_buf_release(&sources);
    ct_buf_release(&sub);
    return rc;
}

/* One composite aggregation over (eventSource, eventName, readOnly) of the
 * account's data events. */
static int data_events(ct_source *src, const char *account_id, const ct_window *window,
                       ct_data_events *out, ct_error *err)
{
    es_source *s = (es_source *)src;
    int rc = ensure_ready(s, err);
    return rc ? rc : run_data_search(s, account_id, window, out, NULL, err);
}

/* ---- account coverage ---- */

typedef struct coverage_answer {
    es_source *s;
    ct_account_coverage *out;
} coverage_answer;

/* The "days" and "regions" aggregations of the coverage search (under
 * all.acct): the days with events (epoch-millisecond keys), and the
 * awsRegion values, every one of them (sum_other_doc_count 0); the events
 * no Region bucket holds have none (""). */
static int on_coverage_aggs(void *ud, cJSON *aggs, ct_error *err)
{
    coverage_answer *a = ud;
    const char *host = ct_es_client_host(a->s->client);
    if (!aggs)
        return 0; /* no index: no events */
    cJSON *acct =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(aggs, "all"), "acct");
    cJSON *days =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(acct, "days"), "buckets");
    cJSON *regions = cJSON_GetObjectItemCaseSensitive(acct, "regions");
    cJSON *region_buckets = cJSON_GetObjectItemCaseSensitive(regions, "buckets");
    cJSON *other = cJSON_GetObjectItemCaseSensitive(regions, "sum_other_doc_count");
    if (!cJSON_IsArray(days) || !cJSON_IsArray(region_buckets) || !cJSON_IsNumber(other))
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch at %s: the search answered without its days or "
                            "Regions",
                            host);
    if (other->valuedouble != 0)
        return ct_error_set(err, CT_EPARTIAL,
                            "elasticsearch at %s: the events of the account hold more than %d "
                            "awsRegion values; not all could be listed",
                            host, REGION_BUCKETS);
    uint64_t events = 0, in_regions = 0;
    cJSON *b;
    cJSON_ArrayForEach(b, days)
    {
        cJSON *key = cJSON_GetObjectItemCaseSensitive(b, "key");
        cJSON *docs = cJSON_GetObjectItemCaseSensitive(b, "doc_count");
        if (!cJSON_IsNumber(key) || !cJSON_IsNumber(docs) || docs->valuedouble < 1)
            return ct_error_set(err, CT_EPARTIAL,
                                "elasticsearch at %s: a day bucket lacks its key or doc_count",
                                host);
        /* Keys are the day's first millisecond (UTC). */
        int64_t day = (int64_t)floor(key->valuedouble / 86400000.0);
        if (ct_account_coverage_add_day(a->out, day, (uint64_t)docs->valuedouble))
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        events += (uint64_t)docs->valuedouble;
    }
    cJSON_ArrayForEach(b, region_buckets)
    {
        cJSON *key = cJSON_GetObjectItemCaseSensitive(b, "key");
        cJSON *docs = cJSON_GetObjectItemCaseSensitive(b, "doc_count");
        if (!cJSON_IsString(key) || !cJSON_IsNumber(docs))
            return ct_error_set(err, CT_EPARTIAL,
                                "elasticsearch at %s: a Region bucket lacks its key or "
                                "doc_count",
                                host);
        if (ct_account_coverage_add_region(a->out, key->valuestring))
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        in_regions += (uint64_t)docs->valuedouble;
    }
    if (in_regions < events && ct_account_coverage_add_region(a->out, ""))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* One search: the data events' (data_events' query and composite
 * aggregation; more pages of it, if any, are further searches), with a
 * global aggregation that goes back to every event of the account in the
 * window for the days (a date_histogram by UTC day) and the Regions (a
 * terms aggregation checked for completeness). The event count is the sum
 * of the days. A composite aggregation cannot sit under another, so the
 * data events' filter is the search's query and the rest is global. */
static int account_coverage(ct_source *src, const char *account_id, const ct_window *window,
                            ct_account_coverage *out, ct_error *err)
{
    es_source *s = (es_source *)src;
    int rc = ensure_ready(s, err);
    if (rc)
        return rc;
    ct_buf once = CT_BUF_INIT;
    int64_t window_days = window->last_day - window->first_day + 1;
    if (ct_buf_puts(&once, "\"all\":{\"global\":{},\"aggs\":{\"acct\":{\"filter\":"
                           "{\"bool\":{\"filter\":[") ||
        put_term(s, &once, F_ACCOUNT, account_id) || ct_buf_puts(&once, ",") ||
        put_window(s, &once, window) ||
        ct_buf_puts(&once, "]}},\"aggs\":{\"days\":{\"date_histogram\":{\"field\":") ||
        ct_es_json_string(&once, s->time_field) ||
        ct_buf_printf(&once,
                      ",\"%s\":\"1d\",\"min_doc_count\":1}},\"regions\":{\"terms\":{"
                      "\"field\":",
                      s->interval_param) ||
        ct_es_json_string(&once, s->fields[F_REGION]) ||
        ct_buf_printf(&once, ",\"size\":%d}}}}}}", REGION_BUCKETS)) {
        ct_buf_release(&once);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    coverage_answer answer = {s, out};
    pager p = {.once = once.data,
               /* The days the answer may hold, the Regions it likely
                * holds, and the two single-bucket aggregations above. */
               .once_buckets =
                   (int)(window_days < PAGE_SIZE ? window_days : PAGE_SIZE) + REGIONS_EXPECTED + 2,
               .once_fn = on_coverage_aggs,
               .once_ud = &answer};
    rc = run_data_search(s, account_id, window, &out->data, &p, err);
    if (rc == 0)
        ct_account_coverage_finish(out);
    else
        ct_account_coverage_release(out);
    ct_buf_release(&once);
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
    free(s->old_indices);
    free(s->old_missing);
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
    s->base.sessions = sessions;
    s->base.session_calls = session_calls;
    s->base.account_coverage = account_coverage;
    s->base.principal_resources = principal_resources;
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
