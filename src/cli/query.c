/* The query command: --list, --user and --role (with --destrole and
 * --destaccount). Loads config, IAM data and catalog, refreshes the event
 * source, asks it, and hands the diff to the report module. */
#include "cli.h"

#include "cloudtracker/config.h"
#include "cloudtracker/date.h"
#include "cloudtracker/es.h"
#include "cloudtracker/iam.h"
#include "cloudtracker/report.h"
#include "cloudtracker/store.h"
#include "cloudtracker/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct query {
    const cli_options *opts;
    ct_error err;
    ct_config *cfg;
    const ct_account *account;
    const ct_account *dest_account;
    ct_iam *iam;
    ct_iam *dest_iam; /* NULL when the destination is --account itself */
    ct_catalog *catalog;
    ct_source *source;
    ct_window window;
    char **warnings;
    size_t warning_count;
    bool incomplete; /* the answer rests on skipped or partly read files */
} query;

static int warn(query *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints a warning on stderr and keeps it for the JSON document. */
static int warn(query *q, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    char **w = realloc(q->warnings, (q->warning_count + 1) * sizeof(*w));
    if (!w)
        return ct_error_set(&q->err, CT_ENOMEM, "out of memory");
    q->warnings = w;
    if (!(w[q->warning_count] = ct_strdup(text)))
        return ct_error_set(&q->err, CT_ENOMEM, "out of memory");
    q->warning_count++;
    cli_warn(text);
    return 0;
}

static int check_usage(query *q)
{
    const cli_options *o = q->opts;
    ct_error *err = &q->err;
    int modes = !!o->list + !!o->user + !!o->role;
    if (!o->account)
        return ct_error_set(err, CT_EUSAGE, "--account is required (see --help)");
    if (modes != 1)
        return ct_error_set(err, CT_EUSAGE, "give exactly one of --list, --user or --role");
    if (o->list && strcmp(o->list, "users") != 0 && strcmp(o->list, "roles") != 0)
        return ct_error_set(err, CT_EUSAGE, "--list takes users or roles");
    if (o->list && o->destrole)
        return ct_error_set(err, CT_EUSAGE, "--destrole goes with --user or --role, not --list");
    if (o->destaccount && !o->destrole)
        return ct_error_set(err, CT_EUSAGE, "--destaccount goes with --destrole");
    if (o->show_used && o->show_unused)
        return ct_error_set(err, CT_EUSAGE, "--show-used and --show-unused exclude each other");
    if (o->path_count)
        return ct_error_set(err, CT_EUSAGE, "paths are only taken by `cloudtracker ingest`");
    if (o->to || o->rejects)
        return ct_error_set(err, CT_EUSAGE, "--%s is only taken by `cloudtracker ingest`",
                            o->to ? "to" : "rejects");
    return 0;
}

static int parse_day_flag(query *q, const char *flag, const char *value, int64_t *day)
{
    if (ct_date_parse_day(value, day) != 0) {
        ct_error_set(&q->err, CT_EUSAGE, "%s: '%s' is not a date of the form YYYY-MM-DD", flag,
                     value);
        return CT_EUSAGE;
    }
    return 0;
}

/* The window: flags first, then the config's window section, then the last
 * `days` (365) days ending today. Both ends inclusive. */
static int compute_window(query *q)
{
    const cli_options *o = q->opts;
    const ct_config *c = q->cfg;
    int64_t start = 0, end;
    int rc;
    if (o->end) {
        if ((rc = parse_day_flag(q, "--end", o->end, &end)))
            return rc;
    } else {
        end = c->has_window_end ? c->window_end : ct_today();
    }
    if (o->start) {
        if ((rc = parse_day_flag(q, "--start", o->start, &start)))
            return rc;
    } else if (c->has_window_start && !o->end) {
        start = c->window_start;
    } else {
        start = end - (c->window_days - 1);
    }
    if (start > end) {
        char a[11], b[11];
        ct_date_format_day(start, a);
        ct_date_format_day(end, b);
        return ct_error_set(&q->err, CT_EUSAGE, "the window starts (%s) after it ends (%s)", a, b);
    }
    q->window.first_day = start;
    q->window.last_day = end;
    return 0;
}

static int find_account(query *q, const char *name, const ct_account **out)
{
    *out = ct_config_find_account(q->cfg, name);
    if (*out)
        return 0;
    ct_buf names = CT_BUF_INIT;
    for (size_t i = 0; i < q->cfg->account_count; i++)
        ct_buf_printf(&names, "%s%s", i ? ", " : "", q->cfg->accounts[i].name);
    ct_error_set_at(&q->err, CT_ENOTFOUND, q->cfg->path, 0, 0,
                    "unknown account '%s' (accounts in the config: %s)", name,
                    names.data ? names.data : "none");
    ct_buf_release(&names);
    return CT_ENOTFOUND;
}

static int load_iam(query *q, const ct_account *a, const char *override, ct_iam **out)
{
    const char *path = override ? override : a->iam_path;
    if (!path)
        return ct_error_set_at(&q->err, CT_ECONFIG, q->cfg->path, 0, 0,
                               "account %s has no iam file: set accounts[].iam or pass --iam",
                               a->name);
    return ct_iam_load_file(out, path, &q->err);
}

static int find_principal(query *q, const ct_iam *iam, const ct_account *a, ct_principal_kind kind,
                          const char *name, const ct_principal **out)
{
    *out = ct_iam_find(iam, kind, name);
    if (*out)
        return 0;
    ct_error_set(&q->err, CT_ENOTFOUND, "account %s has no %s named '%s'", a->name,
                 kind == CT_PRINCIPAL_USER ? "user" : "role", name);
    return CT_ENOTFOUND;
}

/* With an elasticsearch: section, queries go to the cluster; there is
 * nothing to set up, so --skip-setup changes nothing. */
static int open_es_source(query *q)
{
    const ct_es_config *es = &q->cfg->es;
    if (es->insecure)
        cli_warn("elasticsearch.insecure is set: TLS certificates are not verified");
    cli_warn_cleartext(es);
    int rc = ct_es_source(&q->source, es, &q->err);
    if (rc == CT_ECONFIG && !q->err.file[0])
        snprintf(q->err.file, sizeof(q->err.file), "%s", q->cfg->path);
    return rc;
}

static int open_source(query *q)
{
    const cli_options *o = q->opts;
    if (q->cfg->has_elasticsearch)
        return open_es_source(q);
    const char *store_path = o->store ? o->store : q->cfg->store_path;
    const char *const *paths = o->log_count ? o->logs : (const char *const *)q->cfg->log_paths;
    size_t path_count = o->log_count ? o->log_count : q->cfg->log_path_count;
    struct stat st;
    if (o->skip_setup && stat(store_path, &st) != 0)
        return ct_error_set_at(&q->err, CT_ESTORE, store_path, 0, 0,
                               "no store here: run `cloudtracker ingest` first, or drop "
                               "--skip-setup");
    /* With --skip-setup nothing is written: the store opens read-only, so
     * one shipped to an auditor on read-only media can be queried. */
    ct_store *store = NULL;
    int rc = ct_store_open(&store, store_path, !o->skip_setup, &q->err);
    if (rc)
        return rc;
    /* The source owns the store from here on, even if this fails. */
    ct_ingest_options refresh = {0};
    refresh.paths = paths;
    refresh.path_count = o->skip_setup ? 0 : path_count;
    refresh.time_field = q->cfg->time_field;
    rc = ct_store_source(&q->source, store, &refresh, &q->err);
    if (rc)
        return rc;
    /* Problems met now (unreadable folders, dangling links) and files
     * skipped now or on earlier runs (recorded in the store) make any answer
     * partial: say so once per path (the verdicts still print, and the exit
     * code says it). */
    ct_input_problems problems = {0};
    if (!o->skip_setup)
        rc = q->source->refresh(q->source, &problems, &q->err);
    if (rc == 0)
        rc = q->source->input_problems(q->source, &problems, &q->err);
    for (size_t i = 0; rc == 0 && i < problems.count; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(problems.items[j].path, problems.items[i].path) == 0;
        if (!seen)
            rc = warn(q, "%s: %s (the answer may miss its events)", problems.items[i].path,
                      problems.items[i].reason);
    }
    if (problems.count)
        q->incomplete = true;
    ct_input_problems_release(&problems);
    return rc;
}

static int check_account_has_events(query *q, const ct_account *a)
{
    uint64_t n = 0;
    int rc = q->source->account_event_count(q->source, a->id, &q->window, &n, &q->err);
    if (rc || n)
        return rc;
    char from[11], to[11];
    ct_date_format_day(q->window.first_day, from);
    ct_date_format_day(q->window.last_day, to);
    char what[600];
    snprintf(what, sizeof(what), "%s (%s)", a->name, a->id);
    char range[64];
    snprintf(range, sizeof(range), "%s and %s", from, to);
    return warn(q,
                "%s holds no events for account %s between %s: every grant would look "
                "unused",
                strcmp(q->source->name, "store") == 0 ? "the store" : "Elasticsearch", what, range);
}

static ct_render_options render_options(const cli_options *o)
{
    ct_render_options r = {0};
    r.format = o->format;
    r.show_used = o->show_used;
    r.show_unused = o->show_unused;
    r.ignore_benign = o->ignore_benign;
    r.ignore_unknown = o->ignore_unknown;
    const char *no_color = getenv("NO_COLOR");
    r.color = o->format == CT_FORMAT_TEXT && !o->no_color && !(no_color && no_color[0]) &&
              isatty(STDOUT_FILENO);
    return r;
}

static ct_report_subject subject_of(const query *q)
{
    ct_report_subject s = {0};
    s.account_name = q->account->name;
    s.account_id = q->account->id;
    s.window = q->window;
    s.warnings = (const char *const *)q->warnings;
    s.warning_count = q->warning_count;
    return s;
}

static int run_list(query *q)
{
    ct_principal_kind kind =
        strcmp(q->opts->list, "users") == 0 ? CT_PRINCIPAL_USER : CT_PRINCIPAL_ROLE;
    size_t n = ct_iam_count(q->iam, kind);
    const ct_principal **principals = calloc(n ? n : 1, sizeof(*principals));
    const char **arns = calloc(n ? n : 1, sizeof(*arns));
    bool *active = calloc(n ? n : 1, sizeof(*active));
    int rc = 0;
    if (!principals || !arns || !active) {
        rc = ct_error_set(&q->err, CT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        principals[i] = ct_iam_get(q->iam, kind, i);
        arns[i] = principals[i]->arn;
    }
    if ((rc = q->source->active_principals(q->source, arns, n, &q->window, active, &q->err)))
        goto done;
    bool any_active = false;
    for (size_t i = 0; i < n; i++)
        any_active = any_active || active[i];
    /* Only a list with nobody active can mean "no logs at all". */
    if (!any_active && (rc = check_account_has_events(q, q->account)))
        goto done;
    ct_render_options r = render_options(q->opts);
    ct_report_subject s = subject_of(q);
    rc = ct_report_print_list(stdout, &r, &s, kind, principals, active, n);
    if (rc)
        ct_error_set(&q->err, rc, "writing the output failed");
done:
    free(principals);
    free(arns);
    free(active);
    return rc;
}

/* The data events of the account whose logs a diff reads (ct_diff_data_fn). */
struct data_query {
    query *q;
    const ct_account *account;
};

static int fetch_data_events(void *ud, ct_data_events *out, ct_error *err)
{
    struct data_query *d = ud;
    return d->q->source->data_events(d->q->source, d->account->id, &d->q->window, out, err);
}

static int run_diff(query *q)
{
    const cli_options *o = q->opts;
    const ct_principal *principal, *dest_role = NULL;
    int rc = find_principal(q, q->iam, q->account, o->user ? CT_PRINCIPAL_USER : CT_PRINCIPAL_ROLE,
                            o->user ? o->user : o->role, &principal);
    if (rc)
        return rc;
    const ct_iam *dest_iam = q->dest_iam ? q->dest_iam : q->iam;
    if (o->destrole && (rc = find_principal(q, dest_iam, q->dest_account, CT_PRINCIPAL_ROLE,
                                            o->destrole, &dest_role)))
        return rc;

    ct_calls calls = {0};
    ct_diff diff = {0};
    const ct_policy_set *policies =
        dest_role ? ct_iam_policies(dest_iam, dest_role) : ct_iam_policies(q->iam, principal);
    if (dest_role)
        rc = q->source->role_session_calls(q->source, principal->arn, dest_role->arn, &q->window,
                                           &calls, &q->err);
    else
        rc = q->source->principal_calls(q->source, principal->arn, &q->window, &calls, &q->err);
    /* An answer with calls proves the logs cover the account; only an empty
     * one needs the (one more request) check. */
    if (rc == 0 && calls.count == 0)
        rc = check_account_has_events(q, dest_role ? q->dest_account : q->account);
    /* Data-event actions are judged against the data events the account's
     * logs hold: asked for (one more query) only when the diff has some. */
    struct data_query dq = {q, dest_role ? q->dest_account : q->account};
    if (rc == 0)
        rc = ct_diff_build(&diff, q->catalog, policies, &calls, fetch_data_events, &dq, &q->err);
    if (rc == 0 && diff.unmapped_calls) {
        char count[32];
        snprintf(count, sizeof(count), "%llu", (unsigned long long)diff.unmapped_calls);
        rc = warn(q, "%s %s left out (e.g. %s)", count,
                  diff.unmapped_calls == 1 ? "call names no IAM action and was"
                                           : "calls name no IAM action and were",
                  diff.unmapped_example);
    }
    if (rc == 0) {
        ct_render_options r = render_options(o);
        ct_report_subject s = subject_of(q);
        s.principal = principal;
        s.dest_role = dest_role;
        s.dest_account_name = q->dest_account->name;
        s.dest_account_id = q->dest_account->id;
        rc = ct_report_print(stdout, &r, &s, &diff);
        if (rc)
            ct_error_set(&q->err, rc, "writing the output failed");
    }
    ct_diff_release(&diff);
    ct_calls_release(&calls);
    return rc;
}

static int run(query *q)
{
    const cli_options *o = q->opts;
    int rc;
    if ((rc = check_usage(q)) || (rc = ct_config_load(&q->cfg, o->config_path, &q->err)))
        return rc;
    if ((rc = compute_window(q)) || (rc = find_account(q, o->account, &q->account)))
        return rc;
    q->dest_account = q->account;
    if (o->destaccount && (rc = find_account(q, o->destaccount, &q->dest_account)))
        return rc;
    if ((rc = load_iam(q, q->account, o->iam, &q->iam)))
        return rc;
    if (q->dest_account != q->account && (rc = load_iam(q, q->dest_account, NULL, &q->dest_iam)))
        return rc;
    if ((rc = ct_catalog_load_builtin(&q->catalog, &q->err)) || (rc = open_source(q)))
        return rc;
    return o->list ? run_list(q) : run_diff(q);
}

int cli_run_query(const cli_options *opts)
{
    query q;
    memset(&q, 0, sizeof(q));
    q.opts = opts;
    int rc = run(&q);
    if (rc)
        cli_report_error(&q.err);
    int code = rc ? cli_exit_code(rc) : q.incomplete ? EXIT_INCOMPLETE : EXIT_OK;
    ct_source_free(q.source);
    ct_catalog_free(q.catalog);
    ct_iam_free(q.dest_iam);
    ct_iam_free(q.iam);
    ct_config_free(q.cfg);
    for (size_t i = 0; i < q.warning_count; i++)
        free(q.warnings[i]);
    free(q.warnings);
    return code;
}
