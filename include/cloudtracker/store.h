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

/* Opens (and with `create`, creates along with its parent folder) the store
 * at `path`. Errors: CT_ESTORE naming the path (unreadable, not a store,
 * newer schema, corrupt). *out belongs to the caller. */
int ct_store_open(ct_store **out, const char *path, bool create, ct_error *err);
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
    unsigned threads;         /* parsing threads; 0: one per core */
    /* Optional progress callback, called from the ingesting thread. */
    void (*progress)(void *ud, const ct_ingest_summary *so_far);
    void *progress_ud;
} ct_ingest_options;

/* Reads new and changed trail files under the paths into the store. Each
 * file is committed in its own transaction together with its bookkeeping
 * row, so an interrupted run loses nothing and double-counts nothing. Files
 * that cannot be read are listed in summary->problems and do not make this
 * function fail; it fails (CT_ESTORE, CT_EIO, CT_ENOMEM) only when the store
 * itself cannot be written, or a path given cannot be opened (CT_EINPUT). */
int ct_store_ingest(ct_store *store, const ct_ingest_options *opts, ct_ingest_summary *summary,
                    ct_error *err);

/* Wraps the store as an event source; the source takes ownership of the
 * store. Its refresh() ingests `paths` (copied) when path_count > 0. */
int ct_store_source(ct_source **out, ct_store *store, const char *const *paths, size_t path_count,
                    ct_error *err);

#endif
