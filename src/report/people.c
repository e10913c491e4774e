/* Rendering of people behind roles: --list people and --person, as text in
 * the original's style and as the JSON documents of docs/json-format.md. */
#include "cloudtracker/report.h"
#include "cloudtracker/util.h"
#include "report/internal.h"

#include <stdint.h>
#include <string.h>

/* The last part of a role ARN: its name. */
static const char *role_name(const char *arn)
{
    const char *slash = strrchr(arn, '/');
    return slash ? slash + 1 : arn;
}

/* "ROLE (ACCOUNT)", the account by its config name when it has one. */
static void text_role(FILE *out, const char *arn, const ct_account_view *accounts, size_t n)
{
    const ct_account_view *a = ct_account_of_arn(accounts, n, arn);
    ct_render_put_safe(out, role_name(arn));
    fputs(" (", out);
    if (a) {
        ct_render_put_safe(out, a->name);
    } else {
        /* Not in the config: the id from the ARN. */
        const char *p = arn;
        for (int i = 0; i < 4 && p; i++)
            if ((p = strchr(p, ':')))
                p++;
        const char *end = p ? strchr(p, ':') : NULL;
        if (end) {
            char id[64];
            snprintf(id, sizeof(id), "%.*s", (int)(end - p < 63 ? end - p : 63), p);
            ct_render_put_safe(out, id);
        } else {
            fputs("?", out);
        }
    }
    fputc(')', out);
}

static void json_account(FILE *out, const ct_account_view *a)
{
    if (!a) {
        fputs("null", out);
        return;
    }
    fputs("{\"name\": ", out);
    ct_render_json_str(out, a->name);
    fputs(", \"id\": ", out);
    ct_render_json_str(out, a->id);
    fputc('}', out);
}

static const char *confidence(bool high)
{
    return high ? "high" : "low";
}

/* Whether role `arn` counts for the list (--account narrows it). */
static bool role_in_scope(const char *arn, const ct_account_view *accounts, size_t n,
                          const ct_account_view *only)
{
    return !only || ct_account_of_arn(accounts, n, arn) == only;
}

static void json_user(FILE *out, const ct_identity_user *u)
{
    if (!u) {
        fputs("null", out);
        return;
    }
    fputs("{\"user_id\": ", out);
    ct_render_json_str(out, u->user_id);
    fputs(", \"user_name\": ", out);
    ct_render_json_str(out, u->user_name);
    fputs(", \"display_name\": ", out);
    ct_render_json_str(out, u->display_name);
    fputc('}', out);
}

int ct_report_print_people(FILE *out, const ct_render_options *o, const ct_report_subject *s,
                           const ct_people *people, const ct_account_view *accounts,
                           size_t account_count, const ct_account_view *only)
{
    size_t width = 0;
    for (size_t k = 0; k < people->count; k++) {
        size_t len = strlen(people->items[k].name);
        width = len > width ? len : width;
    }
    if (o->format == CT_FORMAT_JSON) {
        ct_render_json_head(out, s);
        fputs("  \"list\": \"people\",\n  \"people\": [", out);
    }
    bool first = true;
    for (size_t k = 0; k < people->count; k++) {
        const ct_person *p = &people->items[k];
        size_t used = 0;
        bool high = false;
        for (size_t r = 0; r < p->role_count; r++) {
            if (role_in_scope(p->roles[r].role_arn, accounts, account_count, only)) {
                used++;
                high = high || p->roles[r].high;
            }
        }
        /* With --account, people who used none of its roles are not its
         * people, unless they are Identity Center users (listed "- "). */
        if (!used && !p->user && p->active)
            continue;
        bool active = used > 0;
        if (o->format == CT_FORMAT_TEXT) {
            if (o->color && !active)
                fputs(COLOR_RED, out);
            fputs(active ? "  " : "- ", out);
            ct_render_put_safe(out, p->name);
            if (o->color && !active)
                fputs(COLOR_RESET, out);
            if (active) {
                for (size_t pad = strlen(p->name); pad < width + 2; pad++)
                    fputc(' ', out);
                bool first_role = true;
                for (size_t r = 0; r < p->role_count; r++) {
                    if (!role_in_scope(p->roles[r].role_arn, accounts, account_count, only))
                        continue;
                    fputs(first_role ? "" : ", ", out);
                    first_role = false;
                    text_role(out, p->roles[r].role_arn, accounts, account_count);
                }
                if (!high)
                    fputs("  (low confidence: only session names)", out);
            }
            fputc('\n', out);
            continue;
        }
        fputs(first ? "\n    " : ",\n    ", out);
        first = false;
        fputs("{\"name\": ", out);
        ct_render_json_str(out, p->name);
        fprintf(out, ", \"active\": %s, \"confidence\": ", active ? "true" : "false");
        if (active)
            ct_render_json_str(out, confidence(high));
        else
            fputs("null", out);
        fputs(", \"identity_center_user\": ", out);
        json_user(out, p->user);
        fputs(", \"roles\": [", out);
        bool first_role = true;
        for (size_t r = 0; r < p->role_count; r++) {
            const ct_person_role *role = &p->roles[r];
            if (!role_in_scope(role->role_arn, accounts, account_count, only))
                continue;
            fputs(first_role ? "" : ", ", out);
            first_role = false;
            fputs("{\"arn\": ", out);
            ct_render_json_str(out, role->role_arn);
            fputs(", \"name\": ", out);
            ct_render_json_str(out, role_name(role->role_arn));
            fputs(", \"account\": ", out);
            json_account(out, ct_account_of_arn(accounts, account_count, role->role_arn));
            fprintf(out, ", \"sessions\": %zu, \"confidence\": ", role->sessions);
            ct_render_json_str(out, confidence(role->high));
            fputc('}', out);
        }
        fputs("]}", out);
    }
    if (o->format == CT_FORMAT_JSON)
        fputs(first ? "]\n}\n" : "\n  ]\n}\n", out);
    return ferror(out) ? CT_EIO : 0;
}

/* One session's attribution: key, person, evidence, confidence, detail,
 * the session it was opened from, when it was opened. */
static void json_session(FILE *out, const ct_people *p, const ct_session_person *sp)
{
    const ct_role_session *s = sp->session;
    fputs("{\"access_key\": ", out);
    ct_render_json_str(out, s->access_key);
    fputs(", \"person\": ", out);
    if (sp->person != SIZE_MAX)
        ct_render_json_str(out, p->items[sp->person].name);
    else
        fputs("null", out);
    fputs(", \"evidence\": ", out);
    ct_render_json_str(out, ct_person_evidence_name(sp->evidence));
    fputs(", \"confidence\": ", out);
    if (sp->person != SIZE_MAX)
        ct_render_json_str(out, confidence(ct_person_evidence_is_high(sp->evidence)));
    else
        fputs("null", out);
    fputs(", \"detail\": ", out);
    ct_render_json_str(out, sp->detail);
    fputs(", \"opened_from\": ", out);
    if (sp->opened_from)
        ct_render_json_str(out, sp->opened_from->access_key);
    else
        fputs("null", out);
    fputs(", \"opened_at\": ", out);
    if (s->opened_known) {
        char day[11];
        int64_t at = s->opening.at, d = ct_day_of_seconds(at), rest = at - d * 86400;
        ct_date_format_day(d, day);
        fprintf(out, "\"%sT%02d:%02d:%02dZ\"", day, (int)(rest / 3600), (int)(rest / 60 % 60),
                (int)(rest % 60));
    } else {
        fputs("null", out);
    }
    fputc('}', out);
}

void ct_render_json_role_users(FILE *out, const ct_people *p, const char *role_arn)
{
    fputs("{\"people\": [", out);
    bool first = true;
    for (size_t k = 0; k < p->count; k++) {
        const ct_person *person = &p->items[k];
        for (size_t r = 0; r < person->role_count; r++) {
            const ct_person_role *role = &person->roles[r];
            if (strcmp(role->role_arn, role_arn) != 0)
                continue;
            fputs(first ? "\n    " : ",\n    ", out);
            first = false;
            fputs("{\"name\": ", out);
            ct_render_json_str(out, person->name);
            fputs(", \"confidence\": ", out);
            ct_render_json_str(out, confidence(role->high));
            fprintf(out, ", \"sessions\": %zu}", role->sessions);
        }
    }
    fputs(first ? "], \"sessions\": [" : "\n  ], \"sessions\": [", out);
    first = true;
    for (size_t i = 0; i < p->sessions.count; i++) {
        const ct_session_person *sp = &p->attributed[i];
        if (!sp->session->active || !sp->session->role_arn ||
            strcmp(sp->session->role_arn, role_arn) != 0)
            continue;
        fputs(first ? "\n    " : ",\n    ", out);
        first = false;
        json_session(out, p, sp);
    }
    fputs(first ? "]}" : "\n  ]}", out);
}

/* The person's sessions of one role, with their evidence (JSON). */
static void json_sessions(FILE *out, const ct_person_answer *a, const ct_person_role_diff *rd)
{
    const ct_people *p = &a->people;
    size_t person = (size_t)(a->person - p->items);
    fputs("[", out);
    bool first = true;
    for (size_t i = 0; i < p->sessions.count; i++) {
        const ct_session_person *sp = &p->attributed[i];
        const ct_role_session *s = sp->session;
        if (sp->person != person || !s->active || !s->role_arn ||
            strcmp(s->role_arn, rd->role->arn) != 0)
            continue;
        fputs(first ? "\n      " : ",\n      ", out);
        first = false;
        json_session(out, p, sp);
    }
    fputs(first ? "]" : "\n    ]", out);
}

int ct_report_print_person(FILE *out, const ct_render_options *o, const ct_report_subject *s,
                           const ct_person_answer *a, const ct_account_view *accounts,
                           size_t account_count)
{
    const ct_person *p = a->person;
    (void)accounts;
    (void)account_count;
    if (o->format == CT_FORMAT_TEXT) {
        fputs("Getting info on person ", out);
        ct_render_put_safe(out, p->name);
        fputs(p->high ? "\n" : " (low confidence: only session names name this person)\n", out);
        for (size_t r = 0; r < a->role_count; r++) {
            const ct_person_role_diff *rd = &a->roles[r];
            fputs(r ? "\nGetting info for AssumeRole into " : "Getting info for AssumeRole into ",
                  out);
            ct_render_put_safe(out, rd->role->name);
            fputs(" (", out);
            ct_render_put_safe(out, rd->account->name);
            fprintf(out, ", %zu session%s)\n", rd->use->sessions,
                    rd->use->sessions == 1 ? "" : "s");
            for (size_t i = 0; i < rd->diff.count; i++)
                if (ct_render_keeps(o, &rd->diff.entries[i]))
                    ct_render_text_line(out, o, &rd->diff.entries[i]);
        }
        return ferror(out) ? CT_EIO : 0;
    }
    ct_render_json_head(out, s);
    fputs("  \"person\": {\"name\": ", out);
    ct_render_json_str(out, p->name);
    fputs(", \"confidence\": ", out);
    ct_render_json_str(out, confidence(p->high));
    fputs(", \"identity_center_user\": ", out);
    json_user(out, p->user);
    fputs("},\n  \"roles\": [", out);
    for (size_t r = 0; r < a->role_count; r++) {
        const ct_person_role_diff *rd = &a->roles[r];
        fputs(r ? ",\n  {\n  \"role\": " : "\n  {\n  \"role\": ", out);
        ct_render_json_principal(out, rd->role);
        fputs(",\n  \"account\": ", out);
        json_account(out, rd->account);
        fputs(",\n  \"confidence\": ", out);
        ct_render_json_str(out, confidence(rd->use->high));
        fputs(",\n  \"sessions\": ", out);
        json_sessions(out, a, rd);
        fputs(",\n", out);
        ct_render_json_diff(out, o, &rd->diff);
        fputs("\n  }", out);
    }
    fputs(a->role_count ? "\n  ]\n}\n" : "]\n}\n", out);
    return ferror(out) ? CT_EIO : 0;
}
