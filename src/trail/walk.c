/* Discovery of trail files under the paths an ingest is given (see
 * walk.h): a depth-first walk in sorted order, following symbolic links to
 * canonical names. */
/* realpath() is an XSI function. */
#define _XOPEN_SOURCE 700
#include "trail/walk.h"

#include "cloudtracker/util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* A folder being listed: its entries, sorted so runs are reproducible. */
struct dir_frame {
    char *dir;
    char **names;
    size_t count;
    size_t next;
    dev_t dev; /* identity of the folder (see ct_walk.dirs) */
    ino_t ino;
};

struct file_id {
    dev_t dev;
    ino_t ino;
};

/* A set of file identities: open addressing, linear probing. */
struct id_slot {
    dev_t dev;
    ino_t ino;
    bool used;
};

struct id_set {
    struct id_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

struct ct_walk {
    struct dir_frame *stack;
    size_t depth;
    size_t cap;
    char **args; /* canonical path arguments */
    size_t nargs;
    size_t next_arg;
    char *account; /* filter, or NULL */
    struct file_id *skip; /* files never read (the store, a reject file) */
    size_t skip_count;
    /* Every folder walked: each is walked once, however many links lead
     * to it (links can make a folder graph with exponentially many
     * paths). */
    struct id_set dirs;
    /* Files found under another name than their own folder's listing
     * gives them (through a link, or as a path argument) and files with
     * hard links: any other name of theirs is left out. Ordinary files
     * need no entry, as their folder is walked once. */
    struct id_set files;
    ct_input_problems *problems;
};

static size_t id_hash(dev_t dev, ino_t ino)
{
    uint64_t h = ((uint64_t)ino ^ ((uint64_t)dev << 32 | (uint64_t)dev >> 32)) *
                 UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h ^ (h >> 29));
}

static bool id_set_has(const struct id_set *set, dev_t dev, ino_t ino)
{
    if (set->count == 0)
        return false;
    for (size_t i = id_hash(dev, ino) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        const struct id_slot *e = &set->slots[i];
        if (!e->used)
            return false;
        if (e->dev == dev && e->ino == ino)
            return true;
    }
}

/* Adds dev/ino (if not there yet); 0 or CT_ENOMEM. */
static int id_set_add(struct id_set *set, dev_t dev, ino_t ino)
{
    if (id_set_has(set, dev, ino))
        return 0;
    if ((set->count + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        struct id_slot *slots = calloc(cap, sizeof(*slots));
        if (!slots)
            return CT_ENOMEM;
        for (size_t j = 0; j < set->cap; j++) {
            const struct id_slot *e = &set->slots[j];
            if (!e->used)
                continue;
            size_t i = id_hash(e->dev, e->ino) & (cap - 1);
            while (slots[i].used)
                i = (i + 1) & (cap - 1);
            slots[i] = *e;
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    size_t i = id_hash(dev, ino) & (set->cap - 1);
    while (set->slots[i].used)
        i = (i + 1) & (set->cap - 1);
    set->slots[i].dev = dev;
    set->slots[i].ino = ino;
    set->slots[i].used = true;
    set->count++;
    return 0;
}

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
static bool filtered_out(const struct ct_walk *w, const char *path)
{
    const char *acct;
    size_t len;
    if (!w->account || !layout_account(path, &acct, &len))
        return false;
    return !(strlen(w->account) == len && memcmp(acct, w->account, len) == 0);
}

static bool is_skipped_file(const struct ct_walk *w, const struct stat *st)
{
    for (size_t i = 0; i < w->skip_count; i++)
        if (st->st_dev == w->skip[i].dev && st->st_ino == w->skip[i].ino)
            return true;
    return false;
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

/* Lists `dir` (taking ownership of the string) onto the stack, unless that
 * folder was walked already (reached again through a link: a loop, or
 * another path to it). An unreadable folder is a problem of the input,
 * listed in the summary. */
static int push_dir(struct ct_walk *w, char *dir, ct_error *err)
{
    struct dir_frame f = {dir, NULL, 0, 0, 0, 0};
    size_t cap = 0;
    DIR *d = opendir(dir);
    struct stat st;
    if (d && fstat(dirfd(d), &st) == 0) {
        if (id_set_has(&w->dirs, st.st_dev, st.st_ino)) {
            closedir(d);
            free(dir);
            return 0;
        }
        if (id_set_add(&w->dirs, st.st_dev, st.st_ino) != 0)
            goto nomem;
        f.dev = st.st_dev;
        f.ino = st.st_ino;
    }
    if (!d) {
        int e = errno;
        char reason[300];
        snprintf(reason, sizeof(reason), "cannot read folder: %s", strerror(e));
        int rc = ct_input_problems_add(w->problems, dir, reason);
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
        if (ct_input_problems_add(w->problems, dir, reason) != 0)
            goto nomem;
    }
    closedir(d);
    d = NULL;
    if (f.count > 1)
        qsort(f.names, f.count, sizeof(*f.names), cmp_names);
    struct dir_frame *stack = ct_array_grow(w->stack, &w->cap, w->depth, sizeof(*stack), 16);
    if (!stack)
        goto nomem;
    w->stack = stack;
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
static int found_file(ct_found_file *f, char *path, const struct stat *st, bool *have, ct_error *err)
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

/* Whether the walk finds, or has found, the file `st` at `path` (canonical)
 * in the listing of its own folder: that folder is walked, the file's name
 * is one the walk reads, and it has been reached already (the folder was
 * walked completely, or its listing is past the name). */
static bool found_in_own_folder(const struct ct_walk *w, const char *path, const struct stat *st)
{
    const char *slash = strrchr(path, '/');
    if (!slash || !trail_name(slash + 1) || is_skipped_file(w, st) || filtered_out(w, path))
        return false;
    char *dir = slash == path ? ct_strdup("/") : ct_strndup(path, (size_t)(slash - path));
    struct stat dst;
    bool walked = dir && stat(dir, &dst) == 0 && id_set_has(&w->dirs, dst.st_dev, dst.st_ino);
    free(dir);
    if (!walked)
        return false;
    for (size_t i = 0; i < w->depth; i++) {
        const struct dir_frame *f = &w->stack[i];
        if (f->dev != dst.st_dev || f->ino != dst.st_ino)
            continue;
        const char *base = slash + 1;
        char *const *hit = bsearch(&base, f->names, f->count, sizeof(*f->names), cmp_names);
        return hit && (size_t)(hit - f->names) < f->next;
    }
    return true;
}

/* Decides whether the file `st`, found at the canonical `path` (`listed`:
 * as an entry of a folder's listing, not through a link or as a path
 * argument), is new to the walk: each file is found once, under its first
 * name. Returns 0 (with *dup) or CT_ENOMEM. */
static int seen_file(struct ct_walk *w, const char *path, const struct stat *st, bool listed,
                     bool *dup)
{
    *dup = id_set_has(&w->files, st->st_dev, st->st_ino) ||
           (!listed && found_in_own_folder(w, path, st));
    if (*dup || (listed && st->st_nlink < 2))
        return 0;
    /* Other names of it may come: under a link, a hard link, or in its own
     * folder's listing, yet to come. */
    return id_set_add(&w->files, st->st_dev, st->st_ino);
}

/* Follows the symbolic link at *path: on success *path is replaced by the
 * canonical target (so a file reached through several links has one name
 * in the store and is never counted twice) and *st describes it. A dangling
 * link is listed as a problem and *path freed (set to NULL). */
static int follow_link(struct ct_walk *w, char **path, struct stat *st, ct_error *err)
{
    char *target = realpath(*path, NULL);
    if (!target || stat(target, st) != 0) {
        char reason[300];
        snprintf(reason, sizeof(reason), "broken symbolic link: %s", strerror(errno));
        int rc = ct_input_problems_add(w->problems, *path, reason);
        free(target);
        free(*path);
        *path = NULL;
        return rc ? ct_error_set(err, CT_ENOMEM, "out of memory") : 0;
    }
    free(*path);
    *path = target;
    return 0;
}

/* Fills `f` for the file at `path` (taking ownership of the string) and
 * sets *have, unless the walk found that file before (then *have stays
 * false). See seen_file for `listed`. */
static int new_file(struct ct_walk *w, ct_found_file *f, char *path, const struct stat *st,
                    bool listed, bool *have, ct_error *err)
{
    bool dup;
    if (seen_file(w, path, st, listed, &dup) != 0) {
        free(path);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    if (dup) {
        free(path);
        return 0;
    }
    return found_file(f, path, st, have, err);
}

/* Finds the next trail file: *have is true with `f` filled, false when the
 * walk is over. Returns 0 or CT_ENOMEM. Symbolic links are followed to
 * their canonical targets; each folder is walked once (a link back into a
 * folder being walked, a loop, is not followed again) and each file found
 * once. A FIFO, socket or device with a trail file's name is found too,
 * for the reader to report: it is never opened. */
int ct_walk_next(ct_walk *w, ct_found_file *f, bool *have, ct_error *err)
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
            bool listed = !S_ISLNK(st.st_mode);
            if (!listed) {
                int rc = follow_link(w, &path, &st, err);
                if (rc != 0)
                    return rc;
                if (!path)
                    continue;
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
            if (!trail_name(name) || is_skipped_file(w, &st) || filtered_out(w, path)) {
                free(path);
                continue;
            }
            int rc = new_file(w, f, path, &st, listed, have, err);
            if (rc != 0 || *have)
                return rc;
            continue;
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
        if (is_skipped_file(w, &st) || filtered_out(w, path)) {
            free(path);
            continue;
        }
        int rc = new_file(w, f, path, &st, false, have, err);
        if (rc != 0 || *have)
            return rc;
    }
}

void ct_walk_free(ct_walk *w)
{
    if (!w)
        return;
    while (w->depth > 0)
        frame_release(&w->stack[--w->depth]);
    free(w->stack);
    for (size_t i = 0; i < w->nargs; i++)
        free(w->args[i]);
    free(w->args);
    free(w->account);
    free(w->skip);
    free(w->dirs.slots);
    free(w->files.slots);
    free(w);
}

void ct_found_file_release(ct_found_file *f)
{
    free(f->path);
    free(f->path_account);
    memset(f, 0, sizeof(*f));
}

int ct_walk_skip(ct_walk *w, dev_t dev, ino_t ino)
{
    struct file_id *skip = realloc(w->skip, (w->skip_count + 1) * sizeof(*skip));
    if (!skip)
        return CT_ENOMEM;
    w->skip = skip;
    w->skip[w->skip_count].dev = dev;
    w->skip[w->skip_count].ino = ino;
    w->skip_count++;
    return 0;
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
static int resolve_args(struct ct_walk *w, const char *const *paths, size_t path_count,
                        ct_error *err)
{
    if (path_count > 0 && !paths)
        return ct_error_set(err, CT_EUSAGE, "no paths given");
    w->args = calloc(path_count ? path_count : 1, sizeof(*w->args));
    if (!w->args)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < path_count; i++) {
        const char *given = paths[i];
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

int ct_walk_new(ct_walk **out, const char *const *paths, size_t path_count, const char *account_id,
                ct_input_problems *problems, ct_error *err)
{
    *out = NULL;
    ct_walk *w = calloc(1, sizeof(*w));
    if (!w)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    w->problems = problems;
    if (account_id && account_id[0] && !(w->account = ct_strdup(account_id))) {
        ct_walk_free(w);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    int rc = resolve_args(w, paths, path_count, err);
    if (rc != 0) {
        ct_walk_free(w);
        return rc;
    }
    *out = w;
    return 0;
}
