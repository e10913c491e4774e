/* Unit tests for the embedded store: opening checks (not a store, newer
 * schema, corruption), the event-source queries and their edges, the query
 * plans, and the real Stratus Red Team events. */
#define _XOPEN_SOURCE 700
#include "cloudtracker/source.h"
#include "cloudtracker/store.h"
#include "store/store_internal.h"
#include "store_fixture.h"
#include "test.h"

static const char *const ALICE = "arn:aws:iam::111111111111:user/alice";
static const char *const BOB = "arn:aws:iam::111111111111:user/bob";
static const char *const CAROL = "arn:aws:iam::222222222222:user/carol";
static const char *const ROLE = "arn:aws:iam::111111111111:role/team/deployer";
static const char *const XROLE = "arn:aws:iam::333333333333:role/audit";

static void test_open_errors(void)
{
    char *root = scratch_dir("open");
    ct_store *s = NULL;
    ct_error err;

    char *missing = pathf(root, "missing.db");
    CHECK_INT(ct_store_open(&s, missing, false, &err), CT_ESTORE);
    CHECK(strstr(err.message, missing) != NULL);
    CHECK(s == NULL);

    /* Created along with its folders, then reopened. */
    char *nested = pathf(root, "a/b/c/ct.db");
    CHECK_INT(ct_store_open(&s, nested, true, &err), 0);
    ct_store_free(s);
    CHECK_INT(ct_store_open(&s, nested, false, &err), 0);
    ct_store_free(s);
    CHECK_INT(store_int(nested, "PRAGMA user_version"), CT_STORE_VERSION);

    char *text = pathf(root, "config.yaml");
    const char *yaml = "accounts:\n  - name: x\n    id: 1\n";
    write_bytes(text, yaml, strlen(yaml));
    CHECK_INT(ct_store_open(&s, text, true, &err), CT_ESTORE);
    CHECK(strstr(err.message, "not a cloudtracker store") != NULL);
    CHECK(strstr(err.message, text) != NULL);

    char *empty = pathf(root, "empty.db");
    write_bytes(empty, "", 0);
    CHECK_INT(ct_store_open(&s, empty, false, &err), CT_ESTORE);
    CHECK_INT(ct_store_open(&s, empty, true, &err), 0);
    ct_store_free(s);

    /* Somebody else's SQLite database. */
    char *other = pathf(root, "other.db");
    sqlite3 *db;
    sqlite3_open(other, &db);
    sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK_INT(ct_store_open(&s, other, true, &err), CT_ESTORE);
    CHECK(strstr(err.message, "not a cloudtracker store") != NULL);

    /* A store written by a newer cloudtracker. */
    sqlite3_open(nested, &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK_INT(ct_store_open(&s, nested, false, &err), CT_ESTORE);
    CHECK(strstr(err.message, "newer") != NULL);
    CHECK(strstr(err.message, nested) != NULL);

    /* A store of an older schema cannot be rebuilt read-only: refused
     * with what to do about it (test_store_people.c has the rebuild). */
    sqlite3_open(nested, &db);
    sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK_INT(ct_store_open(&s, nested, false, &err), CT_ESTORE);
    CHECK(strstr(err.message, "older cloudtracker") != NULL);
    CHECK(strstr(err.message, "`cloudtracker ingest`") != NULL);
    CHECK(strstr(err.message, "without --skip-setup") != NULL);
    CHECK(strstr(err.message, nested) != NULL);
    CHECK(s == NULL);

    /* Corruption: garbage over everything after the header page, and
     * garbage over the header. Opening or querying fails cleanly. */
    char *corrupt = pathf(root, "corrupt.db");
    char *logs = pathf(root, "logs");
    char *f = pathf(logs, "a.json");
    trec r = {.time = "2024-01-02T10:00:00Z",
              .source = "s3.amazonaws.com",
              .name = "ListBuckets",
              .type = "IAMUser",
              .arn = ALICE,
              .account = "111111111111"};
    char *doc = trail_doc(&r, 1);
    write_bytes(f, doc, strlen(doc));
    CHECK_INT(ct_store_open(&s, corrupt, true, &err), 0);
    ct_ingest_options opts = {0};
    const char *paths[] = {logs};
    opts.paths = paths;
    opts.path_count = 1;
    ct_ingest_summary sum;
    CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
    ct_ingest_summary_release(&sum);
    ct_store_free(s);
    sqlite3_open(corrupt, &db); /* fold the WAL into the file */
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
    struct stat st;
    stat(corrupt, &st);
    FILE *fp = fopen(corrupt, "r+b");
    fseek(fp, 4096, SEEK_SET);
    for (long i = 4096; i < st.st_size; i++)
        fputc((int)((i * 7919) & 0xff), fp);
    fclose(fp);
    int rc = ct_store_open(&s, corrupt, false, &err);
    if (rc == 0) {
        ct_source *src = NULL;
        ct_ingest_options refresh = {.paths = paths, .path_count = 1};
        CHECK_INT(ct_store_source(&src, s, &refresh, &err), 0);
        ct_calls calls = {0};
        ct_window w = {day_of("2024-01-01"), day_of("2024-01-31")};
        int q = src->principal_calls(src, ALICE, &w, &calls, &err);
        ct_input_problems probs = {0};
        int r2 = src->refresh(src, &probs, &err);
        CHECK(q == CT_ESTORE || r2 == CT_ESTORE);
        CHECK_INT(calls.count, 0);
        ct_input_problems_release(&probs);
        ct_calls_release(&calls);
        ct_source_free(src);
    } else {
        CHECK_INT(rc, CT_ESTORE);
    }
    CHECK(strstr(err.message, corrupt) != NULL);
    fp = fopen(corrupt, "r+b");
    for (int i = 0; i < 100; i++)
        fputc(0xA5, fp);
    fclose(fp);
    CHECK_INT(ct_store_open(&s, corrupt, false, &err), CT_ESTORE);
    CHECK(strstr(err.message, corrupt) != NULL);

    remove_tree(root);
    free(doc);
    free(f);
    free(logs);
    free(corrupt);
    free(other);
    free(empty);
    free(text);
    free(nested);
    free(missing);
    free(root);
}

/* The records behind the query tests: see each test for what matters. */
static char *query_fixture(const char *root)
{
    char *logs = pathf(root, "logs");
    trec a[] = {
        /* alice: ListBuckets on Jan 10 (first second) and Jan 12 (last
         * second), one denied CreateUser on Jan 11. */
        {.time = "2024-01-10T00:00:00Z",
         .source = "s3.amazonaws.com",
         .name = "ListBuckets",
         .type = "IAMUser",
         .arn = ALICE,
         .key = "AKIAALICE",
         .account = "111111111111"},
        {.time = "2024-01-12T23:59:59Z",
         .source = "s3.amazonaws.com",
         .name = "ListBuckets",
         .type = "IAMUser",
         .arn = ALICE,
         .key = "AKIAALICE",
         .account = "111111111111"},
        {.time = "2024-01-11T08:00:00Z",
         .source = "iam.amazonaws.com",
         .name = "CreateUser",
         .type = "IAMUser",
         .arn = ALICE,
         .key = "AKIAALICE",
         .account = "111111111111",
         .error = "AccessDenied"},
        {.time = "2024-01-13T00:00:00Z",
         .source = "s3.amazonaws.com",
         .name = "ListBuckets",
         .type = "IAMUser",
         .arn = ALICE,
         .key = "AKIAALICE",
         .account = "111111111111"},
        /* alice and bob assume the same role. */
        {.time = "2024-01-11T09:00:00Z",
         .source = "sts.amazonaws.com",
         .name = "AssumeRole",
         .type = "IAMUser",
         .arn = ALICE,
         .key = "AKIAALICE",
         .account = "111111111111",
         .role_arn = ROLE,
         .session = "alice",
         .issued = "ASIAALICE1",
         .id = "e1"},
        {.time = "2024-01-11T09:05:00Z",
         .source = "sts.amazonaws.com",
         .name = "AssumeRole",
         .type = "IAMUser",
         .arn = BOB,
         .key = "AKIABOB",
         .account = "111111111111",
         .role_arn = ROLE,
         .session = "bob",
         .issued = "ASIABOB1",
         .id = "e2"},
        /* A failed AssumeRole issues nothing. */
        {.time = "2024-01-11T09:06:00Z",
         .source = "sts.amazonaws.com",
         .name = "AssumeRole",
         .type = "IAMUser",
         .arn = BOB,
         .key = "AKIABOB",
         .account = "111111111111",
         .role_arn = ROLE,
         .error = "AccessDenied",
         .id = "e3"},
        /* alice's session: DescribeInstances x2, one denied TerminateInstances. */
        {.time = "2024-01-11T09:10:00Z",
         .source = "ec2.amazonaws.com",
         .name = "DescribeInstances",
         .type = "AssumedRole",
         .arn = "arn:aws:sts::111111111111:assumed-role/deployer/alice",
         .key = "ASIAALICE1",
         .issuer = ROLE,
         .account = "111111111111"},
        {.time = "2024-01-11T09:11:00Z",
         .source = "ec2.amazonaws.com",
         .name = "DescribeInstances",
         .type = "AssumedRole",
         .arn = "arn:aws:sts::111111111111:assumed-role/deployer/alice",
         .key = "ASIAALICE1",
         .issuer = ROLE,
         .account = "111111111111"},
        {.time = "2024-01-11T09:12:00Z",
         .source = "ec2.amazonaws.com",
         .name = "TerminateInstances",
         .type = "AssumedRole",
         .arn = "arn:aws:sts::111111111111:assumed-role/deployer/alice",
         .key = "ASIAALICE1",
         .issuer = ROLE,
         .account = "111111111111",
         .error = "AccessDenied"},
        /* bob's session: GetObject. */
        {.time = "2024-01-11T09:20:00Z",
         .source = "s3.amazonaws.com",
         .name = "GetObject",
         .type = "AssumedRole",
         .arn = "arn:aws:sts::111111111111:assumed-role/deployer/bob",
         .key = "ASIABOB1",
         .issuer = ROLE,
         .account = "111111111111"},
        /* alice assumes the role late on Jan 19 (6 h before a window that
         * starts Jan 20), and at 10:00 on Jan 19 (14 h before): only the
         * first session counts for that window. */
        {.time = "2024-01-19T18:00:00Z",
         .source = "sts.amazonaws.com",
         .name = "AssumeRole",
         .type = "IAMUser",
         .arn = ALICE,
         .key = "AKIAALICE",
         .account = "111111111111",
         .role_arn = ROLE,
         .issued = "ASIAALICE2",
         .id = "e4"},
        {.time = "2024-01-19T10:00:00Z",
         .source = "sts.amazonaws.com",
         .name = "AssumeRole",
         .type = "IAMUser",
         .arn = ALICE,
         .key = "AKIAALICE",
         .account = "111111111111",
         .role_arn = ROLE,
         .issued = "ASIAALICE3",
         .id = "e5"},
        {.time = "2024-01-20T01:00:00Z",
         .source = "lambda.amazonaws.com",
         .name = "ListFunctions20150331",
         .type = "AssumedRole",
         .arn = "arn:aws:sts::111111111111:assumed-role/deployer/a",
         .key = "ASIAALICE2",
         .issuer = ROLE,
         .account = "111111111111"},
        {.time = "2024-01-20T02:00:00Z",
         .source = "kms.amazonaws.com",
         .name = "ListKeys",
         .type = "AssumedRole",
         .arn = "arn:aws:sts::111111111111:assumed-role/deployer/a",
         .key = "ASIAALICE3",
         .issuer = ROLE,
         .account = "111111111111"},
        /* A service event with no ARN: kept under the empty principal. */
        {.time = "2024-01-11T10:00:00Z",
         .source = "ec2.amazonaws.com",
         .name = "CreateTags",
         .type = "AWSService",
         .account = "111111111111"},
    };
    char *f1 = pathf(logs, "AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/11/a.json.gz");
    char *doc = trail_doc(a, sizeof(a) / sizeof(a[0]));
    write_gz(f1, doc);
    free(doc);
    free(f1);

    /* Cross-account: carol (account 222) assumes a role of account 333.
     * The call is logged in both accounts; the role's calls in 333. */
    trec in222[] = {
        {.time = "2024-01-11T12:00:00Z",
         .source = "sts.amazonaws.com",
         .name = "AssumeRole",
         .type = "IAMUser",
         .arn = CAROL,
         .key = "AKIACAROL",
         .account = "222222222222",
         .role_arn = XROLE,
         .issued = "ASIACAROL1",
         .shared = "shared-1",
         .id = "c1"},
    };
    trec in333[] = {
        {.time = "2024-01-11T12:00:00Z",
         .source = "sts.amazonaws.com",
         .name = "AssumeRole",
         .type = "AWSAccount",
         .account = "333333333333",
         .role_arn = XROLE,
         .issued = "ASIACAROL1",
         .shared = "shared-1",
         .id = "c2"},
        {.time = "2024-01-11T12:05:00Z",
         .source = "cloudtrail.amazonaws.com",
         .name = "LookupEvents",
         .type = "AssumedRole",
         .arn = "arn:aws:sts::333333333333:assumed-role/audit/carol",
         .key = "ASIACAROL1",
         .issuer = XROLE,
         .account = "333333333333"},
    };
    char *f2 = pathf(logs, "AWSLogs/222222222222/CloudTrail/us-east-1/2024/01/11/b.json.gz");
    doc = trail_doc(in222, 1);
    write_gz(f2, doc);
    free(doc);
    free(f2);
    /* The caller's own account logs the caller; the role's account logs it
     * too, here also with the caller's ARN (as CloudTrail does for
     * cross-account calls with the same key). */
    in333[0].type = "IAMUser";
    in333[0].arn = CAROL;
    in333[0].key = "AKIACAROL";
    char *f3 = pathf(logs, "AWSLogs/333333333333/CloudTrail/us-east-1/2024/01/11/c.json.gz");
    doc = trail_doc(in333, 2);
    write_gz(f3, doc);
    free(doc);
    free(f3);
    char *bad = pathf(logs, "AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/11/bad.json");
    write_bytes(bad, "{\"Records\":[1]}", 15);
    free(bad);
    return logs;
}

static const ct_call *find_call(const ct_calls *calls, const char *source, const char *name)
{
    for (size_t i = 0; i < calls->count; i++)
        if (strcmp(calls->items[i].event_source, source) == 0 &&
            strcmp(calls->items[i].event_name, name) == 0)
            return &calls->items[i];
    return NULL;
}

static void test_queries(void)
{
    char *root = scratch_dir("query");
    char *logs = query_fixture(root);
    char *store_path = pathf(root, "ct.db");
    ct_store *store = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&store, store_path, true, &err), 0);
    ct_source *src = NULL;
    const char *paths[] = {logs};
    ct_ingest_options refresh = {.paths = paths, .path_count = 1};
    CHECK_INT(ct_store_source(&src, store, &refresh, &err), 0);
    CHECK_STR(src->name, "store");
    ct_input_problems probs = {0};
    CHECK_INT(src->refresh(src, &probs, &err), 0);
    CHECK_INT(probs.count, 1);
    if (probs.count)
        CHECK(ct_str_ends_with(probs.items[0].path, "/bad.json"));
    ct_input_problems_release(&probs);
    CHECK_INT(src->input_problems(src, &probs, &err), 0);
    CHECK_INT(probs.count, 1);
    if (probs.count)
        CHECK(strstr(probs.items[0].reason, "record is not an object") != NULL);
    ct_input_problems_release(&probs);

    ct_calls calls = {0};
    ct_window w = {day_of("2024-01-10"), day_of("2024-01-12")};
    CHECK_INT(src->principal_calls(src, ALICE, &w, &calls, &err), 0);
    const ct_call *c = find_call(&calls, "s3.amazonaws.com", "ListBuckets");
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(c->count, 2); /* both edges of the window, not Jan 13 */
        CHECK_INT(c->error_count, 0);
        CHECK_INT(c->first_day, day_of("2024-01-10"));
        CHECK_INT(c->last_day, day_of("2024-01-12"));
    }
    c = find_call(&calls, "iam.amazonaws.com", "CreateUser");
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(c->count, 0);
        CHECK_INT(c->error_count, 1);
    }
    CHECK(find_call(&calls, "sts.amazonaws.com", "AssumeRole") != NULL);
    /* Sorted by source, then name. */
    for (size_t i = 1; i < calls.count; i++)
        CHECK(strcmp(calls.items[i - 1].event_source, calls.items[i].event_source) <= 0);
    ct_calls_release(&calls);

    ct_window edge = {day_of("2024-01-12"), day_of("2024-01-12")};
    CHECK_INT(src->principal_calls(src, ALICE, &edge, &calls, &err), 0);
    CHECK_INT(calls.count, 1);
    if (calls.count)
        CHECK_INT(calls.items[0].count, 1);
    ct_calls_release(&calls);
    CHECK_INT(src->principal_calls(src, "arn:aws:iam::111111111111:user/nobody", &w, &calls, &err),
              0);
    CHECK_INT(calls.count, 0);

    /* The role as a whole: every session's calls. */
    CHECK_INT(src->principal_calls(src, ROLE, &w, &calls, &err), 0);
    CHECK(find_call(&calls, "ec2.amazonaws.com", "DescribeInstances") != NULL);
    CHECK(find_call(&calls, "s3.amazonaws.com", "GetObject") != NULL);
    ct_calls_release(&calls);

    /* Two users, one role: each sees only their own sessions. */
    CHECK_INT(src->role_session_calls(src, ALICE, ROLE, &w, &calls, &err), 0);
    CHECK_INT(calls.count, 2);
    c = find_call(&calls, "ec2.amazonaws.com", "DescribeInstances");
    CHECK(c && c->count == 2 && c->error_count == 0);
    c = find_call(&calls, "ec2.amazonaws.com", "TerminateInstances");
    CHECK(c && c->count == 0 && c->error_count == 1);
    CHECK(find_call(&calls, "s3.amazonaws.com", "GetObject") == NULL);
    ct_calls_release(&calls);
    CHECK_INT(src->role_session_calls(src, BOB, ROLE, &w, &calls, &err), 0);
    CHECK_INT(calls.count, 1);
    c = find_call(&calls, "s3.amazonaws.com", "GetObject");
    CHECK(c && c->count == 1);
    ct_calls_release(&calls);

    /* A session opened 6 h before the window counts; 14 h before does not. */
    ct_window later = {day_of("2024-01-20"), day_of("2024-01-25")};
    CHECK_INT(src->role_session_calls(src, ALICE, ROLE, &later, &calls, &err), 0);
    CHECK_INT(calls.count, 1);
    CHECK(find_call(&calls, "lambda.amazonaws.com", "ListFunctions20150331") != NULL);
    CHECK(find_call(&calls, "kms.amazonaws.com", "ListKeys") == NULL);
    ct_calls_release(&calls);

    /* Cross-account: logged twice, counted once. */
    CHECK_INT(src->role_session_calls(src, CAROL, XROLE, &w, &calls, &err), 0);
    CHECK_INT(calls.count, 1);
    c = find_call(&calls, "cloudtrail.amazonaws.com", "LookupEvents");
    CHECK(c && c->count == 1);
    ct_calls_release(&calls);
    CHECK_INT(store_int(store_path, "SELECT count(*) FROM assume_role s JOIN access_key k"
                                    " ON k.id = s.issued_key_id WHERE k.key = 'ASIACAROL1'"),
              2);

    const char *arns[] = {ALICE, BOB, "arn:aws:iam::111111111111:user/dave", ROLE, ""};
    bool active[5];
    CHECK_INT(src->active_principals(src, arns, 5, &w, active, &err), 0);
    CHECK(active[0] && active[1] && !active[2] && active[3] && active[4]);
    ct_window empty = {day_of("2024-03-01"), day_of("2024-03-31")};
    CHECK_INT(src->active_principals(src, arns, 5, &empty, active, &err), 0);
    CHECK(!active[0] && !active[1] && !active[2] && !active[3] && !active[4]);

    uint64_t n = 0;
    CHECK_INT(src->account_event_count(src, "111111111111", &w, &n, &err), 0);
    CHECK_INT(n, 11); /* 16 records, less Jan 13 and the four on Jan 19-20 */
    CHECK_INT(src->account_event_count(src, "333333333333", &w, &n, &err), 0);
    CHECK_INT(n, 2);
    CHECK_INT(src->account_event_count(src, "999999999999", &w, &n, &err), 0);
    CHECK_INT(n, 0);
    ct_window jan13 = {day_of("2024-01-13"), day_of("2024-01-13")};
    CHECK_INT(src->account_event_count(src, "111111111111", &jan13, &n, &err), 0);
    CHECK_INT(n, 1);

    ct_source_free(src);
    remove_tree(root);
    free(store_path);
    free(logs);
    free(root);
}

/* Rows decoded from a blob, for comparing with what was encoded. */
struct decoded {
    int64_t vals[64];
    size_t n;
    int stop_after; /* a callback returns 99 after this many rows; 0: never */
    int rows;
};

static int take_row(struct decoded *d, const int64_t *row, int cols)
{
    for (int c = 0; c < cols && d->n < 64; c++)
        d->vals[d->n++] = row[c];
    return ++d->rows == d->stop_after ? 99 : 0;
}

static int take_call(void *ud, const int64_t *row)
{
    return take_row(ud, row, CT_FILE_CALL_COLS);
}

static int take_account(void *ud, const int64_t *row)
{
    return take_row(ud, row, CT_FILE_ACCOUNT_COLS);
}

static int take_resource(void *ud, const int64_t *row)
{
    return take_row(ud, row, CT_FILE_RESOURCE_COLS);
}

static int encode(ct_buf *b, const int64_t *calls, size_t ncalls, const int64_t *accounts,
                  size_t naccounts, const int64_t *resources, size_t nresources)
{
    ct_file_rows rows = {calls, ncalls, accounts, naccounts, resources, nresources};
    return ct_file_rows_encode(b, &rows);
}

/* A file's rows blob: any values round-trip, and a blob cut short, too
 * long, or holding values no writer makes is damage, never a crash. */
static void test_rows_blob(void)
{
    /* Rows that step up and down, and extreme values (differences wrap). */
    const int64_t calls[][CT_FILE_CALL_COLS] = {
        {1, 1, 7, 20000, 0, 3, 0},
        {1, 2, 5, 19999, 1, 0, 2},
        {INT64_MAX, 1, 1, -719468, 0, INT64_MAX, 1},
        {3, 4, (int64_t)1 << 40, INT64_MIN, 1, 1, INT64_MAX},
    };
    /* An account row, and a data event's (read, then of unknown kind). */
    const int64_t accounts[][CT_FILE_ACCOUNT_COLS] = {
        {1, 20000, 0, 0, 2, 5}, {2, -3, 9, 1, 1, 1}, {2, -3, (int64_t)1 << 40, 3, 7, INT64_MAX}};
    /* Resource rows: principal, day, action, set, calls. */
    const int64_t resources[][CT_FILE_RESOURCE_COLS] = {{1, 20000, 7, 3, 2},
                                                        {1, 20000, 7, 1, INT64_MAX}};
    ct_buf b = CT_BUF_INIT;
    CHECK_INT(encode(&b, calls[0], 4, accounts[0], 3, resources[0], 2), 0);
    struct decoded d = {{0}, 0, 0, 0};
    CHECK_INT(ct_file_rows_decode(b.data, b.len, take_call, take_account, take_resource, &d), 0);
    CHECK_INT(d.n, 4 * CT_FILE_CALL_COLS + 3 * CT_FILE_ACCOUNT_COLS + 2 * CT_FILE_RESOURCE_COLS);
    CHECK(memcmp(d.vals, calls, sizeof(calls)) == 0);
    CHECK(memcmp(d.vals + 4 * CT_FILE_CALL_COLS, accounts, sizeof(accounts)) == 0);
    CHECK(memcmp(d.vals + 4 * CT_FILE_CALL_COLS + 3 * CT_FILE_ACCOUNT_COLS, resources,
                 sizeof(resources)) == 0);
    /* A callback's status stops the walk and comes back. */
    struct decoded stop = {{0}, 0, 2, 0};
    CHECK_INT(ct_file_rows_decode(b.data, b.len, take_call, take_account, take_resource, &stop),
              99);
    CHECK_INT(stop.rows, 2);
    /* Every strict prefix, and any byte more, is damage. */
    for (size_t len = 0; len < b.len; len++) {
        struct decoded cut = {{0}, 0, 0, 0};
        CHECK_INT(ct_file_rows_decode(b.data, len, take_call, take_account, take_resource, &cut),
                  CT_ESTORE);
    }
    ct_buf_append(&b, "", 1);
    CHECK_INT(ct_file_rows_decode(b.data, b.len, take_call, take_account, take_resource, &d),
              CT_ESTORE);

    /* Nothing at all is a valid blob; values no writer makes are not. */
    CHECK_INT(encode(&b, NULL, 0, NULL, 0, NULL, 0), 0);
    CHECK_INT(ct_file_rows_decode(b.data, b.len, take_call, take_account, take_resource, &d), 0);
    const int64_t bad[][CT_FILE_CALL_COLS] = {
        {0, 1, 1, 1, 0, 1, 0}, /* no principal */
        {1, 1, 1, 1, 2, 1, 0}, /* session flag */
        {1, 1, 1, 1, 0, 0, 0}, /* no calls */
        {1, 1, 1, 1, 0, -1, 2},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(encode(&b, bad[i], 1, NULL, 0, NULL, 0), 0);
        CHECK_INT(ct_file_rows_decode(b.data, b.len, take_call, take_account, take_resource, &d),
                  CT_ESTORE);
    }
    const int64_t bad_accounts[][CT_FILE_ACCOUNT_COLS] = {
        {1, 20000, 0, 0, 1, 0}, /* no events */
        {0, 20000, 0, 0, 1, 1}, /* no account */
        {1, 20000, 0, 0, 0, 1}, /* no region */
        {1, 20000, 5, 0, 1, 1}, /* an action without a data access */
        {1, 20000, 0, 1, 1, 1}, /* a data access without an action */
        {1, 20000, 5, 4, 1, 1}, /* no such access */
    };
    for (size_t i = 0; i < sizeof(bad_accounts) / sizeof(bad_accounts[0]); i++) {
        CHECK_INT(encode(&b, NULL, 0, bad_accounts[i], 1, NULL, 0), 0);
        CHECK_INT(ct_file_rows_decode(b.data, b.len, take_call, take_account, take_resource, &d),
                  CT_ESTORE);
    }
    const int64_t bad_resources[][CT_FILE_RESOURCE_COLS] = {
        {0, 20000, 1, 1, 1}, /* no principal */
        {1, 20000, 0, 1, 1}, /* no action */
        {1, 20000, 1, 0, 1}, /* no set */
        {1, 20000, 1, 1, 0}, /* no calls */
    };
    for (size_t i = 0; i < sizeof(bad_resources) / sizeof(bad_resources[0]); i++) {
        CHECK_INT(encode(&b, NULL, 0, NULL, 0, bad_resources[i], 1), 0);
        CHECK_INT(ct_file_rows_decode(b.data, b.len, take_call, take_account, take_resource, &d),
                  CT_ESTORE);
    }
    /* A row count beyond the bytes left, and an overlong varint. */
    CHECK_INT(
        ct_file_rows_decode("\xff\xff\xff\xff\x0f", 5, take_call, take_account, take_resource, &d),
        CT_ESTORE);
    CHECK_INT(ct_file_rows_decode("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11, take_call,
                                  take_account, take_resource, &d),
              CT_ESTORE);
    ct_buf_release(&b);
}

/* Every query reads through an index: no full scan of a big table. */
static void test_query_plans(void)
{
    char *root = scratch_dir("plan");
    char *path = pathf(root, "ct.db");
    ct_store *s = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&s, path, true, &err), 0);
    ct_store_free(s);
    sqlite3 *db;
    sqlite3_open(path, &db);
    enum store_stmt queries[] = {ST_Q_PRINCIPAL_CALLS, ST_Q_SESSION_CALLS, ST_Q_ACTIVE,
                                 ST_Q_ACCOUNT_EVENTS,  ST_Q_PROBLEMS,      ST_FILE_LOOKUP,
                                 ST_OLD_ROWS,          ST_DEL_ASSUME,      ST_GET_ACTION,
                                 ST_Q_DATA_EVENTS,     ST_DEL_EVIDENCE,    ST_Q_ACCOUNT_DAYS};
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        ct_buf sql = CT_BUF_INIT;
        ct_buf_printf(&sql, "EXPLAIN QUERY PLAN %s", ct_store_sql(queries[q]));
        sqlite3_stmt *st;
        CHECK_INT(sqlite3_prepare_v2(db, sql.data, -1, &st, NULL), SQLITE_OK);
        bool by_key = false;
        while (st && sqlite3_step(st) == SQLITE_ROW) {
            const char *detail = (const char *)sqlite3_column_text(st, 3);
            by_key |=
                strstr(detail, "SEARCH d USING PRIMARY KEY (key_id=? AND principal_id=?") != NULL;
            /* Scanning the small list of issued keys (the CTE) is fine. */
            bool full_scan = strncmp(detail, "SCAN ", 5) == 0 && !strstr(detail, "INDEX") &&
                             strncmp(detail, "SCAN issued", 11) != 0 &&
                             strncmp(detail, "SCAN k", 6) != 0;
            if (full_scan)
                fprintf(stderr, "  query %d: %s\n", (int)queries[q], detail);
            CHECK(!full_scan);
        }
        /* Sessions are found by their keys, not by scanning the role's days. */
        if (queries[q] == ST_Q_SESSION_CALLS)
            CHECK(by_key);
        sqlite3_finalize(st);
        ct_buf_release(&sql);
    }
    sqlite3_close(db);
    remove_tree(root);
    free(path);
    free(root);
}

static const char *stratus_dir(void)
{
    static char buf[1024];
    const char *env = getenv("CT_STRATUS_DIR");
    if (env && *env)
        return env;
    struct stat st;
    if (stat(CT_SHARED_FIXTURES, &st) == 0)
        return CT_SHARED_FIXTURES;
    snprintf(buf, sizeof(buf), "%s/../shared/fixtures/stratus-red-team-detonation-logs",
             CT_SOURCE_DIR);
    return buf;
}

static void test_stratus(void)
{
    char *root = scratch_dir("stratus");
    char *path = pathf(root, "ct.db");
    ct_store *s = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&s, path, true, &err), 0);
    const char *paths[] = {stratus_dir()};
    ct_ingest_options opts = {0};
    opts.paths = paths;
    opts.path_count = 1;
    ct_ingest_summary sum;
    int rc = ct_store_ingest(s, &opts, &sum, &err);
    if (rc != 0)
        fprintf(stderr, "  %s\n", err.message);
    CHECK_INT(rc, 0);
    CHECK_INT(sum.files_read, 35);
    CHECK_INT(sum.records_stored, 310);
    CHECK_INT(sum.records_rejected, 0);
    CHECK_INT(sum.problems.count, 0);
    ct_ingest_summary_release(&sum);
    ct_source *src = NULL;
    CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
    ct_window w = {day_of("2020-01-01"), day_of("2030-01-01")};
    ct_calls calls = {0};
    CHECK_INT(
        src->principal_calls(src, "arn:aws:iam::946986569305:user/christophe", &w, &calls, &err),
        0);
    const ct_call *c = find_call(&calls, "iam.amazonaws.com", "CreateAccessKey");
    CHECK(c != NULL && c->count >= 1);
    ct_calls_release(&calls);
    CHECK_INT(
        src->principal_calls(src, "arn:aws:iam::056392974792:user/christophe", &w, &calls, &err),
        0);
    c = find_call(&calls, "ssm.amazonaws.com", "DescribeInstanceInformation");
    CHECK(c != NULL && c->count == 51 && c->error_count == 0);
    ct_calls_release(&calls);
    /* A role session's denied calls: charged to the role, as attempts. */
    CHECK_INT(src->principal_calls(
                  src, "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role",
                  &w, &calls, &err),
              0);
    c = find_call(&calls, "ec2.amazonaws.com", "GetPasswordData");
    CHECK(c != NULL && c->count == 0 && c->error_count == 30);
    ct_calls_release(&calls);
    uint64_t n = 0;
    CHECK_INT(src->account_event_count(src, "946986569305", &w, &n, &err), 0);
    CHECK(n > 0 && n <= 310);
    ct_input_problems probs = {0};
    CHECK_INT(src->refresh(src, &probs, &err), 0); /* no paths: nothing to do */
    CHECK_INT(src->input_problems(src, &probs, &err), 0);
    CHECK_INT(probs.count, 0);
    ct_source_free(src);
    remove_tree(root);
    free(path);
    free(root);
}

/* ---- readers beside an ingest ---- */

/* What a reader made mid-ingest sees: the store listed as being written. */
struct mid_ingest {
    const char *store_path;
    const char *logs;
    ct_source *before; /* made before the ingest started */
    int calls;
    bool checked;
};

static size_t alice_calls(ct_source *src)
{
    ct_calls calls = {0};
    ct_error err;
    ct_window w = {day_of("2024-01-01"), day_of("2024-01-31")};
    size_t n = 0;
    CHECK_INT(src->principal_calls(src, ALICE, &w, &calls, &err), 0);
    for (size_t i = 0; i < calls.count; i++)
        n += calls.items[i].count;
    ct_calls_release(&calls);
    return n;
}

static void on_progress(void *ud, const ct_ingest_summary *so_far)
{
    struct mid_ingest *m = ud;
    if (m->checked || so_far->files_read == 0)
        return;
    m->checked = true;
    ct_store *store = NULL;
    ct_source *src = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&store, m->store_path, false, &err), 0);
    CHECK_INT(ct_store_source(&src, store, NULL, &err), 0);
    ct_input_problems probs = {0};
    CHECK_INT(src->input_problems(src, &probs, &err), 0);
    CHECK_INT(probs.count, 1);
    if (probs.count) {
        CHECK_STR(probs.items[0].path, m->store_path);
        CHECK(strstr(probs.items[0].reason, "an ingest is writing this store now") != NULL);
    }
    ct_input_problems_release(&probs);
    /* A source that refreshed the store itself has read every file. */
    ct_source *fresh = NULL;
    const char *paths[] = {m->logs};
    ct_ingest_options refresh = {.paths = paths, .path_count = 1};
    CHECK_INT(ct_store_open(&store, m->store_path, true, &err), 0);
    CHECK_INT(ct_store_source(&fresh, store, &refresh, &err), 0);
    CHECK_INT(fresh->refresh(fresh, &probs, &err), 0);
    CHECK_INT(fresh->input_problems(fresh, &probs, &err), 0);
    CHECK_INT(probs.count, 0);
    CHECK_INT(alice_calls(fresh), 3);
    ct_input_problems_release(&probs);
    ct_source_free(fresh);
    /* The reader made before the ingest still reads the state it began
     * with, whatever has been committed since. */
    CHECK_INT(alice_calls(m->before), 0);
    ct_source_free(src);
}

static void test_readers_beside_an_ingest(void)
{
    char *root = scratch_dir("beside");
    char *logs = pathf(root, "logs");
    char *store_path = pathf(root, "ct.db");
    char *docs[3];
    for (int i = 0; i < 3; i++) {
        char name[32], time[32];
        snprintf(name, sizeof(name), "f%d.json", i);
        snprintf(time, sizeof(time), "2024-01-0%dT10:00:00Z", i + 2);
        trec r = {.time = time,
                  .source = "s3.amazonaws.com",
                  .name = "ListBuckets",
                  .type = "IAMUser",
                  .arn = ALICE,
                  .account = "111111111111"};
        docs[i] = trail_doc(&r, 1);
        char *f = pathf(logs, name);
        write_bytes(f, docs[i], strlen(docs[i]));
        free(f);
    }
    ct_store *store = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&store, store_path, true, &err), 0);
    ct_store_free(store);

    struct mid_ingest m = {.store_path = store_path, .logs = logs};
    CHECK_INT(ct_store_open(&store, store_path, false, &err), 0);
    CHECK_INT(ct_store_source(&m.before, store, NULL, &err), 0);
    CHECK_INT(ct_store_open(&store, store_path, true, &err), 0);
    const char *paths[] = {logs};
    ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 1};
    opts.progress = on_progress;
    opts.progress_ud = &m;
    size_t saved_group = ct_ingest_group_files;
    ct_ingest_group_files = 1; /* a commit per file: the reader comes between two */
    ct_ingest_summary sum;
    CHECK_INT(ct_store_ingest(store, &opts, &sum, &err), 0);
    ct_ingest_group_files = saved_group;
    ct_ingest_summary_release(&sum);
    CHECK(m.checked);
    /* The last ingest to end (the inner one ended first) removed its mark. */
    char *mark = pathf(root, "ct.db-ingest.lock");
    struct stat st;
    CHECK(lstat(mark, &st) != 0);
    free(mark);
    CHECK_INT(alice_calls(m.before), 0);
    ct_source_free(m.before);
    ct_store_free(store);

    /* Once the ingest is over, a reader is told nothing and reads it all. */
    ct_source *after = NULL;
    CHECK_INT(ct_store_open(&store, store_path, false, &err), 0);
    CHECK_INT(ct_store_source(&after, store, NULL, &err), 0);
    ct_input_problems probs = {0};
    CHECK_INT(after->input_problems(after, &probs, &err), 0);
    CHECK_INT(probs.count, 0);
    ct_input_problems_release(&probs);
    CHECK_INT(alice_calls(after), 3);
    ct_source_free(after);

    remove_tree(root);
    for (int i = 0; i < 3; i++)
        free(docs[i]);
    free(logs);
    free(store_path);
    free(root);
}

/* A store made through a dangling link would create a file wherever it
 * points; the link is refused and nothing is made. A new store is private. */
static void test_store_file_creation(void)
{
    char *root = scratch_dir("create");
    char *link = pathf(root, "ct.db");
    char *target = pathf(root, "elsewhere/target.db");
    ct_store *s = NULL;
    ct_error err;
    CHECK_INT(symlink(target, link), 0);
    CHECK_INT(ct_store_open(&s, link, true, &err), CT_ESTORE);
    CHECK(strstr(err.message, "symbolic link to a missing file") != NULL);
    struct stat st;
    CHECK(lstat(target, &st) != 0);
    char *fresh = pathf(root, "fresh.db");
    CHECK_INT(ct_store_open(&s, fresh, true, &err), 0);
    ct_store_free(s);
    CHECK_INT(stat(fresh, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    /* SQLite opens its -wal and -shm files with O_NOFOLLOW: links planted
     * at those names never lead a write into the file they point to. */
    char *victim = pathf(root, "victim.txt");
    write_bytes(victim, "precious\n", 9);
    char *planted = pathf(root, "planted.db");
    for (int i = 0; i < 2; i++) {
        char *side = pathf(root, i ? "planted.db-shm" : "planted.db-wal");
        CHECK_INT(symlink(victim, side), 0);
        free(side);
    }
    if (ct_store_open(&s, planted, true, &err) == 0)
        ct_store_free(s);
    FILE *vf = fopen(victim, "rb");
    char got[32] = {0};
    CHECK(vf && fread(got, 1, sizeof(got) - 1, vf) == 9);
    if (vf)
        fclose(vf);
    CHECK_STR(got, "precious\n");
    free(victim);
    free(planted);
    /* Reading only never creates. */
    char *none = pathf(root, "none.db");
    CHECK_INT(ct_store_open(&s, none, false, &err), CT_ESTORE);
    CHECK(lstat(none, &st) != 0);
    remove_tree(root);
    free(link);
    free(target);
    free(fresh);
    free(none);
    free(root);
}

int main(void)
{
    RUN(test_open_errors);
    RUN(test_rows_blob);
    RUN(test_queries);
    RUN(test_query_plans);
    RUN(test_stratus);
    RUN(test_readers_beside_an_ingest);
    RUN(test_store_file_creation);
    TEST_MAIN_END();
}
