/* Unit tests for the access review (src/analysis/review.c) and the
 * comparison with a previous review (review_compare.c), against a real
 * store of the demo's logs seen through a source that counts the
 * questions it is asked: the review must ask the bulk questions once per
 * account (or once), never one per identity. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/report.h"
#include "scratch_store.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static ct_catalog *catalog;
static ct_iam *demo_iam, *backup_iam;
static ct_identity_store *demo_users; /* demo's identity_store: file */

/* ---- a source that counts the questions, answered by the store ---- */

typedef struct counting {
    ct_source base;
    ct_source *inner;
    int principal, role_session, active, data, count, account_calls, coverage, sessions,
        session_calls;
} counting;

#define INNER(src) (((counting *)(src))->inner)
#define COUNT(src, field) (((counting *)(src))->field++)

static int c_refresh(ct_source *s, ct_input_problems *p, ct_error *e)
{
    return INNER(s)->refresh(INNER(s), p, e);
}
static int c_principal(ct_source *s, const char *arn, const ct_window *w, ct_calls *o, ct_error *e)
{
    COUNT(s, principal);
    return INNER(s)->principal_calls(INNER(s), arn, w, o, e);
}
static int c_role_session(ct_source *s, const char *c, const char *r, const ct_window *w,
                          ct_calls *o, ct_error *e)
{
    COUNT(s, role_session);
    return INNER(s)->role_session_calls(INNER(s), c, r, w, o, e);
}
static int c_active(ct_source *s, const char *const *a, size_t n, const ct_window *w, bool *o,
                    ct_error *e)
{
    COUNT(s, active);
    return INNER(s)->active_principals(INNER(s), a, n, w, o, e);
}
static int c_data(ct_source *s, const char *acct, const ct_window *w, ct_data_events *o,
                  ct_error *e)
{
    COUNT(s, data);
    return INNER(s)->data_events(INNER(s), acct, w, o, e);
}
static int c_count(ct_source *s, const char *acct, const ct_window *w, uint64_t *o, ct_error *e)
{
    COUNT(s, count);
    return INNER(s)->account_event_count(INNER(s), acct, w, o, e);
}
static int c_account_calls(ct_source *s, const char *acct, const ct_window *w, ct_account_calls *o,
                           ct_error *e)
{
    COUNT(s, account_calls);
    return INNER(s)->account_calls(INNER(s), acct, w, o, e);
}
static int c_coverage(ct_source *s, const char *acct, const ct_window *w, ct_account_coverage *o,
                      ct_error *e)
{
    COUNT(s, coverage);
    return INNER(s)->account_coverage(INNER(s), acct, w, o, e);
}
static int c_sessions(ct_source *s, const ct_window *w, ct_role_sessions *o, ct_error *e)
{
    COUNT(s, sessions);
    return INNER(s)->sessions(INNER(s), w, o, e);
}
static int c_session_calls(ct_source *s, const char *const *k, size_t n, const ct_window *w,
                           ct_role_sessions *o, ct_error *e)
{
    COUNT(s, session_calls);
    return INNER(s)->session_calls(INNER(s), k, n, w, o, e);
}
static int c_problems(ct_source *s, ct_input_problems *p, ct_error *e)
{
    return INNER(s)->input_problems(INNER(s), p, e);
}

static counting counter;
static scratch_store demo_store;

static void reset_counts(void)
{
    ct_source *inner = counter.inner;
    ct_source base = counter.base;
    memset(&counter, 0, sizeof(counter));
    counter.inner = inner;
    counter.base = base;
}

/* The demo's logs in a scratch store, behind the counting source. */
static int open_demo_store(void)
{
    if (scratch_store_open(&demo_store, "review", CT_SOURCE_DIR "/demo/logs") != 0)
        return -1;
    counter.inner = demo_store.source;
    counter.base = (ct_source){.name = "store",
                               .refresh = c_refresh,
                               .principal_calls = c_principal,
                               .role_session_calls = c_role_session,
                               .active_principals = c_active,
                               .data_events = c_data,
                               .account_event_count = c_count,
                               .account_calls = c_account_calls,
                               .account_coverage = c_coverage,
                               .sessions = c_sessions,
                               .session_calls = c_session_calls,
                               .input_problems = c_problems,
                               .free = NULL};
    return 0;
}

static ct_account_view views[2];

static void analysis_init(ct_analysis *a, const char *first, const char *last)
{
    memset(a, 0, sizeof(*a));
    a->source = &counter.base;
    a->catalog = catalog;
    ct_date_parse_day(first, &a->window.first_day);
    ct_date_parse_day(last, &a->window.last_day);
}

/* The renderer the next build gives the review (NULL: none), and its
 * message when the build fails. */
static ct_policy_render_fn build_renderer;
static char build_message[1024];

static int build(ct_analysis *a, const ct_account_view *const *reviewed, size_t n, ct_review *out)
{
    static const char *const paths[] = {"demo.json", "backup.json"};
    ct_review_question q = {0};
    q.accounts = views;
    q.account_count = 2;
    q.reviewed = reviewed;
    q.iam_paths = paths;
    q.reviewed_count = n;
    q.dormant_days = 90;
    const ct_identity_store *users[] = {demo_users};
    q.users = users;
    q.user_lists = 1;
    q.render_policy = build_renderer;
    ct_error err;
    int rc = ct_review_build(a, &q, out, &err);
    snprintf(build_message, sizeof(build_message), "%s", rc ? err.message : "");
    if (rc && !build_renderer)
        fprintf(stderr, "  review: %s\n", err.message);
    return rc;
}

static const ct_review_identity *find(const ct_review *r, ct_review_kind kind, const char *name,
                                      const char *account)
{
    for (size_t i = 0; i < r->identity_count; i++) {
        const ct_review_identity *id = &r->identities[i];
        if (id->kind == kind && strcmp(id->name, name) == 0 &&
            (!account || (id->account && strcmp(id->account->name, account) == 0)))
            return id;
    }
    return NULL;
}

static bool has_name(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static int64_t day(const char *s)
{
    int64_t d = -2;
    ct_date_parse_day(s, &d);
    return d;
}

/* The whole demo (the goldens' review_demo): the population, activity and
 * dormancy, administrators, the privileged track, people, and the number of
 * questions. */
static void test_demo_review(void)
{
    ct_analysis a;
    analysis_init(&a, "2017-07-01", "2018-06-30");
    ct_error err;
    CHECK_INT(ct_analysis_prepare(&a, true, &err), 0);
    reset_counts();
    const ct_account_view *both[] = {&views[0], &views[1]};
    ct_review r;
    CHECK_INT(build(&a, both, 2, &r), 0);
    /* One pass: per account its calls and coverage, then the sessions and
     * one batch of the people's calls; nothing per identity. */
    CHECK_INT(counter.account_calls, 2);
    CHECK_INT(counter.coverage, 2);
    CHECK_INT(counter.sessions, 1);
    CHECK_INT(counter.session_calls, 1);
    CHECK_INT(counter.principal + counter.role_session + counter.active + counter.data +
                  counter.count,
              0);

    CHECK_INT((int)r.account_count, 2);
    CHECK_INT((int)r.accounts[0].users, 6);
    CHECK_INT((int)r.accounts[0].roles, 8);
    CHECK_STR(r.accounts[0].iam_sha256, ct_iam_sha256(demo_iam));
    CHECK_INT((int)r.accounts[0].coverage.events, 30);
    CHECK_INT((int)r.accounts[0].empty_day_count, 365 - 13);
    CHECK_INT((int)r.accounts[1].empty_run_count, 2);

    const ct_review_identity *dave = find(&r, CT_REVIEW_USER, "dave", "demo");
    const ct_review_identity *alice = find(&r, CT_REVIEW_USER, "alice", "demo");
    const ct_review_identity *bob = find(&r, CT_REVIEW_USER, "bob", "demo");
    CHECK(dave && alice && bob);
    if (!dave || !alice || !bob)
        goto done;
    CHECK_INT((int)dave->last_day, -1);
    CHECK_INT(dave->dormant, CT_DORMANT_YES);
    CHECK_INT((int)alice->last_day, (int)day("2018-03-06"));
    CHECK_INT(alice->dormant, CT_DORMANT_YES); /* 116 days before the window's end */
    CHECK_INT(bob->dormant, CT_DORMANT_NO);    /* 81 days */
    CHECK_INT(alice->admin, CT_ADMIN_NO);
    /* Each user and role carries its policy: what it used and still holds. */
    CHECK(alice->policy.statement_count >= 2 && alice->policy.document_count == 1);
    bool assume = false;
    for (size_t i = 0; i < alice->policy.statement_count; i++)
        for (size_t k = 0; k < alice->policy.statements[i].action_count; k++)
            assume =
                assume || strcmp(alice->policy.statements[i].actions[k], "sts:AssumeRole") == 0;
    CHECK(assume);
    CHECK_INT((int)bob->policy.not_granted_count, 1); /* the iam:CreateUser bob tried */
    /* bob's one failed call: an attempt, not a use. */
    CHECK_INT((int)bob->actions.failed_calls, 1);
    CHECK_INT((int)bob->actions.attempted_count, 1);

    const ct_review_identity *admin = find(&r, CT_REVIEW_ROLE, "admin", "demo");
    CHECK(admin != NULL);
    if (admin) {
        CHECK_INT(admin->admin, CT_ADMIN_ALL_ACTIONS);
        CHECK(has_name(admin->actions.privileged_unused, admin->actions.privileged_unused_count,
                       "iam:putrolepolicy"));
        /* Used actions are not on the unused track. */
        CHECK(!has_name(admin->actions.privileged_unused, admin->actions.privileged_unused_count,
                        "iam:createuser"));
        /* Read and List levels are not privileged. */
        CHECK(!has_name(admin->actions.privileged_unused, admin->actions.privileged_unused_count,
                        "iam:getuser"));
        CHECK_INT((int)admin->use_count, 2); /* alice and bob */
    }
    const ct_review_identity *sso =
        find(&r, CT_REVIEW_ROLE, "AWSReservedSSO_ReadOnly_0a1b2c3d4e5f6a7b", "demo");
    CHECK(sso && sso->identity_center && !sso->service_linked);
    const ct_review_identity *okta = find(&r, CT_REVIEW_ROLE, "okta-engineers", "demo");
    CHECK(okta && okta->use_count == 2);
    if (okta && okta->use_count == 2) {
        CHECK_STR(r.identities[okta->uses[0].identity].name, "grace@example.com");
        CHECK(okta->uses[0].high);
        CHECK_STR(r.identities[okta->uses[1].identity].name, "kim@example.com");
        CHECK(!okta->uses[1].high);
    }
    const ct_review_identity *ci = find(&r, CT_REVIEW_ROLE, "ci-deploy", "demo");
    CHECK(ci && ci->anonymous_sessions == 1);

    const ct_review_identity *ivy = find(&r, CT_REVIEW_PERSON, "ivy@example.com", NULL);
    CHECK(ivy && ivy->use_count == 0 && ivy->identity_center_user &&
          ivy->dormant == CT_DORMANT_YES);
    const ct_review_identity *p_alice = find(&r, CT_REVIEW_PERSON, "alice", NULL);
    CHECK(p_alice && p_alice->admin == CT_ADMIN_ALL_ACTIONS && admin &&
          strcmp(p_alice->admin_via, admin->arn) == 0);
    const ct_review_identity *frank = find(&r, CT_REVIEW_PERSON, "frank@example.com", NULL);
    CHECK(frank && frank->use_count == 2);
    /* A person's use of a role counts their own calls only. */
    if (frank && sso) {
        for (size_t k = 0; k < frank->use_count; k++)
            if (&r.identities[frank->uses[k].identity] == sso)
                CHECK(frank->uses[k].actions.calls < sso->actions.calls);
    }
done:
    ct_review_release(&r);
    ct_analysis_release(&a);
}

/* --account: one account's identities, and only the people of its roles. */
static void test_one_account(void)
{
    ct_analysis a;
    analysis_init(&a, "2017-07-01", "2018-06-30");
    reset_counts();
    const ct_account_view *only[] = {&views[1]};
    ct_review r;
    CHECK_INT(build(&a, only, 1, &r), 0);
    CHECK_INT(counter.account_calls, 1);
    size_t people = 0;
    for (size_t i = 0; i < r.identity_count; i++)
        people += r.identities[i].kind == CT_REVIEW_PERSON;
    CHECK(find(&r, CT_REVIEW_PERSON, "charlie", NULL) != NULL);
    CHECK(find(&r, CT_REVIEW_PERSON, "alice", NULL) == NULL); /* used demo's admin */
    /* charlie, and the Identity Center users of the list the question
     * names (the command line passes the reviewed accounts' lists). */
    CHECK_INT((int)people, 1 + (int)ct_identity_store_count(demo_users));
    ct_review_release(&r);
    ct_analysis_release(&a);
}

/* An identity created inside the dormancy period is new, not dormant; one
 * without activity in a window shorter than the period cannot be judged. */
static void test_dormancy_edges(void)
{
    ct_analysis a;
    analysis_init(&a, "2018-01-01", "2018-03-31");
    const ct_account_view *demo[] = {&views[0]};
    ct_review r;
    CHECK_INT(build(&a, demo, 1, &r), 0);
    const ct_review_identity *henry = find(&r, CT_REVIEW_USER, "henry", "demo");
    CHECK(henry && henry->last_day == -1 && henry->dormant == CT_DORMANT_NO);
    const ct_review_identity *dave = find(&r, CT_REVIEW_USER, "dave", "demo");
    CHECK(dave && dave->dormant == CT_DORMANT_YES);
    ct_review_release(&r);
    ct_analysis_release(&a);

    analysis_init(&a, "2018-06-01", "2018-06-30");
    CHECK_INT(build(&a, demo, 1, &r), 0);
    dave = find(&r, CT_REVIEW_USER, "dave", "demo");
    CHECK(dave && dave->dormant == CT_DORMANT_UNKNOWN);
    ct_review_release(&r);
    ct_analysis_release(&a);
}

/* Administrators by privilege escalation: an identity granted an action of
 * admin-equivalent.tsv, even limited to one resource. */
static void test_escalation(void)
{
    const char *doc =
        "{\"UserDetailList\":["
        "{\"UserName\":\"reader\",\"Arn\":\"arn:aws:iam::111111111111:user/reader\","
        "\"UserPolicyList\":[{\"PolicyName\":\"r\",\"PolicyDocument\":{\"Statement\":["
        "{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}}]},"
        "{\"UserName\":\"writer\",\"Arn\":\"arn:aws:iam::111111111111:user/writer\","
        "\"UserPolicyList\":[{\"PolicyName\":\"w\",\"PolicyDocument\":{\"Statement\":["
        "{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"iam:PutUserPolicy\"],"
        "\"Resource\":\"arn:aws:iam::111111111111:user/writer\"}]}}]},"
        "{\"UserName\":\"denied\",\"Arn\":\"arn:aws:iam::111111111111:user/denied\","
        "\"UserPolicyList\":[{\"PolicyName\":\"d\",\"PolicyDocument\":{\"Statement\":["
        "{\"Effect\":\"Allow\",\"Action\":\"iam:*\",\"Resource\":\"*\"},"
        "{\"Effect\":\"Deny\",\"NotAction\":\"iam:Get*\",\"Resource\":\"*\"}]}}]}]}";
    ct_iam *iam = NULL;
    ct_error err;
    CHECK_INT(ct_iam_load_buffer(&iam, doc, strlen(doc), "escalation.json", &err), 0);
    if (!iam)
        return;
    ct_account_view saved = views[0];
    views[0].iam = iam;
    ct_analysis a;
    analysis_init(&a, "2017-07-01", "2018-06-30");
    const ct_account_view *demo[] = {&views[0]};
    ct_review r;
    CHECK_INT(build(&a, demo, 1, &r), 0);
    const ct_review_identity *reader = find(&r, CT_REVIEW_USER, "reader", "demo");
    const ct_review_identity *writer = find(&r, CT_REVIEW_USER, "writer", "demo");
    const ct_review_identity *denied = find(&r, CT_REVIEW_USER, "denied", "demo");
    CHECK(reader && reader->admin == CT_ADMIN_NO);
    CHECK(writer && writer->admin == CT_ADMIN_ESCALATION);
    if (writer && writer->admin_via)
        CHECK_STR(writer->admin_via, "iam:putuserpolicy");
    /* iam:* less everything but iam:Get*: no escalation left. */
    CHECK(denied && denied->admin == CT_ADMIN_NO);
    ct_review_release(&r);
    ct_analysis_release(&a);
    views[0] = saved;
    ct_iam_free(iam);
}

/* ct_diff_build_touched gives exactly the entries of the full diff that
 * the calls change: every other entry has its verdict in the diff without
 * calls. Checked for every user and role of the demo with its own calls. */
static void test_touched_diff(void)
{
    ct_window w;
    ct_date_parse_day("2017-07-01", &w.first_day);
    ct_date_parse_day("2018-06-30", &w.last_day);
    ct_error err;
    ct_account_calls calls = {0};
    CHECK_INT(counter.inner->account_calls(counter.inner, "111111111111", &w, &calls, &err), 0);
    ct_calls none = {0};
    size_t checked = 0;
    for (int kind = CT_PRINCIPAL_USER; kind <= CT_PRINCIPAL_ROLE; kind++) {
        for (size_t i = 0; i < ct_iam_count(demo_iam, (ct_principal_kind)kind); i++) {
            const ct_principal *p = ct_iam_get(demo_iam, (ct_principal_kind)kind, i);
            const ct_policy_set *set = ct_iam_policies(demo_iam, p);
            const ct_calls *mine = ct_account_calls_find(&calls, p->arn);
            ct_grants *grants = NULL;
            ct_diff full, bare, touched;
            CHECK_INT(ct_policy_expand(&grants, set, catalog, &err), 0);
            CHECK_INT(ct_diff_build(&full, catalog, set, mine ? mine : &none, NULL, NULL, &err), 0);
            CHECK_INT(ct_diff_build(&bare, catalog, set, &none, NULL, NULL, &err), 0);
            CHECK_INT(ct_diff_build_touched(&touched, catalog, set, grants, mine ? mine : &none,
                                            NULL, NULL, &err),
                      0);
            size_t t = 0, b = 0;
            for (size_t k = 0; k < full.count; k++) {
                const ct_diff_entry *e = &full.entries[k];
                while (t < touched.count && strcmp(touched.entries[t].action, e->action) < 0)
                    t++;
                while (b < bare.count && strcmp(bare.entries[b].action, e->action) < 0)
                    b++;
                if (t < touched.count && strcmp(touched.entries[t].action, e->action) == 0)
                    CHECK_INT(touched.entries[t].verdict, e->verdict);
                else if (b < bare.count && strcmp(bare.entries[b].action, e->action) == 0)
                    CHECK_INT(bare.entries[b].verdict, e->verdict);
                else
                    CHECK(!"an entry of the full diff is in neither");
                checked++;
            }
            /* Only what the calls touch: a principal without calls, nothing. */
            if (!mine)
                CHECK_INT((int)touched.count, 0);
            CHECK(touched.count <= full.count);
            ct_diff_release(&full);
            ct_diff_release(&bare);
            ct_diff_release(&touched);
            ct_grants_free(grants);
        }
    }
    CHECK(checked > 20000); /* the admin role's every action among them */
    ct_account_calls_release(&calls);
}

/* ---- --compare ---- */

static int parse(const char *json, ct_review_previous **out, ct_error *err)
{
    ct_error_clear(err);
    return ct_review_previous_parse(out, json, strlen(json), "previous.json", err);
}

static void test_compare_parse_errors(void)
{
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"not json", "not JSON"},
        {"{\"format_version\": 1, \"type\": \"diff\"}", "another type"},
        {"{\"format_version\": 1}", "another type"},
        {"{\"format_version\": 2, \"type\": \"review\"}", "format_version 2"},
        {"{\"format_version\": 1, \"type\": \"review\", \"made_at\": \"x\", \"window\": "
         "{\"start\": "
         "\"2018-01-01\", \"end\": \"2018-03-31\"}}",
         "\"identities\" is missing"},
        {"{\"format_version\": 1, \"type\": \"review\", \"made_at\": \"x\", \"window\": "
         "{\"start\": "
         "\"2018-01-01\", \"end\": \"2018-03-31\"}, \"identities\": [{\"name\": \"a\"}]}",
         "lacks"},
        {"{\"format_version\": 1, \"type\": \"review\", \"made_at\": \"x\", \"window\": "
         "{\"start\": "
         "\"2018-01-01\", \"end\": \"2018-03-31\"}, \"identities\": [{\"kind\": \"person\", "
         "\"name\": \"A\", \"dormant\": \"no\"}, {\"kind\": \"person\", \"name\": \"a\", "
         "\"dormant\": \"no\"}]}",
         "listed twice"},
        {"{\"format_version\": 1, \"type\": \"review\", \"made_at\": \"x\", \"window\": "
         "{\"start\": "
         "\"2018-01-01\", \"end\": \"2018-03-31\"}, \"identities\": [{\"kind\": \"user\", "
         "\"name\": \"a\", \"dormant\": \"no\", \"account\": {\"name\": \"demo\", \"id\": "
         "\"111111111111\"}, \"actions\": {\"used\": [], \"unused\": [3]}}]}",
         "non-string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ct_review_previous *p = NULL;
        ct_error err;
        CHECK_INT(parse(cases[i].json, &p, &err), CT_ECOMPARE);
        CHECK(p == NULL);
        if (!strstr(err.message, cases[i].message))
            fprintf(stderr, "  case %zu: \"%s\" lacks \"%s\"\n", i, err.message, cases[i].message);
        CHECK(strstr(err.message, cases[i].message) != NULL);
        CHECK_STR(err.file, "previous.json");
    }
}

/* A previous review where alice held iam:createuser unused (revoked since)
 * and ec2:describeinstances unused (still granted), was active, and a user
 * "ghost" existed. */
static void test_compare(void)
{
    const char *previous =
        "{\"format_version\": 1, \"type\": \"review\", \"made_at\": \"2018-04-01T00:00:00Z\","
        " \"window\": {\"start\": \"2018-01-01\", \"end\": \"2018-03-31\"}, \"identities\": ["
        "{\"kind\": \"user\", \"name\": \"alice\", \"dormant\": \"no\", \"account\": {\"name\": "
        "\"demo\", \"id\": \"111111111111\"}, \"actions\": {\"used\": [\"sts:assumerole\"], "
        "\"unused\": [\"iam:createuser\", \"ec2:describeinstances\"], \"unknown\": []}},"
        "{\"kind\": \"user\", \"name\": \"ghost\", \"dormant\": \"yes\", \"account\": {\"name\": "
        "\"demo\", \"id\": \"111111111111\"}, \"actions\": {\"used\": [], \"unused\": [], "
        "\"unknown\": []}},"
        "{\"kind\": \"person\", \"name\": \"ERIN@example.com\", \"dormant\": \"yes\"}]}";
    ct_review_previous *p = NULL;
    ct_error err;
    CHECK_INT(parse(previous, &p, &err), 0);
    if (!p)
        return;
    ct_analysis a;
    analysis_init(&a, "2017-07-01", "2018-06-30");
    const ct_account_view *both[] = {&views[0], &views[1]};
    ct_review r;
    CHECK_INT(build(&a, both, 2, &r), 0);
    ct_review_changes c;
    CHECK_INT(ct_review_compare(&r, p, &c, &err), 0);
    CHECK_STR(c.previous_made_at, "2018-04-01T00:00:00Z");
    const ct_review_change *alice = NULL, *ghost = NULL, *erin = NULL, *bob = NULL;
    for (size_t i = 0; i < c.count; i++) {
        const ct_review_change *x = &c.items[i];
        if (strcmp(x->name, "alice") == 0 && x->kind == CT_REVIEW_USER)
            alice = x;
        else if (strcmp(x->name, "ghost") == 0)
            ghost = x;
        else if (strcmp(x->name, "erin@example.com") == 0)
            erin = x;
        else if (strcmp(x->name, "bob") == 0 && x->kind == CT_REVIEW_USER)
            bob = x;
    }
    CHECK(alice && ghost && erin && bob);
    if (alice) {
        CHECK_INT(alice->presence, CT_PRESENCE_KEPT);
        CHECK_INT((int)alice->revoked_count, 1);
        if (alice->revoked_count)
            CHECK_STR(alice->revoked[0], "iam:createuser");
        CHECK_INT((int)alice->still_granted_count, 1);
        if (alice->still_granted_count)
            CHECK_STR(alice->still_granted[0], "ec2:describeinstances");
        CHECK(has_name(alice->grants_removed, alice->grants_removed_count, "iam:createuser"));
        CHECK(has_name(alice->grants_added, alice->grants_added_count, "iam:listusers"));
        CHECK(!has_name(alice->grants_added, alice->grants_added_count, "sts:assumerole"));
        CHECK(alice->newly_dormant && !alice->active_again);
    }
    CHECK(ghost && ghost->presence == CT_PRESENCE_REMOVED && ghost->identity == SIZE_MAX);
    /* People are matched without regard to case. */
    CHECK(erin && erin->presence == CT_PRESENCE_KEPT && erin->active_again);
    CHECK(bob && bob->presence == CT_PRESENCE_ADDED);
    /* The removed ones come last. */
    CHECK(c.count && c.items[c.count - 1].presence == CT_PRESENCE_REMOVED);
    CHECK_INT((int)c.removed, 1);
    CHECK_INT((int)c.revoked, 1);
    ct_review_changes_release(&c);
    ct_review_release(&r);
    ct_analysis_release(&a);
    ct_review_previous_free(p);
}

/* Renderers for the review's policy check: as the review's JSON holds the
 * policies (counting them), and one that writes a policy granting
 * everything, as a broken generator might. */
static size_t rendered;

static int render_as_json(void *ud, const ct_generated_policy *policy, ct_policy_texts *out)
{
    (void)ud;
    rendered++;
    return ct_report_render_policy(out, policy, true);
}

static int render_everything(void *ud, const ct_generated_policy *policy, ct_policy_texts *out)
{
    (void)ud;
    (void)policy;
    static const char doc[] =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
        "\"Resource\":\"*\"}]}";
    out->documents = calloc(1, sizeof(char *));
    out->lengths = calloc(1, sizeof(size_t));
    out->count = 1;
    out->documents[0] = strdup(doc);
    out->lengths[0] = strlen(doc);
    return 0;
}

/* With a renderer, every user's and role's policy is proved as it is
 * made; a policy that breaks its guarantees fails the review. */
static void test_policy_check(void)
{
    ct_analysis a;
    analysis_init(&a, "2017-07-01", "2018-06-30");
    const ct_account_view *both[] = {&views[0], &views[1]};
    ct_review r;
    build_renderer = render_as_json;
    rendered = 0;
    CHECK_INT(build(&a, both, 2, &r), 0);
    size_t principals = 0;
    for (size_t i = 0; i < r.identity_count; i++)
        principals += r.identities[i].kind != CT_REVIEW_PERSON;
    CHECK_INT((int)rendered, (int)principals);
    CHECK(principals > 10);
    ct_review_release(&r);

    build_renderer = render_everything;
    CHECK_INT(build(&a, both, 2, &r), CT_EINTERNAL);
    CHECK_INT((int)r.identity_count, 0);
    /* The first principal: demo's first user. */
    CHECK(strncmp(build_message,
                  "the policy generated for user alice of account demo fails its own check",
                  71) == 0);
    CHECK(strstr(build_message, ", not granted today; ") != NULL);
    build_renderer = NULL;
    ct_analysis_release(&a);
}

int main(void)
{
    ct_error err;
    if (ct_catalog_load_builtin(&catalog, &err) != 0 ||
        ct_iam_load_file(&demo_iam, CT_SOURCE_DIR "/demo/iam/demo.json", &err) != 0 ||
        ct_iam_load_file(&backup_iam, CT_SOURCE_DIR "/demo/iam/backup.json", &err) != 0 ||
        ct_identity_store_load_file(&demo_users, CT_SOURCE_DIR "/demo/iam/identity-store.json",
                                    &err) != 0 ||
        open_demo_store() != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    views[0] = (ct_account_view){"demo", "111111111111", demo_iam};
    views[1] = (ct_account_view){"backup", "222222222222", backup_iam};
    RUN(test_demo_review);
    RUN(test_one_account);
    RUN(test_dormancy_edges);
    RUN(test_escalation);
    RUN(test_touched_diff);
    RUN(test_compare_parse_errors);
    RUN(test_compare);
    RUN(test_policy_check);
    scratch_store_close(&demo_store);
    ct_iam_free(demo_iam);
    ct_iam_free(backup_iam);
    ct_identity_store_free(demo_users);
    ct_catalog_free(catalog);
    TEST_MAIN_END();
}
