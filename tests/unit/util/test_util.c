/* Unit tests for src/util: dates, windows, buffers, the hash map, UTF-8
 * validation and terminal-safe escaping. */
#include "cloudtracker/date.h"
#include "cloudtracker/error.h"
#include "cloudtracker/util.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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
    CHECK_INT(ct_now(), d * 86400);
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
    /* An empty string is an empty C string (the buffer was left
     * unterminated once, and printed whatever memory held). */
    ct_buf empty = CT_BUF_INIT;
    CHECK(ct_buf_put_safe(&empty, "") == 0);
    CHECK(empty.data != NULL);
    if (empty.data)
        CHECK_STR(empty.data, "");
    ct_buf_release(&empty);
    char *s = ct_safe_dup("evil\x1b[31mred\\ caf\xc3\xa9 \xff \xc2\x9b");
    CHECK_STR(s, "evil\\x1b[31mred\\\\ caf\xc3\xa9 \\xff \\xc2\\x9b");
    free(s);
    int line, col;
    ct_text_position("ab\ncd\xc3\xa9x", 8, 7, &line, &col); /* at the x */
    CHECK_INT(line, 2);
    CHECK_INT(col, 4);
}

/* Characters that change how a line is shown without being seen are named
 * by code point; other non-ASCII text passes unchanged. */
static void test_safe_hidden_characters(void)
{
    /* U+202E RIGHT-TO-LEFT OVERRIDE: "admin\u202enimda" would print as "adminadmin". */
    char *s = ct_safe_dup("admin\xe2\x80\xaenimda");
    CHECK_STR(s, "admin\\u202enimda");
    free(s);
    /* Embeddings, isolates, marks, zero-width characters, the BOM, line and
     * paragraph separators, the soft hyphen, a tag character (4 bytes). */
    s = ct_safe_dup("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8f\xe2\x80\x8b\xe2\x80\x8d"
                    "\xef\xbb\xbf\xe2\x80\xa8\xe2\x80\xa9\xc2\xad\xf3\xa0\x81\x81");
    CHECK_STR(s,
              "\\u202a\\u2066\\u2069\\u200f\\u200b\\u200d\\ufeff\\u2028\\u2029\\u00ad\\U000e0041");
    free(s);
    /* Neighbours of those ranges are ordinary text. */
    s = ct_safe_dup("caf\xc3\xa9 \xe2\x80\x90 \xe2\x81\xb0 \xe6\x97\xa5 \xf0\x9f\x98\x80 \xc2\xae");
    CHECK_STR(s, "caf\xc3\xa9 \xe2\x80\x90 \xe2\x81\xb0 \xe6\x97\xa5 \xf0\x9f\x98\x80 \xc2\xae");
    free(s);
    CHECK(ct_unicode_is_hidden(0x202E) && ct_unicode_is_hidden(0x2066) &&
          ct_unicode_is_hidden(0xE007F) && ct_unicode_is_hidden(0x061C));
    CHECK(!ct_unicode_is_hidden(0x2065) && !ct_unicode_is_hidden(0x2030) &&
          !ct_unicode_is_hidden('a') && !ct_unicode_is_hidden(0xE0080));
    CHECK_INT(ct_utf8_decode("\xe2\x80\xae", 3), 0x202E);
    CHECK_INT(ct_utf8_decode("\xf3\xa0\x81\x81", 4), 0xE0041);
    CHECK_INT(ct_utf8_decode("\xc3\xa9", 2), 0xE9);
}

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

/* Reading a bounded regular file: content, limits, and every kind of file
 * that is not one refused without blocking. */
static void test_file_read_regular(void)
{
    char *buf = NULL;
    size_t len = 99;
    ct_error err;
    FILE *f = fopen(tmp_path("ten"), "wb");
    fputs("0123456789", f);
    fclose(f);
    CHECK_INT(ct_file_read_regular(&buf, &len, tmp_path("ten"), 10, CT_EIAM, "thing", &err), 0);
    CHECK_INT(len, 10);
    CHECK_STR(buf, "0123456789"); /* NUL-terminated */
    free(buf);

    /* One byte over: the error has the caller's code, the file and the limit. */
    ct_error_clear(&err);
    CHECK_INT(ct_file_read_regular(&buf, &len, tmp_path("ten"), 9, CT_EIAM, "thing", &err),
              CT_EIAM);
    CHECK(buf == NULL);
    CHECK_STR(err.file, tmp_path("ten"));
    CHECK_STR(err.message, "cannot read thing: the file is larger than the 9 bytes limit");

    f = fopen(tmp_path("empty"), "wb");
    fclose(f);
    CHECK_INT(ct_file_read_regular(&buf, &len, tmp_path("empty"), 10, CT_EIAM, "thing", &err), 0);
    CHECK_INT(len, 0);
    CHECK_STR(buf, "");
    free(buf);

    /* A file larger than its limit is refused by its size, unread. */
    f = fopen(tmp_path("sparse"), "wb");
    CHECK(ftruncate(fileno(f), (off_t)(5 << 20) + 1) == 0);
    fclose(f);
    CHECK_INT(
        ct_file_read_regular(&buf, &len, tmp_path("sparse"), 5 << 20, CT_ECONFIG, "config", &err),
        CT_ECONFIG);
    CHECK_STR(err.message, "cannot read config: the file is larger than the 5 MiB limit");

    /* A FIFO with no writer would block a plain open() forever. */
    CHECK(mkfifo(tmp_path("fifo"), 0600) == 0);
    CHECK_INT(ct_file_read_regular(&buf, &len, tmp_path("fifo"), 10, CT_ECONFIG, "config", &err),
              CT_ECONFIG);
    CHECK_STR(err.message, "cannot read config: it is a named pipe (FIFO), not a regular file");
    CHECK_INT(ct_file_read_regular(&buf, &len, "/dev/zero", 10, CT_ECONFIG, "config", &err),
              CT_ECONFIG);
    CHECK_STR(err.message, "cannot read config: it is a character device, not a regular file");
    CHECK_INT(ct_file_read_regular(&buf, &len, tmpdir, 10, CT_ECONFIG, "config", &err), CT_ECONFIG);
    CHECK_STR(err.message, "cannot read config: it is a folder, not a regular file");
    CHECK_INT(ct_file_read_regular(&buf, &len, tmp_path("absent"), 10, CT_ECONFIG, "config", &err),
              CT_ECONFIG);
    CHECK_STR(err.message, "cannot read config: No such file or directory");
    CHECK_STR(err.file, tmp_path("absent"));

    char size[32];
    ct_size_format((size_t)16 << 20, size, sizeof(size));
    CHECK_STR(size, "16 MiB");
    ct_size_format((size_t)1 << 30, size, sizeof(size));
    CHECK_STR(size, "1 GiB");
    ct_size_format(4096, size, sizeof(size));
    CHECK_STR(size, "4 KiB");
    ct_size_format(1000, size, sizeof(size));
    CHECK_STR(size, "1000 bytes");

    static const char *const names[] = {"ten", "empty", "sparse", "fifo"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlink(tmp_path(names[i]));
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

/* ct_array_grow: room when there is room, doubling when full, and no
 * change when the size would overflow. */
static void test_array_grow(void)
{
    int *items = NULL;
    size_t cap = 0, count = 0;
    for (int i = 0; i < 100; i++) {
        int *grown = ct_array_grow(items, &cap, count, sizeof(*grown), 4);
        CHECK(grown != NULL);
        if (!grown)
            break;
        items = grown;
        items[count++] = i;
        CHECK(cap >= count);
    }
    CHECK_INT((int)cap, 128); /* 4, 8, ..., 128 */
    CHECK_INT(items[99], 99);
    CHECK(ct_array_grow(items, &cap, 50, sizeof(*items), 4) == items); /* room left */
    size_t huge = SIZE_MAX / 8 + 1;
    size_t before = huge;
    CHECK(ct_array_grow(items, &huge, huge, 8, 4) == NULL);
    CHECK(huge == before);
    free(items);
}

/* ct_base64_encode: the test vectors of RFC 4648 section 10, and bytes
 * that use the last two letters of the alphabet. */
static void test_base64(void)
{
    static const char *const vectors[][2] = {{"", ""},
                                             {"f", "Zg=="},
                                             {"fo", "Zm8="},
                                             {"foo", "Zm9v"},
                                             {"foob", "Zm9vYg=="},
                                             {"fooba", "Zm9vYmE="},
                                             {"foobar", "Zm9vYmFy"}};
    char out[CT_BASE64_SIZE(6)];
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        memset(out, 'x', sizeof(out));
        ct_base64_encode(vectors[i][0], strlen(vectors[i][0]), out);
        CHECK_STR(out, vectors[i][1]);
    }
    const unsigned char high[] = {0xfb, 0xff, 0xbf};
    ct_base64_encode(high, sizeof(high), out);
    CHECK_STR(out, "+/+/");
    CHECK_INT(CT_BASE64_SIZE(32), 45); /* a SHA-256 digest */
}

int main(void)
{
    RUN(test_days);
    RUN(test_timestamps);
    RUN(test_today_override);
    RUN(test_buf_and_map);
    RUN(test_utf8_and_safe);
    RUN(test_safe_hidden_characters);
    RUN(test_error);
    RUN(test_array_grow);
    RUN(test_base64);
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/ct-util-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_file_read_regular);
    rmdir(tmpdir);
    TEST_MAIN_END();
}
