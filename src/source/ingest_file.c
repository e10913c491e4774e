/* Reading one trail file on a worker thread: load it, decompress it, parse
 * its records and aggregate them in memory (many records become few rows),
 * so the single writer only has small results to commit. */
#include "cloudtracker/date.h"
#include "cloudtracker/trail.h"
#include "source/gzread.h"
#include "source/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ct_file_reader {
    struct libdeflate_decompressor *d;
    ct_gz_out raw;  /* the file's bytes */
    ct_gz_out text; /* decompressed JSON */
    ct_buf action;  /* the action key of the record at hand */
    size_t max_bytes;
};

/* Buffers above this size are given back after each file, so one huge file
 * does not pin its memory for the rest of the run. */
#define KEEP_BUFFER ((size_t)64 << 20)

void ct_file_result_release(ct_file_result *res)
{
    free(res->path);
    free(res->reason);
    ct_file_agg_release(&res->agg);
    memset(res, 0, sizeof(*res));
}

/* ---- the reader ---- */

int ct_file_reader_new(ct_file_reader **out, size_t max_bytes)
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
    *out = r;
    return 0;
}

void ct_file_reader_free(ct_file_reader *r)
{
    if (!r)
        return;
    libdeflate_free_decompressor(r->d);
    ct_gz_out_release(&r->raw);
    ct_gz_out_release(&r->text);
    ct_buf_release(&r->action);
    free(r);
}

/* What parsing one file collects besides the aggregate. */
struct parse_ctx {
    ct_file_result *res;
    ct_buf *action;
    const char *path_account;
    uint64_t rejected;
    bool have_first;
    size_t first_offset; /* SIZE_MAX: unknown */
    char first_reason[96];
};

static void note_reject(struct parse_ctx *c, size_t offset, const char *reason)
{
    c->rejected++;
    if (c->have_first)
        return;
    c->have_first = true;
    c->first_offset = offset;
    snprintf(c->first_reason, sizeof(c->first_reason), "%s", reason ? reason : "rejected");
}

static int on_reject(void *ud, size_t offset, const char *reason)
{
    note_reject(ud, offset, reason);
    return 0;
}

/* The principal a call is charged to: a role session counts for its role
 * (*session set). */
static const char *principal_of(const ct_trail_record *rec, bool *session)
{
    bool role_session = rec->identity_type
                            ? strcmp(rec->identity_type, "AssumedRole") == 0
                            : (rec->identity_arn && strstr(rec->identity_arn, ":assumed-role/"));
    *session = role_session && rec->issuer_arn;
    if (*session)
        return rec->issuer_arn;
    return rec->identity_arn ? rec->identity_arn : "";
}

static bool is_assume_role(const ct_trail_record *rec)
{
    return !rec->error_code && strcmp(rec->event_source, "sts.amazonaws.com") == 0 &&
           (strcmp(rec->event_name, "AssumeRole") == 0 ||
            strcmp(rec->event_name, "AssumeRoleWithSAML") == 0 ||
            strcmp(rec->event_name, "AssumeRoleWithWebIdentity") == 0) &&
           rec->role_arn && rec->issued_key && rec->issued_key[0];
}

static int intern(ct_strpool *pool, const char *s, uint32_t *index)
{
    size_t len = strlen(s);
    return ct_strpool_intern(pool, s, len, ct_strpool_hash(s, len), index);
}

static int add_assume(ct_file_agg *agg, const ct_trail_record *rec, uint32_t caller,
                      uint32_t account)
{
    if (agg->assume_count == agg->assume_cap) {
        size_t cap = agg->assume_cap ? agg->assume_cap * 2 : 8;
        ct_assume *items = realloc(agg->assumes, cap * sizeof(*items));
        if (!items)
            return CT_ENOMEM;
        agg->assumes = items;
        agg->assume_cap = cap;
    }
    ct_assume *a = &agg->assumes[agg->assume_count];
    a->caller = caller;
    a->account = account;
    a->time = rec->event_time;
    const char *session = rec->role_session_name ? rec->role_session_name : "";
    const char *shared = rec->shared_event_id ? rec->shared_event_id : "";
    const char *id = rec->event_id ? rec->event_id : "";
    if (intern(&agg->principals, rec->role_arn, &a->role) != 0 ||
        intern(&agg->keys, rec->issued_key, &a->key) != 0 ||
        !(a->session_name = ct_text_strndup(&agg->text, session, strlen(session))) ||
        !(a->shared_event_id = ct_text_strndup(&agg->text, shared, strlen(shared))) ||
        !(a->event_id = ct_text_strndup(&agg->text, id, strlen(id))))
        return CT_ENOMEM;
    agg->assume_count++;
    return 0;
}

static int on_record(void *ud, const ct_trail_record *rec)
{
    struct parse_ctx *c = ud;
    ct_file_agg *agg = &c->res->agg;
    if (!rec->event_source || !rec->event_name) {
        note_reject(c, SIZE_MAX, "missing eventSource or eventName");
        return 0;
    }
    const char *account = rec->recipient_account_id ? rec->recipient_account_id
                          : c->path_account         ? c->path_account
                                                    : "";
    uint32_t principal, key, account_ix, action;
    bool session;
    const char *who = principal_of(rec, &session);
    /* Only a role session's calls are ever looked up by key (in
     * session_call): other calls are kept under the key "", which spares
     * the writer interning every user's access keys. */
    session = session && rec->access_key_id && rec->access_key_id[0];
    if (intern(&agg->principals, who, &principal) != 0 ||
        intern(&agg->keys, session ? rec->access_key_id : "", &key) != 0 ||
        intern(&agg->accounts, account, &account_ix) != 0 ||
        ct_action_key(c->action, rec->event_source, rec->event_name) != 0 ||
        ct_strpool_intern(&agg->actions, c->action->data, c->action->len,
                          ct_strpool_hash(c->action->data, c->action->len), &action) != 0)
        return CT_ENOMEM;
    int64_t day = ct_day_of_seconds(rec->event_time);
    bool ok = rec->error_code == NULL;
    int64_t ck[CT_AGG_KEYS] = {principal, key, action, day, session};
    if (ct_agg_rows_add(&agg->calls, ck, ok ? 1 : 0, ok ? 0 : 1, NULL) != 0)
        return CT_ENOMEM;
    int64_t dk[CT_AGG_KEYS] = {account_ix, day, 0, 0, 0};
    if (ct_agg_rows_add(&agg->account_days, dk, 1, 0, NULL) != 0)
        return CT_ENOMEM;
    if (is_assume_role(rec) && add_assume(agg, rec, principal, account_ix) != 0)
        return CT_ENOMEM;
    c->res->stored++;
    return 0;
}

/* Reads the whole file into r->raw; returns 0, CT_ENOMEM, or CT_EINPUT with
 * a reason (unreadable, too big). Size and mtime are those of what was read. */
static int load(ct_file_reader *r, const char *path, ct_file_result *res, ct_error *err)
{
    r->raw.len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ct_error_set(err, CT_EINPUT, "cannot open: %s", strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = ct_error_set(err, CT_EINPUT, "cannot read: %s", strerror(errno));
        goto done;
    }
    res->size = (int64_t)st.st_size;
    res->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (!S_ISREG(st.st_mode)) {
        rc = ct_error_set(err, CT_EINPUT, "not a regular file");
        goto done;
    }
    char limit[32];
    ct_gz_format_size(r->max_bytes, limit, sizeof(limit));
    if ((uint64_t)st.st_size > r->max_bytes) {
        rc = ct_error_set(err, CT_EINPUT, "file larger than the %s limit", limit);
        goto done;
    }
    /* One byte more than the size, to notice a file that grew meanwhile. */
    size_t want = (size_t)st.st_size + 1;
    if (want > r->raw.cap || !r->raw.data) {
        char *p = realloc(r->raw.data, want + 1);
        if (!p) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        r->raw.data = p;
        r->raw.cap = want;
    }
    for (;;) {
        if (r->raw.len == r->raw.cap) {
            if (r->raw.cap >= r->max_bytes) {
                rc = ct_error_set(err, CT_EINPUT, "file larger than the %s limit", limit);
                goto done;
            }
            size_t cap = r->raw.cap * 2 < r->max_bytes ? r->raw.cap * 2 : r->max_bytes;
            char *p = realloc(r->raw.data, cap + 1);
            if (!p) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                goto done;
            }
            r->raw.data = p;
            r->raw.cap = cap;
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

static void shrink(ct_gz_out *buf)
{
    if (buf->cap > KEEP_BUFFER)
        ct_gz_out_release(buf);
}

int ct_file_read(ct_file_reader *r, const char *path, const char *path_account, ct_file_result *res,
                 ct_error *err)
{
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

    struct parse_ctx ctx = {res, &r->action, path_account, 0, false, SIZE_MAX, ""};
    if (!unusable && len == 0) {
        res->status = CT_FILE_SKIPPED;
        if (reason_add(&reason, "empty file") != 0)
            goto nomem;
        goto finish;
    }
    if (unusable) {
        /* The whole file is one unusable stretch of input. */
        res->status = CT_FILE_SKIPPED;
        res->rejected = 1;
        goto finish;
    }
    ct_error perr;
    ct_error_clear(&perr);
    rc = ct_trail_parse(text, len, on_record, on_reject, &ctx, &perr);
    if (rc == CT_ENOMEM)
        goto nomem;
    if (rc != 0 && rc != CT_EINPUT) {
        rc = ct_error_set(err, CT_EINTERNAL, "%s: unexpected parser status %d", path, rc);
        goto out;
    }
    if (rc == CT_EINPUT) {
        /* The parser's message says what the text is not; it quotes at most
         * one printable character of the file, escaped here all the same. */
        if (reason_add(&reason, perr.message) != 0)
            goto nomem;
        if (ctx.rejected == 0 && strcmp(perr.message, "empty file") != 0)
            ctx.rejected = 1; /* the whole text is one unusable stretch */
    }
    if (truncated && ctx.rejected == 0)
        note_reject(&ctx, len, "cut off by the truncation");
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
    if (rc == CT_EINPUT && res->stored == 0)
        res->status = CT_FILE_SKIPPED;
    else if (reason.len > 0)
        res->status = CT_FILE_PARTIAL;
    else
        res->status = CT_FILE_OK;
finish:
    rc = 0;
    /* Here rather than in the single writer. */
    ct_file_agg_seal(&res->agg);
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
    shrink(&r->raw);
    shrink(&r->text);
    return rc;
}
