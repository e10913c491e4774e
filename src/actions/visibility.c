/* The visibility model: which IAM actions CloudTrail can show, from three
 * tables of data/cloudtrail/ (never-logged.tsv, permission-only.tsv,
 * data-events.tsv), each row with its evidence. Loaded once with the other
 * CloudTrail tables (tables.c) and never freed. */
#include "actions/internal.h"
#include "cloudtracker/actions.h"
#include "cloudtracker/date.h"
#include "cloudtracker/util.h"

#include <stdlib.h>
#include <string.h>

/* What the tables say about one action (or, for a pattern, its prefix). */
struct vis_entry {
    const char *never_source, *never_checked;   /* never-logged row */
    const char *no_api_source, *no_api_checked; /* permission-only, kind no-api */
    const char **inside_of;                     /* permission-only, kind also-inside */
    size_t inside_count;
    const char *inside_source, *inside_checked;
    const ct_data_event_rule **data; /* data-events rows */
    size_t data_count;
};

/* A row ending in '*': every action starting with `prefix`. */
struct vis_pattern {
    char *prefix;
    size_t len;
    struct vis_entry entry;
};

static struct {
    ct_strmap *actions; /* lowercase action -> struct vis_entry* */
    struct vis_pattern *patterns;
    size_t npatterns;
} V;

/* A copy that lives as long as the process. */
static const char *keep(const char *s)
{
    char *copy = ct_strdup(s);
    if (!copy)
        ct_tables_oom();
    return copy;
}

static bool valid_day(const char *s)
{
    int64_t day;
    return ct_date_parse_day(s, &day) == 0;
}

/* The entry of a lowercase action or pattern, made on first use. */
static struct vis_entry *entry_of(const struct ct_table_row *r, const char *action,
                                  bool allow_pattern)
{
    if (!ct_tables_valid_action(action, allow_pattern)) {
        ct_tables_fail(r, CT_EINTERNAL, "bad IAM action \"%s\"%s", action,
                       allow_pattern ? "" : " (no pattern here)");
        return NULL;
    }
    size_t n = strlen(action);
    if (action[n - 1] == '*') {
        for (size_t i = 0; i < V.npatterns; i++)
            if (V.patterns[i].len == n - 1 && memcmp(V.patterns[i].prefix, action, n - 1) == 0)
                return &V.patterns[i].entry;
        struct vis_pattern *grown = realloc(V.patterns, (V.npatterns + 1) * sizeof(*grown));
        if (!grown) {
            ct_tables_oom();
            return NULL;
        }
        V.patterns = grown;
        struct vis_pattern *p = &V.patterns[V.npatterns];
        memset(p, 0, sizeof(*p));
        if (!(p->prefix = ct_strndup(action, n - 1))) {
            ct_tables_oom();
            return NULL;
        }
        p->len = n - 1;
        V.npatterns++;
        return &p->entry;
    }
    void *v = NULL;
    if (ct_strmap_get(V.actions, action, &v))
        return v;
    struct vis_entry *e = calloc(1, sizeof(*e));
    if (!e || ct_strmap_put(V.actions, action, e) != 0) {
        free(e);
        ct_tables_oom();
        return NULL;
    }
    return e;
}

/* Checks the source and checked fields shared by every table: a source is
 * required; checked is the day the row was verified against it, or "-" for
 * a row kept on weaker evidence (an inferred correspondence), which is
 * kept because leaving it out would make its action look unused. */
static int check_evidence(const struct ct_table_row *r, const char *source, const char *checked)
{
    if (!source[0])
        return ct_tables_fail(r, CT_EINTERNAL, "no source given");
    if (strcmp(checked, "-") != 0 && !valid_day(checked))
        return ct_tables_fail(r, CT_EINTERNAL, "checked \"%s\" is neither a YYYY-MM-DD date nor -",
                              checked);
    return 0;
}

/* The checked field kept: "" for "-". */
static const char *keep_checked(const char *checked)
{
    static const char none[] = "";
    if (strcmp(checked, "-") == 0)
        return none;
    return keep(checked);
}

/* never-logged.tsv: action, apis, source, checked. */
static int never_row(struct ct_table_row *r)
{
    ct_str_lower(r->field[0]);
    int rc = check_evidence(r, r->field[2], r->field[3]);
    if (rc)
        return rc;
    struct vis_entry *e = entry_of(r, r->field[0], true);
    if (!e)
        return CT_EINTERNAL;
    if (e->never_source)
        return ct_tables_fail(r, CT_EINTERNAL, "action \"%s\" listed twice", r->field[0]);
    if (!(e->never_source = keep(r->field[2])) || !(e->never_checked = keep_checked(r->field[3])))
        return CT_ENOMEM;
    return 0;
}

/* permission-only.tsv: action, kind (no-api | also-inside), host actions
 * (space-separated; "*" for no-api rows only), source, checked. */
static int permission_row(struct ct_table_row *r)
{
    ct_str_lower(r->field[0]);
    const char *kind = r->field[1];
    bool no_api = strcmp(kind, "no-api") == 0;
    if (!no_api && strcmp(kind, "also-inside") != 0)
        return ct_tables_fail(r, CT_EINTERNAL, "kind must be no-api or also-inside, not \"%s\"",
                              kind);
    int rc = check_evidence(r, r->field[3], r->field[4]);
    if (rc)
        return rc;
    struct vis_entry *e = entry_of(r, r->field[0], no_api);
    if (!e)
        return CT_EINTERNAL;
    if (no_api) {
        if (e->no_api_source)
            return ct_tables_fail(r, CT_EINTERNAL, "action \"%s\" listed twice", r->field[0]);
        if (!(e->no_api_source = keep(r->field[3])) ||
            !(e->no_api_checked = keep_checked(r->field[4])))
            return CT_ENOMEM;
        return 0;
    }
    if (e->inside_count)
        return ct_tables_fail(r, CT_EINTERNAL, "action \"%s\" listed twice", r->field[0]);
    char *hosts = r->field[2];
    ct_str_lower(hosts);
    char *save = NULL;
    for (char *h = strtok_r(hosts, " ", &save); h; h = strtok_r(NULL, " ", &save)) {
        if (!ct_tables_valid_action(h, false))
            return ct_tables_fail(r, CT_EINTERNAL, "bad host action \"%s\"", h);
        const char **grown = realloc(e->inside_of, (e->inside_count + 1) * sizeof(*grown));
        if (!grown)
            return ct_tables_oom();
        e->inside_of = grown;
        if (!(e->inside_of[e->inside_count] = keep(h)))
            return CT_ENOMEM;
        e->inside_count++;
    }
    if (e->inside_count == 0)
        return ct_tables_fail(r, CT_EINTERNAL, "an also-inside row names its host actions");
    if (!(e->inside_source = keep(r->field[3])) || !(e->inside_checked = keep_checked(r->field[4])))
        return CT_ENOMEM;
    return 0;
}

/* data-events.tsv: resource type, eventSource, action, readOnly (true,
 * false, unknown), apis, source, checked. */
static int data_row(struct ct_table_row *r)
{
    const char *type = r->field[0], *source = r->field[1], *ro = r->field[3];
    if (strncmp(type, "AWS::", 5) != 0)
        return ct_tables_fail(r, CT_EINTERNAL,
                              "resource type \"%s\" does not start with AWS::", type);
    if (!strchr(source, '.') || strchr(source, ' '))
        return ct_tables_fail(r, CT_EINTERNAL, "bad eventSource \"%s\"", source);
    int read_only = strcmp(ro, "true") == 0 ? 1 : strcmp(ro, "false") == 0 ? 0 : -1;
    if (read_only < 0 && strcmp(ro, "unknown") != 0)
        return ct_tables_fail(r, CT_EINTERNAL, "read_only must be true, false or unknown");
    int rc = check_evidence(r, r->field[5], r->field[6]);
    if (rc)
        return rc;
    ct_str_lower(r->field[2]);
    struct vis_entry *e = entry_of(r, r->field[2], false);
    if (!e)
        return CT_EINTERNAL;
    for (size_t i = 0; i < e->data_count; i++)
        if (strcmp(e->data[i]->resource_type, type) == 0 &&
            strcmp(e->data[i]->event_source, source) == 0)
            return ct_tables_fail(r, CT_EINTERNAL, "%s listed twice for %s", r->field[2], type);
    const ct_data_event_rule **grown = realloc(e->data, (e->data_count + 1) * sizeof(*grown));
    if (!grown)
        return ct_tables_oom();
    e->data = grown;
    ct_data_event_rule *rule = calloc(1, sizeof(*rule));
    if (!rule)
        return ct_tables_oom();
    if (!(rule->resource_type = keep(type)) || !(rule->event_source = keep(source)) ||
        !(rule->action = keep(r->field[2])) || !(rule->apis = keep(r->field[4])) ||
        !(rule->evidence.source = keep(r->field[5])) ||
        !(rule->evidence.checked = keep_checked(r->field[6])))
        return CT_ENOMEM; /* what was kept stays: the load has failed anyway */
    rule->read_only = read_only;
    e->data[e->data_count++] = rule;
    return 0;
}

void ct_visibility_tables_load(void)
{
    if (!(V.actions = ct_strmap_new())) {
        ct_tables_oom();
        return;
    }
    if (ct_tables_each_row("data/cloudtrail/never-logged.tsv", ct_data_never_logged,
                           ct_data_never_logged_len, 4, never_row) ||
        ct_tables_each_row("data/cloudtrail/permission-only.tsv", ct_data_permission_only,
                           ct_data_permission_only_len, 5, permission_row) ||
        ct_tables_each_row("data/cloudtrail/data-events.tsv", ct_data_data_events,
                           ct_data_data_events_len, 7, data_row))
        return;
}

/* Folds one table entry into *out. The class goes to the least visible
 * one that applies: never logged, then permission-only, then data event. */
static void apply(const struct vis_entry *e, ct_visibility *out)
{
    if (e->never_source && out->cls != CT_VIS_NEVER_LOGGED) {
        out->cls = CT_VIS_NEVER_LOGGED;
        out->evidence = (ct_evidence){e->never_source, e->never_checked};
    } else if (e->no_api_source && out->cls != CT_VIS_NEVER_LOGGED &&
               out->cls != CT_VIS_PERMISSION_ONLY) {
        out->cls = CT_VIS_PERMISSION_ONLY;
        out->evidence = (ct_evidence){e->no_api_source, e->no_api_checked};
    }
    if (e->data_count && out->cls == CT_VIS_MANAGEMENT)
        out->cls = CT_VIS_DATA_EVENT;
    if (e->data_count) {
        out->data_rules = e->data;
        out->data_rule_count = e->data_count;
    }
    if (e->inside_count) {
        out->inside_of = e->inside_of;
        out->inside_count = e->inside_count;
        out->inside_evidence = (ct_evidence){e->inside_source, e->inside_checked};
    }
}

int ct_action_visibility(const char *action_lower, ct_visibility *out)
{
    memset(out, 0, sizeof(*out));
    out->cls = CT_VIS_MANAGEMENT;
    int rc = ct_actions_tables_load(NULL);
    if (rc != 0 || !action_lower)
        return rc;
    char buf[160];
    size_t n = strnlen(action_lower, sizeof(buf));
    if (n == sizeof(buf))
        return 0;
    /* Callers pass lowercase names; lowering again makes a stray capital
     * harmless. */
    memcpy(buf, action_lower, n + 1);
    ct_str_lower(buf);
    for (size_t i = 0; i < V.npatterns; i++)
        if (n >= V.patterns[i].len && memcmp(buf, V.patterns[i].prefix, V.patterns[i].len) == 0)
            apply(&V.patterns[i].entry, out);
    void *v = NULL;
    if (ct_strmap_get(V.actions, buf, &v))
        apply(v, out);
    return 0;
}

const char *ct_visibility_class_name(ct_visibility_class cls)
{
    switch (cls) {
    case CT_VIS_DATA_EVENT:
        return "data_event";
    case CT_VIS_NEVER_LOGGED:
        return "never_logged";
    case CT_VIS_PERMISSION_ONLY:
        return "permission_only";
    case CT_VIS_MANAGEMENT:
        break;
    }
    return "management_event";
}
