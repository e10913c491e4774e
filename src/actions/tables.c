/* The CloudTrail tables of data/cloudtrail/ (compiled in), parsed once per
 * process into hash maps and never freed: eventSource prefixes, event
 * renames, permission-free events and events that are no IAM action here;
 * the visibility tables in visibility.c. Also the row reader they share. */
#include "actions/internal.h"
#include "cloudtracker/actions.h"
#include "cloudtracker/util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    int status;          /* 0, CT_ENOMEM or CT_EINTERNAL */
    char message[768];   /* why loading failed, with file:line */
    ct_strmap *prefixes; /* eventSource stem -> char* IAM prefix */
    ct_strmap *events;   /* "prefix:eventname" -> ct_event_actions* */
    /* not-actions.tsv rows ending in '*': eventSource and eventName prefix */
    struct name_pattern {
        char *source;
        char *prefix;
        size_t len;
    } * not_patterns;
    size_t n_not_patterns;
    /* generic-session-names.tsv: a prefix, and whether digits must follow */
    struct generic_name {
        char *prefix;
        size_t len;
        bool digits;
    } * generic_names;
    size_t n_generic_names, cap_generic_names;
    /* admin-equivalent.tsv */
    ct_admin_equivalent *admin;
    size_t n_admin, cap_admin;
} T;

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Records the first loading error (later ones are consequences) and returns
 * code. */
int ct_tables_fail(const struct ct_table_row *r, int code, const char *fmt, ...)
{
    if (T.status == 0) {
        T.status = code;
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (r)
            snprintf(T.message, sizeof(T.message), "%s:%d: %s", r->file, r->line, what);
        else
            snprintf(T.message, sizeof(T.message), "%s", what);
    }
    return code;
}

int ct_tables_oom(void)
{
    return ct_tables_fail(NULL, CT_ENOMEM, "out of memory loading the CloudTrail tables");
}

int ct_tables_each_row(const char *file, const unsigned char *data, size_t len, size_t want,
                       ct_table_row_fn fn)
{
    char *copy = ct_strndup((const char *)data, len);
    if (!copy)
        return ct_tables_oom();
    int rc = 0;
    struct ct_table_row r = {file, 0, 0, {NULL}};
    char *p = copy;
    while (*p && rc == 0) {
        r.line++;
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        size_t n = strlen(p);
        if (n > 0 && p[n - 1] == '\r')
            p[--n] = '\0';
        if (n > 0 && p[0] != '#') {
            r.nfields = 0;
            char *f = p;
            for (;;) {
                if (r.nfields == CT_TABLE_MAX_FIELDS)
                    break;
                r.field[r.nfields++] = f;
                char *tab = strchr(f, '\t');
                if (!tab)
                    break;
                *tab = '\0';
                f = tab + 1;
            }
            if (r.nfields != want)
                rc = ct_tables_fail(&r, CT_EINTERNAL, "expected %zu tab-separated fields", want);
            else
                rc = fn(&r);
        }
        p = next;
    }
    free(copy);
    return rc;
}

bool ct_tables_valid_action(const char *s, bool star)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(((ct_event_actions *)0)->actions[0]))
        return false;
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || colon[1] == '\0' || strchr(colon + 1, ':'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '*' && star && i == n - 1)
            continue;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
              ch == '.' || ch == ':'))
            return false;
    }
    return true;
}

/* Lowercase "service" part of an eventSource: without ".amazonaws.com", then
 * through the prefix table, whole stem first, then first label. Writes into
 * out (size bytes); false when the source is empty, too long or has bytes no
 * AWS host name uses. Reads T.prefixes, which may still be filling up. */
static bool source_prefix(const char *src, char *out, size_t size)
{
    char stem[256];
    size_t n = strnlen(src, sizeof(stem));
    if (n == 0 || n == sizeof(stem))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
              ch == '.'))
            return false;
        stem[i] = ch;
    }
    stem[n] = '\0';
    static const char *const suffixes[] = {".amazonaws.com", ".amazonaws.com.cn"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t sl = strlen(suffixes[i]);
        if (n > sl && memcmp(stem + n - sl, suffixes[i], sl) == 0) {
            n -= sl;
            stem[n] = '\0';
            break;
        }
    }
    void *mapped = NULL;
    if (!T.prefixes || !ct_strmap_get(T.prefixes, stem, &mapped)) {
        char *dot = strchr(stem, '.');
        if (dot)
            *dot = '\0';
        if (T.prefixes)
            ct_strmap_get(T.prefixes, stem, &mapped);
    }
    const char *result = mapped ? (const char *)mapped : stem;
    size_t rl = strlen(result);
    if (rl == 0 || rl >= size)
        return false;
    memcpy(out, result, rl + 1);
    return true;
}

static int prefix_row(struct ct_table_row *r)
{
    char *stem = r->field[0], *prefix = r->field[1];
    ct_str_lower(stem);
    ct_str_lower(prefix);
    if (!*stem || !*prefix || strchr(prefix, ':') || strchr(prefix, '.'))
        return ct_tables_fail(r, CT_EINTERNAL, "bad eventSource or prefix \"%s\"", stem);
    if (ct_strmap_get(T.prefixes, stem, NULL))
        return ct_tables_fail(r, CT_EINTERNAL, "eventSource \"%s\" listed twice", stem);
    char *value = ct_strdup(prefix);
    if (!value || ct_strmap_put(T.prefixes, stem, value) != 0) {
        free(value);
        return ct_tables_oom();
    }
    return 0;
}

/* Key "prefix:eventname" for an eventSource and an eventName, normalized the
 * way ct_event_map does it. */
static int event_key(const struct ct_table_row *r, const char *source, const char *name, char *key,
                     size_t size)
{
    char prefix[160], lname[160];
    if (!source_prefix(source, prefix, sizeof(prefix)))
        return ct_tables_fail(r, CT_EINTERNAL, "bad eventSource \"%s\"", source);
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(lname))
        return ct_tables_fail(r, CT_EINTERNAL, "bad eventName \"%s\"", name);
    memcpy(lname, name, n + 1);
    ct_str_lower(lname);
    if (ct_actions_strip_version(lname, n) != n)
        return ct_tables_fail(r, CT_EINTERNAL,
                              "eventName \"%s\" has a version suffix, list it without", name);
    if ((size_t)snprintf(key, size, "%s:%s", prefix, lname) >= size)
        return ct_tables_fail(r, CT_EINTERNAL, "eventName \"%s\" too long", name);
    return 0;
}

static int add_event_rule(const struct ct_table_row *r, const char *key, ct_event_actions *rule)
{
    if (ct_strmap_get(T.events, key, NULL)) {
        free(rule);
        return ct_tables_fail(r, CT_EINTERNAL, "event \"%s\" listed twice", key);
    }
    if (ct_strmap_put(T.events, key, rule) != 0) {
        free(rule);
        return ct_tables_oom();
    }
    return 0;
}

static int rename_row(struct ct_table_row *r)
{
    char key[320];
    int rc = event_key(r, r->field[0], r->field[1], key, sizeof(key));
    if (rc)
        return rc;
    ct_event_actions *rule = calloc(1, sizeof(*rule));
    if (!rule)
        return ct_tables_oom();
    char *list = r->field[2];
    ct_str_lower(list);
    char *save = NULL;
    for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (rule->count == CT_EVENT_MAX_ACTIONS) {
            free(rule);
            return ct_tables_fail(r, CT_EINTERNAL, "more than %d actions", CT_EVENT_MAX_ACTIONS);
        }
        if (!ct_tables_valid_action(tok, false)) {
            free(rule);
            return ct_tables_fail(r, CT_EINTERNAL, "bad IAM action \"%s\"", tok);
        }
        memcpy(rule->actions[rule->count++], tok, strlen(tok) + 1);
    }
    if (rule->count == 0) {
        free(rule);
        return ct_tables_fail(r, CT_EINTERNAL, "no IAM action (use no-permission.tsv)");
    }
    return add_event_rule(r, key, rule);
}

/* A permission-free event keeps its action (a policy may still grant it,
 * and then a call of it is a use), flagged so that a call is never "used
 * but not granted". The action is the renamed one when event-renames.tsv
 * lists the event (loaded before), else the usual "prefix:eventname". */
static int no_permission_row(struct ct_table_row *r)
{
    char key[320];
    int rc = event_key(r, r->field[0], r->field[1], key, sizeof(key));
    if (rc)
        return rc;
    void *existing = NULL;
    if (ct_strmap_get(T.events, key, &existing)) {
        ct_event_actions *rule = existing;
        if (rule->count == 0 || rule->permission_free)
            return ct_tables_fail(r, CT_EINTERNAL, "event \"%s\" listed twice", key);
        rule->permission_free = true;
        return 0;
    }
    ct_event_actions *rule = calloc(1, sizeof(*rule));
    if (!rule)
        return ct_tables_oom();
    memcpy(rule->actions[0], key, strlen(key) + 1);
    rule->count = 1;
    rule->permission_free = true;
    return add_event_rule(r, key, rule);
}

/* An event that is no call of an IAM action maps to none. A name ending in
 * '*' covers every eventName it starts (the AWS access portal logs URLs as
 * eventNames). */
static int not_action_row(struct ct_table_row *r)
{
    size_t n = strlen(r->field[1]);
    if (n > 1 && r->field[1][n - 1] == '*') {
        struct name_pattern *grown =
            realloc(T.not_patterns, (T.n_not_patterns + 1) * sizeof(*grown));
        if (!grown)
            return ct_tables_oom();
        T.not_patterns = grown;
        struct name_pattern *p = &T.not_patterns[T.n_not_patterns];
        if (!(p->source = ct_strdup(r->field[0])) ||
            !(p->prefix = ct_strndup(r->field[1], n - 1))) {
            free(p->source);
            return ct_tables_oom();
        }
        p->len = n - 1;
        T.n_not_patterns++;
        return 0;
    }
    char key[320];
    int rc = event_key(r, r->field[0], r->field[1], key, sizeof(key));
    if (rc)
        return rc;
    if (!r->field[2][0])
        return ct_tables_fail(r, CT_EINTERNAL, "no reason given");
    ct_event_actions *rule = calloc(1, sizeof(*rule));
    if (!rule)
        return ct_tables_oom();
    return add_event_rule(r, key, rule); /* count 0: no action */
}

/* A call that needs some of the listed actions, depending on its request. */
static int request_dependent_row(struct ct_table_row *r)
{
    int rc = rename_row(r);
    if (rc)
        return rc;
    char key[320];
    if ((rc = event_key(r, r->field[0], r->field[1], key, sizeof(key))))
        return rc;
    void *rule = NULL;
    ct_strmap_get(T.events, key, &rule);
    ((ct_event_actions *)rule)->request_dependent = true;
    return 0;
}

/* A session name an SDK makes up: its prefix and what follows it. */
static int generic_name_row(struct ct_table_row *r)
{
    bool digits = strcmp(r->field[1], "digits") == 0;
    if (!digits && strcmp(r->field[1], "any") != 0)
        return ct_tables_fail(r, CT_EINTERNAL, "what follows is \"digits\" or \"any\"");
    if (!r->field[0][0] || !r->field[2][0])
        return ct_tables_fail(r, CT_EINTERNAL, "a row needs a prefix and a source");
    struct generic_name *names =
        ct_array_grow(T.generic_names, &T.cap_generic_names, T.n_generic_names, sizeof(*names), 4);
    if (!names)
        return ct_tables_oom();
    T.generic_names = names;
    struct generic_name *g = &names[T.n_generic_names];
    if (!(g->prefix = ct_strdup(r->field[0])))
        return ct_tables_oom();
    g->len = strlen(g->prefix);
    g->digits = digits;
    T.n_generic_names++;
    return 0;
}

static int admin_equivalent_row(struct ct_table_row *r)
{
    const char *colon = strchr(r->field[0], ':');
    if (!colon || colon == r->field[0] || !colon[1] || !r->field[1][0] || !r->field[2][0])
        return ct_tables_fail(r, CT_EINTERNAL, "a row needs service:action, what, and a source");
    for (const char *c = r->field[0]; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            return ct_tables_fail(r, CT_EINTERNAL, "actions are written in lowercase");
    ct_admin_equivalent *rows =
        ct_array_grow(T.admin, &T.cap_admin, T.n_admin, sizeof(*rows), 16);
    if (!rows)
        return ct_tables_oom();
    T.admin = rows;
    ct_admin_equivalent *a = &rows[T.n_admin];
    if (!(a->action = ct_strdup(r->field[0])) || !(a->why = ct_strdup(r->field[1])) ||
        !(a->source = ct_strdup(r->field[2])))
        return ct_tables_oom();
    T.n_admin++;
    return 0;
}

static void load_tables(void)
{
    T.prefixes = ct_strmap_new();
    T.events = ct_strmap_new();
    if (!T.prefixes || !T.events) {
        ct_tables_oom();
        return;
    }
    /* Prefixes first: the event tables key their rows through them; renames
     * before no-permission, which flags renamed events. */
    if (ct_tables_each_row("data/cloudtrail/eventsource-prefix.tsv", ct_data_eventsource_prefix,
                           ct_data_eventsource_prefix_len, 3, prefix_row) ||
        ct_tables_each_row("data/cloudtrail/event-renames.tsv", ct_data_event_renames,
                           ct_data_event_renames_len, 4, rename_row) ||
        ct_tables_each_row("data/cloudtrail/event-renames-apigateway.tsv",
                           ct_data_event_renames_apigateway, ct_data_event_renames_apigateway_len,
                           4, rename_row) ||
        ct_tables_each_row("data/cloudtrail/no-permission.tsv", ct_data_no_permission,
                           ct_data_no_permission_len, 3, no_permission_row) ||
        ct_tables_each_row("data/cloudtrail/request-dependent.tsv", ct_data_request_dependent,
                           ct_data_request_dependent_len, 4, request_dependent_row) ||
        ct_tables_each_row("data/cloudtrail/not-actions.tsv", ct_data_not_actions,
                           ct_data_not_actions_len, 4, not_action_row) ||
        ct_tables_each_row("data/cloudtrail/generic-session-names.tsv",
                           ct_data_generic_session_names, ct_data_generic_session_names_len, 3,
                           generic_name_row) ||
        ct_tables_each_row("data/review/admin-equivalent.tsv", ct_data_admin_equivalent,
                           ct_data_admin_equivalent_len, 3, admin_equivalent_row))
        return;
    ct_visibility_tables_load();
}

int ct_actions_tables_load(ct_error *err)
{
    pthread_once(&tables_once, load_tables);
    if (T.status != 0)
        return ct_error_set(err, T.status, "%s", T.message);
    return 0;
}

bool ct_actions_source_prefix(const char *event_source, char *out, size_t size)
{
    if (ct_actions_tables_load(NULL) != 0)
        return false;
    return source_prefix(event_source, out, size);
}

const ct_event_actions *ct_actions_event_rule(const char *key)
{
    void *value;
    if (ct_actions_tables_load(NULL) != 0 || !ct_strmap_get(T.events, key, &value))
        return NULL;
    return value;
}

bool ct_actions_not_action_pattern(const char *event_source, const char *event_name)
{
    if (ct_actions_tables_load(NULL) != 0)
        return false;
    for (size_t i = 0; i < T.n_not_patterns; i++) {
        const struct name_pattern *p = &T.not_patterns[i];
        if (strcmp(p->source, event_source) == 0 && strncmp(p->prefix, event_name, p->len) == 0)
            return true;
    }
    return false;
}

bool ct_session_name_is_generic(const char *name)
{
    if (!name || ct_actions_tables_load(NULL) != 0)
        return false;
    for (size_t i = 0; i < T.n_generic_names; i++) {
        const struct generic_name *g = &T.generic_names[i];
        if (strncmp(name, g->prefix, g->len) != 0)
            continue;
        const char *rest = name + g->len;
        if (!g->digits)
            return true;
        size_t n = strspn(rest, "0123456789");
        if (n > 0 && rest[n] == '\0')
            return true;
    }
    return false;
}

const ct_admin_equivalent *ct_admin_equivalents(size_t *count)
{
    *count = 0;
    if (ct_actions_tables_load(NULL) != 0)
        return NULL;
    *count = T.n_admin;
    return T.admin;
}
