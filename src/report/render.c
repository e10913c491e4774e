/* Rendering of diffs and principal lists: the original tool's text (with
 * optional colors) and the JSON document described in docs/json-format.md. */
#include "cloudtracker/report.h"
#include "cloudtracker/util.h"
#include "report/internal.h"
#include "util/json_plain.h"

#include <inttypes.h>
#include <string.h>


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

void ct_render_put_safe(FILE *out, const char *s)
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
        ct_render_put_safe(out, p->name);
        fputs(", user created ", out);
        ct_render_put_safe(out, p->create_date);
        fputc('\n', out);
    } else {
        fputs("Getting info for role ", out);
        ct_render_put_safe(out, p->name);
        fputc('\n', out);
    }
    if (s->dest_role) {
        fputs("Getting info for AssumeRole into ", out);
        ct_render_put_safe(out, s->dest_role->name);
        fputc('\n', out);
    }
}

void ct_render_text_line(FILE *out, const ct_render_options *o, const ct_diff_entry *e)
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
    ct_render_put_safe(out, e->action);
    if (o->color && color)
        fputs(COLOR_RESET, out);
    fputc('\n', out);
}

/* ---- JSON ---- */

/* Writes s as a JSON string: escapes quotes, backslashes, every control
 * character (C0, DEL, C1) and the invisible characters of
 * ct_unicode_is_hidden (bidirectional overrides, zero-width characters...),
 * and replaces invalid UTF-8 with U+FFFD, so the document is valid and safe
 * to print, and a reader decoding it still gets the names unchanged. */
void ct_render_json_str(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        /* Runs of printable ASCII (names are mostly that) go out whole. */
        size_t plain = (size_t)(ct_json_skip_plain(p + i, p + n) - (p + i));
        const unsigned char *del = memchr(p + i, 0x7F, plain); /* plain there, escaped here */
        if (del)
            plain = (size_t)(del - (p + i));
        if (plain) {
            fwrite(p + i, 1, plain, out);
            i += plain;
            continue;
        }
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
            } else if (ct_unicode_is_hidden(ct_utf8_decode((const char *)p + i, k))) {
                uint32_t cp = ct_utf8_decode((const char *)p + i, k);
                if (cp > 0xFFFF) /* as a UTF-16 surrogate pair, as JSON spells it */
                    fprintf(out, "\\u%04" PRIx32 "\\u%04" PRIx32, 0xD800 + ((cp - 0x10000) >> 10),
                            0xDC00 + ((cp - 0x10000) & 0x3FF));
                else
                    fprintf(out, "\\u%04" PRIx32, cp);
                i += k;
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
    ct_render_json_str(out, buf);
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

void ct_render_json_principal(FILE *out, const ct_principal *p)
{
    fputs("{\"type\": ", out);
    ct_render_json_str(out, p->kind == CT_PRINCIPAL_USER ? "user" : "role");
    fputs(", \"name\": ", out);
    ct_render_json_str(out, p->name);
    fputs(", \"arn\": ", out);
    ct_render_json_str(out, p->arn);
    fputs(", \"created\": ", out);
    if (p->create_date && p->create_date[0])
        ct_render_json_str(out, p->create_date);
    else
        fputs("null", out);
    fputc('}', out);
}

void ct_render_json_head(FILE *out, const ct_report_subject *s)
{
    fputs("{\n  \"format_version\": 1,\n  \"account\": ", out);
    if (s->account_name) {
        fputs("{\"name\": ", out);
        ct_render_json_str(out, s->account_name);
        fputs(", \"id\": ", out);
        ct_render_json_str(out, s->account_id);
        fputs("}", out);
    } else {
        fputs("null", out);
    }
    fputs(",\n  \"window\": {\"start\": ", out);
    json_day(out, s->window.first_day);
    fputs(", \"end\": ", out);
    json_day(out, s->window.last_day);
    fputs("},\n  \"warnings\": [", out);
    for (size_t i = 0; i < s->warning_count; i++) {
        fputs(i ? ", " : "", out);
        ct_render_json_str(out, s->warnings[i]);
    }
    fputs("],\n", out);
}

static void json_reason(FILE *out, const ct_decision *d)
{
    fputs(", \"not_granted_because\": ", out);
    if (d->denied) {
        fputs("{\"reason\": \"explicit_deny\", \"policy\": ", out);
        ct_render_json_str(out, d->denied_by);
        fputc('}', out);
    } else if (d->allowed && d->outside_boundary) {
        fputs("{\"reason\": \"permissions_boundary\", \"policy\": null}", out);
    } else {
        fputs("{\"reason\": \"no_allow\", \"policy\": null}", out);
    }
}

static void json_opt_str(FILE *out, const char *s)
{
    if (s)
        ct_render_json_str(out, s);
    else
        fputs("null", out);
}

static void json_opt_day(FILE *out, bool have, int64_t day)
{
    if (have)
        json_day(out, day);
    else
        fputs("null", out);
}

/* A row's checked day, or null when it was kept on weaker evidence. */
static void json_checked(FILE *out, const char *checked)
{
    json_opt_str(out, checked && checked[0] ? checked : NULL);
}

static const char *kind_name(int read_only)
{
    return read_only == 1 ? "read" : read_only == 0 ? "write" : "read and write";
}

/* Why an action is or is not visible, in words (see docs/json-format.md). */
static void visibility_reason(ct_buf *b, const ct_diff *diff, const ct_diff_entry *e)
{
    const ct_visibility *v = &e->visibility;
    switch (v->cls) {
    case CT_VIS_MANAGEMENT:
        ct_buf_puts(b, "management event: every trail logs these calls");
        break;
    case CT_VIS_NEVER_LOGGED:
        ct_buf_puts(b, "never logged: CloudTrail does not record these calls");
        break;
    case CT_VIS_PERMISSION_ONLY:
        ct_buf_puts(b, "permission only: checked inside other calls, never an event of its own");
        break;
    case CT_VIS_DATA_EVENT: {
        /* The first rule that decides: one whose calls do not all name the
         * action, then one whose data events the logs lack. */
        const ct_data_event_rule *inexact = NULL, *unlogged = NULL;
        for (size_t i = 0; i < v->data_rule_count; i++) {
            const ct_data_event_rule *r = v->data_rules[i];
            if (!inexact && !ct_data_rule_exact(r))
                inexact = r;
            if (!unlogged && !ct_data_rule_logged(diff, r))
                unlogged = r;
        }
        if (inexact) {
            ct_buf_printf(b,
                          "data event (%s): needed by %s depending on the request, which "
                          "the eventName does not show",
                          inexact->resource_type, inexact->apis);
        } else if (unlogged) {
            ct_buf_printf(b,
                          "data event (%s, %s): logged only when a trail selects such data "
                          "events, and this account's logs hold none in the window",
                          unlogged->resource_type, kind_name(unlogged->read_only));
        } else {
            uint64_t events = 0;
            const ct_data_event_rule *r = v->data_rules[0];
            for (int ro = 0; ro <= 1; ro++) {
                const ct_data_seen *seen = ct_diff_data_seen(diff, r->resource_type, ro);
                if (seen && (r->read_only < 0 || r->read_only == ro))
                    events += seen->events;
            }
            ct_buf_printf(b,
                          "data event (%s, %s): this account's logs hold %llu such data event%s "
                          "in the window, so its trail logs them (its selectors may cover only "
                          "some resources)",
                          r->resource_type, kind_name(r->read_only), (unsigned long long)events,
                          events == 1 ? "" : "s");
        }
        break;
    }
    }
    if (e->hidden_by_action)
        ct_buf_printf(b, "; also checked inside %s calls, which were made or cannot be seen",
                      e->hidden_by_action);
    if (e->hidden_by_event)
        ct_buf_printf(b, "; %s calls were made, which need it or not depending on the request",
                      e->hidden_by_event);
}

static void json_visibility(FILE *out, const ct_diff *diff, const ct_diff_entry *e)
{
    const ct_visibility *v = &e->visibility;
    ct_buf reason = CT_BUF_INIT;
    visibility_reason(&reason, diff, e);
    fputs(", \"visibility\": {\"class\": ", out);
    ct_render_json_str(out, ct_visibility_class_name(v->cls));
    fputs(", \"reason\": ", out);
    ct_render_json_str(out, reason.data ? reason.data : "?");
    ct_buf_release(&reason);
    fputs(", \"sources\": ", out);
    json_opt_str(out,
                 v->cls == CT_VIS_MANAGEMENT ? "aws-ct-management-events" : v->evidence.source);
    fputs(", \"checked\": ", out);
    json_checked(out, v->evidence.checked);
    fputs(", \"data_events\": [", out);
    bool first = true;
    for (size_t i = 0; i < v->data_rule_count; i++) {
        const ct_data_event_rule *r = v->data_rules[i];
        for (int ro = 1; ro >= 0; ro--) {
            if (r->read_only >= 0 && r->read_only != ro)
                continue;
            const ct_data_seen *seen = ct_diff_data_seen(diff, r->resource_type, ro);
            fputs(first ? "" : ", ", out);
            first = false;
            fputs("{\"resource_type\": ", out);
            ct_render_json_str(out, r->resource_type);
            fputs(", \"event_source\": ", out);
            ct_render_json_str(out, r->event_source);
            fprintf(out, ", \"read_only\": %s, \"apis\": ", ro ? "true" : "false");
            ct_render_json_str(out, r->apis);
            fprintf(out, ", \"named_by_event\": %s, \"logged\": %s, \"events\": %llu",
                    ct_data_rule_exact(r) ? "true" : "false", seen ? "true" : "false",
                    (unsigned long long)(seen ? seen->events : 0));
            fputs(", \"first_seen\": ", out);
            json_opt_day(out, seen != NULL, seen ? seen->first_day : 0);
            fputs(", \"last_seen\": ", out);
            json_opt_day(out, seen != NULL, seen ? seen->last_day : 0);
            fputs(", \"example\": ", out);
            json_opt_str(out, seen ? seen->example : NULL);
            fputs(", \"sources\": ", out);
            ct_render_json_str(out, r->evidence.source);
            fputs(", \"checked\": ", out);
            json_checked(out, r->evidence.checked);
            fputc('}', out);
        }
    }
    fputs("], \"hidden_by\": ", out);
    if (e->hidden_by_action) {
        fputs("{\"checked_inside\": ", out);
        ct_render_json_str(out, e->hidden_by_action);
        fputs(", \"sources\": ", out);
        ct_render_json_str(out, v->inside_evidence.source);
        fputs(", \"checked\": ", out);
        json_checked(out, v->inside_evidence.checked);
        fputc('}', out);
    } else if (e->hidden_by_event) {
        fputs("{\"request_dependent\": ", out);
        ct_render_json_str(out, e->hidden_by_event);
        fputs(", \"sources\": \"request-dependent.tsv\", \"checked\": null}", out);
    } else {
        fputs("null", out);
    }
    fputc('}', out);
}

static void json_entry(FILE *out, const ct_diff *diff, const ct_diff_entry *e)
{
    fputs("    {\"action\": ", out);
    ct_render_json_str(out, e->action);
    fputs(", \"status\": ", out);
    ct_render_json_str(out, verdict_name(e->verdict));
    fprintf(out, ", \"calls\": %llu, \"failed_calls\": %llu", (unsigned long long)e->count,
            (unsigned long long)e->error_count);
    fputs(", \"first_seen\": ", out);
    json_opt_day(out, e->count + e->error_count > 0, e->first_day);
    fputs(", \"last_seen\": ", out);
    json_opt_day(out, e->count + e->error_count > 0, e->last_day);
    fputs(", \"access_level\": ", out);
    const char *level = level_name(e->level);
    if (level)
        ct_render_json_str(out, level);
    else
        fputs("null", out);
    fprintf(out, ", \"cloudtrail_visible\": %s", e->visible ? "true" : "false");
    json_visibility(out, diff, e);
    ct_decision decision;
    ct_diff_decision(diff, e, &decision);
    if (e->verdict == CT_VERDICT_NOT_GRANTED || e->verdict == CT_VERDICT_ATTEMPTED) {
        json_reason(out, &decision);
    } else {
        fputs(", \"granted_by\": ", out);
        ct_render_json_str(out, decision.allowed_by);
    }
    fputs(", \"limited_denies\": [", out);
    for (size_t i = 0; i < decision.note_count; i++) {
        const ct_deny_note *n = &decision.notes[i];
        fputs(i ? ", " : "", out);
        fputs("{\"policy\": ", out);
        ct_render_json_str(out, n->policy);
        fputs(", \"sid\": ", out);
        ct_render_json_str(out, n->sid);
        fputs(", \"limited_by\": ", out);
        ct_render_json_str(out, n->limit);
        fputc('}', out);
    }
    fputs("]}", out);
}

void ct_render_json_diff(FILE *out, const ct_render_options *o, const ct_diff *diff)
{
    size_t counts[5] = {0};
    for (size_t i = 0; i < diff->count; i++)
        if (ct_render_keeps(o, &diff->entries[i]))
            counts[diff->entries[i].verdict]++;
    fprintf(out,
            "  \"summary\": {\"used\": %zu, \"unused\": %zu, \"unknown\": %zu, "
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
        json_entry(out, diff, &diff->entries[i]);
    }
    fputs(first ? "]" : "\n  ]", out);
}

int ct_report_print(FILE *out, const ct_render_options *o, const ct_report_subject *s,
                    const ct_diff *diff)
{
    if (o->format == CT_FORMAT_TEXT) {
        text_headers(out, s);
        for (size_t i = 0; i < diff->count; i++)
            if (ct_render_keeps(o, &diff->entries[i]))
                ct_render_text_line(out, o, &diff->entries[i]);
    } else {
        ct_render_json_head(out, s);
        fputs("  \"principal\": ", out);
        ct_render_json_principal(out, s->principal);
        fputs(",\n  \"assumed_role\": ", out);
        if (s->dest_role) {
            fputs("{\"role\": ", out);
            ct_render_json_principal(out, s->dest_role);
            fputs(", \"account\": {\"name\": ", out);
            ct_render_json_str(out, s->dest_account_name);
            fputs(", \"id\": ", out);
            ct_render_json_str(out, s->dest_account_id);
            fputs("}}", out);
        } else {
            fputs("null", out);
        }
        if (s->role_users) {
            fputs(",\n  \"used_by\": ", out);
            ct_render_json_role_users(out, s->role_users, s->principal->arn);
        }
        fputs(",\n", out);
        ct_render_json_diff(out, o, diff);
        fputs("\n}\n", out);
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
            ct_render_put_safe(out, principals[i]->name);
            if (o->color && !active[i])
                fputs(COLOR_RESET, out);
            fputc('\n', out);
        }
    } else {
        ct_render_json_head(out, s);
        fputs("  \"list\": ", out);
        ct_render_json_str(out, kind == CT_PRINCIPAL_USER ? "users" : "roles");
        fputs(",\n  \"principals\": [", out);
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ",\n    " : "\n    ", out);
            fputs("{\"name\": ", out);
            ct_render_json_str(out, principals[i]->name);
            fputs(", \"arn\": ", out);
            ct_render_json_str(out, principals[i]->arn);
            fprintf(out, ", \"active\": %s}", active[i] ? "true" : "false");
        }
        fputs(n ? "\n  ]\n}\n" : "]\n}\n", out);
    }
    return ferror(out) ? CT_EIO : 0;
}
