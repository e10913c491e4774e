/* AWS Signature Version 4 for Amazon OpenSearch Service (es) and
 * OpenSearch Serverless (aoss). Our own signer because libcurl 7.88's
 * CURLOPT_AWS_SIGV4 signs the path and query verbatim, which AWS rejects for
 * index patterns ('*'), comma lists and unsorted query strings. */
#ifndef CT_ES_SIGV4_H
#define CT_ES_SIGV4_H

#include "cloudtracker/util.h"

#include <stddef.h>

/* One request to sign. Header names are lower case and must include "host"
 * and "x-amz-date"; each is signed. */
typedef struct ct_sigv4_request {
    const char *method;
    const char *path;  /* as sent on the wire, e.g. "/cloudtrail-%2A..." or a raw pattern */
    const char *query; /* as sent, without '?'; NULL or "" for none */
    const char *const *header_names;
    const char *const *header_values;
    size_t header_count;
    const char *payload_hash; /* lowercase hex SHA-256 of the body as sent */
    const char *amz_date;     /* "YYYYMMDDTHHMMSSZ" */
    const char *region;
    const char *service;
    const char *access_key;
    const char *secret_key;
} ct_sigv4_request;

/* Appends the Authorization header's value to `authorization`, and the
 * canonical request to `canonical` when not NULL (for tests and debugging;
 * it holds no secret). Returns 0 or CT_ENOMEM. */
int ct_sigv4_sign(const ct_sigv4_request *req, ct_buf *authorization, ct_buf *canonical);

/* The canonical URI and query of SigV4 (exposed for tests). */
int ct_sigv4_canonical_uri(const char *path, ct_buf *out);
int ct_sigv4_canonical_query(const char *query, ct_buf *out);

#endif
