/* libFuzzer target for ct_trail_parse: aborts when a record breaks trail.h's
 * promises, when callbacks do not account for the input, or when an array
 * accepted without rejections disagrees with cJSON (the oracle) about it. */
#include "cloudtracker/error.h"
#include "cloudtracker/trail.h"
#include "cloudtracker/util.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* To fuzz: configure with -DCT_FUZZ=ON -DCMAKE_C_COMPILER=clang and
 * CMAKE_C_FLAGS=-fsanitize=fuzzer-no-link,address,undefined (so the parser
 * itself is instrumented), then
 *   fuzz_trail -dict=fuzz/trail.dict -max_len=16384 WORK_DIR fuzz/corpus/trail */

#define FIELD_MAX 4096 /* documented limit of an extracted value */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct state {
    const char *base; /* the input */
    size_t size;
    size_t records, rejects;
    const cJSON *array; /* the input as cJSON saw it, when it is an array */
    const cJSON *next;  /* its element for the next callback */
} state;

static void check_string(const char *s, bool required)
{
    if (!s) {
        if (required)
            abort();
        return;
    }
    size_t n = strnlen(s, FIELD_MAX + 1);
    if (n > FIELD_MAX || !ct_utf8_valid(s, n) || (required && n == 0))
        abort();
}

/* The last value at a path, whatever its type; NULL when absent (or under
 * something that is not an object). */
static const cJSON *last_at(const cJSON *obj, const char *const *path, int n)
{
    for (int i = 0; i < n; i++) {
        if (!cJSON_IsObject(obj))
            return NULL;
        const cJSON *last = NULL;
        for (const cJSON *it = obj->child; it; it = it->next)
            if (it->string && strcmp(it->string, path[i]) == 0)
                last = it;
        obj = last;
    }
    return obj;
}

/* The value at a path, taking the last of repeated keys as the scanner
 * does; NULL unless it is a string. */
static const char *oracle(const cJSON *obj, const char *a, const char *b, const char *c,
                          const char *d)
{
    const char *path[] = {a, b, c, d};
    int n = 0;
    while (n < 4 && path[n])
        n++;
    const cJSON *v = last_at(obj, path, n);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A delivered record has every field cloudtracker reads (outside the
 * request and response payloads) of the type CloudTrail writes there, or
 * null (no value, as if absent): otherwise it must have been rejected. */
static void check_types(const cJSON *o)
{
    static const char *const strings[][4] = {
        {"eventSource"},
        {"eventName"},
        {"eventTime"},
        {"eventID"},
        {"sharedEventID"},
        {"recipientAccountId"},
        {"errorCode"},
        {"eventType"},
        {"eventCategory"},
        {"userIdentity", "type"},
        {"userIdentity", "arn"},
        {"userIdentity", "accountId"},
        {"userIdentity", "accessKeyId"},
        {"userIdentity", "sessionContext", "sessionIssuer", "arn"},
        {"userIdentity", "userName"},
        {"userIdentity", "identityProvider"},
        {"userIdentity", "sessionContext", "sourceIdentity"},
        {"userIdentity", "onBehalfOf", "userId"},
        {"userIdentity", "onBehalfOf", "identityStoreArn"},
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        int n = 0;
        while (n < 4 && strings[i][n])
            n++;
        const cJSON *v = last_at(o, strings[i], n);
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
            abort();
    }
    static const char *const objects[][3] = {
        {"userIdentity"},
        {"userIdentity", "sessionContext"},
        {"userIdentity", "sessionContext", "sessionIssuer"},
        {"userIdentity", "onBehalfOf"},
    };
    for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
        int n = 0;
        while (n < 3 && objects[i][n])
            n++;
        const cJSON *v = last_at(o, objects[i], n);
        if (v && !cJSON_IsObject(v) && !cJSON_IsNull(v))
            abort();
    }
    static const char *const booleans[] = {"readOnly", "managementEvent"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = last_at(o, &booleans[i], 1);
        if (v && !cJSON_IsBool(v) && !cJSON_IsNull(v) &&
            !(cJSON_IsString(v) &&
              (strcmp(v->valuestring, "true") == 0 || strcmp(v->valuestring, "false") == 0)))
            abort();
    }
}

static void same(const char *got, const char *want)
{
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
        abort();
}

static void compare(const ct_trail_record *r, const cJSON *o)
{
    check_types(o);
    same(r->event_source, oracle(o, "eventSource", NULL, NULL, NULL));
    same(r->event_name, oracle(o, "eventName", NULL, NULL, NULL));
    same(r->event_id, oracle(o, "eventID", NULL, NULL, NULL));
    same(r->shared_event_id, oracle(o, "sharedEventID", NULL, NULL, NULL));
    same(r->recipient_account_id, oracle(o, "recipientAccountId", NULL, NULL, NULL));
    same(r->error_code, oracle(o, "errorCode", NULL, NULL, NULL));
    same(r->identity_type, oracle(o, "userIdentity", "type", NULL, NULL));
    same(r->identity_arn, oracle(o, "userIdentity", "arn", NULL, NULL));
    same(r->identity_account_id, oracle(o, "userIdentity", "accountId", NULL, NULL));
    same(r->access_key_id, oracle(o, "userIdentity", "accessKeyId", NULL, NULL));
    same(r->issuer_arn, oracle(o, "userIdentity", "sessionContext", "sessionIssuer", "arn"));
    same(r->role_arn, oracle(o, "requestParameters", "roleArn", NULL, NULL));
    same(r->role_session_name, oracle(o, "requestParameters", "roleSessionName", NULL, NULL));
    same(r->issued_key, oracle(o, "responseElements", "credentials", "accessKeyId", NULL));
    same(r->identity_user_name, oracle(o, "userIdentity", "userName", NULL, NULL));
    same(r->identity_provider, oracle(o, "userIdentity", "identityProvider", NULL, NULL));
    same(r->source_identity, oracle(o, "userIdentity", "sessionContext", "sourceIdentity", NULL));
    same(r->on_behalf_of, oracle(o, "userIdentity", "onBehalfOf", "userId", NULL));
    same(r->identity_store, oracle(o, "userIdentity", "onBehalfOf", "identityStoreArn", NULL));
    same(r->request_source_identity, oracle(o, "requestParameters", "sourceIdentity", NULL, NULL));
    same(r->response_source_identity, oracle(o, "responseElements", "sourceIdentity", NULL, NULL));
    same(r->response_subject, oracle(o, "responseElements", "subject", NULL, NULL));
    same(r->response_web_subject,
         oracle(o, "responseElements", "subjectFromWebIdentityToken", NULL, NULL));
    same(r->response_issuer, oracle(o, "responseElements", "issuer", NULL, NULL));
    same(r->response_provider, oracle(o, "responseElements", "provider", NULL, NULL));
    same(r->event_type, oracle(o, "eventType", NULL, NULL, NULL));
    same(r->event_category, oracle(o, "eventCategory", NULL, NULL, NULL));
    /* The booleans: the last readOnly as a literal or a "true"/"false" string. */
    const char *names[2] = {"readOnly", "managementEvent"};
    int got[2] = {r->read_only, r->management_event};
    for (int i = 0; i < 2; i++) {
        const cJSON *last = NULL;
        for (const cJSON *it = o->child; it; it = it->next)
            if (it->string && strcmp(it->string, names[i]) == 0)
                last = it;
        const char *str = cJSON_IsString(last) ? last->valuestring : "";
        int want = cJSON_IsTrue(last) || strcmp(str, "true") == 0     ? 1
                   : cJSON_IsFalse(last) || strcmp(str, "false") == 0 ? 0
                                                                      : -1;
        if (got[i] != want)
            abort();
    }
}

/* Whether `arn` is the "ARN" string of some element of the array (the
 * last of a repeated key, as the scanner reads objects). */
static bool in_array(const cJSON *array, const char *arn)
{
    static const char *const key[] = {"ARN"};
    const cJSON *item;
    cJSON_ArrayForEach(item, array)
    {
        const cJSON *v = last_at(item, key, 1);
        if (cJSON_IsString(v) && strcmp(v->valuestring, arn) == 0)
            return true;
    }
    return false;
}

/* The resources span is the record's array, as JSON; the set the record
 * names is sorted, without repeats, of usable ARNs, each from the array
 * (cJSON's reading of it) or, when the record has one, a parameter. */
static void check_resources(const state *st, const ct_trail_record *r, bool any_param)
{
    cJSON *array = NULL;
    if (r->resources_json) {
        if (r->resources_len < 2 || r->resources_json[0] != '[' ||
            r->resources_json[r->resources_len - 1] != ']' ||
            (size_t)(r->resources_json - st->base) + r->resources_len > st->size)
            abort();
        array = cJSON_ParseWithLength(r->resources_json, r->resources_len);
        if (!cJSON_IsArray(array))
            abort();
    }
    ct_buf set = CT_BUF_INIT;
    ct_error err;
    if (ct_trail_resource_set(r, &set, &err) != 0)
        abort();
    if (set.len && strcmp(set.data, CT_TRAIL_RESOURCES_MORE) != 0) {
        size_t n = 0;
        char *prev = NULL;
        for (char *arn = strtok(set.data, "\n"); arn; arn = strtok(NULL, "\n")) {
            if (strncmp(arn, "arn:", 4) != 0 || (prev && strcmp(prev, arn) >= 0) ||
                ++n > CT_TRAIL_RESOURCES_MAX)
                abort();
            for (const char *c = arn; *c; c++)
                if ((unsigned char)*c < 0x20)
                    abort();
            if (!any_param && !in_array(array, arn))
                abort();
            prev = arn;
        }
    }
    ct_buf_release(&set);
    cJSON_Delete(array);
}

static int on_record(void *ud, const ct_trail_record *r)
{
    state *st = ud;
    check_string(r->event_source, true);
    check_string(r->event_name, true);
    const char *optional[] = {
        r->event_id,      r->shared_event_id, r->recipient_account_id, r->error_code,
        r->identity_type, r->identity_arn,    r->identity_account_id,  r->access_key_id,
        r->issuer_arn,    r->role_arn,        r->role_session_name,    r->issued_key,
        r->event_type,    r->event_category};
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
        check_string(optional[i], false);
    const char *people[] = {r->identity_user_name,       r->identity_provider,
                            r->source_identity,          r->on_behalf_of,
                            r->identity_store,           r->request_source_identity,
                            r->response_source_identity, r->response_subject,
                            r->response_web_subject,     r->response_issuer,
                            r->response_provider};
    for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++)
        check_string(people[i], false);
    const char *params[] = {r->request_bucket_name, r->request_function_name, r->request_table_name,
                            r->request_queue_url,   r->request_topic_arn,     r->request_key_id};
    bool any_param = r->role_arn != NULL;
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        check_string(params[i], false);
        any_param = any_param || params[i];
    }
    check_resources(st, r, any_param);
    /* While cJSON and the scanner agree, element i gave callback i. */
    if (st->array) {
        if (!st->next)
            abort();
        compare(r, st->next);
        st->next = st->next->next;
    }
    st->records++;
    return 0;
}

static int on_reject(void *ud, size_t offset, const char *reason)
{
    state *st = ud;
    if (offset > st->size || !reason || !*reason)
        abort();
    if (st->next)
        st->next = st->next->next;
    st->rejects++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    state st = {text, size, 0, 0, NULL, NULL};

    /* cJSON reads a NUL-terminated copy, so its own overreads stay quiet. */
    cJSON *doc = NULL;
    size_t skip = size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, text, size);
    copy[size] = '\0';
    const char *doc_end = NULL;
    doc = cJSON_ParseWithLengthOpts(copy + skip, size - skip, &doc_end, false);
    if (doc && doc_end) {
        while (doc_end < copy + size && strchr(" \t\r\n", *doc_end) && *doc_end)
            doc_end++;
        if (doc_end != copy + size) {
            cJSON_Delete(doc);
            doc = NULL;
        }
    }
    /* cJSON cuts strings at U+0000, so keys holding it would compare
     * wrongly; leave such inputs to the other checks. */
    bool nul_escape = false;
    for (size_t i = 0; i + 6 <= size && !nul_escape; i++)
        nul_escape = memcmp(text + i, "\\u0000", 6) == 0;
    if (cJSON_IsArray(doc) && !nul_escape) {
        st.array = doc;
        st.next = doc->child;
    }

    ct_error err;
    ct_error_clear(&err);
    int rc = ct_trail_parse(text, size, NULL, on_record, on_reject, &st, &err);
    if (rc != 0 && rc != CT_EINPUT && rc != CT_ENOMEM)
        abort();
    if (rc == CT_EINPUT && (st.records || st.rejects || !err.message[0]))
        abort();
    /* Some non-whitespace input was seen: something must say so. */
    if (rc == 0 && st.records + st.rejects == 0) {
        size_t i = skip;
        while (i < size && strchr(" \t\r\n", text[i]) && text[i])
            i++;
        /* Only "[]" and {"Records":[]}-like documents deliver nothing. */
        if (i < size && text[i] != '[' && text[i] != '{')
            abort();
    }
    /* An array accepted without a single rejection is valid JSON whose
     * elements were all delivered. */
    if (rc == 0 && st.array && st.rejects == 0 &&
        (size_t)cJSON_GetArraySize(st.array) != st.records)
        abort();
    if (rc == 0 && st.rejects == 0 && size > skip) {
        size_t i = skip;
        while (i < size && strchr(" \t\r\n", text[i]) && text[i])
            i++;
        if (i < size && text[i] == '[' && !cJSON_IsArray(doc))
            abort();
    }
    /* Naming another time field never loses a record: it can only turn
     * rejects ("missing eventTime") into records. */
    if (rc == 0) {
        state again = {text, size, 0, 0, NULL, NULL};
        ct_trail_options opts = {"@timestamp"};
        if (ct_trail_parse(text, size, &opts, on_record, on_reject, &again, &err) != 0 ||
            again.records + again.rejects != st.records + st.rejects || again.records < st.records)
            abort();
    }
    cJSON_Delete(doc);
    free(copy);
    return 0;
}
