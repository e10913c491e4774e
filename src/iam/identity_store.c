/* Loader for `aws identitystore list-users` output: Identity Center users
 * by id and by name. Strict like the authorization-details loader: a list
 * we misread would put sessions on the wrong person. */
#include "cloudtracker/util.h"
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ct_identity_store {
    ct_arena arena;
    ct_identity_user *users; /* sorted by user_name */
    size_t count;
    ct_strmap *by_id; /* user_id -> index + 1 */
};

static int compare_users(const void *pa, const void *pb)
{
    const ct_identity_user *a = pa, *b = pb;
    return strcmp(a->user_name, b->user_name);
}

/* A string member of a user object, or NULL with `err` set when it is
 * required (or of another type than a string). */
static const char *user_string(const cJSON *user, const char *key, bool required, size_t i,
                               const char *name, ct_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(user, key);
    if (cJSON_IsString(v) && (v->valuestring[0] || !required))
        return v->valuestring;
    if (!v && !required)
        return "";
    ct_error_set_at(err, CT_EIAM, name, 0, 0, "Users[%zu] has %s %s", i,
                    v ? (cJSON_IsString(v) ? "an empty" : "a non-string") : "no", key);
    return NULL;
}

static int load_users(ct_identity_store *s, const cJSON *root, const char *name, ct_error *err)
{
    const cJSON *users = cJSON_GetObjectItemCaseSensitive(root, "Users");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(users))
        return ct_error_set_at(err, CT_EIAM, name, 0, 0,
                               "no \"Users\" list: expected the output of `aws identitystore "
                               "list-users`");
    if (cJSON_GetObjectItemCaseSensitive(root, "NextToken"))
        return ct_error_set_at(err, CT_EIAM, name, 0, 0,
                               "the file holds one page of a longer list (it has a NextToken): "
                               "run `aws identitystore list-users` without --max-items or "
                               "--no-paginate to get every user");
    size_t n = (size_t)cJSON_GetArraySize(users);
    s->users = ct_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*s->users));
    ct_strmap *names = ct_strmap_new();
    if (!s->users || !names) {
        ct_strmap_free(names);
        return ct_error_set(err, CT_ENOMEM, "out of memory loading %s", name);
    }
    int rc = 0;
    const cJSON *user;
    size_t i = 0;
    ct_buf folded = CT_BUF_INIT;
    cJSON_ArrayForEach(user, users)
    {
        if (!cJSON_IsObject(user)) {
            rc = ct_error_set_at(err, CT_EIAM, name, 0, 0, "Users[%zu] is not an object", i);
            break;
        }
        const char *id = user_string(user, "UserId", true, i, name, err);
        const char *uname = id ? user_string(user, "UserName", true, i, name, err) : NULL;
        const char *display = uname ? user_string(user, "DisplayName", false, i, name, err) : NULL;
        const char *store =
            display ? user_string(user, "IdentityStoreId", false, i, name, err) : NULL;
        if (!store) {
            rc = CT_EIAM;
            break;
        }
        void *v = NULL;
        ct_buf_reset(&folded);
        if (ct_buf_puts(&folded, uname) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory loading %s", name);
            break;
        }
        ct_str_lower(folded.data);
        if (ct_strmap_get(s->by_id, id, &v) || ct_strmap_get(names, folded.data, &v)) {
            char *safe = ct_safe_dup(ct_strmap_get(s->by_id, id, &v) ? id : uname);
            rc = ct_error_set_at(err, CT_EIAM, name, 0, 0, "two users have the %s '%s'",
                                 ct_strmap_get(s->by_id, id, &v) ? "UserId" : "UserName",
                                 safe ? safe : "?");
            free(safe);
            break;
        }
        ct_identity_user *u = &s->users[i];
        u->user_id = ct_arena_strdup(&s->arena, id);
        u->user_name = ct_arena_strdup(&s->arena, uname);
        u->display_name = ct_arena_strdup(&s->arena, display);
        u->store_id = ct_arena_strdup(&s->arena, store);
        if (!u->user_id || !u->user_name || !u->display_name || !u->store_id ||
            ct_strmap_put(s->by_id, id, NULL) != 0 ||
            ct_strmap_put(names, folded.data, NULL) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory loading %s", name);
            break;
        }
        i++;
    }
    ct_buf_release(&folded);
    ct_strmap_free(names);
    if (rc)
        return rc;
    s->count = i;
    qsort(s->users, s->count, sizeof(*s->users), compare_users);
    /* Indexes point into the sorted array. */
    for (size_t k = 0; k < s->count; k++)
        if (ct_strmap_put(s->by_id, s->users[k].user_id, (void *)(uintptr_t)(k + 1)) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory loading %s", name);
    return 0;
}

#define LIST_USERS "the output of `aws identitystore list-users`"

/* Builds the user list from its parsed document (freed here). */
static int load_json(ct_identity_store **out, cJSON *root, const char *name, ct_error *err)
{
    *out = NULL;
    ct_identity_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->by_id = ct_strmap_new())) {
        free(s);
        cJSON_Delete(root);
        return ct_error_set(err, CT_ENOMEM, "out of memory loading %s", name);
    }
    int rc = load_users(s, root, name, err);
    cJSON_Delete(root);
    if (rc) {
        ct_identity_store_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int ct_identity_store_load_buffer(ct_identity_store **out, const char *json, size_t len,
                                  const char *name, ct_error *err)
{
    *out = NULL;
    if (!name)
        name = "<identity store users>";
    cJSON *root;
    int rc = ct_iam_read_json(&root, NULL, json, len, name, NULL, LIST_USERS, NULL, err);
    return rc ? rc : load_json(out, root, name, err);
}

int ct_identity_store_load_file(ct_identity_store **out, const char *path, ct_error *err)
{
    *out = NULL;
    cJSON *root;
    int rc = ct_iam_read_json(&root, path, NULL, 0, NULL, "Identity Center users", LIST_USERS, NULL,
                              err);
    return rc ? rc : load_json(out, root, path, err);
}

void ct_identity_store_free(ct_identity_store *store)
{
    if (!store)
        return;
    ct_strmap_free(store->by_id);
    ct_arena_release(&store->arena);
    free(store);
}

size_t ct_identity_store_count(const ct_identity_store *store)
{
    return store ? store->count : 0;
}

const ct_identity_user *ct_identity_store_get(const ct_identity_store *store, size_t i)
{
    return store && i < store->count ? &store->users[i] : NULL;
}

const ct_identity_user *ct_identity_store_find_id(const ct_identity_store *store,
                                                  const char *user_id)
{
    void *v = NULL;
    if (!store || !ct_strmap_get(store->by_id, user_id, &v) || !v)
        return NULL;
    return &store->users[(size_t)(uintptr_t)v - 1];
}
