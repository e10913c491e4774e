/* The store as an event source: the queries the analysis asks (calls per
 * principal, calls inside role sessions, activity, account coverage, data
 * events, input problems, and the bulk questions: every principal of an
 * account, every role session with its evidence and opening, the calls of
 * given sessions), each a fixed number of SQL statements over the daily
 * roll-ups and the per-file rows. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

struct store_source {
    ct_source base;
    ct_store *store;
    char **paths;
    size_t path_count;
    char *time_field;
    bool refreshed; /* this source brought the store up to date itself */
    bool pinned;    /* a read transaction holds the snapshot the questions read */
};

/* The questions of one query read one state of the store: a read
 * transaction started when the source is made (or refreshed) and held
 * until it is freed, so an ingest committing meanwhile changes nothing the
 * answer rests on (WAL keeps the snapshot). */
static int pin(struct store_source *s, ct_error *err)
{
    sqlite3 *db = s->store->db;
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return ct_store_fail(s->store, err, "starting to read");
    /* In WAL, the snapshot is taken at the first read. */
    int r = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master LIMIT 1", -1, &st, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_ROW) {
        int rc = ct_store_fail(s->store, err, "starting to read");
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    s->pinned = true;
    return 0;
}

static void unpin(struct store_source *s)
{
    if (s->pinned)
        sqlite3_exec(s->store->db, "ROLLBACK", NULL, NULL, NULL);
    s->pinned = false;
}

static ct_store *store_of(ct_source *src)
{
    return ((struct store_source *)src)->store;
}

/* Totals of one action while summing roll-up rows (or of an action and a
 * data access, see data_events). */
struct action_sum {
    int64_t action_id;
    uint64_t ok;
    uint64_t err;
    int64_t first;
    int64_t last;
};

/* Open-addressing table of action_sum, keyed by action id. */
struct sums {
    struct action_sum *items;
    size_t count;
    size_t cap;
    uint32_t *slots; /* item index + 1 */
    size_t nslots;
};

static size_t slot_of(int64_t id, size_t nslots)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15u) >> 32) & (nslots - 1);
}

static int sums_add(struct sums *s, int64_t id, int64_t day, uint64_t ok, uint64_t err)
{
    if ((s->count + 1) * 2 > s->nslots) {
        size_t nslots = s->nslots ? s->nslots * 2 : 256;
        uint32_t *slots = calloc(nslots, sizeof(*slots));
        if (!slots)
            return CT_ENOMEM;
        for (size_t i = 0; i < s->count; i++) {
            size_t j = slot_of(s->items[i].action_id, nslots);
            while (slots[j])
                j = (j + 1) & (nslots - 1);
            slots[j] = (uint32_t)(i + 1);
        }
        free(s->slots);
        s->slots = slots;
        s->nslots = nslots;
    }
    size_t j = slot_of(id, s->nslots);
    while (s->slots[j]) {
        struct action_sum *a = &s->items[s->slots[j] - 1];
        if (a->action_id == id) {
            a->ok += ok;
            a->err += err;
            a->first = day < a->first ? day : a->first;
            a->last = day > a->last ? day : a->last;
            return 0;
        }
        j = (j + 1) & (s->nslots - 1);
    }
    struct action_sum *items = ct_array_grow(s->items, &s->cap, s->count, sizeof(*items), 128);
    if (!items)
        return CT_ENOMEM;
    s->items = items;
    s->items[s->count] = (struct action_sum){id, ok, err, day, day};
    s->slots[j] = (uint32_t)(++s->count);
    return 0;
}

/* The sum of action `id`, or NULL. */
static struct action_sum *sums_find(const struct sums *s, int64_t id)
{
    for (size_t j = s->nslots ? slot_of(id, s->nslots) : 0; s->nslots && s->slots[j];
         j = (j + 1) & (s->nslots - 1))
        if (s->items[s->slots[j] - 1].action_id == id)
            return &s->items[s->slots[j] - 1];
    return NULL;
}

/* Empties the table, keeping its memory for the next group. */
static void sums_clear(struct sums *s)
{
    for (size_t i = 0; i < s->count; i++) {
        size_t j = slot_of(s->items[i].action_id, s->nslots);
        while (s->slots[j] != i + 1)
            j = (j + 1) & (s->nslots - 1);
        s->slots[j] = 0;
    }
    s->count = 0;
}

static void sums_release(struct sums *s)
{
    free(s->items);
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

struct action_name {
    char *source;
    char *name;
    ct_event_kind kind;
};

/* The actions one question has named: each is looked up once, however many
 * principals or sessions called it. */
struct action_names {
    struct sums ids; /* action id -> its position in items (ids.items' order) */
    struct action_name *items;
    size_t cap;
};

static void action_names_release(struct action_names *names)
{
    for (size_t i = 0; i < names->ids.count; i++) {
        free(names->items[i].source);
        free(names->items[i].name);
    }
    free(names->items);
    sums_release(&names->ids);
    memset(names, 0, sizeof(*names));
}

/* Sets *out to the name of action `id` (borrowed from `names`), reading it
 * from the store the first time. Returns 0, CT_ENOMEM, or CT_ESTORE (also
 * for an action row that is missing or damaged). */
static int name_action(ct_store *store, struct action_names *names, int64_t id,
                       const struct action_name **out, ct_error *err)
{
    const struct action_sum *known = sums_find(&names->ids, id);
    if (known) {
        *out = &names->items[known - names->ids.items];
        return 0;
    }
    struct action_name *items =
        ct_array_grow(names->items, &names->cap, names->ids.count, sizeof(*items), 64);
    if (!items)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    names->items = items;
    sqlite3_stmt *q = ct_store_stmt(store, ST_Q_ACTION, err);
    if (!q)
        return CT_ESTORE;
    sqlite3_bind_int64(q, 1, id);
    int r = sqlite3_step(q);
    const char *source = (const char *)sqlite3_column_text(q, 0);
    const char *name = (const char *)sqlite3_column_text(q, 1);
    int64_t kind = sqlite3_column_int64(q, 2);
    int rc = 0;
    struct action_name *a = &names->items[names->ids.count];
    if (r != SQLITE_ROW || !source || !name || kind < 0 || kind >= CT_EVENT_KINDS) {
        rc = r == SQLITE_ROW || r == SQLITE_DONE
                 ? ct_error_set(err, CT_ESTORE, "store %s: damaged action row", store->path)
                 : ct_store_fail(store, err, "querying calls");
    } else {
        a->source = ct_strdup(source);
        a->name = ct_strdup(name);
        a->kind = (ct_event_kind)kind;
        /* The new item's position is the one its name takes. */
        if (!a->source || !a->name || sums_add(&names->ids, id, 0, 0, 0) != 0) {
            free(a->source);
            free(a->name);
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        }
    }
    sqlite3_reset(q);
    if (rc == 0)
        *out = a;
    return rc;
}

/* Takes the calls of one group (a principal or a session key; NULL when
 * the question has no groups) to one action. Returns 0 or CT_ENOMEM. */
typedef int (*call_sink)(void *ud, const char *group, const struct action_name *action,
                         const struct action_sum *sum);

/* Hands each action summed in `sums` to `sink`, named, and empties the
 * sums. */
static int flush_sums(ct_store *store, struct sums *sums, struct action_names *names,
                      const char *group, call_sink sink, void *ud, ct_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sums->count; i++) {
        const struct action_name *a = NULL;
        rc = name_action(store, names, sums->items[i].action_id, &a, err);
        if (rc == 0 && sink(ud, group, a, &sums->items[i]) != 0)
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    sums_clear(sums);
    return rc;
}

/* Steps a statement whose rows are (action_id, day, ok, err), or with
 * `grouped` (group id, group name, action_id, day, ok, err), sums them per
 * group and action here (faster than GROUP BY's temporary B-tree) and hands
 * each sum to `sink`. A group's rows are expected together: each further
 * run of them is handed over again, which the sinks of grouped questions
 * add up. */
static int sum_calls(ct_store *store, sqlite3_stmt *st, bool grouped, call_sink sink, void *ud,
                     ct_error *err)
{
    struct sums sums = {0};
    struct action_names names = {0};
    char *group = NULL;
    int64_t group_id = 0;
    int c = grouped ? 2 : 0;
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (grouped && (!group || sqlite3_column_int64(st, 0) != group_id)) {
            if ((rc = flush_sums(store, &sums, &names, group, sink, ud, err)) != 0)
                break;
            free(group);
            /* The group's name column is NOT NULL: NULL means no memory. */
            const char *g = (const char *)sqlite3_column_text(st, 1);
            if (!g || !(group = ct_strdup(g))) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                break;
            }
            group_id = sqlite3_column_int64(st, 0);
        }
        if (sums_add(&sums, sqlite3_column_int64(st, c), sqlite3_column_int64(st, c + 1),
                     (uint64_t)sqlite3_column_int64(st, c + 2),
                     (uint64_t)sqlite3_column_int64(st, c + 3)) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(store, err, "querying calls");
    sqlite3_reset(st);
    if (rc == 0)
        rc = flush_sums(store, &sums, &names, group, sink, ud, err);
    free(group);
    sums_release(&sums);
    action_names_release(&names);
    return rc;
}

static int add_call(void *ud, const char *group, const struct action_name *a,
                    const struct action_sum *s)
{
    (void)group;
    return ct_calls_add(ud, a->source, a->name, a->kind, s->ok, s->err, s->first, s->last);
}

/* Steps a statement whose rows are (action_id, day, ok, err) and appends
 * one call per action, sorted by source and name; appends nothing on
 * error. */
static int collect_calls(ct_store *store, sqlite3_stmt *st, ct_calls *out, ct_error *err)
{
    size_t keep = out->count;
    int rc = sum_calls(store, st, false, add_call, out, err);
    if (rc == 0)
        ct_calls_sort(out, keep);
    else
        ct_calls_truncate(out, keep);
    return rc;
}

static int principal_calls(ct_source *src, const char *principal_arn, const ct_window *window,
                           ct_calls *out, ct_error *err)
{
    ct_store *store = store_of(src);
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_PRINCIPAL_CALLS, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_text(st, 1, principal_arn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, window->first_day);
    sqlite3_bind_int64(st, 3, window->last_day);
    return collect_calls(store, st, out, err);
}

/* The first and last second of the window, the first reaching back
 * CT_SESSION_REACH: a session opened that early can still call inside. */
static void session_times(const ct_window *window, int64_t *from, int64_t *to)
{
    *from = window->first_day * 86400 - CT_SESSION_REACH;
    *to = window->last_day * 86400 + 86399;
}

static int role_session_calls(ct_source *src, const char *caller_arn, const char *role_arn,
                              const ct_window *window, ct_calls *out, ct_error *err)
{
    ct_store *store = store_of(src);
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_SESSION_CALLS, err);
    if (!st)
        return CT_ESTORE;
    int64_t from, to;
    session_times(window, &from, &to);
    sqlite3_bind_text(st, 1, caller_arn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, role_arn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    sqlite3_bind_int64(st, 5, window->first_day);
    sqlite3_bind_int64(st, 6, window->last_day);
    return collect_calls(store, st, out, err);
}

static int active_principals(ct_source *src, const char *const *arns, size_t n,
                             const ct_window *window, bool *active, ct_error *err)
{
    ct_store *store = store_of(src);
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = ct_store_stmt(store, ST_Q_ACTIVE, err);
        if (!st)
            return CT_ESTORE;
        sqlite3_bind_text(st, 1, arns[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, window->first_day);
        sqlite3_bind_int64(st, 3, window->last_day);
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        if (r != SQLITE_ROW && r != SQLITE_DONE)
            return ct_store_fail(store, err, "querying activity");
        active[i] = r == SQLITE_ROW;
    }
    return 0;
}

static int account_event_count(ct_source *src, const char *account_id, const ct_window *window,
                               uint64_t *count, ct_error *err)
{
    ct_store *store = store_of(src);
    *count = 0;
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_ACCOUNT_EVENTS, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, window->first_day);
    sqlite3_bind_int64(st, 3, window->last_day);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *count = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (r != SQLITE_ROW)
        return ct_store_fail(store, err, "querying account events");
    return 0;
}

/* The account's data events: its daily_data rows summed per (action,
 * access) here, as sum_calls does, then named. */
static int data_events(ct_source *src, const char *account_id, const ct_window *window,
                       ct_data_events *out, ct_error *err)
{
    ct_store *store = store_of(src);
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_DATA_EVENTS, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, window->first_day);
    sqlite3_bind_int64(st, 3, window->last_day);
    struct sums sums = {0};
    struct action_names names = {0};
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t access = sqlite3_column_int64(st, 1);
        if (access < CT_DATA_READ || access > CT_DATA_UNKNOWN) {
            rc = ct_error_set(err, CT_ESTORE, "store %s: damaged data-event row", store->path);
            break;
        }
        /* One sum per (action, access): the key packs both. */
        if (sums_add(&sums, sqlite3_column_int64(st, 0) * 4 + access, sqlite3_column_int64(st, 2),
                     (uint64_t)sqlite3_column_int64(st, 3), 0) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(store, err, "querying data events");
    sqlite3_reset(st);
    for (size_t i = 0; rc == 0 && i < sums.count; i++) {
        const struct action_sum *a = &sums.items[i];
        int64_t access = a->action_id % 4;
        int read_only = access == CT_DATA_READ ? 1 : access == CT_DATA_WRITE ? 0 : -1;
        const struct action_name *n = NULL;
        rc = name_action(store, &names, a->action_id / 4, &n, err);
        if (rc == 0 &&
            ct_data_events_add(out, n->source, n->name, read_only, a->ok, a->first, a->last) != 0)
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    sums_release(&sums);
    action_names_release(&names);
    if (rc == 0)
        ct_data_events_sort(out);
    else
        ct_data_events_release(out);
    return rc;
}

/* The resource rows of a principal, each set named by its text; the
 * summing and the CT_RESOURCE_SETS_MAX rule are ct_resources_add's and
 * ct_resources_finish's. */
static int principal_resources(ct_source *src, const char *principal_arn, const ct_window *window,
                               ct_resources *out, ct_error *err)
{
    ct_store *store = store_of(src);
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_PRINCIPAL_RESOURCES, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_text(st, 1, principal_arn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, window->first_day);
    sqlite3_bind_int64(st, 3, window->last_day);
    struct action_names names = {0};
    int rc = 0, r;
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *arns = (const char *)sqlite3_column_text(st, 1);
        int64_t calls = sqlite3_column_int64(st, 2);
        const struct action_name *n = NULL;
        if (!arns || !arns[0] || calls < 0) {
            rc = ct_error_set(err, CT_ESTORE, "store %s: damaged resource row", store->path);
            break;
        }
        rc = name_action(store, &names, sqlite3_column_int64(st, 0), &n, err);
        if (rc == 0 && calls > 0 &&
            ct_resources_add(out, n->source, n->name, n->kind, arns, (uint64_t)calls) != 0)
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(store, err, "querying resources");
    sqlite3_reset(st);
    action_names_release(&names);
    if (rc == 0)
        ct_resources_finish(out);
    else
        ct_resources_release(out);
    return rc;
}

/* The account's events per day and Region (daily_account's rows), summed
 * per day, each Region once. */
static int coverage_days(ct_store *store, const char *account_id, const ct_window *window,
                         ct_account_coverage *out, ct_error *err)
{
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_ACCOUNT_DAYS, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, window->first_day);
    sqlite3_bind_int64(st, 3, window->last_day);
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            rc = ct_error_set(err, CT_ESTORE, "store %s: damaged region row", store->path);
            break;
        }
        /* A name that is there but not given: no memory. */
        const char *region = (const char *)sqlite3_column_text(st, 1);
        if (!region ||
            ct_account_coverage_add_day(out, sqlite3_column_int64(st, 0),
                                        (uint64_t)sqlite3_column_int64(st, 2)) != 0 ||
            ct_account_coverage_add_region(out, region) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(store, err, "querying account coverage");
    sqlite3_reset(st);
    return rc;
}

/* How many trail files the store read whole, in part, or skipped. */
static int file_counts(ct_store *store, ct_account_coverage *out, ct_error *err)
{
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_FILE_COUNTS, err);
    if (!st)
        return CT_ESTORE;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        out->files_known = true;
        out->files_read = (uint64_t)sqlite3_column_int64(st, 0);
        out->files_partial = (uint64_t)sqlite3_column_int64(st, 1);
        out->files_skipped = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return r == SQLITE_ROW ? 0 : ct_store_fail(store, err, "counting files");
}

/* Three statements whatever the window: the days and Regions, the data
 * events (data_events' own), the files. */
static int account_coverage(ct_source *src, const char *account_id, const ct_window *window,
                            ct_account_coverage *out, ct_error *err)
{
    ct_store *store = store_of(src);
    int rc = coverage_days(store, account_id, window, out, err);
    if (rc == 0)
        rc = data_events(src, account_id, window, &out->data, err);
    if (rc == 0)
        rc = file_counts(store, out, err);
    if (rc == 0)
        ct_account_coverage_finish(out);
    else
        ct_account_coverage_release(out);
    return rc;
}

static int add_account_call(void *ud, const char *principal, const struct action_name *a,
                            const struct action_sum *s)
{
    return ct_account_calls_add(ud, principal, a->source, a->name, a->kind, s->ok, s->err, s->first,
                                s->last);
}

/* Every principal of the account in one statement: the SQL function
 * ct_arn_account (store.c) picks the principals, and each one's days are
 * read through daily_call's key. */
static int account_calls(ct_source *src, const char *account_id, const ct_window *window,
                         ct_account_calls *out, ct_error *err)
{
    ct_store *store = store_of(src);
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_ACCOUNT_CALLS, err);
    int rc = st ? 0 : CT_ESTORE;
    if (rc == 0) {
        sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, window->first_day);
        sqlite3_bind_int64(st, 3, window->last_day);
        rc = sum_calls(store, st, true, add_account_call, out, err);
    }
    if (rc == 0)
        ct_account_calls_finish(out);
    else
        ct_account_calls_release(out);
    return rc;
}

/* ---- role sessions ---- */

/* Runs statement `which` over [from, to] (its two parameters) and hands
 * each row to `row`, which returns 0 or CT_ENOMEM (every column the rows
 * read is NOT NULL, so a NULL text means SQLite ran out of memory). */
typedef int (*session_row_fn)(sqlite3_stmt *st, ct_role_sessions *out);

static int each_session_row(ct_store *store, enum store_stmt which, int64_t from, int64_t to,
                            session_row_fn row, ct_role_sessions *out, ct_error *err)
{
    sqlite3_stmt *st = ct_store_stmt(store, which, err);
    if (!st)
        return CT_ESTORE;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (row(st, out) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(store, err, "querying role sessions");
    sqlite3_reset(st);
    return rc;
}

/* One row of session evidence (a file, session, day and values), which
 * ct_role_sessions_add_evidence merges per session. */
static int evidence_row(sqlite3_stmt *st, ct_role_sessions *out)
{
    const char *text[6];
    static const int cols[6] = {0, 1, 3, 4, 5, 6};
    for (int i = 0; i < 6; i++)
        if (!(text[i] = (const char *)sqlite3_column_text(st, cols[i])))
            return CT_ENOMEM;
    ct_session_evidence e = {(char *)text[2], (char *)text[3], (char *)text[4], (char *)text[5]};
    return ct_role_sessions_add_evidence(out, text[0], text[1], sqlite3_column_int64(st, 2), &e);
}

/* One AssumeRole* event. Columns: key, then the opening's strings in
 * ST_Q_SESSION_OPENINGS's order, the time being column 12. */
static int opening_row(sqlite3_stmt *st, ct_role_sessions *out)
{
    char *text[16] = {NULL};
    for (int i = 0; i < 16; i++)
        if (i != 12 && !(text[i] = (char *)sqlite3_column_text(st, i)))
            return CT_ENOMEM;
    ct_session_opening o = {.event_name = text[1],
                            .role_arn = text[2],
                            .caller = text[3],
                            .caller_type = text[4],
                            .caller_key = text[5],
                            .caller_name = text[6],
                            .provider = text[7],
                            .subject = text[8],
                            .issuer = text[9],
                            .source_identity = text[10],
                            .session_name = text[11],
                            .at = sqlite3_column_int64(st, 12),
                            .account = text[13],
                            .event_id = text[14],
                            .shared_event_id = text[15]};
    return ct_role_sessions_add_opening(out, text[0], &o);
}

/* Every role session of the window: two statements whatever the number of
 * sessions, evidence by day and openings by time. The evidence is kept per
 * day, so "from CT_CHAIN_REACH before the window on" is counted in whole
 * days: the days from the one holding that instant (exact while the reach
 * is a whole number of days, as its 24 hours are). */
static int sessions(ct_source *src, const ct_window *window, ct_role_sessions *out, ct_error *err)
{
    ct_store *store = store_of(src);
    int64_t from = window->first_day * 86400 - CT_CHAIN_REACH;
    int64_t to = window->last_day * 86400 + 86399;
    int rc = each_session_row(store, ST_Q_SESSION_EVIDENCE, ct_day_of_seconds(from),
                              window->last_day, evidence_row, out, err);
    if (rc == 0)
        rc = each_session_row(store, ST_Q_SESSION_OPENINGS, from, to, opening_row, out, err);
    if (rc == 0 && ct_role_sessions_finish(out, window) != 0)
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    if (rc != 0)
        ct_role_sessions_release(out);
    return rc;
}

static int add_session_call(void *ud, const char *key, const struct action_name *a,
                            const struct action_sum *s)
{
    return ct_role_sessions_add_call(ud, key, a->source, a->name, a->kind, s->ok, s->err, s->first,
                                     s->last);
}

/* Writes the strings as a JSON array into `out` (emptied first). Returns 0
 * or CT_ENOMEM. */
static int json_array(ct_buf *out, const char *const *strings, size_t n)
{
    ct_buf_reset(out);
    int rc = ct_buf_puts(out, "[");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = ct_buf_puts(out, i ? ",\"" : "\"");
        for (const unsigned char *p = (const unsigned char *)strings[i]; rc == 0 && *p; p++)
            if (*p == '"' || *p == '\\')
                rc = ct_buf_printf(out, "\\%c", *p);
            else if (*p < 0x20)
                rc = ct_buf_printf(out, "\\u%04x", *p);
            else
                rc = ct_buf_append(out, p, 1);
        if (rc == 0)
            rc = ct_buf_puts(out, "\"");
    }
    if (rc == 0)
        rc = ct_buf_puts(out, "]");
    return rc ? CT_ENOMEM : 0;
}

/* The calls of the given session keys: one statement, the keys bound as
 * one JSON array. */
static int session_calls(ct_source *src, const char *const *keys, size_t n, const ct_window *window,
                         ct_role_sessions *out, ct_error *err)
{
    ct_store *store = store_of(src);
    ct_buf list = CT_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = json_array(&list, keys, n) != 0 ? ct_error_set(err, CT_ENOMEM, "out of memory") : 0;
    if (rc == 0 && !(st = ct_store_stmt(store, ST_Q_KEY_CALLS, err)))
        rc = CT_ESTORE;
    if (rc == 0) {
        sqlite3_bind_text(st, 1, list.data, (int)list.len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, window->first_day);
        sqlite3_bind_int64(st, 3, window->last_day);
        rc = sum_calls(store, st, true, add_session_call, out, err);
        sqlite3_clear_bindings(st);
    }
    if (rc == 0 && ct_role_sessions_finish(out, window) != 0)
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    if (rc != 0)
        ct_role_sessions_release(out);
    ct_buf_release(&list);
    return rc;
}

/* Appends the files recorded as partial or skipped, and the store itself
 * when an ingest is writing it and this source did not bring it up to date:
 * the snapshot read then may lack files that ingest has not reached. Checked
 * after the snapshot is taken, so an ingest that starts later is harmless. */
static int input_problems(ct_source *src, ct_input_problems *problems, ct_error *err)
{
    struct store_source *s = (struct store_source *)src;
    ct_store *store = s->store;
    if (!s->refreshed && ct_store_ingest_running(store) &&
        ct_input_problems_add(problems, store->path,
                              "an ingest is writing this store now; it may not have read every "
                              "file yet") != 0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    sqlite3_stmt *st = ct_store_stmt(store, ST_Q_PROBLEMS, err);
    if (!st)
        return CT_ESTORE;
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        const char *reason = (const char *)sqlite3_column_text(st, 1);
        if (ct_input_problems_add(problems, path ? path : "", reason ? reason : "") != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = ct_store_fail(store, err, "listing input problems");
    sqlite3_reset(st);
    return rc;
}

static int refresh(ct_source *src, ct_input_problems *problems, ct_error *err)
{
    struct store_source *s = (struct store_source *)src;
    if (s->path_count == 0)
        return 0;
    ct_ingest_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.paths = (const char *const *)s->paths;
    opts.path_count = s->path_count;
    opts.time_field = s->time_field;
    ct_ingest_summary summary;
    unpin(s);
    int rc = ct_store_ingest(s->store, &opts, &summary, err);
    for (size_t i = 0; rc == 0 && i < summary.problems.count; i++) {
        const ct_input_problem *p = &summary.problems.items[i];
        if (ct_input_problems_add(problems, p->path, p->reason) != 0)
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    ct_ingest_summary_release(&summary);
    if (rc == 0) {
        s->refreshed = true;
        rc = pin(s, err);
    }
    return rc;
}

static void source_free(ct_source *src)
{
    struct store_source *s = (struct store_source *)src;
    unpin(s);
    for (size_t i = 0; i < s->path_count; i++)
        free(s->paths[i]);
    free(s->paths);
    free(s->time_field);
    ct_store_free(s->store);
    free(s);
}

int ct_store_source(ct_source **out, ct_store *store, const ct_ingest_options *ingest,
                    ct_error *err)
{
    const char *const *paths = ingest ? ingest->paths : NULL;
    size_t path_count = ingest ? ingest->path_count : 0;
    *out = NULL;
    /* A store being rebuilt holds only what the refresh reads. */
    if (ct_store_rebuilding(store) && path_count == 0) {
        int rc = ct_error_set(err, CT_ESTORE,
                              "store %s: made by an older cloudtracker (schema version %d), it is "
                              "rebuilt from the trail files, and none are given (files.paths)",
                              store->target, store->rebuild_from);
        ct_store_free(store);
        return rc;
    }
    struct store_source *s = calloc(1, sizeof(*s));
    if (!s)
        goto nomem;
    s->store = store;
    s->base.name = "store";
    s->base.refresh = refresh;
    s->base.principal_calls = principal_calls;
    s->base.principal_resources = principal_resources;
    s->base.role_session_calls = role_session_calls;
    s->base.active_principals = active_principals;
    s->base.data_events = data_events;
    s->base.account_event_count = account_event_count;
    s->base.account_calls = account_calls;
    s->base.sessions = sessions;
    s->base.session_calls = session_calls;
    s->base.account_coverage = account_coverage;
    s->base.input_problems = input_problems;
    s->base.free = source_free;
    if (path_count > 0) {
        s->paths = calloc(path_count, sizeof(*s->paths));
        if (!s->paths)
            goto nomem;
        for (size_t i = 0; i < path_count; i++) {
            if (!(s->paths[i] = ct_strdup(paths[i])))
                goto nomem;
            s->path_count = i + 1;
        }
        if (ingest->time_field && !(s->time_field = ct_strdup(ingest->time_field)))
            goto nomem;
    }
    /* Without paths there is no refresh to wait for: read from now on. */
    int rc = s->path_count ? 0 : pin(s, err);
    if (rc != 0) {
        source_free(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
nomem:
    /* The store is ours even on failure, so callers never free it twice. */
    if (s)
        source_free(&s->base);
    else
        ct_store_free(store);
    return ct_error_set(err, CT_ENOMEM, "out of memory");
}
