/* Rebuilding a store made by an older cloudtracker. The store only caches
 * what the trail files say, so a store of an older schema is rebuilt from
 * them: the new store is built beside the old one ("<store>.rebuild") by
 * the ingest that opened it, and copied over the old one only once that
 * ingest succeeded and read again every file the old one holds. Until
 * then the old store stays as it is, whatever fails on the way. */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ct_store_rebuilding(const ct_store *store)
{
    return store && store->target ? store->rebuild_from : 0;
}

/* Removes an SQLite file and its WAL and shared-memory files. */
static void remove_db_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        ct_buf b = CT_BUF_INIT;
        if (ct_buf_printf(&b, "%s%s", path, suffixes[i]) == 0)
            unlink(b.data);
        ct_buf_release(&b);
    }
}

/* Closes the connection and the statements made on it. */
static void disconnect(ct_store *store)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(store->stmt[i]);
        store->stmt[i] = NULL;
    }
    ct_store_writer_release(store);
    sqlite3_close_v2(store->db);
    store->db = NULL;
}

int ct_store_rebuild_begin(ct_store *store, int older, ct_error *err)
{
    ct_buf side = CT_BUF_INIT;
    if (ct_buf_printf(&side, "%s.rebuild", store->path) != 0) {
        ct_buf_release(&side);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    disconnect(store);
    store->target = store->path;
    store->path = ct_buf_detach(&side);
    store->rebuild_from = older;
    /* A new store that an interrupted rebuild left is resumed: it holds
     * whole files only, like any store. One of an older schema still is
     * started afresh. */
    int side_older = 0;
    int rc = ct_store_connect_writable(store, &side_older, err);
    if (rc == 0 && side_older) {
        disconnect(store);
        remove_db_files(store->path);
        rc = ct_store_connect_writable(store, &side_older, err);
        if (rc == 0 && side_older)
            rc = ct_error_set(err, CT_EINTERNAL, "store %s: a new store has an old schema",
                              store->path);
    }
    return rc;
}

void ct_store_rebuild_explain(const ct_store *store, ct_error *err)
{
    if (!err || !store->target || err->code == CT_ENOMEM)
        return;
    size_t len = strlen(err->message);
    snprintf(err->message + len, sizeof(err->message) - len,
             "; store %s, made by an older cloudtracker (schema version %d), is kept as it is "
             "until it is rebuilt from the trail files: run `cloudtracker ingest` with the paths "
             "that hold them",
             store->target, store->rebuild_from);
}

/* Counts the files the old store holds rows of (read completely or in
 * part) that the new store has not recorded; *first is one of them. */
static int missing_files(ct_store *store, ct_store *old, uint64_t *missing, char **first,
                         ct_error *err)
{
    *missing = 0;
    *first = NULL;
    sqlite3_stmt *st = NULL;
    /* Every schema version's file table has path and status. */
    if (sqlite3_prepare_v2(old->db, "SELECT path FROM file WHERE status <> 'skipped' ORDER BY path",
                           -1, &st, NULL) != SQLITE_OK)
        return ct_store_fail(old, err, "listing its files");
    int rc = 0, r;
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        bool found = false, ok;
        int64_t size, mtime;
        if (!path)
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        else
            rc = ct_store_file_state(store, path, &found, &size, &mtime, &ok, err);
        if (rc == 0 && !found && (*missing)++ == 0 && !(*first = ct_strdup(path)))
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(old, err, "listing its files");
    sqlite3_finalize(st);
    return rc;
}

/* Copies the new store over the old one, in one transaction of the old
 * store's connection: other connections see the old store or the new,
 * and a crash midway leaves the old one. */
static int copy_over(ct_store *store, ct_store *old, ct_error *err)
{
    sqlite3_backup *b = sqlite3_backup_init(old->db, "main", store->db, "main");
    if (!b)
        return ct_store_fail(old, err, "replacing it with the rebuilt store");
    int r = sqlite3_backup_step(b, -1);
    int fr = sqlite3_backup_finish(b);
    if (r != SQLITE_DONE || fr != SQLITE_OK)
        return ct_store_fail(old, err, "replacing it with the rebuilt store");
    /* The copy went through the WAL: give its space back now. */
    sqlite3_exec(old->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    return 0;
}

/* Points `store` at the old store's connection (now the store to use)
 * and drops the new store's file. */
static int switch_to(ct_store *store, ct_store *old, ct_error *err)
{
    disconnect(store);
    remove_db_files(store->path);
    free(store->path);
    store->path = store->target;
    store->target = NULL;
    store->db = old->db;
    old->db = NULL;
    return ct_store_setup(store, true, err);
}

int ct_store_rebuild_finish(ct_store *store, int *mark, bool *again, ct_error *err)
{
    *again = false;
    /* Another ingest still writing the new store replaces the old one
     * when it ends. */
    if (!ct_store_ingest_alone(*mark))
        return 0;
    ct_store old = {0};
    old.path = store->target;
    int older = 0;
    int rc = ct_store_connect_writable(&old, &older, err);
    uint64_t missing = 0, files = 0;
    char *first = NULL;
    if (rc == 0 && older)
        rc = missing_files(store, &old, &missing, &first, err);
    if (rc == 0 && !older) {
        /* Rebuilt by another process meanwhile (or deleted, and made
         * anew above): a store with files is kept, and this ingest's
         * files go into it too. */
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(old.db, "SELECT count(*) FROM file", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW)
            rc = ct_store_fail(&old, err, "counting its files");
        else
            files = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        *again = rc == 0 && files > 0;
    }
    if (rc == 0 && missing > 0)
        rc = ct_error_set(err, CT_ESTORE,
                          "store %s: made by an older cloudtracker (schema version %d), it was "
                          "rebuilt from the trail files into %s, but %llu file%s it holds %s not "
                          "read again (%s%s): gone, or outside the paths given. The old store is "
                          "kept: ingest the paths that hold them too, or delete both files to "
                          "start afresh from the logs at hand",
                          store->target, store->rebuild_from, store->path,
                          (unsigned long long)missing, missing == 1 ? "" : "s",
                          missing == 1 ? "was" : "were", first, missing == 1 ? "" : ", ...");
    if (rc == 0 && !*again)
        rc = copy_over(store, &old, err);
    free(first);
    if (rc == 0) {
        /* The mark belongs to the new store's file, which goes now. */
        ct_store_ingest_unmark(store, *mark);
        *mark = -1;
        rc = switch_to(store, &old, err);
    }
    sqlite3_close_v2(old.db);
    return rc;
}
