/* The Elasticsearch/OpenSearch loader (`cloudtracker ingest --to
 * elasticsearch`): reads trail files like the embedded ingest and sends
 * their records with the _bulk API into monthly indices under an index
 * template the loader installs, so the Elasticsearch backend (es.h) can
 * answer queries. */
#ifndef CLOUDTRACKER_ES_LOAD_H
#define CLOUDTRACKER_ES_LOAD_H

#include "cloudtracker/config.h"
#include "cloudtracker/error.h"
#include "cloudtracker/source.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ct_es_load_summary {
    uint64_t files_seen;      /* trail files found under the paths */
    uint64_t files_unchanged; /* loaded completely before, same size and mtime */
    uint64_t files_read;      /* loaded completely this run */
    uint64_t files_partial;   /* loaded, but some records or a tail were rejected */
    uint64_t files_skipped;   /* could not be read at all */
    /* Records: read = indexed + present + rejected. */
    uint64_t records_read;     /* in the files read, a broken stretch counting one */
    uint64_t records_indexed;  /* created by this run */
    uint64_t records_present;  /* already in the cluster (same eventID: 409) */
    uint64_t records_rejected; /* refused here (unreadable) or by the cluster */
    uint64_t records_moved;    /* indexed with a value moved to cloudtrackerMoved */
    uint64_t bytes_json;       /* uncompressed JSON read */
    uint64_t files_total;      /* found by a first walk, with progress only (else 0) */
    uint64_t bytes_total;      /* on disk, of every file found (0 when not counted) */
    uint64_t bytes_done;       /* on disk, of files finished or unchanged */
    uint64_t bulk_requests;    /* _bulk requests answered, retries included */
    uint64_t retries;          /* _bulk requests or items sent again (429, 5xx, lost connection) */
    uint64_t indices;          /* indices written to */
    uint64_t indices_unrestored; /* left with the load settings (the next run restores them) */
    uint64_t files_unrecorded;   /* loaded, but not recorded so (read again next time) */
    char unseen_index[256];  /* an index loaded that elasticsearch.index does not name ("": none) */
    /* Why elasticsearch.index could not be made that alias ("": it could, or
     * it is not one plain name): this index stands in the way, either the
     * index of that name or one behind an alias of that name that
     * cloudtracker did not make. */
    char index_taken[256];
    char index_pattern[256]; /* the pattern of index_format's indices ("cloudtrail-*.*") */
    /* Indices loaded into that an older cloudtracker made (an older
     * mapping_version): their mapping lacks fields the queries need
     * (docs/elasticsearch-load.md). How many, and one of them. */
    uint64_t indices_old_mapping;
    char old_mapping_index[256];
    /* The oldest mapping_version among them (0: none): 1 lacks what the
     * people-behind-roles queries read, 2 the resources calls name. */
    int old_mapping_version;
    ct_input_problems problems; /* one entry per partial or skipped file */
} ct_es_load_summary;

void ct_es_load_summary_release(ct_es_load_summary *summary);

typedef struct ct_es_load_options {
    const char *const *paths; /* folders or files, read as the embedded ingest reads them */
    size_t path_count;
    const char *account_id;   /* only trail-layout files of this account; NULL: all */
    const char *rejects_path; /* NDJSON of rejected records: replaced (by rename) when a run rejects
                                 any, untouched otherwise */
    const char *time_field;   /* see ct_trail_options (files.timestamp_field); NULL: eventTime */
    /* Optional progress callback; the summary has bytes_total set. */
    void (*progress)(void *ud, const ct_es_load_summary *so_far);
    void *progress_ud;
    /* Optional: once it becomes non-zero (a signal handler sets it), the
     * load stops reading, waits for the requests in flight, restores the
     * index settings and returns CT_EINTERRUPTED. */
    volatile sig_atomic_t *interrupted;
} ct_es_load_options;

/* Loads the trail files under opts->paths into the cluster of `cfg`.
 *
 * Before loading: the index template for the indices of cfg->index_format
 * (composable, or legacy on ES 6) and the state index are put in place;
 * an existing index of that pattern that cloudtracker did not create is
 * never written to (CT_ECONFIG). When cfg->index (what queries read) is one
 * plain index name, the indices of the pattern are put behind an alias of
 * that name (by the template, and with _aliases for those that exist), so
 * the default config's queries see what it loads; not when an index of
 * that name exists or the name is an alias of indices cloudtracker did not
 * make (summary->index_taken says which, and the load goes on). Each index written to is created (or
 * found) and set to refresh_interval -1 and 0 replicas while loading; the
 * previous values are kept in the state index first and are restored at
 * the end, whether the load succeeded, failed or was interrupted (and by
 * the next run if this one was killed).
 *
 * Records go in with _id = eventID (a SHA-256 of the record when it has
 * none) through `create`, so a record already present is counted, not
 * doubled. Items refused with 429 or 5xx are sent again with backoff;
 * other refusals are written to opts->rejects_path with the reason, as are
 * records the trail scanner rejected. A file is recorded in the state index
 * as loaded once every one of its records is settled; a file recorded so,
 * with the same size and mtime, is not read again.
 *
 * Before anything is sent, a config whose queries would not find what the
 * loader writes (schema dynamic or ecs, a key_prefix, another
 * timestamp_field) is refused (CT_ECONFIG).
 *
 * Returns 0 when every file found was dealt with (partial and skipped files
 * are listed in summary->problems); CT_EINPUT (a path given is missing),
 * CT_ECONFIG, CT_EUNREACHABLE (the cluster cannot be reached or stays
 * busy), CT_EPARTIAL (an answer that makes no sense), CT_EIO (the reject
 * file cannot be written), CT_ENOMEM or CT_EINTERRUPTED otherwise; files
 * not yet settled are then simply loaded again by the next run. `summary`
 * is reset first; release it whatever the outcome. */
int ct_es_load(const ct_es_config *cfg, const ct_es_load_options *opts,
               ct_es_load_summary *summary, ct_error *err);

#endif
