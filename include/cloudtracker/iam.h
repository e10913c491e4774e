/* IAM side: the loader for `aws iam get-account-authorization-details` JSON
 * and the policy engine (statement compilation, wildcard matching, expansion
 * over the action catalog). Evaluation is pure: no I/O after loading. */
#ifndef CLOUDTRACKER_IAM_H
#define CLOUDTRACKER_IAM_H

#include "cloudtracker/actions.h"
#include "cloudtracker/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ct_principal_kind { CT_PRINCIPAL_USER = 1, CT_PRINCIPAL_ROLE = 2 } ct_principal_kind;

/* One IAM user or role as listed in the file (all strings borrowed from the
 * ct_iam that returned it). */
typedef struct ct_principal {
    ct_principal_kind kind;
    const char *name;        /* UserName / RoleName */
    const char *arn;         /* Arn, e.g. arn:aws:iam::111111111111:user/alice */
    const char *create_date; /* CreateDate as written in the file, "" if absent */
} ct_principal;

typedef struct ct_iam ct_iam;

/* Limits on an authorization-details file, each an error naming the file.
 * A large organisation's account can be 50-200 MB; 1 GiB leaves five times
 * that, and loading takes several times the file's size in memory. */
#define CT_IAM_MAX_BYTES ((size_t)1 << 30)
#define CT_IAM_MAX_DEPTH 1000 /* nested arrays and objects: cJSON's own limit */

/* Parses an authorization-details document. Policy documents may be JSON
 * objects (AWS CLI output) or URL-encoded JSON strings (raw API output).
 * Every policy reachable from a user or role is compiled now, so a malformed
 * statement or a managed policy that is attached but missing from the file
 * fails here with CT_EIAM, naming the file (and line:col for JSON syntax
 * errors, as cJSON reports them: sometimes one past the culprit). *out
 * belongs to the caller (ct_iam_free).
 *
 * Refused with CT_EIAM: a page with "IsTruncated": true (verdicts from
 * partial data are forbidden); a document with none of the four lists; a
 * group, attached policy or boundary that the file does not contain; a
 * managed policy whose default version cannot be identified (IsDefaultVersion
 * and DefaultVersionId must agree when both are present); duplicate names
 * (compared case-insensitively, as IAM does); and statements with a missing
 * or unknown Effect, both or neither of Action/NotAction, both Resource and
 * NotResource, or an action entry that is neither "*" nor "service:pattern".
 * The statements of groups without members and of unattached managed
 * policies are not compiled, so they cannot fail the load. A role's AssumeRolePolicyDocument
 * (trust, not permissions) is ignored. Messages quote names terminal-safely.
 *
 * JSON nested deeper than CT_IAM_MAX_DEPTH is refused with CT_EIAM.
 * ct_iam_load_file also fails with CT_EIAM when the file cannot be read,
 * is not a regular file (a FIFO, a device, a folder: refused without
 * blocking) or is larger than CT_IAM_MAX_BYTES.
 * Other error: CT_ENOMEM. `name` labels errors of ct_iam_load_buffer. */
int ct_iam_load_file(ct_iam **out, const char *path, ct_error *err);
int ct_iam_load_buffer(ct_iam **out, const char *json, size_t len, const char *name,
                       ct_error *err);
/* Frees everything the ct_iam owns, including every borrowed string and
 * policy set handed out. NULL is harmless. */
void ct_iam_free(ct_iam *iam);

/* What the access review states of the file: the SHA-256 of its bytes (64
 * lowercase hex digits), and the latest date written in it (the greatest
 * CreateDate, UpdateDate or RoleLastUsed.LastUsedDate, as written), or ""
 * when it holds none. The file carries no time of its own; that date
 * bounds from below when it was taken. */
const char *ct_iam_sha256(const ct_iam *iam);
const char *ct_iam_latest_date(const ct_iam *iam);

/* Users or roles, sorted by name (byte order); ct_iam_get returns NULL
 * past the end. Results are borrowed from the ct_iam. */
size_t ct_iam_count(const ct_iam *iam, ct_principal_kind kind);
const ct_principal *ct_iam_get(const ct_iam *iam, ct_principal_kind kind, size_t i);
/* Finds by exact name, then case-insensitively (IAM names are unique without
 * regard to case). NULL when absent. */
const ct_principal *ct_iam_find(const ct_iam *iam, ct_principal_kind kind, const char *name);

/* ---- policies ---- */

/* The compiled statements that apply to one principal: identity policies
 * (inline, attached managed at their default version, and for users those of
 * their groups; a policy reached twice counts once) and the permissions
 * boundary if any. Borrowed from ct_iam; p must come from the same ct_iam.
 *
 * Evaluation rules (shared by ct_policy_decide and ct_policy_expand). A
 * statement covers an action when one of its Action patterns matches it, or,
 * for NotAction, when none does. Then
 *   granted = allowed AND NOT denied AND (no boundary OR inside boundary)
 *   allowed = some identity Allow statement covers the action. Allows limited
 *             by Resource, NotResource or Condition still count: the action
 *             may be used, which is what an unused-permission report needs.
 *   denied  = some Deny statement, in an identity policy or in the boundary,
 *             covers the action with no Condition and a Resource of "*" (a
 *             list containing "*" counts; an absent Resource reads as "*",
 *             since IAM rejects such identity policies anyway). A Deny with a
 *             non-empty Condition, a specific Resource or any NotResource may
 *             not apply to a given call, so it removes nothing: it becomes a
 *             note in ct_decision (limit "Condition", else "NotResource",
 *             else "Resource"). An empty Condition block limits nothing.
 *   inside boundary = some Allow statement of the boundary covers it (with
 *             the same leniency for limited Allows). A boundary grants
 *             nothing by itself.
 * Policy names in decisions: a managed policy's PolicyName; an inline policy
 * as "user/alice inline: NAME", "group/admins inline: NAME" or
 * "role/admin inline: NAME"; a boundary as "NAME (permissions boundary)". */
typedef struct ct_policy_set ct_policy_set;
const ct_policy_set *ct_iam_policies(const ct_iam *iam, const ct_principal *p);

/* Compiles policy documents given as JSON text, each one document as IAM
 * takes it (a JSON object with a Statement: what `aws iam create-policy
 * --policy-document` reads), into one set: the identity policies of a
 * principal that has them all and no permissions boundary. Statements are
 * read as the loader reads them (ct_iam_load_file). Policy names in
 * decisions are `name` and the document's number from 1 ("generated 2").
 * Refused with CT_EIAM naming "<name>, document N": empty text, a NUL byte,
 * a JSON syntax error or trailing text (with line:col), nesting deeper than
 * CT_IAM_MAX_DEPTH, not an object, a malformed statement. Other error:
 * CT_ENOMEM. *out belongs to the caller (ct_policy_set_free). */
int ct_policy_set_parse(ct_policy_set **out, const char *const *documents, const size_t *lengths,
                        size_t count, const char *name, ct_error *err);
/* Frees a set of ct_policy_set_parse. NULL, and a set borrowed from a
 * ct_iam, are harmless. */
void ct_policy_set_free(ct_policy_set *set);
/* A policy document's size as IAM counts it against its limits: its
 * characters (UTF-8 sequences count one) without the white space between
 * JSON tokens, for JSON text of `len` bytes. */
size_t ct_policy_text_size(const char *json, size_t len);

/* Case-insensitive (ASCII) IAM wildcard match: `*` any run including an
 * empty one, `?` exactly one byte. Never backtracks exponentially. */
bool ct_wildcard_match(const char *pattern, const char *text);

/* Why an action is or is not granted, for `--format json` and for actions the
 * catalog does not know. Strings are borrowed from the ct_iam. */
#define CT_DECISION_MAX_NOTES 8
typedef struct ct_deny_note {
    const char *policy;   /* policy name, e.g. "DenyProd" or "user/alice inline: deny-s3" */
    const char *sid;      /* statement Sid or "" */
    const char *limit;    /* "Condition", "Resource", "NotResource" or "" for unconditional */
} ct_deny_note;

typedef struct ct_decision {
    bool granted;             /* allowed, not denied unconditionally, within boundary */
    bool allowed;             /* some identity Allow statement matches */
    bool denied;              /* an unconditional Deny on "Resource": "*" matches */
    bool outside_boundary;    /* a boundary is set and does not allow it */
    const char *allowed_by;   /* first matching Allow's policy name, or NULL */
    const char *denied_by;    /* the unconditional Deny's policy name, or NULL */
    size_t note_count;        /* limited Denies that match (do not remove the grant),
                                 in policy order, at most CT_DECISION_MAX_NOTES */
    ct_deny_note notes[CT_DECISION_MAX_NOTES];
} ct_decision;

/* Evaluates one lowercase action against the set (rules above). Never fails;
 * a NULL set or action gives an all-false decision. */
void ct_policy_decide(const ct_policy_set *set, const char *action_lower, ct_decision *out);

/* The set of catalog actions granted to a principal, as a bitset over catalog
 * indices. Expansion must agree exactly with ct_policy_decide().granted. */
typedef struct ct_grants ct_grants;
/* Computes the grants of `set` (NULL: none) over `catalog`. The result
 * keeps no pointer into the catalog, but its indices are that catalog's.
 * Patterns with a literal
 * service only touch that service's actions; typical principals expand in
 * microseconds. *out belongs to the caller (ct_grants_free). Errors:
 * CT_ENOMEM. */
int ct_policy_expand(ct_grants **out, const ct_policy_set *set, const ct_catalog *catalog,
                     ct_error *err);
/* False for indices outside the catalog the grants were computed over. */
bool ct_grants_has(const ct_grants *g, size_t catalog_index);
/* The first granted index at or after `from`, or SIZE_MAX: walks the
 * grants without testing every catalog index. */
size_t ct_grants_next(const ct_grants *g, size_t from);
/* Number of granted catalog actions. */
size_t ct_grants_count(const ct_grants *g);
/* NULL is harmless. */
void ct_grants_free(ct_grants *g);

/* ---- Identity Center users ----
 * The JSON of `aws identitystore list-users --identity-store-id d-...`
 * (API ListUsers: {"Users":[{"UserName","UserId","IdentityStoreId",
 * "DisplayName",...}], "NextToken"?}): who the Identity Center users are,
 * so the user id CloudTrail logs (userIdentity.onBehalfOf.userId) has a
 * name, and the people who used nothing are listed too. */
typedef struct ct_identity_user {
    const char *user_id;      /* UserId */
    const char *user_name;    /* UserName */
    const char *display_name; /* DisplayName, "" if absent */
    const char *store_id;     /* IdentityStoreId, "" if absent */
} ct_identity_user;

typedef struct ct_identity_store ct_identity_store;

/* Loads the file (ct_file_read_regular's checks, CT_IAM_MAX_BYTES) or a
 * buffer labelled `name`. Refused with CT_EIAM naming the file: not JSON (as
 * for IAM files), no "Users" list, a user without a string UserId or
 * UserName, two users with one UserId or one UserName (case-insensitively,
 * as Identity Center compares them), and a "NextToken" (one page of a
 * paginated answer: the AWS CLI's own pagination gives the whole list).
 * Other error: CT_ENOMEM. *out belongs to the caller. */
int ct_identity_store_load_file(ct_identity_store **out, const char *path, ct_error *err);
int ct_identity_store_load_buffer(ct_identity_store **out, const char *json, size_t len,
                                  const char *name, ct_error *err);
/* NULL is harmless. */
void ct_identity_store_free(ct_identity_store *store);
/* The users, sorted by UserName (byte order); NULL past the end. */
size_t ct_identity_store_count(const ct_identity_store *store);
const ct_identity_user *ct_identity_store_get(const ct_identity_store *store, size_t i);
/* The user with this UserId, or NULL. */
const ct_identity_user *ct_identity_store_find_id(const ct_identity_store *store,
                                                  const char *user_id);

/* ---- IAM credential report ----
 * The CSV of `aws iam get-credential-report` (its Content field,
 * base64-decoded; the console's "Download credentials report" gives the same
 * file): per IAM user, and for the account's root user in a row named
 * <root_account>, whether a password and access keys are enabled and when
 * they were last used. The format is AWS's: IAM User Guide, "Generate
 * credential reports for your AWS account",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
 *
 * A value is a timestamp or a boolean, or one of AWS's words for its absence,
 * each kept as its own state because they mean different things: */
typedef enum ct_credential_state {
    CT_CREDENTIAL_VALUE = 0,      /* a timestamp or true/false */
    CT_CREDENTIAL_NOT_APPLICABLE, /* "N/A": no such credential (no password, no
                                     access key or certificate); for an access key's
                                     last use also "never used", or not used since
                                     IAM began tracking on 2015-04-22 */
    CT_CREDENTIAL_NO_INFORMATION, /* "no_information": a password never used, or
                                     not used since IAM began tracking on 2014-10-20 */
    CT_CREDENTIAL_NOT_SUPPORTED   /* "not_supported": what IAM does not report for
                                     the root user (password_enabled,
                                     password_last_changed) */
} ct_credential_state;

/* A date column. `text` is the cell as written ("2018-05-21T15:17:05+00:00",
 * "N/A", ...); `day` (days since 1970-01-01, UTC, the offset applied) is set
 * when state is CT_CREDENTIAL_VALUE. */
typedef struct ct_credential_time {
    ct_credential_state state;
    const char *text;
    int64_t day;
} ct_credential_time;

/* A boolean column: true/false in any case (AWS writes both). */
typedef struct ct_credential_bool {
    ct_credential_state state;
    bool value; /* when state is CT_CREDENTIAL_VALUE */
} ct_credential_bool;

/* access_key_N_active, access_key_N_last_rotated (created or last changed),
 * access_key_N_last_used_date. */
typedef struct ct_credential_key {
    ct_credential_bool active;
    ct_credential_time last_rotated;
    ct_credential_time last_used;
} ct_credential_key;

/* One row of the report. Strings are borrowed from the report. */
typedef struct ct_credential_user {
    const char *user; /* the user name; "<root_account>" for the root user */
    const char *arn;  /* arn:aws:iam::111111111111:user/alice, or ...:root */
    bool is_root;
    int line; /* where the row starts in the file, for messages */
    ct_credential_time user_creation_time;
    ct_credential_bool password_enabled;
    ct_credential_time password_last_used;
    ct_credential_time password_last_changed;
    ct_credential_bool mfa_active;
    ct_credential_key keys[2];   /* access key 1 and 2 */
    ct_credential_bool certs[2]; /* cert_1_active, cert_2_active */
} ct_credential_user;

typedef struct ct_credential_report ct_credential_report;

/* The largest report read. IAM allows 5,000 users per account and a row is
 * about 300 bytes: 64 MiB is forty times a full account. */
#define CT_CREDENTIAL_REPORT_MAX_BYTES ((size_t)64 << 20)

/* Loads the file (ct_file_read_regular's checks, at most
 * CT_CREDENTIAL_REPORT_MAX_BYTES) or a buffer labelled `name`. The CSV is
 * read as RFC 4180 says (quoted fields with "" for a quote, CRLF or LF line
 * ends, a final line end or not; a UTF-8 byte order mark is skipped).
 * Columns are found by their header names, in any order; the columns of
 * ct_credential_user are required and other columns (AWS adds some over
 * time) are ignored. Refused with CT_EIAM naming the file, and the line
 * where one is to blame: an empty file; base64 text ("looks base64-encoded:
 * decode the Content field") or the JSON the AWS CLI prints; no header with
 * the required columns (the missing ones are named) or a column named twice;
 * no rows; a row with another number of fields than the header; a quote
 * that is not closed or stray text around one; a NUL byte or invalid UTF-8;
 * an empty user; an arn that is not arn:PARTITION:iam::ACCOUNT:user/.../NAME
 * (or ...:root for <root_account>) or names another account than the rows
 * before; a date that is not an ISO 8601 timestamp or one of N/A,
 * no_information, not_supported; a boolean that is not true or false (or
 * one of those words); a user listed twice (compared case-insensitively, as
 * IAM does). Other error: CT_ENOMEM. Memory is a small multiple of the
 * file's size. *out belongs to the caller (ct_credential_report_free). */
int ct_credential_report_load_file(ct_credential_report **out, const char *path, ct_error *err);
int ct_credential_report_load_buffer(ct_credential_report **out, const char *csv, size_t len,
                                     const char *name, ct_error *err);
/* NULL is harmless. */
void ct_credential_report_free(ct_credential_report *report);
/* The rows, the root user's among them, sorted by user name (byte order);
 * NULL past the end. */
size_t ct_credential_report_count(const ct_credential_report *report);
const ct_credential_user *ct_credential_report_get(const ct_credential_report *report, size_t i);
/* The row of this user name (compared case-insensitively; "<root_account>"
 * finds the root user's) or of this exact ARN; NULL when absent. */
const ct_credential_user *ct_credential_report_find_user(const ct_credential_report *report,
                                                         const char *user);
const ct_credential_user *ct_credential_report_find_arn(const ct_credential_report *report,
                                                        const char *arn);
/* The 12-digit account id every row's ARN names (borrowed), so a report
 * given for the wrong account can be refused. */
const char *ct_credential_report_account_id(const ct_credential_report *report);
/* The latest day any timestamp of the report names: the report was made on
 * that day or later, so a window ending after it is not fully covered.
 * False when the report holds no timestamp. */
bool ct_credential_report_latest_day(const ct_credential_report *report, int64_t *day);

/* ---- unused credentials: the access review's flag ----
 * A credential is flagged when it is active (a password enabled, an access
 * key active) and was not used for more than N days (`--dormant-days`)
 * before the window's last day. Days are counted from the last use; when the
 * report has no use on record (N/A or no_information: never used, or not
 * since IAM began tracking), from when the password was last set or the key
 * created or last rotated, else from the user's creation: a key created
 * long ago and never used is as unused as one used long ago. An active
 * credential with none of these dates is flagged with unknown days. The root
 * user is judged like anyone: its access keys as any, its password only when
 * password_enabled is true, which AWS does not write for it (not_supported;
 * FALSE for the organization member accounts it made without root
 * credentials), so in practice its password is not flagged. */
typedef enum ct_credential_since {
    CT_CREDENTIAL_SINCE_INACTIVE = 0, /* not active: nothing counted */
    CT_CREDENTIAL_SINCE_USE,          /* since the last use */
    CT_CREDENTIAL_SINCE_SET,          /* no use on record: since the password was set or
                                         the key created or last rotated */
    CT_CREDENTIAL_SINCE_CREATED,      /* no use nor set date on record: since the user
                                         was created */
    CT_CREDENTIAL_SINCE_UNKNOWN       /* no date at all: days unknown, flagged */
} ct_credential_since;

typedef struct ct_credential_unused {
    bool flagged;
    ct_credential_since since;
    int64_t since_day; /* the day counted from (USE, SET, CREATED) */
    int64_t days;      /* days from since_day to the window's last day, 0 when since_day
                          is later; -1 when INACTIVE or UNKNOWN */
} ct_credential_unused;

/* Bits of ct_credential_dormancy.flagged. */
enum {
    CT_CREDENTIAL_PASSWORD = 1 << 0,
    CT_CREDENTIAL_KEY_1 = 1 << 1,
    CT_CREDENTIAL_KEY_2 = 1 << 2
};

typedef struct ct_credential_dormancy {
    unsigned flagged; /* CT_CREDENTIAL_* bits of the flagged credentials; 0: none */
    ct_credential_unused password;
    ct_credential_unused keys[2];
} ct_credential_dormancy;

/* Decides the flag (rules above) for `user` with the window ending on
 * `last_day` and N = dormant_days (>= 0). Pure; never fails. */
void ct_credential_dormancy_check(ct_credential_dormancy *out, const ct_credential_user *user,
                                  int64_t last_day, int64_t dormant_days);

#endif
