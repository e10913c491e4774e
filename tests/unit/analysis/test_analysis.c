/* Unit tests for src/analysis/ called as a library, without the command
 * line: the diff of one principal (with a role to follow), the activity
 * list, and preparing the source, against a scripted event source (which
 * records what it was asked) and against a real store of the demo's
 * logs. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/store.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#define ALICE "arn:aws:iam::111111111111:user/alice"
#define ADMIN "arn:aws:iam::111111111111:role/admin"

static ct_catalog *catalog;
static ct_iam *demo_iam;

/* ---- a scripted event source ---- */

typedef struct fake_source {
    ct_source base;
    ct_calls calls;          /* the answer to principal_calls / role_session_calls */
    uint64_t account_events; /* the answer to account_event_count */
    const char *active_arn;  /* the one principal active_principals marks */
    int fail;                /* a CT_E* code every question returns, or 0 */
    ct_input_problems problems;
    ct_role_sessions sessions; /* the answer to sessions (calls: to session_calls) */
    /* what was asked */
    int refreshed, principal_asked, session_asked, count_asked, active_asked, data_asked,
        coverage_asked;
    char asked_arn[256], asked_role[256], counted_account[32];
    ct_window asked_window;
} fake_source;

static int fake_refresh(ct_source *src, ct_input_problems *problems, ct_error *err)
{
    (void)problems;
    (void)err;
    ((fake_source *)src)->refreshed++;
    return 0;
}

static int copy_calls(fake_source *f, ct_calls *out, ct_error *err)
{
    if (f->fail)
        return ct_error_set(err, f->fail, "the backend failed");
    for (size_t i = 0; i < f->calls.count; i++) {
        const ct_call *c = &f->calls.items[i];
        if (ct_calls_add(out, c->event_source, c->event_name, c->kind, c->count, c->error_count,
                         c->first_day, c->last_day) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return 0;
}

static int fake_principal_calls(ct_source *src, const char *arn, const ct_window *w, ct_calls *out,
                                ct_error *err)
{
    fake_source *f = (fake_source *)src;
    f->principal_asked++;
    snprintf(f->asked_arn, sizeof(f->asked_arn), "%s", arn);
    f->asked_window = *w;
    return copy_calls(f, out, err);
}

static int fake_session_calls(ct_source *src, const char *caller, const char *role,
                              const ct_window *w, ct_calls *out, ct_error *err)
{
    fake_source *f = (fake_source *)src;
    f->session_asked++;
    snprintf(f->asked_arn, sizeof(f->asked_arn), "%s", caller);
    snprintf(f->asked_role, sizeof(f->asked_role), "%s", role);
    f->asked_window = *w;
    return copy_calls(f, out, err);
}

static int fake_active(ct_source *src, const char *const *arns, size_t n, const ct_window *w,
                       bool *active, ct_error *err)
{
    fake_source *f = (fake_source *)src;
    (void)w;
    f->active_asked++;
    if (f->fail)
        return ct_error_set(err, f->fail, "the backend failed");
    for (size_t i = 0; i < n; i++)
        active[i] = f->active_arn && strcmp(arns[i], f->active_arn) == 0;
    return 0;
}

static int fake_data_events(ct_source *src, const char *account, const ct_window *w,
                            ct_data_events *out, ct_error *err)
{
    ((fake_source *)src)->data_asked++;
    (void)account;
    (void)w;
    (void)out;
    (void)err;
    return 0;
}

static int fake_count(ct_source *src, const char *account, const ct_window *w, uint64_t *count,
                      ct_error *err)
{
    fake_source *f = (fake_source *)src;
    (void)w;
    (void)err;
    f->count_asked++;
    snprintf(f->counted_account, sizeof(f->counted_account), "%s", account);
    *count = f->account_events;
    return 0;
}

/* The account's events all on the window's first day, in one Region, from
 * one file read whole; none when account_events is 0. */
static int fake_coverage(ct_source *src, const char *account, const ct_window *w,
                         ct_account_coverage *out, ct_error *err)
{
    fake_source *f = (fake_source *)src;
    (void)account;
    f->coverage_asked++;
    if (f->fail)
        return ct_error_set(err, f->fail, "the backend failed");
    if (f->account_events && (ct_account_coverage_add_day(out, w->first_day, f->account_events) ||
                              ct_account_coverage_add_region(out, "us-east-1"))) {
        ct_account_coverage_release(out);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    ct_account_coverage_finish(out);
    out->files_known = true;
    out->files_read = 1;
    return 0;
}

static int fake_problems(ct_source *src, ct_input_problems *problems, ct_error *err)
{
    fake_source *f = (fake_source *)src;
    for (size_t i = 0; i < f->problems.count; i++)
        if (ct_input_problems_add(problems, f->problems.items[i].path,
                                  f->problems.items[i].reason) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

static int fake_sessions(ct_source *src, const ct_window *w, ct_role_sessions *out, ct_error *err)
{
    fake_source *f = (fake_source *)src;
    (void)err;
    for (size_t i = 0; i < f->sessions.count; i++) {
        const ct_role_session *s = &f->sessions.items[i];
        if (s->evidence_known)
            ct_role_sessions_add_evidence(out, s->access_key, s->role_arn, s->last_evidence_day,
                                          &s->evidence);
        if (s->opened_known)
            ct_role_sessions_add_opening(out, s->access_key, &s->opening);
    }
    return ct_role_sessions_finish(out, w);
}

static int fake_calls_of_keys(ct_source *src, const char *const *keys, size_t n,
                              const ct_window *w, ct_role_sessions *out, ct_error *err)
{
    fake_source *f = (fake_source *)src;
    (void)err;
    for (size_t k = 0; k < n; k++) {
        const ct_role_session *s = ct_role_sessions_find(&f->sessions, keys[k]);
        for (size_t i = 0; s && i < s->calls.count; i++) {
            const ct_call *c = &s->calls.items[i];
            ct_role_sessions_add_call(out, keys[k], c->event_source, c->event_name, c->kind,
                                      c->count, c->error_count, c->first_day, c->last_day);
        }
    }
    return ct_role_sessions_finish(out, w);
}

static void fake_init(fake_source *f, const char *name)
{
    memset(f, 0, sizeof(*f));
    f->base.name = name;
    f->base.refresh = fake_refresh;
    f->base.principal_calls = fake_principal_calls;
    f->base.role_session_calls = fake_session_calls;
    f->base.active_principals = fake_active;
    f->base.data_events = fake_data_events;
    f->base.account_event_count = fake_count;
    f->base.input_problems = fake_problems;
    f->base.sessions = fake_sessions;
    f->base.session_calls = fake_calls_of_keys;
    f->base.account_coverage = fake_coverage;
    f->account_events = 100;
}

static void fake_release(fake_source *f)
{
    ct_role_sessions_release(&f->sessions);
    ct_calls_release(&f->calls);
    ct_input_problems_release(&f->problems);
}

static void analysis_init(ct_analysis *a, ct_source *src)
{
    memset(a, 0, sizeof(*a));
    a->source = src;
    a->catalog = catalog;
    ct_date_parse_day("2018-03-01", &a->window.first_day);
    ct_date_parse_day("2018-03-31", &a->window.last_day);
}

static const ct_diff_entry *entry(const ct_diff *d, const char *action)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->entries[i].action, action) == 0)
            return &d->entries[i];
    return NULL;
}

static int verdict_of(const ct_diff *d, const char *action)
{
    const ct_diff_entry *e = entry(d, action);
    return e ? (int)e->verdict : -1;
}

static const ct_account_view demo = {"demo", "111111111111", NULL};

static ct_account_view demo_view(void)
{
    ct_account_view v = demo;
    v.iam = demo_iam;
    return v;
}

/* ---- the diff of one principal ---- */

static void test_principal_diff(void)
{
    fake_source f;
    fake_init(&f, "store");
    ct_calls_add(&f.calls, "monitoring.amazonaws.com", "DescribeAlarms", CT_EVENT_API, 2, 0, 17595,
                 17596);
    ct_calls_add(&f.calls, "iam.amazonaws.com", "CreateUser", CT_EVENT_API, 1, 0, 17595, 17595);
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_principal_question q = {&account, CT_PRINCIPAL_USER, "ALICE", NULL, NULL, false};
    ct_principal_answer ans;
    ct_error err;
    CHECK_INT(ct_analyze_principal(&a, &q, &ans, &err), 0);
    /* Found without regard to case, asked by ARN for the window. */
    CHECK_STR(ans.principal->arn, ALICE);
    CHECK(ans.dest_role == NULL);
    CHECK_INT(f.principal_asked, 1);
    CHECK_INT(f.session_asked, 0);
    CHECK_STR(f.asked_arn, ALICE);
    CHECK(f.asked_window.first_day == a.window.first_day &&
          f.asked_window.last_day == a.window.last_day);
    /* Calls came back: no need to ask whether the account has events. */
    CHECK_INT(f.count_asked, 0);
    CHECK_INT(verdict_of(&ans.diff, "cloudwatch:describealarms"), CT_VERDICT_USED);
    CHECK_INT(verdict_of(&ans.diff, "ec2:describeinstances"), CT_VERDICT_UNUSED);
    CHECK_INT(verdict_of(&ans.diff, "cloudwatch:getmetricdata"), CT_VERDICT_UNKNOWN);
    CHECK_INT(verdict_of(&ans.diff, "iam:createuser"), CT_VERDICT_NOT_GRANTED);
    CHECK_INT((int)a.notes.count, 0);
    ct_principal_answer_release(&ans);
    CHECK(ans.diff.count == 0 && ans.principal == NULL);
    ct_analysis_release(&a);
    fake_release(&f);
}

static void test_destrole(void)
{
    fake_source f;
    fake_init(&f, "store");
    ct_calls_add(&f.calls, "iam.amazonaws.com", "CreateUser", CT_EVENT_API, 1, 0, 17596, 17596);
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_principal_question q = {&account, CT_PRINCIPAL_USER, "alice", "admin", NULL, false};
    ct_principal_answer ans;
    ct_error err;
    CHECK_INT(ct_analyze_principal(&a, &q, &ans, &err), 0);
    CHECK_INT(f.principal_asked, 0);
    CHECK_INT(f.session_asked, 1);
    CHECK_STR(f.asked_arn, ALICE);
    CHECK_STR(f.asked_role, ADMIN);
    CHECK_STR(ans.dest_role->arn, ADMIN);
    /* Judged against the role's grants (admin may create users). */
    CHECK_INT(verdict_of(&ans.diff, "iam:createuser"), CT_VERDICT_USED);
    ct_principal_answer_release(&ans);
    ct_analysis_release(&a);
    fake_release(&f);
}

/* A role chain: alice opens a session of ci-deploy, and from it one of
 * admin: the calls of that admin session count for alice --destrole admin,
 * besides those of the sessions she opened herself. */
static void test_destrole_chain(void)
{
    fake_source f;
    fake_init(&f, "store");
    ct_calls_add(&f.calls, "iam.amazonaws.com", "CreateUser", CT_EVENT_API, 1, 0, 17596, 17596);
    ct_session_evidence ev = {"alice", NULL, NULL, NULL};
    ct_session_opening hop1, hop2;
    memset(&hop1, 0, sizeof(hop1));
    hop1.event_name = "AssumeRole";
    hop1.role_arn = "arn:aws:iam::111111111111:role/ci-deploy";
    hop1.caller = ALICE;
    hop1.caller_type = "IAMUser";
    hop1.caller_key = "AKIAALICE";
    hop1.at = 17596 * 86400;
    hop2 = hop1;
    hop2.role_arn = ADMIN;
    hop2.caller = "arn:aws:iam::111111111111:role/ci-deploy";
    hop2.caller_type = "AssumedRole";
    hop2.caller_key = "ASIAHOP1";
    hop2.at += 60;
    ct_role_sessions_add_evidence(&f.sessions, "ASIAHOP1", hop1.role_arn, 17596, &ev);
    ct_role_sessions_add_opening(&f.sessions, "ASIAHOP1", &hop1);
    ct_role_sessions_add_evidence(&f.sessions, "ASIAHOP2", ADMIN, 17596, &ev);
    ct_role_sessions_add_opening(&f.sessions, "ASIAHOP2", &hop2);
    ct_role_sessions_add_call(&f.sessions, "ASIAHOP2", "iam.amazonaws.com", "CreateUser",
                              CT_EVENT_API, 2, 0, 17596, 17597);
    ct_role_sessions_add_call(&f.sessions, "ASIAHOP2", "s3.amazonaws.com", "CreateBucket",
                              CT_EVENT_API, 1, 0, 17597, 17597);
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_principal_question q = {&account, CT_PRINCIPAL_USER, "alice", "admin", NULL, false};
    ct_principal_answer ans;
    ct_error err;
    CHECK_INT(ct_analyze_principal(&a, &q, &ans, &err), 0);
    const ct_diff_entry *create = entry(&ans.diff, "iam:createuser");
    CHECK(create && create->verdict == CT_VERDICT_USED && create->count == 3 &&
          create->last_day == 17597);
    CHECK_INT(verdict_of(&ans.diff, "s3:createbucket"), CT_VERDICT_USED);
    ct_principal_answer_release(&ans);
    /* bob opened neither session: only his own sessions count. */
    ct_principal_question qb = {&account, CT_PRINCIPAL_USER, "bob", "admin", NULL, false};
    CHECK_INT(ct_analyze_principal(&a, &qb, &ans, &err), 0);
    create = entry(&ans.diff, "iam:createuser");
    CHECK(create && create->count == 1);
    CHECK_INT(verdict_of(&ans.diff, "s3:createbucket"), CT_VERDICT_UNUSED);
    ct_principal_answer_release(&ans);
    ct_analysis_release(&a);
    fake_release(&f);
}

/* --person over two roles of one account whose grants hold data-event
 * actions: the account's data events are asked for once. */
static void test_person_asks_data_events_once(void)
{
    fake_source f;
    fake_init(&f, "store");
    ct_session_evidence ev = {"alice", NULL, NULL, NULL};
    ct_session_opening o;
    memset(&o, 0, sizeof(o));
    o.event_name = "AssumeRole";
    o.caller = ALICE;
    o.caller_type = "IAMUser";
    o.at = 17596 * 86400;
    const char *roles[] = {ADMIN, "arn:aws:iam::111111111111:role/ci-deploy"};
    const char *keys[] = {"ASIAADMIN", "ASIADEPLOY"};
    for (int i = 0; i < 2; i++) {
        o.role_arn = (char *)roles[i];
        ct_role_sessions_add_evidence(&f.sessions, keys[i], roles[i], 17596, &ev);
        ct_role_sessions_add_opening(&f.sessions, keys[i], &o);
        ct_role_sessions_add_call(&f.sessions, keys[i], "s3.amazonaws.com", "ListBuckets",
                                  CT_EVENT_API, 1, 0, 17596, 17596);
    }
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_person_question q = {0};
    q.name = "alice";
    q.accounts = &account;
    q.account_count = 1;
    ct_person_answer ans;
    ct_error err;
    CHECK_INT(ct_analyze_person(&a, &q, &ans, &err), 0);
    CHECK_INT((int)ans.role_count, 2);
    CHECK_INT(f.data_asked, 1);
    ct_person_answer_release(&ans);
    ct_analysis_release(&a);
    fake_release(&f);
}

static void test_not_found(void)
{
    fake_source f;
    fake_init(&f, "store");
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_principal_answer ans;
    ct_error err;
    ct_principal_question q = {&account, CT_PRINCIPAL_USER, "nobody", NULL, NULL, false};
    CHECK_INT(ct_analyze_principal(&a, &q, &ans, &err), CT_ENOTFOUND);
    CHECK_STR(err.message, "account demo has no user named 'nobody'");
    ct_principal_question r = {&account, CT_PRINCIPAL_USER, "alice", "nobody", NULL, false};
    CHECK_INT(ct_analyze_principal(&a, &r, &ans, &err), CT_ENOTFOUND);
    CHECK_STR(err.message, "account demo has no role named 'nobody'");
    /* A user is not a role. */
    ct_principal_question s = {&account, CT_PRINCIPAL_ROLE, "alice", NULL, NULL, false};
    CHECK_INT(ct_analyze_principal(&a, &s, &ans, &err), CT_ENOTFOUND);
    CHECK(ans.principal == NULL && ans.diff.count == 0);
    CHECK_INT(f.principal_asked + f.session_asked, 0);
    ct_analysis_release(&a);
    fake_release(&f);
}

/* No calls and no events of the account: a note names the backend, the
 * account whose logs were read (the role's, with --destrole) and the
 * window, and the verdicts still come. */
static void test_no_events_note(void)
{
    fake_source f;
    fake_init(&f, "elasticsearch");
    f.account_events = 0;
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_account_view other = {"backup", "222222222222", demo_iam};
    ct_principal_question q = {&account, CT_PRINCIPAL_USER, "alice", "admin", &other, false};
    ct_principal_answer ans;
    ct_error err;
    CHECK_INT(ct_analyze_principal(&a, &q, &ans, &err), 0);
    CHECK_INT(f.count_asked, 1);
    CHECK_STR(f.counted_account, "222222222222");
    CHECK_INT((int)a.notes.count, 1);
    if (a.notes.count)
        CHECK_STR(a.notes.items[0], "Elasticsearch holds no events for account backup "
                                    "(222222222222) between 2018-03-01 and 2018-03-31: every "
                                    "grant would look unused");
    CHECK_INT(verdict_of(&ans.diff, "iam:createuser"), CT_VERDICT_UNUSED);
    ct_principal_answer_release(&ans);
    ct_analysis_release(&a);
    fake_release(&f);
}

static void test_unmapped_note(void)
{
    fake_source f;
    fake_init(&f, "store");
    ct_calls_add(&f.calls, "s3.amazonaws.com", "Bad Name!", CT_EVENT_API, 2, 1, 17595, 17595);
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_principal_question q = {&account, CT_PRINCIPAL_USER, "alice", NULL, NULL, false};
    ct_principal_answer ans;
    ct_error err;
    CHECK_INT(ct_analyze_principal(&a, &q, &ans, &err), 0);
    CHECK_INT((int)a.notes.count, 1);
    if (a.notes.count)
        CHECK_STR(a.notes.items[0],
                  "3 calls name no IAM action and were left out (e.g. s3.amazonaws.com Bad Name!)");
    ct_principal_answer_release(&ans);
    ct_analysis_release(&a);
    fake_release(&f);
}

/* A failed question fails the analysis: no diff, no note. */
static void test_source_failure(void)
{
    fake_source f;
    fake_init(&f, "elasticsearch");
    f.fail = CT_EPARTIAL;
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_principal_question q = {&account, CT_PRINCIPAL_USER, "alice", NULL, NULL, false};
    ct_principal_answer ans;
    ct_error err;
    CHECK_INT(ct_analyze_principal(&a, &q, &ans, &err), CT_EPARTIAL);
    CHECK(ans.diff.count == 0 && ans.diff.entries == NULL && ans.principal == NULL);
    ct_activity act;
    CHECK_INT(ct_analyze_activity(&a, &account, CT_PRINCIPAL_USER, &act, &err), CT_EPARTIAL);
    CHECK(act.count == 0 && act.principals == NULL);
    CHECK_INT((int)a.notes.count, 0);
    ct_analysis_release(&a);
    fake_release(&f);
}

/* ---- activity ---- */

static void test_activity(void)
{
    fake_source f;
    fake_init(&f, "store");
    f.active_arn = "arn:aws:iam::111111111111:user/bob";
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_account_view account = demo_view();
    ct_activity act;
    ct_error err;
    CHECK_INT(ct_analyze_activity(&a, &account, CT_PRINCIPAL_USER, &act, &err), 0);
    CHECK_INT(f.active_asked, 1); /* one question for every user */
    CHECK_INT((int)act.count, (int)ct_iam_count(demo_iam, CT_PRINCIPAL_USER));
    CHECK((int)act.count >= 4);
    for (size_t i = 0; i < act.count; i++)
        CHECK(act.active[i] == (strcmp(act.principals[i]->name, "bob") == 0));
    CHECK_INT(f.count_asked, 0); /* someone was active */
    ct_activity_release(&act);

    /* Nobody active and no events at all: noted. */
    f.active_arn = NULL;
    f.account_events = 0;
    CHECK_INT(ct_analyze_activity(&a, &account, CT_PRINCIPAL_ROLE, &act, &err), 0);
    CHECK_INT((int)act.count, (int)ct_iam_count(demo_iam, CT_PRINCIPAL_ROLE));
    CHECK_INT(f.count_asked, 1);
    CHECK_INT((int)a.notes.count, 1);
    ct_activity_release(&act);
    ct_analysis_release(&a);
    fake_release(&f);
}

/* ---- preparing the source ---- */

static void test_prepare(void)
{
    fake_source f;
    fake_init(&f, "store");
    ct_input_problems_add(&f.problems, "/logs/a.json.gz", "truncated gzip stream");
    ct_input_problems_add(&f.problems, "/logs/b.json", "JSON syntax error");
    ct_input_problems_add(&f.problems, "/logs/a.json.gz", "skipped on an earlier run");
    ct_analysis a;
    analysis_init(&a, &f.base);
    ct_error err;
    CHECK_INT(ct_analysis_prepare(&a, false, &err), 0);
    CHECK_INT(f.refreshed, 0);
    CHECK(a.incomplete);
    CHECK_INT((int)a.notes.count, 2); /* once per path */
    if (a.notes.count == 2) {
        CHECK_STR(a.notes.items[0],
                  "/logs/a.json.gz: truncated gzip stream (the answer may miss its events)");
        CHECK_STR(a.notes.items[1], "/logs/b.json: JSON syntax error (the answer may miss its "
                                    "events)");
    }
    ct_analysis_release(&a);

    ct_input_problems_release(&f.problems);
    analysis_init(&a, &f.base);
    CHECK_INT(ct_analysis_prepare(&a, true, &err), 0);
    CHECK_INT(f.refreshed, 1);
    CHECK(!a.incomplete);
    CHECK_INT((int)a.notes.count, 0);
    ct_analysis_release(&a);
    fake_release(&f);
}

/* ---- the library end to end: a store of the demo's logs ---- */

static void test_demo_store(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/ct-analysis-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    char path[600];
    snprintf(path, sizeof(path), "%s/store.db", dir);
    ct_error err;
    ct_store *store = NULL;
    ct_source *src = NULL;
    CHECK_INT(ct_store_open(&store, path, true, &err), 0);
    const char *logs[] = {CT_SOURCE_DIR "/demo/logs"};
    ct_ingest_options opts = {0};
    opts.paths = logs;
    opts.path_count = 1;
    CHECK_INT(ct_store_source(&src, store, &opts, &err), 0);
    ct_analysis a;
    analysis_init(&a, src);
    /* The demo config's window. */
    ct_date_parse_day("2017-07-01", &a.window.first_day);
    ct_date_parse_day("2018-06-30", &a.window.last_day);
    CHECK_INT(ct_analysis_prepare(&a, true, &err), 0);
    CHECK(!a.incomplete);
    ct_account_view account = demo_view();
    ct_principal_question q = {&account, CT_PRINCIPAL_USER, "alice", "admin", NULL, false};
    ct_principal_answer ans;
    CHECK_INT(ct_analyze_principal(&a, &q, &ans, &err), 0);
    /* What the golden demo_alice_destrole_admin case shows: alice created
     * a user and a bucket as admin. */
    CHECK_INT(verdict_of(&ans.diff, "iam:createuser"), CT_VERDICT_USED);
    CHECK_INT(verdict_of(&ans.diff, "s3:createbucket"), CT_VERDICT_USED);
    size_t used = 0;
    for (size_t i = 0; i < ans.diff.count; i++)
        used += ans.diff.entries[i].verdict == CT_VERDICT_USED;
    CHECK_INT((int)used, 2);
    ct_principal_answer_release(&ans);

    ct_activity act;
    CHECK_INT(ct_analyze_activity(&a, &account, CT_PRINCIPAL_USER, &act, &err), 0);
    for (size_t i = 0; i < act.count; i++)
        CHECK(act.active[i] == (strcmp(act.principals[i]->name, "dave") != 0));
    CHECK((int)act.count >= 4);
    ct_activity_release(&act);
    CHECK_INT((int)a.notes.count, 0);
    ct_analysis_release(&a);
    ct_source_free(src);
    unlink(path);
    char side[620];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    rmdir(dir);
}

int main(void)
{
    ct_error err;
    if (ct_catalog_load_builtin(&catalog, &err) != 0 ||
        ct_iam_load_file(&demo_iam, CT_SOURCE_DIR "/demo/iam/demo.json", &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.message);
        return 1;
    }
    RUN(test_principal_diff);
    RUN(test_destrole);
    RUN(test_destrole_chain);
    RUN(test_person_asks_data_events_once);
    RUN(test_not_found);
    RUN(test_no_events_note);
    RUN(test_unmapped_note);
    RUN(test_source_failure);
    RUN(test_activity);
    RUN(test_prepare);
    RUN(test_demo_store);
    ct_iam_free(demo_iam);
    ct_catalog_free(catalog);
    TEST_MAIN_END();
}
