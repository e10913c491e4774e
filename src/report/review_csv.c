/* The access review as CSV (RFC 4180): one row per identity and one per
 * person and role they used, with empty sign-off columns for the reviewer,
 * and no cell a spreadsheet would run as a formula (docs/review.md). */
#include "cloudtracker/report.h"
#include "cloudtracker/util.h"
#include "report/internal.h"

#include <inttypes.h>
#include <string.h>

size_t ct_render_char(const char *s, size_t n, uint32_t *cp)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2; /* the length the lead byte announces */
    if (k > n || !ct_utf8_valid(s, k)) {
        *cp = CT_RENDER_INVALID;
        return 1;
    }
    *cp = ct_utf8_decode(s, k);
    return k;
}

bool ct_render_invisible(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || ct_unicode_is_hidden(cp);
}

const ct_review_change *ct_review_change_of(const ct_review_changes *changes, size_t identity,
                                            size_t *next)
{
    if (!changes)
        return NULL;
    while (*next < changes->count && changes->items[*next].identity < identity)
        (*next)++;
    if (*next < changes->count && changes->items[*next].identity == identity)
        return &changes->items[*next];
    return NULL;
}

/* The columns, in order: a contract for the scripts and spreadsheets that
 * read the file (docs/review.md). */
static const char *const columns[] = {"row_type",
                                      "account",
                                      "account_id",
                                      "name",
                                      "arn",
                                      "role",
                                      "confidence",
                                      "created",
                                      "service_linked",
                                      "identity_center",
                                      "last_activity",
                                      "days_since_activity",
                                      "dormant",
                                      "administrator",
                                      "used",
                                      "unused",
                                      "unknown",
                                      "not_granted",
                                      "attempted",
                                      "calls",
                                      "failed_calls",
                                      "privileged_unused",
                                      "people",
                                      "sessions",
                                      "anonymous_sessions",
                                      "credentials",
                                      "password_enabled",
                                      "password_unused_days",
                                      "mfa_active",
                                      "access_key_1_active",
                                      "access_key_1_unused_days",
                                      "access_key_2_active",
                                      "access_key_2_unused_days",
                                      "unused_credentials"};
/* The credential columns, last of those. */
#define CREDENTIAL_COLUMNS 9
/* With --compare, after those. */
static const char *const change_columns[] = {"presence",    "grants_added",  "grants_removed",
                                             "revoked",     "still_granted", "newly_dormant",
                                             "active_again"};
/* Left empty for the reviewer's sign-off, last. */
static const char *const signoff_columns[] = {"decision", "reviewer", "reviewed_on",
                                              "justification"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One row being written. A cell is opened (quoted or not: RFC 4180 needs
 * quotes around a field holding a comma, a quote, CR or LF), filled with
 * pieces, and closed. */
typedef struct csv {
    FILE *out;
    bool row_started;
    bool quoted;     /* the open cell */
    bool cell_empty; /* nothing written into the open cell yet */
} csv;

static bool needs_quotes(const char *s)
{
    return s && strpbrk(s, ",\"\r\n") != NULL;
}

static void cell_open(csv *c, bool quoted)
{
    if (c->row_started)
        fputc(',', c->out);
    c->row_started = true;
    c->quoted = quoted;
    c->cell_empty = true;
    if (quoted)
        fputc('"', c->out);
}

/* Appends s to the open cell. The formula guard: a cell whose text would
 * start with '=', '+', '-', '@', a tab or a carriage return gets a "'"
 * first, so a spreadsheet shows it as text and never evaluates it (OWASP,
 * "CSV Injection"). Characters nobody would see (controls other than tab,
 * CR and LF, which a quoted field keeps; bidirectional overrides,
 * zero-width characters) are written as \uNNNN, and bytes that are not
 * UTF-8 as U+FFFD, so the file is valid UTF-8 and shows every name as it
 * is spelled; the JSON format keeps the exact strings. */
static void cell_put(csv *c, const char *s)
{
    size_t n = strlen(s);
    if (n && c->cell_empty && strchr("=+-@\t\r", s[0]))
        fputc('\'', c->out);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = ct_render_char(s + i, n - i, &cp);
        if (cp == '"')
            fputs("\"\"", c->out);
        else if (cp == CT_RENDER_INVALID)
            fputs("\xEF\xBF\xBD", c->out);
        else if (ct_render_invisible(cp) && cp != '\t' && cp != '\r' && cp != '\n')
            fprintf(c->out, cp > 0xFFFF ? "\\U%08" PRIX32 : "\\u%04" PRIX32, cp);
        else
            fwrite(s + i, 1, k, c->out);
        i += k;
    }
    if (n)
        c->cell_empty = false;
}

static void cell_close(csv *c)
{
    if (c->quoted)
        fputc('"', c->out);
}

static void cell(csv *c, const char *s)
{
    s = s ? s : "";
    cell_open(c, needs_quotes(s));
    cell_put(c, s);
    cell_close(c);
}

/* Counts are never negative, so no number needs the formula guard. */
static void cell_u64(csv *c, uint64_t v)
{
    cell_open(c, false);
    fprintf(c->out, "%" PRIu64, v);
    cell_close(c);
}

static void cell_bool(csv *c, bool v)
{
    cell(c, v ? "yes" : "no");
}

static void empty_cells(csv *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cell(c, "");
}

/* Excel's limit on the characters of a cell: a longer field spills into
 * the cells and rows after it, which would break the sign-off sheet. */
#define CELL_MAX 32767

/* Names joined with a space (action names hold none). A list too long for
 * one cell (an administrator's grants still unused since the last review)
 * is cut at a name and says how many it leaves out; the JSON has them all. */
static void cell_names(csv *c, const char *const *names, size_t n)
{
    bool quoted = false;
    size_t len = 0, fit = n;
    for (size_t i = 0; i < n; i++) {
        quoted = quoted || needs_quotes(names[i]);
        len += strlen(names[i]) + (i > 0);
        if (len > CELL_MAX - 80 && fit == n) /* room for the note */
            fit = i;
    }
    if (len <= CELL_MAX)
        fit = n;
    cell_open(c, quoted);
    for (size_t i = 0; i < fit; i++) {
        if (i)
            cell_put(c, " ");
        cell_put(c, names[i]);
    }
    if (fit < n) {
        char note[80];
        snprintf(note, sizeof(note), " ... and %zu more (the JSON review lists them all)", n - fit);
        cell_put(c, note);
    }
    cell_close(c);
}

static void row_end(csv *c)
{
    fputs("\r\n", c->out);
    c->row_started = false;
}

static void cell_day(csv *c, int64_t day)
{
    char buf[11] = "";
    if (day >= 0)
        ct_date_format_day(day, buf);
    cell(c, buf);
}

/* last_activity, days_since_activity: the days run to the window's end,
 * where the last activity lies, so they are never negative. */
static void cells_activity(csv *c, const ct_review *r, int64_t last_day)
{
    cell_day(c, last_day);
    if (last_day < 0)
        cell(c, "");
    else
        cell_u64(c, (uint64_t)(r->window.last_day - last_day));
}

/* "" | all_actions | escalation:<action> for users and roles; via:<role
 * ARN> for people (the administrator role they used). */
static void cell_admin(csv *c, const ct_review_identity *id)
{
    const char *via = id->admin_via ? id->admin_via : "";
    if (id->admin == CT_ADMIN_NO) {
        cell(c, "");
    } else if (id->kind == CT_REVIEW_PERSON) {
        cell_open(c, needs_quotes(via));
        cell_put(c, "via:");
        cell_put(c, via);
        cell_close(c);
    } else if (id->admin == CT_ADMIN_ESCALATION) {
        cell_open(c, needs_quotes(via));
        cell_put(c, "escalation:");
        cell_put(c, via);
        cell_close(c);
    } else {
        cell(c, "all_actions");
    }
}

/* used ... privileged_unused */
static void cells_actions(csv *c, const ct_review_actions *x)
{
    cell_u64(c, x->used_count);
    cell_u64(c, x->unused_count);
    cell_u64(c, x->unknown_count);
    cell_u64(c, x->not_granted_count);
    cell_u64(c, x->attempted_count);
    cell_u64(c, x->calls);
    cell_u64(c, x->failed_calls);
    cell_names(c, x->privileged_unused, x->privileged_unused_count);
}

/* A role's people: "name (high|low, N sessions)" joined with "; ". The
 * parentheses hold a comma, so the cell is quoted when not empty. */
static void cell_people(csv *c, const ct_review *r, const ct_review_identity *role)
{
    cell_open(c, role->use_count > 0);
    for (size_t k = 0; k < role->use_count; k++) {
        const ct_review_use *u = &role->uses[k];
        char tail[64];
        snprintf(tail, sizeof(tail), " (%s, %zu session%s)", u->high ? "high" : "low", u->sessions,
                 u->sessions == 1 ? "" : "s");
        if (k)
            cell_put(c, "; ");
        cell_put(c, r->identities[u->identity].name);
        cell_put(c, tail);
    }
    cell_close(c);
}

static void cells_change(csv *c, const ct_review_change *x)
{
    if (!x) {
        /* In both reviews, and nothing changed. */
        cell(c, ct_presence_name(CT_PRESENCE_KEPT));
        empty_cells(c, 4);
        cell_bool(c, false);
        cell_bool(c, false);
        return;
    }
    cell(c, ct_presence_name(x->presence));
    cell_names(c, x->grants_added, x->grants_added_count);
    cell_names(c, x->grants_removed, x->grants_removed_count);
    cell_names(c, x->revoked, x->revoked_count);
    cell_names(c, x->still_granted, x->still_granted_count);
    cell_bool(c, x->newly_dormant);
    cell_bool(c, x->active_again);
}

/* yes, no, or "" for AWS's words for no value (N/A, not_supported...). */
static void cell_state(csv *c, const ct_credential_bool *b)
{
    cell(c, b->state != CT_CREDENTIAL_VALUE ? "" : b->value ? "yes" : "no");
}

/* Days since an active credential's last use (or since it was set, see
 * ct_credential_unused); "" when inactive or without any date. */
static void cell_unused_days(csv *c, const ct_credential_unused *u)
{
    if (u->days >= 0)
        cell_u64(c, (uint64_t)u->days);
    else
        cell(c, "");
}

/* The credential columns of a user (or the root user) of an account with a
 * credential report: "not_listed" when the report has no row for it, and
 * all empty without a report (`has_report` false). */
static void cells_credentials(csv *c, bool has_report, const ct_credential_user *u,
                              const ct_credential_dormancy *check)
{
    if (!has_report || !u) {
        cell(c, has_report ? "not_listed" : "");
        empty_cells(c, CREDENTIAL_COLUMNS - 1);
        return;
    }
    cell(c, "listed");
    cell_state(c, &u->password_enabled);
    cell_unused_days(c, &check->password);
    cell_state(c, &u->mfa_active);
    for (int k = 0; k < 2; k++) {
        cell_state(c, &u->keys[k].active);
        cell_unused_days(c, &check->keys[k]);
    }
    const char *flagged[3];
    size_t n = 0;
    if (check->password.flagged)
        flagged[n++] = "password";
    if (check->keys[0].flagged)
        flagged[n++] = "access_key_1";
    if (check->keys[1].flagged)
        flagged[n++] = "access_key_2";
    cell_names(c, flagged, n);
}

/* The review's entry of an account. */
static const ct_review_account *account_of(const ct_review *r, const ct_account_view *view)
{
    for (size_t i = 0; view && i < r->account_count; i++)
        if (r->accounts[i].view == view)
            return &r->accounts[i];
    return NULL;
}

static void row_identity(csv *c, const ct_review_report *rep, const ct_review_identity *id,
                         const ct_review_change *change)
{
    const ct_review *r = rep->review;
    bool person = id->kind == CT_REVIEW_PERSON;
    cell(c, ct_review_kind_name(id->kind));
    cell(c, id->account ? id->account->name : "");
    cell(c, id->account ? id->account->id : "");
    cell(c, id->name);
    cell(c, id->arn);
    cell(c, ""); /* role: person_role rows */
    cell(c, person && id->use_count ? (id->person->high ? "high" : "low") : "");
    cell(c, id->created);
    if (person)
        cell(c, "");
    else
        cell_bool(c, id->service_linked);
    cell_bool(c, person ? id->identity_center_user : id->identity_center);
    cells_activity(c, r, id->last_day);
    cell(c, ct_dormancy_name(id->dormant));
    cell_admin(c, id);
    if (person)
        empty_cells(c, 8); /* per role, on the person_role rows */
    else
        cells_actions(c, &id->actions);
    if (id->kind == CT_REVIEW_ROLE)
        cell_people(c, r, id);
    else
        cell(c, "");
    if (id->kind == CT_REVIEW_USER)
        cell(c, "");
    else
        cell_u64(c, id->sessions);
    if (id->kind == CT_REVIEW_ROLE)
        cell_u64(c, id->anonymous_sessions);
    else
        cell(c, "");
    if (id->kind == CT_REVIEW_USER) {
        const ct_review_account *acct = account_of(r, id->account);
        cells_credentials(c, acct && acct->credentials, id->credential, &id->credential_check);
    } else {
        empty_cells(c, CREDENTIAL_COLUMNS);
    }
    if (rep->changes)
        cells_change(c, change);
    empty_cells(c, COUNT(signoff_columns));
    row_end(c);
}

/* A role a person used: the role's account, flags and administrator
 * status, the person's sessions and their own calls against its grants. */
static void row_person_role(csv *c, const ct_review_report *rep, const ct_review_identity *person,
                            const ct_review_use *u)
{
    const ct_review *r = rep->review;
    const ct_review_identity *role = &r->identities[u->identity];
    cell(c, "person_role");
    cell(c, role->account ? role->account->name : "");
    cell(c, role->account ? role->account->id : "");
    cell(c, person->name);
    cell(c, role->arn);
    cell(c, role->name);
    cell(c, u->high ? "high" : "low");
    cell(c, ""); /* created */
    cell_bool(c, role->service_linked);
    cell_bool(c, role->identity_center);
    cells_activity(c, r, u->last_day);
    cell(c, ""); /* dormant: a person's, not per role */
    cell_admin(c, role);
    cells_actions(c, &u->actions);
    cell(c, ""); /* people */
    cell_u64(c, u->sessions);
    cell(c, ""); /* anonymous_sessions */
    empty_cells(c, CREDENTIAL_COLUMNS);
    if (rep->changes)
        empty_cells(c, COUNT(change_columns));
    empty_cells(c, COUNT(signoff_columns));
    row_end(c);
}

/* The root user of an account whose credential report has its row: no
 * IAM identity, but its password and access keys are reviewed. */
static void row_root(csv *c, const ct_review_report *rep, const ct_review_account *a)
{
    cell(c, "root");
    cell(c, a->view->name);
    cell(c, a->view->id);
    cell(c, a->root->user);
    cell(c, a->root->arn);
    empty_cells(c, COUNT(columns) - 5 - CREDENTIAL_COLUMNS);
    cells_credentials(c, true, a->root, &a->root_check);
    if (rep->changes)
        empty_cells(c, COUNT(change_columns));
    empty_cells(c, COUNT(signoff_columns));
    row_end(c);
}

/* An identity of the previous review that this one no longer has. */
static void row_removed(csv *c, const ct_review_change *x)
{
    cell(c, ct_review_kind_name(x->kind));
    cell(c, x->account_name);
    cell(c, x->account_id);
    cell(c, x->name);
    empty_cells(c, COUNT(columns) - 4);
    cells_change(c, x);
    empty_cells(c, COUNT(signoff_columns));
    row_end(c);
}

/* A review built on inputs known to be incomplete says so in its first
 * row, before any identity, and lists the warnings below it (row_type
 * `warning`, the text in `name`): the CSV has no other header for them. */
static void rows_incomplete(csv *c, const ct_review_report *rep)
{
    const char *first = "INCOMPLETE: some inputs were skipped or partly read: this review may "
                        "miss activity";
    for (size_t i = 0; i <= rep->warning_count; i++) {
        cell(c, "warning");
        empty_cells(c, 2);
        cell(c, i == 0 ? first : rep->warnings[i - 1]);
        empty_cells(c, COUNT(columns) - 4);
        if (rep->changes)
            empty_cells(c, COUNT(change_columns));
        empty_cells(c, COUNT(signoff_columns));
        row_end(c);
    }
}

int ct_review_csv(FILE *out, const ct_review_report *rep)
{
    const ct_review *r = rep->review;
    const ct_review_changes *ch = rep->changes;
    csv c = {.out = out};
    for (size_t i = 0; i < COUNT(columns); i++)
        cell(&c, columns[i]);
    for (size_t i = 0; ch && i < COUNT(change_columns); i++)
        cell(&c, change_columns[i]);
    for (size_t i = 0; i < COUNT(signoff_columns); i++)
        cell(&c, signoff_columns[i]);
    row_end(&c);
    if (rep->incomplete)
        rows_incomplete(&c, rep);
    /* The root users first: an auditor looks at them first. */
    for (size_t i = 0; i < r->account_count; i++)
        if (r->accounts[i].credentials && r->accounts[i].root)
            row_root(&c, rep, &r->accounts[i]);
    size_t next = 0; /* the changes follow the review's order */
    for (size_t i = 0; i < r->identity_count; i++) {
        const ct_review_identity *id = &r->identities[i];
        row_identity(&c, rep, id, ct_review_change_of(ch, i, &next));
        for (size_t k = 0; id->kind == CT_REVIEW_PERSON && k < id->use_count; k++)
            row_person_role(&c, rep, id, &id->uses[k]);
    }
    for (size_t i = 0; ch && i < ch->count; i++)
        if (ch->items[i].presence == CT_PRESENCE_REMOVED)
            row_removed(&c, &ch->items[i]);
    /* Flushed, so a full disk shows here and not only when closing. */
    return fflush(out) != 0 || ferror(out) ? CT_EIO : 0;
}
