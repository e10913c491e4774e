/* Whole-file gzip decompression for trail files (internal to src/source):
 * libdeflate for speed, zlib streaming to salvage what a damaged file still
 * holds. */
#ifndef CT_SOURCE_GZREAD_H
#define CT_SOURCE_GZREAD_H

#include "cloudtracker/error.h"

#include <stdbool.h>
#include <stddef.h>

struct libdeflate_decompressor;

/* Largest decompressed trail file the ingest accepts. */
#define CT_GZ_MAX_OUTPUT ((size_t)2 << 30)

/* Growable output buffer; `data` has room for a NUL after `len` bytes. */
typedef struct ct_gz_out {
    char *data;
    size_t len;
    size_t cap;
} ct_gz_out;

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

/* Writes a byte count the way limits are told to users ("2 GiB"). */
void ct_gz_format_size(size_t bytes, char *out, size_t size);

/* Frees the buffer; it is then empty and reusable. */
void ct_gz_out_release(ct_gz_out *out);

#endif
