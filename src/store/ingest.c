/* The ingest: finds trail files under the given paths, has worker threads
 * read and aggregate them, and writes each file's result from the calling
 * thread, in discovery order, whole files per transaction. */
#include "store/store_internal.h"
#include "trail/walk.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the pipeline ---- */

/* Slots of the ring of files being read or waiting to be written. */
#define RING_PER_THREAD 128
#define RING_MAX 1024

struct job {
    ct_file_result res;
    char *path_account;
    int rc;
    ct_error err;
    bool done;
};

struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a job was submitted, or closing */
    pthread_cond_t done_cv; /* a job was finished */
    struct job *jobs;       /* ring of `cap` slots, indexed by sequence number */
    size_t cap;
    uint64_t submitted;
    uint64_t taken;
    uint64_t committed;
    bool closing;
    const char *time_field; /* ct_ingest_options.time_field */
    ct_gz_budget *budget;   /* the workers' buffers, together */
};

static void job_release(struct job *j)
{
    ct_file_result_release(&j->res);
    free(j->path_account);
    memset(j, 0, sizeof(*j));
}

static void *worker_main(void *arg)
{
    struct pipeline *p = arg;
    ct_file_reader *reader = NULL;
    int reader_rc = ct_file_reader_new(&reader, ct_ingest_file_limit, p->time_field);
    if (reader_rc == 0)
        ct_file_reader_set_budget(reader, p->budget);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->taken == p->submitted && !p->closing)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->taken == p->submitted) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        struct job *j = &p->jobs[p->taken++ % p->cap];
        pthread_mutex_unlock(&p->mu);
        if (reader_rc != 0)
            j->rc = ct_error_set(&j->err, CT_ENOMEM, "out of memory");
        else
            j->rc = ct_file_read(reader, j->res.path, j->path_account, &j->res, &j->err);
        pthread_mutex_lock(&p->mu);
        j->done = true;
        pthread_cond_broadcast(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
    }
    ct_file_reader_free(reader);
    return NULL;
}

/* Most worker threads: the single writer keeps up with about this many,
 * and each may hold a quota of buffers (ct_gz_budget). */
#define MAX_THREADS 8

static unsigned thread_count(unsigned requested)
{
    if (requested > 0)
        return requested > MAX_THREADS ? MAX_THREADS : requested;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

/* Folds a committed file into the summary. */
static int account_file(ct_ingest_summary *s, const ct_file_result *res)
{
    s->records_stored += res->stored;
    s->records_rejected += res->rejected;
    s->bytes_json += res->bytes_json;
    switch (res->status) {
    case CT_FILE_OK:
        s->files_read++;
        return 0;
    case CT_FILE_PARTIAL:
        s->files_partial++;
        break;
    case CT_FILE_SKIPPED:
        s->files_skipped++;
        break;
    }
    return ct_input_problems_add(&s->problems, res->path, res->reason ? res->reason : "unreadable");
}

void ct_ingest_summary_release(ct_ingest_summary *summary)
{
    if (!summary)
        return;
    ct_input_problems_release(&summary->problems);
    memset(summary, 0, sizeof(*summary));
}

/* The open write transaction. Files are written as their results arrive
 * and committed in groups: a group ends when it holds max_files files or
 * GROUP_ROWS pending roll-up rows (which bounds the writer's memory), or
 * has been open GROUP_MS milliseconds, also while waiting for a slow file
 * (so the write lock is not held long by a writer with nothing to write).
 * Big groups make the ingest fast: a commit rewrites every roll-up page
 * it touched, and a combination repeated across a group's files is upserted
 * once. A transaction only ever holds whole files, so a killed run loses at
 * most the files of the open group, which are simply read again next
 * time. */
struct txn {
    bool open;
    size_t files;
    size_t max_files;
    struct timespec deadline; /* CLOCK_MONOTONIC */
};

#define GROUP_ROWS 32768
#define GROUP_MS 1000

size_t ct_ingest_group_files = 1024;
size_t ct_ingest_file_limit = 0;
ct_gz_budget *ct_ingest_budget = NULL;

static int txn_begin(ct_store *store, struct txn *t, ct_error *err)
{
    int rc = ct_store_begin(store, err);
    if (rc != 0)
        return rc;
    t->open = true;
    t->files = 0;
    clock_gettime(CLOCK_MONOTONIC, &t->deadline);
    t->deadline.tv_sec += GROUP_MS / 1000;
    t->deadline.tv_nsec += (long)(GROUP_MS % 1000) * 1000000;
    if (t->deadline.tv_nsec >= 1000000000) {
        t->deadline.tv_sec++;
        t->deadline.tv_nsec -= 1000000000;
    }
    return 0;
}

static bool txn_expired(const struct txn *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->deadline.tv_sec ||
           (now.tv_sec == t->deadline.tv_sec && now.tv_nsec >= t->deadline.tv_nsec);
}

static int txn_commit(ct_store *store, struct txn *t, ct_error *err)
{
    if (!t->open)
        return 0;
    t->open = false;
    t->files = 0;
    return ct_store_commit(store, err);
}

/* Waits until job j is done, committing the open transaction when its time
 * is up meanwhile. A failed commit is returned, but only once j is done: the
 * caller releases j. */
static int wait_job(ct_store *store, struct pipeline *p, struct job *j, struct txn *t,
                    ct_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    while (!j->done) {
        if (!t->open) {
            pthread_cond_wait(&p->done_cv, &p->mu);
            continue;
        }
        if (pthread_cond_timedwait(&p->done_cv, &p->mu, &t->deadline) == ETIMEDOUT && !j->done) {
            pthread_mutex_unlock(&p->mu);
            rc = txn_commit(store, t, err);
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Writes the oldest job's result once it is done. */
static int commit_next(ct_store *store, struct pipeline *p, struct txn *t,
                       ct_ingest_summary *summary, ct_error *err)
{
    struct job *j = &p->jobs[p->committed % p->cap];
    int rc = wait_job(store, p, j, t, err);
    if (rc == 0 && j->rc != 0) {
        rc = j->rc;
        if (err)
            *err = j->err;
    }
    if (rc == 0 && !t->open)
        rc = txn_begin(store, t, err);
    if (rc == 0) {
        rc = ct_store_write_file(store, &j->res, err);
        if (rc != 0)
            t->open = false; /* rolled back */
    }
    if (rc == 0 && account_file(summary, &j->res) != 0)
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    if (rc == 0 && (++t->files >= t->max_files || ct_store_pending_rows(store) >= GROUP_ROWS ||
                    txn_expired(t)))
        rc = txn_commit(store, t, err);
    job_release(j);
    p->committed++;
    return rc;
}

/* Whether the store already holds this exact file, fully read. */
static int unchanged(ct_store *store, const ct_found_file *f, bool *same, ct_error *err)
{
    bool known, ok;
    int64_t size = 0, mtime = 0;
    int rc = ct_store_file_state(store, f->path, &known, &size, &mtime, &ok, err);
    *same = rc == 0 && known && ok && size == f->size && mtime == f->mtime_ns;
    return rc;
}

static int ingest(ct_store *store, const ct_ingest_options *opts, ct_ingest_summary *summary,
                  ct_error *err)
{
    memset(summary, 0, sizeof(*summary));
    ct_walk *w = NULL;
    int rc = ct_walk_new(&w, opts->paths, opts->path_count, opts->account_id, &summary->problems,
                         err);
    if (rc != 0)
        return rc;
    if (store->ino != 0 && ct_walk_skip(w, store->dev, store->ino) != 0) {
        ct_walk_free(w);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }

    struct pipeline p;
    memset(&p, 0, sizeof(p));
    p.time_field = opts->time_field;
    ct_gz_budget *own_budget = NULL;
    p.budget = ct_ingest_budget;
    if (!p.budget && ct_gz_budget_new(&own_budget, CT_GZ_READER_QUOTA) != 0) {
        ct_walk_free(w);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    if (!p.budget)
        p.budget = own_budget;
    unsigned nthreads = thread_count(opts->threads);
    /* Enough slots for the results workers make while the writer commits a
     * group (tens of milliseconds), so they need not stop meanwhile; the
     * bound is what keeps memory independent of the archive (a result
     * waiting to be written takes some 20 KB). */
    p.cap = (size_t)nthreads * RING_PER_THREAD;
    if (p.cap > RING_MAX)
        p.cap = RING_MAX;
    p.jobs = calloc(p.cap, sizeof(*p.jobs));
    pthread_t *threads = calloc(nthreads, sizeof(*threads));
    unsigned started = 0;
    if (!p.jobs || !threads) {
        free(p.jobs);
        free(threads);
        ct_gz_budget_free(own_budget);
        ct_walk_free(w);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.work_cv, NULL);
    /* The writer's timed waits run on the monotonic clock (wait_job). */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p.done_cv, &attr);
    pthread_condattr_destroy(&attr);
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, worker_main, &p) != 0)
            break;
    if (started == 0) {
        rc = ct_error_set(err, CT_ENOMEM, "cannot start ingest threads");
        goto cleanup;
    }

    bool walking = true;
    uint64_t since_progress = 0;
    struct txn txn = {false, 0, ct_ingest_group_files ? ct_ingest_group_files : 1, {0, 0}};
    while (rc == 0) {
        while (walking && p.submitted - p.committed < p.cap) {
            ct_found_file f;
            bool have;
            rc = ct_walk_next(w, &f, &have, err);
            if (rc != 0)
                break;
            if (!have) {
                walking = false;
                break;
            }
            summary->files_seen++;
            bool same;
            rc = unchanged(store, &f, &same, err);
            if (rc != 0 || same) {
                ct_found_file_release(&f);
                if (rc != 0)
                    break;
                summary->files_unchanged++;
                if (opts->progress && ++since_progress % 4096 == 0)
                    opts->progress(opts->progress_ud, summary);
                continue;
            }
            struct job *j = &p.jobs[p.submitted % p.cap];
            j->res.path = f.path;
            j->res.size = f.size;
            j->res.mtime_ns = f.mtime_ns;
            j->path_account = f.path_account;
            pthread_mutex_lock(&p.mu);
            p.submitted++;
            pthread_cond_signal(&p.work_cv);
            pthread_mutex_unlock(&p.mu);
        }
        if (rc != 0 || p.submitted == p.committed)
            break;
        rc = commit_next(store, &p, &txn, summary, err);
        if (rc == 0 && opts->progress)
            opts->progress(opts->progress_ud, summary);
    }
    if (rc == 0)
        rc = txn_commit(store, &txn, err);
    else if (txn.open)
        ct_store_rollback(store);

cleanup:
    pthread_mutex_lock(&p.mu);
    /* On error, jobs no worker has taken are dropped; taken ones finish. */
    for (uint64_t s = p.taken; s < p.submitted; s++)
        job_release(&p.jobs[s % p.cap]);
    p.submitted = p.taken;
    p.closing = true;
    pthread_cond_broadcast(&p.work_cv);
    pthread_mutex_unlock(&p.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (uint64_t s = p.committed; s < p.submitted; s++)
        job_release(&p.jobs[s % p.cap]);
    pthread_cond_destroy(&p.work_cv);
    pthread_cond_destroy(&p.done_cv);
    pthread_mutex_destroy(&p.mu);
    free(p.jobs);
    free(threads);
    ct_gz_budget_free(own_budget);
    ct_walk_free(w);
    return rc;
}

int ct_store_ingest(ct_store *store, const ct_ingest_options *opts, ct_ingest_summary *summary,
                    ct_error *err)
{
    /* The mark tells readers (--skip-setup) that the store is half-written. */
    int mark = ct_store_ingest_mark(store);
    int rc = ingest(store, opts, summary, err);
    bool again = false;
    if (rc == 0 && store->target)
        rc = ct_store_rebuild_finish(store, &mark, &again, err);
    else if (rc != 0)
        ct_store_rebuild_explain(store, err);
    ct_store_ingest_unmark(store, mark);
    /* Another process rebuilt the store meanwhile: this one's files go
     * into that store (the files it holds are not read again). */
    if (rc == 0 && again) {
        ct_ingest_summary_release(summary);
        rc = ct_store_ingest(store, opts, summary, err);
    }
    return rc;
}
