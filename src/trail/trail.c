/* CloudTrail record parsing (see trail.h): one validating pass over the JSON
 * text that copies out only the fields cloudtracker stores. No tree is built,
 * nothing is allocated per record, and nothing recurses on the input's depth. */
#include "cloudtracker/trail.h"
#include "cloudtracker/date.h"

#include "util/json_plain.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 4096 /* longest extracted value in bytes, after unescaping */
#define SLOT_SIZE (FIELD_MAX + 1)
#define MAX_DEPTH 512 /* deepest nesting accepted anywhere in a document */
#define KEY_MAX 32    /* longer keys match no field, so escaped ones are not decoded */
#define SYNTAX(detail) "JSON syntax error: " detail

/* Where each extracted field is kept. Fields of one object are contiguous so
 * that a repeated or mistyped object can clear all of them at once. The
 * objects have a slot too (no value is kept there), so that a value of
 * another type than an object can be noted against them. */
enum slot {
    S_EVENT_SOURCE,
    S_EVENT_NAME,
    S_EVENT_TIME,
    S_EVENT_ID,
    S_SHARED_EVENT_ID,
    S_RECIPIENT,
    S_ERROR_CODE,
    S_ID, /* userIdentity (object); its fields: S_ID_TYPE .. S_ISSUER_ARN */
    S_ID_TYPE,
    S_ID_ARN,
    S_ID_ACCOUNT,
    S_ID_KEY,
    S_ID_USER_NAME,
    S_ID_PROVIDER,
    S_ON_BEHALF, /* userIdentity.onBehalfOf (object) */
    S_ON_BEHALF_USER,
    S_ID_STORE,
    S_CONTEXT, /* userIdentity.sessionContext (object) */
    S_SOURCE_IDENTITY,
    S_ISSUER, /* sessionContext.sessionIssuer (object) */
    S_ISSUER_ARN,
    S_REQUEST, /* requestParameters (object) */
    S_ROLE_ARN,
    S_ROLE_SESSION,
    S_REQUEST_SOURCE_IDENTITY,
    /* The request parameters that name a resource (resources.c): soft
     * fields, see field.soft. */
    S_BUCKET_NAME,
    S_FUNCTION_NAME,
    S_TABLE_NAME,
    S_QUEUE_URL,
    S_TOPIC_ARN,
    S_KEY_ID,
    S_RESPONSE,    /* responseElements (object); its fields: S_CREDENTIALS .. S_PROVIDER */
    S_CREDENTIALS, /* responseElements.credentials (object) */
    S_ISSUED_KEY,
    S_RESPONSE_SOURCE_IDENTITY,
    S_SUBJECT,
    S_WEB_SUBJECT,
    S_RESPONSE_ISSUER,
    S_PROVIDER,
    S_EVENT_TYPE,     /* eventType */
    S_EVENT_CATEGORY, /* eventCategory */
    S_READ_ONLY,      /* readOnly (a boolean, kept as "true"/"false") */
    S_MANAGEMENT,     /* managementEvent (likewise) */
    S_REGION,         /* awsRegion */
    S_ALT_TIME,       /* the key ct_trail_options.time_field names */
    S_RESOURCES,      /* resources (an array, kept as its span of the input: field.span) */
    SLOT_COUNT
};
_Static_assert(SLOT_COUNT <= 64, "the per-slot bit sets are 64 bits wide");

#define SLOT_BIT(s) ((uint64_t)1 << (s))

/* JSON types, as a value of an unexpected one is noted (0: none noted). */
enum { T_NONE, T_NULL, T_BOOLEAN, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_COUNT };

/* Reject reasons for a field holding a value of another type than
 * CloudTrail writes there, per slot and type found (static, as trail.h
 * promises). null is never one: it reads as absent (parse_value). */
#define TYPE_REASONS(name, expected)                                                               \
    {                                                                                              \
        NULL, NULL, name " is a boolean, expected " expected,                                      \
            name " is a number, expected " expected, name " is a string, expected " expected,      \
            name " is an array, expected " expected, name " is an object, expected " expected      \
    }
#define STRING_REASONS(name) TYPE_REASONS(name, "a string")
#define OBJECT_REASONS(name) TYPE_REASONS(name, "an object")
#define BOOLEAN_REASONS(name)                                                                      \
    {                                                                                              \
        NULL, NULL, NULL, name " is a number, expected true or false",                             \
            name " is a string other than \"true\" or \"false\"",                                  \
            name " is an array, expected true or false",                                           \
            name " is an object, expected true or false"                                           \
    }

static const char *const type_reasons[SLOT_COUNT][T_COUNT] = {
    [S_EVENT_SOURCE] = STRING_REASONS("eventSource"),
    [S_EVENT_NAME] = STRING_REASONS("eventName"),
    [S_EVENT_TIME] = STRING_REASONS("eventTime"),
    [S_EVENT_ID] = STRING_REASONS("eventID"),
    [S_SHARED_EVENT_ID] = STRING_REASONS("sharedEventID"),
    [S_RECIPIENT] = STRING_REASONS("recipientAccountId"),
    [S_ERROR_CODE] = STRING_REASONS("errorCode"),
    [S_ID] = OBJECT_REASONS("userIdentity"),
    [S_ID_TYPE] = STRING_REASONS("userIdentity.type"),
    [S_ID_ARN] = STRING_REASONS("userIdentity.arn"),
    [S_ID_ACCOUNT] = STRING_REASONS("userIdentity.accountId"),
    [S_ID_KEY] = STRING_REASONS("userIdentity.accessKeyId"),
    [S_ID_USER_NAME] = STRING_REASONS("userIdentity.userName"),
    [S_ID_PROVIDER] = STRING_REASONS("userIdentity.identityProvider"),
    [S_ON_BEHALF] = OBJECT_REASONS("userIdentity.onBehalfOf"),
    [S_ON_BEHALF_USER] = STRING_REASONS("userIdentity.onBehalfOf.userId"),
    [S_ID_STORE] = STRING_REASONS("userIdentity.onBehalfOf.identityStoreArn"),
    [S_CONTEXT] = OBJECT_REASONS("userIdentity.sessionContext"),
    [S_SOURCE_IDENTITY] = STRING_REASONS("userIdentity.sessionContext.sourceIdentity"),
    [S_ISSUER] = OBJECT_REASONS("userIdentity.sessionContext.sessionIssuer"),
    [S_ISSUER_ARN] = STRING_REASONS("userIdentity.sessionContext.sessionIssuer.arn"),
    [S_REQUEST] = OBJECT_REASONS("requestParameters"),
    [S_ROLE_ARN] = STRING_REASONS("requestParameters.roleArn"),
    [S_ROLE_SESSION] = STRING_REASONS("requestParameters.roleSessionName"),
    [S_REQUEST_SOURCE_IDENTITY] = STRING_REASONS("requestParameters.sourceIdentity"),
    /* The soft fields and S_RESOURCES never reject a record: no reasons. */
    [S_RESPONSE] = OBJECT_REASONS("responseElements"),
    [S_CREDENTIALS] = OBJECT_REASONS("responseElements.credentials"),
    [S_ISSUED_KEY] = STRING_REASONS("responseElements.credentials.accessKeyId"),
    [S_RESPONSE_SOURCE_IDENTITY] = STRING_REASONS("responseElements.sourceIdentity"),
    [S_SUBJECT] = STRING_REASONS("responseElements.subject"),
    [S_WEB_SUBJECT] = STRING_REASONS("responseElements.subjectFromWebIdentityToken"),
    [S_RESPONSE_ISSUER] = STRING_REASONS("responseElements.issuer"),
    [S_PROVIDER] = STRING_REASONS("responseElements.provider"),
    [S_EVENT_TYPE] = STRING_REASONS("eventType"),
    [S_EVENT_CATEGORY] = STRING_REASONS("eventCategory"),
    [S_READ_ONLY] = BOOLEAN_REASONS("readOnly"),
    [S_MANAGEMENT] = BOOLEAN_REASONS("managementEvent"),
    [S_REGION] = STRING_REASONS("awsRegion"),
    [S_ALT_TIME] = STRING_REASONS("the files.timestamp_field time"),
};

/* Free-form payloads: their shape varies by service (CloudTrail writes null
 * when there is none), so an unexpected type there only matters to the
 * calls whose fields cloudtracker reads in them (see needs_payload): every
 * slot from requestParameters to the end of responseElements. */
#define PAYLOAD_SLOTS (SLOT_BIT(S_PROVIDER + 1) - SLOT_BIT(S_REQUEST))

#define SLOT_RECORDS (-2) /* the "Records" key of an envelope object */

typedef struct node node;

/* One key the scanner looks for: a string field (`boolean`: the literals
 * true and false, or those words as strings) or an object (`child` set)
 * whose own fields are `child`, kept in slots [lo, hi). A `soft` field
 * only ever adds a detail (the resources a call names): a value it cannot
 * use (another type, too long, a NUL) leaves it absent and never rejects
 * the record. A `span` field (soft too) keeps where its array value lies
 * in the input instead of a string. */
typedef struct field {
    const char *name;
    unsigned char len;
    signed char slot;
    unsigned char lo, hi;
    const node *child;
    bool boolean;
    bool soft;
    bool span;
} field;

struct node {
    const field *fields;
    unsigned count;
};

/* clang-format off */
#define STR(name, slot) {name, sizeof(name) - 1, slot, 0, 0, NULL, false, false, false}
#define SOFT(name, slot) {name, sizeof(name) - 1, slot, 0, 0, NULL, false, true, false}
#define SPAN(name, slot) {name, sizeof(name) - 1, slot, 0, 0, NULL, false, true, true}
#define BOOL(name, slot) {name, sizeof(name) - 1, slot, 0, 0, NULL, true, false, false}
#define OBJ(name, slot, lo, hi, child) {name, sizeof(name) - 1, slot, lo, hi, child, false, false, false}
#define NODE(fields) {fields, sizeof(fields) / sizeof((fields)[0])}

static const field issuer_fields[] = {STR("arn", S_ISSUER_ARN)};
static const node issuer_node = NODE(issuer_fields);
static const field context_fields[] = {
    OBJ("sessionIssuer", S_ISSUER, S_ISSUER_ARN, S_ISSUER_ARN + 1, &issuer_node),
    STR("sourceIdentity", S_SOURCE_IDENTITY),
};
static const node context_node = NODE(context_fields);
static const field on_behalf_fields[] = {
    STR("userId", S_ON_BEHALF_USER),
    STR("identityStoreArn", S_ID_STORE),
};
static const node on_behalf_node = NODE(on_behalf_fields);
static const field identity_fields[] = {
    STR("type", S_ID_TYPE),
    STR("arn", S_ID_ARN),
    STR("accountId", S_ID_ACCOUNT),
    STR("accessKeyId", S_ID_KEY),
    OBJ("sessionContext", S_CONTEXT, S_SOURCE_IDENTITY, S_ISSUER_ARN + 1, &context_node),
    STR("userName", S_ID_USER_NAME),
    STR("identityProvider", S_ID_PROVIDER),
    OBJ("onBehalfOf", S_ON_BEHALF, S_ON_BEHALF_USER, S_ID_STORE + 1, &on_behalf_node),
};
static const node identity_node = NODE(identity_fields);
static const field request_fields[] = {
    STR("roleArn", S_ROLE_ARN),
    STR("roleSessionName", S_ROLE_SESSION),
    STR("sourceIdentity", S_REQUEST_SOURCE_IDENTITY),
    SOFT("bucketName", S_BUCKET_NAME),
    SOFT("functionName", S_FUNCTION_NAME),
    SOFT("tableName", S_TABLE_NAME),
    SOFT("queueUrl", S_QUEUE_URL),
    SOFT("topicArn", S_TOPIC_ARN),
    SOFT("keyId", S_KEY_ID),
};
static const node request_node = NODE(request_fields);
static const field credentials_fields[] = {STR("accessKeyId", S_ISSUED_KEY)};
static const node credentials_node = NODE(credentials_fields);
static const field response_fields[] = {
    OBJ("credentials", S_CREDENTIALS, S_ISSUED_KEY, S_ISSUED_KEY + 1, &credentials_node),
    STR("sourceIdentity", S_RESPONSE_SOURCE_IDENTITY),
    STR("subject", S_SUBJECT),
    STR("subjectFromWebIdentityToken", S_WEB_SUBJECT),
    STR("issuer", S_RESPONSE_ISSUER),
    STR("provider", S_PROVIDER),
};
static const node response_node = NODE(response_fields);

#define RECORD_FIELDS                                                                      \
    STR("eventName", S_EVENT_NAME), STR("eventSource", S_EVENT_SOURCE),                    \
        STR("eventTime", S_EVENT_TIME), STR("eventID", S_EVENT_ID),                        \
        STR("sharedEventID", S_SHARED_EVENT_ID), STR("recipientAccountId", S_RECIPIENT),   \
        STR("errorCode", S_ERROR_CODE), STR("eventType", S_EVENT_TYPE),                    \
        STR("eventCategory", S_EVENT_CATEGORY), BOOL("readOnly", S_READ_ONLY),             \
        BOOL("managementEvent", S_MANAGEMENT), STR("awsRegion", S_REGION),                 \
        OBJ("userIdentity", S_ID, S_ID_TYPE, S_ISSUER_ARN + 1, &identity_node),            \
        OBJ("requestParameters", S_REQUEST, S_ROLE_ARN, S_KEY_ID + 1, &request_node),      \
        SPAN("resources", S_RESOURCES),                                                    \
        OBJ("responseElements", S_RESPONSE, S_CREDENTIALS, S_PROVIDER + 1, &response_node)

static const field record_fields[] = {RECORD_FIELDS};
static const node record_node = NODE(record_fields);
/* A top-level object may be a record or a {"Records":[...]} envelope. */
static const field top_fields[] = {RECORD_FIELDS,
                                   {"Records", 7, SLOT_RECORDS, 0, 0, NULL, false, false, false}};
/* The record key named by ct_trail_options.time_field (matched by name at
 * run time, see parse_key). */
static const field alt_time_field = {"", 0, S_ALT_TIME, 0, 0, NULL, false, false, false};
static const node top_node = NODE(top_fields);
/* clang-format on */

/* Results of the structural functions. */
enum { OK = 0, HARD = 1, STOP = 2, NOT_CLOUDTRAIL = 3 };

typedef struct scanner {
    const unsigned char *base, *end;
    const unsigned char *p; /* where the last structural function stopped */
    unsigned depth;         /* containers open around the value being parsed */

    /* The syntax error that ended the scan (HARD). */
    const char *hard;
    size_t hard_off;

    /* First problems of the current record that do not break the scan: bad
     * text encoding (always an error) and unusable extracted fields (an
     * error only if the object turns out to be a record). */
    const char *enc_reason;
    size_t enc_off;
    const char *field_reason;
    size_t field_off;
    /* The same for the other time field, which only matters when used. */
    const char *alt_reason;
    size_t alt_off;

    uint64_t present;                     /* bit per slot: holds a string */
    uint64_t wrong;                       /* bit per slot: holds a value of an unexpected type */
    unsigned char wrong_type[SLOT_COUNT]; /* T_*, where `wrong` says so */
    size_t wrong_off[SLOT_COUNT];         /* and where that value starts */
    bool record_key_seen;
    size_t len[SLOT_COUNT];
    size_t span_off; /* where S_RESOURCES's array starts in the input (len: its length) */
    char *slots;     /* SLOT_COUNT * SLOT_SIZE */
    char key[KEY_MAX + 1];
    const char *time_key; /* ct_trail_options.time_field, or NULL */
    size_t time_key_len;

    ct_trail_record_fn on_record;
    ct_trail_reject_fn on_reject;
    void *ud;
    int stop;          /* non-zero value returned by a callback */
    uint64_t reported; /* records delivered or rejected so far */
} scanner;

/* Records a syntax error at `at` (the end of the text means truncation) and
 * returns NULL so position-returning functions can `return failp(...)`. */
static const unsigned char *failp(scanner *sc, const unsigned char *at, const char *reason)
{
    if (at >= sc->end) {
        sc->hard = "truncated JSON";
        sc->hard_off = (size_t)(sc->end - sc->base);
    } else {
        sc->hard = reason;
        sc->hard_off = (size_t)(at - sc->base);
    }
    return NULL;
}

static int fail(scanner *sc, const unsigned char *at, const char *reason)
{
    failp(sc, at, reason);
    return HARD;
}

static void bad_encoding(scanner *sc, const unsigned char *at, const char *reason)
{
    if (!sc->enc_reason) {
        sc->enc_reason = reason;
        sc->enc_off = (size_t)(at - sc->base);
    }
}

static void bad_field(scanner *sc, const unsigned char *at, const char *reason)
{
    if (!sc->field_reason) {
        sc->field_reason = reason;
        sc->field_off = (size_t)(at - sc->base);
    }
}

static void begin_record(scanner *sc)
{
    sc->enc_reason = NULL;
    sc->field_reason = NULL;
    sc->alt_reason = NULL;
    sc->present = 0;
    sc->wrong = 0;
    sc->record_key_seen = false;
}

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0:
 * no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return avail >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c < 0xF5) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return avail >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
                       (p[3] & 0xC0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

static int hex_digit(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* Value of the four hex digits at p; -1 if one is not a hex digit, -2 if the
 * text ends first. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
    long v = 0;
    for (size_t i = 0; i < 4; i++) {
        if ((size_t)(end - p) <= i)
            return -2;
        int d = hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Where an unescaped string goes; buf NULL means validate only. */
typedef struct strout {
    char *buf;
    size_t cap;
    size_t len;
    bool over; /* the value needed more than cap bytes */
    bool nul;  /* the value holds U+0000 */
} strout;

static void out_put(strout *o, const void *s, size_t n)
{
    if (o->over)
        return;
    if (n > o->cap - o->len) {
        o->over = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_code_point(strout *o, unsigned long cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    out_put(o, b, n);
}

/* Scans the string whose opening quote is at p: validates escapes and UTF-8,
 * unescapes into `o` when given, sets *escaped (if non-NULL) when the string
 * held an escape. Encoding problems are noted on the record; returns the
 * position after the closing quote, or NULL on a syntax error. */
static const unsigned char *scan_string(scanner *sc, const unsigned char *p, strout *o,
                                        bool *escaped)
{
    const unsigned char *end = sc->end;
    bool esc = false;
    p++;
    const unsigned char *run = p; /* start of bytes not yet copied to o */
    for (;;) {
        p = ct_json_skip_plain(p, end);
        if (p >= end)
            return failp(sc, end, NULL);
        unsigned c = *p;
        if (c == '"')
            break;
        if (c >= 0x80) {
            size_t k = utf8_seq(p, end);
            if (!k) {
                bad_encoding(sc, p, "invalid UTF-8 in string");
                k = 1;
            }
            p += k;
            continue;
        }
        if (c != '\\')
            return failp(sc, p, SYNTAX("control character in string"));
        esc = true;
        if (o)
            out_put(o, run, (size_t)(p - run));
        if (end - p < 2)
            return failp(sc, end, NULL);
        const unsigned char *at = p;
        unsigned char ch;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            ch = p[1];
            break;
        case 'b':
            ch = '\b';
            break;
        case 'f':
            ch = '\f';
            break;
        case 'n':
            ch = '\n';
            break;
        case 'r':
            ch = '\r';
            break;
        case 't':
            ch = '\t';
            break;
        case 'u': {
            long cp = hex4(p + 2, end);
            if (cp == -2)
                return failp(sc, end, NULL);
            if (cp < 0)
                return failp(sc, p, SYNTAX("invalid \\u escape"));
            p += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = -1;
                if (end - p >= 6 && p[0] == '\\' && p[1] == 'u')
                    lo = hex4(p + 2, end);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    /* Whatever follows is scanned on its own next round. */
                    bad_encoding(sc, at, "lone surrogate in \\u escape");
                    run = p;
                    continue;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                bad_encoding(sc, at, "lone surrogate in \\u escape");
                run = p;
                continue;
            }
            if (o) {
                if (cp == 0)
                    o->nul = true;
                out_code_point(o, (unsigned long)cp);
            }
            run = p;
            continue;
        }
        default:
            return failp(sc, p, SYNTAX("invalid escape in string"));
        }
        if (o)
            out_put(o, &ch, 1);
        p += 2;
        run = p;
    }
    if (o)
        out_put(o, run, (size_t)(p - run));
    if (escaped)
        *escaped = esc;
    return p + 1;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* Validates the number at p (RFC 8259 grammar); returns the position after
 * it. What follows is the caller's business, so "01" fails there. */
static const unsigned char *scan_number(scanner *sc, const unsigned char *p)
{
    const unsigned char *end = sc->end;
    if (*p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (is_digit(p, end))
        while (is_digit(p, end))
            p++;
    else
        return failp(sc, p, SYNTAX("invalid number"));
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end))
            return failp(sc, p, SYNTAX("invalid number"));
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return failp(sc, p, SYNTAX("invalid number"));
        while (is_digit(p, end))
            p++;
    }
    return p;
}

static const unsigned char *scan_literal(scanner *sc, const unsigned char *p, const char *word,
                                         size_t n)
{
    size_t avail = (size_t)(sc->end - p);
    size_t m = avail < n ? avail : n;
    if (memcmp(p, word, m) != 0)
        return failp(sc, p, SYNTAX("invalid literal"));
    if (m < n)
        return failp(sc, sc->end, NULL);
    return p + n;
}

/* Validates an object key at p and the colon after it; returns the position
 * of the value. */
static const unsigned char *skip_key(scanner *sc, const unsigned char *p)
{
    const unsigned char *end = sc->end;
    if (p >= end || *p != '"')
        return failp(sc, p, SYNTAX("expected a string key"));
    p = scan_string(sc, p, NULL, NULL);
    if (!p)
        return NULL;
    p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return failp(sc, p, SYNTAX("expected ':' after an object key"));
    return skip_ws(p + 1, end);
}

/* Validates any value at p without keeping anything. Iterative: open
 * containers are a bit stack (1 = object), bounded by MAX_DEPTH overall. */
static const unsigned char *skip_value(scanner *sc, const unsigned char *p)
{
    const unsigned char *end = sc->end;
    uint64_t stack[MAX_DEPTH / 64];
    unsigned top = 0, room = MAX_DEPTH - sc->depth;
    for (;;) {
        /* A value is expected at p. */
        if (p >= end)
            return failp(sc, end, NULL);
        switch (*p) {
        case '"':
            p = scan_string(sc, p, NULL, NULL);
            break;
        case '{':
        case '[': {
            bool obj = *p == '{';
            if (top >= room)
                return failp(sc, p, SYNTAX("nesting deeper than 512 levels"));
            /* Words are cleared as they come into use, not up front:
             * most skipped values never nest at all. */
            if (top % 64 == 0)
                stack[top / 64] = 0;
            if (obj)
                stack[top / 64] |= (uint64_t)1 << (top % 64);
            else
                stack[top / 64] &= ~((uint64_t)1 << (top % 64));
            top++;
            p = skip_ws(p + 1, end);
            if (p < end && *p == (obj ? '}' : ']')) {
                top--;
                p++;
                break;
            }
            if (obj && !(p = skip_key(sc, p)))
                return NULL;
            continue;
        }
        case 't':
            p = scan_literal(sc, p, "true", 4);
            break;
        case 'f':
            p = scan_literal(sc, p, "false", 5);
            break;
        case 'n':
            p = scan_literal(sc, p, "null", 4);
            break;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
            p = scan_number(sc, p);
            break;
        default:
            return failp(sc, p, SYNTAX("expected a value"));
        }
        if (!p)
            return NULL;
        /* A value ended: close containers until one goes on. */
        for (;;) {
            if (top == 0)
                return p;
            bool obj = (stack[(top - 1) / 64] >> ((top - 1) % 64)) & 1;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                if (obj && !(p = skip_key(sc, p)))
                    return NULL;
                break;
            }
            if (p < end && *p == (obj ? '}' : ']')) {
                top--;
                p++;
                continue;
            }
            return failp(sc, p,
                         obj ? SYNTAX("expected ',' or '}' in an object")
                             : SYNTAX("expected ',' or ']' in an array"));
        }
    }
}

static const field *lookup(const node *n, const char *key, size_t len)
{
    for (unsigned i = 0; i < n->count; i++) {
        const field *f = &n->fields[i];
        if (f->len == len && memcmp(f->name, key, len) == 0)
            return f;
    }
    return NULL;
}

/* Validates the key at p and the colon after it, and finds it among the
 * fields of `n` (*out NULL when it is not one). Returns the value's position. */
static const unsigned char *parse_key(scanner *sc, const unsigned char *p, const node *n,
                                      const field **out)
{
    const unsigned char *end = sc->end;
    if (p >= end || *p != '"')
        return failp(sc, p, SYNTAX("expected a string key"));
    bool esc = false;
    const unsigned char *q = scan_string(sc, p, NULL, &esc);
    if (!q)
        return NULL;
    const char *key = (const char *)p + 1;
    size_t len = (size_t)(q - p) - 2;
    if (esc) {
        /* Rare: "event\u004eame" is eventName too. Decode into a small
         * buffer; the string is already known to be well-formed. */
        strout o = {sc->key, KEY_MAX, 0, false, false};
        scan_string(sc, p, &o, NULL);
        key = o.over ? NULL : sc->key;
        len = o.len;
    }
    *out = key ? lookup(n, key, len) : NULL;
    if (!*out && key && sc->time_key && (n == &record_node || n == &top_node) &&
        len == sc->time_key_len && memcmp(key, sc->time_key, len) == 0)
        *out = &alt_time_field;
    q = skip_ws(q, end);
    if (q >= end || *q != ':')
        return failp(sc, q, SYNTAX("expected ':' after an object key"));
    return skip_ws(q + 1, end);
}

static const unsigned char *parse_object(scanner *sc, const unsigned char *p, const node *n);

/* The JSON type of the value at p (which skip_value then validates). */
static int value_type(const scanner *sc, const unsigned char *p)
{
    if (p >= sc->end)
        return T_NONE;
    switch (*p) {
    case '"':
        return T_STRING;
    case '{':
        return T_OBJECT;
    case '[':
        return T_ARRAY;
    case 't':
    case 'f':
        return T_BOOLEAN;
    case 'n':
        return T_NULL;
    default:
        return T_NUMBER;
    }
}

/* Skips the value at p, noting that slot s holds a value of its type,
 * which is not the one expected there. */
static const unsigned char *skip_mistyped(scanner *sc, const unsigned char *p, unsigned s)
{
    const unsigned char *q = skip_value(sc, p);
    if (q) {
        sc->wrong |= SLOT_BIT(s);
        sc->wrong_type[s] = (unsigned char)value_type(sc, p);
        sc->wrong_off[s] = (size_t)(p - sc->base);
    }
    return q;
}

/* Parses the value at p of a key that matched `f` (NULL: not a field). A
 * value of another type than expected leaves the field absent and is noted
 * (finish_record decides whether that rejects the record); a repeated key
 * overrides the earlier value. */
static const unsigned char *parse_value(scanner *sc, const unsigned char *p, const field *f)
{
    if (!f)
        return skip_value(sc, p);
    unsigned s = (unsigned)f->slot;
    uint64_t bit = SLOT_BIT(s);
    sc->present &= ~bit;
    sc->wrong &= ~bit;
    if (s == S_ALT_TIME)
        sc->alt_reason = NULL;
    if (f->child) {
        uint64_t fields = SLOT_BIT(f->hi) - SLOT_BIT(f->lo);
        sc->present &= ~fields;
        sc->wrong &= ~fields;
    }
    /* null is "no value", the same as an absent key: CloudTrail writes it
     * for payloads (most responseElements are null), and exports that flatten
     * records into columns write it for every field a record lacks. A
     * required field that is null is then missing, and rejected as such. */
    if (p < sc->end && *p == 'n')
        return skip_value(sc, p);
    if (f->span) {
        const unsigned char *q = skip_value(sc, p);
        if (q && *p == '[') {
            sc->span_off = (size_t)(p - sc->base);
            sc->len[s] = (size_t)(q - p);
            sc->present |= bit;
        }
        return q;
    }
    if (f->child) {
        if (p < sc->end && *p == '{')
            return parse_object(sc, p, f->child);
        return skip_mistyped(sc, p, s);
    }
    if (f->boolean && p < sc->end && (*p == 't' || *p == 'f')) {
        const unsigned char *q = skip_value(sc, p);
        if (q) {
            /* skip_value accepted a whole literal: true or false. */
            bool yes = *p == 't';
            memcpy(sc->slots + (size_t)s * SLOT_SIZE, yes ? "true" : "false", yes ? 5 : 6);
            sc->len[s] = yes ? 4 : 5;
            sc->present |= bit;
        }
        return q;
    }
    if (p >= sc->end || *p != '"')
        return f->soft ? skip_value(sc, p) : skip_mistyped(sc, p, s);
    strout o = {sc->slots + (size_t)s * SLOT_SIZE, FIELD_MAX, 0, false, false};
    const unsigned char *q = scan_string(sc, p, &o, NULL);
    if (!q)
        return NULL;
    if ((o.over || o.nul) && f->soft) {
        /* Left absent: the record loses a detail, not its call. */
    } else if (o.over || o.nul) {
        /* A NUL would silently cut the C string short. */
        const char *why = o.over ? "field too long" : "NUL character in a field";
        if (s == S_ALT_TIME) {
            sc->alt_reason = why;
            sc->alt_off = (size_t)(p - sc->base);
        } else {
            bad_field(sc, p, why);
        }
    } else if (f->boolean && !(o.len == 4 && memcmp(o.buf, "true", 4) == 0) &&
               !(o.len == 5 && memcmp(o.buf, "false", 5) == 0)) {
        /* Exports may have turned the literal into a string; any other
         * string says nothing. */
        sc->wrong |= bit;
        sc->wrong_type[s] = T_STRING;
        sc->wrong_off[s] = (size_t)(p - sc->base);
    } else {
        o.buf[o.len] = '\0';
        sc->len[s] = o.len;
        sc->present |= bit;
    }
    return q;
}

/* Parses the object at p, keeping the fields `n` lists. Recursion follows
 * the fixed field tree (a few levels), never the input. */
static const unsigned char *parse_object(scanner *sc, const unsigned char *p, const node *n)
{
    const unsigned char *end = sc->end;
    if (sc->depth >= MAX_DEPTH)
        return failp(sc, p, SYNTAX("nesting deeper than 512 levels"));
    sc->depth++;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        sc->depth--;
        return p + 1;
    }
    for (;;) {
        const field *f = NULL;
        p = parse_key(sc, p, n, &f);
        if (!p)
            return NULL;
        if (f && n == &record_node)
            sc->record_key_seen = true;
        p = parse_value(sc, p, f);
        if (!p)
            return NULL;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            sc->depth--;
            return p + 1;
        }
        return failp(sc, p, SYNTAX("expected ',' or '}' in an object"));
    }
}

static int reject(scanner *sc, size_t offset, const char *reason)
{
    sc->reported++;
    if (sc->on_reject) {
        int rc = sc->on_reject(sc->ud, offset, reason);
        if (rc) {
            sc->stop = rc;
            return STOP;
        }
    }
    return OK;
}

/* The first problem of the current record that does not break the scan, or
 * NULL. */
static const char *record_problem(const scanner *sc, size_t *offset)
{
    if (sc->enc_reason && (!sc->field_reason || sc->enc_off <= sc->field_off)) {
        *offset = sc->enc_off;
        return sc->enc_reason;
    }
    if (sc->field_reason) {
        *offset = sc->field_off;
        return sc->field_reason;
    }
    return NULL;
}

static bool has(const scanner *sc, unsigned s)
{
    return (sc->present >> s) & 1;
}

static const char *get(const scanner *sc, unsigned s)
{
    return has(sc, s) ? sc->slots + (size_t)s * SLOT_SIZE : NULL;
}

/* A boolean field: 1 for true, 0 for false, -1 when absent. */
static int tristate(const scanner *sc, unsigned s)
{
    const char *v = get(sc, s);
    if (v && strcmp(v, "true") == 0)
        return 1;
    if (v && strcmp(v, "false") == 0)
        return 0;
    return -1;
}

/* Whether the record is a successful AssumeRole call, whose request and
 * response fields link the sessions it opens to the role and name who
 * opened them (the calls ingest_file.c's is_assume_role takes): a value of
 * the wrong type there would otherwise, left out, pin the session on a
 * weaker witness (the session name) without a word. */
static bool needs_payload(const scanner *sc)
{
    const char *source = get(sc, S_EVENT_SOURCE), *name = get(sc, S_EVENT_NAME);
    return source && name && !has(sc, S_ERROR_CODE) && strcmp(source, "sts.amazonaws.com") == 0 &&
           (strcmp(name, "AssumeRole") == 0 || strcmp(name, "AssumeRoleWithSAML") == 0 ||
            strcmp(name, "AssumeRoleWithWebIdentity") == 0);
}

/* The first (in the text) field of the current record whose unexpected
 * type rejects it, as a reason; NULL if none. A field of another type than
 * CloudTrail writes there is not simply left out: errorCode an object would
 * make a failed call a successful one, userIdentity a string would charge
 * the call to no one. Exceptions: null request and response payloads
 * (CloudTrail writes those; parse_value does not note them), the payloads
 * of calls that do not need them, and the other time field when eventTime
 * is there. */
static const char *type_problem(const scanner *sc, size_t *offset)
{
    uint64_t counted = sc->wrong;
    if (!counted)
        return NULL;
    if ((counted & PAYLOAD_SLOTS) && !needs_payload(sc))
        counted &= ~PAYLOAD_SLOTS;
    if ((has(sc, S_EVENT_TIME) && sc->len[S_EVENT_TIME] > 0) ||
        (sc->wrong & SLOT_BIT(S_EVENT_TIME)))
        counted &= ~SLOT_BIT(S_ALT_TIME);
    const char *why = NULL;
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        if (!((counted >> s) & 1) || (why && sc->wrong_off[s] >= *offset))
            continue;
        why = type_reasons[s][sc->wrong_type[s]];
        if (!why)
            why = "field of an unexpected type"; /* not reached: null is absent */
        *offset = sc->wrong_off[s];
    }
    return why;
}

/* Delivers or rejects the record whose fields were just collected. */
static int finish_record(scanner *sc, const unsigned char *start, const unsigned char *stop)
{
    size_t off = (size_t)(start - sc->base);
    const char *why = record_problem(sc, &off);
    size_t type_off = 0;
    const char *type_why = type_problem(sc, &type_off);
    if (type_why && (!why || type_off < off)) {
        why = type_why;
        off = type_off;
    }
    int64_t when = 0;
    bool elsewhere = false;
    /* An empty required field is as useless as a missing one. */
    if (!why) {
        if (!has(sc, S_EVENT_SOURCE) || sc->len[S_EVENT_SOURCE] == 0)
            why = "missing eventSource";
        else if (!has(sc, S_EVENT_NAME) || sc->len[S_EVENT_NAME] == 0)
            why = "missing eventName";
        else if (has(sc, S_EVENT_TIME) && sc->len[S_EVENT_TIME] > 0)
            why = ct_timestamp_parse(get(sc, S_EVENT_TIME), sc->len[S_EVENT_TIME], &when) != 0
                      ? "bad eventTime"
                      : NULL;
        else if (!sc->time_key)
            why = "missing eventTime (files.timestamp_field names another time field, such as "
                  "@timestamp)";
        else if (sc->alt_reason && !has(sc, S_ALT_TIME)) {
            why = sc->alt_reason;
            off = sc->alt_off;
        } else if (!has(sc, S_ALT_TIME) || sc->len[S_ALT_TIME] == 0)
            why = "missing eventTime and files.timestamp_field";
        else if (ct_timestamp_parse(get(sc, S_ALT_TIME), sc->len[S_ALT_TIME], &when) != 0)
            why = "bad files.timestamp_field time";
        else
            elsewhere = true;
    }
    if (why) {
        begin_record(sc);
        return reject(sc, off, why);
    }
    ct_trail_record rec = {
        .event_source = get(sc, S_EVENT_SOURCE),
        .event_name = get(sc, S_EVENT_NAME),
        .event_time = when,
        .time_elsewhere = elsewhere,
        .event_id = get(sc, S_EVENT_ID),
        .shared_event_id = get(sc, S_SHARED_EVENT_ID),
        .recipient_account_id = get(sc, S_RECIPIENT),
        .error_code = get(sc, S_ERROR_CODE),
        .identity_type = get(sc, S_ID_TYPE),
        .identity_arn = get(sc, S_ID_ARN),
        .identity_account_id = get(sc, S_ID_ACCOUNT),
        .access_key_id = get(sc, S_ID_KEY),
        .issuer_arn = get(sc, S_ISSUER_ARN),
        .role_arn = get(sc, S_ROLE_ARN),
        .role_session_name = get(sc, S_ROLE_SESSION),
        .issued_key = get(sc, S_ISSUED_KEY),
        .identity_user_name = get(sc, S_ID_USER_NAME),
        .identity_provider = get(sc, S_ID_PROVIDER),
        .source_identity = get(sc, S_SOURCE_IDENTITY),
        .on_behalf_of = get(sc, S_ON_BEHALF_USER),
        .identity_store = get(sc, S_ID_STORE),
        .request_source_identity = get(sc, S_REQUEST_SOURCE_IDENTITY),
        .response_source_identity = get(sc, S_RESPONSE_SOURCE_IDENTITY),
        .response_subject = get(sc, S_SUBJECT),
        .response_web_subject = get(sc, S_WEB_SUBJECT),
        .response_issuer = get(sc, S_RESPONSE_ISSUER),
        .response_provider = get(sc, S_PROVIDER),
        .event_type = get(sc, S_EVENT_TYPE),
        .event_category = get(sc, S_EVENT_CATEGORY),
        .read_only = tristate(sc, S_READ_ONLY),
        .management_event = tristate(sc, S_MANAGEMENT),
        .aws_region = get(sc, S_REGION),
        .resources_json = has(sc, S_RESOURCES) ? (const char *)sc->base + sc->span_off : NULL,
        .resources_len = has(sc, S_RESOURCES) ? sc->len[S_RESOURCES] : 0,
        .request_bucket_name = get(sc, S_BUCKET_NAME),
        .request_function_name = get(sc, S_FUNCTION_NAME),
        .request_table_name = get(sc, S_TABLE_NAME),
        .request_queue_url = get(sc, S_QUEUE_URL),
        .request_topic_arn = get(sc, S_TOPIC_ARN),
        .request_key_id = get(sc, S_KEY_ID),
        .raw = (const char *)start,
        .raw_len = (size_t)(stop - start),
    };
    begin_record(sc);
    sc->reported++;
    if (sc->on_record) {
        int rc = sc->on_record(sc->ud, &rec);
        if (rc) {
            sc->stop = rc;
            return STOP;
        }
    }
    return OK;
}

/* Parses the array of records at p, delivering each as it ends. Leaves
 * sc->p after the closing bracket. */
static int parse_records(scanner *sc, const unsigned char *p)
{
    const unsigned char *end = sc->end;
    sc->depth++;
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']') {
        sc->depth--;
        sc->p = p + 1;
        return OK;
    }
    for (;;) {
        const unsigned char *start = p;
        int rc;
        begin_record(sc);
        if (p < end && *p == '{') {
            if (!(p = parse_object(sc, p, &record_node)))
                return HARD;
            rc = finish_record(sc, start, p);
        } else {
            if (!(p = skip_value(sc, p)))
                return HARD;
            begin_record(sc);
            rc = reject(sc, (size_t)(start - sc->base), "record is not an object");
        }
        if (rc)
            return rc;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == ']') {
            sc->depth--;
            sc->p = p + 1;
            return OK;
        }
        return fail(sc, p, SYNTAX("expected ',' or ']' after a record"));
    }
}

/* Reports the encoding problem met outside any record of an envelope. */
static int flush_envelope_problem(scanner *sc)
{
    const char *why = sc->enc_reason;
    size_t off = sc->enc_off;
    begin_record(sc);
    return why ? reject(sc, off, why) : OK;
}

/* Parses one top-level object: a {"Records":[...]} envelope (other keys are
 * skipped, Records may come anywhere) or a record of its own. `first` says
 * it is the first value of the file: if nothing follows and it is neither,
 * the file is not CloudTrail at all. */
static int parse_top_object(scanner *sc, const unsigned char *p, bool first)
{
    const unsigned char *start = p, *end = sc->end;
    bool envelope = false;
    begin_record(sc);
    sc->depth = 1;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            const field *f = NULL;
            if (!(p = parse_key(sc, p, &top_node, &f)))
                return HARD;
            if (f && f->slot == SLOT_RECORDS && p < end && *p == '[') {
                /* From here on this is an envelope: what was collected as a
                 * record means nothing, except bad text. */
                if (!envelope && flush_envelope_problem(sc))
                    return STOP;
                envelope = true;
                int rc = parse_records(sc, p);
                if (rc)
                    return rc;
                p = sc->p;
                begin_record(sc);
            } else if (envelope || (f && f->slot == SLOT_RECORDS)) {
                p = skip_value(sc, p);
            } else {
                if (f)
                    sc->record_key_seen = true;
                p = parse_value(sc, p, f);
            }
            if (!p)
                return HARD;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return fail(sc, p, SYNTAX("expected ',' or '}' in an object"));
        }
    }
    sc->depth = 0;
    sc->p = p;
    if (envelope)
        return flush_envelope_problem(sc);
    if (first && !sc->record_key_seen && skip_ws(p, end) == end)
        return NOT_CLOUDTRAIL;
    return finish_record(sc, start, p);
}

/* Reports everything from the syntax error on as one rejected stretch. */
static int reject_tail(scanner *sc)
{
    return reject(sc, sc->hard_off, sc->hard) == STOP ? sc->stop : 0;
}

/* The first '{' at or after p that begins a line, where a one-record-per-
 * line file can pick up again after a broken line; NULL if none. */
static const unsigned char *next_line_object(const unsigned char *p, const unsigned char *base,
                                             const unsigned char *end)
{
    if (p > base)
        p--; /* p itself may begin a line */
    while (p < end) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || end - nl < 2)
            return NULL;
        if (nl[1] == '{')
            return nl + 1;
        p = nl + 1;
    }
    return NULL;
}

/* A file that starts with '[': one array of records. */
static int parse_array_file(scanner *sc, const unsigned char *p)
{
    int rc = parse_records(sc, p);
    if (rc == STOP)
        return sc->stop;
    if (rc == HARD)
        return reject_tail(sc);
    p = skip_ws(sc->p, sc->end);
    if (p < sc->end &&
        reject(sc, (size_t)(p - sc->base), SYNTAX("unexpected data after the end of the document")))
        return sc->stop;
    return 0;
}

/* A file that starts with '{': one or more top-level objects, each an
 * envelope or a record (one record per line, or just one record). */
static int parse_object_file(scanner *sc, const unsigned char *p, ct_error *err)
{
    const unsigned char *end = sc->end;
    const unsigned char *floor = sc->base; /* see below */
    for (bool first = true;; first = false) {
        p = skip_ws(p, end);
        if (p >= end)
            return 0;
        const unsigned char *start = p;
        uint64_t before = sc->reported;
        int rc;
        sc->depth = 0;
        if (*p == '{') {
            rc = parse_top_object(sc, p, first);
        } else if ((p = skip_value(sc, p)) != NULL) {
            sc->p = p;
            begin_record(sc);
            rc = reject(sc, (size_t)(start - sc->base), "record is not an object");
        } else {
            rc = HARD;
        }
        if (rc == STOP)
            return sc->stop;
        if (rc == NOT_CLOUDTRAIL)
            return ct_error_set(err, CT_EINPUT,
                                "not a CloudTrail file: the JSON object at byte %zu has no "
                                "\"Records\" array and no record fields",
                                (size_t)(start - sc->base));
        if (rc == HARD) {
            /* Records inside this value were already delivered: going back
             * to an earlier line would deliver them twice. */
            if (sc->reported != before)
                return reject_tail(sc);
            /* Resume at the next line, even if the broken value ran on
             * into it (a line cut short swallows the next). But never go
             * back before where an earlier failure was found: a line file
             * full of dangling '[' would be rescanned over and over. */
            const unsigned char *from = start + 1 > floor ? start + 1 : floor;
            const unsigned char *next = next_line_object(from, sc->base, end);
            if (!next)
                return reject_tail(sc);
            size_t off = sc->hard_off;
            const char *why = sc->hard;
            if ((size_t)(next - sc->base) <= off) {
                off = (size_t)(next - 1 - sc->base);
                why = SYNTAX("record not closed before the next line");
                if (sc->base + sc->hard_off > floor)
                    floor = sc->base + sc->hard_off;
            }
            if (reject(sc, off, why))
                return sc->stop;
            p = next;
            continue;
        }
        p = sc->p;
    }
}

int ct_trail_parse(const char *json, size_t len, const ct_trail_options *opts,
                   ct_trail_record_fn on_record, ct_trail_reject_fn on_reject, void *ud,
                   ct_error *err)
{
    if (len == 0)
        return ct_error_set(err, CT_EINPUT, "empty file");
    const unsigned char *base = (const unsigned char *)json, *end = base + len, *p = base;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    p = skip_ws(p, end);
    if (p == end)
        return ct_error_set(err, CT_EINPUT, "empty file");
    if (*p != '{' && *p != '[') {
        size_t off = (size_t)(p - base);
        if (*p >= 0x21 && *p < 0x7F)
            return ct_error_set(err, CT_EINPUT,
                                "not a CloudTrail JSON file: found '%c' at byte %zu where '{' or "
                                "'[' should start the document",
                                *p, off);
        return ct_error_set(err, CT_EINPUT,
                            "not a CloudTrail JSON file: found byte 0x%02x at byte %zu where '{' "
                            "or '[' should start the document",
                            *p, off);
    }
    scanner sc;
    memset(&sc, 0, sizeof(sc));
    sc.base = base;
    sc.end = end;
    sc.on_record = on_record;
    sc.on_reject = on_reject;
    sc.ud = ud;
    if (opts && opts->time_field && opts->time_field[0] &&
        strcmp(opts->time_field, "eventTime") != 0) {
        sc.time_key = opts->time_field;
        sc.time_key_len = strlen(opts->time_field);
    }
    sc.slots = malloc((size_t)SLOT_COUNT * SLOT_SIZE);
    if (!sc.slots)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    int rc = *p == '[' ? parse_array_file(&sc, p) : parse_object_file(&sc, p, err);
    free(sc.slots);
    return rc;
}
