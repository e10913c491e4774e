/* Unit tests for the coverage helpers of src/source/source.c: days and
 * Regions given in any order and in pieces come out sorted, each once,
 * with the day's pieces summed; the arrays grow past their first capacity. */
#include "cloudtracker/source.h"
#include "test.h"

#include <stdlib.h>

static void test_pieces_in_any_order(void)
{
    ct_account_coverage c = {0};
    /* Day 10 in three pieces, two of them apart; Regions repeated, NULL as
     * "". */
    static const int64_t days[] = {10, 10, 3, 10, -2, 3};
    static const uint64_t events[] = {1, 2, 5, 4, 7, 1};
    for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
        CHECK_INT(ct_account_coverage_add_day(&c, days[i], events[i]), 0);
    static const char *const regions[] = {"us-east-1", "us-east-1", NULL,        "eu-west-1",
                                          "us-east-1", "",          "ap-south-1"};
    for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
        CHECK_INT(ct_account_coverage_add_region(&c, regions[i]), 0);
    ct_account_coverage_finish(&c);
    CHECK_INT(c.day_count, 3);
    CHECK(c.days[0].day == -2 && c.days[0].events == 7);
    CHECK(c.days[1].day == 3 && c.days[1].events == 6);
    CHECK(c.days[2].day == 10 && c.days[2].events == 7);
    CHECK_INT(c.events, 20);
    CHECK_INT(c.region_count, 4);
    static const char *const want[] = {"", "ap-south-1", "eu-west-1", "us-east-1"};
    for (size_t i = 0; i < 4 && i < c.region_count; i++)
        CHECK_STR(c.regions[i], want[i]);
    /* Finishing again changes nothing. */
    ct_account_coverage_finish(&c);
    CHECK_INT(c.day_count, 3);
    CHECK_INT(c.events, 20);
    CHECK_INT(c.region_count, 4);
    ct_account_coverage_release(&c);
    static const ct_account_coverage zero;
    CHECK(memcmp(&c, &zero, sizeof(zero)) == 0);
}

/* Many days and Regions, each given twice (the second time after all the
 * others): every one is kept, summed, across the arrays' growth. */
static void test_growth(void)
{
    ct_account_coverage c = {0};
    char name[32];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 1000; i++) {
            CHECK_INT(ct_account_coverage_add_day(&c, 999 - i, (uint64_t)i + 1), 0);
            snprintf(name, sizeof(name), "r-%04d", i);
            CHECK_INT(ct_account_coverage_add_region(&c, name), 0);
        }
    ct_account_coverage_finish(&c);
    CHECK_INT(c.day_count, 1000);
    CHECK_INT(c.region_count, 1000);
    bool ok = true;
    for (size_t i = 0; i < c.day_count && i < c.region_count; i++) {
        snprintf(name, sizeof(name), "r-%04zu", i);
        ok &= c.days[i].day == (int64_t)i && c.days[i].events == 2 * (1000 - i) &&
              strcmp(c.regions[i], name) == 0;
    }
    CHECK(ok);
    CHECK_INT(c.events, 1000 * 1001);
    /* More after finishing: still summed and sorted at the next finish. */
    CHECK_INT(ct_account_coverage_add_day(&c, 5000, 1), 0);
    CHECK_INT(ct_account_coverage_add_day(&c, 0, 1), 0);
    ct_account_coverage_finish(&c);
    CHECK_INT(c.day_count, 1001);
    CHECK(c.days[0].events == 2001 && c.days[1000].day == 5000);
    ct_account_coverage_release(&c);
}

int main(void)
{
    RUN(test_pieces_in_any_order);
    RUN(test_growth);
    TEST_MAIN_END();
}
