/* The resources a CloudTrail record names (see trail.h): the ARNs of its
 * resources array, and those built from the request parameters listed in
 * data/cloudtrail/resource-params.tsv. Both backends keep this set per call,
 * so --format policy --resources reads the same answer from either. */
#include "cloudtracker/trail.h"
#include "cloudtracker/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const unsigned char ct_data_resource_params[];
extern const size_t ct_data_resource_params_len;

/* The longest ARN kept: IAM's limit on a Resource element's ARN. */
#define ARN_MAX 2048

enum form { F_ARN, F_S3_BUCKET, F_LAMBDA_FUNCTION, F_DYNAMODB_TABLE, F_SQS_QUEUE_URL, F_KMS_KEY };

static const struct {
    const char *name;
    enum form form;
} FORMS[] = {{"arn", F_ARN},
             {"s3-bucket", F_S3_BUCKET},
             {"lambda-function", F_LAMBDA_FUNCTION},
             {"dynamodb-table", F_DYNAMODB_TABLE},
             {"sqs-queue-url", F_SQS_QUEUE_URL},
             {"kms-key", F_KMS_KEY}};

/* The request parameters the scanner extracts, by the name the table uses. */
enum param {
    P_BUCKET_NAME,
    P_ROLE_ARN,
    P_FUNCTION_NAME,
    P_TABLE_NAME,
    P_QUEUE_URL,
    P_TOPIC_ARN,
    P_KEY_ID,
    P_COUNT
};
static const char *const PARAMS[P_COUNT] = {"bucketName", "roleArn",  "functionName", "tableName",
                                            "queueUrl",   "topicArn", "keyId"};

static const char *param_value(const ct_trail_record *rec, enum param p)
{
    switch (p) {
    case P_BUCKET_NAME:
        return rec->request_bucket_name;
    case P_ROLE_ARN:
        return rec->role_arn;
    case P_FUNCTION_NAME:
        return rec->request_function_name;
    case P_TABLE_NAME:
        return rec->request_table_name;
    case P_QUEUE_URL:
        return rec->request_queue_url;
    case P_TOPIC_ARN:
        return rec->request_topic_arn;
    case P_KEY_ID:
        return rec->request_key_id;
    case P_COUNT:
        break;
    }
    return NULL;
}

#define MAX_RULES 32

static struct {
    int status; /* 0, or CT_EINTERNAL/CT_ENOMEM: the table cannot be used */
    char message[256];
    struct rule {
        char source[64];
        enum param param;
        enum form form;
    } rules[MAX_RULES];
    size_t count;
} T;

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_fail(int line, const char *what)
{
    T.status = CT_EINTERNAL;
    snprintf(T.message, sizeof(T.message), "data/cloudtrail/resource-params.tsv:%d: %s", line,
             what);
}

/* Parses the embedded table: comment lines start with '#', rows have four
 * tab-separated columns, the last free text. */
static void load_table(void)
{
    const char *p = (const char *)ct_data_resource_params;
    const char *end = p + ct_data_resource_params_len;
    for (int line = 1; p < end && T.status == 0; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if (eol > p && *p != '#') {
            const char *col[4];
            size_t len[4];
            const char *q = p;
            int n = 0;
            for (; n < 4 && q <= eol; n++) {
                const char *tab = n < 3 ? memchr(q, '\t', (size_t)(eol - q)) : NULL;
                const char *stop = tab ? tab : eol;
                col[n] = q;
                len[n] = (size_t)(stop - q);
                q = stop + 1;
                if (!tab && n < 3) {
                    n++;
                    break;
                }
            }
            if (n < 4 || len[0] == 0 || len[0] >= sizeof(T.rules[0].source) || len[3] == 0) {
                table_fail(line, "expected event_source, parameter, form and source");
                break;
            }
            if (T.count == MAX_RULES) {
                table_fail(line, "more rows than resources.c has room for");
                break;
            }
            struct rule *r = &T.rules[T.count];
            memcpy(r->source, col[0], len[0]);
            r->source[len[0]] = '\0';
            size_t i;
            for (i = 0; i < P_COUNT; i++)
                if (strlen(PARAMS[i]) == len[1] && memcmp(PARAMS[i], col[1], len[1]) == 0)
                    break;
            if (i == P_COUNT) {
                table_fail(line, "a parameter the scanner does not extract");
                break;
            }
            r->param = (enum param)i;
            for (i = 0; i < sizeof(FORMS) / sizeof(FORMS[0]); i++)
                if (strlen(FORMS[i].name) == len[2] && memcmp(FORMS[i].name, col[2], len[2]) == 0)
                    break;
            if (i == sizeof(FORMS) / sizeof(FORMS[0])) {
                table_fail(line, "an unknown form");
                break;
            }
            r->form = FORMS[i].form;
            T.count++;
        }
        p = eol + 1;
    }
}

/* The ARNs found so far for one record: in `out` (the caller's buffer,
 * reused from record to record), each followed by a NUL. */
typedef struct found {
    ct_buf *out;
    size_t offsets[CT_TRAIL_RESOURCES_MAX];
    size_t count;
    bool over; /* more than CT_TRAIL_RESOURCES_MAX */
} found;

/* A usable ARN: "arn:" then printable characters, no longer than IAM
 * accepts. Newlines would break the joined form. */
static bool usable_arn(const char *s, size_t len)
{
    if (len < 5 || len > ARN_MAX || memcmp(s, "arn:", 4) != 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static void truncate_to(ct_buf *out, size_t len)
{
    out->len = len;
    if (out->data)
        out->data[len] = '\0';
}

/* Adds the ARN of len bytes that ends `out` (s NULL), or that `s` holds
 * (copied to the end of `out` first); an unusable or repeated one is taken
 * off again. */
static int add_arn(found *f, const char *s, size_t len)
{
    ct_buf *out = f->out;
    size_t at = out->len - (s ? 0 : len);
    if (s && ct_buf_append(out, s, len) != 0)
        return CT_ENOMEM;
    if (len < 5 || !usable_arn(out->data + at, len))
        goto drop;
    const char *arn = out->data + at;
    for (size_t i = 0; i < f->count; i++) {
        const char *have = out->data + f->offsets[i];
        if (strlen(have) == len && memcmp(have, arn, len) == 0)
            goto drop;
    }
    if (f->count == CT_TRAIL_RESOURCES_MAX) {
        f->over = true;
        goto drop;
    }
    f->offsets[f->count++] = at;
    return ct_buf_append(out, "", 1) != 0 ? CT_ENOMEM : 0;
drop:
    truncate_to(out, at);
    return 0;
}

/* "arn:PARTITION:" of the caller's ARN gives the partition ("aws" when the
 * record has no usable ARN: the commercial partition). */
static void partition_of(const ct_trail_record *rec, char *out, size_t size)
{
    const char *arn = rec->identity_arn ? rec->identity_arn : rec->issuer_arn;
    const char *colon = arn && strncmp(arn, "arn:", 4) == 0 ? strchr(arn + 4, ':') : NULL;
    size_t len = colon ? (size_t)(colon - (arn + 4)) : 0;
    if (len == 0 || len >= size) {
        snprintf(out, size, "aws");
        return;
    }
    memcpy(out, arn + 4, len);
    out[len] = '\0';
}

static bool plain_name(const char *s)
{
    return s[0] && !strchr(s, ':') && !strchr(s, '\n');
}

/* Appends the pieces (NULL-terminated list) to `out`. */
static int put(ct_buf *out, const char *const *pieces)
{
    for (; *pieces; pieces++)
        if (ct_buf_puts(out, *pieces) != 0)
            return CT_ENOMEM;
    return 0;
}

/* Builds the ARN `value` names under `form` at the end of `out` and adds
 * it; adds nothing when it cannot be built. */
static int build_arn(found *f, const ct_trail_record *rec, enum form form, const char *value)
{
    char partition[32];
    partition_of(rec, partition, sizeof(partition));
    const char *region = rec->aws_region, *account = rec->recipient_account_id;
    bool located = region && region[0] && account && account[0];
    ct_buf *out = f->out;
    size_t at = out->len;
    int rc = 0;
    if (strncmp(value, "arn:", 4) == 0) {
        /* An ARN names the resource itself, in any form that accepts one
         * (a KMS alias ARN names an alias, not the key IAM evaluates; an
         * S3 bucket or SQS queue parameter holding an ARN names an access
         * point or another kind of thing). */
        if ((form == F_KMS_KEY && !strstr(value, ":key/")) || form == F_SQS_QUEUE_URL ||
            form == F_S3_BUCKET)
            return 0;
        return add_arn(f, value, strlen(value));
    }
    switch (form) {
    case F_ARN:
        return 0;
    case F_S3_BUCKET:
        if (!plain_name(value) || strchr(value, '/'))
            return 0;
        rc = put(out, (const char *const[]){"arn:", partition, ":s3:::", value, NULL});
        break;
    case F_LAMBDA_FUNCTION:
        if (!located || !plain_name(value))
            return 0;
        rc = put(out, (const char *const[]){"arn:", partition, ":lambda:", region, ":", account,
                                            ":function:", value, NULL});
        break;
    case F_DYNAMODB_TABLE:
        if (!located || !plain_name(value) || strchr(value, '/'))
            return 0;
        rc = put(out, (const char *const[]){"arn:", partition, ":dynamodb:", region, ":", account,
                                            ":table/", value, NULL});
        break;
    case F_SQS_QUEUE_URL: {
        /* https://HOST/ACCOUNT/NAME: the account is in the URL. */
        const char *host = strncmp(value, "https://", 8) == 0  ? value + 8
                           : strncmp(value, "http://", 7) == 0 ? value + 7
                                                               : NULL;
        const char *slash = host ? strchr(host, '/') : NULL;
        const char *next = slash ? strchr(slash + 1, '/') : NULL;
        if (!next || !region || !region[0] || next == slash + 1 || !plain_name(next + 1) ||
            strchr(next + 1, '/'))
            return 0;
        rc = put(out, (const char *const[]){"arn:", partition, ":sqs:", region, ":", NULL});
        if (rc == 0 && ct_buf_append(out, slash + 1, (size_t)(next - slash - 1)) != 0)
            rc = CT_ENOMEM;
        if (rc == 0)
            rc = put(out, (const char *const[]){":", next + 1, NULL});
        break;
    }
    case F_KMS_KEY:
        if (!located || !plain_name(value) || strncmp(value, "alias/", 6) == 0 ||
            strchr(value, '/'))
            return 0;
        rc = put(out, (const char *const[]){"arn:", partition, ":kms:", region, ":", account,
                                            ":key/", value, NULL});
        break;
    }
    return rc != 0 ? CT_ENOMEM : add_arn(f, NULL, out->len - at);
}

/* ---- the resources array ----
 * A small walk over text the scanner has validated as JSON: the string
 * value of each "ARN" key of the array's objects. An ARN holding an escape
 * other than \" \\ \/ (which would hide a control or non-ASCII character)
 * is left out: the call then names one resource fewer, never a wrong one. */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Past the string at p (its opening quote). */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p < end ? p + 1 : end;
}

/* Past the value at p, of any type (valid JSON). */
static const char *skip_json(const char *p, const char *end)
{
    int depth = 0;
    do {
        p = skip_ws(p, end);
        if (p >= end)
            return end;
        if (*p == '"') {
            p = skip_string(p, end);
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            depth--;
            p++;
        } else {
            while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
                   *p != '\r' && *p != '\t')
                p++;
        }
        p = skip_ws(p, end);
        if (depth > 0 && p < end && (*p == ',' || *p == ':'))
            p++;
    } while (depth > 0 && p < end);
    return p;
}

/* Copies the string at p (opening quote) to the end of f->out, unescaped,
 * and adds it. Runs without escapes go in one piece. */
static int take_string(found *f, const char *p, const char *end)
{
    ct_buf *out = f->out;
    size_t at = out->len;
    for (p++; p < end && *p != '"';) {
        const char *run = p;
        while (p < end && *p != '"' && *p != '\\')
            p++;
        if (p > run && ct_buf_append(out, run, (size_t)(p - run)) != 0)
            return CT_ENOMEM;
        if (p < end && *p == '\\') {
            char c = p + 1 < end ? p[1] : '\0';
            if (c != '"' && c != '\\' && c != '/') {
                truncate_to(out, at);
                return 0;
            }
            if (ct_buf_append(out, &c, 1) != 0)
                return CT_ENOMEM;
            p += 2;
        }
    }
    return add_arn(f, NULL, out->len - at);
}

static int add_array(found *f, const ct_trail_record *rec)
{
    const char *p = rec->resources_json, *end = p + rec->resources_len;
    p = skip_ws(p, end);
    if (p >= end || *p != '[')
        return 0;
    p = skip_ws(p + 1, end);
    while (p < end && *p != ']') {
        if (*p == '{') {
            /* A repeated key: the last value counts, as in the scanner. */
            const char *arn_value = NULL;
            p = skip_ws(p + 1, end);
            while (p < end && *p == '"') {
                bool arn = end - p >= 6 && memcmp(p, "\"ARN\"", 5) == 0;
                p = skip_ws(skip_string(p, end), end);
                p = skip_ws(p < end && *p == ':' ? p + 1 : p, end);
                if (arn)
                    arn_value = p < end && *p == '"' ? p : NULL;
                p = skip_ws(skip_json(p, end), end);
                if (p < end && *p == ',')
                    p = skip_ws(p + 1, end);
            }
            if (p < end && *p == '}')
                p = skip_ws(p + 1, end);
            if (arn_value) {
                int rc = take_string(f, arn_value, end);
                if (rc != 0)
                    return rc;
            }
        } else {
            p = skip_ws(skip_json(p, end), end);
        }
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
    }
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ct_trail_resource_set(const ct_trail_record *rec, ct_buf *out, ct_error *err)
{
    pthread_once(&table_once, load_table);
    ct_buf_reset(out);
    if (T.status != 0)
        return ct_error_set(err, T.status, "%s", T.message);
    found f = {out, {0}, 0, false};
    int rc = rec->resources_json ? add_array(&f, rec) : 0;
    for (size_t i = 0; rc == 0 && i < T.count; i++) {
        const struct rule *r = &T.rules[i];
        const char *value = param_value(rec, r->param);
        if (value && strcmp(rec->event_source, r->source) == 0)
            rc = build_arn(&f, rec, r->form, value);
    }
    if (rc == 0 && f.over) {
        ct_buf_reset(out);
        rc = ct_buf_puts(out, CT_TRAIL_RESOURCES_MORE);
    } else if (rc == 0 && f.count == 1) {
        out->len = strlen(out->data); /* the one ARN, without its NUL */
    } else if (rc == 0 && f.count > 1) {
        /* Sorted and joined by '\n', through a copy of the ARNs. */
        char *copy = malloc(out->len);
        const char *sorted[CT_TRAIL_RESOURCES_MAX];
        if (!copy) {
            rc = CT_ENOMEM;
        } else {
            memcpy(copy, out->data, out->len);
            for (size_t i = 0; i < f.count; i++)
                sorted[i] = copy + f.offsets[i];
            qsort(sorted, f.count, sizeof(sorted[0]), compare_strings);
            ct_buf_reset(out);
            for (size_t i = 0; rc == 0 && i < f.count; i++)
                if ((i && ct_buf_append(out, "\n", 1) != 0) || ct_buf_puts(out, sorted[i]) != 0)
                    rc = CT_ENOMEM;
            free(copy);
        }
    }
    if (rc != 0) {
        ct_buf_reset(out);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return 0;
}
