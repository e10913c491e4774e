/* Unit tests for the store's principal_resources question: the resources
 * successful calls named, per call kind and set, summed over days and
 * files; failed calls left out; a role's sessions charged to the role; more
 * than CT_RESOURCE_SETS_MAX sets (in one file or over several) answered as
 * `more`; a file replaced takes its rows out; the window's edges. */
#define _XOPEN_SOURCE 700
#include "cloudtracker/source.h"
#include "cloudtracker/store.h"
#include "store/store_internal.h"
#include "store_fixture.h"
#include "test.h"

#define ACCOUNT "111122223333"
#define BOB "arn:aws:iam::" ACCOUNT ":user/bob"
#define ROLE "arn:aws:iam::" ACCOUNT ":role/app"

/* One record: `principal` is bob or a session of the role. */
static void record(ct_buf *b, const char *time, bool role, const char *source, const char *name,
                   const char *fields, bool failed)
{
    ct_buf_printf(b,
                  "%s{\"eventTime\":\"%s\",\"eventSource\":\"%s\",\"eventName\":\"%s\","
                  "\"awsRegion\":\"eu-west-1\",\"recipientAccountId\":\"" ACCOUNT "\",",
                  b->data[b->len - 1] == '[' ? "" : ",", time, source, name);
    if (role)
        ct_buf_puts(b, "\"userIdentity\":{\"type\":\"AssumedRole\",\"arn\":\"arn:aws:sts::" ACCOUNT
                       ":assumed-role/app/s1\",\"accessKeyId\":\"ASIA1\",\"sessionContext\":"
                       "{\"sessionIssuer\":{\"arn\":\"" ROLE "\"}}}");
    else
        ct_buf_puts(b, "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"" BOB "\"}");
    if (failed)
        ct_buf_puts(b, ",\"errorCode\":\"AccessDenied\"");
    ct_buf_printf(b, "%s%s}", fields[0] ? "," : "", fields);
}

#define S3 "s3.amazonaws.com"
#define BUCKET(name) "\"requestParameters\":{\"bucketName\":\"" name "\"}"

/* bob's S3 calls over three days in two files, a failed one, a call
 * naming nothing; the role's sessions; and a table with more sets than
 * kept, in one file (dynamodb) and over two files (sqs). */
static char *resource_logs(const char *root)
{
    char *logs = pathf(root, "logs");
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "{\"Records\":[");
    record(&b, "2024-06-01T10:00:00Z", false, S3, "GetBucketAcl", BUCKET("a"), false);
    record(&b, "2024-06-01T11:00:00Z", false, S3, "GetBucketAcl", BUCKET("a"), false);
    record(&b, "2024-06-02T11:00:00Z", false, S3, "GetBucketAcl", BUCKET("b"), false);
    record(&b, "2024-06-02T12:00:00Z", false, S3, "GetBucketAcl", BUCKET("secret"), true);
    record(&b, "2024-06-02T12:30:00Z", false, S3, "ListBuckets", "", false);
    record(&b, "2024-06-01T09:00:00Z", true, "sts.amazonaws.com", "GetCallerIdentity", "", false);
    record(&b, "2024-06-01T09:30:00Z", true, S3, "GetBucketPolicy", BUCKET("c"), false);
    for (int i = 0; i <= CT_RESOURCE_SETS_MAX; i++) {
        char fields[128];
        snprintf(fields, sizeof(fields), "\"requestParameters\":{\"tableName\":\"t%d\"}", i);
        record(&b, "2024-06-01T12:00:00Z", false, "dynamodb.amazonaws.com", "GetItem", fields,
               false);
    }
    CHECK_INT(write_records_doc(logs, "a.json", &b), 0);
    record(&b, "2024-06-03T10:00:00Z", false, S3, "GetBucketAcl", BUCKET("a"), false);
    record(&b, "2024-06-04T10:00:00Z", false, S3, "GetBucketAcl", BUCKET("late"), false);
    for (int file = 0; file < 2; file++) {
        for (int i = 0; i < CT_RESOURCE_SETS_MAX / 2 + 1; i++) {
            char fields[160];
            snprintf(fields, sizeof(fields),
                     "\"requestParameters\":{\"queueUrl\":"
                     "\"https://sqs.eu-west-1.amazonaws.com/" ACCOUNT "/q%d-%d\"}",
                     file, i);
            record(&b, "2024-06-03T12:00:00Z", false, "sqs.amazonaws.com", "SendMessage", fields,
                   false);
        }
        CHECK_INT(write_records_doc(logs, file ? "c.json" : "b.json", &b), 0);
    }
    ct_buf_release(&b);
    return logs;
}

static ct_source *ingest(const char *root, const char *logs, ct_store **store)
{
    char *path = pathf(root, "ct.db");
    ct_error err;
    CHECK_INT(ct_store_open(store, path, true, &err), 0);
    const char *paths[] = {logs};
    ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 2};
    ct_ingest_summary sum;
    CHECK_INT(ct_store_ingest(*store, &opts, &sum, &err), 0);
    CHECK_INT(sum.problems.count, 0);
    ct_ingest_summary_release(&sum);
    ct_source *src = NULL;
    CHECK_INT(ct_store_source(&src, *store, NULL, &err), 0);
    bool consistent = false;
    free(store_dump(path, &consistent));
    CHECK(consistent);
    free(path);
    return src;
}

static void test_principal_resources(void)
{
    char *root = scratch_dir("resources");
    char *logs = resource_logs(root);
    ct_store *store = NULL;
    ct_source *src = ingest(root, logs, &store);
    ct_window june = {day_of("2024-06-01"), day_of("2024-06-03")};
    ct_resources r = {0};
    ct_error err;
    CHECK_INT(src->principal_resources(src, BOB, &june, &r, &err), 0);
    /* dynamodb GetItem (more sets than kept in one file), s3 GetBucketAcl,
     * sqs SendMessage (more over two files); ListBuckets named nothing. */
    CHECK_INT((int)r.count, 3);
    const ct_call_resources *acl = ct_resources_find(&r, S3, "GetBucketAcl", CT_EVENT_API);
    CHECK(acl != NULL);
    if (acl) {
        /* The failed call and the day after the window are not there. */
        CHECK_INT((int)acl->named, 4);
        CHECK(!acl->more);
        CHECK_INT((int)acl->set_count, 2);
        if (acl->set_count == 2) {
            CHECK_STR(acl->sets[0].arns, "arn:aws:s3:::a");
            CHECK_INT((int)acl->sets[0].calls, 3);
            CHECK_STR(acl->sets[1].arns, "arn:aws:s3:::b");
            CHECK_INT((int)acl->sets[1].calls, 1);
        }
    }
    CHECK(ct_resources_find(&r, S3, "ListBuckets", CT_EVENT_API) == NULL);
    const ct_call_resources *get =
        ct_resources_find(&r, "dynamodb.amazonaws.com", "GetItem", CT_EVENT_API);
    CHECK(get && get->more && get->set_count == 0 && get->named == CT_RESOURCE_SETS_MAX + 1);
    const ct_call_resources *send =
        ct_resources_find(&r, "sqs.amazonaws.com", "SendMessage", CT_EVENT_API);
    CHECK(send && send->more && send->set_count == 0 &&
          send->named == 2 * (CT_RESOURCE_SETS_MAX / 2 + 1));
    ct_resources_release(&r);

    /* A role's sessions count for the role. */
    CHECK_INT(src->principal_resources(src, ROLE, &june, &r, &err), 0);
    CHECK_INT((int)r.count, 1);
    if (r.count == 1) {
        CHECK_STR(r.items[0].event_name, "GetBucketPolicy");
        CHECK_INT((int)r.items[0].set_count, 1);
        CHECK_STR(r.items[0].sets[0].arns, "arn:aws:s3:::c");
    }
    ct_resources_release(&r);

    /* Nobody, and a window without calls: empty answers. */
    CHECK_INT(src->principal_resources(src, "arn:aws:iam::1:user/none", &june, &r, &err), 0);
    CHECK_INT((int)r.count, 0);
    ct_window later = {day_of("2024-07-01"), day_of("2024-07-02")};
    CHECK_INT(src->principal_resources(src, BOB, &later, &r, &err), 0);
    CHECK_INT((int)r.count, 0);
    ct_resources_release(&r);
    src->free(src);

    /* A file replaced: its old rows are taken out (b.json now names
     * nothing), and the roll-ups still equal the files' rows. */
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "{\"Records\":[");
    record(&b, "2024-06-03T10:00:00Z", false, S3, "GetBucketAcl", "", false);
    CHECK_INT(write_records_doc(logs, "b.json", &b), 0);
    ct_buf_release(&b);
    src = ingest(root, logs, &store);
    CHECK_INT(src->principal_resources(src, BOB, &june, &r, &err), 0);
    acl = ct_resources_find(&r, S3, "GetBucketAcl", CT_EVENT_API);
    CHECK(acl && acl->named == 3 && acl->set_count == 2);
    send = ct_resources_find(&r, "sqs.amazonaws.com", "SendMessage", CT_EVENT_API);
    CHECK(send && !send->more && send->set_count == CT_RESOURCE_SETS_MAX / 2 + 1);
    ct_resources_release(&r);
    src->free(src);
    remove_tree(root);
    free(logs);
    free(root);
}

int main(void)
{
    RUN(test_principal_resources);
    TEST_MAIN_END();
}
