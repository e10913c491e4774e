/* libFuzzer target for the IAM credential report loader and the unused-
 * credential flag: any bytes give a report or a CT_EIAM/CT_ENOMEM error,
 * never a crash, and a loaded report keeps every promise of iam.h (sorted
 * unique rows found by name and ARN, parsed dates that match their text,
 * one account, flags that agree with their days). */
#include "cloudtracker/date.h"
#include "cloudtracker/iam.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_time(const ct_credential_time *t, int64_t latest)
{
    if (!t->text)
        abort();
    if (t->state != CT_CREDENTIAL_VALUE)
        return;
    int64_t seconds;
    if (ct_timestamp_parse(t->text, strlen(t->text), &seconds) != 0 ||
        ct_day_of_seconds(seconds) != t->day || t->day > latest)
        abort();
}

static void check_unused(const ct_credential_unused *u, int64_t dormant_days)
{
    switch (u->since) {
    case CT_CREDENTIAL_SINCE_INACTIVE:
        if (u->flagged || u->days != -1)
            abort();
        break;
    case CT_CREDENTIAL_SINCE_UNKNOWN:
        if (!u->flagged || u->days != -1)
            abort();
        break;
    default:
        if (u->days < 0 || u->flagged != (u->days > dormant_days))
            abort();
    }
}

static void check_user(const ct_credential_report *r, const ct_credential_user *u, int64_t latest)
{
    if (!u->user[0] || strncmp(u->arn, "arn:", 4) != 0 ||
        u->is_root != (strcmp(u->user, "<root_account>") == 0) || u->line < 2)
        abort();
    if (ct_credential_report_find_user(r, u->user) != u ||
        ct_credential_report_find_arn(r, u->arn) != u)
        abort();
    const ct_credential_time *times[] = {&u->user_creation_time,    &u->password_last_used,
                                         &u->password_last_changed, &u->keys[0].last_rotated,
                                         &u->keys[0].last_used,     &u->keys[1].last_rotated,
                                         &u->keys[1].last_used};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        check_time(times[i], latest);
    static const int64_t last_days[] = {0, 17712, 17712 + 400, -5};
    static const int64_t ns[] = {0, 90, 365};
    for (size_t d = 0; d < 4; d++)
        for (size_t n = 0; n < 3; n++) {
            ct_credential_dormancy v;
            ct_credential_dormancy_check(&v, u, last_days[d], ns[n]);
            check_unused(&v.password, ns[n]);
            check_unused(&v.keys[0], ns[n]);
            check_unused(&v.keys[1], ns[n]);
            unsigned want = (v.password.flagged ? CT_CREDENTIAL_PASSWORD : 0u) |
                            (v.keys[0].flagged ? CT_CREDENTIAL_KEY_1 : 0u) |
                            (v.keys[1].flagged ? CT_CREDENTIAL_KEY_2 : 0u);
            bool enabled =
                u->password_enabled.state == CT_CREDENTIAL_VALUE && u->password_enabled.value;
            if (v.flagged != want || (v.password.flagged && !enabled))
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_credential_report *r = NULL;
    ct_error err;
    ct_error_clear(&err);
    int rc = ct_credential_report_load_buffer(&r, (const char *)data, size, "fuzz.csv", &err);
    if (rc != 0) {
        if ((rc != CT_EIAM && rc != CT_ENOMEM) || r || err.code != rc || !err.message[0])
            abort();
        return 0;
    }
    size_t n = ct_credential_report_count(r);
    const char *account = ct_credential_report_account_id(r);
    if (n == 0 || strlen(account) != 12 || strspn(account, "0123456789") != 12)
        abort();
    int64_t latest = INT64_MIN;
    if (!ct_credential_report_latest_day(r, &latest))
        latest = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        const ct_credential_user *u = ct_credential_report_get(r, i);
        if (!u || (i > 0 && strcmp(ct_credential_report_get(r, i - 1)->user, u->user) >= 0))
            abort();
        if (!strstr(u->arn, account))
            abort();
        check_user(r, u, latest);
    }
    if (ct_credential_report_get(r, n) != NULL)
        abort();
    ct_credential_report_free(r);
    return 0;
}
