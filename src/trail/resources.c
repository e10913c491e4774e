/* The resources a CloudTrail record names (see trail.h): the ARNs of its
 * resources array, and those built from the request parameters listed in
 * data/cloudtrail/resource-params.tsv. Both backends keep this set per call,
 * so --format policy --resources reads the same answer from either. */
#include "cloudtracker/trail.h"
#include "cloudtracker/util.h"

#include <cjson/cJSON.h>
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
enum param { P_BUCKET_NAME, P_ROLE_ARN, P_FUNCTION_NAME, P_TABLE_NAME, P_QUEUE_URL, P_TOPIC_ARN,
             P_KEY_ID, P_COUNT };
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

/* The ARNs found so far for one record (pointers into `text`). */
typedef struct found {
    ct_buf text; /* each ARN followed by NUL */
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

static int add_arn(found *f, const char *s, size_t len)
{
    if (!usable_arn(s, len))
        return 0;
    for (size_t i = 0; i < f->count; i++) {
        const char *have = f->text.data + f->offsets[i];
        if (strlen(have) == len && memcmp(have, s, len) == 0)
            return 0;
    }
    if (f->count == CT_TRAIL_RESOURCES_MAX) {
        f->over = true;
        return 0;
    }
    f->offsets[f->count++] = f->text.len;
    if (ct_buf_append(&f->text, s, len) != 0 || ct_buf_append(&f->text, "", 1) != 0)
        return CT_ENOMEM;
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

/* Builds the ARN `value` names under `form`; leaves `arn` empty when it
 * cannot be built. */
static int build_arn(const ct_trail_record *rec, enum form form, const char *value, ct_buf *arn)
{
    char partition[32];
    partition_of(rec, partition, sizeof(partition));
    const char *region = rec->aws_region, *account = rec->recipient_account_id;
    bool located = region && region[0] && account && account[0];
    ct_buf_reset(arn);
    if (strncmp(value, "arn:", 4) == 0) {
        /* An ARN names the resource itself, in any form that accepts one
         * (a KMS alias ARN names an alias, not the key IAM evaluates). */
        if (form == F_KMS_KEY && !strstr(value, ":key/"))
            return 0;
        if (form == F_SQS_QUEUE_URL || form == F_S3_BUCKET)
            return 0;
        return ct_buf_puts(arn, value);
    }
    switch (form) {
    case F_ARN:
        return 0;
    case F_S3_BUCKET:
        if (!plain_name(value) || strchr(value, '/'))
            return 0;
        return ct_buf_printf(arn, "arn:%s:s3:::%s", partition, value);
    case F_LAMBDA_FUNCTION:
        if (!located || !plain_name(value))
            return 0;
        return ct_buf_printf(arn, "arn:%s:lambda:%s:%s:function:%s", partition, region, account,
                             value);
    case F_DYNAMODB_TABLE:
        if (!located || !plain_name(value) || strchr(value, '/'))
            return 0;
        return ct_buf_printf(arn, "arn:%s:dynamodb:%s:%s:table/%s", partition, region, account,
                             value);
    case F_SQS_QUEUE_URL: {
        /* https://HOST/ACCOUNT/NAME: the account is in the URL. */
        const char *host = strncmp(value, "https://", 8) == 0   ? value + 8
                           : strncmp(value, "http://", 7) == 0 ? value + 7
                                                               : NULL;
        const char *slash = host ? strchr(host, '/') : NULL;
        const char *next = slash ? strchr(slash + 1, '/') : NULL;
        if (!next || !region || !region[0] || next == slash + 1 || !plain_name(next + 1) ||
            strchr(next + 1, '/'))
            return 0;
        return ct_buf_printf(arn, "arn:%s:sqs:%s:%.*s:%s", partition, region,
                             (int)(next - slash - 1), slash + 1, next + 1);
    }
    case F_KMS_KEY:
        if (!located || !plain_name(value) || strncmp(value, "alias/", 6) == 0 ||
            strchr(value, '/'))
            return 0;
        return ct_buf_printf(arn, "arn:%s:kms:%s:%s:key/%s", partition, region, account, value);
    }
    return 0;
}

/* The ARN values of the resources array (already validated JSON). */
static int add_array(found *f, const ct_trail_record *rec)
{
    cJSON *array = cJSON_ParseWithLength(rec->resources_json, rec->resources_len);
    if (!array)
        return cJSON_GetErrorPtr() ? 0 : CT_ENOMEM;
    int rc = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array)
    {
        const cJSON *arn = cJSON_GetObjectItemCaseSensitive(item, "ARN");
        if (rc == 0 && cJSON_IsString(arn))
            rc = add_arn(f, arn->valuestring, strlen(arn->valuestring));
    }
    cJSON_Delete(array);
    return rc;
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
    found f = {CT_BUF_INIT, {0}, 0, false};
    ct_buf arn = CT_BUF_INIT;
    int rc = rec->resources_json ? add_array(&f, rec) : 0;
    for (size_t i = 0; rc == 0 && i < T.count; i++) {
        const struct rule *r = &T.rules[i];
        const char *value = param_value(rec, r->param);
        if (!value || strcmp(rec->event_source, r->source) != 0)
            continue;
        rc = build_arn(rec, r->form, value, &arn);
        if (rc == 0 && arn.len > 0)
            rc = add_arn(&f, arn.data, arn.len);
    }
    if (rc == 0 && f.over) {
        rc = ct_buf_puts(out, CT_TRAIL_RESOURCES_MORE);
    } else if (rc == 0 && f.count > 0) {
        const char *sorted[CT_TRAIL_RESOURCES_MAX];
        for (size_t i = 0; i < f.count; i++)
            sorted[i] = f.text.data + f.offsets[i];
        qsort(sorted, f.count, sizeof(sorted[0]), compare_strings);
        for (size_t i = 0; rc == 0 && i < f.count; i++)
            rc = ct_buf_printf(out, "%s%s", i ? "\n" : "", sorted[i]);
    }
    ct_buf_release(&f.text);
    ct_buf_release(&arn);
    if (rc != 0) {
        ct_buf_reset(out);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return 0;
}
