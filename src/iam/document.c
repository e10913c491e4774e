/* Policy documents -> compiled statements: decodes URL-encoded documents,
 * validates each statement strictly (a statement we misread would silently
 * change verdicts) and keeps only what evaluation needs. */
#include "internal.h"

#include "cloudtracker/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct compiler {
    ct_arena *arena;
    const char *context; /* "user alice: policy X" */
    const char *file;
    ct_error *err;
} compiler;

static int fail(const compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const compiler *c, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ct_error_set_at(c->err, CT_EIAM, c->file, 0, 0, "%s: %s", c->context, msg);
    return CT_EIAM; /* spelled out so static analysis sees a failure */
}

static int oom(const compiler *c)
{
    ct_error_set(c->err, CT_ENOMEM, "out of memory compiling a policy");
    return CT_ENOMEM;
}

/* Names a statement for messages: Statement[2] or Statement[2] (Sid "x"). */
static void stmt_label(char *buf, size_t size, size_t index, const char *sid)
{
    if (sid && sid[0]) {
        snprintf(buf, size, "Statement[%zu] (Sid \"%.64s\")", index, sid);
    } else {
        snprintf(buf, size, "Statement[%zu]", index);
    }
}

/* Percent-decodes s into a malloc'd buffer. '+' stays '+': AWS encodes per
 * RFC 3986, where a space is %20, and a literal '+' may occur in values.
 * Returns NULL with *bad set on a malformed escape or an encoded NUL. */
static char *percent_decode(const char *s, size_t *out_len, bool *bad)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    *bad = false;
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[j++] = s[i];
            continue;
        }
        int hi = i + 1 < n ? ct_hex_digit((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < n ? ct_hex_digit((unsigned char)s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            *bad = true;
            return NULL;
        }
        out[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[j] = '\0';
    *out_len = j;
    return out;
}

/* Parses the text of a string-valued PolicyDocument. *parsed must be freed
 * with cJSON_Delete. */
static int parse_document_string(const compiler *c, const char *s, cJSON **parsed)
{
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    char *text;
    size_t len;
    if (*p == '{') {
        /* Already JSON text (some tools decode before saving). */
        text = ct_strdup(p);
        len = text ? strlen(text) : 0;
        if (!text)
            return oom(c);
    } else {
        bool bad;
        text = percent_decode(s, &len, &bad);
        if (!text)
            return bad ? fail(c, "PolicyDocument string has a malformed %%-escape") : oom(c);
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t offset = end ? (size_t)(end - text) : 0;
    if (doc) {
        while (offset < len && strchr(" \t\r\n", text[offset]))
            offset++;
        if (offset < len) {
            cJSON_Delete(doc);
            doc = NULL;
        }
    }
    bool deep = !doc && ct_json_too_deep(text, len, offset);
    free(text);
    if (deep)
        return fail(c,
                    "PolicyDocument string has lists and objects nested deeper than %d "
                    "levels (the limit for JSON input)",
                    CT_IAM_MAX_DEPTH);
    if (!doc)
        return fail(c, "PolicyDocument string is not valid JSON (decoded byte %zu)", offset);
    *parsed = doc;
    return 0;
}

bool ct_json_too_deep(const char *text, size_t len, size_t offset)
{
    /* cJSON reports its failure at the container it refused to open, or
     * one past it: look that far. */
    size_t end = offset + 2 < len ? offset + 2 : len;
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < end; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > CT_IAM_MAX_DEPTH)
                return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return false;
}

/* Reads Action or NotAction: a string or an array of strings, each "*" or
 * "service:pattern". */
static int compile_actions(const compiler *c, const cJSON *v, const char *key, const char *label,
                           ct_stmt *st)
{
    size_t n;
    if (cJSON_IsString(v)) {
        n = 1;
    } else if (cJSON_IsArray(v)) {
        n = (size_t)cJSON_GetArraySize(v);
    } else {
        return fail(c, "%s: %s must be a string or an array of strings", label, key);
    }
    st->patterns = ct_arena_alloc(c->arena, (n ? n : 1) * sizeof(*st->patterns));
    if (!st->patterns)
        return oom(c);
    const cJSON *item = cJSON_IsString(v) ? v : v->child;
    for (size_t i = 0; i < n && item; i++, item = item->next) {
        if (!cJSON_IsString(item))
            return fail(c, "%s: %s must be a string or an array of strings", label, key);
        const char *s = item->valuestring;
        if (strcmp(s, "*") != 0 && !strchr(s, ':')) {
            return fail(c, "%s: %s entry \"%.128s\" is not \"*\" or \"service:action\"", label,
                        key, s);
        }
        char *lower = ct_arena_strdup(c->arena, s);
        if (!lower)
            return oom(c);
        ct_str_lower(lower);
        st->patterns[st->npatterns++] = lower;
    }
    return 0;
}

/* Resource/NotResource must be a string or an array of strings. Returns 1
 * when the value covers every resource ("*" alone or among others). */
static int resource_is_star(const compiler *c, const cJSON *v, const char *key, const char *label)
{
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, "*") == 0;
    if (!cJSON_IsArray(v))
        return fail(c, "%s: %s must be a string or an array of strings", label, key);
    int star = 0;
    for (const cJSON *item = v->child; item; item = item->next) {
        if (!cJSON_IsString(item))
            return fail(c, "%s: %s must be a string or an array of strings", label, key);
        if (strcmp(item->valuestring, "*") == 0)
            star = 1;
    }
    return star;
}

static int compile_statement(const compiler *c, const cJSON *obj, size_t index, ct_stmt *st)
{
    char label[160];
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(obj, "Sid");
    if (sid && !cJSON_IsString(sid)) {
        stmt_label(label, sizeof(label), index, NULL);
        return fail(c, "%s: Sid must be a string", label);
    }
    st->sid = ct_arena_strdup(c->arena, sid ? sid->valuestring : "");
    if (!st->sid)
        return oom(c);
    stmt_label(label, sizeof(label), index, st->sid);

    const cJSON *effect = cJSON_GetObjectItemCaseSensitive(obj, "Effect");
    if (!effect)
        return fail(c, "%s: Effect is missing", label);
    if (cJSON_IsString(effect) && strcmp(effect->valuestring, "Allow") == 0) {
        st->allow = true;
    } else if (cJSON_IsString(effect) && strcmp(effect->valuestring, "Deny") == 0) {
        st->allow = false;
    } else {
        return fail(c, "%s: Effect must be \"Allow\" or \"Deny\"", label);
    }

    const cJSON *action = cJSON_GetObjectItemCaseSensitive(obj, "Action");
    const cJSON *not_action = cJSON_GetObjectItemCaseSensitive(obj, "NotAction");
    if (action && not_action)
        return fail(c, "%s: has both Action and NotAction", label);
    if (!action && !not_action)
        return fail(c, "%s: has neither Action nor NotAction", label);
    st->not_action = not_action != NULL;
    int rc = compile_actions(c, action ? action : not_action, action ? "Action" : "NotAction",
                             label, st);
    if (rc)
        return rc;

    const cJSON *resource = cJSON_GetObjectItemCaseSensitive(obj, "Resource");
    const cJSON *not_resource = cJSON_GetObjectItemCaseSensitive(obj, "NotResource");
    if (resource && not_resource)
        return fail(c, "%s: has both Resource and NotResource", label);
    bool resource_limited = false;
    if (resource) {
        int star = resource_is_star(c, resource, "Resource", label);
        if (star < 0)
            return star;
        resource_limited = !star;
    } else if (not_resource) {
        int star = resource_is_star(c, not_resource, "NotResource", label);
        if (star < 0)
            return star;
    }
    /* An absent Resource is read as "*": IAM rejects such identity
     * policies, so this only matters for hand-made files. */

    const cJSON *condition = cJSON_GetObjectItemCaseSensitive(obj, "Condition");
    if (condition && !cJSON_IsObject(condition))
        return fail(c, "%s: Condition must be an object", label);
    /* An empty Condition block constrains nothing. */
    bool conditional = condition && condition->child;

    if (conditional)
        st->limit = CT_LIMIT_CONDITION;
    else if (not_resource)
        st->limit = CT_LIMIT_NOTRESOURCE;
    else if (resource_limited)
        st->limit = CT_LIMIT_RESOURCE;
    else
        st->limit = CT_LIMIT_NONE;
    return 0;
}

int ct_policy_compile(ct_policy **out, ct_arena *a, const cJSON *document, const char *name,
                      const char *context, const char *file, ct_error *err)
{
    compiler c = {a, context, file, err};
    cJSON *parsed = NULL;
    int rc = 0;
    if (cJSON_IsString(document)) {
        rc = parse_document_string(&c, document->valuestring, &parsed);
        if (rc)
            return rc;
        document = parsed;
    }
    if (!cJSON_IsObject(document)) {
        rc = fail(&c, "PolicyDocument must be a JSON object or a URL-encoded JSON string");
        goto done;
    }
    const cJSON *statement = cJSON_GetObjectItemCaseSensitive(document, "Statement");
    if (!statement) {
        rc = fail(&c, "PolicyDocument has no Statement");
        goto done;
    }
    size_t n;
    const cJSON *first;
    if (cJSON_IsObject(statement)) {
        n = 1;
        first = statement;
    } else if (cJSON_IsArray(statement)) {
        n = (size_t)cJSON_GetArraySize(statement);
        first = statement->child;
    } else {
        rc = fail(&c, "Statement must be an object or an array of objects");
        goto done;
    }

    ct_policy *p = ct_arena_alloc(a, sizeof(*p));
    if (!p || !(p->name = ct_arena_strdup(a, name)) ||
        !(p->stmts = ct_arena_alloc(a, (n ? n : 1) * sizeof(*p->stmts)))) {
        rc = oom(&c);
        goto done;
    }
    const cJSON *item = first;
    for (size_t i = 0; i < n && item; i++, item = item->next) {
        if (!cJSON_IsObject(item)) {
            rc = fail(&c, "Statement[%zu] is not an object", i);
            goto done;
        }
        rc = compile_statement(&c, item, i, &p->stmts[i]);
        if (rc)
            goto done;
        p->nstmts++;
    }
    *out = p;
done:
    cJSON_Delete(parsed);
    return rc;
}

/* ---- policy sets ---- */

int ct_policy_set_build(ct_policy_set *set, ct_arena *a, ct_policy *const *identity, size_t n,
                        const ct_policy *boundary)
{
    size_t nallow = 0, ndeny = 0, nballow = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < identity[i]->nstmts; j++) {
            if (identity[i]->stmts[j].allow)
                nallow++;
            else
                ndeny++;
        }
    }
    for (size_t j = 0; boundary && j < boundary->nstmts; j++) {
        if (boundary->stmts[j].allow)
            nballow++;
        else
            ndeny++;
    }
    set->allows = ct_arena_alloc(a, (nallow ? nallow : 1) * sizeof(ct_set_stmt));
    set->denies = ct_arena_alloc(a, (ndeny ? ndeny : 1) * sizeof(ct_set_stmt));
    set->boundary_allows = ct_arena_alloc(a, (nballow ? nballow : 1) * sizeof(ct_set_stmt));
    if (!set->allows || !set->denies || !set->boundary_allows)
        return CT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const ct_policy *p = identity[i];
        for (size_t j = 0; j < p->nstmts; j++) {
            ct_set_stmt e = {&p->stmts[j], p->name};
            if (p->stmts[j].allow)
                set->allows[set->nallows++] = e;
            else
                set->denies[set->ndenies++] = e;
        }
    }
    if (boundary) {
        set->has_boundary = true;
        for (size_t j = 0; j < boundary->nstmts; j++) {
            ct_set_stmt e = {&boundary->stmts[j], boundary->name};
            if (boundary->stmts[j].allow)
                set->boundary_allows[set->nboundary_allows++] = e;
            else
                set->denies[set->ndenies++] = e;
        }
    }
    return 0;
}

int ct_policy_set_parse(ct_policy_set **out, const char *const *documents, const size_t *lengths,
                        size_t count, const char *name, ct_error *err)
{
    *out = NULL;
    ct_arena a = {NULL};
    ct_policy_set *set = ct_arena_alloc(&a, sizeof(*set));
    ct_policy **compiled = ct_arena_alloc(&a, (count ? count : 1) * sizeof(*compiled));
    int rc = set && compiled ? 0 : CT_ENOMEM;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char label[300];
        snprintf(label, sizeof(label), "%.200s, document %zu", name, i + 1);
        cJSON *root = NULL;
        rc = ct_iam_read_json(&root, NULL, documents[i], lengths[i], label, NULL,
                              "an IAM policy document", NULL, err);
        if (rc)
            break;
        /* A document itself, not a string holding one as the IAM files
         * may: what IAM takes from --policy-document. */
        if (!cJSON_IsObject(root)) {
            rc = ct_error_set_at(err, CT_EIAM, label, 0, 0, "a policy document is a JSON object");
        } else {
            char policy_name[240];
            snprintf(policy_name, sizeof(policy_name), "%.200s %zu", name, i + 1);
            rc = ct_policy_compile(&compiled[i], &a, root, policy_name, label, NULL, err);
        }
        cJSON_Delete(root);
    }
    if (rc == 0 && ct_policy_set_build(set, &a, compiled, count, NULL) != 0)
        rc = CT_ENOMEM;
    if (rc) {
        if (rc == CT_ENOMEM)
            ct_error_set(err, CT_ENOMEM, "out of memory compiling %s", name);
        ct_arena_release(&a);
        return rc;
    }
    set->own = a;
    *out = set;
    return 0;
}

void ct_policy_set_free(ct_policy_set *set)
{
    if (!set || !set->own.head)
        return;
    /* The set is in its own arena: release a copy of it. */
    ct_arena own = set->own;
    ct_arena_release(&own);
}

size_t ct_policy_text_size(const char *json, size_t len)
{
    size_t n = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)json[i];
        if ((c & 0xC0) == 0x80)
            continue; /* a UTF-8 continuation byte: part of one character */
        if (in_string) {
            if (c == '\\' && i + 1 < len) {
                n++;
                c = (unsigned char)json[++i];
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        }
        n++;
    }
    return n;
}
