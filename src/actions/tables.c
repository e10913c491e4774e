/* The CloudTrail tables of data/cloudtrail/ (compiled in): eventSource
 * prefixes, event renames, permission-free events and unlogged actions, parsed
 * once per process into hash maps and never freed. */
#include "actions/internal.h"
#include "cloudtracker/actions.h"
#include "cloudtracker/util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An unlogged-actions row ending in '*': every action starting with `text`. */
struct pattern {
    char *text;
    size_t len;
    const char *category;
};

static struct {
    int status;          /* 0, CT_ENOMEM or CT_EINTERNAL */
    char message[768];   /* why loading failed, with file:line */
    ct_strmap *prefixes; /* eventSource stem -> char* IAM prefix */
    ct_strmap *events;   /* "prefix:eventname" -> ct_event_actions* */
    ct_strmap *unlogged; /* action -> its category (static string) */
    struct pattern *patterns;
    size_t npatterns;
} T;

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* One parsed table line: up to 8 tab-separated fields, cut in place. */
#define MAX_FIELDS 8
struct row {
    const char *file;
    int line;
    size_t nfields;
    char *field[MAX_FIELDS];
};

static int fail(const struct row *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first loading error (later ones are consequences) and returns
 * code. */
static int fail(const struct row *r, int code, const char *fmt, ...)
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

static int oom(void)
{
    return fail(NULL, CT_ENOMEM, "out of memory loading the CloudTrail tables");
}

typedef int (*row_fn)(struct row *r);

/* Calls fn for each data line of an embedded table ('#' comments and blank
 * lines skipped), with `want` fields. Works on a private copy because the
 * fields are cut in place. */
static int each_row(const char *file, const unsigned char *data, size_t len, size_t want, row_fn fn)
{
    char *copy = ct_strndup((const char *)data, len);
    if (!copy)
        return oom();
    int rc = 0;
    struct row r = {file, 0, 0, {NULL}};
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
                if (r.nfields == MAX_FIELDS)
                    break;
                r.field[r.nfields++] = f;
                char *tab = strchr(f, '\t');
                if (!tab)
                    break;
                *tab = '\0';
                f = tab + 1;
            }
            if (r.nfields != want)
                rc = fail(&r, CT_EINTERNAL, "expected %zu tab-separated fields", want);
            else
                rc = fn(&r);
        }
        p = next;
    }
    free(copy);
    return rc;
}

/* True when s is a lowercase "service:action" name (or pattern, when `star`
 * allows one trailing '*') that fits a ct_event_actions slot. */
static bool valid_action(const char *s, bool star)
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

static int prefix_row(struct row *r)
{
    char *stem = r->field[0], *prefix = r->field[1];
    ct_str_lower(stem);
    ct_str_lower(prefix);
    if (!*stem || !*prefix || strchr(prefix, ':') || strchr(prefix, '.'))
        return fail(r, CT_EINTERNAL, "bad eventSource or prefix \"%s\"", stem);
    if (ct_strmap_get(T.prefixes, stem, NULL))
        return fail(r, CT_EINTERNAL, "eventSource \"%s\" listed twice", stem);
    char *value = ct_strdup(prefix);
    if (!value || ct_strmap_put(T.prefixes, stem, value) != 0) {
        free(value);
        return oom();
    }
    return 0;
}

/* Key "prefix:eventname" for an eventSource and an eventName, normalized the
 * way ct_event_map does it. */
static int event_key(const struct row *r, const char *source, const char *name, char *key,
                     size_t size)
{
    char prefix[160], lname[160];
    if (!source_prefix(source, prefix, sizeof(prefix)))
        return fail(r, CT_EINTERNAL, "bad eventSource \"%s\"", source);
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(lname))
        return fail(r, CT_EINTERNAL, "bad eventName \"%s\"", name);
    memcpy(lname, name, n + 1);
    ct_str_lower(lname);
    if (ct_actions_strip_version(lname, n) != n)
        return fail(r, CT_EINTERNAL, "eventName \"%s\" has a version suffix, list it without",
                    name);
    if ((size_t)snprintf(key, size, "%s:%s", prefix, lname) >= size)
        return fail(r, CT_EINTERNAL, "eventName \"%s\" too long", name);
    return 0;
}

static int add_event_rule(const struct row *r, const char *key, ct_event_actions *rule)
{
    if (ct_strmap_get(T.events, key, NULL)) {
        free(rule);
        return fail(r, CT_EINTERNAL, "event \"%s\" listed twice", key);
    }
    if (ct_strmap_put(T.events, key, rule) != 0) {
        free(rule);
        return oom();
    }
    return 0;
}

static int rename_row(struct row *r)
{
    char key[320];
    int rc = event_key(r, r->field[0], r->field[1], key, sizeof(key));
    if (rc)
        return rc;
    ct_event_actions *rule = calloc(1, sizeof(*rule));
    if (!rule)
        return oom();
    char *list = r->field[2];
    ct_str_lower(list);
    char *save = NULL;
    for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (rule->count == CT_EVENT_MAX_ACTIONS) {
            free(rule);
            return fail(r, CT_EINTERNAL, "more than %d actions", CT_EVENT_MAX_ACTIONS);
        }
        if (!valid_action(tok, false)) {
            free(rule);
            return fail(r, CT_EINTERNAL, "bad IAM action \"%s\"", tok);
        }
        memcpy(rule->actions[rule->count++], tok, strlen(tok) + 1);
    }
    if (rule->count == 0) {
        free(rule);
        return fail(r, CT_EINTERNAL, "no IAM action (use no-permission.tsv)");
    }
    return add_event_rule(r, key, rule);
}

static int no_permission_row(struct row *r)
{
    char key[320];
    int rc = event_key(r, r->field[0], r->field[1], key, sizeof(key));
    if (rc)
        return rc;
    ct_event_actions *rule = calloc(1, sizeof(*rule));
    if (!rule)
        return oom();
    return add_event_rule(r, key, rule); /* count 0: needs nothing */
}

static const char *const categories[] = {"data-event", "never-logged", "permission-only",
                                         "no-cloudtrail-service"};

static int unlogged_row(struct row *r)
{
    char *action = r->field[0];
    if (!valid_action(action, true))
        return fail(r, CT_EINTERNAL, "bad IAM action \"%s\" (lowercase service:action)", action);
    const char *category = NULL;
    for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
        if (strcmp(r->field[1], categories[i]) == 0)
            category = categories[i];
    if (!category)
        return fail(r, CT_EINTERNAL, "unknown category \"%s\"", r->field[1]);
    if (strcmp(r->field[2], "yes") != 0 && strcmp(r->field[2], "no") != 0)
        return fail(r, CT_EINTERNAL, "third field must be yes or no, not \"%s\"", r->field[2]);
    size_t n = strlen(action);
    if (action[n - 1] == '*') {
        struct pattern *grown = realloc(T.patterns, (T.npatterns + 1) * sizeof(*grown));
        if (!grown)
            return oom();
        T.patterns = grown;
        char *text = ct_strndup(action, n - 1);
        if (!text)
            return oom();
        T.patterns[T.npatterns].text = text;
        T.patterns[T.npatterns].len = n - 1;
        T.patterns[T.npatterns].category = category;
        T.npatterns++;
        return 0;
    }
    if (ct_strmap_get(T.unlogged, action, NULL))
        return fail(r, CT_EINTERNAL, "action \"%s\" listed twice", action);
    if (ct_strmap_put(T.unlogged, action, (void *)category) != 0)
        return oom();
    return 0;
}

static void load_tables(void)
{
    T.prefixes = ct_strmap_new();
    T.events = ct_strmap_new();
    T.unlogged = ct_strmap_new();
    if (!T.prefixes || !T.events || !T.unlogged) {
        oom();
        return;
    }
    /* Prefixes first: the event tables key their rows through them. */
    if (each_row("data/cloudtrail/eventsource-prefix.tsv", ct_data_eventsource_prefix,
                 ct_data_eventsource_prefix_len, 3, prefix_row) ||
        each_row("data/cloudtrail/event-renames.tsv", ct_data_event_renames,
                 ct_data_event_renames_len, 4, rename_row) ||
        each_row("data/cloudtrail/event-renames-apigateway.tsv", ct_data_event_renames_apigateway,
                 ct_data_event_renames_apigateway_len, 4, rename_row) ||
        each_row("data/cloudtrail/no-permission.tsv", ct_data_no_permission,
                 ct_data_no_permission_len, 3, no_permission_row) ||
        each_row("data/cloudtrail/unlogged-actions.tsv", ct_data_unlogged_actions,
                 ct_data_unlogged_actions_len, 4, unlogged_row))
        return;
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

const char *ct_actions_unlogged_category(const char *action_lower)
{
    if (!action_lower || ct_actions_tables_load(NULL) != 0)
        return NULL;
    char buf[160];
    size_t n = strnlen(action_lower, sizeof(buf));
    if (n == sizeof(buf))
        return NULL;
    /* Callers pass lowercase names; lowering again costs little and makes a
     * stray capital harmless. */
    memcpy(buf, action_lower, n + 1);
    ct_str_lower(buf);
    void *category;
    if (ct_strmap_get(T.unlogged, buf, &category))
        return category;
    for (size_t i = 0; i < T.npatterns; i++)
        if (n >= T.patterns[i].len && memcmp(buf, T.patterns[i].text, T.patterns[i].len) == 0)
            return T.patterns[i].category;
    return NULL;
}

bool ct_action_is_unlogged(const ct_catalog *c, const char *action_lower)
{
    (void)c; /* the table is global; the catalog is not needed to decide */
    return ct_actions_unlogged_category(action_lower) != NULL;
}
