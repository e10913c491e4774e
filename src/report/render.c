/* Rendering of diffs and principal lists: the original tool's text (with
 * optional colors) and the JSON document described in docs/json-format.md. */
#include "cloudtracker/report.h"
#include "cloudtracker/util.h"

#include <string.h>

#define COLOR_RED "\033[31m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_MAGENTA "\033[35m"
#define COLOR_RESET "\033[0m"

bool ct_render_keeps(const ct_render_options *o, const ct_diff_entry *e)
{
    if (o->ignore_benign && e->benign)
        return false;
    if (o->ignore_unknown && e->verdict == CT_VERDICT_UNKNOWN)
        return false;
    if (o->show_used)
        return e->verdict == CT_VERDICT_USED || e->verdict == CT_VERDICT_NOT_GRANTED;
    if (o->show_unused)
        return e->verdict == CT_VERDICT_UNUSED || e->verdict == CT_VERDICT_UNKNOWN;
    return true;
}

/* ---- text ---- */

static void put_safe(FILE *out, const char *s)
{
    ct_buf b = CT_BUF_INIT;
    fputs(ct_buf_put_safe(&b, s ? s : "") == 0 ? b.data : "?", out);
    ct_buf_release(&b);
}

static void text_headers(FILE *out, const ct_report_subject *s)
{
    const ct_principal *p = s->principal;
    if (p->kind == CT_PRINCIPAL_USER) {
        fputs("Getting info on ", out);
        put_safe(out, p->name);
        fputs(", user created ", out);
        put_safe(out, p->create_date);
        fputc('\n', out);
    } else {
        fputs("Getting info for role ", out);
        put_safe(out, p->name);
        fputc('\n', out);
    }
    if (s->dest_role) {
        fputs("Getting info for AssumeRole into ", out);
        put_safe(out, s->dest_role->name);
        fputc('\n', out);
    }
}

static void text_line(FILE *out, const ct_render_options *o, const ct_diff_entry *e)
{
    const char *mark = "  ", *color = NULL;
    switch (e->verdict) {
    case CT_VERDICT_USED:
        break;
    case CT_VERDICT_UNUSED:
        mark = "- ";
        color = COLOR_RED;
        break;
    case CT_VERDICT_UNKNOWN:
        mark = "? ";
        color = COLOR_YELLOW;
        break;
    case CT_VERDICT_NOT_GRANTED:
        mark = "+ ";
        color = COLOR_MAGENTA;
        break;
    case CT_VERDICT_ATTEMPTED:
        return; /* failed calls only: JSON reports them */
    }
    if (o->color && color)
        fputs(color, out);
    fputs(mark, out);
    put_safe(out, e->action);
    if (o->color && color)
        fputs(COLOR_RESET, out);
    fputc('\n', out);
}

/* ---- JSON ---- */

/* Writes s as a JSON string: escapes quotes, backslashes and every control
 * character (C0, DEL, C1), and replaces invalid UTF-8 with U+FFFD, so the
 * document is valid and safe to print. */
static void json_str(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(out, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc(c, out);
            i++;
        } else {
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2; /* length the lead byte announces */
            if (k > n - i || !ct_utf8_valid((const char *)p + i, k)) {
                fputs("\\ufffd", out);
                i++;
            } else if (k == 2 && c == 0xC2 && p[i + 1] < 0xA0) {
                fprintf(out, "\\u%04x", p[i + 1]); /* C1 control */
                i += 2;
            } else {
                fwrite(p + i, 1, k, out);
                i += k;
            }
        }
    }
    fputc('"', out);
}

static void json_day(FILE *out, int64_t day)
{
    char buf[11];
    ct_date_format_day(day, buf);
    json_str(out, buf);
}

static const char *verdict_name(ct_verdict v)
{
    switch (v) {
    case CT_VERDICT_USED:
        return "used";
    case CT_VERDICT_UNUSED:
        return "unused";
    case CT_VERDICT_UNKNOWN:
        return "unknown";
    case CT_VERDICT_NOT_GRANTED:
        return "used_not_granted";
    case CT_VERDICT_ATTEMPTED:
        return "attempted_not_granted";
    }
    return "unknown";
}

static const char *level_name(ct_access_level l)
{
    switch (l) {
    case CT_ACCESS_LIST:
        return "List";
    case CT_ACCESS_READ:
        return "Read";
    case CT_ACCESS_WRITE:
        return "Write";
    case CT_ACCESS_PERMISSIONS:
        return "Permissions management";
    case CT_ACCESS_TAGGING:
        return "Tagging";
    default:
        return NULL;
    }
}

static void json_principal(FILE *out, const ct_principal *p)
{
    fputs("{\"type\": ", out);
    json_str(out, p->kind == CT_PRINCIPAL_USER ? "user" : "role");
    fputs(", \"name\": ", out);
    json_str(out, p->name);
    fputs(", \"arn\": ", out);
    json_str(out, p->arn);
    fputs(", \"created\": ", out);
    if (p->create_date && p->create_date[0])
        json_str(out, p->create_date);
    else
        fputs("null", out);
    fputc('}', out);
}

static void json_head(FILE *out, const ct_report_subject *s)
{
    fputs("{\n  \"format_version\": 1,\n  \"account\": {\"name\": ", out);
    json_str(out, s->account_name);
    fputs(", \"id\": ", out);
    json_str(out, s->account_id);
    fputs("},\n  \"window\": {\"start\": ", out);
    json_day(out, s->window.first_day);
    fputs(", \"end\": ", out);
    json_day(out, s->window.last_day);
    fputs("},\n  \"warnings\": [", out);
    for (size_t i = 0; i < s->warning_count; i++) {
        fputs(i ? ", " : "", out);
        json_str(out, s->warnings[i]);
    }
    fputs("],\n", out);
}

static void json_reason(FILE *out, const ct_diff_entry *e)
{
    const ct_decision *d = &e->decision;
    fputs(", \"not_granted_because\": ", out);
    if (d->denied) {
        fputs("{\"reason\": \"explicit_deny\", \"policy\": ", out);
        json_str(out, d->denied_by);
        fputc('}', out);
    } else if (d->allowed && d->outside_boundary) {
        fputs("{\"reason\": \"permissions_boundary\", \"policy\": null}", out);
    } else {
        fputs("{\"reason\": \"no_allow\", \"policy\": null}", out);
    }
}

static void json_entry(FILE *out, const ct_diff_entry *e)
{
    fputs("    {\"action\": ", out);
    json_str(out, e->action);
    fputs(", \"status\": ", out);
    json_str(out, verdict_name(e->verdict));
    fprintf(out, ", \"calls\": %llu, \"failed_calls\": %llu", (unsigned long long)e->count,
            (unsigned long long)e->error_count);
    fputs(", \"first_seen\": ", out);
    if (e->count + e->error_count)
        json_day(out, e->first_day);
    else
        fputs("null", out);
    fputs(", \"last_seen\": ", out);
    if (e->count + e->error_count)
        json_day(out, e->last_day);
    else
        fputs("null", out);
    fputs(", \"access_level\": ", out);
    const char *level = level_name(e->level);
    if (level)
        json_str(out, level);
    else
        fputs("null", out);
    fprintf(out, ", \"cloudtrail_visible\": %s", e->unlogged ? "false" : "true");
    if (e->verdict == CT_VERDICT_NOT_GRANTED || e->verdict == CT_VERDICT_ATTEMPTED) {
        json_reason(out, e);
    } else {
        fputs(", \"granted_by\": ", out);
        json_str(out, e->decision.allowed_by);
    }
    fputs(", \"limited_denies\": [", out);
    for (size_t i = 0; i < e->decision.note_count; i++) {
        const ct_deny_note *n = &e->decision.notes[i];
        fputs(i ? ", " : "", out);
        fputs("{\"policy\": ", out);
        json_str(out, n->policy);
        fputs(", \"sid\": ", out);
        json_str(out, n->sid);
        fputs(", \"limited_by\": ", out);
        json_str(out, n->limit);
        fputc('}', out);
    }
    fputs("]}", out);
}

int ct_report_print(FILE *out, const ct_render_options *o, const ct_report_subject *s,
                    const ct_diff *diff)
{
    if (o->format == CT_FORMAT_TEXT) {
        text_headers(out, s);
        for (size_t i = 0; i < diff->count; i++)
            if (ct_render_keeps(o, &diff->entries[i]))
                text_line(out, o, &diff->entries[i]);
    } else {
        json_head(out, s);
        fputs("  \"principal\": ", out);
        json_principal(out, s->principal);
        fputs(",\n  \"assumed_role\": ", out);
        if (s->dest_role) {
            fputs("{\"role\": ", out);
            json_principal(out, s->dest_role);
            fputs(", \"account\": {\"name\": ", out);
            json_str(out, s->dest_account_name);
            fputs(", \"id\": ", out);
            json_str(out, s->dest_account_id);
            fputs("}}", out);
        } else {
            fputs("null", out);
        }
        size_t counts[5] = {0};
        for (size_t i = 0; i < diff->count; i++)
            if (ct_render_keeps(o, &diff->entries[i]))
                counts[diff->entries[i].verdict]++;
        fprintf(out,
                ",\n  \"summary\": {\"used\": %zu, \"unused\": %zu, \"unknown\": %zu, "
                "\"used_not_granted\": %zu, \"attempted_not_granted\": %zu},\n",
                counts[CT_VERDICT_USED], counts[CT_VERDICT_UNUSED], counts[CT_VERDICT_UNKNOWN],
                counts[CT_VERDICT_NOT_GRANTED], counts[CT_VERDICT_ATTEMPTED]);
        fputs("  \"actions\": [", out);
        bool first = true;
        for (size_t i = 0; i < diff->count; i++) {
            if (!ct_render_keeps(o, &diff->entries[i]))
                continue;
            fputs(first ? "\n" : ",\n", out);
            first = false;
            json_entry(out, &diff->entries[i]);
        }
        fputs(first ? "]\n}\n" : "\n  ]\n}\n", out);
    }
    return ferror(out) ? CT_EIO : 0;
}

int ct_report_print_list(FILE *out, const ct_render_options *o, const ct_report_subject *s,
                         ct_principal_kind kind, const ct_principal *const *principals,
                         const bool *active, size_t n)
{
    if (o->format == CT_FORMAT_TEXT) {
        for (size_t i = 0; i < n; i++) {
            if (o->color && !active[i])
                fputs(COLOR_RED, out);
            fputs(active[i] ? "  " : "- ", out);
            put_safe(out, principals[i]->name);
            if (o->color && !active[i])
                fputs(COLOR_RESET, out);
            fputc('\n', out);
        }
    } else {
        json_head(out, s);
        fputs("  \"list\": ", out);
        json_str(out, kind == CT_PRINCIPAL_USER ? "users" : "roles");
        fputs(",\n  \"principals\": [", out);
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ",\n    " : "\n    ", out);
            fputs("{\"name\": ", out);
            json_str(out, principals[i]->name);
            fputs(", \"arn\": ", out);
            json_str(out, principals[i]->arn);
            fprintf(out, ", \"active\": %s}", active[i] ? "true" : "false");
        }
        fputs(n ? "\n  ]\n}\n" : "]\n}\n", out);
    }
    return ferror(out) ? CT_EIO : 0;
}
