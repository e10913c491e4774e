/* CloudTrail records as Elasticsearch/OpenSearch documents: the index
 * template the bulk loader installs, and the per-record rewrite that makes
 * every record fit that mapping without losing any of its data. One static
 * table of mapped paths (es_doc.c) drives both, so they cannot disagree. */
#ifndef CT_ES_DOC_H
#define CT_ES_DOC_H

#include "cloudtracker/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Written in the mappings' "_meta":{"cloudtracker":{"mapping_version":N}} so
 * the loader recognises indices it made (and, later, older layouts). Bump it
 * whenever the table in es_doc.c changes in a way that matters to queries.
 * 2: the fields that name who is behind a role session are keywords
 * (userIdentity.identityProvider and .onBehalfOf, the request's and
 * response's sourceIdentity, the response's subject, issuer,
 * subjectFromWebIdentityToken, provider and assumedRoleUser.assumedRoleId);
 * in an index of version 1 they are in _source only.
 * 3: the derived keyword CT_ES_RESOURCES_KEY; in an index of version 2 or
 * less it is in _source only, so its calls name no resources. */
#define CT_ES_MAPPING_VERSION 3

/* Root member holding the values moved aside by ct_es_doc_prepare; it is
 * mapped "enabled":false, so Elasticsearch keeps it in _source unparsed. */
#define CT_ES_MOVED_KEY "cloudtrackerMoved"

/* Root member holding what the loader derives from a record: the resources
 * it names (ct_trail_resource_set's text), a keyword the queries aggregate
 * on. A record's own member of that name is moved aside like one named
 * CT_ES_MOVED_KEY, so the field only ever holds the loader's value. */
#define CT_ES_RESOURCES_KEY "cloudtrackerResources"
/* Longer values are kept in _source but not indexed (ignore_above, in
 * characters: at most 3 UTF-8 bytes per UTF-16 unit, under Lucene's 32,766
 * byte term limit): their calls then name nothing. */
#define CT_ES_RESOURCES_INDEXED 8191

/* Appends the body of PUT _index_template/<name> (legacy false: composable
 * template, ES >= 7.8 and OpenSearch, with "priority":priority) or of
 * PUT _template/<name> (legacy true: ES 6, mappings wrapped in the type name
 * "_doc", "order":priority) applying to `index_pattern`. The index settings
 * are number_of_shards/number_of_replicas and refresh_interval (e.g. "30s",
 * "-1"; NULL leaves it out). Every index made from it gets the alias `alias`
 * (NULL: none). Returns 0 or CT_ENOMEM. */
int ct_es_template_body(ct_buf *out, bool legacy, const char *index_pattern, const char *alias,
                        int priority, int shards, int replicas, const char *refresh_interval);

/* Appends the CloudTrail "mappings" object alone (root dynamic:false,
 * date_detection:false, _meta with CT_ES_MAPPING_VERSION); legacy wraps it
 * in {"_doc":...} as ES 6 wants. Returns 0 or CT_ENOMEM. */
int ct_es_mappings_body(ct_buf *out, bool legacy);

/* Given the text of one index's "mappings" object as GET /<index>/_mapping
 * returns it (typeless, or ES 6's {"<type>":{...}} with a single type),
 * returns the mapping_version this module wrote there, or 0 when the
 * mappings are not ours (or not JSON). */
int ct_es_mappings_version(const char *json, size_t len);
/* ct_es_mappings_version(json, len) > 0. */
bool ct_es_mappings_are_ours(const char *json, size_t len);

/* Turns one CloudTrail record into one bulk-request document line.
 *
 * rec[0..len) is one record: a JSON object the trail scanner has validated,
 * possibly spread over several lines; event_time is its eventTime in seconds
 * since the epoch as the scanner understood it. Appends to `out` one line
 * (no '\n' or '\r' inside, none at the end) that the mapping above accepts
 * without a mapper_parsing_exception and that holds all of the record's data:
 *
 * - The record's bytes are copied verbatim (numbers are never re-serialized)
 *   except that raw newlines and carriage returns, which can only be
 *   whitespace between tokens, become spaces; whitespace around the root
 *   object is dropped.
 * - A member whose value the mapping would refuse is left out where it was
 *   and its exact value is appended at the end of the root object in
 *   "cloudtrackerMoved":{"<path>":<value>,...}. <path> joins the keys from
 *   the root with '.', each written exactly as in the record (escapes
 *   included). Refused: at an object-mapped path (userIdentity, onBehalfOf,
 *   sessionContext, sessionIssuer, requestParameters, responseElements,
 *   credentials, assumedRoleUser) anything but an object or null; at a
 *   keyword/text path an object, or an array holding one at any depth; at a
 *   boolean path anything but true, false, null, "true", "false" or arrays
 *   of these; at eventTime anything but a string "YYYY-MM-DDTHH:MM:SS[.f]Z"
 *   (1 to 9 fraction digits, a real UTC date in years 0001-9999). A refused eventTime is
 *   replaced, in place, by "YYYY-MM-DDTHH:MM:SSZ" made from event_time
 *   (left out when event_time is outside years 0001-9999), so range queries
 *   agree with the scanner. With add_time, a record without an eventTime
 *   member (its time came from files.timestamp_field) gets one, made the
 *   same way, as its last member.
 * - Keys are compared after JSON unescaping and, as Elasticsearch does,
 *   split at dots: {"userIdentity.arn":{}} is refused like
 *   {"userIdentity":{"arn":{}}}. At the levels Elasticsearch parses (the
 *   root and the mapped objects) a key that it rejects outright (empty, a
 *   part that is empty or only whitespace, as in "a..b" or ".a") is moved
 *   aside whatever its value.
 * - A root member whose key is or starts with "cloudtrackerMoved." or
 *   "cloudtrackerResources." is moved aside too (under its own key), so the
 *   output never has the first twice, and the second only as
 *   ct_es_doc_add_resources writes it.
 * - So is a root member whose key starts with '_': Elasticsearch refuses its
 *   metadata fields (_id, _source, _routing, ...) inside documents, and the
 *   list varies by version.
 * - Unmapped paths (and the enabled:false objects) are copied whatever they
 *   hold.
 * - Duplicate keys are each handled on their own, so the output has the
 *   same duplicates (and cloudtrackerMoved may then hold a path twice).
 *   Elasticsearch rejects such documents whole; the loader's reject file
 *   keeps them.
 *
 * *moved is set to the number of values moved aside (0 on error). The common
 * case, nothing to move, is one pass that copies the record in a few large
 * pieces; only records with moved values are read a second time. Nothing is
 * allocated besides growing `out`, and nothing recurses on the input's
 * depth.
 *
 * Safe on any bytes: input that is not exactly one JSON object (RFC 8259,
 * well-formed UTF-8, no lone surrogate escapes, at most 512 levels deep)
 * gives CT_EINPUT. On CT_EINPUT or CT_ENOMEM out->len is what it was.
 * Returns 0, CT_EINPUT or CT_ENOMEM. */
int ct_es_doc_prepare(ct_buf *out, const char *rec, size_t len, int64_t event_time, bool add_time,
                      unsigned *moved);

/* Adds "cloudtrackerResources":<arns as a JSON string> as the last member
 * of the document that ct_es_doc_prepare just appended to `out` (from
 * offset `start`; nothing may follow it). Adds nothing when `arns` is NULL,
 * empty or not well-formed UTF-8 (the record then names nothing, the safe
 * side). Returns 0, CT_ENOMEM (out->len is then what it was) or
 * CT_EINTERNAL when out[start..] does not end a JSON object. */
int ct_es_doc_add_resources(ct_buf *out, size_t start, const char *arns);

#endif
