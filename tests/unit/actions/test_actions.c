/* Unit tests for src/actions: the IAM action catalog, the CloudTrail -> IAM
 * mapping, the visibility model, the benign class, and the consistency of
 * the data tables with the catalog. */
#include "actions/internal.h"
#include "cloudtracker/actions.h"
#include "cloudtracker/error.h"
#include "cloudtracker/source.h"
#include "cloudtracker/util.h"
#include "test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct lowercase names in data/iam-actions/iam_actions.tsv (package
 * version 0.21.202609261): 22,091 lines, no two differing only in case.
 * Update with the data (see data/iam-actions/SOURCE.md). */
#define BUILTIN_ACTIONS 22091

static ct_catalog *cat;

/* ---- helpers ---- */

/* Maps and joins the actions with spaces ("" for none, "ERR<code>" on error). */
static const char *map(const char *source, const char *name)
{
    static char buf[4 * 170];
    ct_event_actions a;
    int rc = ct_event_map(source, name, &a);
    if (rc != 0) {
        snprintf(buf, sizeof(buf), "ERR%d", rc);
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < a.count; i++) {
        if (i)
            strcat(buf, " ");
        strcat(buf, a.actions[i]);
    }
    return buf;
}

/* Calls fn on each data row of an embedded table, fields split on tabs. */
typedef void (*row_fn)(char **field, size_t n, int line);
static void each_row(const unsigned char *data, size_t len, row_fn fn)
{
    char *copy = ct_strndup((const char *)data, len);
    CHECK(copy != NULL);
    if (!copy)
        return;
    int line = 0;
    char *p = copy;
    while (*p) {
        line++;
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        if (*p && *p != '#') {
            char *field[8];
            size_t n = 0;
            char *f = p;
            while (n < 8) {
                field[n++] = f;
                char *tab = strchr(f, '\t');
                if (!tab)
                    break;
                *tab = '\0';
                f = tab + 1;
            }
            fn(field, n, line);
        }
        p = next;
    }
    free(copy);
}

/* ---- first: concurrent first use of the lazily loaded tables ---- */

static void *map_in_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        ct_event_actions a;
        if (ct_event_map("monitoring.amazonaws.com", "DescribeAlarms", &a) != 0 || a.count != 1 ||
            strcmp(a.actions[0], "cloudwatch:describealarms") != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_threads_first_use(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK_INT(pthread_create(&t[i], NULL, map_in_thread, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *res = (void *)1;
        pthread_join(t[i], &res);
        CHECK(res == NULL);
    }
}

/* ---- the catalog ---- */

static void test_builtin_catalog(void)
{
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_catalog_load_builtin(&cat, &err), 0);
    CHECK(cat != NULL);
    if (!cat)
        return;
    CHECK_INT(ct_catalog_count(cat), BUILTIN_ACTIONS);
    bool sorted = true, lower = true;
    for (size_t i = 0; i < ct_catalog_count(cat); i++) {
        const char *n = ct_catalog_name(cat, i);
        if (i > 0 && strcmp(ct_catalog_name(cat, i - 1), n) >= 0)
            sorted = false;
        for (const char *p = n; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                lower = false;
        if (ct_catalog_level(cat, i) == CT_ACCESS_UNKNOWN)
            lower = false;
    }
    CHECK(sorted);
    CHECK(lower);
    CHECK(ct_catalog_name(cat, ct_catalog_count(cat)) == NULL);
    CHECK_INT(ct_catalog_level(cat, ct_catalog_count(cat)), CT_ACCESS_UNKNOWN);

    /* Loading again gives a catalog of its own (its cost is part of every
     * query the benchmarks time; no test times it). */
    for (int i = 0; i < 3; i++) {
        ct_catalog *c2 = NULL;
        CHECK_INT(ct_catalog_load_builtin(&c2, &err), 0);
        CHECK(c2 != NULL && c2 != cat && ct_catalog_count(c2) == BUILTIN_ACTIONS);
        ct_catalog_free(c2);
    }
    ct_catalog_free(NULL);
}

static void test_find_and_levels(void)
{
    size_t i = 0, j = 0;
    CHECK(ct_catalog_find(cat, "s3:getobject", &i));
    CHECK_STR(ct_catalog_name(cat, i), "s3:getobject");
    CHECK_INT(ct_catalog_level(cat, i), CT_ACCESS_READ);
    CHECK(ct_catalog_find(cat, "s3:listallmybuckets", &i));
    CHECK_INT(ct_catalog_level(cat, i), CT_ACCESS_LIST);
    CHECK(ct_catalog_find(cat, "s3:putobject", &i));
    CHECK_INT(ct_catalog_level(cat, i), CT_ACCESS_WRITE);
    /* "Permissions management, Write" and "Tagging, Write" keep the specific class. */
    CHECK(ct_catalog_find(cat, "iam:attachrolepolicy", &i));
    CHECK_INT(ct_catalog_level(cat, i), CT_ACCESS_PERMISSIONS);
    CHECK(ct_catalog_find(cat, "ec2:createtags", &i));
    CHECK_INT(ct_catalog_level(cat, i), CT_ACCESS_TAGGING);
    CHECK(ct_catalog_find(cat, "a2c:getcontainerizationjobdetails", &i));
    CHECK_INT(i, 0);
    CHECK(ct_catalog_find(cat, ct_catalog_name(cat, BUILTIN_ACTIONS - 1), &j));
    CHECK_INT(j, BUILTIN_ACTIONS - 1);
    CHECK(!ct_catalog_find(cat, "s3:GetObject", &i)); /* lowercase names only */
    CHECK(!ct_catalog_find(cat, "s3:getobjec", &i));
    CHECK(!ct_catalog_find(cat, "s3:getobjectx", &i));
    CHECK(!ct_catalog_find(cat, "", &i));
    CHECK(!ct_catalog_find(cat, "zzzz:zzzz", &i));
    CHECK(!ct_catalog_find(NULL, "s3:getobject", &i));
    CHECK(ct_catalog_find(cat, "s3:getobject", NULL));
}

static void test_service_range(void)
{
    size_t b, e;
    ct_catalog_service_range(cat, "s3", 2, &b, &e);
    CHECK(e > b + 100);
    for (size_t i = b; i < e; i++)
        CHECK(strncmp(ct_catalog_name(cat, i), "s3:", 3) == 0);
    CHECK(b == 0 || strncmp(ct_catalog_name(cat, b - 1), "s3:", 3) != 0);
    CHECK(e == ct_catalog_count(cat) || strncmp(ct_catalog_name(cat, e), "s3:", 3) != 0);
    /* A service whose name extends another one's stays separate. */
    size_t b2, e2;
    ct_catalog_service_range(cat, "s3-object-lambda", 16, &b2, &e2);
    CHECK(e2 > b2);
    CHECK(e2 <= b || b2 >= e);
    for (size_t i = b2; i < e2; i++)
        CHECK(strncmp(ct_catalog_name(cat, i), "s3-object-lambda:", 17) == 0);
    /* `len` bounds the name: "s3x" with len 2 is "s3". */
    ct_catalog_service_range(cat, "s3x", 2, &b2, &e2);
    CHECK_INT(b2, b);
    CHECK_INT(e2, e);
    ct_catalog_service_range(cat, "nosuchservice", 13, &b2, &e2);
    CHECK_INT(e2 - b2, 0);
    ct_catalog_service_range(cat, "s", 1, &b2, &e2);
    CHECK_INT(e2 - b2, 0);
    ct_catalog_service_range(cat, "s3:", 3, &b2, &e2);
    CHECK_INT(e2 - b2, 0);
    ct_catalog_service_range(cat, "", 0, &b2, &e2);
    CHECK_INT(e2 - b2, 0);
    /* Every service's range holds exactly the names with its prefix. */
    size_t total = 0;
    for (size_t i = 0; i < ct_catalog_count(cat);) {
        const char *n = ct_catalog_name(cat, i);
        size_t len = (size_t)(strchr(n, ':') - n);
        ct_catalog_service_range(cat, n, len, &b2, &e2);
        CHECK_INT(b2, i);
        CHECK(e2 > i);
        total += e2 - b2;
        i = e2 > i ? e2 : i + 1;
    }
    CHECK_INT(total, ct_catalog_count(cat));
}

/* ---- ct_catalog_load_tsv ---- */

static void expect_tsv_error(const char *text, int line, const char *needle)
{
    ct_catalog *c = (ct_catalog *)1;
    ct_error err;
    ct_error_clear(&err);
    int rc = ct_catalog_load_tsv(&c, text, strlen(text), "test.tsv", &err);
    CHECK_INT(rc, CT_EINPUT);
    CHECK(c == NULL);
    CHECK_INT(err.line, line);
    CHECK_STR(err.file, "test.tsv");
    if (!strstr(err.message, needle)) {
        fprintf(stderr, "     message \"%s\" lacks \"%s\"\n", err.message, needle);
        CHECK(!"message");
    }
}

static void test_load_tsv(void)
{
    const char *text = "# a comment\r\n"
                       "\n"
                       "Svc:Zeta\tWrite\r\n"
                       "svc:alpha\tList\n"
                       "SVC:ALPHA\tPermissions management, Write\n"
                       "other:Tag\tTagging, Write\n"
                       "svc-x:a_b.c-9\tread"; /* no final newline; level in any case */
    ct_catalog *c = NULL;
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_catalog_load_tsv(&c, text, strlen(text), "mem", &err), 0);
    CHECK_INT(ct_catalog_count(c), 4);
    CHECK_STR(ct_catalog_name(c, 0), "other:tag");
    CHECK_STR(ct_catalog_name(c, 1), "svc-x:a_b.c-9");
    CHECK_STR(ct_catalog_name(c, 2), "svc:alpha");
    CHECK_STR(ct_catalog_name(c, 3), "svc:zeta");
    CHECK_INT(ct_catalog_level(c, 0), CT_ACCESS_TAGGING);
    CHECK_INT(ct_catalog_level(c, 1), CT_ACCESS_READ);
    /* Duplicates merge, keeping the more sensitive level. */
    CHECK_INT(ct_catalog_level(c, 2), CT_ACCESS_PERMISSIONS);
    CHECK_INT(ct_catalog_level(c, 3), CT_ACCESS_WRITE);
    size_t b, e;
    ct_catalog_service_range(c, "svc", 3, &b, &e);
    CHECK_INT(b, 2);
    CHECK_INT(e, 4);
    ct_catalog_free(c);

    CHECK_INT(ct_catalog_load_tsv(&c, "", 0, "empty", &err), 0);
    CHECK_INT(ct_catalog_count(c), 0);
    size_t i;
    CHECK(!ct_catalog_find(c, "a:b", &i));
    ct_catalog_service_range(c, "a", 1, &b, &e);
    CHECK_INT(e - b, 0);
    ct_catalog_free(c);

    expect_tsv_error("a:b\tList\nc:d\tList\nno tab here\n", 3, "expected");
    expect_tsv_error("a:b\tList\nc:d\n", 2, "expected");
    expect_tsv_error("a:b\tSometimes\n", 1, "unknown access level");
    expect_tsv_error("a:b\tList, Bogus\n", 1, "unknown access level");
    expect_tsv_error("a:b\t\n", 1, "unknown access level");
    expect_tsv_error("x:y\tRead\n\tList\n", 2, "empty action name");
    expect_tsv_error("nocolon\tList\n", 1, "no \"service:\"");
    expect_tsv_error(":act\tList\n", 1, "empty service");
    expect_tsv_error("svc:\tList\n", 1, "empty action");
    expect_tsv_error("a:b:c\tList\n", 1, "more than one colon");
    expect_tsv_error("a:b\tList\textra\n", 1, "more than two");
    expect_tsv_error("a:b c\tList\n", 1, "invalid character");
    expect_tsv_error("a:b*\tList\n", 1, "invalid character");
    expect_tsv_error("\n\n\na:\xc3\xa9\tList\n", 4, "invalid character");
    char longline[400];
    memset(longline, 'a', 300);
    memcpy(longline, "svc:", 4);
    memcpy(longline + 300, "\tList\n", 7);
    expect_tsv_error(longline, 1, "too long");
    const char with_nul[] = "a:b\tList\nc\0d\tList\n";
    ct_catalog *c3 = NULL;
    CHECK_INT(ct_catalog_load_tsv(&c3, with_nul, sizeof(with_nul) - 1, "nul", &err), CT_EINPUT);
    CHECK_INT(err.line, 2);
    CHECK(c3 == NULL);
}

/* ---- ct_event_map ---- */

static void test_map_usual_rule(void)
{
    CHECK_STR(map("ec2.amazonaws.com", "DescribeInstances"), "ec2:describeinstances");
    CHECK_STR(map("iam.amazonaws.com", "CreateUser"), "iam:createuser");
    CHECK_STR(map("EC2.AmazonAWS.com", "RunInstances"), "ec2:runinstances");
    /* eventSources without the usual suffix. */
    CHECK_STR(map("ec2", "DescribeInstances"), "ec2:describeinstances");
    CHECK_STR(map("ec2.amazonaws.com.cn", "DescribeInstances"), "ec2:describeinstances");
    CHECK_STR(map("monitoring", "DescribeAlarms"), "cloudwatch:describealarms");
    CHECK_STR(map("ec2.example.org", "X"), "ec2:x");
    /* The first label is the prefix when the whole stem is not in the table. */
    CHECK_STR(map("runtime.sagemaker.amazonaws.com", "InvokeEndpoint"), "runtime:invokeendpoint");
    CHECK_STR(map("bedrock.amazonaws.com", "InvokeModel"), "bedrock:invokemodel");
    /* SES is logged as ses.amazonaws.com; "email" is only a botocore name. */
    CHECK_STR(map("ses.amazonaws.com", "SendEmail"), "ses:sendemail");
}

static void test_map_prefixes(void)
{
    static const char *const cases[][2] = {
        {"monitoring.amazonaws.com", "cloudwatch:describealarms"},
        {"tagging.amazonaws.com", "tag:describealarms"},
        {"appstream2.amazonaws.com", "appstream:describealarms"},
        {"models.lex.amazonaws.com", "lex:describealarms"},
        {"runtime.lex.amazonaws.com", "lex:describealarms"},
        {"mturk-requester.amazonaws.com", "mechanicalturk:describealarms"},
        {"streams.dynamodb.amazonaws.com", "dynamodb:describealarms"},
        {"agreement-marketplace.amazonaws.com", "aws-marketplace:describealarms"},
        {"amazonmq.amazonaws.com", "mq:describealarms"},
        {"application-insights.amazonaws.com", "applicationinsights:describealarms"},
        {"billingconsole.amazonaws.com", "billing:describealarms"},
        {"chime-sdk-media-pipelines.amazonaws.com", "chime:describealarms"},
        {"chime-sdk-voice.amazonaws.com", "chime:describealarms"},
        {"cloudcontrolapi.amazonaws.com", "cloudformation:describealarms"},
        {"contact-lens.amazonaws.com", "connect:describealarms"},
        {"discovery-marketplace.amazonaws.com", "aws-marketplace:describealarms"},
        {"management-marketplace.amazonaws.com", "aws-marketplace-management:describealarms"},
        {"marketplacecatalog.amazonaws.com", "aws-marketplace:describealarms"},
        {"migrationhub.amazonaws.com", "mgh:describealarms"},
        {"opensearchservice.amazonaws.com", "es:describealarms"},
        {"participant-connect.amazonaws.com", "connect:describealarms"},
        {"pinpoint.amazonaws.com", "mobiletargeting:describealarms"},
        {"pricelist.amazonaws.com", "pricing:describealarms"},
        {"qconnect.amazonaws.com", "wisdom:describealarms"},
        {"rdsdata.amazonaws.com", "rds-data:describealarms"},
        {"servicecatalog-appregistry.amazonaws.com", "servicecatalog:describealarms"},
        {"reporting-marketplace.amazonaws.com", "aws-marketplace:describealarms"},
        {"taxconsole.amazonaws.com", "tax:describealarms"},
        {"transcribestreaming.amazonaws.com", "transcribe:describealarms"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = map(cases[i][0], "DescribeAlarms");
        if (strcmp(got, cases[i][1]) != 0)
            fprintf(stderr, "     %s -> %s, expected %s\n", cases[i][0], got, cases[i][1]);
        CHECK_STR(got, cases[i][1]);
    }
    /* "lex" alone and "dynamodb" itself keep the usual rule. */
    CHECK_STR(map("dynamodb.amazonaws.com", "GetRecords"), "dynamodb:getrecords");
}

static void test_map_s3_and_multi(void)
{
    static const char *const cases[][2] = {
        {"ListBuckets", "s3:listallmybuckets"},
        {"ListObjects", "s3:listbucket"},
        {"ListObjectsV2", "s3:listbucket"},
        {"HeadBucket", "s3:listbucket"},
        {"ListObjectVersions", "s3:listbucketversions"},
        {"ListMultipartUploads", "s3:listbucketmultipartuploads"},
        {"ListParts", "s3:listmultipartuploadparts"},
        {"HeadObject", "s3:getobject"},
        {"CopyObject", "s3:getobject s3:putobject"},
        {"CreateMultipartUpload", "s3:putobject"},
        {"UploadPart", "s3:putobject"},
        {"UploadPartCopy", "s3:getobject s3:putobject"},
        {"CompleteMultipartUpload", "s3:putobject"},
        {"DeleteObjects", "s3:deleteobject"},
        {"GetBucketLifecycle", "s3:getlifecycleconfiguration"},
        {"GetBucketLifecycleConfiguration", "s3:getlifecycleconfiguration"},
        {"PutBucketLifecycle", "s3:putlifecycleconfiguration"},
        {"PutBucketLifecycleConfiguration", "s3:putlifecycleconfiguration"},
        {"DeleteBucketLifecycle", "s3:putlifecycleconfiguration"},
        {"GetBucketEncryption", "s3:getencryptionconfiguration"},
        {"PutBucketEncryption", "s3:putencryptionconfiguration"},
        {"DeleteBucketEncryption", "s3:putencryptionconfiguration"},
        {"GetBucketReplication", "s3:getreplicationconfiguration"},
        {"PutBucketReplication", "s3:putreplicationconfiguration"},
        {"DeleteBucketReplication", "s3:putreplicationconfiguration"},
        {"DeleteBucketCors", "s3:putbucketcors"},
        {"DeleteBucketTagging", "s3:putbuckettagging"},
        {"ListBucketAnalyticsConfigurations", "s3:getanalyticsconfiguration"},
        {"DeleteBucketInventoryConfiguration", "s3:putinventoryconfiguration"},
        {"PutBucketMetricsConfiguration", "s3:putmetricsconfiguration"},
        {"GetBucketAccelerateConfiguration", "s3:getaccelerateconfiguration"},
        {"PutBucketNotificationConfiguration", "s3:putbucketnotification"},
        {"DeleteBucketPublicAccessBlock", "s3:putbucketpublicaccessblock"},
        /* Names that are already IAM names. */
        {"GetObject", "s3:getobject"},
        {"CreateBucket", "s3:createbucket"},
        {"PutBucketPolicy", "s3:putbucketpolicy"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = map("s3.amazonaws.com", cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fprintf(stderr, "     s3 %s -> %s, expected %s\n", cases[i][0], got, cases[i][1]);
        CHECK_STR(got, cases[i][1]);
    }
    CHECK_STR(map("kms.amazonaws.com", "ReEncrypt"), "kms:reencryptfrom kms:reencryptto");
    CHECK_STR(map("kms.amazonaws.com", "Decrypt"), "kms:decrypt");
    CHECK_STR(map("lambda.amazonaws.com", "Invoke"), "lambda:invokefunction");
    CHECK_STR(map("sqs.amazonaws.com", "SendMessageBatch"), "sqs:sendmessage");
    CHECK_STR(map("apigateway.amazonaws.com", "CreateRestApi"), "apigateway:post");
    CHECK_STR(map("apigateway.amazonaws.com", "GetRestApis"), "apigateway:get");
    CHECK_STR(map("apigateway.amazonaws.com", "UpdateStage"), "apigateway:patch");
    CHECK_STR(map("apigateway.amazonaws.com", "DeleteApi"), "apigateway:delete");
    CHECK_STR(map("apigateway.amazonaws.com", "TagResource"), "apigateway:post apigateway:put");
    /* Operations the catalog names directly keep their name. */
    CHECK_STR(map("apigateway.amazonaws.com", "CreatePortal"), "apigateway:createportal");
}

static void test_map_no_permission(void)
{
    /* Permission-free calls keep their action, flagged. */
    static const char *const free_cases[][3] = {
        {"sts.amazonaws.com", "GetCallerIdentity", "sts:getcalleridentity"},
        {"sts.amazonaws.com", "getcalleridentity", "sts:getcalleridentity"},
        {"sts.amazonaws.com", "GetSessionToken", "sts:getsessiontoken"},
    };
    for (size_t i = 0; i < sizeof(free_cases) / sizeof(free_cases[0]); i++) {
        ct_event_actions a;
        CHECK_INT(ct_event_map(free_cases[i][0], free_cases[i][1], &a), 0);
        CHECK_INT(a.count, 1);
        CHECK_STR(a.actions[0], free_cases[i][2]);
        CHECK(a.permission_free);
    }
    /* Events that are no call of an IAM action map to none. */
    static const char *const none_cases[][2] = {
        {"signin.amazonaws.com", "ConsoleLogin"}, {"signin.amazonaws.com", "CheckMfa"},
        {"signin.amazonaws.com", "ExitRole"},     {"signin.amazonaws.com", "RenewRole"},
        {"signin.amazonaws.com", "SwitchRole"},
    };
    for (size_t i = 0; i < sizeof(none_cases) / sizeof(none_cases[0]); i++) {
        ct_event_actions a;
        a.count = 99;
        CHECK_INT(ct_event_map(none_cases[i][0], none_cases[i][1], &a), 0);
        CHECK_INT(a.count, 0);
    }
    ct_event_actions a;
    CHECK_INT(ct_event_map("sts.amazonaws.com", "AssumeRole", &a), 0);
    CHECK_STR(a.actions[0], "sts:assumerole");
    CHECK(!a.permission_free);
    /* An eventName that is a URL (the access portal) is covered by a
     * pattern row before its bytes are checked. */
    a.count = 99;
    CHECK_INT(ct_event_map("sso.amazonaws.com",
                           "https://portal.sso.eu-west-1.amazonaws.com/instance/appinstances", &a),
              0);
    CHECK_INT(a.count, 0);
    CHECK_INT(ct_event_map("sso.amazonaws.com", "https://example.org/x", &a), CT_EINPUT);
}

static void test_map_request_dependent(void)
{
    ct_event_actions a;
    CHECK_INT(ct_event_map("dynamodb.amazonaws.com", "ExecuteStatement", &a), 0);
    CHECK(a.request_dependent);
    CHECK_INT(a.count, 4);
    CHECK_STR(a.actions[0], "dynamodb:partiqlselect");
    CHECK_INT(ct_event_map("dynamodb.amazonaws.com", "TransactWriteItems", &a), 0);
    CHECK(a.request_dependent && a.count == 4);
    CHECK_INT(ct_event_map("dynamodb.amazonaws.com", "GetItem", &a), 0);
    CHECK(!a.request_dependent);
}

static void test_map_fixed_names(void)
{
    /* Fixed with the corpus of real pairs and the cases. */
    CHECK_STR(map("metering-marketplace.amazonaws.com", "MeterUsage"),
              "aws-marketplace:meterusage");
    CHECK_STR(map("metrics-sagemaker.amazonaws.com", "BatchPutMetrics"),
              "sagemaker:batchputmetrics");
    CHECK_STR(map("s3.amazonaws.com", "GetPublicAccessBlock"), "s3:getbucketpublicaccessblock");
    CHECK_STR(map("s3.amazonaws.com", "DeleteAccountPublicAccessBlock"),
              "s3:putaccountpublicaccessblock");
    CHECK_STR(map("bedrock.amazonaws.com", "Converse"), "bedrock:invokemodel");
    CHECK_STR(map("bedrock.amazonaws.com", "ConverseStream"),
              "bedrock:invokemodelwithresponsestream");
    CHECK_STR(map("budgets.amazonaws.com", "CreateBudget"), "budgets:modifybudget");
    CHECK_STR(map("budgets.amazonaws.com", "DescribeBudgets"), "budgets:viewbudget");
    CHECK_STR(map("dms.amazonaws.com", "ModifyMigrationProject"), "dms:updatemigrationproject");
    CHECK_STR(map("cloudfront.amazonaws.com", "CreateDistributionWithTags2020_05_31"),
              "cloudfront:createdistribution cloudfront:tagresource");
    CHECK_STR(map("signin.amazonaws.com", "GetSigninToken"), "");
    CHECK_STR(map("billingconsole.amazonaws.com", "SetContactAddress"), "");
}

static void test_map_versions(void)
{
    CHECK_STR(map("lambda.amazonaws.com", "CreateFunction20150331"), "lambda:createfunction");
    CHECK_STR(map("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
              "lambda:updatefunctioncode");
    CHECK_STR(map("lambda.amazonaws.com", "AddPermission20150331v2"), "lambda:addpermission");
    CHECK_STR(map("lambda.amazonaws.com", "ListFunctions20150331"), "lambda:listfunctions");
    CHECK_STR(map("lambda.amazonaws.com", "Invoke20150331"), "lambda:invokefunction");
    CHECK_STR(map("cloudfront.amazonaws.com", "UpdateDistribution2014_01_31"),
              "cloudfront:updatedistribution");
    CHECK_STR(map("cloudfront.amazonaws.com", "CreateInvalidation2019_03_26v3"),
              "cloudfront:createinvalidation");
    /* Names that merely contain digits or "20" stay whole. */
    CHECK_STR(map("iam.amazonaws.com", "Get2FAStatus"), "iam:get2fastatus");
    CHECK_STR(map("ec2.amazonaws.com", "DescribeEc2Instances"), "ec2:describeec2instances");
    CHECK_STR(map("s3.amazonaws.com", "ListObjectsV2"), "s3:listbucket");
    CHECK_STR(map("x.amazonaws.com", "GetV2"), "x:getv2");
    CHECK_STR(map("x.amazonaws.com", "Create20Things"), "x:create20things");
    CHECK_STR(map("x.amazonaws.com", "Report2020"), "x:report2020");
    CHECK_STR(map("x.amazonaws.com", "Get20151399"), "x:get20151399");   /* month 13 */
    CHECK_STR(map("x.amazonaws.com", "Get20150132"), "x:get20150132");   /* day 32 */
    CHECK_STR(map("x.amazonaws.com", "Get120150331"), "x:get120150331"); /* digit before */
    CHECK_STR(map("x.amazonaws.com", "20150331"), "x:20150331");         /* nothing before */
    CHECK_STR(map("x.amazonaws.com", "Get2015_03_31x"), "x:get2015_03_31x");
    CHECK_STR(map("x.amazonaws.com", "Get2015_3_31"), "x:get2015_3_31");
    /* A digit right before the date makes it part of a number: kept. */
    CHECK_STR(map("x.amazonaws.com", "Getv220150331"), "x:getv220150331");
    CHECK_INT(ct_actions_strip_version("createfunction20150331", 22), 14);
    CHECK_INT(ct_actions_strip_version("a20150331v", 10), 10); /* "v" without digits */
    CHECK_INT(ct_actions_strip_version("", 0), 0);
}

static void test_map_bad_input(void)
{
    ct_event_actions a;
    CHECK_INT(ct_event_map("", "X", &a), CT_EINPUT);
    CHECK_INT(ct_event_map("ec2.amazonaws.com", "", &a), CT_EINPUT);
    CHECK_INT(ct_event_map(NULL, "X", &a), CT_EINPUT);
    CHECK_INT(ct_event_map("ec2.amazonaws.com", NULL, &a), CT_EINPUT);
    CHECK_INT(ct_event_map(".amazonaws.com", "X", &a), CT_EINPUT);
    CHECK_INT(ct_event_map(".x.amazonaws.com", "X", &a), CT_EINPUT);
    CHECK_INT(ct_event_map("ec2.amazonaws.com", "Describe Instances", &a), CT_EINPUT);
    CHECK_INT(ct_event_map("ec2.amazonaws.com", "a:b", &a), CT_EINPUT);
    CHECK_INT(ct_event_map("ec2.amazonaws.com", "x\x1b[2J", &a), CT_EINPUT);
    CHECK_INT(ct_event_map("ec2 .amazonaws.com", "X", &a), CT_EINPUT);
    CHECK_INT(ct_event_map("ec2.amazonaws.com", "x\xc3\xa9", &a), CT_EINPUT);
    char big[1000];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(ct_event_map("ec2.amazonaws.com", big, &a), CT_EINPUT);
    CHECK_INT(a.count, 0);
    CHECK_INT(ct_event_map(big, "X", &a), CT_EINPUT);
    /* The longest accepted result fills a slot exactly (159 bytes + NUL). */
    char name[200];
    memset(name, 'b', 155);
    name[155] = '\0';
    CHECK_INT(ct_event_map("ec2.amazonaws.com", name, &a), 0);
    CHECK_INT(strlen(a.actions[0]), 159);
    name[155] = 'b';
    name[156] = '\0';
    CHECK_INT(ct_event_map("ec2.amazonaws.com", name, &a), CT_EINPUT);
}

/* ---- unknown and benign ---- */

static ct_visibility_class cls(const char *action)
{
    ct_visibility v;
    CHECK_INT(ct_action_visibility(action, &v), 0);
    return v.cls;
}

static void test_visibility(void)
{
    CHECK_INT(cls("iam:passrole"), CT_VIS_PERMISSION_ONLY);
    CHECK_INT(cls("iam:createrole"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("s3:getobject"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("s3:putobject"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("s3:listbucket"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("s3:createbucket"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("s3:listallmybuckets"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("lambda:invokefunction"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("lambda:createfunction"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("dynamodb:getitem"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("dynamodb:createtable"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("cloudwatch:describealarms"), CT_VIS_MANAGEMENT);
    /* Names outside the catalog work too: it is a string lookup. */
    CHECK_INT(cls("S3:GetObject"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("nosuch:action"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls(""), CT_VIS_MANAGEMENT);
    CHECK_INT(cls(NULL), CT_VIS_MANAGEMENT);
    /* The rows the issue tried on real events. */
    CHECK_INT(cls("es:eshttpget"), CT_VIS_PERMISSION_ONLY);
    CHECK_INT(cls("es:eshttppost"), CT_VIS_PERMISSION_ONLY);
    CHECK_INT(cls("health:describeeventaggregates"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("events:describeeventbus"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("events:putpermission"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("clouddirectory:createobject"), CT_VIS_MANAGEMENT);
    CHECK_INT(cls("events:putevents"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("cloudwatch:getmetricdata"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("lambda:invokefunctionurl"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("kinesis:putrecord"), CT_VIS_DATA_EVENT);
    CHECK_INT(cls("rds-db:connect"), CT_VIS_PERMISSION_ONLY);
    CHECK_INT(cls("logs:getlogevents"), CT_VIS_NEVER_LOGGED);
    CHECK_INT(cls("pricing:getproducts"), CT_VIS_NEVER_LOGGED); /* a whole service */
    ct_visibility v;
    CHECK_INT(ct_action_visibility("s3:getobject", &v), 0);
    CHECK(v.data_rule_count >= 1);
    CHECK_STR(v.data_rules[0]->event_source, "s3.amazonaws.com");
    CHECK(v.data_rules[0]->evidence.source && v.data_rules[0]->evidence.source[0]);
    /* Also checked inside other calls: EC2 tags on create. */
    CHECK_INT(ct_action_visibility("ec2:createtags", &v), 0);
    CHECK_INT(v.cls, CT_VIS_MANAGEMENT);
    bool runinstances = false;
    for (size_t i = 0; i < v.inside_count; i++)
        runinstances = runinstances || strcmp(v.inside_of[i], "ec2:runinstances") == 0;
    CHECK(runinstances);
    CHECK(v.inside_evidence.source != NULL);
    CHECK_STR(ct_visibility_class_name(CT_VIS_DATA_EVENT), "data_event");
    CHECK_STR(ct_visibility_class_name(CT_VIS_MANAGEMENT), "management_event");
}

static void test_benign(void)
{
    CHECK(ct_action_is_benign(cat, "ec2:describeinstances"));
    CHECK(ct_action_is_benign(cat, "s3:listallmybuckets"));
    CHECK(ct_action_is_benign(cat, "nosuch:listthings")); /* by name alone */
    CHECK(ct_action_is_benign(NULL, "nosuch:describethings"));
    CHECK(!ct_action_is_benign(cat, "s3:getobject"));
    CHECK(!ct_action_is_benign(cat, "iam:createuser"));
    CHECK(!ct_action_is_benign(cat, "nosuch:getthing"));
    CHECK(!ct_action_is_benign(cat, NULL));
    /* Access level List makes an action benign whatever its name. */
    size_t listed = 0, benign = 0, by_level_only = 0;
    for (size_t i = 0; i < ct_catalog_count(cat); i++) {
        if (ct_catalog_level(cat, i) != CT_ACCESS_LIST)
            continue;
        const char *n = ct_catalog_name(cat, i);
        const char *act = strchr(n, ':') + 1;
        listed++;
        benign += ct_action_is_benign(cat, n);
        by_level_only += strncmp(act, "list", 4) != 0 && strncmp(act, "describe", 8) != 0;
    }
    CHECK_INT(benign, listed);
    CHECK(by_level_only > 0); /* e.g. Get... calls that AWS classes as List */
}

/* ---- the data tables against the catalog ---- */

static int offenders;

static void check_known(const char *action, const char *table, int line)
{
    char lower[200];
    snprintf(lower, sizeof(lower), "%s", action);
    ct_str_lower(lower);
    if (!ct_catalog_find(cat, lower, NULL)) {
        fprintf(stderr, "     %s:%d: %s is not in the catalog\n", table, line, lower);
        offenders++;
    }
}

static void rename_row(char **field, size_t n, int line)
{
    CHECK_INT(n, 4);
    if (n != 4)
        return;
    char list[700], expected[700] = "";
    snprintf(list, sizeof(list), "%s", field[2]);
    char *save = NULL;
    for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        check_known(tok, "event-renames", line);
        ct_str_lower(tok);
        if (expected[0])
            strcat(expected, " ");
        strcat(expected, tok);
    }
    /* And the mapping really yields the row's actions. */
    const char *got = map(field[0], field[1]);
    if (strcmp(got, expected) != 0) {
        fprintf(stderr, "     event-renames:%d: %s %s -> %s\n", line, field[0], field[1], got);
        offenders++;
    }
}

static void no_permission_row(char **field, size_t n, int line)
{
    CHECK_INT(n, 3);
    if (n != 3)
        return;
    ct_event_actions a;
    if (ct_event_map(field[0], field[1], &a) != 0 || a.count == 0 || !a.permission_free) {
        fprintf(stderr, "     no-permission:%d: %s %s is not a permission-free action\n", line,
                field[0], field[1]);
        offenders++;
        return;
    }
    for (size_t i = 0; i < a.count; i++)
        check_known(a.actions[i], "no-permission", line);
}

static void not_action_row(char **field, size_t n, int line)
{
    CHECK_INT(n, 4);
    if (n == 4 && strcmp(map(field[0], field[1]), "") != 0) {
        fprintf(stderr, "     not-actions:%d: %s %s maps to actions\n", line, field[0], field[1]);
        offenders++;
    }
}

static void prefix_row(char **field, size_t n, int line)
{
    CHECK_INT(n, 3);
    if (n != 3)
        return;
    size_t b, e;
    ct_catalog_service_range(cat, field[1], strlen(field[1]), &b, &e);
    if (e == b) {
        fprintf(stderr, "     eventsource-prefix:%d: no catalog service %s\n", line, field[1]);
        offenders++;
    }
    char src[200], expected[200];
    snprintf(src, sizeof(src), "%s.amazonaws.com", field[0]);
    snprintf(expected, sizeof(expected), "%s:someaction", field[1]);
    CHECK_STR(map(src, "SomeAction"), expected);
}

/* An action or "service:prefix*" pattern of a visibility table: the catalog
 * has it (a pattern covers at least one catalog action), and the lookup
 * gives the class the table stands for. */
static void check_visibility_row(const char *table, int line, const char *action,
                                 ct_visibility_class want)
{
    char a[200];
    snprintf(a, sizeof(a), "%s", action);
    ct_str_lower(a);
    size_t len = strlen(a);
    bool pattern = len > 0 && a[len - 1] == '*';
    char probe[220];
    if (pattern) {
        size_t b, e;
        const char *colon = strchr(a, ':');
        bool covers = false;
        if (colon) {
            ct_catalog_service_range(cat, a, (size_t)(colon - a), &b, &e);
            for (size_t i = b; i < e && !covers; i++)
                covers = strncmp(ct_catalog_name(cat, i), a, len - 1) == 0;
        }
        if (!covers) {
            fprintf(stderr, "     %s:%d: %s covers no catalog action\n", table, line, a);
            offenders++;
        }
        snprintf(probe, sizeof(probe), "%.*sanything", (int)(len - 1), a);
    } else {
        check_known(a, table, line);
        snprintf(probe, sizeof(probe), "%s", a);
    }
    ct_visibility v;
    ct_action_visibility(probe, &v);
    /* A stronger class elsewhere (never logged over data event) may win. */
    if (v.cls < want) {
        fprintf(stderr, "     %s:%d: %s is %s\n", table, line, probe,
                ct_visibility_class_name(v.cls));
        offenders++;
    }
}

static void never_row(char **field, size_t n, int line)
{
    CHECK_INT(n, 4);
    if (n == 4)
        check_visibility_row("never-logged", line, field[0], CT_VIS_NEVER_LOGGED);
}

static void permission_row(char **field, size_t n, int line)
{
    CHECK_INT(n, 5);
    if (n != 5)
        return;
    if (strcmp(field[1], "no-api") == 0) {
        check_visibility_row("permission-only", line, field[0], CT_VIS_PERMISSION_ONLY);
        return;
    }
    check_known(field[0], "permission-only", line);
    char *hosts = ct_strdup(field[2]);
    CHECK(hosts != NULL);
    if (!hosts)
        return;
    char *save = NULL;
    for (char *h = strtok_r(hosts, " ", &save); h; h = strtok_r(NULL, " ", &save))
        check_known(h, "permission-only (host)", line);
    free(hosts);
}

/* Resource types whose logged data events are recognised as evidence: an
 * API of one of its rows maps (from the row's eventSource) to an action
 * with a row of that type and eventSource. */
#define MAX_TYPES 400
static char evidence_types[MAX_TYPES][80];
static size_t n_evidence_types;
static char all_types[MAX_TYPES][80];
static size_t n_all_types;

static void add_type(char (*list)[80], size_t *n, const char *type)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], type) == 0)
            return;
    if (*n < MAX_TYPES)
        snprintf(list[(*n)++], 80, "%s", type);
}

static bool has_type(char (*list)[80], size_t n, const char *type)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], type) == 0)
            return true;
    return false;
}

static void data_row(char **field, size_t n, int line)
{
    CHECK_INT(n, 7);
    if (n != 7)
        return;
    check_visibility_row("data-events", line, field[2], CT_VIS_DATA_EVENT);
    add_type(all_types, &n_all_types, field[0]);
    char apis[2000];
    snprintf(apis, sizeof(apis), "%s", field[4]);
    char *save = NULL;
    for (char *api = strtok_r(apis, " ", &save); api; api = strtok_r(NULL, " ", &save)) {
        ct_event_actions a;
        if (strcmp(api, "*") == 0 || ct_event_map(field[1], api, &a) != 0)
            continue;
        for (size_t i = 0; i < a.count; i++) {
            ct_visibility v;
            ct_action_visibility(a.actions[i], &v);
            for (size_t r = 0; r < v.data_rule_count; r++)
                if (strcmp(v.data_rules[r]->resource_type, field[0]) == 0 &&
                    strcmp(v.data_rules[r]->event_source, field[1]) == 0)
                    add_type(evidence_types, &n_evidence_types, field[0]);
        }
    }
}

static void test_tables_consistent(void)
{
    ct_error err;
    CHECK_INT(ct_actions_tables_load(&err), 0);
    offenders = 0;
    each_row(ct_data_event_renames, ct_data_event_renames_len, rename_row);
    each_row(ct_data_event_renames_apigateway, ct_data_event_renames_apigateway_len, rename_row);
    each_row(ct_data_no_permission, ct_data_no_permission_len, no_permission_row);
    each_row(ct_data_not_actions, ct_data_not_actions_len, not_action_row);
    each_row(ct_data_eventsource_prefix, ct_data_eventsource_prefix_len, prefix_row);
    each_row(ct_data_never_logged, ct_data_never_logged_len, never_row);
    each_row(ct_data_permission_only, ct_data_permission_only_len, permission_row);
    n_evidence_types = n_all_types = 0;
    each_row(ct_data_data_events, ct_data_data_events_len, data_row);
    CHECK_INT(offenders, 0);
    /* The data events most trails select are recognised; the other types'
     * actions stay "?" whatever the logs hold (listed for maintainers). */
    static const char *const common[] = {"AWS::S3::Object",      "AWS::Lambda::Function",
                                         "AWS::DynamoDB::Table", "AWS::SQS::Queue",
                                         "AWS::SNS::Topic",      "AWS::CloudWatch::Metric"};
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        if (!has_type(evidence_types, n_evidence_types, common[i])) {
            fprintf(stderr, "     data-events: %s is never recognised in logs\n", common[i]);
            CHECK(false);
        }
    fprintf(stderr, "     data-events: %zu of %zu resource types recognised in logs; never:",
            n_evidence_types, n_all_types);
    for (size_t i = 0; i < n_all_types; i++)
        if (!has_type(evidence_types, n_evidence_types, all_types[i]))
            fprintf(stderr, " %s", all_types[i]);
    fputc('\n', stderr);
}

/* Every real (eventSource, eventName) pair of the corpus
 * (tests/data/cloudtrail-pairs/pairs.tsv, from public CloudTrail logs) maps
 * to actions the catalog has, is a permission-free call, or is listed in
 * not-actions.tsv (maps to none); sign-in and service events are no call of
 * an action whatever their names. */
static void test_real_pairs(void)
{
    FILE *f = fopen(CT_TEST_DATA "/cloudtrail-pairs/pairs.tsv", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[1024];
    int pairs = 0, bad = 0, lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *field[4] = {line, NULL, NULL, NULL};
        for (int i = 1; i < 4; i++) {
            char *tab = field[i - 1] ? strchr(field[i - 1], '\t') : NULL;
            if (tab) {
                *tab = '\0';
                field[i] = tab + 1;
            }
        }
        CHECK(field[3] != NULL);
        if (!field[3])
            continue;
        pairs++;
        /* Only sign-in or service events: no action needed. */
        bool only_non_calls = true;
        char types[256];
        snprintf(types, sizeof(types), "%s", field[2]);
        char *save = NULL;
        for (char *t = strtok_r(types, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            ct_event_kind k = ct_event_kind_of(strcmp(t, "-") == 0 ? NULL : t);
            only_non_calls = only_non_calls && (k == CT_EVENT_SIGNIN || k == CT_EVENT_SERVICE);
        }
        if (only_non_calls)
            continue;
        ct_event_actions a;
        int rc = ct_event_map(field[0], field[1], &a);
        bool ok = rc == 0;
        for (size_t i = 0; ok && i < a.count; i++)
            ok = ct_catalog_find(cat, a.actions[i], NULL);
        if (!ok) {
            fprintf(stderr, "     pairs.tsv:%d: %s %s -> %s (%s)\n", lineno, field[0], field[1],
                    rc ? "unmappable" : map(field[0], field[1]), field[2]);
            bad++;
        }
    }
    fclose(f);
    CHECK(pairs > 300);
    CHECK_INT(bad, 0);
}

int main(void)
{
    RUN(test_threads_first_use);
    RUN(test_builtin_catalog);
    if (!cat) {
        fprintf(stderr, "cannot load the builtin catalog\n");
        return 1;
    }
    RUN(test_find_and_levels);
    RUN(test_service_range);
    RUN(test_load_tsv);
    RUN(test_map_usual_rule);
    RUN(test_map_prefixes);
    RUN(test_map_s3_and_multi);
    RUN(test_map_no_permission);
    RUN(test_map_request_dependent);
    RUN(test_map_fixed_names);
    RUN(test_map_versions);
    RUN(test_map_bad_input);
    RUN(test_visibility);
    RUN(test_benign);
    RUN(test_tables_consistent);
    RUN(test_real_pairs);
    ct_catalog_free(cat);
    TEST_MAIN_END();
}
