/* --format policy: the generated policy as IAM takes it, one document, or a
 * JSON array of documents when it had to be split to fit IAM's size limit.
 * Deterministic byte for byte: the same diff gives the same file. */
#include "cloudtracker/report.h"
#include "report/internal.h"

#include <stdio.h>

static void print_document(FILE *out, const ct_generated_policy *p, size_t from, size_t to,
                           const char *indent)
{
    fprintf(out, "%s{\n%s  \"Version\": \"2012-10-17\",\n%s  \"Statement\": [", indent, indent,
            indent);
    for (size_t i = from; i < to; i++) {
        const ct_policy_statement *s = &p->statements[i];
        fprintf(out, "%s\n%s    {\n%s      \"Sid\": ", i > from ? "," : "", indent, indent);
        ct_render_json_str(out, s->sid);
        fprintf(out, ",\n%s      \"Effect\": \"Allow\",\n%s      \"Action\": [", indent, indent);
        for (size_t k = 0; k < s->action_count; k++) {
            fprintf(out, "%s\n%s        ", k ? "," : "", indent);
            ct_render_json_str(out, s->actions[k]);
        }
        fprintf(out, "\n%s      ],\n%s      \"Resource\": \"*\"\n%s    }", indent, indent, indent);
    }
    if (to > from)
        fprintf(out, "\n%s  ", indent);
    fprintf(out, "]\n%s}", indent);
}

int ct_report_print_policy(FILE *out, const ct_generated_policy *policy)
{
    if (policy->document_count == 1) {
        print_document(out, policy, policy->documents[0], policy->documents[1], "");
        fputc('\n', out);
    } else {
        fputs("[\n", out);
        for (size_t d = 0; d < policy->document_count; d++) {
            if (d)
                fputs(",\n", out);
            print_document(out, policy, policy->documents[d], policy->documents[d + 1], "  ");
        }
        fputs("\n]\n", out);
    }
    return ferror(out) ? CT_EIO : 0;
}

/* The policy in one line of JSON, for the review: its documents (each as
 * IAM takes it), and what it leaves out or may be blocked by. */
void ct_render_json_policy(FILE *out, const ct_generated_policy *p)
{
    fputs("{\"documents\": [", out);
    for (size_t d = 0; d < p->document_count; d++) {
        fputs(d ? ", {\"Version\": \"2012-10-17\", \"Statement\": ["
                : "{\"Version\": \"2012-10-17\", \"Statement\": [",
              out);
        for (size_t i = p->documents[d]; i < p->documents[d + 1]; i++) {
            const ct_policy_statement *s = &p->statements[i];
            fputs(i > p->documents[d] ? ", {\"Sid\": " : "{\"Sid\": ", out);
            ct_render_json_str(out, s->sid);
            fputs(", \"Effect\": \"Allow\", \"Action\": [", out);
            for (size_t k = 0; k < s->action_count; k++) {
                fputs(k ? ", " : "", out);
                ct_render_json_str(out, s->actions[k]);
            }
            fputs("], \"Resource\": \"*\"}", out);
        }
        fputs("]}", out);
    }
    fputs("], \"not_granted\": [", out);
    for (size_t i = 0; i < p->not_granted_count; i++) {
        fputs(i ? ", " : "", out);
        ct_render_json_str(out, p->not_granted[i]);
    }
    fputs("], \"limited_denies\": [", out);
    for (size_t i = 0; i < p->limited_count; i++) {
        fputs(i ? ", " : "", out);
        ct_render_json_str(out, p->limited[i]);
    }
    fputs("]}", out);
}
