/* libFuzzer target for ct_es_doc_prepare: aborts when an accepted input
 * gives anything but one line of valid JSON conforming to the generated
 * mapping, when the moves are miscounted, when a refused input changes the
 * buffer, or when putting the moved values back loses data. */
#include "../src/es/es_doc.h"
#include "../tests/unit/es_doc_check.h"
#include "cloudtracker/error.h"

#include <math.h>
#include <stdint.h>

/* To fuzz: configure with -DCT_FUZZ=ON -DCMAKE_C_COMPILER=clang and
 * CMAKE_C_FLAGS=-fsanitize=fuzzer-no-link,address,undefined, then
 *   fuzz_es_doc -max_len=4096 WORK_DIR fuzz/corpus/es_doc */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *mappings(void)
{
    static cJSON *m;
    if (!m) {
        ct_buf b = CT_BUF_INIT;
        if (ct_es_mappings_body(&b, false) != 0)
            abort();
        m = cJSON_ParseWithLength(b.data, b.len);
        ct_buf_release(&b);
        if (!m)
            abort();
    }
    return m;
}

/* Whether every key of v, at any depth, is unique in its object and free of
 * dots, so the paths in cloudtrackerMoved can be followed back. */
static bool plain_keys(const cJSON *v)
{
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(v)) {
            if (strchr(c->string, '.'))
                return false;
            for (const cJSON *d = c->next; d; d = d->next)
                if (strcmp(c->string, d->string) == 0)
                    return false;
        }
        if (!plain_keys(c))
            return false;
    }
    return true;
}

/* Whether every number in v is finite: cJSON_Compare finds inf != inf. */
static bool finite_numbers(const cJSON *v)
{
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
        return false;
    for (const cJSON *c = v->child; c; c = c->next)
        if (!finite_numbers(c))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ct_buf b = CT_BUF_INIT;
    if (ct_buf_puts(&b, "x") != 0)
        return 0;
    unsigned moved = 7;
    int64_t t =
        size >= 8 ? (int64_t)((uint64_t)data[0] << 40 | (uint64_t)data[size - 1] << 8) : 1527854400;
    int rc = ct_es_doc_prepare(&b, text, size, t, false, &moved);
    if (rc != 0) {
        if ((rc != CT_EINPUT && rc != CT_ENOMEM) || b.len != 1 || moved != 0)
            abort();
        ct_buf_release(&b);
        return 0;
    }
    const char *doc_text = b.data + 1;
    size_t len = b.len - 1;
    if (memchr(doc_text, '\n', len) || memchr(doc_text, '\r', len) || doc_text[0] != '{' ||
        doc_text[len - 1] != '}')
        abort();
    cJSON *doc = cJSON_ParseWithLength(doc_text, len);
    if (!doc)
        abort();

    /* cJSON cuts strings at U+0000, so keys holding it would resolve
     * differently; leave such inputs to the other checks. */
    bool nul_escape = false;
    for (size_t i = 0; i + 6 <= size && !nul_escape; i++)
        nul_escape = memcmp(text + i, "\\u0000", 6) == 0;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, CT_ES_MOVED_KEY);
    if (!nul_escape && (unsigned)(m ? cJSON_GetArraySize(m) : 0) != moved)
        abort();
    if (!nul_escape && !esc_conforms(doc, mappings()))
        abort();

    /* The input parsed by cJSON is the same data once moved values are
     * back in place. */
    char *copy = malloc(size + 1);
    if (copy) {
        memcpy(copy, text, size);
        copy[size] = '\0';
        cJSON *in = cJSON_ParseWithLength(copy, size);
        if (!in)
            abort(); /* we accepted what cJSON refuses */
        if (!nul_escape && plain_keys(in) && finite_numbers(in)) {
            if (!esc_reinsert(doc) || !cJSON_Compare(in, doc, true))
                abort();
        }
        cJSON_Delete(in);
        free(copy);
    }
    cJSON_Delete(doc);
    ct_buf_release(&b);
    return 0;
}
