/* Unit tests for the store's account_coverage question: the days of the
 * window with events, the Regions (a record without awsRegion as ""), the
 * data events (data_events' answer), the files read whole, in part or
 * skipped, the window's edges, a constant number of statements, and an
 * output left zeroed on every error. */
#define _XOPEN_SOURCE 700
#include "cloudtracker/source.h"
#include "cloudtracker/store.h"
#include "store/store_internal.h"
#include "store_fixture.h"
#include "test.h"

#define A1 "111111111111"
#define A2 "222222222222"

/* One record as JSON: `region` NULL leaves awsRegion out, `extra` (may be
 * NULL) is added as is (e.g. ",\"eventCategory\":\"Data\""). */
static void record(ct_buf *b, const char *time, const char *account, const char *region,
                   const char *name, const char *extra)
{
    ct_buf_printf(b,
                  "%s{\"eventVersion\":\"1.09\",\"eventTime\":\"%s\","
                  "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"%s\","
                  "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::%s:user/u\"},"
                  "\"recipientAccountId\":\"%s\"",
                  b->data[b->len - 1] == '[' ? "" : ",", time, name, account, account);
    if (region)
        ct_buf_printf(b, ",\"awsRegion\":\"%s\"", region);
    ct_buf_printf(b, "%s}", extra ? extra : "");
}

#define DATA_READ ",\"eventCategory\":\"Data\",\"readOnly\":true,\"managementEvent\":false"
#define DATA_WRITE ",\"eventCategory\":\"Data\",\"readOnly\":false,\"managementEvent\":false"
/* A record older than eventCategory (eventVersion < 1.07). */
#define DATA_OLD ",\"managementEvent\":false"

/* The fixture: account A1 from 2024-05-31 to 2024-06-04 in two Regions,
 * without awsRegion, and with an empty one; data events; account A2; a
 * file read in part (one record rejected) and two skipped. */
static char *coverage_logs(const char *root)
{
    char *logs = pathf(root, "logs");
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "{\"Records\":[");
    record(&b, "2024-05-31T23:59:59Z", A1, "us-east-1", "ListBuckets", NULL);
    record(&b, "2024-06-01T00:00:00Z", A1, "us-east-1", "ListBuckets", NULL);
    record(&b, "2024-06-01T08:00:00Z", A1, "eu-west-1", "ListBuckets", NULL);
    record(&b, "2024-06-01T09:00:00Z", A1, "us-east-1", "GetObject", DATA_READ);
    record(&b, "2024-06-01T09:30:00Z", A1, "us-east-1", "GetObject", DATA_READ);
    CHECK_INT(write_records_doc(logs, "a.json", &b), 0);
    record(&b, "2024-06-03T12:00:00Z", A1, NULL, "ListBuckets", NULL);
    record(&b, "2024-06-03T13:00:00Z", A1, "eu-west-1", "PutObject", DATA_WRITE);
    record(&b, "2024-06-03T23:59:59Z", A1, "ap-south-1", "GetObject", DATA_OLD);
    record(&b, "2024-06-04T00:00:00Z", A1, "sa-east-1", "ListBuckets", NULL);
    record(&b, "2024-06-02T10:00:00Z", A2, "us-west-2", "ListBuckets", NULL);
    CHECK_INT(write_records_doc(logs, "b.json", &b), 0);
    /* Read in part: the second record is rejected. */
    record(&b, "2024-06-02T11:00:00Z", A1, "", "ListBuckets", NULL);
    ct_buf_puts(&b, ",{\"eventSource\":5}");
    CHECK_INT(write_records_doc(logs, "partial.json", &b), 0);
    ct_buf_release(&b);
    char *skipped = pathf(logs, "skipped.json");
    CHECK_INT(write_bytes(skipped, "not json", 8), 0);
    free(skipped);
    skipped = pathf(logs, "empty.json");
    CHECK_INT(write_bytes(skipped, "", 0), 0);
    free(skipped);
    return logs;
}

/* A store of the fixture and its source; *store is the handle the source
 * owns. */
static ct_source *coverage_source(const char *root, ct_store **store)
{
    char *logs = coverage_logs(root);
    char *path = pathf(root, "ct.db");
    ct_store *s = NULL;
    ct_source *src = NULL;
    ct_error err;
    CHECK_INT(ct_store_open(&s, path, true, &err), 0);
    const char *paths[] = {logs};
    ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 2};
    ct_ingest_summary sum;
    CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
    CHECK_INT(sum.problems.count, 3);
    ct_ingest_summary_release(&sum);
    CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
    if (store)
        *store = s;
    free(path);
    free(logs);
    return src;
}

static bool is_zero(const ct_account_coverage *c)
{
    static const ct_account_coverage zero;
    return memcmp(c, &zero, sizeof(zero)) == 0;
}

/* The coverage's data events are data_events' answer, item by item. */
static void check_data_is_data_events(ct_source *src, const char *account, const ct_window *w,
                                      const ct_data_events *got)
{
    ct_data_events want = {0};
    ct_error err;
    CHECK_INT(src->data_events(src, account, w, &want, &err), 0);
    CHECK_INT(got->count, want.count);
    for (size_t i = 0; i < want.count && i < got->count; i++) {
        const ct_data_event *x = &got->items[i], *y = &want.items[i];
        CHECK_STR(x->event_source, y->event_source);
        CHECK_STR(x->event_name, y->event_name);
        CHECK_INT(x->read_only, y->read_only);
        CHECK_INT(x->count, y->count);
        CHECK_INT(x->first_day, y->first_day);
        CHECK_INT(x->last_day, y->last_day);
    }
    ct_data_events_release(&want);
}

static void check_days(const ct_account_coverage *c, const char *const *days,
                       const uint64_t *events, size_t n)
{
    CHECK_INT(c->day_count, n);
    for (size_t i = 0; i < n && i < c->day_count; i++) {
        CHECK_INT(c->days[i].day, day_of(days[i]));
        CHECK_INT(c->days[i].events, events[i]);
    }
}

static void check_regions(const ct_account_coverage *c, const char *const *regions, size_t n)
{
    CHECK_INT(c->region_count, n);
    for (size_t i = 0; i < n && i < c->region_count; i++)
        CHECK_STR(c->regions[i], regions[i]);
}

static void test_coverage(void)
{
    char *root = scratch_dir("coverage");
    ct_source *src = coverage_source(root, NULL);
    ct_error err;
    ct_account_coverage c = {0};
    ct_window june = {day_of("2024-06-01"), day_of("2024-06-30")};
    CHECK_INT(src->account_coverage(src, A1, &june, &c, &err), 0);
    static const char *const days[] = {"2024-06-01", "2024-06-02", "2024-06-03", "2024-06-04"};
    static const uint64_t events[] = {4, 1, 3, 1};
    check_days(&c, days, events, 4);
    CHECK_INT(c.events, 9);
    uint64_t count = 0;
    CHECK_INT(src->account_event_count(src, A1, &june, &count, &err), 0);
    CHECK_INT(c.events, count);
    /* No awsRegion and an empty one are both "", first in bytewise order. */
    static const char *const regions[] = {"", "ap-south-1", "eu-west-1", "sa-east-1", "us-east-1"};
    check_regions(&c, regions, 5);
    CHECK_INT(c.data.count, 3);
    check_data_is_data_events(src, A1, &june, &c.data);
    CHECK_STR(c.data.items[0].event_name, "GetObject");
    CHECK_INT(c.data.items[0].read_only, -1);
    CHECK_INT(c.data.items[1].read_only, 1);
    CHECK_INT(c.data.items[1].count, 2);
    /* Every file the store read, whatever account: a.json and b.json whole,
     * partial.json in part, two skipped. */
    CHECK(c.files_known);
    CHECK_INT(c.files_read, 2);
    CHECK_INT(c.files_partial, 1);
    CHECK_INT(c.files_skipped, 2);
    ct_account_coverage_release(&c);
    CHECK(is_zero(&c));

    /* The other account: its own day and Region only, the same files. */
    CHECK_INT(src->account_coverage(src, A2, &june, &c, &err), 0);
    CHECK_INT(c.day_count, 1);
    CHECK_INT(c.days[0].day, day_of("2024-06-02"));
    static const char *const west[] = {"us-west-2"};
    check_regions(&c, west, 1);
    CHECK_INT(c.data.count, 0);
    CHECK_INT(c.files_read + c.files_partial + c.files_skipped, 5);
    ct_account_coverage_release(&c);

    /* An account the logs say nothing of: no days, no Regions, the files. */
    CHECK_INT(src->account_coverage(src, "999999999999", &june, &c, &err), 0);
    CHECK(c.events == 0 && c.day_count == 0 && c.region_count == 0 && c.data.count == 0);
    CHECK(c.files_known && c.files_read == 2);
    ct_account_coverage_release(&c);
    ct_source_free(src);
    remove_tree(root);
    free(root);
}

/* The window's first and last days count whole, the days around them not
 * at all (a second before or after). */
static void test_window_edges(void)
{
    char *root = scratch_dir("coverage-edges");
    ct_source *src = coverage_source(root, NULL);
    ct_error err;
    ct_account_coverage c = {0};
    ct_window w = {day_of("2024-06-01"), day_of("2024-06-03")};
    CHECK_INT(src->account_coverage(src, A1, &w, &c, &err), 0);
    static const char *const days[] = {"2024-06-01", "2024-06-02", "2024-06-03"};
    static const uint64_t events[] = {4, 1, 3};
    check_days(&c, days, events, 3);
    CHECK_INT(c.events, 8);
    /* sa-east-1 is on 2024-06-04 only. */
    static const char *const regions[] = {"", "ap-south-1", "eu-west-1", "us-east-1"};
    check_regions(&c, regions, 4);
    check_data_is_data_events(src, A1, &w, &c.data);
    ct_account_coverage_release(&c);

    ct_window one = {day_of("2024-05-31"), day_of("2024-05-31")};
    CHECK_INT(src->account_coverage(src, A1, &one, &c, &err), 0);
    static const char *const last_may[] = {"2024-05-31"};
    static const uint64_t one_event[] = {1};
    check_days(&c, last_may, one_event, 1);
    static const char *const east[] = {"us-east-1"};
    check_regions(&c, east, 1);
    CHECK_INT(c.data.count, 0);
    ct_account_coverage_release(&c);

    /* A day without events inside the window is simply not listed. */
    ct_window gap = {day_of("2024-06-02"), day_of("2024-06-02")};
    CHECK_INT(src->account_coverage(src, A1, &gap, &c, &err), 0);
    static const char *const second[] = {"2024-06-02"};
    check_days(&c, second, one_event, 1);
    static const char *const blank[] = {""};
    check_regions(&c, blank, 1);
    ct_account_coverage_release(&c);
    ct_source_free(src);
    remove_tree(root);
    free(root);
}

/* Runs SQL on the store file through a connection of the test's own. */
static void damage(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A failure at any of the three steps leaves the output zeroed, though
 * earlier steps had filled part of it. */
static void test_errors_leave_nothing(void)
{
    static const struct {
        const char *sql;
        const char *message;
    } cases[] = {
        /* The days: a Region's row gone is damage, not a Region less. */
        {"DELETE FROM region WHERE name = 'eu-west-1'", "damaged region row"},
        /* The data events, after the days and Regions. */
        {"DELETE FROM action WHERE name = 'PutObject'", "damaged action row"},
        /* The files, after everything else. */
        {"DROP TABLE file", "no such table: file"},
    };
    ct_window june = {day_of("2024-06-01"), day_of("2024-06-30")};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *root = scratch_dir("coverage-errors");
        char *db_path = pathf(root, "ct.db");
        ct_source_free(coverage_source(root, NULL));
        damage(db_path, cases[i].sql);
        ct_store *s = NULL;
        ct_source *src = NULL;
        ct_error err;
        CHECK_INT(ct_store_open(&s, db_path, false, &err), 0);
        CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
        ct_account_coverage c = {0};
        CHECK_INT(src->account_coverage(src, A1, &june, &c, &err), CT_ESTORE);
        CHECK(strstr(err.message, cases[i].message) != NULL);
        CHECK(is_zero(&c));
        /* Asked again, it fails the same way and still leaves nothing. */
        CHECK_INT(src->account_coverage(src, A1, &june, &c, &err), CT_ESTORE);
        CHECK(is_zero(&c));
        ct_source_free(src);
        remove_tree(root);
        free(db_path);
        free(root);
    }
}

static int count_statement(unsigned type, void *ud, void *p, void *x)
{
    (void)p;
    if (type == SQLITE_TRACE_STMT && strncmp((const char *)x, "--", 2) != 0)
        (*(int *)ud)++;
    return 0;
}

/* n days of A1 in three Regions each, with a data event a day: the same
 * statements whatever n. */
static void test_statement_count(void)
{
    for (int n = 2; n <= 80; n *= 40) {
        char *root = scratch_dir("coverage-count");
        char *logs = pathf(root, "logs");
        ct_buf b = CT_BUF_INIT;
        ct_buf_puts(&b, "{\"Records\":[");
        for (int d = 0; d < n; d++) {
            char when[32];
            ct_date_format_day(day_of("2024-01-01") + d, when);
            strcat(when, "T10:00:00Z");
            record(&b, when, A1, "us-east-1", "ListBuckets", NULL);
            record(&b, when, A1, "eu-west-1", "ListBuckets", NULL);
            record(&b, when, A1, d % 2 ? "ap-south-1" : NULL, "GetObject", DATA_READ);
        }
        CHECK_INT(write_records_doc(logs, "many.json", &b), 0);
        ct_buf_release(&b);
        char *path = pathf(root, "ct.db");
        ct_store *s = NULL;
        ct_source *src = NULL;
        ct_error err;
        CHECK_INT(ct_store_open(&s, path, true, &err), 0);
        const char *paths[] = {logs};
        ct_ingest_options opts = {.paths = paths, .path_count = 1, .threads = 1};
        ct_ingest_summary sum;
        CHECK_INT(ct_store_ingest(s, &opts, &sum, &err), 0);
        ct_ingest_summary_release(&sum);
        CHECK_INT(ct_store_source(&src, s, NULL, &err), 0);
        int statements = 0;
        sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT, count_statement, &statements);
        ct_window w = {day_of("2024-01-01"), day_of("2024-12-31")};
        ct_account_coverage c = {0};
        CHECK_INT(src->account_coverage(src, A1, &w, &c, &err), 0);
        CHECK_INT(c.day_count, n);
        CHECK_INT(c.events, 3 * n);
        CHECK_INT(c.region_count, 4); /* "", ap-south-1, eu-west-1, us-east-1 */
        CHECK_INT(c.data.count, 1);
        CHECK_INT(c.data.items[0].count, n);
        /* Days and Regions, data events, the one action named, files. */
        CHECK_INT(statements, 4);
        sqlite3_trace_v2(s->db, 0, NULL, NULL);
        ct_account_coverage_release(&c);
        ct_source_free(src);
        remove_tree(root);
        free(path);
        free(logs);
        free(root);
    }
}

int main(void)
{
    RUN(test_coverage);
    RUN(test_window_edges);
    RUN(test_errors_leave_nothing);
    RUN(test_statement_count);
    TEST_MAIN_END();
}
