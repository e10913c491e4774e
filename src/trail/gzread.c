/* Gzip decompression of whole trail files: libdeflate decompresses intact
 * files in one call per member; when it fails, zlib's streaming inflate
 * re-reads the failing member to tell truncation from corruption and to
 * salvage the readable prefix of a cut file. */
#define ZLIB_CONST
#include "trail/gzread.h"

#include "cloudtracker/util.h"

#include <libdeflate.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The deflate format cannot expand data by more than about 1032:1, so a
 * larger ISIZE claim is a lie. */
#define MAX_RATIO 1032
#define MIN_ALLOC ((size_t)64 << 10)

bool ct_gz_is_gzip(const void *in, size_t n)
{
    const unsigned char *p = in;
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* ---- the readers' shared memory budget ---- */

struct ct_gz_budget {
    pthread_mutex_t mu;
    pthread_cond_t lane_free;
    size_t quota;
    size_t held; /* by all accounts */
    size_t peak;
    bool lane_taken;
    void (*wait_hook)(void *ud);
    void *wait_ud;
};

int ct_gz_budget_new(ct_gz_budget **out, size_t quota)
{
    *out = NULL;
    ct_gz_budget *b = calloc(1, sizeof(*b));
    if (!b)
        return CT_ENOMEM;
    if (pthread_mutex_init(&b->mu, NULL) != 0) {
        free(b);
        return CT_ENOMEM;
    }
    if (pthread_cond_init(&b->lane_free, NULL) != 0) {
        pthread_mutex_destroy(&b->mu);
        free(b);
        return CT_ENOMEM;
    }
    b->quota = quota;
    *out = b;
    return 0;
}

void ct_gz_budget_free(ct_gz_budget *b)
{
    if (!b)
        return;
    pthread_cond_destroy(&b->lane_free);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

size_t ct_gz_budget_peak(ct_gz_budget *b)
{
    pthread_mutex_lock(&b->mu);
    size_t peak = b->peak;
    pthread_mutex_unlock(&b->mu);
    return peak;
}

void ct_gz_budget_set_wait_hook(ct_gz_budget *b, void (*fn)(void *ud), void *ud)
{
    pthread_mutex_lock(&b->mu);
    b->wait_hook = fn;
    b->wait_ud = ud;
    pthread_mutex_unlock(&b->mu);
}

bool ct_gz_account_over_quota(const ct_gz_account *a)
{
    return a->budget && a->held > a->budget->quota;
}

/* Counts n more bytes for the account; beyond its quota it first takes
 * the lane, waiting while another reader has it. */
static void account_take(ct_gz_account *a, size_t n)
{
    ct_gz_budget *b = a->budget;
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    if (!a->lane && a->held + n > b->quota) {
        if (b->lane_taken && b->wait_hook) {
            void (*hook)(void *) = b->wait_hook;
            void *ud = b->wait_ud;
            pthread_mutex_unlock(&b->mu);
            hook(ud);
            pthread_mutex_lock(&b->mu);
        }
        while (b->lane_taken)
            pthread_cond_wait(&b->lane_free, &b->mu);
        b->lane_taken = true;
        a->lane = true;
    }
    a->held += n;
    b->held += n;
    if (b->held > b->peak)
        b->peak = b->held;
    pthread_mutex_unlock(&b->mu);
}

/* Gives n bytes back; the lane goes with them once the account is within
 * its quota. */
static void account_give(ct_gz_account *a, size_t n)
{
    ct_gz_budget *b = a->budget;
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    a->held -= n;
    b->held -= n;
    if (a->lane && a->held <= b->quota) {
        a->lane = false;
        b->lane_taken = false;
        pthread_cond_signal(&b->lane_free);
    }
    pthread_mutex_unlock(&b->mu);
}

/* ---- output buffers ---- */

/* Bytes the buffer's allocation takes (room for the NUL included). */
static size_t footprint(const ct_gz_out *out)
{
    return out->data ? out->cap + 1 : 0;
}

void ct_gz_out_release(ct_gz_out *out)
{
    ct_gz_account *acct = out->acct;
    if (acct)
        account_give(acct, footprint(out));
    free(out->data);
    memset(out, 0, sizeof(*out));
    out->acct = acct;
}

int ct_gz_out_reserve(ct_gz_out *out, size_t want)
{
    if (want <= out->cap && out->data)
        return 0;
    size_t more = want + 1 - footprint(out);
    if (out->acct)
        account_take(out->acct, more);
    char *p = realloc(out->data, want + 1);
    if (!p) {
        if (out->acct)
            account_give(out->acct, more);
        return CT_ENOMEM;
    }
    out->data = p;
    out->cap = want;
    return 0;
}

/* Room for output: the buffer, reused across calls, may exceed this call's
 * limit. */
static size_t limit(const ct_gz_out *out, size_t max_out)
{
    return out->cap < max_out ? out->cap : max_out;
}

/* Grows the buffer towards max_out; CT_EINPUT when it is already there. */
static int grow(ct_gz_out *out, size_t max_out, size_t at_least)
{
    if (out->cap >= max_out)
        return CT_EINPUT;
    size_t want = out->cap > max_out / 2 ? max_out : out->cap * 2;
    if (want < at_least)
        want = at_least < max_out ? at_least : max_out;
    if (want < MIN_ALLOC)
        want = MIN_ALLOC < max_out ? MIN_ALLOC : max_out;
    return ct_gz_out_reserve(out, want);
}

/* First allocation: the last member's ISIZE trailer is usually the whole
 * size, but it is only a hint (mod 2^32, last member only, possibly forged). */
static size_t size_hint(const unsigned char *in, size_t n, size_t max_out)
{
    size_t hint = n * 4;
    if (n >= 18) {
        const unsigned char *t = in + n - 4;
        size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
        if (isize / MAX_RATIO <= n)
            hint = isize;
    }
    if (hint < MIN_ALLOC)
        hint = MIN_ALLOC;
    return hint < max_out ? hint : max_out;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int too_big(ct_gz_out *out, size_t max_out, ct_error *err)
{
    char limit[32];
    ct_size_format(max_out, limit, sizeof(limit));
    out->len = 0;
    return ct_error_set(err, CT_EINPUT, "decompressed size exceeds the %s limit", limit);
}

/* What to do after a complete member: go on with the next member, stop
 * cleanly, or report trailing bytes that are not gzip. */
static int after_member(const unsigned char *rest, size_t n, bool *more, ct_error *err)
{
    *more = false;
    if (n == 0 || all_zero(rest, n))
        return 0;
    if (ct_gz_is_gzip(rest, n)) {
        *more = true;
        return 0;
    }
    return ct_error_set(err, CT_EINPUT, "trailing garbage after gzip data");
}

static const char *data_error_reason(const char *msg)
{
    if (!msg)
        return "corrupt gzip data";
    if (strcmp(msg, "incorrect header check") == 0 ||
        strcmp(msg, "unknown compression method") == 0 ||
        strcmp(msg, "unknown header flags set") == 0 || strcmp(msg, "header crc mismatch") == 0)
        return "not a valid gzip file";
    if (strcmp(msg, "incorrect data check") == 0)
        return "gzip CRC mismatch";
    if (strcmp(msg, "incorrect length check") == 0)
        return "gzip length mismatch";
    return "corrupt gzip data";
}

/* Streams the members from in[0..n) with zlib after libdeflate gave up on
 * the first of them. Output before the failure point is kept only for a
 * truncated stream: a cut file's prefix is intact, while damage detected
 * later (bad data, CRC) may lie anywhere in the member. */
static int salvage(const unsigned char *in, size_t n, size_t max_out, ct_gz_out *out, ct_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    size_t member_start = out->len;
    size_t pos = 0;
    int rc = 0;
    for (;;) {
        if (out->len == limit(out, max_out)) {
            rc = grow(out, max_out, 0);
            if (rc == CT_EINPUT) {
                rc = too_big(out, max_out, err);
                break;
            }
            if (rc != 0) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                break;
            }
        }
        size_t in_chunk = n - pos < UINT_MAX ? n - pos : UINT_MAX;
        size_t room = limit(out, max_out) - out->len;
        size_t out_room = room < UINT_MAX ? room : UINT_MAX;
        zs.next_in = in + pos;
        zs.avail_in = (uInt)in_chunk;
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = (uInt)out_room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        pos += in_chunk - zs.avail_in;
        out->len += out_room - zs.avail_out;
        if (zr == Z_STREAM_END) {
            bool more;
            rc = after_member(in + pos, n - pos, &more, err);
            if (rc != 0 || !more)
                break;
            inflateReset(&zs);
            member_start = out->len;
        } else if (zr == Z_OK) {
            continue;
        } else if (zr == Z_BUF_ERROR) {
            if (pos == n && zs.avail_out > 0) {
                rc = ct_error_set(err, CT_EINPUT, "truncated gzip stream");
                break;
            }
        } else if (zr == Z_DATA_ERROR) {
            out->len = member_start;
            rc = ct_error_set(err, CT_EINPUT, "%s", data_error_reason(zs.msg));
            break;
        } else if (zr == Z_MEM_ERROR) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            break;
        } else {
            out->len = member_start;
            rc = ct_error_set(err, CT_EINPUT, "corrupt gzip data");
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

int ct_gz_decompress(struct libdeflate_decompressor *d, const unsigned char *in, size_t n,
                     size_t max_out, ct_gz_out *out, ct_error *err)
{
    out->len = 0;
    if (ct_gz_out_reserve(out, size_hint(in, n, max_out)) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    int rc = 0;
    size_t pos = 0;
    if (!ct_gz_is_gzip(in, n)) {
        rc =
            ct_error_set(err, CT_EINPUT, n < 2 ? "truncated gzip stream" : "not a valid gzip file");
        goto done;
    }
    while (pos < n) {
        size_t in_used = 0, out_used = 0;
        enum libdeflate_result r =
            libdeflate_gzip_decompress_ex(d, in + pos, n - pos, out->data + out->len,
                                          limit(out, max_out) - out->len, &in_used, &out_used);
        if (r == LIBDEFLATE_SUCCESS) {
            pos += in_used;
            out->len += out_used;
            bool more;
            rc = after_member(in + pos, n - pos, &more, err);
            if (rc != 0 || !more)
                break;
        } else if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
            /* libdeflate restarts the member, so grow generously. */
            rc = grow(out, max_out, out->len + (n - pos) * 8);
            if (rc == CT_EINPUT) {
                rc = too_big(out, max_out, err);
                break;
            }
            if (rc != 0) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                break;
            }
        } else {
            rc = salvage(in + pos, n - pos, max_out, out, err);
            break;
        }
    }
done:
    out->data[out->len] = '\0';
    return rc;
}
