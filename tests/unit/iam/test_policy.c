/* Unit tests for the policy engine: wildcard matching, Allow/Deny/NotAction
 * semantics, limited Denies as notes, permissions boundaries, and agreement
 * between ct_policy_expand and ct_policy_decide over the real catalog. */
#include "cloudtracker/actions.h"
#include "cloudtracker/iam.h"
#include "test.h"

#include <stdlib.h>
#include <time.h>

/* Test documents are written with single quotes to stay readable in C;
 * this turns them into JSON. */
static char *json_of(const char *s)
{
    char *j = malloc(strlen(s) + 1);
    for (size_t i = 0;; i++) {
        j[i] = s[i] == '\'' ? '"' : s[i];
        if (!s[i])
            break;
    }
    return j;
}

static ct_iam *load(const char *single_quoted)
{
    char *j = json_of(single_quoted);
    ct_iam *iam = NULL;
    ct_error err;
    ct_error_clear(&err);
    int rc = ct_iam_load_buffer(&iam, j, strlen(j), "test.json", &err);
    if (rc)
        fprintf(stderr, "load failed: %s\n", err.message);
    CHECK_INT(rc, 0);
    free(j);
    return iam;
}

/* One user "u" whose inline policy holds `statements`, plus a managed
 * policy "B" (boundary when `boundary` is true) holding `bstatements`. */
static ct_iam *load_user(const char *statements, const char *bstatements)
{
    char doc[8192];
    if (bstatements) {
        snprintf(doc, sizeof(doc),
                 "{'UserDetailList':[{'UserName':'u','Arn':'arn:aws:iam::1:user/u',"
                 "'UserPolicyList':[{'PolicyName':'p','PolicyDocument':{'Version':'2012-10-17',"
                 "'Statement':%s}}],"
                 "'PermissionsBoundary':{'PermissionsBoundaryType':'PermissionsBoundaryPolicy',"
                 "'PermissionsBoundaryArn':'arn:aws:iam::1:policy/B'}}],"
                 "'Policies':[{'PolicyName':'B','Arn':'arn:aws:iam::1:policy/B',"
                 "'DefaultVersionId':'v1','PolicyVersionList':[{'VersionId':'v1',"
                 "'IsDefaultVersion':true,'Document':{'Statement':%s}}]}]}",
                 statements, bstatements);
    } else {
        snprintf(doc, sizeof(doc),
                 "{'UserDetailList':[{'UserName':'u','Arn':'arn:aws:iam::1:user/u',"
                 "'UserPolicyList':[{'PolicyName':'p','PolicyDocument':{'Version':'2012-10-17',"
                 "'Statement':%s}}]}]}",
                 statements);
    }
    return load(doc);
}

static const ct_policy_set *set_of(const ct_iam *iam, const char *user)
{
    const ct_principal *p = ct_iam_find(iam, CT_PRINCIPAL_USER, user);
    CHECK(p != NULL);
    return ct_iam_policies(iam, p);
}

static bool granted(const ct_iam *iam, const char *action)
{
    ct_decision d;
    ct_policy_decide(set_of(iam, "u"), action, &d);
    return d.granted;
}

static void test_wildcard(void)
{
    static const struct {
        const char *pattern, *text;
        bool match;
    } cases[] = {
        {"*", "", true},
        {"*", "s3:getobject", true},
        {"", "", true},
        {"", "a", false},
        {"a", "", false},
        {"s3:getobject", "s3:getobject", true},
        {"s3:GetObject", "S3:GETOBJECT", true},
        {"S3:Get*", "s3:getobjectacl", true},
        {"s3:get*", "s3:get", true},
        {"s3:get*", "s3:ge", false},
        {"*object", "s3:getobject", true},
        {"*object", "s3:getobjects", false},
        {"s3:*object*", "s3:getobjectacl", true},
        {"s3:*o*t*", "s3:getobject", true},
        {"s3:*o*t*x", "s3:getobject", false},
        {"**", "abc", true},
        {"a**c", "abc", true},
        {"a*b*c", "aXbYc", true},
        {"a*b*c", "aXbYcZ", false},
        {"a*b*c*", "abcbc", true},
        {"?", "a", true},
        {"?", "", false},
        {"?", "ab", false},
        {"s3:?etobject", "s3:getobject", true},
        {"s3:get?bject", "s3:getobject", true},
        {"s3:get??bject", "s3:getobject", false},
        {"???:*", "ec2:runinstances", true},
        {"??:*", "ec2:runinstances", false},
        {"*?", "", false},
        {"*?", "x", true},
        {"?*?", "xy", true},
        {"?*?", "x", false},
        {"iam:*user", "iam:createuser", true},
        {"iam:*user", "iam:createusers", false},
        {"ec2:describe*", "ec2:runinstances", false},
        {"*:get*", "s3:getobject", true},
        {"*:get*", "s3:putobject", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool m = ct_wildcard_match(cases[i].pattern, cases[i].text);
        if (m != cases[i].match)
            fprintf(stderr, "  wildcard \"%s\" vs \"%s\"\n", cases[i].pattern, cases[i].text);
        CHECK(m == cases[i].match);
    }

    /* A hostile pattern must not take exponential time. */
    char pat[4096], text[8192];
    size_t k = 0;
    for (int i = 0; i < 1000; i++) {
        pat[k++] = '*';
        pat[k++] = 'a';
    }
    pat[k++] = 'b';
    pat[k] = '\0';
    memset(text, 'a', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    clock_t t0 = clock();
    CHECK(!ct_wildcard_match(pat, text));
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

static void test_allow_and_notaction(void)
{
    ct_iam *iam = load_user("{'Effect':'Allow','Action':['S3:Get*','ec2:DescribeInstances'],"
                            "'Resource':'*'}",
                            NULL);
    CHECK(granted(iam, "s3:getobject"));
    CHECK(granted(iam, "ec2:describeinstances"));
    CHECK(!granted(iam, "s3:putobject"));
    CHECK(!granted(iam, "ec2:describeimages"));
    ct_decision d;
    ct_policy_decide(set_of(iam, "u"), "s3:getobject", &d);
    CHECK_STR(d.allowed_by, "user/u inline: p");
    ct_iam_free(iam);

    iam = load_user("{'Effect':'Allow','NotAction':'iam:*','Resource':'*'}", NULL);
    CHECK(granted(iam, "s3:createbucket"));
    CHECK(!granted(iam, "iam:createuser"));
    CHECK(granted(iam, "iamx:foo")); /* "iam:*" is not a prefix match on the service */
    ct_iam_free(iam);

    /* Allow statements limited by Resource or Condition still grant. */
    iam = load_user("[{'Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::b/*'},"
                    "{'Effect':'Allow','Action':'sqs:SendMessage','Resource':'*',"
                    "'Condition':{'Bool':{'aws:SecureTransport':'true'}}},"
                    "{'Effect':'Allow','Action':'sns:Publish','NotResource':'arn:aws:sns:*:*:x'}]",
                    NULL);
    CHECK(granted(iam, "s3:getobject"));
    CHECK(granted(iam, "sqs:sendmessage"));
    CHECK(granted(iam, "sns:publish"));
    ct_iam_free(iam);
}

static void test_deny(void)
{
    ct_iam *iam = load_user("[{'Effect':'Allow','Action':'*','Resource':'*'},"
                            "{'Sid':'NoIam','Effect':'Deny','Action':'iam:*','Resource':'*'},"
                            "{'Sid':'NoDelete','Effect':'Deny','Action':'s3:Delete*',"
                            "'Resource':'*','Condition':{'Bool':{'aws:MultiFactorAuthPresent':"
                            "'false'}}},"
                            "{'Sid':'NoProdWrite','Effect':'Deny','Action':'s3:Put*',"
                            "'Resource':['arn:aws:s3:::prod/*']},"
                            "{'Sid':'OnlyDev','Effect':'Deny','Action':'ec2:TerminateInstances',"
                            "'NotResource':'arn:aws:ec2:*:*:instance/dev-*'},"
                            "{'Effect':'Deny','Action':'kms:Decrypt'},"
                            "{'Effect':'Deny','Action':'sqs:*','Resource':['arn:x','*']}]",
                            NULL);
    const ct_policy_set *set = set_of(iam, "u");
    ct_decision d;
    ct_policy_decide(set, "iam:createuser", &d);
    CHECK(!d.granted);
    CHECK(d.allowed);
    CHECK(d.denied);
    CHECK_STR(d.denied_by, "user/u inline: p");

    ct_policy_decide(set, "s3:deleteobject", &d);
    CHECK(d.granted);
    CHECK(!d.denied);
    CHECK_INT(d.note_count, 1);
    CHECK_STR(d.notes[0].limit, "Condition");
    CHECK_STR(d.notes[0].sid, "NoDelete");
    CHECK_STR(d.notes[0].policy, "user/u inline: p");

    ct_policy_decide(set, "s3:putobject", &d);
    CHECK(d.granted);
    CHECK_INT(d.note_count, 1);
    CHECK_STR(d.notes[0].limit, "Resource");

    ct_policy_decide(set, "ec2:terminateinstances", &d);
    CHECK(d.granted);
    CHECK_INT(d.note_count, 1);
    CHECK_STR(d.notes[0].limit, "NotResource");
    CHECK_STR(d.notes[0].sid, "OnlyDev");

    /* Absent Resource reads as "*"; "*" among other resources covers all. */
    CHECK(!granted(iam, "kms:decrypt"));
    CHECK(!granted(iam, "sqs:sendmessage"));

    ct_policy_decide(set, "s3:getobject", &d);
    CHECK(d.granted);
    CHECK_INT(d.note_count, 0);
    ct_iam_free(iam);

    /* Deny with NotAction: everything except the listed actions is denied. */
    iam = load_user("[{'Effect':'Allow','Action':['s3:*','ec2:*'],'Resource':'*'},"
                    "{'Effect':'Deny','NotAction':'s3:Get*','Resource':'*'}]",
                    NULL);
    CHECK(granted(iam, "s3:getobject"));
    CHECK(!granted(iam, "s3:putobject"));
    CHECK(!granted(iam, "ec2:runinstances"));
    ct_iam_free(iam);

    /* A Deny alone grants nothing; an empty Condition block limits nothing. */
    iam = load_user("[{'Effect':'Deny','Action':'s3:*','Resource':'*','Condition':{}}]", NULL);
    ct_policy_decide(set_of(iam, "u"), "s3:getobject", &d);
    CHECK(!d.allowed && d.denied && !d.granted);
    CHECK(d.allowed_by == NULL);
    ct_iam_free(iam);
}

static void test_boundary(void)
{
    ct_iam *iam = load_user("{'Effect':'Allow','Action':['s3:*','iam:*'],'Resource':'*'}",
                            "{'Effect':'Allow','Action':['s3:*','ec2:*'],'Resource':'*'}");
    const ct_policy_set *set = set_of(iam, "u");
    ct_decision d;
    ct_policy_decide(set, "s3:getobject", &d);
    CHECK(d.granted && !d.outside_boundary);
    ct_policy_decide(set, "iam:createuser", &d);
    CHECK(!d.granted);
    CHECK(d.allowed);
    CHECK(d.outside_boundary);
    ct_policy_decide(set, "ec2:runinstances", &d); /* the boundary alone grants nothing */
    CHECK(!d.granted);
    CHECK(!d.allowed);
    ct_iam_free(iam);

    /* Deny in a boundary removes (unconditional) or notes (conditional). */
    iam = load_user("{'Effect':'Allow','Action':'*','Resource':'*'}",
                    "[{'Effect':'Allow','Action':'*','Resource':'*'},"
                    "{'Effect':'Deny','Action':'organizations:*','Resource':'*'},"
                    "{'Sid':'Region','Effect':'Deny','Action':'ec2:*','Resource':'*',"
                    "'Condition':{'StringNotEquals':{'aws:RequestedRegion':'eu-west-1'}}}]");
    set = set_of(iam, "u");
    ct_policy_decide(set, "organizations:listaccounts", &d);
    CHECK(!d.granted && d.denied);
    CHECK_STR(d.denied_by, "B (permissions boundary)");
    ct_policy_decide(set, "ec2:runinstances", &d);
    CHECK(d.granted);
    CHECK_INT(d.note_count, 1);
    CHECK_STR(d.notes[0].policy, "B (permissions boundary)");
    CHECK_STR(d.notes[0].sid, "Region");
    CHECK_STR(d.notes[0].limit, "Condition");
    ct_iam_free(iam);

    /* A boundary with NotAction. */
    iam = load_user("{'Effect':'Allow','Action':'*','Resource':'*'}",
                    "{'Effect':'Allow','NotAction':['iam:*','organizations:*'],'Resource':'*'}");
    CHECK(granted(iam, "s3:getobject"));
    CHECK(!granted(iam, "iam:passrole"));
    ct_iam_free(iam);
}

static void test_notes_cap(void)
{
    char stmts[4096] = "[{'Effect':'Allow','Action':'s3:*','Resource':'*'}";
    for (int i = 0; i < 12; i++) {
        char one[160];
        snprintf(one, sizeof(one),
                 ",{'Sid':'D%d','Effect':'Deny','Action':'s3:*','Resource':'arn:aws:s3:::b%d'}", i,
                 i);
        strcat(stmts, one);
    }
    strcat(stmts, "]");
    ct_iam *iam = load_user(stmts, NULL);
    ct_decision d;
    ct_policy_decide(set_of(iam, "u"), "s3:getobject", &d);
    CHECK(d.granted);
    CHECK_INT(d.note_count, CT_DECISION_MAX_NOTES);
    CHECK_STR(d.notes[0].sid, "D0");
    ct_iam_free(iam);
}

/* Policies exercising every rule; each user below gets one combination. */
static const char *PROPERTY_DOC =
    "{'UserDetailList':["
    "{'UserName':'star','Arn':'a:1','UserPolicyList':[{'PolicyName':'p','PolicyDocument':"
    "{'Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}}]},"
    "{'UserName':'admin-denied','Arn':'a:2','GroupList':['admins'],'UserPolicyList':[{"
    "'PolicyName':'d','PolicyDocument':{'Statement':["
    "{'Effect':'Deny','Action':['iam:*','s3:Delete*','ec2:*Instances'],'Resource':'*'},"
    "{'Effect':'Deny','Action':'kms:*','Resource':'*','Condition':{'Bool':{'a':'b'}}},"
    "{'Effect':'Deny','Action':'lambda:*','Resource':'arn:aws:lambda:*:*:function:x'}]}}]},"
    "{'UserName':'notaction','Arn':'a:3','UserPolicyList':[{'PolicyName':'p','PolicyDocument':"
    "{'Statement':[{'Effect':'Allow','NotAction':['iam:*','organizations:*','account:*'],"
    "'Resource':'*'},{'Effect':'Deny','NotAction':['s3:*','ec2:Describe*','iam:Get*'],"
    "'Resource':'*'}]}}]},"
    "{'UserName':'wild','Arn':'a:4','UserPolicyList':[{'PolicyName':'p','PolicyDocument':"
    "{'Statement':[{'Effect':'Allow','Action':['*:Get*','s3:?ut*','ec?:Describe*',"
    "'dynamodb:*','sts:AssumeRole','nosuch:Thing','*:*tag*','ec2:*'],'Resource':'*'},"
    "{'Effect':'Deny','Action':['ec2:*Vpc*','*:GetBucket??l'],'Resource':'*'}]}}]},"
    "{'UserName':'bounded','Arn':'a:5','GroupList':['admins'],"
    "'PermissionsBoundary':{'PermissionsBoundaryType':'PermissionsBoundaryPolicy',"
    "'PermissionsBoundaryArn':'arn:b'}},"
    "{'UserName':'bounded-notaction','Arn':'a:6','AttachedManagedPolicies':[{'PolicyName':"
    "'ro','PolicyArn':'arn:ro'}],"
    "'PermissionsBoundary':{'PermissionsBoundaryArn':'arn:b2'}},"
    "{'UserName':'nothing','Arn':'a:7'}],"
    "'GroupDetailList':[{'GroupName':'admins','Arn':'g:1','AttachedManagedPolicies':"
    "[{'PolicyName':'AdministratorAccess','PolicyArn':'arn:admin'}]}],"
    "'Policies':["
    "{'PolicyName':'AdministratorAccess','Arn':'arn:admin','DefaultVersionId':'v1',"
    "'PolicyVersionList':[{'VersionId':'v1','IsDefaultVersion':true,'Document':"
    "{'Statement':[{'Effect':'Allow','Action':'*','Resource':'*'}]}}]},"
    "{'PolicyName':'ro','Arn':'arn:ro','DefaultVersionId':'v1',"
    "'PolicyVersionList':[{'VersionId':'v1','IsDefaultVersion':true,'Document':"
    "{'Statement':[{'Effect':'Allow','Action':['*:List*','*:Describe*','*:Get*','s3:*'],"
    "'Resource':'*'}]}}]},"
    "{'PolicyName':'b','Arn':'arn:b','DefaultVersionId':'v1',"
    "'PolicyVersionList':[{'VersionId':'v1','IsDefaultVersion':true,'Document':"
    "{'Statement':[{'Effect':'Allow','Action':['s3:*','ec2:*','cloudwatch:Get*'],'Resource':'*'},"
    "{'Effect':'Deny','Action':'ec2:Delete*','Resource':'*'}]}}]},"
    "{'PolicyName':'b2','Arn':'arn:b2','DefaultVersionId':'v1',"
    "'PolicyVersionList':[{'VersionId':'v1','IsDefaultVersion':true,'Document':"
    "{'Statement':[{'Effect':'Allow','NotAction':['s3:Get*','ec2:*'],'Resource':'*'}]}}]}"
    "]}";

/* expand(i) must equal decide(name(i)).granted for every catalog action. */
static void test_expand_matches_decide(void)
{
    ct_catalog *cat = NULL;
    ct_error err;
    int rc = ct_catalog_load_builtin(&cat, &err);
    CHECK_INT(rc, 0);
    if (rc)
        return;
    ct_iam *iam = load(PROPERTY_DOC);
    if (!iam) {
        ct_catalog_free(cat);
        return;
    }
    size_t n = ct_catalog_count(cat);
    CHECK(n > 1000);
    size_t counts[16] = {0};
    size_t users = ct_iam_count(iam, CT_PRINCIPAL_USER);
    CHECK_INT(users, 7);
    for (size_t u = 0; u < users && u < 16; u++) {
        const ct_principal *p = ct_iam_get(iam, CT_PRINCIPAL_USER, u);
        const ct_policy_set *set = ct_iam_policies(iam, p);
        ct_grants *g = NULL;
        CHECK_INT(ct_policy_expand(&g, set, cat, &err), 0);
        size_t mismatches = 0, count = 0;
        for (size_t i = 0; i < n; i++) {
            ct_decision d;
            ct_policy_decide(set, ct_catalog_name(cat, i), &d);
            if (d.granted != ct_grants_has(g, i) && mismatches++ < 5)
                fprintf(stderr, "  %s: %s expand=%d decide=%d\n", p->name, ct_catalog_name(cat, i),
                        ct_grants_has(g, i), d.granted);
            count += d.granted;
        }
        CHECK_INT(mismatches, 0);
        CHECK_INT(ct_grants_count(g), count);
        CHECK(!ct_grants_has(g, n)); /* out of range */
        counts[u] = count;
        ct_grants_free(g);
    }
    /* Sorted: admin-denied bounded bounded-notaction notaction nothing star wild */
    CHECK_STR(ct_iam_get(iam, CT_PRINCIPAL_USER, 4)->name, "nothing");
    CHECK_STR(ct_iam_get(iam, CT_PRINCIPAL_USER, 5)->name, "star");
    CHECK_INT(counts[5], n);
    CHECK_INT(counts[4], 0);
    CHECK(counts[0] > 0 && counts[0] < n);
    CHECK(counts[1] > 0 && counts[1] < counts[0]);
    CHECK(counts[2] > 0);
    CHECK(counts[3] > 0);
    CHECK(counts[6] > 0);

    /* Speed: a principal with many policies including "*". */
    const ct_policy_set *set =
        ct_iam_policies(iam, ct_iam_find(iam, CT_PRINCIPAL_USER, "admin-denied"));
    const ct_policy_set *wild = ct_iam_policies(iam, ct_iam_find(iam, CT_PRINCIPAL_USER, "wild"));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rounds = 200;
    for (int r = 0; r < rounds; r++) {
        ct_grants *g = NULL;
        ct_policy_expand(&g, r % 2 ? set : wild, cat, &err);
        ct_grants_free(g);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us =
        ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / rounds;
    fprintf(stderr, "  expansion: %.1f us per principal over %zu actions\n", us, n);
    ct_iam_free(iam);
    ct_catalog_free(cat);
}

/* A small catalog: exact indices and the service-range fast paths. */
static void test_expand_small_catalog(void)
{
    const char *tsv = "s3:GetObject\tRead\ns3:PutObject\tWrite\ns3:ListBucket\tList\n"
                      "s3x:GetThing\tRead\niam:CreateUser\tWrite\niam:GetUser\tRead\n"
                      "ec2:RunInstances\tWrite\n";
    ct_catalog *cat = NULL;
    ct_error err;
    int rc = ct_catalog_load_tsv(&cat, tsv, strlen(tsv), "small.tsv", &err);
    CHECK_INT(rc, 0);
    if (rc)
        return;
    static const struct {
        const char *statements;
        size_t count;
    } cases[] = {
        {"{'Effect':'Allow','Action':'s3:*','Resource':'*'}", 3},
        {"{'Effect':'Allow','Action':'s3*:get*','Resource':'*'}", 2},
        {"{'Effect':'Allow','Action':'*:get*','Resource':'*'}", 3},
        {"{'Effect':'Allow','Action':'s3:GetObject','Resource':'*'}", 1},
        {"{'Effect':'Allow','Action':'s3:NoSuchAction','Resource':'*'}", 0},
        {"{'Effect':'Allow','Action':'nosuch:*','Resource':'*'}", 0},
        {"{'Effect':'Allow','Action':'*','Resource':'*'}", 7},
        {"{'Effect':'Allow','Action':[],'Resource':'*'}", 0},
        {"{'Effect':'Allow','NotAction':[],'Resource':'*'}", 7},
        {"{'Effect':'Allow','NotAction':'s3:*','Resource':'*'}", 4},
        {"{'Effect':'Allow','Action':':*','Resource':'*'}", 0},
        {"[{'Effect':'Allow','Action':'*','Resource':'*'},"
         "{'Effect':'Deny','Action':'*','Resource':'*'}]",
         0},
        {"[{'Effect':'Allow','Action':'*','Resource':'*'},"
         "{'Effect':'Deny','Action':'*','Resource':'arn:x'}]",
         7},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        ct_iam *iam = load_user(cases[c].statements, NULL);
        if (!iam)
            continue;
        const ct_policy_set *set = set_of(iam, "u");
        ct_grants *g = NULL;
        CHECK_INT(ct_policy_expand(&g, set, cat, &err), 0);
        if (ct_grants_count(g) != cases[c].count)
            fprintf(stderr, "  case %zu: %s\n", c, cases[c].statements);
        CHECK_INT(ct_grants_count(g), cases[c].count);
        for (size_t i = 0; i < ct_catalog_count(cat); i++) {
            ct_decision d;
            ct_policy_decide(set, ct_catalog_name(cat, i), &d);
            CHECK(d.granted == ct_grants_has(g, i));
        }
        ct_grants_free(g);
        ct_iam_free(iam);
    }
    ct_catalog_free(cat);
}

/* Edge cases: an empty catalog (NotAction must not set padding bits) and a
 * NULL policy set. */
static void test_expand_edges(void)
{
    ct_catalog *cat = NULL;
    ct_error err;
    int rc = ct_catalog_load_tsv(&cat, "", 0, "empty.tsv", &err);
    CHECK_INT(rc, 0);
    if (rc)
        return;
    CHECK_INT(ct_catalog_count(cat), 0);
    ct_iam *iam = load_user("{'Effect':'Allow','NotAction':'s3:*','Resource':'*'}", NULL);
    ct_grants *g = NULL;
    CHECK_INT(ct_policy_expand(&g, set_of(iam, "u"), cat, &err), 0);
    CHECK_INT(ct_grants_count(g), 0);
    CHECK(!ct_grants_has(g, 0));
    ct_grants_free(g);
    CHECK_INT(ct_policy_expand(&g, NULL, cat, &err), 0);
    CHECK_INT(ct_grants_count(g), 0);
    ct_grants_free(g);
    ct_grants_free(NULL);
    ct_decision d;
    ct_policy_decide(NULL, "s3:getobject", &d);
    CHECK(!d.granted && !d.allowed);
    ct_policy_decide(set_of(iam, "u"), "ec2:runinstances", &d);
    CHECK(d.granted);
    ct_iam_free(iam);
    ct_catalog_free(cat);
}

/* Parses single-quoted documents into a set; returns the status, with the
 * error's formatted message in msg. */
static int parse_docs(ct_policy_set **set, const char *const *docs, size_t n, char *msg,
                      size_t msg_size)
{
    char *json[4];
    size_t lens[4];
    for (size_t i = 0; i < n; i++) {
        json[i] = json_of(docs[i]);
        lens[i] = strlen(json[i]);
    }
    ct_error err;
    ct_error_clear(&err);
    int rc = ct_policy_set_parse(set, (const char *const *)json, lens, n, "gen", &err);
    ct_error_format(&err, msg, msg_size);
    for (size_t i = 0; i < n; i++)
        free(json[i]);
    return rc;
}

/* Policy documents as text, as the generated policy's check reads them:
 * several documents are one principal's policies; statements are read as
 * the loader reads them; bad text is refused, naming the document. */
static void test_set_parse(void)
{
    ct_policy_set *set = NULL;
    char msg[1100];
    const char *two[] = {
        "{'Version': '2012-10-17', 'Statement': [{'Sid': 'A', 'Effect': 'Allow',\n"
        "  'Action': ['s3:Get*', 'iam:GetUser'], 'Resource': 'arn:aws:s3:::b/*'}]}",
        "{'Statement': {'Effect': 'Allow', 'Action': 'ec2:*', 'Resource': '*'}}"};
    CHECK_INT(parse_docs(&set, two, 2, msg, sizeof(msg)), 0);
    ct_decision d;
    /* An Allow limited by Resource still allows the action. */
    ct_policy_decide(set, "s3:getobject", &d);
    CHECK(d.granted);
    CHECK_STR(d.allowed_by, "gen 1");
    ct_policy_decide(set, "ec2:runinstances", &d);
    CHECK(d.granted);
    CHECK_STR(d.allowed_by, "gen 2");
    ct_policy_decide(set, "s3:putobject", &d);
    CHECK(!d.granted);
    ct_policy_set_free(set);

    /* A Deny works as in the loader's sets. */
    const char *deny[] = {"{'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'},"
                          "{'Effect': 'Deny', 'Action': 'iam:*', 'Resource': '*'}]}"};
    CHECK_INT(parse_docs(&set, deny, 1, msg, sizeof(msg)), 0);
    ct_policy_decide(set, "iam:createuser", &d);
    CHECK(!d.granted && d.denied);
    ct_policy_set_free(set);

    /* No documents: a set that grants nothing. */
    CHECK_INT(parse_docs(&set, NULL, 0, msg, sizeof(msg)), 0);
    ct_policy_decide(set, "s3:getobject", &d);
    CHECK(!d.allowed);
    ct_policy_set_free(set);

    static const struct {
        const char *doc;
        const char *message;
    } bad[] = {
        {"", "gen, document 2: file is empty: expected an IAM policy document"},
        {"{'Statement': [", "gen, document 2:1:15: JSON syntax error"},
        {"{'Statement': []} x", "gen, document 2:1:19: unexpected text after the JSON document"},
        {"['not', 'an object']", "gen, document 2: a policy document is a JSON object"},
        {"'{}'", "gen, document 2: a policy document is a JSON object"},
        {"{'Version': '2012-10-17'}", "gen, document 2: PolicyDocument has no Statement"},
        {"{'Statement': [{'Action': 's3:*', 'Resource': '*'}]}",
         "gen, document 2: Statement[0]: Effect is missing"},
        {"{'Statement': [{'Effect': 'Allow', 'Action': 'GetObject', 'Resource': '*'}]}",
         "gen, document 2: Statement[0]: Action entry \"GetObject\" is not \"*\" or "
         "\"service:action\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *docs[] = {two[1], bad[i].doc};
        set = (ct_policy_set *)1;
        CHECK_INT(parse_docs(&set, docs, 2, msg, sizeof(msg)), CT_EIAM);
        CHECK(set == NULL);
        CHECK_STR(msg, bad[i].message);
    }
    /* A NUL byte inside the text. */
    const char nul[] = "{\"Statement\": []}\0";
    const char *texts[] = {nul};
    size_t lens[] = {sizeof(nul) - 1};
    ct_error err;
    CHECK_INT(ct_policy_set_parse(&set, texts, lens, 1, "gen", &err), CT_EIAM);
    CHECK(strstr(err.message, "NUL byte") != NULL);

    /* Freeing NULL, or a set a ct_iam lends, does nothing. */
    ct_policy_set_free(NULL);
    ct_iam *iam = load_user("{'Effect':'Allow','Action':'s3:*','Resource':'*'}", NULL);
    ct_policy_set_free((ct_policy_set *)set_of(iam, "u"));
    ct_policy_decide(set_of(iam, "u"), "s3:getobject", &d);
    CHECK(d.granted);
    ct_iam_free(iam);
}

/* IAM's count of a document's size: white space between tokens is not
 * counted, white space inside strings is; a UTF-8 character counts one. */
static void test_text_size(void)
{
    const char *compact = "{\"Sid\":\"a b\",\"Action\":[\"s3:*\"]}";
    CHECK_INT((int)ct_policy_text_size(compact, strlen(compact)), (int)strlen(compact));
    const char *pretty = "{\n  \"Sid\": \"a b\",\r\n\t\"Action\": [ \"s3:*\" ]\n}\n";
    CHECK_INT((int)ct_policy_text_size(pretty, strlen(pretty)), (int)strlen(compact));
    /* An escaped quote does not end the string: the spaces after it count. */
    const char *escaped = "{\"a\": \"x\\\" y\"}";
    CHECK_INT((int)ct_policy_text_size(escaped, strlen(escaped)), 13);
    const char *utf8 = "{\"a\": \"\xc3\xa9t\xc3\xa9\"}"; /* "été": 3 characters, 5 bytes */
    CHECK_INT((int)ct_policy_text_size(utf8, strlen(utf8)), 11);
    CHECK_INT((int)ct_policy_text_size("", 0), 0);
}

int main(void)
{
    RUN(test_wildcard);
    RUN(test_allow_and_notaction);
    RUN(test_deny);
    RUN(test_boundary);
    RUN(test_notes_cap);
    RUN(test_expand_small_catalog);
    RUN(test_expand_edges);
    RUN(test_expand_matches_decide);
    RUN(test_set_parse);
    RUN(test_text_size);
    TEST_MAIN_END();
}
