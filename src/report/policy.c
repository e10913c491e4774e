/* --format policy: the generated policy as IAM takes it, one document, or a
 * JSON array of documents when it had to be split to fit IAM's size limit.
 * Deterministic byte for byte: the same diff gives the same file. */
#include "cloudtracker/report.h"
#include "report/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A line break and the indentation of `level` in the pretty form (indent
 * not NULL); nothing in the one-line form. */
static void brk(FILE *out, const char *indent, int level)
{
    if (!indent)
        return;
    fputc('\n', out);
    fputs(indent, out);
    for (int i = 0; i < level; i++)
        fputs("  ", out);
}

/* Between two members or items: a comma, then a break or a space. */
static void sep(FILE *out, const char *indent, int level)
{
    fputc(',', out);
    if (indent)
        brk(out, indent, level);
    else
        fputc(' ', out);
}

/* One policy document: pretty, each line after `indent`, or with indent
 * NULL on one line (the review's JSON). */
static void print_document(FILE *out, const ct_generated_policy *p, size_t from, size_t to,
                           const char *indent)
{
    fputs(indent ? indent : "", out);
    fputc('{', out);
    brk(out, indent, 1);
    fputs("\"Version\": \"2012-10-17\"", out);
    sep(out, indent, 1);
    fputs("\"Statement\": [", out);
    for (size_t i = from; i < to; i++) {
        const ct_policy_statement *s = &p->statements[i];
        if (i > from)
            sep(out, indent, 2);
        else
            brk(out, indent, 2);
        fputc('{', out);
        brk(out, indent, 3);
        fputs("\"Sid\": ", out);
        ct_render_json_str(out, s->sid);
        sep(out, indent, 3);
        fputs("\"Effect\": \"Allow\"", out);
        sep(out, indent, 3);
        fputs("\"Action\": [", out);
        for (size_t k = 0; k < s->action_count; k++) {
            if (k)
                sep(out, indent, 4);
            else
                brk(out, indent, 4);
            ct_render_json_str(out, s->actions[k]);
        }
        if (s->action_count)
            brk(out, indent, 3);
        fputc(']', out);
        sep(out, indent, 3);
        fputs("\"Resource\": ", out);
        if (!s->resources) {
            fputs("\"*\"", out);
        } else {
            fputc('[', out);
            for (size_t k = 0; k < s->resource_count; k++) {
                if (k)
                    sep(out, indent, 4);
                else
                    brk(out, indent, 4);
                ct_render_json_str(out, s->resources[k]);
            }
            brk(out, indent, 3);
            fputc(']', out);
        }
        brk(out, indent, 2);
        fputc('}', out);
    }
    if (to > from)
        brk(out, indent, 1);
    fputc(']', out);
    brk(out, indent, 0);
    fputc('}', out);
}

int ct_report_render_policy(ct_policy_texts *out, const ct_generated_policy *policy, bool one_line)
{
    memset(out, 0, sizeof(*out));
    size_t n = policy->document_count;
    out->documents = calloc(n ? n : 1, sizeof(*out->documents));
    out->lengths = calloc(n ? n : 1, sizeof(*out->lengths));
    int rc = out->documents && out->lengths ? 0 : CT_ENOMEM;
    /* Several documents are the items of the printed array: indented. */
    const char *indent = one_line ? NULL : n == 1 ? "" : "  ";
    for (size_t d = 0; rc == 0 && d < n; d++) {
        FILE *f = open_memstream(&out->documents[d], &out->lengths[d]);
        if (!f) {
            rc = CT_ENOMEM;
            break;
        }
        out->count = d + 1; /* its buffer is freed with the rest, even when writing failed */
        print_document(f, policy, policy->documents[d], policy->documents[d + 1], indent);
        bool failed = ferror(f) != 0;
        if (fclose(f) != 0 || failed)
            rc = CT_ENOMEM;
    }
    if (rc)
        ct_policy_texts_release(out);
    return rc;
}

int ct_report_write_policy(FILE *out, const ct_policy_texts *texts)
{
    if (texts->count == 1) {
        fwrite(texts->documents[0], 1, texts->lengths[0], out);
        fputc('\n', out);
    } else {
        fputs("[\n", out);
        for (size_t d = 0; d < texts->count; d++) {
            if (d)
                fputs(",\n", out);
            fwrite(texts->documents[d], 1, texts->lengths[d], out);
        }
        fputs("\n]\n", out);
    }
    return ferror(out) ? CT_EIO : 0;
}

int ct_report_print_policy(FILE *out, const ct_generated_policy *policy)
{
    ct_policy_texts texts;
    int rc = ct_report_render_policy(&texts, policy, false);
    if (rc == 0)
        rc = ct_report_write_policy(out, &texts);
    ct_policy_texts_release(&texts);
    return rc;
}

/* The policy in one line of JSON, for the review: its documents (each as
 * IAM takes it), and what it leaves out or may be blocked by. */
void ct_render_json_policy(FILE *out, const ct_generated_policy *p)
{
    fputs("{\"documents\": [", out);
    for (size_t d = 0; d < p->document_count; d++) {
        fputs(d ? ", " : "", out);
        print_document(out, p, p->documents[d], p->documents[d + 1], NULL);
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
