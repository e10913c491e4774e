/* The store's writer: interns strings, replaces a file's rows blob, and
 * keeps the roll-ups equal to the sums of the blobs. A transaction's changes
 * to the roll-ups are merged in memory and applied in key order just before
 * it commits, with multi-row statements: the roll-ups are what the B-tree
 * work of an ingest is spent on. */
#include "store/store_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A string cache above this many entries is dropped and starts over, which
 * keeps memory bounded whatever the archive holds. */
#define CACHE_LIMIT 4096

static const struct {
    const char *head;
    int width; /* values per row */
    const char *tail;
} BATCH_SQL[BATCH_KINDS] = {
    [BATCH_DAILY] = {"INSERT INTO daily_call(principal_id, day, action_id, ok, err) VALUES ", 5,
                     " ON CONFLICT(principal_id, day, action_id) DO UPDATE"
                     " SET ok = ok + excluded.ok, err = err + excluded.err"},
    [BATCH_SESSION] = {"INSERT INTO session_call(key_id, principal_id, day, action_id, ok, err)"
                       " VALUES ",
                       6,
                       " ON CONFLICT(key_id, principal_id, day, action_id) DO UPDATE"
                       " SET ok = ok + excluded.ok, err = err + excluded.err"},
    [BATCH_ACCOUNT] = {"INSERT INTO daily_account(account_id, day, region_id, events) VALUES ", 4,
                       " ON CONFLICT(account_id, day, region_id) DO UPDATE"
                       " SET events = events + excluded.events"},
    [BATCH_DATA] = {"INSERT INTO daily_data(account_id, day, action_id, access, events) VALUES ", 5,
                    " ON CONFLICT(account_id, day, action_id, access) DO UPDATE"
                    " SET events = events + excluded.events"},
    [BATCH_RESOURCE] = {"INSERT INTO daily_resource(principal_id, day, action_id, set_id, calls)"
                        " VALUES ",
                        5,
                        " ON CONFLICT(principal_id, day, action_id, set_id) DO UPDATE"
                        " SET calls = calls + excluded.calls"},
};

static void clear_cache(struct ct_id_cache *c)
{
    ct_strpool_release(&c->pool);
    free(c->ids);
    c->ids = NULL;
    c->cap = 0;
}

static void clear_caches(ct_store *store)
{
    for (int i = 0; i < DICT_COUNT; i++)
        clear_cache(&store->cache[i]);
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
    free(store->vals);
    store->vals = NULL;
    store->vals_cap = 0;
    ct_buf_release(&store->blob);
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

/* Upserts roll-up rows (key columns k[0..nk), then a, then b when the
 * table has an err column) with the multi-row statements of `kind`. Rows
 * whose changes cancel out (a file replaced by the same content) are
 * skipped. */
static int upsert_rows(ct_store *store, enum store_batch kind, int nk, const ct_agg_row *rows,
                       size_t count, ct_error *err)
{
    int width = BATCH_SQL[kind].width;
    const ct_agg_row *batch[BATCH_ROWS];
    for (size_t i = 0; i < count;) {
        size_t n = 0;
        for (; i < count && n < BATCH_ROWS; i++)
            if (rows[i].a != 0 || rows[i].b != 0)
                batch[n++] = &rows[i];
        /* A last, partial batch goes row by row. */
        bool full = n == BATCH_ROWS;
        for (size_t done = 0; done < n; done += full ? n : 1) {
            sqlite3_stmt *st = batch_stmt(store, kind, full, err);
            if (!st)
                return err && err->code == CT_ENOMEM ? CT_ENOMEM : CT_ESTORE;
            for (size_t r = 0; r < (full ? n : 1); r++) {
                const ct_agg_row *row = batch[done + r];
                int base = (int)r * width + 1;
                for (int c = 0; c < nk; c++)
                    sqlite3_bind_int64(st, base + c, row->k[c]);
                sqlite3_bind_int64(st, base + nk, (int64_t)row->a);
                if (width > nk + 1)
                    sqlite3_bind_int64(st, base + nk + 1, (int64_t)row->b);
            }
            int rc = step_done(store, st, "updating totals", err);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* Remembers that `item` has the id `id`. A failed insert only costs a
 * lookup later. */
static void cache_put(struct ct_id_cache *c, const ct_pool_item *item, int64_t id)
{
    if (c->pool.count >= CACHE_LIMIT)
        clear_cache(c);
    int64_t *ids = ct_array_grow(c->ids, &c->cap, c->pool.count, sizeof(*ids), 256);
    if (!ids)
        return;
    c->ids = ids;
    uint32_t ix;
    if (ct_strpool_intern(&c->pool, item->s, item->len, item->hash, &ix) == 0)
        c->ids[ix] = id;
}

/* Binds a dictionary string to a GET or ADD statement: one column, or for
 * actions the source, name and kind the action key holds. */
static void bind_dict(sqlite3_stmt *st, enum store_dict dict, const ct_pool_item *item)
{
    const char *source, *name;
    size_t source_len, name_len;
    ct_event_kind kind;
    if (dict == DICT_ACTION &&
        ct_action_key_split(item->s, item->len, &kind, &source, &source_len, &name, &name_len)) {
        sqlite3_bind_text(st, 1, source, (int)source_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, (int)name_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, (int)kind);
    } else {
        sqlite3_bind_text(st, 1, item->s, (int)item->len, SQLITE_STATIC);
    }
}

/* The id of a dictionary string, added when new. */
static int intern(ct_store *store, enum store_dict dict, const ct_pool_item *item, int64_t *id,
                  ct_error *err)
{
    static const enum store_stmt get[DICT_COUNT] = {ST_GET_PRINCIPAL, ST_GET_KEY,
                                                    ST_GET_ACTION,    ST_GET_ACCOUNT,
                                                    ST_GET_REGION,    ST_GET_RESOURCE_SET};
    static const enum store_stmt add[DICT_COUNT] = {ST_ADD_PRINCIPAL, ST_ADD_KEY,
                                                    ST_ADD_ACTION,    ST_ADD_ACCOUNT,
                                                    ST_ADD_REGION,    ST_ADD_RESOURCE_SET};
    struct ct_id_cache *c = &store->cache[dict];
    uint32_t ix;
    if (ct_strpool_find(&c->pool, item->s, item->len, item->hash, &ix)) {
        *id = c->ids[ix];
        return 0;
    }
    sqlite3_stmt *st = ct_store_stmt(store, get[dict], err);
    if (!st)
        return CT_ESTORE;
    bind_dict(st, dict, item);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    } else {
        sqlite3_reset(st);
        if (r != SQLITE_DONE)
            return ct_store_fail(store, err, "reading a dictionary");
        st = ct_store_stmt(store, add[dict], err);
        if (!st)
            return CT_ESTORE;
        bind_dict(st, dict, item);
        int rc = step_done(store, st, "adding to a dictionary", err);
        if (rc != 0)
            return rc;
        *id = sqlite3_last_insert_rowid(store->db);
    }
    cache_put(c, item, *id);
    return 0;
}

static int intern_pool(ct_store *store, enum store_dict dict, const ct_strpool *pool, int64_t *ids,
                       ct_error *err)
{
    for (size_t i = 0; i < pool->count; i++) {
        int rc = intern(store, dict, &pool->items[i], &ids[i], err);
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
    /* Appended, not merged: few keys repeat within a transaction, and the
     * flush sorts and merges them anyway. */
    int64_t dk[CT_AGG_KEYS] = {principal, day, action, 0, 0};
    if (ct_agg_rows_append(&store->delta[DELTA_DAILY], dk, a, b) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    int64_t sk[CT_AGG_KEYS] = {key, principal, day, action, 0};
    if (session && ct_agg_rows_append(&store->delta[DELTA_SESSION], sk, a, b) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* An account row (see CT_FILE_ACCOUNT_COLS): its events count for the
 * account, day and Region, and for a data event also in daily_data. */
static int delta_account(ct_store *store, const int64_t *v, int sign, ct_error *err)
{
    uint64_t a = (uint64_t)v[5];
    a = sign < 0 ? 0 - a : a;
    int64_t k[CT_AGG_KEYS] = {v[0], v[1], v[4], 0, 0};
    if (ct_agg_rows_append(&store->delta[DELTA_ACCOUNT], k, a, 0) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    int64_t dk[CT_AGG_KEYS] = {v[0], v[1], v[2], v[3], 0};
    if (v[3] != 0 && ct_agg_rows_append(&store->delta[DELTA_DATA], dk, a, 0) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* A resource row (see CT_FILE_RESOURCE_COLS). */
static int delta_resource(ct_store *store, const int64_t *v, int sign, ct_error *err)
{
    uint64_t a = (uint64_t)v[4];
    a = sign < 0 ? 0 - a : a;
    int64_t k[CT_AGG_KEYS] = {v[0], v[1], v[2], v[3], 0};
    if (ct_agg_rows_append(&store->delta[DELTA_RESOURCE], k, a, 0) != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

struct take_out {
    ct_store *store;
    ct_error *err;
    int64_t first_day; /* the days of the call rows (first > last: none) */
    int64_t last_day;
};

static int take_out_call(void *ud, const int64_t *v)
{
    struct take_out *t = ud;
    t->first_day = v[3] < t->first_day ? v[3] : t->first_day;
    t->last_day = v[3] > t->last_day ? v[3] : t->last_day;
    return delta_call(t->store, v[0], v[1], v[2], v[3], v[4] != 0, v[5], v[6], -1, t->err);
}

static int take_out_account(void *ud, const int64_t *v)
{
    struct take_out *t = ud;
    return delta_account(t->store, v, -1, t->err);
}

static int take_out_resource(void *ud, const int64_t *v)
{
    struct take_out *t = ud;
    return delta_resource(t->store, v, -1, t->err);
}

/* Takes the file's current rows blob (if any) out of the roll-ups (pending
 * changes) and deletes its role assumptions and session evidence, which
 * lie in the days of its call rows (every record has one). */
static int remove_old_rows(ct_store *store, const char *path, int64_t file_id, ct_error *err)
{
    sqlite3_stmt *st = ct_store_stmt(store, ST_OLD_ROWS, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_int64(st, 1, file_id);
    int rc = 0, r = sqlite3_step(st);
    struct take_out t = {store, err, INT64_MAX, INT64_MIN};
    if (r == SQLITE_ROW) {
        const void *data = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        rc = ct_file_rows_decode(data, len, take_out_call, take_out_account, take_out_resource, &t);
        if (rc == CT_ESTORE)
            rc = ct_error_set(err, CT_ESTORE, "store %s: damaged rows of %s", store->path, path);
    } else if (r != SQLITE_DONE) {
        rc = ct_store_fail(store, err, "reading a file's rows");
    }
    sqlite3_reset(st);
    static const enum store_stmt dels[] = {ST_DEL_ASSUME, ST_DEL_EVIDENCE};
    for (size_t i = 0; rc == 0 && t.first_day <= t.last_day && i < sizeof(dels) / sizeof(dels[0]);
         i++) {
        if (!(st = ct_store_stmt(store, dels[i], err)))
            return CT_ESTORE;
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int64(st, 2, t.first_day);
        sqlite3_bind_int64(st, 3, t.last_day);
        rc = step_done(store, st, "replacing a file's rows", err);
    }
    return rc;
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
 * ids of the file's principals, keys, accounts, actions, regions and
 * resource sets; vals: room for its call, account and resource rows. */
static int write_file(ct_store *store, const ct_file_result *res, int64_t *ids[DICT_COUNT],
                      int64_t *vals, ct_error *err)
{
    const ct_file_agg *agg = &res->agg;
    int64_t *principal_ids = ids[DICT_PRINCIPAL], *key_ids = ids[DICT_KEY],
            *account_ids = ids[DICT_ACCOUNT], *action_ids = ids[DICT_ACTION],
            *region_ids = ids[DICT_REGION], *set_ids = ids[DICT_RESOURCE_SET];
    int64_t file_id = 0;
    int rc = upsert_file(store, res, &file_id, err);
    /* Always look for old rows: another process may have recorded the file
     * since we checked, and its rows must not survive next to ours. */
    if (rc == 0)
        rc = remove_old_rows(store, res->path, file_id, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_PRINCIPAL, &agg->principals, principal_ids, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_KEY, &agg->keys, key_ids, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_ACCOUNT, &agg->accounts, account_ids, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_ACTION, &agg->actions, action_ids, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_REGION, &agg->regions, region_ids, err);
    if (rc == 0)
        rc = intern_pool(store, DICT_RESOURCE_SET, &agg->resource_sets, set_ids, err);
    if (rc != 0)
        return rc;

    size_t ncalls = agg->calls.count, naccounts = agg->account_days.count,
           nresources = agg->resources.count;
    int64_t *calls = vals, *accounts = vals + ncalls * CT_FILE_CALL_COLS,
            *resources = accounts + naccounts * CT_FILE_ACCOUNT_COLS;
    for (size_t i = 0; rc == 0 && i < ncalls; i++) {
        const ct_agg_row *c = &agg->calls.rows[i];
        int64_t *v = &calls[i * CT_FILE_CALL_COLS];
        v[0] = principal_ids[c->k[0]];
        v[1] = key_ids[c->k[1]];
        v[2] = action_ids[c->k[2]];
        v[3] = c->k[3];
        v[4] = c->k[4];
        v[5] = (int64_t)c->a;
        v[6] = (int64_t)c->b;
        rc = delta_call(store, v[0], v[1], v[2], v[3], v[4] != 0, v[5], v[6], 1, err);
    }
    for (size_t i = 0; rc == 0 && i < naccounts; i++) {
        const ct_agg_row *d = &agg->account_days.rows[i];
        int64_t *v = &accounts[i * CT_FILE_ACCOUNT_COLS];
        v[0] = account_ids[d->k[0]];
        v[1] = d->k[1];
        v[2] = d->k[2] ? action_ids[d->k[2] - 1] : 0;
        v[3] = d->k[3];
        v[4] = region_ids[d->k[4]];
        v[5] = (int64_t)d->a;
        rc = delta_account(store, v, 1, err);
    }
    for (size_t i = 0; rc == 0 && i < nresources; i++) {
        const ct_agg_row *r = &agg->resources.rows[i];
        int64_t *v = &resources[i * CT_FILE_RESOURCE_COLS];
        v[0] = principal_ids[r->k[0]];
        v[1] = r->k[2];
        v[2] = action_ids[r->k[1]];
        v[3] = set_ids[r->k[3]];
        v[4] = (int64_t)r->a;
        rc = delta_resource(store, v, 1, err);
    }
    ct_file_rows rows = {calls, ncalls, accounts, naccounts, resources, nresources};
    if (rc == 0 && ct_file_rows_encode(&store->blob, &rows) != 0)
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = ct_store_stmt(store, ST_PUT_ROWS, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_int64(st, 1, file_id);
    sqlite3_bind_blob(st, 2, store->blob.data, (int)store->blob.len, SQLITE_STATIC);
    rc = step_done(store, st, "storing a file's rows", err);
    for (size_t i = 0; rc == 0 && i < agg->assume_count; i++) {
        const ct_assume *a = &agg->assumes[i];
        if (!(st = ct_store_stmt(store, ST_INS_ASSUME, err)))
            return CT_ESTORE;
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int64(st, 2, principal_ids[a->caller]);
        sqlite3_bind_int64(st, 3, principal_ids[a->role]);
        sqlite3_bind_int64(st, 4, a->time);
        sqlite3_bind_int64(st, 5, key_ids[a->key]);
        sqlite3_bind_int64(st, 9, account_ids[a->account]);
        sqlite3_bind_int64(st, 12, key_ids[a->caller_key]);
        const struct {
            int column;
            const char *text;
        } texts[] = {{6, a->session_name},    {7, a->shared_event_id}, {8, a->event_id},
                     {10, a->event_name},     {11, a->caller_type},    {13, a->caller_name},
                     {14, a->provider},       {15, a->subject},        {16, a->issuer},
                     {17, a->source_identity}};
        for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
            sqlite3_bind_text(st, texts[t].column, texts[t].text, -1, SQLITE_STATIC);
        rc = step_done(store, st, "storing role assumptions", err);
    }
    for (size_t i = 0; rc == 0 && i < agg->evidence.count; i++) {
        const ct_agg_row *e = &agg->evidence.rows[i];
        const ct_pool_item *joined = &agg->evidence_values.items[e->k[3]];
        const char *values[CT_EVIDENCE_VALUES];
        size_t lens[CT_EVIDENCE_VALUES];
        if (!ct_evidence_split(joined->s, joined->len, values, lens))
            return ct_error_set(err, CT_EINTERNAL, "%s: bad session evidence", res->path);
        if (!(st = ct_store_stmt(store, ST_INS_EVIDENCE, err)))
            return CT_ESTORE;
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int64(st, 2, key_ids[e->k[0]]);
        sqlite3_bind_int64(st, 3, principal_ids[e->k[1]]);
        sqlite3_bind_int64(st, 4, e->k[2]);
        for (int v = 0; v < CT_EVIDENCE_VALUES; v++)
            sqlite3_bind_text(st, 5 + v, values[v], (int)lens[v], SQLITE_STATIC);
        rc = step_done(store, st, "storing session evidence", err);
    }
    return rc;
}

/* Applies the pending changes of one roll-up: upserts in key order (so the
 * B-tree is walked once, front to back), then deletes rows that a removal
 * brought down to zero. */
static int flush_delta(ct_store *store, enum store_delta which, ct_error *err)
{
    static const enum store_batch kinds[DELTA_COUNT] = {BATCH_DAILY, BATCH_SESSION, BATCH_ACCOUNT,
                                                        BATCH_DATA, BATCH_RESOURCE};
    static const enum store_stmt zaps[DELTA_COUNT] = {ST_ZAP_DAILY, ST_ZAP_SESSION, ST_ZAP_ACCOUNT,
                                                      ST_ZAP_DATA, ST_ZAP_RESOURCE};
    static const int nkeys[DELTA_COUNT] = {3, 4, 3, 4, 4};
    ct_agg_rows *t = &store->delta[which];
    if (t->count == 0)
        return 0;
    ct_agg_rows_sort(t);
    int nk = nkeys[which];
    bool any_removal = false;
    for (size_t i = 0; i < t->count && !any_removal; i++)
        any_removal = (int64_t)t->rows[i].a < 0 || (int64_t)t->rows[i].b < 0;
    int rc = upsert_rows(store, kinds[which], nk, t->rows, t->count, err);
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
    const size_t counts[DICT_COUNT] = {agg->principals.count, agg->keys.count,
                                       agg->actions.count,    agg->accounts.count,
                                       agg->regions.count,    agg->resource_sets.count};
    size_t nids = 0;
    for (int d = 0; d < DICT_COUNT; d++)
        nids += counts[d];
    size_t need = nids + agg->calls.count * CT_FILE_CALL_COLS +
                  agg->account_days.count * CT_FILE_ACCOUNT_COLS +
                  agg->resources.count * CT_FILE_RESOURCE_COLS;
    if (need > store->vals_cap) {
        size_t cap = need > 4096 ? need : 4096;
        int64_t *vals = realloc(store->vals, cap * sizeof(*vals));
        if (!vals) {
            ct_store_rollback(store);
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        }
        store->vals = vals;
        store->vals_cap = cap;
    }
    int64_t *ids[DICT_COUNT];
    int64_t *next = store->vals;
    for (int d = 0; d < DICT_COUNT; d++) {
        ids[d] = next;
        next += counts[d];
    }
    int64_t *all = store->vals;
    int rc = write_file(store, res, ids, all + nids, err);
    if (rc != 0)
        ct_store_rollback(store);
    return rc;
}

size_t ct_store_pending_rows(const ct_store *store)
{
    size_t n = 0;
    for (int d = 0; d < DELTA_COUNT; d++)
        n += store->delta[d].count;
    return n;
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
