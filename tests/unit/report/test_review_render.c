/* Unit tests for the access review's CSV and HTML (review_csv.c,
 * review_html.c) on a hand-built review (review_fixture.h): the CSV byte
 * for byte, RFC 4180 and the formula guard; the HTML's escaping, its
 * Content-Security-Policy hashes and its INCOMPLETE banner; write errors.
 * The HTML in a real browser is tests/html/check_review_html.py. */
#include "cloudtracker/report.h"
#include "report/internal.h"
#include "review_fixture.h"
#include "test.h"
#include "util/sha256.h"

#include <stdlib.h>

/* What fn writes for the report (malloc'd), NULL when it fails. */
static char *render_report(int (*fn)(FILE *, const ct_review_report *), const ct_review_report *rep,
                           size_t *len)
{
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);
    CHECK(out != NULL);
    if (!out)
        return NULL;
    int rc = fn(out, rep);
    CHECK_INT(rc, 0);
    fclose(out);
    if (rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The format's output for the fixture variant (malloc'd), NULL on error. */
static char *render(int (*fn)(FILE *, const ct_review_report *), bool incomplete, bool with_changes,
                    size_t *len)
{
    review_fixture f;
    bool ok = review_fixture_init(&f, incomplete, with_changes);
    CHECK(ok);
    char *buf = ok ? render_report(fn, &f.report, len) : NULL;
    review_fixture_release(&f);
    return buf;
}

/* Compares with tests/data/review/NAME; on a difference, writes the
 * output beside the build's tests so it can be inspected. */
static void check_expected(const char *name, const char *got, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/review/%s", CT_TEST_DATA, name);
    size_t want_len = 0;
    char *want = test_slurp(path, &want_len);
    CHECK(want != NULL);
    bool same = want && want_len == len && memcmp(want, got, len) == 0;
    CHECK(same);
    if (!same) {
        const char *tmp = getenv("TMPDIR");
        snprintf(path, sizeof(path), "%s/%s.actual", tmp && *tmp ? tmp : "/tmp", name);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(got, 1, len, f);
            fclose(f);
            fprintf(stderr, "  %s differs: the output is in %s\n", name, path);
        }
    }
    free(want);
}

/* Splits RFC 4180 text into rows of fields (counted only): returns the
 * number of rows, with every row's field count in counts[] (room for max),
 * or -1 when a quote is misplaced or a line does not end in CRLF. */
static int csv_shape(const char *s, size_t n, size_t *counts, size_t max)
{
    size_t rows = 0, fields = 1, i = 0;
    while (i < n) {
        if (s[i] == '"') { /* a quoted field: up to the lone closing quote */
            for (i++;; i++) {
                if (i >= n)
                    return -1;
                if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
                    i++;
                else if (s[i] == '"')
                    break;
            }
            i++;
            if (i < n && s[i] != ',' && s[i] != '\r')
                return -1;
            continue;
        }
        if (s[i] == ',') {
            fields++;
        } else if (s[i] == '\r') {
            if (i + 1 >= n || s[i + 1] != '\n' || rows >= max)
                return -1;
            counts[rows++] = fields;
            fields = 1;
            i++;
        } else if (s[i] == '\n') {
            return -1; /* a bare LF outside quotes */
        }
        i++;
    }
    return fields == 1 && (n == 0 || s[n - 1] == '\n') ? (int)rows : -1;
}

/* Whether any field (unquoted, as a reader sees it) starts with a formula
 * character: each field's first character, after its opening quote. */
static bool csv_has_formula(const char *s, size_t n)
{
    bool start = true, quoted = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (start && c == '"' && !quoted) {
            quoted = true;
            continue;
        }
        if (start && strchr("=+-@\t\r", c) && !(c == '\r' && !quoted))
            return true;
        start = false;
        if (quoted && c == '"') {
            if (i + 1 < n && s[i + 1] == '"')
                i++;
            else
                quoted = false;
        } else if (!quoted && (c == ',' || c == '\n')) {
            start = true;
        }
    }
    return false;
}

static void test_csv(void)
{
    size_t len = 0;
    char *csv = render(ct_review_csv, true, true, &len);
    CHECK(csv != NULL);
    if (!csv)
        return;
    check_expected("fixture.csv", csv, len);
    CHECK(ct_utf8_valid(csv, len));
    CHECK(strncmp(csv, "row_type,account,", 17) == 0); /* the header first, no BOM */

    /* RFC 4180: every row as wide as the header: the header, the
     * INCOMPLETE row and the 2 warnings, prod's root user, 12 identities,
     * 3 of alice's and =evil's roles, 1 removed identity. */
    size_t counts[32];
    int rows = csv_shape(csv, len, counts, 32);
    CHECK_INT(rows, 1 + 3 + 1 + 12 + 3 + 1);
    for (int i = 1; i < rows; i++)
        CHECK_INT(counts[i], counts[0]);
    CHECK_INT(counts[0], 34 + 7 + 4);

    /* The formula guard and the quoting, on the names that need them. */
    CHECK(!csv_has_formula(csv, len));
    CHECK(strstr(csv, ",'=1+2,") != NULL);
    CHECK(strstr(csv, ",'@admin,") != NULL);
    CHECK(strstr(csv, ",'+cmd,") != NULL);
    CHECK(strstr(csv, ",'-x,") != NULL);
    CHECK(strstr(csv, ",\"a\"\"b,c\",") != NULL);
    CHECK(strstr(csv, ",\"'=evil (low, 1 session)\",") == NULL); /* alice is first */
    CHECK(strstr(csv, ",\"alice (high, 3 sessions); =evil (low, 1 session)\",") != NULL);
    CHECK(strstr(csv, "\r\nperson,,,'=evil,") != NULL);
    CHECK(strstr(csv, "\r\nuser,prod,111111111111,'=old<user>,") != NULL);
    /* CR LF stay in the quoted field; the override is shown, the bad byte
     * replaced */
    CHECK(strstr(csv, ",\"Bob\r\nSmith \\u202Egnp.exe \xEF\xBF\xBD\",") != NULL);
    CHECK(strstr(csv, "\xE2\x80\xAE") == NULL);
    /* The credential report: the root user first, a user it lacks, and
     * each flagged credential (the days count to the window's end). */
    CHECK(strstr(csv, "\r\nroot,prod,111111111111,<root_account>,arn:aws:iam::111111111111:root,"
                      ",,,,,,,,,,,,,,,,,,,,listed,,,yes,yes,304,no,,access_key_1,") != NULL);
    CHECK(strstr(csv, "\r\nuser,prod,111111111111,'@admin,") != NULL);
    CHECK(strstr(csv, ",listed,no,,yes,yes,1791,no,,access_key_1,kept,") != NULL);
    CHECK(strstr(csv, ",not_listed,,,,,,,,,kept,") != NULL);
    CHECK(strstr(csv, ",listed,yes,151,no,no,,no,,password,kept,") != NULL);
    free(csv);

    /* Without --compare: no change columns. */
    csv = render(ct_review_csv, false, false, &len);
    CHECK(csv != NULL);
    if (!csv)
        return;
    check_expected("fixture-no-compare.csv", csv, len);
    rows = csv_shape(csv, len, counts, 32);
    CHECK_INT(rows, 1 + 1 + 12 + 3);
    CHECK_INT(counts[0], 34 + 4);
    CHECK(strstr(csv, "presence") == NULL);
    free(csv);
}

/* The source list of a CSP directive must hold the hash of the text
 * between `open` and `close`. */
static void check_csp_hash(const char *html, const char *directive, const char *open,
                           const char *close)
{
    const char *a = strstr(html, open), *b = a ? strstr(a, close) : NULL;
    CHECK(a && b);
    if (!a || !b)
        return;
    a += strlen(open);
    uint8_t digest[CT_SHA256_LEN];
    ct_sha256_digest(a, (size_t)(b - a), digest);
    char b64[CT_BASE64_SIZE(CT_SHA256_LEN)], want[128];
    ct_base64_encode(digest, sizeof(digest), b64);
    snprintf(want, sizeof(want), "%s 'sha256-%s';", directive, b64);
    const char *csp = strstr(html, "http-equiv=\"Content-Security-Policy\"");
    const char *end = csp ? strchr(csp, '>') : NULL;
    const char *found = csp ? strstr(csp, want) : NULL;
    CHECK(found != NULL && found < end);
}

static size_t occurrences(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

static void test_html(void)
{
    size_t len = 0;
    char *html = render(ct_review_html, true, true, &len);
    CHECK(html != NULL);
    if (!html)
        return;
    CHECK(ct_utf8_valid(html, len));
    CHECK(strncmp(html, "<!DOCTYPE html>\n", 16) == 0);
    /* Nothing of the review becomes markup: the one script is ours. */
    CHECK(strstr(html, "<script>alert") == NULL);
    CHECK_INT(occurrences(html, "<script"), 1);
    CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(html, "<b>") == NULL);
    CHECK(strstr(html, "&lt;b&gt;not bold&lt;/b&gt; &amp; a warning naming &quot;=1+2&quot;") !=
          NULL);
    CHECK(strstr(html, "data-v=\"a&quot;b,c\"") != NULL);
    CHECK(strstr(html, "dev &amp; &lt;test&gt;") != NULL);
    CHECK(strstr(html, "iam/dev &lt;&amp;&gt;.json") != NULL);
    /* Invisible characters shown as such, bad bytes replaced. */
    CHECK(strstr(html, "\xE2\x80\xAE") == NULL);
    CHECK(strstr(html, "<span class=\"esc\" title=\"U+202E\">\\u202E</span>") != NULL);
    CHECK(strstr(html, "<span class=\"esc\" title=\"U+000D\">\\u000D</span>") != NULL);
    CHECK(strstr(html, "\xEF\xBF\xBD") != NULL);
    /* Nothing to load: no URL anywhere but the page's own anchors. */
    CHECK(strstr(html, "src=") == NULL);
    CHECK(strstr(html, "http:") == NULL && strstr(html, "https:") == NULL);
    CHECK(strstr(html, "url(") == NULL && strstr(html, "@import") == NULL);
    check_csp_hash(html, "style-src", "<style>", "</style>");
    check_csp_hash(html, "script-src", "<script>", "</script>");
    CHECK(strstr(html, "default-src 'none'") != NULL);
    /* Every identity has its row; the evidence, summary and changes. */
    for (size_t i = 0; i < FIXTURE_IDENTITIES; i++) {
        char row[32];
        snprintf(row, sizeof(row), "<tr id=\"id-%zu\" ", i);
        CHECK(strstr(html, row) != NULL);
    }
    CHECK(strstr(html, "id=\"ct-incomplete\"") != NULL);
    CHECK(strstr(html, "<title>INCOMPLETE: ") != NULL);
    CHECK(strstr(html, "2024-01-05 to 2024-01-07, 2024-02-29") != NULL);
    CHECK(strstr(html, "<span class=\"flag\">2 skipped</span>") != NULL);
    CHECK(strstr(html, "not known (store holds records, not files)") != NULL);
    CHECK(strstr(html, "<code>cloudtracker review --format html --output &#39;review "
                       "2024Q1.html&#39; --account &#39;it&#39;\\&#39;&#39;s&#39;</code>") != NULL);
    CHECK(strstr(html, "made 2024-04-01T08:30:00Z") != NULL);
    CHECK(strstr(html, "id=\"ct-changes\"") != NULL);
    CHECK(strstr(html, "Changes since the review made 2024-01-01T09:00:00Z") != NULL);
    CHECK(strstr(html, "=old&lt;user&gt;") != NULL);
    /* The credential report: the root user in the evidence, each user's
     * credentials, the flag, the count. */
    CHECK(strstr(html, "<dt>Credential report</dt><dd><code>credentials/prod &lt;report&gt;.csv"
                       "</code></dd><dt>Root user</dt><dd><ul class=\"names\"><li>password: "
                       "<code>not_supported</code></li><li>MFA: active</li><li>access key 1: "
                       "active, last used <code>2023-06-01T00:00:00+00:00</code>; <span "
                       "class=\"flag\">unused 304 days since its last use</span> (flagged)</li>") !=
          NULL);
    CHECK(strstr(html, "<li>access key 1: active, last used <code>N/A</code>; <span "
                       "class=\"flag\">unused 1791 days since it was set (no use on record)"
                       "</span> (flagged)</li>") != NULL);
    CHECK(strstr(html, "<dt>Credentials</dt><dd><span class=\"flag\">not in the credential "
                       "report</span></dd>") != NULL);
    CHECK_INT(occurrences(html, "data-cred=\"yes\""), 2);
    CHECK(strstr(html, "<th>Users with unused credentials</th>") != NULL);
    /* The bar: as wide as the grants, one part per verdict. */
    CHECK(strstr(html, "viewBox=\"0 0 7 1\"") != NULL);
    CHECK(strstr(html, "<rect class=\"x\" x=\"3\" y=\"0\" width=\"3\" height=\"1\"/>") != NULL);
    free(html);

    /* Complete, without --compare: no banner, no changes. */
    html = render(ct_review_html, false, false, &len);
    CHECK(html != NULL);
    if (!html)
        return;
    CHECK(strstr(html, "INCOMPLETE") == NULL);
    CHECK(strstr(html, "id=\"ct-changes\"") == NULL);
    CHECK(strstr(html, "<th>Change</th>") == NULL);
    free(html);
}

/* Thousands of names (an administrator's unused grants, still granted
 * since the last review): the CSV cell stays within Excel's 32,767
 * characters and the HTML shows 300, each saying how many it leaves out. */
static void test_long_lists(void)
{
    enum { N = 3000 };
    static char storage[N][24];
    static const char *many[N];
    for (size_t i = 0; i < N; i++) {
        snprintf(storage[i], sizeof(storage[i]), "service:action%05zu", i); /* 19 bytes */
        many[i] = storage[i];
    }
    review_fixture f;
    CHECK(review_fixture_init(&f, false, true));
    f.items[0].still_granted = many;
    f.items[0].still_granted_count = N;
    size_t len = 0;
    char *buf = render_report(ct_review_csv, &f.report, &len);
    CHECK(buf != NULL);
    /* The first data row's still_granted cell: 1634 names of 19 bytes and
     * their spaces fill 32,679 bytes, and the note takes 51 more. */
    const char *cell = buf ? strstr(buf, "service:action00000") : NULL;
    const char *end = cell ? strchr(cell, ',') : NULL;
    CHECK(cell && end);
    if (cell && end) {
        CHECK_INT(end - cell, 32730);
        const char *note =
            "service:action01633 ... and 1366 more (the JSON review lists them all),";
        CHECK(strncmp(end + 1 - strlen(note), note, strlen(note)) == 0);
        CHECK(strstr(buf, "service:action01634") == NULL);
    }
    free(buf);

    buf = render_report(ct_review_html, &f.report, &len);
    CHECK(buf != NULL);
    if (buf) {
        CHECK(strstr(buf, "<summary>3000 actions</summary>") != NULL);
        CHECK(strstr(buf, "<code>service:action00299</code> and 2700 more (the JSON review "
                          "lists them all)</details>") != NULL);
        CHECK(strstr(buf, "service:action00300") == NULL);
    }
    free(buf);
    review_fixture_release(&f);
}

/* A review of nobody (an account whose IAM file lists no one): the
 * header row alone, and a page with an empty table. */
static void test_empty(void)
{
    review_fixture f;
    CHECK(review_fixture_init(&f, false, false));
    f.review.identity_count = 0;
    f.review.account_count = 0;
    size_t len = 0;
    char *buf = render_report(ct_review_csv, &f.report, &len);
    size_t counts[2];
    CHECK(buf && csv_shape(buf, len, counts, 2) == 1);
    free(buf);
    buf = render_report(ct_review_html, &f.report, &len);
    CHECK(buf && strstr(buf, "<h2>Identities (0)</h2>") != NULL);
    CHECK(buf && strstr(buf, "<tbody>\n</tbody>") != NULL);
    free(buf);
    review_fixture_release(&f);
}

static int print_csv(FILE *out, const ct_review_report *rep)
{
    return ct_report_print_review(out, CT_FORMAT_CSV, rep);
}

/* A stream that cannot be written: CT_EIO, not success (directly and
 * through the dispatch). */
static void test_write_error(void)
{
    review_fixture f;
    CHECK(review_fixture_init(&f, false, true));
    int (*const fns[])(FILE *, const ct_review_report *) = {ct_review_csv, ct_review_html,
                                                            print_csv};
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        FILE *full = fopen("/dev/full", "w");
        CHECK(full != NULL);
        if (!full)
            break;
        CHECK_INT(fns[i](full, &f.report), CT_EIO);
        fclose(full);
    }
    review_fixture_release(&f);
}

int main(void)
{
    RUN(test_csv);
    RUN(test_html);
    RUN(test_long_lists);
    RUN(test_empty);
    RUN(test_write_error);
    TEST_MAIN_END();
}
