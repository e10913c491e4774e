/* Config loader: YAML (via libyaml's document API) -> ct_config, with
 * positions in every error so a typo is easy to find. */
#include "cloudtracker/config.h"
#include "cloudtracker/date.h"
#include "cloudtracker/util.h"

#include <errno.h>
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

static int resolved(loader *l, char *raw, char **out)
{
    *out = ct_path_resolve(l->cfg->dir, raw);
    free(raw);
    if (!*out)
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    return 0;
}

static int load_account(loader *l, yaml_node_t *n, ct_account *acct)
{
    static const char *const keys[] = {"name", "id", "iam", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(l, n, "each entry of accounts must be a mapping with name and id");
    int rc = check_keys(l, n, "an account", keys);
    if (rc)
        return rc;
    yaml_node_t *name = lookup(l, n, "name"), *id = lookup(l, n, "id"), *iam = lookup(l, n, "iam");
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
    if (iam) {
        char *raw;
        if ((rc = scalar(l, iam, "iam", &raw)) || (rc = resolved(l, raw, &acct->iam_path)))
            return rc;
    }
    return 0;
}

static int load_accounts(loader *l, yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(l, n, "accounts must be a list");
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    l->cfg->accounts = calloc(count ? count : 1, sizeof(ct_account));
    if (!l->cfg->accounts)
        return ct_error_set(l->err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = node(l, n->data.sequence.items.start[i]);
        ct_account *a = &l->cfg->accounts[i];
        l->cfg->account_count = i + 1;
        int rc = load_account(l, item, a);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++) {
            const ct_account *b = &l->cfg->accounts[j];
            if (strcmp(a->name, b->name) == 0)
                return fail_at(l, item, "account name '%s' is used twice", a->name);
            if (strcmp(a->id, b->id) == 0)
                return fail_at(l, item, "account id %s is used twice", a->id);
        }
    }
    return 0;
}

static int load_files(loader *l, yaml_node_t *n)
{
    static const char *const keys[] = {"paths", "store", NULL};
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
            if ((rc = scalar(l, item, "each of files.paths", &raw)))
                return rc;
            if (!raw[0]) {
                free(raw);
                return fail_at(l, item, "an entry of files.paths is empty");
            }
            if ((rc = resolved(l, raw, &l->cfg->log_paths[i])))
                return rc;
            l->cfg->log_path_count = i + 1;
        }
    }
    if (store) {
        char *raw;
        if ((rc = scalar(l, store, "files.store", &raw)))
            return rc;
        if (!raw[0]) {
            free(raw);
            return fail_at(l, store, "files.store is empty");
        }
        free(l->cfg->store_path);
        l->cfg->store_path = NULL;
        if ((rc = resolved(l, raw, &l->cfg->store_path)))
            return rc;
    }
    return 0;
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
    int rc = 0;
    if (!yaml_parser_initialize(&parser)) {
        ct_config_free(cfg);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = ct_error_set_at(err, CT_ECONFIG, path, (int)parser.problem_mark.line + 1,
                             (int)parser.problem_mark.column + 1, "YAML syntax error: %s%s%s",
                             parser.problem ? parser.problem : "unknown problem",
                             parser.context ? " " : "", parser.context ? parser.context : "");
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
    FILE *f = fopen(path, "rb");
    if (!f)
        return ct_error_set_at(err, CT_ECONFIG, path, 0, 0, "cannot read config: %s",
                               strerror(errno));
    ct_buf text = CT_BUF_INIT;
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (ct_buf_append(&text, chunk, n) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            break;
        }
    if (rc == 0 && ferror(f))
        rc =
            ct_error_set_at(err, CT_ECONFIG, path, 0, 0, "cannot read config: %s", strerror(errno));
    fclose(f);
    if (rc == 0)
        rc = ct_config_parse(out, text.data ? text.data : "", text.len, path, err);
    ct_buf_release(&text);
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
    }
    free(cfg->accounts);
    for (size_t i = 0; i < cfg->log_path_count; i++)
        free(cfg->log_paths[i]);
    free(cfg->log_paths);
    free(cfg->store_path);
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
