/* Unit tests for the ingest: gzip salvage, bad input of every kind, trail
 * layouts and the account filter, path arguments, incremental runs, and
 * runs killed at random points that must end exactly like a clean run. */
#define _XOPEN_SOURCE 700
#include "cloudtracker/store.h"
#include "trail/gzread.h"
#include "store_fixture.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const DAY_DIR = "AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/02";

static ct_store *open_store(const char *path)
{
    ct_store *s = NULL;
    ct_error err;
    int rc = ct_store_open(&s, path, true, &err);
    if (rc != 0)
        fprintf(stderr, "ct_store_open: %s\n", err.message);
    CHECK_INT(rc, 0);
    return s;
}

/* Opens the store, ingests `paths`, closes it. Returns ct_store_ingest's
 * status; the summary is the caller's to release. */
static int ingest(const char *store_path, const char *const *paths, size_t n, const char *account,
                  ct_ingest_summary *sum, ct_error *err)
{
    ct_store *s = open_store(store_path);
    if (!s) {
        memset(sum, 0, sizeof(*sum));
        return CT_ESTORE;
    }
    ct_ingest_options opts = {0};
    opts.paths = paths;
    opts.path_count = n;
    opts.account_id = account;
    opts.threads = 2;
    int rc = ct_store_ingest(s, &opts, sum, err);
    ct_store_free(s);
    return rc;
}

static const char *problem_reason(const ct_ingest_summary *sum, const char *path_suffix)
{
    for (size_t i = 0; i < sum->problems.count; i++)
        if (ct_str_ends_with(sum->problems.items[i].path, path_suffix))
            return sum->problems.items[i].reason;
    return NULL;
}

static bool reason_has(const ct_ingest_summary *sum, const char *path_suffix, const char *text)
{
    const char *r = problem_reason(sum, path_suffix);
    if (!r || !strstr(r, text)) {
        fprintf(stderr, "  problem for %s: %s (wanted \"%s\")\n", path_suffix, r ? r : "(none)",
                text);
        return false;
    }
    return true;
}

/* Records of one user, n calls of s3 ListBuckets on 2024-01-02. */
static char *user_doc(const char *user, size_t n)
{
    char arn[128];
    snprintf(arn, sizeof(arn), "arn:aws:iam::111111111111:user/%s", user);
    trec *recs = calloc(n, sizeof(*recs));
    for (size_t i = 0; i < n; i++) {
        trec r = {.time = "2024-01-02T10:00:00Z",
                  .source = "s3.amazonaws.com",
                  .name = "ListBuckets",
                  .type = "IAMUser",
                  .arn = arn,
                  .key = "AKIAEXAMPLE",
                  .account = "111111111111"};
        recs[i] = r;
    }
    char *doc = trail_doc(recs, n);
    free(recs);
    return doc;
}

/* n records that differ from each other, so they compress like real ones. */
static char *varied_doc(size_t n)
{
    trec *recs = calloc(n, sizeof(*recs));
    char **arns = calloc(n, sizeof(*arns));
    for (size_t i = 0; i < n; i++) {
        ct_buf b = CT_BUF_INIT;
        ct_buf_printf(&b, "arn:aws:iam::111111111111:user/u%zu-%zx", i, i * 2654435761u);
        arns[i] = ct_buf_detach(&b);
        trec r = {.time = "2024-01-02T10:00:00Z",
                  .source = "s3.amazonaws.com",
                  .name = "ListBuckets",
                  .type = "IAMUser",
                  .arn = arns[i],
                  .account = "111111111111"};
        recs[i] = r;
    }
    char *doc = trail_doc(recs, n);
    for (size_t i = 0; i < n; i++)
        free(arns[i]);
    free(arns);
    free(recs);
    return doc;
}

static void test_gzip(void)
{
    ct_buf text = CT_BUF_INIT;
    for (int i = 0; text.len < 200000; i++)
        ct_buf_printf(&text, "{\"eventName\":\"Call%d\",\"n\":%d}\n", i % 97, i);
    size_t n;
    unsigned char *gz = gzip_bytes(text.data, text.len, &n);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    ct_gz_out out = {0};
    ct_error err;

    CHECK_INT(ct_gz_decompress(d, gz, n, CT_GZ_MAX_OUTPUT, &out, &err), 0);
    CHECK(out.len == text.len && memcmp(out.data, text.data, text.len) == 0);

    /* Two members, the last one tiny: its ISIZE is a poor hint. */
    size_t n2;
    unsigned char *tail = gzip_bytes("x", 1, &n2);
    unsigned char *multi = malloc(n + n2 + 600);
    memcpy(multi, gz, n);
    memcpy(multi + n, tail, n2);
    CHECK_INT(ct_gz_decompress(d, multi, n + n2, CT_GZ_MAX_OUTPUT, &out, &err), 0);
    CHECK(out.len == text.len + 1 && out.data[text.len] == 'x');
    /* Zero padding after the members is fine, other bytes are not. */
    memset(multi + n + n2, 0, 512);
    CHECK_INT(ct_gz_decompress(d, multi, n + n2 + 512, CT_GZ_MAX_OUTPUT, &out, &err), 0);
    memcpy(multi + n + n2, "junk", 4);
    CHECK_INT(ct_gz_decompress(d, multi, n + n2 + 4, CT_GZ_MAX_OUTPUT, &out, &err), CT_EINPUT);
    CHECK_STR(err.message, "trailing garbage after gzip data");
    CHECK_INT(out.len, text.len + 1);

    /* Cut in half: the prefix is recovered, byte for byte. */
    CHECK_INT(ct_gz_decompress(d, gz, n / 2, CT_GZ_MAX_OUTPUT, &out, &err), CT_EINPUT);
    CHECK_STR(err.message, "truncated gzip stream");
    CHECK(out.len > 0 && out.len < text.len);
    CHECK(memcmp(out.data, text.data, out.len) == 0);
    CHECK_INT(ct_gz_decompress(d, gz, 5, CT_GZ_MAX_OUTPUT, &out, &err), CT_EINPUT);
    CHECK_STR(err.message, "truncated gzip stream");
    CHECK_INT(out.len, 0);

    unsigned char *bad = malloc(n);
    memcpy(bad, gz, n);
    bad[n - 8] ^= 0x55; /* CRC32 */
    CHECK_INT(ct_gz_decompress(d, bad, n, CT_GZ_MAX_OUTPUT, &out, &err), CT_EINPUT);
    CHECK_STR(err.message, "gzip CRC mismatch");
    CHECK_INT(out.len, 0);
    memcpy(bad, gz, n);
    bad[n - 3] ^= 0x01; /* ISIZE */
    CHECK_INT(ct_gz_decompress(d, bad, n, CT_GZ_MAX_OUTPUT, &out, &err), CT_EINPUT);
    CHECK_STR(err.message, "gzip length mismatch");
    memcpy(bad, gz, n);
    bad[2] = 7; /* compression method */
    CHECK_INT(ct_gz_decompress(d, bad, n, CT_GZ_MAX_OUTPUT, &out, &err), CT_EINPUT);
    CHECK_STR(err.message, "not a valid gzip file");
    CHECK_INT(ct_gz_decompress(d, (const unsigned char *)"hello", 5, CT_GZ_MAX_OUTPUT, &out, &err),
              CT_EINPUT);
    CHECK_STR(err.message, "not a valid gzip file");
    memcpy(bad, gz, n);
    for (size_t i = n / 3; i < n / 3 + 16; i++)
        bad[i] ^= 0xA5;
    CHECK_INT(ct_gz_decompress(d, bad, n, CT_GZ_MAX_OUTPUT, &out, &err), CT_EINPUT);
    CHECK(strcmp(err.message, "corrupt gzip data") == 0 ||
          strcmp(err.message, "gzip CRC mismatch") == 0);
    CHECK_INT(out.len, 0);

    /* A complete first member survives a damaged second one. */
    memcpy(multi, tail, n2);
    memcpy(multi + n2, bad, n);
    CHECK_INT(ct_gz_decompress(d, multi, n2 + n, CT_GZ_MAX_OUTPUT, &out, &err), CT_EINPUT);
    CHECK_INT(out.len, 1);

    /* The size cap. */
    CHECK_INT(ct_gz_decompress(d, gz, n, 64 << 10, &out, &err), CT_EINPUT);
    CHECK(strstr(err.message, "exceeds") != NULL);
    CHECK_INT(out.len, 0);

    ct_gz_out_release(&out);
    libdeflate_free_decompressor(d);
    free(bad);
    free(multi);
    free(tail);
    free(gz);
    ct_buf_release(&text);
}

static void test_bad_inputs(void)
{
    char *root = scratch_dir("bad");
    char *logs = pathf(root, "logs");
    char *store = pathf(root, "store/ct.db");
    ct_buf p = CT_BUF_INIT;
#define AT(name) (ct_buf_reset(&p), ct_buf_printf(&p, "%s/%s/%s", logs, DAY_DIR, name), p.data)

    char *doc3 = user_doc("alice", 3);
    char *doc50 = varied_doc(50);
    CHECK_INT(write_gz(AT("good.json.gz"), doc3), 0);

    size_t n;
    unsigned char *gz = gzip_bytes(doc3, strlen(doc3), &n);
    gz[n - 6] ^= 0xFF;
    CHECK_INT(write_bytes(AT("corrupt.json.gz"), gz, n), 0);
    free(gz);
    CHECK_INT(write_bytes(AT("notgz.json.gz"), "this is not gzip", 16), 0);
    gz = gzip_bytes(doc50, strlen(doc50), &n);
    CHECK_INT(write_bytes(AT("cut.json.gz"), gz, n / 2), 0);
    free(gz);
    /* Cut inside the third record. */
    char *cut = strdup(doc3);
    cut[strlen(doc3) - 40] = '\0';
    CHECK_INT(write_bytes(AT("cut.json"), cut, strlen(cut)), 0);
    free(cut);

    ct_buf b = CT_BUF_INIT;
    trec alice = {.time = "2024-01-02T10:00:00Z",
                  .source = "iam.amazonaws.com",
                  .name = "GetUser",
                  .type = "IAMUser",
                  .arn = "arn:aws:iam::111111111111:user/alice",
                  .account = "111111111111"};
    ct_buf_puts(&b, "{\"Records\":[42,");
    trec_json(&b, &alice);
    ct_buf_puts(&b, ",\"text\"]}");
    CHECK_INT(write_bytes(AT("nonobject.json"), b.data, b.len), 0);

    ct_buf_reset(&b);
    ct_buf_puts(&b, "{\"Records\":[{\"eventTime\":\"2024-01-02T11:00:00Z\",\"eventSource\":"
                    "\"ec2.amazonaws.com\",\"eventName\":\"CreateVpcEndpoint\",\"userIdentity\":"
                    "{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111111111111:user/alice\"},"
                    "\"responseElements\":{\"endpoint\":\"vpce-1\"}},"
                    "{\"eventTime\":\"2024-01-02T11:00:01Z\",\"eventSource\":"
                    "\"ec2.amazonaws.com\",\"eventName\":\"CreateVpcEndpoint\",\"userIdentity\":"
                    "{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111111111111:user/alice\"},"
                    "\"responseElements\":{\"endpoint\":{\"id\":\"vpce-2\",\"tags\":[1,2]}}}]}");
    CHECK_INT(write_bytes(AT("endpoint.json"), b.data, b.len), 0);

    /* A field of the wrong type rejects its record, which would otherwise be
     * charged to no one (or count a failed call as a success). */
    ct_buf_reset(&b);
    ct_buf_puts(&b, "{\"Records\":[{\"eventTime\":\"2024-01-02T12:00:00Z\",\"eventSource\":"
                    "\"sts.amazonaws.com\",\"eventName\":\"GetCallerIdentity\",\"userIdentity\":"
                    "{\"type\":\"IAMUser\",\"arn\":5,\"accessKeyId\":[\"x\"]},"
                    "\"recipientAccountId\":{\"id\":1}},");
    trec_json(&b, &alice);
    ct_buf_puts(&b, "]}");
    CHECK_INT(write_bytes(AT("types.json"), b.data, b.len), 0);

    ct_buf_reset(&b);
    ct_buf_puts(&b, "{\"Records\":[{\"eventTime\":\"2024-01-02T12:00:00Z\",\"eventSource\":"
                    "\"s3.amazonaws.com\",\"eventName\":\"Get\xff\xfe\",\"userIdentity\":"
                    "{\"arn\":\"arn:aws:iam::111111111111:user/alice\"}},");
    /* A log string carrying a terminal escape: stored, never echoed raw. */
    ct_buf_puts(&b, "{\"eventTime\":\"2024-01-02T12:00:00Z\",\"eventSource\":"
                    "\"s3.amazonaws.com\",\"eventName\":\"Evil\\u001b[31m\",\"userIdentity\":"
                    "{\"arn\":\"arn:aws:iam::111111111111:user/alice\"}}]}");
    CHECK_INT(write_bytes(AT("badutf8.json"), b.data, b.len), 0);

    CHECK_INT(write_bytes(AT("empty.json"), "", 0), 0);

    ct_buf_reset(&b);
    trec_json(&b, &alice);
    ct_buf_puts(&b, "\n{\"eventTime\":\"2024-01-02T12:00:00Z\",\"eventSource\":\n");
    trec_json(&b, &alice);
    ct_buf_puts(&b, "\n");
    CHECK_INT(write_bytes(AT("lines.jsonl"), b.data, b.len), 0);

    ct_buf_reset(&b);
    ct_buf_puts(&b, "[");
    trec_json(&b, &alice);
    ct_buf_puts(&b, ",");
    trec_json(&b, &alice);
    ct_buf_puts(&b, "]");
    CHECK_INT(write_bytes(AT("array.json"), b.data, b.len), 0);

    /* Not trail files: other names, hidden files, digests, Insights. */
    CHECK_INT(write_bytes(AT("notes.txt"), doc3, strlen(doc3)), 0);
    CHECK_INT(write_bytes(AT(".hidden.json"), doc3, strlen(doc3)), 0);
    ct_buf_reset(&p);
    ct_buf_printf(&p, "%s/AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/01/02/d.json.gz",
                  logs);
    CHECK_INT(write_gz(p.data, doc3), 0);
    ct_buf_reset(&p);
    ct_buf_printf(&p, "%s/AWSLogs/111111111111/CloudTrail-Insight/us-east-1/2024/01/02/i.json.gz",
                  logs);
    CHECK_INT(write_gz(p.data, doc3), 0);

    ct_ingest_summary sum;
    ct_error err;
    const char *paths[] = {logs};
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_seen, 12);
    CHECK_INT(sum.files_read, 3);
    CHECK_INT(sum.files_partial, 6);
    CHECK_INT(sum.files_skipped, 3);
    CHECK_INT(sum.files_unchanged, 0);
    CHECK(reason_has(&sum, "/corrupt.json.gz", "gzip CRC mismatch"));
    CHECK(reason_has(&sum, "/notgz.json.gz", "not a valid gzip file"));
    CHECK(reason_has(&sum, "/cut.json.gz", "truncated gzip stream"));
    CHECK(reason_has(&sum, "/cut.json", "truncated JSON"));
    CHECK(reason_has(&sum, "/nonobject.json", "2 records rejected"));
    CHECK(reason_has(&sum, "/nonobject.json", "record is not an object"));
    CHECK(reason_has(&sum, "/badutf8.json", "invalid UTF-8"));
    CHECK(reason_has(&sum, "/empty.json", "empty file"));
    CHECK(reason_has(&sum, "/lines.jsonl", "1 record rejected"));
    CHECK(reason_has(&sum, "/types.json",
                     "1 record rejected (first at line 1, column 154: userIdentity.arn is a "
                     "number, expected a string)"));
    CHECK_INT(sum.problems.count, 9);
    for (size_t i = 0; i < sum.problems.count; i++) {
        const char *r = sum.problems.items[i].reason;
        for (const char *c = r; *c; c++)
            CHECK((unsigned char)*c >= 0x20 && (unsigned char)*c != 0x7f);
    }

    /* Per file: stored + rejected adds up, and the summary is their sum. */
    long long cut_stored = store_int(store, "SELECT records_stored FROM file"
                                            " WHERE path LIKE '%/cut.json.gz'");
    CHECK(cut_stored > 0 && cut_stored < 50);
    CHECK_INT(store_int(store, "SELECT records_rejected FROM file WHERE path LIKE '%/cut.json.gz'"),
              1);
    struct {
        const char *name;
        long long stored, rejected;
        const char *status;
    } expect[] = {
        {"good.json.gz", 3, 0, "ok"},        {"corrupt.json.gz", 0, 1, "skipped"},
        {"notgz.json.gz", 0, 1, "skipped"},  {"cut.json", 2, 1, "partial"},
        {"nonobject.json", 1, 2, "partial"}, {"endpoint.json", 2, 0, "ok"},
        {"types.json", 1, 1, "partial"},     {"badutf8.json", 1, 1, "partial"},
        {"empty.json", 0, 0, "skipped"},     {"lines.jsonl", 2, 1, "partial"},
        {"array.json", 2, 0, "ok"},
    };
    long long stored = cut_stored, rejected = 1;
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT records_stored * 1000 + records_rejected FROM file WHERE path LIKE "
                 "'%%/%s' AND status = '%s'",
                 expect[i].name, expect[i].status);
        long long got = store_int(store, sql);
        if (got != expect[i].stored * 1000 + expect[i].rejected)
            fprintf(stderr, "  %s: %lld\n", expect[i].name, got);
        CHECK_INT(got, expect[i].stored * 1000 + expect[i].rejected);
        stored += expect[i].stored;
        rejected += expect[i].rejected;
    }
    CHECK_INT(sum.records_stored, stored);
    CHECK_INT(sum.records_rejected, rejected);
    CHECK_INT(store_int(store, "SELECT SUM(records_stored) FROM file"), stored);
    CHECK_INT(store_int(store, "SELECT SUM(ok + err) FROM daily_call"), stored);
    CHECK_INT(store_int(store, "SELECT SUM(events) FROM daily_account"), stored);
    CHECK_INT(store_int(store, "SELECT count(*) FROM file WHERE path LIKE '%Digest%'"
                               " OR path LIKE '%Insight%' OR path LIKE '%notes%'"
                               " OR path LIKE '%hidden%'"),
              0);
    ct_ingest_summary_release(&sum);

    /* Partial and skipped files are read again each run; the rest is not. */
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_unchanged, 3);
    CHECK_INT(sum.files_read, 0);
    CHECK_INT(sum.files_partial, 6);
    CHECK_INT(sum.files_skipped, 3);
    CHECK_INT(store_int(store, "SELECT SUM(ok + err) FROM daily_call"), stored);
    ct_ingest_summary_release(&sum);

    free(doc3);
    free(doc50);
    ct_buf_release(&b);
    ct_buf_release(&p);
#undef AT
    remove_tree(root);
    free(store);
    free(logs);
    free(root);
}

static void test_layouts(void)
{
    char *root = scratch_dir("layout");
    char *store = pathf(root, "ct.db");
    struct {
        const char *rel, *user, *account;
    } files[] = {
        {"logs/prefix/AWSLogs/111111111111/CloudTrail/us-east-1/2024/01/02/a.json.gz", "alice",
         "111111111111"},
        {"logs/prefix/AWSLogs/222222222222/CloudTrail/us-east-1/2024/01/02/b.json.gz", "bob",
         "222222222222"},
        {"logs/org/AWSLogs/o-abc123def4/111111111111/CloudTrail/eu-west-1/2024/01/02/c.json.gz",
         "carol", "111111111111"},
        {"logs/org/AWSLogs/o-abc123def4/222222222222/CloudTrail/eu-west-1/2024/01/02/d.json.gz",
         "dave", "222222222222"},
        {"logs/loose/e.json", "erin", "333333333333"},
    };
    for (size_t i = 0; i < 5; i++) {
        char arn[128];
        snprintf(arn, sizeof(arn), "arn:aws:iam::%s:user/%s", files[i].account, files[i].user);
        /* The first record has no recipientAccountId: the path gives it. */
        trec recs[2] = {{.time = "2024-01-02T10:00:00Z",
                         .source = "s3.amazonaws.com",
                         .name = "ListBuckets",
                         .type = "IAMUser",
                         .arn = arn},
                        {.time = "2024-01-02T10:00:00Z",
                         .source = "s3.amazonaws.com",
                         .name = "ListBuckets",
                         .type = "IAMUser",
                         .arn = arn,
                         .account = files[i].account}};
        char *doc = trail_doc(recs, 2);
        char *path = pathf(root, files[i].rel);
        CHECK_INT(ct_str_ends_with(path, ".gz") ? write_gz(path, doc)
                                                : write_bytes(path, doc, strlen(doc)),
                  0);
        free(path);
        free(doc);
    }
    char *logs = pathf(root, "logs");
    const char *paths[] = {logs};
    ct_ingest_summary sum;
    ct_error err;
    CHECK_INT(ingest(store, paths, 1, "111111111111", &sum, &err), 0);
    CHECK_INT(sum.files_seen, 3);
    CHECK_INT(sum.files_read, 3);
    CHECK_INT(sum.records_stored, 6);
    ct_ingest_summary_release(&sum);
    CHECK_INT(store_int(store, "SELECT count(*) FROM principal WHERE arn LIKE '%/bob'"
                               " OR arn LIKE '%/dave'"),
              0);
    ct_store *s = open_store(store);
    ct_source *src = NULL;
    CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
    ct_window w = {day_of("2024-01-01"), day_of("2024-01-31")};
    uint64_t count = 0;
    CHECK_INT(src->account_event_count(src, "111111111111", &w, &count, &err), 0);
    CHECK_INT(count, 4); /* alice's and carol's, including those placed by path */
    CHECK_INT(src->account_event_count(src, "333333333333", &w, &count, &err), 0);
    CHECK_INT(count, 1); /* erin's file lies outside the layout: read, record kept */
    CHECK_INT(src->account_event_count(src, "", &w, &count, &err), 0);
    CHECK_INT(count, 1); /* erin's first record: no account anywhere */
    ct_source_free(src);

    /* Without the filter the other account's files come in too. */
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_seen, 5);
    CHECK_INT(sum.files_unchanged, 3);
    CHECK_INT(sum.files_read, 2);
    ct_ingest_summary_release(&sum);
    CHECK_INT(store_int(store, "SELECT SUM(events) FROM daily_account d JOIN account a"
                               " ON a.id = d.account_id WHERE a.account = '222222222222'"),
              4);
    remove_tree(root);
    free(logs);
    free(store);
    free(root);
}

static void test_paths(void)
{
    char *root = scratch_dir("paths");
    char *logs = pathf(root, "logs");
    /* The store lives inside the folder and has a trail file's name. */
    char *store = pathf(root, "logs/store.json");
    char *doc = user_doc("alice", 4);
    char *f1 = pathf(root, "logs/sub/a.json");
    char *f2 = pathf(root, "logs/b.json.gz");
    char *odd = pathf(root, "elsewhere/records.txt");
    CHECK_INT(write_bytes(f1, doc, strlen(doc)), 0);
    CHECK_INT(write_gz(f2, doc), 0);
    CHECK_INT(write_bytes(odd, doc, strlen(doc)), 0);
    ct_ingest_summary sum;
    ct_error err;

    char *missing = pathf(root, "nope");
    const char *bad_paths[] = {logs, missing};
    CHECK_INT(ingest(store, bad_paths, 2, NULL, &sum, &err), CT_EINPUT);
    CHECK(strstr(err.message, "nope") != NULL);
    CHECK_INT(sum.files_seen, 0);
    ct_ingest_summary_release(&sum);
    CHECK_INT(store_int(store, "SELECT count(*) FROM file"), 0);

    /* A folder, the same folder spelled otherwise, a folder inside it, and
     * a file named on its own whatever its name. */
    char *dotted = pathf(root, "logs/sub/..");
    char *sub = pathf(root, "logs/sub");
    const char *paths[] = {logs, dotted, sub, odd};
    CHECK_INT(ingest(store, paths, 4, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_seen, 3);
    CHECK_INT(sum.files_read, 3);
    CHECK_INT(sum.records_stored, 12);
    CHECK_INT(sum.problems.count, 0);
    ct_ingest_summary_release(&sum);
    CHECK_INT(store_int(store, "SELECT count(*) FROM file WHERE path LIKE '%store.json%'"), 0);
    CHECK_INT(store_int(store, "SELECT count(*) FROM file WHERE path LIKE '%/../%'"
                               " OR path NOT LIKE '/%'"),
              0);
    remove_tree(root);
    free(dotted);
    free(sub);
    free(missing);
    free(odd);
    free(f1);
    free(f2);
    free(doc);
    free(store);
    free(logs);
    free(root);
}

static uint64_t alice_calls(const char *store)
{
    return (uint64_t)store_int(store, "SELECT COALESCE(SUM(d.ok), 0) FROM daily_call d JOIN"
                                      " principal p ON p.id = d.principal_id"
                                      " WHERE p.arn LIKE '%user/alice'");
}

static void set_mtime(const char *path, time_t when)
{
    struct timespec t[2] = {{when, 0}, {when, 0}};
    utimensat(AT_FDCWD, path, t, 0);
}

/* Symbolic links are followed to one canonical name: a file reached by two
 * names counts once, a link loop ends, a dangling link is a listed problem. */
static void test_symlinks(void)
{
    char *root = scratch_dir("links");
    char *logs = pathf(root, "logs");
    char *store = pathf(root, "store.db");
    char *doc = user_doc("alice", 3);
    char *real_file = pathf(root, "elsewhere/trail/a.json");
    char *real_dir = pathf(root, "elsewhere/trail");
    char *link_file = pathf(root, "logs/link-a.json");
    char *link_dir = pathf(root, "logs/linked-folder");
    char *loop = pathf(root, "elsewhere/trail/loop");
    char *dangling = pathf(root, "logs/dangling.json");
    char *other = pathf(root, "logs/b.json");
    char *third = pathf(root, "logs/c.json");
    char *link_after = pathf(root, "logs/z-link.json");  /* to b.json, listed before it */
    char *link_before = pathf(root, "logs/0-link.json"); /* to c.json, listed after it */
    char *hard = pathf(root, "logs/hard.json");          /* a hard link of b.json */
    CHECK_INT(write_bytes(real_file, doc, strlen(doc)), 0);
    CHECK_INT(write_bytes(other, doc, strlen(doc)), 0);
    CHECK_INT(write_bytes(third, doc, strlen(doc)), 0);
    CHECK_INT(symlink(real_file, link_file), 0);
    CHECK_INT(symlink(real_dir, link_dir), 0);
    CHECK_INT(symlink(real_dir, loop), 0);
    CHECK_INT(symlink("/nonexistent/cloudtracker-test", dangling), 0);
    CHECK_INT(symlink(other, link_after), 0);
    CHECK_INT(symlink(third, link_before), 0);
    CHECK_INT(link(other, hard), 0);

    ct_ingest_summary sum;
    ct_error err;
    const char *paths[] = {logs};
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    /* a.json is reached as link-a.json and through linked-folder (and its
     * loop), b.json directly, through z-link.json and as hard.json, c.json
     * through 0-link.json and directly: each is found and counted once, 3
     * records each. */
    CHECK_INT(store_int(store, "SELECT count(*) FROM file"), 3);
    CHECK_INT(sum.files_seen, 3);
    CHECK_INT(sum.files_read, 3);
    CHECK_INT(sum.records_stored, 9);
    CHECK_INT(alice_calls(store), 9);
    CHECK_INT(sum.problems.count, 1);
    CHECK(reason_has(&sum, "dangling.json", "broken symbolic link"));
    ct_ingest_summary_release(&sum);

    /* A file given as a path and found again in a folder counts once. */
    char *store2 = pathf(root, "store2.db");
    const char *both[] = {real_file, logs};
    CHECK_INT(ingest(store2, both, 2, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_seen, 3);
    CHECK_INT(sum.records_stored, 9);
    ct_ingest_summary_release(&sum);
    free(store2);

    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_read, 0);
    CHECK_INT(sum.files_unchanged, 3);
    CHECK_INT(alice_calls(store), 9);
    ct_ingest_summary_release(&sum);

    remove_tree(root);
    free(hard);
    free(link_before);
    free(link_after);
    free(third);
    free(other);
    free(dangling);
    free(loop);
    free(link_dir);
    free(link_file);
    free(real_dir);
    free(real_file);
    free(doc);
    free(store);
    free(logs);
    free(root);
}

static void test_incremental(void)
{
    char *root = scratch_dir("incr");
    char *logs = pathf(root, "logs");
    char *store = pathf(root, "ct.db");
    char *f1 = pathf(logs, "f1.json.gz");
    char *f2 = pathf(logs, "f2.json");
    char *f3 = pathf(logs, "f3.json.gz");
    char *bad = pathf(logs, "bad.json");
    char *d10 = user_doc("alice", 10), *d5 = user_doc("alice", 5), *d8 = user_doc("alice", 8),
         *d4 = user_doc("alice", 4);
    CHECK_INT(write_gz(f1, d10), 0);
    CHECK_INT(write_bytes(f2, d5, strlen(d5)), 0);
    CHECK_INT(write_bytes(bad, "{\"Records\":[{\"eventName\":", 25), 0);
    set_mtime(f2, 1700000000);
    const char *paths[] = {logs};
    ct_ingest_summary sum;
    ct_error err;

    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_read, 2);
    CHECK_INT(sum.files_partial, 1);
    CHECK_INT(alice_calls(store), 15);
    ct_ingest_summary_release(&sum);
    bool consistent;
    char *dump1 = store_dump(store, &consistent);
    CHECK(consistent);

    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_seen, 3);
    CHECK_INT(sum.files_unchanged, 2);
    CHECK_INT(sum.files_read, 0);
    CHECK_INT(sum.files_partial, 1); /* read again, problem reported again */
    CHECK_INT(sum.problems.count, 1);
    ct_ingest_summary_release(&sum);
    char *dump2 = store_dump(store, &consistent);
    CHECK_STR(dump2, dump1);

    /* f2 grows: re-read, its old rows replaced, nothing counted twice. */
    CHECK_INT(write_bytes(f2, d8, strlen(d8)), 0);
    set_mtime(f2, 1700000100);
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_read, 1);
    CHECK_INT(sum.files_unchanged, 1);
    CHECK_INT(sum.records_stored, 8);
    CHECK_INT(alice_calls(store), 18);
    ct_ingest_summary_release(&sum);

    /* A new file only. */
    CHECK_INT(write_gz(f3, d4), 0);
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_read, 1);
    CHECK_INT(sum.files_unchanged, 2);
    CHECK_INT(alice_calls(store), 22);
    ct_ingest_summary_release(&sum);

    /* Touched, same content: read again, same totals. */
    set_mtime(f1, 1700000200);
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_read, 1);
    CHECK_INT(alice_calls(store), 22);
    ct_ingest_summary_release(&sum);
    char *dump3 = store_dump(store, &consistent);
    CHECK(consistent);
    CHECK_INT(store_int(store, "SELECT count(*) FROM file"), 4);

    /* A damaged rows blob cannot be taken out of the totals: re-reading
     * its file fails and leaves the store as it was. */
    sqlite3 *db;
    CHECK_INT(sqlite3_open(store, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db,
                           "UPDATE file_rows SET data = x'05' WHERE file_id ="
                           " (SELECT id FROM file WHERE path LIKE '%/f1.json.gz')",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    set_mtime(f1, 1700000300);
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), CT_ESTORE);
    CHECK(strstr(err.message, "damaged rows") != NULL && strstr(err.message, "f1.json.gz"));
    CHECK_INT(alice_calls(store), 22);
    ct_ingest_summary_release(&sum);

    remove_tree(root);
    free(dump1);
    free(dump2);
    free(dump3);
    free(d10);
    free(d5);
    free(d8);
    free(d4);
    free(f1);
    free(f2);
    free(f3);
    free(bad);
    free(store);
    free(logs);
    free(root);
}

/* A tree big enough that a run takes a while: files of 150 records over a
 * few principals, keys, days and AssumeRole calls, plus two bad files. */
static void make_big_tree(const char *logs, int nfiles)
{
    ct_buf path = CT_BUF_INIT;
    char arn[128], key[64], issued[64], time_s[64], role[128], id[64];
    for (int f = 0; f < nfiles; f++) {
        trec recs[150];
        for (int i = 0; i < 150; i++) {
            int u = (f * 7 + i) % 5;
            snprintf(arn, sizeof(arn), "arn:aws:iam::111111111111:user/u%d", u);
            snprintf(key, sizeof(key), "AKIA%d", u);
            snprintf(time_s, sizeof(time_s), "2024-02-%02dT%02d:%02d:00Z", 1 + f % 20, i % 24,
                     i % 60);
            snprintf(role, sizeof(role), "arn:aws:iam::111111111111:role/r%d", i % 3);
            snprintf(issued, sizeof(issued), "ASIA%d_%d", f, i);
            snprintf(id, sizeof(id), "ev-%d-%d", f, i);
            trec r = {.time = strdup(time_s),
                      .source = "ec2.amazonaws.com",
                      .name = i % 4 ? "DescribeInstances" : "RunInstances",
                      .type = "IAMUser",
                      .arn = strdup(arn),
                      .key = strdup(key),
                      .account = "111111111111",
                      .error = i % 9 == 0 ? "AccessDenied" : NULL,
                      .id = strdup(id)};
            if (i % 10 == 0) {
                r.source = "sts.amazonaws.com";
                r.name = "AssumeRole";
                r.error = NULL;
                r.role_arn = strdup(role);
                r.issued = strdup(issued);
            } else if (i % 10 == 5) {
                r.type = "AssumedRole";
                r.issuer = strdup(role);
                snprintf(issued, sizeof(issued), "ASIA%d_%d", f, i - 5);
                free((void *)r.key);
                r.key = strdup(issued);
                free((void *)r.arn);
                r.arn = strdup("arn:aws:sts::111111111111:assumed-role/r/s");
            }
            recs[i] = r;
        }
        char *doc = trail_doc(recs, 150);
        for (int i = 0; i < 150; i++) {
            free((void *)recs[i].time);
            free((void *)recs[i].arn);
            free((void *)recs[i].key);
            free((void *)recs[i].id);
            free((void *)recs[i].role_arn);
            free((void *)recs[i].issued);
            free((void *)recs[i].issuer);
        }
        ct_buf_reset(&path);
        ct_buf_printf(&path,
                      "%s/AWSLogs/111111111111/CloudTrail/us-east-1/2024/02/%02d/f%04d.json.gz",
                      logs, 1 + f % 20, f);
        write_gz(path.data, doc);
        free(doc);
    }
    ct_buf_reset(&path);
    ct_buf_printf(&path, "%s/bad/cut.json", logs);
    write_bytes(path.data, "{\"Records\":[{\"eventTime\":", 25);
    ct_buf_reset(&path);
    ct_buf_printf(&path, "%s/bad/corrupt.json.gz", logs);
    write_bytes(path.data, "\x1f\x8b\x08\x00garbage-garbage-garbage", 27);
    ct_buf_release(&path);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Where a run that is to be killed is: once it has written `notify_at`
 * files it tells the parent (which kills it at once, so the kill lands
 * wherever the run has got to: inside a file, a commit, a roll-up), and
 * once it has written `block_at` files it waits to be killed. The kill
 * therefore always lands before the run ends, whatever the machine's speed;
 * it is never a guess of how long a run takes. */
struct kill_plan {
    int fd;
    uint64_t notify_at, block_at;
    bool notified;
};

static void kill_plan_progress(void *ud, const ct_ingest_summary *s)
{
    struct kill_plan *k = ud;
    uint64_t written = s->files_read + s->files_partial + s->files_skipped;
    if (!k->notified && written >= k->notify_at) {
        k->notified = true;
        while (write(k->fd, "k", 1) < 0 && errno == EINTR)
            ;
    }
    if (written >= k->block_at)
        for (;;)
            pause();
}

/* Runs an ingest in a child that is killed as `plan` says; a child that
 * ends before reaching plan->notify_at files is left to finish. Returns
 * whether it was killed. */
static bool ingest_killed(const char *store_path, const char *const *paths,
                          struct kill_plan plan)
{
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        plan.fd = fds[1];
        ct_store *s = open_store(store_path);
        ct_ingest_options opts = {0};
        opts.paths = paths;
        opts.path_count = 1;
        opts.threads = 2;
        opts.progress = kill_plan_progress;
        opts.progress_ud = &plan;
        ct_ingest_summary sum;
        ct_error e;
        int rc = s ? ct_store_ingest(s, &opts, &sum, &e) : CT_ESTORE;
        if (s)
            ct_store_free(s);
        _exit(rc == 0 ? 0 : 1);
    }
    CHECK(pid > 0);
    close(fds[1]);
    char c;
    ssize_t n;
    while ((n = read(fds[0], &c, 1)) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    if (n == 1) {
        /* A little more, at random, so kills land all over a run. */
        struct timespec ts = {0, (long)(rand() % 5000) * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status))
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return WIFSIGNALED(status);
}

static void test_interrupted_runs(void)
{
    char *root = scratch_dir("kill");
    char *logs = pathf(root, "logs");
    char *clean = pathf(root, "clean.db");
    char *killed = pathf(root, "killed.db");
    const int nfiles = 160;
    make_big_tree(logs, nfiles);
    const char *paths[] = {logs};
    ct_ingest_summary sum;
    ct_error err;
    /* A few files per transaction, so that a killed run leaves some groups
     * committed and the next run has to pick up after them. */
    size_t group_files = ct_ingest_group_files;
    ct_ingest_group_files = 4;

    double t0 = now_s();
    CHECK_INT(ingest(clean, paths, 1, NULL, &sum, &err), 0);
    double took = now_s() - t0;
    CHECK_INT(sum.files_seen, nfiles + 2);
    CHECK_INT(sum.records_stored, nfiles * 150);
    ct_ingest_summary_release(&sum);
    bool consistent;
    char *want = store_dump(clean, &consistent);
    CHECK(consistent);

    /* Runs killed at random points, each followed by a complete run that
     * must give exactly the clean run's store: three from scratch, and one
     * store that several short-lived runs fill bit by bit first. Each
     * killed run from scratch is past its first group of 4 files (so some
     * are committed) and stops before its last, so it is killed part-way
     * however fast or slow the machine is. */
    srand(12345);
    int interrupted = 0, part_way = 0;
    char *got = NULL;
    for (int round = 0; round < 4; round++) {
        remove(killed);
        char *wal = pathf(root, "killed.db-wal"), *shm = pathf(root, "killed.db-shm");
        remove(wal);
        remove(shm);
        free(wal);
        free(shm);
        int kills = round < 3 ? 1 : 5;
        for (int k = 0; k < kills; k++) {
            struct kill_plan plan = {-1, 0, 0, false};
            plan.notify_at = round < 3 ? 4 + (uint64_t)(rand() % (nfiles - 20))
                                       : 1 + (uint64_t)(rand() % 30);
            plan.block_at = plan.notify_at + 1 + (uint64_t)(rand() % 8);
            interrupted += ingest_killed(killed, paths, plan);
        }
        long long partway = store_int(killed, "SELECT count(*) FROM file");
        fprintf(stderr, "  round %d: %lld of %d files recorded before the last run\n", round,
                partway, nfiles + 2);
        part_way += partway > 0 && partway < nfiles + 2;
        CHECK_INT(ingest(killed, paths, 1, NULL, &sum, &err), 0);
        CHECK_INT(sum.files_seen, nfiles + 2);
        CHECK_INT(sum.files_seen,
                  sum.files_unchanged + sum.files_read + sum.files_partial + sum.files_skipped);
        ct_ingest_summary_release(&sum);
        free(got);
        got = store_dump(killed, &consistent);
        CHECK(consistent);
        CHECK(strcmp(got, want) == 0);
        if (strcmp(got, want) != 0)
            fprintf(stderr, "  stores differ (%zu vs %zu bytes)\n", strlen(got), strlen(want));
    }
    fprintf(stderr, "  %d of 8 runs killed (a clean run takes %.0f ms)\n", interrupted,
            took * 1000);
    CHECK(interrupted >= 3); /* the three from scratch, at least */
    CHECK(part_way >= 3);

    /* Every third file touched: read again, its old rows (role sessions
     * included) taken out of the roll-ups, the store the same. */
    ct_buf touched = CT_BUF_INIT;
    for (int f = 0; f < nfiles; f += 3) {
        ct_buf_reset(&touched);
        ct_buf_printf(&touched,
                      "%s/AWSLogs/111111111111/CloudTrail/us-east-1/2024/02/%02d/f%04d.json.gz",
                      logs, 1 + f % 20, f);
        set_mtime(touched.data, 1700000000 + f);
    }
    ct_buf_release(&touched);
    CHECK_INT(ingest(killed, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_read, (nfiles + 2) / 3);
    ct_ingest_summary_release(&sum);
    free(got);
    got = store_dump(killed, &consistent);
    CHECK(consistent);
    CHECK(strcmp(got, want) == 0);
    ct_ingest_group_files = group_files;

    remove_tree(root);
    free(got);
    free(want);
    free(clean);
    free(killed);
    free(logs);
    free(root);
}

/* Ingests a tree holding an unreadable folder; returns the number of failed
 * expectations (it may run in a child process, see below). */
static int locked_folder_failures(const char *root)
{
    int before = ct_test_failures;
    char *logs = pathf(root, "logs");
    char *store = pathf(root, "ct.db");
    const char *paths[] = {logs};
    ct_ingest_summary sum;
    ct_error err;
    CHECK_INT(ingest(store, paths, 1, NULL, &sum, &err), 0);
    CHECK_INT(sum.files_seen, 1);
    CHECK_INT(sum.files_read, 1);
    CHECK_INT(sum.problems.count, 1);
    if (sum.problems.count) {
        CHECK(ct_str_ends_with(sum.problems.items[0].path, "/logs/locked"));
        CHECK(strstr(sum.problems.items[0].reason, "cannot read folder") != NULL);
    }
    ct_ingest_summary_release(&sum);
    free(store);
    free(logs);
    return ct_test_failures - before;
}

/* An unreadable folder below a path is a problem, not a failure. As root,
 * chmod 000 does not stop reading, so the check runs in a child that drops
 * to nobody; where even that cannot read-protect, it is skipped. */
static void test_unreadable_folder(void)
{
    char *root = scratch_dir("locked");
    chmod(root, 0777);
    char *ok = pathf(root, "logs/ok.json");
    char *inner = pathf(root, "logs/locked/inner.json");
    char *locked = pathf(root, "logs/locked");
    char *doc = user_doc("alice", 2);
    CHECK_INT(write_bytes(ok, doc, strlen(doc)), 0);
    CHECK_INT(write_bytes(inner, doc, strlen(doc)), 0);
    chmod(locked, 0);
    if (geteuid() != 0) {
        locked_folder_failures(root);
    } else {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(77);
            DIR *d = opendir(locked);
            if (d) {
                closedir(d);
                _exit(77);
            }
            _exit(locked_folder_failures(root) ? 1 : 0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
            fprintf(stderr, "  (cannot drop privileges here: unreadable-folder check skipped)\n");
        else
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    chmod(locked, 0755);
    remove_tree(root);
    free(doc);
    free(locked);
    free(inner);
    free(ok);
    free(root);
}

static void count_progress(void *ud, const ct_ingest_summary *so_far)
{
    (void)so_far;
    (*(int *)ud)++;
}

static void test_progress_and_threads(void)
{
    char *root = scratch_dir("prog");
    char *logs = pathf(root, "logs");
    char *doc = user_doc("alice", 2);
    for (int i = 0; i < 9; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "logs/f%d.json", i);
        char *p = pathf(root, rel);
        write_bytes(p, doc, strlen(doc));
        free(p);
    }
    for (unsigned threads = 0; threads <= 3; threads++) {
        char name[32];
        snprintf(name, sizeof(name), "s%u.db", threads);
        char *store = pathf(root, name);
        ct_store *s = open_store(store);
        int calls = 0;
        ct_ingest_options opts = {0};
        const char *paths[] = {logs};
        opts.paths = paths;
        opts.path_count = 1;
        opts.threads = threads;
        opts.progress = count_progress;
        opts.progress_ud = &calls;
        ct_ingest_summary sum;
        ct_error err;
        CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
        CHECK_INT(sum.files_read, 9);
        CHECK_INT(sum.records_stored, 18);
        CHECK_INT(calls, 9);
        ct_ingest_summary_release(&sum);
        ct_store_free(s);
        free(store);
    }
    remove_tree(root);
    free(doc);
    free(logs);
    free(root);
}

/* ---- the workers' shared memory budget ---- */

#define BUDGET_QUOTA ((size_t)256 << 10)
#define BUDGET_LIMIT ((size_t)4 << 20)

/* Two readers sharing a budget: while one holds a file above its quota,
 * the other waits for the lane before growing beyond its own. */
struct lane_test {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool a_holds;   /* reader A is inside its file's records */
    bool b_waiting; /* reader B waits for the lane */
    bool b_inside;  /* reader B got as far as its records */
    ct_file_reader *rb;
    const char *path_b;
    ct_file_scan scan_b;
    int rc_b;
};

static void lane_set(struct lane_test *t, bool *flag)
{
    pthread_mutex_lock(&t->mu);
    *flag = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static void lane_wait_hook(void *ud)
{
    struct lane_test *t = ud;
    lane_set(t, &t->b_waiting);
}

static int lane_record_a(void *ud, const ct_trail_record *rec)
{
    (void)rec;
    struct lane_test *t = ud;
    pthread_mutex_lock(&t->mu);
    if (!t->a_holds) {
        t->a_holds = true;
        pthread_cond_broadcast(&t->cv);
        /* B now either waits for the lane or gets its file in memory
         * next to A's: whichever comes first is what the test is about. */
        while (!t->b_waiting && !t->b_inside)
            pthread_cond_wait(&t->cv, &t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return 0;
}

static int lane_record_b(void *ud, const ct_trail_record *rec)
{
    (void)rec;
    struct lane_test *t = ud;
    if (!t->b_inside)
        lane_set(t, &t->b_inside);
    return 0;
}

static void *lane_thread_b(void *arg)
{
    struct lane_test *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->a_holds)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    ct_error err;
    t->rc_b = ct_file_scan_path(t->rb, t->path_b, lane_record_b, NULL, t, &t->scan_b, &err);
    return NULL;
}

static void test_budget_lane(void)
{
    char *root = scratch_dir("lane");
    char *fa = pathf(root, "a.json.gz"), *fb = pathf(root, "b.json.gz");
    char *doc = varied_doc(12000);
    size_t text = strlen(doc);
    CHECK(text > 3 * BUDGET_LIMIT / 4 && text < BUDGET_LIMIT);
    CHECK_INT(write_gz(fa, doc), 0);
    CHECK_INT(write_gz(fb, doc), 0);

    ct_gz_budget *budget = NULL;
    CHECK_INT(ct_gz_budget_new(&budget, BUDGET_QUOTA), 0);
    struct lane_test t;
    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.mu, NULL);
    pthread_cond_init(&t.cv, NULL);
    t.path_b = fb;
    ct_gz_budget_set_wait_hook(budget, lane_wait_hook, &t);
    ct_file_reader *ra = NULL;
    CHECK_INT(ct_file_reader_new(&ra, BUDGET_LIMIT, NULL), 0);
    CHECK_INT(ct_file_reader_new(&t.rb, BUDGET_LIMIT, NULL), 0);
    ct_file_reader_set_budget(ra, budget);
    ct_file_reader_set_budget(t.rb, budget);

    pthread_t th;
    CHECK_INT(pthread_create(&th, NULL, lane_thread_b, &t), 0);
    ct_file_scan scan_a;
    ct_error err;
    CHECK_INT(ct_file_scan_path(ra, fa, lane_record_a, NULL, &t, &scan_a, &err), 0);
    lane_set(&t, &t.a_holds); /* should A have failed early, B must not wait for ever */
    pthread_join(th, NULL);

    CHECK_INT(t.rc_b, 0);
    CHECK_INT(scan_a.status, CT_FILE_OK);
    CHECK_INT(t.scan_b.status, CT_FILE_OK);
    CHECK_INT(scan_a.records, 12000);
    CHECK_INT(t.scan_b.records, 12000);
    CHECK(t.b_waiting);
    /* One decompressed file was held at a time, never both. */
    size_t peak = ct_gz_budget_peak(budget);
    CHECK(peak > text);
    CHECK(peak < 2 * text);
    if (peak >= 2 * text)
        fprintf(stderr, "  peak %zu bytes, two texts %zu\n", peak, 2 * text);

    ct_file_scan_release(&scan_a);
    ct_file_scan_release(&t.scan_b);
    ct_file_reader_free(ra);
    ct_file_reader_free(t.rb);
    ct_gz_budget_free(budget);
    pthread_cond_destroy(&t.cv);
    pthread_mutex_destroy(&t.mu);
    remove_tree(root);
    free(doc);
    free(fa);
    free(fb);
    free(root);
}

/* The ingest's workers share one budget: files above a worker's quota are
 * read one at a time, so what they hold together stays within the bound
 * whatever the number of threads; small files are read alongside, and a
 * file over the limit is skipped as before. */
static void test_memory_budget(void)
{
    char *root = scratch_dir("budget");
    char *logs = pathf(root, "logs");
    char *store = pathf(root, "ct.db");
    char *big = varied_doc(12000), *small = user_doc("alice", 2), *huge = varied_doc(24000);
    size_t text = strlen(big);
    CHECK(strlen(huge) > BUDGET_LIMIT);
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "big%d.json.gz", i);
        char *p = pathf(logs, rel);
        CHECK_INT(write_gz(p, big), 0);
        free(p);
        snprintf(rel, sizeof(rel), "small%d.json.gz", i);
        p = pathf(logs, rel);
        CHECK_INT(write_gz(p, small), 0);
        free(p);
    }
    char *over = pathf(logs, "huge.json.gz");
    CHECK_INT(write_gz(over, huge), 0);

    ct_gz_budget *budget = NULL;
    CHECK_INT(ct_gz_budget_new(&budget, BUDGET_QUOTA), 0);
    size_t limit_before = ct_ingest_file_limit;
    ct_ingest_file_limit = BUDGET_LIMIT;
    ct_ingest_budget = budget;
    ct_store *s = open_store(store);
    ct_ingest_options opts = {0};
    const char *paths[] = {logs};
    opts.paths = paths;
    opts.path_count = 1;
    opts.threads = 3;
    ct_ingest_summary sum;
    ct_error err;
    CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
    ct_store_free(s);
    ct_ingest_budget = NULL;
    ct_ingest_file_limit = limit_before;

    CHECK_INT(sum.files_read, 8);
    CHECK_INT(sum.files_skipped, 1);
    CHECK_INT(sum.records_stored, 4 * 12000 + 4 * 2);
    CHECK(reason_has(&sum, "huge.json.gz", "decompressed size exceeds the 4 MiB limit"));
    /* The bound: each worker's quota, plus one file beyond it (the file
     * and its text, each at most the limit and a NUL). */
    size_t peak = ct_gz_budget_peak(budget);
    CHECK(peak <= 3 * BUDGET_QUOTA + 2 * (BUDGET_LIMIT + 2));
    /* And more to the point: two big texts were never held at once. */
    CHECK(peak > text && peak < 2 * text);
    if (peak >= 2 * text)
        fprintf(stderr, "  peak %zu bytes, two texts %zu\n", peak, 2 * text);
    ct_ingest_summary_release(&sum);

    ct_gz_budget_free(budget);
    remove_tree(root);
    free(over);
    free(huge);
    free(small);
    free(big);
    free(store);
    free(logs);
    free(root);
}

int main(void)
{
    RUN(test_gzip);
    RUN(test_bad_inputs);
    RUN(test_unreadable_folder);
    RUN(test_layouts);
    RUN(test_paths);
    RUN(test_symlinks);
    RUN(test_incremental);
    RUN(test_interrupted_runs);
    RUN(test_progress_and_threads);
    RUN(test_budget_lane);
    RUN(test_memory_budget);
    TEST_MAIN_END();
}
