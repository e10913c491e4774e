/* CloudTrail record parsing: a fast, validating scanner that pulls out of
 * each record only the fields cloudtracker stores, skipping everything else
 * without building a tree. Accepts {"Records":[...]} documents, bare JSON
 * arrays of records, and one-record-per-line files. */
#ifndef CLOUDTRACKER_TRAIL_H
#define CLOUDTRACKER_TRAIL_H

#include "cloudtracker/error.h"
#include "cloudtracker/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields of one record. Strings are NUL-terminated, unescaped, valid
 * UTF-8, and valid only during the callback; NULL when the field is absent.
 * null is no value: a field holding it is absent, as exports that flatten
 * records into columns write null for every field a record lacks.
 * A field of another type than CloudTrail writes there rejects the record
 * (see ct_trail_reject_fn), except inside requestParameters and
 * responseElements, free-form payloads that may be null or of any shape:
 * there a field of unexpected type is absent, unless the record is a
 * successful sts AssumeRole, AssumeRoleWithSAML or AssumeRoleWithWebIdentity
 * call, whose role, session name, issued key and the fields that name who
 * opened the session (sourceIdentity, subject, issuer, provider) are needed.
 * The two booleans are read from the literals true/false or the strings
 * "true"/"false" (exports that turned them into strings).
 * event_source, event_name and event_time are always present and non-empty.
 * When a key repeats within one object, the last value wins. */
typedef struct ct_trail_record {
    const char *event_source;         /* eventSource */
    const char *event_name;           /* eventName */
    int64_t event_time;               /* eventTime, seconds since the epoch */
    bool time_elsewhere;              /* event_time came from ct_trail_options.time_field */
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
    /* Who is behind a role session (docs/people.md): */
    const char *identity_user_name;   /* userIdentity.userName */
    const char *identity_provider;    /* userIdentity.identityProvider */
    const char *source_identity;      /* userIdentity.sessionContext.sourceIdentity */
    const char *on_behalf_of;         /* userIdentity.onBehalfOf.userId */
    const char *identity_store;       /* userIdentity.onBehalfOf.identityStoreArn */
    const char *request_source_identity;  /* requestParameters.sourceIdentity */
    const char *response_source_identity; /* responseElements.sourceIdentity */
    const char *response_subject;     /* responseElements.subject (AssumeRoleWithSAML) */
    const char *response_web_subject; /* responseElements.subjectFromWebIdentityToken */
    const char *response_issuer;      /* responseElements.issuer (AssumeRoleWithSAML) */
    const char *response_provider;    /* responseElements.provider (AssumeRoleWithWebIdentity) */
    const char *event_type;           /* eventType (AwsApiCall, AwsConsoleSignIn, ...) */
    const char *event_category;       /* eventCategory (Management, Data, Insight) */
    int read_only;                    /* readOnly: 1 true, 0 false, -1 absent or neither */
    int management_event;             /* managementEvent: likewise */
    const char *aws_region;           /* awsRegion (the Region the call was made to) */
    /* What names the resources of the call (resources.c). These never
     * reject a record: a value of another type, too long or holding a NUL
     * is absent. */
    const char *resources_json;        /* the resources array as JSON text in the input */
    size_t resources_len;              /* (not NUL-terminated; NULL, 0 when absent) */
    const char *request_bucket_name;   /* requestParameters.bucketName */
    const char *request_function_name; /* requestParameters.functionName */
    const char *request_table_name;    /* requestParameters.tableName */
    const char *request_queue_url;     /* requestParameters.queueUrl */
    const char *request_topic_arn;     /* requestParameters.topicArn */
    const char *request_key_id;        /* requestParameters.keyId */
    const char *raw;                  /* the record's JSON object in the input, */
    size_t raw_len;                   /* from '{' to '}' (not NUL-terminated) */
} ct_trail_record;

/* Called for each well-formed record; return 0 to go on, non-zero to stop
 * (that value is returned by ct_trail_parse). */
typedef int (*ct_trail_record_fn)(void *ud, const ct_trail_record *rec);

/* Called for each rejected record or unusable stretch of input, with the
 * byte offset (from the start of `json`) where the problem was found and a
 * short static reason. Return 0 to go on, non-zero to stop (that value is
 * returned by ct_trail_parse).
 *
 * One call means one of:
 *  - one rejected record, when records can still be told apart:
 *    "record is not an object", "invalid UTF-8 in string", "lone surrogate
 *    in \u escape", "field too long" (an extracted value over 4096 bytes),
 *    "NUL character in a field" (\u0000 in an extracted value), a field
 *    of unexpected type, named with the type found ("errorCode is an
 *    object, expected a string", "userIdentity is a string, expected an
 *    object", "readOnly is a number, expected true or false"; never for
 *    null, which is absent),
 *    "missing eventSource" / "missing eventName" / "missing eventTime ..."
 *    (absent or empty; the text says how to name another time field, or
 *    that the one named is missing too), "bad eventTime" / "bad
 *    files.timestamp_field time". The offset is the bad byte for
 *    encoding and field problems (the value's first byte for a type), the
 *    record's first byte otherwise;
 *  - one unusable stretch that may hide any number of records: "truncated
 *    JSON" (offset: the end) or "JSON syntax error: <detail>" (offset: the
 *    error). Inside an array of records nothing after a syntax error can be
 *    trusted, so the stretch runs to the end of the input and parsing stops
 *    (ct_trail_parse still returns 0). In a file of top-level objects (one
 *    record per line) the stretch ends at the next line starting with '{'
 *    (not before an earlier error's offset, which bounds rescanning), and
 *    parsing resumes there, unless records of the broken object (an
 *    envelope) were already delivered;
 *  - bad text (invalid UTF-8, lone surrogate) in an envelope object outside
 *    its records.
 * So every record of the input is either delivered or covered by exactly
 * one reject call, and a file parsed without any reject call was read
 * completely. Either callback may be NULL. */
typedef int (*ct_trail_reject_fn)(void *ud, size_t offset, const char *reason);

/* How to read records. */
typedef struct ct_trail_options {
    /* A top-level key holding the event time of records that have no
     * eventTime (exports such as Logstash's put it in "@timestamp"); NULL
     * or "eventTime": eventTime only. eventTime wins when both are there. */
    const char *time_field;
} ct_trail_options;

/* Parses a whole file's text, which need not be NUL-terminated; `opts` may
 * be NULL (defaults). Accepted
 * shapes (after an optional UTF-8 BOM and whitespace):
 *  - a {"Records":[...]} envelope: other keys are validated and skipped,
 *    Records may come anywhere among them (and more than once);
 *  - a bare array of records [ {...}, ... ];
 *  - one or more top-level objects separated by whitespace (one record per
 *    line, or a single record), each a record or an envelope.
 * The whole text is validated as JSON (RFC 8259, nesting up to 512 levels),
 * every string as UTF-8.
 *
 * Returns 0 when the document's structure was understood (individual
 * records or a broken tail may still have been rejected through on_reject);
 * CT_EINPUT with `err` set, before any callback, when the text is not a
 * CloudTrail document at all: empty or whitespace only ("empty file"), not
 * starting with '{' or '[' (the message gives the byte offset), or a single
 * object with neither a "Records" array nor any record field; CT_ENOMEM;
 * or a callback's non-zero value. Never reads outside json[0..len). Safe to
 * call from several threads at once. */
int ct_trail_parse(const char *json, size_t len, const ct_trail_options *opts,
                   ct_trail_record_fn on_record, ct_trail_reject_fn on_reject, void *ud,
                   ct_error *err);

/* ---- the resources a record names (resources.c; docs/policy.md) ---- */

/* The most ARNs one call's set keeps. A call naming more is kept as
 * CT_TRAIL_RESOURCES_MORE: too many to list, so no policy can be narrowed
 * to them. */
#define CT_TRAIL_RESOURCES_MAX 16
#define CT_TRAIL_RESOURCES_MORE "*"

/* Writes the ARNs the record names into `out` (emptied first): the ARN of
 * each entry of its resources array, and the ARNs built from the request
 * parameters that data/cloudtrail/resource-params.tsv lists for its
 * eventSource. Sorted bytewise, without repeats, joined by '\n'; empty when
 * the record names none; CT_TRAIL_RESOURCES_MORE when it names more than
 * CT_TRAIL_RESOURCES_MAX. Values that are no usable ARN (or cannot be made
 * one: an alias, a name without the Region it lives in) are left out.
 * Returns 0, CT_ENOMEM, or CT_EINTERNAL when the compiled-in table is
 * broken (`err` says where); `out` is then empty. Thread-safe. */
int ct_trail_resource_set(const ct_trail_record *rec, ct_buf *out, ct_error *err);

#endif
