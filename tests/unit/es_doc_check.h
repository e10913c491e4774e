/* Oracles for ct_es_doc_prepare shared by tests/unit/test_es_doc.c and
 * fuzz/fuzz_es_doc.c: does a document conform to the mapping as the
 * generated template (parsed with cJSON) describes it, and does putting the
 * moved values back give the record's data again. Written independently of
 * es_doc.c's scanner on purpose. */
#ifndef CT_ES_DOC_CHECK_H
#define CT_ES_DOC_CHECK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A field-name part Elasticsearch refuses: empty, or only ASCII blanks and
 * the Unicode spaces Java's isWhitespace knows (as UTF-8). */
static bool esc_blank(const char *s, size_t n)
{
    static const char *const spaces[] = {"\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80",
                                         "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf",
                                         "\xe2\x81\x9f", "\xe3\x80\x80"};
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20) {
            i++;
            continue;
        }
        if (n - i >= 3 && c == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
            (unsigned char)s[i + 2] >= 0x80 && (unsigned char)s[i + 2] <= 0x8a) {
            i += 3;
            continue;
        }
        bool hit = false;
        for (size_t k = 0; k < sizeof(spaces) / sizeof(spaces[0]) && !hit; k++) {
            size_t m = strlen(spaces[k]);
            if (n - i >= m && memcmp(s + i, spaces[k], m) == 0) {
                i += m;
                hit = true;
            }
        }
        if (!hit)
            return false;
    }
    return true;
}

static bool esc_has_object(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return true;
    if (cJSON_IsArray(v))
        for (const cJSON *c = v->child; c; c = c->next)
            if (esc_has_object(c))
                return true;
    return false;
}

static bool esc_bool_ok(const cJSON *v)
{
    if (cJSON_IsBool(v) || cJSON_IsNull(v))
        return true;
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, "true") == 0 || strcmp(v->valuestring, "false") == 0;
    if (cJSON_IsArray(v)) {
        for (const cJSON *c = v->child; c; c = c->next)
            if (!esc_bool_ok(c))
                return false;
        return true;
    }
    return false;
}

static int esc_num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + s[i] - '0';
    }
    return v;
}

/* YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z, a real date. */
static bool esc_time_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 20 || n > 30 || n == 21 || s[n - 1] != 'Z')
        return false;
    char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < 19; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    if (n > 20 && (s[19] != '.' || esc_num(s + 20, (int)n - 21) < 0))
        return false;
    int y = esc_num(s, 4), mo = esc_num(s + 5, 2), d = esc_num(s + 8, 2);
    int mdays[] = {
        31, (y % 4 == 0 && (y % 100 || y % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
        31};
    return mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] && esc_num(s + 11, 2) < 24 &&
           esc_num(s + 14, 2) < 60 && esc_num(s + 17, 2) < 60;
}

/* Whether the members of `obj` are accepted under `props` (a "properties"
 * object of the mapping). `root` enables the rules of our own members:
 * cloudtrackerMoved once, an object; cloudtrackerResources at most once, a
 * string (only ct_es_doc_add_resources writes it). */
static bool esc_members_ok(const cJSON *obj, const cJSON *props, bool root)
{
    int ours = 0, derived = 0;
    for (const cJSON *c = obj->child; c; c = c->next) {
        const char *key = c->string;
        if (root && strcmp(key, "cloudtrackerMoved") == 0) {
            if (!cJSON_IsObject(c) || ++ours > 1)
                return false;
            continue;
        }
        if (root && strcmp(key, "cloudtrackerResources") == 0) {
            if (!cJSON_IsString(c) || ++derived > 1)
                return false;
            continue;
        }
        if (root && (strncmp(key, "cloudtrackerMoved.", 18) == 0 ||
                     strncmp(key, "cloudtrackerResources.", 22) == 0 || key[0] == '_'))
            return false;
        const cJSON *pp = props;
        const char *seg = key;
        for (;;) {
            const char *dot = strchr(seg, '.');
            size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
            if (n == 0 || esc_blank(seg, n))
                return false;
            /* Checking the remaining parts for blanks matters even once the
             * path leaves the mapping. */
            const cJSON *def = NULL;
            if (pp) {
                char name[256];
                if (n < sizeof(name)) {
                    memcpy(name, seg, n);
                    name[n] = '\0';
                    def = cJSON_GetObjectItemCaseSensitive(pp, name);
                }
            }
            const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(def, "enabled");
            if (def && cJSON_IsFalse(enabled))
                def = NULL, pp = NULL;
            if (def) {
                const cJSON *sub = cJSON_GetObjectItemCaseSensitive(def, "properties");
                const cJSON *type = cJSON_GetObjectItemCaseSensitive(def, "type");
                if (sub) {
                    if (!dot) {
                        if (cJSON_IsObject(c) ? !esc_members_ok(c, sub, false) : !cJSON_IsNull(c))
                            return false;
                    }
                    pp = sub;
                } else {
                    if (dot)
                        return false; /* a part below a leaf field */
                    const char *t = cJSON_IsString(type) ? type->valuestring : "";
                    if ((!strcmp(t, "keyword") || !strcmp(t, "text")) && esc_has_object(c))
                        return false;
                    if (!strcmp(t, "boolean") && !esc_bool_ok(c))
                        return false;
                    if (!strcmp(t, "date") && !(cJSON_IsString(c) && esc_time_ok(c->valuestring)))
                        return false;
                }
            } else {
                pp = NULL;
            }
            if (!dot)
                break;
            seg = dot + 1;
        }
    }
    return true;
}

/* Whether the parsed document conforms to the parsed mappings body. */
static bool esc_conforms(const cJSON *doc, const cJSON *mappings)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(mappings, "properties");
    return cJSON_IsObject(doc) && cJSON_IsObject(props) && esc_members_ok(doc, props, true);
}

/* Puts the values of doc's cloudtrackerMoved back at their dotted paths
 * (replacing what is there, e.g. a rewritten eventTime), in place. False
 * when a path cannot be followed. Paths are split at every '.', so records
 * with dotted keys do not round-trip through this helper. */
static bool esc_reinsert(cJSON *doc)
{
    cJSON *moved = cJSON_DetachItemFromObjectCaseSensitive(doc, "cloudtrackerMoved");
    if (!moved)
        return true;
    bool ok = cJSON_IsObject(moved);
    while (ok && moved->child) {
        cJSON *item = cJSON_DetachItemViaPointer(moved, moved->child);
        char *path = strdup(item->string);
        cJSON *at = doc;
        char *seg = path, *dot;
        if (strcmp(path, "cloudtrackerMoved") == 0)
            dot = NULL;
        else
            while ((dot = strchr(seg, '.')) != NULL) {
                *dot = '\0';
                cJSON *next = cJSON_GetObjectItemCaseSensitive(at, seg);
                if (!next)
                    next = cJSON_AddObjectToObject(at, seg);
                if (!cJSON_IsObject(next)) {
                    ok = false;
                    break;
                }
                at = next;
                seg = dot + 1;
            }
        if (ok) {
            if (cJSON_GetObjectItemCaseSensitive(at, seg))
                cJSON_ReplaceItemInObjectCaseSensitive(at, seg, item);
            else
                cJSON_AddItemToObject(at, seg, item);
        } else {
            cJSON_Delete(item);
        }
        free(path);
    }
    cJSON_Delete(moved);
    return ok;
}

#endif
