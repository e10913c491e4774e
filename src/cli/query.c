/* The query command: --list, --user and --role (with --destrole and
 * --destaccount). Turns the options and the config into inputs (window,
 * accounts, IAM data, catalog, event source), calls src/analysis/, prints
 * its notes as warnings, and hands its answer to src/report/. */
#include "cli.h"

#include "cloudtracker/analysis.h"
#include "cloudtracker/config.h"
#include "cloudtracker/date.h"
#include "cloudtracker/es.h"
#include "cloudtracker/iam.h"
#include "cloudtracker/report.h"
#include "cloudtracker/store.h"
#include "cloudtracker/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prints the notes the analysis added since the last call as warnings
 * (the JSON document carries them all). */
void cli_show_notes(cli_query *q)
{
    for (; q->notes_shown < q->analysis.notes.count; q->notes_shown++)
        cli_warn(q->analysis.notes.items[q->notes_shown]);
}

/* --list people and --person span every account of the config (--account
 * narrows them); the other questions are about one account. */
static bool about_people(const cli_options *o)
{
    return o->person || (o->list && strcmp(o->list, "people") == 0);
}

static int check_usage(cli_query *q)
{
    const cli_options *o = q->opts;
    ct_error *err = &q->err;
    int modes = !!o->list + !!o->user + !!o->role + !!o->person;
    if (modes != 1)
        return ct_error_set(err, CT_EUSAGE,
                            "give exactly one of --list, --user, --role or --person");
    if (!o->account && !about_people(o))
        return ct_error_set(err, CT_EUSAGE, "--account is required (see --help)");
    if (o->list && strcmp(o->list, "users") != 0 && strcmp(o->list, "roles") != 0 &&
        strcmp(o->list, "people") != 0)
        return ct_error_set(err, CT_EUSAGE, "--list takes users, roles or people");
    if (o->list && o->destrole)
        return ct_error_set(err, CT_EUSAGE,
                            "--destrole goes with --user, --role or --person, not --list");
    if (o->destaccount && !o->destrole)
        return ct_error_set(err, CT_EUSAGE, "--destaccount goes with --destrole");
    if (o->show_used && o->show_unused)
        return ct_error_set(err, CT_EUSAGE, "--show-used and --show-unused exclude each other");
    if (o->iam && about_people(o))
        return ct_error_set(err, CT_EUSAGE,
                            "--iam goes with --user or --role: people span the accounts of the "
                            "config, each with its iam file");
    if (o->path_count)
        return ct_error_set(err, CT_EUSAGE, "paths are only taken by `cloudtracker ingest`");
    if (o->account_count > 1)
        return ct_error_set(err, CT_EUSAGE,
                            "--account given twice (only `cloudtracker review` takes several)");
    if (o->output || o->compare || o->dormant_days)
        return ct_error_set(err, CT_EUSAGE, "--%s is only taken by `cloudtracker review`",
                            o->output    ? "output"
                            : o->compare ? "compare"
                                         : "dormant-days");
    if (o->format == CT_FORMAT_CSV || o->format == CT_FORMAT_HTML)
        return ct_error_set(err, CT_EUSAGE,
                            "--format csv and html are for `cloudtracker review`; queries print "
                            "text, json or policy");
    if ((o->compact || o->drop_unknown || o->resources || o->inline_policy) &&
        o->format != CT_FORMAT_POLICY)
        return ct_error_set(err, CT_EUSAGE, "--%s goes with --format policy",
                            o->compact        ? "compact"
                            : o->drop_unknown ? "drop-unknown"
                            : o->resources    ? "resources"
                                              : "inline");
    if (o->resources && (o->destrole || o->person))
        return ct_error_set(err, CT_EUSAGE,
                            "--resources goes with --user or --role alone: resources are kept "
                            "per principal, not per role session");
    if (o->format == CT_FORMAT_POLICY && (o->list || (o->person && !o->destrole)))
        return ct_error_set(err, CT_EUSAGE,
                            "--format policy writes the policy of one diff: --user or --role "
                            "(with or without --destrole), or --person with --destrole");
    if (o->format == CT_FORMAT_POLICY &&
        (o->show_used || o->show_unused || o->ignore_benign || o->ignore_unknown))
        return ct_error_set(err, CT_EUSAGE,
                            "--format policy keeps what was used and, unless --drop-unknown, "
                            "the actions CloudTrail cannot show: --show-* and --ignore-* do not "
                            "apply");
    if (o->to || o->rejects)
        return ct_error_set(err, CT_EUSAGE, "--%s is only taken by `cloudtracker ingest`",
                            o->to ? "to" : "rejects");
    return 0;
}

static int parse_day_flag(cli_query *q, const char *flag, const char *value, int64_t *day)
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
int cli_compute_window(cli_query *q)
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
    q->analysis.window.first_day = start;
    q->analysis.window.last_day = end;
    return 0;
}

int cli_find_account(cli_query *q, const char *name, const ct_account **out)
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

static int load_iam(cli_query *q, const ct_account *a, const char *override, ct_iam **out)
{
    const char *path = override ? override : a->iam_path;
    if (!path)
        return ct_error_set_at(&q->err, CT_ECONFIG, q->cfg->path, 0, 0,
                               "account %s has no iam file: set accounts[].iam or pass --iam",
                               a->name);
    return ct_iam_load_file(out, path, &q->err);
}

/* With an elasticsearch: section, queries go to the cluster; there is
 * nothing to set up, so --skip-setup changes nothing. */
static int open_es_source(cli_query *q)
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

int cli_open_source(cli_query *q)
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
    if (ct_store_rebuilding(store))
        cli_notice_rebuild(store_path, ct_store_rebuilding(store));
    /* The source owns the store from here on, even if this fails. */
    ct_ingest_options refresh = {0};
    refresh.paths = paths;
    refresh.path_count = o->skip_setup ? 0 : path_count;
    refresh.time_field = q->cfg->time_field;
    return ct_store_source(&q->source, store, &refresh, &q->err);
}

int cli_prepare_analysis(cli_query *q)
{
    int rc;
    if ((rc = ct_catalog_load_builtin(&q->catalog, &q->err)) ||
        (q->opts->resources && (rc = ct_catalog_load_builtin_resources(q->catalog, &q->err))) ||
        (rc = cli_open_source(q)))
        return rc;
    q->analysis.source = q->source;
    q->analysis.catalog = q->catalog;
    /* Problems with the inputs make any answer partial: the verdicts still
     * print, and the exit code says it. */
    rc = ct_analysis_prepare(&q->analysis, !q->opts->skip_setup, &q->err);
    cli_show_notes(q);
    return rc;
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

static ct_report_subject subject_of(const cli_query *q)
{
    ct_report_subject s = {0};
    s.account_name = q->account ? q->account->name : NULL;
    s.account_id = q->account ? q->account->id : NULL;
    s.window = q->analysis.window;
    s.warnings = (const char *const *)q->analysis.notes.items;
    s.warning_count = q->analysis.notes.count;
    return s;
}

/* A report's status: a failed write is the output error. */
int cli_output_status(cli_query *q, int rc)
{
    if (rc)
        ct_error_set(&q->err, rc, "writing the output failed");
    return rc;
}

static ct_account_view view_of(const ct_account *a, const ct_iam *iam)
{
    ct_account_view v = {a->name, a->id, iam};
    return v;
}

static int run_list(cli_query *q)
{
    ct_principal_kind kind =
        strcmp(q->opts->list, "users") == 0 ? CT_PRINCIPAL_USER : CT_PRINCIPAL_ROLE;
    ct_account_view account = view_of(q->account, q->iam);
    ct_activity activity;
    int rc = ct_analyze_activity(&q->analysis, &account, kind, &activity, &q->err);
    cli_show_notes(q);
    if (rc)
        return rc;
    ct_render_options r = render_options(q->opts);
    ct_report_subject s = subject_of(q);
    rc = cli_output_status(q, ct_report_print_list(stdout, &r, &s, kind, activity.principals,
                                                   activity.active, activity.count));
    ct_activity_release(&activity);
    return rc;
}

/* The policy's text, once its guarantees are proved on it (ct_policy_check):
 * a violation is a bug, and no policy is better than a wrong one. */
static int render_checked(cli_query *q, const ct_diff *diff, const ct_policy_options *opts,
                          const ct_generated_policy *policy, const ct_principal *subject,
                          ct_policy_texts *texts)
{
    int rc = ct_report_render_policy(texts, policy, false);
    if (rc)
        return ct_error_set(&q->err, rc, "out of memory");
    ct_policy_violations v;
    if ((rc = ct_policy_check(q->catalog, diff, opts, texts, &v, &q->err)) == 0)
        rc = ct_policy_violations_error(&v, subject->name, &q->err);
    ct_policy_violations_release(&v);
    if (rc)
        ct_policy_texts_release(texts);
    return rc;
}

/* --format policy: the diff's policy on stdout; what it leaves out, what may
 * still block it, and a split on stderr. The limit is that of a managed
 * policy, the strictest place a policy goes; with --inline, that of the
 * subject's inline policies together, which splitting cannot help. */
static int print_policy(cli_query *q, const ct_diff *diff, const ct_principal *subject,
                        const ct_resource_scopes *scopes)
{
    const cli_options *o = q->opts;
    size_t inline_max =
        subject->kind == CT_PRINCIPAL_USER ? CT_POLICY_INLINE_USER_MAX : CT_POLICY_INLINE_ROLE_MAX;
    ct_policy_options opts = {o->drop_unknown, o->compact,
                              o->inline_policy ? SIZE_MAX : CT_POLICY_MANAGED_MAX, scopes};
    ct_generated_policy policy;
    int rc = ct_policy_generate(q->catalog, diff, &opts, &policy, &q->err);
    if (rc)
        return rc;
    ct_policy_texts texts;
    if ((rc = render_checked(q, diff, &opts, &policy, subject, &texts))) {
        ct_generated_policy_release(&policy);
        return rc;
    }
    ct_buf b = CT_BUF_INIT;
    if (o->inline_policy && policy.largest > inline_max) {
        ct_buf_printf(&b,
                      "the policy has %zu characters, more than IAM's %zu for a %s's inline "
                      "policies together: attach it as managed policies (without --inline)%s",
                      policy.largest, inline_max,
                      subject->kind == CT_PRINCIPAL_USER ? "user" : "role",
                      o->compact ? "" : ", or try --compact");
        cli_warn(b.data);
    }
    if (scopes && scopes->by_action) {
        ct_buf_reset(&b);
        ct_buf_printf(&b,
                      "--resources: %zu used %s limited to the resources %s's calls named, %zu "
                      "kept on \"*\" (some call named no resource the action is evaluated "
                      "against, or it takes none; docs/policy.md)",
                      policy.scoped, policy.scoped == 1 ? "action" : "actions", subject->name,
                      policy.unscoped);
        cli_warn(b.data);
    }
    if (policy.statement_count == 0) {
        ct_buf_reset(&b);
        ct_buf_printf(&b,
                      "%s used nothing in the window that it is still granted: the policy "
                      "grants nothing",
                      subject->name);
        cli_warn(b.data);
    }
    if (policy.not_granted_count) {
        ct_buf_reset(&b);
        ct_buf_printf(&b, "not in the policy, used or tried but not granted today:");
        for (size_t i = 0; i < policy.not_granted_count; i++)
            ct_buf_printf(&b, "%s %s", i ? "," : "", policy.not_granted[i]);
        cli_warn(b.data);
    }
    for (size_t i = 0; i < policy.limited_count; i++) {
        ct_buf_reset(&b);
        ct_buf_printf(&b, "a Deny limited by a condition or resource may still block %s",
                      policy.limited[i]);
        cli_warn(b.data);
    }
    if (policy.document_count > 1) {
        ct_buf_reset(&b);
        ct_buf_printf(&b,
                      "the policy is larger than IAM's %zu characters for a managed policy: "
                      "split into %zu documents (a JSON array)%s",
                      policy.size_limit, policy.document_count,
                      o->compact ? "" : "; --compact may make it smaller");
        cli_warn(b.data);
    }
    ct_buf_release(&b);
    rc = cli_output_status(q, ct_report_write_policy(stdout, &texts));
    ct_policy_texts_release(&texts);
    ct_generated_policy_release(&policy);
    return rc;
}

static int run_diff(cli_query *q)
{
    const cli_options *o = q->opts;
    ct_account_view account = view_of(q->account, q->iam);
    ct_account_view dest = view_of(q->dest_account, q->dest_iam ? q->dest_iam : q->iam);
    ct_principal_question question = {0};
    question.account = &account;
    question.kind = o->user ? CT_PRINCIPAL_USER : CT_PRINCIPAL_ROLE;
    question.name = o->user ? o->user : o->role;
    question.dest_role = o->destrole;
    question.dest_account = &dest;
    question.resources = o->resources;
    ct_principal_answer answer;
    int rc = ct_analyze_principal(&q->analysis, &question, &answer, &q->err);
    if (o->format == CT_FORMAT_POLICY) {
        cli_show_notes(q);
        if (rc == 0)
            rc = print_policy(q, &answer.diff,
                              answer.dest_role ? answer.dest_role : answer.principal,
                              &answer.scopes);
        ct_principal_answer_release(&answer);
        return rc;
    }
    /* A role's JSON says who used it (one more question: its sessions). */
    ct_people users = {0};
    bool with_users = rc == 0 && o->role && !o->destrole && o->format == CT_FORMAT_JSON;
    if (with_users) {
        rc = ct_analyze_people(&q->analysis, (const ct_identity_store *const *)q->user_lists,
                               q->user_list_count, &users, &q->err);
        /* A backend that cannot tell who opened sessions (Elasticsearch
         * indices of an older mapping) still answers the diff: used_by is
         * left out, said so, and the exit code marks the answer partial. */
        if (rc == CT_ECONFIG) {
            char why[1024];
            ct_error_format(&q->err, why, sizeof(why));
            rc = ct_notes_add(&q->analysis.notes, "who used the role is not known: %s", why) != 0
                     ? ct_error_set(&q->err, CT_ENOMEM, "out of memory")
                     : 0;
            q->analysis.incomplete = true;
            with_users = false;
        }
    }
    cli_show_notes(q);
    if (rc) {
        ct_principal_answer_release(&answer);
        return rc;
    }
    ct_render_options r = render_options(o);
    ct_report_subject s = subject_of(q);
    s.role_users = with_users ? &users : NULL;
    s.principal = answer.principal;
    s.dest_role = answer.dest_role;
    s.dest_account_name = q->dest_account->name;
    s.dest_account_id = q->dest_account->id;
    rc = cli_output_status(q, ct_report_print(stdout, &r, &s, &answer.diff));
    ct_principal_answer_release(&answer);
    ct_people_release(&users);
    return rc;
}

/* Every account of the config as the analyses see it; with `with_iam`,
 * each with its IAM data (an account without an iam file has none). And
 * the Identity Center user lists of the accounts in scope (--account's, or
 * all), each file read once. */
int cli_load_people_inputs(cli_query *q, bool with_iam)
{
    const ct_config *c = q->cfg;
    size_t n = c->account_count;
    q->views = calloc(n ? n : 1, sizeof(*q->views));
    q->iams = calloc(n ? n : 1, sizeof(*q->iams));
    q->user_lists = calloc(n ? n : 1, sizeof(*q->user_lists));
    if (!q->views || !q->iams || !q->user_lists)
        return ct_error_set(&q->err, CT_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ct_account *a = &c->accounts[i];
        if (with_iam && a->iam_path)
            rc = ct_iam_load_file(&q->iams[i], a->iam_path, &q->err);
        q->views[i] = (ct_account_view){a->name, a->id, q->iams[i]};
        bool in_scope = !q->account || q->account == a;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = c->accounts[j].identity_store_path && a->identity_store_path &&
                   (!q->account || q->account == &c->accounts[j]) &&
                   strcmp(c->accounts[j].identity_store_path, a->identity_store_path) == 0;
        if (rc == 0 && in_scope && a->identity_store_path && !seen)
            rc = ct_identity_store_load_file(&q->user_lists[q->user_list_count++],
                                             a->identity_store_path, &q->err);
    }
    return rc;
}

static const ct_account_view *view_of_account(const cli_query *q, const ct_account *a)
{
    return a ? &q->views[a - q->cfg->accounts] : NULL;
}

static int run_people(cli_query *q)
{
    ct_people people;
    int rc = ct_analyze_people(&q->analysis, (const ct_identity_store *const *)q->user_lists,
                               q->user_list_count, &people, &q->err);
    cli_show_notes(q);
    if (rc)
        return rc;
    ct_render_options r = render_options(q->opts);
    ct_report_subject s = subject_of(q);
    rc = cli_output_status(q, ct_report_print_people(stdout, &r, &s, &people, q->views,
                                                     q->cfg->account_count,
                                                     view_of_account(q, q->account)));
    ct_people_release(&people);
    return rc;
}

static int run_person(cli_query *q)
{
    const cli_options *o = q->opts;
    ct_person_question question = {0};
    question.name = o->person;
    question.accounts = q->views;
    question.account_count = q->cfg->account_count;
    question.only_account = view_of_account(q, q->account);
    question.dest_role = o->destrole;
    question.dest_account = o->destaccount ? view_of_account(q, q->dest_account) : NULL;
    question.users = (const ct_identity_store *const *)q->user_lists;
    question.user_lists = q->user_list_count;
    ct_person_answer answer;
    int rc = ct_analyze_person(&q->analysis, &question, &answer, &q->err);
    cli_show_notes(q);
    if (rc == 0 && o->format == CT_FORMAT_POLICY) {
        if (answer.role_count != 1)
            rc = ct_error_set(&q->err, answer.role_count ? CT_EUSAGE : CT_ENOTFOUND,
                              answer.role_count
                                  ? "%s used roles named %s in several accounts: name one with "
                                    "--destaccount"
                                  : "%s used no role named %s in the window",
                              answer.person->name, o->destrole);
        else
            rc = print_policy(q, &answer.roles[0].diff, answer.roles[0].role, NULL);
        ct_person_answer_release(&answer);
        return rc;
    }
    if (rc)
        return rc;
    ct_render_options r = render_options(o);
    ct_report_subject s = subject_of(q);
    rc = cli_output_status(
        q, ct_report_print_person(stdout, &r, &s, &answer, q->views, q->cfg->account_count));
    ct_person_answer_release(&answer);
    return rc;
}

static int run(cli_query *q)
{
    const cli_options *o = q->opts;
    int rc;
    if ((rc = check_usage(q)) || (rc = ct_config_load(&q->cfg, o->config_path, &q->err)))
        return rc;
    if ((rc = cli_compute_window(q)) ||
        (o->account && (rc = cli_find_account(q, o->account, &q->account))))
        return rc;
    q->dest_account = q->account;
    if (o->destaccount && (rc = cli_find_account(q, o->destaccount, &q->dest_account)))
        return rc;
    if (about_people(o)) {
        if ((rc = cli_load_people_inputs(q, o->person != NULL)))
            return rc;
    } else {
        /* A role's JSON names who used it: the user lists help. */
        if (o->role && !o->destrole && o->format == CT_FORMAT_JSON &&
            (rc = cli_load_people_inputs(q, false)))
            return rc;
        if ((rc = load_iam(q, q->account, o->iam, &q->iam)))
            return rc;
        if (q->dest_account != q->account &&
            (rc = load_iam(q, q->dest_account, NULL, &q->dest_iam)))
            return rc;
    }
    if ((rc = cli_prepare_analysis(q)))
        return rc;
    if (o->person)
        return run_person(q);
    if (about_people(o))
        return run_people(q);
    return o->list ? run_list(q) : run_diff(q);
}

int cli_run_query(const cli_options *opts)
{
    cli_query q;
    memset(&q, 0, sizeof(q));
    q.opts = opts;
    int rc = run(&q);
    if (rc)
        cli_report_error(&q.err);
    int code = rc ? cli_exit_code(rc) : q.analysis.incomplete ? EXIT_INCOMPLETE : EXIT_OK;
    cli_query_release(&q);
    return code;
}

void cli_query_release(cli_query *q)
{
    ct_source_free(q->source);
    ct_catalog_free(q->catalog);
    ct_iam_free(q->dest_iam);
    ct_iam_free(q->iam);
    for (size_t i = 0; q->cfg && i < q->cfg->account_count; i++)
        ct_iam_free(q->iams ? q->iams[i] : NULL);
    for (size_t i = 0; i < q->user_list_count; i++)
        ct_identity_store_free(q->user_lists[i]);
    free(q->iams);
    free(q->views);
    free(q->user_lists);
    ct_config_free(q->cfg);
    ct_analysis_release(&q->analysis);
    memset(q, 0, sizeof(*q));
}
