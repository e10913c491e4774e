/* The ingest command: reads new CloudTrail files into the embedded store
 * and prints a summary; progress is shown when stderr is a terminal. */
#include "cli.h"

#include "cloudtracker/config.h"
#include "cloudtracker/store.h"
#include "cloudtracker/util.h"

#include <inttypes.h>
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

static void show_progress(void *ud, const ct_ingest_summary *s)
{
    progress *p = ud;
    double t = seconds_since(&p->started);
    if (t - p->last_shown < 0.5)
        return;
    p->last_shown = t;
    p->shown = true;
    fprintf(stderr, "\rcloudtracker: %" PRIu64 " files, %" PRIu64 " events, %.0f MB/s   ",
            s->files_read + s->files_partial + s->files_skipped, s->records_stored,
            t > 0 ? (double)s->bytes_json / 1e6 / t : 0.0);
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

    if (o->list || o->user || o->role || o->destrole || o->destaccount || o->show_used ||
        o->show_unused || o->start || o->end || o->iam || o->skip_setup) {
        rc = ct_error_set(&err, CT_EUSAGE,
                          "ingest takes --config, --account, --store, --logs "
                          "and paths only (see --help)");
        goto done;
    }
    /* The config is needed unless the command line says everything. */
    bool standalone =
        o->store && (o->path_count || o->log_count) && !o->account && !o->config_given;
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
    const char *store_path = o->store ? o->store : cfg->store_path;
    if ((rc = ct_store_open(&store, store_path, true, &err)))
        goto done;

    progress p = {0};
    clock_gettime(CLOCK_MONOTONIC, &p.started);
    ct_ingest_options opts = {0};
    opts.paths = paths;
    opts.path_count = path_count;
    opts.account_id = account_id;
    if (isatty(STDERR_FILENO)) {
        opts.progress = show_progress;
        opts.progress_ud = &p;
    }
    rc = ct_store_ingest(store, &opts, &summary, &err);
    if (p.shown)
        fputc('\n', stderr);
    if (rc)
        goto done;
    for (size_t i = 0; i < summary.problems.count; i++) {
        char *path = ct_safe_dup(summary.problems.items[i].path);
        char *reason = ct_safe_dup(summary.problems.items[i].reason);
        fprintf(stderr, "cloudtracker: %s: %s\n", path ? path : "?", reason ? reason : "?");
        free(path);
        free(reason);
    }
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
