/* Day arithmetic (proleptic Gregorian, UTC) and date parsing. */
#include "cloudtracker/date.h"
#include "cloudtracker/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Howard Hinnant's days_from_civil algorithm (public domain description). */
int64_t ct_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void ct_civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *month = m;
    *day = d;
}

static int digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Parses "YYYY-MM-DD" at s (at least 10 bytes available). */
static int parse_ymd(const char *s, int64_t *day)
{
    int64_t y, m, d;
    if (s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &m) ||
        digits(s + 8, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, (unsigned)m))
        return -1;
    *day = ct_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

int ct_date_parse_day(const char *s, int64_t *day)
{
    size_t n = 0;
    while (n < 11 && s[n])
        n++;
    if (n != 10 || parse_ymd(s, day) != 0)
        return CT_EUSAGE;
    return 0;
}

int ct_timestamp_parse(const char *s, size_t n, int64_t *seconds)
{
    int64_t day, hh, mm, ss;
    if (n < 19 || parse_ymd(s, &day) != 0 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':' || digits(s + 11, 2, &hh) || digits(s + 14, 2, &mm) ||
        digits(s + 17, 2, &ss) || hh > 23 || mm > 59 || ss > 60)
        return CT_EINPUT;
    size_t i = 19;
    if (i < n && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return CT_EINPUT;
    }
    int64_t offset = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int64_t oh, om;
        if (n - i != 6 || s[i + 3] != ':' || digits(s + i + 1, 2, &oh) ||
            digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return CT_EINPUT;
        offset = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    }
    if (i != n)
        return CT_EINPUT;
    *seconds = day * 86400 + hh * 3600 + mm * 60 + ss - offset;
    return 0;
}

int64_t ct_day_of_seconds(int64_t seconds)
{
    return seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
}

void ct_date_format_day(int64_t day, char out[11])
{
    int64_t y;
    unsigned m, d;
    ct_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = m = d = 0; /* outside what the format can say */
    /* Digits by hand: snprintf's width checks cannot see that m and d are small. */
    unsigned yy = (unsigned)y;
    const unsigned parts[3] = {yy, m, d};
    const int widths[3] = {4, 2, 2};
    char *p = out;
    for (int i = 0; i < 3; i++) {
        unsigned v = parts[i];
        for (int k = widths[i] - 1; k >= 0; k--) {
            p[k] = (char)('0' + v % 10);
            v /= 10;
        }
        p += widths[i];
        *p++ = i < 2 ? '-' : '\0';
    }
}

int64_t ct_today(void)
{
    const char *pinned = getenv("CLOUDTRACKER_TODAY");
    int64_t day;
    if (pinned && *pinned && ct_date_parse_day(pinned, &day) == 0)
        return day;
    return ct_day_of_seconds((int64_t)time(NULL));
}

int64_t ct_now(void)
{
    const char *pinned = getenv("CLOUDTRACKER_TODAY");
    int64_t day;
    if (pinned && *pinned && ct_date_parse_day(pinned, &day) == 0)
        return day * 86400;
    return (int64_t)time(NULL);
}

bool ct_window_contains(const ct_window *w, int64_t day)
{
    return day >= w->first_day && day <= w->last_day;
}
