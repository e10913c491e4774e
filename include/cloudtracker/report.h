/* The analysis result and its rendering. ct_diff compares a principal's
 * grants with the IAM actions its CloudTrail calls needed; the renderers are
 * the only code that writes results to stdout (text as the original tool
 * printed it, or the JSON document of docs/json-format.md). */
#ifndef CLOUDTRACKER_REPORT_H
#define CLOUDTRACKER_REPORT_H

#include "cloudtracker/actions.h"
#include "cloudtracker/date.h"
#include "cloudtracker/error.h"
#include "cloudtracker/iam.h"
#include "cloudtracker/source.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ct_verdict {
    CT_VERDICT_USED,        /* "  " granted and called */
    CT_VERDICT_UNUSED,      /* "- " granted, never called: remove it */
    CT_VERDICT_UNKNOWN,     /* "? " granted, CloudTrail cannot show it */
    CT_VERDICT_NOT_GRANTED, /* "+ " called, not granted (any more) */
    CT_VERDICT_ATTEMPTED    /* JSON only: only failed calls, not granted */
} ct_verdict;

typedef struct ct_diff_entry {
    char *action; /* lowercase service:action */
    ct_verdict verdict;
    uint64_t count;       /* calls without errorCode */
    uint64_t error_count; /* calls with errorCode */
    int64_t first_day;    /* of any call; meaningful when count + error_count > 0 */
    int64_t last_day;
    bool unlogged; /* CloudTrail cannot show it */
    bool benign;   /* hidden by --ignore-benign */
    ct_access_level level;
    ct_decision decision; /* why granted or not (borrowed strings) */
} ct_diff_entry;

typedef struct ct_diff {
    ct_diff_entry *entries; /* sorted by action */
    size_t count;
    size_t cap;
    /* Calls whose eventSource/eventName cannot be an IAM action (empty,
     * over-long, odd characters): left out of the verdicts, counted here so
     * the caller can warn. */
    uint64_t unmapped_calls;
    char *unmapped_example; /* "eventSource eventName" of one of them, or NULL */
} ct_diff;

/* Builds the diff: every granted catalog action, plus every action the
 * calls needed (mapped with ct_event_map). `policies` and `catalog` must
 * outlive the diff (decisions borrow their strings). Errors: CT_ENOMEM. */
int ct_diff_build(ct_diff *out, const ct_catalog *catalog, const ct_policy_set *policies,
                  const ct_calls *calls, ct_error *err);
void ct_diff_release(ct_diff *diff);

typedef enum ct_format { CT_FORMAT_TEXT, CT_FORMAT_JSON } ct_format;

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
    const char *account_name;
    const char *account_id;
    const ct_principal *principal;
    const ct_principal *dest_role; /* --destrole, or NULL */
    const char *dest_account_name; /* account of dest_role */
    const char *dest_account_id;
    ct_window window;
    const char *const *warnings; /* also printed on stderr by the caller */
    size_t warning_count;
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

#endif
