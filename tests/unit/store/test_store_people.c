/* Unit tests for what the store keeps to tell who is behind role sessions:
 * the sessions and session_calls questions on tests/data/people (every kind
 * of opening and evidence, the window's reach), answers left empty on
 * errors, a changed file's rows replaced, and the rebuild of a store made
 * by an older cloudtracker (tests/data/store/schema-v3.sql). */
#define _XOPEN_SOURCE 700
#include "cloudtracker/source.h"
#include "cloudtracker/store.h"
#include "store/store_internal.h"
#include "store_fixture.h"
#include "test.h"

#include <limits.h>
#include <utime.h>

#define A1 "111111111111"
#define ADMIN "arn:aws:iam::" A1 ":role/Admin"

/* ---- helpers ---- */

/* Copies the file at `from` to `to` (creating its folders). */
static int copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *data = test_slurp(from, &n);
    int rc = data ? write_bytes(to, data, n) : -1;
    free(data);
    return rc;
}

static const char *copy_from, *copy_to;

static int copy_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    char *dest = pathf(copy_to, path + strlen(copy_from) + 1);
    int rc = copy_file(path, dest);
    free(dest);
    return rc;
}

/* A copy of tests/data/people in `root`/logs (which the tests change). */
static char *people_copy(const char *root)
{
    copy_from = CT_TEST_DATA "/people";
    char *logs = pathf(root, "logs");
    copy_to = logs;
    CHECK_INT(nftw(copy_from, copy_entry, 16, FTW_PHYS), 0);
    return logs;
}

/* Ingests `logs` into the store at `db` (made when missing); returns the
 * ingest's result, the summary in *sum when not NULL. */
static int ingest_into(const char *db, const char *logs, ct_ingest_summary *sum, ct_error *err)
{
    ct_store *s = NULL;
    int rc = ct_store_open(&s, db, true, err);
    ct_ingest_summary own;
    if (rc == 0) {
        const char *paths[] = {logs};
        ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 2};
        rc = ct_store_ingest(s, &opts, sum ? sum : &own, err);
        if (!sum)
            ct_ingest_summary_release(&own);
    }
    ct_store_free(s);
    return rc;
}

/* A read-only source over the store at `db`. */
static ct_source *reader(const char *db)
{
    ct_store *s = NULL;
    ct_source *src = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&s, db, false, &err), 0);
    if (s)
        CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
    return src;
}

static void format_time(int64_t t, char out[32])
{
    char day[11];
    ct_date_format_day(ct_day_of_seconds(t), day);
    unsigned s = (unsigned)(t - ct_day_of_seconds(t) * 86400);
    snprintf(out, 32, "%sT%02u:%02u:%02uZ", day, s / 3600 % 24, s / 60 % 60, s % 60);
}

/* One line per session ("key|role|name|source identity|onBehalfOf|identity
 * store|active|last day"), then one for its opening when known ("  event|
 * caller|type|key|name|provider|subject|issuer|source identity|session|
 * account|sharedEventID|time"). The opening's role and eventID are checked
 * apart: the role is the session's, the eventID a hash. */
static char *render(const ct_role_sessions *list)
{
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "");
    for (size_t i = 0; i < list->count; i++) {
        const ct_role_session *s = &list->items[i];
        const ct_session_evidence *e = &s->evidence;
        char day[11] = "-";
        if (s->evidence_known)
            ct_date_format_day(s->last_evidence_day, day);
        /* Without evidence its strings are NULL (as the probe, print ""). */
        CHECK(s->evidence_known || !e->session_name);
        ct_buf_printf(
            &b, "%s|%s|%s|%s|%s|%s|%s|%s\n", s->access_key, s->role_arn,
            e->session_name ? e->session_name : "", e->source_identity ? e->source_identity : "",
            e->on_behalf_of ? e->on_behalf_of : "", e->identity_store ? e->identity_store : "",
            s->active ? "active" : "inactive", day);
        if (!s->opened_known)
            continue;
        const ct_session_opening *o = &s->opening;
        char at[32];
        format_time(o->at, at);
        ct_buf_printf(&b, "  %s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n", o->event_name, o->caller,
                      o->caller_type, o->caller_key, o->caller_name, o->provider, o->subject,
                      o->issuer, o->source_identity, o->session_name, o->account,
                      o->shared_event_id, at);
        CHECK_STR(o->role_arn, s->role_arn);
        CHECK(strlen(o->event_id) == 36);
    }
    return ct_buf_detach(&b);
}

/* Checks the rendering of `list` line by line against `want` (NULL-ended). */
static void check_lines(const ct_role_sessions *list, const char *const *want)
{
    char *got = render(list);
    ct_buf w = CT_BUF_INIT;
    ct_buf_puts(&w, "");
    for (size_t i = 0; want[i]; i++)
        ct_buf_printf(&w, "%s\n", want[i]);
    CHECK_STR(got, w.data);
    ct_buf_release(&w);
    free(got);
}

/* ---- the fixture's sessions ---- */

/* Window 2024-03-10..12: each kind of session, those opened up to
 * CT_CHAIN_REACH before it, and those with events the day before. */
static const char *const WANT_MAR_10_12[] = {
    /* An IAM user's AssumeRole; a failed call of the session counts too. */
    "ASIAPEOPLEALICE00001|" ADMIN "|alice||||active|2024-03-10",
    "  AssumeRole|arn:aws:iam::111111111111:user/alice|IAMUser|AKIAPEOPLEALICE00000|alice|||||"
    "alice|111111111111||2024-03-10T09:00:00Z",
    /* Opened by a service, used on behalf of two Identity Center users
     * (the smallest id wins) and by calls that log no onBehalfOf. */
    "ASIAPEOPLEAPPROLE007|arn:aws:iam::111111111111:role/AppRole|qbusiness-session||"
    "544894e8-80c1-4b2d-9e7a-3ba6510dfac1|arn:aws:identitystore::111111111111:identitystore/"
    "d-9067642ac7|active|2024-03-12",
    "  AssumeRole||AWSService|||||||qbusiness-session|111111111111||2024-03-11T15:00:00Z",
    /* Across accounts: the caller's copy wins over the role account's. */
    "ASIAPEOPLEBOBAUDIT03|arn:aws:iam::222222222222:role/Audit|bob||||active|2024-03-11",
    "  AssumeRole|arn:aws:iam::111111111111:user/bob|IAMUser|AKIAPEOPLEBOB0000000|bob|||||bob|"
    "111111111111|7e0c6f1a-3b2d-4c5e-9f80-1a2b3c4d5e6f|2024-03-11T10:00:00Z",
    /* sourceIdentity set on hop 1 (request and response)... */
    "ASIAPEOPLECAROLDEV08|arn:aws:iam::111111111111:role/Dev|carol-dev|carol|||active|2024-03-12",
    "  AssumeRole|arn:aws:iam::111111111111:user/carol|IAMUser|AKIAPEOPLECAROL00000|carol||||"
    "carol|carol-dev|111111111111||2024-03-12T09:00:00Z",
    /* ...and carried on hop 2, opened from hop 1's session (its key links
     * the chain) in another account. */
    "ASIAPEOPLEDEPLOY0009|arn:aws:iam::222222222222:role/Deploy|gntd-1710234600|carol|||active|"
    "2024-03-12",
    "  AssumeRole|arn:aws:iam::111111111111:role/Dev|AssumedRole|ASIAPEOPLECAROLDEV08|||||carol|"
    "gntd-1710234600|111111111111|0f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a0b|2024-03-12T09:10:00Z",
    /* Opened 4 h before the window, a call inside it. */
    "ASIAPEOPLEFRANKNT010|" ADMIN "|frank-night||||active|2024-03-10",
    "  AssumeRole|arn:aws:iam::111111111111:user/frank|IAMUser|AKIAPEOPLEFRANK00000|frank|||||"
    "frank-night|111111111111||2024-03-09T20:00:00Z",
    /* Opened 20 h before, calls before only. */
    "ASIAPEOPLEGRACE00011|" ADMIN "|grace-early||||inactive|2024-03-09",
    "  AssumeRole|arn:aws:iam::111111111111:user/grace|IAMUser|AKIAPEOPLEGRACE00000|grace|||||"
    "grace-early|111111111111||2024-03-09T04:00:00Z",
    /* Opened 28 h before (out of reach), a denied call the day before:
     * evidence is kept per day, and failed calls are the session's events
     * too. */
    "ASIAPEOPLEIVAN000013|" ADMIN "|ivan||||inactive|2024-03-09",
    /* An instance's session whose opening the logs lack. */
    "ASIAPEOPLENOOPEN0015|" ADMIN "|i-0123456789abcdef0||||active|2024-03-11",
    /* A role chain: opened from alice's Admin session. */
    "ASIAPEOPLEOPS0000002|arn:aws:iam::111111111111:role/Ops|botocore-session-1710063000||||"
    "active|2024-03-10",
    "  AssumeRole|arn:aws:iam::111111111111:role/Admin|AssumedRole|ASIAPEOPLEALICE00001||||||"
    "botocore-session-1710063000|111111111111||2024-03-10T09:30:00Z",
    /* SAML federation. */
    "ASIAPEOPLESAMLERIN04|arn:aws:iam::111111111111:role/SAMLRole|erin@example.com||||active|"
    "2024-03-11",
    "  AssumeRoleWithSAML||SAMLUser||erin@example.com|Q0VvXJ4oKUUyFakeQ=|erin@example.com|"
    "http://www.okta.com/exk1fakeid||erin@example.com|111111111111||2024-03-11T13:00:00Z",
    /* Identity Center: a permission set's role, opened with SAML. */
    "ASIAPEOPLESSOJANE006|arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/"
    "eu-west-1/AWSReservedSSO_AdministratorAccess_a08e3792465d3f04|jane.doe@example.com||||"
    "active|2024-03-10",
    "  AssumeRoleWithSAML||SAMLUser||jane.doe@example.com|Zm9vYmFyU1NPbnE=|jane.doe@example.com|"
    "https://portal.sso.eu-west-1.amazonaws.com/saml/assertion/"
    "MTExMTExMTExMTExX2lucy01YzNiMWM3ZjBkMmU0YTZi||jane.doe@example.com|333333333333||"
    "2024-03-10T14:00:00Z",
    /* Web identity. */
    "ASIAPEOPLEWEBAPP0005|arn:aws:iam::111111111111:role/WebRole|app1||||active|2024-03-12",
    "  AssumeRoleWithWebIdentity||WebIdentityUser||1234567890|accounts.google.com|1234567890|"
    "accounts.google.com||app1|111111111111||2024-03-12T07:00:00Z",
    NULL};

/* Window 2024-03-13: the session opened that day; those opened the day
 * before with their evidence; the AppRole session's evidence of the day
 * before, its opening (2024-03-11) out of reach. */
static const char *const WANT_MAR_13[] = {
    "ASIAPEOPLEAPPROLE007|arn:aws:iam::111111111111:role/AppRole|qbusiness-session||"
    "544894e8-80c1-4b2d-9e7a-3ba6510dfac1|arn:aws:identitystore::111111111111:identitystore/"
    "d-9067642ac7|inactive|2024-03-12",
    "ASIAPEOPLECAROLDEV08|arn:aws:iam::111111111111:role/Dev|carol-dev|carol|||inactive|"
    "2024-03-12",
    "  AssumeRole|arn:aws:iam::111111111111:user/carol|IAMUser|AKIAPEOPLECAROL00000|carol||||"
    "carol|carol-dev|111111111111||2024-03-12T09:00:00Z",
    "ASIAPEOPLEDEPLOY0009|arn:aws:iam::222222222222:role/Deploy|gntd-1710234600|carol|||"
    "inactive|2024-03-12",
    "  AssumeRole|arn:aws:iam::111111111111:role/Dev|AssumedRole|ASIAPEOPLECAROLDEV08|||||carol|"
    "gntd-1710234600|111111111111|0f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a0b|2024-03-12T09:10:00Z",
    "ASIAPEOPLELATE000014|" ADMIN "|||||active|-",
    "  AssumeRole|arn:aws:iam::111111111111:user/alice|IAMUser|AKIAPEOPLEALICE00000|alice|||||"
    "alice-late|111111111111||2024-03-13T09:00:00Z",
    "ASIAPEOPLEWEBAPP0005|arn:aws:iam::111111111111:role/WebRole|app1||||inactive|2024-03-12",
    "  AssumeRoleWithWebIdentity||WebIdentityUser||1234567890|accounts.google.com|1234567890|"
    "accounts.google.com||app1|111111111111||2024-03-12T07:00:00Z",
    NULL};

static void check_people_sessions(ct_source *src)
{
    ct_error err;
    ct_role_sessions list = {0};
    ct_window w = {day_of("2024-03-10"), day_of("2024-03-12")};
    CHECK_INT(src->sessions(src, &w, &list, &err), 0);
    CHECK(list.index == NULL);
    check_lines(&list, WANT_MAR_10_12);
    ct_role_sessions_release(&list);
    ct_window mar13 = {day_of("2024-03-13"), day_of("2024-03-13")};
    CHECK_INT(src->sessions(src, &mar13, &list, &err), 0);
    check_lines(&list, WANT_MAR_13);
    ct_role_sessions_release(&list);
    ct_window before = {day_of("2024-02-01"), day_of("2024-03-07")};
    CHECK_INT(src->sessions(src, &before, &list, &err), 0);
    CHECK_INT(list.count, 0);
    ct_role_sessions_release(&list);
}

static void test_sessions(void)
{
    char *root = scratch_dir("people-sessions");
    char *db = pathf(root, "ct.db");
    ct_error err;
    CHECK_INT(ingest_into(db, CT_TEST_DATA "/people", NULL, &err), 0);
    ct_source *src = reader(db);
    check_people_sessions(src);
    ct_source_free(src);
    /* Both copies of the cross-account openings are kept (the question
     * prefers one); the failed AssumeRole opened nothing; the Identity
     * Center sign-in (onBehalfOf, no role session) is no session. */
    CHECK_INT(store_int(db, "SELECT count(*) FROM assume_role s JOIN access_key k"
                            " ON k.id = s.issued_key_id WHERE k.key = 'ASIAPEOPLEBOBAUDIT03'"),
              2);
    CHECK_INT(store_int(db, "SELECT count(*) FROM assume_role s JOIN principal p"
                            " ON p.id = s.caller_id WHERE p.arn LIKE '%user/dave'"),
              0);
    CHECK_INT(store_int(db, "SELECT count(*) FROM assume_role"), 16);
    CHECK_INT(store_int(db, "SELECT count(*) FROM session_evidence WHERE on_behalf_of <> ''"), 2);
    CHECK_INT(store_int(db, "SELECT count(DISTINCT key_id) FROM session_evidence"), 14);
    remove_tree(root);
    free(db);
    free(root);
}

/* The opening's source identity is the response's, else the request's
 * (two synthetic records: STS writes both alike). */
static void test_opening_fallbacks(void)
{
    char *root = scratch_dir("people-fallbacks");
    char *logs = pathf(root, "logs");
    char *file = pathf(logs, "a.json");
    const char *doc =
        "{\"Records\":[{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\","
        "\"arn\":\"arn:aws:iam::111111111111:user/kim\",\"accessKeyId\":\"AKIAKIM\","
        "\"userName\":\"kim\"},\"eventTime\":\"2024-03-10T09:00:00Z\",\"eventSource\":"
        "\"sts.amazonaws.com\",\"eventName\":\"AssumeRole\",\"requestParameters\":{"
        "\"roleArn\":\"" ADMIN "\",\"roleSessionName\":\"kim\",\"sourceIdentity\":"
        "\"from-request\"},\"responseElements\":{\"credentials\":{\"accessKeyId\":"
        "\"ASIAKIM1\"},\"sourceIdentity\":\"from-response\"},\"recipientAccountId\":"
        "\"111111111111\"},"
        "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\","
        "\"arn\":\"arn:aws:iam::111111111111:user/kim\",\"accessKeyId\":\"AKIAKIM\","
        "\"userName\":\"kim\"},\"eventTime\":\"2024-03-10T10:00:00Z\",\"eventSource\":"
        "\"sts.amazonaws.com\",\"eventName\":\"AssumeRole\",\"requestParameters\":{"
        "\"roleArn\":\"" ADMIN "\",\"roleSessionName\":\"kim\",\"sourceIdentity\":"
        "\"only-request\"},\"responseElements\":{\"credentials\":{\"accessKeyId\":"
        "\"ASIAKIM2\"}},\"recipientAccountId\":\"111111111111\"}]}";
    write_bytes(file, doc, strlen(doc));
    char *db = pathf(root, "ct.db");
    ct_error err;
    CHECK_INT(ingest_into(db, logs, NULL, &err), 0);
    ct_source *src = reader(db);
    ct_window w = {day_of("2024-03-10"), day_of("2024-03-10")};
    ct_role_sessions list = {0};
    CHECK_INT(src->sessions(src, &w, &list, &err), 0);
    const ct_role_session *s = ct_role_sessions_find(&list, "ASIAKIM1");
    CHECK(s && s->opened_known && strcmp(s->opening.source_identity, "from-response") == 0);
    s = ct_role_sessions_find(&list, "ASIAKIM2");
    CHECK(s && s->opened_known && strcmp(s->opening.source_identity, "only-request") == 0);
    ct_role_sessions_release(&list);
    ct_source_free(src);
    remove_tree(root);
    free(db);
    free(file);
    free(logs);
    free(root);
}

/* ---- session_calls ---- */

static const ct_call *find_call(const ct_calls *calls, const char *source, const char *name)
{
    for (size_t i = 0; i < calls->count; i++)
        if (strcmp(calls->items[i].event_source, source) == 0 &&
            strcmp(calls->items[i].event_name, name) == 0)
            return &calls->items[i];
    return NULL;
}

static void test_session_calls(void)
{
    char *root = scratch_dir("people-calls");
    char *logs = people_copy(root);
    /* A key that JSON must escape (and SQL LIKE or GLOB would not match
     * literally): the keys are bound as one JSON array. */
    const char *odd = "{\"Records\":[{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":"
                      "\"AssumedRole\",\"arn\":\"arn:aws:sts::111111111111:assumed-role/Admin/x\","
                      "\"accessKeyId\":\"ASIA\\\"Q\\\\%_*\\u0001\",\"sessionContext\":{"
                      "\"sessionIssuer\":{\"type\":\"Role\",\"arn\":\"" ADMIN "\"}}},"
                      "\"eventTime\":\"2024-03-11T12:00:00Z\",\"eventSource\":"
                      "\"s3.amazonaws.com\",\"eventName\":\"ListBuckets\",\"recipientAccountId\":"
                      "\"111111111111\"}]}";
    char *odd_file = pathf(logs, "odd.json");
    write_bytes(odd_file, odd, strlen(odd));
    char *db = pathf(root, "ct.db");
    ct_error err;
    CHECK_INT(ingest_into(db, logs, NULL, &err), 0);
    ct_source *src = reader(db);
    ct_window w = {day_of("2024-03-10"), day_of("2024-03-12")};
    const char *keys[] = {"ASIAPEOPLEALICE00001", "ASIAPEOPLEAPPROLE007", "ASIAPEOPLEAPPROLE007",
                          "ASIA\"Q\\%_*\x01",     "ASIAPEOPLEHEIDI00012", "ASIANOSUCHKEY0000000",
                          "ASIAPEOPLE%"};
    ct_role_sessions list = {0};
    CHECK_INT(src->session_calls(src, keys, sizeof(keys) / sizeof(keys[0]), &w, &list, &err), 0);
    CHECK(list.index == NULL);
    /* Sessions with calls in the window only, sorted; heidi's calls lie
     * before it. */
    CHECK_INT(list.count, 3);
    const ct_role_session *s = ct_role_sessions_find(&list, "ASIAPEOPLEALICE00001");
    CHECK(s && s->calls.count == 3 && !s->opened_known && !s->evidence_known);
    if (s) {
        const ct_call *c = find_call(&s->calls, "iam.amazonaws.com", "ListRoles");
        CHECK(c && c->count == 0 && c->error_count == 1);
        /* The AssumeRole into Ops is one of its calls. */
        c = find_call(&s->calls, "sts.amazonaws.com", "AssumeRole");
        CHECK(c && c->count == 1 && c->first_day == day_of("2024-03-10"));
        CHECK(s->active);
    }
    /* A key given twice is counted once; its calls span two days. */
    s = ct_role_sessions_find(&list, "ASIAPEOPLEAPPROLE007");
    CHECK(s && s->calls.count == 2);
    if (s) {
        const ct_call *c = find_call(&s->calls, "s3.amazonaws.com", "GetObject");
        CHECK(c && c->count == 2 && c->first_day == day_of("2024-03-11") &&
              c->last_day == day_of("2024-03-12"));
    }
    s = ct_role_sessions_find(&list, "ASIA\"Q\\%_*\x01");
    CHECK(s && s->calls.count == 1 && s->calls.items[0].count == 1);
    ct_role_sessions_release(&list);
    /* The window bounds the calls; no key, no session. */
    ct_window mar12 = {day_of("2024-03-12"), day_of("2024-03-12")};
    CHECK_INT(src->session_calls(src, keys, 2, &mar12, &list, &err), 0);
    CHECK_INT(list.count, 1);
    s = ct_role_sessions_find(&list, "ASIAPEOPLEAPPROLE007");
    CHECK(s && s->calls.count == 1 && s->calls.items[0].count == 1);
    ct_role_sessions_release(&list);
    CHECK_INT(src->session_calls(src, keys, 0, &w, &list, &err), 0);
    CHECK_INT(list.count, 0);
    ct_source_free(src);
    remove_tree(root);
    free(odd_file);
    free(db);
    free(logs);
    free(root);
}

/* ---- errors leave the answers empty ---- */

static void damage(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    CHECK_INT(sqlite3_open(db, &h), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

static void test_errors_leave_nothing(void)
{
    char *root = scratch_dir("people-errors");
    char *db = pathf(root, "ct.db");
    ct_error err;
    CHECK_INT(ingest_into(db, CT_TEST_DATA "/people", NULL, &err), 0);
    ct_window w = {day_of("2024-03-10"), day_of("2024-03-12")};
    ct_role_sessions list = {0};
    /* An action row gone: found after a session's calls were summed. */
    damage(db, "DELETE FROM action WHERE name = 'GetObject'");
    ct_source *src = reader(db);
    const char *keys[] = {"ASIAPEOPLEALICE00001", "ASIAPEOPLEAPPROLE007"};
    CHECK_INT(src->session_calls(src, keys, 2, &w, &list, &err), CT_ESTORE);
    CHECK(strstr(err.message, "damaged action row") != NULL);
    CHECK(list.count == 0 && list.items == NULL && list.index == NULL);
    CHECK_INT(src->session_calls(src, keys, 1, &w, &list, &err), 0);
    CHECK_INT(list.count, 1);
    ct_role_sessions_release(&list);
    ct_source_free(src);
    /* The openings fail after the evidence was read. */
    damage(db, "DROP TABLE assume_role");
    src = reader(db);
    CHECK_INT(src->sessions(src, &w, &list, &err), CT_ESTORE);
    CHECK(strstr(err.message, "assume_role") != NULL);
    CHECK(list.count == 0 && list.items == NULL && list.index == NULL);
    ct_source_free(src);
    damage(db, "DROP TABLE session_evidence");
    src = reader(db);
    CHECK_INT(src->sessions(src, &w, &list, &err), CT_ESTORE);
    CHECK(list.count == 0 && list.items == NULL && list.index == NULL);
    ct_source_free(src);
    remove_tree(root);
    free(db);
    free(root);
}

/* ---- a changed file's rows are replaced ---- */

/* Replaces every `from` in the file with `to`. */
static void replace_in_file(const char *path, const char *from, const char *to)
{
    size_t n = 0;
    char *text = test_slurp(path, &n);
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "");
    int hits = 0;
    for (const char *p = text, *hit; p && *p; p = hit + strlen(from), hits++) {
        if (!(hit = strstr(p, from))) {
            ct_buf_puts(&b, p);
            break;
        }
        ct_buf_append(&b, p, (size_t)(hit - p));
        ct_buf_puts(&b, to);
    }
    CHECK(hits > 0);
    write_bytes(path, b.data, b.len);
    ct_buf_release(&b);
    free(text);
}

static void test_file_replaced(void)
{
    char *root = scratch_dir("people-replace");
    char *logs = people_copy(root);
    char *db = pathf(root, "ct.db");
    char *fresh = pathf(root, "fresh.db");
    char *mar10 = pathf(logs, "AWSLogs/111111111111/CloudTrail/us-east-1/2024/03/10/"
                              "111111111111_CloudTrail_us-east-1_20240310T2355Z_people.json");
    ct_error err;
    ct_ingest_summary sum;
    CHECK_INT(ingest_into(db, logs, NULL, &err), 0);
    /* alice's session gets another name in the file: in its opening and
     * in its calls' ARNs. */
    replace_in_file(mar10, "/Admin/alice\"", "/Admin/alice-2\"");
    replace_in_file(mar10, "\"roleSessionName\": \"alice\"", "\"roleSessionName\": \"alice-2\"");
    struct utimbuf later = {2000000000, 2000000000};
    utime(mar10, &later);
    CHECK_INT(ingest_into(db, logs, &sum, &err), 0);
    CHECK_INT(sum.files_read, 1);
    ct_ingest_summary_release(&sum);
    ct_source *src = reader(db);
    ct_window w = {day_of("2024-03-10"), day_of("2024-03-10")};
    ct_role_sessions list = {0};
    CHECK_INT(src->sessions(src, &w, &list, &err), 0);
    const ct_role_session *s = ct_role_sessions_find(&list, "ASIAPEOPLEALICE00001");
    CHECK(s && s->opened_known && strcmp(s->evidence.session_name, "alice-2") == 0 &&
          strcmp(s->opening.session_name, "alice-2") == 0);
    ct_role_sessions_release(&list);
    ct_source_free(src);
    /* Replaced, not added: one opening and one evidence row, and the store
     * is the one a fresh ingest of the changed files makes. */
    CHECK_INT(store_int(db, "SELECT count(*) FROM assume_role s JOIN access_key k"
                            " ON k.id = s.issued_key_id WHERE k.key = 'ASIAPEOPLEALICE00001'"),
              1);
    CHECK_INT(store_int(db, "SELECT count(*) FROM session_evidence e JOIN access_key k"
                            " ON k.id = e.key_id WHERE k.key = 'ASIAPEOPLEALICE00001'"),
              1);
    CHECK_INT(ingest_into(fresh, logs, NULL, &err), 0);
    bool c1 = false, c2 = false;
    char *got = store_dump(db, &c1), *want = store_dump(fresh, &c2);
    CHECK(c1 && c2);
    CHECK_STR(got, want);
    CHECK(strstr(got, "|ASIAPEOPLEALICE00001|" ADMIN "|19792|alice-2|||\n") != NULL);
    free(got);
    free(want);
    remove_tree(root);
    free(mar10);
    free(fresh);
    free(db);
    free(logs);
    free(root);
}

/* ---- rebuilding a store made by an older cloudtracker ---- */

/* Makes the store at `db` as an older cloudtracker left it: the schema of
 * `version` (3 or 4), and a recorded file for each trail file under `logs`
 * (and a skipped one that is gone, which holds nothing). */
static void make_old_store(const char *db, const char *logs, int version)
{
    size_t n = 0;
    char *schema = test_slurp(version == 3 ? CT_TEST_DATA "/store/schema-v3.sql"
                                           : CT_TEST_DATA "/store/schema-v4.sql",
                              &n);
    sqlite3 *h = NULL;
    CHECK_INT(sqlite3_open(db, &h), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h, schema, NULL, NULL, NULL), SQLITE_OK);
    ct_store *s = NULL;
    ct_error err;
    /* Which files there are: an ingest into a scratch store says. */
    char *scratch = pathf(logs, "../files.db");
    CHECK_INT(ingest_into(scratch, logs, NULL, &err), 0);
    CHECK_INT(ct_store_open(&s, scratch, false, &err), 0);
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(s->db, "SELECT path FROM file", -1, &st, NULL), SQLITE_OK);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("INSERT INTO file(path, size, mtime_ns, status,"
                                    " records_stored, records_rejected, json_bytes, read_at)"
                                    " VALUES (%Q, 1, 1, 'ok', 1, 0, 1, 1)",
                                    sqlite3_column_text(st, 0));
        CHECK_INT(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(sql);
    }
    sqlite3_finalize(st);
    ct_store_free(s);
    remove(scratch);
    free(scratch);
    CHECK_INT(sqlite3_exec(h,
                           "INSERT INTO file(path, size, mtime_ns, status, reason, records_stored,"
                           " records_rejected, json_bytes, read_at) VALUES ('/gone/x.json', 0, 1,"
                           " 'skipped', 'cannot open', 0, 0, 0, 1)",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(h);
    free(schema);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The file at `path` with `suffix` appended exists. */
static bool exists_with(const char *path, const char *suffix)
{
    ct_buf b = CT_BUF_INIT;
    ct_buf_printf(&b, "%s%s", path, suffix);
    bool there = exists(b.data);
    ct_buf_release(&b);
    return there;
}

static void test_rebuild(void)
{
    char *root = scratch_dir("people-rebuild");
    char *logs = people_copy(root);
    char *db = pathf(root, "ct.db");
    char *side = pathf(root, "ct.db.rebuild");
    char *fresh = pathf(root, "fresh.db");
    make_old_store(db, logs, 3);
    CHECK_INT(store_int(db, "PRAGMA user_version"), 3);
    long long files = store_int(db, "SELECT count(*) FROM file WHERE status = 'ok'");
    CHECK_INT(files, 9);
    ct_store *s = NULL;
    ct_error err;
    ct_ingest_summary sum;

    /* Read-only (--skip-setup): refused, saying how to rebuild; nothing
     * written. */
    CHECK_INT(ct_store_open(&s, db, false, &err), CT_ESTORE);
    CHECK(strstr(err.message, db) && strstr(err.message, "older cloudtracker") &&
          strstr(err.message, "schema version 3") && strstr(err.message, "`cloudtracker ingest`") &&
          strstr(err.message, "--skip-setup"));
    CHECK(s == NULL && !exists(side));

    /* Writable: the old store stays as it is, the new one beside it. */
    CHECK_INT(ct_store_open(&s, db, true, &err), 0);
    CHECK_INT(ct_store_rebuilding(s), 3);
    CHECK(exists(side));
    CHECK_INT(store_int(db, "PRAGMA user_version"), 3);
    /* A source must rebuild it before answering: without paths it cannot. */
    ct_source *src = NULL;
    CHECK_INT(ct_store_source(&src, s, NULL, &err), CT_ESTORE);
    CHECK(src == NULL && strstr(err.message, "none are given") != NULL);

    /* The logs gone: the ingest fails, and says the old store is kept. */
    char *gone = pathf(root, "gone");
    CHECK_INT(ingest_into(db, gone, NULL, &err), CT_EINPUT);
    CHECK(strstr(err.message, "is kept as it is") && strstr(err.message, "cloudtracker ingest"));
    CHECK_INT(store_int(db, "PRAGMA user_version"), 3);

    /* Only part of the files: the rest would be lost, so the old store is
     * kept, and the message names one of the missing files. */
    char *part = pathf(logs, "AWSLogs/111111111111");
    CHECK_INT(ingest_into(db, part, &sum, &err), CT_ESTORE);
    ct_ingest_summary_release(&sum);
    CHECK(strstr(err.message, "3 files it holds were not read again") &&
          strstr(err.message, "/AWSLogs/222222222222/") &&
          strstr(err.message, "old store is kept"));
    CHECK_INT(store_int(db, "PRAGMA user_version"), 3);
    CHECK_INT(store_int(side, "SELECT count(*) FROM file"), 6);

    /* Another ingest writing the new store meanwhile (its mark held):
     * this one reads the rest (resuming the files already in the new
     * store) and leaves the replacement to the other. */
    ct_store *other = NULL;
    CHECK_INT(ct_store_open(&other, side, true, &err), 0);
    int mark = ct_store_ingest_mark(other);
    CHECK(mark >= 0);
    CHECK_INT(ct_store_open(&s, db, true, &err), 0);
    const char *paths[] = {logs};
    ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 2};
    CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
    CHECK_INT(sum.files_unchanged, 6);
    CHECK_INT(sum.files_read, 3);
    ct_ingest_summary_release(&sum);
    CHECK_INT(ct_store_rebuilding(s), 3);
    CHECK_INT(store_int(db, "PRAGMA user_version"), 3);
    ct_store_ingest_unmark(other, mark);
    ct_store_free(other);

    /* Alone now: the new store replaces the old one, and its file goes. */
    CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
    CHECK_INT(sum.files_unchanged, 9);
    ct_ingest_summary_release(&sum);
    CHECK_INT(ct_store_rebuilding(s), 0);
    CHECK_STR(s->path, db);
    CHECK(!exists(side) && !exists_with(side, "-wal") && !exists_with(side, "-shm") &&
          !exists_with(side, "-ingest.lock"));
    CHECK_INT(store_int(db, "PRAGMA user_version"), CT_STORE_VERSION);
    /* The store in hand works on, as a writer and as a source. */
    CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
    CHECK_INT(sum.files_unchanged, 9);
    ct_ingest_summary_release(&sum);
    CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
    check_people_sessions(src);
    ct_source_free(src);
    /* It is the store a fresh ingest makes. */
    CHECK_INT(ingest_into(fresh, logs, NULL, &err), 0);
    bool c1 = false, c2 = false;
    char *got = store_dump(db, &c1), *want = store_dump(fresh, &c2);
    CHECK(c1 && c2);
    CHECK_STR(got, want);
    free(got);
    free(want);
    /* Reopened, it is simply a store. */
    CHECK_INT(ct_store_open(&s, db, false, &err), 0);
    ct_store_free(s);
    remove_tree(root);
    free(part);
    free(gone);
    free(fresh);
    free(side);
    free(db);
    free(logs);
    free(root);
}

/* Two processes rebuild one store: the one that ends last finds it
 * replaced, and adds its files to that store. A new store of an older
 * schema left beside is started afresh. The query's refresh rebuilds. */
static void test_rebuild_races(void)
{
    char *root = scratch_dir("people-races");
    char *logs = people_copy(root);
    char *db = pathf(root, "ct.db");
    char *side = pathf(root, "ct.db.rebuild");
    make_old_store(db, logs, 3);
    ct_store *a = NULL, *b = NULL;
    ct_error err;
    ct_ingest_summary sum;
    CHECK_INT(ct_store_open(&a, db, true, &err), 0);
    CHECK_INT(ct_store_open(&b, db, true, &err), 0);
    const char *paths[] = {logs};
    ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 2};
    CHECK_INT(ct_store_ingest(b, &opts, &sum, &err), 0);
    CHECK_INT(sum.files_read, 9);
    ct_ingest_summary_release(&sum);
    CHECK_INT(ct_store_rebuilding(b), 0);
    CHECK_INT(store_int(db, "PRAGMA user_version"), CT_STORE_VERSION);
    /* Meanwhile the rebuilt store gets a file the new store of `a` (an
     * orphan now) lacks: it must not be lost when `a` ends. */
    char *more = pathf(root, "more");
    char *extra = pathf(more, "x.json");
    trec r = {.time = "2024-03-11T12:00:00Z",
              .source = "s3.amazonaws.com",
              .name = "ListBuckets",
              .type = "IAMUser",
              .arn = "arn:aws:iam::111111111111:user/extra",
              .account = A1};
    char *doc = trail_doc(&r, 1);
    write_bytes(extra, doc, strlen(doc));
    free(doc);
    CHECK_INT(ingest_into(db, more, NULL, &err), 0);
    CHECK_INT(store_int(db, "SELECT count(*) FROM file"), 10);
    CHECK_INT(ct_store_ingest(a, &opts, &sum, &err), 0);
    CHECK_INT(sum.files_unchanged, 9);
    ct_ingest_summary_release(&sum);
    CHECK_INT(store_int(db, "SELECT count(*) FROM file"), 10);
    free(extra);
    free(more);
    CHECK_INT(ct_store_rebuilding(a), 0);
    CHECK_STR(a->path, db);
    CHECK(!exists(side));
    ct_store_free(a);
    ct_store_free(b);
    bool consistent = false;
    free(store_dump(db, &consistent));
    CHECK(consistent);

    /* A v3 store, and a v3 store where the new one goes. */
    remove_tree(root);
    mkdir(root, 0700);
    free(people_copy(root));
    make_old_store(db, logs, 3);
    make_old_store(side, logs, 3);
    CHECK_INT(ct_store_open(&a, db, true, &err), 0);
    CHECK_INT(store_int(side, "PRAGMA user_version"), CT_STORE_VERSION);
    CHECK_INT(store_int(side, "SELECT count(*) FROM file"), 0);
    /* The query's way: a source that refreshes from the paths. */
    ct_source *src = NULL;
    CHECK_INT(ct_store_source(&src, a, &opts, &err), 0);
    ct_input_problems problems = {0};
    CHECK_INT(src->refresh(src, &problems, &err), 0);
    CHECK_INT(problems.count, 0);
    check_people_sessions(src);
    ct_input_problems_release(&problems);
    ct_source_free(src);
    CHECK(!exists(side));
    CHECK_INT(store_int(db, "PRAGMA user_version"), CT_STORE_VERSION);
    remove_tree(root);
    free(side);
    free(db);
    free(logs);
    free(root);
}

/* A store of the version before the Regions (4) is rebuilt the same way,
 * and then answers the coverage question with them. */
static void test_rebuild_v4(void)
{
    char *root = scratch_dir("people-rebuild-v4");
    char *logs = people_copy(root);
    char *db = pathf(root, "ct.db");
    char *fresh = pathf(root, "fresh.db");
    make_old_store(db, logs, 4);
    CHECK_INT(store_int(db, "PRAGMA user_version"), 4);
    ct_store *s = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&s, db, false, &err), CT_ESTORE);
    CHECK(strstr(err.message, "schema version 4") != NULL);
    CHECK_INT(ct_store_open(&s, db, true, &err), 0);
    CHECK_INT(ct_store_rebuilding(s), 4);
    const char *paths[] = {logs};
    ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 2};
    ct_ingest_summary sum;
    CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
    CHECK_INT(sum.files_read, 9);
    ct_ingest_summary_release(&sum);
    CHECK_INT(ct_store_rebuilding(s), 0);
    CHECK_INT(store_int(db, "PRAGMA user_version"), CT_STORE_VERSION);
    ct_source *src = NULL;
    CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
    ct_window march = {day_of("2024-03-01"), day_of("2024-03-31")};
    ct_account_coverage c = {0};
    CHECK_INT(src->account_coverage(src, A1, &march, &c, &err), 0);
    CHECK(c.day_count > 0 && c.region_count > 0 && c.files_known && c.files_read == 9);
    ct_account_coverage_release(&c);
    ct_source_free(src);
    CHECK_INT(ingest_into(fresh, logs, NULL, &err), 0);
    bool c1 = false, c2 = false;
    char *got = store_dump(db, &c1), *want = store_dump(fresh, &c2);
    CHECK(c1 && c2);
    CHECK_STR(got, want);
    free(got);
    free(want);
    remove_tree(root);
    free(fresh);
    free(db);
    free(logs);
    free(root);
}

int main(void)
{
    RUN(test_sessions);
    RUN(test_opening_fallbacks);
    RUN(test_session_calls);
    RUN(test_errors_leave_nothing);
    RUN(test_file_replaced);
    RUN(test_rebuild);
    RUN(test_rebuild_races);
    RUN(test_rebuild_v4);
    TEST_MAIN_END();
}
