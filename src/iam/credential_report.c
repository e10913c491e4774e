/* Loader for the IAM credential report (the CSV of `aws iam
 * get-credential-report`) and the access review's rule for unused
 * credentials. Columns, values and their special words are AWS's: IAM User
 * Guide, "Generate credential reports for your AWS account",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html */
#include "cloudtracker/date.h"
#include "cloudtracker/util.h"
#include "internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ct_credential_report {
    char *text;                /* the file; every field NUL-terminated in place */
    ct_credential_user *users; /* sorted by user */
    size_t count;
    ct_strmap *by_user; /* lowercase user -> index + 1 */
    ct_strmap *by_arn;  /* arn -> index + 1 */
    char account_id[13];
    bool has_latest;
    int64_t latest_day;
};

#define EXPECTED                                                                                   \
    "expected the CSV of `aws iam get-credential-report` (its Content field, base64-decoded)"
#define ROOT_USER "<root_account>"

/* The columns read, by header name, and where each goes in a row. Every
 * other column is ignored: AWS adds columns over time (the last-used ones
 * came in 2015). */
typedef enum column_kind { TEXT, TIME, BOOL } column_kind;
static const struct column {
    const char *name;
    column_kind kind;
    size_t offset;
} COLUMNS[] = {
    {"user", TEXT, offsetof(ct_credential_user, user)},
    {"arn", TEXT, offsetof(ct_credential_user, arn)},
    {"user_creation_time", TIME, offsetof(ct_credential_user, user_creation_time)},
    {"password_enabled", BOOL, offsetof(ct_credential_user, password_enabled)},
    {"password_last_used", TIME, offsetof(ct_credential_user, password_last_used)},
    {"password_last_changed", TIME, offsetof(ct_credential_user, password_last_changed)},
    {"mfa_active", BOOL, offsetof(ct_credential_user, mfa_active)},
    {"access_key_1_active", BOOL, offsetof(ct_credential_user, keys[0].active)},
    {"access_key_1_last_rotated", TIME, offsetof(ct_credential_user, keys[0].last_rotated)},
    {"access_key_1_last_used_date", TIME, offsetof(ct_credential_user, keys[0].last_used)},
    {"access_key_2_active", BOOL, offsetof(ct_credential_user, keys[1].active)},
    {"access_key_2_last_rotated", TIME, offsetof(ct_credential_user, keys[1].last_rotated)},
    {"access_key_2_last_used_date", TIME, offsetof(ct_credential_user, keys[1].last_used)},
    {"cert_1_active", BOOL, offsetof(ct_credential_user, certs[0])},
    {"cert_2_active", BOOL, offsetof(ct_credential_user, certs[1])},
};
#define NCOLUMNS (sizeof(COLUMNS) / sizeof(COLUMNS[0]))

/* AWS's words for a value it does not give (see ct_credential_state). */
static const struct {
    const char *word;
    ct_credential_state state;
} WORDS[] = {
    {"N/A", CT_CREDENTIAL_NOT_APPLICABLE},
    {"no_information", CT_CREDENTIAL_NO_INFORMATION},
    {"not_supported", CT_CREDENTIAL_NOT_SUPPORTED},
};

typedef struct parser {
    const char *name; /* the file, for messages */
    char *p, *end;    /* the next byte; the end of the text (a NUL) */
    int line;         /* the line of p */
    ct_error *err;
    char **fields; /* the fields of the last record, pointing into the text */
    size_t nfields, cap;
    size_t header_fields;
    size_t index[NCOLUMNS]; /* COLUMNS[i] is field index[i] of a record */
} parser;

/* An error about the file, at `line` (0: the whole file). */
#define FAIL(ps, line, ...) ct_error_set_at((ps)->err, CT_EIAM, (ps)->name, (line), 0, __VA_ARGS__)

static int oom(parser *ps)
{
    return ct_error_set(ps->err, CT_ENOMEM, "out of memory loading %s", ps->name);
}

/* Splits the record at ps->p into ps->fields as RFC 4180 reads it: quotes
 * undone and each field NUL-terminated in place (a field never grows, and
 * the byte after it is its delimiter, already consumed). At most `max`
 * fields. Moves past the record's line end. */
static int read_record(parser *ps, size_t max)
{
    ps->nfields = 0;
    int start = ps->line;
    for (;;) {
        if (ps->nfields == max)
            return FAIL(ps, start, "a row has more fields than the header's %zu", max);
        if (ps->nfields == ps->cap) {
            char **grown = ct_array_grow(ps->fields, &ps->cap, ps->nfields, sizeof(char *), 32);
            if (!grown)
                return oom(ps);
            ps->fields = grown;
        }
        char *field = ps->p, *w = ps->p;
        if (*ps->p == '"') {
            int open = ps->line;
            ps->p++;
            for (;;) {
                if (ps->p == ps->end)
                    return FAIL(ps, open, "a quoted field is not closed");
                char c = *ps->p++;
                if (c == '"' && *ps->p != '"')
                    break;
                if (c == '"')
                    ps->p++; /* "" is one quote */
                else if (c == '\n')
                    ps->line++;
                *w++ = c;
            }
        } else {
            while (ps->p < ps->end && *ps->p != ',' && *ps->p != '\n' && *ps->p != '\r') {
                if (*ps->p == '"')
                    return FAIL(ps, ps->line,
                                "a quote inside a field that does not start with one");
                ps->p++;
            }
            w = ps->p;
        }
        char delim = *ps->p; /* NUL at the end of the text */
        if (delim == '\r' && ps->p[1] != '\n')
            return FAIL(ps, ps->line, "a carriage return that does not end a line");
        if (delim != ',' && delim != '\n' && delim != '\r' && delim != '\0')
            return FAIL(ps, ps->line, "text after the closing quote of a field");
        *w = '\0';
        ps->fields[ps->nfields++] = field;
        ps->p += delim == '\r' ? 2 : delim ? 1 : 0;
        if (delim == ',')
            continue;
        if (delim)
            ps->line++;
        return 0;
    }
}

/* True when the text is base64: only its alphabet and line breaks, and long
 * enough that a one-word CSV line does not count. */
static bool looks_base64(const char *s, const char *end)
{
    size_t n = 0;
    for (; s < end; s++) {
        char c = *s;
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
            continue;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return false;
        n++;
    }
    return n >= 16;
}

/* Refuses, with a message that says what to do, the inputs people give by
 * mistake: nothing, the base64 Content, or the AWS CLI's JSON. */
static int check_not_csv(parser *ps)
{
    const char *s = ps->p;
    while (s < ps->end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    if (s == ps->end)
        return FAIL(ps, 0, "file is empty: %s", EXPECTED);
    if (*s == '{') {
        bool generate = strstr(s, "\"State\"") && !strstr(s, "\"Content\"");
        return FAIL(ps, 0, "%s",
                    generate ? "this is the JSON of `aws iam generate-credential-report`, which "
                               "starts a report: get it with `aws iam get-credential-report "
                               "--query Content --output text | base64 -d`"
                             : "this is JSON, not CSV: save the Content field of `aws iam "
                               "get-credential-report` base64-decoded (`aws iam "
                               "get-credential-report --query Content --output text | base64 "
                               "-d`)");
    }
    if (looks_base64(s, ps->end))
        return FAIL(ps, 0, "%s",
                    "looks base64-encoded: decode the Content field (`aws iam "
                    "get-credential-report --query Content --output text | base64 -d`)");
    return 0;
}

/* Finds the columns of COLUMNS in the header line. */
static int read_header(parser *ps)
{
    int rc = read_record(ps, SIZE_MAX);
    if (rc)
        return rc;
    ps->header_fields = ps->nfields;
    for (size_t c = 0; c < NCOLUMNS; c++)
        ps->index[c] = SIZE_MAX;
    for (size_t f = 0; f < ps->nfields; f++)
        for (size_t c = 0; c < NCOLUMNS; c++) {
            if (strcmp(ps->fields[f], COLUMNS[c].name) != 0)
                continue;
            if (ps->index[c] != SIZE_MAX)
                return FAIL(ps, 1, "the header names the column %s twice", COLUMNS[c].name);
            ps->index[c] = f;
        }
    ct_buf missing = CT_BUF_INIT;
    size_t found = 0;
    for (size_t c = 0; c < NCOLUMNS; c++) {
        if (ps->index[c] != SIZE_MAX)
            found++;
        else if (ct_buf_printf(&missing, "%s%s", missing.len ? ", " : "", COLUMNS[c].name) != 0)
            rc = oom(ps);
    }
    if (!rc && found == 0)
        rc = FAIL(ps, 1, "the first line is not a credential report's header (user,arn,...): %s",
                  EXPECTED);
    else if (!rc && missing.len)
        rc = FAIL(ps, 1, "the header lacks the column%s %s: %s",
                  strchr(missing.data, ',') ? "s" : "", missing.data, EXPECTED);
    ct_buf_release(&missing);
    return rc;
}

/* True when s is one of AWS's words for an absent value, its state in *state. */
static bool special_word(const char *s, ct_credential_state *state)
{
    for (size_t i = 0; i < sizeof(WORDS) / sizeof(WORDS[0]); i++)
        if (strcmp(s, WORDS[i].word) == 0) {
            *state = WORDS[i].state;
            return true;
        }
    return false;
}

static int parse_time(parser *ps, int line, const char *column, const char *s,
                      ct_credential_time *t)
{
    t->text = s;
    if (special_word(s, &t->state))
        return 0;
    int64_t seconds;
    if (ct_timestamp_parse(s, strlen(s), &seconds) != 0) {
        char *safe = ct_safe_dup(s);
        int rc = FAIL(ps, line,
                      "%s '%s' is not a date (ISO 8601, e.g. "
                      "2018-05-21T15:17:05+00:00) nor N/A, no_information or "
                      "not_supported",
                      column, safe ? safe : "?");
        free(safe);
        return rc;
    }
    t->state = CT_CREDENTIAL_VALUE;
    t->day = ct_day_of_seconds(seconds);
    return 0;
}

static int parse_bool(parser *ps, int line, const char *column, const char *s,
                      ct_credential_bool *b)
{
    if (special_word(s, &b->state))
        return 0;
    if (ct_strcasecmp(s, "true") == 0 || ct_strcasecmp(s, "false") == 0) {
        b->state = CT_CREDENTIAL_VALUE;
        b->value = s[0] == 't' || s[0] == 'T';
        return 0;
    }
    char *safe = ct_safe_dup(s);
    int rc = FAIL(ps, line,
                  "%s '%s' is not true or false (nor N/A, no_information or "
                  "not_supported)",
                  column, safe ? safe : "?");
    free(safe);
    return rc;
}

/* The account id of an IAM ARN that names `user`: arn:PARTITION:iam::
 * ACCOUNT:user/PATH/NAME, or arn:PARTITION:iam::ACCOUNT:root for the root
 * row. False when it is not one. */
static bool arn_account(const char *arn, const char *user, bool root, char account[13])
{
    if (strncmp(arn, "arn:", 4) != 0)
        return false;
    const char *s = strchr(arn + 4, ':');
    if (!s || s == arn + 4 || strncmp(s, ":iam::", 6) != 0)
        return false;
    s += 6;
    for (int i = 0; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (s[12] != ':')
        return false;
    memcpy(account, s, 12);
    account[12] = '\0';
    const char *rest = s + 13;
    if (root)
        return strcmp(rest, "root") == 0;
    const char *slash = strrchr(rest, '/');
    return strncmp(rest, "user/", 5) == 0 && strcmp(slash + 1, user) == 0;
}

/* Checks the row's user and arn and that no row before named the user
 * (`seen`: lowercase names -> line). */
static int check_identity(parser *ps, ct_credential_report *r, const ct_credential_user *u,
                          ct_strmap *seen)
{
    if (!u->user[0])
        return FAIL(ps, u->line, "a row has an empty user");
    if (!ct_utf8_valid(u->user, strlen(u->user)) || !ct_utf8_valid(u->arn, strlen(u->arn)))
        return FAIL(ps, u->line, "a row's user or arn is not UTF-8 text");
    char *safe = ct_safe_dup(u->user), *safe_arn = ct_safe_dup(u->arn);
    char account[13];
    int rc = 0;
    if (!safe || !safe_arn) {
        rc = oom(ps);
    } else if (!arn_account(u->arn, u->user, u->is_root, account)) {
        rc = FAIL(ps, u->line, "user %s: arn '%s' is not the IAM ARN of %s", safe, safe_arn,
                  u->is_root ? "an account's root user (arn:aws:iam::ACCOUNT:root)"
                             : "that user (arn:aws:iam::ACCOUNT:user/NAME)");
    } else if (r->account_id[0] && strcmp(account, r->account_id) != 0) {
        rc = FAIL(ps, u->line,
                  "user %s is of account %s, the rows before of account %s: a report "
                  "is of one account",
                  safe, account, r->account_id);
    }
    if (!rc)
        memcpy(r->account_id, account, sizeof(account));
    char *folded = rc ? NULL : ct_strdup_lower(u->user);
    void *first = NULL;
    if (!rc && !folded)
        rc = oom(ps);
    else if (!rc && ct_strmap_get(seen, folded, &first))
        rc = FAIL(ps, u->line, "user %s is listed twice (first on line %d)", safe,
                  (int)(intptr_t)first);
    else if (!rc && ct_strmap_put(seen, folded, (void *)(intptr_t)u->line) != 0)
        rc = oom(ps);
    free(folded);
    free(safe);
    free(safe_arn);
    return rc;
}

/* Fills *u from the record just read. */
static int read_row(parser *ps, ct_credential_report *r, ct_credential_user *u, int line,
                    ct_strmap *seen)
{
    if (ps->nfields != ps->header_fields)
        return FAIL(ps, line, "a row has %zu field%s, the header has %zu", ps->nfields,
                    ps->nfields == 1 ? "" : "s", ps->header_fields);
    memset(u, 0, sizeof(*u));
    u->line = line;
    for (size_t c = 0; c < NCOLUMNS; c++) {
        const char *value = ps->fields[ps->index[c]];
        void *slot = (char *)u + COLUMNS[c].offset;
        int rc = 0;
        if (COLUMNS[c].kind == TEXT)
            *(const char **)slot = value;
        else if (COLUMNS[c].kind == TIME)
            rc = parse_time(ps, line, COLUMNS[c].name, value, slot);
        else
            rc = parse_bool(ps, line, COLUMNS[c].name, value, slot);
        if (rc)
            return rc;
        if (COLUMNS[c].kind == TIME && ((ct_credential_time *)slot)->state == CT_CREDENTIAL_VALUE) {
            int64_t day = ((ct_credential_time *)slot)->day;
            if (!r->has_latest || day > r->latest_day)
                r->latest_day = day;
            r->has_latest = true;
        }
    }
    u->is_root = strcmp(u->user, ROOT_USER) == 0;
    return check_identity(ps, r, u, seen);
}

static int read_rows(parser *ps, ct_credential_report *r)
{
    ct_strmap *seen = ct_strmap_new();
    if (!seen)
        return oom(ps);
    size_t cap = 0;
    int rc = 0;
    while (!rc && ps->p < ps->end) {
        int line = ps->line;
        if (*ps->p == '\n' || (*ps->p == '\r' && ps->p[1] == '\n')) {
            rc = FAIL(ps, line, "an empty line");
            break;
        }
        if ((rc = read_record(ps, ps->header_fields)))
            break;
        ct_credential_user *users = ct_array_grow(r->users, &cap, r->count, sizeof(*r->users), 64);
        if (!users) {
            rc = oom(ps);
            break;
        }
        r->users = users;
        if (!(rc = read_row(ps, r, &r->users[r->count], line, seen)))
            r->count++;
    }
    ct_strmap_free(seen);
    if (!rc && r->count == 0)
        rc = FAIL(ps, 0, "the report has no rows (every report lists at least %s)", ROOT_USER);
    return rc;
}

static int compare_users(const void *pa, const void *pb)
{
    const ct_credential_user *a = pa, *b = pb;
    return strcmp(a->user, b->user);
}

/* Sorts the rows and indexes them by name and ARN. */
static int index_rows(parser *ps, ct_credential_report *r)
{
    qsort(r->users, r->count, sizeof(*r->users), compare_users);
    if (!(r->by_user = ct_strmap_new()) || !(r->by_arn = ct_strmap_new()))
        return oom(ps);
    for (size_t i = 0; i < r->count; i++) {
        char *folded = ct_strdup_lower(r->users[i].user);
        void *v = (void *)(uintptr_t)(i + 1);
        int rc = !folded || ct_strmap_put(r->by_user, folded, v) != 0 ||
                 ct_strmap_put(r->by_arn, r->users[i].arn, v) != 0;
        free(folded);
        if (rc)
            return oom(ps);
    }
    return 0;
}

/* Builds the report from `text` (len bytes and a NUL; taken over and freed
 * on error). */
static int load_text(ct_credential_report **out, char *text, size_t len, const char *name,
                     ct_error *err)
{
    *out = NULL;
    ct_credential_report *r = calloc(1, sizeof(*r));
    parser ps = {name, text, text + len, 1, err, NULL, 0, 0, 0, {0}};
    if (!r) {
        free(text);
        return oom(&ps);
    }
    r->text = text;
    /* Spreadsheets save a byte order mark. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.p += 3;
    int rc = check_not_csv(&ps);
    if (!rc && memchr(text, '\0', len)) {
        int line, col;
        ct_text_position(text, len, (size_t)((char *)memchr(text, '\0', len) - text), &line, &col);
        rc = FAIL(&ps, line, "a NUL byte: %s", EXPECTED);
    }
    if (!rc)
        rc = read_header(&ps);
    if (!rc)
        rc = read_rows(&ps, r);
    if (!rc)
        rc = index_rows(&ps, r);
    free(ps.fields);
    if (rc) {
        ct_credential_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int ct_credential_report_load_buffer(ct_credential_report **out, const char *csv, size_t len,
                                     const char *name, ct_error *err)
{
    *out = NULL;
    if (!name)
        name = "<credential report>";
    char *text = ct_strndup(csv, len);
    if (!text)
        return ct_error_set(err, CT_ENOMEM, "out of memory loading %s", name);
    return load_text(out, text, len, name, err);
}

int ct_credential_report_load_file(ct_credential_report **out, const char *path, ct_error *err)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc = ct_file_read_regular(&text, &len, path, CT_CREDENTIAL_REPORT_MAX_BYTES, CT_EIAM,
                                  "IAM credential report", err);
    return rc ? rc : load_text(out, text, len, path, err);
}

void ct_credential_report_free(ct_credential_report *report)
{
    if (!report)
        return;
    ct_strmap_free(report->by_user);
    ct_strmap_free(report->by_arn);
    free(report->users);
    free(report->text);
    free(report);
}

size_t ct_credential_report_count(const ct_credential_report *report)
{
    return report ? report->count : 0;
}

const ct_credential_user *ct_credential_report_get(const ct_credential_report *report, size_t i)
{
    return report && i < report->count ? &report->users[i] : NULL;
}

static const ct_credential_user *find(const ct_credential_report *report, const ct_strmap *map,
                                      const char *key)
{
    void *v = NULL;
    if (!report || !key || !ct_strmap_get(map, key, &v) || !v)
        return NULL;
    return &report->users[(size_t)(uintptr_t)v - 1];
}

const ct_credential_user *ct_credential_report_find_user(const ct_credential_report *report,
                                                         const char *user)
{
    char *folded = user ? ct_strdup_lower(user) : NULL;
    const ct_credential_user *u =
        folded ? find(report, report ? report->by_user : NULL, folded) : NULL;
    free(folded);
    return u;
}

const ct_credential_user *ct_credential_report_find_arn(const ct_credential_report *report,
                                                        const char *arn)
{
    return find(report, report ? report->by_arn : NULL, arn);
}

const char *ct_credential_report_account_id(const ct_credential_report *report)
{
    return report ? report->account_id : NULL;
}

bool ct_credential_report_latest_day(const ct_credential_report *report, int64_t *day)
{
    if (!report || !report->has_latest)
        return false;
    *day = report->latest_day;
    return true;
}

/* ---- the flag ---- */

static bool is_true(const ct_credential_bool *b)
{
    return b->state == CT_CREDENTIAL_VALUE && b->value;
}

/* One credential: days from its last use, else (no use on record: N/A or
 * no_information mean never used, or not since IAM began tracking) from when
 * it was set, else from the user's creation. */
static void check_one(ct_credential_unused *u, bool active, const ct_credential_time *used,
                      const ct_credential_time *set, const ct_credential_time *created,
                      int64_t last_day, int64_t dormant_days)
{
    *u = (ct_credential_unused){false, CT_CREDENTIAL_SINCE_INACTIVE, 0, -1};
    if (!active)
        return;
    if (used->state == CT_CREDENTIAL_VALUE) {
        u->since = CT_CREDENTIAL_SINCE_USE;
        u->since_day = used->day;
    } else if (set->state == CT_CREDENTIAL_VALUE) {
        u->since = CT_CREDENTIAL_SINCE_SET;
        u->since_day = set->day;
    } else if (created->state == CT_CREDENTIAL_VALUE) {
        u->since = CT_CREDENTIAL_SINCE_CREATED;
        u->since_day = created->day;
    } else {
        /* Active with nothing on record: a reviewer must look at it. */
        u->since = CT_CREDENTIAL_SINCE_UNKNOWN;
        u->flagged = true;
        return;
    }
    /* A use after the window's end (a report made later) is a use on it. */
    u->days = u->since_day < last_day ? last_day - u->since_day : 0;
    u->flagged = u->days > dormant_days;
}

void ct_credential_dormancy_check(ct_credential_dormancy *out, const ct_credential_user *user,
                                  int64_t last_day, int64_t dormant_days)
{
    check_one(&out->password, is_true(&user->password_enabled), &user->password_last_used,
              &user->password_last_changed, &user->user_creation_time, last_day, dormant_days);
    for (int k = 0; k < 2; k++)
        check_one(&out->keys[k], is_true(&user->keys[k].active), &user->keys[k].last_used,
                  &user->keys[k].last_rotated, &user->user_creation_time, last_day, dormant_days);
    out->flagged = (out->password.flagged ? CT_CREDENTIAL_PASSWORD : 0u) |
                   (out->keys[0].flagged ? CT_CREDENTIAL_KEY_1 : 0u) |
                   (out->keys[1].flagged ? CT_CREDENTIAL_KEY_2 : 0u);
}
