/* The ingest: finds trail files under the given paths, has worker threads
 * read and aggregate them, and writes each file's result from the calling
 * thread, in discovery order, whole files per transaction. */
/* realpath() is an XSI function. */
#define _XOPEN_SOURCE 700
#include "source/gzread.h"
#include "source/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- discovery ---- */

/* A folder being listed: its entries, sorted so runs are reproducible. */
struct dir_frame {
    char *dir;
    char **names;
    size_t count;
    size_t next;
    dev_t dev; /* identity of the folder, to stop at symbolic-link loops */
    ino_t ino;
};

struct walker {
    struct dir_frame *stack;
    size_t depth;
    size_t cap;
    char **args; /* canonical path arguments */
    size_t nargs;
    size_t next_arg;
    const char *account; /* filter, or NULL */
    const ct_store *store;
    ct_ingest_summary *summary;
};

/* A trail file found by the walker. */
struct found {
    char *path;
    char *path_account; /* account from the trail layout, or NULL */
    int64_t size;
    int64_t mtime_ns;
};

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && ct_strcasecmp(s + n - m, suffix) == 0;
}

/* File names the walk reads: CloudTrail's .json.gz, plain JSON, and
 * one-record-per-line files. Anything else in a folder is not a trail file. */
static bool trail_name(const char *name)
{
    static const char *const suffixes[] = {".json",     ".json.gz", ".jsonl",
                                           ".jsonl.gz", ".ndjson",  ".ndjson.gz"};
    if (name[0] == '.')
        return false;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
        if (ends_with_ci(name, suffixes[i]))
            return true;
    return false;
}

/* Folders that never hold event records: digests, Insights events, and
 * hidden folders (.git, sync tools' scratch space). */
static bool skipped_dir(const char *name)
{
    return name[0] == '.' || strcmp(name, "CloudTrail-Digest") == 0 ||
           strcmp(name, "CloudTrail-Insight") == 0;
}

/* Length of the path component starting at p. */
static size_t comp_len(const char *p)
{
    const char *slash = strchr(p, '/');
    return slash ? (size_t)(slash - p) : strlen(p);
}

static bool comp_is(const char *p, const char *word)
{
    size_t n = strlen(word);
    return comp_len(p) == n && memcmp(p, word, n) == 0;
}

/* When `path` lies at or below .../AWSLogs/[o-ORG/]ACCOUNT/CloudTrail,
 * returns true with the ACCOUNT component. */
static bool layout_account(const char *path, const char **account, size_t *len)
{
    for (const char *p = strstr(path, "/AWSLogs/"); p; p = strstr(p + 1, "/AWSLogs/")) {
        const char *c1 = p + 9;
        size_t n1 = comp_len(c1);
        if (n1 == 0 || c1[n1] != '/')
            continue;
        const char *c2 = c1 + n1 + 1;
        if (comp_is(c2, "CloudTrail")) {
            *account = c1;
            *len = n1;
            return true;
        }
        size_t n2 = comp_len(c2);
        if (n1 > 2 && memcmp(c1, "o-", 2) == 0 && n2 > 0 && c2[n2] == '/' &&
            comp_is(c2 + n2 + 1, "CloudTrail")) {
            *account = c2;
            *len = n2;
            return true;
        }
    }
    return false;
}

/* True when the account filter leaves `path` out. */
static bool filtered_out(const struct walker *w, const char *path)
{
    const char *acct;
    size_t len;
    if (!w->account || !layout_account(path, &acct, &len))
        return false;
    return !(strlen(w->account) == len && memcmp(acct, w->account, len) == 0);
}

static bool is_store_file(const struct walker *w, const struct stat *st)
{
    return w->store->ino != 0 && st->st_dev == w->store->dev && st->st_ino == w->store->ino;
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] == '/';
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    if (!slash)
        p[a++] = '/';
    memcpy(p + a, name, b + 1);
    return p;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void frame_release(struct dir_frame *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->names[i]);
    free(f->names);
    free(f->dir);
    memset(f, 0, sizeof(*f));
}

/* Lists `dir` (taking ownership of the string) onto the stack. An unreadable
 * folder is a problem of the input, listed in the summary. */
static int push_dir(struct walker *w, char *dir, ct_error *err)
{
    struct dir_frame f = {dir, NULL, 0, 0, 0, 0};
    size_t cap = 0;
    DIR *d = opendir(dir);
    struct stat st;
    if (d && fstat(dirfd(d), &st) == 0) {
        f.dev = st.st_dev;
        f.ino = st.st_ino;
    }
    if (!d) {
        int e = errno;
        char reason[300];
        snprintf(reason, sizeof(reason), "cannot read folder: %s", strerror(e));
        int rc = ct_input_problems_add(&w->summary->problems, dir, reason);
        free(dir);
        return rc ? ct_error_set(err, CT_ENOMEM, "out of memory") : 0;
    }
    struct dirent *de;
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (f.count == cap) {
            cap = cap ? cap * 2 : 32;
            char **names = realloc(f.names, cap * sizeof(*names));
            if (!names)
                goto nomem;
            f.names = names;
        }
        if (!(f.names[f.count] = ct_strdup(de->d_name)))
            goto nomem;
        f.count++;
    }
    if (errno != 0) {
        /* Keep what was listed, and say the listing is incomplete. */
        char reason[300];
        snprintf(reason, sizeof(reason), "cannot read folder: %s", strerror(errno));
        if (ct_input_problems_add(&w->summary->problems, dir, reason) != 0)
            goto nomem;
    }
    closedir(d);
    d = NULL;
    if (f.count > 1)
        qsort(f.names, f.count, sizeof(*f.names), cmp_names);
    if (w->depth == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        struct dir_frame *stack = realloc(w->stack, ncap * sizeof(*stack));
        if (!stack)
            goto nomem;
        w->stack = stack;
        w->cap = ncap;
    }
    w->stack[w->depth++] = f;
    return 0;
nomem:
    if (d)
        closedir(d);
    frame_release(&f);
    return ct_error_set(err, CT_ENOMEM, "out of memory");
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Fills `f` for the file at `path` (taking ownership of the string) and
 * sets *have. */
static int found_file(struct found *f, char *path, const struct stat *st, bool *have, ct_error *err)
{
    f->path = path;
    f->path_account = NULL;
    f->size = (int64_t)st->st_size;
    f->mtime_ns = mtime_ns(st);
    const char *acct;
    size_t len;
    if (layout_account(path, &acct, &len) && !(f->path_account = ct_strndup(acct, len))) {
        free(path);
        f->path = NULL;
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    *have = true;
    return 0;
}

/* True when the folder `st` is already being walked (a link loop). */
static bool on_stack(const struct walker *w, const struct stat *st)
{
    for (size_t i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
            return true;
    return false;
}

/* Follows the symbolic link at *path: on success *path is replaced by the
 * canonical target (so a file reached through several links has one name
 * in the store and is never counted twice) and *st describes it. A dangling
 * link is listed as a problem and *path freed (set to NULL). */
static int follow_link(struct walker *w, char **path, struct stat *st, ct_error *err)
{
    char *target = realpath(*path, NULL);
    if (!target || stat(target, st) != 0) {
        char reason[300];
        snprintf(reason, sizeof(reason), "broken symbolic link: %s", strerror(errno));
        int rc = ct_input_problems_add(&w->summary->problems, *path, reason);
        free(target);
        free(*path);
        *path = NULL;
        return rc ? ct_error_set(err, CT_ENOMEM, "out of memory") : 0;
    }
    free(*path);
    *path = target;
    return 0;
}

/* Finds the next trail file: *have is true with `f` filled, false when the
 * walk is over. Returns 0 or CT_ENOMEM. Symbolic links are followed to
 * their canonical targets; a link back into a folder being walked is a loop
 * and is not followed again. */
static int walker_next(struct walker *w, struct found *f, bool *have, ct_error *err)
{
    struct stat st;
    *have = false;
    for (;;) {
        if (w->depth > 0) {
            struct dir_frame *top = &w->stack[w->depth - 1];
            if (top->next == top->count) {
                frame_release(top);
                w->depth--;
                continue;
            }
            const char *name = top->names[top->next++];
            char *path = join(top->dir, name);
            if (!path)
                return ct_error_set(err, CT_ENOMEM, "out of memory");
            if (lstat(path, &st) != 0) {
                /* Gone since the listing: nothing to read. */
                free(path);
                continue;
            }
            if (S_ISLNK(st.st_mode)) {
                int rc = follow_link(w, &path, &st, err);
                if (rc != 0)
                    return rc;
                if (!path || (S_ISDIR(st.st_mode) && on_stack(w, &st))) {
                    free(path);
                    continue;
                }
            }
            if (S_ISDIR(st.st_mode)) {
                if (skipped_dir(name) || filtered_out(w, path)) {
                    free(path);
                    continue;
                }
                int rc = push_dir(w, path, err);
                if (rc != 0)
                    return rc;
                continue;
            }
            if (!S_ISREG(st.st_mode) || !trail_name(name) || is_store_file(w, &st) ||
                filtered_out(w, path)) {
                free(path);
                continue;
            }
            return found_file(f, path, &st, have, err);
        }
        if (w->next_arg == w->nargs)
            return 0;
        const char *arg = w->args[w->next_arg++];
        char *path = ct_strdup(arg);
        if (!path)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        if (stat(path, &st) != 0) {
            free(path);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int rc = push_dir(w, path, err);
            if (rc != 0)
                return rc;
            continue;
        }
        /* A file named on its own is read whatever its name. */
        if (is_store_file(w, &st) || filtered_out(w, path)) {
            free(path);
            continue;
        }
        return found_file(f, path, &st, have, err);
    }
}

static void walker_release(struct walker *w)
{
    while (w->depth > 0)
        frame_release(&w->stack[--w->depth]);
    free(w->stack);
    for (size_t i = 0; i < w->nargs; i++)
        free(w->args[i]);
    free(w->args);
}

static bool is_below(const char *child, const char *parent)
{
    size_t n = strlen(parent);
    if (strncmp(child, parent, n) != 0)
        return false;
    return child[n] == '\0' || child[n] == '/' || (n > 0 && parent[n - 1] == '/');
}

/* Resolves the path arguments (so one file always has one name in the
 * store) and drops those inside another argument. A missing or unreadable
 * argument fails the whole ingest before anything is read. */
static int resolve_args(struct walker *w, const ct_ingest_options *opts, ct_error *err)
{
    if (opts->path_count > 0 && !opts->paths)
        return ct_error_set(err, CT_EUSAGE, "no paths given");
    w->args = calloc(opts->path_count ? opts->path_count : 1, sizeof(*w->args));
    if (!w->args)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < opts->path_count; i++) {
        const char *given = opts->paths[i];
        char *real = realpath(given, NULL);
        if (!real) {
            if (errno == ENOMEM)
                return ct_error_set(err, CT_ENOMEM, "out of memory");
            return ct_error_set(err, CT_EINPUT, "%s: %s", given,
                                errno == ENOENT ? "no such file or folder" : strerror(errno));
        }
        struct stat st;
        if (stat(real, &st) != 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
            free(real);
            return ct_error_set(err, CT_EINPUT, "%s: not a file or folder", given);
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(real);
            if (!d) {
                int e = errno;
                free(real);
                return ct_error_set(err, CT_EINPUT, "%s: %s", given, strerror(e));
            }
            closedir(d);
        } else if (access(real, R_OK) != 0) {
            int e = errno;
            free(real);
            return ct_error_set(err, CT_EINPUT, "%s: %s", given, strerror(e));
        }
        w->args[w->nargs++] = real;
    }
    qsort(w->args, w->nargs, sizeof(*w->args), cmp_names);
    size_t kept = 0;
    for (size_t i = 0; i < w->nargs; i++) {
        bool inside = false;
        for (size_t j = 0; j < kept && !inside; j++)
            inside = is_below(w->args[i], w->args[j]);
        if (inside)
            free(w->args[i]);
        else
            w->args[kept++] = w->args[i];
    }
    w->nargs = kept;
    return 0;
}

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
    int reader_rc = ct_file_reader_new(&reader, 0);
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

static unsigned thread_count(unsigned requested)
{
    if (requested > 0)
        return requested > 64 ? 64 : requested;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > 64 ? 64 : (unsigned)n;
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
static int unchanged(ct_store *store, const struct found *f, bool *same, ct_error *err)
{
    bool known, ok;
    int64_t size = 0, mtime = 0;
    int rc = ct_store_file_state(store, f->path, &known, &size, &mtime, &ok, err);
    *same = rc == 0 && known && ok && size == f->size && mtime == f->mtime_ns;
    return rc;
}

int ct_store_ingest(ct_store *store, const ct_ingest_options *opts, ct_ingest_summary *summary,
                    ct_error *err)
{
    memset(summary, 0, sizeof(*summary));
    struct walker w;
    memset(&w, 0, sizeof(w));
    w.account = opts->account_id && opts->account_id[0] ? opts->account_id : NULL;
    w.store = store;
    w.summary = summary;
    int rc = resolve_args(&w, opts, err);
    if (rc != 0) {
        walker_release(&w);
        return rc;
    }

    struct pipeline p;
    memset(&p, 0, sizeof(p));
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
        walker_release(&w);
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
            struct found f;
            bool have;
            rc = walker_next(&w, &f, &have, err);
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
                free(f.path);
                free(f.path_account);
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
    walker_release(&w);
    return rc;
}
