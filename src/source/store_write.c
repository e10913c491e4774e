/* The store's writer: interns strings, replaces a file's rows, and keeps the
 * roll-ups equal to the sums of the file rows. A transaction's changes to
 * the roll-ups are merged in memory and applied in key order just before it
 * commits, with multi-row statements: the roll-ups are what the B-tree work
 * of an ingest is spent on. */
#include "source/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A string cache above this many entries is dropped and starts over, which
 * keeps memory bounded whatever the archive holds. */
#define CACHE_LIMIT 65536

static const struct {
    const char *head;
    int width; /* values per row */
    const char *tail;
} BATCH_SQL[BATCH_KINDS] = {
    [BATCH_FILE_CALL] = {"INSERT INTO file_call(file_id, principal_id, key_id, action_id, day,"
                         " session, ok, err) VALUES ",
                         8, ""},
    [BATCH_DAILY] = {"INSERT INTO daily_call(principal_id, day, action_id, ok, err) VALUES ", 5,
                     " ON CONFLICT(principal_id, day, action_id) DO UPDATE"
                     " SET ok = ok + excluded.ok, err = err + excluded.err"},
    [BATCH_SESSION] = {"INSERT INTO session_call(key_id, principal_id, day, action_id, ok, err)"
                       " VALUES ",
                       6,
                       " ON CONFLICT(key_id, principal_id, day, action_id) DO UPDATE"
                       " SET ok = ok + excluded.ok, err = err + excluded.err"},
    [BATCH_ACCOUNT] = {"INSERT INTO daily_account(account_id, day, events) VALUES ", 3,
                       " ON CONFLICT(account_id, day) DO UPDATE"
                       " SET events = events + excluded.events"},
};

static void clear_caches(ct_store *store)
{
    for (int i = 0; i < DICT_COUNT; i++) {
        ct_strmap_free(store->cache[i]);
        store->cache[i] = NULL;
    }
}

static void clear_deltas(ct_store *store)
{
    for (int i = 0; i < DELTA_COUNT; i++)
        ct_agg_rows_release(&store->delta[i]);
}

void ct_store_writer_release(ct_store *store)
{
    for (int k = 0; k < BATCH_KINDS; k++)
        for (int i = 0; i < 2; i++) {
            sqlite3_finalize(store->batch[k][i]);
            store->batch[k][i] = NULL;
        }
    clear_caches(store);
    clear_deltas(store);
}

/* Runs a statement that returns no rows. */
static int step_done(ct_store *store, sqlite3_stmt *st, const char *what, ct_error *err)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return ct_store_fail(store, err, what);
    return 0;
}

/* The multi-row statement of `kind` for BATCH_ROWS rows (full) or one. */
static sqlite3_stmt *batch_stmt(ct_store *store, enum store_batch kind, bool full, ct_error *err)
{
    sqlite3_stmt **slot = &store->batch[kind][full ? 0 : 1];
    if (*slot) {
        sqlite3_reset(*slot);
        return *slot;
    }
    ct_buf sql = CT_BUF_INIT;
    int rc = ct_buf_puts(&sql, BATCH_SQL[kind].head);
    for (int r = 0; rc == 0 && r < (full ? BATCH_ROWS : 1); r++) {
        rc = ct_buf_puts(&sql, r ? ",(" : "(");
        for (int c = 0; rc == 0 && c < BATCH_SQL[kind].width; c++)
            rc = ct_buf_puts(&sql, c ? ",?" : "?");
        if (rc == 0)
            rc = ct_buf_puts(&sql, ")");
    }
    if (rc == 0)
        rc = ct_buf_puts(&sql, BATCH_SQL[kind].tail);
    if (rc != 0) {
        ct_buf_release(&sql);
        ct_error_set(err, CT_ENOMEM, "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v3(store->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
        SQLITE_OK) {
        *slot = NULL;
        ct_store_fail(store, err, "preparing a statement");
    }
    ct_buf_release(&sql);
    return *slot;
}

/* Writes `rows` rows of BATCH_SQL[kind].width values each. */
static int write_rows(ct_store *store, enum store_batch kind, const int64_t *vals, size_t rows,
                      const char *what, ct_error *err)
{
    int width = BATCH_SQL[kind].width;
    for (size_t i = 0; i < rows;) {
        bool full = rows - i >= BATCH_ROWS;
        size_t n = full ? BATCH_ROWS : 1;
        sqlite3_stmt *st = batch_stmt(store, kind, full, err);
        if (!st)
            return err && err->code == CT_ENOMEM ? CT_ENOMEM : CT_ESTORE;
        for (size_t r = 0; r < n; r++)
            for (int c = 0; c < width; c++)
                sqlite3_bind_int64(st, (int)r * width + c + 1, vals[(i + r) * (size_t)width + c]);
        int rc = step_done(store, st, what, err);
        if (rc != 0)
            return rc;
        i += n;
    }
    return 0;
}

/* The id of a dictionary string (one or two columns), added when new. */
static int intern(ct_store *store, enum store_dict dict, const char *a, const char *b, int64_t *id,
                  ct_error *err)
{
    static const enum store_stmt get[DICT_COUNT] = {ST_GET_PRINCIPAL, ST_GET_KEY, ST_GET_ACTION,
                                                    ST_GET_ACCOUNT};
    static const enum store_stmt add[DICT_COUNT] = {ST_ADD_PRINCIPAL, ST_ADD_KEY, ST_ADD_ACTION,
                                                    ST_ADD_ACCOUNT};
    ct_buf key = CT_BUF_INIT;
    const char *cache_key = a;
    if (b) {
        /* "LEN:" before the first string, so no two pairs can collide. */
        char len[24];
        size_t n = strlen(a), i = sizeof(len);
        len[--i] = ':';
        do {
            len[--i] = (char)('0' + n % 10);
            n /= 10;
        } while (n);
        if (ct_buf_append(&key, len + i, sizeof(len) - i) != 0 || ct_buf_puts(&key, a) != 0 ||
            ct_buf_puts(&key, b) != 0) {
            ct_buf_release(&key);
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        }
        cache_key = key.data;
    }
    int rc = 0;
    void *v;
    if (store->cache[dict] && ct_strmap_get(store->cache[dict], cache_key, &v)) {
        *id = (int64_t)(intptr_t)v;
        goto done;
    }
    sqlite3_stmt *st = ct_store_stmt(store, get[dict], err);
    if (!st) {
        rc = CT_ESTORE;
        goto done;
    }
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    } else {
        sqlite3_reset(st);
        if (r != SQLITE_DONE) {
            rc = ct_store_fail(store, err, "reading a dictionary");
            goto done;
        }
        st = ct_store_stmt(store, add[dict], err);
        if (!st) {
            rc = CT_ESTORE;
            goto done;
        }
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
            sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        rc = step_done(store, st, "adding to a dictionary", err);
        if (rc != 0)
            goto done;
        *id = sqlite3_last_insert_rowid(store->db);
    }
    if (store->cache[dict] && ct_strmap_count(store->cache[dict]) >= CACHE_LIMIT) {
        ct_strmap_free(store->cache[dict]);
        store->cache[dict] = NULL;
    }
    if (!store->cache[dict])
        store->cache[dict] = ct_strmap_new();
    /* A failed cache insert only costs a lookup later. */
    if (store->cache[dict])
        ct_strmap_put(store->cache[dict], cache_key, (void *)(intptr_t)*id);
done:
    ct_buf_release(&key);
    return rc;
}

static int intern_pool(ct_store *store, enum store_dict dict, const ct_strpool *pool, int64_t *ids,
                       ct_error *err)
{
    for (size_t i = 0; i < pool->count; i++) {
        int rc = intern(store, dict, pool->items[i], NULL, &ids[i], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Adds a call row's counts (negated when `sign` < 0) to the pending
 * roll-up changes. */
static int delta_call(ct_store *store, int64_t principal, int64_t key, int64_t action, int64_t day,
                      bool session, int64_t ok, int64_t errs, int sign, ct_error *err)
{
    uint64_t a = (uint64_t)ok, b = (uint64_t)errs;
    if (sign < 0) {
        a = 0 - a;
        b = 0 - b;
    }
    int64_t dk[CT_AGG_KEYS] = {principal, day, action, 0, 0};
    if (ct_agg_rows_add(&store->delta[DELTA_DAILY], dk, a, b, NULL) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    int64_t sk[CT_AGG_KEYS] = {key, principal, day, action, 0};
    if (session && ct_agg_rows_add(&store->delta[DELTA_SESSION], sk, a, b, NULL) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

static int delta_account(ct_store *store, int64_t account, int64_t day, int64_t events, int sign,
                         ct_error *err)
{
    uint64_t a = (uint64_t)events;
    int64_t k[CT_AGG_KEYS] = {account, day, 0, 0, 0};
    if (ct_agg_rows_add(&store->delta[DELTA_ACCOUNT], k, sign < 0 ? 0 - a : a, 0, NULL) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* Takes the file's current rows out of the roll-ups (pending changes) and
 * deletes them with its role assumptions. */
static int remove_old_rows(ct_store *store, int64_t file_id, ct_error *err)
{
    sqlite3_stmt *st = ct_store_stmt(store, ST_OLD_CALLS, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_int64(st, 1, file_id);
    int rc = 0, r;
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = delta_call(store, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                        sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                        sqlite3_column_int64(st, 4) != 0, sqlite3_column_int64(st, 5),
                        sqlite3_column_int64(st, 6), -1, err);
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(store, err, "reading a file's rows");
    sqlite3_reset(st);
    if (rc != 0)
        return rc;
    if (!(st = ct_store_stmt(store, ST_OLD_ACCOUNT_DAYS, err)))
        return CT_ESTORE;
    sqlite3_bind_int64(st, 1, file_id);
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = delta_account(store, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                           sqlite3_column_int64(st, 2), -1, err);
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(store, err, "reading a file's rows");
    sqlite3_reset(st);
    if (rc != 0)
        return rc;
    static const enum store_stmt dels[] = {ST_DEL_CALLS, ST_DEL_ACCOUNT_DAYS, ST_DEL_ASSUME};
    for (size_t i = 0; i < sizeof(dels) / sizeof(dels[0]); i++) {
        if (!(st = ct_store_stmt(store, dels[i], err)))
            return CT_ESTORE;
        sqlite3_bind_int64(st, 1, file_id);
        if ((rc = step_done(store, st, "replacing a file's rows", err)) != 0)
            return rc;
    }
    return 0;
}

static const char *status_name(enum ct_file_status s)
{
    return s == CT_FILE_OK ? "ok" : s == CT_FILE_PARTIAL ? "partial" : "skipped";
}

/* Records the file's bookkeeping row; *file_id is its id. */
static int upsert_file(ct_store *store, const ct_file_result *res, int64_t *file_id, ct_error *err)
{
    sqlite3_stmt *st = ct_store_stmt(store, ST_FILE_UPSERT, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_text(st, 1, res->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, res->size);
    sqlite3_bind_int64(st, 3, res->mtime_ns);
    sqlite3_bind_text(st, 4, status_name(res->status), -1, SQLITE_STATIC);
    if (res->reason)
        sqlite3_bind_text(st, 5, res->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (int64_t)res->stored);
    sqlite3_bind_int64(st, 7, (int64_t)res->rejected);
    sqlite3_bind_int64(st, 8, (int64_t)res->bytes_json);
    sqlite3_bind_int64(st, 9, (int64_t)time(NULL));
    int rc = 0;
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = ct_store_fail(store, err, "recording a file");
    else
        *file_id = sqlite3_column_int64(st, 0);
    if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
        rc = ct_store_fail(store, err, "recording a file");
    sqlite3_reset(st);
    return rc;
}

/* Replaces one file's rows inside the open transaction. ids: the database
 * ids of the file's principals, keys, accounts and actions. */
static int write_file(ct_store *store, const ct_file_result *res, int64_t *ids[4], ct_error *err)
{
    const ct_file_agg *agg = &res->agg;
    int64_t *principal_ids = ids[0], *key_ids = ids[1], *account_ids = ids[2], *action_ids = ids[3];
    int64_t file_id = 0;
    int rc = upsert_file(store, res, &file_id, err);
    /* Always look for old rows: another process may have recorded the file
     * since we checked, and its rows must not survive next to ours. */
    if (rc == 0)
        rc = remove_old_rows(store, file_id, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_PRINCIPAL, &agg->principals, principal_ids, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_KEY, &agg->keys, key_ids, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_ACCOUNT, &agg->accounts, account_ids, err);
    for (size_t i = 0; rc == 0 && i < agg->actions.count; i++) {
        const ct_agg_row *a = &agg->actions.rows[i];
        rc = intern(store, DICT_ACTION, agg->words.items[a->k[0]], agg->words.items[a->k[1]],
                    &action_ids[i], err);
    }
    if (rc != 0)
        return rc;

    size_t n = agg->calls.count;
    int64_t *vals = malloc((n ? n : 1) * 8 * sizeof(*vals));
    if (!vals)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ct_agg_row *c = &agg->calls.rows[i];
        int64_t *v = &vals[i * 8];
        v[0] = file_id;
        v[1] = principal_ids[c->k[0]];
        v[2] = key_ids[c->k[1]];
        v[3] = action_ids[c->k[2]];
        v[4] = c->k[3];
        v[5] = c->k[4];
        v[6] = (int64_t)c->a;
        v[7] = (int64_t)c->b;
        rc = delta_call(store, v[1], v[2], v[3], v[4], v[5] != 0, v[6], v[7], 1, err);
    }
    if (rc == 0)
        rc = write_rows(store, BATCH_FILE_CALL, vals, n, "storing calls", err);
    free(vals);
    sqlite3_stmt *st;
    for (size_t i = 0; rc == 0 && i < agg->account_days.count; i++) {
        const ct_agg_row *d = &agg->account_days.rows[i];
        if (!(st = ct_store_stmt(store, ST_INS_ACCOUNT_DAY, err)))
            return CT_ESTORE;
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int64(st, 2, account_ids[d->k[0]]);
        sqlite3_bind_int64(st, 3, d->k[1]);
        sqlite3_bind_int64(st, 4, (int64_t)d->a);
        rc = step_done(store, st, "storing account counts", err);
        if (rc == 0)
            rc = delta_account(store, account_ids[d->k[0]], d->k[1], (int64_t)d->a, 1, err);
    }
    for (size_t i = 0; rc == 0 && i < agg->assume_count; i++) {
        const ct_assume *a = &agg->assumes[i];
        if (!(st = ct_store_stmt(store, ST_INS_ASSUME, err)))
            return CT_ESTORE;
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int64(st, 2, principal_ids[a->caller]);
        sqlite3_bind_int64(st, 3, principal_ids[a->role]);
        sqlite3_bind_int64(st, 4, a->time);
        sqlite3_bind_int64(st, 5, key_ids[a->key]);
        sqlite3_bind_text(st, 6, a->session_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, a->shared_event_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, a->event_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, account_ids[a->account]);
        rc = step_done(store, st, "storing role assumptions", err);
    }
    return rc;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const ct_agg_row *a = pa, *b = pb;
    for (int i = 0; i < CT_AGG_KEYS; i++)
        if (a->k[i] != b->k[i])
            return a->k[i] < b->k[i] ? -1 : 1;
    return 0;
}

/* Applies the pending changes of one roll-up: upserts in key order (so the
 * B-tree is walked once, front to back), then deletes rows that a removal
 * brought down to zero. */
static int flush_delta(ct_store *store, enum store_delta which, ct_error *err)
{
    static const enum store_batch kinds[DELTA_COUNT] = {BATCH_DAILY, BATCH_SESSION, BATCH_ACCOUNT};
    static const enum store_stmt zaps[DELTA_COUNT] = {ST_ZAP_DAILY, ST_ZAP_SESSION, ST_ZAP_ACCOUNT};
    static const int nkeys[DELTA_COUNT] = {3, 4, 2};
    ct_agg_rows *t = &store->delta[which];
    if (t->count == 0)
        return 0;
    qsort(t->rows, t->count, sizeof(*t->rows), cmp_rows);
    int nk = nkeys[which], width = BATCH_SQL[kinds[which]].width;
    int64_t *vals = malloc(t->count * (size_t)width * sizeof(*vals));
    if (!vals)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    size_t rows = 0;
    bool any_removal = false;
    for (size_t i = 0; i < t->count; i++) {
        const ct_agg_row *r = &t->rows[i];
        if (r->a == 0 && r->b == 0)
            continue; /* a file replaced by the same content */
        int64_t *v = &vals[rows++ * (size_t)width];
        for (int c = 0; c < nk; c++)
            v[c] = r->k[c];
        v[nk] = (int64_t)r->a;
        if (width > nk + 1)
            v[nk + 1] = (int64_t)r->b;
        any_removal |= (int64_t)r->a < 0 || (int64_t)r->b < 0;
    }
    int rc = write_rows(store, kinds[which], vals, rows, "updating totals", err);
    free(vals);
    for (size_t i = 0; rc == 0 && any_removal && i < t->count; i++) {
        const ct_agg_row *r = &t->rows[i];
        if ((int64_t)r->a >= 0 && (int64_t)r->b >= 0)
            continue;
        sqlite3_stmt *st = ct_store_stmt(store, zaps[which], err);
        if (!st)
            return CT_ESTORE;
        for (int c = 0; c < nk; c++)
            sqlite3_bind_int64(st, c + 1, r->k[c]);
        rc = step_done(store, st, "updating totals", err);
    }
    ct_agg_rows_release(t);
    return rc;
}

int ct_store_begin(ct_store *store, ct_error *err)
{
    clear_deltas(store);
    sqlite3_stmt *st = ct_store_stmt(store, ST_BEGIN, err);
    return st ? step_done(store, st, "starting a transaction", err) : CT_ESTORE;
}

void ct_store_rollback(ct_store *store)
{
    /* Ids handed out inside the transaction are gone with it. */
    clear_caches(store);
    clear_deltas(store);
    if (!sqlite3_get_autocommit(store->db))
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

int ct_store_write_file(ct_store *store, const ct_file_result *res, ct_error *err)
{
    const ct_file_agg *agg = &res->agg;
    size_t n = agg->principals.count + agg->keys.count + agg->accounts.count + agg->actions.count;
    int64_t *all = malloc((n ? n : 1) * sizeof(*all));
    if (!all) {
        ct_store_rollback(store);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    int64_t *ids[4] = {all, all + agg->principals.count,
                       all + agg->principals.count + agg->keys.count,
                       all + agg->principals.count + agg->keys.count + agg->accounts.count};
    int rc = write_file(store, res, ids, err);
    free(all);
    if (rc != 0)
        ct_store_rollback(store);
    return rc;
}

int ct_store_commit(ct_store *store, ct_error *err)
{
    int rc = 0;
    for (int d = 0; rc == 0 && d < DELTA_COUNT; d++)
        rc = flush_delta(store, (enum store_delta)d, err);
    if (rc == 0) {
        sqlite3_stmt *st = ct_store_stmt(store, ST_COMMIT, err);
        rc = st ? step_done(store, st, "committing", err) : CT_ESTORE;
    }
    if (rc != 0)
        ct_store_rollback(store);
    return rc;
}
