/* Config loader: YAML (via libyaml's document API) -> ct_config, with
 * positions in every error so a typo is easy to find. */
#include "cloudtracker/config.h"
#include "cloudtracker/date.h"
#include "cloudtracker/util.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct loader {
    yaml_document_t *doc;
    const char *path;
    ct_config *cfg;
    ct_error *err;
} loader;

static int fail_at(loader *l, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a CT_ECONFIG error at the node's position (line:col, 1-based). */
static int fail_at(loader *l, const yaml_node_t *node, const char *fmt, ...)
{
    int line = node ? (int)node->start_mark.line + 1 : 0;
    int col = node ? (int)node->start_mark.column + 1 : 0;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ct_error_set_at(l->err, CT_ECONFIG, l->path, line, col, "%s", msg);
}

static const char *node_type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a value";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

/* A scalar's text as a new string; fails unless the node is a scalar. */
static int scalar(loader *l, const yaml_node_t *n, const char *what, char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail_at(l, n, "%s must be a single value, not %s", what, node_type_name(n));
    *out = ct_strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    if (!*out)
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    if (strlen(*out) != n->data.scalar.length) {
        free(*out);
        *out = NULL;
        return fail_at(l, n, "%s contains a NUL byte", what);
    }
    return 0;
}

static yaml_node_t *node(loader *l, int id)
{
    return yaml_document_get_node(l->doc, id);
}

/* Checks that every key of a mapping is in the NULL-terminated `allowed`. */
static int check_keys(loader *l, yaml_node_t *map, const char *section, const char *const *allowed)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(l, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(l, k, "keys in %s must be plain names", section);
        const char *key = (const char *)k->data.scalar.value;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(key, *a) == 0;
        if (!ok) {
            return fail_at(l, k, "unknown key '%s' in %s", key, section);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = node(l, q->key);
            if (k2->type == YAML_SCALAR_NODE &&
                strcmp((const char *)k2->data.scalar.value, key) == 0)
                return fail_at(l, k, "key '%s' appears twice in %s", key, section);
        }
    }
    return 0;
}

static yaml_node_t *lookup(loader *l, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(l, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return node(l, p->value);
    }
    return NULL;
}

static bool is_account_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return false;
    return n == 12;
}

/* True for a plain scalar YAML reads as null (`key:`, `~`, `null`): the
 * document API hands it over as text, but no one means a file named "~". */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !v[0] || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

/* A leading ~ (alone or before '/') as $HOME and ~user as that user's home
 * folder, as the shell and the AWS CLI's own config do. *out is NULL when
 * raw has no leading ~. */
static int expand_home(loader *l, const yaml_node_t *n, const char *what, const char *raw,
                       char **out)
{
    *out = NULL;
    if (raw[0] != '~')
        return 0;
    const char *rest = strchr(raw, '/');
    size_t ulen = rest ? (size_t)(rest - raw) - 1 : strlen(raw) - 1;
    const char *home;
    if (ulen == 0) {
        home = getenv("HOME");
        if (!home || !home[0])
            return fail_at(l, n, "%s starts with ~ but HOME is not set", what);
    } else {
        char *user = ct_strndup(raw + 1, ulen);
        if (!user)
            return ct_error_set(l->err, CT_ENOMEM, "out of memory");
        const struct passwd *pw = getpwnam(user);
        if (!pw || !pw->pw_dir || !pw->pw_dir[0]) {
            int rc = fail_at(l, n, "%s starts with ~%s but there is no user %s", what, user, user);
            free(user);
            return rc;
        }
        free(user);
        home = pw->pw_dir;
    }
    size_t hlen = strlen(home);
    while (hlen > 1 && home[hlen - 1] == '/')
        hlen--; /* "~/x" with HOME=/home/me/ is /home/me/x */
    ct_buf b = CT_BUF_INIT;
    if (ct_buf_append(&b, home, hlen) ||
        ct_buf_puts(&b, rest ? (hlen == 1 && home[0] == '/' ? rest + 1 : rest) : "")) {
        ct_buf_release(&b);
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    }
    *out = ct_buf_detach(&b);
    return 0;
}

/* A path setting (node n, text raw, which this frees) made usable: an empty
 * or null one is an error naming the setting, a leading ~ is expanded and a
 * relative path is joined to the config's folder. */
static int resolved(loader *l, const yaml_node_t *n, const char *what, char *raw, char **out)
{
    int rc = 0;
    if (!raw[0])
        rc = fail_at(l, n, "%s is empty", what);
    else if (is_null(n))
        rc = fail_at(l, n, "%s is empty: YAML reads a plain '%s' as null%s", what, raw,
                     raw[0] == '~' ? " (quote it, '~', for the home folder)" : "");
    char *expanded = NULL;
    if (!rc)
        rc = expand_home(l, n, what, raw, &expanded);
    if (!rc) {
        *out = ct_path_resolve(l->cfg->dir, expanded ? expanded : raw);
        if (!*out)
            rc = ct_error_set(l->err, CT_ENOMEM, "out of memory");
    }
    free(expanded);
    free(raw);
    return rc;
}

/* The optional file setting `key` of the account mapping `map`, resolved
 * into *out like every path setting; *out stays NULL when it is absent. */
static int account_path(loader *l, yaml_node_t *map, const char *key, const char *account,
                        char **out)
{
    yaml_node_t *n = lookup(l, map, key);
    if (!n)
        return 0;
    char *raw, what[200];
    snprintf(what, sizeof(what), "the %s file of account '%s'", key, account);
    int rc = scalar(l, n, key, &raw);
    return rc ? rc : resolved(l, n, what, raw, out);
}

static int load_account(loader *l, yaml_node_t *n, ct_account *acct)
{
    static const char *const keys[] = {"name", "id", "iam", "identity_store", "credential_report",
                                       NULL};
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(l, n, "each entry of accounts must be a mapping with name and id");
    int rc = check_keys(l, n, "an account", keys);
    if (rc)
        return rc;
    yaml_node_t *name = lookup(l, n, "name"), *id = lookup(l, n, "id");
    if (!name)
        return fail_at(l, n, "an account has no name");
    if (!id)
        return fail_at(l, n, "an account has no id");
    if ((rc = scalar(l, name, "an account name", &acct->name)) ||
        (rc = scalar(l, id, "an account id", &acct->id)))
        return rc;
    if (!acct->name[0])
        return fail_at(l, name, "an account name is empty");
    if (!is_account_id(acct->id)) {
        return fail_at(l, id, "account id '%s' is not 12 digits (quote ids with leading zeros)",
                       acct->id);
    }
    if ((rc = account_path(l, n, "iam", acct->name, &acct->iam_path)) ||
        (rc = account_path(l, n, "identity_store", acct->name, &acct->identity_store_path)))
        return rc;
    return account_path(l, n, "credential_report", acct->name, &acct->credential_report_path);
}

static int load_accounts(loader *l, yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(l, n, "accounts must be a list");
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    l->cfg->accounts = calloc(count ? count : 1, sizeof(ct_account));
    /* Names and ids seen so far -> their entry's node: hash lookups keep
     * the duplicate check linear (an organisation can have many accounts). */
    ct_strmap *names = ct_strmap_new(), *ids = ct_strmap_new();
    int rc = 0;
    if (!l->cfg->accounts || !names || !ids) {
        rc = ct_error_set(l->err, CT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < count && !rc; i++) {
        yaml_node_t *item = node(l, n->data.sequence.items.start[i]);
        ct_account *a = &l->cfg->accounts[i];
        l->cfg->account_count = i + 1;
        if ((rc = load_account(l, item, a)))
            break;
        void *first;
        if (ct_strmap_get(names, a->name, &first))
            rc = fail_at(l, item, "account name '%s' is used twice (first on line %d)", a->name,
                         (int)((yaml_node_t *)first)->start_mark.line + 1);
        else if (ct_strmap_get(ids, a->id, &first))
            rc = fail_at(l, item, "account id %s is used twice (first on line %d)", a->id,
                         (int)((yaml_node_t *)first)->start_mark.line + 1);
        else if (ct_strmap_put(names, a->name, item) || ct_strmap_put(ids, a->id, item))
            rc = ct_error_set(l->err, CT_ENOMEM, "out of memory");
    }
done:
    ct_strmap_free(names);
    ct_strmap_free(ids);
    return rc;
}

static int opt_string(loader *l, yaml_node_t *map, const char *key, const char *what, char **out);

static int load_files(loader *l, yaml_node_t *n)
{
    static const char *const keys[] = {"paths", "store", "timestamp_field", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(l, n, "files must be a mapping with paths and store");
    int rc = check_keys(l, n, "files", keys);
    if (rc)
        return rc;
    yaml_node_t *paths = lookup(l, n, "paths"), *store = lookup(l, n, "store");
    if (paths) {
        /* A single folder may be written without brackets. */
        size_t count =
            paths->type == YAML_SEQUENCE_NODE
                ? (size_t)(paths->data.sequence.items.top - paths->data.sequence.items.start)
                : 1;
        l->cfg->log_paths = calloc(count ? count : 1, sizeof(char *));
        if (!l->cfg->log_paths)
            return ct_error_set(l->err, CT_ENOMEM, "out of memory");
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *item = paths->type == YAML_SEQUENCE_NODE
                                    ? node(l, paths->data.sequence.items.start[i])
                                    : paths;
            char *raw;
            if ((rc = scalar(l, item, "each of files.paths", &raw)) ||
                (rc = resolved(l, item, "an entry of files.paths", raw, &l->cfg->log_paths[i])))
                return rc;
            l->cfg->log_path_count = i + 1;
        }
    }
    if (store) {
        char *raw;
        if ((rc = scalar(l, store, "files.store", &raw)))
            return rc;
        free(l->cfg->store_path);
        l->cfg->store_path = NULL;
        if ((rc = resolved(l, store, "files.store", raw, &l->cfg->store_path)))
            return rc;
    }
    return opt_string(l, n, "timestamp_field", "files.timestamp_field", &l->cfg->time_field);
}

static int load_day(loader *l, yaml_node_t *n, const char *what, int64_t *day)
{
    char *raw;
    int rc = scalar(l, n, what, &raw);
    if (rc)
        return rc;
    if (ct_date_parse_day(raw, day) != 0)
        rc = fail_at(l, n, "%s: '%s' is not a date of the form YYYY-MM-DD", what, raw);
    free(raw);
    return rc;
}

static int load_window(loader *l, yaml_node_t *n)
{
    static const char *const keys[] = {"start", "end", "days", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(l, n, "window must be a mapping with start, end or days");
    int rc = check_keys(l, n, "window", keys);
    if (rc)
        return rc;
    yaml_node_t *start = lookup(l, n, "start"), *end = lookup(l, n, "end"),
                *days = lookup(l, n, "days");
    if (start && (rc = load_day(l, start, "window.start", &l->cfg->window_start)))
        return rc;
    if (end && (rc = load_day(l, end, "window.end", &l->cfg->window_end)))
        return rc;
    l->cfg->has_window_start = start != NULL;
    l->cfg->has_window_end = end != NULL;
    if (days) {
        char *raw, *endp;
        if ((rc = scalar(l, days, "window.days", &raw)))
            return rc;
        errno = 0;
        long long v = strtoll(raw, &endp, 10);
        bool bad = errno || endp == raw || *endp || v < 1 || v > 100000;
        free(raw);
        if (bad)
            return fail_at(l, days, "window.days must be a whole number from 1 to 100000");
        l->cfg->window_days = v;
    }
    if (start && end && l->cfg->window_start > l->cfg->window_end)
        return fail_at(l, start, "window.start is after window.end");
    return 0;
}

/* ---- the elasticsearch: section ---- */

/* An optional scalar: *out stays NULL when the key is absent. */
static int opt_string(loader *l, yaml_node_t *map, const char *key, const char *what, char **out)
{
    yaml_node_t *n = lookup(l, map, key);
    if (!n)
        return 0;
    int rc = scalar(l, n, what, out);
    if (rc == 0 && !(*out)[0]) {
        free(*out);
        *out = NULL;
        return fail_at(l, n, "%s is empty", what);
    }
    return rc;
}

static int opt_path(loader *l, yaml_node_t *map, const char *key, const char *what, char **out)
{
    char *raw = NULL;
    int rc = opt_string(l, map, key, what, &raw);
    if (rc || !raw)
        return rc;
    return resolved(l, lookup(l, map, key), what, raw, out);
}

static int opt_bool(loader *l, yaml_node_t *map, const char *key, const char *what, bool *out)
{
    yaml_node_t *n = lookup(l, map, key);
    if (!n)
        return 0;
    char *raw;
    int rc = scalar(l, n, what, &raw);
    if (rc)
        return rc;
    if (strcmp(raw, "true") == 0 || strcmp(raw, "yes") == 0)
        *out = true;
    else if (strcmp(raw, "false") == 0 || strcmp(raw, "no") == 0)
        *out = false;
    else
        rc = fail_at(l, n, "%s must be true or false", what);
    free(raw);
    return rc;
}

/* A whole number in [lo, hi]. */
static int opt_long(loader *l, yaml_node_t *map, const char *key, const char *what, long lo,
                    long hi, long *out, bool *given)
{
    yaml_node_t *n = lookup(l, map, key);
    if (given)
        *given = n != NULL;
    if (!n)
        return 0;
    char *raw, *endp;
    int rc = scalar(l, n, what, &raw);
    if (rc)
        return rc;
    errno = 0;
    long long v = strtoll(raw, &endp, 10);
    bool bad = errno || endp == raw || *endp || v < lo || v > hi;
    free(raw);
    if (bad)
        return fail_at(l, n, "%s must be a whole number from %ld to %ld", what, lo, hi);
    *out = (long)v;
    return 0;
}

/* An index name the loader writes to, replacing *out when given. With
 * `format`, %Y, %m and %d stand for the event's year, month and day (and %%
 * for %), and at least one must be used, so the pattern that finds the
 * indices (each token made '*') never matches the state index. The rest is
 * a safe subset of what Elasticsearch allows in index names. */
static int opt_index_name(loader *l, yaml_node_t *map, const char *key, bool format, char **out)
{
    char *v = NULL, what[64];
    snprintf(what, sizeof(what), "elasticsearch.%s", key);
    int rc = opt_string(l, map, key, what, &v);
    if (rc || !v)
        return rc;
    yaml_node_t *n = lookup(l, map, key);
    const char *why = NULL;
    bool token = false;
    for (const char *p = v; *p && !why; p++) {
        if (*p == '%' && format) {
            if (p[1] == 'Y' || p[1] == 'm' || p[1] == 'd')
                token = true;
            else if (p[1] != '%')
                why = "the only tokens are %Y, %m, %d and %%";
            if (!why)
                p++;
        } else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-_.+", *p))) {
            why = "use lower-case letters, digits, '-', '_', '.' and '+'";
        }
    }
    if (!why && format && !token)
        why = "it needs %Y, %m or %d (one index per period)";
    if (!why && (v[0] == '-' || v[0] == '_' || v[0] == '+' || v[0] == '.'))
        why = "an index name cannot start with -, _, + or .";
    if (!why && strlen(v) > 200)
        why = "it is longer than 200 bytes";
    if (why) {
        rc = fail_at(l, n, "%s '%s' cannot be used: %s", what, v, why);
        free(v);
        return rc;
    }
    free(*out);
    *out = v;
    return 0;
}

/* Seconds (fractions allowed, 1 ms to a day) as milliseconds. */
static int opt_seconds(loader *l, yaml_node_t *map, const char *key, const char *what, long *ms)
{
    yaml_node_t *n = lookup(l, map, key);
    if (!n)
        return 0;
    char *raw, *endp;
    int rc = scalar(l, n, what, &raw);
    if (rc)
        return rc;
    errno = 0;
    double v = strtod(raw, &endp);
    bool bad = errno || endp == raw || *endp || !(v >= 0.001 && v <= 86400.0);
    free(raw);
    if (bad)
        return fail_at(l, n, "%s must be a number of seconds from 0.001 to 86400", what);
    *ms = (long)(v * 1000.0 + 0.5);
    return 0;
}

/* Credentials end up in HTTP headers, where a CR or LF would start a header
 * of their own: a value holding any control byte is refused, and freed
 * (wiped) with *value set to NULL. `what` names where the value came from;
 * the message never shows the value. */
static int header_safe(loader *l, const yaml_node_t *node, const char *what, char **value)
{
    if (!*value)
        return 0;
    for (const unsigned char *p = (const unsigned char *)*value; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            memset(*value, 0, strlen(*value));
            free(*value);
            *value = NULL;
            return fail_at(l, node,
                           "%s holds a control character (a byte below 0x20, or 0x7f), which "
                           "cannot be sent in an HTTP header",
                           what);
        }
    return 0;
}

/* A secret given either as `key` or as `key_env` (the name of an environment
 * variable holding it). Messages name the variable, never the value. */
static int opt_secret(loader *l, yaml_node_t *map, const char *key, char **out)
{
    char env_key[64];
    snprintf(env_key, sizeof(env_key), "%s_env", key);
    yaml_node_t *direct = lookup(l, map, key), *env = lookup(l, map, env_key);
    if (direct && env)
        return fail_at(l, env, "give elasticsearch.%s or elasticsearch.%s, not both", key, env_key);
    if (direct) {
        if (direct->type != YAML_SCALAR_NODE)
            return fail_at(l, direct, "elasticsearch.%s must be a single value", key);
        if (direct->data.scalar.length == 0)
            return fail_at(l, direct, "elasticsearch.%s is empty", key);
        char what[80];
        snprintf(what, sizeof(what), "elasticsearch.%s", key);
        int rc = scalar(l, direct, what, out);
        return rc ? rc : header_safe(l, direct, what, out);
    }
    if (!env)
        return 0;
    char *name;
    char what[80];
    snprintf(what, sizeof(what), "elasticsearch.%s", env_key);
    int rc = scalar(l, env, what, &name);
    if (rc)
        return rc;
    const char *value = name[0] ? getenv(name) : NULL;
    if (!value || !value[0]) {
        rc = fail_at(l, env, "environment variable '%s' (%s) is not set or empty", name, what);
        free(name);
        return rc;
    }
    if (!(*out = ct_strdup(value))) {
        free(name);
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    }
    char var[400];
    snprintf(var, sizeof(var), "environment variable '%.256s' (%s)", name, what);
    free(name);
    return header_safe(l, env, var, out);
}

static int add_url(loader *l, char *url)
{
    ct_es_config *es = &l->cfg->es;
    if (!url)
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    char **urls = realloc(es->urls, (es->url_count + 1) * sizeof(*urls));
    if (!urls) {
        free(url);
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    }
    es->urls = urls;
    /* Paths are appended to the base, so it never ends with a slash. */
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    es->urls[es->url_count++] = url;
    return 0;
}

static bool has_scheme(const char *s)
{
    return ct_str_starts_with(s, "http://") || ct_str_starts_with(s, "https://");
}

/* A URL, or host[:port] completed with the scheme and port 9200. */
static int add_host(loader *l, yaml_node_t *n, const char *what, const char *scheme)
{
    char *raw;
    int rc = scalar(l, n, what, &raw);
    if (rc)
        return rc;
    if (!raw[0] || strpbrk(raw, " \t\r\n@")) {
        free(raw);
        return fail_at(l, n, "%s must be a URL or host[:port] without credentials", what);
    }
    if (strstr(raw, "://")) {
        if (!has_scheme(raw)) {
            free(raw);
            return fail_at(l, n, "%s must start with http:// or https://", what);
        }
        return add_url(l, raw);
    }
    ct_buf b = CT_BUF_INIT;
    /* An IPv6 literal is bracketed ("[::1]", "[::1]:9200"): its port, if
     * any, follows the bracket. */
    const char *after = raw[0] == '[' ? strchr(raw, ']') : raw;
    bool has_port = after && strchr(after, ':') != NULL;
    rc = ct_buf_printf(&b, "%s://%s%s", scheme, raw, has_port ? "" : ":9200");
    free(raw);
    if (rc) {
        ct_buf_release(&b);
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    }
    return add_url(l, ct_buf_detach(&b));
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 (standard or URL alphabet, padding optional); NULL when
 * malformed or out of memory. */
static char *b64_decode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=')
            break;
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    if (strlen(out) != o) {
        free(out);
        return NULL;
    }
    return out;
}

/* Elastic Cloud's cloud_id: "name:base64(host[:port]$es_uuid$kibana_uuid)"
 * names https://es_uuid.host[:port]. */
static int add_cloud_id(loader *l, yaml_node_t *n)
{
    char *raw;
    int rc = scalar(l, n, "elasticsearch.cloud_id", &raw);
    if (rc)
        return rc;
    const char *colon = strchr(raw, ':');
    char *decoded = b64_decode(colon ? colon + 1 : raw);
    free(raw);
    char *dollar = decoded ? strchr(decoded, '$') : NULL;
    if (!dollar || dollar == decoded || !dollar[1] || dollar[1] == '$') {
        free(decoded);
        return fail_at(l, n, "elasticsearch.cloud_id is not a valid Elastic Cloud id");
    }
    *dollar = '\0';
    char *uuid = dollar + 1, *end = strchr(uuid, '$');
    if (end)
        *end = '\0';
    char *port = strchr(decoded, ':');
    if (port)
        *port++ = '\0';
    ct_buf b = CT_BUF_INIT;
    rc = ct_buf_printf(&b, "https://%s.%s%s%s", uuid, decoded, port ? ":" : "", port ? port : "");
    free(decoded);
    if (rc) {
        ct_buf_release(&b);
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    }
    return add_url(l, ct_buf_detach(&b));
}

static int load_sigv4(loader *l, yaml_node_t *n)
{
    static const char *const keys[] = {"region", "service", NULL};
    ct_es_config *es = &l->cfg->es;
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(l, n, "elasticsearch.aws_sigv4 must be a mapping with region and service");
    int rc = check_keys(l, n, "elasticsearch.aws_sigv4", keys);
    if (rc ||
        (rc = opt_string(l, n, "region", "elasticsearch.aws_sigv4.region", &es->aws_region)) ||
        (rc = opt_string(l, n, "service", "elasticsearch.aws_sigv4.service", &es->aws_service)))
        return rc;
    if (!es->aws_region)
        return fail_at(l, n, "elasticsearch.aws_sigv4 has no region");
    for (const char *c = es->aws_region; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return fail_at(l, lookup(l, n, "region"),
                           "elasticsearch.aws_sigv4.region '%s' is not a region name",
                           es->aws_region);
    if (!es->aws_service && !(es->aws_service = ct_strdup("es")))
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    if (strcmp(es->aws_service, "es") != 0 && strcmp(es->aws_service, "aoss") != 0)
        return fail_at(l, lookup(l, n, "service"),
                       "elasticsearch.aws_sigv4.service must be es or aoss");
    es->aws_sigv4 = true;
    return 0;
}

static int load_elasticsearch(loader *l, yaml_node_t *n)
{
    static const char *const keys[] = {"api_key",
                                       "api_key_env",
                                       "aws_sigv4",
                                       "bearer_token",
                                       "bearer_token_env",
                                       "bulk_bytes",
                                       "bulk_requests",
                                       "bulk_retries",
                                       "ca_cert",
                                       "client_cert",
                                       "client_key",
                                       "cloud_id",
                                       "connect_timeout",
                                       "host",
                                       "hosts",
                                       "index",
                                       "index_format",
                                       "insecure",
                                       "key_prefix",
                                       "max_response_bytes",
                                       "password",
                                       "password_env",
                                       "port",
                                       "proxy",
                                       "request_timeout",
                                       "retries",
                                       "scheme",
                                       "schema",
                                       "state_index",
                                       "timestamp_field",
                                       "url",
                                       "username",
                                       NULL};
    ct_es_config *es = &l->cfg->es;
    es->line = (int)n->start_mark.line + 1;
    es->connect_timeout_ms = 10000;
    es->request_timeout_ms = 900000; /* the original's 900 s */
    es->retries = 3;
    es->max_response_bytes = 256L << 20;
    es->bulk_bytes = 8L << 20;
    es->bulk_requests = 4;
    es->bulk_retries = 9;
    if (!(es->index_format = ct_strdup("cloudtrail-%Y.%m")) ||
        !(es->state_index = ct_strdup("cloudtracker-state")))
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    /* The original tool's config may leave the section empty (`elasticsearch:`). */
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0)
        return add_url(l, ct_strdup("http://localhost:9200")) ||
                       !(es->index = ct_strdup("cloudtrail"))
                   ? ct_error_set(l->err, CT_ENOMEM, "out of memory")
                   : 0;
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(l, n, "elasticsearch must be a mapping (host, port, index, ...)");
    int rc = check_keys(l, n, "elasticsearch", keys);
    if (rc)
        return rc;
    yaml_node_t *url = lookup(l, n, "url"), *hosts = lookup(l, n, "hosts"),
                *host = lookup(l, n, "host"), *cloud = lookup(l, n, "cloud_id"),
                *port = lookup(l, n, "port");
    int where = !!url + !!hosts + !!host + !!cloud;
    if (where > 1)
        return fail_at(l, n, "give one of elasticsearch.url, hosts, host or cloud_id");
    if (port && !host)
        return fail_at(l, port, "elasticsearch.port goes with elasticsearch.host");
    char *scheme = NULL;
    if ((rc = opt_string(l, n, "scheme", "elasticsearch.scheme", &scheme)))
        return rc;
    if (scheme && strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        free(scheme);
        return fail_at(l, lookup(l, n, "scheme"), "elasticsearch.scheme must be http or https");
    }
    const char *sch = scheme ? scheme : "http";
    if (url) {
        char *raw;
        if ((rc = scalar(l, url, "elasticsearch.url", &raw)) == 0) {
            if (!has_scheme(raw) || strchr(raw, '@') || strpbrk(raw, " \t\r\n")) {
                free(raw);
                rc = fail_at(l, url,
                             "elasticsearch.url must be http:// or https:// followed by a host, "
                             "without credentials (use username and password_env)");
            } else {
                rc = add_url(l, raw);
            }
        }
    } else if (hosts) {
        if (hosts->type != YAML_SEQUENCE_NODE)
            rc = add_host(l, hosts, "elasticsearch.hosts", sch);
        else if (hosts->data.sequence.items.top == hosts->data.sequence.items.start)
            rc = fail_at(l, hosts, "elasticsearch.hosts is empty");
        for (yaml_node_item_t *i = hosts->data.sequence.items.start;
             rc == 0 && hosts->type == YAML_SEQUENCE_NODE && i < hosts->data.sequence.items.top;
             i++)
            rc = add_host(l, node(l, *i), "each of elasticsearch.hosts", sch);
    } else if (cloud) {
        rc = add_cloud_id(l, cloud);
    } else {
        char *h = NULL;
        long p = 9200;
        if ((rc = opt_string(l, n, "host", "elasticsearch.host", &h)) == 0 &&
            (rc = opt_long(l, n, "port", "elasticsearch.port", 1, 65535, &p, NULL)) == 0) {
            if (h && (strpbrk(h, "/@ \t") || strchr(h, ':'))) {
                rc = fail_at(l, host, "elasticsearch.host must be a host name (port goes in port)");
            } else {
                ct_buf b = CT_BUF_INIT;
                if (ct_buf_printf(&b, "%s://%s:%ld", sch, h ? h : "localhost", p))
                    rc = ct_error_set(l->err, CT_ENOMEM, "out of memory");
                else
                    rc = add_url(l, ct_buf_detach(&b));
                ct_buf_release(&b);
            }
        }
        free(h);
    }
    free(scheme);
    if (rc)
        return rc;

    char *schema = NULL;
    long retries = 3;
    if ((rc = opt_string(l, n, "index", "elasticsearch.index", &es->index)) ||
        (rc = opt_string(l, n, "timestamp_field", "elasticsearch.timestamp_field",
                         &es->timestamp_field)) ||
        (rc = opt_string(l, n, "schema", "elasticsearch.schema", &schema)) ||
        (rc = opt_string(l, n, "username", "elasticsearch.username", &es->username)) ||
        (rc = header_safe(l, lookup(l, n, "username"), "elasticsearch.username", &es->username)) ||
        (rc = opt_secret(l, n, "password", &es->password)) ||
        (rc = opt_secret(l, n, "api_key", &es->api_key)) ||
        (rc = opt_secret(l, n, "bearer_token", &es->bearer_token)) ||
        (rc = opt_path(l, n, "ca_cert", "elasticsearch.ca_cert", &es->ca_cert)) ||
        (rc = opt_path(l, n, "client_cert", "elasticsearch.client_cert", &es->client_cert)) ||
        (rc = opt_path(l, n, "client_key", "elasticsearch.client_key", &es->client_key)) ||
        (rc = opt_bool(l, n, "insecure", "elasticsearch.insecure", &es->insecure)) ||
        (rc = opt_string(l, n, "proxy", "elasticsearch.proxy", &es->proxy)) ||
        (rc = opt_seconds(l, n, "connect_timeout", "elasticsearch.connect_timeout",
                          &es->connect_timeout_ms)) ||
        (rc = opt_seconds(l, n, "request_timeout", "elasticsearch.request_timeout",
                          &es->request_timeout_ms)) ||
        (rc = opt_long(l, n, "retries", "elasticsearch.retries", 0, 10, &retries, NULL)) ||
        (rc = opt_long(l, n, "max_response_bytes", "elasticsearch.max_response_bytes", 1L << 20,
                       1L << 30, &es->max_response_bytes, NULL)) ||
        (rc = opt_long(l, n, "bulk_bytes", "elasticsearch.bulk_bytes", 1024, 100L << 20,
                       &es->bulk_bytes, NULL)) ||
        (rc = opt_long(l, n, "bulk_requests", "elasticsearch.bulk_requests", 1, 16,
                       &es->bulk_requests, NULL)) ||
        (rc = opt_long(l, n, "bulk_retries", "elasticsearch.bulk_retries", 0, 20,
                       &es->bulk_retries, NULL)) ||
        (rc = opt_index_name(l, n, "index_format", true, &es->index_format)) ||
        (rc = opt_index_name(l, n, "state_index", false, &es->state_index))) {
        free(schema);
        return rc;
    }
    es->retries = (int)retries;
    /* key_prefix may be empty: the original's default is "". */
    yaml_node_t *prefix = lookup(l, n, "key_prefix");
    if (prefix && (rc = scalar(l, prefix, "elasticsearch.key_prefix", &es->key_prefix))) {
        free(schema);
        return rc;
    }
    if (schema) {
        if (strcmp(schema, "auto") == 0)
            es->schema = CT_ES_SCHEMA_AUTO;
        else if (strcmp(schema, "keyword") == 0)
            es->schema = CT_ES_SCHEMA_KEYWORD;
        else if (strcmp(schema, "dynamic") == 0)
            es->schema = CT_ES_SCHEMA_DYNAMIC;
        else if (strcmp(schema, "ecs") == 0)
            es->schema = CT_ES_SCHEMA_ECS;
        else
            rc = fail_at(l, lookup(l, n, "schema"),
                         "elasticsearch.schema must be auto, keyword, dynamic or ecs");
        free(schema);
        if (rc)
            return rc;
    }
    if (es->schema == CT_ES_SCHEMA_ECS && es->key_prefix && es->key_prefix[0])
        return fail_at(l, prefix, "elasticsearch.key_prefix does not apply to schema ecs");
    if (!es->index &&
        !(es->index =
              ct_strdup(es->schema == CT_ES_SCHEMA_ECS ? "logs-aws.cloudtrail-*" : "cloudtrail")))
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    if (strpbrk(es->index, " /?#\"\\<>|"))
        return fail_at(l, lookup(l, n, "index"),
                       "elasticsearch.index '%s' is not an index name, pattern or comma list",
                       es->index);

    yaml_node_t *sig = lookup(l, n, "aws_sigv4");
    if (sig && (rc = load_sigv4(l, sig)))
        return rc;
    if (es->password && !es->username)
        return fail_at(l, n, "elasticsearch.password needs elasticsearch.username");
    if (es->username && !es->password)
        return fail_at(l, n, "elasticsearch.username needs password or password_env");
    int auths = !!es->username + !!es->api_key + !!es->bearer_token + !!es->aws_sigv4;
    if (auths > 1)
        return fail_at(l, n,
                       "give one way to authenticate: username/password, api_key, "
                       "bearer_token or aws_sigv4");
    if (es->client_key && !es->client_cert)
        return fail_at(l, n, "elasticsearch.client_key needs elasticsearch.client_cert");
    return 0;
}

/* Secrets are overwritten before their memory goes back to the heap. */
static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

static void es_config_release(ct_es_config *es)
{
    for (size_t i = 0; i < es->url_count; i++)
        free(es->urls[i]);
    free(es->urls);
    free(es->index);
    free(es->index_format);
    free(es->state_index);
    free(es->key_prefix);
    free(es->timestamp_field);
    free(es->username);
    wipe_free(es->password);
    wipe_free(es->api_key);
    wipe_free(es->bearer_token);
    free(es->ca_cert);
    free(es->client_cert);
    free(es->client_key);
    free(es->proxy);
    free(es->aws_region);
    free(es->aws_service);
    memset(es, 0, sizeof(*es));
}

static int load_root(loader *l, yaml_node_t *root)
{
    static const char *const keys[] = {"accounts", "files", "window", "elasticsearch", NULL};
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(l, root, "the config must be a mapping with an accounts list");
    int rc = check_keys(l, root, "the config", keys);
    if (rc)
        return rc;
    yaml_node_t *accounts = lookup(l, root, "accounts"), *files = lookup(l, root, "files"),
                *window = lookup(l, root, "window"), *es = lookup(l, root, "elasticsearch");
    if (!accounts)
        return fail_at(l, root, "the config has no accounts list");
    if ((rc = load_accounts(l, accounts)))
        return rc;
    if (files && (rc = load_files(l, files)))
        return rc;
    if (window && (rc = load_window(l, window)))
        return rc;
    if (es) {
        l->cfg->has_elasticsearch = true;
        l->cfg->elasticsearch_line = (int)es->start_mark.line + 1;
        if ((rc = load_elasticsearch(l, es)))
            return rc;
    }
    return 0;
}

char *ct_path_resolve(const char *base_dir, const char *path)
{
    if (path[0] == '/' || !base_dir || !base_dir[0] || strcmp(base_dir, ".") == 0)
        return ct_strdup(path);
    ct_buf b = CT_BUF_INIT;
    if (ct_buf_puts(&b, base_dir) || ct_buf_puts(&b, "/") || ct_buf_puts(&b, path)) {
        ct_buf_release(&b);
        return NULL;
    }
    return ct_buf_detach(&b);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ct_strdup(".");
    if (slash == path)
        return ct_strdup("/");
    return ct_strndup(path, (size_t)(slash - path));
}

static int syntax_error(const yaml_parser_t *parser, const char *path, ct_error *err)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return ct_error_set_at(err, CT_ECONFIG, path, (int)parser->problem_mark.line + 1,
                           (int)parser->problem_mark.column + 1, "YAML syntax error: %s%s%s",
                           parser->problem ? parser->problem : "unknown problem",
                           parser->context ? " " : "", parser->context ? parser->context : "");
}

/* Checks the first document's nesting and anchors against the limits from
 * libyaml's events, before the document is built: libyaml's scanner slows
 * down with the square of the nesting (100,000 levels in 200 KB take half a
 * minute) and its loader with the square of the anchors, so the check stops
 * at the first event past a limit, having read little more than that. */
static int check_shape(const char *text, size_t len, const char *path, ct_error *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int depth = 0, rc = 0;
    size_t anchors = 0;
    bool done = false;
    while (!rc && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(&parser, path, err);
            break;
        }
        bool anchored = false;
        switch (ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            anchored = ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor != NULL
                                                            : ev.data.mapping_start.anchor != NULL;
            if (++depth > CT_CONFIG_MAX_DEPTH)
                rc = ct_error_set_at(err, CT_ECONFIG, path, (int)ev.start_mark.line + 1,
                                     (int)ev.start_mark.column + 1,
                                     "lists and mappings nested deeper than %d levels "
                                     "(the limit for a config file)",
                                     CT_CONFIG_MAX_DEPTH);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SCALAR_EVENT:
            anchored = ev.data.scalar.anchor != NULL;
            break;
        case YAML_ALIAS_EVENT:
            anchored = true;
            break;
        case YAML_DOCUMENT_END_EVENT: /* only the first document is loaded */
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        if (!rc && anchored && ++anchors > CT_CONFIG_MAX_ANCHORS)
            rc = ct_error_set_at(err, CT_ECONFIG, path, (int)ev.start_mark.line + 1,
                                 (int)ev.start_mark.column + 1,
                                 "more than %d YAML anchors and aliases (&name, *name) "
                                 "(the limit for a config file)",
                                 CT_CONFIG_MAX_ANCHORS);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int ct_config_parse(ct_config **out, const char *text, size_t len, const char *path, ct_error *err)
{
    *out = NULL;
    ct_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    cfg->window_days = 365;
    cfg->path = ct_strdup(path);
    cfg->dir = dir_of(path);
    cfg->store_path = cfg->dir ? ct_path_resolve(cfg->dir, ".cloudtracker/store.db") : NULL;
    if (!cfg->path || !cfg->dir || !cfg->store_path) {
        ct_config_free(cfg);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = check_shape(text, len, path, err);
    if (rc) {
        ct_config_free(cfg);
        return rc;
    }
    if (!yaml_parser_initialize(&parser)) {
        ct_config_free(cfg);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = syntax_error(&parser, path, err);
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        loader l = {&doc, path, cfg, err};
        if (!root)
            rc = ct_error_set_at(err, CT_ECONFIG, path, 0, 0, "the config file is empty");
        else
            rc = load_root(&l, root);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    if (rc) {
        ct_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

int ct_config_load(ct_config **out, const char *path, ct_error *err)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc =
        ct_file_read_regular(&text, &len, path, CT_CONFIG_MAX_BYTES, CT_ECONFIG, "config", err);
    if (rc)
        return rc;
    rc = ct_config_parse(out, text, len, path, err);
    free(text);
    return rc;
}

void ct_config_free(ct_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->account_count; i++) {
        free(cfg->accounts[i].name);
        free(cfg->accounts[i].id);
        free(cfg->accounts[i].iam_path);
        free(cfg->accounts[i].identity_store_path);
        free(cfg->accounts[i].credential_report_path);
    }
    free(cfg->accounts);
    for (size_t i = 0; i < cfg->log_path_count; i++)
        free(cfg->log_paths[i]);
    free(cfg->log_paths);
    free(cfg->store_path);
    free(cfg->time_field);
    es_config_release(&cfg->es);
    free(cfg->path);
    free(cfg->dir);
    free(cfg);
}

const ct_account *ct_config_find_account(const ct_config *cfg, const char *name_or_id)
{
    for (size_t i = 0; i < cfg->account_count; i++)
        if (strcmp(cfg->accounts[i].name, name_or_id) == 0)
            return &cfg->accounts[i];
    for (size_t i = 0; i < cfg->account_count; i++)
        if (strcmp(cfg->accounts[i].id, name_or_id) == 0)
            return &cfg->accounts[i];
    return NULL;
}
