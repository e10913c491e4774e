/* Internals shared by the store's files (store.c, store_query.c, ingest.c,
 * ingest_file.c, store_agg.c, store_write.c, store_rows.c): the store
 * handle, a file's aggregated contributions as a worker builds them, and
 * what the writer does with them. */
#ifndef CT_STORE_INTERNAL_H
#define CT_STORE_INTERNAL_H

#include "cloudtracker/error.h"
#include "cloudtracker/source.h"
#include "cloudtracker/store.h"
#include "cloudtracker/util.h"
#include "trail/trail_file.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Schema version written to PRAGMA user_version, and the application_id that
 * marks an SQLite file as a cloudtracker store ("CTst"). Version 1 kept a
 * file's rows in tables (file_call, file_account_day); version 2 keeps them
 * as one blob per file (file_rows); version 3 tells events apart by kind
 * (eventType) and keeps data events per account (daily_data); version 4
 * keeps what tells who is behind a role session (session_evidence, and the
 * caller's identity in assume_role); version 5 keeps each account's events
 * per Region too (daily_account by awsRegion, the region dictionary);
 * version 6 keeps the resources successful calls named (daily_resource,
 * resource_set) and a third section of rows in each file's blob. A store
 * of an older version is rebuilt (store_rebuild.c). */
#define CT_STORE_VERSION 6
#define CT_STORE_APP_ID 0x43547374

/* Prepared statements, made on first use. */
enum store_stmt {
    ST_FILE_LOOKUP,
    ST_FILE_UPSERT,
    ST_OLD_ROWS,
    ST_PUT_ROWS,
    ST_DEL_ASSUME,
    ST_DEL_EVIDENCE,
    ST_ZAP_DAILY,
    ST_ZAP_SESSION,
    ST_ZAP_ACCOUNT,
    ST_ZAP_DATA,
    ST_ZAP_RESOURCE,
    ST_INS_ASSUME,
    ST_INS_EVIDENCE,
    ST_GET_PRINCIPAL,
    ST_ADD_PRINCIPAL,
    ST_GET_KEY,
    ST_ADD_KEY,
    ST_GET_ACTION,
    ST_ADD_ACTION,
    ST_GET_ACCOUNT,
    ST_ADD_ACCOUNT,
    ST_GET_REGION,
    ST_ADD_REGION,
    ST_GET_RESOURCE_SET,
    ST_ADD_RESOURCE_SET,
    ST_Q_PRINCIPAL_CALLS,
    ST_Q_SESSION_CALLS,
    ST_Q_ACTION,
    ST_Q_ACTIVE,
    ST_Q_ACCOUNT_EVENTS,
    ST_Q_DATA_EVENTS,
    ST_Q_ACCOUNT_DAYS,
    ST_Q_FILE_COUNTS,
    ST_Q_ACCOUNT_CALLS,
    ST_Q_SESSION_EVIDENCE,
    ST_Q_SESSION_OPENINGS,
    ST_Q_KEY_CALLS,
    ST_Q_PROBLEMS,
    ST_Q_PRINCIPAL_RESOURCES,
    ST_BEGIN,
    ST_COMMIT,
    ST_COUNT
};

/* ---- a file's contributions, aggregated in memory by a worker (store_agg.c) ---- */

/* A string of a pool, with its hash: whoever looks it up in another pool
 * (the writer's caches) need not hash it again. */
typedef struct ct_pool_item {
    const char *s; /* NUL-terminated, in the pool's arena */
    uint32_t len;
    uint64_t hash; /* ct_strpool_hash(s, len) */
} ct_pool_item;

/* Strings interned: index <-> string. */
typedef struct ct_strpool {
    ct_pool_item *items;
    size_t count;
    size_t cap;
    uint32_t *slots; /* item index + 1, 0 = empty; NULL when sealed */
    size_t nslots;   /* power of two */
    ct_text_arena arena;
} ct_strpool;

uint64_t ct_strpool_hash(const char *s, size_t len);
/* Interns s[0..len), whose hash is `hash`; *index is its position in
 * pool->items. Returns 0 or CT_ENOMEM. */
int ct_strpool_intern(ct_strpool *pool, const char *s, size_t len, uint64_t hash, uint32_t *index);
/* Finds s[0..len) (hash as above): true with *index when present. */
bool ct_strpool_find(const ct_strpool *pool, const char *s, size_t len, uint64_t hash,
                     uint32_t *index);
/* Drops the lookup index and the items' slack, for a pool whose strings
 * are only read from now on (not looked up or interned); the items stay. */
void ct_strpool_seal(ct_strpool *pool);
/* Frees everything; the pool is then empty and reusable. */
void ct_strpool_release(ct_strpool *pool);

/* A row of integers keyed by up to 5 values, with two counters. */
#define CT_AGG_KEYS 5
typedef struct ct_agg_row {
    int64_t k[CT_AGG_KEYS];
    uint64_t a;
    uint64_t b;
} ct_agg_row;

/* Rows with a hash index on the key, or (filled by ct_agg_rows_append)
 * without one. */
typedef struct ct_agg_rows {
    ct_agg_row *rows;
    size_t count;
    size_t cap;
    uint32_t *slots; /* row index + 1, 0 = empty */
    size_t nslots;   /* power of two */
} ct_agg_rows;

/* One successful AssumeRole* call: what ct_session_opening holds. Indexes
 * refer to the pools; strings are in the aggregate's text arena ("" when
 * the record lacks the field). */
typedef struct ct_assume {
    uint32_t caller;     /* principals */
    uint32_t role;       /* principals */
    uint32_t key;        /* keys: the issued access key */
    uint32_t caller_key; /* keys: userIdentity.accessKeyId */
    uint32_t account;    /* accounts */
    int64_t time;
    const char *event_name;
    const char *caller_type;
    const char *caller_name;
    const char *provider;
    const char *subject;
    const char *issuer;
    const char *source_identity;
    const char *session_name;
    const char *shared_event_id;
    const char *event_id;
} ct_assume;

/* The values of a session's evidence, joined into one pool string by
 * ct_evidence_join: session name, sourceIdentity, onBehalfOf.userId,
 * onBehalfOf.identityStoreArn. */
#define CT_EVIDENCE_VALUES 4

/* Everything one file contributes to the store. */
typedef struct ct_file_agg {
    ct_strpool principals;
    ct_strpool keys; /* role sessions' keys, issued keys, and "" */
    ct_strpool accounts;
    ct_strpool regions;       /* awsRegion values ("" for none) */
    ct_strpool actions;       /* ct_action_key() of kind, eventSource and eventName */
    ct_agg_rows calls;        /* k = {principal, key, action, day, session}; a = ok, b = errors
                               * (session: 1 for a role session's call, whose key it is;
                               * other calls have key ""); sorted by key once the file is
                               * read */
    ct_agg_rows account_days; /* k = {account, day, data action, data access, region};
                               * a = events; sorted likewise. For a data event
                               * (ct_is_data_event), data action is its action's index + 1
                               * and data access a CT_DATA_* value; both are 0 for other
                               * events */
    ct_agg_rows evidence;     /* k = {key, role (principals), day, values, 0}: the role
                               * sessions' events; a = events */
    ct_strpool evidence_values; /* joined evidence values (ct_evidence_join) */
    ct_agg_rows resources;      /* k = {principal, action, day, set, 0}: successful calls that
                                 * named resources; a = calls. At most CT_RESOURCE_SETS_MAX sets
                                 * per principal, action and day (ct_file_agg_cap_resources) */
    ct_strpool resource_sets;   /* ct_trail_resource_set() strings */
    ct_assume *assumes;
    size_t assume_count;
    size_t assume_cap;
    ct_text_arena text; /* the assumes' strings */
} ct_file_agg;

/* Writes the CT_EVIDENCE_VALUES values (NULL as "") into `out`, emptied
 * first, each followed by a NUL byte. Returns 0 or CT_ENOMEM. */
int ct_evidence_join(ct_buf *out, const char *const values[CT_EVIDENCE_VALUES]);
/* Splits a string made by ct_evidence_join: values[i] points into it,
 * lens[i] is its length. False when it is not one. */
bool ct_evidence_split(const char *joined, size_t len, const char *values[CT_EVIDENCE_VALUES],
                       size_t lens[CT_EVIDENCE_VALUES]);

/* Writes the key an action is interned under into `out` (emptied first):
 * the kind as one digit, "LEN:" (the length of source in decimal), then
 * source then name, so that no two triples give the same key. Returns 0 or
 * CT_ENOMEM. */
int ct_action_key(ct_buf *out, ct_event_kind kind, const char *source, const char *name);
/* Splits a key made by ct_action_key; false when it is not one. */
bool ct_action_key_split(const char *key, size_t len, ct_event_kind *kind, const char **source,
                         size_t *source_len, const char **name, size_t *name_len);

/* How a data event's readOnly is kept (the access column of daily_data). */
enum { CT_DATA_READ = 1, CT_DATA_WRITE = 2, CT_DATA_UNKNOWN = 3 };

/* Adds (a, b) to the row keyed by k (created at zero). *index (optional) is
 * the row's position. Returns 0 or CT_ENOMEM. */
int ct_agg_rows_add(ct_agg_rows *t, const int64_t k[CT_AGG_KEYS], uint64_t a, uint64_t b,
                    uint32_t *index);
/* Appends a row without looking for one with the same key (cheaper when
 * few keys repeat); ct_agg_rows_sort merges them. Only for tables never
 * given to ct_agg_rows_add. Returns 0 or CT_ENOMEM. */
int ct_agg_rows_append(ct_agg_rows *t, const int64_t k[CT_AGG_KEYS], uint64_t a, uint64_t b);
/* Sorts the rows by key, merges rows with the same key (adding their
 * counters) and drops the hash index (a later add rebuilds it). */
void ct_agg_rows_sort(ct_agg_rows *t);
/* Frees the rows; the table is then empty and reusable. */
void ct_agg_rows_release(ct_agg_rows *t);
/* Once a file is read: sorts its rows (sorted rows encode compactly, see
 * store_rows.c) and drops the lookup tables and slack a result waiting to
 * be written has no use for. Nothing can be added afterwards. */
void ct_file_agg_seal(ct_file_agg *agg);
/* Keeps at most CT_RESOURCE_SETS_MAX resource sets per principal, action
 * and day: a group with more becomes one row of the set CT_RESOURCES_MORE,
 * which is all a question can answer of it (ct_resources_finish). Before
 * ct_file_agg_seal, which puts the rows back in order. Returns 0 or
 * CT_ENOMEM. */
int ct_file_agg_cap_resources(ct_file_agg *agg);
/* Frees everything; the aggregate is then empty and reusable. */
void ct_file_agg_release(ct_file_agg *agg);


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
enum store_dict {
    DICT_PRINCIPAL,
    DICT_KEY,
    DICT_ACTION,
    DICT_ACCOUNT,
    DICT_REGION,
    DICT_RESOURCE_SET,
    DICT_COUNT
};

/* Multi-row writes: upserts of the three roll-ups. */
enum store_batch {
    BATCH_DAILY,
    BATCH_SESSION,
    BATCH_ACCOUNT,
    BATCH_DATA,
    BATCH_RESOURCE,
    BATCH_KINDS
};
#define BATCH_ROWS 32

/* Roll-up deltas: k = {principal, day, action} / {key, principal, day,
 * action} / {account, day, region} / {account, day, action, access} /
 * {principal, day, action, set}; counters are signed values kept as
 * uint64_t. */
enum store_delta {
    DELTA_DAILY,
    DELTA_SESSION,
    DELTA_ACCOUNT,
    DELTA_DATA,
    DELTA_RESOURCE,
    DELTA_COUNT
};

/* While an ingest runs, it holds a mark beside the store file that other
 * processes can see (a lock the kernel drops when the process ends, however
 * it ends). ct_store_ingest_mark returns the mark (a file descriptor; -1
 * when none can be made there, which only costs readers the warning), and
 * ct_store_ingest_unmark drops it (removing the file when no other ingest
 * holds it). ct_store_ingest_running says whether
 * some other open of the mark holds it: an ingest in this or another
 * process is writing the store now. */
int ct_store_ingest_mark(ct_store *store);
void ct_store_ingest_unmark(ct_store *store, int mark);
bool ct_store_ingest_running(const ct_store *store);
/* Whether the ingest holding `mark` is the only one: then the mark becomes
 * exclusive (no other ingest can take it until it is dropped). True
 * without a mark (-1). */
bool ct_store_ingest_alone(int mark);

struct ct_store {
    sqlite3 *db;
    char *path; /* the file db is: while rebuilding, the new store beside `target` */
    /* While a store of an older schema is rebuilt (store_rebuild.c): its
     * path and schema version; NULL and 0 otherwise. */
    char *target;
    int rebuild_from;
    dev_t dev; /* the store file itself, so a walk can skip it */
    ino_t ino;
    sqlite3_stmt *stmt[ST_COUNT];
    /* string -> id caches: ids[i] is the id of pool.items[i]. Dropped when
     * they grow too big or when a transaction rolls back. */
    struct ct_id_cache {
        ct_strpool pool;
        int64_t *ids;
        size_t cap;
    } cache[DICT_COUNT];
    /* Multi-row statements of the writer: [kind][0] for BATCH_ROWS rows,
     * [kind][1] for one row. */
    sqlite3_stmt *batch[BATCH_KINDS][2];
    /* Changes to the roll-ups made by the open transaction's files, applied
     * in key order just before it commits. */
    ct_agg_rows delta[DELTA_COUNT];
    /* Scratch space of the writer, reused from file to file: a file's ids
     * and rows with database ids, and its rows blob. */
    int64_t *vals;
    size_t vals_cap;
    ct_buf blob;
};

/* Opens store->path for writing, creating it (and its folders) when
 * missing, and checks its schema, creating it in an empty file. *older is
 * the schema version of a store of an older one (0 otherwise). Returns 0 or
 * CT_ESTORE/CT_ENOMEM; store->db may be set on failure. */
int ct_store_connect_writable(ct_store *store, int *older, ct_error *err);
/* Tunes the open connection for writing or reading and records the file's
 * identity (dev, ino). Returns 0 or CT_ESTORE. */
int ct_store_setup(ct_store *store, bool writable, ct_error *err);

/* ---- rebuilding a store of an older schema (store_rebuild.c) ---- */

/* For ct_store_open: store->db is the store of schema version `older`
 * at store->path, open for writing. Closes it, and opens (or resumes) the
 * new store beside it instead: store->target becomes the old store's path.
 * Returns 0, CT_ESTORE or CT_ENOMEM. */
int ct_store_rebuild_begin(ct_store *store, int older, ct_error *err);
/* For ct_store_ingest, after an ingest into a rebuilding store succeeded
 * (*mark is its ingest mark): replaces the old store with the new one
 * when no other ingest is writing the new one, and points `store` at it
 * (the mark is then dropped: *mark becomes -1).
 * *again is set when another process had already replaced the old store:
 * `store` then points at that store, which still lacks this ingest's
 * files. Returns 0, CT_ESTORE or CT_ENOMEM; the old store is kept on
 * failure. */
int ct_store_rebuild_finish(ct_store *store, int *mark, bool *again, ct_error *err);
/* Adds to a failed ingest's message that the old store is kept and how to
 * rebuild it. */
void ct_store_rebuild_explain(const ct_store *store, ct_error *err);

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
 * file to it (its old rows taken out of the roll-ups, its new rows and
 * bookkeeping row written), ct_store_commit makes it durable. A transaction
 * holds whole files only. On any error the transaction is rolled back
 * (nothing of its files is kept) and CT_ESTORE or CT_ENOMEM returned. */
int ct_store_begin(ct_store *store, ct_error *err);
int ct_store_write_file(ct_store *store, const ct_file_result *res, ct_error *err);
int ct_store_commit(ct_store *store, ct_error *err);
/* Roll-up changes the open transaction holds in memory (they grow with the
 * files it writes; the ingest commits before they grow too big). */
size_t ct_store_pending_rows(const ct_store *store);
/* Rolls back an open transaction (if any). */
void ct_store_rollback(ct_store *store);

/* Most files an ingest writes per transaction (ingest.c). Tests lower it so
 * that runs killed part-way leave some groups committed. */
extern size_t ct_ingest_group_files;
/* Tests set these too: the largest trail file (0: CT_GZ_MAX_OUTPUT), and a
 * budget of their own for the workers' buffers, to read its peak (NULL:
 * each ingest makes one with CT_GZ_READER_QUOTA per worker). */
extern size_t ct_ingest_file_limit;
extern ct_gz_budget *ct_ingest_budget;

/* ---- a file's rows blob (store_rows.c) ---- */

/* Values of a call row: principal, key, action (ids), day, session (0 or
 * 1), ok, err. Of an account row: account (id), day, data action (id, or
 * 0), data access (CT_DATA_*, or 0), region (id), events. Of a resource
 * row: principal, day, action, resource set (ids), calls. */
#define CT_FILE_CALL_COLS 7
#define CT_FILE_ACCOUNT_COLS 6
#define CT_FILE_RESOURCE_COLS 5

/* A file's rows, each table row after row in the widths above. */
typedef struct ct_file_rows {
    const int64_t *calls;
    size_t ncalls;
    const int64_t *accounts;
    size_t naccounts;
    const int64_t *resources;
    size_t nresources;
} ct_file_rows;

/* Encodes the rows into `out`, which is emptied first. Rows compress best
 * sorted. Returns 0 or CT_ENOMEM. */
int ct_file_rows_encode(ct_buf *out, const ct_file_rows *rows);

typedef int (*ct_file_rows_fn)(void *ud, const int64_t *row);
/* Calls on_call for each call row of the blob, then on_account for each
 * account row, then on_resource for each resource row. Returns 0, what a
 * callback returned (which stops it), or CT_ESTORE when the blob is
 * damaged: cut short, too long, or holding a value no writer makes;
 * callbacks may have seen some rows by then. */
int ct_file_rows_decode(const void *data, size_t len, ct_file_rows_fn on_call,
                        ct_file_rows_fn on_account, ct_file_rows_fn on_resource, void *ud);

/* ---- reading one file (ingest_file.c) ---- */

/* Reads, decompresses, parses and aggregates the file at `path` into `res`
 * (whose path the caller set). `path_account` is the account the trail
 * layout gives (NULL outside it), used when a record has no
 * recipientAccountId. Problems with the file end up in res->status and
 * res->reason; the function fails only when out of memory (CT_ENOMEM). */
int ct_file_read(ct_file_reader *r, const char *path, const char *path_account, ct_file_result *res,
                 ct_error *err);

#endif
