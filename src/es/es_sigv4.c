/* AWS SigV4 request signing (header form), as the AWS General Reference
 * describes it: canonical request, string to sign, HMAC key chain. */
#include "es/es_sigv4.h"

#include "cloudtracker/error.h"
#include "util/sha256.h"

#include <stdlib.h>
#include <string.h>

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Percent-encodes every byte but the unreserved ones (and '/' if keep_slash). */
static int encode(ct_buf *out, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        int rc = unreserved(c) || (keep_slash && c == '/') ? ct_buf_append(out, &s[i], 1)
                                                           : ct_buf_append(out, e, 3);
        if (rc)
            return rc;
    }
    return 0;
}

int ct_sigv4_canonical_uri(const char *path, ct_buf *out)
{
    /* Our paths never hold dot segments or empty segments (index names are
     * validated), so normalisation reduces to encoding the wire form once
     * more: the "encode twice" rule of every service but S3. */
    if (!path || !path[0])
        return ct_buf_puts(out, "/");
    return encode(out, path, strlen(path), true);
}

/* Decodes %XX (and '+' as a space, as form encoding means) in place. */
static void decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        int hi = *p == '%' ? ct_hex_digit((unsigned char)p[1]) : -1;
        int lo = hi >= 0 ? ct_hex_digit((unsigned char)p[2]) : -1;
        if (lo >= 0) {
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *o++ = *p == '+' ? ' ' : *p;
        }
    }
    *o = '\0';
}

struct param {
    char *name, *value;
};

static int cmp_param(const void *pa, const void *pb)
{
    const struct param *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : strcmp(a->value, b->value);
}

int ct_sigv4_canonical_query(const char *query, ct_buf *out)
{
    if (!query || !query[0])
        return 0;
    char *copy = ct_strdup(query);
    size_t n = 1;
    for (const char *c = query; *c; c++)
        n += *c == '&';
    struct param *params = calloc(n, sizeof(*params));
    if (!copy || !params) {
        free(copy);
        free(params);
        return CT_ENOMEM;
    }
    size_t count = 0;
    for (char *save = NULL, *tok = strtok_r(copy, "&", &save); tok;
         tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        params[count].name = tok;
        params[count].value = eq ? eq + 1 : tok + strlen(tok);
        decode(params[count].name);
        decode(params[count].value);
        count++;
    }
    qsort(params, count, sizeof(*params), cmp_param);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (i)
            rc = ct_buf_puts(out, "&");
        if (!rc)
            rc = encode(out, params[i].name, strlen(params[i].name), false);
        if (!rc)
            rc = ct_buf_puts(out, "=");
        if (!rc)
            rc = encode(out, params[i].value, strlen(params[i].value), false);
    }
    free(params);
    free(copy);
    return rc ? CT_ENOMEM : 0;
}

/* Header values are trimmed and inner runs of spaces collapsed. */
static int put_trimmed(ct_buf *out, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space && ct_buf_puts(out, " "))
            return CT_ENOMEM;
        space = false;
        if (ct_buf_append(out, v, 1))
            return CT_ENOMEM;
    }
    return 0;
}

static void hmac(const uint8_t *key, size_t key_len, const char *msg, uint8_t out[CT_SHA256_LEN])
{
    ct_hmac_sha256(key, key_len, msg, strlen(msg), out);
}

int ct_sigv4_sign(const ct_sigv4_request *req, ct_buf *authorization, ct_buf *canonical)
{
    size_t n = req->header_count;
    size_t *order = malloc((n ? n : 1) * sizeof(*order));
    ct_buf cr = CT_BUF_INIT, signed_names = CT_BUF_INIT, sts = CT_BUF_INIT, key = CT_BUF_INIT;
    int rc = order ? 0 : CT_ENOMEM;
    /* Headers sorted by name (a handful: insertion sort). */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t j = i;
        while (j > 0 && strcmp(req->header_names[order[j - 1]], req->header_names[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = ct_buf_printf(&signed_names, "%s%s", i ? ";" : "", req->header_names[order[i]]);
    if (rc == 0)
        rc = ct_buf_printf(&cr, "%s\n", req->method);
    if (rc == 0)
        rc = ct_sigv4_canonical_uri(req->path, &cr);
    if (rc == 0)
        rc = ct_buf_puts(&cr, "\n");
    if (rc == 0)
        rc = ct_sigv4_canonical_query(req->query, &cr);
    if (rc == 0)
        rc = ct_buf_puts(&cr, "\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = ct_buf_printf(&cr, "%s:", req->header_names[order[i]]);
        if (rc == 0)
            rc = put_trimmed(&cr, req->header_values[order[i]]);
        if (rc == 0)
            rc = ct_buf_puts(&cr, "\n");
    }
    if (rc == 0)
        rc = ct_buf_printf(&cr, "\n%s\n%s", signed_names.data ? signed_names.data : "",
                           req->payload_hash);
    char date[9] = {0};
    memcpy(date, req->amz_date, strlen(req->amz_date) >= 8 ? 8 : 0);
    uint8_t digest[CT_SHA256_LEN];
    char hex[2 * CT_SHA256_LEN + 1];
    if (rc == 0) {
        ct_sha256_digest(cr.data, cr.len, digest);
        ct_hex_lower(digest, sizeof(digest), hex);
        rc = ct_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", req->amz_date,
                           date, req->region, req->service, hex);
    }
    if (rc == 0)
        rc = ct_buf_printf(&key, "AWS4%s", req->secret_key);
    if (rc == 0) {
        uint8_t k1[CT_SHA256_LEN], k2[CT_SHA256_LEN];
        hmac((const uint8_t *)key.data, key.len, date, k1);
        hmac(k1, sizeof(k1), req->region, k2);
        hmac(k2, sizeof(k2), req->service, k1);
        hmac(k1, sizeof(k1), "aws4_request", k2);
        ct_hmac_sha256(k2, sizeof(k2), sts.data, sts.len, digest);
        ct_hex_lower(digest, sizeof(digest), hex);
        memset(k1, 0, sizeof(k1));
        memset(k2, 0, sizeof(k2));
        rc = ct_buf_printf(authorization,
                           "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                           "SignedHeaders=%s, Signature=%s",
                           req->access_key, date, req->region, req->service,
                           signed_names.data ? signed_names.data : "", hex);
    }
    if (rc == 0 && canonical)
        rc = ct_buf_append(canonical, cr.data, cr.len);
    if (key.data)
        memset(key.data, 0, key.len); /* the secret does not outlive the call */
    ct_buf_release(&key);
    ct_buf_release(&cr);
    ct_buf_release(&signed_names);
    ct_buf_release(&sts);
    free(order);
    return rc ? CT_ENOMEM : 0;
}
