/* --resources: the resources each used action may be limited to, from the
 * resources the principal's successful calls named (docs/policy.md). A
 * list narrows a grant, so it must hold every resource the action was
 * used on: an action keeps "*" unless every successful call of it named
 * an ARN of a resource type the action is evaluated against. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/util.h"

#include <stdlib.h>
#include <string.h>

/* What the calls of one catalog action named so far. */
typedef struct named {
    bool used;     /* a successful call needed the action */
    bool anywhere; /* "*": a call named nothing usable, or it may be needed elsewhere */
    const char **arns;
    size_t count, cap;
} named;

/* The distinct resource formats of one service (interned by the catalog:
 * one pointer per format). */
typedef struct service_formats {
    char service[64];
    const char **formats;
    size_t count, cap;
} service_formats;

typedef struct build {
    const ct_catalog *catalog;
    ct_resource_scopes *out;
    named *by_action;
    ct_strmap *seen; /* "index\tarn" already in a list */
    ct_buf key;
    service_formats *services; /* those met so far */
    size_t service_count, service_cap;
} build;

static int add_arn(build *b, size_t index, const char *arn, size_t len)
{
    ct_buf_reset(&b->key);
    if (ct_buf_printf(&b->key, "%zu\t", index) != 0 || ct_buf_append(&b->key, arn, len) != 0)
        return CT_ENOMEM;
    void *v = NULL;
    if (ct_strmap_get(b->seen, b->key.data, &v))
        return 0;
    named *n = &b->by_action[index];
    const char **items = ct_array_grow(n->arns, &n->cap, n->count, sizeof(*items), 4);
    if (!items)
        return CT_ENOMEM;
    n->arns = items;
    if (!(items[n->count] = ct_text_strndup(&b->out->text, arn, len)) ||
        ct_strmap_put(b->seen, b->key.data, (void *)1) != 0)
        return CT_ENOMEM;
    n->count++;
    return 0;
}

/* How specific a format is: its characters outside ${...}. */
static size_t literal_length(const char *format)
{
    size_t n = 0;
    for (const char *c = format; *c; c++) {
        const char *close = c[0] == '$' && c[1] == '{' ? strchr(c, '}') : NULL;
        if (close)
            c = close;
        else
            n++;
    }
    return n;
}

/* The formats of every action of catalog action `index`'s service. */
static const service_formats *formats_of_service(build *b, size_t index)
{
    const char *name = ct_catalog_name(b->catalog, index);
    const char *colon = strchr(name, ':');
    size_t len = colon ? (size_t)(colon - name) : strlen(name);
    for (size_t i = 0; i < b->service_count; i++)
        if (strlen(b->services[i].service) == len &&
            strncmp(b->services[i].service, name, len) == 0)
            return &b->services[i];
    if (len >= sizeof(b->services[0].service))
        return NULL;
    service_formats *items =
        ct_array_grow(b->services, &b->service_cap, b->service_count, sizeof(*items), 4);
    if (!items)
        return NULL;
    b->services = items;
    service_formats *sf = &items[b->service_count++];
    memset(sf, 0, sizeof(*sf));
    memcpy(sf->service, name, len);
    size_t begin, end;
    ct_catalog_service_range(b->catalog, name, len, &begin, &end);
    for (size_t i = begin; i < end; i++) {
        size_t n = 0;
        const char *const *formats = ct_catalog_resource_patterns(b->catalog, i, &n);
        for (size_t k = 0; k < n; k++) {
            bool known = false;
            for (size_t j = 0; j < sf->count && !known; j++)
                known = sf->formats[j] == formats[k];
            if (known)
                continue;
            const char **grown =
                ct_array_grow(sf->formats, &sf->cap, sf->count, sizeof(*grown), 16);
            if (!grown) {
                b->service_count--;
                free(sf->formats);
                return NULL;
            }
            sf->formats = grown;
            sf->formats[sf->count++] = formats[k];
        }
    }
    return sf;
}

/* Whether `arn` names a resource of one of the action's own types: it
 * matches one of the action's formats, and no more specific format of
 * another of the service's resource types. A format's trailing variable
 * takes any path, so DynamoDB's table format also matches a stream's ARN
 * (table/T/stream/S), whose own format says more: the ARN is the
 * stream's, and limiting a table action to it would deny the call.
 * *failed is set when the service's formats cannot be gathered. */
static bool own_resource(build *b, size_t index, const char *const *own, size_t n_own,
                         const char *arn, bool *failed)
{
    size_t best = 0;
    for (size_t i = 0; i < n_own; i++)
        if (ct_arn_matches_pattern(own[i], arn)) {
            size_t l = literal_length(own[i]);
            best = l > best ? l : best;
        }
    if (best == 0)
        return false;
    const service_formats *sf = formats_of_service(b, index);
    if (!sf) {
        *failed = true;
        return false;
    }
    for (size_t i = 0; i < sf->count; i++) {
        bool mine = false;
        for (size_t k = 0; k < n_own && !mine; k++)
            mine = own[k] == sf->formats[i];
        if (!mine && literal_length(sf->formats[i]) > best &&
            ct_arn_matches_pattern(sf->formats[i], arn))
            return false;
    }
    return true;
}

/* Whether a set names an S3 access point (":accesspoint/" in an ARN of
 * s3, s3-object-lambda or a Multi-Region Access Point). A request through
 * one is evaluated against the access point's ARN, which its record names
 * without the object ("Monitoring and logging access points", Amazon S3
 * User Guide: the entry lists the access point and the bucket and object
 * ARNs): limiting the action to the object or bucket would deny it. */
static bool through_access_point(const char *arns)
{
    return strstr(arns, ":accesspoint/") != NULL;
}

/* The ARNs of each set the call kind named that action `index` is
 * evaluated against; a set without one, or naming an S3 access point,
 * leaves the action on "*". */
static int take_sets(build *b, size_t index, const ct_call_resources *r)
{
    size_t np = 0;
    const char *const *patterns = ct_catalog_resource_patterns(b->catalog, index, &np);
    named *n = &b->by_action[index];
    if (np == 0) {
        n->anywhere = true; /* the action takes no resource list */
        return 0;
    }
    char arn[4096];
    for (size_t s = 0; s < r->set_count && !n->anywhere; s++) {
        if (through_access_point(r->sets[s].arns)) {
            n->anywhere = true;
            break;
        }
        bool any = false;
        for (const char *p = r->sets[s].arns; *p;) {
            const char *end = strchr(p, '\n');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len < sizeof(arn)) {
                memcpy(arn, p, len);
                arn[len] = '\0';
                bool failed = false;
                if (own_resource(b, index, patterns, np, arn, &failed)) {
                    any = true;
                    if (add_arn(b, index, arn, len) != 0)
                        return CT_ENOMEM;
                }
                if (failed)
                    return CT_ENOMEM;
            }
            p += len + (end != NULL);
        }
        if (!any)
            n->anywhere = true;
    }
    return 0;
}

static int take_call(build *b, const ct_call *c, const ct_resources *resources)
{
    /* Failed calls prove no need for a resource, nor a grant on it. */
    if (c->count == 0 || c->kind == CT_EVENT_SIGNIN || c->kind == CT_EVENT_SERVICE)
        return 0;
    ct_event_actions mapped;
    if (ct_event_map(c->event_source, c->event_name, &mapped) != 0)
        return 0;
    /* A call whose action depends on its request may have needed any of
     * its candidates, on resources the record does not tie to one: each
     * keeps "*" (whatever its other calls named). */
    if (mapped.request_dependent) {
        for (size_t k = 0; k < mapped.count; k++) {
            size_t index;
            if (ct_catalog_find(b->catalog, mapped.actions[k], &index))
                b->by_action[index].anywhere = true;
        }
        return 0;
    }
    const ct_call_resources *r =
        ct_resources_find(resources, c->event_source, c->event_name, c->kind);
    /* Named nothing, too much, or not every call named something. */
    bool unnamed = !r || r->more || r->named < c->count;
    for (size_t k = 0; k < mapped.count; k++) {
        size_t index;
        if (!ct_catalog_find(b->catalog, mapped.actions[k], &index))
            continue;
        named *n = &b->by_action[index];
        n->used = true;
        if (unnamed)
            n->anywhere = true;
        else if (!n->anywhere && take_sets(b, index, r) != 0)
            return CT_ENOMEM;
    }
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* More ARNs than a statement lists: the wildcard of their longest common
 * prefix, cut back to just after its last ':' or '/' so that it ends at a
 * boundary of the ARN's parts. It covers every ARN named. */
static const char *collapse(build *b, const char **arns, size_t n)
{
    size_t len = strlen(arns[0]);
    for (size_t i = 1; i < n; i++) {
        size_t k = 0;
        while (k < len && arns[i][k] == arns[0][k])
            k++;
        len = k;
    }
    while (len > 0 && arns[0][len - 1] != ':' && arns[0][len - 1] != '/')
        len--;
    char *w = ct_text_strndup(&b->out->text, arns[0], len + 1);
    if (w)
        w[len] = '*';
    return w;
}

/* An action also checked inside calls of another (iam:PassRole inside
 * lambda:CreateFunction, kms:Decrypt inside an S3 read of an encrypted
 * object) is needed on resources those calls do not name as its own: when
 * a host was used, it keeps "*". */
static void widen_hosted(build *b)
{
    for (size_t h = 0; h < b->out->count; h++) {
        if (!b->by_action[h].used)
            continue;
        size_t n = 0;
        const size_t *hosted = ct_catalog_hosted(b->catalog, h, &n);
        for (size_t k = 0; k < n; k++)
            b->by_action[hosted[k]].anywhere = true;
    }
}

static int finish(build *b)
{
    ct_resource_scopes *out = b->out;
    widen_hosted(b);
    for (size_t i = 0; i < out->count; i++) {
        named *n = &b->by_action[i];
        if (!n->used)
            continue;
        if (n->anywhere || n->count == 0)
            continue;
        ct_resource_scope *s = &out->by_action[i];
        qsort(n->arns, n->count, sizeof(*n->arns), compare_strings);
        if (n->count > CT_POLICY_RESOURCES_LISTED) {
            const char *w = collapse(b, n->arns, n->count);
            if (!w || !(s->arns = malloc(sizeof(*s->arns))))
                return CT_ENOMEM;
            s->arns[0] = w;
            s->arn_count = 1;
            s->collapsed = true;
        } else {
            s->arns = n->arns;
            s->arn_count = n->count;
            n->arns = NULL;
        }
    }
    return 0;
}

int ct_resource_scopes_build(ct_resource_scopes *out, const ct_catalog *catalog,
                             const ct_calls *calls, const ct_resources *resources, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    /* Without formats every action would silently keep "*". */
    if (!ct_catalog_has_resources(catalog))
        return ct_error_set(err, CT_EINTERNAL,
                            "the catalog was loaded without its resource formats "
                            "(ct_catalog_load_builtin_resources)");
    out->count = ct_catalog_count(catalog);
    out->by_action = calloc(out->count + 1, sizeof(*out->by_action));
    build b = {.catalog = catalog,
               .out = out,
               .by_action = calloc(out->count + 1, sizeof(named)),
               .seen = ct_strmap_new(),
               .key = CT_BUF_INIT};
    int rc = out->by_action && b.by_action && b.seen ? 0 : CT_ENOMEM;
    for (size_t i = 0; rc == 0 && i < calls->count; i++)
        rc = take_call(&b, &calls->items[i], resources);
    if (rc == 0)
        rc = finish(&b);
    for (size_t i = 0; b.by_action && i < out->count; i++)
        free(b.by_action[i].arns);
    for (size_t i = 0; i < b.service_count; i++)
        free(b.services[i].formats);
    free(b.services);
    free(b.by_action);
    ct_strmap_free(b.seen);
    ct_buf_release(&b.key);
    if (rc != 0) {
        ct_resource_scopes_release(out);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return 0;
}

void ct_resource_scopes_release(ct_resource_scopes *scopes)
{
    for (size_t i = 0; scopes->by_action && i < scopes->count; i++)
        free(scopes->by_action[i].arns);
    free(scopes->by_action);
    ct_text_release(&scopes->text);
    memset(scopes, 0, sizeof(*scopes));
}
