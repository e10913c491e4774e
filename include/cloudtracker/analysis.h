/* The analyses: what cloudtracker concludes from an account's grants (its
 * IAM data) and its principals' calls (an event source). Every verdict is
 * decided here (src/analysis/) or below; results are data, which
 * src/report/ renders and src/cli/ prints. Nothing here reads a file,
 * writes to a stream or knows which backend answers.
 *
 * The use cases share one context, ct_analysis: the event source, the IAM
 * catalog, the window, and the notes (warnings) the analyses collect on
 * the way, in the order found, for the caller to show. */
#ifndef CLOUDTRACKER_ANALYSIS_H
#define CLOUDTRACKER_ANALYSIS_H

#include "cloudtracker/actions.h"
#include "cloudtracker/date.h"
#include "cloudtracker/error.h"
#include "cloudtracker/iam.h"
#include "cloudtracker/source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the diff of one principal: grants against the actions its calls needed ---- */

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
    /* Lowercase service:action: the catalog's own string when the catalog
     * has the action (catalog_index is then its index), else the diff's. */
    const char *action;
    size_t catalog_index; /* SIZE_MAX: not in the catalog */
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
} ct_diff_entry;

typedef struct ct_diff {
    ct_diff_entry *entries; /* sorted by action (catalog actions in catalog order) */
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
    const ct_policy_set *policies; /* the grants judged (borrowed): ct_diff_decision */
} ct_diff;

/* Why an entry's action is or is not granted (policy names borrowed from
 * the IAM data). Evaluated when asked, since only --format json shows it:
 * a diff of every action then costs no evaluation of each. */
void ct_diff_decision(const ct_diff *diff, const ct_diff_entry *e, ct_decision *out);

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
                  const ct_calls *calls, ct_diff_data_fn data_events, void *data_ud, ct_error *err);
/* The entries of ct_diff_build that `calls` decide: the actions they
 * needed (used, attempted or not granted), and the granted actions checked
 * inside an action they used. Every other granted action has the verdict
 * it has in the diff of the same grants without calls, so a diff of many
 * callers of one role costs that one diff and, per caller, its own calls
 * (the access review's people). `grants` are those of `policies`
 * (ct_policy_expand over `catalog`), expanded once by the caller. */
int ct_diff_build_touched(ct_diff *out, const ct_catalog *catalog, const ct_policy_set *policies,
                          const ct_grants *grants, const ct_calls *calls,
                          ct_diff_data_fn data_events, void *data_ud, ct_error *err);
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

/* ---- the use cases ---- */

/* Warnings met while analysing (logs that say nothing about an account,
 * calls that name no IAM action, inputs skipped): they do not stop the
 * analysis, and the caller shows them with its result. */
typedef struct ct_notes {
    char **items;
    size_t count;
    size_t cap;
} ct_notes;

/* Appends a note (printf-style). Returns 0 or CT_ENOMEM. */
int ct_notes_add(ct_notes *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ct_notes_release(ct_notes *notes);

/* What every analysis reads. The caller fills source, catalog and window
 * (all borrowed), and releases the context with ct_analysis_release. */
typedef struct ct_analysis {
    ct_source *source;
    const ct_catalog *catalog;
    ct_window window;
    ct_notes notes;  /* appended to by every call below */
    bool incomplete; /* the answers rest on inputs known to be skipped or partly read */
} ct_analysis;

void ct_analysis_release(ct_analysis *a);

/* An account as the analyses see it: its name and 12-digit id, and its IAM
 * data (borrowed). */
typedef struct ct_account_view {
    const char *name;
    const char *id;
    const ct_iam *iam;
} ct_account_view;

/* Makes the event source ready: with `refresh`, brings it up to date (the
 * store reads new trail files); then notes every input known to be
 * skipped or partly read (once per path) and marks the analysis
 * incomplete, since any answer may miss their events. Returns 0 or the
 * source's error. */
int ct_analysis_prepare(ct_analysis *a, bool refresh, ct_error *err);

/* The question of --user/--role, with --destrole/--destaccount. */
typedef struct ct_principal_question {
    const ct_account_view *account; /* where the principal is */
    ct_principal_kind kind;
    const char *name; /* user or role name (exact, else without regard to case) */
    /* With dest_role: the calls the principal made inside the sessions of
     * that role (in dest_account) that it opened, against the role's grants. */
    const char *dest_role;
    const ct_account_view *dest_account; /* NULL: account */
    /* Also the resources the calls named (--resources): the answer's
     * `scopes`. Not with dest_role: the backends keep resources per
     * principal, not per session (CT_EUSAGE). */
    bool resources;
} ct_principal_question;

/* The resources a used action may be limited to (--resources;
 * docs/policy.md): the ARNs the principal's successful calls of it named,
 * where every such call named one IAM evaluates the action against. */
typedef struct ct_resource_scope {
    const char **arns; /* sorted; NULL: "*" */
    size_t arn_count;  /* at most CT_POLICY_RESOURCES_LISTED; a last one ending in '*' is a
                        * collapsed wildcard */
    bool collapsed;    /* more ARNs were named: `arns` holds their wildcard */
} ct_resource_scope;

/* The most ARNs a statement lists for an action; more collapse into the
 * wildcard of their longest common prefix. */
#define CT_POLICY_RESOURCES_LISTED 10

typedef struct ct_resource_scopes {
    ct_resource_scope *by_action; /* by catalog index; NULL: not asked */
    size_t count;                 /* the catalog's size */
    ct_text_arena text;
} ct_resource_scopes;

/* The scopes of the used actions of `calls`, from what `resources` (the
 * same principal's principal_resources answer) says the successful calls
 * named: an action gets a list only when each of its successful calls named
 * an ARN that matches the action's resource patterns
 * (ct_catalog_resource_patterns), and then the matching ARNs. Errors:
 * CT_ENOMEM (out then empty). */
int ct_resource_scopes_build(ct_resource_scopes *out, const ct_catalog *catalog,
                             const ct_calls *calls, const ct_resources *resources, ct_error *err);
void ct_resource_scopes_release(ct_resource_scopes *scopes);

typedef struct ct_principal_answer {
    const ct_principal *principal; /* borrowed from the account's IAM data */
    const ct_principal *dest_role; /* likewise from dest_account's; NULL without */
    ct_diff diff;
    ct_resource_scopes scopes; /* with q->resources */
} ct_principal_answer;

/* Answers the question: finds the principal (and role), asks the source
 * for its calls, notes when the logs hold no event of the account whose
 * logs were read (every grant would look unused) and when calls name no
 * IAM action, and builds the diff. Errors: CT_ENOTFOUND (no such user or
 * role, named in the message), the source's errors, CT_ENOMEM; `out` is
 * then empty. The answer borrows from the IAM data and the catalog;
 * release it with ct_principal_answer_release. */
int ct_analyze_principal(ct_analysis *a, const ct_principal_question *q, ct_principal_answer *out,
                         ct_error *err);
void ct_principal_answer_release(ct_principal_answer *answer);

/* The question of --list: every principal of a kind in the account, and
 * whether it made any call (failed ones too) in the window. */
typedef struct ct_activity {
    const ct_principal **principals; /* in the IAM data's order, borrowed */
    bool *active;
    size_t count;
} ct_activity;

/* Answers --list with one question to the source for all principals, and
 * notes when nobody was active and the logs hold no event of the account.
 * Errors as above. Release with ct_activity_release. */
int ct_analyze_activity(ct_analysis *a, const ct_account_view *account, ct_principal_kind kind,
                        ct_activity *out, ct_error *err);
void ct_activity_release(ct_activity *activity);

/* ---- people behind roles (docs/people.md) ---- */

/* What a session's person rests on, from the most to the least certain. */
typedef enum ct_person_evidence {
    CT_EVIDENCE_NONE = 0,        /* nothing names a person (a service, a generic name) */
    CT_EVIDENCE_IDENTITY_CENTER, /* userIdentity.onBehalfOf.userId */
    CT_EVIDENCE_SOURCE_IDENTITY, /* sourceIdentity of the session or its opening */
    CT_EVIDENCE_IAM_USER,        /* opened by an IAM user (AssumeRole) */
    CT_EVIDENCE_SAML,            /* AssumeRoleWithSAML: the SAML subject */
    CT_EVIDENCE_WEB_IDENTITY,    /* AssumeRoleWithWebIdentity: the provider's subject */
    CT_EVIDENCE_SESSION_NAME     /* only the session name, which the client chose */
} ct_person_evidence;

/* The name of an evidence kind in output ("identity-center", "source-identity",
 * "iam-user", "saml", "web-identity", "session-name", "none"). */
const char *ct_person_evidence_name(ct_person_evidence evidence);
/* Whether evidence of this kind is high confidence (all but the session name). */
bool ct_person_evidence_is_high(ct_person_evidence evidence);

/* How far the analysis follows a role chain back to its first session. */
#define CT_CHAIN_MAX_DEPTH 12

/* Who opened one session, and on what evidence. */
typedef struct ct_session_person {
    const ct_role_session *session; /* borrowed from ct_people.sessions */
    size_t person;                  /* index into ct_people.items, or SIZE_MAX: nobody */
    ct_person_evidence evidence;
    char *detail; /* what the evidence says, for people to check ("AssumeRole by
                   * arn:aws:iam::111111111111:user/alice"); owned */
    /* For a session opened from another session (a role chain): that
     * session, and how many hops back the evidence was found (0: the
     * session itself). */
    const ct_role_session *opened_from;
    unsigned depth;
} ct_session_person;

/* A role (in its account) a person used, and how. */
typedef struct ct_person_role {
    const char *role_arn; /* borrowed from a session */
    size_t sessions;      /* active sessions of the role attributed to the person */
    bool high;            /* some of them on high-confidence evidence */
} ct_person_role;

typedef struct ct_person {
    char *name;  /* as the evidence spells it (the first, bytewise, of the spellings
                  * that differ only in case) */
    bool high;   /* some session rests on high-confidence evidence */
    bool active; /* some active session (see ct_role_session) */
    const ct_identity_user *user; /* the Identity Center user of that name, or NULL */
    ct_person_role *roles;        /* sorted by role ARN */
    size_t role_count;
} ct_person;

/* Everyone behind the role sessions of the window. */
typedef struct ct_people {
    ct_role_sessions sessions;     /* every session the source gave (owned) */
    ct_session_person *attributed; /* one per session, same order */
    ct_person *items;              /* sorted by name, case-insensitively, then bytewise */
    size_t count;
} ct_people;

/* Attributes every role session of the window (ct_source.sessions, one
 * question) to a person, by the first rule that names one:
 *  1. the session's onBehalfOf user id: the Identity Center user (named by
 *     `users` when given, else by the session's name when it has one, else
 *     by the id);
 *  2. the sourceIdentity of the session or of its opening event;
 *  3. its opening event: AssumeRole by an IAM user (the user's name),
 *     AssumeRoleWithSAML (the subject), AssumeRoleWithWebIdentity (the
 *     subject), or AssumeRole from another role session (a chain: that
 *     session's person, followed back CT_CHAIN_MAX_DEPTH hops at most and
 *     never through a session twice);
 *  4. the session name, low confidence, unless it is a name clients make up
 *     (data/people/generic-session-names.tsv), which names nobody.
 * The same name (case-insensitively) from several kinds of evidence is one
 * person. With `users`, every Identity Center user is a person too, active
 * or not. Errors: the source's, CT_ENOMEM; `out` is then empty. */
int ct_analyze_people(ct_analysis *a, const ct_identity_store *const *users, size_t user_lists,
                      ct_people *out, ct_error *err);
void ct_people_release(ct_people *people);
/* The people whose name is `name` (case-insensitively): the index, or
 * SIZE_MAX when there is none. */
size_t ct_people_find(const ct_people *people, const char *name);
/* The account (of `accounts`) a role ARN lies in, or NULL. */
const ct_account_view *ct_account_of_arn(const ct_account_view *accounts, size_t n,
                                         const char *arn);

/* The question of --person: the diff of each role (in its account) the
 * person used in the window against the person's calls in their sessions
 * of it. */
typedef struct ct_person_question {
    const char *name; /* case-insensitive; else the one name containing it */
    const ct_account_view *accounts; /* every account of the config, with its IAM data */
    size_t account_count;
    const ct_account_view *only_account; /* --account: its roles only; NULL: every account */
    const char *dest_role;               /* --destrole: this role only (by name); NULL: all */
    const ct_account_view *dest_account; /* --destaccount: the role's account */
    const ct_identity_store *const *users; /* Identity Center user lists (may be none) */
    size_t user_lists;
} ct_person_question;

typedef struct ct_person_role_diff {
    const ct_account_view *account; /* the role's account */
    const ct_principal *role;       /* from that account's IAM data */
    const ct_person_role *use;      /* how the person used it (borrowed from the answer's people) */
    ct_diff diff;
} ct_person_role_diff;

typedef struct ct_person_answer {
    ct_people people;            /* everyone attributed, for the sessions' evidence */
    const ct_person *person;     /* the one asked for (in people) */
    ct_person_role_diff *roles;  /* sorted by account name, then role name */
    size_t role_count;
} ct_person_answer;

/* Answers --person: the sessions question, the attribution, then one
 * session_calls question for all of the person's active sessions, and a
 * diff per role. Roles the config or the IAM files cannot judge (an
 * account not in the config, a role no longer in its IAM file) are noted,
 * not diffed. Errors: CT_ENOTFOUND when no person has the name, or several
 * contain it (the message lists the candidates), the source's, CT_ENOMEM;
 * `out` is then empty. */
int ct_analyze_person(ct_analysis *a, const ct_person_question *q, ct_person_answer *out,
                      ct_error *err);
void ct_person_answer_release(ct_person_answer *answer);

/* ---- least-privilege policies (--format policy; docs/policy.md) ---- */

/* IAM's limits on a policy's size, in characters without white space:
 * a managed policy, and a role's or a user's inline policies together (IAM
 * User Guide, reference_iam-quotas, "IAM and AWS STS character limits"). */
#define CT_POLICY_MANAGED_MAX 6144
#define CT_POLICY_INLINE_ROLE_MAX 10240
#define CT_POLICY_INLINE_USER_MAX 2048

typedef struct ct_policy_options {
    bool drop_unknown; /* leave out the granted actions CloudTrail cannot show ("?") */
    bool compact;      /* service or verb wildcards where they cover nothing else */
    size_t size_limit; /* 0: CT_POLICY_MANAGED_MAX */
    /* --resources: the used actions' resources (NULL or not built: "*"). */
    const ct_resource_scopes *scopes;
} ct_policy_options;

/* One Allow statement. */
typedef struct ct_policy_statement {
    const char *sid;      /* stable: "Used" + the service ("UsedS3"), "NotVisibleInCloudTrail";
                           * "UsedS3Resources1"... for the service's actions limited to
                           * resources; "Part2"... when a statement had to be split */
    const char **actions; /* sorted; published spelling, or "s3:Get*" with --compact */
    size_t action_count;
    const char **resources; /* sorted ARNs (borrowed); NULL: "Resource": "*" */
    size_t resource_count;
} ct_policy_statement;

typedef struct ct_generated_policy {
    ct_policy_statement *statements; /* in order: the services' (by prefix), then "?" */
    size_t statement_count;
    /* The documents: statements [documents[i], documents[i + 1]); one unless
     * the policy is larger than the size limit. */
    size_t *documents;
    size_t document_count;
    size_t size_limit;
    size_t largest; /* the largest document's size, as the limit counts it */
    /* Said on stderr, never in the policy: actions used but not granted
     * today ("+") and actions only tried (every call failed, not granted). */
    const char **not_granted;
    size_t not_granted_count;
    /* Actions of the policy that a Deny limited by a condition or resource
     * may still block: "s3:putobject: DenyProd (Condition)". */
    const char **limited;
    size_t limited_count;
    /* With scopes: the used actions limited to resources, and those left
     * on "*". */
    size_t scoped, unscoped;
    ct_text_arena text;
} ct_generated_policy;

/* The policy that grants what the diff says was used and is still granted
 * (and, unless dropped, what is granted and CloudTrail cannot show): never
 * an action not granted today, never a wildcard that covers a catalog action
 * outside that set. `catalog` and `diff` must outlive the policy. Errors:
 * CT_ENOMEM; `out` is then empty. */
int ct_policy_generate(const ct_catalog *catalog, const ct_diff *diff,
                       const ct_policy_options *opts, ct_generated_policy *out, ct_error *err);
void ct_generated_policy_release(ct_generated_policy *policy);
/* The size of statements [from, to) as one document, in the characters
 * IAM counts (JSON without white space). */
size_t ct_policy_document_size(const ct_generated_policy *policy, size_t from, size_t to);

/* A generated policy as text: each document's JSON exactly as it is
 * printed (src/report/ renders it: ct_report_render_policy). */
typedef struct ct_policy_texts {
    char **documents; /* NUL-terminated, owned */
    size_t *lengths;
    size_t count;
} ct_policy_texts;
/* Frees the documents; the texts are then empty. */
void ct_policy_texts_release(ct_policy_texts *texts);

/* What ct_policy_check found wrong: how many violations, and the messages
 * of the first CT_POLICY_CHECK_KEPT of them. */
#define CT_POLICY_CHECK_KEPT 8
typedef struct ct_policy_violations {
    size_t count; /* 0: the guarantees hold */
    ct_notes first;
} ct_policy_violations;

/* Proves the guarantees of a policy generated from `diff` with `opts`,
 * reading its rendered documents back with the IAM module
 * (ct_policy_set_parse) and evaluating them with the policy engine
 * (ct_policy_expand over `catalog`, ct_policy_decide for the actions the
 * catalog lacks). A violation is each of: a document that is not a valid
 * policy document (JSON, statements: the check stops there) or larger than
 * the size limit (opts->size_limit, 0: CT_POLICY_MANAGED_MAX, as
 * ct_policy_text_size counts); a used action the documents do not allow; a
 * catalog action they allow that is not used, or not "?" (or "?" with
 * opts->drop_unknown); an action used or tried but not granted that they
 * allow. Allows limited by Resource or Condition count as allowing (the
 * engine's rule), so the check is at action level. Fills *out (cleared
 * first) and returns 0 whether or not it found violations; CT_ENOMEM with
 * `err` set, *out then empty. */
int ct_policy_check(const ct_catalog *catalog, const ct_diff *diff, const ct_policy_options *opts,
                    const ct_policy_texts *texts, ct_policy_violations *out, ct_error *err);
/* Makes violations an error: returns 0 when there are none, else
 * CT_EINTERNAL (the generator has a bug) with a message naming `what`
 * ("user alice") and the first violations. */
int ct_policy_violations_error(const ct_policy_violations *violations, const char *what,
                               ct_error *err);
void ct_policy_violations_release(ct_policy_violations *violations);

/* Renders a generated policy's documents as the caller's report prints
 * them (report.h: ct_report_render_policy), for ct_policy_check. Returns 0
 * or CT_ENOMEM. */
typedef int (*ct_policy_render_fn)(void *ud, const ct_generated_policy *policy,
                                   ct_policy_texts *out);

/* ---- the access review (cloudtracker review; docs/review.md) ---- */

typedef enum ct_review_kind {
    CT_REVIEW_USER = 1,
    CT_REVIEW_ROLE = 2,
    CT_REVIEW_PERSON = 3 /* a person behind role sessions (ct_person) */
} ct_review_kind;

/* The name of a kind in output: "user", "role", "person". */
const char *ct_review_kind_name(ct_review_kind kind);

/* Whether an identity has been idle for the dormancy period (the
 * --dormant-days days that end with the window). */
typedef enum ct_dormancy {
    CT_DORMANT_NO = 0,  /* some activity in the period, or created inside it */
    CT_DORMANT_YES,     /* no activity in the period, which the window covers */
    CT_DORMANT_UNKNOWN  /* no activity in the window, which is shorter than the period */
} ct_dormancy;

/* "no", "yes", "unknown". */
const char *ct_dormancy_name(ct_dormancy d);

/* The verdicts of one diff, summed up. Action names are lowercase and
 * borrowed (from the catalog, or from the review's text arena). */
typedef struct ct_review_actions {
    const char **used; /* "  ": granted and used */
    size_t used_count;
    const char **unused; /* "- ": granted, visible to CloudTrail, not used */
    size_t unused_count;
    const char **unknown; /* "? ": granted, CloudTrail cannot show its use */
    size_t unknown_count;
    const char **not_granted; /* "+ ": used, not granted today */
    size_t not_granted_count;
    const char **attempted; /* tried, every call failed, not granted (denied attempts) */
    size_t attempted_count;
    /* The privileged track: unused actions of access level "Permissions
     * management" or "Write" on iam, sts, organizations or kms (a subset of
     * `unused`). */
    const char **privileged_unused;
    size_t privileged_unused_count;
    uint64_t calls;        /* calls in the window (events without errorCode) */
    uint64_t failed_calls; /* attempts logged with an errorCode (denied ones among them) */
} ct_review_actions;

/* A role a person used, or a person who used a role. */
typedef struct ct_review_use {
    size_t identity;   /* index into ct_review.identities: the role, or the person */
    size_t sessions;   /* active sessions attributed to the person */
    bool high;         /* some of them on high-confidence evidence */
    int64_t last_day;  /* last day of activity in those sessions, or -1 */
    /* A person's own calls in the role against its grants (people's uses
     * only; zero for a role's list of people). `unused` and `unknown` are
     * NULL there, their counts set: the role's entry lists its grants. */
    ct_review_actions actions;
} ct_review_use;

/* What makes an identity an administrator. */
typedef enum ct_admin_kind {
    CT_ADMIN_NO = 0,
    CT_ADMIN_ALL_ACTIONS, /* granted every action of the catalog */
    CT_ADMIN_ESCALATION   /* granted an action of admin-equivalent.tsv */
} ct_admin_kind;

typedef struct ct_review_identity {
    ct_review_kind kind;
    const ct_account_view *account; /* users and roles; NULL for people */
    const ct_principal *principal;  /* users and roles (from the account's IAM data) */
    const ct_person *person;        /* people (from ct_review.people) */
    const char *name;
    const char *arn;     /* "" for people */
    const char *created; /* CreateDate as the IAM file writes it, "" when unknown */
    bool service_linked;  /* a role under /aws-service-role/ */
    bool identity_center; /* an AWSReservedSSO_ role (an Identity Center permission set) */
    bool identity_center_user; /* a person who is a user of an identity store file */
    int64_t last_day;     /* last day with any event (failed calls too); -1: none in the window */
    ct_dormancy dormant;
    ct_admin_kind admin; /* people: that of the most privileged role they used */
    /* CT_ADMIN_ESCALATION: the first such action granted; people: the ARN
     * of the administrator role they used. NULL otherwise. */
    const char *admin_via;
    ct_review_actions actions; /* users and roles */
    /* Roles: the people who used it (sorted by person name); people: the
     * roles they used (in the accounts reviewed, sorted by account, role). */
    ct_review_use *uses;
    size_t use_count;
    size_t anonymous_sessions; /* roles: active sessions that name nobody */
    size_t sessions;           /* roles and people: active sessions */
    /* Users, with the account's credential report: the user's row (NULL
     * when the report has none) and its unused credentials. */
    const ct_credential_user *credential;
    ct_credential_dormancy credential_check;
    /* Users and roles: the least-privilege policy of their diff (action
     * level, "?" actions kept, no wildcards). */
    ct_generated_policy policy;
} ct_review_identity;

typedef struct ct_review_account {
    const ct_account_view *view;
    const char *iam_path; /* borrowed from the question */
    const char *iam_sha256;
    const char *iam_latest_date;
    size_t users, roles;   /* as many as the IAM file lists */
    ct_account_coverage coverage;
    /* The days of the window without any event of the account, as runs of
     * consecutive days (ascending), and how many days they hold. */
    ct_window *empty_runs;
    size_t empty_run_count;
    size_t empty_day_count;
    /* The account's credential report (borrowed; NULL without), its root
     * user's row (NULL when absent) and that row's unused credentials. */
    const ct_credential_report *credentials;
    const char *credentials_path;
    const ct_credential_user *root;
    ct_credential_dormancy root_check;
} ct_review_account;

/* The question of `cloudtracker review`. */
typedef struct ct_review_question {
    const ct_account_view *accounts; /* every account of the config (roles of people resolve) */
    size_t account_count;
    const ct_account_view *const *reviewed; /* the accounts to review, in order */
    const char *const *iam_paths;           /* each reviewed account's IAM file */
    /* Each reviewed account's credential report (an entry may be NULL), and
     * its path; NULL: none at all. */
    const ct_credential_report *const *credentials;
    const char *const *credential_paths;
    size_t reviewed_count;
    const ct_identity_store *const *users; /* Identity Center user lists (may be none) */
    size_t user_lists;
    unsigned dormant_days; /* > 0 */
    /* With render_policy: each user's and role's policy, rendered by it, is
     * proved (ct_policy_check) as it is made; a violation fails the review
     * (ct_policy_violations_error). NULL: not checked. */
    ct_policy_render_fn render_policy;
    void *render_ud;
} ct_review_question;

typedef struct ct_review {
    ct_window window;
    unsigned dormant_days;
    ct_review_account *accounts; /* as reviewed */
    size_t account_count;
    /* Per account, its users then its roles (by name); then the people. */
    ct_review_identity *identities;
    size_t identity_count;
    ct_people people; /* everyone behind the sessions (the people's strings) */
    ct_text_arena text;
} ct_review;

/* Reviews every IAM user and role of the reviewed accounts and every
 * person behind their roles' sessions, with the bulk questions of the
 * source: per account account_calls and account_coverage, then sessions
 * and one session_calls for all the people's active sessions, whatever
 * the number of identities. Notes accounts without events and calls that
 * name no IAM action. Errors: the source's, CT_ENOMEM, CT_EINTERNAL (the
 * tables); `out` is then empty. Release with ct_review_release. */
int ct_review_build(ct_analysis *a, const ct_review_question *q, ct_review *out, ct_error *err);
void ct_review_release(ct_review *review);

/* ---- what changed since the previous review (--compare) ---- */

/* The previous review, as its JSON document (docs/json-format.md, type
 * "review") states it: parsed from the text by ct_review_previous_parse. */
typedef struct ct_review_previous ct_review_previous;

/* Parses a previous review's JSON. Errors: CT_ECOMPARE naming `name` (not
 * JSON, not a review document, another format_version, a field of the
 * wrong type), CT_ENOMEM. *out belongs to the caller. */
int ct_review_previous_parse(ct_review_previous **out, const char *json, size_t len,
                             const char *name, ct_error *err);
void ct_review_previous_free(ct_review_previous *previous);

typedef enum ct_presence {
    CT_PRESENCE_KEPT = 0, /* in both reviews */
    CT_PRESENCE_ADDED,    /* only in this one */
    CT_PRESENCE_REMOVED   /* only in the previous one */
} ct_presence;

/* "kept", "added", "removed". */
const char *ct_presence_name(ct_presence p);

/* How one identity changed. Identities are the same when kind, account id
 * and name agree (people: the name without regard to case). Strings are
 * borrowed from the review or from the previous review. */
typedef struct ct_review_change {
    ct_review_kind kind;
    const char *account_id; /* "" for people */
    const char *account_name;
    const char *name;
    size_t identity; /* index into the review's identities; SIZE_MAX when removed */
    ct_presence presence;
    const char **grants_added; /* granted now (used, unused or "?"), not then */
    size_t grants_added_count;
    const char **grants_removed; /* granted then, not now */
    size_t grants_removed_count;
    /* Unused ("-") in the previous review: no longer granted (the
     * revocation is verified), or still granted. */
    const char **revoked;
    size_t revoked_count;
    const char **still_granted;
    size_t still_granted_count;
    bool newly_dormant; /* dormant now, not then */
    bool active_again;  /* dormant then, not now */
} ct_review_change;

typedef struct ct_review_changes {
    const char *previous_made_at; /* when the previous review was made (its "made_at") */
    ct_window previous_window;
    ct_review_change *items; /* identities with some change, in the review's order, then the
                              * removed ones (by kind, account, name) */
    size_t count;
    size_t added, removed, revoked, still_granted, newly_dormant, active_again; /* totals */
} ct_review_changes;

/* Compares the review with the previous one. Errors: CT_ENOMEM; `out` is
 * then empty. `out` borrows from both. */
int ct_review_compare(const ct_review *review, const ct_review_previous *previous,
                      ct_review_changes *out, ct_error *err);
void ct_review_changes_release(ct_review_changes *changes);

#endif
