/* The ingest command: reads new CloudTrail files into the embedded store,
 * or loads them into Elasticsearch (--to elasticsearch), and prints a
 * summary; progress is shown when stderr is a terminal. */
#include "cli.h"

#include "cloudtracker/config.h"
#include "cloudtracker/es_load.h"
#include "cloudtracker/store.h"
#include "cloudtracker/util.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct progress {
    struct timespec started;
    double last_shown;
    bool shown;
} progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Whether a progress line is due (twice a second at most); *t is the time
 * since the start. */
static bool progress_due(progress *p, double *t)
{
    *t = seconds_since(&p->started);
    if (*t - p->last_shown < 0.5)
        return false;
    p->last_shown = *t;
    p->shown = true;
    return true;
}

static void show_progress(void *ud, const ct_ingest_summary *s)
{
    progress *p = ud;
    double t;
    if (!progress_due(p, &t))
        return;
    fprintf(stderr, "\rcloudtracker: %" PRIu64 " files, %" PRIu64 " events, %.0f MB/s   ",
            s->files_read + s->files_partial + s->files_skipped, s->records_stored,
            t > 0 ? (double)s->bytes_json / 1e6 / t : 0.0);
}

static void print_problems(const ct_input_problems *problems)
{
    for (size_t i = 0; i < problems->count; i++) {
        char *path = ct_safe_dup(problems->items[i].path);
        char *reason = ct_safe_dup(problems->items[i].reason);
        fprintf(stderr, "cloudtracker: %s: %s\n", path ? path : "?", reason ? reason : "?");
        free(path);
        free(reason);
    }
}

/* ---- --to elasticsearch ---- */

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

static void show_load_progress(void *ud, const ct_es_load_summary *s)
{
    progress *p = ud;
    double t;
    if (!progress_due(p, &t))
        return;
    uint64_t files = s->files_read + s->files_partial + s->files_skipped + s->files_unchanged;
    double rate = t > 0 ? (double)s->bytes_done / t : 0.0;
    char eta[32] = "";
    if (rate > 0 && s->bytes_total > s->bytes_done) {
        double left = (double)(s->bytes_total - s->bytes_done) / rate;
        snprintf(eta, sizeof(eta), ", ETA %dm%02ds", (int)(left / 60), (int)left % 60);
    }
    fprintf(stderr,
            "\rcloudtracker: %" PRIu64 "/%" PRIu64 " files, %" PRIu64 " events, %.0f MB/s%s   ",
            files, s->files_total > s->files_seen ? s->files_total : s->files_seen,
            s->records_indexed + s->records_present,
            t > 0 ? (double)s->bytes_json / 1e6 / t : 0.0, eta);
}

static int run_es_load(const cli_options *o, const ct_config *cfg, const char *const *paths,
                       size_t path_count, const char *account_id, ct_error *err)
{
    if (!cfg->has_elasticsearch)
        return ct_error_set_at(err, CT_ECONFIG, cfg->path, 0, 0,
                               "--to elasticsearch needs an elasticsearch: section in the config");
    if (cfg->es.insecure)
        cli_warn("elasticsearch.insecure is set: TLS certificates are not verified");
    cli_warn_cleartext(&cfg->es);
    const char *rejects = o->rejects ? o->rejects : "cloudtracker-rejected.ndjson";
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    progress p = {0};
    clock_gettime(CLOCK_MONOTONIC, &p.started);
    ct_es_load_options opts = {0};
    opts.paths = paths;
    opts.path_count = path_count;
    opts.account_id = account_id;
    opts.rejects_path = rejects;
    opts.time_field = cfg ? cfg->time_field : NULL;
    opts.interrupted = &stop_signal;
    if (isatty(STDERR_FILENO)) {
        opts.progress = show_load_progress;
        opts.progress_ud = &p;
    }
    ct_es_load_summary s;
    int rc = ct_es_load(&cfg->es, &opts, &s, err);
    /* Config problems the loader finds are about the config file. */
    if (rc == CT_ECONFIG && !err->file[0] && err->line)
        snprintf(err->file, sizeof(err->file), "%s", cfg->path);
    if (p.shown)
        fputc('\n', stderr);
    print_problems(&s.problems);
    uint64_t files_loaded = s.files_read + s.files_partial;
    if (rc == 0 || s.files_seen > 0) {
        fprintf(stderr,
                "cloudtracker: %" PRIu64 " %s: %" PRIu64 " loaded, %" PRIu64 " unchanged, %" PRIu64
                " partly loaded, %" PRIu64 " skipped\n",
                s.files_seen, s.files_seen == 1 ? "file" : "files", s.files_read,
                s.files_unchanged, s.files_partial, s.files_skipped);
        char *safe = ct_safe_dup(rejects);
        fprintf(stderr,
                "cloudtracker: %" PRIu64 " %s read: %" PRIu64 " indexed, %" PRIu64
                " already present, %" PRIu64 " rejected%s%s%s\n",
                s.records_read, s.records_read == 1 ? "record" : "records", s.records_indexed,
                s.records_present, s.records_rejected, s.records_rejected ? " (see " : "",
                s.records_rejected ? (safe ? safe : "?") : "", s.records_rejected ? ")" : "");
        free(safe);
        if (s.records_moved)
            fprintf(stderr,
                    "cloudtracker: %" PRIu64 " %s had values the mapping cannot index, kept "
                    "under cloudtrackerMoved\n",
                    s.records_moved, s.records_moved == 1 ? "record" : "records");
        if (rc != 0 && files_loaded)
            fprintf(stderr, "cloudtracker: (counts are of what was settled before the error)\n");
    }
    if (p.shown)
        fprintf(stderr,
                "cloudtracker: %.1f MB of JSON in %.1f s, %" PRIu64 " _bulk requests (%" PRIu64
                " resent), %" PRIu64 " %s\n",
                (double)s.bytes_json / 1e6, seconds_since(&p.started), s.bulk_requests,
                s.retries, s.indices, s.indices == 1 ? "index" : "indices");
    if (rc != 0 && s.indices_unrestored) {
        char text[200];
        snprintf(text, sizeof(text),
                 "the settings of %" PRIu64 " %s could not be restored (refresh_interval -1, "
                 "0 replicas): the next load restores them",
                 s.indices_unrestored, s.indices_unrestored == 1 ? "index" : "indices");
        cli_warn(text);
    }
    if (s.index_taken[0]) {
        /* One warning: the loaded indices cannot go behind the name the
         * queries read, and what to read instead. */
        const char *name = cfg->es.index, *pat = s.index_pattern;
        bool prefix = strncmp(pat, name, strlen(name)) == 0;
        char both[600], text[1600]; /* cli_warn escapes it */
        if (prefix)
            snprintf(both, sizeof(both), "'%s*'", name);
        else
            snprintf(both, sizeof(both), "'%s,%s'", name, pat);
        if (strcmp(s.index_taken, name) == 0)
            snprintf(text, sizeof(text),
                     "elasticsearch.index '%s' is an existing index, so the loaded indices cannot "
                     "be put behind an alias of that name and queries will not see them: set "
                     "index: '%s' to read them, or %s to read both (if both map CloudTrail "
                     "fields the same way)",
                     name, pat, both);
        else
            snprintf(text, sizeof(text),
                     "elasticsearch.index '%s' is an alias of %s, which cloudtracker did not "
                     "make, so the loaded indices are not added to it and queries will not see "
                     "them: set index: '%s' to read them, or %s to read both (if both map "
                     "CloudTrail fields the same way)",
                     name, s.index_taken, pat, both);
        cli_warn(text);
    }
    if (s.unseen_index[0]) {
        char text[1000]; /* cli_warn escapes it */
        snprintf(text, sizeof(text),
                 "elasticsearch.index '%s' does not name %s, which this load wrote to: unless it "
                 "is an alias of the loaded indices, queries will not see them (index: '%s' "
                 "does)",
                 cfg->es.index, s.unseen_index, s.index_pattern);
        cli_warn(text);
    }
    if (s.indices_old_mapping) {
        char text[800]; /* cli_warn escapes it */
        /* What each version lacks: 1 who is behind sessions, 1 and 2 the
         * resources calls named. */
        snprintf(text, sizeof(text),
                 "%" PRIu64 " %s loaded into (%s%s) %s made by an older cloudtracker "
                 "(mapping_version %d): records there %s; docs/elasticsearch-load.md says how "
                 "to reload them",
                 s.indices_old_mapping, s.indices_old_mapping == 1 ? "index" : "indices",
                 s.old_mapping_index, s.indices_old_mapping > 1 ? ", ..." : "",
                 s.indices_old_mapping == 1 ? "was" : "were", s.old_mapping_version,
                 s.old_mapping_version <= 1
                     ? "cannot answer --list people or --person, and name no resources for "
                       "--resources"
                     : "name no resources for --resources");
        cli_warn(text);
    }
    if (s.files_unrecorded) {
        char text[200];
        snprintf(text, sizeof(text),
                 "%" PRIu64 " %s loaded but could not be recorded in elasticsearch.state_index: "
                 "the next load reads them again (nothing is doubled)",
                 s.files_unrecorded, s.files_unrecorded == 1 ? "file was" : "files were");
        cli_warn(text);
    }
    bool incomplete = s.files_partial || s.files_skipped || s.records_rejected;
    ct_es_load_summary_release(&s);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == CT_EINTERRUPTED && stop_signal) {
        cli_report_error(err);
        fflush(NULL);
        /* End the way an interrupted program does, now that the indices
         * have their settings back. */
        signal((int)stop_signal, SIG_DFL);
        raise((int)stop_signal);
    }
    return rc ? rc : incomplete ? 1 : 0;
}

int cli_run_ingest(const cli_options *o)
{
    ct_error err;
    ct_error_clear(&err);
    ct_config *cfg = NULL;
    ct_store *store = NULL;
    ct_ingest_summary summary;
    memset(&summary, 0, sizeof(summary));
    int rc = 0, code = EXIT_OK;

    if (o->list || o->user || o->role || o->person || o->destrole || o->destaccount ||
        o->show_used || o->show_unused || o->start || o->end || o->iam || o->skip_setup ||
        o->format_given || o->output || o->compare || o->dormant_days || o->account_count > 1 ||
        o->compact || o->drop_unknown || o->resources || o->inline_policy) {
        rc = ct_error_set(&err, CT_EUSAGE,
                          "ingest takes --config, --account, --store, --logs, --to, --rejects "
                          "and paths only (see --help)");
        goto done;
    }
    bool to_es = o->to && strcmp(o->to, "elasticsearch") == 0;
    if (to_es && o->store) {
        rc = ct_error_set(&err, CT_EUSAGE, "--store does not go with --to elasticsearch");
        goto done;
    }
    if (!to_es && o->rejects) {
        rc = ct_error_set(&err, CT_EUSAGE, "--rejects goes with --to elasticsearch");
        goto done;
    }
    /* The config is needed unless the command line says everything. */
    bool standalone = !to_es && o->store && (o->path_count || o->log_count) && !o->account &&
                      !o->config_given;
    if (!standalone && (rc = ct_config_load(&cfg, o->config_path, &err)))
        goto done;
    const char *account_id = NULL;
    if (o->account) {
        const ct_account *a = ct_config_find_account(cfg, o->account);
        if (!a) {
            rc = ct_error_set_at(&err, CT_ENOTFOUND, cfg->path, 0, 0, "unknown account '%s'",
                                 o->account);
            goto done;
        }
        account_id = a->id;
    }
    const char *const *paths = o->path_count  ? o->paths
                               : o->log_count ? o->logs
                                              : (const char *const *)cfg->log_paths;
    size_t path_count = o->path_count  ? o->path_count
                        : o->log_count ? o->log_count
                                       : cfg->log_path_count;
    if (!path_count) {
        rc = ct_error_set_at(&err, CT_EUSAGE, cfg ? cfg->path : "", 0, 0,
                             "nothing to ingest: give paths, --logs, or files.paths in the config");
        goto done;
    }
    if (to_es) {
        rc = run_es_load(o, cfg, paths, path_count, account_id, &err);
        if (rc == 1) { /* done, but something was rejected or skipped */
            rc = 0;
            code = EXIT_INCOMPLETE;
        }
        goto done;
    }
    const char *store_path = o->store ? o->store : cfg->store_path;
    if ((rc = ct_store_open(&store, store_path, true, &err)))
        goto done;
    if (ct_store_rebuilding(store))
        cli_notice_rebuild(store_path, ct_store_rebuilding(store));

    progress p = {0};
    clock_gettime(CLOCK_MONOTONIC, &p.started);
    ct_ingest_options opts = {0};
    opts.paths = paths;
    opts.path_count = path_count;
    opts.account_id = account_id;
    opts.time_field = cfg ? cfg->time_field : NULL;
    if (isatty(STDERR_FILENO)) {
        opts.progress = show_progress;
        opts.progress_ud = &p;
    }
    rc = ct_store_ingest(store, &opts, &summary, &err);
    if (p.shown)
        fputc('\n', stderr);
    if (rc)
        goto done;
    print_problems(&summary.problems);
    fprintf(stderr,
            "cloudtracker: %" PRIu64 " %s: %" PRIu64 " read, %" PRIu64 " unchanged, %" PRIu64
            " partly read, %" PRIu64 " skipped; %" PRIu64 " %s stored, %" PRIu64 " rejected\n",
            summary.files_seen, summary.files_seen == 1 ? "file" : "files", summary.files_read,
            summary.files_unchanged, summary.files_partial, summary.files_skipped,
            summary.records_stored, summary.records_stored == 1 ? "record" : "records",
            summary.records_rejected);
    if (p.shown) /* a terminal: people like to see the speed */
        fprintf(stderr, "cloudtracker: %.1f MB of JSON in %.1f s\n",
                (double)summary.bytes_json / 1e6, seconds_since(&p.started));
    if (summary.files_partial || summary.files_skipped || summary.records_rejected)
        code = EXIT_INCOMPLETE;
done:
    if (rc) {
        cli_report_error(&err);
        code = cli_exit_code(rc);
    }
    ct_ingest_summary_release(&summary);
    ct_store_free(store);
    ct_config_free(cfg);
    return code;
}
