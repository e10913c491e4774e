/* CloudTrail (eventSource, eventName) -> the IAM actions the call needed: the
 * usual "<prefix>:<eventName>" rule, API version suffixes cut, and the
 * irregular cases from data/cloudtrail/ (see tables.c). */
#include "actions/internal.h"
#include "cloudtracker/actions.h"

#include <string.h>

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Two digits at s forming a number in [lo, hi]. */
static bool two_digits_in(const char *s, int lo, int hi)
{
    if (!is_digit(s[0]) || !is_digit(s[1]))
        return false;
    int v = (s[0] - '0') * 10 + (s[1] - '0');
    return v >= lo && v <= hi;
}

/* A date "20YYMMDD" (8 bytes) or "20YY_MM_DD" (10 bytes) ending at s + end,
 * preceded by a letter. Returns where it starts, or end when there is none.
 * The month and day ranges, and the letter before, keep ordinary names with
 * digits in them ("DescribeEc2Instances", "Get2FAStatus") intact, unlike
 * splitting at the first "20" as the 2018 tool did. */
static size_t date_start(const char *s, size_t end)
{
    if (end >= 9) {
        const char *d = s + end - 8;
        if (d[0] == '2' && d[1] == '0' && is_digit(d[2]) && is_digit(d[3]) &&
            two_digits_in(d + 4, 1, 12) && two_digits_in(d + 6, 1, 31) && d[-1] >= 'a' &&
            d[-1] <= 'z')
            return end - 8;
    }
    if (end >= 11) {
        const char *d = s + end - 10;
        if (d[0] == '2' && d[1] == '0' && is_digit(d[2]) && is_digit(d[3]) && d[4] == '_' &&
            two_digits_in(d + 5, 1, 12) && d[7] == '_' && two_digits_in(d + 8, 1, 31) &&
            d[-1] >= 'a' && d[-1] <= 'z')
            return end - 10;
    }
    return end;
}

size_t ct_actions_strip_version(const char *name, size_t n)
{
    /* An optional "v<digits>" after the date (UpdateFunctionCode20150331v2);
     * without a date before it, "v2" is part of the name (ListObjectsV2). */
    size_t end = n;
    while (end > 0 && is_digit(name[end - 1]))
        end--;
    if (end < n && end > 0 && name[end - 1] == 'v') {
        size_t d = date_start(name, end - 1);
        if (d != end - 1)
            return d;
    }
    size_t d = date_start(name, n);
    return d;
}

/* eventName bytes: API operation names are ASCII letters and digits, with
 * '_' in dated versions; '.' and '-' are accepted for the odd service event. */
static bool valid_event_name_byte(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '_' ||
           ch == '.' || ch == '-';
}

int ct_event_map(const char *event_source, const char *event_name, ct_event_actions *out)
{
    out->count = 0;
    out->permission_free = false;
    out->request_dependent = false;
    if (!event_source || !event_name || !*event_source || !*event_name)
        return CT_EINPUT;
    int rc = ct_actions_tables_load(NULL);
    if (rc != 0)
        return rc;
    if (ct_actions_not_action_pattern(event_source, event_name))
        return 0;

    char action[sizeof(out->actions[0])];
    if (!ct_actions_source_prefix(event_source, action, sizeof(action)))
        return CT_EINPUT;
    size_t plen = strlen(action);
    size_t nlen = strnlen(event_name, sizeof(action));
    /* The result "prefix:name" must fit one slot with its NUL. */
    if (plen + 1 + nlen >= sizeof(action))
        return CT_EINPUT;
    char *name = action + plen + 1;
    action[plen] = ':';
    for (size_t i = 0; i < nlen; i++) {
        char ch = event_name[i];
        if (!valid_event_name_byte(ch))
            return CT_EINPUT;
        name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    nlen = ct_actions_strip_version(name, nlen);
    name[nlen] = '\0';

    const ct_event_actions *rule = ct_actions_event_rule(action);
    if (rule) {
        *out = *rule;
        return 0;
    }
    memcpy(out->actions[0], action, plen + 1 + nlen + 1);
    out->count = 1;
    return 0;
}
