/* The embedded store: CloudTrail activity aggregated per day in SQLite, and
 * the ingest that fills it from trail files on disk. A store is also an
 * event source (see source.h). */
#ifndef CLOUDTRACKER_STORE_H
#define CLOUDTRACKER_STORE_H

#include "cloudtracker/error.h"
#include "cloudtracker/source.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ct_store ct_store;

/* Opens the store at `path`. With `writable`, for ingesting: creates it
 * when missing, with its parent folders (mode 0700) and the file (mode
 * 0600, never through a symbolic link: a dangling link is refused).
 * Without, for reading only: nothing is ever written, and a store where
 * SQLite cannot keep its shared-memory file (a read-only filesystem, a
 * folder the user cannot write) is read as an immutable file, unless its
 * write-ahead log holds changes (then CT_ESTORE says so rather than miss
 * them).
 *
 * A store made by an older cloudtracker (an older schema) is rebuilt from
 * the trail files, which it only caches: a writable open leaves it as it
 * is and opens a new store beside it ("<path>.rebuild", resumed if an
 * earlier rebuild was interrupted), which the next ct_store_ingest fills
 * and then copies over the old one (see there); ct_store_rebuilding says
 * so meanwhile. A read-only open of such a store fails (CT_ESTORE, saying
 * how to rebuild it).
 *
 * Errors: CT_ESTORE naming the path (unreadable, not a store, newer
 * schema, or older when read-only, corrupt). *out belongs to the
 * caller. */
int ct_store_open(ct_store **out, const char *path, bool writable, ct_error *err);
/* The schema version of the store of an older cloudtracker that `store`
 * (opened writable) is rebuilding, until an ingest has replaced it; 0 when
 * there is none. Callers tell the user once: the rebuild reads every trail
 * file again. */
int ct_store_rebuilding(const ct_store *store);
void ct_store_free(ct_store *store);

typedef struct ct_ingest_summary {
    uint64_t files_seen;       /* trail files found under the paths */
    uint64_t files_unchanged;  /* already recorded with the same size and mtime */
    uint64_t files_read;       /* read completely this run */
    uint64_t files_partial;    /* read, but some records or a tail were rejected */
    uint64_t files_skipped;    /* could not be read at all */
    uint64_t records_stored;
    uint64_t records_rejected;
    uint64_t bytes_json;       /* uncompressed JSON bytes read */
    ct_input_problems problems; /* one entry per partial or skipped file */
} ct_ingest_summary;

void ct_ingest_summary_release(ct_ingest_summary *summary);

typedef struct ct_ingest_options {
    const char *const *paths; /* folders or files */
    size_t path_count;
    const char *account_id;   /* only trail-layout files of this account; NULL: all */
    unsigned threads;         /* parsing threads; 0: one per core; 8 at most */
    const char *time_field;   /* see ct_trail_options (files.timestamp_field); NULL: eventTime */
    /* Optional progress callback, called from the ingesting thread. */
    void (*progress)(void *ud, const ct_ingest_summary *so_far);
    void *progress_ud;
} ct_ingest_options;

/* Reads new and changed trail files under the paths into the store. Each
 * file is committed atomically together with its bookkeeping row (a
 * transaction holds one or more whole files, never part of one), so an
 * interrupted run loses nothing and double-counts nothing. Files
 * that cannot be read are listed in summary->problems and do not make this
 * function fail; it fails (CT_ESTORE, CT_EIO, CT_ENOMEM) only when the store
 * itself cannot be written, or a path given cannot be opened (CT_EINPUT,
 * checked for every path before anything is read).
 *
 * What is read: below a folder, files named *.json, *.json.gz, *.jsonl,
 * *.jsonl.gz, *.ndjson or *.ndjson.gz (any case), wherever they lie (trail
 * layout AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ under any
 * prefix, or not); gzip is recognised by its magic bytes. Left out quietly:
 * other names, hidden files and folders, CloudTrail-Digest and
 * CloudTrail-Insight folders, and the store's own file. Symbolic links are
 * followed to their canonical target; each folder is walked once and each
 * file read once, however many links (or hard links) lead to it, and a
 * dangling link is listed in problems. A file given as a path is read
 * whatever its name. Paths are resolved (realpath), so one file has one name in the
 * store; a path inside another given path is read once.
 *
 * With account_id, files in the trail layout of another account are left
 * out (named or found, and not counted in files_seen); files outside the
 * layout are still read, whatever accounts their records name.
 *
 * Incrementality: a file recorded as fully read ("ok") with the same size
 * and mtime is not read again (files_unchanged). A changed file is read
 * again and its rows replaced. Files recorded as partial or skipped are read
 * again every run, so their problem is reported afresh. Rows of files that
 * have since vanished from disk stay in the store.
 *
 * Rebuilding (ct_store_rebuilding): the ingest reads into the new store
 * (every file, the first time), and when it succeeds copies the new store
 * over the old one in one transaction, provided every file the old store
 * holds rows of was read again; otherwise it fails with CT_ESTORE saying
 * which files are missing, and the old store is kept as it is (as on any
 * failure: the message then says so). When another ingest is writing the
 * new store too, the last one to end replaces the old store.
 *
 * Counting: files_seen = files_unchanged + files_read + files_partial +
 * files_skipped. Every record of a file read is either stored or rejected; a
 * stretch of input that may hide records (a syntax error, a truncated tail,
 * a file that cannot be decompressed or is not CloudTrail at all) counts as
 * one rejected record; an empty file, or one that cannot be opened or is
 * larger than the limit, counts none. Records with no usable principal
 * (e.g. AWSService events without an ARN) are stored under the empty
 * principal "", so they count for their account.
 * Damaged gzip: a truncated stream keeps its readable prefix (partial,
 * "truncated gzip stream"); a member with corrupt data or a wrong CRC keeps
 * nothing of that member (earlier complete members are kept), since the
 * damage may lie anywhere in it. A file decompressing to more than 2 GiB is
 * skipped. Problem reasons never hold raw text from the logs.
 *
 * `summary` is reset first; release it with ct_ingest_summary_release
 * whatever the outcome. */
int ct_store_ingest(ct_store *store, const ct_ingest_options *opts, ct_ingest_summary *summary,
                    ct_error *err);

/* Wraps the store as an event source; the source takes ownership of the
 * store (even when this fails: the store is then freed). Its refresh()
 * ingests refresh->paths (copied, with refresh->time_field) when `refresh`
 * is not NULL and has paths, with every core and no account filter (the
 * other options are ignored; a store being rebuilt, see ct_store_open,
 * needs paths: CT_ESTORE without); input_problems() lists the files recorded as
 * partial or skipped, by path, and the store's own path when another
 * ingest is writing it and this source did not refresh it. The questions
 * read one snapshot of the store, taken when the source is made (without
 * paths) or refreshed, so an ingest running meanwhile cannot mix two
 * states into one answer. */
int ct_store_source(ct_source **out, ct_store *store, const ct_ingest_options *refresh,
                    ct_error *err);

#endif
