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

/* Parses an authorization-details document. Policy documents may be JSON
 * objects (AWS CLI output) or URL-encoded JSON strings (raw API output).
 * Every policy reachable from a user or role is compiled now, so a malformed
 * statement or a managed policy that is attached but missing from the file
 * fails here with CT_EIAM, naming the file (and line:col for JSON syntax
 * errors). *out belongs to the caller. */
int ct_iam_load_file(ct_iam **out, const char *path, ct_error *err);
int ct_iam_load_buffer(ct_iam **out, const char *json, size_t len, const char *name,
                       ct_error *err);
void ct_iam_free(ct_iam *iam);

/* Users or roles, sorted by name (byte order). */
size_t ct_iam_count(const ct_iam *iam, ct_principal_kind kind);
const ct_principal *ct_iam_get(const ct_iam *iam, ct_principal_kind kind, size_t i);
/* Finds by exact name, then case-insensitively (IAM names are unique without
 * regard to case). NULL when absent. */
const ct_principal *ct_iam_find(const ct_iam *iam, ct_principal_kind kind, const char *name);

/* ---- policies ---- */

/* The compiled statements that apply to one principal: identity policies
 * (inline, attached managed at their default version, and for users those of
 * their groups) and the permissions boundary if any. Borrowed from ct_iam. */
typedef struct ct_policy_set ct_policy_set;
const ct_policy_set *ct_iam_policies(const ct_iam *iam, const ct_principal *p);

/* Case-insensitive IAM wildcard match: `*` any run, `?` one character. */
bool ct_wildcard_match(const char *pattern, const char *text);

/* Why an action is or is not granted, for `--format json` and for actions the
 * catalog does not know. Strings are borrowed from the ct_iam. */
#define CT_DECISION_MAX_NOTES 8
typedef struct ct_deny_note {
    const char *policy;   /* policy name, e.g. "DenyProd" or "alice/inline:deny-s3" */
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
    size_t note_count;        /* limited Denies that match (do not remove the grant) */
    ct_deny_note notes[CT_DECISION_MAX_NOTES];
} ct_decision;

/* Evaluates one lowercase action against the set. Never fails. */
void ct_policy_decide(const ct_policy_set *set, const char *action_lower, ct_decision *out);

/* The set of catalog actions granted to a principal, as a bitset over catalog
 * indices. Expansion must agree exactly with ct_policy_decide().granted. */
typedef struct ct_grants ct_grants;
/* Computes the grants. *out belongs to the caller. Errors: CT_ENOMEM. */
int ct_policy_expand(ct_grants **out, const ct_policy_set *set, const ct_catalog *catalog,
                     ct_error *err);
bool ct_grants_has(const ct_grants *g, size_t catalog_index);
size_t ct_grants_count(const ct_grants *g);
void ct_grants_free(ct_grants *g);

#endif
