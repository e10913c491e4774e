/* Reading one trail file: the whole file in memory, gzip recognised by its
 * magic bytes, then the trail scanner (see trail_file.h). */
#include "trail/trail_file.h"

#include "cloudtracker/util.h"
#include "trail/gzread.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ct_file_reader {
    struct libdeflate_decompressor *d;
    ct_gz_out raw;  /* the file's bytes */
    ct_gz_out text; /* decompressed JSON */
    ct_gz_account acct; /* the memory of both, counted in a shared budget */
    size_t max_bytes;
    ct_trail_options opts;
};

/* Buffers above this size are given back after each file, so one huge file
 * does not pin its memory for the rest of the run. */
#define KEEP_BUFFER ((size_t)64 << 20)

void ct_file_scan_release(ct_file_scan *scan)
{
    free(scan->reason);
    memset(scan, 0, sizeof(*scan));
}

int ct_file_reader_new(ct_file_reader **out, size_t max_bytes, const char *time_field)
{
    *out = NULL;
    ct_file_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return CT_ENOMEM;
    r->d = libdeflate_alloc_decompressor();
    if (!r->d) {
        free(r);
        return CT_ENOMEM;
    }
    r->max_bytes = max_bytes ? max_bytes : CT_GZ_MAX_OUTPUT;
    r->opts.time_field = time_field;
    r->raw.acct = &r->acct;
    r->text.acct = &r->acct;
    *out = r;
    return 0;
}

void ct_file_reader_set_budget(ct_file_reader *r, ct_gz_budget *budget)
{
    /* Buffers held so far were not counted: start afresh. */
    ct_gz_out_release(&r->raw);
    ct_gz_out_release(&r->text);
    r->acct.budget = budget;
}

void ct_file_reader_free(ct_file_reader *r)
{
    if (!r)
        return;
    libdeflate_free_decompressor(r->d);
    ct_gz_out_release(&r->raw);
    ct_gz_out_release(&r->text);
    free(r);
}

/* What the scan of one file keeps besides the caller's callbacks. */
struct scan_ctx {
    ct_file_scan *res;
    ct_trail_record_fn on_record;
    ct_file_reject_fn on_reject;
    void *ud;
    const char *text;
    size_t len;
    uint64_t rejected;
    bool have_first;
    size_t first_offset; /* SIZE_MAX: unknown */
    char first_reason[96];
    int stop; /* a callback's non-zero answer */
};

/* Counts a rejected record and tells the caller. `first` says whether it
 * may be quoted as the file's first problem (not when the file's reason
 * already says it all). */
static int count_reject(struct scan_ctx *c, size_t offset, const char *reason, bool first)
{
    c->rejected++;
    if (first && !c->have_first) {
        c->have_first = true;
        c->first_offset = offset;
        snprintf(c->first_reason, sizeof(c->first_reason), "%s", reason ? reason : "rejected");
    }
    if (c->on_reject && !c->stop)
        c->stop = c->on_reject(c->ud, c->text, c->len, offset, reason ? reason : "rejected");
    return c->stop;
}

static int scan_reject(void *ud, size_t offset, const char *reason)
{
    return count_reject(ud, offset, reason, true);
}

static int scan_record(void *ud, const ct_trail_record *rec)
{
    struct scan_ctx *c = ud;
    c->res->records++;
    if (c->on_record && (c->stop = c->on_record(c->ud, rec)) != 0)
        return c->stop;
    return 0;
}

/* Reads the whole file into r->raw; returns 0, CT_ENOMEM, or CT_EINPUT with
 * a reason (unreadable, too big). Size and mtime are those of what was read. */
static int load(ct_file_reader *r, const char *path, ct_file_scan *res, ct_error *err)
{
    r->raw.len = 0;
    struct stat st;
    /* Only regular files are opened: opening a FIFO waits for a writer,
     * and opening a device may do something. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        res->size = (int64_t)st.st_size;
        res->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        return ct_error_set(err, CT_EINPUT, "not a regular file: %s", ct_file_kind(st.st_mode));
    }
    /* O_NONBLOCK in case a FIFO took the file's place since. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return ct_error_set(err, CT_EINPUT, "cannot open: %s", strerror(errno));
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = ct_error_set(err, CT_EINPUT, "cannot read: %s", strerror(errno));
        goto done;
    }
    res->size = (int64_t)st.st_size;
    res->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (!S_ISREG(st.st_mode)) {
        rc = ct_error_set(err, CT_EINPUT, "not a regular file: %s", ct_file_kind(st.st_mode));
        goto done;
    }
    /* Back to plain blocking reads (O_NONBLOCK means nothing to most file
     * systems, but FUSE passes it on). */
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    char limit[32];
    ct_size_format(r->max_bytes, limit, sizeof(limit));
    if ((uint64_t)st.st_size > r->max_bytes) {
        rc = ct_error_set(err, CT_EINPUT, "file larger than the %s limit", limit);
        goto done;
    }
    /* One byte more than the size, to notice a file that grew meanwhile. */
    if (ct_gz_out_reserve(&r->raw, (size_t)st.st_size + 1) != 0) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        if (r->raw.len == r->raw.cap) {
            if (r->raw.cap >= r->max_bytes) {
                rc = ct_error_set(err, CT_EINPUT, "file larger than the %s limit", limit);
                goto done;
            }
            size_t cap = r->raw.cap * 2 < r->max_bytes ? r->raw.cap * 2 : r->max_bytes;
            if (ct_gz_out_reserve(&r->raw, cap) != 0) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                goto done;
            }
        }
        ssize_t n = read(fd, r->raw.data + r->raw.len, r->raw.cap - r->raw.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ct_error_set(err, CT_EINPUT, "cannot read: %s", strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        r->raw.len += (size_t)n;
    }
    r->raw.data[r->raw.len] = '\0';
done:
    close(fd);
    return rc;
}

/* Appends part of a reason, "; "-separated. Reasons stay raw: whoever
 * prints them escapes them (the CLI does). */
static int reason_add(ct_buf *b, const char *text)
{
    if (b->len && ct_buf_puts(b, "; ") != 0)
        return CT_ENOMEM;
    return ct_buf_puts(b, text);
}

/* Gives back what the next file should not inherit: buffers above
 * KEEP_BUFFER, and then, while the reader holds more than its quota (and so
 * the large-file lane), the larger buffer. */
static void shrink(ct_file_reader *r)
{
    if (r->raw.cap > KEEP_BUFFER)
        ct_gz_out_release(&r->raw);
    if (r->text.cap > KEEP_BUFFER)
        ct_gz_out_release(&r->text);
    while (ct_gz_account_over_quota(&r->acct))
        ct_gz_out_release(r->raw.cap > r->text.cap ? &r->raw : &r->text);
}

int ct_file_scan_path(ct_file_reader *r, const char *path, ct_trail_record_fn on_record,
                      ct_file_reject_fn on_reject, void *ud, ct_file_scan *res, ct_error *err)
{
    memset(res, 0, sizeof(*res));
    ct_error local;
    ct_error_clear(&local);
    ct_buf reason = CT_BUF_INIT;
    const char *text = NULL;
    size_t len = 0;
    bool truncated = false, unusable = false;
    int rc = load(r, path, res, &local);
    if (rc == CT_ENOMEM)
        goto fail;
    if (rc != 0) {
        res->status = CT_FILE_SKIPPED;
        if (reason_add(&reason, local.message) != 0)
            goto nomem;
        goto finish;
    }
    if (ct_gz_is_gzip(r->raw.data, r->raw.len)) {
        rc = ct_gz_decompress(r->d, (const unsigned char *)r->raw.data, r->raw.len, r->max_bytes,
                              &r->text, &local);
        if (rc == CT_ENOMEM)
            goto fail;
        if (rc != 0) {
            truncated = strcmp(local.message, "truncated gzip stream") == 0;
            unusable = r->text.len == 0;
            if (reason_add(&reason, local.message) != 0)
                goto nomem;
        }
        text = r->text.data;
        len = r->text.len;
    } else if (r->raw.len > 0 && (ct_str_ends_with(path, ".gz") || ct_str_ends_with(path, ".GZ"))) {
        unusable = true;
        if (reason_add(&reason, "not a valid gzip file") != 0)
            goto nomem;
    } else {
        text = r->raw.data;
        len = r->raw.len;
    }
    res->bytes_json = len;

    struct scan_ctx ctx = {res, on_record, on_reject, ud, text, len, 0, false, SIZE_MAX, "", 0};
    if (!unusable && len == 0) {
        res->status = CT_FILE_SKIPPED;
        if (reason_add(&reason, "empty file") != 0)
            goto nomem;
        goto finish;
    }
    if (unusable) {
        /* The whole file is one unusable stretch of input. */
        res->status = CT_FILE_SKIPPED;
        if ((rc = count_reject(&ctx, SIZE_MAX, reason.data, false)) != 0)
            goto out;
        res->rejected = ctx.rejected;
        goto finish;
    }
    ct_error perr;
    ct_error_clear(&perr);
    rc = ct_trail_parse(text, len, &r->opts, scan_record, scan_reject, &ctx, &perr);
    if (rc == CT_ENOMEM)
        goto nomem;
    if (ctx.stop) {
        rc = ctx.stop;
        goto out;
    }
    if (rc != 0 && rc != CT_EINPUT) {
        rc = ct_error_set(err, CT_EINTERNAL, "%s: unexpected parser status %d", path, rc);
        goto out;
    }
    if (rc == CT_EINPUT) {
        /* The parser's message says what the text is not; it quotes at most
         * one printable character of the file, escaped here all the same. */
        if (reason_add(&reason, perr.message) != 0)
            goto nomem;
        /* The whole text is one unusable stretch. */
        if (ctx.rejected == 0 && strcmp(perr.message, "empty file") != 0 &&
            count_reject(&ctx, SIZE_MAX, perr.message, false) != 0) {
            rc = ctx.stop;
            goto out;
        }
    }
    if (truncated && ctx.rejected == 0 &&
        count_reject(&ctx, len, "cut off by the truncation", true) != 0) {
        rc = ctx.stop;
        goto out;
    }
    if (ctx.rejected > 0) {
        char part[256];
        if (ctx.first_offset != SIZE_MAX) {
            int line, col;
            ct_text_position(text, len, ctx.first_offset, &line, &col);
            snprintf(part, sizeof(part), "%llu record%s rejected (first at line %d, column %d: ",
                     (unsigned long long)ctx.rejected, ctx.rejected == 1 ? "" : "s", line, col);
        } else {
            snprintf(part, sizeof(part),
                     "%llu record%s rejected (first: ", (unsigned long long)ctx.rejected,
                     ctx.rejected == 1 ? "" : "s");
        }
        if (rc != CT_EINPUT || ctx.have_first) {
            if (reason_add(&reason, part) != 0 || ct_buf_puts(&reason, ctx.first_reason) != 0 ||
                ct_buf_puts(&reason, ")") != 0)
                goto nomem;
        }
    }
    res->rejected = ctx.rejected;
    if (rc == CT_EINPUT && res->records == 0)
        res->status = CT_FILE_SKIPPED;
    else if (reason.len > 0)
        res->status = CT_FILE_PARTIAL;
    else
        res->status = CT_FILE_OK;
finish:
    rc = 0;
    if (reason.len > 0) {
        res->reason = ct_buf_detach(&reason);
        if (!res->reason)
            goto nomem;
    }
    goto out;
nomem:
    rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    goto out;
fail:
    rc = ct_error_set(err, CT_ENOMEM, "out of memory");
out:
    ct_buf_release(&reason);
    shrink(r);
    return rc;
}
