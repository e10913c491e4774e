/* Unit tests for the resource ARN formats of the catalog's actions
 * (data/iam-actions/iam_resources.tsv, ct_catalog_resource_patterns) and
 * the match of an ARN against a format (ct_arn_matches_pattern). */
#include "actions/internal.h"
#include "cloudtracker/actions.h"
#include "cloudtracker/error.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lines of data/iam-actions/iam_resources.tsv (package version
 * 0.21.202609261): the actions with exactly one resource type (12,469) and
 * the S3 actions on a bucket or an access point, or an object or an object
 * through an access point (41). Update with the data (see
 * data/iam-actions/SOURCE.md). */
#define BUILTIN_RESOURCE_LINES 12510

static ct_catalog *cat;

/* The formats of a lowercase action joined with " | " ("-" for none). */
static const char *formats_of(const ct_catalog *c, const char *action)
{
    static char buf[2048];
    size_t i, n = 99;
    if (!ct_catalog_find(c, action, &i))
        return "(not in the catalog)";
    const char *const *f = ct_catalog_resource_patterns(c, i, &n);
    if (!f) {
        snprintf(buf, sizeof(buf), "-%s", n ? " (n not 0)" : "");
        return buf;
    }
    buf[0] = '\0';
    for (size_t k = 0; k < n; k++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", k ? " | " : "", f[k]);
    return buf;
}

/* ---- the builtin data ---- */

static void test_builtin_count(void)
{
    size_t lines = 0, with = 0, formats = 0;
    for (size_t k = 0; k < ct_data_iam_resources_len; k++)
        lines += ct_data_iam_resources[k] == '\n';
    CHECK_INT(lines, BUILTIN_RESOURCE_LINES);
    for (size_t i = 0; i < ct_catalog_count(cat); i++) {
        size_t n = 99;
        const char *const *f = ct_catalog_resource_patterns(cat, i, &n);
        CHECK((f != NULL) == (n > 0));
        with += f != NULL;
        formats += n;
    }
    CHECK_INT(with, BUILTIN_RESOURCE_LINES);
    CHECK(formats > with); /* the S3 pairs and the API Gateway types have two */
    size_t n = 99;
    CHECK(ct_catalog_resource_patterns(cat, ct_catalog_count(cat), &n) == NULL && n == 0);
    CHECK(ct_catalog_resource_patterns(NULL, 0, &n) == NULL && n == 0);
}

/* Every line names its action as iam_actions.tsv spells it, and the catalog
 * gives back its formats in the line's order. */
static void test_builtin_lines(void)
{
    char *copy = ct_strndup((const char *)ct_data_iam_resources, ct_data_iam_resources_len);
    CHECK(copy != NULL);
    if (!copy)
        return;
    int bad = 0, lineno = 0;
    for (char *line = copy, *next; *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        next = next ? (*next = '\0', next + 1) : line + strlen(line);
        char *tab = strchr(line, '\t');
        if (!tab) {
            bad++;
            continue;
        }
        *tab = '\0';
        char lower[200];
        snprintf(lower, sizeof(lower), "%s", line);
        ct_str_lower(lower);
        size_t i, n;
        const char *const *f = NULL;
        bool ok = ct_catalog_find(cat, lower, &i) &&
                  strcmp(ct_catalog_published(cat, i), line) == 0 &&
                  (f = ct_catalog_resource_patterns(cat, i, &n)) != NULL;
        for (size_t k = 0; ok && k < n; k++) {
            char *field = k == 0 ? tab + 1 : strchr(tab + 1, '\0') + 1;
            char *t = strchr(field, '\t');
            if (t)
                *t = '\0';
            ok = strcmp(f[k], field) == 0;
            tab = field - 1;
        }
        if (!ok && bad++ < 5)
            fprintf(stderr, "     iam_resources.tsv:%d: %s\n", lineno, line);
    }
    free(copy);
    CHECK_INT(bad, 0);
}

/* Every format matches the ARN made from it with "v1" for each variable,
 * and not the one with empty variables. */
static void test_builtin_formats_match_examples(void)
{
    int bad = 0;
    for (size_t i = 0; i < ct_catalog_count(cat); i++) {
        size_t n;
        const char *const *f = ct_catalog_resource_patterns(cat, i, &n);
        for (size_t k = 0; k < n; k++) {
            char arn[1024], empty[1024];
            size_t a = 0, e = 0;
            for (const char *p = f[k]; *p && a < 1000;) {
                if (p[0] == '$' && p[1] == '{') {
                    p = strchr(p, '}') + 1;
                    memcpy(arn + a, "v1", 2);
                    a += 2;
                } else {
                    arn[a++] = empty[e++] = *p++;
                }
            }
            arn[a] = empty[e] = '\0';
            if (!ct_arn_matches_pattern(f[k], arn) || ct_arn_matches_pattern(f[k], empty)) {
                if (bad++ < 5)
                    fprintf(stderr, "     %s: %s vs %s\n", ct_catalog_name(cat, i), f[k], arn);
            }
        }
    }
    CHECK_INT(bad, 0);
}

static void test_builtin_examples(void)
{
    CHECK_STR(formats_of(cat, "s3:getobject"),
              "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/"
              "${ObjectName} | arn:${Partition}:s3:::${BucketName}/${ObjectName}");
    CHECK_STR(formats_of(cat, "s3:listbucket"),
              "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName} | "
              "arn:${Partition}:s3:::${BucketName}");
    CHECK_STR(formats_of(cat, "sts:assumerole"),
              "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}");
    CHECK_STR(formats_of(cat, "lambda:invokefunction"),
              "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}");
    CHECK_STR(formats_of(cat, "kms:decrypt"),
              "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}");
    CHECK_STR(formats_of(cat, "ssm:getparameters"),
              "arn:${Partition}:ssm:${Region}:${Account}:parameter/"
              "${ParameterNameWithoutLeadingSlash}");
    CHECK_STR(formats_of(cat, "sqs:sendmessage"),
              "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}");
    /* Several resource types at once (an image, a subnet, security groups,
     * ...), a table and an optional index, none at all. */
    CHECK_STR(formats_of(cat, "ec2:runinstances"), "-");
    CHECK_STR(formats_of(cat, "dynamodb:query"), "-");
    CHECK_STR(formats_of(cat, "s3:listallmybuckets"), "-");
    /* A format documented with a wildcard is no exact ARN format. */
    CHECK_STR(formats_of(cat, "dms:getmetadatamodel"), "-"); /* migration-project:* */

    /* Shared formats are one string, a shared list one array. */
    size_t a, b, na, nb;
    CHECK(ct_catalog_find(cat, "iam:passrole", &a) && ct_catalog_find(cat, "sts:assumerole", &b));
    const char *const *fa = ct_catalog_resource_patterns(cat, a, &na);
    const char *const *fb = ct_catalog_resource_patterns(cat, b, &nb);
    CHECK(fa && fb && na == 1 && nb == 1 && fa[0] == fb[0]);
    CHECK(ct_catalog_find(cat, "dynamodb:getitem", &a) &&
          ct_catalog_find(cat, "dynamodb:putitem", &b));
    CHECK(ct_catalog_resource_patterns(cat, a, &na) == ct_catalog_resource_patterns(cat, b, &nb));
}

/* ---- ct_arn_matches_pattern ---- */

static void test_match(void)
{
    const char *bucket = "arn:${Partition}:s3:::${BucketName}";
    const char *object = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    CHECK(ct_arn_matches_pattern(bucket, "arn:aws:s3:::my-bucket"));
    CHECK(ct_arn_matches_pattern(bucket, "arn:aws-cn:s3:::my.bucket"));
    /* An object ARN is not the bucket's, however the bucket variable ends
     * the pattern. */
    CHECK(!ct_arn_matches_pattern(bucket, "arn:aws:s3:::my-bucket/key"));
    CHECK(!ct_arn_matches_pattern(bucket, "arn:aws:s3:::my-bucket/"));
    CHECK(ct_arn_matches_pattern(object, "arn:aws:s3:::my-bucket/key"));
    CHECK(ct_arn_matches_pattern(object, "arn:aws:s3:::my-bucket/dir/sub/key.txt"));
    CHECK(ct_arn_matches_pattern(object, "arn:aws:s3:::my-bucket/a:b//c"));
    CHECK(!ct_arn_matches_pattern(object, "arn:aws:s3:::my-bucket"));
    CHECK(!ct_arn_matches_pattern(object, "arn:aws:s3:::my-bucket/"));
    CHECK(!ct_arn_matches_pattern(object, "arn:aws:s3:::/key"));
    CHECK(!ct_arn_matches_pattern(object, "arn:aws:s3:us-east-1::my-bucket/key"));

    const char *role = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}";
    CHECK(ct_arn_matches_pattern(role, "arn:aws:iam::123456789012:role/admin"));
    CHECK(ct_arn_matches_pattern(role, "arn:aws:iam::123456789012:role/service-role/team/x"));
    CHECK(!ct_arn_matches_pattern(role, "arn:aws:iam::123456789012:role/"));
    CHECK(!ct_arn_matches_pattern(role, "arn:aws:iam::123456789012:user/admin"));
    CHECK(!ct_arn_matches_pattern(role, "arn:aws:iam::123456789012:Role/admin")); /* case */
    CHECK(!ct_arn_matches_pattern(role, "arn:aws:iam:us-east-1:123456789012:role/admin"));

    const char *fn = "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}";
    CHECK(ct_arn_matches_pattern(fn, "arn:aws:lambda:us-east-1:123456789012:function:f"));
    CHECK(ct_arn_matches_pattern(fn, "arn:aws:lambda:us-east-1:123456789012:function:f:7"));
    CHECK(ct_arn_matches_pattern(fn, "arn:aws:lambda:us-east-1:123456789012:function:f:live"));
    CHECK(!ct_arn_matches_pattern(fn, "arn:aws:lambda:us-east-1:123456789012:function:"));
    CHECK(!ct_arn_matches_pattern(fn, "arn:aws:lambda:us-east-1:123456789012:layer:f"));

    /* Region and account variables stop at ':' and '/'. */
    const char *key = "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}";
    CHECK(ct_arn_matches_pattern(key, "arn:aws:kms:eu-west-1:123456789012:key/1234-abcd"));
    CHECK(!ct_arn_matches_pattern(key, "arn:aws:kms:eu-west-1:extra:123456789012:key/k"));
    CHECK(!ct_arn_matches_pattern(key, "arn:aws:x:kms:eu-west-1:123456789012:key/k"));
    CHECK(!ct_arn_matches_pattern(key, "arn:aws:kms:eu/west:123456789012:key/k"));
    /* An empty variable never matches. */
    CHECK(!ct_arn_matches_pattern(key, "arn:aws:kms::123456789012:key/k"));
    CHECK(!ct_arn_matches_pattern(key, "arn:aws:kms:eu-west-1::key/k"));
    CHECK(!ct_arn_matches_pattern(key, "arn::kms:eu-west-1:123456789012:key/k"));
    CHECK(!ct_arn_matches_pattern(key, "arn:aws:kms:eu-west-1:123456789012:key/"));

    /* A variable that is the whole resource part stops at separators: a
     * subscription is not its topic, a queue name has no '/'. */
    const char *topic = "arn:${Partition}:sns:${Region}:${Account}:${TopicName}";
    CHECK(ct_arn_matches_pattern(topic, "arn:aws:sns:us-east-1:123456789012:alerts"));
    CHECK(!ct_arn_matches_pattern(topic, "arn:aws:sns:us-east-1:123456789012:alerts:1f2e-3d"));
    CHECK(!ct_arn_matches_pattern(topic, "arn:aws:sns:us-east-1:123456789012:a/b"));

    /* Literal text after the last variable. */
    const char *integ = "arn:${Partition}:apigateway:${Region}::/restapis/${RestApiId}/resources/"
                        "${ResourceId}/methods/${HttpMethodType}/integration";
    CHECK(ct_arn_matches_pattern(
        integ, "arn:aws:apigateway:us-east-1::/restapis/a1/resources/r2/methods/GET/integration"));
    CHECK(!ct_arn_matches_pattern(
        integ, "arn:aws:apigateway:us-east-1::/restapis/a1/resources/r2/methods/GET/integratio"));
    CHECK(!ct_arn_matches_pattern(
        integ,
        "arn:aws:apigateway:us-east-1::/restapis/a1/resources/r2/methods/GET/integration/x"));
    CHECK(!ct_arn_matches_pattern(
        integ, "arn:aws:apigateway:us-east-1::/restapis/a1/resources/r2/methods/G/T/integration"));
    CHECK(!ct_arn_matches_pattern(
        integ, "arn:aws:apigateway:us-east-1::/restapis/a1/resources/r2/methods//integration"));

    /* Variables next to literal text or to each other in one component. */
    const char *dash = "arn:${Partition}:svc:${Region}:${Account}:backup/${Server}-${Stamp}";
    CHECK(ct_arn_matches_pattern(dash, "arn:aws:svc:r:1:backup/web-1-2024"));
    CHECK(!ct_arn_matches_pattern(dash, "arn:aws:svc:r:1:backup/web"));
    CHECK(!ct_arn_matches_pattern(dash, "arn:aws:svc:r:1:backup/web-"));
    const char *pair = "arn:${Partition}:codeartifact:${Region}:${Account}:package-group/"
                       "${DomainName}${EncodedPackageGroupPattern}";
    CHECK(ct_arn_matches_pattern(pair, "arn:aws:codeartifact:r:1:package-group/d/npm/x"));
    CHECK(ct_arn_matches_pattern(pair, "arn:aws:codeartifact:r:1:package-group/dx"));
    CHECK(!ct_arn_matches_pattern(pair, "arn:aws:codeartifact:r:1:package-group/d"));
    CHECK(!ct_arn_matches_pattern(pair, "arn:aws:codeartifact:r:1:package-group//x"));

    /* Fewer than six components: the last variable stops at separators. */
    CHECK(ct_arn_matches_pattern("arn:${Partition}:svc:${Region}", "arn:aws:svc:r1"));
    CHECK(!ct_arn_matches_pattern("arn:${Partition}:svc:${Region}", "arn:aws:svc:r1/x"));
    /* No variable; "${" without '}' and "${}" are literal text. */
    CHECK(ct_arn_matches_pattern("arn:aws:iam::aws:policy/X", "arn:aws:iam::aws:policy/X"));
    CHECK(!ct_arn_matches_pattern("arn:aws:iam::aws:policy/X", "arn:aws:iam::aws:policy/XY"));
    CHECK(ct_arn_matches_pattern("arn:x:${oops", "arn:x:${oops"));
    CHECK(!ct_arn_matches_pattern("arn:x:${oops", "arn:x:y"));
    CHECK(ct_arn_matches_pattern("arn:x:${}", "arn:x:${}"));
    CHECK(!ct_arn_matches_pattern("arn:x:${}", "arn:x:y"));
    CHECK(!ct_arn_matches_pattern(NULL, "arn:aws:s3:::b"));
    CHECK(!ct_arn_matches_pattern(bucket, NULL));
    CHECK(!ct_arn_matches_pattern(bucket, ""));

    /* Many variables in one component: no backtracking blow-up, and a
     * pattern past the size limit matches nothing. */
    char many[1200] = "arn:${P}:svc:${R}:${A}:x/";
    for (int k = 0; k < 40; k++)
        strcat(many, "${V}");
    strcat(many, "!");
    char arn[300] = "arn:aws:svc:r:1:x/";
    memset(arn + strlen(arn), 'a', 200);
    CHECK(!ct_arn_matches_pattern(many, arn));
    strcat(arn, "!");
    CHECK(ct_arn_matches_pattern(many, arn));
    char huge[1100];
    memset(huge, 'a', 1050);
    huge[1050] = '\0';
    CHECK(!ct_arn_matches_pattern(huge, huge));
    huge[1024] = '\0';
    CHECK(ct_arn_matches_pattern(huge, huge));
}

/* ---- ct_catalog_load_resources ---- */

static const char catalog_tsv[] = "svc:GetThing\tRead\n"
                                  "svc:PutThing\tWrite\n"
                                  "svc:ListThings\tList\n"
                                  "other:Use\tWrite\n"
                                  "other:See\tRead\n";

static ct_catalog *small_catalog(void)
{
    ct_catalog *c = NULL;
    ct_error err;
    CHECK_INT(ct_catalog_load_tsv(&c, catalog_tsv, strlen(catalog_tsv), "cat", &err), 0);
    return c;
}

static void expect_error(const char *text, int line, int col, const char *needle)
{
    ct_catalog *c = small_catalog();
    if (!c)
        return;
    const char *good = "svc:GetThing\tarn:${Partition}:svc:::thing/${Name}\n";
    ct_error err;
    CHECK_INT(ct_catalog_load_resources(c, good, strlen(good), "good", &err), 0);
    ct_error_clear(&err);
    CHECK_INT(ct_catalog_load_resources(c, text, strlen(text), "res.tsv", &err), CT_EINPUT);
    CHECK_STR(err.file, "res.tsv");
    CHECK_INT(err.line, line);
    if (col >= 0)
        CHECK_INT(err.col, col);
    if (!strstr(err.message, needle)) {
        fprintf(stderr, "     message \"%s\" lacks \"%s\"\n", err.message, needle);
        CHECK(!"message");
    }
    /* A failed load leaves no formats, not even the earlier ones. */
    CHECK_STR(formats_of(c, "svc:getthing"), "-");
    ct_catalog_free(c);
}

static void test_load(void)
{
    ct_catalog *c = small_catalog();
    if (!c)
        return;
    /* Loaded from a TSV text, a catalog has no resource formats. */
    CHECK_STR(formats_of(c, "svc:getthing"), "-");
    const char *text =
        "# formats\r\n"
        "\n"
        "svc:PutThing\tarn:${Partition}:svc:${Region}:${Account}:thing/${Name}\r\n"
        "svc:GETTHING\tarn:${Partition}:svc:${Region}:${Account}:thing/${Name}\n"
        "other:Use\tarn:${Partition}:svc:${Region}:${Account}:thing/${Name}\t"
        "arn:${Partition}:other:::${X}\n"
        "other:See\tarn:${Partition}:svc:${Region}:${Account}:thing/${Name}"; /* no \n */
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_catalog_load_resources(c, text, strlen(text), "res", &err), 0);
    const char *thing = "arn:${Partition}:svc:${Region}:${Account}:thing/${Name}";
    CHECK_STR(formats_of(c, "svc:putthing"), thing);
    CHECK_STR(formats_of(c, "svc:getthing"), thing);
    CHECK_STR(formats_of(c, "svc:listthings"), "-");
    CHECK_STR(formats_of(c, "other:use"),
              "arn:${Partition}:svc:${Region}:${Account}:thing/${Name} | "
              "arn:${Partition}:other:::${X}");
    CHECK_STR(formats_of(c, "other:see"), thing);
    size_t get, put, use, see, n1, n2;
    CHECK(ct_catalog_find(c, "svc:getthing", &get) && ct_catalog_find(c, "svc:putthing", &put) &&
          ct_catalog_find(c, "other:use", &use) && ct_catalog_find(c, "other:see", &see));
    const char *const *fg = ct_catalog_resource_patterns(c, get, &n1);
    const char *const *fp = ct_catalog_resource_patterns(c, put, &n2);
    const char *const *fu = ct_catalog_resource_patterns(c, use, &n1);
    const char *const *fs = ct_catalog_resource_patterns(c, see, &n2);
    CHECK(fg && fg == fp);             /* one list */
    CHECK(fu && fg && fu[0] == fg[0]); /* one string in two lists */
    CHECK(fs && fg && fs[0] == fg[0]);

    /* Loading again replaces what was there. */
    const char *other = "svc:ListThings\tarn:${Partition}:svc:::list\n";
    CHECK_INT(ct_catalog_load_resources(c, other, strlen(other), "res2", &err), 0);
    CHECK_STR(formats_of(c, "svc:listthings"), "arn:${Partition}:svc:::list");
    CHECK_STR(formats_of(c, "svc:getthing"), "-");
    CHECK_INT(ct_catalog_load_resources(c, "", 0, "empty", &err), 0);
    CHECK_STR(formats_of(c, "svc:listthings"), "-");
    ct_catalog_free(c);

    expect_error("svc:GetThing\tarn:x:y\nsvc:Nope\tarn:x:y\n", 2, 1, "not in the action catalog");
    expect_error("svc:GetThing\tarn:x:y\nsvc:getthing\tarn:x:z\n", 2, 1, "listed twice");
    expect_error("svc:GetThing arn:x:y\n", 1, 0, "expected");
    expect_error("\tarn:x:y\n", 1, 0, "expected");
    expect_error("svc:GetThing\n", 1, 0, "expected");
    expect_error("svc:GetThing\t\n", 1, -1, "empty ARN format");
    expect_error("svc:GetThing\tarn:x:y\t\n", 1, -1, "empty ARN format");
    expect_error("svc:GetThing\tarn:x:y\t\tarn:x:z\n", 1, -1, "empty ARN format");
    expect_error("svc:GetThing\tARN:x:y\n", 1, 14, "does not start with");
    expect_error("svc:GetThing\tarn:${Partition}:svc:::thing/*\n", 1, 43, "wildcard");
    expect_error("svc:GetThing\tarn:x:?\n", 1, 20, "wildcard");
    expect_error("svc:GetThing\tarn:x:${}\n", 1, 20, "malformed");
    expect_error("svc:GetThing\tarn:x:${Name\n", 1, 20, "malformed");
    expect_error("svc:GetThing\tarn:x:${Na-me}\n", 1, 20, "malformed");
    expect_error("svc:GetThing\tarn:x:$Name\n", 1, 20, "malformed");
    expect_error("svc:GetThing\tarn:x:y-{Stamp}\n", 1, 22, "brace outside");
    expect_error("svc:GetThing\tarn:x:y}\n", 1, 21, "brace outside");
    expect_error("svc:GetThing\tarn:x:a b\n", 1, 21, "space");
    expect_error("svc:GetThing\tarn:x:\xc3\xa9\n", 1, 20, "non-ASCII");
    char longname[300];
    memset(longname, 'a', 200);
    memcpy(longname, "svc:", 4);
    memcpy(longname + 200, "\tarn:x:y\n", 10);
    expect_error(longname, 1, 1, "not in the action catalog");
    char many[4000] = "svc:GetThing";
    for (int k = 0; k < 256; k++)
        strcat(many, "\tarn:x:y");
    expect_error(many, 1, 0, "too many ARN formats");
    /* A NUL byte: in the name, or in a format. */
    ct_catalog *c2 = small_catalog();
    if (c2) {
        const char nul_name[] = "svc:Get\0Thing\tarn:x:y\n";
        const char nul_end[] = "svc:GetThing\0\tarn:x:y\n";
        CHECK_INT(ct_catalog_load_resources(c2, nul_end, sizeof(nul_end) - 1, "n", &err),
                  CT_EINPUT);
        const char nul_format[] = "svc:GetThing\tarn:x:\0y\n";
        CHECK_INT(ct_catalog_load_resources(c2, nul_name, sizeof(nul_name) - 1, "n", &err),
                  CT_EINPUT);
        CHECK_INT(err.line, 1);
        CHECK_INT(ct_catalog_load_resources(c2, nul_format, sizeof(nul_format) - 1, "n", &err),
                  CT_EINPUT);
        CHECK_INT(err.col, 20);
        ct_catalog_free(c2);
    }
}

int main(void)
{
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_catalog_load_builtin(&cat, &err), 0);
    if (cat) {
        /* Loaded on demand only. */
        CHECK(!ct_catalog_has_resources(cat));
        CHECK_INT(ct_catalog_load_builtin_resources(cat, &err), 0);
        CHECK(ct_catalog_has_resources(cat));
    }
    if (!cat) {
        fprintf(stderr, "cannot load the builtin catalog: %s\n", err.message);
        return 1;
    }
    RUN(test_builtin_count);
    RUN(test_builtin_lines);
    RUN(test_builtin_formats_match_examples);
    RUN(test_builtin_examples);
    RUN(test_match);
    RUN(test_load);
    ct_catalog_free(cat);
    TEST_MAIN_END();
}
