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

/* What kind of event a record is, from CloudTrail's eventType. Only calls
 * of an API (and console actions that are one) can be the use of an IAM
 * action; sign-in and service events are activity of the account. */
typedef enum ct_event_kind {
    CT_EVENT_API = 0,     /* AwsApiCall, AwsVpceEvent, no eventType, or a value unknown here */
    CT_EVENT_CONSOLE = 1, /* AwsConsoleAction: done in the console, not always an API call */
    CT_EVENT_SIGNIN = 2,  /* AwsConsoleSignIn: console sign-in, MFA, switching roles */
    CT_EVENT_SERVICE = 3  /* AwsServiceEvent: made by an AWS service, not by the caller */
} ct_event_kind;
#define CT_EVENT_KINDS 4

/* The kind of a record with this eventType (NULL: CT_EVENT_API). */
ct_event_kind ct_event_kind_of(const char *event_type);
/* The eventType value a kind stands for ("AwsApiCall" for CT_EVENT_API). */
const char *ct_event_kind_name(ct_event_kind kind);

/* Calls of one (eventSource, eventName, kind) inside the window. */
typedef struct ct_call {
    char *event_source; /* e.g. "s3.amazonaws.com" */
    char *event_name;   /* e.g. "CreateBucket" */
    ct_event_kind kind;
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
int ct_calls_add(ct_calls *calls, const char *event_source, const char *event_name,
                 ct_event_kind kind, uint64_t count, uint64_t error_count, int64_t first_day,
                 int64_t last_day);
/* Frees the items; the list is then empty and reusable. */
void ct_calls_release(ct_calls *calls);
/* Sorts the items from index `from` on by eventSource, eventName, then
 * kind: the order every backend returns. */
void ct_calls_sort(ct_calls *calls, size_t from);
/* Drops (and frees) the items from index `keep` on: a backend whose query
 * failed part-way leaves no partial answer behind. */
void ct_calls_truncate(ct_calls *calls, size_t keep);

/* Data events of one (eventSource, eventName, readOnly) recorded for an
 * account inside the window: evidence that the account's trail logs data
 * events of that kind. */
typedef struct ct_data_event {
    char *event_source;
    char *event_name;
    int read_only; /* readOnly: 1 true, 0 false, -1 not recorded */
    uint64_t count;
    int64_t first_day;
    int64_t last_day;
} ct_data_event;

typedef struct ct_data_events {
    ct_data_event *items;
    size_t count;
    size_t cap;
} ct_data_events;

/* Appends one (copying the strings), or adds to the item with the same
 * eventSource, eventName and readOnly. Returns 0 or CT_ENOMEM. */
int ct_data_events_add(ct_data_events *list, const char *event_source, const char *event_name,
                       int read_only, uint64_t count, int64_t first_day, int64_t last_day);
void ct_data_events_release(ct_data_events *list);
/* Sorts by eventSource, eventName, readOnly (the order every backend returns). */
void ct_data_events_sort(ct_data_events *list);

/* Whether a record is a data event: eventCategory "Data", or, in records
 * older than eventCategory (eventVersion < 1.07), managementEvent false. A
 * record with neither field is not counted as one: the cautious side, since
 * data events only ever make actions visible. Both backends use this rule. */
bool ct_is_data_event(const char *event_category, int management_event);

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
     * (userIdentity.sessionContext.sessionIssuer.arn). Events of every kind
     * are returned, each with its kind; the analysis decides what counts. */
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

    /* Data events (ct_is_data_event) recorded for an account
     * (recipientAccountId) in the window, per (eventSource, eventName,
     * readOnly), sorted. One query whatever the number of events. */
    int (*data_events)(ct_source *src, const char *account_id, const ct_window *window,
                       ct_data_events *out, ct_error *err);

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
