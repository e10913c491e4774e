/* Unit tests for src/util: dates, windows, buffers, the hash map, UTF-8
 * validation and terminal-safe escaping. */
#include "cloudtracker/date.h"
#include "cloudtracker/error.h"
#include "cloudtracker/util.h"
#include "test.h"

#include <stdlib.h>

static void test_days(void)
{
    CHECK_INT(ct_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(ct_days_from_civil(2000, 3, 1), 11017);
    int64_t d;
    CHECK_INT(ct_date_parse_day("2024-02-29", &d), 0);
    char out[11];
    ct_date_format_day(d, out);
    CHECK_STR(out, "2024-02-29");
    CHECK_INT(ct_date_parse_day("2023-02-29", &d), CT_EUSAGE);
    CHECK_INT(ct_date_parse_day("2023-13-01", &d), CT_EUSAGE);
    CHECK_INT(ct_date_parse_day("2023-1-01", &d), CT_EUSAGE);
    CHECK_INT(ct_date_parse_day("2023-01-011", &d), CT_EUSAGE);
    CHECK_INT(ct_date_parse_day("", &d), CT_EUSAGE);
    for (int64_t day = -800; day < 80000; day += 37) {
        int64_t y;
        unsigned m, dd;
        ct_civil_from_days(day, &y, &m, &dd);
        CHECK_INT(ct_days_from_civil(y, m, dd), day);
    }
}

static void test_timestamps(void)
{
    int64_t s;
    const char *t = "2024-07-30T21:53:13Z";
    CHECK_INT(ct_timestamp_parse(t, strlen(t), &s), 0);
    CHECK_INT(s, 1722376393);
    t = "2024-07-30T23:53:13.123+02:00";
    CHECK_INT(ct_timestamp_parse(t, strlen(t), &s), 0);
    CHECK_INT(s, 1722376393);
    t = "2024-07-30T21:53";
    CHECK_INT(ct_timestamp_parse(t, strlen(t), &s), CT_EINPUT);
    t = "2024-07-30T21:53:13Zjunk";
    CHECK_INT(ct_timestamp_parse(t, strlen(t), &s), CT_EINPUT);
    CHECK_INT(ct_day_of_seconds(-1), -1);
    CHECK_INT(ct_day_of_seconds(86399), 0);
    ct_window w = {10, 20};
    CHECK(ct_window_contains(&w, 10));
    CHECK(ct_window_contains(&w, 20));
    CHECK(!ct_window_contains(&w, 21));
}

static void test_today_override(void)
{
    setenv("CLOUDTRACKER_TODAY", "2018-06-30", 1);
    int64_t d;
    ct_date_parse_day("2018-06-30", &d);
    CHECK_INT(ct_today(), d);
    unsetenv("CLOUDTRACKER_TODAY");
}

static void test_buf_and_map(void)
{
    ct_buf b = CT_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        CHECK_INT(ct_buf_printf(&b, "%d,", i), 0);
    CHECK(ct_str_starts_with(b.data, "0,1,2,"));
    CHECK(ct_str_ends_with(b.data, "998,999,"));
    ct_buf_release(&b);

    ct_strmap *m = ct_strmap_new();
    char key[32];
    for (long i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "k%ld", i);
        CHECK_INT(ct_strmap_put(m, key, (void *)(i + 1)), 0);
    }
    CHECK_INT(ct_strmap_count(m), 5000);
    void *v = NULL;
    CHECK(ct_strmap_get(m, "k4321", &v));
    CHECK_INT((long)v, 4322);
    CHECK(!ct_strmap_get(m, "k5000", NULL));
    size_t pos = 0, seen = 0;
    while (ct_strmap_next(m, &pos, NULL, NULL))
        seen++;
    CHECK_INT(seen, 5000);
    ct_strmap_free(m);
    ct_strmap_free(NULL);
}

static void test_utf8_and_safe(void)
{
    CHECK(ct_utf8_valid("caf\xc3\xa9", 5));
    CHECK(!ct_utf8_valid("\xc3", 1));
    CHECK(!ct_utf8_valid("\xc0\xaf", 2));        /* overlong */
    CHECK(!ct_utf8_valid("\xed\xa0\x80", 3));    /* surrogate */
    CHECK(ct_utf8_valid("\xf0\x9f\x98\x80", 4)); /* emoji */
    char *s = ct_safe_dup("evil\x1b[31mred\\ caf\xc3\xa9 \xff \xc2\x9b");
    CHECK_STR(s, "evil\\x1b[31mred\\\\ caf\xc3\xa9 \\xff \\xc2\\x9b");
    free(s);
    int line, col;
    ct_text_position("ab\ncd\xc3\xa9x", 8, 7, &line, &col); /* at the x */
    CHECK_INT(line, 2);
    CHECK_INT(col, 4);
}

static void test_error(void)
{
    ct_error err;
    ct_error_clear(&err);
    CHECK_INT(ct_error_set_at(&err, CT_ECONFIG, "c.yaml", 3, 7, "bad %s", "id"), CT_ECONFIG);
    char buf[256];
    ct_error_format(&err, buf, sizeof(buf));
    CHECK_STR(buf, "c.yaml:3:7: bad id");
    ct_error_wrap(&err, "loading %s: ", "x");
    CHECK_STR(err.message, "loading x: bad id");
}

int main(void)
{
    RUN(test_days);
    RUN(test_timestamps);
    RUN(test_today_override);
    RUN(test_buf_and_map);
    RUN(test_utf8_and_safe);
    RUN(test_error);
    TEST_MAIN_END();
}
