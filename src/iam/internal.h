/* Types shared inside src/iam: the arena that owns a loaded ct_iam, compiled
 * statements and policies, and the per-principal policy set. cJSON appears
 * here only for the policy compiler; nothing of it reaches include/. */
#ifndef CT_IAM_INTERNAL_H
#define CT_IAM_INTERNAL_H

#include "cloudtracker/error.h"
#include "cloudtracker/iam.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- arena: every allocation of a ct_iam lives here, freed at once ---- */
struct arena_block;
typedef struct ct_arena {
    struct arena_block *head;
} ct_arena;

/* Zeroed, suitably aligned memory for the arena's lifetime; NULL when out of
 * memory (also for absurd sizes). */
void *ct_arena_alloc(ct_arena *a, size_t n);
/* Copies of s / of its first n bytes (NUL-terminated); NULL when out of memory. */
char *ct_arena_strdup(ct_arena *a, const char *s);
char *ct_arena_strndup(ct_arena *a, const char *s, size_t n);
/* Frees every block; the arena is then empty and reusable. */
void ct_arena_release(ct_arena *a);

/* ---- compiled policies ---- */

/* Why a statement does not apply to every resource in every context. Only
 * Deny statements care: a limited Deny becomes a note, not a removal. */
#define CT_LIMIT_NONE ""
#define CT_LIMIT_CONDITION "Condition"
#define CT_LIMIT_RESOURCE "Resource"
#define CT_LIMIT_NOTRESOURCE "NotResource"

typedef struct ct_stmt {
    bool allow;        /* Effect: Allow (else Deny) */
    bool not_action;   /* patterns came from NotAction */
    const char *limit; /* one of the CT_LIMIT_* strings */
    const char *sid;   /* "" when absent */
    size_t npatterns;
    const char **patterns; /* lowercase action patterns */
} ct_stmt;

typedef struct ct_policy {
    const char *name; /* display name used in decisions and notes */
    size_t nstmts;
    ct_stmt *stmts;
} ct_policy;

/* A statement as it applies to one principal, with the name to report. */
typedef struct ct_set_stmt {
    const ct_stmt *stmt;
    const char *policy;
} ct_set_stmt;

struct ct_policy_set {
    ct_set_stmt *allows; /* identity Allow statements */
    size_t nallows;
    ct_set_stmt *denies; /* identity then boundary Deny statements, limited or not */
    size_t ndenies;
    bool has_boundary;
    ct_set_stmt *boundary_allows;
    size_t nboundary_allows;
    /* A set of ct_policy_set_parse lives in this arena (the set itself
     * too); empty for the sets of a ct_iam, which its own arena holds. */
    ct_arena own;
};

/* Flattens compiled identity policies (n of them) and the boundary (NULL:
 * none) into the set's statement lists, allocated in `a`. Returns 0 or
 * CT_ENOMEM (no message: the caller names what it was loading). */
int ct_policy_set_build(ct_policy_set *set, ct_arena *a, ct_policy *const *identity, size_t n,
                        const ct_policy *boundary);

/* Compiles a policy document: a JSON object, or a string holding JSON text,
 * URL-encoded (raw API output) or not. `name` (copied) becomes the policy's
 * display name. Errors: CT_EIAM with a message starting with `context` and
 * naming the statement, reported against `file`; CT_ENOMEM. The result lives
 * in the arena. */
int ct_policy_compile(ct_policy **out, ct_arena *a, const cJSON *document, const char *name,
                      const char *context, const char *file, ct_error *err);

/* True when cJSON's failure at byte `offset` of text (len bytes) is its
 * nesting limit: arrays and objects opened deeper than CT_IAM_MAX_DEPTH
 * by then (strings skipped). */
bool ct_json_too_deep(const char *text, size_t len, size_t offset);
/* The JSON document of a loader's input: the file at `path`
 * (ct_file_read_regular's checks, CT_IAM_MAX_BYTES, errors saying "cannot
 * read <what>"), or when path is NULL the buffer json[0..len) labelled
 * `name`. Into *root (the caller's, cJSON_Delete), or fails with CT_EIAM
 * naming the file: empty ("file is empty: expected <expected>"), a NUL
 * byte, a syntax error or trailing text (with line:col), nesting deeper
 * than CT_IAM_MAX_DEPTH; CT_ENOMEM. With `sha256_hex` (65 bytes), the
 * SHA-256 of the bytes read goes there, in lowercase hex. */
int ct_iam_read_json(cJSON **root, const char *path, const char *json, size_t len, const char *name,
                     const char *what, const char *expected, char *sha256_hex, ct_error *err);

/* ct_wildcard_match on a pattern of plen bytes and a text of tlen bytes
 * (_n) or a NUL-terminated text (_pn). */
bool ct_wildcard_match_n(const char *pattern, size_t plen, const char *text, size_t tlen);
bool ct_wildcard_match_pn(const char *pattern, size_t plen, const char *text);

/* True when the statement's Action/NotAction covers the lowercase action. */
bool ct_stmt_matches(const ct_stmt *s, const char *action_lower);

#endif
