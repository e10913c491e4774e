/* Unit tests for the diff (verdicts from grants and calls) and its text and
 * JSON rendering, including filters and untrusted strings. */
#include "cloudtracker/actions.h"
#include "cloudtracker/iam.h"
#include "cloudtracker/report.h"
#include "report/internal.h"
#include "test.h"

#include <stdlib.h>

static ct_catalog *catalog;

/* One user "u" with the given statements; NULL on failure. */
static ct_iam *user_with(const char *statements)
{
    char doc[4096];
    snprintf(doc, sizeof(doc),
             "{\"UserDetailList\":[{\"UserName\":\"u\",\"Arn\":\"arn:aws:iam::1:user/u\","
             "\"CreateDate\":\"2020-01-01T00:00:00Z\",\"GroupList\":[],"
             "\"AttachedManagedPolicies\":[],\"UserPolicyList\":[{\"PolicyName\":\"p\","
             "\"PolicyDocument\":{\"Version\":\"2012-10-17\",\"Statement\":[%s]}}]}],"
             "\"GroupDetailList\":[],\"RoleDetailList\":[],\"Policies\":[]}",
             statements);
    ct_iam *iam = NULL;
    ct_error err;
    if (ct_iam_load_buffer(&iam, doc, strlen(doc), "t.json", &err) != 0) {
        fprintf(stderr, "load: %s\n", err.message);
        return NULL;
    }
    return iam;
}

/* Data events handed to ct_diff_build, counting how often they are asked
 * for; `fail` makes the call fail with that code. */
struct fake_data {
    const ct_data_events *events;
    int calls;
    int fail;
};

static int fake_data_events(void *ud, ct_data_events *out, ct_error *err)
{
    struct fake_data *fd = ud;
    fd->calls++;
    if (fd->fail)
        return ct_error_set(err, fd->fail, "the backend failed");
    for (size_t i = 0; fd->events && i < fd->events->count; i++) {
        const ct_data_event *e = &fd->events->items[i];
        if (ct_data_events_add(out, e->event_source, e->event_name, e->read_only, e->count,
                               e->first_day, e->last_day) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return 0;
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

static void test_verdicts(void)
{
    ct_iam *iam =
        user_with("{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"cloudwatch:GetMetricData\"],"
                  "\"Resource\":\"*\"},"
                  "{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteBucket\",\"Resource\":\"*\"},"
                  "{\"Sid\":\"OnlyProd\",\"Effect\":\"Deny\",\"Action\":\"s3:PutBucketPolicy\","
                  "\"Resource\":\"arn:aws:s3:::prod\"}");
    CHECK(iam != NULL);
    if (!iam)
        return;
    const ct_principal *u = ct_iam_find(iam, CT_PRINCIPAL_USER, "u");
    ct_calls calls = {0};
    /* used and granted; a new S3 API the catalog does not know yet (granted
     * by s3:*); explicitly denied but called; failed calls only; a call
     * needing no permission; an unmappable name. */
    ct_calls_add(&calls, "s3.amazonaws.com", "CreateBucket", CT_EVENT_API, 3, 1, 100, 120);
    ct_calls_add(&calls, "s3.amazonaws.com", "FrobnicateBucket20991231", CT_EVENT_API, 1, 0, 110,
                 110);
    ct_calls_add(&calls, "s3.amazonaws.com", "DeleteBucket", CT_EVENT_API, 2, 0, 105, 106);
    ct_calls_add(&calls, "iam.amazonaws.com", "CreateUser", CT_EVENT_API, 0, 4, 101, 102);
    ct_calls_add(&calls, "sts.amazonaws.com", "GetCallerIdentity", CT_EVENT_API, 9, 0, 100, 130);
    ct_calls_add(&calls, "s3.amazonaws.com", "Bad\x1bName", CT_EVENT_API, 1, 0, 100, 100);
    /* ListBuckets is logged as s3:ListAllMyBuckets, HeadObject as s3:GetObject. */
    ct_calls_add(&calls, "s3.amazonaws.com", "ListBuckets", CT_EVENT_API, 1, 0, 100, 100);
    ct_calls_add(&calls, "s3.amazonaws.com", "HeadObject", CT_EVENT_API, 1, 0, 100, 100);

    ct_diff d;
    ct_error err;
    CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, u), &calls, NULL, NULL, &err), 0);
    CHECK_INT(verdict_of(&d, "s3:createbucket"), CT_VERDICT_USED);
    const ct_diff_entry *e = entry(&d, "s3:createbucket");
    CHECK(e && e->count == 3 && e->error_count == 1 && e->first_day == 100 && e->last_day == 120);
    CHECK_INT(verdict_of(&d, "s3:frobnicatebucket"), CT_VERDICT_USED); /* date suffix stripped */
    CHECK_INT(verdict_of(&d, "s3:deletebucket"), CT_VERDICT_NOT_GRANTED);
    e = entry(&d, "s3:deletebucket");
    ct_decision decision = {0};
    if (e)
        ct_diff_decision(&d, e, &decision);
    CHECK(e && decision.denied && decision.denied_by);
    CHECK_INT(verdict_of(&d, "iam:createuser"), CT_VERDICT_ATTEMPTED);
    CHECK_INT(verdict_of(&d, "sts:getcalleridentity"), -1);
    CHECK_INT(verdict_of(&d, "s3:listallmybuckets"), CT_VERDICT_USED);
    CHECK_INT(verdict_of(&d, "s3:getobject"), CT_VERDICT_USED);
    CHECK_INT(verdict_of(&d, "s3:putobject"), CT_VERDICT_UNKNOWN); /* data event */
    CHECK_INT(verdict_of(&d, "s3:getbucketpolicy"), CT_VERDICT_UNUSED);
    CHECK_INT(verdict_of(&d, "cloudwatch:getmetricdata"), CT_VERDICT_UNKNOWN);
    e = entry(&d, "s3:putbucketpolicy");
    if (e)
        ct_diff_decision(&d, e, &decision);
    CHECK(e && e->verdict == CT_VERDICT_UNUSED && decision.note_count == 1);
    CHECK_INT(d.unmapped_calls, 1);
    CHECK(d.unmapped_example && strstr(d.unmapped_example, "Bad\x1bName"));
    for (size_t i = 1; i < d.count; i++)
        CHECK(strcmp(d.entries[i - 1].action, d.entries[i].action) < 0);

    /* Filters. */
    ct_render_options o = {0};
    o.show_used = true;
    CHECK(ct_render_keeps(&o, entry(&d, "s3:createbucket")));
    CHECK(ct_render_keeps(&o, entry(&d, "s3:deletebucket")));
    CHECK(!ct_render_keeps(&o, entry(&d, "s3:getbucketpolicy")));
    CHECK(!ct_render_keeps(&o, entry(&d, "iam:createuser")));
    o.show_used = false;
    o.show_unused = true;
    CHECK(ct_render_keeps(&o, entry(&d, "s3:putobject")));
    CHECK(ct_render_keeps(&o, entry(&d, "s3:getbucketpolicy")));
    CHECK(!ct_render_keeps(&o, entry(&d, "s3:createbucket")));
    o.ignore_unknown = true;
    CHECK(!ct_render_keeps(&o, entry(&d, "s3:putobject")));
    o.show_unused = o.ignore_unknown = false;
    o.ignore_benign = true;
    CHECK(!ct_render_keeps(&o, entry(&d, "s3:listallmybuckets")));
    CHECK(ct_render_keeps(&o, entry(&d, "s3:getbucketpolicy")));

    /* Text rendering: marks, and nothing raw from the IAM file. */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ct_render_options text = {0};
    ct_report_subject s = {0};
    s.account_name = "a";
    s.account_id = "111111111111";
    s.principal = u;
    CHECK_INT(ct_report_print(out, &text, &s, &d), 0);
    fclose(out);
    CHECK(strncmp(buf, "Getting info on u, user created 2020-01-01T00:00:00Z\n", 53) == 0);
    CHECK(strstr(buf, "\n  s3:createbucket\n") != NULL);
    CHECK(strstr(buf, "\n+ s3:deletebucket\n") != NULL);
    CHECK(strstr(buf, "\n? s3:putobject\n") != NULL);
    CHECK(strstr(buf, "\n- s3:getbucketpolicy\n") != NULL);
    CHECK(strstr(buf, "iam:createuser") == NULL); /* failed calls only: JSON reports them */
    free(buf);

    /* JSON: valid escapes, reasons and limited denies. */
    out = open_memstream(&buf, &len);
    ct_render_options json = {0};
    json.format = CT_FORMAT_JSON;
    const char *warnings[] = {"file x\x1b: broken \xff"};
    s.warnings = warnings;
    s.warning_count = 1;
    CHECK_INT(ct_report_print(out, &json, &s, &d), 0);
    fclose(out);
    CHECK(strstr(buf, "\"warnings\": [\"file x\\u001b: broken \\ufffd\"]") != NULL);
    CHECK(strstr(buf, "{\"action\": \"iam:createuser\", \"status\": \"attempted_not_granted\", "
                      "\"calls\": 0, \"failed_calls\": 4") != NULL);
    CHECK(strstr(buf, "\"not_granted_because\": {\"reason\": \"explicit_deny\"") != NULL);
    CHECK(strstr(buf, "\"limited_denies\": [{\"policy\": \"user/u inline: p\", \"sid\": "
                      "\"OnlyProd\", \"limited_by\": \"Resource\"}]") != NULL);
    CHECK(strstr(buf, "\"access_level\": null") != NULL); /* s3:frobnicatebucket */
    free(buf);

    ct_diff_release(&d);
    ct_calls_release(&calls);
    ct_iam_free(iam);
}

static void test_boundary_reason(void)
{
    const char *doc =
        "{\"UserDetailList\":[],\"GroupDetailList\":[],\"RoleDetailList\":[{\"RoleName\":\"r\","
        "\"Arn\":\"arn:aws:iam::1:role/r\",\"RolePolicyList\":[{\"PolicyName\":\"p\","
        "\"PolicyDocument\":{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*"
        "\"}}}],"
        "\"AttachedManagedPolicies\":[],\"PermissionsBoundary\":{\"PermissionsBoundaryType\":"
        "\"PermissionsBoundaryPolicy\",\"PermissionsBoundaryArn\":\"arn:b\"}}],"
        "\"Policies\":[{\"PolicyName\":\"B\",\"Arn\":\"arn:b\",\"DefaultVersionId\":\"v1\","
        "\"PolicyVersionList\":[{\"VersionId\":\"v1\",\"IsDefaultVersion\":true,\"Document\":"
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ec2:Describe*\",\"Resource\":\"*\"}}}]}]"
        "}";
    ct_iam *iam = NULL;
    ct_error err;
    CHECK_INT(ct_iam_load_buffer(&iam, doc, strlen(doc), "b.json", &err), 0);
    if (!iam)
        return;
    const ct_principal *r = ct_iam_find(iam, CT_PRINCIPAL_ROLE, "r");
    ct_calls calls = {0};
    ct_calls_add(&calls, "iam.amazonaws.com", "CreateUser", CT_EVENT_API, 1, 0, 1, 1);
    ct_calls_add(&calls, "ec2.amazonaws.com", "DescribeInstances", CT_EVENT_API, 1, 0, 1, 1);
    ct_diff d;
    struct fake_data fd = {NULL, 0, 0};
    CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, r), &calls, fake_data_events, &fd,
                            &err),
              0);
    CHECK_INT(fd.calls, 0); /* ec2:Describe* only: the data events are never asked for */
    CHECK_INT(verdict_of(&d, "iam:createuser"), CT_VERDICT_NOT_GRANTED);
    const ct_diff_entry *e = entry(&d, "iam:createuser");
    ct_decision decision = {0};
    if (e)
        ct_diff_decision(&d, e, &decision);
    CHECK(e && decision.allowed && decision.outside_boundary);
    CHECK_INT(verdict_of(&d, "ec2:describeinstances"), CT_VERDICT_USED);
    /* Only ec2:Describe* survives the boundary. */
    for (size_t i = 0; i < d.count; i++)
        CHECK(strncmp(d.entries[i].action, "ec2:describe", 12) == 0 ||
              d.entries[i].verdict == CT_VERDICT_NOT_GRANTED);
    ct_diff_release(&d);
    ct_calls_release(&calls);
    ct_iam_free(iam);
}

/* Event kinds, permission-free calls, data-event evidence, request-dependent
 * calls and actions checked inside other calls. */
static void test_visibility_verdicts(void)
{
    ct_iam *iam = user_with(
        "{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\",\"s3:ListBucket\","
        "\"s3:DeleteObject\",\"s3:GetObjectVersion\",\"sts:GetCallerIdentity\","
        "\"es:ESHttpGet\",\"health:DescribeEventAggregates\",\"ec2:RunInstances\","
        "\"ec2:CreateTags\",\"dynamodb:PartiQLSelect\",\"dynamodb:PartiQLDelete\","
        "\"dynamodb:GetItem\",\"iam:CreateUser\"],\"Resource\":\"*\"}");
    CHECK(iam != NULL);
    if (!iam)
        return;
    const ct_principal *u = ct_iam_find(iam, CT_PRINCIPAL_USER, "u");
    ct_calls calls = {0};
    ct_calls_add(&calls, "ec2.amazonaws.com", "RunInstances", CT_EVENT_API, 2, 0, 10, 11);
    ct_calls_add(&calls, "sts.amazonaws.com", "GetCallerIdentity", CT_EVENT_API, 3, 0, 10, 12);
    ct_calls_add(&calls, "dynamodb.amazonaws.com", "ExecuteStatement", CT_EVENT_API, 5, 0, 10, 10);
    /* Sign-in and service events are no use of an action, whatever their
     * names say; a console action counts only as a catalog action. */
    ct_calls_add(&calls, "iam.amazonaws.com", "CreateUser", CT_EVENT_SERVICE, 1, 0, 10, 10);
    ct_calls_add(&calls, "signin.amazonaws.com", "ConsoleLogin", CT_EVENT_SIGNIN, 4, 1, 10, 10);
    ct_calls_add(&calls, "s3.amazonaws.com", "DeleteObject", CT_EVENT_CONSOLE, 1, 0, 10, 10);
    ct_calls_add(&calls, "s3.amazonaws.com", "FrobConsole", CT_EVENT_CONSOLE, 1, 0, 10, 10);

    /* The account's logs: S3 write data events only (and events without
     * a readOnly, which say nothing). */
    ct_data_events data = {0};
    ct_data_events_add(&data, "s3.amazonaws.com", "PutObject", 0, 7, 9, 12);
    ct_data_events_add(&data, "s3.amazonaws.com", "DeleteObjects", 0, 2, 9, 9);
    ct_data_events_add(&data, "s3.amazonaws.com", "GetObject", -1, 3, 9, 9);

    ct_diff d;
    ct_error err;
    struct fake_data fd = {&data, 0, 0};
    CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, u), &calls, fake_data_events, &fd,
                            &err),
              0);
    CHECK_INT(fd.calls, 1); /* asked once, however many data-event actions */
    const ct_diff_entry *e = entry(&d, "sts:getcalleridentity");
    CHECK(e && e->verdict == CT_VERDICT_USED && e->count == 3);
    CHECK_INT(verdict_of(&d, "iam:createuser"), CT_VERDICT_UNUSED); /* the service event */
    CHECK_INT(verdict_of(&d, "s3:deleteobject"), CT_VERDICT_USED);  /* console action */
    CHECK_INT(verdict_of(&d, "s3:frobconsole"), -1);
    CHECK_INT(d.non_action_events, 1 + 5 + 1);
    /* Write data events are logged: PutObject and DeleteObject (writes)
     * can be judged; ListBucket and GetObject (reads, or of unknown kind)
     * cannot. */
    e = entry(&d, "s3:putobject");
    CHECK(e && e->verdict == CT_VERDICT_UNUSED && e->visible);
    CHECK_INT(verdict_of(&d, "s3:deleteobject"), CT_VERDICT_USED); /* the console action */
    CHECK_INT(verdict_of(&d, "s3:listbucket"), CT_VERDICT_UNKNOWN);
    CHECK_INT(verdict_of(&d, "s3:getobject"), CT_VERDICT_UNKNOWN);
    /* Needed by GetObject only with a versionId: never judged. */
    CHECK_INT(verdict_of(&d, "s3:getobjectversion"), CT_VERDICT_UNKNOWN);
    CHECK(ct_diff_data_seen(&d, "AWS::S3::Object", 0) != NULL);
    CHECK(ct_diff_data_seen(&d, "AWS::S3::Object", 0)->events == 9);
    CHECK(ct_diff_data_seen(&d, "AWS::S3::Object", 1) == NULL);
    CHECK_INT(verdict_of(&d, "es:eshttpget"), CT_VERDICT_UNKNOWN);
    CHECK_INT(verdict_of(&d, "health:describeeventaggregates"), CT_VERDICT_UNUSED);
    /* RunInstances was used: CreateTags may have been checked inside it. */
    e = entry(&d, "ec2:createtags");
    CHECK(e && e->verdict == CT_VERDICT_UNKNOWN && e->hidden_by_action &&
          strcmp(e->hidden_by_action, "ec2:runinstances") == 0);
    /* ExecuteStatement: either PartiQL action may have been used; no
     * verdict of "used" or "unused" for them. Data events of DynamoDB are
     * not logged here anyway; GetItem is not touched by it. */
    e = entry(&d, "dynamodb:partiqlselect");
    CHECK(e && e->verdict == CT_VERDICT_UNKNOWN && e->count == 0);
    CHECK_INT(verdict_of(&d, "dynamodb:getitem"), CT_VERDICT_UNKNOWN);

    /* JSON says why. */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ct_render_options json = {0};
    json.format = CT_FORMAT_JSON;
    ct_report_subject subj = {0};
    subj.account_name = "a";
    subj.account_id = "111111111111";
    subj.principal = u;
    CHECK_INT(ct_report_print(out, &json, &subj, &d), 0);
    fclose(out);
    CHECK(strstr(buf, "\"action\": \"s3:putobject\", \"status\": \"unused\"") != NULL);
    CHECK(strstr(buf, "\"class\": \"data_event\", \"reason\": \"data event (AWS::S3::Object, "
                      "write): this account's logs hold 9 such data events") != NULL);
    CHECK(strstr(buf, "\"reason\": \"data event (AWS::S3::Object, read and write): logged only "
                      "when a trail selects") != NULL);
    CHECK(strstr(buf, "\"hidden_by\": {\"checked_inside\": \"ec2:runinstances\"") != NULL);
    CHECK(strstr(buf, "\"hidden_by\": {\"request_dependent\": \"dynamodb.amazonaws.com "
                      "ExecuteStatement\"") != NULL);
    CHECK(strstr(buf, "\"class\": \"permission_only\"") != NULL);
    CHECK(strstr(buf, "needed by GetObject") != NULL ||
          strstr(buf, "depending on the request") != NULL);
    free(buf);
    ct_diff_release(&d);

    /* Without a grant, a permission-free call is never "+", and a
     * request-dependent call names nothing missing. */
    ct_iam *none = user_with("{\"Effect\":\"Allow\",\"Action\":\"ec2:DescribeRegions\","
                             "\"Resource\":\"*\"}");
    CHECK(none != NULL);
    if (none) {
        const ct_principal *n = ct_iam_find(none, CT_PRINCIPAL_USER, "u");
        fd.calls = 0;
        CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(none, n), &calls, fake_data_events,
                                &fd, &err),
                  0);
        CHECK_INT(verdict_of(&d, "sts:getcalleridentity"), -1);
        CHECK_INT(verdict_of(&d, "dynamodb:partiqlselect"), -1);
        CHECK_INT(verdict_of(&d, "ec2:runinstances"), CT_VERDICT_NOT_GRANTED);
        ct_diff_release(&d);
        ct_iam_free(none);
    }
    /* A backend that fails: no diff, its error. */
    fd.fail = CT_EPARTIAL;
    CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, u), &calls, fake_data_events, &fd,
                            &err),
              CT_EPARTIAL);
    CHECK_INT(d.count, 0);
    ct_data_events_release(&data);
    ct_calls_release(&calls);
    ct_iam_free(iam);
}

/* JSON strings: runs of plain text are written whole, and what is not
 * plain (quotes, backslashes, controls, DEL, invalid UTF-8) is escaped
 * wherever it falls in a run. */
static void test_json_strings(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    ct_render_json_str(f, "plain name-1.2@x");
    fputc(' ', f);
    ct_render_json_str(f, "a\x7f"
                          "b\"c\\d\x01 caf\xc3\xa9 \xff end\x7f");
    fputc(' ', f);
    ct_render_json_str(f, "");
    fclose(f);
    CHECK_STR(text, "\"plain name-1.2@x\" "
                    "\"a\\u007fb\\\"c\\\\d\\u0001 caf\xc3\xa9 \\ufffd end\\u007f\" \"\"");
    free(text);
}

int main(void)
{
    ct_error err;
    if (ct_catalog_load_builtin(&catalog, &err) != 0) {
        fprintf(stderr, "catalog: %s\n", err.message);
        return 1;
    }
    RUN(test_json_strings);
    RUN(test_verdicts);
    RUN(test_boundary_reason);
    RUN(test_visibility_verdicts);
    ct_catalog_free(catalog);
    TEST_MAIN_END();
}
