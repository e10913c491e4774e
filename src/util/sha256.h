/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for signing requests with
 * AWS Signature Version 4. Written here because the project links no crypto
 * library of its own (libcurl's TLS library is not ours to call). */
#ifndef CT_UTIL_SHA256_H
#define CT_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define CT_SHA256_LEN 32

typedef struct ct_sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
} ct_sha256;

void ct_sha256_init(ct_sha256 *s);
void ct_sha256_update(ct_sha256 *s, const void *data, size_t len);
/* Writes the digest; `s` must be initialised again before reuse. */
void ct_sha256_final(ct_sha256 *s, uint8_t out[CT_SHA256_LEN]);
/* One-shot digest of `len` bytes. */
void ct_sha256_digest(const void *data, size_t len, uint8_t out[CT_SHA256_LEN]);
/* HMAC-SHA256 of `msg` under `key` (any key length). */
void ct_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[CT_SHA256_LEN]);
/* Lowercase hex of n bytes into out (2n + 1 bytes with the NUL). */
void ct_hex_lower(const uint8_t *bytes, size_t n, char *out);

#endif
