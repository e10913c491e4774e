/* A minimal unit-test harness: CHECK macros count failures and report the
 * location; each test executable ends with TEST_MAIN_END. */
#ifndef CT_TEST_H
#define CT_TEST_H

#include "cloudtracker/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int ct_test_failures;
static int ct_test_checks;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        ct_test_checks++;                                                               \
        if (!(cond)) {                                                                  \
            ct_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                               \
    } while (0)

#define CHECK_INT(a, b)                                                                 \
    do {                                                                                \
        long long ct_a_ = (long long)(a), ct_b_ = (long long)(b);                       \
        ct_test_checks++;                                                               \
        if (ct_a_ != ct_b_) {                                                           \
            ct_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, \
                    ct_a_, ct_b_);                                                      \
        }                                                                               \
    } while (0)

#define CHECK_STR(a, b)                                                                 \
    do {                                                                                \
        const char *ct_a_ = (a), *ct_b_ = (b);                                          \
        ct_test_checks++;                                                               \
        if (!ct_a_ || !ct_b_ || strcmp(ct_a_, ct_b_) != 0) {                            \
            ct_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    #a, ct_a_ ? ct_a_ : "(null)", ct_b_ ? ct_b_ : "(null)");            \
        }                                                                               \
    } while (0)

#define RUN(test)                                                                       \
    do {                                                                                \
        int ct_before_ = ct_test_failures;                                              \
        test();                                                                         \
        fprintf(stderr, "%s %s\n", ct_test_failures == ct_before_ ? "ok  " : "FAIL", #test); \
    } while (0)

#define TEST_MAIN_END()                                                                 \
    do {                                                                                \
        fprintf(stderr, "%d checks, %d failed\n", ct_test_checks, ct_test_failures);   \
        return ct_test_failures ? 1 : 0;                                                \
    } while (0)

/* The whole file at `path` (malloc'd, NUL-terminated), its size in *len;
 * NULL when it cannot be read. */
static inline char *test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    ct_buf b = CT_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ct_buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return ct_buf_detach(&b);
}

#endif
