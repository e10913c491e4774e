/* The IAM action catalog and the CloudTrail -> IAM mapping.
 *
 * The catalog (data/iam-actions/iam_actions.tsv, compiled into the binary)
 * lists every IAM action with its access level. Actions are identified by
 * their lowercase "service:action" name and, inside the catalog, by an index
 * into the sorted list, which is what the policy expander's bitsets use.
 *
 * The mapping turns an (eventSource, eventName) pair from CloudTrail into the
 * IAM actions it needed, following data tables under data/cloudtrail/; the
 * visibility model says which actions CloudTrail can show at all, and which
 * only as data events ("unknown", printed as `?`, when it cannot). */
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

/* Loads the catalog compiled into the binary, and the CloudTrail tables.
 * *out belongs to the caller (ct_catalog_free). Errors: CT_ENOMEM, or
 * CT_EINTERNAL if the embedded data is malformed. */
int ct_catalog_load_builtin(ct_catalog **out, ct_error *err);
/* Adds the resource formats compiled into the binary
 * (data/iam-actions/iam_resources.tsv) to a builtin catalog: only what
 * --resources needs, so other questions do not pay for reading them.
 * Errors as ct_catalog_load_builtin's. */
int ct_catalog_load_builtin_resources(ct_catalog *c, ct_error *err);
/* Whether resource formats were loaded (by either function). */
bool ct_catalog_has_resources(const ct_catalog *c);
/* Same from a TSV text in memory ("Service:Action<TAB>Level" per line); used
 * by tests. `name` is used in error messages (file:line). Names are lowercased
 * and sorted; a line repeating a name merges into one action with the more
 * sensitive level; a combined level ("Permissions management, Write") keeps
 * its specific class. Blank lines and lines starting with '#' are skipped.
 * The catalog has no resource formats (ct_catalog_load_resources adds them).
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
/* Action i as the catalog file spells it ("s3:CreateBucket"; of two lines
 * differing only in case, the one kept). Borrowed. */
const char *ct_catalog_published(const ct_catalog *c, size_t i);
ct_access_level ct_catalog_level(const ct_catalog *c, size_t i);
/* Index of a lowercase action name; returns false when the catalog lacks it. */
bool ct_catalog_find(const ct_catalog *c, const char *action_lower, size_t *index);
/* Index range [*begin, *end) of a lowercase service prefix's actions (empty
 * range when unknown). `service` is `len` bytes, without the colon. */
void ct_catalog_service_range(const ct_catalog *c, const char *service, size_t len,
                              size_t *begin, size_t *end);

/* ---- the resources an action is evaluated against ----
 *
 * data/iam-actions/iam_resources.tsv (loaded with the builtin catalog) gives,
 * for each action a statement may be scoped to the resource a CloudTrail
 * record names, the ARN formats of the Service Authorization Reference
 * ("arn:${Partition}:s3:::${BucketName}/${ObjectName}"): the actions with
 * exactly one resource type, and the S3 actions that take a bucket or an
 * access point (an object, or an object through an access point). Every other
 * action (no resource type: Resource must be "*"; several evaluated at once)
 * has none. See data/iam-actions/SOURCE.md. */

/* Loads resource formats ("Service:Action<TAB>pattern[<TAB>pattern...]" per
 * line, '#' comments and blank lines skipped) into a catalog loaded with
 * ct_catalog_load_tsv, which has none until then; replaces any loaded
 * before. `name` is used in error messages (file:line). Errors: CT_ENOMEM, or
 * CT_EINPUT with err's file and line for a line naming an action the catalog
 * lacks, naming one twice, without a pattern, or with a pattern that is not
 * "arn:" followed by literal text and ${Name} variables (no wildcard, no
 * whitespace). On error the catalog has no resource formats. */
int ct_catalog_load_resources(ct_catalog *c, const char *text, size_t len, const char *name,
                              ct_error *err);
/* The ARN formats (*n of them, borrowed) of catalog action i, or NULL with
 * *n 0 when a statement granting it may not be scoped to a resource. A format
 * shared by several actions is one string (compare pointers to group them). */
const char *const *ct_catalog_resource_patterns(const ct_catalog *c, size_t i, size_t *n);
/* Whether `arn` has the ARN format `pattern` (case-sensitive). A ${Name}
 * variable matches one or more characters other than ':' and '/'; a variable
 * that ends the pattern after a ':' or '/' of its resource part (a resource
 * type before it: "role/${RoleNameWithPath}", "function:${FunctionName}",
 * "${BucketName}/${ObjectName}") matches one or more of any characters. Every
 * other character, "${" without a closing '}' included, matches itself. A
 * pattern of more than 1024 bytes matches nothing. */
bool ct_arn_matches_pattern(const char *pattern, const char *arn);

/* ---- what CloudTrail can show: the visibility model ----
 *
 * Each IAM action is in one class, from the tables in data/cloudtrail/
 * (each row with its evidence and the day it was checked; see SOURCES.md):
 * an action is visible only when every API call needing it is. */
typedef enum ct_visibility_class {
    CT_VIS_MANAGEMENT,     /* management events: every trail logs them */
    CT_VIS_DATA_EVENT,     /* data events: logged only when a trail selects them */
    CT_VIS_NEVER_LOGGED,   /* CloudTrail does not record the calls */
    CT_VIS_PERMISSION_ONLY /* no API call of its own: checked inside other calls */
} ct_visibility_class;

/* Where a fact comes from: source keys (explained in SOURCES.md) and the
 * day the row was last checked against them (YYYY-MM-DD), or "" for a row
 * kept on weaker evidence (an inferred correspondence: leaving it out would
 * make its action look unused). */
typedef struct ct_evidence {
    const char *source;
    const char *checked;
} ct_evidence;

/* A row of data-events.tsv: calls needing `action` are data events of this
 * resource type (resources.type of advanced event selectors), logged under
 * event_source with this readOnly. */
typedef struct ct_data_event_rule {
    const char *resource_type; /* "AWS::S3::Object" */
    const char *event_source;  /* "s3.amazonaws.com" */
    const char *action;        /* lowercase */
    int read_only;             /* readOnly of those calls: 1, 0, or -1 when both occur */
    const char *apis;          /* the eventNames needing it, space-separated ("*": any) */
    ct_evidence evidence;
} ct_data_event_rule;

/* What the tables say about one action. All pointers are borrowed and
 * valid for the life of the process. */
typedef struct ct_visibility {
    ct_visibility_class cls;
    ct_evidence evidence; /* of the never-logged or permission-only row */
    /* CT_VIS_DATA_EVENT: the data-event rows of the action (one or more). */
    const ct_data_event_rule *const *data_rules;
    size_t data_rule_count;
    /* Whatever cls: the action is also checked inside calls of these
     * actions (lowercase), with no event of its own there (permission-only
     * rows of kind also-inside). */
    const char *const *inside_of;
    size_t inside_count;
    ct_evidence inside_evidence;
} ct_visibility;

/* Fills *out for a lowercase action ("s3:getobject"); an action no table
 * names is CT_VIS_MANAGEMENT with no evidence (NULL strings). Works for
 * actions outside the catalog (a string lookup). Returns 0, or what
 * ct_actions_tables_load returns when the tables cannot load (then *out is
 * CT_VIS_MANAGEMENT). */
int ct_action_visibility(const char *action_lower, ct_visibility *out);

/* The JSON name of a class: "management_event", "data_event",
 * "never_logged", "permission_only". */
const char *ct_visibility_class_name(ct_visibility_class cls);

/* What the tables say about catalog action i (as ct_action_visibility),
 * looked up when the catalog was loaded; NULL past the end. */
const ct_visibility *ct_catalog_visibility(const ct_catalog *c, size_t i);

/* The catalog actions also checked inside calls of catalog action `host`
 * (those whose ct_visibility.inside_of names it), ascending: *n of them. */
const size_t *ct_catalog_hosted(const ct_catalog *c, size_t host, size_t *n);

/* "Benign" for --ignore-benign: actions whose name part (after the colon)
 * starts with "list" or "describe", and actions the catalog classes as access
 * level List (some "get..." calls). `c` may be NULL (name rule only). */
bool ct_action_is_benign(const ct_catalog *c, const char *action_lower);
/* The same for catalog action i, without looking its name up. */
bool ct_catalog_is_benign(const ct_catalog *c, size_t i);

/* The IAM actions one CloudTrail event needed. */
#define CT_EVENT_MAX_ACTIONS 4
typedef struct ct_event_actions {
    size_t count; /* 0: the event is no call of an IAM action (not-actions.tsv) */
    char actions[CT_EVENT_MAX_ACTIONS][160]; /* lowercase "service:action" */
    /* The call needs no permission (no-permission.tsv): it uses its action
     * when a policy grants it, but is never "used but not granted". */
    bool permission_free;
    /* The call needs one or more of `actions`, depending on its request,
     * which the eventName does not show (request-dependent.tsv): it proves
     * the use of none of them, and none of them can be judged unused. */
    bool request_dependent;
} ct_event_actions;

/* Maps eventSource ("s3.amazonaws.com") and eventName ("ListBuckets") to IAM
 * actions ("s3:listallmybuckets"). The usual rule is "<first label of the
 * eventSource>:<eventName>", lowercased; a trailing API version
 * (CreateFunction20150331, UpdateDistribution2014_01_31, ...v2) is cut.
 * Irregular prefixes, renames, multi-action events, permission-free and
 * request-dependent events and events that are no IAM action (count 0) come
 * from the tables in data/cloudtrail/; not-actions.tsv rows also match
 * eventNames that no API uses (a URL), before the name is checked. Thread-safe; the tables
 * are parsed on first use. Returns 0, CT_EINPUT when a name is empty, too long
 * for a slot or has bytes no AWS name uses, or CT_ENOMEM / CT_EINTERNAL when
 * the tables cannot be loaded (ct_catalog_load_builtin reports that first). */
int ct_event_map(const char *event_source, const char *event_name, ct_event_actions *out);

/* Whether a role session name is one an SDK makes up when the caller gives
 * none (data/cloudtrail/generic-session-names.tsv: "botocore-session-"
 * and digits, ...): it names a program, not a person. */
bool ct_session_name_is_generic(const char *name);

/* An action that lets whoever holds it give themselves, or an identity
 * they can use, any permission (writing permission policies, trust
 * policies, other users' credentials): data/review/admin-equivalent.tsv,
 * each row with its IAM API Reference page. */
typedef struct ct_admin_equivalent {
    const char *action; /* lowercase */
    const char *why;    /* what it lets the holder do */
    const char *source;
} ct_admin_equivalent;

/* The table's rows (valid for the life of the process), or NULL with
 * *count 0 when the tables cannot load. */
const ct_admin_equivalent *ct_admin_equivalents(size_t *count);

#endif
