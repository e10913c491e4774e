/* The event-source interface: what the analysis asks of CloudTrail, whoever
 * answers it (the embedded store now, Elasticsearch next). Nothing above this
 * interface knows which backend answered. Backends return eventSource and
 * eventName as logged; mapping to IAM actions happens above. */
#ifndef CLOUDTRACKER_SOURCE_H
#define CLOUDTRACKER_SOURCE_H

#include "cloudtracker/date.h"
#include "cloudtracker/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Calls of one (eventSource, eventName) pair inside the window. */
typedef struct ct_call {
    char *event_source;   /* e.g. "s3.amazonaws.com" */
    char *event_name;     /* e.g. "CreateBucket" */
    uint64_t count;       /* calls without an errorCode */
    uint64_t error_count; /* calls with an errorCode (attempts, never "used") */
    int64_t first_day;    /* first and last day with a call (of either kind) */
    int64_t last_day;
} ct_call;

/* A list of calls; owns its strings. */
typedef struct ct_calls {
    ct_call *items;
    size_t count;
    size_t cap;
} ct_calls;

/* Appends a call (copying the strings). Returns 0 or CT_ENOMEM. */
int ct_calls_add(ct_calls *calls, const char *event_source, const char *event_name, uint64_t count,
                 uint64_t error_count, int64_t first_day, int64_t last_day);
/* Frees the items; the list is then empty and reusable. */
void ct_calls_release(ct_calls *calls);
/* Sorts the items from index `from` on by eventSource, then eventName: the
 * order every backend returns. */
void ct_calls_sort(ct_calls *calls, size_t from);
/* Drops (and frees) the items from index `keep` on: a backend whose query
 * failed part-way leaves no partial answer behind. */
void ct_calls_truncate(ct_calls *calls, size_t keep);

/* A problem with the inputs behind the answers (a trail file that was
 * skipped or only partly read), reported by queries as a warning. */
typedef struct ct_input_problem {
    char *path;
    char *reason;
} ct_input_problem;

typedef struct ct_input_problems {
    ct_input_problem *items;
    size_t count;
    size_t cap;
} ct_input_problems;

int ct_input_problems_add(ct_input_problems *list, const char *path, const char *reason);
void ct_input_problems_release(ct_input_problems *list);

typedef struct ct_source ct_source;

/* A backend is a struct of function pointers (libgit2's odb_backend shape).
 * Every function returns 0 or a negative CT_E* code with `err` filled; on
 * error, outputs are left empty. A failed or partial answer must be an error,
 * never a shorter list. */
struct ct_source {
    const char *name; /* "store", "elasticsearch" */

    /* Brings the backend up to date before queries (the store ingests new
     * trail files; Elasticsearch has nothing to do). Problems met while doing
     * so are appended to `problems`. */
    int (*refresh)(ct_source *src, ct_input_problems *problems, ct_error *err);

    /* Calls made by a principal: an IAM user's ARN (userIdentity.arn), or a
     * role's ARN, which covers every session of that role
     * (userIdentity.sessionContext.sessionIssuer.arn). */
    int (*principal_calls)(ct_source *src, const char *principal_arn, const ct_window *window,
                           ct_calls *out, ct_error *err);

    /* Calls made inside sessions of role `role_arn` that `caller_arn` (a user
     * ARN or a role ARN, as above) opened with AssumeRole, joined through the
     * access keys the AssumeRole calls issued. An AssumeRole up to 12 hours
     * before the window counts: its session can reach into the window. */
    int (*role_session_calls)(ct_source *src, const char *caller_arn, const char *role_arn,
                              const ct_window *window, ct_calls *out, ct_error *err);

    /* For each of n principal ARNs, whether it made any call (with or
     * without errorCode) in the window. */
    int (*active_principals)(ct_source *src, const char *const *arns, size_t n,
                             const ct_window *window, bool *active, ct_error *err);

    /* Number of events recorded for an account (recipientAccountId) in the
     * window; 0 means the logs say nothing about it. */
    int (*account_event_count)(ct_source *src, const char *account_id, const ct_window *window,
                               uint64_t *count, ct_error *err);

    /* Inputs known to be skipped or partly read (appended to `problems`). */
    int (*input_problems)(ct_source *src, ct_input_problems *problems, ct_error *err);

    /* Frees the backend. NULL-safe through ct_source_free. */
    void (*free)(ct_source *src);
};

void ct_source_free(ct_source *src);

#endif
