/* F_OFD_SETLK (open-file-description locks) are Linux's, behind _GNU_SOURCE. */
#define _GNU_SOURCE
/* The embedded store: an SQLite file holding CloudTrail activity aggregated
 * per day, with per-file bookkeeping so each trail file's contributions can
 * be replaced atomically. Schema, statements, opening checks and the file
 * lookup. */
#include "store/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* file_rows holds, per trail file, a blob of what the file added to the
 * roll-ups (store_rows.c): its calls per (principal, key, action, day,
 * session) and its events per (account, day, Region, and for data events
 * action and readOnly). It is replaced with the file, as are the file's
 * assume_role and session_evidence rows. The queries read roll-ups, which
 * the writer (store_write.c) keeps equal to the sums of the file blobs:
 * daily_call per (principal, day, action), session_call per (session key,
 * role, day, action) for calls made in role sessions, daily_account per
 * (account, day, awsRegion: "" for none), daily_data per (account, day, action, access) for data
 * events. An action is an (eventSource, eventName, kind) triple, kind being
 * the eventType class (ct_event_kind). access_key holds the keys the
 * queries follow, those of role sessions, those AssumeRole issued and those
 * its callers used (other calls are kept under the key ""). assume_role
 * holds every successful AssumeRole* event that issued a key, with what
 * ct_session_opening tells of its caller; session_evidence what the events
 * of a role session say of who runs it, one row per file, session, day and
 * distinct values. Dictionary rows are never deleted. */
static const char *const SCHEMA[] = {
    /* tables and indexes */
    "CREATE TABLE file(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  path TEXT NOT NULL UNIQUE,\n"
    "  size INTEGER NOT NULL,\n"
    "  mtime_ns INTEGER NOT NULL,\n"
    "  status TEXT NOT NULL CHECK (status IN ('ok', 'partial', 'skipped')),\n"
    "  reason TEXT,\n"
    "  records_stored INTEGER NOT NULL,\n"
    "  records_rejected INTEGER NOT NULL,\n"
    "  json_bytes INTEGER NOT NULL,\n"
    "  read_at INTEGER NOT NULL);\n"
    "CREATE INDEX file_problem ON file(path) WHERE status <> 'ok';\n"
    "CREATE TABLE principal(id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE access_key(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE action(id INTEGER PRIMARY KEY, source TEXT NOT NULL, name TEXT NOT NULL,\n"
    "  kind INTEGER NOT NULL, UNIQUE (source, name, kind));\n"
    "CREATE TABLE account(id INTEGER PRIMARY KEY, account TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE region(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE file_rows(file_id INTEGER PRIMARY KEY, data BLOB NOT NULL);\n"
    "CREATE TABLE daily_call(\n"
    "  principal_id INTEGER NOT NULL, day INTEGER NOT NULL, action_id INTEGER NOT NULL,\n"
    "  ok INTEGER NOT NULL, err INTEGER NOT NULL,\n"
    "  PRIMARY KEY (principal_id, day, action_id)) WITHOUT ROWID;\n"
    "CREATE TABLE session_call(\n"
    "  key_id INTEGER NOT NULL, principal_id INTEGER NOT NULL, day INTEGER NOT NULL,\n"
    "  action_id INTEGER NOT NULL, ok INTEGER NOT NULL, err INTEGER NOT NULL,\n"
    "  PRIMARY KEY (key_id, principal_id, day, action_id)) WITHOUT ROWID;\n"
    "CREATE TABLE daily_account(\n"
    "  account_id INTEGER NOT NULL, day INTEGER NOT NULL, region_id INTEGER NOT NULL,\n"
    "  events INTEGER NOT NULL,\n"
    "  PRIMARY KEY (account_id, day, region_id)) WITHOUT ROWID;\n"
    "CREATE TABLE resource_set(id INTEGER PRIMARY KEY, arns TEXT NOT NULL UNIQUE);\n"
    /* The resources successful calls named (ct_trail_resource_set), at most
     * CT_RESOURCE_SETS_MAX sets per principal, day, action and file. */
    "CREATE TABLE daily_resource(\n"
    "  principal_id INTEGER NOT NULL, day INTEGER NOT NULL, action_id INTEGER NOT NULL,\n"
    "  set_id INTEGER NOT NULL, calls INTEGER NOT NULL,\n"
    "  PRIMARY KEY (principal_id, day, action_id, set_id)) WITHOUT ROWID;\n"
    "CREATE TABLE daily_data(\n"
    "  account_id INTEGER NOT NULL, day INTEGER NOT NULL, action_id INTEGER NOT NULL,\n"
    "  access INTEGER NOT NULL, events INTEGER NOT NULL,\n"
    "  PRIMARY KEY (account_id, day, action_id, access)) WITHOUT ROWID;\n"
    /* assume_role and session_evidence are keyed by time and day (what
     * the questions read by) and have no index by file: a file's rows lie
     * in the days of its call rows, which its rows blob tells when it is
     * replaced. One B-tree fewer per row keeps the writer fast. */
    "CREATE TABLE assume_role(\n"
    "  time INTEGER NOT NULL, issued_key_id INTEGER NOT NULL, file_id INTEGER NOT NULL,\n"
    "  event_id TEXT NOT NULL, caller_id INTEGER NOT NULL, role_id INTEGER NOT NULL,\n"
    "  session_name TEXT NOT NULL, shared_event_id TEXT NOT NULL, account_id INTEGER NOT NULL,\n"
    "  event_name TEXT NOT NULL, caller_type TEXT NOT NULL, caller_key_id INTEGER NOT NULL,\n"
    "  caller_name TEXT NOT NULL, provider TEXT NOT NULL, subject TEXT NOT NULL,\n"
    "  issuer TEXT NOT NULL, source_identity TEXT NOT NULL,\n"
    "  PRIMARY KEY (time, issued_key_id, file_id, event_id)) WITHOUT ROWID;\n"
    "CREATE INDEX assume_role_by_pair ON assume_role(caller_id, role_id, time, issued_key_id);\n"
    "CREATE TABLE session_evidence(\n"
    "  day INTEGER NOT NULL, key_id INTEGER NOT NULL, file_id INTEGER NOT NULL,\n"
    "  role_id INTEGER NOT NULL, session_name TEXT NOT NULL, source_identity TEXT NOT NULL,\n"
    "  on_behalf_of TEXT NOT NULL, identity_store TEXT NOT NULL,\n"
    "  PRIMARY KEY (day, key_id, file_id, role_id, session_name, source_identity, on_behalf_of,\n"
    "    identity_store)) WITHOUT ROWID;\n",
};

static const char *const STMT_SQL[ST_COUNT] = {
    [ST_FILE_LOOKUP] = "SELECT size, mtime_ns, status FROM file WHERE path = ?1",
    [ST_FILE_UPSERT] =
        "INSERT INTO file(path, size, mtime_ns, status, reason, records_stored, records_rejected,"
        " json_bytes, read_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
        " status = excluded.status, reason = excluded.reason,"
        " records_stored = excluded.records_stored,"
        " records_rejected = excluded.records_rejected, json_bytes = excluded.json_bytes,"
        " read_at = excluded.read_at RETURNING id",
    [ST_OLD_ROWS] = "SELECT data FROM file_rows WHERE file_id = ?1",
    [ST_PUT_ROWS] = "INSERT INTO file_rows(file_id, data) VALUES (?1, ?2)"
                    " ON CONFLICT(file_id) DO UPDATE SET data = excluded.data",
    /* A file's rows, in the days [?2, ?3] its call rows span. */
    [ST_DEL_ASSUME] = "DELETE FROM assume_role WHERE time BETWEEN ?2 * 86400 AND ?3 * 86400 + 86399"
                      " AND file_id = ?1",
    [ST_DEL_EVIDENCE] = "DELETE FROM session_evidence WHERE day BETWEEN ?2 AND ?3 AND file_id = ?1",
    [ST_ZAP_DAILY] = "DELETE FROM daily_call WHERE principal_id = ?1 AND day = ?2"
                     " AND action_id = ?3 AND ok = 0 AND err = 0",
    [ST_ZAP_SESSION] = "DELETE FROM session_call WHERE key_id = ?1 AND principal_id = ?2"
                       " AND day = ?3 AND action_id = ?4 AND ok = 0 AND err = 0",
    [ST_ZAP_ACCOUNT] = "DELETE FROM daily_account WHERE account_id = ?1 AND day = ?2"
                       " AND region_id = ?3 AND events = 0",
    [ST_ZAP_DATA] = "DELETE FROM daily_data WHERE account_id = ?1 AND day = ?2"
                    " AND action_id = ?3 AND access = ?4 AND events = 0",
    [ST_ZAP_RESOURCE] = "DELETE FROM daily_resource WHERE principal_id = ?1 AND day = ?2"
                        " AND action_id = ?3 AND set_id = ?4 AND calls = 0",
    /* A file holding one event twice keeps it once. */
    [ST_INS_ASSUME] =
        "INSERT OR IGNORE INTO assume_role(file_id, caller_id, role_id, time, issued_key_id,"
        " session_name, shared_event_id, event_id, account_id, event_name,"
        " caller_type, caller_key_id, caller_name, provider, subject, issuer,"
        " source_identity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
        " ?12, ?13, ?14, ?15, ?16, ?17)",
    [ST_INS_EVIDENCE] = "INSERT INTO session_evidence(file_id, key_id, role_id, day,"
                        " session_name, source_identity, on_behalf_of, identity_store)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_GET_PRINCIPAL] = "SELECT id FROM principal WHERE arn = ?1",
    [ST_ADD_PRINCIPAL] = "INSERT INTO principal(arn) VALUES (?1)",
    [ST_GET_KEY] = "SELECT id FROM access_key WHERE key = ?1",
    [ST_ADD_KEY] = "INSERT INTO access_key(key) VALUES (?1)",
    [ST_GET_ACTION] = "SELECT id FROM action WHERE source = ?1 AND name = ?2 AND kind = ?3",
    [ST_ADD_ACTION] = "INSERT INTO action(source, name, kind) VALUES (?1, ?2, ?3)",
    [ST_GET_ACCOUNT] = "SELECT id FROM account WHERE account = ?1",
    [ST_ADD_ACCOUNT] = "INSERT INTO account(account) VALUES (?1)",
    [ST_GET_REGION] = "SELECT id FROM region WHERE name = ?1",
    [ST_ADD_REGION] = "INSERT INTO region(name) VALUES (?1)",
    [ST_GET_RESOURCE_SET] = "SELECT id FROM resource_set WHERE arns = ?1",
    [ST_ADD_RESOURCE_SET] = "INSERT INTO resource_set(arns) VALUES (?1)",
    /* A principal's resource rows, each set by its text (a LEFT JOIN: a
     * set row gone is damage found, not a set left out). */
    [ST_Q_PRINCIPAL_RESOURCES] = "SELECT d.action_id, s.arns, d.calls FROM daily_resource d"
                                 " LEFT JOIN resource_set s ON s.id = d.set_id"
                                 " WHERE d.principal_id = (SELECT id FROM principal WHERE arn = ?1)"
                                 " AND d.day BETWEEN ?2 AND ?3",
    /* The calls queries return raw roll-up rows; store_query.c sums them
     * per action (faster than GROUP BY's temporary B-tree on a busy
     * principal's tens of thousands of rows). */
    [ST_Q_PRINCIPAL_CALLS] = "SELECT action_id, day, ok, err FROM daily_call"
                             " WHERE principal_id = (SELECT id FROM principal WHERE arn = ?1)"
                             " AND day BETWEEN ?2 AND ?3",
    /* Keys issued to the caller for the role (deduplicated: a cross-account
     * AssumeRole is logged in both accounts), then that role's calls made
     * with those keys. */
    [ST_Q_SESSION_CALLS] =
        "WITH issued(key_id) AS (SELECT DISTINCT s.issued_key_id FROM assume_role s"
        "   WHERE s.caller_id = (SELECT id FROM principal WHERE arn = ?1)"
        "   AND s.role_id = (SELECT id FROM principal WHERE arn = ?2)"
        "   AND s.time BETWEEN ?3 AND ?4)"
        " SELECT d.action_id, d.day, d.ok, d.err"
        " FROM issued k JOIN session_call d ON d.key_id = k.key_id"
        " WHERE d.principal_id = (SELECT id FROM principal WHERE arn = ?2)"
        " AND d.day BETWEEN ?5 AND ?6",
    [ST_Q_ACTION] = "SELECT source, name, kind FROM action WHERE id = ?1",
    [ST_Q_ACTIVE] = "SELECT 1 FROM daily_call"
                    " WHERE principal_id = (SELECT id FROM principal WHERE arn = ?1)"
                    " AND day BETWEEN ?2 AND ?3 LIMIT 1",
    [ST_Q_ACCOUNT_EVENTS] = "SELECT COALESCE(SUM(events), 0) FROM daily_account"
                            " WHERE account_id = (SELECT id FROM account WHERE account = ?1)"
                            " AND day BETWEEN ?2 AND ?3",
    /* Raw roll-up rows: store_query.c sums them (see above). */
    [ST_Q_DATA_EVENTS] = "SELECT action_id, access, day, events FROM daily_data"
                         " WHERE account_id = (SELECT id FROM account WHERE account = ?1)"
                         " AND day BETWEEN ?2 AND ?3",
    /* An account's events per day and Region, in daily_account's key order
     * (day, then region id): store_query.c sums a day's rows. A LEFT JOIN,
     * so that a region row gone is damage found, not a Region left out. */
    [ST_Q_ACCOUNT_DAYS] = "SELECT d.day, r.name, d.events FROM daily_account d"
                          " LEFT JOIN region r ON r.id = d.region_id"
                          " WHERE d.account_id = (SELECT id FROM account WHERE account = ?1)"
                          " AND d.day BETWEEN ?2 AND ?3",
    [ST_Q_FILE_COUNTS] = "SELECT COALESCE(SUM(status = 'ok'), 0),"
                         " COALESCE(SUM(status = 'partial'), 0),"
                         " COALESCE(SUM(status = 'skipped'), 0) FROM file",
    /* Every principal of an account (ct_arn_account, below): the
     * principals are read first (CROSS JOIN keeps that order), then each
     * matching one's days through daily_call's key. Raw rows, summed in
     * store_query.c; a principal's rows come together. */
    [ST_Q_ACCOUNT_CALLS] = "SELECT p.id, p.arn, d.action_id, d.day, d.ok, d.err"
                           " FROM principal p CROSS JOIN daily_call d"
                           " WHERE ct_arn_account(p.arn) = ?1 AND d.principal_id = p.id"
                           " AND d.day BETWEEN ?2 AND ?3",
    /* What the events of role sessions say (by day, session_evidence's
     * key), each row's key and role by their ids. Raw rows:
     * ct_role_sessions_add_evidence merges a session's rows. */
    [ST_Q_SESSION_EVIDENCE] =
        "SELECT k.key, r.arn, e.day, e.session_name, e.source_identity, e.on_behalf_of,"
        " e.identity_store FROM session_evidence e CROSS JOIN access_key k CROSS JOIN principal r"
        " WHERE e.day BETWEEN ?1 AND ?2 AND k.id = e.key_id AND r.id = e.role_id",
    /* The AssumeRole* events of a time range (by assume_role's key), of
     * every role and account, with their ids named. */
    [ST_Q_SESSION_OPENINGS] =
        "SELECT k.key, s.event_name, r.arn, c.arn, s.caller_type, ck.key, s.caller_name,"
        " s.provider, s.subject, s.issuer, s.source_identity, s.session_name, s.time,"
        " a.account, s.event_id, s.shared_event_id"
        " FROM assume_role s CROSS JOIN access_key k CROSS JOIN principal r"
        " CROSS JOIN principal c CROSS JOIN access_key ck CROSS JOIN account a"
        " WHERE s.time BETWEEN ?1 AND ?2 AND k.id = s.issued_key_id AND r.id = s.role_id"
        " AND c.id = s.caller_id AND ck.id = s.caller_key_id AND a.id = s.account_id",
    /* The calls of given session keys (a JSON array: one statement however
     * many, and json_each needs nothing written, so a read-only or
     * immutable connection answers it too), each key's rows through
     * session_call's key, which starts with key_id. DISTINCT: a key given
     * twice is summed once. Raw rows, summed in store_query.c; a key's rows
     * come together. */
    [ST_Q_KEY_CALLS] = "SELECT d.key_id, k.key, d.action_id, d.day, d.ok, d.err"
                       " FROM (SELECT DISTINCT value AS key FROM json_each(?1)) j"
                       " CROSS JOIN access_key k CROSS JOIN session_call d"
                       " WHERE k.key = j.key AND d.key_id = k.id AND d.day BETWEEN ?2 AND ?3",
    [ST_Q_PROBLEMS] = "SELECT path, COALESCE(reason, '') FROM file WHERE status <> 'ok'"
                      " ORDER BY path",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
};

int ct_store_fail(ct_store *store, ct_error *err, const char *what)
{
    return ct_error_set(err, CT_ESTORE, "store %s: %s: %s", store->path, what,
                        sqlite3_errmsg(store->db));
}

const char *ct_store_sql(enum store_stmt which)
{
    return which < ST_COUNT ? STMT_SQL[which] : NULL;
}

sqlite3_stmt *ct_store_stmt(ct_store *store, enum store_stmt which, ct_error *err)
{
    sqlite3_stmt *st = store->stmt[which];
    if (!st) {
        if (sqlite3_prepare_v3(store->db, STMT_SQL[which], -1, SQLITE_PREPARE_PERSISTENT, &st,
                               NULL) != SQLITE_OK) {
            ct_store_fail(store, err, "preparing a statement");
            return NULL;
        }
        store->stmt[which] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Creates the folders above `path` (mode 0700: the store reveals activity). */
static int make_parents(const char *path, ct_error *err)
{
    char *copy = ct_strdup(path);
    if (!copy)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    int rc = 0;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
            rc = ct_error_set(err, CT_ESTORE, "store %s: cannot create folder %s: %s", path, copy,
                              strerror(errno));
            break;
        }
        *p = '/';
    }
    free(copy);
    return rc;
}

static int exec(ct_store *store, const char *sql, const char *what, ct_error *err)
{
    if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ct_store_fail(store, err, what);
    return 0;
}

/* Reads one integer from a single-row query; CT_ESTORE when it fails. */
static int query_int(ct_store *store, const char *sql, int64_t *out, ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = CT_ESTORE;
    else
        *out = sqlite3_column_int64(st, 0);
    if (rc != 0) {
        int code = sqlite3_errcode(store->db);
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT || (code & 0xff) == SQLITE_CORRUPT)
            rc = ct_error_set(err, CT_ESTORE, "store %s: not a cloudtracker store (%s)",
                              store->path, sqlite3_errmsg(store->db));
        else
            rc = ct_store_fail(store, err, "reading the store header");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Checks what the file is and creates the schema in an empty one. A store
 * of an older schema is no error here: *older is then its version (0
 * otherwise), for the caller to refuse or rebuild it. */
static int check_schema(ct_store *store, bool create, int *older, ct_error *err)
{
    int64_t app_id, version, objects;
    *older = 0;
    int rc = query_int(store, "PRAGMA application_id", &app_id, err);
    if (rc == 0)
        rc = query_int(store, "PRAGMA user_version", &version, err);
    if (rc == 0)
        rc = query_int(store, "SELECT count(*) FROM sqlite_master", &objects, err);
    if (rc != 0)
        return rc;
    if (app_id == CT_STORE_APP_ID) {
        if (version > CT_STORE_VERSION)
            return ct_error_set(err, CT_ESTORE,
                                "store %s: schema version %lld is newer than this cloudtracker "
                                "supports (%d); use a newer cloudtracker or another store",
                                store->path, (long long)version, CT_STORE_VERSION);
        if (version < 1)
            return ct_error_set(err, CT_ESTORE, "store %s: not a cloudtracker store (no schema)",
                                store->path);
        /* The store only caches what the logs say, so it is rebuilt from
         * them rather than migrated: a migration would cost more code than
         * it saves, and could not fill in what older schemas left out. */
        if (version < CT_STORE_VERSION)
            *older = (int)version;
        return 0;
    }
    if (app_id != 0 || version != 0 || objects != 0)
        return ct_error_set(err, CT_ESTORE, "store %s: not a cloudtracker store", store->path);
    if (!create)
        return ct_error_set(err, CT_ESTORE, "store %s: empty file, not a cloudtracker store",
                            store->path);
    /* WAL before the first write; the schema and its marks in one go. */
    rc = exec(store, "PRAGMA journal_mode=WAL", "enabling WAL", err);
    if (rc == 0)
        rc = exec(store, "BEGIN IMMEDIATE", "creating the schema", err);
    if (rc != 0)
        return rc;
    char marks[128];
    snprintf(marks, sizeof(marks), "PRAGMA application_id=%d; PRAGMA user_version=%d;",
             CT_STORE_APP_ID, CT_STORE_VERSION);
    for (size_t i = 0; rc == 0 && i < sizeof(SCHEMA) / sizeof(SCHEMA[0]); i++)
        rc = exec(store, SCHEMA[i], "creating the schema", err);
    if (rc == 0)
        rc = exec(store, marks, "creating the schema", err);
    if (rc == 0)
        rc = exec(store, "COMMIT", "creating the schema", err);
    if (rc != 0)
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Makes the store's file, new, before SQLite opens it: mode 0600 (the store
 * reveals activity, and SQLite gives its -wal and -shm files the same
 * mode), and never through a symbolic link. A link to an existing file is
 * left to the header check (nothing is written into a file that is not a
 * cloudtracker store or empty); a dangling one is refused, since following
 * it would create a file wherever it points. */
static int create_file(const char *path, ct_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    int e = errno;
    struct stat st;
    if (e == EEXIST && stat(path, &st) != 0 && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        return ct_error_set(err, CT_ESTORE,
                            "store %s: a symbolic link to a missing file; not creating a store "
                            "through it",
                            path);
    if (e == EEXIST)
        return 0;
    return ct_error_set(err, CT_ESTORE, "store %s: cannot create: %s", path, strerror(e));
}

/* Whether an error opening or first reading a store read-only comes from
 * where it lies (a read-only filesystem or a folder the user cannot write,
 * where SQLite cannot make the WAL's -shm file), not from the file. */
static bool readonly_place_error(int code)
{
    return (code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_READONLY;
}

/* SQL function ct_arn_account(arn): the account field of an ARN
 * (arn:PARTITION:SERVICE:REGION:ACCOUNT:resource), or NULL when the text is
 * not one ("" included). Only the first five colons delimit fields: an IAM
 * path may hold more. */
static void arn_account(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *p = (const char *)sqlite3_value_text(argv[0]);
    if (!p || strncmp(p, "arn:", 4) != 0)
        return;
    p += 4;
    for (int field = 0; field < 3 && p; field++) { /* partition, service, region */
        p = strchr(p, ':');
        p = p ? p + 1 : NULL;
    }
    const char *end = p ? strchr(p, ':') : NULL;
    if (end)
        sqlite3_result_text(ctx, p, (int)(end - p), SQLITE_TRANSIENT);
}

/* Opens the SQLite connection; read-only connections take the URI form. */
static int connect(ct_store *store, const char *uri_or_path, int flags)
{
    int rc = sqlite3_open_v2(uri_or_path, &store->db, flags, NULL);
    if (store->db) {
        sqlite3_extended_result_codes(store->db, 1);
        sqlite3_busy_timeout(store->db, 10000);
        /* A store is data from disk: refuse SQL that could damage the file. */
        sqlite3_db_config(store->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(store->db, "ct_arn_account", 1,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                        arn_account, NULL, NULL, NULL);
    return rc;
}

/* A store that cannot be opened read-only where it lies (see
 * readonly_place_error) is opened as immutable: SQLite then reads the file
 * alone, without locks or the WAL. That is right for a store shipped to a
 * reader, and wrong when the WAL holds commits not yet in the file (an
 * ingest still running or killed): those would be missed silently, so such
 * a store is refused. */
static int open_immutable(ct_store *store, ct_error *err)
{
    ct_buf wal = CT_BUF_INIT;
    ct_buf uri = CT_BUF_INIT;
    int rc = 0;
    if (ct_buf_printf(&wal, "%s-wal", store->path) || ct_buf_puts(&uri, "file:")) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    struct stat st;
    if (stat(wal.data, &st) == 0 && st.st_size > 0) {
        rc = ct_error_set(err, CT_ESTORE,
                          "store %s: cannot be opened where it lies (%s), and its write-ahead log "
                          "%s holds changes that cannot be read without writing; open it where it "
                          "can be written once",
                          store->path, sqlite3_errmsg(store->db), wal.data);
        goto done;
    }
    /* Percent-encode what a URI path cannot hold as is. */
    for (const unsigned char *p = (const unsigned char *)store->path; *p && rc == 0; p++)
        if (*p == '%' || *p == '?' || *p == '#' || *p < 0x21 || *p >= 0x7f)
            rc = ct_buf_printf(&uri, "%%%02X", *p);
        else
            rc = ct_buf_append(&uri, p, 1);
    if (rc || ct_buf_puts(&uri, "?immutable=1")) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    sqlite3_close_v2(store->db);
    store->db = NULL;
    if (connect(store, uri.data, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI) !=
        SQLITE_OK)
        rc = store->db ? ct_store_fail(store, err, "cannot open")
                       : ct_error_set(err, CT_ENOMEM, "out of memory");
done:
    ct_buf_release(&wal);
    ct_buf_release(&uri);
    return rc;
}

int ct_store_connect_writable(ct_store *store, int *older, ct_error *err)
{
    *older = 0;
    int rc = make_parents(store->path, err);
    if (rc == 0)
        rc = create_file(store->path, err);
    if (rc != 0)
        return rc;
    int orc = connect(store, store->path, SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE);
    if (!store->db)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    if (orc != SQLITE_OK)
        return ct_store_fail(store, err, "cannot open");
    return check_schema(store, true, older, err);
}

int ct_store_setup(ct_store *store, bool writable, ct_error *err)
{
    /* Files are written in transactions of whole files: WAL with
     * synchronous=NORMAL makes commits cheap and still atomic (a crash can
     * lose the last commits, never half of one). The page cache is small
     * (4 MiB) and fills on any sizeable store, so memory does not grow
     * with the store: the writer applies each transaction's changes in key
     * order, touching each page once, and pages it evicts are re-read from
     * the OS's cache, which costs less than we could measure. Checkpoints
     * come every 16 MiB of WAL rather than 4, rewriting hot pages less
     * often. A reader only needs the cache size. */
    int rc = exec(store,
                  writable ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                             " PRAGMA cache_size=-4096; PRAGMA wal_autocheckpoint=4096"
                           : "PRAGMA cache_size=-4096",
                  "setting up", err);
    struct stat st;
    if (rc == 0 && stat(store->path, &st) == 0) {
        store->dev = st.st_dev;
        store->ino = st.st_ino;
    }
    return rc;
}

/* Opens the store read-only; *older as check_schema. */
static int connect_readonly(ct_store *store, int *older, ct_error *err)
{
    int orc = connect(store, store->path, SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READONLY);
    if (!store->db)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    /* SQLite reports a read-only WAL store it cannot map at the first read,
     * which check_schema makes. */
    int rc = orc == SQLITE_OK ? check_schema(store, false, older, err)
                              : ct_store_fail(store, err, "cannot open");
    if (rc != 0 && readonly_place_error(sqlite3_extended_errcode(store->db))) {
        ct_error_clear(err);
        if ((rc = open_immutable(store, err)) == 0)
            rc = check_schema(store, false, older, err);
    }
    return rc;
}

int ct_store_open(ct_store **out, const char *path, bool writable, ct_error *err)
{
    *out = NULL;
    struct stat st;
    if (!writable && stat(path, &st) != 0)
        return ct_error_set(err, CT_ESTORE, "store %s: %s", path, strerror(errno));
    ct_store *store = calloc(1, sizeof(*store));
    if (!store || !(store->path = ct_strdup(path))) {
        free(store);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    int older = 0;
    int rc = writable ? ct_store_connect_writable(store, &older, err)
                      : connect_readonly(store, &older, err);
    /* Rebuilding writes a new store: a read-only open cannot. */
    if (rc == 0 && older && !writable)
        rc = ct_error_set(err, CT_ESTORE,
                          "store %s: made by an older cloudtracker (schema version %d, this one "
                          "uses %d); it is rebuilt from the trail files by `cloudtracker ingest`, "
                          "or by a query without --skip-setup",
                          path, older, CT_STORE_VERSION);
    else if (rc == 0 && older)
        rc = ct_store_rebuild_begin(store, older, err);
    if (rc == 0)
        rc = ct_store_setup(store, writable, err);
    if (rc != 0) {
        ct_store_free(store);
        return rc;
    }
    *out = store;
    return 0;
}

/* ---- the ingest mark ----
 * An ingest holds a shared lock on the file "<store>-ingest.lock" while it
 * runs, so a reader can tell that what it reads is still being written. It
 * is an open-file-description lock: the kernel drops it when the ingest
 * ends or dies (SIGKILL included), and it conflicts across descriptors of
 * one process too. It lies on a file of its own because closing any
 * descriptor of the store file would drop SQLite's own locks on it. The
 * last ingest to end removes the file; one killed leaves it, empty and
 * harmless, for the next to reuse. */
static char *mark_path(const ct_store *store)
{
    ct_buf b = CT_BUF_INIT;
    if (ct_buf_printf(&b, "%s-ingest.lock", store->path)) {
        ct_buf_release(&b);
        return NULL;
    }
    return ct_buf_detach(&b);
}

static bool lock_whole(int fd, int cmd, short type, short *found)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, cmd, &fl) != 0)
        return false;
    if (found)
        *found = fl.l_type;
    return true;
}

int ct_store_ingest_mark(ct_store *store)
{
    char *path = mark_path(store);
    int fd = -1;
    /* The file locked must still be the one at the path: an ingest ending
     * meanwhile may have removed it (and holds it locked while it does). */
    for (int tries = 0; path && fd < 0 && tries < 3; tries++) {
        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        struct stat held, named;
        if (fd >= 0 &&
            !(lock_whole(fd, F_OFD_SETLK, F_RDLCK, NULL) && fstat(fd, &held) == 0 &&
              stat(path, &named) == 0 && held.st_dev == named.st_dev &&
              held.st_ino == named.st_ino)) {
            close(fd);
            fd = -1;
        }
    }
    free(path);
    return fd;
}

void ct_store_ingest_unmark(ct_store *store, int mark)
{
    if (mark < 0)
        return;
    /* The lock becomes exclusive only when no other ingest holds it: then
     * the file goes, and no reader or ingest can take it meanwhile. */
    char *path = mark_path(store);
    if (path && lock_whole(mark, F_OFD_SETLK, F_WRLCK, NULL))
        unlink(path);
    free(path);
    close(mark);
}

bool ct_store_ingest_alone(int mark)
{
    return mark < 0 || lock_whole(mark, F_OFD_SETLK, F_WRLCK, NULL);
}

bool ct_store_ingest_running(const ct_store *store)
{
    char *path = mark_path(store);
    int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    free(path);
    if (fd < 0)
        return false;
    short found = F_UNLCK;
    bool running = lock_whole(fd, F_OFD_GETLK, F_WRLCK, &found) && found != F_UNLCK;
    close(fd);
    return running;
}

void ct_store_free(ct_store *store)
{
    if (!store)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(store->stmt[i]);
    ct_store_writer_release(store);
    sqlite3_close_v2(store->db);
    free(store->path);
    free(store->target);
    free(store);
}

int ct_store_file_state(ct_store *store, const char *path, bool *found, int64_t *size,
                        int64_t *mtime_ns, bool *ok, ct_error *err)
{
    *found = false;
    sqlite3_stmt *st = ct_store_stmt(store, ST_FILE_LOOKUP, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    int rc = 0;
    if (r == SQLITE_ROW) {
        *found = true;
        *size = sqlite3_column_int64(st, 0);
        *mtime_ns = sqlite3_column_int64(st, 1);
        const unsigned char *status = sqlite3_column_text(st, 2);
        *ok = status && strcmp((const char *)status, "ok") == 0;
    } else if (r != SQLITE_DONE) {
        rc = ct_store_fail(store, err, "looking up a file");
    }
    sqlite3_reset(st);
    return rc;
}
