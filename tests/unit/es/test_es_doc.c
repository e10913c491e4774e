/* Unit tests for the CloudTrail index template and ct_es_doc_prepare: the
 * template's fields and types, every move-aside rule on small records, the
 * round trip of moved values, malformed input, and the 310 real records of
 * tests/data/stratus-red-team (nothing moved, bytes kept); and for
 * ct_es_doc_add_resources, the derived field, on small documents and on
 * those real records. */
#include "es_doc_check.h"
#include "es/es_doc.h"
#include "test.h"

#include "cloudtracker/error.h"
#include "cloudtracker/trail.h"

#include <dirent.h>
#include <stdlib.h>
#include <time.h>

/* ---- helpers ---- */

static cJSON *mappings_json(bool legacy)
{
    ct_buf b = CT_BUF_INIT;
    CHECK_INT(ct_es_mappings_body(&b, legacy), 0);
    cJSON *m = cJSON_ParseWithLength(b.data, b.len);
    ct_buf_release(&b);
    CHECK(m != NULL);
    if (legacy && m) {
        cJSON *inner = cJSON_DetachItemFromObjectCaseSensitive(m, "_doc");
        cJSON_Delete(m);
        m = inner;
    }
    return m;
}

static cJSON *g_mappings;

/* Prepares `in`, checks the promises every output keeps (one line, valid
 * JSON, conforms to the mapping, cloudtrackerMoved counts the moves) and
 * returns the malloc'd output, or NULL when rc != 0. */
static char *prep_t(const char *in, size_t len, int64_t t, unsigned *moved, int *rc)
{
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "prefix");
    *rc = ct_es_doc_prepare(&b, in, len, t, false, moved);
    if (*rc) {
        CHECK_INT(b.len, 6);
        ct_buf_release(&b);
        return NULL;
    }
    CHECK(b.len > 6);
    CHECK(memcmp(b.data, "prefix", 6) == 0);
    char *out = ct_strndup(b.data + 6, b.len - 6);
    ct_buf_release(&b);
    CHECK(strchr(out, '\n') == NULL && strchr(out, '\r') == NULL);
    CHECK(out[0] == '{' && out[strlen(out) - 1] == '}');
    cJSON *doc = cJSON_Parse(out);
    CHECK(doc != NULL);
    CHECK(esc_conforms(doc, g_mappings));
    /* Only ct_es_doc_add_resources writes the derived field. */
    CHECK(cJSON_GetObjectItemCaseSensitive(doc, CT_ES_RESOURCES_KEY) == NULL);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, CT_ES_MOVED_KEY);
    CHECK_INT(m ? cJSON_GetArraySize(m) : 0, *moved);
    cJSON_Delete(doc);
    return out;
}

static char *prep(const char *in, unsigned *moved)
{
    int rc;
    char *out = prep_t(in, strlen(in), 1527854400 /* 2018-06-01T12:00:00Z */, moved, &rc);
    CHECK_INT(rc, 0);
    return out;
}

/* Checks that putting the moved values back gives the input's data. */
static void check_round_trip(const char *in, const char *out)
{
    cJSON *want = cJSON_Parse(in), *got = cJSON_Parse(out);
    CHECK(want && got);
    CHECK(esc_reinsert(got));
    CHECK(cJSON_Compare(want, got, true));
    cJSON_Delete(want);
    cJSON_Delete(got);
}

/* Expects `in` to give exactly `want` with `nmoved` moves, and to round-trip. */
static void expect(const char *in, const char *want, unsigned nmoved)
{
    unsigned moved = 99;
    char *out = prep(in, &moved);
    if (!out)
        return;
    CHECK_STR(out, want);
    CHECK_INT(moved, nmoved);
    check_round_trip(in, out);
    free(out);
}

static void expect_einput(const char *in, size_t len)
{
    unsigned moved = 99;
    int rc;
    char *out = prep_t(in, len, 0, &moved, &rc);
    CHECK_INT(rc, CT_EINPUT);
    CHECK_INT(moved, 0);
    CHECK(out == NULL);
    free(out);
}

/* Removes JSON whitespace outside strings. */
static char *squeeze(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in) {
            o[k++] = c;
            if (c == '\\' && i + 1 < n)
                o[k++] = s[++i];
            else if (c == '"')
                in = false;
        } else if (c == '"') {
            in = true;
            o[k++] = c;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            o[k++] = c;
        }
    }
    o[k] = '\0';
    return o;
}

/* ---- the template ---- */

static const cJSON *get(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *seg = strtok(buf, "/"); seg && o; seg = strtok(NULL, "/"))
        o = cJSON_GetObjectItemCaseSensitive(o, seg);
    return o;
}

static const char *get_str(const cJSON *o, const char *path)
{
    const cJSON *v = get(o, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void check_mappings(const cJSON *m)
{
    CHECK(cJSON_IsFalse(get(m, "dynamic")));
    CHECK(cJSON_IsFalse(get(m, "date_detection")));
    const cJSON *v = get(m, "_meta/cloudtracker/mapping_version");
    CHECK(cJSON_IsNumber(v) && v->valueint == CT_ES_MAPPING_VERSION);
    const cJSON *p = get(m, "properties");
    CHECK_STR(get_str(p, "eventTime/type"), "date");
    static const char *const keywords[] = {
        "eventVersion",    "eventSource",   "eventName",  "eventType",    "eventCategory",
        "eventID",         "sharedEventID", "requestID",  "awsRegion",    "recipientAccountId",
        "sourceIPAddress", "errorCode",     "apiVersion", "vpcEndpointId"};
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/type", keywords[i]);
        CHECK_STR(get_str(p, path), "keyword");
        snprintf(path, sizeof(path), "%s/ignore_above", keywords[i]);
        CHECK_INT(cJSON_GetNumberValue(get(p, path)), 8191);
    }
    CHECK_STR(get_str(p, "userAgent/type"), "keyword");
    CHECK_INT(cJSON_GetNumberValue(get(p, "userAgent/ignore_above")), 1024);
    CHECK_STR(get_str(p, "errorMessage/type"), "text");
    CHECK_STR(get_str(p, "readOnly/type"), "boolean");
    CHECK_STR(get_str(p, "managementEvent/type"), "boolean");
    static const char *const uid[] = {"type",        "arn",      "principalId", "accountId",
                                      "accessKeyId", "userName", "invokedBy"};
    for (size_t i = 0; i < sizeof(uid) / sizeof(uid[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "userIdentity/properties/%s/type", uid[i]);
        CHECK_STR(get_str(p, path), "keyword");
    }
    const cJSON *sc = get(p, "userIdentity/properties/sessionContext/properties");
    CHECK_STR(get_str(sc, "sourceIdentity/type"), "keyword");
    static const char *const si[] = {"type", "arn", "userName", "principalId", "accountId"};
    for (size_t i = 0; i < sizeof(si) / sizeof(si[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "sessionIssuer/properties/%s/type", si[i]);
        CHECK_STR(get_str(sc, path), "keyword");
    }
    CHECK_INT(cJSON_GetArraySize(get(sc, "sessionIssuer/properties")), 5);
    CHECK(cJSON_IsFalse(get(p, "requestParameters/dynamic")));
    CHECK_STR(get_str(p, "requestParameters/properties/roleArn/type"), "keyword");
    CHECK_STR(get_str(p, "requestParameters/properties/roleSessionName/type"), "keyword");
    CHECK(cJSON_IsFalse(get(p, "responseElements/dynamic")));
    CHECK_STR(get_str(p, "responseElements/properties/credentials/properties/accessKeyId/type"),
              "keyword");
    CHECK_STR(get_str(p, "responseElements/properties/assumedRoleUser/properties/arn/type"),
              "keyword");
    /* Who is behind a role session, and the keys that join a session to the
     * event that opened it: aggregatable keywords (doc_values and index
     * left at their defaults). */
    static const char *const people[] = {
        "eventID",
        "sharedEventID",
        "userIdentity/properties/principalId",
        "userIdentity/properties/userName",
        "userIdentity/properties/identityProvider",
        "userIdentity/properties/onBehalfOf/properties/userId",
        "userIdentity/properties/onBehalfOf/properties/identityStoreArn",
        "userIdentity/properties/sessionContext/properties/sourceIdentity",
        "requestParameters/properties/roleSessionName",
        "requestParameters/properties/sourceIdentity",
        "responseElements/properties/sourceIdentity",
        "responseElements/properties/subject",
        "responseElements/properties/subjectFromWebIdentityToken",
        "responseElements/properties/issuer",
        "responseElements/properties/provider",
        "responseElements/properties/assumedRoleUser/properties/assumedRoleId",
        "responseElements/properties/assumedRoleUser/properties/arn",
    };
    for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
        const cJSON *f = get(p, people[i]);
        CHECK_STR(get_str(f, "type"), "keyword");
        CHECK_INT(cJSON_GetNumberValue(get(f, "ignore_above")), 8191);
        CHECK_INT(cJSON_GetArraySize(f), 2);
    }
    CHECK(get(p, "userIdentity/properties/onBehalfOf/type") == NULL); /* a plain object */
    CHECK_INT(cJSON_GetArraySize(get(p, "userIdentity/properties/onBehalfOf/properties")), 2);
    CHECK_INT(cJSON_GetArraySize(get(p, "userIdentity/properties")), 10);
    CHECK_INT(cJSON_GetArraySize(get(p, "requestParameters/properties")), 3);
    CHECK_INT(cJSON_GetArraySize(get(p, "responseElements/properties")), 7);
    CHECK_INT(cJSON_GetArraySize(get(p, "responseElements/properties/assumedRoleUser/properties")),
              2);
    static const char *const off[] = {"additionalEventData", "serviceEventDetails", "resources",
                                      "tlsDetails", CT_ES_MOVED_KEY};
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/enabled", off[i]);
        CHECK(cJSON_IsFalse(get(p, path)));
    }
    /* The resources a record names: a keyword the queries aggregate on,
     * values too long for a term left unindexed. */
    CHECK_STR(get_str(p, CT_ES_RESOURCES_KEY "/type"), "keyword");
    CHECK_INT(cJSON_GetNumberValue(get(p, CT_ES_RESOURCES_KEY "/ignore_above")), 8191);
    CHECK_INT(CT_ES_RESOURCES_INDEXED, 8191);
    CHECK_INT(cJSON_GetArraySize(get(p, CT_ES_RESOURCES_KEY)), 2);
    /* 14 keyword + userAgent + eventTime + errorMessage + 2 booleans +
     * userIdentity + requestParameters + responseElements + 5 disabled +
     * cloudtrackerResources. */
    CHECK_INT(cJSON_GetArraySize(p), 28);
}

static void test_template(void)
{
    ct_buf b = CT_BUF_INIT;
    CHECK_INT(ct_es_template_body(&b, false, "cloudtrail-*", NULL, 200, 1, 0, "-1"), 0);
    cJSON *t = cJSON_ParseWithLength(b.data, b.len);
    CHECK(t != NULL);
    CHECK_STR(get_str(t, "index_patterns")
                  ? NULL
                  : cJSON_GetArrayItem(get(t, "index_patterns"), 0)->valuestring,
              "cloudtrail-*");
    CHECK_INT(cJSON_GetArraySize(get(t, "index_patterns")), 1);
    CHECK_INT(cJSON_GetNumberValue(get(t, "priority")), 200);
    CHECK(get(t, "order") == NULL);
    CHECK_INT(cJSON_GetNumberValue(get(t, "template/settings/number_of_shards")), 1);
    CHECK_INT(cJSON_GetNumberValue(get(t, "template/settings/number_of_replicas")), 0);
    CHECK_STR(get_str(t, "template/settings/refresh_interval"), "-1");
    check_mappings(get(t, "template/mappings"));
    CHECK(get(t, "template/aliases") == NULL && get(t, "aliases") == NULL);
    cJSON_Delete(t);

    /* An alias for every index made from the template. */
    for (int legacy = 0; legacy < 2; legacy++) {
        ct_buf_reset(&b);
        CHECK_INT(ct_es_template_body(&b, legacy, "cloudtrail-*.*", "cloud\"trail", 210, 1, 1,
                                      "30s"),
                  0);
        t = cJSON_ParseWithLength(b.data, b.len);
        CHECK(t != NULL);
        const cJSON *aliases = get(t, legacy ? "aliases" : "template/aliases");
        CHECK_INT(cJSON_GetArraySize(aliases), 1);
        CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(aliases, "cloud\"trail")));
        CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(aliases, "cloud\"trail")),
                  0);
        check_mappings(get(t, legacy ? "mappings/_doc" : "template/mappings"));
        cJSON_Delete(t);
    }

    ct_buf_reset(&b);
    CHECK_INT(ct_es_template_body(&b, true, "ct-\"x\"-*", NULL, 7, 3, 2, NULL), 0);
    t = cJSON_ParseWithLength(b.data, b.len);
    CHECK(t != NULL);
    CHECK_STR(cJSON_GetArrayItem(get(t, "index_patterns"), 0)->valuestring, "ct-\"x\"-*");
    CHECK_INT(cJSON_GetNumberValue(get(t, "order")), 7);
    CHECK(get(t, "priority") == NULL && get(t, "template") == NULL);
    CHECK_INT(cJSON_GetNumberValue(get(t, "settings/number_of_shards")), 3);
    CHECK_INT(cJSON_GetNumberValue(get(t, "settings/number_of_replicas")), 2);
    CHECK(get(t, "settings/refresh_interval") == NULL);
    CHECK_INT(cJSON_GetArraySize(get(t, "mappings")), 1);
    check_mappings(get(t, "mappings/_doc"));
    cJSON_Delete(t);

    /* The mappings alone, and recognising them back. */
    for (int legacy = 0; legacy < 2; legacy++) {
        ct_buf_reset(&b);
        CHECK_INT(ct_es_mappings_body(&b, legacy), 0);
        CHECK(ct_es_mappings_are_ours(b.data, b.len));
        CHECK_INT(ct_es_mappings_version(b.data, b.len), CT_ES_MAPPING_VERSION);
        cJSON *m = mappings_json(legacy);
        check_mappings(m);
        cJSON_Delete(m);
    }
    const char *es6 = "{\"doc\":{\"_meta\":{\"cloudtracker\":{\"mapping_version\":3}},"
                      "\"properties\":{}}}";
    CHECK_INT(ct_es_mappings_version(es6, strlen(es6)), 3);
    const char *theirs[] = {
        "{}",
        "{\"properties\":{\"a\":{\"type\":\"keyword\"}}}",
        "{\"_meta\":{\"other\":1}}",
        "not json",
        "[1]",
        "{\"_meta\":{\"cloudtracker\":{\"mapping_version\":\"1\"}}}",
        "{\"a\":{},\"b\":{\"_meta\":{\"cloudtracker\":{\"mapping_version\":1}}}}"};
    for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
        CHECK(!ct_es_mappings_are_ours(theirs[i], strlen(theirs[i])));
    CHECK(!ct_es_mappings_are_ours(NULL, 0));
    ct_buf_release(&b);
}

/* ---- the rules ---- */

static void test_nothing_to_move(void)
{
    const char *rec =
        "{\"eventVersion\":\"1.08\",\"eventTime\":\"2024-07-31T13:06:24Z\","
        "\"eventName\":\"AssumeRole\",\"readOnly\":true,\"managementEvent\":\"false\","
        "\"userIdentity\":{\"type\":\"IAMUser\",\"sessionContext\":{\"sessionIssuer\":"
        "{\"arn\":\"a\"},\"attributes\":{\"x\":{}}}},\"requestParameters\":{\"roleArn\":"
        "[\"a\",\"b\"],\"policy\":{\"deep\":[{\"x\":1}]}},\"responseElements\":null,"
        "\"errorCode\":12,\"apiVersion\":[[\"x\"],null,true],"
        "\"additionalEventData\":\"str\",\"resources\":[{\"ARN\":\"x\"}],"
        "\"unmapped\":{\"a\":[1,{\"b\":2}]},\"n\":-1.5e+300}";
    expect(rec, rec, 0);
    /* Fraction digits from 1 to 9, a leap day. */
    expect("{\"eventTime\":\"2024-02-29T23:59:59.1Z\"}",
           "{\"eventTime\":\"2024-02-29T23:59:59.1Z\"}", 0);
    expect("{\"eventTime\":\"2024-02-29T23:59:59.123456789Z\"}",
           "{\"eventTime\":\"2024-02-29T23:59:59.123456789Z\"}", 0);
    expect("{}", "{}", 0);
    expect("  \n{ }\n ", "{ }", 0);
}

static void test_big_integer_moved_verbatim(void)
{
    expect(
        "{\"eventName\":\"X\",\"responseElements\":12345678901234567890}",
        "{\"eventName\":\"X\",\"cloudtrackerMoved\":{\"responseElements\":12345678901234567890}}",
        1);
    /* Exponents and fractions stay as written too. */
    expect("{\"readOnly\":1.50E+3,\"a\":1}",
           "{\"a\":1,\"cloudtrackerMoved\":{\"readOnly\":1.50E+3}}", 1);
}

static void test_object_paths(void)
{
    expect("{\"eventName\":\"X\",\"responseElements\":\"Access denied\"}",
           "{\"eventName\":\"X\",\"cloudtrackerMoved\":{\"responseElements\":\"Access denied\"}}",
           1);
    expect("{\"userIdentity\":\"root\",\"eventName\":\"X\"}",
           "{\"eventName\":\"X\",\"cloudtrackerMoved\":{\"userIdentity\":\"root\"}}", 1);
    expect("{\"userIdentity\":[{\"type\":\"Root\"}]}",
           "{\"cloudtrackerMoved\":{\"userIdentity\":[{\"type\":\"Root\"}]}}", 1);
    expect("{\"userIdentity\":null}", "{\"userIdentity\":null}", 0);
    expect("{\"requestParameters\":{\"roleArn\":{\"a\":1},\"x\":1}}",
           "{\"requestParameters\":{\"x\":1},\"cloudtrackerMoved\":{\"requestParameters.roleArn\":"
           "{\"a\":1}}}",
           1);
    expect(
        "{\"userIdentity\":{\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"arn\":"
        "{\"x\":[]},\"userName\":\"u\"}}}}",
        "{\"userIdentity\":{\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"userName\":"
        "\"u\"}}},\"cloudtrackerMoved\":{\"userIdentity.sessionContext.sessionIssuer.arn\":"
        "{\"x\":[]}}}",
        1);
    expect("{\"responseElements\":{\"credentials\":\"hidden\",\"assumedRoleUser\":{\"arn\":[1,[{}]]"
           "}}}",
           "{\"responseElements\":{\"assumedRoleUser\":{}},\"cloudtrackerMoved\":{"
           "\"responseElements.credentials\":"
           "\"hidden\",\"responseElements.assumedRoleUser.arn\":[1,[{}]]}}",
           2);
}

/* The fields that name who is behind a role session: strings kept as they
 * are, in the record shapes CloudTrail writes; what a keyword cannot take
 * (objects: other services' payloads use these names too) moved aside. */
static void test_people_paths(void)
{
    const char *saml =
        "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"SAMLUser\",\"principalId\":"
        "\"Q0VvXJ4o=:alice@example.com\",\"userName\":\"alice@example.com\","
        "\"identityProvider\":\"Q0VvXJ4o=\"},\"eventTime\":\"2024-07-30T21:53:13Z\","
        "\"eventSource\":\"sts.amazonaws.com\",\"eventName\":\"AssumeRoleWithSAML\","
        "\"requestParameters\":{\"roleSessionName\":\"alice@example.com\",\"roleArn\":"
        "\"arn:aws:iam::444455556666:role/SAMLRole\",\"durationSeconds\":3600,"
        "\"sourceIdentity\":\"alice\",\"principalTags\":{\"CostCenter\":\"1234\"}},"
        "\"responseElements\":{\"subjectType\":\"persistent\",\"issuer\":"
        "\"http://www.okta.com/exk1\",\"credentials\":{\"accessKeyId\":\"ASIASAML\"},"
        "\"nameQualifier\":\"Q0VvXJ4o=\",\"subject\":\"alice@example.com\","
        "\"sourceIdentity\":\"alice\",\"assumedRoleUser\":{\"assumedRoleId\":"
        "\"AROASAML:alice@example.com\",\"arn\":\"arn:aws:sts::444455556666:assumed-role/"
        "SAMLRole/alice@example.com\"},\"packedPolicySize\":1},\"eventID\":\"e-1\"}";
    expect(saml, saml, 0);
    const char *web =
        "{\"userIdentity\":{\"type\":\"WebIdentityUser\",\"userName\":\"1234\","
        "\"identityProvider\":\"accounts.google.com\"},\"responseElements\":{"
        "\"credentials\":{\"accessKeyId\":\"ASIAWEB\"},\"subjectFromWebIdentityToken\":"
        "\"1234\",\"provider\":\"accounts.google.com\",\"audience\":\"app\"}}";
    expect(web, web, 0);
    const char *idc = "{\"userIdentity\":{\"type\":\"IdentityCenterUser\",\"accountId\":"
                      "\"333333333333\",\"onBehalfOf\":{\"userId\":\"544894e8\","
                      "\"identityStoreArn\":\"arn:aws:identitystore::333333333333:"
                      "identitystore/d-1\",\"subjectType\":\"user\"},\"credentialId\":\"c\"},"
                      "\"eventName\":\"UserAuthentication\"}";
    expect(idc, idc, 0);
    const char *chained =
        "{\"userIdentity\":{\"type\":\"AssumedRole\",\"accessKeyId\":\"ASIAS1\","
        "\"sessionContext\":{\"sessionIssuer\":{\"arn\":\"r\"},\"sourceIdentity\":"
        "\"alice\"}},\"responseElements\":{\"credentials\":{\"accessKeyId\":\"ASIAS2\"},"
        "\"sourceIdentity\":\"alice\"},\"onBehalfOf\":{\"x\":{}}}";
    expect(chained, chained, 0); /* a root onBehalfOf is not mapped */

    expect("{\"eventSource\":\"acm.amazonaws.com\",\"responseElements\":{\"subject\":{"
           "\"commonName\":\"x\"},\"issuer\":{\"o\":\"y\"},\"provider\":[\"p\"],"
           "\"serial\":\"1\"}}",
           "{\"eventSource\":\"acm.amazonaws.com\",\"responseElements\":{\"provider\":[\"p\"],"
           "\"serial\":\"1\"},\"cloudtrackerMoved\":{\"responseElements.subject\":{"
           "\"commonName\":\"x\"},\"responseElements.issuer\":{\"o\":\"y\"}}}",
           2);
    expect("{\"userIdentity\":{\"onBehalfOf\":\"u-1\",\"identityProvider\":{\"a\":1}}}",
           "{\"userIdentity\":{},\"cloudtrackerMoved\":{\"userIdentity.onBehalfOf\":\"u-1\","
           "\"userIdentity.identityProvider\":{\"a\":1}}}",
           2);
    expect("{\"userIdentity\":{\"onBehalfOf\":{\"userId\":{\"id\":1},\"identityStoreArn\":"
           "\"s\"}},\"requestParameters\":{\"sourceIdentity\":[{\"a\":1}]},"
           "\"responseElements\":{\"subjectFromWebIdentityToken\":{},\"sourceIdentity\":{},"
           "\"assumedRoleUser\":{\"assumedRoleId\":{}}}}",
           "{\"userIdentity\":{\"onBehalfOf\":{\"identityStoreArn\":\"s\"}},"
           "\"requestParameters\":{},\"responseElements\":{\"assumedRoleUser\":{}},"
           "\"cloudtrackerMoved\":{\"userIdentity.onBehalfOf.userId\":{\"id\":1},"
           "\"requestParameters.sourceIdentity\":[{\"a\":1}],"
           "\"responseElements.subjectFromWebIdentityToken\":{},"
           "\"responseElements.sourceIdentity\":{},"
           "\"responseElements.assumedRoleUser.assumedRoleId\":{}}}",
           5);
    expect("{\"userIdentity\":{\"onBehalfOf\":null,\"identityProvider\":null}}",
           "{\"userIdentity\":{\"onBehalfOf\":null,\"identityProvider\":null}}", 0);
}

static void test_leaf_paths(void)
{
    expect("{\"errorCode\":{\"code\":\"X\"},\"eventName\":\"Y\"}",
           "{\"eventName\":\"Y\",\"cloudtrackerMoved\":{\"errorCode\":{\"code\":\"X\"}}}", 1);
    expect("{\"errorCode\":[\"a\",[{\"b\":1}]]}",
           "{\"cloudtrackerMoved\":{\"errorCode\":[\"a\",[{\"b\":1}]]}}", 1);
    expect("{\"errorMessage\":[\"a\",1,null,[true]]}", "{\"errorMessage\":[\"a\",1,null,[true]]}",
           0);
    expect("{\"errorMessage\":{}}", "{\"cloudtrackerMoved\":{\"errorMessage\":{}}}", 1);
    expect("{\"readOnly\":\"yes\"}", "{\"cloudtrackerMoved\":{\"readOnly\":\"yes\"}}", 1);
    expect("{\"readOnly\":\"\"}", "{\"cloudtrackerMoved\":{\"readOnly\":\"\"}}", 1);
    expect("{\"readOnly\":[true,\"false\",null]}", "{\"readOnly\":[true,\"false\",null]}", 0);
    expect("{\"readOnly\":[true,0]}", "{\"cloudtrackerMoved\":{\"readOnly\":[true,0]}}", 1);
    expect("{\"managementEvent\":{}}", "{\"cloudtrackerMoved\":{\"managementEvent\":{}}}", 1);
}

static void test_event_time(void)
{
    expect("{\"eventTime\":\"2018-06-01 12:00:00\",\"eventName\":\"X\"}",
           "{\"eventTime\":\"2018-06-01T12:00:00Z\",\"eventName\":\"X\",\"cloudtrackerMoved\":"
           "{\"eventTime\":\"2018-06-01 12:00:00\"}}",
           1);
    expect("{\"a\":1,\"eventTime\":1527854400}",
           "{\"a\":1,\"eventTime\":\"2018-06-01T12:00:00Z\",\"cloudtrackerMoved\":{\"eventTime\":"
           "1527854400}}",
           1);
    static const char *const bad[] = {"\"2018-02-30T00:00:00Z\"",
                                      "\"2019-02-29T00:00:00Z\"",
                                      "\"2018-06-01T24:00:00Z\"",
                                      "\"2018-06-01T12:00:60Z\"",
                                      "\"2018-06-01T12:00:00\"",
                                      "\"2018-06-01T12:00:00.Z\"",
                                      "\"2018-06-01T12:00:00.1234567890Z\"",
                                      "\"2018-06-01T12:00:00+00:00\"",
                                      "\"2018-06-01\"",
                                      "\"\"",
                                      "null",
                                      "[\"2018-06-01T12:00:00Z\"]",
                                      "{}",
                                      "\"2018-06-01T12:00:00\\u005a\"",
                                      "\"0000-01-01T00:00:00Z\"",
                                      "\"-2018-06-01T12:00:00Z\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char in[128], want[192];
        snprintf(in, sizeof(in), "{\"eventTime\":%s}", bad[i]);
        snprintf(
            want, sizeof(want),
            "{\"eventTime\":\"2018-06-01T12:00:00Z\",\"cloudtrackerMoved\":{\"eventTime\":%s}}",
            bad[i]);
        expect(in, want, 1);
    }
    /* Other instants, and one no 4-digit year can hold: left out. */
    unsigned moved;
    int rc;
    const char *in = "{\"eventTime\":0}";
    char *out = prep_t(in, strlen(in), 951782400 + 86399, &moved, &rc);
    CHECK_STR(out,
              "{\"eventTime\":\"2000-02-29T23:59:59Z\",\"cloudtrackerMoved\":{\"eventTime\":0}}");
    free(out);
    out = prep_t(in, strlen(in), -1, &moved, &rc);
    CHECK_STR(out,
              "{\"eventTime\":\"1969-12-31T23:59:59Z\",\"cloudtrackerMoved\":{\"eventTime\":0}}");
    free(out);
    out = prep_t(in, strlen(in), INT64_C(-62135596800), &moved, &rc);
    CHECK_STR(out,
              "{\"eventTime\":\"0001-01-01T00:00:00Z\",\"cloudtrackerMoved\":{\"eventTime\":0}}");
    free(out);
    out = prep_t(in, strlen(in), INT64_C(253402300799), &moved, &rc);
    CHECK_STR(out,
              "{\"eventTime\":\"9999-12-31T23:59:59Z\",\"cloudtrackerMoved\":{\"eventTime\":0}}");
    free(out);
    out = prep_t(in, strlen(in), INT64_C(-62135596801), &moved, &rc);
    CHECK_STR(out, "{\"cloudtrackerMoved\":{\"eventTime\":0}}");
    free(out);
    out = prep_t(in, strlen(in), INT64_C(253402300800), &moved, &rc);
    CHECK_STR(out, "{\"cloudtrackerMoved\":{\"eventTime\":0}}");
    free(out);
    out = prep_t(in, strlen(in), INT64_MIN, &moved, &rc);
    CHECK_STR(out, "{\"cloudtrackerMoved\":{\"eventTime\":0}}");
    free(out);
}

/* Records read with files.timestamp_field (no eventTime) get one made from
 * the scanner's time, before any moved member; a record with one keeps it. */
static void test_added_event_time(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"{\"@timestamp\":\"2018-06-01T12:00:00.5Z\",\"eventName\":\"X\"}",
         "{\"@timestamp\":\"2018-06-01T12:00:00.5Z\",\"eventName\":\"X\","
         "\"eventTime\":\"2018-06-01T12:00:00Z\"}"},
        {"{\"eventName\":\"X\",\"responseElements\":\"no\"}",
         "{\"eventName\":\"X\",\"eventTime\":\"2018-06-01T12:00:00Z\","
         "\"cloudtrackerMoved\":{\"responseElements\":\"no\"}}"},
        {"{\"responseElements\":\"no\"}", "{\"eventTime\":\"2018-06-01T12:00:00Z\","
                                          "\"cloudtrackerMoved\":{\"responseElements\":\"no\"}}"},
        {"{\"eventTime\":\"2018-06-01T12:00:00Z\",\"a\":1}",
         "{\"eventTime\":\"2018-06-01T12:00:00Z\",\"a\":1}"},
        {"{\"eventTime\":\"\",\"a\":1}", "{\"eventTime\":\"2018-06-01T12:00:00Z\",\"a\":1,"
                                         "\"cloudtrackerMoved\":{\"eventTime\":\"\"}}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ct_buf b = CT_BUF_INIT;
        unsigned moved = 0;
        CHECK_INT(ct_es_doc_prepare(&b, cases[i].in, strlen(cases[i].in), 1527854400, true, &moved),
                  0);
        CHECK_STR(b.data, cases[i].want);
        cJSON *doc = cJSON_Parse(b.data);
        CHECK(doc && esc_conforms(doc, g_mappings));
        cJSON_Delete(doc);
        ct_buf_release(&b);
    }
}

static void test_existing_moved_member(void)
{
    expect("{\"cloudtrackerMoved\":{\"a\":1},\"eventName\":\"X\"}",
           "{\"eventName\":\"X\",\"cloudtrackerMoved\":{\"cloudtrackerMoved\":{\"a\":1}}}", 1);
    expect(
        "{\"eventName\":\"X\",\"cloudtrackerMoved\":7,\"readOnly\":\"no\"}",
        "{\"eventName\":\"X\",\"cloudtrackerMoved\":{\"cloudtrackerMoved\":7,\"readOnly\":\"no\"}}",
        2);
    /* Its dotted and escaped spellings are the same field to Elasticsearch. */
    unsigned moved;
    char *out = prep("{\"cloudtrackerMoved.x\":1,\"cloud\\u0074rackerMoved\":2}", &moved);
    CHECK_STR(out,
              "{\"cloudtrackerMoved\":{\"cloudtrackerMoved.x\":1,\"cloud\\u0074rackerMoved\":2}}");
    CHECK_INT(moved, 2);
    free(out);
}

/* A record's own cloudtrackerResources, in any spelling, is moved aside
 * like cloudtrackerMoved: the field holds only what the loader derived.
 * Below the root it is an ordinary unmapped name. */
static void test_existing_resources_member(void)
{
    expect("{\"cloudtrackerResources\":\"arn:aws:s3:::forged\",\"eventName\":\"X\"}",
           "{\"eventName\":\"X\",\"cloudtrackerMoved\":{\"cloudtrackerResources\":"
           "\"arn:aws:s3:::forged\"}}",
           1);
    expect("{\"eventName\":\"X\",\"cloudtrackerResources\":{\"a\":[1]}}",
           "{\"eventName\":\"X\",\"cloudtrackerMoved\":{\"cloudtrackerResources\":{\"a\":[1]}}}",
           1);
    unsigned moved;
    char *out = prep("{\"cloudtrackerResources.x\":\"a\",\"cloud\\u0074rackerResources\":\"b\","
                     "\"userIdentity\":{\"cloudtrackerResources\":\"c\"}}",
                     &moved);
    CHECK_STR(out, "{\"userIdentity\":{\"cloudtrackerResources\":\"c\"},\"cloudtrackerMoved\":{"
                   "\"cloudtrackerResources.x\":\"a\",\"cloud\\u0074rackerResources\":\"b\"}}");
    CHECK_INT(moved, 2);
    free(out);
}

/* Prepares `in`, adds `arns` and checks the result: one line, JSON, the
 * mapping's, the field holding exactly `arns` (absent when `want_field` is
 * false). Returns the malloc'd document. */
static char *with_resources(const char *in, const char *arns, bool want_field)
{
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "{\"create\":{}}\n");
    size_t start = b.len;
    unsigned moved;
    CHECK_INT(ct_es_doc_prepare(&b, in, strlen(in), 1527854400, false, &moved), 0);
    CHECK_INT(ct_es_doc_add_resources(&b, start, arns), 0);
    CHECK(memcmp(b.data, "{\"create\":{}}\n", start) == 0);
    char *out = ct_strndup(b.data + start, b.len - start);
    ct_buf_release(&b);
    CHECK(strchr(out, '\n') == NULL && strchr(out, '\r') == NULL);
    cJSON *doc = cJSON_Parse(out);
    CHECK(doc != NULL && esc_conforms(doc, g_mappings));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, CT_ES_RESOURCES_KEY);
    if (want_field)
        CHECK(cJSON_IsString(v) && strcmp(v->valuestring, arns) == 0);
    else
        CHECK(v == NULL);
    cJSON_Delete(doc);
    return out;
}

static void test_add_resources(void)
{
    static const struct {
        const char *in, *arns, *want;
    } cases[] = {
        {"{\"eventName\":\"X\"}", "arn:aws:s3:::a",
         "{\"eventName\":\"X\",\"cloudtrackerResources\":\"arn:aws:s3:::a\"}"},
        /* ARNs are joined by '\n'; quotes, backslashes, non-ASCII escaped
         * or kept as JSON wants them. */
        {"{\"a\":{}}", "arn:aws:s3:::a\narn:aws:s3:::b\"\\\xc3\xa9",
         "{\"a\":{},\"cloudtrackerResources\":\"arn:aws:s3:::a\\u000aarn:aws:s3:::"
         "b\\\"\\\\\xc3\xa9\"}"},
        {"{}", "arn:x", "{\"cloudtrackerResources\":\"arn:x\"}"},
        {" {\t}\n", "arn:x", "{\t\"cloudtrackerResources\":\"arn:x\"}"},
        {"{\"a\":1 }", "*", "{\"a\":1 ,\"cloudtrackerResources\":\"*\"}"},
        /* After the values moved aside, and after a record's own copy. */
        {"{\"readOnly\":{},\"b\":[]}", "arn:x",
         "{\"b\":[],\"cloudtrackerMoved\":{\"readOnly\":{}},\"cloudtrackerResources\":\"arn:x\"}"},
        {"{\"cloudtrackerResources\":\"forged\"}", "arn:x",
         "{\"cloudtrackerMoved\":{\"cloudtrackerResources\":\"forged\"},"
         "\"cloudtrackerResources\":\"arn:x\"}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = with_resources(cases[i].in, cases[i].arns, true);
        CHECK_STR(out, cases[i].want);
        free(out);
    }
    /* Nothing named, or not UTF-8 (Elasticsearch would refuse the whole
     * document): no field, the document as prepared. */
    const char *none[] = {NULL, "", "arn:\xff", "arn:\xc3", "arn:\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        char *out = with_resources("{\"a\":1}", none[i], false);
        CHECK_STR(out, "{\"a\":1}");
        free(out);
    }
    /* Not after a prepared document: refused, nothing written. */
    ct_buf b = CT_BUF_INIT;
    CHECK_INT(ct_es_doc_add_resources(&b, 0, "arn:x"), CT_EINTERNAL);
    ct_buf_puts(&b, "{\"a\":1}\n");
    CHECK_INT(ct_es_doc_add_resources(&b, 0, "arn:x"), CT_EINTERNAL);
    CHECK_INT(ct_es_doc_add_resources(&b, b.len, "arn:x"), CT_EINTERNAL);
    ct_buf_reset(&b);
    ct_buf_puts(&b, "x }");
    CHECK_INT(ct_es_doc_add_resources(&b, 1, "arn:x"), CT_EINTERNAL);
    CHECK_STR(b.data, "x }");
    ct_buf_release(&b);
}

static void test_escaped_and_dotted_keys(void)
{
    expect("{\"event\\u004eame\":{\"a\":1},\"x\":1}",
           "{\"x\":1,\"cloudtrackerMoved\":{\"event\\u004eame\":{\"a\":1}}}", 1);
    expect(
        "{\"\\u0075serIdentity\":{\"\\u0061rn\":[{}]}}",
        "{\"\\u0075serIdentity\":{},\"cloudtrackerMoved\":{\"\\u0075serIdentity.\\u0061rn\":[{}]}}",
        1);
    /* Not the same key: case matters, and so does a trailing space. */
    expect("{\"EventName\":{},\"eventName \":{}}", "{\"EventName\":{},\"eventName \":{}}", 0);
    /* Dotted keys name the same fields as nested objects. */
    unsigned moved;
    char *out = prep("{\"userIdentity.arn\":{\"a\":1},\"requestParameters.x\":{},"
                     "\"userIdentity.sessionContext\":{\"sessionIssuer\":\"s\"},"
                     "\"eventTime.x\":1,\"resources.a.b\":{},\"r\\u002ex\":{}}",
                     &moved);
    CHECK_STR(out, "{\"requestParameters.x\":{},\"userIdentity.sessionContext\":{},"
                   "\"resources.a.b\":{},\"r\\u002ex\":{},\"cloudtrackerMoved\":{"
                   "\"userIdentity.arn\":{\"a\":1},"
                   "\"userIdentity.sessionContext.sessionIssuer\":\"s\",\"eventTime.x\":1}}");
    CHECK_INT(moved, 3);
    free(out);
    /* Names Elasticsearch refuses outright, at the levels it parses; inside
     * unmapped objects it never looks. */
    out = prep("{\"\":1,\" \":2,\"a..b\":3,\".a\":4,\"a.\":5,\"\\u3000\":6,\"x\":{\"\":7},"
               "\"requestParameters\":{\"\\t\":8,\"ok\":9}}",
               &moved);
    CHECK_STR(out, "{\"x\":{\"\":7},\"requestParameters\":{\"ok\":9},\"cloudtrackerMoved\":{"
                   "\"\":1,\" \":2,\"a..b\":3,\".a\":4,\"a.\":5,\"\\u3000\":6,"
                   "\"requestParameters.\\t\":8}}");
    CHECK_INT(moved, 7);
    free(out);
}

static void test_metadata_names(void)
{
    expect("{\"_id\":\"x\",\"a\":{\"_id\":1},\"_source\":{},\"\\u005frouting\":1,\"_x\":2}",
           "{\"a\":{\"_id\":1},\"cloudtrackerMoved\":{\"_id\":\"x\",\"_source\":{},"
           "\"\\u005frouting\":1,\"_x\":2}}",
           4);
    expect("{\"userIdentity\":{\"_type\":1},\"x_\":1}", "{\"userIdentity\":{\"_type\":1},\"x_\":1}",
           0);
    unsigned moved;
    char *out = prep("{\"_x.y\":2,\"a._b\":3}", &moved);
    CHECK_STR(out, "{\"a._b\":3,\"cloudtrackerMoved\":{\"_x.y\":2}}");
    CHECK_INT(moved, 1);
    free(out);
}

static void test_commas_and_whitespace(void)
{
    /* Every member moved, first, last, several in a row, with whitespace. */
    expect("{ \"readOnly\" : 1 , \"errorCode\" : {} }",
           "{    \"cloudtrackerMoved\":{\"readOnly\":1,\"errorCode\":{}}}", 2);
    expect("{\"a\":1,\"readOnly\":1,\"errorCode\":{},\"b\":2}",
           "{\"a\":1,\"b\":2,\"cloudtrackerMoved\":{\"readOnly\":1,\"errorCode\":{}}}", 2);
    expect("{\"readOnly\":1,\"errorCode\":{},\"b\":2,\"userIdentity\":3}",
           "{\"b\":2,\"cloudtrackerMoved\":{\"readOnly\":1,\"errorCode\":{},\"userIdentity\":3}}",
           3);
    expect("{\"userIdentity\":{\"arn\":{},\"type\":\"T\",\"userName\":{}}}",
           "{\"userIdentity\":{\"type\":\"T\"},\"cloudtrackerMoved\":{\"userIdentity.arn\":{},"
           "\"userIdentity.userName\":{}}}",
           2);
    /* A pretty-printed record becomes one line; the moved value keeps its
     * bytes but for the line breaks. */
    const char *pretty =
        "{\r\n  \"eventName\": \"X\",\n  \"errorCode\": {\n    \"a\": [\n      1,\n"
        "      2\n    ]\n  },\n  \"s\": \"a\\nb\"\n}\n";
    expect(pretty,
           "{    \"eventName\": \"X\",   \"s\": \"a\\nb\" ,\"cloudtrackerMoved\":{\"errorCode\":{ "
           "    \"a\": [       1,       2     ]   }}}",
           1);
}

static void test_duplicates(void)
{
    /* Each duplicate on its own: Elasticsearch will reject these documents,
     * but nothing is lost or crashes. */
    unsigned moved;
    char *out = prep("{\"readOnly\":1,\"readOnly\":2,\"eventTime\":1,\"eventTime\":\"x\","
                     "\"cloudtrackerMoved\":1,\"cloudtrackerMoved\":2}",
                     &moved);
    CHECK_STR(out, "{\"eventTime\":\"2018-06-01T12:00:00Z\",\"eventTime\":\"2018-06-01T12:00:00Z\","
                   "\"cloudtrackerMoved\":{\"readOnly\":1,\"readOnly\":2,\"eventTime\":1,"
                   "\"eventTime\":\"x\",\"cloudtrackerMoved\":1,\"cloudtrackerMoved\":2}}");
    CHECK_INT(moved, 6);
    free(out);
}

static void test_malformed(void)
{
    static const char *const bad[] = {"",
                                      " ",
                                      "[]",
                                      "1",
                                      "\"x\"",
                                      "null",
                                      "{",
                                      "}",
                                      "{\"a\"}",
                                      "{\"a\":}",
                                      "{\"a\":1,}",
                                      "{,\"a\":1}",
                                      "{\"a\":1}x",
                                      "{\"a\":1}{}",
                                      "{\"a\":01}",
                                      "{\"a\":1.}",
                                      "{\"a\":-}",
                                      "{\"a\":1e}",
                                      "{\"a\":tru}",
                                      "{\"a\":nul}",
                                      "{\"a\":[1,]}",
                                      "{\"a\":[1}",
                                      "{\"a\":{]}",
                                      "{\"a\":\"\\x\"}",
                                      "{\"a\":\"\\u12\"}",
                                      "{\"a\":\"\\ud800\"}",
                                      "{\"a\":\"\\udc00\"}",
                                      "{\"a\":\"\\ud800\\u0041\"}",
                                      "{\"a\":\"\xff\"}",
                                      "{\"a\":\"\xc0\xaf\"}",
                                      "{\"a\":\"\xed\xa0\x80\"}",
                                      "{\"a\":\"\xf4\x90\x80\x80\"}",
                                      "{\"a\":\"\xe2\x82\"}",
                                      "{\"a\":\"x\ty\"}",
                                      "{\"a\":\"x\ny\"}",
                                      "{'a':1}",
                                      "{\"a\":1 \"b\":2}",
                                      "{\"userIdentity\":{\"arn\":1}",
                                      "{\"eventTime\":\"2018-06-01T12:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_einput(bad[i], strlen(bad[i]));
    /* A NUL byte, and a valid record cut short at every length. */
    expect_einput("{\"a\":1\0}", 8);
    const char *rec = "{\"userIdentity\":{\"arn\":\"x\"},\"readOnly\":\"\\u00e9\",\"n\":-0.5e-3}";
    for (size_t n = 0; n < strlen(rec); n++)
        expect_einput(rec, n);
    /* Nesting: 512 levels in all are accepted, 513 are not. */
    for (int depth = 511; depth <= 513; depth++) {
        ct_buf b = CT_BUF_INIT;
        ct_buf_puts(&b, "{\"a\":");
        for (int i = 1; i < depth; i++)
            ct_buf_puts(&b, "[");
        for (int i = 1; i < depth; i++)
            ct_buf_puts(&b, "]");
        ct_buf_puts(&b, "}");
        unsigned moved;
        int rc;
        char *out = prep_t(b.data, b.len, 0, &moved, &rc);
        CHECK_INT(rc, depth <= 512 ? 0 : CT_EINPUT);
        free(out);
        ct_buf_release(&b);
    }
    unsigned moved = 5;
    ct_buf b = CT_BUF_INIT;
    CHECK_INT(ct_es_doc_prepare(&b, NULL, 0, 0, false, &moved), CT_EINPUT);
    CHECK_INT(moved, 0);
    CHECK_INT(b.len, 0);
    /* Each byte alone in a string: printable ASCII is kept, controls are
     * refused, lone bytes >= 0x80 are not UTF-8. */
    for (int c = 1; c < 256; c++) {
        char in[] = {'{', '"', 'a', '"', ':', '"', (char)c, '"', '}', '\0'};
        if (c == '"' || c == '\\') {
            expect_einput(in, 9);
        } else if (c >= 0x20 && c < 0x80) {
            expect(in, in, 0);
        } else {
            expect_einput(in, 9);
        }
    }
    /* Valid non-ASCII survives. */
    expect("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\ud83d\\ude00\"}",
           "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\ud83d\\ude00\"}", 0);
}

/* Every byte of a record replaced by a few others: outputs keep their
 * promises whatever happens. */
static void test_mutations(void)
{
    char rec[] = "{\"eventTime\":\"2018-06-01T12:00:00Z\",\"userIdentity\":{\"arn\":\"a\","
                 "\"sessionContext\":{\"sessionIssuer\":{\"arn\":\"b\"}}},\"readOnly\":true,"
                 "\"requestParameters\":{\"roleArn\":[\"c\"]},\"errorCode\":\"E\",\"x\":[{}]}";
    const char subst[] = {'{', '}', '[', ']', '"', ',', ':', '.', '1', 'n', ' ', '\\', 't', '\n'};
    size_t n = strlen(rec);
    unsigned ok = 0;
    for (size_t i = 0; i < n; i++) {
        char saved = rec[i];
        for (size_t k = 0; k < sizeof(subst); k++) {
            rec[i] = subst[k];
            unsigned moved;
            int rc;
            char *out = prep_t(rec, n, 1527854400, &moved, &rc);
            CHECK(rc == 0 || rc == CT_EINPUT);
            if (out) {
                ok++;
                /* Round trip when the mutation left keys plain. */
                cJSON *in = cJSON_Parse(rec);
                bool dotted = false;
                for (size_t j = 0; j < n && !dotted; j++)
                    dotted = rec[j] == '.' || rec[j] == '\\';
                if (in && !dotted)
                    check_round_trip(rec, out);
                cJSON_Delete(in);
            }
            free(out);
        }
        rec[i] = saved;
    }
    CHECK(ok > 100);
}

/* ---- real records ---- */

typedef struct span {
    const char *p;
    size_t n;
} span;

/* The byte spans of the elements of the top-level array in s. */
static size_t split_array(const char *s, size_t n, span *out, size_t max)
{
    size_t count = 0, depth = 0, start = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in = false;
            continue;
        }
        if (c == '"') {
            in = true;
        } else if (c == '{' || c == '[') {
            if (++depth == 2)
                start = i;
        } else if (c == '}' || c == ']') {
            if (depth-- == 2 && count < max)
                out[count++] = (span){s + start, i + 1 - start};
        }
    }
    return count;
}

static void test_stratus_fixtures(void)
{
    DIR *d = opendir(CT_SHARED_FIXTURES);
    CHECK(d != NULL);
    if (!d)
        return;
    static span recs[2048];
    static char *files[64];
    static char *compact[2048];
    size_t nrec = 0, nfiles = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0 || nfiles == 64)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", CT_SHARED_FIXTURES, e->d_name);
        size_t len;
        char *text = test_slurp(path, &len);
        CHECK(text != NULL);
        if (!text)
            continue;
        files[nfiles++] = text;
        size_t got = split_array(text, len, recs + nrec, 2048 - nrec);
        cJSON *arr = cJSON_ParseWithLength(text, len);
        CHECK_INT(got, cJSON_GetArraySize(arr));
        cJSON_Delete(arr);
        nrec += got;
    }
    closedir(d);
    CHECK_INT(nrec, 310);

    ct_buf b = CT_BUF_INIT;
    for (size_t i = 0; i < nrec; i++) {
        unsigned moved = 99;
        int rc;
        char *out = prep_t(recs[i].p, recs[i].n, 0, &moved, &rc);
        CHECK_INT(rc, 0);
        CHECK_INT(moved, 0);
        if (!out)
            continue;
        char *a = squeeze(recs[i].p, recs[i].n), *z = squeeze(out, strlen(out));
        CHECK_STR(z, a);
        compact[i] = a;
        free(z);
        free(out);
    }

    for (size_t i = 0; i < nrec; i++)
        free(compact[i]);
    ct_buf_release(&b);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
}

/* The real records as the loader turns them into documents: each one's
 * resource set (ct_trail_resource_set) in the derived field, or no field. */
typedef struct resource_count {
    unsigned records, named;
    bool seen_role, seen_parameters;
} resource_count;

static int on_stratus_record(void *ud, const ct_trail_record *rec)
{
    resource_count *c = ud;
    ct_buf set = CT_BUF_INIT;
    ct_error err;
    CHECK_INT(ct_trail_resource_set(rec, &set, &err), 0);
    char *arns = ct_strndup(set.data ? set.data : "", set.len);
    ct_buf b = CT_BUF_INIT;
    unsigned moved;
    CHECK_INT(ct_es_doc_prepare(&b, rec->raw, rec->raw_len, rec->event_time, false, &moved), 0);
    CHECK_INT(ct_es_doc_add_resources(&b, 0, arns), 0);
    cJSON *doc = cJSON_ParseWithLength(b.data, b.len);
    CHECK(doc != NULL && esc_conforms(doc, g_mappings));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, CT_ES_RESOURCES_KEY);
    if (arns[0]) {
        CHECK(cJSON_IsString(v) && strcmp(v->valuestring, arns) == 0);
        c->named++;
        c->seen_role |= strstr(arns, ":role/stratus-red-team") != NULL;
        c->seen_parameters |= strstr(arns, ":parameter/credentials/") != NULL;
    } else {
        CHECK(v == NULL);
    }
    c->records++;
    cJSON_Delete(doc);
    ct_buf_release(&b);
    ct_buf_release(&set);
    free(arns);
    return 0;
}

static void test_stratus_resources(void)
{
    DIR *d = opendir(CT_SHARED_FIXTURES);
    CHECK(d != NULL);
    if (!d)
        return;
    resource_count c = {0, 0, false, false};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", CT_SHARED_FIXTURES, e->d_name);
        size_t len;
        char *text = test_slurp(path, &len);
        CHECK(text != NULL);
        ct_error err;
        if (text)
            CHECK_INT(ct_trail_parse(text, len, NULL, on_stratus_record, NULL, &c, &err), 0);
        free(text);
    }
    closedir(d);
    CHECK_INT(c.records, 310);
    /* AssumeRole's role, ssm GetParameters' parameters, and more. */
    CHECK(c.named >= 10);
    CHECK(c.seen_role && c.seen_parameters);
}

int main(void)
{
    g_mappings = mappings_json(false);
    RUN(test_template);
    RUN(test_nothing_to_move);
    RUN(test_big_integer_moved_verbatim);
    RUN(test_object_paths);
    RUN(test_leaf_paths);
    RUN(test_people_paths);
    RUN(test_event_time);
    RUN(test_added_event_time);
    RUN(test_existing_moved_member);
    RUN(test_existing_resources_member);
    RUN(test_add_resources);
    RUN(test_escaped_and_dotted_keys);
    RUN(test_metadata_names);
    RUN(test_commas_and_whitespace);
    RUN(test_duplicates);
    RUN(test_malformed);
    RUN(test_mutations);
    RUN(test_stratus_fixtures);
    RUN(test_stratus_resources);
    cJSON_Delete(g_mappings);
    TEST_MAIN_END();
}
