/* The event-source interface: what the analysis asks of CloudTrail, whoever
 * answers it (the embedded store now, Elasticsearch next). Nothing above this
 * interface knows which backend answered. Backends return eventSource and
 * eventName as logged; mapping to IAM actions happens above. */
#ifndef CLOUDTRACKER_SOURCE_H
#define CLOUDTRACKER_SOURCE_H

#include "cloudtracker/date.h"
#include "cloudtracker/error.h"
#include "cloudtracker/util.h"

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

/* The event that opened a role session: a successful AssumeRole,
 * AssumeRoleWithSAML or AssumeRoleWithWebIdentity whose
 * responseElements.credentials.accessKeyId is the session's key. Strings
 * are "" when the event lacks the field. Sources of each field's meaning:
 * docs/people.md. */
typedef struct ct_session_opening {
    char *event_name;      /* AssumeRole, AssumeRoleWithSAML or AssumeRoleWithWebIdentity */
    char *role_arn;        /* requestParameters.roleArn */
    char *caller;          /* the ARN the call is charged to, as principal_calls charges
                            * calls: an IAM user's; the role's for a caller in a role session */
    char *caller_type;     /* userIdentity.type (IAMUser, AssumedRole, SAMLUser,
                            * WebIdentityUser, AWSAccount for the role account's copy, ...) */
    char *caller_key;      /* userIdentity.accessKeyId: for a caller in a role session, that
                            * session's key, which links a role chain */
    char *caller_name;     /* userIdentity.userName (SAML: the subject; web identity: the
                            * provider's id of the user) */
    char *provider;        /* userIdentity.identityProvider */
    char *subject;         /* responseElements.subject (SAML), else
                            * responseElements.subjectFromWebIdentityToken */
    char *issuer;          /* responseElements.issuer (SAML), else responseElements.provider */
    char *source_identity; /* responseElements.sourceIdentity, else
                            * requestParameters.sourceIdentity */
    char *session_name;    /* requestParameters.roleSessionName */
    int64_t at;            /* eventTime, seconds since the epoch */
    char *account;         /* recipientAccountId */
    char *event_id;        /* eventID */
    char *shared_event_id; /* sharedEventID */
} ct_session_opening;

/* What a session's own events say of who runs it (from its events in the
 * window and the CT_CHAIN_REACH before it). A value that differs between
 * events is the smallest (bytewise) non-empty one, so both backends agree.
 * Strings are "" when no event had the field, and NULL when no event of the
 * session was read (evidence_known false). */
typedef struct ct_session_evidence {
    char *session_name;    /* the last part of userIdentity.arn
                            * (arn:...:sts::ACCOUNT:assumed-role/ROLE/SESSION) */
    char *source_identity; /* userIdentity.sessionContext.sourceIdentity */
    char *on_behalf_of;    /* userIdentity.onBehalfOf.userId (an Identity Center user id) */
    char *identity_store;  /* userIdentity.onBehalfOf.identityStoreArn */
} ct_session_evidence;

/* One session of a role: the temporary access key (ASIA...) its calls
 * carry as userIdentity.accessKeyId. */
typedef struct ct_role_session {
    char *access_key;
    char *role_arn;    /* the sessionIssuer.arn of its calls, else its opening's roleArn */
    bool active;       /* it made a call in the window, or was opened in it */
    ct_calls calls;    /* its calls in the window: filled by session_calls only */
    bool evidence_known;       /* some event of the session was read */
    int64_t last_evidence_day; /* the last day of those events */
    ct_session_evidence evidence;
    /* When the logs hold several copies of the opening event (a
     * cross-account hop is logged in both accounts, and only the caller's
     * copy names the caller), the one naming a caller (caller or
     * caller_name not empty) wins, then the earliest, then the smallest
     * eventID. */
    bool opened_known; /* false: the logs hold no opening event, and `opening` is empty */
    ct_session_opening opening;
} ct_role_session;

/* Role sessions; owns its strings (the sessions' in one arena: a list of
 * many thousand sessions costs a few mallocs, not one per string). */
typedef struct ct_role_sessions {
    ct_role_session *items; /* sorted by access_key (bytewise) once finished */
    size_t count;
    size_t cap;
    struct ct_strmap *index; /* access key, then "key\tsource\tname\tkind": while filling */
    ct_text_arena text;      /* the strings of the items (their calls' excepted) */
} ct_role_sessions;

/* Adds calls made with a session's key, summed like ct_account_calls_add.
 * Returns 0 or CT_ENOMEM. */
int ct_role_sessions_add_call(ct_role_sessions *list, const char *access_key,
                              const char *event_source, const char *event_name,
                              ct_event_kind kind, uint64_t count, uint64_t error_count,
                              int64_t first_day, int64_t last_day);
/* Adds what one or more events of the session with `access_key` (a session
 * of role `role_arn`, on `day` at the latest) say of it; NULL strings are
 * "". Values are merged as ct_session_evidence says; `last_day` (the last
 * day of those events) makes the session active when it lies in the window
 * given to ct_role_sessions_finish. Returns 0 or CT_ENOMEM. */
int ct_role_sessions_add_evidence(ct_role_sessions *list, const char *access_key,
                                  const char *role_arn, int64_t last_day,
                                  const ct_session_evidence *evidence);
/* Records an event that opened the session with `access_key`, keeping the
 * preferred one when there are several (see ct_role_session); the strings
 * are copied (NULL as ""). Returns 0 or CT_ENOMEM. */
int ct_role_sessions_add_opening(ct_role_sessions *list, const char *access_key,
                                 const ct_session_opening *opening);
/* Sets each session's role_arn and `active` flag for the window, sorts the
 * sessions and their calls, and drops the index. Returns 0 or CT_ENOMEM. */
int ct_role_sessions_finish(ct_role_sessions *list, const ct_window *window);
/* The session with `access_key`, or NULL (after finishing: binary search). */
const ct_role_session *ct_role_sessions_find(const ct_role_sessions *list,
                                             const char *access_key);
void ct_role_sessions_release(ct_role_sessions *list);

/* A role session lasts 12 hours at most, so an event that opened a session
 * up to this long before the window can still have calls inside it. */
#define CT_SESSION_REACH (12 * 3600)
/* How far before the window the sessions question looks for the openings
 * of the sessions that opened others (role chains): the first session lasts
 * 12 hours at most and each chained one 1 hour at most ("role chaining
 * limits your ... role session to a maximum of one hour", IAM User Guide,
 * id_roles_terms-and-concepts), so 24 hours cover chains of 12 hops, the
 * depth the analysis follows. */
#define CT_CHAIN_REACH (24 * 3600)

/* What the logs hold of one account in a window, for the completeness
 * block of an access review: whether every day has events, from which
 * Regions, and which data events the trail records. */
typedef struct ct_account_day {
    int64_t day;     /* days since the epoch */
    uint64_t events; /* events of the account (recipientAccountId) that day, > 0 */
} ct_account_day;

typedef struct ct_account_coverage {
    uint64_t events;      /* events of the account in the window (as account_event_count) */
    ct_account_day *days; /* the days of the window with events, ascending */
    size_t day_count;
    char **regions; /* awsRegion values of those events, sorted bytewise, each once;
                     * an event without awsRegion counts as "" */
    size_t region_count;
    ct_data_events data; /* what data_events answers for the account and window */
    /* The trail files behind the backend's answers (all accounts: a file is
     * not tied to one account): files_known is false when the backend holds
     * records, not files (Elasticsearch), and the counts are then 0. */
    bool files_known;
    uint64_t files_read;    /* read whole */
    uint64_t files_partial; /* read in part (some records rejected) */
    uint64_t files_skipped; /* not read (unreadable, corrupt, not CloudTrail) */
} ct_account_coverage;

/* Filling a coverage, whatever order a backend finds its pieces in: adds
 * `events` to `day` (a day may come in several pieces), and a Region seen
 * (NULL as ""; repeats are fine). Each returns 0 or CT_ENOMEM. */
int ct_account_coverage_add_day(ct_account_coverage *coverage, int64_t day, uint64_t events);
int ct_account_coverage_add_region(ct_account_coverage *coverage, const char *region);
/* Sorts the days (each once, summed) and the Regions (each once), and sets
 * `events` to the sum of the days. */
void ct_account_coverage_finish(ct_account_coverage *coverage);
void ct_account_coverage_release(ct_account_coverage *coverage);

/* ---- the resources calls named (--format policy --resources; docs/policy.md) ---- */

/* The most distinct resource sets an answer lists per call kind. With more,
 * it says only that: a policy cannot list them. A backend keeps at least
 * this many per principal, call kind and day. */
#define CT_RESOURCE_SETS_MAX 64
/* The set of a call that named more resources than a set keeps (trail.h's
 * CT_TRAIL_RESOURCES_MORE). */
#define CT_RESOURCES_MORE "*"

/* Successful calls that named exactly these resources. */
typedef struct ct_resource_set {
    char *arns; /* as ct_trail_resource_set writes them: ARNs sorted, joined by '\n' */
    uint64_t calls;
} ct_resource_set;

/* The resources the successful calls of one (eventSource, eventName, kind)
 * named. Calls that named none are not counted here: `named` below the
 * calls' count says some named nothing. */
typedef struct ct_call_resources {
    char *event_source;
    char *event_name;
    ct_event_kind kind;
    uint64_t named;        /* successful calls that named resources */
    bool more;             /* more than CT_RESOURCE_SETS_MAX sets, or a call naming more than a set
                            * keeps: `sets` is then empty */
    ct_resource_set *sets; /* sorted by arns (bytewise) */
    size_t set_count;
    size_t set_cap;
} ct_call_resources;

typedef struct ct_resources {
    ct_call_resources *items; /* sorted as ct_calls_sort sorts, once finished */
    size_t count;
    size_t cap;
    struct ct_strmap *index; /* "source\tname\tkind" and that + "\tarns" while filling */
} ct_resources;

/* Adds `calls` calls of a call kind that named `arns` (summed with those
 * added before for the same set). Returns 0 or CT_ENOMEM. */
int ct_resources_add(ct_resources *list, const char *event_source, const char *event_name,
                     ct_event_kind kind, const char *arns, uint64_t calls);
/* Sorts, applies CT_RESOURCE_SETS_MAX and CT_RESOURCES_MORE (`more`), and
 * drops the index: every backend's answer ends here. */
void ct_resources_finish(ct_resources *list);
/* The item of a call kind, or NULL (after finishing). */
const ct_call_resources *ct_resources_find(const ct_resources *list, const char *event_source,
                                           const char *event_name, ct_event_kind kind);
void ct_resources_release(ct_resources *list);

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

    /* Bulk question: every role session the window needs, over every role
     * and account the logs hold: the sessions that made a call in the
     * window (with the evidence of their events there), and the sessions
     * whose opening events lie in [window start - CT_CHAIN_REACH, window
     * end] (a chain's earlier sessions may have opened before the window),
     * with the evidence of their events from CT_CHAIN_REACH before the
     * window on. No calls. A bounded number of queries whatever the number
     * of sessions (Elasticsearch: pages of composite aggregations). `out` is
     * empty on entry and finished on success. */
    int (*sessions)(ct_source *src, const ct_window *window, ct_role_sessions *out,
                    ct_error *err);

    /* The calls made with each of n session keys inside the window: one
     * session per key that made a call, with only access_key and calls set.
     * A bounded number of queries (Elasticsearch: one per 10,000 keys, and
     * pages). `out` is empty on entry and finished on success. */
    int (*session_calls)(ct_source *src, const char *const *keys, size_t n,
                         const ct_window *window, ct_role_sessions *out, ct_error *err);

    /* Bulk question: the coverage of an account (recipientAccountId) in the
     * window (ct_account_coverage), with its data events, in a bounded
     * number of queries (Elasticsearch: one search, plus pages of the data
     * events' composite aggregation). `out` is zeroed on entry and left
     * zeroed on error. */
    int (*account_coverage)(ct_source *src, const char *account_id, const ct_window *window,
                            ct_account_coverage *out, ct_error *err);

    /* The resources the successful calls of a principal (as principal_calls
     * charges calls) named inside the window: ct_resources, finished. */
    int (*principal_resources)(ct_source *src, const char *principal_arn, const ct_window *window,
                               ct_resources *out, ct_error *err);

    /* Inputs known to be skipped or partly read (appended to `problems`). */
    int (*input_problems)(ct_source *src, ct_input_problems *problems, ct_error *err);

    /* Frees the backend. NULL-safe through ct_source_free. */
    void (*free)(ct_source *src);
};

void ct_source_free(ct_source *src);

#endif
