/* Calendar helpers. cloudtracker works at day precision: a day is the number
 * of days since 1970-01-01 (UTC), and windows are inclusive ranges of days. */
#ifndef CLOUDTRACKER_DATE_H
#define CLOUDTRACKER_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An inclusive range of days [first_day, last_day]. */
typedef struct ct_window {
    int64_t first_day;
    int64_t last_day;
} ct_window;

/* Days since the epoch for a proleptic Gregorian date. */
int64_t ct_days_from_civil(int64_t year, unsigned month, unsigned day);
/* Inverse of ct_days_from_civil. */
void ct_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/* Parses exactly "YYYY-MM-DD" (a real calendar date). Returns 0 or CT_EUSAGE. */
int ct_date_parse_day(const char *s, int64_t *day);
/* Parses the date part of an ISO-8601 timestamp ("2024-07-30T21:53:13Z",
 * with optional fraction and offset; the offset is applied). `n` is the length
 * of s. Returns 0 or CT_EINPUT. On success *seconds is seconds since the epoch. */
int ct_timestamp_parse(const char *s, size_t n, int64_t *seconds);
/* Floor division of seconds into days. */
int64_t ct_day_of_seconds(int64_t seconds);
/* Writes "YYYY-MM-DD" (11 bytes with NUL). */
void ct_date_format_day(int64_t day, char out[11]);
/* Today (UTC). The environment variable CLOUDTRACKER_TODAY=YYYY-MM-DD
 * overrides it, so tests can pin "now". */
int64_t ct_today(void);
/* Now, in seconds since the epoch; midnight (UTC) of CLOUDTRACKER_TODAY
 * when that is set. */
int64_t ct_now(void);
bool ct_window_contains(const ct_window *w, int64_t day);

#endif
