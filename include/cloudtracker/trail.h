/* CloudTrail record parsing: a fast, validating scanner that pulls out of
 * each record only the fields cloudtracker stores, skipping everything else
 * without building a tree. Accepts {"Records":[...]} documents, bare JSON
 * arrays of records, and one-record-per-line files. */
#ifndef CLOUDTRACKER_TRAIL_H
#define CLOUDTRACKER_TRAIL_H

#include "cloudtracker/error.h"

#include <stddef.h>
#include <stdint.h>

/* The fields of one record. Strings are NUL-terminated, unescaped, valid
 * UTF-8, and valid only during the callback; NULL when the field is absent,
 * null, or not a string (a field of unexpected type is treated as absent). */
typedef struct ct_trail_record {
    const char *event_source;         /* eventSource */
    const char *event_name;           /* eventName */
    int64_t event_time;               /* eventTime, seconds since the epoch */
    const char *event_id;             /* eventID */
    const char *shared_event_id;      /* sharedEventID */
    const char *recipient_account_id; /* recipientAccountId */
    const char *error_code;           /* errorCode (non-NULL: the call failed) */
    const char *identity_type;        /* userIdentity.type */
    const char *identity_arn;         /* userIdentity.arn */
    const char *identity_account_id;  /* userIdentity.accountId */
    const char *access_key_id;        /* userIdentity.accessKeyId */
    const char *issuer_arn;           /* userIdentity.sessionContext.sessionIssuer.arn */
    const char *role_arn;             /* requestParameters.roleArn */
    const char *role_session_name;    /* requestParameters.roleSessionName */
    const char *issued_key;           /* responseElements.credentials.accessKeyId */
} ct_trail_record;

/* Called for each well-formed record; return 0 to go on, non-zero to stop
 * (that value is returned by ct_trail_parse). */
typedef int (*ct_trail_record_fn)(void *ud, const ct_trail_record *rec);
/* Called for each rejected record or unusable stretch of input, with the
 * byte offset where the problem was found and a short reason ("truncated
 * JSON", "record is not an object", "invalid UTF-8", "missing eventTime"...).
 * Return 0 to go on. */
typedef int (*ct_trail_reject_fn)(void *ud, size_t offset, const char *reason);

/* Parses a whole file's text. Returns 0 when the document's structure was
 * understood (individual records may still have been rejected through
 * on_reject), CT_EINPUT with `err` set when the text is not a CloudTrail
 * document at all (e.g. not JSON, no Records), or a callback's non-zero
 * value. Never reads outside json[0..len). */
int ct_trail_parse(const char *json, size_t len, ct_trail_record_fn on_record,
                   ct_trail_reject_fn on_reject, void *ud, ct_error *err);

#endif
