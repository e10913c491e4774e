/* Reading one trail file on a worker thread for the embedded store: its
 * records are aggregated in memory (many records become few rows), so the
 * single writer only has small results to commit. */
#include "cloudtracker/date.h"
#include "cloudtracker/trail.h"
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

void ct_file_result_release(ct_file_result *res)
{
    free(res->path);
    free(res->reason);
    ct_file_agg_release(&res->agg);
    memset(res, 0, sizeof(*res));
}

/* What aggregating one file's records needs. */
struct agg_ctx {
    ct_file_result *res;
    ct_buf action;   /* the action key of the record at hand */
    ct_buf evidence; /* its session evidence, joined */
    ct_buf resources; /* the resources it names (ct_trail_resource_set) */
    ct_error *err;    /* for a broken resource table */
    const char *path_account;
};

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

/* A copy of s (NULL: "") in the aggregate's text arena, or NULL. */
static const char *keep_text(ct_file_agg *agg, const char *s)
{
    s = s ? s : "";
    return ct_text_strndup(&agg->text, s, strlen(s));
}

/* `a` when it is a non-empty value, else `b`. */
static const char *either(const char *a, const char *b)
{
    return a && a[0] ? a : b;
}

static int add_assume(ct_file_agg *agg, const ct_trail_record *rec, uint32_t caller,
                      uint32_t account)
{
    ct_assume *items =
        ct_array_grow(agg->assumes, &agg->assume_cap, agg->assume_count, sizeof(*items), 8);
    if (!items)
        return CT_ENOMEM;
    agg->assumes = items;
    ct_assume *a = &agg->assumes[agg->assume_count];
    a->caller = caller;
    a->account = account;
    a->time = rec->event_time;
    /* As ct_session_opening defines them. */
    const char *subject = either(rec->response_subject, rec->response_web_subject);
    const char *issuer = either(rec->response_issuer, rec->response_provider);
    const char *source = either(rec->response_source_identity, rec->request_source_identity);
    if (intern(&agg->principals, rec->role_arn, &a->role) != 0 ||
        intern(&agg->keys, rec->issued_key, &a->key) != 0 ||
        intern(&agg->keys, rec->access_key_id ? rec->access_key_id : "", &a->caller_key) != 0 ||
        !(a->event_name = keep_text(agg, rec->event_name)) ||
        !(a->caller_type = keep_text(agg, rec->identity_type)) ||
        !(a->caller_name = keep_text(agg, rec->identity_user_name)) ||
        !(a->provider = keep_text(agg, rec->identity_provider)) ||
        !(a->subject = keep_text(agg, subject)) || !(a->issuer = keep_text(agg, issuer)) ||
        !(a->source_identity = keep_text(agg, source)) ||
        !(a->session_name = keep_text(agg, rec->role_session_name)) ||
        !(a->shared_event_id = keep_text(agg, rec->shared_event_id)) ||
        !(a->event_id = keep_text(agg, rec->event_id)))
        return CT_ENOMEM;
    agg->assume_count++;
    return 0;
}

/* The session name of a role session's ARN
 * (arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION), or "". */
static const char *session_name_of(const char *arn)
{
    static const char marker[] = ":assumed-role/";
    const char *p = arn ? strstr(arn, marker) : NULL;
    p = p ? strchr(p + sizeof(marker) - 1, '/') : NULL;
    return p ? p + 1 : "";
}

/* Records what a role session's event says of who runs it. */
static int add_evidence(struct agg_ctx *c, const ct_trail_record *rec, uint32_t key, uint32_t role,
                        int64_t day)
{
    ct_file_agg *agg = &c->res->agg;
    const char *values[CT_EVIDENCE_VALUES] = {session_name_of(rec->identity_arn),
                                              rec->source_identity, rec->on_behalf_of,
                                              rec->identity_store};
    uint32_t v;
    if (ct_evidence_join(&c->evidence, values) != 0 ||
        ct_strpool_intern(&agg->evidence_values, c->evidence.data, c->evidence.len,
                          ct_strpool_hash(c->evidence.data, c->evidence.len), &v) != 0)
        return CT_ENOMEM;
    int64_t k[CT_AGG_KEYS] = {key, role, day, v, 0};
    return ct_agg_rows_add(&agg->evidence, k, 1, 0, NULL);
}

static int on_record(void *ud, const ct_trail_record *rec)
{
    struct agg_ctx *c = ud;
    ct_file_agg *agg = &c->res->agg;
    const char *account = rec->recipient_account_id ? rec->recipient_account_id
                          : c->path_account         ? c->path_account
                                                    : "";
    uint32_t principal, key, account_ix, region, action;
    bool session;
    const char *who = principal_of(rec, &session);
    /* Only a role session's calls are ever looked up by key (in
     * session_call): other calls are kept under the key "", which spares
     * the writer interning every user's access keys. */
    session = session && rec->access_key_id && rec->access_key_id[0];
    ct_event_kind kind = ct_event_kind_of(rec->event_type);
    if (intern(&agg->principals, who, &principal) != 0 ||
        intern(&agg->keys, session ? rec->access_key_id : "", &key) != 0 ||
        intern(&agg->accounts, account, &account_ix) != 0 ||
        intern(&agg->regions, rec->aws_region ? rec->aws_region : "", &region) != 0 ||
        ct_action_key(&c->action, kind, rec->event_source, rec->event_name) != 0 ||
        ct_strpool_intern(&agg->actions, c->action.data, c->action.len,
                          ct_strpool_hash(c->action.data, c->action.len), &action) != 0)
        return CT_ENOMEM;
    int64_t day = ct_day_of_seconds(rec->event_time);
    bool ok = rec->error_code == NULL;
    int64_t ck[CT_AGG_KEYS] = {principal, key, action, day, session};
    if (ct_agg_rows_add(&agg->calls, ck, ok ? 1 : 0, ok ? 0 : 1, NULL) != 0)
        return CT_ENOMEM;
    /* A role session's events, failed calls too, say who runs it. */
    if (session && add_evidence(c, rec, key, principal, day) != 0)
        return CT_ENOMEM;
    /* Every event counts for its account, day and Region (the coverage of
     * the account's logs); data events also per action and readOnly: they
     * show which data events the account's trail records. */
    bool data = ct_is_data_event(rec->event_category, rec->management_event);
    int64_t access = rec->read_only == 1   ? CT_DATA_READ
                     : rec->read_only == 0 ? CT_DATA_WRITE
                                           : CT_DATA_UNKNOWN;
    int64_t dk[CT_AGG_KEYS] = {account_ix, day, data ? (int64_t)action + 1 : 0, data ? access : 0,
                               region};
    if (ct_agg_rows_add(&agg->account_days, dk, 1, 0, NULL) != 0)
        return CT_ENOMEM;
    if (is_assume_role(rec) && add_assume(agg, rec, principal, account_ix) != 0)
        return CT_ENOMEM;
    /* What a successful call named (--resources); a failed call's resource
     * is no evidence that it is needed, nor that it is granted. */
    if (ok) {
        int rc = ct_trail_resource_set(rec, &c->resources, c->err);
        uint32_t set;
        if (rc != 0)
            return rc;
        if (c->resources.len > 0) {
            if (ct_strpool_intern(&agg->resource_sets, c->resources.data, c->resources.len,
                                  ct_strpool_hash(c->resources.data, c->resources.len), &set) != 0)
                return CT_ENOMEM;
            int64_t rk[CT_AGG_KEYS] = {principal, action, day, set, 0};
            if (ct_agg_rows_add(&agg->resources, rk, 1, 0, NULL) != 0)
                return CT_ENOMEM;
        }
    }
    return 0;
}

int ct_file_read(ct_file_reader *r, const char *path, const char *path_account, ct_file_result *res,
                 ct_error *err)
{
    struct agg_ctx ctx = {.res = res,
                          .action = CT_BUF_INIT,
                          .evidence = CT_BUF_INIT,
                          .resources = CT_BUF_INIT,
                          .err = err,
                          .path_account = path_account};
    ct_file_scan scan;
    int rc = ct_file_scan_path(r, path, on_record, NULL, &ctx, &scan, err);
    ct_buf_release(&ctx.action);
    ct_buf_release(&ctx.evidence);
    ct_buf_release(&ctx.resources);
    if (rc == 0 && ct_file_agg_cap_resources(&res->agg) != 0)
        rc = CT_ENOMEM;
    if (rc == 0) {
        res->size = scan.size;
        res->mtime_ns = scan.mtime_ns;
        res->status = scan.status;
        res->reason = scan.reason;
        scan.reason = NULL;
        res->stored = scan.records;
        res->rejected = scan.rejected;
        res->bytes_json = scan.bytes_json;
        /* Here rather than in the single writer. */
        ct_file_agg_seal(&res->agg);
    } else if (rc != CT_ENOMEM) {
        rc = ct_error_set(err, CT_EINTERNAL, "%s: unexpected read status %d", path, rc);
    }
    ct_file_scan_release(&scan);
    return rc;
}
