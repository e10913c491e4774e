/* Unit tests for the IAM credential report loader (RFC 4180 CSV read by
 * header names, AWS's special values, every input it must refuse with the
 * file and line) and for the access review's unused-credential flag. */
#include "cloudtracker/date.h"
#include "cloudtracker/iam.h"
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define DATA CT_TEST_DATA "/credential-report/"

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        ct_test_checks++;                                                                          \
        if (!strstr((hay), (needle))) {                                                            \
            ct_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, (hay),  \
                    (needle));                                                                     \
        }                                                                                          \
    } while (0)

/* The demo report's header: AWS's 22 columns of today. */
#define HEADER                                                                                     \
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"       \
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"             \
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"    \
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"                   \
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"                  \
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
#define ROOT_ROW                                                                                   \
    "<root_account>,arn:aws:iam::111111111111:root,2017-08-01T00:00:00+00:00,not_supported,"       \
    "2018-06-20T08:12:44+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,"  \
    "N/A,N/A,N/A,false,N/A,false,N/A\n"
/* The fields after user and arn of a row of HEADER with no credential. */
#define TAIL                                                                                       \
    ",2018-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,"  \
    "N/A,false,N/A,false,N/A\n"
/* A user row of HEADER with a password and key 1 in the given states. */
#define USER_ROW(name, created, pw, pw_used, pw_set, key, key_set, key_used)                       \
    name ",arn:aws:iam::111111111111:user/" name "," created "," pw "," pw_used "," pw_set         \
         ",N/A,false," key "," key_set "," key_used ",N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,"    \
         "false,N/A\n"

static int64_t day_of(const char *ymd)
{
    int64_t d = 0;
    CHECK_INT(ct_date_parse_day(ymd, &d), 0);
    return d;
}

static ct_credential_report *load_ok(const char *csv, size_t len)
{
    ct_credential_report *r = NULL;
    ct_error err;
    ct_error_clear(&err);
    int rc = ct_credential_report_load_buffer(&r, csv, len, "t.csv", &err);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "  %d: %s\n", err.line, err.message);
    return r;
}

static const ct_credential_user *find(const ct_credential_report *r, const char *user)
{
    const ct_credential_user *u = ct_credential_report_find_user(r, user);
    CHECK(u != NULL);
    if (!u)
        fprintf(stderr, "  no user %s\n", user);
    return u;
}

/* The demo account's report: every value kind, the root row, odd names. */
static void test_demo(void)
{
    ct_credential_report *r = NULL;
    ct_error err;
    CHECK_INT(ct_credential_report_load_file(&r, DATA "demo.csv", &err), 0);
    if (!r) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    CHECK_INT(ct_credential_report_count(r), 10);
    CHECK_STR(ct_credential_report_account_id(r), "111111111111");
    /* Sorted by name, byte order. */
    static const char *const order[] = {
        "<root_account>", "=1+2",      "@admin", "alice", "bob",
        "charlie",        "ci-runner", "dave",   "henry", "ops,team"};
    for (size_t i = 0; i < 10; i++) {
        const ct_credential_user *u = ct_credential_report_get(r, i);
        CHECK_STR(u ? u->user : NULL, order[i]);
    }
    CHECK(ct_credential_report_get(r, 10) == NULL);

    const ct_credential_user *root = find(r, "<root_account>");
    if (root) {
        CHECK(root->is_root);
        CHECK_STR(root->arn, "arn:aws:iam::111111111111:root");
        CHECK_INT(root->password_enabled.state, CT_CREDENTIAL_NOT_SUPPORTED);
        CHECK_INT(root->password_last_changed.state, CT_CREDENTIAL_NOT_SUPPORTED);
        CHECK_STR(root->password_last_changed.text, "not_supported");
        CHECK_INT(root->password_last_used.state, CT_CREDENTIAL_VALUE);
        CHECK_INT(root->password_last_used.day, day_of("2018-06-20"));
        CHECK(root->mfa_active.state == CT_CREDENTIAL_VALUE && root->mfa_active.value);
        CHECK(ct_credential_report_find_arn(r, "arn:aws:iam::111111111111:root") == root);
    }
    const ct_credential_user *alice = find(r, "alice");
    if (alice) {
        CHECK(!alice->is_root);
        CHECK_INT(alice->line, 3);
        CHECK_STR(alice->user_creation_time.text, "2017-09-01T01:01:01+00:00");
        CHECK_INT(alice->user_creation_time.day, day_of("2017-09-01"));
        CHECK(alice->password_enabled.state == CT_CREDENTIAL_VALUE &&
              alice->password_enabled.value);
        CHECK_INT(alice->keys[0].last_used.day, day_of("2018-06-29"));
        CHECK(alice->keys[0].active.value);
        CHECK(alice->keys[1].active.state == CT_CREDENTIAL_VALUE && !alice->keys[1].active.value);
        CHECK_INT(alice->keys[1].last_rotated.state, CT_CREDENTIAL_NOT_APPLICABLE);
        CHECK_STR(alice->keys[1].last_rotated.text, "N/A");
        CHECK(ct_credential_report_find_user(r, "ALICE") == alice); /* as IAM compares */
        CHECK(ct_credential_report_find_arn(r, "arn:aws:iam::111111111111:user/alice") == alice);
    }
    const ct_credential_user *dave = find(r, "dave");
    if (dave) {
        CHECK_INT(dave->password_last_used.state, CT_CREDENTIAL_NO_INFORMATION);
        CHECK_STR(dave->password_last_used.text, "no_information");
    }
    const ct_credential_user *charlie = find(r, "charlie");
    if (charlie) {
        CHECK_INT(charlie->password_enabled.value, false);
        CHECK_INT(charlie->password_last_used.state, CT_CREDENTIAL_NOT_APPLICABLE);
        CHECK(charlie->keys[1].active.value);
        CHECK_INT(charlie->keys[1].last_used.state, CT_CREDENTIAL_NOT_APPLICABLE);
        CHECK_INT(charlie->keys[1].last_rotated.day, day_of("2018-01-20"));
    }
    const ct_credential_user *formula = find(r, "=1+2"), *at = find(r, "@admin");
    if (formula)
        CHECK_STR(formula->arn, "arn:aws:iam::111111111111:user/=1+2");
    if (at) {
        CHECK_STR(at->arn, "arn:aws:iam::111111111111:user/ops/@admin");
        CHECK(at->certs[0].value && !at->certs[1].value);
    }
    /* A quoted name holding a comma, and its quoted ARN. */
    const ct_credential_user *team = find(r, "ops,team");
    if (team) {
        CHECK_STR(team->arn, "arn:aws:iam::111111111111:user/ops/ops,team");
        CHECK_INT(team->line, 11);
    }
    CHECK(ct_credential_report_find_user(r, "nobody") == NULL);
    CHECK(ct_credential_report_find_arn(r, "arn:aws:iam::111111111111:user/ALICE") == NULL);
    int64_t latest = 0;
    CHECK(ct_credential_report_latest_day(r, &latest));
    CHECK_INT(latest, day_of("2018-06-29"));
    ct_credential_report_free(r);
    ct_credential_report_free(NULL);
    CHECK_INT(ct_credential_report_count(NULL), 0);
    CHECK(ct_credential_report_find_user(NULL, "alice") == NULL);
}

/* The demo's verdicts on its window's last day, N = 90. */
static void test_demo_flags(void)
{
    ct_credential_report *r = NULL;
    ct_error err;
    CHECK_INT(ct_credential_report_load_file(&r, DATA "demo.csv", &err), 0);
    if (!r)
        return;
    const int64_t end = day_of("2018-06-30");
    static const struct {
        const char *user;
        unsigned flagged;
    } want[] = {
        {"<root_account>", 0},
        {"alice", 0},
        {"bob", CT_CREDENTIAL_PASSWORD},  /* signed in 140 days ago */
        {"charlie", CT_CREDENTIAL_KEY_2}, /* key 2 made 161 days ago, never used */
        {"dave", CT_CREDENTIAL_PASSWORD}, /* password set 211 days ago, never used */
        {"henry", 0},                     /* key used 59 days ago */
        {"ci-runner", CT_CREDENTIAL_KEY_1},
        {"=1+2", 0},                     /* 29 days old, never used: not yet */
        {"@admin", CT_CREDENTIAL_KEY_1}, /* password 90 days: not more than 90 */
        {"ops,team", 0},                 /* no credential at all */
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const ct_credential_user *u = find(r, want[i].user);
        if (!u)
            continue;
        ct_credential_dormancy d;
        ct_credential_dormancy_check(&d, u, end, 90);
        if (d.flagged != want[i].flagged) {
            fprintf(stderr, "  %s: flagged %u, expected %u\n", want[i].user, d.flagged,
                    want[i].flagged);
            CHECK(0);
        }
    }
    ct_credential_dormancy d;
    ct_credential_dormancy_check(&d, find(r, "bob"), end, 90);
    CHECK_INT(d.password.since, CT_CREDENTIAL_SINCE_USE);
    CHECK_INT(d.password.since_day, day_of("2018-02-10"));
    CHECK_INT(d.password.days, 140);
    CHECK_INT(d.keys[0].since, CT_CREDENTIAL_SINCE_INACTIVE); /* inactive: never flagged */
    CHECK_INT(d.keys[0].days, -1);
    CHECK(!d.keys[0].flagged);

    ct_credential_dormancy_check(&d, find(r, "charlie"), end, 90);
    CHECK_INT(d.keys[0].since, CT_CREDENTIAL_SINCE_USE);
    CHECK_INT(d.keys[0].days, 15);
    CHECK_INT(d.keys[1].since, CT_CREDENTIAL_SINCE_SET);
    CHECK_INT(d.keys[1].since_day, day_of("2018-01-20"));
    CHECK_INT(d.keys[1].days, 161);
    CHECK_INT(d.password.since, CT_CREDENTIAL_SINCE_INACTIVE);

    ct_credential_dormancy_check(&d, find(r, "dave"), end, 90);
    CHECK_INT(d.password.since, CT_CREDENTIAL_SINCE_SET);
    CHECK_INT(d.password.days, 211);

    /* @admin: the boundary. 90 days is not more than 90; 91 is. */
    ct_credential_dormancy_check(&d, find(r, "@admin"), end, 90);
    CHECK_INT(d.password.days, 90);
    CHECK(!d.password.flagged);
    CHECK_INT(d.keys[0].days, 91);
    CHECK(d.keys[0].flagged);
    ct_credential_dormancy_check(&d, find(r, "@admin"), end, 89);
    CHECK_INT(d.flagged, CT_CREDENTIAL_PASSWORD | CT_CREDENTIAL_KEY_1);

    /* The root user's password (password_enabled not_supported) is not
     * flagged, however old its use. */
    ct_credential_dormancy_check(&d, find(r, "<root_account>"), end + 1000, 0);
    CHECK_INT(d.flagged, 0);
    CHECK_INT(d.password.since, CT_CREDENTIAL_SINCE_INACTIVE);

    /* A window that ends before the last use: 0 days, not negative. */
    ct_credential_dormancy_check(&d, find(r, "alice"), day_of("2018-01-01"), 0);
    CHECK_INT(d.password.days, 0);
    CHECK_INT(d.keys[0].days, 0);
    CHECK_INT(d.flagged, 0);
    ct_credential_report_free(r);
}

/* Keys never used whose rotation date is N/A fall back to the user's
 * creation; with no date at all they are flagged with unknown days. Root
 * access keys are flagged like a user's. */
static void test_flag_fallbacks(void)
{
    const char csv[] = HEADER USER_ROW("old", "2017-01-01T00:00:00Z", "true", "N/A", "N/A", "true",
                                       "N/A", "N/A")
        USER_ROW("nodate", "N/A", "TRUE", "no_information", "N/A", "TRUE", "N/A",
                 "N/A") "<root_account>,arn:aws:iam::111111111111:root,2017-08-01T00:00:00+00:00,"
                        "not_supported,N/A,not_supported,not_supported,false,true,"
                        "2017-08-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/"
                        "A,false,N/A\n";
    ct_credential_report *r = load_ok(csv, sizeof(csv) - 1);
    if (!r)
        return;
    const int64_t end = day_of("2018-06-30");
    ct_credential_dormancy d;
    ct_credential_dormancy_check(&d, find(r, "old"), end, 90);
    CHECK_INT(d.flagged, CT_CREDENTIAL_PASSWORD | CT_CREDENTIAL_KEY_1);
    CHECK_INT(d.password.since, CT_CREDENTIAL_SINCE_CREATED);
    CHECK_INT(d.password.since_day, day_of("2017-01-01"));
    CHECK_INT(d.keys[0].since, CT_CREDENTIAL_SINCE_CREATED);
    CHECK_INT(d.keys[0].days, end - day_of("2017-01-01"));
    CHECK(!d.keys[1].flagged);

    ct_credential_dormancy_check(&d, find(r, "nodate"), end, 90);
    CHECK_INT(d.flagged, CT_CREDENTIAL_PASSWORD | CT_CREDENTIAL_KEY_1);
    CHECK_INT(d.password.since, CT_CREDENTIAL_SINCE_UNKNOWN);
    CHECK_INT(d.password.days, -1);
    CHECK_INT(d.keys[0].since, CT_CREDENTIAL_SINCE_UNKNOWN);

    ct_credential_dormancy_check(&d, find(r, "<root_account>"), end, 90);
    CHECK_INT(d.flagged, CT_CREDENTIAL_KEY_1);
    CHECK_INT(d.keys[0].since, CT_CREDENTIAL_SINCE_SET);
    ct_credential_report_free(r);

    /* Should AWS say a root password is enabled, it is judged like any. */
    const char root_pw[] = HEADER "<root_account>,arn:aws:iam::111111111111:root,"
                                  "2017-08-01T00:00:00+00:00,true,2018-01-01T00:00:00+00:00,"
                                  "not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,"
                                  "N/A,N/A,N/A,N/A,false,N/A,false,N/A\n";
    r = load_ok(root_pw, sizeof(root_pw) - 1);
    if (r) {
        ct_credential_dormancy_check(&d, ct_credential_report_get(r, 0), end, 90);
        CHECK_INT(d.flagged, CT_CREDENTIAL_PASSWORD);
        CHECK_INT(d.password.since, CT_CREDENTIAL_SINCE_USE);
        ct_credential_report_free(r);
    }
}

/* What RFC 4180 and AWS allow: CRLF, no final line end, a byte order mark,
 * columns in another order with unknown ones, quotes, any case of booleans
 * and timestamps with offsets. */
static void test_formats(void)
{
    size_t len;
    char *lf = test_slurp(DATA "demo.csv", &len);
    CHECK(lf != NULL);
    if (!lf)
        return;
    ct_buf crlf = CT_BUF_INIT;
    ct_buf_puts(&crlf, "\xEF\xBB\xBF");
    for (size_t i = 0; i < len; i++)
        ct_buf_puts(&crlf, lf[i] == '\n' ? "\r\n" : (char[]){lf[i], 0});
    ct_credential_report *a = load_ok(lf, len - 1); /* no final line end */
    ct_credential_report *b = load_ok(crlf.data, crlf.len);
    if (a && b) {
        CHECK_INT(ct_credential_report_count(a), ct_credential_report_count(b));
        for (size_t i = 0; i < ct_credential_report_count(a); i++) {
            const ct_credential_user *ua = ct_credential_report_get(a, i),
                                     *ub = ct_credential_report_get(b, i);
            CHECK_STR(ua->user, ub->user);
            CHECK_STR(ua->arn, ub->arn);
            CHECK_INT(ua->line, ub->line);
            CHECK_STR(ua->keys[1].last_rotated.text, ub->keys[1].last_rotated.text);
            CHECK_INT(ua->keys[0].last_used.state, ub->keys[0].last_used.state);
            CHECK_INT(ua->keys[0].last_used.day, ub->keys[0].last_used.day);
        }
    }
    ct_credential_report_free(a);
    ct_credential_report_free(b);
    ct_buf_release(&crlf);
    free(lf);

    /* Columns found by name: reordered, unknown ones (one quoted over two
     * lines, one with "" for a quote) ignored, booleans in capitals,
     * timestamps with offsets and fractions. */
    const char csv[] =
        "mfa_active,arn,some_new_column,user,password_enabled,user_creation_time,"
        "password_last_used,password_last_changed,access_key_1_active,access_key_1_last_rotated,"
        "access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,"
        "access_key_2_last_used_date,cert_1_active,cert_2_active,another\r\n"
        "TRUE,arn:aws:iam::111111111111:user/a,\"two\nlines\",a,True,2018-05-21T23:30:00-02:00,"
        "2018-05-22T00:30:00.123+01:00,N/A,FALSE,N/A,N/A,false,N/A,N/A,false,False,x\r\n"
        "false,\"arn:aws:iam::111111111111:user/b\"\"q\",\"say \"\"hi\"\"\",\"b\"\"q\",false,"
        "2018-05-21T15:17:05Z,N/A,N/A,false,N/A,N/A,false,N/A,N/A,false,false,\"\"";
    ct_credential_report *r = load_ok(csv, sizeof(csv) - 1);
    if (r) {
        const ct_credential_user *u = find(r, "a");
        if (u) {
            CHECK(u->mfa_active.value && u->password_enabled.value && !u->keys[0].active.value);
            CHECK_INT(u->line, 2);
            /* 23:30 at -02:00 is 01:30 UTC the next day. */
            CHECK_INT(u->user_creation_time.day, day_of("2018-05-22"));
            CHECK_STR(u->user_creation_time.text, "2018-05-21T23:30:00-02:00");
            /* 00:30 at +01:00 is 23:30 UTC the day before. */
            CHECK_INT(u->password_last_used.day, day_of("2018-05-21"));
        }
        u = find(r, "b\"q");
        if (u) {
            CHECK_INT(u->line, 4); /* after the quoted line break */
            CHECK_STR(u->arn, "arn:aws:iam::111111111111:user/b\"q");
            CHECK_INT(u->user_creation_time.day, day_of("2018-05-21"));
        }
        ct_credential_report_free(r);
    }
}

/* Loads a file that must fail with CT_EIAM, naming it, at `line` (0: the
 * whole file), with `msg` in the message. */
static void expect_file_error(const char *path, const char *msg, int line)
{
    ct_credential_report *r = NULL;
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_credential_report_load_file(&r, path, &err), CT_EIAM);
    CHECK(r == NULL);
    CHECK_INT(err.code, CT_EIAM);
    CHECK_STR(err.file, path);
    CHECK_INT(err.line, line);
    CHECK_CONTAINS(err.message, msg);
}

static void expect_error(const char *csv, size_t len, const char *msg, int line)
{
    ct_credential_report *r = NULL;
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_credential_report_load_buffer(&r, csv, len, "t.csv", &err), CT_EIAM);
    CHECK(r == NULL);
    CHECK_STR(err.file, "t.csv");
    CHECK_INT(err.line, line);
    CHECK_CONTAINS(err.message, msg);
}
#define EXPECT_ERROR(csv, msg, line) expect_error(csv, sizeof(csv) - 1, msg, line)

/* The broken fixtures, each a mistake people make or a file damaged. */
static void test_file_errors(void)
{
    expect_file_error(DATA "empty.csv",
                      "file is empty: expected the CSV of `aws iam get-credential-report` (its "
                      "Content field, base64-decoded)",
                      0);
    expect_file_error(DATA "base64.txt",
                      "looks base64-encoded: decode the Content field (`aws iam "
                      "get-credential-report --query Content --output text | base64 -d`)",
                      0);
    expect_file_error(DATA "get-credential-report.json",
                      "this is JSON, not CSV: save the Content field of `aws iam "
                      "get-credential-report` base64-decoded",
                      0);
    expect_file_error(DATA "generate-credential-report.json",
                      "this is the JSON of `aws iam generate-credential-report`, which starts a "
                      "report: get it with `aws iam get-credential-report",
                      0);
    /* The 2014 format, before AWS added the last-used columns. */
    expect_file_error(DATA "missing-columns.csv",
                      "the header lacks the columns access_key_1_last_used_date, "
                      "access_key_2_last_used_date: expected the CSV of",
                      1);
    expect_file_error(DATA "not-a-report.csv",
                      "the first line is not a credential report's header (user,arn,...)", 1);
    expect_file_error(DATA "header-only.csv",
                      "the report has no rows (every report lists at least <root_account>)", 0);
    expect_file_error(DATA "wrong-field-count.csv", "a row has 21 fields, the header has 22", 3);
    expect_file_error(DATA "bad-date.csv",
                      "password_last_used '2018-02-30T09:30:00+00:00' is not a date (ISO 8601, "
                      "e.g. 2018-05-21T15:17:05+00:00) nor N/A, no_information or not_supported",
                      4);
    expect_file_error(DATA "bad-bool.csv",
                      "mfa_active 'yes' is not true or false (nor N/A, no_information or "
                      "not_supported)",
                      3);
    expect_file_error(DATA "duplicate-user.csv", "user Alice is listed twice (first on line 3)", 5);
    expect_file_error(DATA "unclosed-quote.csv", "a quoted field is not closed", 3);
    expect_file_error(DATA "other-account.csv",
                      "user bob is of account 222222222222, the rows before of account "
                      "111111111111: a report is of one account",
                      4);
    expect_file_error(DATA "no-such-file.csv",
                      "cannot read IAM credential report: No such file or directory", 0);
    expect_file_error(DATA, "cannot read IAM credential report: it is a folder, not a regular file",
                      0);

    /* One byte over the limit (a sparse file: nothing is written). */
    char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/ct-cred-large-%ld.csv", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_INT(ftruncate(fd, (off_t)CT_CREDENTIAL_REPORT_MAX_BYTES + 1), 0);
        close(fd);
        expect_file_error(path,
                          "cannot read IAM credential report: the file is larger than the 64 MiB "
                          "limit",
                          0);
        unlink(path);
    }
}

/* Damage only a buffer shows well: each error names its line. */
static void test_csv_errors(void)
{
    EXPECT_ERROR(" \r\n\t\n", "file is empty", 0);
    EXPECT_ERROR("\xEF\xBB\xBF", "file is empty", 0);
    EXPECT_ERROR(HEADER ROOT_ROW "\n" ROOT_ROW, "an empty line", 3);
    EXPECT_ERROR(HEADER ROOT_ROW "\r\n", "an empty line", 3);
    EXPECT_ERROR(HEADER "a\"b" ROOT_ROW, "a quote inside a field that does not start with one", 2);
    EXPECT_ERROR(HEADER "\"ann\"x,arn:aws:iam::111111111111:user/ann" TAIL,
                 "text after the closing quote of a field", 2);
    EXPECT_ERROR(HEADER ROOT_ROW "x\ry", "a carriage return that does not end a line", 3);
    EXPECT_ERROR(HEADER ROOT_ROW "\"a\nb\nc", "a quoted field is not closed", 3);
    EXPECT_ERROR(HEADER ROOT_ROW "x\0y", "a NUL byte", 3);
    EXPECT_ERROR(HEADER "x," ROOT_ROW, "a row has more fields than the header's 22", 2);
    EXPECT_ERROR(HEADER "\n", "an empty line", 2);
    /* A short word is a header, not base64. */
    EXPECT_ERROR("user\n", "the header lacks the columns arn, user_creation_time", 1);
    EXPECT_ERROR("user,arn,user,x\n", "the header names the column user twice", 1);
    EXPECT_ERROR("user,arn,mfa_active\n",
                 "the header lacks the columns user_creation_time, "
                 "password_enabled, password_last_used",
                 1);
    EXPECT_ERROR(HEADER USER_ROW("", "N/A", "false", "N/A", "N/A", "false", "N/A", "N/A"),
                 "a row has an empty user", 2);
    EXPECT_ERROR(HEADER USER_ROW("\xC3(", "N/A", "false", "N/A", "N/A", "false", "N/A", "N/A"),
                 "a row's user or arn is not UTF-8 text", 2);
    EXPECT_ERROR(HEADER USER_ROW("ann", "2018-05-21", "false", "N/A", "N/A", "false", "N/A", "N/A"),
                 "user_creation_time '2018-05-21' is not a date", 2);
    EXPECT_ERROR(HEADER USER_ROW("ann", "", "false", "N/A", "N/A", "false", "N/A", "N/A"),
                 "user_creation_time '' is not a date", 2);
    EXPECT_ERROR(HEADER USER_ROW("ann", "N/A", "1", "N/A", "N/A", "false", "N/A", "N/A"),
                 "password_enabled '1' is not true or false", 2);
    EXPECT_ERROR(HEADER USER_ROW("ann", "N/A", "false", "n/a", "N/A", "false", "N/A", "N/A"),
                 "password_last_used 'n/a' is not a date", 2);
    /* Values quoted safely in messages. */
    EXPECT_ERROR(HEADER USER_ROW("ann", "\x1b[31m", "false", "N/A", "N/A", "false", "N/A", "N/A"),
                 "user_creation_time '\\x1b[31m' is not a date", 2);
}

/* ARNs: an IAM user's ending in the row's name, the root's for the root
 * row, and one account for the whole report. */
static void test_arn_errors(void)
{
    EXPECT_ERROR(HEADER "ann,arn:aws:iam::111111111111:role/ann" TAIL,
                 "user ann: arn 'arn:aws:iam::111111111111:role/ann' is not the IAM ARN of that "
                 "user (arn:aws:iam::ACCOUNT:user/NAME)",
                 2);
    EXPECT_ERROR(HEADER "ann,arn:aws:iam::111111111111:user/bob" TAIL,
                 "is not the IAM ARN of that user", 2);
    EXPECT_ERROR(HEADER "ann,arn:aws:iam::11111111111:user/ann" TAIL,
                 "is not the IAM ARN of that user", 2);
    EXPECT_ERROR(HEADER "ann,arn::iam::111111111111:user/ann" TAIL,
                 "is not the IAM ARN of that user", 2);
    EXPECT_ERROR(HEADER "ann,arn:aws:s3::111111111111:user/ann" TAIL,
                 "is not the IAM ARN of that user", 2);
    EXPECT_ERROR(HEADER "<root_account>,arn:aws:iam::111111111111:user/x" TAIL,
                 "arn 'arn:aws:iam::111111111111:user/x' is not the IAM ARN of an account's root "
                 "user",
                 2);
    /* Other partitions are IAM too. */
    const char cn[] = HEADER "<root_account>,arn:aws-cn:iam::111111111111:root" TAIL;
    ct_credential_report *r = load_ok(cn, sizeof(cn) - 1);
    CHECK(r && ct_credential_report_get(r, 0)->is_root);
    ct_credential_report_free(r);
}

int main(void)
{
    RUN(test_demo);
    RUN(test_demo_flags);
    RUN(test_flag_fallbacks);
    RUN(test_formats);
    RUN(test_file_errors);
    RUN(test_csv_errors);
    RUN(test_arn_errors);
    TEST_MAIN_END();
}
