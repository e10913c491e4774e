/* The CloudTrail mapping as one table, the index templates generated from it,
 * and the byte-level rewrite that makes a record fit it (see es_doc.h). */
#include "es/es_doc.h"

#include "cloudtracker/error.h"
#include "es/es_http.h"
#include "util/json_plain.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

/* ---- the mapping ---- */

typedef enum field_kind {
    K_ROOT,
    K_OBJECT,   /* object with mapped children: must be an object or null */
    K_OBJECT_D, /* same, with "dynamic":false spelled out (free-form objects) */
    K_KEYWORD,
    K_TEXT,
    K_BOOLEAN,
    K_DATE,
    K_DISABLED, /* "enabled":false: never parsed, accepts any JSON */
    K_RESERVED, /* our own cloudtrackerMoved: a record's copy is moved aside */
    K_DERIVED   /* our own keyword (cloudtrackerResources): a record's copy is moved aside */
} field_kind;

typedef struct field {
    const char *name;
    uint8_t len;
    uint8_t parent; /* index in FIELDS; 0 is the root */
    uint8_t kind;
    uint16_t ignore_above; /* keyword only */
} field;

#define F(name, parent, kind, above)                                                               \
    {                                                                                              \
        name, sizeof(name) - 1, parent, kind, above                                                \
    }
#define KW(name, parent) F(name, parent, K_KEYWORD, 8191)

/* Parents are indexes into this same table (a wrong P_* shows at once in
 * test_es_doc's template checks); children follow their parent so the
 * template is generated in this order. */
enum {
    P_ROOT = 0,
    P_UID = 18,
    P_OBO = 27,
    P_SC = 30,
    P_SI = 32,
    P_REQ = 38,
    P_RESP = 42,
    P_CRED = 43,
    P_ARU = 45
};

#define F_EVENT_TIME 1 /* FIELDS index of eventTime */

/* The fields that say who is behind a role session (docs/people.md) are
 * keywords, so the queries can aggregate on them: identityProvider,
 * onBehalfOf, the sourceIdentity of the request and response, the SAML
 * subject and issuer, the web identity subject and provider, and the
 * assumedRoleId that later calls show as their principalId. */
static const field FIELDS[] = {
    /* 0 */ F("", 0, K_ROOT, 0),
    /* 1 */ F("eventTime", P_ROOT, K_DATE, 0),
    /* 2 */ KW("eventVersion", P_ROOT),
    /* 3 */ KW("eventSource", P_ROOT),
    /* 4 */ KW("eventName", P_ROOT),
    /* 5 */ KW("eventType", P_ROOT),
    /* 6 */ KW("eventCategory", P_ROOT),
    /* 7 */ KW("eventID", P_ROOT),
    /* 8 */ KW("sharedEventID", P_ROOT),
    /* 9 */ KW("requestID", P_ROOT),
    /* 10 */ KW("awsRegion", P_ROOT),
    /* 11 */ KW("recipientAccountId", P_ROOT),
    /* 12 */ KW("sourceIPAddress", P_ROOT),
    /* 13 */ F("userAgent", P_ROOT, K_KEYWORD, 1024),
    /* 14 */ KW("errorCode", P_ROOT),
    /* 15 */ F("errorMessage", P_ROOT, K_TEXT, 0),
    /* 16 */ F("readOnly", P_ROOT, K_BOOLEAN, 0),
    /* 17 */ F("managementEvent", P_ROOT, K_BOOLEAN, 0),
    /* 18 */ F("userIdentity", P_ROOT, K_OBJECT, 0),
    /* 19 */ KW("type", P_UID),
    /* 20 */ KW("arn", P_UID),
    /* 21 */ KW("principalId", P_UID),
    /* 22 */ KW("accountId", P_UID),
    /* 23 */ KW("accessKeyId", P_UID),
    /* 24 */ KW("userName", P_UID),
    /* 25 */ KW("invokedBy", P_UID),
    /* 26 */ KW("identityProvider", P_UID),
    /* 27 */ F("onBehalfOf", P_UID, K_OBJECT, 0),
    /* 28 */ KW("userId", P_OBO),
    /* 29 */ KW("identityStoreArn", P_OBO),
    /* 30 */ F("sessionContext", P_UID, K_OBJECT, 0),
    /* 31 */ KW("sourceIdentity", P_SC),
    /* 32 */ F("sessionIssuer", P_SC, K_OBJECT, 0),
    /* 33 */ KW("type", P_SI),
    /* 34 */ KW("arn", P_SI),
    /* 35 */ KW("userName", P_SI),
    /* 36 */ KW("principalId", P_SI),
    /* 37 */ KW("accountId", P_SI),
    /* 38 */ F("requestParameters", P_ROOT, K_OBJECT_D, 0),
    /* 39 */ KW("roleArn", P_REQ),
    /* 40 */ KW("roleSessionName", P_REQ),
    /* 41 */ KW("sourceIdentity", P_REQ),
    /* 42 */ F("responseElements", P_ROOT, K_OBJECT_D, 0),
    /* 43 */ F("credentials", P_RESP, K_OBJECT, 0),
    /* 44 */ KW("accessKeyId", P_CRED),
    /* 45 */ F("assumedRoleUser", P_RESP, K_OBJECT, 0),
    /* 46 */ KW("arn", P_ARU),
    /* 47 */ KW("assumedRoleId", P_ARU),
    /* 48 */ KW("sourceIdentity", P_RESP),
    /* 49 */ KW("subject", P_RESP),
    /* 50 */ KW("subjectFromWebIdentityToken", P_RESP),
    /* 51 */ KW("issuer", P_RESP),
    /* 52 */ KW("provider", P_RESP),
    /* 53 */ KW("vpcEndpointId", P_ROOT),
    /* 54 */ F("apiVersion", P_ROOT, K_KEYWORD, 8191),
    /* 55 */ F("additionalEventData", P_ROOT, K_DISABLED, 0),
    /* 56 */ F("serviceEventDetails", P_ROOT, K_DISABLED, 0),
    /* 57 */ F("resources", P_ROOT, K_DISABLED, 0),
    /* 58 */ F("tlsDetails", P_ROOT, K_DISABLED, 0),
    /* 59 */ F(CT_ES_MOVED_KEY, P_ROOT, K_RESERVED, 0),
    /* 60 */ F(CT_ES_RESOURCES_KEY, P_ROOT, K_DERIVED, CT_ES_RESOURCES_INDEXED),
};
#define NFIELDS (sizeof(FIELDS) / sizeof(FIELDS[0]))

static bool is_object_kind(int kind)
{
    return kind == K_ROOT || kind == K_OBJECT || kind == K_OBJECT_D;
}

/* Fields only the loader writes: a record's member of that name is moved. */
static bool is_ours(int kind)
{
    return kind == K_RESERVED || kind == K_DERIVED;
}

/* Children by (parent, name): an open-addressing table over FIELDS, made
 * once, since every key at the mapped levels of every record is looked up. */
#define CHILD_SLOTS 256
static uint8_t child_slot[CHILD_SLOTS]; /* index in FIELDS; 0 = empty */
static pthread_once_t child_once = PTHREAD_ONCE_INIT;

static unsigned child_hash(unsigned parent, const char *name, size_t len)
{
    unsigned h = parent * 131u + (unsigned)len * 31u;
    h = h * 33u + (unsigned char)name[0];
    h = h * 33u + (unsigned char)name[len - 1];
    return h % CHILD_SLOTS;
}

static void build_child_slots(void)
{
    for (unsigned i = 1; i < NFIELDS; i++) {
        unsigned h = child_hash(FIELDS[i].parent, FIELDS[i].name, FIELDS[i].len);
        while (child_slot[h])
            h = (h + 1) % CHILD_SLOTS;
        child_slot[h] = (uint8_t)i;
    }
}

/* Index of the child `name` of `parent`, or -1. */
static int child_of(unsigned parent, const char *name, size_t len)
{
    if (len == 0)
        return -1;
    pthread_once(&child_once, build_child_slots);
    for (unsigned h = child_hash(parent, name, len); child_slot[h]; h = (h + 1) % CHILD_SLOTS) {
        const field *f = &FIELDS[child_slot[h]];
        if (f->len == len && f->parent == parent && memcmp(f->name, name, len) == 0)
            return child_slot[h];
    }
    return -1;
}

static int put_properties(ct_buf *b, unsigned parent)
{
    int rc = ct_buf_puts(b, "\"properties\":{");
    bool first = true;
    for (unsigned i = 1; i < NFIELDS && !rc; i++) {
        const field *f = &FIELDS[i];
        if (f->parent != parent)
            continue;
        rc = ct_buf_printf(b, "%s\"%s\":{", first ? "" : ",", f->name);
        first = false;
        if (rc)
            break;
        switch (f->kind) {
        case K_OBJECT:
            rc = put_properties(b, i);
            break;
        case K_OBJECT_D:
            rc = ct_buf_puts(b, "\"type\":\"object\",\"dynamic\":false,");
            if (!rc)
                rc = put_properties(b, i);
            break;
        case K_KEYWORD:
        case K_DERIVED:
            rc = ct_buf_printf(b, "\"type\":\"keyword\",\"ignore_above\":%u", f->ignore_above);
            break;
        case K_TEXT:
            rc = ct_buf_puts(b, "\"type\":\"text\"");
            break;
        case K_BOOLEAN:
            rc = ct_buf_puts(b, "\"type\":\"boolean\"");
            break;
        case K_DATE:
            rc = ct_buf_puts(b, "\"type\":\"date\"");
            break;
        default: /* K_DISABLED, K_RESERVED */
            rc = ct_buf_puts(b, "\"type\":\"object\",\"enabled\":false");
            break;
        }
        if (!rc)
            rc = ct_buf_puts(b, "}");
    }
    if (!rc)
        rc = ct_buf_puts(b, "}");
    return rc ? CT_ENOMEM : 0;
}

int ct_es_mappings_body(ct_buf *out, bool legacy)
{
    size_t start = out->len;
    int rc = ct_buf_printf(out,
                           "%s{\"dynamic\":false,\"date_detection\":false,"
                           "\"_meta\":{\"cloudtracker\":{\"mapping_version\":%d}},",
                           legacy ? "{\"_doc\":" : "", CT_ES_MAPPING_VERSION);
    if (!rc)
        rc = put_properties(out, P_ROOT);
    if (!rc)
        rc = ct_buf_puts(out, legacy ? "}}" : "}");
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return CT_ENOMEM;
    }
    return 0;
}

int ct_es_template_body(ct_buf *out, bool legacy, const char *index_pattern, const char *alias,
                        int priority, int shards, int replicas, const char *refresh_interval)
{
    size_t start = out->len;
    int rc = ct_buf_puts(out, "{\"index_patterns\":[");
    if (!rc)
        rc = ct_es_json_string(out, index_pattern);
    if (!rc)
        rc = ct_buf_printf(out,
                           "],\"%s\":%d,%s\"settings\":{\"number_of_shards\":%d,"
                           "\"number_of_replicas\":%d",
                           legacy ? "order" : "priority", priority, legacy ? "" : "\"template\":{",
                           shards, replicas);
    if (!rc && refresh_interval) {
        rc = ct_buf_puts(out, ",\"refresh_interval\":");
        if (!rc)
            rc = ct_es_json_string(out, refresh_interval);
    }
    if (!rc)
        rc = ct_buf_puts(out, "},\"mappings\":");
    if (!rc)
        rc = ct_es_mappings_body(out, legacy);
    if (!rc && alias) {
        rc = ct_buf_puts(out, ",\"aliases\":{");
        if (!rc)
            rc = ct_es_json_string(out, alias);
        if (!rc)
            rc = ct_buf_puts(out, ":{}}");
    }
    if (!rc)
        rc = ct_buf_puts(out, legacy ? "}" : "}}");
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return CT_ENOMEM;
    }
    return 0;
}

static int meta_version(const cJSON *m)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "_meta");
    v = cJSON_GetObjectItemCaseSensitive(v, "cloudtracker");
    v = cJSON_GetObjectItemCaseSensitive(v, "mapping_version");
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e6)
        return 0;
    return (int)v->valuedouble;
}

int ct_es_mappings_version(const char *json, size_t len)
{
    cJSON *m = json ? cJSON_ParseWithLength(json, len) : NULL;
    int version = 0;
    if (cJSON_IsObject(m)) {
        version = meta_version(m);
        /* ES 6 wraps the mapping in its one type name, whatever it is. */
        if (!version && m->child && !m->child->next && cJSON_IsObject(m->child))
            version = meta_version(m->child);
    }
    cJSON_Delete(m);
    return version;
}

bool ct_es_mappings_are_ours(const char *json, size_t len)
{
    return ct_es_mappings_version(json, len) > 0;
}

/* ---- the JSON scanner ---- */

#define MAX_DEPTH 512 /* as the trail scanner: deepest nesting accepted */
#define MAX_PATH 8    /* keys from the root to a mapped object: at most 4 */

/* What a skipped value held, for the leaf rules. */
enum { S_OBJECT = 1, S_NONBOOL = 2 };

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* The 4 hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = ct_hex_digit((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Decodes the escape at p ('\\'), returning the code point and setting *next,
 * or -1 when it is malformed or a lone surrogate. */
static long unescape(const char *p, const char *end, const char **next)
{
    if (end - p < 2)
        return -1;
    long cp;
    switch (p[1]) {
    case '"':
        cp = '"';
        break;
    case '\\':
        cp = '\\';
        break;
    case '/':
        cp = '/';
        break;
    case 'b':
        cp = '\b';
        break;
    case 'f':
        cp = '\f';
        break;
    case 'n':
        cp = '\n';
        break;
    case 'r':
        cp = '\r';
        break;
    case 't':
        cp = '\t';
        break;
    case 'u':
        if (end - p < 6 || (cp = hex4(p + 2)) < 0)
            return -1;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo;
            if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || (lo = hex4(p + 8)) < 0xDC00 ||
                lo > 0xDFFF)
                return -1;
            *next = p + 12;
            return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        *next = p + 6;
        return cp;
    default:
        return -1;
    }
    *next = p + 2;
    return cp;
}

/* Decodes the well-formed UTF-8 sequence at p, or returns -1. */
static long utf8_decode(const char *s, const char *end, const char **next)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = (size_t)(end - s);
    unsigned c = p[0];
    long cp;
    size_t n;
    if (c < 0x80) {
        *next = s + 1;
        return c;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, cp = c & 0x07;
    } else {
        return -1;
    }
    if (left < n)
        return -1;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return -1;
    *next = s + n;
    return cp;
}

/* p is at '"'. Returns the byte after the closing quote, or NULL when the
 * string is malformed; *escaped tells whether it holds a backslash. */
static const char *scan_string(const char *p, const char *end, bool *escaped)
{
    bool esc = false;
    p++;
    for (;;) {
        /* The bulk of a record is ASCII string bytes: keep that loop tight. */
        p = (const char *)ct_json_skip_plain((const unsigned char *)p, (const unsigned char *)end);
        if (p >= end)
            return NULL;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            esc = true;
            if (unescape(p, end, &p) < 0)
                return NULL;
        } else if (utf8_decode(p, end, &p) < 0) {
            return NULL;
        }
    }
    *escaped = esc;
    return p + 1;
}

static const char *scan_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *scan_literal(const char *p, const char *end, const char *lit, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

/* Validates and skips the value at p (whitespace already skipped), at most
 * `room` containers deep, with a bit stack instead of recursion. Sets *sum
 * to the S_* flags of what it held. Returns the byte after it or NULL. */
static const char *skip_value(const char *p, const char *end, unsigned room, unsigned *sum)
{
    uint64_t stack[MAX_DEPTH / 64] = {0}; /* bit set: that container is an object */
    unsigned top = 0;
    unsigned s = 0;
    bool esc;
value:
    if (p >= end)
        return NULL;
    switch (*p) {
    case '{':
    case '[':
        if (top >= room || top >= MAX_DEPTH)
            return NULL;
        if (*p == '{') {
            s |= S_OBJECT;
            stack[top / 64] |= UINT64_C(1) << (top % 64);
        } else {
            stack[top / 64] &= ~(UINT64_C(1) << (top % 64));
        }
        top++;
        p = ws(p + 1, end);
        if (p < end && (*p == '}' || *p == ']')) {
            bool obj = (stack[(top - 1) / 64] >> ((top - 1) % 64)) & 1;
            if ((*p == '}') != obj)
                return NULL;
            top--;
            p++;
            goto after;
        }
        if ((stack[(top - 1) / 64] >> ((top - 1) % 64)) & 1)
            goto key;
        goto value;
    case '"': {
        const char *q = scan_string(p, end, &esc);
        if (!q)
            return NULL;
        /* "true" and "false" are booleans to Elasticsearch; escaped
         * spellings of them are conservatively not. */
        size_t n = (size_t)(q - p);
        if (!((n == 6 && memcmp(p, "\"true\"", 6) == 0) ||
              (n == 7 && memcmp(p, "\"false\"", 7) == 0)))
            s |= S_NONBOOL;
        p = q;
        break;
    }
    case 't':
        p = scan_literal(p, end, "true", 4);
        break;
    case 'f':
        p = scan_literal(p, end, "false", 5);
        break;
    case 'n':
        p = scan_literal(p, end, "null", 4);
        break;
    default:
        s |= S_NONBOOL;
        p = scan_number(p, end);
        break;
    }
    if (!p)
        return NULL;
after:
    if (top == 0) {
        *sum = s;
        return p;
    }
    p = ws(p, end);
    if (p >= end)
        return NULL;
    if ((stack[(top - 1) / 64] >> ((top - 1) % 64)) & 1) {
        if (*p == ',') {
            p++;
            goto key;
        }
        if (*p != '}')
            return NULL;
    } else {
        if (*p == ',') {
            p = ws(p + 1, end);
            goto value;
        }
        if (*p != ']')
            return NULL;
    }
    top--;
    p++;
    goto after;
key:
    p = ws(p, end);
    if (p >= end || *p != '"' || !(p = scan_string(p, end, &esc)))
        return NULL;
    p = ws(p, end);
    if (p >= end || *p != ':')
        return NULL;
    p = ws(p + 1, end);
    goto value;
}

/* ---- keys ---- */

/* Code points Java's Character.isWhitespace or String.trim treat as blank:
 * Elasticsearch refuses field names (or dotted parts) made only of these. */
static bool blank_cp(long cp)
{
    return cp <= 0x20 || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

enum { R_VERBATIM = -1, R_MOVE = -2 };

/* Resolves the key whose (validated) contents are [s, e) in the mapped
 * object FIELDS[node]: returns the index of the mapped field it names,
 * R_VERBATIM when Elasticsearch ignores it, or R_MOVE when it would refuse
 * the member whatever its value. */
static int resolve_key(unsigned node, const char *s, const char *e, bool escaped)
{
    /* Fast path: the usual plain ASCII identifier. */
    if (!escaped) {
        const char *q = s;
        while (q < e && *q != '.' && (unsigned char)*q > 0x20 && (unsigned char)*q < 0x80)
            q++;
        if (q == e && e > s) {
            if (node == P_ROOT && *s == '_')
                return R_MOVE;
            int i = child_of(node, s, (size_t)(e - s));
            return i < 0 ? R_VERBATIM : (is_ours(FIELDS[i].kind) ? R_MOVE : i);
        }
    }
    char seg[32]; /* longer than any mapped name */
    size_t n = 0;
    bool blank = true, fits = true, first = true;
    int at = (int)node; /* >= 0: the mapped field reached so far */
    int result = 0;     /* 0 while still resolving */
    const char *p = s;
    for (;;) {
        bool done = p >= e;
        long cp = 0;
        if (!done)
            cp = *p == '\\' ? unescape(p, e, &p) : utf8_decode(p, e, &p);
        if (done || cp == '.') {
            if (n == 0 || blank)
                return R_MOVE; /* Elasticsearch refuses the name itself */
            if (!result) {
                int k =
                    is_object_kind(FIELDS[at].kind) && fits ? child_of((unsigned)at, seg, n) : -1;
                if (k < 0 && is_object_kind(FIELDS[at].kind))
                    result = R_VERBATIM; /* unmapped under dynamic:false */
                else if (k < 0)
                    result = FIELDS[at].kind == K_DISABLED ? R_VERBATIM : R_MOVE; /* under a leaf */
                else if (is_ours(FIELDS[k].kind) || FIELDS[k].kind == K_DISABLED)
                    result = is_ours(FIELDS[k].kind) ? R_MOVE : R_VERBATIM;
                else
                    at = k;
            }
            if (done)
                return result ? result : at;
            n = 0;
            blank = fits = true;
            first = false;
            continue;
        }
        if (cp < 0)
            return R_MOVE; /* not reached on validated keys */
        /* Root names starting with '_' may be metadata fields (_id,
         * _source, _routing, ...), which Elasticsearch refuses in a
         * document; which ones varies by version, and CloudTrail has none. */
        if (node == P_ROOT && first && n == 0 && cp == '_')
            return R_MOVE;
        if (!blank_cp(cp))
            blank = false;
        /* Mapped names are ASCII; anything else cannot match. */
        if (cp < 0x80 && n < sizeof(seg))
            seg[n++] = (char)cp;
        else
            fits = false, n++;
    }
}

/* ---- eventTime ---- */

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Whether the string contents [s, e) are YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z
 * naming a real UTC time in years 0001-9999. */
static bool strict_time(const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    if (n < 20 || n > 30 || n == 21 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || e[-1] != 'Z')
        return false;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || se < 0 || se > 59)
        return false;
    if (n > 20) {
        if (s[19] != '.' || digits(s + 20, (int)n - 21) < 0)
            return false;
    }
    return true;
}

/* Writes "YYYY-MM-DDTHH:MM:SSZ" for t into buf[21]; false outside years
 * 0001-9999 (year 0 is valid ISO 8601 but not worth testing every parser
 * Elasticsearch ever had on). Days to civil date after H. Hinnant's algorithm. */
static bool format_time(int64_t t, char *buf)
{
    if (t < INT64_C(-62135596800) || t > INT64_C(253402300799))
        return false;
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0)
        secs += 86400, days--;
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    /* By hand: every field is known to fit, which snprintf cannot see. */
    int v[6] = {(int)y,          (int)m, (int)d, (int)(secs / 3600), (int)(secs / 60 % 60),
                (int)(secs % 60)};
    memcpy(buf, "0000-00-00T00:00:00Z", 21);
    static const int at[6] = {3, 6, 9, 12, 15, 18}; /* last digit of each field */
    for (int i = 0; i < 6; i++)
        for (int k = at[i], x = v[i]; x; k--, x /= 10)
            buf[k] = (char)('0' + x % 10);
    return true;
}

/* ---- the rewrite ---- */

typedef struct walk {
    ct_buf *out;
    const char *end;
    int64_t event_time;
    bool moved_pass;               /* second pass: write only the moved members */
    bool add_time;                 /* add eventTime when the root has none */
    bool saw_time;                 /* the root has an eventTime member */
    unsigned moved;                /* members moved aside so far */
    const char *flush_from;        /* first pass: input not yet copied to out */
    const char *path[MAX_PATH][2]; /* raw keys of the enclosing mapped objects */
    unsigned npath;
    int rc;
} walk;

/* First pass: copies the input up to `upto` (exclusive). */
static void flush(walk *w, const char *upto)
{
    if (!w->rc && upto > w->flush_from &&
        ct_buf_append(w->out, w->flush_from, (size_t)(upto - w->flush_from)))
        w->rc = CT_ENOMEM;
    w->flush_from = upto;
}

static void put(walk *w, const char *s, size_t n)
{
    if (!w->rc && ct_buf_append(w->out, s, n))
        w->rc = CT_ENOMEM;
}

/* Second pass: writes "path.key":value. */
static void put_moved(walk *w, const char *ks, const char *ke, const char *vs, const char *ve)
{
    put(w, w->moved ? ",\"" : "\"", w->moved ? 2 : 1);
    for (unsigned i = 0; i < w->npath; i++) {
        put(w, w->path[i][0], (size_t)(w->path[i][1] - w->path[i][0]));
        put(w, ".", 1);
    }
    put(w, ks, (size_t)(ke - ks));
    put(w, "\":", 2);
    put(w, vs, (size_t)(ve - vs));
}

enum action { KEEP, MOVE, RETIME };

static const char *walk_object(walk *w, const char *p, unsigned node, unsigned depth);

/* Handles the member value at p of key [ks, ke) (contents) resolved to r. */
static const char *walk_member(walk *w, const char *p, int r, unsigned depth, const char *ks,
                               const char *ke, enum action *act)
{
    const char *end = w->end;
    unsigned sum = 0;
    *act = KEEP;
    if (r >= 0 && is_object_kind(FIELDS[r].kind) && *p == '{') {
        if (w->npath >= MAX_PATH)
            return NULL; /* cannot happen: the mapping is 4 deep */
        w->path[w->npath][0] = ks;
        w->path[w->npath][1] = ke;
        w->npath++;
        p = walk_object(w, p, (unsigned)r, depth + 1);
        w->npath--;
        return p;
    }
    const char *vs = p;
    p = skip_value(p, end, MAX_DEPTH - depth - 1, &sum);
    if (!p || r == R_VERBATIM)
        return p;
    if (r == R_MOVE) {
        *act = MOVE;
        return p;
    }
    switch (FIELDS[r].kind) {
    case K_OBJECT:
    case K_OBJECT_D:
        if (*vs != 'n') /* anything but null, as '{' was handled above */
            *act = MOVE;
        break;
    case K_KEYWORD:
    case K_TEXT:
        if (sum & S_OBJECT)
            *act = MOVE;
        break;
    case K_BOOLEAN:
        if (sum & (S_OBJECT | S_NONBOOL))
            *act = MOVE;
        break;
    case K_DATE:
        if (*vs != '"' || !strict_time(vs + 1, p - 1))
            *act = RETIME;
        break;
    default:
        break;
    }
    return p;
}

/* p is at '{' of the object mapped by FIELDS[node], `depth` containers
 * deep. Returns the byte after its '}', or NULL (w->rc set on ENOMEM). */
static const char *walk_object(walk *w, const char *p, unsigned node, unsigned depth)
{
    const char *end = w->end;
    if (depth >= MAX_DEPTH)
        return NULL;
    unsigned kept = 0;
    bool skip_comma = false;  /* drop the next ',' (members before it were dropped) */
    const char *comma = NULL; /* the ',' before the current member */
    p = ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        bool esc;
        if (p >= end || *p != '"')
            return NULL;
        const char *ks = p + 1;
        p = scan_string(p, end, &esc);
        if (!p)
            return NULL;
        const char *ke = p - 1;
        int r = resolve_key(node, ks, ke, esc);
        p = ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = ws(p + 1, end);
        if (p >= end)
            return NULL;
        const char *vs = p;
        enum action act;
        if (depth == 0 && r == F_EVENT_TIME)
            w->saw_time = true;
        p = walk_member(w, p, r, depth, ks, ke, &act);
        if (!p)
            return NULL;
        if (act != KEEP) {
            if (w->moved_pass)
                put_moved(w, ks, ke, vs, p);
            w->moved++;
        }
        if (!w->moved_pass && act != KEEP) {
            char t[21];
            if (act == RETIME && format_time(w->event_time, t)) {
                flush(w, ks - 1);
                put(w, "\"eventTime\":\"", 13);
                put(w, t, 20);
                put(w, "\"", 1);
                w->flush_from = p;
                kept++;
            } else if (kept) {
                flush(w, comma);
                w->flush_from = p;
            } else {
                flush(w, ks - 1);
                w->flush_from = p;
                skip_comma = true;
            }
        } else if (act == KEEP) {
            kept++;
        }
        p = ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == ',') {
            if (!w->moved_pass && skip_comma) {
                flush(w, p);
                w->flush_from = p + 1;
                skip_comma = false;
            }
            comma = p;
            p = ws(p + 1, end);
            continue;
        }
        if (*p != '}')
            return NULL;
        /* A record read with files.timestamp_field has its time elsewhere:
         * the mapping's eventTime is what queries use. */
        char t[21];
        if (depth == 0 && !w->moved_pass && w->add_time && !w->saw_time &&
            format_time(w->event_time, t)) {
            flush(w, p);
            put(w, kept ? ",\"eventTime\":\"" : "\"eventTime\":\"", kept ? 14 : 13);
            put(w, t, 20);
            put(w, "\"", 1);
            kept++;
        }
        if (depth == 0 && !w->moved_pass && w->moved) {
            flush(w, p);
            if (kept)
                put(w, ",", 1);
            put(w, "\"" CT_ES_MOVED_KEY "\":{", sizeof(CT_ES_MOVED_KEY) + 3);
        }
        return p + 1;
    }
}

int ct_es_doc_prepare(ct_buf *out, const char *rec, size_t len, int64_t event_time, bool add_time,
                      unsigned *moved)
{
    size_t start = out->len;
    const char *end = rec + len;
    *moved = 0;
    const char *p = rec ? ws(rec, end) : NULL;
    if (!p || p >= end || *p != '{')
        return CT_EINPUT;
    walk w = {
        .out = out, .end = end, .event_time = event_time, .add_time = add_time, .flush_from = p};
    const char *root = p;
    p = walk_object(&w, p, P_ROOT, 0);
    int rc = w.rc;
    if (!rc && (!p || ws(p, end) != end))
        rc = CT_EINPUT;
    if (!rc && w.moved) {
        /* The first pass wrote up to the root's '}' and opened our member;
         * the second writes the moved members themselves. */
        const char *close = p - 1;
        walk w2 = {.out = out, .end = end, .event_time = event_time, .moved_pass = true};
        if (!walk_object(&w2, root, P_ROOT, 0) && !w2.rc)
            w2.rc = CT_EINTERNAL;
        if (!w2.rc && w2.moved != w.moved)
            w2.rc = CT_EINTERNAL;
        rc = w2.rc;
        w.flush_from = close;
        if (!rc)
            put(&w, "}", 1);
        if (!rc)
            flush(&w, p);
        rc = rc ? rc : w.rc;
    } else if (!rc) {
        flush(&w, p);
        rc = w.rc;
    }
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return rc;
    }
    /* Raw line breaks can only be whitespace between tokens here. */
    for (char *q = out->data + start, *e = out->data + out->len; q < e; q++) {
        q = memchr(q, '\n', (size_t)(e - q));
        if (!q)
            break;
        *q = ' ';
    }
    for (char *q = out->data + start, *e = out->data + out->len; q < e; q++) {
        q = memchr(q, '\r', (size_t)(e - q));
        if (!q)
            break;
        *q = ' ';
    }
    *moved = w.moved;
    return 0;
}

int ct_es_doc_add_resources(ct_buf *out, size_t start, const char *arns)
{
    if (!arns || !arns[0])
        return 0;
    /* Elasticsearch refuses a document that is not UTF-8 whole: rather
     * than lose the record, it goes without the field. */
    for (const char *p = arns, *end = arns + strlen(arns); p < end;)
        if ((unsigned char)*p < 0x80)
            p++;
        else if (utf8_decode(p, end, &p) < 0)
            return 0;
    if (out->len <= start || out->data[out->len - 1] != '}')
        return CT_EINTERNAL;
    size_t close = out->len - 1, len = out->len;
    const char *before = out->data + close;
    while (before > out->data + start && (before[-1] == ' ' || before[-1] == '\t'))
        before--;
    if (before == out->data + start)
        return CT_EINTERNAL;
    bool empty = before[-1] == '{';
    out->len = close;
    if (ct_buf_puts(out,
                    empty ? "\"" CT_ES_RESOURCES_KEY "\":" : ",\"" CT_ES_RESOURCES_KEY "\":") ||
        ct_es_json_string(out, arns) || ct_buf_puts(out, "}")) {
        out->len = len;
        out->data[close] = '}';
        out->data[len] = '\0';
        return CT_ENOMEM;
    }
    return 0;
}
