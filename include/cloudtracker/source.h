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

/* ---- bulk answers: many principals or sessions in one question ---- */

/* The calls of one principal, as principal_calls answers them. */
typedef struct ct_principal_calls {
    char *principal_arn;
    ct_calls calls; /* sorted as ct_calls_sort sorts */
} ct_principal_calls;

/* The calls of every principal of an account; owns its strings. */
typedef struct ct_account_calls {
    ct_principal_calls *items; /* sorted by principal_arn (bytewise) once finished */
    size_t count;
    size_t cap;
    struct ct_strmap *index; /* "arn\tsource\tname\tkind" while filling; NULL when finished */
} ct_account_calls;

/* Adds calls of a principal, summed with those of the same principal,
 * eventSource, eventName and kind added before (counts added, days
 * widened): a backend may find one group in several pieces. Returns 0 or
 * CT_ENOMEM. */
int ct_account_calls_add(ct_account_calls *list, const char *principal_arn,
                         const char *event_source, const char *event_name, ct_event_kind kind,
                         uint64_t count, uint64_t error_count, int64_t first_day,
                         int64_t last_day);
/* Sorts principals and their calls (the order every backend returns) and
 * drops the index. */
void ct_account_calls_finish(ct_account_calls *list);
/* The calls of `principal_arn`, or NULL (after finishing: binary search). */
const ct_calls *ct_account_calls_find(const ct_account_calls *list, const char *principal_arn);
void ct_account_calls_release(ct_account_calls *list);

/* One session of a role: the temporary access key (ASIA...) its calls
 * carry as userIdentity.accessKeyId, and what the logs say about who opened
 * it. */
typedef struct ct_role_session {
    char *access_key;
    ct_calls calls; /* the session's calls inside the window (sorted) */
    /* The event that opened the session: a successful AssumeRole,
     * AssumeRoleWithSAML or AssumeRoleWithWebIdentity for the role whose
     * responseElements.credentials.accessKeyId is the key. When the logs
     * hold several copies (a cross-account hop is logged in both accounts;
     * only the caller's copy names the caller), the one naming a caller
     * wins, then the earliest, then the smallest eventID. */
    bool opened_known;       /* false: the logs hold no such event, and the strings
                              * below are NULL */
    char *opened_by;         /* the ARN the opening call is charged to, as principal_calls
                              * charges calls (an IAM user; a role for a role chain); "" when
                              * the caller has none (SAML and web identity, the role
                              * account's copy of a cross-account call) */
    char *session_name;      /* requestParameters.roleSessionName ("" when absent) */
    int64_t opened_at;       /* its eventTime, seconds since the epoch */
    char *opened_in_account; /* its recipientAccountId ("" when absent) */
    char *event_id;          /* its eventID ("" when absent) */
    char *shared_event_id;   /* its sharedEventID ("" when absent) */
} ct_role_session;

/* The sessions of a role; owns its strings. */
typedef struct ct_role_sessions {
    ct_role_session *items; /* sorted by access_key (bytewise) once finished */
    size_t count;
    size_t cap;
    struct ct_strmap *index; /* access key, then "key\tsource\tname\tkind": while filling */
} ct_role_sessions;

/* Adds calls made with a session's key, summed like ct_account_calls_add.
 * Returns 0 or CT_ENOMEM. */
int ct_role_sessions_add_call(ct_role_sessions *list, const char *access_key,
                              const char *event_source, const char *event_name,
                              ct_event_kind kind, uint64_t count, uint64_t error_count,
                              int64_t first_day, int64_t last_day);
/* Records an event that opened the session with `access_key`, keeping the
 * preferred one when there are several (see ct_role_session). NULL strings
 * are kept as "". Returns 0 or CT_ENOMEM. */
int ct_role_sessions_add_opening(ct_role_sessions *list, const char *access_key,
                                 const char *opened_by, const char *session_name,
                                 int64_t opened_at, const char *account_id, const char *event_id,
                                 const char *shared_event_id);
/* Keeps the sessions of the window (those with a call in it, or opened in
 * it), sorts them and their calls, and drops the index. */
void ct_role_sessions_finish(ct_role_sessions *list, const ct_window *window);
void ct_role_sessions_release(ct_role_sessions *list);

/* A role session lasts 12 hours at most, so an event that opened a session
 * up to this long before the window can still have calls inside it. */
#define CT_SESSION_REACH (12 * 3600)

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

    /* Bulk question: the calls of every principal of an account in the
     * window, that is what principal_calls answers for each ARN whose
     * account field (arn:PARTITION:SERVICE::ACCOUNT:...) is `account_id`
     * (IAM users, roles with their sessions, the root user, federated
     * users), for every such ARN the logs hold a call of. Answered with a
     * bounded number of queries (pages of one aggregation, one pass over
     * the roll-ups), never one per principal. `out` is empty on entry and
     * finished (ct_account_calls_finish) on success. */
    int (*account_calls)(ct_source *src, const char *account_id, const ct_window *window,
                         ct_account_calls *out, ct_error *err);

    /* Bulk question: the sessions of role `role_arn` in the window (see
     * ct_role_sessions_finish), each with its calls in the window and the
     * event that opened it when the logs hold one (looked for up to
     * CT_SESSION_REACH before the window). A bounded number of queries
     * whatever the number of sessions. `out` is empty on entry and
     * finished on success. */
    int (*role_sessions)(ct_source *src, const char *role_arn, const ct_window *window,
                         ct_role_sessions *out, ct_error *err);

    /* Inputs known to be skipped or partly read (appended to `problems`). */
    int (*input_problems)(ct_source *src, ct_input_problems *problems, ct_error *err);

    /* Frees the backend. NULL-safe through ct_source_free. */
    void (*free)(ct_source *src);
};

void ct_source_free(ct_source *src);

#endif
