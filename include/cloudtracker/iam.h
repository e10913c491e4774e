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

#endif
