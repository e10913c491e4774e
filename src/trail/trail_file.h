/* Reading one trail file (internal to src/source): load it, decompress it
 * and run the trail scanner over it, sorting whatever goes wrong into a
 * status and a reason. Shared by the embedded store's ingest, which
 * aggregates the records, and the Elasticsearch loader, which sends them. */
#ifndef CT_TRAIL_TRAIL_FILE_H
#define CT_TRAIL_TRAIL_FILE_H

#include "cloudtracker/error.h"
#include "cloudtracker/trail.h"
#include "trail/gzread.h"

#include <stddef.h>
#include <stdint.h>

/* What reading a file gave. */
enum ct_file_status { CT_FILE_OK, CT_FILE_PARTIAL, CT_FILE_SKIPPED };

typedef struct ct_file_scan {
    int64_t size; /* of what was read */
    int64_t mtime_ns;
    enum ct_file_status status;
    char *reason;        /* NULL when ok; raw text (whoever prints it escapes it) */
    uint64_t records;    /* delivered to on_record */
    uint64_t rejected;   /* records or unusable stretches (see ct_store_ingest) */
    uint64_t bytes_json; /* uncompressed JSON bytes */
} ct_file_scan;

void ct_file_scan_release(ct_file_scan *scan);

/* Called for every rejected record or unusable stretch, with the file's
 * JSON text (to place `offset` in it; text is NULL when the file could not
 * be decompressed at all) and the byte offset, SIZE_MAX when unknown.
 * Return 0 to go on; non-zero stops the read and is returned. */
typedef int (*ct_file_reject_fn)(void *ud, const char *text, size_t len, size_t offset,
                                 const char *reason);

/* Per-thread reading state: buffers reused from file to file. */
typedef struct ct_file_reader ct_file_reader;

/* max_bytes: largest file (compressed or not) and largest decompressed
 * text accepted; 0 means CT_GZ_MAX_OUTPUT. time_field: see
 * ct_trail_options (NULL: eventTime only; borrowed, must outlive the
 * reader). Returns 0 or CT_ENOMEM. */
int ct_file_reader_new(ct_file_reader **out, size_t max_bytes, const char *time_field);
/* Counts the reader's buffers in `budget` (borrowed, shared with the other
 * readers of the run, must outlive the reader), so that reading a file
 * may wait for the budget's large-file lane (see ct_gz_budget). Without
 * one a reader counts nothing and never waits. Call before reading. */
void ct_file_reader_set_budget(ct_file_reader *r, ct_gz_budget *budget);
void ct_file_reader_free(ct_file_reader *r);

/* Reads the file at `path`, handing each record to on_record and each
 * rejected record or stretch to on_reject (either may be NULL); `scan` is
 * reset first. Problems with the file end up in scan->status and
 * scan->reason; the function fails only when out of memory (CT_ENOMEM) or
 * when a callback returns non-zero (that value). Record fields point into
 * the reader's buffers: valid during the callback only. */
int ct_file_scan_path(ct_file_reader *r, const char *path, ct_trail_record_fn on_record,
                      ct_file_reject_fn on_reject, void *ud, ct_file_scan *scan, ct_error *err);

#endif
