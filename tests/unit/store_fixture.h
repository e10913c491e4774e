/* Helpers for the store and ingest tests: scratch folders, CloudTrail
 * records written as JSON, gzip files, and a dump of a store's contents for
 * comparing two stores. Header-only (static inline), shared by
 * test_store.c and test_ingest.c. */
#ifndef CT_STORE_FIXTURE_H
#define CT_STORE_FIXTURE_H

#include "cloudtracker/date.h"
#include "cloudtracker/util.h"
#include "store/store_internal.h"

#include <errno.h>
#include <ftw.h>
#include <libdeflate.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A CloudTrail record; NULL fields are left out of the JSON. */
typedef struct trec {
    const char *time; /* "2024-01-02T03:04:05Z" */
    const char *source;
    const char *name;
    const char *type; /* userIdentity.type */
    const char *arn;  /* userIdentity.arn */
    const char *key;  /* userIdentity.accessKeyId */
    const char *issuer;
    const char *account; /* recipientAccountId */
    const char *error;
    const char *role_arn; /* requestParameters.roleArn */
    const char *session;  /* requestParameters.roleSessionName */
    const char *issued;   /* responseElements.credentials.accessKeyId */
    const char *shared;   /* sharedEventID */
    const char *id;       /* eventID */
} trec;

static inline void json_field(ct_buf *b, bool *first, const char *name, const char *value)
{
    if (!value)
        return;
    ct_buf_printf(b, "%s\"%s\":\"%s\"", *first ? "" : ",", name, value);
    *first = false;
}

/* Appends one record as a JSON object (values are written as given, so
 * they must not need escaping). */
static inline void trec_json(ct_buf *b, const trec *r)
{
    bool first = true;
    ct_buf_puts(b, "{\"eventVersion\":\"1.08\",\"userIdentity\":{");
    bool idf = true;
    json_field(b, &idf, "type", r->type);
    json_field(b, &idf, "arn", r->arn);
    json_field(b, &idf, "accessKeyId", r->key);
    if (r->issuer)
        ct_buf_printf(b,
                      "%s\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"arn\":\"%s\"}}",
                      idf ? "" : ",", r->issuer);
    ct_buf_puts(b, "},");
    json_field(b, &first, "eventTime", r->time);
    json_field(b, &first, "eventSource", r->source);
    json_field(b, &first, "eventName", r->name);
    ct_buf_puts(b, ",\"awsRegion\":\"us-east-1\"");
    json_field(b, &first, "errorCode", r->error);
    if (r->role_arn)
        ct_buf_printf(b, ",\"requestParameters\":{\"roleArn\":\"%s\",\"roleSessionName\":\"%s\"}",
                      r->role_arn, r->session ? r->session : "s");
    if (r->issued)
        ct_buf_printf(b,
                      ",\"responseElements\":{\"credentials\":{\"accessKeyId\":\"%s\","
                      "\"expiration\":\"Jan 1, 2030 1:00:00 AM\"}}",
                      r->issued);
    json_field(b, &first, "eventID", r->id);
    json_field(b, &first, "sharedEventID", r->shared);
    json_field(b, &first, "recipientAccountId", r->account);
    ct_buf_puts(b, "}");
}

/* {"Records":[...]} of n records. */
static inline char *trail_doc(const trec *recs, size_t n)
{
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "{\"Records\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ct_buf_puts(&b, ",");
        trec_json(&b, &recs[i]);
    }
    ct_buf_puts(&b, "]}");
    return ct_buf_detach(&b);
}

/* Creates the folders above path. */
static inline void mkdirs_for(const char *path)
{
    char *copy = ct_strdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(copy, 0755);
            *p = '/';
        }
    }
    free(copy);
}

static inline int write_bytes(const char *path, const void *data, size_t n)
{
    mkdirs_for(path);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* gzip of data (malloc'd), length in *out_n. */
static inline unsigned char *gzip_bytes(const void *data, size_t n, size_t *out_n)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    size_t bound = libdeflate_gzip_compress_bound(c, n);
    unsigned char *out = malloc(bound);
    *out_n = libdeflate_gzip_compress(c, data, n, out, bound);
    libdeflate_free_compressor(c);
    return out;
}

static inline int write_gz(const char *path, const char *text)
{
    size_t n;
    unsigned char *gz = gzip_bytes(text, strlen(text), &n);
    int rc = write_bytes(path, gz, n);
    free(gz);
    return rc;
}

/* Joins dir and rel into a malloc'd path. */
static inline char *pathf(const char *dir, const char *rel)
{
    ct_buf b = CT_BUF_INIT;
    ct_buf_printf(&b, "%s/%s", dir, rel);
    return ct_buf_detach(&b);
}

/* A new scratch folder under $TMPDIR (or /tmp). */
static inline char *scratch_dir(const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    ct_buf b = CT_BUF_INIT;
    ct_buf_printf(&b, "%s/ct-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    char *dir = ct_buf_detach(&b);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    return dir;
}

static inline int open_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_D || flag == FTW_DNR)
        chmod(path, 0700);
    return 0;
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Ends the {"Records":[ document being built in `b`, writes it to
 * logs/name, and starts the next one in `b`. Returns 0 or -1. */
static inline int write_records_doc(const char *logs, const char *name, ct_buf *b)
{
    ct_buf_puts(b, "]}");
    char *path = pathf(logs, name);
    int rc = write_bytes(path, b->data, b->len);
    free(path);
    ct_buf_reset(b);
    ct_buf_puts(b, "{\"Records\":[");
    return rc;
}

/* rm -rf; folders a test made unreadable are opened up first. */
static inline void remove_tree(const char *dir)
{
    for (int i = 0; i < 3; i++)
        nftw(dir, open_entry, 16, FTW_PHYS);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Inserts one decoded row of a file's rows blob (store_rows.c) into the
 * statement's temp table, after the file id bound as ?1. */
static inline int fixture_put_row(sqlite3_stmt *st, const int64_t *row, int cols)
{
    for (int c = 0; c < cols; c++)
        sqlite3_bind_int64(st, c + 2, row[c]);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : CT_ESTORE;
}

static inline int fixture_call_row(void *ud, const int64_t *row)
{
    return fixture_put_row(((sqlite3_stmt **)ud)[0], row, CT_FILE_CALL_COLS);
}

static inline int fixture_account_row(void *ud, const int64_t *row)
{
    return fixture_put_row(((sqlite3_stmt **)ud)[1], row, CT_FILE_ACCOUNT_COLS);
}

static inline int fixture_resource_row(void *ud, const int64_t *row)
{
    return fixture_put_row(((sqlite3_stmt **)ud)[2], row, CT_FILE_RESOURCE_COLS);
}

/* Decodes every file's rows blob into temp tables file_call,
 * file_account_day and file_resource (one row per aggregate, as plain SQL can check them).
 * False when a blob is damaged, or a file lacks its blob or a blob its
 * file. */
static inline bool decode_file_rows(sqlite3 *db)
{
    if (sqlite3_exec(db,
                     "CREATE TEMP TABLE file_call(file_id, principal_id, key_id, action_id, day,"
                     " session, ok, err, PRIMARY KEY (file_id, principal_id, key_id, action_id,"
                     " day));"
                     "CREATE TEMP TABLE file_account_day(file_id, account_id, day, data_action,"
                     " access, region_id, events, PRIMARY KEY (file_id, account_id, day,"
                     " data_action, access, region_id));"
                     "CREATE TEMP TABLE file_resource(file_id, principal_id, day, action_id,"
                     " set_id, calls, PRIMARY KEY (file_id, principal_id, day, action_id,"
                     " set_id));",
                     NULL, NULL, NULL) != SQLITE_OK)
        return false;
    sqlite3_stmt *ins[3] = {NULL, NULL, NULL}, *blobs = NULL;
    bool ok =
        sqlite3_prepare_v2(db, "INSERT INTO temp.file_call VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", -1,
                           &ins[0], NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "INSERT INTO temp.file_account_day VALUES (?1,?2,?3,?4,?5,?6,?7)",
                           -1, &ins[1], NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "INSERT INTO temp.file_resource VALUES (?1,?2,?3,?4,?5,?6)", -1,
                           &ins[2], NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT file_id, data FROM file_rows", -1, &blobs, NULL) ==
            SQLITE_OK;
    while (ok && sqlite3_step(blobs) == SQLITE_ROW) {
        sqlite3_bind_int64(ins[0], 1, sqlite3_column_int64(blobs, 0));
        sqlite3_bind_int64(ins[1], 1, sqlite3_column_int64(blobs, 0));
        sqlite3_bind_int64(ins[2], 1, sqlite3_column_int64(blobs, 0));
        ok = ct_file_rows_decode(sqlite3_column_blob(blobs, 1),
                                 (size_t)sqlite3_column_bytes(blobs, 1), fixture_call_row,
                                 fixture_account_row, fixture_resource_row, ins) == 0;
    }
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(ins[i]);
    sqlite3_finalize(blobs);
    sqlite3_stmt *st = NULL;
    ok = ok &&
         sqlite3_prepare_v2(db,
                            "SELECT (SELECT count(*) FROM file WHERE id NOT IN"
                            " (SELECT file_id FROM file_rows)) + (SELECT count(*) FROM file_rows"
                            " WHERE file_id NOT IN (SELECT id FROM file))",
                            -1, &st, NULL) == SQLITE_OK &&
         sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == 0;
    sqlite3_finalize(st);
    return ok;
}

/* Everything a store says about activity, one line per row in a fixed
 * order, for comparing stores: the roll-ups, the role assumptions, the
 * session evidence, the files and each file's rows. Also checks that every file's rows blob
 * decodes and that the roll-ups equal the sums of the files' rows
 * (*consistent). */
static inline char *store_dump(const char *store_path, bool *consistent)
{
    sqlite3 *db;
    ct_buf b = CT_BUF_INIT;
    *consistent = false;
    if (sqlite3_open_v2(store_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return ct_buf_detach(&b);
    }
    bool decoded = decode_file_rows(db);
    static const char *const queries[] = {
        "SELECT p.arn, a.source, a.name, a.kind, d.day, d.ok, d.err FROM daily_call d"
        " JOIN principal p ON p.id = d.principal_id"
        " JOIN action a ON a.id = d.action_id ORDER BY 1, 2, 3, 4, 5",
        "SELECT k.key, p.arn, a.source, a.name, d.day, d.ok, d.err FROM session_call d"
        " JOIN principal p ON p.id = d.principal_id JOIN access_key k ON k.id = d.key_id"
        " JOIN action a ON a.id = d.action_id ORDER BY 1, 2, 3, 4, 5",
        "SELECT c.account, d.day, r.name, d.events FROM daily_account d"
        " JOIN account c ON c.id = d.account_id JOIN region r ON r.id = d.region_id"
        " ORDER BY 1, 2, 3",
        "SELECT c.account, d.day, a.source, a.name, d.access, d.events FROM daily_data d"
        " JOIN account c ON c.id = d.account_id JOIN action a ON a.id = d.action_id"
        " ORDER BY 1, 2, 3, 4, 5",
        "SELECT c.arn, r.arn, s.time, k.key, s.session_name, s.shared_event_id, s.event_id,"
        " a.account, f.path, s.event_name, s.caller_type, ck.key, s.caller_name, s.provider,"
        " s.subject, s.issuer, s.source_identity FROM assume_role s"
        " JOIN principal c ON c.id = s.caller_id JOIN principal r ON r.id = s.role_id"
        " JOIN access_key k ON k.id = s.issued_key_id JOIN access_key ck ON ck.id = s.caller_key_id"
        " JOIN account a ON a.id = s.account_id JOIN file f ON f.id = s.file_id ORDER BY 9, 3, 7",
        "SELECT f.path, k.key, r.arn, e.day, e.session_name, e.source_identity, e.on_behalf_of,"
        " e.identity_store FROM session_evidence e JOIN file f ON f.id = e.file_id"
        " JOIN access_key k ON k.id = e.key_id JOIN principal r ON r.id = e.role_id"
        " ORDER BY 1, 2, 3, 4, 5, 6, 7, 8",
        "SELECT path, size, status, reason, records_stored, records_rejected FROM file"
        " ORDER BY path",
        "SELECT f.path, p.arn, k.key, a.source, a.name, c.day, c.session, c.ok, c.err"
        " FROM temp.file_call c JOIN file f ON f.id = c.file_id"
        " JOIN principal p ON p.id = c.principal_id JOIN access_key k ON k.id = c.key_id"
        " JOIN action a ON a.id = c.action_id ORDER BY 1, 2, 3, 4, 5, 6",
        "SELECT f.path, a.account, d.day, d.data_action, d.access, r.name, d.events"
        " FROM temp.file_account_day d JOIN file f ON f.id = d.file_id"
        " JOIN account a ON a.id = d.account_id JOIN region r ON r.id = d.region_id"
        " ORDER BY 1, 2, 3, 4, 5, 6",
        "SELECT p.arn, a.source, a.name, a.kind, d.day, s.arns, d.calls FROM daily_resource d"
        " JOIN principal p ON p.id = d.principal_id JOIN action a ON a.id = d.action_id"
        " JOIN resource_set s ON s.id = d.set_id ORDER BY 1, 2, 3, 4, 5, 6",
        "SELECT f.path, p.arn, a.source, a.name, d.day, s.arns, d.calls"
        " FROM temp.file_resource d JOIN file f ON f.id = d.file_id"
        " JOIN principal p ON p.id = d.principal_id JOIN action a ON a.id = d.action_id"
        " JOIN resource_set s ON s.id = d.set_id ORDER BY 1, 2, 3, 4, 5, 6",
    };
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, queries[q], -1, &st, NULL) != SQLITE_OK)
            continue;
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const unsigned char *t = sqlite3_column_text(st, c);
                ct_buf_printf(&b, "%s%s", c ? "|" : "", t ? (const char *)t : "NULL");
            }
            ct_buf_puts(&b, "\n");
        }
        sqlite3_finalize(st);
        ct_buf_puts(&b, "--\n");
    }
    sqlite3_stmt *st;
    const char *check =
        "SELECT (SELECT count(*) FROM (SELECT principal_id, day, action_id, SUM(ok), SUM(err)"
        " FROM file_call GROUP BY 1, 2, 3 EXCEPT SELECT principal_id, day, action_id, ok, err"
        " FROM daily_call))"
        " + (SELECT count(*) FROM (SELECT principal_id, day, action_id, ok, err FROM daily_call"
        " EXCEPT SELECT principal_id, day, action_id, SUM(ok), SUM(err) FROM file_call"
        " GROUP BY 1, 2, 3))"
        " + (SELECT count(*) FROM (SELECT key_id, principal_id, day, action_id, SUM(ok),"
        " SUM(err) FROM file_call WHERE session GROUP BY 1, 2, 3, 4 EXCEPT SELECT key_id,"
        " principal_id, day, action_id, ok, err FROM session_call))"
        " + (SELECT count(*) FROM (SELECT key_id, principal_id, day, action_id, ok, err FROM"
        " session_call EXCEPT SELECT key_id, principal_id, day, action_id, SUM(ok), SUM(err)"
        " FROM file_call WHERE session GROUP BY 1, 2, 3, 4))"
        " + (SELECT count(*) FROM (SELECT account_id, day, region_id, SUM(events)"
        " FROM file_account_day GROUP BY 1, 2, 3 EXCEPT SELECT account_id, day, region_id,"
        " events FROM daily_account))"
        " + (SELECT count(*) FROM (SELECT account_id, day, region_id, events FROM daily_account"
        " EXCEPT SELECT account_id, day, region_id, SUM(events) FROM file_account_day"
        " GROUP BY 1, 2, 3))"
        " + (SELECT count(*) FROM (SELECT account_id, day, data_action, access, SUM(events)"
        " FROM file_account_day WHERE access GROUP BY 1, 2, 3, 4 EXCEPT SELECT account_id, day,"
        " action_id, access, events FROM daily_data))"
        " + (SELECT count(*) FROM (SELECT account_id, day, action_id, access, events FROM"
        " daily_data EXCEPT SELECT account_id, day, data_action, access, SUM(events)"
        " FROM file_account_day WHERE access GROUP BY 1, 2, 3, 4))"
        " + (SELECT count(*) FROM (SELECT principal_id, day, action_id, set_id, SUM(calls)"
        " FROM file_resource GROUP BY 1, 2, 3, 4 EXCEPT SELECT principal_id, day, action_id,"
        " set_id, calls FROM daily_resource))"
        " + (SELECT count(*) FROM (SELECT principal_id, day, action_id, set_id, calls FROM"
        " daily_resource EXCEPT SELECT principal_id, day, action_id, set_id, SUM(calls)"
        " FROM file_resource GROUP BY 1, 2, 3, 4))";
    if (sqlite3_prepare_v2(db, check, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        *consistent = decoded && sqlite3_column_int64(st, 0) == 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ct_buf_detach(&b);
}

/* One integer from the store (e.g. a count), -1 on failure. */
static inline long long store_int(const char *store_path, const char *sql)
{
    sqlite3 *db;
    long long v = -1;
    if (sqlite3_open_v2(store_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static inline int64_t day_of(const char *ymd)
{
    int64_t d = 0;
    ct_date_parse_day(ymd, &d);
    return d;
}

#endif
