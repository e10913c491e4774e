/* Private to src/report: the pieces of the text and JSON renderers that
 * the renderers of principals (render.c) and of people (people.c) share. */
#ifndef CT_REPORT_INTERNAL_H
#define CT_REPORT_INTERNAL_H

#include "cloudtracker/report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COLOR_RED "\033[31m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_MAGENTA "\033[35m"
#define COLOR_RESET "\033[0m"

/* Text made terminal-safe (ct_buf_put_safe). */
void ct_render_put_safe(FILE *out, const char *s);
/* One action line of the original's diff format ("  ", "- ", "? ", "+ "). */
void ct_render_text_line(FILE *out, const ct_render_options *o, const ct_diff_entry *e);
/* A JSON string (escaped, invalid UTF-8 replaced). */
void ct_render_json_str(FILE *out, const char *s);
/* The opening of every JSON document: format_version, account, window,
 * warnings. */
void ct_render_json_head(FILE *out, const ct_report_subject *s);
/* {"type", "name", "arn", "created"} of a user or role. */
void ct_render_json_principal(FILE *out, const ct_principal *p);
/* The "summary" and "actions" members of a diff (after the filters),
 * without a trailing comma or newline. */
void ct_render_json_diff(FILE *out, const ct_render_options *o, const ct_diff *diff);

/* {"people": [...], "sessions": [...]}: who used role `role_arn` in the
 * window, from the attributed sessions of `people` (people.c). */
void ct_render_json_role_users(FILE *out, const ct_people *people, const char *role_arn);

/* ---- the access review (review.c, review_csv.c, review_html.c) ---- */

/* "YYYY-MM-DDTHH:MM:SSZ" of seconds since the epoch (UTC). */
void ct_review_format_time(int64_t seconds, char out[21]);

/* The summary every format states. */
typedef struct ct_review_totals {
    size_t identities, users, roles, people;
    size_t dormant;           /* CT_DORMANT_YES */
    size_t administrators;    /* any ct_admin_kind but CT_ADMIN_NO */
    size_t privileged_unused; /* identities with unused privileged actions (people: in a role) */
} ct_review_totals;
void ct_review_summary(const ct_review *review, ct_review_totals *totals);

/* "", "all_actions" or "escalation" (for people: that of the role they used). */
const char *ct_review_admin_label(const ct_review_identity *id);

/* The CSV of docs/review.md (review_csv.c) and the self-contained HTML
 * page (review_html.c). Return 0, or CT_EIO when writing fails. */
/* A generated policy as one line of JSON: {"documents", "not_granted",
 * "limited_denies"} (policy.c). */
void ct_render_json_policy(FILE *out, const ct_generated_policy *policy);

int ct_review_csv(FILE *out, const ct_review_report *report);
int ct_review_html(FILE *out, const ct_review_report *report);

/* The change of identity `identity` of the review, or NULL: walks
 * `changes` (may be NULL), whose items follow the review's order, from
 * *next (0 for the first identity), for identities asked in order. */
const ct_review_change *ct_review_change_of(const ct_review_changes *changes, size_t identity,
                                            size_t *next);

/* What ct_render_char gives for a byte that starts no UTF-8 character. */
#define CT_RENDER_INVALID UINT32_MAX
/* The character at s (n > 0 bytes left): sets *cp to its code point and
 * returns its length, or sets CT_RENDER_INVALID and returns 1 for a byte
 * that starts no well-formed UTF-8 sequence. */
size_t ct_render_char(const char *s, size_t n, uint32_t *cp);
/* True for what a reader would not see, or that changes how the text
 * around it shows: C0 and C1 controls, DEL, and ct_unicode_is_hidden's
 * characters (bidirectional overrides, zero-width characters). */
bool ct_render_invisible(uint32_t cp);

#endif
