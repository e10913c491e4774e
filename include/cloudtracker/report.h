/* Rendering the results of src/analysis/ (analysis.h): text as the
 * original tool printed it, or the JSON document of docs/json-format.md.
 * The only code that formats results; it writes to the stream the caller
 * (the CLI) hands it and decides no verdict. */
#ifndef CLOUDTRACKER_REPORT_H
#define CLOUDTRACKER_REPORT_H

#include "cloudtracker/analysis.h"
#include "cloudtracker/date.h"
#include "cloudtracker/iam.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ct_format {
    CT_FORMAT_TEXT,
    CT_FORMAT_JSON,
    CT_FORMAT_CSV,   /* review only */
    CT_FORMAT_HTML,  /* review only */
    CT_FORMAT_POLICY /* --user/--role (--destrole), --person --destrole: ct_report_print_policy */
} ct_format;

typedef struct ct_render_options {
    ct_format format;
    bool show_used;   /* keep used and "+" lines only */
    bool show_unused; /* keep "-" (and "?" unless ignore_unknown) only */
    bool ignore_benign;
    bool ignore_unknown;
    bool color; /* ANSI colors (text only) */
} ct_render_options;

/* What the report is about. */
typedef struct ct_report_subject {
    const char *account_name; /* --account; NULL for people across every account */
    const char *account_id;
    const ct_principal *principal;
    const ct_principal *dest_role; /* --destrole, or NULL */
    const char *dest_account_name; /* account of dest_role */
    const char *dest_account_id;
    ct_window window;
    const char *const *warnings; /* also printed on stderr by the caller */
    size_t warning_count;
    /* --role in JSON: who used the role (its sessions' people), or NULL. */
    const ct_people *role_users;
} ct_report_subject;

/* True when an entry passes the --show-* / --ignore-* filters. */
bool ct_render_keeps(const ct_render_options *opts, const ct_diff_entry *e);

/* Writes the report. Returns 0, or CT_EIO when writing fails. */
int ct_report_print(FILE *out, const ct_render_options *opts, const ct_report_subject *subject,
                    const ct_diff *diff);

/* Writes the --list report: every principal of a kind, "- " before those
 * that made no call in the window. */
int ct_report_print_list(FILE *out, const ct_render_options *opts, const ct_report_subject *subject,
                         ct_principal_kind kind, const ct_principal *const *principals,
                         const bool *active, size_t n);

/* Writes --list people: every person (see ct_people), "- " before those
 * with no active session; each with the roles (and accounts, named from
 * `accounts`) they used, and "(low confidence)" when only session names
 * name them. With `only` (--account), only roles of that account count. */
int ct_report_print_people(FILE *out, const ct_render_options *opts,
                           const ct_report_subject *subject, const ct_people *people,
                           const ct_account_view *accounts, size_t account_count,
                           const ct_account_view *only);

/* Writes --person: a header naming the person and the evidence, then one
 * block per role in the original's diff format. */
int ct_report_print_person(FILE *out, const ct_render_options *opts,
                           const ct_report_subject *subject, const ct_person_answer *answer,
                           const ct_account_view *accounts, size_t account_count);

/* ---- the access review (cloudtracker review; docs/review.md) ---- */

/* What the review's renderers print beside the review: the evidence
 * header's facts that only the caller knows. */
typedef struct ct_review_report {
    const ct_review *review;
    const ct_review_changes *changes; /* --compare; NULL without */
    const char *tool_version;
    const char *const *argv; /* the command line as given */
    size_t argc;
    int64_t made_at; /* when the review was made, seconds since the epoch (UTC) */
    const char *backend; /* "store" or "elasticsearch" */
    const char *const *warnings; /* also printed on stderr by the caller */
    size_t warning_count;
    bool incomplete; /* built on inputs known to be skipped or partly read */
    bool color;      /* text only: ANSI colors */
    unsigned width;  /* text only: the terminal's columns (0: 100) */
} ct_review_report;

/* Writes the review in `format`: text (summary, then one identity per
 * line), json (docs/json-format.md, document type "review"), csv (one row
 * per identity and per person and role, with empty sign-off columns) or
 * html (one self-contained file). Returns 0, or CT_EIO when writing fails. */
int ct_report_print_review(FILE *out, ct_format format, const ct_review_report *report);

/* Writes --format policy: the generated policy as one IAM policy document,
 * or a JSON array of documents when it was split (docs/policy.md):
 * ct_report_render_policy then ct_report_write_policy. Returns 0, CT_EIO
 * when writing fails, or CT_ENOMEM. */
int ct_report_print_policy(FILE *out, const ct_generated_policy *policy);
/* Renders each document of the policy into *out (emptied first): as
 * --format policy prints it (pretty; each line indented by two spaces when
 * there are several, the items of the printed array), or with `one_line`
 * as the review's JSON holds it. Returns 0 or CT_ENOMEM (*out then empty). */
int ct_report_render_policy(ct_policy_texts *out, const ct_generated_policy *policy, bool one_line);
/* Writes rendered documents as --format policy prints them: the one
 * document, or a JSON array of them. Returns 0, or CT_EIO. */
int ct_report_write_policy(FILE *out, const ct_policy_texts *texts);

#endif
