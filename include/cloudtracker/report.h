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

/* Data events of one resource type and readOnly kind found in the
 * account's logs in the window: evidence that its trail logs them (for some
 * resources at least: selectors may name only some buckets or tables). */
typedef struct ct_data_seen {
    char *resource_type; /* "AWS::S3::Object" */
    int read_only;       /* 1 or 0 */
    uint64_t events;
    int64_t first_day;
    int64_t last_day;
    char *example; /* "eventSource eventName" of one such event */
} ct_data_seen;

typedef struct ct_diff_entry {
    char *action; /* lowercase service:action */
    ct_verdict verdict;
    uint64_t count;       /* calls without errorCode */
    uint64_t error_count; /* calls with errorCode */
    int64_t first_day;    /* of any call; meaningful when count + error_count > 0 */
    int64_t last_day;
    /* Whether CloudTrail could have shown a call of the action in this
     * account and window: its class (management events), or data events
     * of its resource types and kind found in the logs, and nothing that
     * hides it (below). */
    bool visible;
    ct_visibility visibility; /* what the tables say (borrowed) */
    /* What hides a call although the class is visible: an action it is
     * also checked inside of, used or itself invisible (borrowed from the
     * tables), or an event of the principal's that needs it depending on
     * its request ("eventSource eventName", owned). NULL when none. */
    const char *hidden_by_action;
    char *hidden_by_event;
    bool benign; /* hidden by --ignore-benign */
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
    /* Events that are no call of an IAM action (sign-in, service events,
     * console actions and events of not-actions.tsv): activity, not use. */
    uint64_t non_action_events;
    /* The data events of the account, by resource type and kind, and as
     * the backend gave them (eventSource, eventName, readOnly). */
    ct_data_seen *seen;
    size_t seen_count;
    ct_data_events observed;
} ct_diff;

/* Fills *out (empty) with the data events of the account whose logs the
 * calls come from (ct_source.data_events); returns 0 or an error code with
 * `err` set. */
typedef int (*ct_diff_data_fn)(void *ud, ct_data_events *out, ct_error *err);

/* Builds the diff: every granted catalog action, plus every action the
 * calls needed (mapped with ct_event_map; sign-in and service events, and
 * events that name no IAM action, use none). The account's data events,
 * which decide whether data-event actions are visible, come from
 * `data_events(data_ud, ...)`, called at most once and only when an action
 * of that class is in the diff (NULL: none known). `policies` and `catalog`
 * must outlive the diff (decisions borrow their strings). Errors:
 * CT_ENOMEM, CT_EINTERNAL when the tables cannot load, or what
 * `data_events` returned (nothing is built then). */
int ct_diff_build(ct_diff *out, const ct_catalog *catalog, const ct_policy_set *policies,
                  const ct_calls *calls, ct_diff_data_fn data_events, void *data_ud,
                  ct_error *err);
void ct_diff_release(ct_diff *diff);

/* Whether the logs hold data events that show the rule's calls would be
 * logged: for each of its APIs, data events of that very API (eventSource
 * and eventName), or of the rule's resource type and kind (both kinds when
 * the API's kind is unknown). */
bool ct_data_rule_logged(const ct_diff *diff, const ct_data_event_rule *rule);
/* Whether every call needing the rule's action names it: each of its APIs
 * maps (ct_event_map) to the action. An action needed by an API only
 * depending on the request (s3:GetObjectVersion by GetObject with a
 * versionId, the PartiQL actions by ExecuteStatement) cannot be judged
 * unused from eventNames, whatever the trail logs. */
bool ct_data_rule_exact(const ct_data_event_rule *rule);

/* The data events of a resource type and kind the diff found in the logs,
 * or NULL. */
const ct_data_seen *ct_diff_data_seen(const ct_diff *diff, const char *resource_type,
                                      int read_only);

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
