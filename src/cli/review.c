/* The review command: the access review of every IAM user, role and person
 * of the config's accounts (or those --account names), with --compare
 * against an earlier review, written to stdout or, whole or not at all, to
 * --output. The analysis is src/analysis/review.c; the formats
 * src/report/review*.c. */
#include "cli.h"

#include "cloudtracker/analysis.h"
#include "cloudtracker/config.h"
#include "cloudtracker/date.h"
#include "cloudtracker/outfile.h"
#include "cloudtracker/report.h"
#include "cloudtracker/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* A previous review is as large as the review it was: IAM files are capped
 * at 1 GiB, and a review lists fewer names than its IAM files hold. */
#define PREVIOUS_MAX_BYTES ((size_t)1 << 30)

#define DEFAULT_DORMANT_DAYS 90
#define MAX_DORMANT_DAYS 36500

typedef struct review_run {
    cli_query q;
    unsigned dormant_days;
    const ct_account_view **reviewed;
    const char **iam_paths;
    ct_credential_report **credentials; /* per reviewed account, NULL without */
    const char **credential_paths;
    size_t reviewed_count;
    ct_review_previous *previous;
} review_run;

static int check_usage(review_run *r)
{
    const cli_options *o = r->q.opts;
    ct_error *err = &r->q.err;
    if (o->list || o->user || o->role || o->person || o->destrole || o->destaccount)
        return ct_error_set(err, CT_EUSAGE,
                            "review covers every identity: --list, --user, --role, --person, "
                            "--destrole and --destaccount are for queries");
    if (o->show_used || o->show_unused || o->ignore_benign || o->ignore_unknown)
        return ct_error_set(err, CT_EUSAGE,
                            "review lists every verdict: --show-* and --ignore-* are for queries");
    if (o->format == CT_FORMAT_POLICY || o->compact || o->drop_unknown || o->resources ||
        o->inline_policy)
        return ct_error_set(err, CT_EUSAGE,
                            "--format policy and its options go with --user, "
                            "--role or --person --destrole: a review prints text, json, csv "
                            "or html");
    if (o->iam)
        return ct_error_set(err, CT_EUSAGE,
                            "--iam goes with queries: review reads each account's iam file "
                            "from the config");
    if (o->path_count || o->to || o->rejects)
        return ct_error_set(err, CT_EUSAGE,
                            "paths, --to and --rejects are only taken by `cloudtracker ingest`");
    r->dormant_days = DEFAULT_DORMANT_DAYS;
    if (o->dormant_days) {
        char *end = NULL;
        errno = 0;
        long n = strtol(o->dormant_days, &end, 10);
        if (errno || !end || *end || n < 1 || n > MAX_DORMANT_DAYS || o->dormant_days[0] == '+' ||
            o->dormant_days[0] == ' ')
            return ct_error_set(err, CT_EUSAGE,
                                "--dormant-days takes a number of days from 1 to %d",
                                MAX_DORMANT_DAYS);
        r->dormant_days = (unsigned)n;
    }
    return 0;
}

/* The account's credential report, which must be of that account. */
static int load_credentials(review_run *r, const ct_account *a)
{
    size_t k = r->reviewed_count;
    ct_credential_report **report = &r->credentials[k];
    int rc = ct_credential_report_load_file(report, a->credential_report_path, &r->q.err);
    if (rc)
        return rc;
    r->credential_paths[k] = a->credential_report_path;
    const char *id = ct_credential_report_account_id(*report);
    if (id && strcmp(id, a->id) != 0)
        return ct_error_set_at(&r->q.err, CT_EIAM, a->credential_report_path, 0, 0,
                               "the credential report of account %s, given for account %s (%s)", id,
                               a->name, a->id);
    return 0;
}

/* The accounts to review (--account, each once, else all of the config),
 * each with its IAM data; the views of every account of the config (for
 * the people's roles), and the Identity Center user lists of the reviewed
 * accounts, each file read once. */
static int load_accounts(review_run *r)
{
    cli_query *q = &r->q;
    const ct_config *c = q->cfg;
    const cli_options *o = q->opts;
    size_t n = c->account_count;
    if (n == 0)
        return ct_error_set_at(&q->err, CT_ECONFIG, c->path, 0, 0,
                               "the config lists no accounts to review");
    q->views = calloc(n, sizeof(*q->views));
    q->iams = calloc(n, sizeof(*q->iams));
    q->user_lists = calloc(n, sizeof(*q->user_lists));
    r->reviewed = calloc(n, sizeof(*r->reviewed));
    r->iam_paths = calloc(n, sizeof(*r->iam_paths));
    r->credentials = calloc(n, sizeof(*r->credentials));
    r->credential_paths = calloc(n, sizeof(*r->credential_paths));
    bool *chosen = calloc(n, sizeof(*chosen));
    int rc = 0;
    if (!q->views || !q->iams || !q->user_lists || !r->reviewed || !r->iam_paths ||
        !r->credentials || !r->credential_paths || !chosen)
        rc = ct_error_set(&q->err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < o->account_count; i++) {
        const ct_account *a = NULL;
        rc = cli_find_account(q, o->accounts[i], &a);
        if (rc == 0 && chosen[a - c->accounts])
            rc = ct_error_set(&q->err, CT_EUSAGE, "--account %s is given twice", a->name);
        if (rc == 0)
            chosen[a - c->accounts] = true;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ct_account *a = &c->accounts[i];
        q->views[i] = (ct_account_view){a->name, a->id, NULL};
        if (o->account_count && !chosen[i])
            continue;
        if (!a->iam_path) {
            rc = ct_error_set_at(&q->err, CT_ECONFIG, c->path, 0, 0,
                                 "account %s has no iam file: a review needs accounts[].iam",
                                 a->name);
            break;
        }
        if ((rc = ct_iam_load_file(&q->iams[i], a->iam_path, &q->err)))
            break;
        q->views[i].iam = q->iams[i];
        r->iam_paths[r->reviewed_count] = a->iam_path;
        if (a->credential_report_path && (rc = load_credentials(r, a)))
            break;
        r->reviewed[r->reviewed_count++] = &q->views[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = c->accounts[j].identity_store_path && a->identity_store_path &&
                   (!o->account_count || chosen[j]) &&
                   strcmp(c->accounts[j].identity_store_path, a->identity_store_path) == 0;
        if (a->identity_store_path && !seen)
            rc = ct_identity_store_load_file(&q->user_lists[q->user_list_count++],
                                             a->identity_store_path, &q->err);
    }
    free(chosen);
    return rc;
}

/* Reads and parses --compare before the review is built: a wrong file
 * fails at once. */
static int load_previous(review_run *r)
{
    const char *path = r->q.opts->compare;
    if (!path)
        return 0;
    char *text = NULL;
    size_t len = 0;
    int rc = ct_file_read_regular(&text, &len, path, PREVIOUS_MAX_BYTES, CT_ECOMPARE,
                                  "the review to compare with", &r->q.err);
    if (rc == 0)
        rc = ct_review_previous_parse(&r->previous, text, len, path, &r->q.err);
    free(text);
    return rc;
}

static unsigned terminal_width(bool tty)
{
    struct winsize ws;
    if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0; /* not a terminal: lines are not cut */
}

static int write_review(review_run *r, const ct_review *review, const ct_review_changes *changes)
{
    cli_query *q = &r->q;
    const cli_options *o = q->opts;
    ct_review_report rep = {0};
    rep.review = review;
    rep.changes = changes;
    rep.tool_version = CT_VERSION;
    /* The program as its name, not the path it was run by (a machine's
     * detail; the version says which program it was). */
    const char **argv = calloc(o->argc ? o->argc : 1, sizeof(*argv));
    if (!argv)
        return ct_error_set(&q->err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->argc; i++)
        argv[i] = o->argv[i];
    if (o->argc) {
        const char *slash = strrchr(argv[0], '/');
        argv[0] = slash ? slash + 1 : argv[0];
    }
    rep.argv = argv;
    rep.argc = o->argc;
    rep.made_at = ct_now();
    rep.backend = q->source->name;
    rep.warnings = (const char *const *)q->analysis.notes.items;
    rep.warning_count = q->analysis.notes.count;
    rep.incomplete = q->analysis.incomplete;
    bool tty = !o->output && isatty(STDOUT_FILENO);
    const char *no_color = getenv("NO_COLOR");
    rep.color = tty && o->format == CT_FORMAT_TEXT && !o->no_color && !(no_color && no_color[0]);
    rep.width = terminal_width(tty);
    int rc;
    if (!o->output) {
        rc = cli_output_status(q, ct_report_print_review(stdout, o->format, &rep));
    } else {
        ct_outfile f = {0};
        if ((rc = ct_outfile_open(&f, o->output, &q->err)) == 0) {
            if ((rc = ct_report_print_review(f.fp, o->format, &rep))) {
                ct_outfile_abort(&f);
                rc = ct_error_set_at(&q->err, rc, o->output, 0, 0, "writing the review failed");
            } else {
                rc = ct_outfile_commit(&f, &q->err);
            }
        }
    }
    free(argv);
    return rc;
}

/* The policies as the review's JSON holds them, for the review to prove. */
static int render_review_policy(void *ud, const ct_generated_policy *policy, ct_policy_texts *out)
{
    (void)ud;
    return ct_report_render_policy(out, policy, true);
}

static int run(review_run *r)
{
    cli_query *q = &r->q;
    const cli_options *o = q->opts;
    int rc;
    if ((rc = check_usage(r)) || (rc = ct_config_load(&q->cfg, o->config_path, &q->err)) ||
        (rc = cli_compute_window(q)) || (rc = load_accounts(r)) || (rc = load_previous(r)) ||
        (rc = cli_prepare_analysis(q)))
        return rc;
    ct_review_question question = {0};
    question.accounts = q->views;
    question.account_count = q->cfg->account_count;
    question.reviewed = r->reviewed;
    question.iam_paths = r->iam_paths;
    question.credentials = (const ct_credential_report *const *)r->credentials;
    question.credential_paths = r->credential_paths;
    question.reviewed_count = r->reviewed_count;
    question.users = (const ct_identity_store *const *)q->user_lists;
    question.user_lists = q->user_list_count;
    question.dormant_days = r->dormant_days;
    if (o->format == CT_FORMAT_JSON)
        question.render_policy = render_review_policy;
    ct_review review;
    rc = ct_review_build(&q->analysis, &question, &review, &q->err);
    cli_show_notes(q);
    if (rc)
        return rc;
    ct_review_changes changes = {0};
    if (r->previous)
        rc = ct_review_compare(&review, r->previous, &changes, &q->err);
    if (rc == 0)
        rc = write_review(r, &review, r->previous ? &changes : NULL);
    ct_review_changes_release(&changes);
    ct_review_release(&review);
    return rc;
}

int cli_run_review(const cli_options *opts)
{
    review_run r;
    memset(&r, 0, sizeof(r));
    r.q.opts = opts;
    int rc = run(&r);
    if (rc)
        cli_report_error(&r.q.err);
    int code = rc ? cli_exit_code(rc) : r.q.analysis.incomplete ? EXIT_INCOMPLETE : EXIT_OK;
    ct_review_previous_free(r.previous);
    /* A report loaded for an account that then failed is freed too. */
    for (size_t i = 0;
         r.credentials && i <= r.reviewed_count && r.q.cfg && i < r.q.cfg->account_count; i++)
        ct_credential_report_free(r.credentials[i]);
    free(r.credentials);
    free(r.credential_paths);
    free(r.reviewed);
    free(r.iam_paths);
    cli_query_release(&r.q);
    return code;
}
