/* Unit tests for the authorization-details loader: principals, groups,
 * managed policy versions, URL-encoded documents, and every class of
 * structural or syntax error it must refuse. */
#include "cloudtracker/iam.h"
#include "test.h"

#include <stdlib.h>

#define DATA CT_TEST_DATA "/iam/"

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

/* Loads a single-quoted document; returns the status and fills err. */
static int load_str(const char *single_quoted, ct_iam **iam, ct_error *err)
{
    char *j = json_of(single_quoted);
    ct_error_clear(err);
    int rc = ct_iam_load_buffer(iam, j, strlen(j), "t.json", err);
    free(j);
    return rc;
}

static bool granted(const ct_iam *iam, ct_principal_kind kind, const char *name, const char *action)
{
    const ct_principal *p = ct_iam_find(iam, kind, name);
    CHECK(p != NULL);
    if (!p)
        return false;
    ct_decision d;
    ct_policy_decide(ct_iam_policies(iam, p), action, &d);
    return d.granted;
}

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        ct_test_checks++;                                                                          \
        if (!strstr((hay), (needle))) {                                                            \
            ct_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, (hay),  \
                    (needle));                                                                     \
        }                                                                                          \
    } while (0)

static void test_account(void)
{
    ct_iam *iam = NULL;
    ct_error err;
    ct_error_clear(&err);
    int rc = ct_iam_load_file(&iam, DATA "account.json", &err);
    if (rc)
        fprintf(stderr, "  %s\n", err.message);
    CHECK_INT(rc, 0);
    if (rc)
        return;

    /* Sorted by name in byte order. */
    CHECK_INT(ct_iam_count(iam, CT_PRINCIPAL_USER), 3);
    CHECK_STR(ct_iam_get(iam, CT_PRINCIPAL_USER, 0)->name, "Bob");
    CHECK_STR(ct_iam_get(iam, CT_PRINCIPAL_USER, 1)->name, "alice");
    CHECK_STR(ct_iam_get(iam, CT_PRINCIPAL_USER, 2)->name, "carol");
    CHECK(ct_iam_get(iam, CT_PRINCIPAL_USER, 3) == NULL);
    CHECK_INT(ct_iam_count(iam, CT_PRINCIPAL_ROLE), 2);
    CHECK_STR(ct_iam_get(iam, CT_PRINCIPAL_ROLE, 0)->name, "Admin");
    CHECK_STR(ct_iam_get(iam, CT_PRINCIPAL_ROLE, 1)->name, "deployer");

    const ct_principal *alice = ct_iam_find(iam, CT_PRINCIPAL_USER, "alice");
    CHECK(alice != NULL);
    CHECK_STR(alice->arn, "arn:aws:iam::111111111111:user/alice");
    CHECK_STR(alice->create_date, "2020-01-15T10:00:00+00:00");
    CHECK(alice->kind == CT_PRINCIPAL_USER);

    /* Case-insensitive find, exact first. */
    CHECK(ct_iam_find(iam, CT_PRINCIPAL_USER, "ALICE") == alice);
    CHECK_STR(ct_iam_find(iam, CT_PRINCIPAL_USER, "bob")->name, "Bob");
    CHECK_STR(ct_iam_find(iam, CT_PRINCIPAL_ROLE, "admin")->name, "Admin");
    CHECK(ct_iam_find(iam, CT_PRINCIPAL_USER, "deployer") == NULL);
    CHECK(ct_iam_find(iam, CT_PRINCIPAL_USER, "nobody") == NULL);

    /* Group policies reach users: admins has AdministratorAccess minus an
     * inline Deny; DenyProdDelete's limited Denies are notes. */
    CHECK(granted(iam, CT_PRINCIPAL_USER, "alice", "ec2:runinstances"));
    CHECK(!granted(iam, CT_PRINCIPAL_USER, "alice", "iam:createuser"));
    CHECK(granted(iam, CT_PRINCIPAL_USER, "alice", "iam:getuser"));
    ct_decision d;
    ct_policy_decide(ct_iam_policies(iam, alice), "iam:deleteuser", &d);
    CHECK(d.denied);
    CHECK_STR(d.denied_by, "group/admins inline: no-iam-users");
    ct_policy_decide(ct_iam_policies(iam, alice), "s3:deleteobject", &d);
    CHECK(d.granted);
    CHECK_INT(d.note_count, 1);
    CHECK_STR(d.notes[0].policy, "DenyProdDelete");
    CHECK_STR(d.notes[0].sid, "ProdObjects");
    CHECK_STR(d.notes[0].limit, "Resource");
    ct_policy_decide(ct_iam_policies(iam, alice), "ec2:terminateinstances", &d);
    CHECK(d.granted);
    CHECK_STR(d.notes[0].limit, "Condition");
    ct_policy_decide(ct_iam_policies(iam, alice), "cloudwatch:putmetricdata", &d);
    CHECK_STR(d.allowed_by, "user/alice inline: cloudwatch");

    /* carol only has the auditors group. */
    CHECK(granted(iam, CT_PRINCIPAL_USER, "carol", "iam:listusers"));
    CHECK(granted(iam, CT_PRINCIPAL_USER, "carol", "ec2:describeinstances"));
    CHECK(!granted(iam, CT_PRINCIPAL_USER, "carol", "ec2:runinstances"));
    ct_policy_decide(ct_iam_policies(iam, ct_iam_find(iam, CT_PRINCIPAL_USER, "carol")),
                     "iam:getrole", &d);
    CHECK_STR(d.allowed_by, "SecurityAudit");

    /* Bob: default version v1 of DevS3 only (v2 allows "*"), URL-encoded
     * inline and managed documents, and the DevBoundary boundary. */
    CHECK(granted(iam, CT_PRINCIPAL_USER, "Bob", "s3:getobject"));
    CHECK(!granted(iam, CT_PRINCIPAL_USER, "Bob", "s3:deleteobject"));
    CHECK(!granted(iam, CT_PRINCIPAL_USER, "Bob", "ec2:runinstances"));
    CHECK(granted(iam, CT_PRINCIPAL_USER, "Bob", "sqs:sendmessage"));
    CHECK(granted(iam, CT_PRINCIPAL_USER, "Bob", "s3:listallmybuckets"));
    const ct_principal *bob = ct_iam_find(iam, CT_PRINCIPAL_USER, "Bob");
    ct_policy_decide(ct_iam_policies(iam, bob), "sns:publish", &d);
    CHECK(d.allowed);
    CHECK(d.outside_boundary);
    CHECK(!d.granted);
    CHECK_STR(d.allowed_by, "user/Bob inline: encoded-inline");

    /* Roles: NotAction inline policy; AdministratorAccess under a boundary. */
    CHECK(granted(iam, CT_PRINCIPAL_ROLE, "deployer", "s3:createbucket"));
    CHECK(!granted(iam, CT_PRINCIPAL_ROLE, "deployer", "iam:createuser"));
    CHECK(granted(iam, CT_PRINCIPAL_ROLE, "deployer", "sts:assumerole"));
    ct_policy_decide(ct_iam_policies(iam, ct_iam_find(iam, CT_PRINCIPAL_ROLE, "deployer")),
                     "s3:getobject", &d);
    CHECK_STR(d.allowed_by, "role/deployer inline: deploy");
    CHECK(granted(iam, CT_PRINCIPAL_ROLE, "Admin", "s3:putobject"));
    CHECK(!granted(iam, CT_PRINCIPAL_ROLE, "Admin", "iam:createrole"));
    CHECK(!granted(iam, CT_PRINCIPAL_ROLE, "Admin", "s3:deletebucket"));
    ct_policy_decide(ct_iam_policies(iam, ct_iam_find(iam, CT_PRINCIPAL_ROLE, "Admin")),
                     "s3:deletebucket", &d);
    CHECK_STR(d.denied_by, "DevBoundary (permissions boundary)");
    ct_iam_free(iam);
}

/* Loads a fixture that must fail with CT_EIAM and a message containing `msg`. */
static void expect_file_error(const char *path, const char *msg, int line, int col)
{
    ct_iam *iam = NULL;
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_iam_load_file(&iam, path, &err), CT_EIAM);
    CHECK(iam == NULL);
    CHECK_INT(err.code, CT_EIAM);
    CHECK_CONTAINS(err.message, msg);
    CHECK_STR(err.file, path);
    CHECK_INT(err.line, line);
    /* cJSON reports some errors one byte past the offending character. */
    CHECK(err.col == col || (col > 0 && err.col == col + 1));
}

static void test_file_errors(void)
{
    expect_file_error(DATA "truncated.json",
                      "file is a truncated page (IsTruncated: true): fetch all pages", 0, 0);
    expect_file_error(DATA "missing_managed.json",
                      "user Bob: attached policy arn:aws:iam::111111111111:policy/DevS3 is not "
                      "in the file",
                      0, 0);
    expect_file_error(DATA "missing_group.json", "user alice: group admins is not in the file", 0,
                      0);
    expect_file_error(DATA "missing_boundary.json",
                      "user Bob: permissions boundary arn:aws:iam::111111111111:policy/DevBoundary "
                      "is not in the file",
                      0, 0);
    expect_file_error(DATA "syntax_error.json", "JSON syntax error", 3, 42);
    expect_file_error(DATA "empty.json", "empty", 0, 0);
    expect_file_error(DATA "no-such-file.json", "No such file or directory", 0, 0);
    expect_file_error(
        DATA, "cannot read IAM authorization details: it is a folder, not a regular file", 0, 0);
}

static void expect_error(const char *doc, const char *msg)
{
    ct_iam *iam = NULL;
    ct_error err;
    int rc = load_str(doc, &iam, &err);
    CHECK_INT(rc, CT_EIAM);
    CHECK(iam == NULL);
    if (rc == CT_EIAM) {
        CHECK_CONTAINS(err.message, msg);
    } else {
        fprintf(stderr, "  accepted: %s\n", doc);
        ct_iam_free(iam);
    }
}

/* One user with one inline policy whose Statement is `statement`. */
static void expect_statement_error(const char *statement, const char *msg)
{
    char doc[4096];
    snprintf(doc, sizeof(doc),
             "{'UserDetailList':[{'UserName':'alice','Arn':'a','UserPolicyList':[{"
             "'PolicyName':'pol','PolicyDocument':{'Statement':%s}}]}]}",
             statement);
    expect_error(doc, msg);
}

static void test_malformed_statements(void)
{
    expect_statement_error("{'Action':'s3:*','Resource':'*'}",
                           "user alice: inline policy pol: Statement[0]: Effect is missing");
    expect_statement_error("[{'Effect':'Allow','Action':'s3:*'},{'Sid':'S2','Effect':'allow',"
                           "'Action':'s3:*'}]",
                           "user alice: inline policy pol: Statement[1] (Sid \"S2\"): Effect must "
                           "be \"Allow\" or \"Deny\"");
    expect_statement_error("{'Effect':'Allow','Action':'s3:*','NotAction':'s3:Get*'}",
                           "Statement[0]: has both Action and NotAction");
    expect_statement_error("{'Effect':'Allow','Resource':'*'}",
                           "Statement[0]: has neither Action nor NotAction");
    expect_statement_error("{'Effect':'Allow','Action':5}",
                           "Statement[0]: Action must be a string or an array of strings");
    expect_statement_error("{'Effect':'Allow','Action':['s3:*',{}]}",
                           "Statement[0]: Action must be a string or an array of strings");
    expect_statement_error("{'Effect':'Deny','NotAction':'s3'}",
                           "Statement[0]: NotAction entry \"s3\" is not \"*\" or "
                           "\"service:action\"");
    expect_statement_error("{'Effect':'Deny','Action':'**'}", "entry \"**\" is not");
    expect_statement_error("{'Effect':'Deny','Action':''}", "entry \"\" is not");
    expect_statement_error("{'Effect':'Allow','Action':'s3:*','Resource':'*',"
                           "'NotResource':'*'}",
                           "has both Resource and NotResource");
    expect_statement_error("{'Effect':'Allow','Action':'s3:*','Resource':7}",
                           "Resource must be a string or an array of strings");
    expect_statement_error("{'Effect':'Allow','Action':'s3:*','Condition':'x'}",
                           "Condition must be an object");
    expect_statement_error("{'Sid':3,'Effect':'Allow','Action':'s3:*'}", "Sid must be a string");
    expect_statement_error("['x']", "Statement[0] is not an object");
    expect_statement_error("'text'", "Statement must be an object or an array of objects");
    expect_error("{'UserDetailList':[{'UserName':'alice','Arn':'a','UserPolicyList':[{"
                 "'PolicyName':'pol','PolicyDocument':{'Version':'2012-10-17'}}]}]}",
                 "user alice: inline policy pol: PolicyDocument has no Statement");
    expect_error("{'UserDetailList':[{'UserName':'alice','Arn':'a','UserPolicyList':[{"
                 "'PolicyName':'pol'}]}]}",
                 "user alice: inline policy pol: PolicyDocument is missing");
    expect_error("{'UserDetailList':[{'UserName':'alice','Arn':'a','UserPolicyList':[{"
                 "'PolicyName':'pol','PolicyDocument':'%7B%22Statement%22%3A'}]}]}",
                 "user alice: inline policy pol: PolicyDocument string is not valid JSON");
    expect_error("{'UserDetailList':[{'UserName':'alice','Arn':'a','UserPolicyList':[{"
                 "'PolicyName':'pol','PolicyDocument':'%7B%2'}]}]}",
                 "malformed %-escape");
    expect_error("{'UserDetailList':[{'UserName':'alice','Arn':'a','UserPolicyList':[{"
                 "'PolicyName':'pol','PolicyDocument':'%7B%00%7D'}]}]}",
                 "malformed %-escape");
    expect_error("{'UserDetailList':[{'UserName':'alice','Arn':'a','UserPolicyList':[{"
                 "'PolicyName':'pol','PolicyDocument':[]}]}]}",
                 "PolicyDocument must be a JSON object or a URL-encoded JSON string");
    /* A malformed managed policy names the policy; statement errors in
     * managed policies are found when a principal uses them. */
    expect_error("{'UserDetailList':[{'UserName':'alice','Arn':'a','AttachedManagedPolicies':"
                 "[{'PolicyName':'P','PolicyArn':'arn:p'}]}],'Policies':[{'PolicyName':'P',"
                 "'Arn':'arn:p','DefaultVersionId':'v1','PolicyVersionList':[{'VersionId':'v1',"
                 "'IsDefaultVersion':true,'Document':{'Statement':{'Effect':'Allow'}}}]}]}",
                 "user alice: policy arn:p: Statement[0]: has neither Action nor NotAction");
}

static void test_structure_errors(void)
{
    expect_error("[]", "top level is not an object");
    expect_error("42", "top level is not an object");
    expect_error("{}", "not an authorization-details document");
    expect_error("{'UserDetailList':{}}", "top level: UserDetailList must be an array");
    expect_error("{'UserDetailList':[{'Arn':'a'}]}", "UserDetailList[0]: UserName is missing");
    expect_error("{'UserDetailList':[{'UserName':5,'Arn':'a'}]}",
                 "UserDetailList[0]: UserName must be a string");
    expect_error("{'RoleDetailList':[{'RoleName':'r'}]}", "role r: Arn is missing");
    expect_error("{'UserDetailList':[{'UserName':'a','Arn':'a'},{'UserName':'A','Arn':'b'}]}",
                 "user A is listed twice");
    expect_error("{'UserDetailList':[{'UserName':'a','Arn':'a','GroupList':[1]}]}",
                 "user a: GroupList must hold group names");
    expect_error("{'UserDetailList':[{'UserName':'a','Arn':'a','GroupList':'g'}]}",
                 "user a: GroupList must be an array");
    expect_error("{'IsTruncated':'true','UserDetailList':[]}", "IsTruncated must be true or false");
    expect_error("{'UserDetailList':[], 'x':1} junk", "unexpected text after the JSON document");
    expect_error("{'UserDetailList':[{'UserName':'a','Arn':'a','AttachedManagedPolicies':"
                 "[{'PolicyName':'SecurityAudit','PolicyArn':'arn:aws:iam::aws:policy/"
                 "SecurityAudit'}]}]}",
                 "user a: attached policy arn:aws:iam::aws:policy/SecurityAudit is not in the "
                 "file");
    expect_error("{'UserDetailList':[{'UserName':'a','Arn':'a','PermissionsBoundary':"
                 "{'PermissionsBoundaryType':'PermissionsBoundaryPolicy'}}]}",
                 "user a: PermissionsBoundary: PermissionsBoundaryArn is missing");
    /* Default version selection. */
    const char *tpl = "{'Policies':[{'PolicyName':'P','Arn':'arn:p'%s}]}";
    char doc[1024];
    snprintf(doc, sizeof(doc), tpl,
             ",'DefaultVersionId':'v3','PolicyVersionList':[{'VersionId':'v1','Document':{}}]");
    expect_error(doc, "policy arn:p: no version is marked default");
    snprintf(doc, sizeof(doc), tpl, "");
    expect_error(doc, "policy arn:p: no version is marked default");
    snprintf(doc, sizeof(doc), tpl,
             ",'DefaultVersionId':'v1','PolicyVersionList':[{'VersionId':'v1','Document':{}},"
             "{'VersionId':'v2','IsDefaultVersion':true,'Document':{}}]");
    expect_error(doc, "IsDefaultVersion and DefaultVersionId (v1) name different versions");
    snprintf(doc, sizeof(doc), tpl,
             ",'PolicyVersionList':[{'VersionId':'v1','IsDefaultVersion':true,'Document':{}},"
             "{'VersionId':'v2','IsDefaultVersion':true,'Document':{}}]");
    expect_error(doc, "several versions have IsDefaultVersion true");
    snprintf(doc, sizeof(doc), tpl,
             ",'DefaultVersionId':'v1','PolicyVersionList':[{'VersionId':'v1',"
             "'IsDefaultVersion':true}]");
    expect_error(doc, "policy arn:p: the default version has no Document");
    expect_error("{'Policies':[{'PolicyName':'P','Arn':'arn:p','DefaultVersionId':'v1',"
                 "'PolicyVersionList':[{'VersionId':'v1','Document':{}}]},"
                 "{'PolicyName':'P','Arn':'arn:p','DefaultVersionId':'v1',"
                 "'PolicyVersionList':[{'VersionId':'v1','Document':{}}]}]}",
                 "policy arn:p: listed twice in Policies");

    /* Messages carry names raw; the CLI escapes whatever it prints (see the
     * escape_codes golden tests). */
    expect_error("{'UserDetailList':[{'UserName':'a\\u001b[31m','Arn':'a','GroupList':['g']}]}",
                 "user a\x1b[31m: group g is not in the file");
}

static void test_accepted_variants(void)
{
    ct_iam *iam = NULL;
    ct_error err;
    /* DefaultVersionId alone identifies the version; a group without members
     * may hold a policy we would reject; unused managed policies are not
     * compiled; Statement as an object; a document that is a plain JSON
     * string; PermissionsBoundary null. */
    int rc = load_str(
        "{'UserDetailList':[{'UserName':'u','Arn':'a','PermissionsBoundary':null,"
        "'AttachedManagedPolicies':[{'PolicyArn':'arn:p'}],"
        "'UserPolicyList':[{'PolicyName':'s','PolicyDocument':"
        "' {\\'Statement\\':{\\'Effect\\':\\'Allow\\',\\'Action\\':\\'sns:Publish\\'}}'}]}],"
        "'GroupDetailList':[{'GroupName':'g','GroupPolicyList':[{'PolicyName':'bad',"
        "'PolicyDocument':{'Statement':{}}}]}],"
        "'Policies':[{'PolicyName':'P','Arn':'arn:p','DefaultVersionId':'v2',"
        "'PolicyVersionList':[{'VersionId':'v1','Document':{'Statement':{'Effect':'Allow',"
        "'Action':'*'}}},{'VersionId':'v2','Document':{'Statement':{'Effect':'Allow',"
        "'Action':'s3:GetObject','Resource':'*'}}}]},"
        "{'PolicyName':'Q','Arn':'arn:q','DefaultVersionId':'v1','PolicyVersionList':"
        "[{'VersionId':'v1','IsDefaultVersion':true,'Document':{'Statement':7}}]}]}",
        &iam, &err);
    if (rc)
        fprintf(stderr, "  %s\n", err.message);
    CHECK_INT(rc, 0);
    if (!rc) {
        CHECK(granted(iam, CT_PRINCIPAL_USER, "u", "s3:getobject"));
        CHECK(!granted(iam, CT_PRINCIPAL_USER, "u", "s3:putobject"));
        CHECK(granted(iam, CT_PRINCIPAL_USER, "u", "sns:publish"));
        CHECK_INT(ct_iam_count(iam, CT_PRINCIPAL_ROLE), 0);
        CHECK(ct_iam_get(iam, CT_PRINCIPAL_ROLE, 0) == NULL);
        CHECK(ct_iam_find(iam, CT_PRINCIPAL_ROLE, "u") == NULL);
    }
    ct_iam_free(iam);
    ct_iam_free(NULL);

    /* Only some lists present (aws iam get-account-authorization-details --filter Role). */
    rc = load_str("{'RoleDetailList':[{'RoleName':'r','Arn':'a','RolePolicyList':[]}],"
                  "'IsTruncated':false}",
                  &iam, &err);
    CHECK_INT(rc, 0);
    CHECK_INT(ct_iam_count(iam, CT_PRINCIPAL_ROLE), 1);
    CHECK_INT(ct_iam_count(iam, CT_PRINCIPAL_USER), 0);
    const ct_principal *r = ct_iam_get(iam, CT_PRINCIPAL_ROLE, 0);
    CHECK_STR(r->create_date, "");
    CHECK(r->kind == CT_PRINCIPAL_ROLE);
    CHECK(!granted(iam, CT_PRINCIPAL_ROLE, "r", "s3:getobject"));
    ct_iam_free(iam);
}

static void test_syntax_positions(void)
{
    ct_iam *iam = NULL;
    ct_error err;
    const char *text = "{\n  \"UserDetailList\": [\n    {\"UserName\": tru}\n  ]\n}\n";
    CHECK_INT(ct_iam_load_buffer(&iam, text, strlen(text), "pos.json", &err), CT_EIAM);
    CHECK_STR(err.file, "pos.json");
    CHECK_INT(err.line, 3);
    CHECK(err.col >= 17 && err.col <= 21);
    /* Truncated file (a partial download). */
    text = "{\n  \"UserDetailList\": [\n    {\"UserName\": \"a";
    CHECK_INT(ct_iam_load_buffer(&iam, text, strlen(text), "cut.json", &err), CT_EIAM);
    CHECK_INT(err.line, 3);
    /* NUL bytes are refused at their position. */
    const char nul[] = "{\"UserDetailList\": [\0]}";
    CHECK_INT(ct_iam_load_buffer(&iam, nul, sizeof(nul) - 1, "nul.json", &err), CT_EIAM);
    CHECK_INT(err.line, 1);
    CHECK_INT(err.col, 21);
    CHECK_INT(ct_iam_load_buffer(&iam, " \n\t", 3, "ws.json", &err), CT_EIAM);
    CHECK_CONTAINS(err.message, "file is empty");
    CHECK(iam == NULL);
}

/* JSON nested past cJSON's limit is refused as such, with its position,
 * in the file and in a policy document given as a string. */
static void test_nesting_limit(void)
{
    ct_buf b = CT_BUF_INIT;
    ct_iam *iam = NULL;
    ct_error err;
    for (int levels = CT_IAM_MAX_DEPTH - 1; levels <= CT_IAM_MAX_DEPTH; levels++) {
        ct_buf_reset(&b);
        /* A string full of brackets does not count. */
        ct_buf_puts(&b, "{\"GroupDetailList\": [], \"x\": \"[[[[{{{{\",\n\"UserDetailList\": ");
        for (int i = 0; i < levels; i++)
            ct_buf_puts(&b, "[");
        for (int i = 0; i < levels; i++)
            ct_buf_puts(&b, "]");
        ct_buf_puts(&b, "}");
        CHECK_INT(ct_iam_load_buffer(&iam, b.data, b.len, "deep.json", &err), CT_EIAM);
        if (levels < CT_IAM_MAX_DEPTH) {
            /* 1 + 999 levels are parsed; the loader then refuses the content. */
            CHECK_CONTAINS(err.message, "UserDetailList[0] is not an object");
        } else {
            CHECK_STR(err.message, "lists and objects nested deeper than 1000 levels (the limit "
                                   "for JSON input)");
            CHECK_STR(err.file, "deep.json");
            CHECK_INT(err.line, 2);
            /* The 1000th '[' is level 1001; cJSON may report one past it. */
            CHECK(err.col == 19 + 999 || err.col == 19 + 1000);
        }
    }
    ct_buf_reset(&b);
    ct_buf_puts(&b, "{'UserDetailList':[{'UserName':'alice','Arn':'a','UserPolicyList':[{"
                    "'PolicyName':'pol','PolicyDocument':'{\\'Statement\\': ");
    for (int i = 0; i < CT_IAM_MAX_DEPTH; i++)
        ct_buf_puts(&b, "[");
    for (int i = 0; i < CT_IAM_MAX_DEPTH; i++)
        ct_buf_puts(&b, "]");
    ct_buf_puts(&b, "}'}]}]}");
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\'')
            b.data[i] = '"';
    CHECK_INT(ct_iam_load_buffer(&iam, b.data, b.len, "deepdoc.json", &err), CT_EIAM);
    CHECK_CONTAINS(err.message, "PolicyDocument string has lists and objects nested deeper than "
                                "1000 levels (the limit for JSON input)");
    ct_buf_release(&b);
}

/* The review's evidence of the file: the SHA-256 of its bytes (the
 * expected value is Python's hashlib.sha256 of the same text) and the
 * latest date it states. */
static void test_digest_and_latest_date(void)
{
    ct_iam *iam = NULL;
    ct_error err;
    const char *doc = "{'UserDetailList':[{'UserName':'a','Arn':'arn:aws:iam::1:user/a',"
                      "'CreateDate':'2018-01-02T00:00:00Z'}],"
                      "'RoleDetailList':[{'RoleName':'r','Arn':'arn:aws:iam::1:role/r',"
                      "'CreateDate':'2017-05-05T00:00:00Z',"
                      "'RoleLastUsed':{'LastUsedDate':'2018-06-30T10:00:00Z'}}],"
                      "'Policies':[{'PolicyName':'p','Arn':'arn:aws:iam::1:policy/p',"
                      "'DefaultVersionId':'v1','UpdateDate':'2018-06-01T00:00:00Z',"
                      "'PolicyVersionList':[{'VersionId':'v1','IsDefaultVersion':true,"
                      "'Document':{'Version':'2012-10-17','Statement':[]}}]}]}";
    CHECK(load_str(doc, &iam, &err) == 0);
    if (!iam)
        return;
    CHECK_STR(ct_iam_latest_date(iam), "2018-06-30T10:00:00Z");
    CHECK_STR(ct_iam_sha256(iam),
              "3a2020e9310984195f3e6cd83f6c5abc31305b7ff4e40a0047938c4a13b90027");
    ct_iam_free(iam);

    CHECK(load_str("{'UserDetailList':[{'UserName':'a','Arn':'arn:aws:iam::1:user/a'}]}", &iam,
                   &err) == 0);
    if (iam)
        CHECK_STR(ct_iam_latest_date(iam), "");
    ct_iam_free(iam);
}

int main(void)
{
    RUN(test_account);
    RUN(test_file_errors);
    RUN(test_malformed_statements);
    RUN(test_structure_errors);
    RUN(test_accepted_variants);
    RUN(test_syntax_positions);
    RUN(test_nesting_limit);
    RUN(test_digest_and_latest_date);
    TEST_MAIN_END();
}
