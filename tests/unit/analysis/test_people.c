/* Unit tests for people behind roles (src/analysis/people.c) against a
 * scripted event source: each attribution rule, their order, role chains
 * (depth, loops, cross-account copies), names made up by SDKs, grouping of
 * names into people, and the Identity Center user list. */
#include "cloudtracker/analysis.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>

#define ACCT "111111111111"
#define ROLE(name) "arn:aws:iam::" ACCT ":role/" name
#define USER(name) "arn:aws:iam::" ACCT ":user/" name

/* ---- a source whose sessions question answers a scripted list ---- */

typedef struct fake_source {
    ct_source base;
    ct_role_sessions script; /* copied into each answer */
    int fail;
} fake_source;

static int fake_sessions(ct_source *src, const ct_window *w, ct_role_sessions *out, ct_error *err)
{
    fake_source *f = (fake_source *)src;
    if (f->fail)
        return ct_error_set(err, f->fail, "the backend failed");
    for (size_t i = 0; i < f->script.count; i++) {
        const ct_role_session *s = &f->script.items[i];
        if (s->evidence_known)
            ct_role_sessions_add_evidence(out, s->access_key, s->role_arn, s->last_evidence_day,
                                          &s->evidence);
        if (s->opened_known)
            ct_role_sessions_add_opening(out, s->access_key, &s->opening);
    }
    return ct_role_sessions_finish(out, w);
}

static const ct_window WINDOW = {17700, 17730};
#define IN_WINDOW 17710
#define IN_WINDOW_SECONDS ((int64_t)IN_WINDOW * 86400 + 3600)

static void fake_init(fake_source *f)
{
    memset(f, 0, sizeof(*f));
    f->base.name = "store";
    f->base.sessions = fake_sessions;
}

/* A session with calls in the window: its evidence (session name, source
 * identity, onBehalfOf user and store; NULL: none). */
static void seen(fake_source *f, const char *key, const char *role, const char *session_name,
                 const char *source_identity, const char *on_behalf_of)
{
    ct_session_evidence e = {(char *)session_name, (char *)source_identity, (char *)on_behalf_of,
                             on_behalf_of ? "arn:aws:identitystore::" ACCT ":identitystore/d-1"
                                          : NULL};
    CHECK_INT(ct_role_sessions_add_evidence(&f->script, key, role, IN_WINDOW, &e), 0);
}

/* The event that opened session `key`. */
static void opened(fake_source *f, const char *key, const char *event, const char *role,
                   const char *caller, const char *caller_type, const char *caller_key,
                   const char *caller_name, const char *session_name, const char *source_identity)
{
    ct_session_opening o;
    memset(&o, 0, sizeof(o));
    o.event_name = (char *)event;
    o.role_arn = (char *)role;
    o.caller = (char *)caller;
    o.caller_type = (char *)caller_type;
    o.caller_key = (char *)caller_key;
    o.caller_name = (char *)caller_name;
    o.subject = (char *)caller_name;
    o.issuer = (char *)(strcmp(event, "AssumeRole") ? "https://idp.example.com/" : NULL);
    o.session_name = (char *)session_name;
    o.source_identity = (char *)source_identity;
    o.at = IN_WINDOW_SECONDS;
    o.account = ACCT;
    o.event_id = (char *)key;
    CHECK_INT(ct_role_sessions_add_opening(&f->script, key, &o), 0);
}

static void analyze(fake_source *f, const ct_identity_store *users, ct_people *out)
{
    ct_analysis a;
    memset(&a, 0, sizeof(a));
    a.source = &f->base;
    a.window = WINDOW;
    ct_error err;
    int rc = ct_analyze_people(&a, &users, users ? 1 : 0, out, &err);
    if (rc)
        fprintf(stderr, "people: %s\n", err.message);
    CHECK_INT(rc, 0);
    ct_analysis_release(&a);
}

/* The attribution of session `key`. */
static const ct_session_person *of(const ct_people *p, const char *key)
{
    const ct_role_session *s = ct_role_sessions_find(&p->sessions, key);
    CHECK(s != NULL);
    return s ? &p->attributed[s - p->sessions.items] : NULL;
}

/* The name of the person of session `key`, or "-" for nobody. */
static const char *who(const ct_people *p, const char *key)
{
    const ct_session_person *sp = of(p, key);
    return !sp || sp->person == SIZE_MAX ? "-" : p->items[sp->person].name;
}

static void test_rules(void)
{
    fake_source f;
    fake_init(&f);
    /* Rule 3, each kind of opening. */
    seen(&f, "ASIAUSER", ROLE("admin"), "alice", NULL, NULL);
    opened(&f, "ASIAUSER", "AssumeRole", ROLE("admin"), USER("path/alice"), "IAMUser", "AKIAALICE",
           "alice", "alice", NULL);
    seen(&f, "ASIASAML",
         ROLE("aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"),
         "erin@example.com", NULL, NULL);
    opened(&f, "ASIASAML", "AssumeRoleWithSAML",
           ROLE("aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"), "",
           "SAMLUser", "", "erin@example.com", "erin@example.com", NULL);
    seen(&f, "ASIAWEB", ROLE("gha"), "run-42", NULL, NULL);
    opened(&f, "ASIAWEB", "AssumeRoleWithWebIdentity", ROLE("gha"), "", "WebIdentityUser", "",
           "repo:example/app:ref:refs/heads/main", "run-42", NULL);
    /* Rule 1 beats the opening; rule 2 too. */
    seen(&f, "ASIAOBO", ROLE("app"), "app-session", NULL, "9067-a1b2");
    opened(&f, "ASIAOBO", "AssumeRole", ROLE("app"), USER("svc"), "IAMUser", "AKIASVC", "svc",
           "app-session", NULL);
    seen(&f, "ASIASRC", ROLE("admin"), "botocore-session-1700000000", "dana", NULL);
    opened(&f, "ASIASRC", "AssumeRole", ROLE("admin"), USER("svc"), "IAMUser", "AKIASVC", "svc",
           "botocore-session-1700000000", NULL);
    /* The opening's sourceIdentity counts when the calls carry none. */
    seen(&f, "ASIASRC2", ROLE("admin"), "x", NULL, NULL);
    opened(&f, "ASIASRC2", "AssumeRole", ROLE("admin"), USER("svc"), "IAMUser", "AKIASVC", "svc",
           "x", "dana");
    /* Rule 4, and names SDKs make up. */
    seen(&f, "ASIANAME", ROLE("ci"), "carol", NULL, NULL);
    seen(&f, "ASIABOTO", ROLE("ci"), "botocore-session-1701234567", NULL, NULL);
    seen(&f, "ASIANONE", ROLE("ci"), NULL, NULL, NULL);
    /* A service's session names nobody, whatever its name. */
    seen(&f, "ASIASVC", ROLE("lambda-exec"), "my-function", NULL, NULL);
    opened(&f, "ASIASVC", "AssumeRole", ROLE("lambda-exec"), "", "AWSService", "", "",
           "my-function", NULL);

    ct_people p;
    analyze(&f, NULL, &p);
    CHECK_STR(who(&p, "ASIAUSER"), "alice");
    CHECK_INT(of(&p, "ASIAUSER")->evidence, CT_EVIDENCE_IAM_USER);
    CHECK_STR(of(&p, "ASIAUSER")->detail, "AssumeRole by " USER("path/alice"));
    CHECK_STR(who(&p, "ASIASAML"), "erin@example.com");
    CHECK_INT(of(&p, "ASIASAML")->evidence, CT_EVIDENCE_SAML);
    CHECK_STR(of(&p, "ASIASAML")->detail,
              "AssumeRoleWithSAML: subject erin@example.com, issuer https://idp.example.com/");
    CHECK_STR(who(&p, "ASIAWEB"), "repo:example/app:ref:refs/heads/main");
    CHECK_INT(of(&p, "ASIAWEB")->evidence, CT_EVIDENCE_WEB_IDENTITY);
    /* Without a user list or a name, the Identity Center user is its id...
     * here the session is named, so by that name. */
    CHECK_STR(who(&p, "ASIAOBO"), "app-session");
    CHECK_INT(of(&p, "ASIAOBO")->evidence, CT_EVIDENCE_IDENTITY_CENTER);
    CHECK_STR(who(&p, "ASIASRC"), "dana");
    CHECK_INT(of(&p, "ASIASRC")->evidence, CT_EVIDENCE_SOURCE_IDENTITY);
    CHECK_STR(who(&p, "ASIASRC2"), "dana");
    CHECK_STR(who(&p, "ASIANAME"), "carol");
    CHECK_INT(of(&p, "ASIANAME")->evidence, CT_EVIDENCE_SESSION_NAME);
    CHECK_STR(who(&p, "ASIABOTO"), "-");
    CHECK_STR(of(&p, "ASIABOTO")->detail,
              "the session name botocore-session-1701234567 is one an SDK makes up");
    CHECK_STR(who(&p, "ASIANONE"), "-");
    CHECK_STR(who(&p, "ASIASVC"), "-");
    CHECK_STR(of(&p, "ASIASVC")->detail, "opened by an AWS service");

    /* People: sorted, one per name, confidence from their best session. */
    size_t carol = ct_people_find(&p, "CAROL");
    CHECK(carol != SIZE_MAX);
    if (carol != SIZE_MAX) {
        CHECK(!p.items[carol].high);
        CHECK(p.items[carol].active);
        CHECK_INT((int)p.items[carol].role_count, 1);
    }
    size_t dana = ct_people_find(&p, "dana");
    CHECK(dana != SIZE_MAX && p.items[dana].high && p.items[dana].roles[0].sessions == 2);
    CHECK(ct_people_find(&p, "svc") == SIZE_MAX); /* svc opened sessions others are named in */
    CHECK(ct_people_find(&p, "nobody") == SIZE_MAX);
    for (size_t k = 1; k < p.count; k++)
        CHECK(ct_strcasecmp(p.items[k - 1].name, p.items[k].name) < 0);
    ct_people_release(&p);
    ct_role_sessions_release(&f.script);
}

/* A chain: bob opens a session of ops, which assumes deploy, which assumes
 * audit in another account; the copy of the cross-account hop logged in
 * audit's account names no caller and must not win. */
static void test_chains(void)
{
    fake_source f;
    fake_init(&f);
    seen(&f, "ASIAHOP1", ROLE("ops"), "bob", NULL, NULL);
    opened(&f, "ASIAHOP1", "AssumeRole", ROLE("ops"), USER("bob"), "IAMUser", "AKIABOB", "bob",
           "bob", NULL);
    seen(&f, "ASIAHOP2", ROLE("deploy"), "gntd-123", NULL, NULL);
    opened(&f, "ASIAHOP2", "AssumeRole", ROLE("deploy"), ROLE("ops"), "AssumedRole", "ASIAHOP1", "",
           "gntd-123", NULL);
    const char *audit = "arn:aws:iam::222222222222:role/audit";
    seen(&f, "ASIAHOP3", audit, "deploy-run", NULL, NULL);
    /* The audit account's copy first (earlier, smaller id): no caller. */
    ct_session_opening copy;
    memset(&copy, 0, sizeof(copy));
    copy.event_name = "AssumeRole";
    copy.role_arn = (char *)audit;
    copy.caller_type = "AWSAccount";
    copy.at = IN_WINDOW_SECONDS - 10;
    copy.event_id = "0000";
    copy.session_name = "deploy-run";
    CHECK_INT(ct_role_sessions_add_opening(&f.script, "ASIAHOP3", &copy), 0);
    opened(&f, "ASIAHOP3", "AssumeRole", audit, ROLE("deploy"), "AssumedRole", "ASIAHOP2", "",
           "deploy-run", NULL);

    ct_people p;
    analyze(&f, NULL, &p);
    CHECK_STR(who(&p, "ASIAHOP1"), "bob");
    CHECK_STR(who(&p, "ASIAHOP2"), "bob");
    CHECK_STR(who(&p, "ASIAHOP3"), "bob");
    CHECK_INT((int)of(&p, "ASIAHOP3")->depth, 2);
    CHECK(of(&p, "ASIAHOP3")->opened_from &&
          strcmp(of(&p, "ASIAHOP3")->opened_from->access_key, "ASIAHOP2") == 0);
    CHECK_INT(of(&p, "ASIAHOP3")->evidence, CT_EVIDENCE_IAM_USER);
    size_t bob = ct_people_find(&p, "bob");
    CHECK(bob != SIZE_MAX && p.items[bob].role_count == 3 && p.items[bob].high);
    ct_people_release(&p);
    ct_role_sessions_release(&f.script);
}

/* Damaged logs may make a loop; a chain longer than CT_CHAIN_MAX_DEPTH is
 * not followed to its end. Either falls back to the session's own name. */
static void test_chain_limits(void)
{
    fake_source f;
    fake_init(&f);
    seen(&f, "ASIALOOPA", ROLE("a"), "loop-a", NULL, NULL);
    opened(&f, "ASIALOOPA", "AssumeRole", ROLE("a"), ROLE("b"), "AssumedRole", "ASIALOOPB", "",
           "loop-a", NULL);
    seen(&f, "ASIALOOPB", ROLE("b"), "loop-b", NULL, NULL);
    opened(&f, "ASIALOOPB", "AssumeRole", ROLE("b"), ROLE("a"), "AssumedRole", "ASIALOOPA", "",
           "loop-b", NULL);
    /* A session opened with its own key (nonsense, but not a hang). */
    seen(&f, "ASIASELF", ROLE("s"), "self", NULL, NULL);
    opened(&f, "ASIASELF", "AssumeRole", ROLE("s"), ROLE("s"), "AssumedRole", "ASIASELF", "",
           "self", NULL);
    /* A chain of 14 hops from an IAM user. */
    char key[32], parent[32];
    for (int i = 0; i < 14; i++) {
        snprintf(key, sizeof(key), "ASIADEEP%02d", i);
        seen(&f, key, ROLE("deep"), "botocore-session-1", NULL, NULL);
        if (i == 0)
            opened(&f, key, "AssumeRole", ROLE("deep"), USER("eve"), "IAMUser", "AKIAEVE", "eve",
                   "botocore-session-1", NULL);
        else
            opened(&f, key, "AssumeRole", ROLE("deep"), ROLE("deep"), "AssumedRole", parent, "",
                   "botocore-session-1", NULL);
        memcpy(parent, key, sizeof(key));
    }
    ct_people p;
    analyze(&f, NULL, &p);
    /* Each side of the loop ends at the other's name or its own, but ends. */
    CHECK(strcmp(who(&p, "ASIALOOPA"), "-") != 0);
    CHECK(strcmp(who(&p, "ASIALOOPB"), "-") != 0);
    CHECK_STR(who(&p, "ASIASELF"), "self");
    CHECK_INT(of(&p, "ASIASELF")->evidence, CT_EVIDENCE_SESSION_NAME);
    CHECK_STR(who(&p, "ASIADEEP12"), "eve");
    CHECK_INT((int)of(&p, "ASIADEEP12")->depth, CT_CHAIN_MAX_DEPTH);
    CHECK_STR(who(&p, "ASIADEEP13"), "-"); /* one hop too far, and a made-up name */
    ct_people_release(&p);
    ct_role_sessions_release(&f.script);
}

/* With the Identity Center user list: ids become names, the same name in
 * other case is one person, and users with no session are people too. */
static void test_identity_store(void)
{
    const char *json = "{\"Users\":[{\"UserName\":\"Frank@example.com\",\"UserId\":\"9067-a1b2\","
                       "\"IdentityStoreId\":\"d-1\",\"DisplayName\":\"Frank\"},"
                       "{\"UserName\":\"grace@example.com\",\"UserId\":\"9067-c3d4\","
                       "\"IdentityStoreId\":\"d-1\"}]}";
    ct_identity_store *users = NULL;
    ct_error err;
    CHECK_INT(ct_identity_store_load_buffer(&users, json, strlen(json), "users.json", &err), 0);
    fake_source f;
    fake_init(&f);
    seen(&f, "ASIAOBO1", ROLE("app"), "botocore-session-1", NULL, "9067-a1b2");
    seen(&f, "ASIASAML", ROLE("sso"), "frank@example.com", NULL, NULL);
    opened(&f, "ASIASAML", "AssumeRoleWithSAML", ROLE("sso"), "", "SAMLUser", "",
           "frank@example.com", "frank@example.com", NULL);
    seen(&f, "ASIAOBO2", ROLE("app"), NULL, NULL, "unknown-id");
    ct_people p;
    analyze(&f, users, &p);
    CHECK_STR(who(&p, "ASIAOBO1"), "Frank@example.com");
    CHECK_STR(who(&p, "ASIASAML"), "Frank@example.com"); /* one person */
    CHECK_STR(who(&p, "ASIAOBO2"), "unknown-id");
    size_t frank = ct_people_find(&p, "frank@example.com");
    size_t grace = ct_people_find(&p, "grace@example.com");
    CHECK(frank != SIZE_MAX && p.items[frank].active && p.items[frank].user &&
          p.items[frank].role_count == 2);
    CHECK(grace != SIZE_MAX && !p.items[grace].active && p.items[grace].user &&
          p.items[grace].role_count == 0);
    CHECK_INT((int)p.count, 3);
    ct_people_release(&p);
    ct_role_sessions_release(&f.script);
    ct_identity_store_free(users);
}

/* Sessions outside the window name nobody active; a failing source fails. */
static void test_inactive_and_failure(void)
{
    fake_source f;
    fake_init(&f);
    ct_session_evidence e = {"old", NULL, NULL, NULL};
    CHECK_INT(
        ct_role_sessions_add_evidence(&f.script, "ASIAOLD", ROLE("r"), WINDOW.first_day - 1, &e),
        0);
    ct_people p;
    analyze(&f, NULL, &p);
    CHECK_STR(who(&p, "ASIAOLD"), "-");
    CHECK_INT((int)p.count, 0);
    ct_people_release(&p);
    f.fail = CT_EPARTIAL;
    ct_analysis a;
    memset(&a, 0, sizeof(a));
    a.source = &f.base;
    a.window = WINDOW;
    ct_error err;
    CHECK_INT(ct_analyze_people(&a, NULL, 0, &p, &err), CT_EPARTIAL);
    CHECK(p.count == 0 && p.sessions.count == 0 && p.attributed == NULL);
    ct_role_sessions_release(&f.script);
}

static void test_generic_names(void)
{
    CHECK(ct_session_name_is_generic("botocore-session-1700000000"));
    CHECK(ct_session_name_is_generic("aws-go-sdk-1700000000123456789"));
    CHECK(ct_session_name_is_generic("aws-sdk-js-1700000000123"));
    CHECK(!ct_session_name_is_generic("botocore-session-"));
    CHECK(!ct_session_name_is_generic("botocore-session-12a"));
    CHECK(!ct_session_name_is_generic("alice"));
    CHECK(!ct_session_name_is_generic(NULL));
}

static void load_users(const char *json, int want, const char *message)
{
    ct_identity_store *users = NULL;
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_identity_store_load_buffer(&users, json, strlen(json), "users.json", &err), want);
    if (message && !strstr(err.message, message)) {
        fprintf(stderr, "message: %s\n", err.message);
        CHECK(0);
    }
    CHECK((users != NULL) == (want == 0));
    ct_identity_store_free(users);
}

static void test_identity_store_file(void)
{
    load_users("{\"Users\":[]}", 0, NULL);
    load_users("", CT_EIAM, "file is empty: expected the output of `aws identitystore list-users`");
    load_users("{\"Users\":[", CT_EIAM, "JSON syntax error");
    load_users("[]", CT_EIAM, "no \"Users\" list");
    load_users("{\"Users\":[],\"NextToken\":\"abc\"}", CT_EIAM, "one page of a longer list");
    load_users("{\"Users\":[{\"UserName\":\"a\"}]}", CT_EIAM, "Users[0] has no UserId");
    load_users("{\"Users\":[{\"UserName\":\"a\",\"UserId\":7}]}", CT_EIAM,
               "Users[0] has a non-string UserId");
    load_users("{\"Users\":[{\"UserName\":\"a\",\"UserId\":\"1\"},{\"UserName\":\"A\",\"UserId\":"
               "\"2\"}]}",
               CT_EIAM, "two users have the UserName 'A'");
    load_users("{\"Users\":[{\"UserName\":\"a\",\"UserId\":\"1\"},{\"UserName\":\"b\",\"UserId\":"
               "\"1\"}]}",
               CT_EIAM, "two users have the UserId '1'");
    load_users("{\"Users\":[\"a\"]}", CT_EIAM, "Users[0] is not an object");
    ct_identity_store *users = NULL;
    ct_error err;
    CHECK_INT(ct_identity_store_load_file(&users, CT_TEST_DATA "/no-such-users.json", &err),
              CT_EIAM);
    CHECK(users == NULL);
}

int main(void)
{
    RUN(test_rules);
    RUN(test_chains);
    RUN(test_chain_limits);
    RUN(test_identity_store);
    RUN(test_inactive_and_failure);
    RUN(test_generic_names);
    RUN(test_identity_store_file);
    TEST_MAIN_END();
}
