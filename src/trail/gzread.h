/* Whole-file gzip decompression for trail files (internal to src/source):
 * libdeflate for speed, zlib streaming to salvage what a damaged file still
 * holds. */
#ifndef CT_TRAIL_GZREAD_H
#define CT_TRAIL_GZREAD_H

#include "cloudtracker/error.h"

#include <stdbool.h>
#include <stddef.h>

struct libdeflate_decompressor;

/* Largest decompressed trail file the ingest accepts. */
#define CT_GZ_MAX_OUTPUT ((size_t)2 << 30)

/* Buffer bytes a reader may hold without the large-file lane (below). */
#define CT_GZ_READER_QUOTA ((size_t)64 << 20)

/* The memory the trail readers of one run share (one reader per worker
 * thread). Each reader holds up to `quota` bytes of buffers on its own;
 * to grow beyond that it takes the run's single large-file lane, waiting
 * while another reader holds it, and gives it back when its buffers are
 * within the quota again. So the readers together hold at most
 * readers x quota plus what one file needs beyond a quota (at most twice
 * the per-file limit: the file and its decompressed text), however many
 * threads run; and any one file up to the limit can be read: the lane's
 * holder never waits, and a reader waiting for it holds no more than its
 * quota. Thread-safe. */
typedef struct ct_gz_budget ct_gz_budget;

/* Returns 0 or CT_ENOMEM; *out belongs to the caller. */
int ct_gz_budget_new(ct_gz_budget **out, size_t quota);
/* NULL-safe; no reader may still use it. */
void ct_gz_budget_free(ct_gz_budget *b);
/* The most bytes the readers held at once so far. */
size_t ct_gz_budget_peak(ct_gz_budget *b);
/* For tests: `fn` is called (without locks held) each time a reader starts
 * waiting for the lane. */
void ct_gz_budget_set_wait_hook(ct_gz_budget *b, void (*fn)(void *ud), void *ud);

/* One reader's share of a budget: every buffer of the reader points to
 * the same account. A NULL budget counts nothing and never waits. */
typedef struct ct_gz_account {
    ct_gz_budget *budget;
    size_t held; /* bytes of this reader's buffers */
    bool lane;   /* holds the large-file lane */
} ct_gz_account;

/* True when the account holds more than its quota (so it holds the lane
 * until buffers are released). */
bool ct_gz_account_over_quota(const ct_gz_account *a);

/* Growable output buffer; `data` has room for a NUL after `len` bytes.
 * With `acct`, its memory is counted in that account. */
typedef struct ct_gz_out {
    char *data;
    size_t len;
    size_t cap;
    ct_gz_account *acct;
} ct_gz_out;

/* Makes room for `want` bytes plus a NUL (keeping the contents), taking
 * the memory from the buffer's account first: this may wait for the lane.
 * Returns 0 or CT_ENOMEM. */
int ct_gz_out_reserve(ct_gz_out *out, size_t want);

/* True when the bytes start with the gzip magic number. */
bool ct_gz_is_gzip(const void *in, size_t n);

/* Decompresses the gzip data in[0..n) (one or more members) into `out`
 * (reset first, reused across calls; NUL-terminated), producing at most
 * `max_out` bytes. `d` is the caller's libdeflate decompressor (one per
 * thread). Returns 0 when the whole input was a valid gzip stream. Returns
 * CT_EINPUT with a short reason in `err` for damaged input; `out` then holds
 * what can be trusted: the prefix of a truncated stream, plus any complete
 * members before a corrupt one, and nothing of a member whose data or CRC is
 * wrong, nor anything at all when the limit is exceeded. CT_ENOMEM when out
 * of memory. */
int ct_gz_decompress(struct libdeflate_decompressor *d, const unsigned char *in, size_t n,
                     size_t max_out, ct_gz_out *out, ct_error *err);

/* Frees the buffer and gives its memory back to the account; it is then
 * empty and reusable (with the same account). */
void ct_gz_out_release(ct_gz_out *out);

#endif
