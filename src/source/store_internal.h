/* Internals shared by the store's files (store.c, store_query.c, ingest.c,
 * store_write.c, ingest_file.c): the store handle, a file's aggregated
 * contributions as a worker builds them, and what the writer does with
 * them. */
#ifndef CT_SOURCE_STORE_INTERNAL_H
#define CT_SOURCE_STORE_INTERNAL_H

#include "cloudtracker/error.h"
#include "cloudtracker/store.h"
#include "cloudtracker/util.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Schema version written to PRAGMA user_version, and the application_id that
 * marks an SQLite file as a cloudtracker store ("CTst"). */
#define CT_STORE_VERSION 1
#define CT_STORE_APP_ID 0x43547374

/* Prepared statements, made on first use. */
enum store_stmt {
    ST_FILE_LOOKUP,
    ST_FILE_UPSERT,
    ST_DEL_CALLS,
    ST_DEL_ACCOUNT_DAYS,
    ST_DEL_ASSUME,
    ST_OLD_CALLS,
    ST_OLD_ACCOUNT_DAYS,
    ST_ZAP_DAILY,
    ST_ZAP_SESSION,
    ST_ZAP_ACCOUNT,
    ST_INS_ACCOUNT_DAY,
    ST_INS_ASSUME,
    ST_GET_PRINCIPAL,
    ST_ADD_PRINCIPAL,
    ST_GET_KEY,
    ST_ADD_KEY,
    ST_GET_ACTION,
    ST_ADD_ACTION,
    ST_GET_ACCOUNT,
    ST_ADD_ACCOUNT,
    ST_Q_PRINCIPAL_CALLS,
    ST_Q_SESSION_CALLS,
    ST_Q_ACTION,
    ST_Q_ACTIVE,
    ST_Q_ACCOUNT_EVENTS,
    ST_Q_PROBLEMS,
    ST_BEGIN,
    ST_COMMIT,
    ST_COUNT
};

/* ---- a file's contributions, aggregated in memory by a worker ---- */

/* Strings interned per file: index <-> string. */
typedef struct ct_strpool {
    ct_strmap *map; /* string -> index + 1 */
    char **items;
    size_t count;
    size_t cap;
} ct_strpool;

/* A row of integers keyed by up to 5 values, with two counters. */
#define CT_AGG_KEYS 5
typedef struct ct_agg_row {
    int64_t k[CT_AGG_KEYS];
    uint64_t a;
    uint64_t b;
} ct_agg_row;

/* Rows with a hash index on the key. */
typedef struct ct_agg_rows {
    ct_agg_row *rows;
    size_t count;
    size_t cap;
    uint32_t *slots; /* row index + 1, 0 = empty */
    size_t nslots;   /* power of two */
} ct_agg_rows;

/* One successful AssumeRole* call. Indexes refer to the pools. */
typedef struct ct_assume {
    uint32_t caller;  /* principals */
    uint32_t role;    /* principals */
    uint32_t key;     /* keys: the issued access key */
    uint32_t account; /* accounts */
    int64_t time;
    char *session_name;
    char *shared_event_id;
    char *event_id;
} ct_assume;

/* Everything one file contributes to the store. */
typedef struct ct_file_agg {
    ct_strpool principals;
    ct_strpool keys;
    ct_strpool accounts;
    ct_strpool words;         /* eventSource and eventName values */
    ct_agg_rows actions;      /* k = {source word, name word} */
    ct_agg_rows calls;        /* k = {principal, key, action, day, session}; a = ok, b = errors
                               * (session: 1 for a role session's call) */
    ct_agg_rows account_days; /* k = {account, day}; a = events */
    ct_assume *assumes;
    size_t assume_count;
    size_t assume_cap;
} ct_file_agg;

/* Interns s; *index is its position in pool->items. Returns 0 or CT_ENOMEM. */
int ct_strpool_intern(ct_strpool *pool, const char *s, uint32_t *index);
/* Adds (a, b) to the row keyed by k (created at zero). *index (optional) is
 * the row's position. Returns 0 or CT_ENOMEM. */
int ct_agg_rows_add(ct_agg_rows *t, const int64_t k[CT_AGG_KEYS], uint64_t a, uint64_t b,
                    uint32_t *index);
/* Frees the rows; the table is then empty and reusable. */
void ct_agg_rows_release(ct_agg_rows *t);
/* Frees everything; the aggregate is then empty and reusable. */
void ct_file_agg_release(ct_file_agg *agg);

/* What reading a file gave. */
enum ct_file_status { CT_FILE_OK, CT_FILE_PARTIAL, CT_FILE_SKIPPED };

typedef struct ct_file_result {
    char *path;
    int64_t size;
    int64_t mtime_ns;
    enum ct_file_status status;
    char *reason; /* NULL when ok; safe to print */
    uint64_t stored;
    uint64_t rejected;
    uint64_t bytes_json;
    ct_file_agg agg;
} ct_file_result;

void ct_file_result_release(ct_file_result *res);

/* The dictionaries strings are interned in. */
enum store_dict { DICT_PRINCIPAL, DICT_KEY, DICT_ACTION, DICT_ACCOUNT, DICT_COUNT };

/* Multi-row writes: file rows, and upserts of the three roll-ups. */
enum store_batch { BATCH_FILE_CALL, BATCH_DAILY, BATCH_SESSION, BATCH_ACCOUNT, BATCH_KINDS };
#define BATCH_ROWS 32

/* Roll-up deltas: k = {principal, day, action} / {key, principal, day,
 * action} / {account, day}; counters are signed values kept as uint64_t. */
enum store_delta { DELTA_DAILY, DELTA_SESSION, DELTA_ACCOUNT, DELTA_COUNT };

struct ct_store {
    sqlite3 *db;
    char *path;
    dev_t dev; /* the store file itself, so a walk can skip it */
    ino_t ino;
    sqlite3_stmt *stmt[ST_COUNT];
    /* string -> id caches (values are ids); cleared when they grow too big
     * or when a transaction rolls back. */
    ct_strmap *cache[DICT_COUNT];
    /* Multi-row statements of the writer: [kind][0] for BATCH_ROWS rows,
     * [kind][1] for one row. */
    sqlite3_stmt *batch[BATCH_KINDS][2];
    /* Changes to the roll-ups made by the open transaction's files, applied
     * in key order just before it commits. */
    ct_agg_rows delta[DELTA_COUNT];
};

/* The SQL text of statement `which` (tests check its query plan). */
const char *ct_store_sql(enum store_stmt which);
/* Returns the prepared statement `which`, reset and unbound, or NULL with
 * `err` set (CT_ESTORE). */
sqlite3_stmt *ct_store_stmt(ct_store *store, enum store_stmt which, ct_error *err);
/* Fills `err` with CT_ESTORE naming the store and SQLite's message; returns
 * CT_ESTORE. */
int ct_store_fail(ct_store *store, ct_error *err, const char *what);
/* Frees the writer's statements, caches and pending deltas. */
void ct_store_writer_release(ct_store *store);

/* Looks up the bookkeeping row of `path`: *found, and its size, mtime and
 * whether its status is ok. Returns 0 or CT_ESTORE. */
int ct_store_file_state(ct_store *store, const char *path, bool *found, int64_t *size,
                        int64_t *mtime_ns, bool *ok, ct_error *err);

/* Write transactions: ct_store_begin opens one, ct_store_write_file adds a
 * file to it (its old rows deleted, its new rows and bookkeeping row
 * written), ct_store_commit makes it durable. A transaction holds whole
 * files only. On any error the transaction is rolled back (nothing of its
 * files is kept) and CT_ESTORE or CT_ENOMEM returned. */
int ct_store_begin(ct_store *store, ct_error *err);
int ct_store_write_file(ct_store *store, const ct_file_result *res, ct_error *err);
int ct_store_commit(ct_store *store, ct_error *err);
/* Rolls back an open transaction (if any). */
void ct_store_rollback(ct_store *store);

/* ---- reading one file (ingest_file.c) ---- */

/* Per-thread reading state: buffers reused from file to file. */
typedef struct ct_file_reader ct_file_reader;

int ct_file_reader_new(ct_file_reader **out, size_t max_bytes);
void ct_file_reader_free(ct_file_reader *r);

/* Reads, decompresses, parses and aggregates the file at `path` into `res`
 * (whose path the caller set). `path_account` is the account the trail
 * layout gives (NULL outside it), used when a record has no
 * recipientAccountId. Problems with the file end up in res->status and
 * res->reason; the function fails only when out of memory (CT_ENOMEM). */
int ct_file_read(ct_file_reader *r, const char *path, const char *path_account, ct_file_result *res,
                 ct_error *err);

#endif
