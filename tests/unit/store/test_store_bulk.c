/* Unit tests for the store's bulk questions: account_calls (every principal
 * of an account) checked against principal_calls on every fixture, the ARN
 * account rule, empty answers on errors, and the number of statements and
 * the query plans of account_calls, sessions and session_calls
 * (test_store_people.c has the sessions questions' answers). */
#define _XOPEN_SOURCE 700
#include "cloudtracker/source.h"
#include "cloudtracker/store.h"
#include "store/store_internal.h"
#include "store_fixture.h"
#include "test.h"

#define A1 "111111111111"

/* A store in `root` holding the trail files under `logs`; *store is the
 * handle the returned source owns (for tracing its statements). */
static ct_source *fixture_source(const char *root, const char *logs, ct_store **store)
{
    char *path = pathf(root, "ct.db");
    ct_store *s = NULL;
    ct_source *src = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&s, path, true, &err), 0);
    const char *paths[] = {logs};
    ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 2};
    ct_ingest_summary sum;
    CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
    CHECK_INT(sum.problems.count, 0);
    ct_ingest_summary_release(&sum);
    CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
    if (store)
        *store = s;
    free(path);
    return src;
}

static char *bulk_logs(void)
{
    return pathf(CT_TEST_DATA, "bulk");
}

/* ---- account_calls against principal_calls ---- */

/* The account field of an ARN, as the test reads the rule: the text
 * between the fourth and fifth colon of "arn:..."; false when there is no
 * fifth colon. Written apart from the store's parser on purpose. */
static bool ref_account(const char *arn, char *out, size_t cap)
{
    if (strncmp(arn, "arn:", 4) != 0)
        return false;
    const char *colon[5];
    int n = 0;
    for (const char *p = arn; *p && n < 5; p++)
        if (*p == ':')
            colon[n++] = p;
    if (n < 5 || (size_t)(colon[4] - colon[3] - 1) >= cap)
        return false;
    memcpy(out, colon[3] + 1, (size_t)(colon[4] - colon[3] - 1));
    out[colon[4] - colon[3] - 1] = '\0';
    return true;
}

static bool calls_equal(const ct_calls *a, const ct_calls *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const ct_call *x = &a->items[i], *y = &b->items[i];
        if (strcmp(x->event_source, y->event_source) != 0 ||
            strcmp(x->event_name, y->event_name) != 0 || x->kind != y->kind ||
            x->count != y->count || x->error_count != y->error_count ||
            x->first_day != y->first_day || x->last_day != y->last_day)
            return false;
    }
    return true;
}

/* Rows of one text column of the store file (read beside the source). */
static char **store_strings(const char *db_path, const char *sql, size_t *n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char **out = NULL;
    *n = 0;
    CHECK_INT(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        out = realloc(out, (*n + 1) * sizeof(*out));
        out[(*n)++] = ct_strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

/* For every account the store knows (its principals' and its accounts'),
 * account_calls lists exactly the principals of the account that
 * principal_calls finds calls of, with the same calls in the same order.
 * Returns the number of principals listed, over all accounts. */
static size_t check_consistent(ct_source *src, const char *db_path, const ct_window *w)
{
    size_t np, na, listed = 0;
    char **principals = store_strings(db_path, "SELECT arn FROM principal ORDER BY id", &np);
    char **accounts = store_strings(db_path, "SELECT account FROM account", &na);
    ct_strmap *seen = ct_strmap_new();
    ct_error err;
    for (size_t i = 0; i < np + na; i++) {
        char account[64];
        if (i >= np)
            snprintf(account, sizeof(account), "%s", accounts[i - np]);
        else if (!ref_account(principals[i], account, sizeof(account)))
            continue;
        void *v;
        if (ct_strmap_get(seen, account, &v))
            continue;
        ct_strmap_put(seen, account, NULL);
        ct_account_calls list = {0};
        CHECK_INT(src->account_calls(src, account, w, &list, &err), 0);
        CHECK(list.index == NULL);
        size_t expected = 0;
        for (size_t p = 0; p < np; p++) {
            char other[64];
            if (!ref_account(principals[p], other, sizeof(other)) || strcmp(other, account) != 0)
                continue;
            ct_calls one = {0};
            CHECK_INT(src->principal_calls(src, principals[p], w, &one, &err), 0);
            const ct_calls *bulk = ct_account_calls_find(&list, principals[p]);
            if (one.count == 0) {
                CHECK(bulk == NULL);
            } else {
                expected++;
                CHECK(bulk != NULL && calls_equal(bulk, &one));
                if (!bulk || !calls_equal(bulk, &one))
                    fprintf(stderr, "  %s differs in account %s\n", principals[p], account);
            }
            ct_calls_release(&one);
        }
        CHECK_INT(list.count, expected);
        for (size_t k = 1; k < list.count; k++)
            CHECK(strcmp(list.items[k - 1].principal_arn, list.items[k].principal_arn) < 0);
        listed += list.count;
        ct_account_calls_release(&list);
    }
    ct_strmap_free(seen);
    free_strings(principals, np);
    free_strings(accounts, na);
    return listed;
}

/* The property on one fixture: the whole range, each day with calls
 * alone, and a window without any. */
static void check_fixture(const char *tag, const char *logs)
{
    char *root = scratch_dir(tag);
    char *db_path = pathf(root, "ct.db");
    ct_source *src = fixture_source(root, logs, NULL);
    ct_window all = {0, day_of("2100-01-01")};
    CHECK(check_consistent(src, db_path, &all) > 0);
    size_t ndays;
    char **days =
        store_strings(db_path, "SELECT DISTINCT day FROM daily_call ORDER BY day", &ndays);
    CHECK(ndays > 1);
    size_t per_day = 0;
    for (size_t i = 0; i < ndays; i++) {
        int64_t d = strtoll(days[i], NULL, 10);
        ct_window one = {d, d};
        per_day += check_consistent(src, db_path, &one);
    }
    CHECK(per_day > 0);
    ct_window none = {day_of("1999-01-01"), day_of("1999-12-31")};
    CHECK_INT(check_consistent(src, db_path, &none), 0);
    free_strings(days, ndays);
    ct_source_free(src);
    remove_tree(root);
    free(db_path);
    free(root);
}

static void test_account_calls_consistent(void)
{
    char *bulk = bulk_logs();
    char *demo = pathf(CT_SOURCE_DIR, "demo/logs");
    char *stratus = pathf(CT_TEST_DATA, "stratus-red-team");
    check_fixture("bulk-bulk", bulk);
    check_fixture("bulk-demo", demo);
    check_fixture("bulk-stratus", stratus);
    free(bulk);
    free(demo);
    free(stratus);
}

/* ---- the account field of an ARN ---- */

static void test_arn_account(void)
{
    static const struct {
        const char *arn;
        const char *account; /* NULL: not an ARN with an account field */
    } cases[] = {
        {"arn:aws:iam::111111111111:user/alice", "111111111111"},
        {"arn:aws:iam::111111111111:role/team/deployer", "111111111111"},
        {"arn:aws:iam::111111111111:root", "111111111111"},
        /* An IAM path may hold ':', even an account id between them. */
        {"arn:aws:iam::222222222222:user/odd:111111111111:/pat", "222222222222"},
        {"arn:aws-cn:iam::444444444444:user/cn-user", "444444444444"},
        {"arn:aws-us-gov:iam::555555555555:role/gov", "555555555555"},
        {"arn:aws:sts::111111111111:federated-user/fed", "111111111111"},
        {"arn:aws:sts::111111111111:assumed-role/ops/alice", "111111111111"},
        {"arn:aws:s3:::bucket", ""},
        {"", NULL},
        {"arn:aws:iam::111111111111", NULL},
        {"arn:aws:iam:", NULL},
        {"arn:", NULL},
        {"xrn:aws:iam::111111111111:user/x", NULL},
        {"ARN:aws:iam::111111111111:user/x", NULL},
    };
    char *root = scratch_dir("bulk-arn");
    char *path = pathf(root, "ct.db");
    ct_store *s = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&s, path, true, &err), 0);
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(s->db, "SELECT ct_arn_account(?1)", -1, &st, NULL), SQLITE_OK);
    for (size_t i = 0; st && i < sizeof(cases) / sizeof(cases[0]); i++) {
        sqlite3_bind_text(st, 1, cases[i].arn, -1, SQLITE_STATIC);
        CHECK_INT(sqlite3_step(st), SQLITE_ROW);
        const char *got = (const char *)sqlite3_column_text(st, 0);
        if (cases[i].account)
            CHECK_STR(got, cases[i].account);
        else
            CHECK(got == NULL);
        char ref[64];
        CHECK(ref_account(cases[i].arn, ref, sizeof(ref)) == (cases[i].account != NULL));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    ct_store_free(s);

    /* End to end on tests/data/bulk: who belongs to which account. */
    char *logs = bulk_logs();
    ct_source *src = fixture_source(root, logs, NULL);
    ct_window w = {day_of("2024-02-01"), day_of("2024-02-29")};
    static const struct {
        const char *account;
        const char *arns; /* the principals listed, in order, joined by spaces */
    } accounts[] = {
        {A1, "arn:aws:iam::111111111111:role/chain arn:aws:iam::111111111111:role/ops"
             " arn:aws:iam::111111111111:root arn:aws:iam::111111111111:user/alice"
             " arn:aws:iam::111111111111:user/bob arn:aws:sts::111111111111:federated-user/fed"},
        {"222222222222", "arn:aws:iam::222222222222:user/carol"
                         " arn:aws:iam::222222222222:user/odd:111111111111:/pat"},
        {"444444444444", "arn:aws-cn:iam::444444444444:user/cn-user"},
        {"555555555555", "arn:aws-us-gov:iam::555555555555:user/gov-user"},
        /* The service event's empty principal belongs to no account. */
        {"", ""},
        {"11111111111", ""},
        {"1111111111111", ""},
        {"user", ""},
        {"odd", ""},
        {"aws", ""},
    };
    for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
        ct_account_calls list = {0};
        CHECK_INT(src->account_calls(src, accounts[i].account, &w, &list, &err), 0);
        ct_buf got = CT_BUF_INIT;
        ct_buf_puts(&got, "");
        for (size_t k = 0; k < list.count; k++)
            ct_buf_printf(&got, "%s%s", k ? " " : "", list.items[k].principal_arn);
        CHECK_STR(got.data, accounts[i].arns);
        ct_buf_release(&got);
        ct_account_calls_release(&list);
    }
    /* The empty principal's calls are there, just in no account: the
     * service event, the SAML AssumeRole and the role account's copy of
     * the cross-account one. */
    ct_calls calls = {0};
    CHECK_INT(src->principal_calls(src, "", &w, &calls, &err), 0);
    CHECK_INT(calls.count, 3);
    ct_calls_release(&calls);
    ct_source_free(src);
    remove_tree(root);
    free(logs);
    free(path);
    free(root);
}

/* Runs SQL on the store file through a connection of the test's own. */
static void damage(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_errors_leave_nothing(void)
{
    char *root = scratch_dir("bulk-errors");
    char *logs = bulk_logs();
    char *db_path = pathf(root, "ct.db");
    ct_error err;
    ct_window w = {day_of("2024-02-01"), day_of("2024-02-29")};
    ct_source_free(fixture_source(root, logs, NULL));
    /* An action row gone: found after some principals and sessions were
     * summed already. */
    damage(db_path, "DELETE FROM action WHERE name = 'LookupEvents'");
    ct_store *s = NULL;
    ct_source *src = NULL;
    CHECK_INT(ct_store_open(&s, db_path, false, &err), 0);
    CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
    ct_account_calls accounts = {0};
    CHECK_INT(src->account_calls(src, A1, &w, &accounts, &err), CT_ESTORE);
    CHECK(strstr(err.message, "damaged action row") != NULL);
    CHECK(accounts.count == 0 && accounts.items == NULL && accounts.index == NULL);
    /* Other principals and roles are unharmed. */
    CHECK_INT(src->account_calls(src, "222222222222", &w, &accounts, &err), 0);
    CHECK_INT(accounts.count, 2);
    ct_account_calls_release(&accounts);
    ct_source_free(src);
    remove_tree(root);
    free(db_path);
    free(logs);
    free(root);
}

/* ---- a constant number of statements ---- */

static int count_statement(unsigned type, void *ud, void *p, void *x)
{
    (void)p;
    /* Statements a trigger or subprogram runs come as "-- ..." lines. */
    if (type == SQLITE_TRACE_STMT && strncmp((const char *)x, "--", 2) != 0)
        (*(int *)ud)++;
    return 0;
}

/* n users of account 999999999999 each call the same two actions, and
 * open n sessions of one role, which call them too. */
static char *many_principals(const char *root, int n)
{
    char *logs = pathf(root, "logs");
    trec *recs = calloc((size_t)n * 5, sizeof(*recs));
    char(*text)[4][64] = calloc((size_t)n, sizeof(*text));
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        snprintf(text[i][0], 64, "arn:aws:iam::999999999999:user/u%03d", i);
        snprintf(text[i][1], 64, "ASIAMANY%012d", i);
        snprintf(text[i][2], 64, "AKIAMANY%012d", i);
        snprintf(text[i][3], 64, "e%03d", i);
        trec own = {.time = "2024-03-01T10:00:00Z",
                    .source = "s3.amazonaws.com",
                    .name = "ListBuckets",
                    .type = "IAMUser",
                    .arn = text[i][0],
                    .key = text[i][2],
                    .account = "999999999999"};
        recs[k++] = own;
        own.name = "GetObject";
        recs[k++] = own;
        trec assume = own;
        assume.source = "sts.amazonaws.com";
        assume.name = "AssumeRole";
        assume.role_arn = "arn:aws:iam::999999999999:role/many";
        assume.issued = text[i][1];
        assume.id = text[i][3];
        recs[k++] = assume;
        trec in = {.time = "2024-03-01T10:05:00Z",
                   .source = "s3.amazonaws.com",
                   .name = "ListBuckets",
                   .type = "AssumedRole",
                   .arn = "arn:aws:sts::999999999999:assumed-role/many/s",
                   .key = text[i][1],
                   .issuer = "arn:aws:iam::999999999999:role/many",
                   .account = "999999999999"};
        recs[k++] = in;
        in.name = "GetObject";
        recs[k++] = in;
    }
    char *doc = trail_doc(recs, k);
    char *file = pathf(logs, "many.json");
    write_bytes(file, doc, strlen(doc));
    free(file);
    free(doc);
    free(text);
    free(recs);
    return logs;
}

static void test_statement_count(void)
{
    for (int n = 3; n <= 60; n *= 20) {
        char *root = scratch_dir("bulk-count");
        char *logs = many_principals(root, n);
        ct_store *store = NULL;
        ct_source *src = fixture_source(root, logs, &store);
        ct_error err;
        ct_window w = {day_of("2024-03-01"), day_of("2024-03-01")};
        int statements = 0;
        sqlite3_trace_v2(store->db, SQLITE_TRACE_STMT, count_statement, &statements);
        ct_account_calls accounts = {0};
        CHECK_INT(src->account_calls(src, "999999999999", &w, &accounts, &err), 0);
        CHECK_INT(accounts.count, n + 1); /* the users and the role */
        /* One pass, then each of the 3 actions named once. */
        CHECK_INT(statements, 1 + 3);
        ct_account_calls_release(&accounts);
        /* Every session: evidence, then openings. */
        statements = 0;
        ct_role_sessions sessions = {0};
        CHECK_INT(src->sessions(src, &w, &sessions, &err), 0);
        CHECK_INT(sessions.count, n);
        CHECK_INT(statements, 2);
        for (size_t i = 0; i < sessions.count; i++)
            CHECK(sessions.items[i].opened_known && sessions.items[i].evidence_known &&
                  sessions.items[i].active);
        /* Their calls: one statement, then each of the 2 actions named. */
        const char **keys = calloc(sessions.count, sizeof(*keys));
        for (size_t i = 0; i < sessions.count; i++)
            keys[i] = sessions.items[i].access_key;
        statements = 0;
        ct_role_sessions calls = {0};
        CHECK_INT(src->session_calls(src, keys, sessions.count, &w, &calls, &err), 0);
        CHECK_INT(calls.count, n);
        CHECK_INT(statements, 1 + 2);
        for (size_t i = 0; i < calls.count; i++)
            CHECK(calls.items[i].calls.count == 2 && !calls.items[i].opened_known);
        ct_role_sessions_release(&calls);
        free(keys);
        ct_role_sessions_release(&sessions);
        sqlite3_trace_v2(store->db, 0, NULL, NULL);
        ct_source_free(src);
        remove_tree(root);
        free(logs);
        free(root);
    }
}

/* ---- query plans ---- */

/* The plan of statement `which` on the store's own connection (where
 * ct_arn_account exists), one detail per line. */
static char *plan_of(ct_store *s, enum store_stmt which)
{
    ct_buf sql = CT_BUF_INIT, out = CT_BUF_INIT;
    ct_buf_printf(&sql, "EXPLAIN QUERY PLAN %s", ct_store_sql(which));
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL), SQLITE_OK);
    ct_buf_puts(&out, "");
    while (st && sqlite3_step(st) == SQLITE_ROW)
        ct_buf_printf(&out, "%s\n", (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    ct_buf_release(&sql);
    return ct_buf_detach(&out);
}

static void check_plans(ct_store *s)
{
    /* Principals first, then each one's days by daily_call's key. */
    char *plan = plan_of(s, ST_Q_ACCOUNT_CALLS);
    CHECK(strstr(plan, "SCAN p\n") != NULL);
    CHECK(strstr(plan, "SEARCH d USING PRIMARY KEY (principal_id=? AND day>? AND day<?)") != NULL);
    CHECK(strstr(plan, "SCAN d") == NULL);
    free(plan);
    /* Session evidence by day, openings by time, each row's names by id. */
    plan = plan_of(s, ST_Q_SESSION_EVIDENCE);
    CHECK(strstr(plan, "SEARCH e USING PRIMARY KEY (day>? AND day<?)") != NULL);
    CHECK(strstr(plan, "SEARCH k USING INTEGER PRIMARY KEY (rowid=?)") != NULL);
    CHECK(strstr(plan, "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)") != NULL);
    CHECK(strstr(plan, "SCAN") == NULL);
    free(plan);
    plan = plan_of(s, ST_Q_SESSION_OPENINGS);
    CHECK(strstr(plan, "SEARCH s USING PRIMARY KEY (time>? AND time<?)") != NULL);
    static const char *const named[] = {"k", "r", "c", "ck", "a"};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "SEARCH %s USING INTEGER PRIMARY KEY (rowid=?)", named[i]);
        CHECK(strstr(plan, want) != NULL);
    }
    CHECK(strstr(plan, "SCAN") == NULL);
    free(plan);
    /* Session calls: the keys given (the only scan), each key's id by the
     * key index, its rows by session_call's key. */
    plan = plan_of(s, ST_Q_KEY_CALLS);
    CHECK(strstr(plan, "SCAN json_each VIRTUAL TABLE") != NULL);
    CHECK(strstr(plan, "SEARCH k USING COVERING INDEX sqlite_autoindex_access_key_1 (key=?)") !=
          NULL);
    CHECK(strstr(plan, "SEARCH d USING PRIMARY KEY (key_id=?)") != NULL);
    CHECK(strstr(plan, "SCAN d") == NULL && strstr(plan, "SCAN k") == NULL);
    free(plan);
}

static void test_query_plans(void)
{
    char *root = scratch_dir("bulk-plan");
    char *path = pathf(root, "ct.db");
    ct_store *s = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&s, path, true, &err), 0);
    check_plans(s);
    ct_store_free(s);
    /* The same once statistics say how big each table is. */
    char *logs = bulk_logs();
    ct_source_free(fixture_source(root, logs, NULL));
    damage(path, "ANALYZE");
    CHECK_INT(ct_store_open(&s, path, false, &err), 0);
    CHECK(store_int(path, "SELECT count(*) FROM sqlite_stat1") > 0);
    check_plans(s);
    ct_store_free(s);
    remove_tree(root);
    free(logs);
    free(path);
    free(root);
}

int main(void)
{
    RUN(test_arn_account);
    RUN(test_account_calls_consistent);
    RUN(test_errors_leave_nothing);
    RUN(test_statement_count);
    RUN(test_query_plans);
    TEST_MAIN_END();
}
