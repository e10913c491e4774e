/* The Elasticsearch/OpenSearch event source: answers the queries of
 * source.h with aggregations over CloudTrail records indexed in ES 6.8,
 * 7.x, 8.x or OpenSearch 1.x/2.x, over libcurl. */
#ifndef CLOUDTRACKER_ES_H
#define CLOUDTRACKER_ES_H

#include "cloudtracker/config.h"
#include "cloudtracker/error.h"
#include "cloudtracker/source.h"

#include <stdbool.h>

/* Makes an event source for the elasticsearch: section `cfg`, which must
 * outlive the source. Nothing is sent until the first query, which first
 * detects the engine (GET /) and the field schema (one _mapping/field
 * request) unless the config forces it. Returns 0, CT_ECONFIG (e.g.
 * aws_sigv4 without AWS credentials in the environment) or CT_ENOMEM; *out
 * belongs to the caller (ct_source_free). */
int ct_es_source(ct_source **out, const ct_es_config *cfg, ct_error *err);

/* The first base URL of `cfg` that credentials (a password, an API key, a
 * bearer token, or SigV4 signatures and session token) would travel to
 * unencrypted across a network: an http:// URL whose host is not loopback.
 * NULL when there is none, or no credentials. Borrowed from cfg. The CLI
 * warns with it. */
const char *ct_es_cleartext_url(const ct_es_config *cfg);

/* Whether the host of `url` ("scheme://host[:port]...", or "host[:port]")
 * is this machine: localhost, a name under .localhost (which libcurl
 * resolves itself), 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool ct_es_url_is_loopback(const char *url);

#endif
