/* Unit tests for src/trail/trail.c: document shapes, field extraction,
 * escapes and UTF-8, rejection accounting, truncation at every offset, and
 * the Stratus Red Team detonation logs. */
#include "cloudtracker/date.h"
#include "cloudtracker/error.h"
#include "cloudtracker/trail.h"
#include "cloudtracker/util.h"
#include "test.h"

#include <dirent.h>
#include <stdlib.h>

#define KEEP 64 /* records and rejects remembered per parse */

/* The reject reason of a record without eventTime when no other time field
 * is named. */
#define MISSING_TIME                                                                               \
    "missing eventTime (files.timestamp_field names another time field, such as @timestamp)"

/* What one parse produced. Record strings are copies owned here. */
typedef struct result {
    int rc;
    ct_error err;
    size_t records, rejects;
    ct_trail_record rec[KEEP];
    size_t rej_off[KEEP];
    const char *rej_why[KEEP];
    bool bad_string;  /* a delivered string was not valid UTF-8 */
    int stop_records; /* on_record returns 99 once this many arrived (0: never) */
    int stop_rejects; /* on_reject returns 98 likewise */
    const ct_trail_options *opts; /* handed to the parser (NULL: defaults) */
} result;

static const char *copy(const char *s, bool *bad)
{
    if (!s)
        return NULL;
    if (!ct_utf8_valid(s, strlen(s)))
        *bad = true;
    return ct_strdup(s);
}

static int on_record(void *ud, const ct_trail_record *r)
{
    result *res = ud;
    if (!r->event_source || !r->event_name || !*r->event_name)
        res->bad_string = true;
    if (res->records < KEEP) {
        ct_trail_record *c = &res->rec[res->records];
        bool *bad = &res->bad_string;
        c->event_source = copy(r->event_source, bad);
        c->event_name = copy(r->event_name, bad);
        c->event_time = r->event_time;
        c->time_elsewhere = r->time_elsewhere;
        c->event_id = copy(r->event_id, bad);
        c->shared_event_id = copy(r->shared_event_id, bad);
        c->recipient_account_id = copy(r->recipient_account_id, bad);
        c->error_code = copy(r->error_code, bad);
        c->identity_type = copy(r->identity_type, bad);
        c->identity_arn = copy(r->identity_arn, bad);
        c->identity_account_id = copy(r->identity_account_id, bad);
        c->access_key_id = copy(r->access_key_id, bad);
        c->issuer_arn = copy(r->issuer_arn, bad);
        c->role_arn = copy(r->role_arn, bad);
        c->role_session_name = copy(r->role_session_name, bad);
        c->issued_key = copy(r->issued_key, bad);
        c->identity_user_name = copy(r->identity_user_name, bad);
        c->identity_provider = copy(r->identity_provider, bad);
        c->source_identity = copy(r->source_identity, bad);
        c->on_behalf_of = copy(r->on_behalf_of, bad);
        c->identity_store = copy(r->identity_store, bad);
        c->request_source_identity = copy(r->request_source_identity, bad);
        c->response_source_identity = copy(r->response_source_identity, bad);
        c->response_subject = copy(r->response_subject, bad);
        c->response_web_subject = copy(r->response_web_subject, bad);
        c->response_issuer = copy(r->response_issuer, bad);
        c->response_provider = copy(r->response_provider, bad);
        c->event_type = copy(r->event_type, bad);
        c->event_category = copy(r->event_category, bad);
        c->aws_region = copy(r->aws_region, bad);
        c->read_only = r->read_only;
        c->management_event = r->management_event;
        c->raw = ct_strndup(r->raw, r->raw_len);
        c->raw_len = r->raw_len;
    }
    res->records++;
    return res->stop_records && res->records == (size_t)res->stop_records ? 99 : 0;
}

static int on_reject(void *ud, size_t offset, const char *reason)
{
    result *res = ud;
    if (res->rejects < KEEP) {
        res->rej_off[res->rejects] = offset;
        res->rej_why[res->rejects] = reason;
    }
    res->rejects++;
    return res->stop_rejects && res->rejects == (size_t)res->stop_rejects ? 98 : 0;
}

static void release(result *res)
{
    for (size_t i = 0; i < res->records && i < KEEP; i++) {
        ct_trail_record *c = &res->rec[i];
        const char *all[] = {c->event_source,      c->event_name,           c->event_id,
                             c->shared_event_id,   c->recipient_account_id, c->error_code,
                             c->identity_type,     c->identity_arn,         c->identity_account_id,
                             c->access_key_id,     c->issuer_arn,           c->role_arn,
                             c->role_session_name, c->issued_key,           c->raw,
                             c->event_type,        c->event_category,       c->aws_region};
        for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
            free((char *)all[k]);
        const char *people[] = {c->identity_user_name,       c->identity_provider,
                                c->source_identity,          c->on_behalf_of,
                                c->identity_store,           c->request_source_identity,
                                c->response_source_identity, c->response_subject,
                                c->response_web_subject,     c->response_issuer,
                                c->response_provider};
        for (size_t k = 0; k < sizeof(people) / sizeof(people[0]); k++)
            free((char *)people[k]);
    }
    memset(res, 0, sizeof(*res));
}

/* Parses n bytes from an exact-size copy, so a sanitizer build sees any
 * read past the end (the parser must not expect a NUL). */
static void parse_n(result *res, const char *text, size_t n)
{
    int stop_records = res->stop_records, stop_rejects = res->stop_rejects;
    const ct_trail_options *opts = res->opts;
    release(res);
    res->stop_records = stop_records;
    res->stop_rejects = stop_rejects;
    res->opts = opts;
    char *exact = malloc(n ? n : 1);
    if (n)
        memcpy(exact, text, n);
    ct_error_clear(&res->err);
    res->rc = ct_trail_parse(exact, n, res->opts, on_record, on_reject, res, &res->err);
    free(exact);
}

static void parse(result *res, const char *text)
{
    parse_n(res, text, strlen(text));
}

/* A minimal valid record, and the same without its opening brace. */
#define REC_TAIL(name)                                                                             \
    "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"" name "\","                             \
    "\"eventTime\":\"2024-07-30T21:53:13Z\"}"
#define REC(name) "{" REC_TAIL(name)
#define T0 1722376393 /* 2024-07-30T21:53:13Z */

static void test_envelope(void)
{
    static result r;
    parse(&r, "{\"Records\":[" REC("A") "," REC("B") "]}");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 0);
    CHECK_STR(r.rec[0].event_name, "A");
    CHECK_STR(r.rec[1].event_name, "B");
    CHECK_STR(r.rec[0].event_source, "s3.amazonaws.com");
    CHECK_INT(r.rec[0].event_time, T0);
    CHECK(r.rec[0].identity_arn == NULL);

    /* Records after and among other keys, which may look like record
     * fields; those are ignored, never delivered. */
    parse(&r, "{\"eventName\":\"Top\",\"meta\":{\"Records\":[1,2]},\"x\":[{}],\n"
              "  \"Records\" : [ " REC("A") " ] , \"eventSource\":\"x\", \"tail\":null}");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 0);
    CHECK_STR(r.rec[0].event_name, "A");

    /* Records twice: both arrays count. Empty Records: nothing, no error. */
    parse(&r, "{\"Records\":[" REC("A") "],\"Records\":[" REC("B") "]}");
    CHECK_INT(r.records, 2);
    parse(&r, "{\"Records\":[]}");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records + r.rejects, 0);
    parse(&r, "  {\"Records\":[\n]}\n\n");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records + r.rejects, 0);

    /* One envelope per line also works. */
    parse(&r, "{\"Records\":[" REC("A") "]}\n{\"Records\":[" REC("B") "," REC("C") "]}\n");
    CHECK_INT(r.records, 3);
    CHECK_INT(r.rejects, 0);
    release(&r);
}

static void test_array_and_lines(void)
{
    static result r;
    parse(&r, "[" REC("A") ",\n " REC("B") "\n]\n");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 0);
    CHECK_STR(r.rec[1].event_name, "B");
    parse(&r, "[]");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records + r.rejects, 0);

    /* One record per line, LF and CRLF, blank lines, no final newline. */
    parse(&r, REC("A") "\n" REC("B") "\r\n\r\n" REC("C"));
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 3);
    CHECK_INT(r.rejects, 0);
    CHECK_STR(r.rec[2].event_name, "C");

    /* A single record is a file of one line; so are pretty-printed ones,
     * and objects not separated at all. */
    parse(&r, REC("Solo"));
    CHECK_INT(r.records, 1);
    CHECK_STR(r.rec[0].event_name, "Solo");
    parse(&r, "{\n  \"eventSource\": \"a\",\n  \"eventName\": \"B\",\n"
              "  \"eventTime\": \"2024-07-30T21:53:13Z\"\n}\n{\n  \"eventSource\": \"a\",\n"
              "  \"eventName\": \"C\",\n  \"eventTime\": \"2024-07-30T21:53:13Z\"\n}\n");
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 0);
    parse(&r, REC("A") REC("B"));
    CHECK_INT(r.records, 2);

    /* BOM before any shape. */
    parse(&r, "\xEF\xBB\xBF[" REC("A") "]");
    CHECK_INT(r.records, 1);
    parse(&r, "\xEF\xBB\xBF\r\n{\"Records\":[" REC("A") "]}");
    CHECK_INT(r.records, 1);
    parse(&r, "\xEF\xBB\xBF" REC("A") "\n" REC("B"));
    CHECK_INT(r.records, 2);
    release(&r);
}

static void test_not_cloudtrail(void)
{
    static result r;
    const char *empty[] = {"", " ", "\n\r\n\t ", "\xEF\xBB\xBF", "\xEF\xBB\xBF  \n"};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        parse(&r, empty[i]);
        CHECK_INT(r.rc, CT_EINPUT);
        CHECK_STR(r.err.message, "empty file");
        CHECK_INT(r.records + r.rejects, 0);
    }
    parse_n(&r, NULL, 0);
    CHECK_INT(r.rc, CT_EINPUT);

    parse(&r, "hello world");
    CHECK_INT(r.rc, CT_EINPUT);
    CHECK(strstr(r.err.message, "'h' at byte 0") != NULL);
    parse(&r, "\n  <html>");
    CHECK_INT(r.rc, CT_EINPUT);
    CHECK(strstr(r.err.message, "'<' at byte 3") != NULL);
    parse_n(&r, "\x1f\x8b\x08\x00", 4); /* gzip data fed as is */
    CHECK_INT(r.rc, CT_EINPUT);
    CHECK(strstr(r.err.message, "0x1f at byte 0") != NULL);
    parse(&r, "42");
    CHECK_INT(r.rc, CT_EINPUT);
    parse(&r, "\"Records\"");
    CHECK_INT(r.rc, CT_EINPUT);
    CHECK_INT(r.records + r.rejects, 0);

    /* A lone object with neither Records nor record fields (a digest file,
     * say) is not CloudTrail; a Records that is not an array does not count. */
    parse(&r, "{}");
    CHECK_INT(r.rc, CT_EINPUT);
    CHECK(strstr(r.err.message, "Records") != NULL);
    parse(&r, "{\"awsAccountId\":\"1\",\"logFiles\":[{\"s3Object\":\"x\"}]}\n");
    CHECK_INT(r.rc, CT_EINPUT);
    parse(&r, "{\"Records\":null}");
    CHECK_INT(r.rc, CT_EINPUT);
    CHECK_INT(r.records + r.rejects, 0);

    /* Among other lines, such an object is one rejected record. */
    parse(&r, "{\"x\":1}\n" REC("A"));
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "missing eventSource");
    CHECK_INT(r.rej_off[0], 0);
    /* A lone object that has some record field is a bad record, not "not
     * CloudTrail". */
    parse(&r, "{\"eventName\":\"A\"}");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "missing eventSource");
    release(&r);
}

static void test_fields(void)
{
    static result r;
    parse(&r, "[{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\","
              "\"principalId\":\"AROA:s\",\"arn\":\"arn:aws:sts::111:assumed-role/R/s\","
              "\"accountId\":\"111\",\"accessKeyId\":\"ASIAOLD\",\"sessionContext\":{"
              "\"attributes\":{\"mfaAuthenticated\":\"false\"},\"sessionIssuer\":{\"type\":"
              "\"Role\",\"arn\":\"arn:aws:iam::111:role/R\",\"accountId\":\"111\"}}},"
              "\"eventTime\":\"2024-07-30T23:53:13+02:00\",\"eventSource\":\"sts.amazonaws.com\","
              "\"eventName\":\"AssumeRole\",\"requestParameters\":{\"roleArn\":"
              "\"arn:aws:iam::222:role/T\",\"roleSessionName\":\"alice\",\"durationSeconds\":"
              "3600},\"responseElements\":{\"credentials\":{\"accessKeyId\":\"ASIANEW\","
              "\"expiration\":\"Jul 30, 2024\"},\"assumedRoleUser\":{\"arn\":\"x\"}},"
              "\"eventID\":\"e-1\",\"sharedEventID\":\"s-1\",\"recipientAccountId\":\"111\","
              "\"errorCode\":\"AccessDenied\"}]");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 1);
    ct_trail_record *c = &r.rec[0];
    CHECK_STR(c->event_source, "sts.amazonaws.com");
    CHECK_STR(c->event_name, "AssumeRole");
    CHECK_INT(c->event_time, T0);
    CHECK_STR(c->event_id, "e-1");
    CHECK_STR(c->shared_event_id, "s-1");
    CHECK_STR(c->recipient_account_id, "111");
    CHECK_STR(c->error_code, "AccessDenied");
    CHECK_STR(c->identity_type, "AssumedRole");
    CHECK_STR(c->identity_arn, "arn:aws:sts::111:assumed-role/R/s");
    CHECK_STR(c->identity_account_id, "111");
    CHECK_STR(c->access_key_id, "ASIAOLD");
    CHECK_STR(c->issuer_arn, "arn:aws:iam::111:role/R");
    CHECK_STR(c->role_arn, "arn:aws:iam::222:role/T");
    CHECK_STR(c->role_session_name, "alice");
    CHECK_STR(c->issued_key, "ASIANEW");

    /* Same-named keys at the wrong level are not the fields. */
    parse(&r, "[{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\","
              "\"arn\":\"top\",\"requestParameters\":{\"userIdentity\":{\"arn\":\"deep\"},"
              "\"credentials\":{\"accessKeyId\":\"no\"}},\"responseElements\":{\"accessKeyId\":"
              "\"no\",\"credentials\":{\"credentials\":{\"accessKeyId\":\"no\"}}},"
              "\"userIdentity\":{\"sessionIssuer\":{\"arn\":\"no\"},\"sessionContext\":{"
              "\"arn\":\"no\"}}}]");
    CHECK_INT(r.records, 1);
    c = &r.rec[0];
    CHECK(c->identity_arn == NULL);
    CHECK(c->issued_key == NULL);
    CHECK(c->issuer_arn == NULL);

    /* Empty strings are values; an empty required field is missing. */
    parse(&r, "[{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\","
              "\"errorCode\":\"\"}]");
    CHECK_STR(r.rec[0].error_code, "");
    parse(&r,
          "[{\"eventSource\":\"a\",\"eventName\":\"\",\"eventTime\":\"2024-07-30T21:53:13Z\"}]");
    CHECK_INT(r.records, 0);
    CHECK_STR(r.rej_why[0], "missing eventName");
    release(&r);
}

/* The fields that say who is behind a role session, in the shapes
 * CloudTrail writes them (docs: /work/shared/reference/people-and-access-
 * reviews.md, sections 3.2-3.7; ids invented). */
static void test_people_fields(void)
{
    static result r;
    /* An IAM user assumes a role and sets a source identity (3.2). */
    parse(&r, "{\"Records\":[{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
              "\"principalId\":\"AIDAALICE\",\"arn\":\"arn:aws:iam::111111111111:user/alice\","
              "\"accountId\":\"111111111111\",\"accessKeyId\":\"AKIAALICE\",\"userName\":"
              "\"alice\"},\"eventTime\":\"2024-07-30T21:53:13Z\",\"eventSource\":"
              "\"sts.amazonaws.com\",\"eventName\":\"AssumeRole\",\"requestParameters\":{"
              "\"roleArn\":\"arn:aws:iam::222222222222:role/Admin\",\"roleSessionName\":\"alice\","
              "\"sourceIdentity\":\"alice\",\"durationSeconds\":3600},\"responseElements\":{"
              "\"credentials\":{\"accessKeyId\":\"ASIAS1\",\"sessionToken\":\"t\",\"expiration\":"
              "\"Jul 30, 2024, 10:53:13 PM\"},\"assumedRoleUser\":{\"assumedRoleId\":"
              "\"AROAADMIN:alice\",\"arn\":\"arn:aws:sts::222222222222:assumed-role/Admin/alice\"},"
              "\"sourceIdentity\":\"alice\"},\"sharedEventID\":\"s-1\"}]}");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 0);
    ct_trail_record *c = &r.rec[0];
    CHECK_STR(c->identity_user_name, "alice");
    CHECK(c->identity_provider == NULL);
    CHECK(c->source_identity == NULL);
    CHECK_STR(c->request_source_identity, "alice");
    CHECK_STR(c->response_source_identity, "alice");
    CHECK_STR(c->issued_key, "ASIAS1");
    CHECK(c->response_subject == NULL && c->response_issuer == NULL);
    CHECK(c->response_web_subject == NULL && c->response_provider == NULL);
    CHECK(c->on_behalf_of == NULL && c->identity_store == NULL);

    /* SAML federation outside Identity Center (3.5). */
    parse(&r, "{\"Records\":[{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"SAMLUser\","
              "\"principalId\":\"Q0VvXJ4o=:alice@example.com\",\"userName\":\"alice@example.com\","
              "\"identityProvider\":\"Q0VvXJ4o=\"},\"eventTime\":\"2024-07-30T21:53:13Z\","
              "\"eventSource\":\"sts.amazonaws.com\",\"eventName\":\"AssumeRoleWithSAML\","
              "\"requestParameters\":{\"sAMLAssertionID\":\"_c0046c\",\"roleSessionName\":"
              "\"alice@example.com\",\"roleArn\":\"arn:aws:iam::444455556666:role/SAMLRole\","
              "\"principalArn\":\"arn:aws:iam::444455556666:saml-provider/Okta\","
              "\"durationSeconds\":3600,\"sourceIdentity\":\"alice\",\"principalTags\":{"
              "\"CostCenter\":\"1234\"},\"transitiveTagKeys\":[\"CostCenter\"]},"
              "\"responseElements\":{\"subjectType\":\"persistent\",\"issuer\":"
              "\"http://www.okta.com/exk1\",\"credentials\":{\"accessKeyId\":\"ASIASAML\","
              "\"expiration\":\"Jul 30, 2024, 10:53:13 PM\"},\"nameQualifier\":\"Q0VvXJ4o=\","
              "\"audience\":\"https://signin.aws.amazon.com/saml\",\"subject\":"
              "\"alice@example.com\",\"sourceIdentity\":\"alice\",\"assumedRoleUser\":{"
              "\"assumedRoleId\":\"AROASAML:alice@example.com\",\"arn\":\"arn:aws:sts::"
              "444455556666:assumed-role/SAMLRole/alice@example.com\"},\"packedPolicySize\":1}}]}");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 0);
    c = &r.rec[0];
    CHECK_STR(c->identity_type, "SAMLUser");
    CHECK_STR(c->identity_user_name, "alice@example.com");
    CHECK_STR(c->identity_provider, "Q0VvXJ4o=");
    CHECK_STR(c->request_source_identity, "alice");
    CHECK_STR(c->response_source_identity, "alice");
    CHECK_STR(c->response_subject, "alice@example.com");
    CHECK_STR(c->response_issuer, "http://www.okta.com/exk1");
    CHECK_STR(c->issued_key, "ASIASAML");
    CHECK_STR(c->role_session_name, "alice@example.com");
    CHECK(c->response_web_subject == NULL && c->response_provider == NULL);

    /* Web identity (3.6). */
    parse(&r, "[{\"userIdentity\":{\"type\":\"WebIdentityUser\",\"principalId\":"
              "\"accounts.google.com:app.apps.googleusercontent.com:1234\",\"userName\":\"1234\","
              "\"identityProvider\":\"accounts.google.com\"},\"eventTime\":"
              "\"2024-07-30T21:53:13Z\",\"eventSource\":\"sts.amazonaws.com\",\"eventName\":"
              "\"AssumeRoleWithWebIdentity\",\"requestParameters\":{\"roleArn\":"
              "\"arn:aws:iam::444455556666:role/WebRole\",\"roleSessionName\":\"app1\","
              "\"durationSeconds\":3600},\"responseElements\":{\"credentials\":{\"accessKeyId\":"
              "\"ASIAWEB\"},\"subjectFromWebIdentityToken\":\"1234\",\"assumedRoleUser\":{"
              "\"assumedRoleId\":\"AROAWEB:app1\",\"arn\":\"arn:aws:sts::444455556666:"
              "assumed-role/WebRole/app1\"},\"provider\":\"accounts.google.com\",\"audience\":"
              "\"app.apps.googleusercontent.com\"}}]");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 0);
    c = &r.rec[0];
    CHECK_STR(c->identity_user_name, "1234");
    CHECK_STR(c->identity_provider, "accounts.google.com");
    CHECK_STR(c->response_web_subject, "1234");
    CHECK_STR(c->response_provider, "accounts.google.com");
    CHECK_STR(c->issued_key, "ASIAWEB");
    CHECK(c->response_subject == NULL && c->response_issuer == NULL);
    CHECK(c->request_source_identity == NULL && c->response_source_identity == NULL);

    /* An Identity Center user's sign-in (3.3), and an identity-enhanced
     * session with the newer onBehalfOf keys, which are not read (3.4). */
    parse(&r, "{\"userIdentity\":{\"type\":\"IdentityCenterUser\",\"accountId\":"
              "\"333333333333\",\"onBehalfOf\":{\"userId\":\"544894e8-0000-0000-0000-"
              "3ba6510dfac1\",\"identityStoreArn\":\"arn:aws:identitystore::333333333333:"
              "identitystore/d-1234567890\"},\"credentialId\":\"c-1\"},\"eventTime\":"
              "\"2024-07-30T21:53:13Z\",\"eventSource\":\"signin.amazonaws.com\",\"eventName\":"
              "\"UserAuthentication\",\"requestParameters\":null,\"responseElements\":null}\n"
              "{\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::111111111111:"
              "assumed-role/AppRole/Session\",\"accessKeyId\":\"ASIAAPP\",\"sessionContext\":{"
              "\"sessionIssuer\":{\"arn\":\"arn:aws:iam::111111111111:role/AppRole\"}},"
              "\"onBehalfOf\":{\"userId\":\"11111111-2222\",\"identityStoreArn\":"
              "\"arn:aws:identitystore::111111111111:identitystore/d-1\","
              "\"identityCenterInstanceArn\":\"arn:aws:sso:::instance/ssoins-1\",\"subject\":"
              "\"x\",\"subjectType\":\"user\",\"issuer\":\"https://identitycenter\"}},"
              "\"eventTime\":\"2024-07-30T21:53:13Z\",\"eventSource\":\"s3.amazonaws.com\","
              "\"eventName\":\"GetObject\"}\n");
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 0);
    CHECK_STR(r.rec[0].identity_type, "IdentityCenterUser");
    CHECK_STR(r.rec[0].on_behalf_of, "544894e8-0000-0000-0000-3ba6510dfac1");
    CHECK_STR(r.rec[0].identity_store,
              "arn:aws:identitystore::333333333333:identitystore/d-1234567890");
    CHECK(r.rec[0].identity_user_name == NULL);
    CHECK_STR(r.rec[1].on_behalf_of, "11111111-2222");
    CHECK_STR(r.rec[1].identity_store, "arn:aws:identitystore::111111111111:identitystore/d-1");
    CHECK_STR(r.rec[1].issuer_arn, "arn:aws:iam::111111111111:role/AppRole");
    CHECK(r.rec[1].response_subject == NULL && r.rec[1].response_issuer == NULL);

    /* A chained AssumeRole: the caller's session carries its source
     * identity on (3.7). */
    parse(&r, "[{\"userIdentity\":{\"type\":\"AssumedRole\",\"principalId\":\"AROAADMIN:alice\","
              "\"arn\":\"arn:aws:sts::222222222222:assumed-role/Admin/alice\",\"accountId\":"
              "\"222222222222\",\"accessKeyId\":\"ASIAS1\",\"sessionContext\":{\"sessionIssuer\":"
              "{\"type\":\"Role\",\"arn\":\"arn:aws:iam::222222222222:role/Admin\"},"
              "\"attributes\":{\"creationDate\":\"2024-07-30T21:00:00Z\",\"mfaAuthenticated\":"
              "\"false\"},\"sourceIdentity\":\"alice\"}},\"eventTime\":\"2024-07-30T21:53:13Z\","
              "\"eventSource\":\"sts.amazonaws.com\",\"eventName\":\"AssumeRole\","
              "\"requestParameters\":{\"roleArn\":\"arn:aws:iam::333333333333:role/Ops\","
              "\"roleSessionName\":\"gntd-1\",\"incomingTransitiveTags\":{\"Team\":\"a\"}},"
              "\"responseElements\":{\"credentials\":{\"accessKeyId\":\"ASIAS2\"},"
              "\"assumedRoleUser\":{\"assumedRoleId\":\"AROAOPS:gntd-1\",\"arn\":"
              "\"arn:aws:sts::333333333333:assumed-role/Ops/gntd-1\"},\"sourceIdentity\":"
              "\"alice\"}}]");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 0);
    c = &r.rec[0];
    CHECK_STR(c->source_identity, "alice");
    CHECK_STR(c->issuer_arn, "arn:aws:iam::222222222222:role/Admin");
    CHECK_STR(c->access_key_id, "ASIAS1");
    CHECK_STR(c->issued_key, "ASIAS2");
    CHECK_STR(c->response_source_identity, "alice");
    CHECK(c->request_source_identity == NULL);

    /* Repeated keys: the last wins, and a repeated object starts over. */
    parse(&r, "[{\"userIdentity\":{\"onBehalfOf\":{\"userId\":\"u1\",\"identityStoreArn\":"
              "\"s1\"},\"onBehalfOf\":{\"userId\":\"u2\"},\"userName\":\"a\",\"userName\":\"b\","
              "\"sessionContext\":{\"sourceIdentity\":\"old\"},\"sessionContext\":{"
              "\"sessionIssuer\":{\"arn\":\"i\"}}},\"responseElements\":{\"subject\":\"s\","
              "\"subject\":null,\"provider\":\"p1\",\"provider\":\"p2\"}," REC_TAIL("x") "]");
    CHECK_INT(r.records, 1);
    c = &r.rec[0];
    CHECK_STR(c->on_behalf_of, "u2");
    CHECK(c->identity_store == NULL);
    CHECK_STR(c->identity_user_name, "b");
    CHECK(c->source_identity == NULL);
    CHECK_STR(c->issuer_arn, "i");
    CHECK(c->response_subject == NULL);
    CHECK_STR(c->response_provider, "p2");

    /* The field limit holds for them too. */
    static char doc[8192];
    char longer[4098];
    memset(longer, 'a', 4097);
    longer[4097] = '\0';
    snprintf(doc, sizeof(doc),
             "[{\"userIdentity\":{\"onBehalfOf\":{\"userId\":\"%s\"}}," REC_TAIL("x") "]", longer);
    parse(&r, doc);
    CHECK_INT(r.records, 0);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "field too long");
    longer[4096] = '\0';
    snprintf(
        doc, sizeof(doc),
        "[{\"userIdentity\":{\"sessionContext\":{\"sourceIdentity\":\"%s\"}}," REC_TAIL("x") "]",
        longer);
    parse(&r, doc);
    CHECK_INT(r.records, 1);
    CHECK(r.records == 1 && strlen(r.rec[0].source_identity) == 4096);
    release(&r);
}

static void test_unexpected_types(void)
{
    static result r;
    const char *base = "\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":"
                       "\"2024-07-30T21:53:13Z\"";
    char doc[2048];
    /* Payloads of any shape, in a call that needs none of their fields: a
     * delivered record whose odd field is simply absent. */
    const char *odd[] = {
        "\"responseElements\":\"a string\"",
        "\"responseElements\":null",
        "\"responseElements\":[{\"credentials\":{\"accessKeyId\":\"x\"}}]",
        "\"responseElements\":{\"credentials\":\"ASIA\"}",
        "\"responseElements\":{\"credentials\":{\"accessKeyId\":42}}",
        "\"requestParameters\":{\"roleArn\":[\"arn\"],\"roleSessionName\":true}",
        "\"requestParameters\":null",
        "\"requestParameters\":7",
        "\"requestParameters\":{\"sourceIdentity\":{\"name\":\"alice\"}}",
        "\"responseElements\":{\"subject\":{\"commonName\":\"x\"},\"issuer\":{\"o\":\"y\"},"
        "\"provider\":7,\"subjectFromWebIdentityToken\":[],\"sourceIdentity\":false}",
    };
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        snprintf(doc, sizeof(doc), "[{%s,%s}]", odd[i], base);
        parse(&r, doc);
        CHECK_INT(r.rc, 0);
        CHECK_INT(r.records, 1);
        CHECK_INT(r.rejects, 0);
        CHECK(r.rec[0].issued_key == NULL);
        CHECK(r.rec[0].role_arn == NULL && r.rec[0].role_session_name == NULL);
        CHECK(r.rec[0].request_source_identity == NULL &&
              r.rec[0].response_source_identity == NULL);
        CHECK(r.rec[0].response_subject == NULL && r.rec[0].response_issuer == NULL);
        CHECK(r.rec[0].response_provider == NULL && r.rec[0].response_web_subject == NULL);
    }

    /* A field that decides who made the call, whether it succeeded, or what
     * kind of event it is, holding another type than CloudTrail writes
     * there (null included): the record is rejected, naming the field and
     * the type, at the value. */
    static const struct {
        const char *field;
        const char *why;
        const char *at; /* the value the offset points to */
    } typed[] = {
        {"\"errorCode\":{\"code\":\"AccessDenied\"}", "errorCode is an object, expected a string",
         "{\"code\""},
        {"\"errorCode\":404", "errorCode is a number, expected a string", "404"},
        {"\"errorCode\":[\"AccessDenied\"]", "errorCode is an array, expected a string", "["},
        {"\"errorCode\":true", "errorCode is a boolean, expected a string", "true"},
        {"\"userIdentity\":\"alice\"", "userIdentity is a string, expected an object", "\"alice\""},
        {"\"userIdentity\":[\"IAMUser\"]", "userIdentity is an array, expected an object", "["},
        {"\"userIdentity\":{\"arn\":5}", "userIdentity.arn is a number, expected a string", "5}"},
        {"\"userIdentity\":{\"type\":{\"x\":1}}",
         "userIdentity.type is an object, expected a string", "{\"x\""},
        {"\"userIdentity\":{\"accountId\":111111111111}",
         "userIdentity.accountId is a number, expected a string", "111111111111"},
        {"\"userIdentity\":{\"accessKeyId\":false}",
         "userIdentity.accessKeyId is a boolean, expected a string", "false"},
        {"\"userIdentity\":{\"sessionContext\":\"s\"}",
         "userIdentity.sessionContext is a string, expected an object", "\"s\""},
        {"\"userIdentity\":{\"sessionContext\":{\"sessionIssuer\":[]}}",
         "userIdentity.sessionContext.sessionIssuer is an array, expected an object", "[]"},
        {"\"userIdentity\":{\"userName\":{\"n\":\"alice\"}}",
         "userIdentity.userName is an object, expected a string", "{\"n\""},
        {"\"userIdentity\":{\"identityProvider\":[\"x\"]}",
         "userIdentity.identityProvider is an array, expected a string", "["},
        {"\"userIdentity\":{\"onBehalfOf\":\"u-1\"}",
         "userIdentity.onBehalfOf is a string, expected an object", "\"u-1\""},
        {"\"userIdentity\":{\"onBehalfOf\":{\"userId\":7}}",
         "userIdentity.onBehalfOf.userId is a number, expected a string", "7}"},
        {"\"userIdentity\":{\"onBehalfOf\":{\"userId\":\"u\",\"identityStoreArn\":true}}",
         "userIdentity.onBehalfOf.identityStoreArn is a boolean, expected a string", "true"},
        {"\"userIdentity\":{\"sessionContext\":{\"sourceIdentity\":[\"alice\"]}}",
         "userIdentity.sessionContext.sourceIdentity is an array, expected a string", "["},
        {"\"recipientAccountId\":111111111111", "recipientAccountId is a number, expected a string",
         "111111111111"},
        {"\"eventID\":false", "eventID is a boolean, expected a string", "false"},
        {"\"sharedEventID\":{}", "sharedEventID is an object, expected a string", "{}"},
        {"\"eventType\":1", "eventType is a number, expected a string", "1}"},
        {"\"eventCategory\":[\"Data\"]", "eventCategory is an array, expected a string", "["},
        {"\"awsRegion\":{\"name\":\"us-east-1\"}", "awsRegion is an object, expected a string",
         "{\"name\""},
        {"\"readOnly\":\"yes\"", "readOnly is a string other than \"true\" or \"false\"",
         "\"yes\""},
        {"\"readOnly\":1", "readOnly is a number, expected true or false", "1}"},
        {"\"managementEvent\":[true]", "managementEvent is an array, expected true or false", "["},
    };
    for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
        snprintf(doc, sizeof(doc), "[{%s,%s}]", base, typed[i].field);
        parse(&r, doc);
        CHECK_INT(r.rc, 0);
        CHECK_INT(r.records, 0);
        CHECK_INT(r.rejects, 1);
        CHECK_STR(r.rej_why[0], typed[i].why);
        CHECK(r.rej_off[0] < strlen(doc) &&
              strncmp(doc + r.rej_off[0], typed[i].at, strlen(typed[i].at)) == 0);
        /* The same as a line of its own, or as the only record. */
        snprintf(doc, sizeof(doc), "{%s,%s}\n", typed[i].field, base);
        parse(&r, doc);
        CHECK_INT(r.records, 0);
        CHECK_INT(r.rejects, 1);
        CHECK_STR(r.rej_why[0], typed[i].why);
    }

    /* null is no value, as an absent key: exports that flatten records into
     * columns write it for every field a record lacks. */
    static const char *const nulls[] = {
        "\"errorCode\":null",
        "\"userIdentity\":null",
        "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":null}",
        "\"userIdentity\":{\"sessionContext\":{\"sessionIssuer\":{\"arn\":null}}}",
        "\"managementEvent\":null,\"readOnly\":null,\"eventType\":null",
        "\"recipientAccountId\":null,\"sharedEventID\":null,\"eventID\":null,\"awsRegion\":null",
        "\"userIdentity\":{\"userName\":null,\"identityProvider\":null,\"onBehalfOf\":null}",
        "\"userIdentity\":{\"onBehalfOf\":{\"userId\":null,\"identityStoreArn\":null},"
        "\"sessionContext\":{\"sourceIdentity\":null}}",
    };
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
        snprintf(doc, sizeof(doc), "[{%s,%s}]", base, nulls[i]);
        parse(&r, doc);
        CHECK_INT(r.rc, 0);
        CHECK_INT(r.records, 1);
        CHECK_INT(r.rejects, 0);
        if (r.records) {
            CHECK(r.rec[0].error_code == NULL);
            CHECK(r.rec[0].identity_user_name == NULL && r.rec[0].identity_provider == NULL);
            CHECK(r.rec[0].on_behalf_of == NULL && r.rec[0].identity_store == NULL);
            CHECK(r.rec[0].source_identity == NULL);
        }
    }

    /* A successful AssumeRole needs its request and response fields (they
     * link the role's sessions to it): there they must have their types. */
    const char *assume = "\"eventSource\":\"sts.amazonaws.com\",\"eventName\":\"AssumeRole\","
                         "\"eventTime\":\"2024-07-30T21:53:13Z\"";
    static const struct {
        const char *field;
        const char *why; /* NULL: delivered */
    } payload[] = {
        {"\"requestParameters\":\"x\"", "requestParameters is a string, expected an object"},
        {"\"requestParameters\":{\"roleArn\":[\"arn\"]}",
         "requestParameters.roleArn is an array, expected a string"},
        {"\"requestParameters\":{\"roleArn\":\"r\",\"roleSessionName\":true}",
         "requestParameters.roleSessionName is a boolean, expected a string"},
        {"\"responseElements\":[]", "responseElements is an array, expected an object"},
        {"\"responseElements\":{\"credentials\":\"ASIA\"}",
         "responseElements.credentials is a string, expected an object"},
        {"\"responseElements\":{\"credentials\":{\"accessKeyId\":42}}",
         "responseElements.credentials.accessKeyId is a number, expected a string"},
        /* The fields that name who opened the session (see needs_payload). */
        {"\"requestParameters\":{\"sourceIdentity\":7}",
         "requestParameters.sourceIdentity is a number, expected a string"},
        {"\"responseElements\":{\"sourceIdentity\":{}}",
         "responseElements.sourceIdentity is an object, expected a string"},
        {"\"responseElements\":{\"subject\":[\"alice\"]}",
         "responseElements.subject is an array, expected a string"},
        {"\"responseElements\":{\"subjectFromWebIdentityToken\":1234}",
         "responseElements.subjectFromWebIdentityToken is a number, expected a string"},
        {"\"responseElements\":{\"issuer\":true}",
         "responseElements.issuer is a boolean, expected a string"},
        {"\"responseElements\":{\"provider\":{\"name\":\"x\"}}",
         "responseElements.provider is an object, expected a string"},
        {"\"responseElements\":{\"subject\":null,\"issuer\":null,\"provider\":null,"
         "\"subjectFromWebIdentityToken\":null,\"sourceIdentity\":null},"
         "\"requestParameters\":{\"sourceIdentity\":null}",
         NULL},
        {"\"responseElements\":null", NULL},
        {"\"requestParameters\":null", NULL},
        /* A failed call needs none of them. */
        {"\"errorCode\":\"AccessDenied\",\"responseElements\":\"x\"", NULL},
    };
    for (size_t i = 0; i < sizeof(payload) / sizeof(payload[0]); i++) {
        snprintf(doc, sizeof(doc), "[{%s,%s}]", assume, payload[i].field);
        parse(&r, doc);
        CHECK_INT(r.rc, 0);
        CHECK_INT(r.records, payload[i].why ? 0 : 1);
        CHECK_INT(r.rejects, payload[i].why ? 1 : 0);
        if (payload[i].why)
            CHECK_STR(r.rej_why[0], payload[i].why);
    }
    snprintf(doc, sizeof(doc),
             "[{%s,\"eventName\":\"AssumeRoleWithSAML\",\"responseElements\":{\"credentials\":7}}]",
             assume);
    parse(&r, doc);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "responseElements.credentials is a number, expected an object");
    snprintf(doc, sizeof(doc),
             "[{%s,\"eventName\":\"AssumeRoleWithSAML\",\"responseElements\":{\"issuer\":"
             "[\"https://idp\"]}}]",
             assume);
    parse(&r, doc);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "responseElements.issuer is an array, expected a string");
    snprintf(doc, sizeof(doc),
             "[{%s,\"eventName\":\"AssumeRoleWithWebIdentity\",\"responseElements\":{"
             "\"provider\":5}}]",
             assume);
    parse(&r, doc);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "responseElements.provider is a number, expected a string");

    /* Required fields: a value of another type says so; absent or empty
     * ones are missing. */
    const char *required =
        "[{\"eventSource\":\"a\",\"eventName\":7,\"eventTime\":\"2024-07-30T21:53:13Z\"},"
        "{\"eventSource\":[\"a\"],\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\"},"
        "{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":1722376393},"
        "{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":\"yesterday\"},"
        "{\"eventSource\":\"a\",\"eventName\":\"b\"},"
        "{\"eventSource\":\"\",\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\"},"
        "{\"eventSource\":null,\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\"}]";
    parse(&r, required);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 0);
    CHECK_INT(r.rejects, 7);
    CHECK_STR(r.rej_why[0], "eventName is a number, expected a string");
    CHECK_STR(r.rej_why[1], "eventSource is an array, expected a string");
    CHECK_STR(r.rej_why[2], "eventTime is a number, expected a string");
    CHECK_STR(r.rej_why[3], "bad eventTime");
    CHECK_STR(r.rej_why[4], MISSING_TIME);
    CHECK_STR(r.rej_why[5], "missing eventSource");
    CHECK_STR(r.rej_why[6], "missing eventSource"); /* null is no value */
    CHECK_INT(r.rej_off[0], 32);                    /* the 7 */
    CHECK_INT(r.rej_off[3], strstr(required, "{\"eventSource\":\"a\",\"eventName\":\"b\","
                                             "\"eventTime\":\"yesterday") -
                                required); /* the record */

    /* Two of them: the first in the text is named. */
    parse(&r, "[{\"readOnly\":2,\"errorCode\":{}," REC_TAIL("b") "]");
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "readOnly is a number, expected true or false");
    CHECK_INT(r.rej_off[0], 13);

    /* A repeated key: the last value wins, also for whole objects and
     * values of unexpected types. */
    parse(&r,
          "[{\"eventSource\":\"a\",\"eventName\":\"first\",\"eventTime\":\"2024-07-30T21:53:13Z\","
          "\"userIdentity\":{\"arn\":\"old\",\"type\":\"IAMUser\"},\"eventName\":\"last\","
          "\"userIdentity\":{\"type\":\"Root\"},\"errorCode\":{\"x\":1},\"errorCode\":\"E\"},"
          "{\"userIdentity\":\"alice\",\"userIdentity\":{\"arn\":5},\"userIdentity\":{\"arn\":"
          "\"A\"}," REC_TAIL("c") ",{\"errorCode\":\"E\",\"errorCode\":null," REC_TAIL("d") "]");
    CHECK_INT(r.records, 3);
    CHECK_STR(r.rec[0].event_name, "last");
    CHECK_STR(r.rec[0].identity_type, "Root");
    CHECK(r.rec[0].identity_arn == NULL);
    CHECK_STR(r.rec[0].error_code, "E");
    CHECK_STR(r.rec[1].identity_arn, "A");
    CHECK(r.rec[2].error_code == NULL); /* the last errorCode is null: no value */
    CHECK_INT(r.rejects, 0);

    /* In an envelope, what the top-level object held next to Records was
     * never a record. */
    parse(&r, "{\"eventName\":5,\"userIdentity\":\"x\",\"Records\":[" REC("b") "]}");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 0);
    release(&r);
}

/* eventType, eventCategory, awsRegion and the two booleans; readOnly as a
 * literal, as a string, or absent (then unknown); of other types see
 * test_unexpected_types. */
static void test_kind_fields(void)
{
    result r = {0};
    parse(&r, "[{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\","
              "\"eventTime\":\"2024-07-30T21:53:13Z\",\"eventType\":\"AwsApiCall\","
              "\"eventCategory\":\"Data\",\"readOnly\":true,\"managementEvent\":false,"
              "\"awsRegion\":\"eu-west-1\"},"
              "{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\","
              "\"awsRegion\":\"\",\"readOnly\":\"false\",\"managementEvent\":\"true\","
              "\"eventType\":\"AwsConsoleSignIn\"},"
              "{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\"},"
              "{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\","
              "\"readOnly\":\"yes\",\"managementEvent\":[true],\"readOnly\":false,"
              "\"managementEvent\":\"false\"}]");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 4);
    CHECK_STR(r.rec[0].event_type, "AwsApiCall");
    CHECK_STR(r.rec[0].event_category, "Data");
    CHECK_INT(r.rec[0].read_only, 1);
    CHECK_INT(r.rec[0].management_event, 0);
    CHECK_STR(r.rec[0].aws_region, "eu-west-1");
    CHECK_STR(r.rec[1].aws_region, "");
    CHECK(r.rec[2].aws_region == NULL);
    CHECK_STR(r.rec[1].event_type, "AwsConsoleSignIn");
    CHECK(r.rec[1].event_category == NULL);
    CHECK_INT(r.rec[1].read_only, 0);
    CHECK_INT(r.rec[1].management_event, 1);
    CHECK(r.rec[2].event_type == NULL && r.rec[2].event_category == NULL);
    CHECK_INT(r.rec[2].read_only, -1);
    CHECK_INT(r.rec[2].management_event, -1);
    CHECK_INT(r.rec[3].read_only, 0); /* the last value wins */
    CHECK_INT(r.rec[3].management_event, 0);
    release(&r);
}

/* files.timestamp_field: the time of records without eventTime. */
static void test_time_field(void)
{
    result r = {0};
    ct_trail_options opts = {"@timestamp"};
    r.opts = &opts;
    parse(&r, "{\"@timestamp\":\"2018-03-05T10:20:00.123Z\",\"eventSource\":\"a\","
              "\"eventName\":\"b\"}\n"
              "{\"@timestamp\":\"2018-03-05T10:20:00Z\",\"eventTime\":\"2018-03-06T00:00:00Z\","
              "\"eventSource\":\"a\",\"eventName\":\"c\"}\n"
              "{\"eventSource\":\"a\",\"eventName\":\"d\"}\n"
              "{\"@timestamp\":\"soon\",\"eventSource\":\"a\",\"eventName\":\"e\"}\n"
              "{\"@timestamp\":1520245200,\"eventSource\":\"a\",\"eventName\":\"f\"}\n");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rec[0].event_time, 1520245200);
    CHECK(r.rec[0].time_elsewhere);
    CHECK_INT(r.rec[1].event_time, 1520294400); /* eventTime wins */
    CHECK(!r.rec[1].time_elsewhere);
    CHECK_INT(r.rejects, 3);
    CHECK_STR(r.rej_why[0], "missing eventTime and files.timestamp_field");
    CHECK_STR(r.rej_why[1], "bad files.timestamp_field time");
    CHECK_STR(r.rej_why[2], "the files.timestamp_field time is a number, expected a string");
    /* The other time field matters only when it is used: a NUL or an
     * over-long value there rejects only a record without eventTime. */
    parse(&r, "{\"@timestamp\":\"\\u0000\",\"eventTime\":\"2018-03-06T00:00:00Z\","
              "\"eventSource\":\"a\",\"eventName\":\"b\"}\n"
              "{\"@timestamp\":\"\\u0000\",\"eventSource\":\"a\",\"eventName\":\"c\"}\n");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "NUL character in a field");
    CHECK_INT(r.rej_off[0], 107); /* the value */
    /* "eventTime" itself, or no name, is the default. */
    ct_trail_options plain = {"eventTime"};
    r.opts = &plain;
    parse(&r,
          "{\"@timestamp\":\"2018-03-05T10:20:00Z\",\"eventSource\":\"a\",\"eventName\":\"b\"}");
    CHECK_INT(r.records, 0);
    CHECK_STR(r.rej_why[0], MISSING_TIME);
    /* A document that only has the named key is still a record. */
    r.opts = &opts;
    parse(&r, "{\"@timestamp\":\"2018-03-05T10:20:00Z\"}");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "missing eventSource");
    release(&r);
}

static void test_escapes(void)
{
    static result r;
    parse(&r,
          "[{\"eventSource\":\"a\\\"b\\\\c\\/d\",\"eventName\":\"caf\\u00e9 \\u00E9\","
          "\"eventTime\":\"2024-07-30T21:53:13Z\",\"errorCode\":\"\\b\\f\\n\\r\\t|\","
          "\"eventID\":\"\\ud83d\\ude00 \\u20ac \\u0041\",\"sharedEventID\":\"\xF0\x9F\x98\x80\","
          "\"other\":\"\\u0000 is fine where nobody reads it\"}]");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 1);
    CHECK_STR(r.rec[0].event_source, "a\"b\\c/d");
    CHECK_STR(r.rec[0].event_name, "caf\xC3\xA9 \xC3\xA9");
    CHECK_STR(r.rec[0].error_code, "\b\f\n\r\t|");
    CHECK_STR(r.rec[0].event_id, "\xF0\x9F\x98\x80 \xE2\x82\xAC A");
    CHECK_STR(r.rec[0].shared_event_id, "\xF0\x9F\x98\x80");

    /* Escaped keys are the same keys. */
    parse(&r, "[{\"event\\u0053ource\":\"a\",\"\\u0065ventName\":\"b\",\"eventTim\\u0065\":"
              "\"2024-07-30T21:53:13Z\",\"userIdentity\":{\"\\u0061rn\":\"x\"}}]");
    CHECK_INT(r.records, 1);
    CHECK_STR(r.rec[0].identity_arn, "x");

    /* Lone surrogates: the record is rejected at the escape, the next one
     * is fine. Also in a skipped value and in a key. */
    const char *lone[] = {"\\ud800",        "\\udfff",        "\\ud83dx",
                          "\\ud83d\\u0041", "\\ude00\\ud83d", "\\ud83d\\ud83d"};
    for (size_t i = 0; i < sizeof(lone) / sizeof(lone[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc),
                 "[{\"eventSource\":\"a\",\"eventName\":\"b%s\",\"eventTime\":"
                 "\"2024-07-30T21:53:13Z\"}," REC("next") "]",
                 lone[i]);
        parse(&r, doc);
        CHECK_INT(r.rc, 0);
        CHECK_INT(r.records, 1);
        CHECK_INT(r.rejects, 1);
        CHECK_STR(r.rej_why[0], "lone surrogate in \\u escape");
        CHECK_INT(r.rej_off[0], strchr(doc, '\\') - doc);
        CHECK_STR(r.rec[0].event_name, "next");
    }
    parse(&r, "[{\"x\":\"\\udc00\"," REC_TAIL("a") ",{\"k\\ud800\":1," REC_TAIL("b") "]");
    CHECK_INT(r.records, 0);
    CHECK_INT(r.rejects, 2);

    /* \u0000 in an extracted field would cut the C string short. */
    parse(&r, "[{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":\"2024-07-30T21:53:13Z\","
              "\"userIdentity\":{\"arn\":\"arn:aws:iam::1:user/alice\\u0000evil\"}}]");
    CHECK_INT(r.records, 0);
    CHECK_STR(r.rej_why[0], "NUL character in a field");

    /* Bad escapes are syntax errors. */
    const char *bad[] = {"\\x41", "\\u12G4", "\\U0041", "\\", "\\u00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc), "[" REC("first") ",{\"eventName\":\"%s\"}," REC("x") "]",
                 bad[i]);
        parse(&r, doc);
        CHECK_INT(r.rc, 0);
        CHECK_INT(r.records, 1);
        CHECK_INT(r.rejects, 1);
        CHECK(strncmp(r.rej_why[0], "JSON syntax error: ", 19) == 0);
    }
    release(&r);
}

static void test_utf8(void)
{
    static result r;
    /* Raw UTF-8 of every length is fine. */
    parse(&r, "[{\"eventSource\":\"a\",\"eventName\":"
              "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\","
              "\"eventTime\":\"2024-07-30T21:53:13Z\",\"x\":\"\xEF\xBF\xBF\"}]");
    CHECK_INT(r.records, 1);
    CHECK_STR(r.rec[0].event_name, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");

    static const struct {
        const char *s;
        size_t at; /* the first bad byte */
    } bad[] = {
        {"\xFF", 0},             /* never valid */
        {"\xC0\xAF", 0},         /* overlong */
        {"\xE0\x80\xAF", 0},     /* overlong */
        {"\xED\xA0\x80", 0},     /* surrogate */
        {"\xF4\x90\x80\x80", 0}, /* above U+10FFFF */
        {"\xF5\x80\x80\x80", 0}, /* no such lead byte */
        {"z\x80", 1},            /* stray continuation */
        {"ab\xC3", 2},           /* cut by the closing quote */
        {"\xE2\x82", 0},         /* cut */
        {"\xF0\x9F\x98", 0},     /* cut */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* In an extracted field, a skipped value and a key. */
        for (int where = 0; where < 3; where++) {
            char doc[512];
            const char *fmt =
                where == 0   ? "[{\"eventSource\":\"a\",\"eventName\":\"%s\",\"eventTime\":"
                               "\"2024-07-30T21:53:13Z\"}," REC("next") "]"
                : where == 1 ? "[{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":"
                               "\"2024-07-30T21:53:13Z\",\"x\":[\"%s\"]}," REC("next") "]"
                             : "[{\"eventSource\":\"a\",\"eventName\":\"b\",\"eventTime\":"
                               "\"2024-07-30T21:53:13Z\",\"%s\":1}," REC("next") "]";
            snprintf(doc, sizeof(doc), fmt, bad[i].s);
            parse(&r, doc);
            CHECK_INT(r.rc, 0);
            CHECK_INT(r.records, 1);
            CHECK_INT(r.rejects, 1);
            CHECK_STR(r.rej_why[0], "invalid UTF-8 in string");
            CHECK_INT(r.rej_off[0], strstr(doc, bad[i].s) - doc + (long)bad[i].at);
            CHECK_STR(r.rec[0].event_name, "next");
        }
    }

    /* Bad text outside any record of an envelope is still reported. */
    parse(&r, "{\"note\":\"\xFF\",\"Records\":[" REC("A") "],\"x\":\"\xC0\"}");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 2);
    CHECK_STR(r.rej_why[0], "invalid UTF-8 in string");
    CHECK_INT(r.rej_off[0], 9);
    /* ...but an over-long top-level "eventName" there is no problem. */
    char *doc = malloc(6000);
    snprintf(doc, 6000, "{\"eventName\":\"%05000d\",\"Records\":[" REC("A") "]}", 0);
    parse(&r, doc);
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 0);
    free(doc);
    release(&r);
}

static void test_control_and_literals(void)
{
    static result r;
    /* A raw control character in a string is a syntax error. */
    parse(&r, "[" REC("A") ",{\"eventName\":\"a\tb\"}," REC("B") "]");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "JSON syntax error: control character in string");
    CHECK_INT(r.rej_off[0], strlen("[" REC("A") ",{\"eventName\":\"a"));

    parse(&r, "[{\"a\":true,\"b\":false,\"c\":null,\"d\":[true,false,null]," REC_TAIL("A") "]");
    CHECK_INT(r.records, 1);
    const char *bad[] = {"tru", "nul", "True", "nulL", "f", "undefined", "NaN", "'x'"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char d[256];
        snprintf(d, sizeof(d), "[" REC("A") ",{\"x\":%s}," REC("B") "]", bad[i]);
        parse(&r, d);
        CHECK_INT(r.records, 1);
        CHECK_INT(r.rejects, 1);
        CHECK(strncmp(r.rej_why[0], "JSON syntax error: ", 19) == 0);
    }
    /* A literal cut by the end of the text is truncation. */
    parse(&r, "[" REC("A") ",{\"x\":tr");
    CHECK_INT(r.records, 1);
    CHECK_STR(r.rej_why[0], "truncated JSON");
    CHECK_INT(r.rej_off[0], strlen("[" REC("A") ",{\"x\":tr"));
    release(&r);
}

static void test_numbers(void)
{
    static result r;
    const char *good[] = {"0",     "-0",
                          "1",     "-1",
                          "10",    "1.5",
                          "-0.25", "1e5",
                          "1E5",   "1e+5",
                          "1e-5",  "-1.5E-10",
                          "0.0e0", "123456789012345678901234567890.123456789e-308",
                          "1e400"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char d[256];
        snprintf(d, sizeof(d), "[{\"n\":%s,\"m\":[%s,%s]," REC_TAIL("A") "]", good[i], good[i],
                 good[i]);
        parse(&r, d);
        CHECK_INT(r.records, 1);
        CHECK_INT(r.rejects, 0);
        /* As a top-level line, a number is not a record. */
        snprintf(d, sizeof(d), REC("A") "\n%s\n" REC("B"), good[i]);
        parse(&r, d);
        CHECK_INT(r.records, 2);
        CHECK_INT(r.rejects, 1);
        CHECK_STR(r.rej_why[0], "record is not an object");
    }
    const char *bad[] = {"01",  "-01",  "1.",   "1.e5", ".5",       "-",         "+1", "1e",
                         "1e+", "0x10", "1..2", "--1",  "Infinity", "-Infinity", "1 2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char d[256];
        snprintf(d, sizeof(d), "[" REC("A") ",{\"n\":%s}," REC("B") "]", bad[i]);
        parse(&r, d);
        CHECK_INT(r.rc, 0);
        CHECK_INT(r.records, 1);
        CHECK_INT(r.rejects, 1);
        CHECK(strncmp(r.rej_why[0], "JSON syntax error: ", 19) == 0);
    }
    release(&r);
}

static void test_not_objects(void)
{
    static result r;
    const char *doc = "[1, \"x\", null, [" REC("inner") "], " REC("A") ", {}]";
    parse(&r, doc);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 5);
    CHECK_STR(r.rej_why[0], "record is not an object");
    CHECK_STR(r.rej_why[3], "record is not an object");
    CHECK_STR(r.rej_why[4], "missing eventSource");
    CHECK_INT(r.rej_off[0], 1);
    CHECK_INT(r.rej_off[1], 4);
    CHECK_INT(r.rej_off[2], 9);
    CHECK_INT(r.rej_off[3], 15);
    CHECK_INT(r.rej_off[4], strlen(doc) - 3);
    CHECK_STR(r.rec[0].event_name, "A");

    parse(&r, "{\"Records\":[\"x\"," REC("A") "]}");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "record is not an object");
    release(&r);
}

static void test_syntax_errors(void)
{
    static result r;
    /* Inside an array, the rest is one rejected stretch; what came before
     * was delivered. */
    parse(&r, "[" REC("A") "," REC("B") ",{\"eventName\" \"x\"}," REC("C") "," REC("D") "]");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "JSON syntax error: expected ':' after an object key");
    parse(&r, "[" REC("A") " " REC("B") "]");
    CHECK_INT(r.records, 1);
    CHECK_STR(r.rej_why[0], "JSON syntax error: expected ',' or ']' after a record");
    parse(&r, "[" REC("A") ",]");
    CHECK_INT(r.records, 1);
    CHECK_STR(r.rej_why[0], "JSON syntax error: expected a value");
    parse(&r, "[{\"a\":[1,2}]," REC("A") "]");
    CHECK_INT(r.records, 0);
    CHECK_STR(r.rej_why[0], "JSON syntax error: expected ',' or ']' in an array");
    parse(&r, "[{\"a\":{\"b\":1]}," REC("A") "]");
    CHECK_STR(r.rej_why[0], "JSON syntax error: expected ',' or '}' in an object");
    parse(&r, "[{\"a\":1,}]");
    CHECK_STR(r.rej_why[0], "JSON syntax error: expected a string key");
    parse(&r, "[{'a':1}]");
    CHECK_STR(r.rej_why[0], "JSON syntax error: expected a string key");
    parse(&r, "[garbage]");
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.rejects, 1);
    CHECK_INT(r.rej_off[0], 1);

    /* After the document only whitespace may follow. */
    parse(&r, "[" REC("A") "] x");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 1);
    CHECK_INT(r.rej_off[0], strlen("[" REC("A") "] "));
    parse(&r, "[" REC("A") "]]");
    CHECK_INT(r.rejects, 1);

    /* In an envelope whose records began arriving, the rest goes too. */
    parse(&r, "{\"Records\":[" REC("A") ",{\"eventName\":}]}\n" REC("B"));
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 1);
    parse(&r, "{\"Records\":[" REC("A") "]");
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "truncated JSON");
    release(&r);
}

/* Each record carries its own JSON text, from '{' to '}', whatever shape
 * the file has: the Elasticsearch loader sends exactly that. */
static void test_raw_span(void)
{
    static const char *const one = "{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\","
                                   "\"eventTime\":\"2018-06-01T00:00:00Z\"}";
    static const char *const two = "{ \"eventSource\" : \"iam.amazonaws.com\",\n  \"eventName\":"
                                   "\"GetUser\", \"x\":{\"y\":[1,{}]},\n \"eventTime\":"
                                   "\"2018-06-02T00:00:00Z\" }";
    char text[1024];
    const char *shapes[] = {"{\"Records\":[%s,\n%s]}", "[ %s , %s ]", "%s\n%s\n"};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        snprintf(text, sizeof(text), shapes[i], one, two);
        result res = {0};
        parse(&res, text);
        CHECK_INT(res.records, 2);
        if (res.records == 2) {
            CHECK_STR(res.rec[0].raw, one);
            CHECK_INT(res.rec[0].raw_len, strlen(one));
            CHECK_STR(res.rec[1].raw, two);
            CHECK_INT(res.rec[1].raw_len, strlen(two));
        }
        release(&res);
    }
}

static void test_line_recovery(void)
{
    static result r;
    /* A broken line is one rejected record; the next line goes on. */
    const char *doc = REC("A") "\n{\"eventName\":\"B\",,}\n" REC("C") "\r\n[1,2\n" REC("D") "\n";
    parse(&r, doc);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 3);
    CHECK_INT(r.rejects, 2);
    CHECK_STR(r.rec[1].event_name, "C");
    CHECK_STR(r.rec[2].event_name, "D");
    CHECK_STR(r.rej_why[0], "JSON syntax error: expected a string key");
    CHECK_INT(r.rej_off[0], strlen(REC("A") "\n{\"eventName\":\"B\","));

    /* A line cut short swallows the next one; it is picked up again. */
    doc = REC("A") "\n{\"eventName\":\"B\",\"x\":[1,\n" REC("C") "\n" REC("D");
    parse(&r, doc);
    CHECK_INT(r.records, 3);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "JSON syntax error: record not closed before the next line");
    CHECK_INT(r.rej_off[0], strlen(REC("A") "\n{\"eventName\":\"B\",\"x\":[1,"));
    doc = REC("A") "\n{\"eventName\":\"B\n" REC("C");
    parse(&r, doc);
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 1);

    /* Cut after a colon: the next line becomes the value and the error
     * shows one line further down; both lines after it still count. */
    doc = REC("A") "\n{\"eventName\":\n" REC("B") "\n" REC("C") "\n";
    parse(&r, doc);
    CHECK_INT(r.records, 3);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rec[1].event_name, "B");
    CHECK_STR(r.rej_why[0], "JSON syntax error: record not closed before the next line");
    CHECK_INT(r.rej_off[0], strlen(REC("A") "\n{\"eventName\":"));

    /* Lines full of dangling brackets and trailing commas: every line
     * could start over and run on for hundreds of lines. Going back is
     * bounded, so this stays linear (it took minutes when it was not). */
    static const char opener[] = "{\"a\":[\n", closed[] = "{\"b\":1},\n";
    size_t cap = 40000 * (sizeof(opener) + 10 * sizeof(closed));
    char *big = malloc(cap), *q = big;
    for (int i = 0; i < 40000; i++) {
        q += sprintf(q, "%s", opener);
        for (int k = 0; k < 10; k++)
            q += sprintf(q, "%s", closed);
    }
    parse_n(&r, big, (size_t)(q - big));
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.records, 0);
    CHECK(r.rejects >= 1 && r.rejects <= 440000);
    free(big);

    /* The last line cut short: truncated. */
    parse(&r, REC("A") "\n" REC("B") "\n{\"eventSource\":\"a\",\"even");
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "truncated JSON");

    /* Garbage between lines. */
    parse(&r, REC("A") "\n,\n" REC("B") "\nxyz\n" REC("C"));
    CHECK_INT(r.records, 3);
    CHECK_INT(r.rejects, 2);

    /* Bad records that still parse are rejected one by one. */
    parse(&r, REC("A") "\n{\"eventName\":\"x\"}\n{\"eventName\":\"\xFF\"}\n" REC("B"));
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 2);
    release(&r);
}

static void test_limits(void)
{
    static result r;
    /* 4096 bytes is the longest extracted value; escapes count unescaped. */
    size_t cap = 20000;
    char *doc = malloc(cap);
    char *v = malloc(8200);
    memset(v, 'n', 4096);
    v[4096] = '\0';
    snprintf(doc, cap,
             "[{\"eventSource\":\"a\",\"eventName\":\"%s\",\"eventTime\":"
             "\"2024-07-30T21:53:13Z\"}]",
             v);
    parse(&r, doc);
    CHECK_INT(r.records, 1);
    CHECK_INT(r.records ? strlen(r.rec[0].event_name) : 0, 4096);
    for (int i = 0; i < 4095; i++)
        memcpy(v + 2 * i, "\\/", 2);
    v[8190] = '\0';
    snprintf(doc, cap,
             "[{\"eventSource\":\"a\",\"eventName\":\"%sx\",\"eventTime\":"
             "\"2024-07-30T21:53:13Z\"}]",
             v);
    parse(&r, doc);
    CHECK_INT(r.records, 1);
    snprintf(doc, cap,
             "[{\"eventSource\":\"a\",\"eventName\":\"%sxy\",\"eventTime\":"
             "\"2024-07-30T21:53:13Z\"}," REC("B") "]",
             v);
    parse(&r, doc);
    CHECK_INT(r.records, 1);
    CHECK_INT(r.rejects, 1);
    CHECK_STR(r.rej_why[0], "field too long");
    CHECK_INT(r.rej_off[0], strlen("[{\"eventSource\":\"a\",\"eventName\":"));
    /* Escapes after the limit was passed change nothing. */
    memset(v, 'n', 4100);
    strcpy(v + 4100, "\\n\\u00e9");
    snprintf(doc, cap,
             "[{\"eventSource\":\"a\",\"eventName\":\"%s\",\"eventTime\":"
             "\"2024-07-30T21:53:13Z\"}]",
             v);
    parse(&r, doc);
    CHECK_INT(r.records, 0);
    CHECK_STR(r.rej_why[0], "field too long");
    /* Long values elsewhere are no problem. */
    memset(v, 'z', 8000);
    v[8000] = '\0';
    snprintf(doc, cap, "[{\"policy\":\"%s\"," REC_TAIL("A") "]", v);
    parse(&r, doc);
    CHECK_INT(r.records, 1);
    free(v);
    free(doc);

    /* Nesting: 512 levels in all are fine (the array, the record and 510
     * more), one more is a syntax error, and a million opening brackets are
     * just a long error: nothing recurses on the input. */
    size_t n = 1000000;
    doc = malloc(7 * n + 256);
    for (size_t extra = 510; extra <= 511; extra++) {
        size_t len = (size_t)sprintf(doc, "[{\"x\":");
        memset(doc + len, '[', extra);
        memset(doc + len + extra, ']', extra);
        len += 2 * extra;
        sprintf(doc + len, ",%s]", REC_TAIL("A"));
        parse(&r, doc);
        CHECK_INT(r.records, extra == 510 ? 1 : 0);
        CHECK_INT(r.rejects, extra == 510 ? 0 : 1);
        if (extra == 511)
            CHECK_STR(r.rej_why[0], "JSON syntax error: nesting deeper than 512 levels");
    }
    /* Objects inside a field the scanner follows count the same. */
    for (size_t extra = 508; extra <= 509; extra++) {
        size_t len = (size_t)sprintf(doc, "[{\"userIdentity\":{\"sessionContext\":{\"x\":");
        memset(doc + len, '[', extra);
        memset(doc + len + extra, ']', extra);
        len += 2 * extra;
        sprintf(doc + len, "}},%s]", REC_TAIL("A"));
        parse(&r, doc);
        CHECK_INT(r.records, extra == 508 ? 1 : 0);
        CHECK_INT(r.rejects, extra == 508 ? 0 : 1);
    }
    memset(doc, '[', 2 * n);
    parse_n(&r, doc, 2 * n);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.rejects, 1);
    doc[0] = '{';
    for (size_t i = 0; i < n; i++)
        memcpy(doc + 1 + 7 * i, "\"a\":[{ ", 7);
    parse_n(&r, doc, 1 + 7 * n);
    CHECK_INT(r.rejects, 1);
    free(doc);
    release(&r);
}

static void test_callbacks(void)
{
    static result r;
    const char *doc = "[" REC("A") ",1," REC("B") "," REC("C") "]";
    r.stop_records = 2;
    parse(&r, doc);
    CHECK_INT(r.rc, 99);
    CHECK_INT(r.records, 2);
    CHECK_INT(r.rejects, 1);
    r.stop_records = 0;
    r.stop_rejects = 1;
    parse(&r, doc);
    CHECK_INT(r.rc, 98);
    CHECK_INT(r.records, 1);
    r.stop_rejects = 1;
    parse(&r, "[" REC("A") ",{]");
    CHECK_INT(r.rc, 98);
    parse(&r, REC("A") "\n{\n" REC("B"));
    CHECK_INT(r.rc, 98);
    CHECK_INT(r.records, 1);
    parse(&r, "[" REC("A") "] x");
    CHECK_INT(r.rc, 98);
    parse(&r, "{\"x\":\"\xFF\",\"Records\":[" REC("A") "]}");
    CHECK_INT(r.rc, 98);
    CHECK_INT(r.records, 0);
    r.stop_rejects = 0;
    r.stop_records = 1;
    parse(&r, REC("A") "\n" REC("B"));
    CHECK_INT(r.rc, 99);
    CHECK_INT(r.records, 1);
    parse(&r, "{\"Records\":[" REC("A") "," REC("B") "]}");
    CHECK_INT(r.rc, 99);
    CHECK_INT(r.records, 1);
    r.stop_records = 0;

    /* Callbacks may be NULL. */
    ct_error err;
    CHECK_INT(ct_trail_parse(doc, strlen(doc), NULL, NULL, NULL, NULL, &err), 0);
    CHECK_INT(ct_trail_parse(doc, 5, NULL, NULL, NULL, NULL, NULL), 0);
    CHECK_INT(ct_trail_parse("x", 1, NULL, NULL, NULL, NULL, NULL), CT_EINPUT);
    CHECK_INT(ct_trail_parse(NULL, 0, NULL, NULL, NULL, NULL, &err), CT_EINPUT);
    release(&r);
}

/* A document of three records, with the end offset of each. */
typedef struct three {
    char text[4096];
    size_t len;
    size_t rec_end[3];
    size_t next_start[3]; /* where what follows record i starts (lines) */
    size_t complete;      /* shortest prefix that is a whole document */
} three;

static void build_three(three *t, int shape)
{
    static const char *const recs[3] = {
        "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":"
        "\"arn:aws:iam::1:user/al\\u00e9\",\"sessionContext\":{\"sessionIssuer\":{}}},"
        "\"eventTime\":\"2024-07-30T21:53:13.5Z\",\"eventSource\":\"iam.amazonaws.com\","
        "\"eventName\":\"One\",\"n\":[-1.25e+3,0,true,false,null,{}],\"s\":\"\\ud83d\\ude00\"}",
        "{ \"eventSource\" : \"sts.amazonaws.com\" , \"eventName\" : \"Two\" ,\n"
        "  \"eventTime\" : \"2024-07-30T21:53:14Z\", \"requestParameters\": {\"roleArn\":"
        "\"arn:aws:iam::2:role/r\", \"roleSessionName\": \"s\\\"q\"},\n"
        "  \"responseElements\": {\"credentials\": {\"accessKeyId\": \"ASIA\"}}}",
        ("{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"Thr\xC3\xA9\xE2\x82\xAC\","
         "\"eventTime\":\"2024-07-30T21:53:15Z\",\"x\":[[[]]],\"y\":\"\\/\\b\"}"),
    };
    const char *open = shape == 0 ? "{\"Records\":[" : shape == 1 ? "[\n" : "";
    const char *sep = shape == 2 ? "\r\n" : ",\n";
    const char *close = shape == 0 ? "],\"x\":{\"k\":[1,\"v\"]}}" : shape == 1 ? "\n]" : "\n";
    size_t n = (size_t)sprintf(t->text, "%s", open);
    for (int i = 0; i < 3; i++) {
        n += (size_t)sprintf(t->text + n, "%s", recs[i]);
        t->rec_end[i] = n;
        n += (size_t)sprintf(t->text + n, "%s", i < 2 ? sep : close);
        t->next_start[i] = n;
    }
    t->len = n;
    /* A line file is whole after each record; the others only at the end. */
    t->complete = shape == 2 ? t->rec_end[2] : n;
}

static void test_truncation(void)
{
    static result r;
    static const char *const names[3] = {"One", "Two", "Thr\xC3\xA9\xE2\x82\xAC"};
    for (int shape = 0; shape < 3; shape++) {
        three t = {.len = 0};
        build_three(&t, shape);
        parse_n(&r, t.text, t.len);
        CHECK_INT(r.records, 3);
        CHECK_INT(r.rejects, 0);
        CHECK_STR(r.rec[0].identity_arn, "arn:aws:iam::1:user/al\xC3\xA9");
        CHECK_INT(r.rec[0].event_time, T0);
        CHECK(r.rec[0].issuer_arn == NULL);
        CHECK_STR(r.rec[1].role_session_name, "s\"q");
        CHECK_STR(r.rec[1].issued_key, "ASIA");
        for (size_t n = 0; n <= t.len; n++) {
            parse_n(&r, t.text, n);
            size_t want = 0;
            for (int i = 0; i < 3; i++)
                want += t.rec_end[i] <= n;
            /* Cut between records of a line file, nothing is lost. */
            bool whole = n >= t.complete;
            if (shape == 2)
                for (int i = 0; i < 3; i++)
                    whole = whole || (n >= t.rec_end[i] && n <= t.next_start[i]);
            if (n == 0) {
                CHECK_INT(r.rc, CT_EINPUT);
                continue;
            }
            CHECK_INT(r.rc, 0);
            CHECK_INT(r.records, want);
            CHECK_INT(r.rejects, whole ? 0 : 1);
            CHECK(!r.bad_string);
            for (size_t i = 0; i < r.records && i < 3; i++)
                CHECK_STR(r.rec[i].event_name, names[i]);
            if (r.rejects == 1) {
                CHECK_STR(r.rej_why[0], "truncated JSON");
                CHECK_INT(r.rej_off[0], n);
            }
        }
    }
    release(&r);
}

/* Every byte of the three-record documents replaced by troublesome ones:
 * never a crash, never a bad string delivered, never more than 3 records. */
static void test_mutations(void)
{
    static result r;
    static const char subst[] = {'x', '"',  '\\', '{',    '}',    '[', ']', ',',
                                 ':', '\0', '\n', '\xFF', '\xC3', '0', ' '};
    for (int shape = 0; shape < 3; shape++) {
        three t = {.len = 0};
        build_three(&t, shape);
        for (size_t i = 0; i < t.len; i++) {
            char saved = t.text[i];
            for (size_t k = 0; k < sizeof(subst); k++) {
                t.text[i] = subst[k];
                parse_n(&r, t.text, t.len);
                CHECK(r.rc == 0 || r.rc == CT_EINPUT);
                CHECK(!r.bad_string);
                CHECK(r.records <= 3);
                CHECK(r.rc != 0 || r.records + r.rejects >= 1);
            }
            t.text[i] = saved;
        }
    }
    release(&r);
}

static void test_stratus_fixtures(void)
{
    static result r;
    DIR *d = opendir(CT_SHARED_FIXTURES);
    CHECK(d != NULL);
    if (!d)
        return;
    size_t files = 0, records = 0, rejects = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ct_str_ends_with(e->d_name, ".json"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", CT_SHARED_FIXTURES, e->d_name);
        size_t len;
        char *text = test_slurp(path, &len);
        CHECK(text != NULL);
        if (!text)
            continue;
        parse_n(&r, text, len);
        CHECK_INT(r.rc, 0);
        CHECK(!r.bad_string);
        files++;
        records += r.records;
        rejects += r.rejects;
        if (strcmp(e->d_name, "aws.persistence.iam-backdoor-user.json") == 0) {
            CHECK_INT(r.records, 1);
            CHECK_STR(r.rec[0].event_name, "CreateAccessKey");
            CHECK_STR(r.rec[0].event_source, "iam.amazonaws.com");
            CHECK_STR(r.rec[0].identity_arn, "arn:aws:iam::946986569305:user/christophe");
            CHECK_STR(r.rec[0].identity_type, "IAMUser");
            CHECK_STR(r.rec[0].access_key_id, "AKIA30BEZSJBVKOFKZW0");
            CHECK_STR(r.rec[0].recipient_account_id, "946986569305");
            CHECK_STR(r.rec[0].event_id, "c64c4ded-ef03-4e5c-81eb-153b118d72f2");
            int64_t t;
            ct_timestamp_parse("2024-07-30T21:53:13Z", 20, &t);
            CHECK_INT(r.rec[0].event_time, t);
            CHECK(r.rec[0].issued_key == NULL); /* accessKey, not credentials */
        }
        if (strcmp(e->d_name, "aws.credential-access.ec2-get-password-data.json") == 0) {
            /* Two AssumeRole calls succeeded, two were denied (and have
             * "requestParameters": null). */
            size_t ok = 0, denied = 0;
            for (size_t i = 0; i < r.records && i < KEEP; i++) {
                if (strcmp(r.rec[i].event_name, "AssumeRole") != 0)
                    continue;
                if (r.rec[i].error_code) {
                    denied++;
                    CHECK_STR(r.rec[i].error_code, "AccessDenied");
                    CHECK(r.rec[i].role_arn == NULL && r.rec[i].issued_key == NULL);
                    continue;
                }
                ok++;
                CHECK_STR(
                    r.rec[i].role_arn,
                    "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role");
                CHECK_STR(r.rec[i].role_session_name, "aws-go-sdk-1722375070115152000");
                CHECK(r.rec[i].issued_key && strncmp(r.rec[i].issued_key, "ASIA", 4) == 0);
            }
            CHECK_INT(ok, 2);
            CHECK_INT(denied, 2);
            CHECK_STR(r.rec[1].issuer_arn,
                      "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role");
            CHECK_STR(r.rec[1].error_code, "Client.UnauthorizedOperation");
        }
        free(text);
    }
    closedir(d);
    CHECK_INT(files, 35);
    CHECK_INT(records, 310);
    CHECK_INT(rejects, 0);
    release(&r);
}

int main(void)
{
    RUN(test_envelope);
    RUN(test_array_and_lines);
    RUN(test_not_cloudtrail);
    RUN(test_fields);
    RUN(test_people_fields);
    RUN(test_unexpected_types);
    RUN(test_kind_fields);
    RUN(test_time_field);
    RUN(test_escapes);
    RUN(test_utf8);
    RUN(test_control_and_literals);
    RUN(test_numbers);
    RUN(test_not_objects);
    RUN(test_syntax_errors);
    RUN(test_line_recovery);
    RUN(test_raw_span);
    RUN(test_limits);
    RUN(test_callbacks);
    RUN(test_truncation);
    RUN(test_mutations);
    RUN(test_stratus_fixtures);
    TEST_MAIN_END();
}
