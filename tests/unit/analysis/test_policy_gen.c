/* The guarantees of --format policy (src/analysis/policy_gen.c), checked
 * by the project's own policy engine: the generated policy, loaded as an
 * IAM user's inline policies, allows every action the diff marks used, and
 * every catalog action it allows is granted today and was used (or is "?",
 * unless dropped); it never allows an action used but not granted; each
 * document is valid JSON within IAM's size limit. For every principal of
 * the demo and of the stratus-red-team logs with its own calls, and for
 * random policies and calls. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/report.h"
#include "scratch_store.h"
#include "test.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static ct_catalog *catalog;

/* The guarantees for one diff, with every option combination: the
 * library's check (ct_policy_check) on the policy as --format policy and as
 * the review render it, and the generator's size accounting (which decides
 * the split) agreeing with the rendered text. */
static void check_guarantees(const ct_diff *d, const char *who, const ct_resource_scopes *scopes)
{
    for (int variant = 0; variant < 8; variant++) {
        ct_policy_options opts = {variant & 1, (variant & 2) != 0, 0, scopes};
        bool one_line = (variant & 4) != 0;
        ct_generated_policy p;
        ct_error err;
        CHECK_INT(ct_policy_generate(catalog, d, &opts, &p, &err), 0);
        ct_policy_texts texts;
        CHECK_INT(ct_report_render_policy(&texts, &p, one_line), 0);
        CHECK_INT((int)texts.count, (int)p.document_count);
        for (size_t i = 0; i < texts.count; i++)
            CHECK_INT((int)ct_policy_text_size(texts.documents[i], texts.lengths[i]),
                      (int)ct_policy_document_size(&p, p.documents[i], p.documents[i + 1]));
        /* What --format policy writes of them: one document, or an array. */
        if (!one_line) {
            char *written = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&written, &len);
            CHECK_INT(ct_report_write_policy(f, &texts), 0);
            fclose(f);
            cJSON *root = cJSON_Parse(written);
            CHECK(root &&
                  (p.document_count == 1 ? cJSON_IsObject(root)
                                         : cJSON_GetArraySize(root) == (int)p.document_count));
            cJSON_Delete(root);
            free(written);
        }
        ct_policy_violations v;
        CHECK_INT(ct_policy_check(catalog, d, &opts, &texts, &v, &err), 0);
        for (size_t i = 0; i < v.first.count; i++)
            fprintf(stderr, "  %s (variant %d): %s\n", who, variant, v.first.items[i]);
        CHECK_INT((int)v.count, 0);
        ct_policy_violations_release(&v);
        ct_policy_texts_release(&texts);
        ct_generated_policy_release(&p);
    }
}

/* Every user and role of both demo accounts, with its own calls. */
static void test_demo_principals(void)
{
    scratch_store demo;
    CHECK_INT(scratch_store_open(&demo, "policy", CT_SOURCE_DIR "/demo/logs"), 0);
    ct_source *src = demo.source;
    if (!src)
        return;
    static const struct {
        const char *file, *id;
    } accounts[] = {{CT_SOURCE_DIR "/demo/iam/demo.json", "111111111111"},
                    {CT_SOURCE_DIR "/demo/iam/backup.json", "222222222222"}};
    ct_window w;
    ct_date_parse_day("2017-07-01", &w.first_day);
    ct_date_parse_day("2018-06-30", &w.last_day);
    size_t principals = 0;
    for (size_t a = 0; a < 2; a++) {
        ct_iam *iam = NULL;
        ct_error err;
        CHECK_INT(ct_iam_load_file(&iam, accounts[a].file, &err), 0);
        ct_account_calls calls = {0};
        CHECK_INT(src->account_calls(src, accounts[a].id, &w, &calls, &err), 0);
        for (int kind = CT_PRINCIPAL_USER; iam && kind <= CT_PRINCIPAL_ROLE; kind++) {
            for (size_t i = 0; i < ct_iam_count(iam, (ct_principal_kind)kind); i++) {
                const ct_principal *p = ct_iam_get(iam, (ct_principal_kind)kind, i);
                const ct_calls *mine = ct_account_calls_find(&calls, p->arn);
                ct_calls none = {0};
                ct_diff d;
                CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, p), mine ? mine : &none,
                                        NULL, NULL, &err),
                          0);
                check_guarantees(&d, p->name, NULL);
                /* And limited to the resources its calls named. */
                ct_resources named = {0};
                ct_resource_scopes scopes;
                CHECK_INT(src->principal_resources(src, p->arn, &w, &named, &err), 0);
                CHECK_INT(
                    ct_resource_scopes_build(&scopes, catalog, mine ? mine : &none, &named, &err),
                    0);
                check_guarantees(&d, p->name, &scopes);
                ct_resource_scopes_release(&scopes);
                ct_resources_release(&named);
                ct_diff_release(&d);
                principals++;
            }
        }
        ct_account_calls_release(&calls);
        ct_iam_free(iam);
    }
    CHECK_INT((int)principals, 15);
    scratch_store_close(&demo);
}

/* Grants for the principals of logs that come without IAM files: an
 * administrator, a reader, and a mix with Deny and NotAction. */
static const char *const STRATUS_GRANTS[] = {
    "[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]",
    "[{\"Effect\":\"Allow\",\"Action\":[\"*:Describe*\",\"*:Get*\",\"*:List*\"],"
    "\"Resource\":\"*\"}]",
    "[{\"Effect\":\"Allow\",\"NotAction\":[\"iam:*\",\"organizations:*\"],\"Resource\":\"*\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"iam:Get*\",\"Resource\":\"*\"},"
    "{\"Effect\":\"Deny\",\"Action\":[\"ec2:*\"],\"Resource\":\"*\","
    "\"Condition\":{\"Bool\":{\"aws:MultiFactorAuthPresent\":\"false\"}}},"
    "{\"Effect\":\"Deny\",\"Action\":\"s3:Delete*\",\"Resource\":\"*\"}]",
};

/* The account ids the stratus fixture's records name (recipientAccountId). */
static size_t stratus_accounts(char ids[][13], size_t max)
{
    size_t n = 0;
    DIR *dir = opendir(CT_SHARED_FIXTURES);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        if (!strstr(de->d_name, ".json"))
            continue;
        char path[1024], *text = NULL;
        size_t len = 0;
        ct_error err;
        snprintf(path, sizeof(path), "%s/%s", CT_SHARED_FIXTURES, de->d_name);
        if (ct_file_read_regular(&text, &len, path, (size_t)64 << 20, CT_EINPUT, "fixture", &err) !=
            0)
            continue;
        for (const char *p = text; (p = strstr(p, "\"recipientAccountId\"")); p++) {
            const char *q = strchr(p + 20, '"');
            if (!q || strspn(q + 1, "0123456789") != 12)
                continue;
            bool seen = false;
            for (size_t i = 0; i < n && !seen; i++)
                seen = strncmp(ids[i], q + 1, 12) == 0;
            if (!seen && n < max) {
                memcpy(ids[n], q + 1, 12);
                ids[n++][12] = '\0';
            }
        }
        free(text);
    }
    if (dir)
        closedir(dir);
    return n;
}

/* Every principal of the stratus-red-team detonation logs, with its own
 * calls, under each of STRATUS_GRANTS. */
static void test_stratus_principals(void)
{
    scratch_store stratus;
    CHECK_INT(scratch_store_open(&stratus, "stratus-policy", CT_SHARED_FIXTURES), 0);
    ct_source *src = stratus.source;
    if (!src)
        return;
    ct_error err;
    char ids[64][13];
    size_t accounts = stratus_accounts(ids, 64);
    CHECK(accounts >= 10);
    ct_window w;
    ct_date_parse_day("2020-01-01", &w.first_day);
    ct_date_parse_day("2030-01-01", &w.last_day);
    size_t principals = 0, scoped_actions = 0;
    for (size_t a = 0; a < accounts; a++) {
        ct_account_calls calls = {0};
        CHECK_INT(src->account_calls(src, ids[a], &w, &calls, &err), 0);
        for (size_t k = 0; k < calls.count; k++) {
            /* The resources its calls named (AssumeRole's role, the
             * parameters GetParameters read, ...). */
            ct_resources named = {0};
            ct_resource_scopes scopes;
            CHECK_INT(src->principal_resources(src, calls.items[k].principal_arn, &w, &named, &err),
                      0);
            CHECK_INT(
                ct_resource_scopes_build(&scopes, catalog, &calls.items[k].calls, &named, &err), 0);
            for (size_t g = 0; g < sizeof(STRATUS_GRANTS) / sizeof(STRATUS_GRANTS[0]); g++) {
                ct_buf doc = CT_BUF_INIT;
                ct_buf_printf(&doc,
                              "{\"UserDetailList\":[{\"UserName\":\"s\",\"Arn\":"
                              "\"arn:aws:iam::111111111111:user/s\",\"UserPolicyList\":["
                              "{\"PolicyName\":\"p\",\"PolicyDocument\":{\"Statement\":%s}}]}]}",
                              STRATUS_GRANTS[g]);
                ct_iam *iam = NULL;
                CHECK_INT(ct_iam_load_buffer(&iam, doc.data, doc.len, "stratus.json", &err), 0);
                if (iam) {
                    const ct_principal *p = ct_iam_find(iam, CT_PRINCIPAL_USER, "s");
                    ct_diff d;
                    CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, p),
                                            &calls.items[k].calls, NULL, NULL, &err),
                              0);
                    check_guarantees(&d, calls.items[k].principal_arn, NULL);
                    check_guarantees(&d, calls.items[k].principal_arn, &scopes);
                    ct_diff_release(&d);
                }
                ct_iam_free(iam);
                ct_buf_release(&doc);
            }
            for (size_t i = 0; i < scopes.count; i++)
                scoped_actions += scopes.by_action[i].arns != NULL;
            ct_resource_scopes_release(&scopes);
            ct_resources_release(&named);
            principals++;
        }
        ct_account_calls_release(&calls);
    }
    CHECK(principals >= 20);
    /* Real events limit some actions (sts:AssumeRole to its role, ssm
     * parameters): the scoped statements were checked too. */
    fprintf(stderr, "     stratus: %zu actions limited to resources\n", scoped_actions);
    CHECK(scoped_actions >= 2);
    scratch_store_close(&stratus);
}

/* ---- random policies and calls ---- */

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned next_random(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Calls CloudTrail logs, as eventSource and eventName, of actions of a few
 * services; and patterns policies use over them. */
static const char *const EVENTS[][2] = {
    {"s3.amazonaws.com", "GetObject"},
    {"s3.amazonaws.com", "PutObject"},
    {"s3.amazonaws.com", "ListBuckets"},
    {"s3.amazonaws.com", "CreateBucket"},
    {"s3.amazonaws.com", "GetBucketPolicy"},
    {"s3.amazonaws.com", "DeleteBucket"},
    {"iam.amazonaws.com", "CreateUser"},
    {"iam.amazonaws.com", "GetUser"},
    {"iam.amazonaws.com", "ListRoles"},
    {"iam.amazonaws.com", "PutRolePolicy"},
    {"ec2.amazonaws.com", "DescribeInstances"},
    {"ec2.amazonaws.com", "RunInstances"},
    {"sts.amazonaws.com", "AssumeRole"},
    {"sts.amazonaws.com", "GetCallerIdentity"},
    {"monitoring.amazonaws.com", "GetMetricData"},
    {"monitoring.amazonaws.com", "DescribeAlarms"},
    {"lambda.amazonaws.com", "GetFunction20150331v2"},
    {"kms.amazonaws.com", "Decrypt"},
};
static const char *const PATTERNS[] = {
    "s3:*",          "s3:Get*",         "s3:List*",
    "s3:PutObject",  "s3:CreateBucket", "iam:*",
    "iam:Get*",      "iam:CreateUser",  "iam:List*",
    "ec2:Describe*", "ec2:*",           "sts:AssumeRole",
    "cloudwatch:*",  "cloudwatch:Get*", "lambda:GetFunction",
    "kms:*",         "kms:Decrypt",     "*",
    "s3:Delete*",    "iam:Put*Policy",
};

static void random_statement(ct_buf *b, bool deny)
{
    bool not_action = !deny && next_random(6) == 0;
    ct_buf_printf(b, "{\"Effect\":\"%s\",\"%s\":[", deny ? "Deny" : "Allow",
                  not_action ? "NotAction" : "Action");
    unsigned n = 1 + next_random(4);
    for (unsigned i = 0; i < n; i++)
        ct_buf_printf(b, "%s\"%s\"", i ? "," : "",
                      PATTERNS[next_random(sizeof(PATTERNS) / sizeof(PATTERNS[0]))]);
    ct_buf_puts(b, "],\"Resource\":\"*\"");
    if (next_random(4) == 0)
        ct_buf_puts(b, ",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"true\"}}");
    ct_buf_puts(b, "}");
}

static void test_random(void)
{
    for (int round = 0; round < 150; round++) {
        ct_buf doc = CT_BUF_INIT;
        ct_buf_puts(&doc, "{\"UserDetailList\":[{\"UserName\":\"r\",\"Arn\":"
                          "\"arn:aws:iam::111111111111:user/r\",\"UserPolicyList\":["
                          "{\"PolicyName\":\"p\",\"PolicyDocument\":{\"Statement\":[");
        unsigned allows = 1 + next_random(4), denies = next_random(3);
        for (unsigned i = 0; i < allows + denies; i++) {
            if (i)
                ct_buf_puts(&doc, ",");
            random_statement(&doc, i >= allows);
        }
        ct_buf_puts(&doc, "]}}]}]}");
        ct_iam *iam = NULL;
        ct_error err;
        int rc = ct_iam_load_buffer(&iam, doc.data, doc.len, "random.json", &err);
        CHECK_INT(rc, 0);
        ct_calls calls = {0};
        unsigned n = next_random(10);
        for (unsigned i = 0; i < n; i++) {
            unsigned k = next_random(sizeof(EVENTS) / sizeof(EVENTS[0]));
            bool failed = next_random(5) == 0;
            ct_calls_add(&calls, EVENTS[k][0], EVENTS[k][1], CT_EVENT_API, failed ? 0 : 3,
                         failed ? 1 : 0, 17000, 17010);
        }
        ct_calls_sort(&calls, 0);
        /* The same (source, name, kind) twice is summed by the backends;
         * here each appears once at most or the diff sums them itself. */
        ct_diff d;
        if (iam) {
            const ct_principal *p = ct_iam_find(iam, CT_PRINCIPAL_USER, "r");
            CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, p), &calls, NULL, NULL, &err),
                      0);
            char who[32];
            snprintf(who, sizeof(who), "round %d", round);
            check_guarantees(&d, who, NULL);
            ct_diff_release(&d);
        }
        ct_calls_release(&calls);
        ct_iam_free(iam);
        ct_buf_release(&doc);
    }
}

/* The IAM data of user "a", granted every action. */
static ct_iam *administrator(void)
{
    const char *doc = "{\"UserDetailList\":[{\"UserName\":\"a\",\"Arn\":"
                      "\"arn:aws:iam::111111111111:user/a\",\"UserPolicyList\":["
                      "{\"PolicyName\":\"p\",\"PolicyDocument\":{\"Statement\":["
                      "{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}}]}]}";
    ct_iam *iam = NULL;
    ct_error err;
    CHECK_INT(ct_iam_load_buffer(&iam, doc, strlen(doc), "a.json", &err), 0);
    return iam;
}

/* A policy larger than the limit is split into documents that each fit, and
 * wildcards never cover what was not used. */
static void test_split_and_compact(void)
{
    ct_error err;
    ct_iam *iam = administrator();
    if (!iam)
        return;
    const ct_principal *p = ct_iam_find(iam, CT_PRINCIPAL_USER, "a");
    ct_calls none = {0};
    ct_diff d;
    CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, p), &none, NULL, NULL, &err), 0);
    /* An administrator who used nothing: only the "?" actions, hundreds of
     * them: more than one document. */
    ct_policy_options opts = {false, false, 0, NULL};
    ct_generated_policy g;
    CHECK_INT(ct_policy_generate(catalog, &d, &opts, &g, &err), 0);
    CHECK(g.document_count > 1);
    CHECK(g.largest <= CT_POLICY_MANAGED_MAX);
    for (size_t i = 0; i < g.statement_count; i++)
        CHECK(strncmp(g.statements[i].sid, "NotVisibleInCloudTrail", 22) == 0);
    ct_generated_policy_release(&g);
    check_guarantees(&d, "administrator", NULL);
    /* Without the "?" actions it grants nothing. */
    opts.drop_unknown = true;
    CHECK_INT(ct_policy_generate(catalog, &d, &opts, &g, &err), 0);
    CHECK_INT((int)g.statement_count, 0);
    CHECK_INT((int)g.document_count, 1);
    ct_generated_policy_release(&g);
    ct_diff_release(&d);

    /* Every s3:Get* action used: --compact writes the wildcard. */
    ct_calls calls = {0};
    size_t begin, end;
    ct_catalog_service_range(catalog, "s3", 2, &begin, &end);
    for (size_t i = begin; i < end; i++) {
        const char *name = ct_catalog_published(catalog, i);
        if (strncmp(name, "s3:Get", 6) == 0)
            ct_calls_add(&calls, "s3.amazonaws.com", name + 3, CT_EVENT_API, 1, 0, 17000, 17000);
    }
    ct_calls_sort(&calls, 0);
    CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, p), &calls, NULL, NULL, &err), 0);
    opts = (ct_policy_options){true, true, 0, NULL};
    CHECK_INT(ct_policy_generate(catalog, &d, &opts, &g, &err), 0);
    bool wildcard = false;
    for (size_t i = 0; i < g.statement_count; i++)
        for (size_t k = 0; k < g.statements[i].action_count; k++)
            wildcard = wildcard || strcmp(g.statements[i].actions[k], "s3:Get*") == 0;
    CHECK(wildcard);
    ct_generated_policy_release(&g);
    check_guarantees(&d, "s3:Get* user", NULL);
    ct_diff_release(&d);
    ct_calls_release(&calls);
    ct_iam_free(iam);
}

/* The statement of `g` that allows `action` (published spelling), or NULL
 * when none or several do. */
static const ct_policy_statement *statement_of(const ct_generated_policy *g, const char *action)
{
    const ct_policy_statement *found = NULL;
    for (size_t i = 0; i < g->statement_count; i++)
        for (size_t k = 0; k < g->statements[i].action_count; k++)
            if (strcmp(g->statements[i].actions[k], action) == 0) {
                if (found)
                    return NULL;
                found = &g->statements[i];
            }
    return found;
}

/* Whether the statement's Resource covers `arn`. */
static bool covers(const ct_policy_statement *s, const char *arn)
{
    if (!s->resources)
        return true;
    for (size_t i = 0; i < s->resource_count; i++)
        if (ct_wildcard_match(s->resources[i], arn))
            return true;
    return false;
}

/* --resources: an action is limited to the resources its successful calls
 * named, only when every such call named one of a type the action is
 * evaluated against; others keep "*"; actions with the same list share a
 * statement; many ARNs collapse into a wildcard covering them all; a
 * statement too large for one document is split by resources. */
static void test_resources(void)
{
    ct_error err;
    ct_iam *iam = administrator();
    if (!iam)
        return;
    const ct_principal *p = ct_iam_find(iam, CT_PRINCIPAL_USER, "a");
    ct_calls calls = {0};
    ct_resources named = {0};
    const char *s3 = "s3.amazonaws.com";
    /* Bucket calls naming buckets a and b; the same list twice. */
    ct_calls_add(&calls, s3, "GetBucketAcl", CT_EVENT_API, 3, 0, 17000, 17001);
    ct_resources_add(&named, s3, "GetBucketAcl", CT_EVENT_API, "arn:aws:s3:::a", 2);
    ct_resources_add(&named, s3, "GetBucketAcl", CT_EVENT_API, "arn:aws:s3:::b", 1);
    ct_calls_add(&calls, s3, "GetBucketPolicy", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, s3, "GetBucketPolicy", CT_EVENT_API, "arn:aws:s3:::a\narn:aws:s3:::b",
                     1);
    /* One of two calls named nothing: "*". */
    ct_calls_add(&calls, s3, "GetBucketTagging", CT_EVENT_API, 2, 0, 17000, 17000);
    ct_resources_add(&named, s3, "GetBucketTagging", CT_EVENT_API, "arn:aws:s3:::a", 1);
    /* Objects: the bucket's ARN in the same record is no object. */
    ct_calls_add(&calls, s3, "GetObject", CT_EVENT_API, 12, 0, 17000, 17000);
    for (int i = 0; i < 12; i++) {
        char set[128];
        snprintf(set, sizeof(set), "arn:aws:s3:::logs\narn:aws:s3:::logs/2024/%02d.gz", i);
        ct_resources_add(&named, s3, "GetObject", CT_EVENT_API, set, 1);
    }
    ct_calls_add(&calls, s3, "PutObject", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, s3, "PutObject", CT_EVENT_API, "arn:aws:s3:::logs\narn:aws:s3:::up/x",
                     1);
    /* A call naming only the bucket: DeleteObject keeps "*". */
    ct_calls_add(&calls, s3, "DeleteObject", CT_EVENT_API, 2, 0, 17000, 17000);
    ct_resources_add(&named, s3, "DeleteObject", CT_EVENT_API, "arn:aws:s3:::logs/k", 1);
    ct_resources_add(&named, s3, "DeleteObject", CT_EVENT_API, "arn:aws:s3:::logs", 1);
    /* Through an access point: IAM evaluates the access point's ARN, which
     * the record does not name with the object: "*". */
    ct_calls_add(&calls, s3, "PutObjectAcl", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, s3, "PutObjectAcl", CT_EVENT_API,
                     "arn:aws:s3:::logs/k\narn:aws:s3:us-east-1:111111111111:accesspoint/ap", 1);
    /* Checked inside another call used (s3:CreateBucket also needs
     * s3:PutBucketVersioning on the new bucket): "*", whatever its own
     * calls named. */
    ct_calls_add(&calls, s3, "PutBucketVersioning", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, s3, "PutBucketVersioning", CT_EVENT_API, "arn:aws:s3:::a", 1);
    ct_calls_add(&calls, s3, "CreateBucket", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, s3, "CreateBucket", CT_EVENT_API, "arn:aws:s3:::new", 1);
    /* A call whose action depends on its request (a transaction may have
     * put items in any table): dynamodb:PutItem keeps "*". */
    const char *ddb = "dynamodb.amazonaws.com";
    ct_calls_add(&calls, ddb, "PutItem", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, ddb, "PutItem", CT_EVENT_API,
                     "arn:aws:dynamodb:us-east-1:111111111111:table/t1", 1);
    ct_calls_add(&calls, ddb, "TransactWriteItems", CT_EVENT_API, 1, 0, 17000, 17000);
    /* The table format also matches a stream's ARN, whose own format says
     * more: a stream is no table. GetItem keeps its table; DeleteItem, whose
     * call named only a stream, keeps "*". */
    ct_calls_add(&calls, ddb, "GetItem", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, ddb, "GetItem", CT_EVENT_API,
                     "arn:aws:dynamodb:us-east-1:111111111111:table/t1\n"
                     "arn:aws:dynamodb:us-east-1:111111111111:table/t1/stream/2024",
                     1);
    ct_calls_add(&calls, ddb, "DeleteItem", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, ddb, "DeleteItem", CT_EVENT_API,
                     "arn:aws:dynamodb:us-east-1:111111111111:table/t2/stream/2024", 1);
    /* An action that takes no resource list, and too many sets. */
    ct_calls_add(&calls, s3, "ListBuckets", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, s3, "ListBuckets", CT_EVENT_API, "arn:aws:s3:::a", 1);
    ct_calls_add(&calls, "sts.amazonaws.com", "AssumeRole", CT_EVENT_API, 1, 0, 17000, 17000);
    ct_resources_add(&named, "sts.amazonaws.com", "AssumeRole", CT_EVENT_API, CT_RESOURCES_MORE, 1);
    /* Only failed calls: not a use. */
    ct_calls_add(&calls, "lambda.amazonaws.com", "InvokeFunction", CT_EVENT_API, 0, 2, 17000,
                 17000);
    ct_calls_sort(&calls, 0);
    ct_resources_finish(&named);
    ct_diff d;
    CHECK_INT(ct_diff_build(&d, catalog, ct_iam_policies(iam, p), &calls, NULL, NULL, &err), 0);
    ct_resource_scopes scopes;
    CHECK_INT(ct_resource_scopes_build(&scopes, catalog, &calls, &named, &err), 0);
    ct_policy_options opts = {true, false, 0, &scopes};
    ct_generated_policy g;
    CHECK_INT(ct_policy_generate(catalog, &d, &opts, &g, &err), 0);
    CHECK_INT((int)g.scoped, 6); /* and CreateBucket, GetItem */
    CHECK_INT((int)g.unscoped, 8);
    const ct_policy_statement *get_item = statement_of(&g, "dynamodb:GetItem");
    CHECK(get_item && get_item->resource_count == 1 &&
          strcmp(get_item->resources[0], "arn:aws:dynamodb:us-east-1:111111111111:table/t1") == 0);
    const ct_policy_statement *delete_item = statement_of(&g, "dynamodb:DeleteItem");
    CHECK(delete_item && !delete_item->resources);
    const ct_policy_statement *created = statement_of(&g, "s3:CreateBucket");
    CHECK(created && created->resource_count == 1 &&
          strcmp(created->resources[0], "arn:aws:s3:::new") == 0);
    const ct_policy_statement *versioning = statement_of(&g, "s3:PutBucketVersioning");
    CHECK(versioning && !versioning->resources);
    const ct_policy_statement *put_item = statement_of(&g, "dynamodb:PutItem");
    CHECK(put_item && !put_item->resources);
    const ct_policy_statement *acl = statement_of(&g, "s3:GetBucketAcl");
    CHECK(acl && acl == statement_of(&g, "s3:GetBucketPolicy"));
    if (acl) {
        CHECK_STR(acl->sid, "UsedS3Resources1");
        CHECK_INT((int)acl->resource_count, 2);
        CHECK(acl->resource_count == 2 && strcmp(acl->resources[0], "arn:aws:s3:::a") == 0 &&
              strcmp(acl->resources[1], "arn:aws:s3:::b") == 0);
    }
    const ct_policy_statement *any = statement_of(&g, "s3:GetBucketTagging");
    CHECK(any && !any->resources && strcmp(any->sid, "UsedS3") == 0);
    CHECK(any && any == statement_of(&g, "s3:DeleteObject") &&
          any == statement_of(&g, "s3:ListAllMyBuckets") &&
          any == statement_of(&g, "s3:PutObjectAcl"));
    const ct_policy_statement *objects = statement_of(&g, "s3:GetObject");
    CHECK(objects && objects->resource_count == 1 &&
          strcmp(objects->resources[0], "arn:aws:s3:::logs/2024/*") == 0);
    const ct_policy_statement *put = statement_of(&g, "s3:PutObject");
    CHECK(put && put->resource_count == 1 && strcmp(put->resources[0], "arn:aws:s3:::up/x") == 0);
    const ct_policy_statement *assume = statement_of(&g, "sts:AssumeRole");
    CHECK(assume && !assume->resources);
    /* Failed calls are no use: not in the policy at all. */
    CHECK(statement_of(&g, "lambda:InvokeFunction") == NULL);
    /* Every ARN a successful call named stays covered. */
    for (size_t i = 0; i < named.count; i++) {
        const ct_call_resources *r = &named.items[i];
        char action[200];
        snprintf(action, sizeof(action), "s3:%s",
                 strcmp(r->event_name, "ListBuckets") == 0 ? "ListAllMyBuckets" : r->event_name);
        const ct_policy_statement *st = statement_of(&g, action);
        for (size_t k = 0; st && strcmp(r->event_source, s3) == 0 && k < r->set_count; k++) {
            const char *arns = r->sets[k].arns;
            const char *object = strchr(arns, '\n');
            CHECK(covers(st, object ? object + 1 : arns));
        }
    }
    ct_generated_policy_release(&g);
    check_guarantees(&d, "resources", &scopes);
    /* The check sees a statement allowing more, or fewer, resources than
     * the scope: the generator's scope for GetBucketAcl is [a, b]. */
    size_t acl_index;
    CHECK(ct_catalog_find(catalog, "s3:getbucketacl", &acl_index));
    ct_resource_scope *acl_scope = &scopes.by_action[acl_index];
    CHECK_INT((int)acl_scope->arn_count, 2);
    opts = (ct_policy_options){true, false, 0, &scopes};
    CHECK_INT(ct_policy_generate(catalog, &d, &opts, &g, &err), 0);
    ct_policy_texts texts;
    CHECK_INT(ct_report_render_policy(&texts, &g, false), 0);
    ct_policy_violations v;
    acl_scope->arn_count = 1; /* b was never named */
    CHECK_INT(ct_policy_check(catalog, &d, &opts, &texts, &v, &err), 0);
    CHECK_INT((int)v.count, 1);
    CHECK(v.first.count == 1 && strstr(v.first.items[0], "on arn:aws:s3:::b, which its calls did "
                                                         "not name") != NULL);
    ct_policy_violations_release(&v);
    const char *wider[] = {"arn:aws:s3:::a", "arn:aws:s3:::b", "arn:aws:s3:::c"};
    const char **kept = acl_scope->arns;
    acl_scope->arns = wider; /* c named, not allowed */
    acl_scope->arn_count = 3;
    CHECK_INT(ct_policy_check(catalog, &d, &opts, &texts, &v, &err), 0);
    CHECK_INT((int)v.count, 1);
    CHECK(v.first.count == 1 &&
          strstr(v.first.items[0], "does not allow s3:GetBucketAcl on arn:aws:s3:::c") != NULL);
    ct_policy_violations_release(&v);
    acl_scope->arns = kept;
    acl_scope->arn_count = 2;
    ct_policy_texts_release(&texts);
    ct_generated_policy_release(&g);

    /* A statement on more resources than a document holds is split by
     * resources, down to one action on one resource where need be. */
    opts.size_limit = 150;
    CHECK_INT(ct_policy_generate(catalog, &d, &opts, &g, &err), 0);
    /* Over the limit only what cannot be cut: one action on one resource. */
    for (size_t doc = 0; doc < g.document_count; doc++) {
        size_t from = g.documents[doc], to = g.documents[doc + 1];
        if (ct_policy_document_size(&g, from, to) > 150)
            CHECK(to - from == 1 && g.statements[from].action_count == 1 &&
                  g.statements[from].resource_count <= 1);
    }
    bool acl_a = false, acl_b = false;
    for (size_t i = 0; i < g.statement_count; i++) {
        const ct_policy_statement *st = &g.statements[i];
        CHECK(!st->resources || st->resource_count > 0);
        for (size_t k = 0; k < st->action_count; k++)
            if (strcmp(st->actions[k], "s3:GetBucketAcl") == 0 && st->resources) {
                CHECK(st->resource_count == 1); /* split down to one each */
                acl_a = acl_a || covers(st, "arn:aws:s3:::a");
                acl_b = acl_b || covers(st, "arn:aws:s3:::b");
            }
    }
    CHECK(acl_a && acl_b);
    ct_generated_policy_release(&g);

    ct_resource_scopes_release(&scopes);
    ct_resources_release(&named);
    ct_diff_release(&d);
    ct_calls_release(&calls);
    ct_iam_free(iam);
}

/* ---- the check itself: each kind of violation is found and told ---- */

/* Checks documents written with single quotes against the diff; returns
 * how many violations, and checks that one message contains `told`. */
static size_t violations_of(const ct_diff *d, bool drop_unknown, size_t limit,
                            const char *const *docs, size_t n, const char *told)
{
    ct_policy_texts texts = {calloc(n + 1, sizeof(char *)), calloc(n + 1, sizeof(size_t)), n};
    for (size_t i = 0; i < n; i++) {
        texts.documents[i] = strdup(docs[i]);
        for (char *c = texts.documents[i]; *c; c++)
            *c = *c == '\'' ? '"' : *c;
        texts.lengths[i] = strlen(texts.documents[i]);
    }
    ct_policy_options opts = {drop_unknown, false, limit, NULL};
    ct_policy_violations v;
    ct_error err;
    CHECK_INT(ct_policy_check(catalog, d, &opts, &texts, &v, &err), 0);
    bool found = !told;
    for (size_t i = 0; i < v.first.count; i++)
        found = found || strstr(v.first.items[i], told) != NULL;
    if (!found) {
        fprintf(stderr, "  expected a violation \"%s\"; found %zu:\n", told, v.count);
        for (size_t i = 0; i < v.first.count; i++)
            fprintf(stderr, "    %s\n", v.first.items[i]);
    }
    CHECK(found);
    CHECK_INT((int)v.first.count,
              (int)(v.count < CT_POLICY_CHECK_KEPT ? v.count : CT_POLICY_CHECK_KEPT));
    size_t count = v.count;
    ct_policy_violations_release(&v);
    ct_policy_texts_release(&texts);
    return count;
}

#define DOC(actions)                                                                               \
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':[" actions                    \
    "],'Resource':'*'}]}"
#define USED "'s3:GetObject','s3:PutObject','iam:GetUser','s3:NoSuchApiCall'"

static void test_check_violations(void)
{
    const char *doc = "{\"UserDetailList\":[{\"UserName\":\"v\",\"Arn\":"
                      "\"arn:aws:iam::111111111111:user/v\",\"UserPolicyList\":["
                      "{\"PolicyName\":\"p\",\"PolicyDocument\":{\"Statement\":["
                      "{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"iam:GetUser\"],"
                      "\"Resource\":\"*\"}]}}]}]}";
    ct_iam *iam = NULL;
    ct_error err;
    CHECK_INT(ct_iam_load_buffer(&iam, doc, strlen(doc), "v.json", &err), 0);
    if (!iam)
        return;
    /* Used: two s3 actions, iam:GetUser, and an s3 action the catalog does
     * not know (granted by s3:*); not granted: iam:CreateUser and an ec2
     * action the catalog does not know. */
    static const char *const calls_made[][2] = {
        {"s3.amazonaws.com", "GetObject"},   {"s3.amazonaws.com", "PutObject"},
        {"iam.amazonaws.com", "GetUser"},    {"s3.amazonaws.com", "NoSuchApiCall"},
        {"iam.amazonaws.com", "CreateUser"}, {"ec2.amazonaws.com", "NoSuchApiCall"}};
    ct_calls calls = {0};
    for (size_t i = 0; i < sizeof(calls_made) / sizeof(calls_made[0]); i++)
        ct_calls_add(&calls, calls_made[i][0], calls_made[i][1], CT_EVENT_API, 1, 0, 17000, 17000);
    ct_calls_sort(&calls, 0);
    ct_diff d;
    CHECK_INT(ct_diff_build(&d, catalog,
                            ct_iam_policies(iam, ct_iam_find(iam, CT_PRINCIPAL_USER, "v")), &calls,
                            NULL, NULL, &err),
              0);
    /* A "?" action of the diff. */
    const char *unknown = NULL;
    for (size_t i = 0; i < d.count && !unknown; i++)
        if (d.entries[i].verdict == CT_VERDICT_UNKNOWN)
            unknown = ct_catalog_published(catalog, d.entries[i].catalog_index);
    CHECK(unknown != NULL);
    check_guarantees(&d, "checked user", NULL);

    /* Exactly the used actions: nothing to say. */
    const char *exact[] = {DOC(USED)};
    CHECK_INT((int)violations_of(&d, true, 0, exact, 1, NULL), 0);
    /* Across two documents: the union counts. */
    const char *halves[] = {DOC("'s3:GetObject','s3:PutObject'"),
                            DOC("'iam:GetUser','s3:NoSuchApiCall'")};
    CHECK_INT((int)violations_of(&d, true, 0, halves, 2, NULL), 0);
    /* Allows limited by Resource or Condition allow the action (action
     * level): a policy with ARNs keeps its guarantees. */
    const char *limited[] = {"{'Statement':[{'Effect':'Allow','Action':[" USED "],"
                             "'Resource':['arn:aws:s3:::b/*','arn:aws:iam::111111111111:user/v'],"
                             "'Condition':{'Bool':{'aws:SecureTransport':'true'}}}]}"};
    CHECK_INT((int)violations_of(&d, true, 0, limited, 1, NULL), 0);

    const char *missing[] = {DOC("'s3:PutObject','iam:GetUser','s3:NoSuchApiCall'")};
    CHECK_INT((int)violations_of(&d, true, 0, missing, 1,
                                 "does not allow s3:GetObject, used and granted"),
              1);
    const char *missing_other[] = {DOC("'s3:GetObject','s3:PutObject','iam:GetUser'")};
    CHECK_INT((int)violations_of(&d, true, 0, missing_other, 1,
                                 "does not allow s3:nosuchapicall, used and granted"),
              1);
    const char *unused[] = {DOC(USED ",'s3:DeleteBucket'")};
    CHECK_INT(
        (int)violations_of(&d, true, 0, unused, 1, "allows s3:DeleteBucket, granted but not used"),
        1);
    const char *not_granted[] = {DOC(USED ",'iam:CreateUser'")};
    CHECK_INT((int)violations_of(&d, true, 0, not_granted, 1,
                                 "allows iam:CreateUser, used but not granted today"),
              1);
    const char *not_granted_other[] = {DOC(USED ",'ec2:NoSuchApiCall'")};
    CHECK_INT((int)violations_of(&d, true, 0, not_granted_other, 1,
                                 "allows ec2:nosuchapicall, used but not granted today"),
              1);
    const char *beyond[] = {DOC(USED ",'ec2:RunInstances'")};
    CHECK_INT(
        (int)violations_of(&d, true, 0, beyond, 1, "allows ec2:RunInstances, not granted today"),
        1);
    if (unknown) {
        char with_unknown[600];
        snprintf(with_unknown, sizeof(with_unknown), DOC(USED ",'%s'"), unknown);
        const char *docs[] = {with_unknown};
        char told[300];
        snprintf(told, sizeof(told),
                 "allows %s, not visible in CloudTrail, and --drop-unknown leaves those out",
                 unknown);
        CHECK_INT((int)violations_of(&d, true, 0, docs, 1, told), 1);
        CHECK_INT((int)violations_of(&d, false, 0, docs, 1, NULL), 0);
    }
    /* Every s3 action: hundreds of violations, the first few told. */
    const char *everything[] = {DOC("'s3:*','iam:GetUser'")};
    CHECK(violations_of(&d, true, 0, everything, 1, "granted but not used") > CT_POLICY_CHECK_KEPT);

    /* The size limit, as IAM counts it: without the white space. */
    const char *pretty[] = {"{\n  'Version': '2012-10-17',\n  'Statement': [\n    {\n"
                            "      'Effect': 'Allow',\n      'Action': [" USED "],\n"
                            "      'Resource': '*'\n    }\n  ]\n}"};
    size_t size = ct_policy_text_size(pretty[0], strlen(pretty[0]));
    CHECK(size < strlen(pretty[0]));
    CHECK_INT((int)violations_of(&d, true, size, pretty, 1, NULL), 0);
    char told[100];
    snprintf(told, sizeof(told), "document 1 has %zu characters, over the limit of %zu", size,
             size - 1);
    CHECK_INT((int)violations_of(&d, true, size - 1, pretty, 1, told), 1);

    /* Text that is no policy document: told, and nothing more checked. */
    const char *broken[] = {exact[0], "{'Version': '2012-10-17', 'Statement': ["};
    CHECK_INT((int)violations_of(&d, true, 0, broken, 2,
                                 "not a valid policy document: generated policy, document 2:1:"),
              1);
    const char *no_effect[] = {"{'Statement':[{'Action':[" USED "],'Resource':'*'}]}"};
    CHECK_INT((int)violations_of(&d, true, 0, no_effect, 1, "Effect is missing"), 1);
    CHECK_INT((int)violations_of(&d, true, 0, NULL, 0, "no policy document"), 1 + 4);

    /* Made an error for the caller. */
    ct_policy_violations v = {0};
    CHECK_INT(ct_policy_violations_error(&v, "user v", &err), 0);
    v.count = CT_POLICY_CHECK_KEPT + 3;
    for (int i = 0; i < CT_POLICY_CHECK_KEPT; i++)
        ct_notes_add(&v.first, "problem %d", i);
    CHECK_INT(ct_policy_violations_error(&v, "user v", &err), CT_EINTERNAL);
    CHECK(strncmp(err.message,
                  "the policy generated for user v fails its own check (a bug: please report "
                  "it): problem 0; problem 1;",
                  95) == 0);
    CHECK(strstr(err.message, "; problem 7; and 3 more") != NULL);
    ct_policy_violations_release(&v);

    ct_diff_release(&d);
    ct_calls_release(&calls);
    ct_iam_free(iam);
}

int main(void)
{
    ct_error err;
    if (ct_catalog_load_builtin(&catalog, &err) != 0 ||
        ct_catalog_load_builtin_resources(catalog, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.message);
        return 1;
    }
    RUN(test_demo_principals);
    RUN(test_stratus_principals);
    RUN(test_random);
    RUN(test_split_and_compact);
    RUN(test_resources);
    RUN(test_check_violations);
    ct_catalog_free(catalog);
    TEST_MAIN_END();
}
