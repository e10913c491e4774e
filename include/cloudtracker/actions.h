/* The IAM action catalog and the CloudTrail -> IAM mapping.
 *
 * The catalog (data/iam-actions/iam_actions.tsv, compiled into the binary)
 * lists every IAM action with its access level. Actions are identified by
 * their lowercase "service:action" name and, inside the catalog, by an index
 * into the sorted list, which is what the policy expander's bitsets use.
 *
 * The mapping turns an (eventSource, eventName) pair from CloudTrail into the
 * IAM actions it needed, following data tables under data/cloudtrail/, and
 * says which actions CloudTrail cannot show ("unknown", printed as `?`). */
#ifndef CLOUDTRACKER_ACTIONS_H
#define CLOUDTRACKER_ACTIONS_H

#include "cloudtracker/error.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum ct_access_level {
    CT_ACCESS_UNKNOWN = 0, /* not in the catalog */
    CT_ACCESS_LIST = 1,
    CT_ACCESS_READ = 2,
    CT_ACCESS_WRITE = 3,
    CT_ACCESS_PERMISSIONS = 4, /* "Permissions management" */
    CT_ACCESS_TAGGING = 5
} ct_access_level;

typedef struct ct_catalog ct_catalog;

/* Loads the catalog compiled into the binary, plus the unknown-class table.
 * *out belongs to the caller (ct_catalog_free). Errors: CT_ENOMEM, or
 * CT_EINTERNAL if the embedded data is malformed. */
int ct_catalog_load_builtin(ct_catalog **out, ct_error *err);
/* Same from a TSV text in memory ("Service:Action<TAB>Level" per line); used
 * by tests. `name` is used in error messages (file:line). Names are lowercased
 * and sorted; a line repeating a name merges into one action with the more
 * sensitive level; a combined level ("Permissions management, Write") keeps
 * its specific class. Blank lines and lines starting with '#' are skipped.
 * Errors: CT_ENOMEM, or CT_EINPUT with err's file and line for a malformed
 * line (no tab, bad name, unknown level, extra field). */
int ct_catalog_load_tsv(ct_catalog **out, const char *text, size_t len, const char *name,
                        ct_error *err);
void ct_catalog_free(ct_catalog *c);

/* Number of actions; they are indexed 0..count-1 in ascending byte order of
 * their lowercase names, so one service's actions are contiguous. */
size_t ct_catalog_count(const ct_catalog *c);
/* Lowercase "service:action" of action i (borrowed). */
const char *ct_catalog_name(const ct_catalog *c, size_t i);
ct_access_level ct_catalog_level(const ct_catalog *c, size_t i);
/* Index of a lowercase action name; returns false when the catalog lacks it. */
bool ct_catalog_find(const ct_catalog *c, const char *action_lower, size_t *index);
/* Index range [*begin, *end) of a lowercase service prefix's actions (empty
 * range when unknown). `service` is `len` bytes, without the colon. */
void ct_catalog_service_range(const ct_catalog *c, const char *service, size_t len,
                              size_t *begin, size_t *end);

/* True when CloudTrail cannot show a call needing this lowercase action:
 * data events, never-logged APIs, permission-only actions (iam:passrole),
 * services without CloudTrail support, as listed in
 * data/cloudtrail/unlogged-actions.tsv. Works for actions outside the catalog
 * (a string lookup); `c` may be NULL. */
bool ct_action_is_unlogged(const ct_catalog *c, const char *action_lower);

/* "Benign" for --ignore-benign: actions whose name part (after the colon)
 * starts with "list" or "describe", and actions the catalog classes as access
 * level List (some "get..." calls). `c` may be NULL (name rule only). */
bool ct_action_is_benign(const ct_catalog *c, const char *action_lower);

/* The IAM actions one CloudTrail event needed. */
#define CT_EVENT_MAX_ACTIONS 4
typedef struct ct_event_actions {
    size_t count; /* 0: the event needs no IAM permission */
    char actions[CT_EVENT_MAX_ACTIONS][160]; /* lowercase "service:action" */
} ct_event_actions;

/* Maps eventSource ("s3.amazonaws.com") and eventName ("ListBuckets") to IAM
 * actions ("s3:listallmybuckets"). The usual rule is "<first label of the
 * eventSource>:<eventName>", lowercased; a trailing API version
 * (CreateFunction20150331, UpdateDistribution2014_01_31, ...v2) is cut.
 * Irregular prefixes, renames, multi-action events and permission-free events
 * (count 0) come from the tables in data/cloudtrail/. Thread-safe; the tables
 * are parsed on first use. Returns 0, CT_EINPUT when a name is empty, too long
 * for a slot or has bytes no AWS name uses, or CT_ENOMEM / CT_EINTERNAL when
 * the tables cannot be loaded (ct_catalog_load_builtin reports that first). */
int ct_event_map(const char *event_source, const char *event_name, ct_event_actions *out);

#endif
