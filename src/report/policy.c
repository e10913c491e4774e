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
