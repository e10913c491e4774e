/* The access review's text and JSON (docs/json-format.md, document type
 * "review"); the CSV and HTML renderers are review_csv.c and review_html.c.
 * Every format states the evidence header first: what was reviewed, from
 * which inputs, and whether they were complete. */
#include "cloudtracker/report.h"
#include "cloudtracker/util.h"
#include "report/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ct_review_format_time(int64_t seconds, char out[21])
{
    time_t t = (time_t)seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 21, "%s", "?");
}

void ct_review_summary(const ct_review *r, ct_review_totals *t)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < r->identity_count; i++) {
        const ct_review_identity *id = &r->identities[i];
        t->identities++;
        t->users += id->kind == CT_REVIEW_USER;
        t->roles += id->kind == CT_REVIEW_ROLE;
        t->people += id->kind == CT_REVIEW_PERSON;
        t->dormant += id->dormant == CT_DORMANT_YES;
        t->administrators += id->admin != CT_ADMIN_NO;
        t->privileged_unused += id->actions.privileged_unused_count > 0;
        for (size_t k = 0; id->kind == CT_REVIEW_PERSON && k < id->use_count; k++)
            if (id->uses[k].actions.privileged_unused_count) {
                t->privileged_unused++;
                break;
            }
    }
}

const char *ct_review_admin_label(const ct_review_identity *id)
{
    switch (id->admin) {
    case CT_ADMIN_NO:
        return "";
    case CT_ADMIN_ALL_ACTIONS:
        return "all_actions";
    case CT_ADMIN_ESCALATION:
        return "escalation";
    }
    return "";
}

/* ---- JSON ---- */

static void json_day_or_null(FILE *out, int64_t day)
{
    if (day < 0) {
        fputs("null", out);
        return;
    }
    char buf[11];
    ct_date_format_day(day, buf);
    ct_render_json_str(out, buf);
}

static void json_names(FILE *out, const char *const *names, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", out);
        ct_render_json_str(out, names[i]);
    }
    fputc(']', out);
}

static void json_counts(FILE *out, const ct_review_actions *x)
{
    fprintf(out,
            "{\"used\": %zu, \"unused\": %zu, \"unknown\": %zu, \"not_granted\": %zu, "
            "\"attempted\": %zu, \"calls\": %" PRIu64 ", \"failed_calls\": %" PRIu64 "}",
            x->used_count, x->unused_count, x->unknown_count, x->not_granted_count,
            x->attempted_count, x->calls, x->failed_calls);
}

/* The verdicts; `granted_lists` adds the unused and "?" names, which a
 * person's use of a role leaves out (they are the role's, less what the
 * person used: the role's entry lists them). */
static void json_actions(FILE *out, const ct_review_actions *x, const char *indent,
                         bool granted_lists)
{
    fprintf(out, "\"counts\": ");
    json_counts(out, x);
    fprintf(out, ",\n%s\"privileged_unused\": ", indent);
    json_names(out, x->privileged_unused, x->privileged_unused_count);
    fprintf(out, ",\n%s\"actions\": {\"used\": ", indent);
    json_names(out, x->used, x->used_count);
    if (granted_lists) {
        fputs(", \"unused\": ", out);
        json_names(out, x->unused, x->unused_count);
        fputs(", \"unknown\": ", out);
        json_names(out, x->unknown, x->unknown_count);
    }
    fputs(", \"not_granted\": ", out);
    json_names(out, x->not_granted, x->not_granted_count);
    fputs(", \"attempted\": ", out);
    json_names(out, x->attempted, x->attempted_count);
    fputc('}', out);
}

static void json_activity(FILE *out, const ct_review *r, int64_t last_day)
{
    fputs("\"last_activity\": ", out);
    json_day_or_null(out, last_day);
    fputs(", \"days_since_activity\": ", out);
    if (last_day < 0)
        fputs("null", out);
    else
        fprintf(out, "%" PRId64, r->window.last_day - last_day);
}

static void json_account_ref(FILE *out, const ct_account_view *v)
{
    fputs("{\"name\": ", out);
    ct_render_json_str(out, v->name);
    fputs(", \"id\": ", out);
    ct_render_json_str(out, v->id);
    fputc('}', out);
}

static const char *since_name(ct_credential_since since)
{
    switch (since) {
    case CT_CREDENTIAL_SINCE_USE:
        return "last_use";
    case CT_CREDENTIAL_SINCE_SET:
        return "set";
    case CT_CREDENTIAL_SINCE_CREATED:
        return "user_created";
    case CT_CREDENTIAL_SINCE_UNKNOWN:
        return "unknown";
    case CT_CREDENTIAL_SINCE_INACTIVE:
        break;
    }
    return NULL;
}

static void json_bool_state(FILE *out, const ct_credential_bool *b)
{
    fputs(b->state != CT_CREDENTIAL_VALUE ? "null" : b->value ? "true" : "false", out);
}

/* One credential: whether it is on, its last use as the report writes it,
 * and the flag's reckoning. */
static void json_credential(FILE *out, const char *on, const ct_credential_bool *enabled,
                            const ct_credential_time *last_used, const ct_credential_unused *u)
{
    fprintf(out, "{\"%s\": ", on);
    json_bool_state(out, enabled);
    fputs(", \"last_used\": ", out);
    ct_render_json_str(out, last_used->text);
    fputs(", \"unused_days\": ", out);
    if (u->days >= 0)
        fprintf(out, "%" PRId64, u->days);
    else
        fputs("null", out);
    fputs(", \"counted_from\": ", out);
    const char *since = since_name(u->since);
    if (since)
        ct_render_json_str(out, since);
    else
        fputs("null", out);
    fprintf(out, ", \"flagged\": %s}", u->flagged ? "true" : "false");
}

/* A user's (or the root user's) row of the credential report. */
static void json_credentials(FILE *out, const ct_credential_user *u,
                             const ct_credential_dormancy *check)
{
    if (!u) {
        fputs("{\"listed\": false}", out);
        return;
    }
    fputs("{\"listed\": true, \"password\": ", out);
    json_credential(out, "enabled", &u->password_enabled, &u->password_last_used, &check->password);
    fputs(", \"mfa_active\": ", out);
    json_bool_state(out, &u->mfa_active);
    fputs(",\n      \"access_keys\": [", out);
    for (int k = 0; k < 2; k++) {
        fputs(k ? ", " : "", out);
        json_credential(out, "active", &u->keys[k].active, &u->keys[k].last_used, &check->keys[k]);
    }
    fprintf(out, "], \"flagged\": %s}", check->flagged ? "true" : "false");
}

static void json_account(FILE *out, const ct_review *r, const ct_review_account *a)
{
    const ct_account_coverage *c = &a->coverage;
    fputs("{\"name\": ", out);
    ct_render_json_str(out, a->view->name);
    fputs(", \"id\": ", out);
    ct_render_json_str(out, a->view->id);
    fputs(",\n     \"iam_file\": ", out);
    ct_render_json_str(out, a->iam_path);
    fputs(", \"iam_sha256\": ", out);
    ct_render_json_str(out, a->iam_sha256);
    fputs(", \"iam_latest_date\": ", out);
    if (a->iam_latest_date[0])
        ct_render_json_str(out, a->iam_latest_date);
    else
        fputs("null", out);
    fprintf(out, ",\n     \"population\": {\"users\": %zu, \"roles\": %zu}", a->users, a->roles);
    int64_t span = r->window.last_day - r->window.first_day + 1;
    fprintf(out,
            ",\n     \"coverage\": {\"events\": %" PRIu64 ", \"days\": %" PRId64
            ", \"days_with_events\": %zu, \"days_without_events\": ",
            c->events, span, c->day_count);
    fputc('[', out);
    for (size_t i = 0; i < a->empty_run_count; i++) {
        fputs(i ? ", {\"from\": " : "{\"from\": ", out);
        json_day_or_null(out, a->empty_runs[i].first_day);
        fputs(", \"to\": ", out);
        json_day_or_null(out, a->empty_runs[i].last_day);
        fputc('}', out);
    }
    fputs("],\n       \"regions\": ", out);
    json_names(out, (const char *const *)c->regions, c->region_count);
    fputs(",\n       \"data_events\": [", out);
    for (size_t i = 0; i < c->data.count; i++) {
        const ct_data_event *e = &c->data.items[i];
        fputs(i ? ", {" : "{", out);
        fputs("\"event_source\": ", out);
        ct_render_json_str(out, e->event_source);
        fputs(", \"event_name\": ", out);
        ct_render_json_str(out, e->event_name);
        fprintf(out, ", \"read_only\": %s, \"events\": %" PRIu64 "}",
                e->read_only < 0 ? "null"
                : e->read_only   ? "true"
                                 : "false",
                e->count);
    }
    fputs("],\n       \"trail_files\": ", out);
    if (c->files_known)
        fprintf(out, "{\"read\": %" PRIu64 ", \"partial\": %" PRIu64 ", \"skipped\": %" PRIu64 "}",
                c->files_read, c->files_partial, c->files_skipped);
    else
        fputs("null", out);
    fputs("},\n     \"credential_report\": ", out);
    if (a->credentials) {
        fputs("{\"file\": ", out);
        ct_render_json_str(out, a->credentials_path);
        fputs(", \"root\": ", out);
        if (a->root)
            json_credentials(out, a->root, &a->root_check);
        else
            fputs("null", out);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputc('}', out);
}

static void json_identity(FILE *out, const ct_review *r, const ct_review_identity *id)
{
    fputs("{\"kind\": ", out);
    ct_render_json_str(out, ct_review_kind_name(id->kind));
    fputs(", \"name\": ", out);
    ct_render_json_str(out, id->name);
    if (id->kind != CT_REVIEW_PERSON) {
        fputs(", \"arn\": ", out);
        ct_render_json_str(out, id->arn);
        fputs(", \"account\": ", out);
        json_account_ref(out, id->account);
        fputs(",\n     \"created\": ", out);
        if (id->created[0])
            ct_render_json_str(out, id->created);
        else
            fputs("null", out);
    }
    if (id->kind == CT_REVIEW_ROLE)
        fprintf(out, ", \"service_linked\": %s, \"identity_center\": %s",
                id->service_linked ? "true" : "false", id->identity_center ? "true" : "false");
    if (id->kind == CT_REVIEW_PERSON) {
        fprintf(out, ", \"confidence\": ");
        if (id->use_count)
            ct_render_json_str(out, id->person->high ? "high" : "low");
        else
            fputs("null", out);
        fputs(", \"identity_center_user\": ", out);
        if (id->person->user) {
            fputs("{\"user_id\": ", out);
            ct_render_json_str(out, id->person->user->user_id);
            fputs(", \"user_name\": ", out);
            ct_render_json_str(out, id->person->user->user_name);
            fputc('}', out);
        } else {
            fputs("null", out);
        }
    }
    fputs(",\n     ", out);
    json_activity(out, r, id->last_day);
    fputs(", \"dormant\": ", out);
    ct_render_json_str(out, ct_dormancy_name(id->dormant));
    fputs(",\n     \"administrator\": ", out);
    if (id->admin == CT_ADMIN_NO) {
        fputs("null", out);
    } else {
        fputs("{\"kind\": ", out);
        ct_render_json_str(out, ct_review_admin_label(id));
        if (id->admin_via) {
            fputs(id->kind == CT_REVIEW_PERSON ? ", \"role\": " : ", \"action\": ", out);
            ct_render_json_str(out, id->admin_via);
        }
        fputc('}', out);
    }
    if (id->kind != CT_REVIEW_PERSON) {
        fputs(",\n     ", out);
        json_actions(out, &id->actions, "     ", true);
        fputs(",\n     \"policy\": ", out);
        ct_render_json_policy(out, &id->policy);
    }
    if (id->kind == CT_REVIEW_USER) {
        fputs(",\n     \"credentials\": ", out);
        /* null: the account has no credential report to say. */
        const ct_review_account *acct = NULL;
        for (size_t i = 0; i < r->account_count && !acct; i++)
            if (r->accounts[i].view == id->account)
                acct = &r->accounts[i];
        if (acct && acct->credentials)
            json_credentials(out, id->credential, &id->credential_check);
        else
            fputs("null", out);
    }
    if (id->kind == CT_REVIEW_ROLE) {
        fprintf(out, ",\n     \"sessions\": %zu, \"anonymous_sessions\": %zu, \"people\": [",
                id->sessions, id->anonymous_sessions);
        for (size_t k = 0; k < id->use_count; k++) {
            const ct_review_use *u = &id->uses[k];
            fputs(k ? ",\n       {\"name\": " : "\n       {\"name\": ", out);
            ct_render_json_str(out, r->identities[u->identity].name);
            fprintf(out, ", \"sessions\": %zu, \"confidence\": \"%s\", ", u->sessions,
                    u->high ? "high" : "low");
            json_activity(out, r, u->last_day);
            fputc('}', out);
        }
        fputs(id->use_count ? "\n     ]" : "]", out);
    }
    if (id->kind == CT_REVIEW_PERSON) {
        fprintf(out, ",\n     \"sessions\": %zu, \"roles\": [", id->sessions);
        for (size_t k = 0; k < id->use_count; k++) {
            const ct_review_use *u = &id->uses[k];
            const ct_review_identity *role = &r->identities[u->identity];
            fputs(k ? ",\n       {\"name\": " : "\n       {\"name\": ", out);
            ct_render_json_str(out, role->name);
            fputs(", \"arn\": ", out);
            ct_render_json_str(out, role->arn);
            fputs(", \"account\": ", out);
            json_account_ref(out, role->account);
            fprintf(out, ",\n        \"sessions\": %zu, \"confidence\": \"%s\", ", u->sessions,
                    u->high ? "high" : "low");
            json_activity(out, r, u->last_day);
            fputs(",\n        ", out);
            json_actions(out, &u->actions, "        ", false);
            fputc('}', out);
        }
        fputs(id->use_count ? "\n     ]" : "]", out);
    }
    fputc('}', out);
}

static void json_changes(FILE *out, const ct_review_changes *c)
{
    fputs(",\n  \"changes\": {\"previous\": {\"made_at\": ", out);
    ct_render_json_str(out, c->previous_made_at);
    fputs(", \"window\": {\"start\": ", out);
    json_day_or_null(out, c->previous_window.first_day);
    fputs(", \"end\": ", out);
    json_day_or_null(out, c->previous_window.last_day);
    fprintf(out,
            "}},\n   \"totals\": {\"added\": %zu, \"removed\": %zu, \"revoked\": %zu, "
            "\"still_granted\": %zu, \"newly_dormant\": %zu, \"active_again\": %zu},\n"
            "   \"identities\": [",
            c->added, c->removed, c->revoked, c->still_granted, c->newly_dormant, c->active_again);
    for (size_t i = 0; i < c->count; i++) {
        const ct_review_change *x = &c->items[i];
        fputs(i ? ",\n    {\"kind\": " : "\n    {\"kind\": ", out);
        ct_render_json_str(out, ct_review_kind_name(x->kind));
        fputs(", \"name\": ", out);
        ct_render_json_str(out, x->name);
        if (x->kind != CT_REVIEW_PERSON) {
            fputs(", \"account\": {\"name\": ", out);
            ct_render_json_str(out, x->account_name);
            fputs(", \"id\": ", out);
            ct_render_json_str(out, x->account_id);
            fputc('}', out);
        }
        fputs(", \"presence\": ", out);
        ct_render_json_str(out, ct_presence_name(x->presence));
        fprintf(out, ", \"newly_dormant\": %s, \"active_again\": %s,\n     \"grants_added\": ",
                x->newly_dormant ? "true" : "false", x->active_again ? "true" : "false");
        json_names(out, x->grants_added, x->grants_added_count);
        fputs(", \"grants_removed\": ", out);
        json_names(out, x->grants_removed, x->grants_removed_count);
        fputs(",\n     \"revoked\": ", out);
        json_names(out, x->revoked, x->revoked_count);
        fputs(", \"still_granted\": ", out);
        json_names(out, x->still_granted, x->still_granted_count);
        fputc('}', out);
    }
    fputs(c->count ? "\n   ]}" : "]}", out);
}

static void review_json(FILE *out, const ct_review_report *rep)
{
    const ct_review *r = rep->review;
    char made[21], from[11], to[11];
    ct_review_format_time(rep->made_at, made);
    ct_date_format_day(r->window.first_day, from);
    ct_date_format_day(r->window.last_day, to);
    fputs("{\n  \"format_version\": 1,\n  \"type\": \"review\",\n  \"tool\": {\"name\": "
          "\"cloudtracker\", \"version\": ",
          out);
    ct_render_json_str(out, rep->tool_version);
    fputs("},\n  \"command_line\": ", out);
    json_names(out, rep->argv, rep->argc);
    fputs(",\n  \"made_at\": ", out);
    ct_render_json_str(out, made);
    fputs(", \"backend\": ", out);
    ct_render_json_str(out, rep->backend);
    fprintf(out, ",\n  \"window\": {\"start\": \"%s\", \"end\": \"%s\"}, \"dormant_days\": %u,\n",
            from, to, r->dormant_days);
    fprintf(out, "  \"complete\": %s,\n  \"warnings\": ", rep->incomplete ? "false" : "true");
    json_names(out, rep->warnings, rep->warning_count);
    fputs(",\n  \"accounts\": [", out);
    for (size_t i = 0; i < r->account_count; i++) {
        fputs(i ? ",\n    " : "\n    ", out);
        json_account(out, r, &r->accounts[i]);
    }
    fputs(r->account_count ? "\n  ],\n" : "],\n", out);
    ct_review_totals t;
    ct_review_summary(r, &t);
    fprintf(out,
            "  \"summary\": {\"identities\": %zu, \"users\": %zu, \"roles\": %zu, \"people\": %zu, "
            "\"dormant\": %zu, \"administrators\": %zu, \"with_privileged_unused\": %zu},\n",
            t.identities, t.users, t.roles, t.people, t.dormant, t.administrators,
            t.privileged_unused);
    fputs("  \"identities\": [", out);
    for (size_t i = 0; i < r->identity_count; i++) {
        fputs(i ? ",\n    " : "\n    ", out);
        json_identity(out, r, &r->identities[i]);
    }
    fputs(r->identity_count ? "\n  ]" : "]", out);
    if (rep->changes)
        json_changes(out, rep->changes);
    fputs("\n}\n", out);
}

/* ---- text ---- */

/* A text column: at most `width` bytes of s (terminal-safe), padded. */
static void text_cell(FILE *out, const char *s, size_t width, bool pad)
{
    ct_buf b = CT_BUF_INIT;
    const char *text = ct_buf_put_safe(&b, s ? s : "") == 0 ? b.data : "?";
    size_t len = strlen(text);
    if (width && len > width) {
        /* Cut on a UTF-8 boundary and mark the cut. */
        size_t cut = width > 1 ? width - 1 : 0;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--;
        fwrite(text, 1, cut, out);
        fputc('~', out);
        len = cut + 1;
    } else {
        fputs(text, out);
    }
    for (; pad && len < width; len++)
        fputc(' ', out);
    ct_buf_release(&b);
}

/* "unused credentials: password 140 days, access key 2 161 days". */
static void text_unused_credentials(ct_buf *b, const ct_credential_dormancy *c)
{
    const struct {
        const char *name;
        const ct_credential_unused *u;
    } all[] = {
        {"password", &c->password}, {"access key 1", &c->keys[0]}, {"access key 2", &c->keys[1]}};
    ct_buf_printf(b, "%sunused credentials:", b->len ? "; " : "");
    bool first = true;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (!all[i].u->flagged)
            continue;
        ct_buf_printf(b, "%s %s ", first ? "" : ",", all[i].name);
        if (all[i].u->days >= 0)
            ct_buf_printf(b, "%" PRId64 " days", all[i].u->days);
        else
            ct_buf_printf(b, "(no date)");
        first = false;
    }
}

static void text_evidence(FILE *out, const ct_review_report *rep)
{
    const ct_review *r = rep->review;
    char made[21], from[11], to[11];
    ct_review_format_time(rep->made_at, made);
    ct_date_format_day(r->window.first_day, from);
    ct_date_format_day(r->window.last_day, to);
    if (rep->incomplete)
        fputs("INCOMPLETE: some inputs were skipped or partly read (see the warnings): this "
              "review may miss activity.\n\n",
              out);
    fprintf(out, "Access review, %s to %s (dormant: no activity in the last %u days)\n", from, to,
            r->dormant_days);
    fprintf(out, "Made %s by cloudtracker ", made);
    ct_render_put_safe(out, rep->tool_version);
    fprintf(out, " from the %s\nCommand:",
            strcmp(rep->backend, "store") == 0 ? "store" : "Elasticsearch cluster");
    for (size_t i = 0; i < rep->argc; i++) {
        fputc(' ', out);
        ct_render_put_safe(out, rep->argv[i]);
    }
    fputs("\n\nAccounts\n", out);
    for (size_t i = 0; i < r->account_count; i++) {
        const ct_review_account *a = &r->accounts[i];
        const ct_account_coverage *c = &a->coverage;
        fputs("  ", out);
        ct_render_put_safe(out, a->view->name);
        fprintf(out, " (%s): %zu user%s and %zu role%s in ", a->view->id, a->users,
                a->users == 1 ? "" : "s", a->roles, a->roles == 1 ? "" : "s");
        ct_render_put_safe(out, a->iam_path);
        fputs("\n    sha256 ", out);
        fputs(a->iam_sha256, out);
        fputs(", latest date in it ", out);
        ct_render_put_safe(out, a->iam_latest_date[0] ? a->iam_latest_date : "(none)");
        int64_t span = r->window.last_day - r->window.first_day + 1;
        fprintf(out, "\n    %" PRIu64 " events on %zu of %" PRId64 " days; regions: ", c->events,
                c->day_count, span);
        for (size_t k = 0; k < c->region_count; k++) {
            fputs(k ? ", " : "", out);
            ct_render_put_safe(out, c->regions[k][0] ? c->regions[k] : "(none)");
        }
        if (!c->region_count)
            fputs("none", out);
        fprintf(out, "; data events: %s\n", c->data.count ? "logged" : "none");
        if (a->empty_day_count) {
            fprintf(out, "    %zu days without events: ", a->empty_day_count);
            for (size_t k = 0; k < a->empty_run_count; k++) {
                const ct_window *run = &a->empty_runs[k];
                char d1[11], d2[11];
                ct_date_format_day(run->first_day, d1);
                ct_date_format_day(run->last_day, d2);
                fprintf(out, "%s%s", k ? ", " : "", d1);
                if (run->last_day != run->first_day)
                    fprintf(out, "..%s", d2);
            }
            fputc('\n', out);
        }
        if (c->files_known)
            fprintf(out,
                    "    trail files: %" PRIu64 " read, %" PRIu64 " read in part, %" PRIu64
                    " skipped\n",
                    c->files_read, c->files_partial, c->files_skipped);
        if (a->credentials) {
            fputs("    credential report: ", out);
            ct_render_put_safe(out, a->credentials_path);
            if (a->root && a->root_check.flagged) {
                ct_buf b = CT_BUF_INIT;
                text_unused_credentials(&b, &a->root_check);
                fputs("; root user: ", out);
                ct_render_put_safe(out, b.data);
                ct_buf_release(&b);
            }
            fputc('\n', out);
        }
    }
    if (rep->warning_count) {
        fputs("Warnings\n", out);
        for (size_t i = 0; i < rep->warning_count; i++) {
            fputs("  ", out);
            ct_render_put_safe(out, rep->warnings[i]);
            fputc('\n', out);
        }
    }
}

static void text_summary(FILE *out, const ct_review *r)
{
    ct_review_totals t;
    ct_review_summary(r, &t);
    fprintf(out,
            "\nSummary: %zu identities (%zu users, %zu roles, %zu people); %zu dormant, "
            "%zu administrators, %zu with unused privileged actions\n\n",
            t.identities, t.users, t.roles, t.people, t.dormant, t.administrators,
            t.privileged_unused);
}

/* The text table names a few unused privileged actions; the other
 * formats list them all. */
#define TEXT_PRIVILEGED_NAMES 3
#define TEXT_CHANGE_NAMES 10

/* The last column of an identity's line: its unused privileged actions,
 * and who used it (roles) or what it used (people). */
static void text_notes(ct_buf *b, const ct_review *r, const ct_review_identity *id)
{
    const ct_review_actions *x = &id->actions;
    size_t shown = x->privileged_unused_count < TEXT_PRIVILEGED_NAMES ? x->privileged_unused_count
                                                                      : TEXT_PRIVILEGED_NAMES;
    if (x->privileged_unused_count)
        ct_buf_printf(b, "%zu unused privileged:", x->privileged_unused_count);
    for (size_t k = 0; k < shown; k++)
        ct_buf_printf(b, " %s", x->privileged_unused[k]);
    if (shown < x->privileged_unused_count)
        ct_buf_printf(b, " and %zu more", x->privileged_unused_count - shown);
    for (size_t k = 0; k < id->use_count; k++) {
        const ct_review_use *u = &id->uses[k];
        const ct_review_identity *other = &r->identities[u->identity];
        if (k == 0)
            ct_buf_printf(b, "%s%s", b->len ? "; " : "",
                          id->kind == CT_REVIEW_ROLE ? "used by " : "used ");
        else
            ct_buf_printf(b, ", ");
        if (id->kind == CT_REVIEW_PERSON)
            ct_buf_printf(b, "%s/%s", other->account->name, other->name);
        else
            ct_buf_printf(b, "%s", other->name);
        if (!u->high)
            ct_buf_printf(b, " (low)");
    }
    if (id->credential_check.flagged)
        text_unused_credentials(b, &id->credential_check);
    if (id->kind == CT_REVIEW_ROLE && id->anonymous_sessions)
        ct_buf_printf(b, "%s%zu session%s name%s nobody", b->len ? "; " : "",
                      id->anonymous_sessions, id->anonymous_sessions == 1 ? "" : "s",
                      id->anonymous_sessions == 1 ? "s" : "");
}

static void text_table(FILE *out, const ct_review_report *rep)
{
    const ct_review *r = rep->review;
    size_t name_w = 4, account_w = 7;
    for (size_t i = 0; i < r->identity_count; i++) {
        const ct_review_identity *id = &r->identities[i];
        size_t n = strlen(id->name);
        name_w = n > name_w ? n : name_w;
        if (id->account && strlen(id->account->name) > account_w)
            account_w = strlen(id->account->name);
    }
    /* The fixed columns take about 80 bytes; names yield first, then the
     * notes column, to the terminal's width. */
    if (rep->width && name_w > 24 && 80 + name_w + account_w > rep->width)
        name_w = rep->width > 80 + account_w + 24 ? rep->width - 80 - account_w : 24;
    fprintf(out, "%-6s  ", "KIND");
    text_cell(out, "ACCOUNT", account_w, true);
    fputs("  ", out);
    text_cell(out, "NAME", name_w, true);
    fputs("  LAST ACT.  DAYS  DORMANT  ADMIN  USED UNUSED    ?    +  FAILED  NOTES\n", out);
    for (size_t i = 0; i < r->identity_count; i++) {
        const ct_review_identity *id = &r->identities[i];
        size_t used = id->actions.used_count, unused = id->actions.unused_count,
               unknown = id->actions.unknown_count, plus = id->actions.not_granted_count;
        uint64_t failed = id->actions.failed_calls;
        for (size_t k = 0; id->kind == CT_REVIEW_PERSON && k < id->use_count; k++) {
            used += id->uses[k].actions.used_count;
            unused += id->uses[k].actions.unused_count;
            unknown += id->uses[k].actions.unknown_count;
            plus += id->uses[k].actions.not_granted_count;
            failed += id->uses[k].actions.failed_calls;
        }
        bool red = rep->color && (id->dormant == CT_DORMANT_YES || id->admin != CT_ADMIN_NO);
        if (red)
            fputs(COLOR_RED, out);
        fprintf(out, "%-6s  ", ct_review_kind_name(id->kind));
        text_cell(out, id->account ? id->account->name : "-", account_w, true);
        fputs("  ", out);
        text_cell(out, id->name, name_w, true);
        char last[11] = "never", since[16] = "-";
        if (id->last_day >= 0) {
            ct_date_format_day(id->last_day, last);
            snprintf(since, sizeof(since), "%" PRId64, r->window.last_day - id->last_day);
        }
        const char *admin = id->admin == CT_ADMIN_ALL_ACTIONS  ? "all"
                            : id->admin == CT_ADMIN_ESCALATION ? "esc"
                                                               : "-";
        fprintf(out, "  %-10s %5s  %-7s  %-5s %5zu %6zu %4zu %4zu %7" PRIu64, last, since,
                ct_dormancy_name(id->dormant), admin, used, unused, unknown, plus, failed);
        ct_buf notes = CT_BUF_INIT;
        text_notes(&notes, r, id);
        if (notes.len)
            fputs("  ", out);
        size_t used_w = 6 + 2 + account_w + 2 + name_w + 2 + 60;
        size_t notes_w = rep->width > used_w + 10 ? rep->width - used_w : 0;
        if (rep->width && !notes_w)
            notes_w = 10;
        text_cell(out, notes.data ? notes.data : "", notes_w, false);
        ct_buf_release(&notes);
        if (red)
            fputs(COLOR_RESET, out);
        fputc('\n', out);
    }
}

static void text_changes(FILE *out, const ct_review_changes *c)
{
    char from[11], to[11];
    ct_date_format_day(c->previous_window.first_day, from);
    ct_date_format_day(c->previous_window.last_day, to);
    fputs("\nChanges since the review made ", out);
    ct_render_put_safe(out, c->previous_made_at);
    fprintf(out,
            " (%s to %s): %zu added, %zu removed, %zu revocations verified, %zu unused "
            "grants still held, %zu newly dormant, %zu active again\n",
            from, to, c->added, c->removed, c->revoked, c->still_granted, c->newly_dormant,
            c->active_again);
    for (size_t i = 0; i < c->count; i++) {
        const ct_review_change *x = &c->items[i];
        fprintf(out, "  %-7s %-6s ", ct_presence_name(x->presence), ct_review_kind_name(x->kind));
        if (x->kind != CT_REVIEW_PERSON) {
            ct_render_put_safe(out, x->account_name);
            fputc('/', out);
        }
        ct_render_put_safe(out, x->name);
        if (x->newly_dormant)
            fputs("  newly dormant", out);
        if (x->active_again)
            fputs("  active again", out);
        fputc('\n', out);
        const struct {
            const char *label;
            const char *const *names;
            size_t n;
        } lists[] = {{"grants added", x->grants_added, x->grants_added_count},
                     {"grants removed", x->grants_removed, x->grants_removed_count},
                     {"revoked (verified)", x->revoked, x->revoked_count},
                     {"unused, still granted", x->still_granted, x->still_granted_count}};
        for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
            if (!lists[l].n || x->presence != CT_PRESENCE_KEPT)
                continue;
            fprintf(out, "      %s (%zu):", lists[l].label, lists[l].n);
            size_t shown = lists[l].n < TEXT_CHANGE_NAMES ? lists[l].n : TEXT_CHANGE_NAMES;
            for (size_t k = 0; k < shown; k++) {
                fputc(' ', out);
                ct_render_put_safe(out, lists[l].names[k]);
            }
            if (shown < lists[l].n)
                fprintf(out, " and %zu more", lists[l].n - shown);
            fputc('\n', out);
        }
    }
}

static void review_text(FILE *out, const ct_review_report *rep)
{
    text_evidence(out, rep);
    text_summary(out, rep->review);
    text_table(out, rep);
    if (rep->changes)
        text_changes(out, rep->changes);
}

int ct_report_print_review(FILE *out, ct_format format, const ct_review_report *rep)
{
    switch (format) {
    case CT_FORMAT_TEXT:
        review_text(out, rep);
        break;
    case CT_FORMAT_JSON:
        review_json(out, rep);
        break;
    case CT_FORMAT_CSV:
        return ct_review_csv(out, rep);
    case CT_FORMAT_HTML:
        return ct_review_html(out, rep);
    case CT_FORMAT_POLICY: /* refused by the command line: a review is not one policy */
        return CT_EINTERNAL;
    }
    return ferror(out) ? CT_EIO : 0;
}
