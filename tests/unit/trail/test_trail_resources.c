/* Unit tests for src/trail/resources.c: the resources a record names, from
 * its resources array and from the request parameters of
 * data/cloudtrail/resource-params.tsv, and the scanner's soft fields that
 * feed them (never a reason to reject a record). */
#include "cloudtracker/error.h"
#include "cloudtracker/source.h"
#include "cloudtracker/trail.h"
#include "cloudtracker/util.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#define KEEP 8

typedef struct sets {
    size_t records, rejects;
    char *set[KEEP];
} sets;

static int on_record(void *ud, const ct_trail_record *rec)
{
    sets *s = ud;
    ct_buf out = CT_BUF_INIT;
    ct_error err;
    CHECK_INT(ct_trail_resource_set(rec, &out, &err), 0);
    if (s->records < KEEP)
        s->set[s->records] = ct_strdup(out.len ? out.data : "");
    s->records++;
    ct_buf_release(&out);
    return 0;
}

static int on_reject(void *ud, size_t offset, const char *reason)
{
    (void)offset;
    fprintf(stderr, "  rejected: %s\n", reason);
    ((sets *)ud)->rejects++;
    return 0;
}

static void release(sets *s)
{
    for (size_t i = 0; i < KEEP && i < s->records; i++)
        free(s->set[i]);
    memset(s, 0, sizeof(*s));
}

/* The set of the one record `json` holds (a record's fields after the
 * common ones). */
static void expect(const char *source, const char *fields, const char *want)
{
    char json[8192];
    snprintf(
        json, sizeof(json),
        "{\"eventTime\":\"2026-11-01T10:00:00Z\",\"eventSource\":\"%s\",\"eventName\":\"X\","
        "\"awsRegion\":\"eu-west-1\",\"recipientAccountId\":\"111122223333\","
        "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111122223333:user/bob\"}"
        "%s%s}",
        source, fields[0] ? "," : "", fields);
    sets s = {0};
    ct_error err;
    CHECK_INT(ct_trail_parse(json, strlen(json), NULL, on_record, on_reject, &s, &err), 0);
    CHECK_INT((int)s.records, 1);
    CHECK_INT((int)s.rejects, 0);
    if (s.records == 1) {
        if (strcmp(s.set[0], want) != 0)
            fprintf(stderr, "  %s {%s}:\n    got  \"%s\"\n    want \"%s\"\n", source, fields,
                    s.set[0], want);
        CHECK_STR(s.set[0], want);
    }
    release(&s);
}

static void test_resources_array(void)
{
    /* sts AssumeRole as CloudTrail writes it: the role in both places. */
    expect("sts.amazonaws.com",
           "\"requestParameters\":{\"roleArn\":\"arn:aws:iam::444455556666:role/admin\"},"
           "\"resources\":[{\"accountId\":\"444455556666\",\"type\":\"AWS::IAM::Role\","
           "\"ARN\":\"arn:aws:iam::444455556666:role/admin\"}]",
           "arn:aws:iam::444455556666:role/admin");
    /* An S3 data event names the object and its bucket; sorted. */
    expect("s3.amazonaws.com",
           "\"requestParameters\":{\"bucketName\":\"logs\",\"key\":\"a/b.txt\"},"
           "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::logs/a/b.txt\"},"
           "{\"accountId\":\"111122223333\",\"type\":\"AWS::S3::Bucket\","
           "\"ARN\":\"arn:aws:s3:::logs\"}]",
           "arn:aws:s3:::logs\narn:aws:s3:::logs/a/b.txt");
    /* Entries without a usable ARN say nothing. */
    expect("ec2.amazonaws.com",
           "\"resources\":[{\"ARN\":7},{\"type\":\"x\"},{\"ARN\":\"i-123\"},\"text\",null,"
           "{\"ARN\":\"arn:aws:ec2:eu-west-1:1:instance/i-1\\u0001\"}]",
           "");
    /* A repeated key: the last value counts, as the scanner reads objects. */
    expect("s3.amazonaws.com",
           "\"resources\":[{\"ARN\":\"arn:aws:s3:::first\",\"ARN\":\"arn:aws:s3:::last\"}]",
           "arn:aws:s3:::last");
    /* Escapes: \\/ is a slash; any other leaves that ARN out. */
    expect("s3.amazonaws.com",
           "\"resources\":[{\"ARN\":\"arn:aws:s3:::b\\/k\"},{\"ARN\":\"arn:aws:s3:::\\u0041\"}]",
           "arn:aws:s3:::b/k");
    /* Not an array: absent, and the record is kept. */
    expect("ec2.amazonaws.com", "\"resources\":{\"ARN\":\"arn:aws:ec2:x\"}", "");
    expect("ec2.amazonaws.com", "\"resources\":null", "");
    /* More than CT_TRAIL_RESOURCES_MAX: too many to list, the mark both
     * backends keep and the source's answer reads. */
    CHECK_STR(CT_TRAIL_RESOURCES_MORE, CT_RESOURCES_MORE);
    char many[4096] = "\"resources\":[";
    for (int i = 0; i <= CT_TRAIL_RESOURCES_MAX; i++) {
        char one[96];
        snprintf(one, sizeof(one), "%s{\"ARN\":\"arn:aws:dynamodb:eu-west-1:1:table/t%d\"}",
                 i ? "," : "", i);
        strcat(many, one);
    }
    strcat(many, "]");
    expect("dynamodb.amazonaws.com", many, CT_TRAIL_RESOURCES_MORE);
    /* Repeats count once, so exactly the maximum still lists. */
    expect("dynamodb.amazonaws.com",
           "\"resources\":[{\"ARN\":\"arn:aws:dynamodb:eu-west-1:1:table/a\"},"
           "{\"ARN\":\"arn:aws:dynamodb:eu-west-1:1:table/a\"}],"
           "\"requestParameters\":{\"tableName\":\"a\"}",
           "arn:aws:dynamodb:eu-west-1:111122223333:table/a\narn:aws:dynamodb:eu-west-1:1:table/a");
}

static void test_parameters(void)
{
    expect("s3.amazonaws.com", "\"requestParameters\":{\"bucketName\":\"logs\"}",
           "arn:aws:s3:::logs");
    /* A parameter counts only for the event source the table names. */
    expect("ec2.amazonaws.com", "\"requestParameters\":{\"bucketName\":\"logs\"}", "");
    expect("iam.amazonaws.com",
           "\"requestParameters\":{\"roleArn\":\"arn:aws:iam::1:role/passed\"}", "");
    expect("lambda.amazonaws.com", "\"requestParameters\":{\"functionName\":\"resize\"}",
           "arn:aws:lambda:eu-west-1:111122223333:function:resize");
    expect("lambda.amazonaws.com",
           "\"requestParameters\":{\"functionName\":"
           "\"arn:aws:lambda:us-east-1:444455556666:function:resize:prod\"}",
           "arn:aws:lambda:us-east-1:444455556666:function:resize:prod");
    /* Partial ARNs and qualified names name something IAM evaluates
     * differently: left out. */
    expect("lambda.amazonaws.com",
           "\"requestParameters\":{\"functionName\":\"444455556666:function:resize\"}", "");
    expect("lambda.amazonaws.com", "\"requestParameters\":{\"functionName\":\"resize:prod\"}", "");
    expect("dynamodb.amazonaws.com", "\"requestParameters\":{\"tableName\":\"orders\"}",
           "arn:aws:dynamodb:eu-west-1:111122223333:table/orders");
    expect("sqs.amazonaws.com",
           "\"requestParameters\":{\"queueUrl\":"
           "\"https://sqs.eu-west-1.amazonaws.com/444455556666/jobs\"}",
           "arn:aws:sqs:eu-west-1:444455556666:jobs");
    expect("sqs.amazonaws.com", "\"requestParameters\":{\"queueUrl\":\"jobs\"}", "");
    expect("sqs.amazonaws.com",
           "\"requestParameters\":{\"queueUrl\":\"https://sqs.eu-west-1.amazonaws.com//jobs\"}",
           "");
    expect("sns.amazonaws.com",
           "\"requestParameters\":{\"topicArn\":\"arn:aws:sns:eu-west-1:1:alerts\"}",
           "arn:aws:sns:eu-west-1:1:alerts");
    expect("kms.amazonaws.com",
           "\"requestParameters\":{\"keyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\"}",
           "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    expect("kms.amazonaws.com",
           "\"requestParameters\":{\"keyId\":\"arn:aws:kms:eu-west-1:1:key/mrk-1\"}",
           "arn:aws:kms:eu-west-1:1:key/mrk-1");
    /* An alias hides the key IAM evaluates. */
    expect("kms.amazonaws.com", "\"requestParameters\":{\"keyId\":\"alias/app\"}", "");
    expect("kms.amazonaws.com",
           "\"requestParameters\":{\"keyId\":\"arn:aws:kms:eu-west-1:1:alias/app\"}", "");
    /* Soft fields: another type, or too long, leaves them absent and the
     * record kept. */
    expect("s3.amazonaws.com", "\"requestParameters\":{\"bucketName\":[\"logs\"]}", "");
    char longer[6000];
    memset(longer, 'a', 5000);
    longer[5000] = '\0';
    char fields[6100];
    snprintf(fields, sizeof(fields), "\"requestParameters\":{\"bucketName\":\"%s\"}", longer);
    expect("s3.amazonaws.com", fields, "");
    expect("s3.amazonaws.com", "\"requestParameters\":{\"bucketName\":\"a\\u0000b\"}", "");
}

/* The partition comes from the caller's ARN; Region and account from the
 * record; without them nothing is built. */
static void test_location(void)
{
    const char *json =
        "{\"eventTime\":\"2026-11-01T10:00:00Z\",\"eventSource\":\"dynamodb.amazonaws.com\","
        "\"eventName\":\"GetItem\",\"awsRegion\":\"cn-north-1\",\"recipientAccountId\":\"1\","
        "\"userIdentity\":{\"arn\":\"arn:aws-cn:iam::1:user/li\"},"
        "\"requestParameters\":{\"tableName\":\"t\"}}\n"
        "{\"eventTime\":\"2026-11-01T10:00:00Z\",\"eventSource\":\"dynamodb.amazonaws.com\","
        "\"eventName\":\"GetItem\",\"recipientAccountId\":\"1\","
        "\"requestParameters\":{\"tableName\":\"t\"}}\n"
        "{\"eventTime\":\"2026-11-01T10:00:00Z\",\"eventSource\":\"s3.amazonaws.com\","
        "\"eventName\":\"GetBucketAcl\",\"requestParameters\":{\"bucketName\":\"b\"}}\n";
    sets s = {0};
    ct_error err;
    CHECK_INT(ct_trail_parse(json, strlen(json), NULL, on_record, on_reject, &s, &err), 0);
    CHECK_INT((int)s.records, 3);
    if (s.records == 3) {
        CHECK_STR(s.set[0], "arn:aws-cn:dynamodb:cn-north-1:1:table/t");
        CHECK_STR(s.set[1], "");
        CHECK_STR(s.set[2], "arn:aws:s3:::b");
    }
    release(&s);
}

/* Real events: every AssumeRole of the Stratus Red Team logs names its
 * role, and ssm GetParameters the parameters it read. */
typedef struct fixture_counts {
    size_t assume, assume_named, get_parameters, get_parameters_named;
} fixture_counts;

static int on_fixture_record(void *ud, const ct_trail_record *rec)
{
    fixture_counts *c = ud;
    ct_buf out = CT_BUF_INIT;
    ct_error err;
    CHECK_INT(ct_trail_resource_set(rec, &out, &err), 0);
    if (strcmp(rec->event_name, "AssumeRole") == 0 && !rec->error_code) {
        c->assume++;
        if (out.len && rec->role_arn && strstr(out.data, rec->role_arn))
            c->assume_named++;
    }
    if (strcmp(rec->event_name, "GetParameters") == 0) {
        c->get_parameters++;
        if (out.len && strstr(out.data, ":parameter/"))
            c->get_parameters_named++;
    }
    ct_buf_release(&out);
    return 0;
}

static void test_fixtures(void)
{
    const char *names[] = {"aws.credential-access.ssm-retrieve-securestring-parameters.json",
                           "aws.credential-access.ec2-get-password-data.json",
                           "aws.defense-evasion.organizations-leave.json"};
    fixture_counts c = {0};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", CT_SHARED_FIXTURES, names[i]);
        size_t len = 0;
        char *text = test_slurp(path, &len);
        CHECK(text != NULL);
        if (!text)
            continue;
        ct_error err;
        CHECK_INT(ct_trail_parse(text, len, NULL, on_fixture_record, NULL, &c, &err), 0);
        free(text);
    }
    CHECK(c.assume > 0);
    CHECK_INT((int)c.assume_named, (int)c.assume);
    CHECK(c.get_parameters > 0);
    CHECK_INT((int)c.get_parameters_named, (int)c.get_parameters);
}

int main(void)
{
    RUN(test_resources_array);
    RUN(test_parameters);
    RUN(test_location);
    RUN(test_fixtures);
    TEST_MAIN_END();
}
