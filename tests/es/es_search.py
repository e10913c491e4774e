"""Queries, sorting, aggregations and response assembly of the test server.

A search runs in two phases like ES: the request is parsed once (parse
errors are answered as a whole, e.g. `parsing_exception`), then it is
"executed on each shard", i.e. compiled against each target index's mapping.
Field-dependent failures (aggregating on a text field, sorting on an
unmapped field, a number that does not parse) are raised per index as
ShardError and become a `search_phase_execution_exception` when every index
failed, or `_shards.failures` when only some did.

Each index is one shard here; documents are es_store.Doc objects whose
`fields` hold the indexed values produced by es_mapping.
"""

import functools
import ipaddress
import re
import time

from es_common import (DateParseError, EsError, ShardError, bad_request,
                       cause, error, fielddata_error, format_date,
                       parse_date, parse_date_math, parsing_error,
                       phase_error, shard_failure_entries, simple_match,
                       tokenize, unsupported, wildcard_to_regex)
from es_mapping import resolve_field

LONG_MAX = 2 ** 63 - 1
LONG_MIN = -2 ** 63

# Aggregation types real engines have but this server does not implement.
KNOWN_UNSUPPORTED_AGGS = {
    "histogram", "range", "date_range", "filters",
    "top_hits", "stats", "extended_stats", "percentiles", "nested",
    "reverse_nested", "significant_terms", "multi_terms", "rare_terms",
    "adjacency_matrix", "auto_date_histogram", "geo_distance", "geohash_grid",
    "missing", "sampler", "bucket_sort", "bucket_selector",
    "scripted_metric", "top_metrics", "weighted_avg", "boxplot",
    "variable_width_histogram", "ip_range", "geotile_grid",
}
METRIC_AGGS = {"min", "max", "sum", "avg", "value_count", "cardinality"}
BUCKET_AGGS = {"terms", "composite", "date_histogram", "filter", "global"}
# The factories ES names when a composite aggregation has a parent.
_FACTORY = {"terms": "TermsAggregatorFactory", "composite": "CompositeAggregationFactory",
            "date_histogram": "DateHistogramAggregatorFactory",
            "filter": "FilterAggregatorFactory", "global": "GlobalAggregatorFactory"}

KNOWN_UNSUPPORTED_QUERIES = {
    "query_string", "simple_query_string", "nested", "has_child",
    "has_parent", "script", "script_score", "function_score", "more_like_this",
    "geo_distance", "geo_bounding_box", "geo_shape", "fuzzy", "span_term",
    "intervals", "multi_match", "match_bool_prefix", "match_phrase_prefix",
    "combined_fields", "terms_set", "distance_feature", "percolate", "pinned",
    "rank_feature", "wrapper", "boosting", "dis_max",
}

# Top-level keys of a search body; the ignored ones do not change results.
SEARCH_BODY_KEYS = {
    "query", "post_filter", "aggs", "aggregations", "size", "from", "sort",
    "_source", "track_total_hits", "search_after", "pit", "timeout",
    "terminate_after", "track_scores", "version", "seq_no_primary_term",
    "explain", "stored_fields", "docvalue_fields", "fields", "highlight",
    "min_score", "profile", "indices_boost", "stats", "ext", "runtime_mappings",
    "collapse", "rescore", "suggest", "script_fields", "slice",
}
UNSUPPORTED_BODY_KEYS = {"collapse", "rescore", "suggest", "script_fields", "slice"}


class Context:
    """One index as seen by a search: name, mapping, settings, documents."""

    def __init__(self, flavor, name, mapping, settings, docs, uuid="_na_",
                 shards=1, doc_type=None, now_ms=None):
        self.flavor = flavor
        self.name = name
        self.mapping = mapping or {}
        self.settings = settings or {}
        self.docs = docs
        self.uuid = uuid
        self.shards = shards
        self.doc_type = doc_type
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self._fields = {}

    def field(self, path):
        if path not in self._fields:
            self._fields[path] = resolve_field(self.mapping, path)
        return self._fields[path]

    def query_error(self, reason, caused_by=None):
        """query_shard_exception for this index (a 400 shard failure)."""
        c = cause("query_shard_exception", reason, index_uuid=self.uuid,
                  index=self.name)
        if caused_by is not None:
            c["caused_by"] = caused_by
        return ShardError(c, root=dict(c))


# ---------------------------------------------------------------------------
# Value conversion shared by term/terms/range/after keys
# ---------------------------------------------------------------------------


def _convert_term(ctx, info, value, query_name):
    """The indexed form of a query value for a field (or raise ShardError)."""
    kind = info.kind
    if isinstance(value, (dict, list)):
        raise parsing_error("[%s] query does not support array of values"
                            % query_name if isinstance(value, list) else
                            "[%s] unknown token [START_OBJECT] after [value]"
                            % query_name)
    if kind in ("keyword", "flattened"):
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)
    if kind == "text":
        return value if isinstance(value, str) else str(value)
    if kind in ("long", "double"):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise ctx.query_error(
                'failed to create query: For input string: "%s"' % value,
                cause("number_format_exception", 'For input string: "%s"' % value))
        return number
    if kind == "date":
        try:
            return parse_date(value, info.fmt)
        except DateParseError:
            raise ctx.query_error(
                "failed to create query: failed to parse date field [%s] with "
                "format [%s]" % (value, info.fmt),
                cause("parse_exception", "failed to parse date field [%s] with "
                      "format [%s]" % (value, info.fmt)))
    if kind == "boolean":
        if value in (True, "true"):
            return True
        if value in (False, "false", ""):
            return False
        raise ctx.query_error(
            "failed to create query: Can't parse boolean value [%s], expected "
            "[true] or [false]" % value)
    if kind == "ip":
        try:
            if "/" in str(value):
                return ipaddress.ip_network(str(value), strict=False)
            return str(ipaddress.ip_address(str(value)))
        except ValueError:
            raise ctx.query_error("failed to create query: '%s' is not an IP "
                                  "string literal." % value)
    return value


def _values(doc, path):
    return doc.fields.get(path, ())


# ---------------------------------------------------------------------------
# Query compilation
# ---------------------------------------------------------------------------


def _single_field(name, body):
    """(field, params) of queries shaped {"field": value-or-object}."""
    if not isinstance(body, dict) or not body:
        raise parsing_error("[%s] query malformed, no start_object after query name"
                            % name)
    fields = [k for k in body if k not in ("boost", "_name")]
    if len(fields) != 1:
        if not fields:
            raise parsing_error("[%s] query doesn't support empty field" % name)
        raise parsing_error("[%s] query doesn't support multiple fields, found [%s] "
                            "and [%s]" % (name, fields[0], fields[1]))
    return fields[0], body[fields[0]]


def _never(doc):
    return False


def _always(doc):
    return True


def compile_query(q, ctx):
    """A predicate doc -> bool for a query DSL object."""
    if q is None:
        return _always
    if not isinstance(q, dict):
        raise parsing_error("[_na] query malformed, must start with start_object")
    if not q:
        raise parsing_error("query malformed, empty clause found")
    if len(q) != 1:
        first = list(q)[0]
        raise parsing_error("[%s] malformed query, expected [END_OBJECT] but found "
                            "[FIELD_NAME]" % first)
    (qtype, body), = q.items()
    handler = _QUERIES.get(qtype)
    if handler is None:
        if qtype in KNOWN_UNSUPPORTED_QUERIES:
            raise unsupported("the [%s] query" % qtype)
        raise error(400, "parsing_exception", "unknown query [%s]" % qtype,
                    caused_by=cause("named_object_not_found_exception",
                                    "[1:1] unknown field [%s]" % qtype))
    return handler(body, ctx)


def _q_match_all(body, ctx):
    return _always


def _q_match_none(body, ctx):
    return _never


def _q_term(body, ctx, name="term"):
    field, params = _single_field(name, body)
    case_insensitive = False
    if isinstance(params, dict):
        unknown = set(params) - {"value", "boost", "_name", "case_insensitive"}
        if unknown:
            raise parsing_error("[%s] query does not support [%s]"
                                % (name, sorted(unknown)[0]))
        if "value" not in params:
            raise parsing_error("[%s] query requires a value" % name)
        case_insensitive = bool(params.get("case_insensitive"))
        value = params["value"]
    else:
        value = params
    if value is None:
        raise parsing_error("[%s] query value cannot be null" % name)
    info = ctx.field(field)
    if info is None or info.kind in ("object", "binary"):
        _convert_term(ctx, _Unmapped, value, name)  # still rejects arrays
        return _never
    v = _convert_term(ctx, info, value, name)
    path = field
    if info.kind == "text":
        want = v.lower() if case_insensitive else v
        return lambda d: any(want in toks for toks in _values(d, path))
    if info.kind in ("keyword", "flattened") and case_insensitive:
        low = v.lower()
        return lambda d: any(x.lower() == low for x in _values(d, path))
    if info.kind == "ip" and not isinstance(v, str):
        return lambda d: any(ipaddress.ip_address(x) in v for x in _values(d, path))
    return lambda d: v in _values(d, path)


class _UnmappedInfo:
    kind = "keyword"
    fmt = None


_Unmapped = _UnmappedInfo()


def _q_terms(body, ctx):
    if not isinstance(body, dict):
        raise parsing_error("[terms] query malformed, no start_object after query name")
    fields = [k for k in body if k not in ("boost", "_name")]
    if len(fields) != 1:
        raise parsing_error("[terms] query does not support multiple fields")
    field = fields[0]
    values = body[field]
    if isinstance(values, dict):
        raise unsupported("the terms lookup of the [terms] query")
    if not isinstance(values, list):
        raise parsing_error("[terms] query does not support [%s]" % field)
    limit = int(ctx.settings.get("index.max_terms_count", 65536))
    if len(values) > limit:
        reason = ("The number of terms [%d] used in the Terms Query request has "
                  "exceeded the allowed maximum of [%d]. This maximum can be set by "
                  "changing the [index.max_terms_count] index level setting."
                  % (len(values), limit))
        raise ctx.query_error("failed to create query: " + reason,
                              cause("illegal_argument_exception", reason))
    info = ctx.field(field)
    if info is None or info.kind in ("object", "binary"):
        return _never
    wanted = set()
    networks = []
    for value in values:
        if value is None:
            continue
        v = _convert_term(ctx, info, value, "terms")
        if info.kind == "ip" and not isinstance(v, str):
            networks.append(v)
        else:
            wanted.add(v)
    path = field
    if info.kind == "text":
        return lambda d: any(t in wanted for toks in _values(d, path) for t in toks)
    if networks:
        return lambda d: any(x in wanted or any(ipaddress.ip_address(x) in n
                                                for n in networks)
                             for x in _values(d, path))
    return lambda d: any(x in wanted for x in _values(d, path))


_RANGE_KEYS = {"gte", "gt", "lte", "lt", "from", "to", "include_lower",
               "include_upper", "format", "time_zone", "boost", "relation", "_name"}


def _q_range(body, ctx):
    field, params = _single_field("range", body)
    if not isinstance(params, dict):
        raise parsing_error("[range] query malformed, after field missing start object")
    unknown = set(params) - _RANGE_KEYS
    if unknown:
        raise parsing_error("[range] query does not support [%s]" % sorted(unknown)[0])
    tz = params.get("time_zone")
    if tz not in (None, "Z", "UTC", "+00:00", "+0000", "Etc/UTC"):
        raise unsupported("time_zone in the [range] query")
    lower = upper = None
    inc_lower = inc_upper = True
    if "from" in params:
        lower, inc_lower = params["from"], params.get("include_lower", True)
    if "to" in params:
        upper, inc_upper = params["to"], params.get("include_upper", True)
    if "gte" in params:
        lower, inc_lower = params["gte"], True
    if "gt" in params:
        lower, inc_lower = params["gt"], False
    if "lte" in params:
        upper, inc_upper = params["lte"], True
    if "lt" in params:
        upper, inc_upper = params["lt"], False
    info = ctx.field(field)
    if info is None or info.kind in ("object", "binary", "boolean"):
        return _never
    fmt = params.get("format") or info.fmt

    def convert(value, is_upper, inclusive):
        if value is None:
            return None
        if info.kind == "date":
            # Rounding: gt and lte round up, gte and lt round down.
            round_up = (not is_upper and not inclusive) or (is_upper and inclusive)
            try:
                return parse_date_math(value, fmt, round_up, ctx.now_ms)
            except DateParseError:
                reason = "failed to parse date field [%s] with format [%s]" % (value, fmt)
                raise ctx.query_error("failed to create query: " + reason,
                                      cause("parse_exception", reason))
        if info.kind == "ip":
            try:
                return ipaddress.ip_address(str(value))
            except ValueError:
                raise ctx.query_error("failed to create query: '%s' is not an IP "
                                      "string literal." % value)
        return _convert_term(ctx, info, value, "range")

    lo = convert(lower, False, inc_lower)
    hi = convert(upper, True, inc_upper)

    def in_range(x):
        if lo is not None and (x < lo or (x == lo and not inc_lower)):
            return False
        if hi is not None and (x > hi or (x == hi and not inc_upper)):
            return False
        return True

    path = field
    if info.kind == "text":
        return lambda d: any(in_range(t) for toks in _values(d, path) for t in toks)
    if info.kind == "ip":
        return lambda d: any(in_range(ipaddress.ip_address(x)) for x in _values(d, path))
    return lambda d: any(in_range(x) for x in _values(d, path))


def _q_exists(body, ctx):
    if not isinstance(body, dict) or "field" not in body:
        raise parsing_error("[exists] must be provided with a [field]")
    unknown = set(body) - {"field", "boost", "_name"}
    if unknown:
        raise parsing_error("[exists] query does not support [%s]" % sorted(unknown)[0])
    field = body["field"]
    if "*" in field:
        return lambda d: any(simple_match(field, k) and v for k, v in d.fields.items())
    info = ctx.field(field)
    if info is not None and info.kind == "object":
        prefix = field + "."
        return lambda d: any(k.startswith(prefix) and v for k, v in d.fields.items())
    if info is None:
        return _never
    return lambda d: bool(d.fields.get(field))


def _match_params(name, body):
    field, params = _single_field(name, body)
    if isinstance(params, dict):
        allowed = {"query", "operator", "minimum_should_match", "zero_terms_query",
                   "lenient", "analyzer", "boost", "_name", "slop",
                   "auto_generate_synonyms_phrase_query", "fuzziness",
                   "prefix_length", "max_expansions", "fuzzy_transpositions",
                   "cutoff_frequency"}
        unknown = set(params) - allowed
        if unknown:
            raise parsing_error("[%s] query does not support [%s]"
                                % (name, sorted(unknown)[0]))
        if "query" not in params:
            raise parsing_error("No text specified for text query")
        if params.get("fuzziness") not in (None, 0, "0"):
            raise unsupported("fuzziness in the [%s] query" % name)
        return field, params["query"], params
    return field, params, {}


def _q_match(body, ctx, phrase=False):
    name = "match_phrase" if phrase else "match"
    field, query, params = _match_params(name, body)
    info = ctx.field(field)
    if info is None or info.kind in ("object", "binary"):
        return _never
    path = field
    if info.kind == "text":
        toks = tokenize(query if isinstance(query, str) else str(query))
        if not toks:
            return _always if params.get("zero_terms_query") == "all" else _never
        if phrase:
            n = len(toks)
            tt = tuple(toks)
            return lambda d: any(tuple(v[i:i + n]) == tt for v in _values(d, path)
                                 for i in range(len(v) - n + 1))
        if str(params.get("operator", "or")).lower() == "and":
            need = set(toks)
            return lambda d: need <= {t for v in _values(d, path) for t in v}
        wanted = set(toks)
        msm = params.get("minimum_should_match")
        required = _msm(msm, len(wanted)) if msm is not None else 1
        return lambda d: len(wanted & {t for v in _values(d, path) for t in v}) >= \
            max(required, 1)
    try:
        v = _convert_term(ctx, info, query, name)
    except ShardError:
        if params.get("lenient"):
            return _never
        raise
    if info.kind == "ip" and not isinstance(v, str):
        return lambda d: any(ipaddress.ip_address(x) in v for x in _values(d, path))
    return lambda d: v in _values(d, path)


def _q_match_phrase(body, ctx):
    return _q_match(body, ctx, phrase=True)


def _msm(spec, optional):
    """How many `should` clauses minimum_should_match requires."""
    text = str(spec).strip()
    if text.endswith("%"):
        pct = int(text[:-1])
        n = int(optional * abs(pct) / 100)
        return n if pct >= 0 else optional - n
    n = int(text)
    return n if n >= 0 else optional + n


def _clauses(body, key):
    value = body.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    raise parsing_error("[bool] query does not support [%s]" % key)


def _q_bool(body, ctx):
    if not isinstance(body, dict):
        raise parsing_error("[bool] query malformed, no start_object after query name")
    unknown = set(body) - {"must", "filter", "should", "must_not",
                           "minimum_should_match", "boost", "_name",
                           "adjust_pure_negative", "disable_coord"}
    if unknown:
        raise parsing_error("[bool] query does not support [%s]" % sorted(unknown)[0])
    must = [compile_query(c, ctx) for c in _clauses(body, "must") + _clauses(body, "filter")]
    must_not = [compile_query(c, ctx) for c in _clauses(body, "must_not")]
    should = [compile_query(c, ctx) for c in _clauses(body, "should")]
    if "minimum_should_match" in body:
        need = _msm(body["minimum_should_match"], len(should))
    else:
        # Since ES 7 a bool with only should clauses needs one of them.
        need = 1 if should and not must else 0
    need = min(need, len(should)) if should else 0

    def pred(d):
        for m in must:
            if not m(d):
                return False
        for m in must_not:
            if m(d):
                return False
        if need:
            hits = 0
            for s in should:
                if s(d):
                    hits += 1
                    if hits >= need:
                        break
            if hits < need:
                return False
        return True
    return pred


def _q_ids(body, ctx):
    if not isinstance(body, dict) or not isinstance(body.get("values", []), list):
        raise parsing_error("[ids] query malformed")
    wanted = {str(v) for v in body.get("values", [])}
    return lambda d: d.id in wanted


def _string_query(name, body, ctx, make):
    field, params = _single_field(name, body)
    ci = False
    if isinstance(params, dict):
        value = params.get("value", params.get(name))
        ci = bool(params.get("case_insensitive"))
    else:
        value = params
    if not isinstance(value, str):
        raise parsing_error("[%s] query requires a string value" % name)
    info = ctx.field(field)
    if info is None or info.kind not in ("keyword", "text", "flattened"):
        return _never
    test = make(value.lower() if ci else value)
    path = field
    if info.kind == "text":
        return lambda d: any(test(t) for toks in _values(d, path) for t in toks)
    if ci:
        return lambda d: any(test(x.lower()) for x in _values(d, path))
    return lambda d: any(test(x) for x in _values(d, path))


def _q_prefix(body, ctx):
    return _string_query("prefix", body, ctx, lambda v: lambda x: x.startswith(v))


def _q_wildcard(body, ctx):
    def make(v):
        rx = wildcard_to_regex(v)
        return lambda x: bool(rx.match(x))
    return _string_query("wildcard", body, ctx, make)


def _q_regexp(body, ctx):
    def make(v):
        try:
            rx = re.compile(v + r"\Z", re.S)
        except re.error as exc:
            raise ctx.query_error("failed to create query: invalid regexp: %s" % exc)
        return lambda x: bool(rx.match(x))
    return _string_query("regexp", body, ctx, make)


def _q_constant_score(body, ctx):
    if not isinstance(body, dict) or "filter" not in body:
        raise parsing_error("[constant_score] requires a 'filter' element")
    return compile_query(body["filter"], ctx)


_QUERIES = {
    "match_all": _q_match_all, "match_none": _q_match_none, "term": _q_term,
    "terms": _q_terms, "range": _q_range, "exists": _q_exists,
    "match": _q_match, "match_phrase": _q_match_phrase, "bool": _q_bool,
    "ids": _q_ids, "prefix": _q_prefix, "wildcard": _q_wildcard,
    "regexp": _q_regexp, "constant_score": _q_constant_score,
}


# ---------------------------------------------------------------------------
# Doc values for sorting and aggregations
# ---------------------------------------------------------------------------


def _check_doc_values(ctx, info, field):
    """Raise the ES error for fields without doc values (text)."""
    if info is not None and info.kind == "text" and not info.mapping.get("fielddata"):
        raise fielddata_error(field)
    if info is not None and info.kind in ("object", "binary"):
        raise ctx.query_error("Can't load fielddata on [%s] because fielddata is "
                              "unsupported on fields of type [%s]. Use doc values "
                              "instead." % (field, info.mtype))


def doc_values(info, doc, field):
    """Distinct sortable/aggregatable values of a doc for a field."""
    vals = doc.fields.get(field, ())
    if info.kind == "text":
        return sorted({t for toks in vals for t in toks})
    if info.kind == "boolean":
        return sorted({1 if v else 0 for v in vals})
    return sorted(set(vals))


# ---------------------------------------------------------------------------
# Sorting
# ---------------------------------------------------------------------------


class SortSpec:
    def __init__(self, field, order="asc", missing="_last", unmapped_type=None,
                 mode=None):
        self.field = field
        self.order = order
        self.missing = missing
        self.unmapped_type = unmapped_type
        self.mode = mode


def parse_sort(spec):
    """Normalize the `sort` of a body or the `sort` query parameter."""
    if spec is None:
        return []
    if isinstance(spec, (str, dict)):
        spec = [spec]
    out = []
    for item in spec:
        if isinstance(item, str):
            if ":" in item and not item.startswith("_"):
                field, order = item.rsplit(":", 1)
            else:
                field, order = item, None
            default = "desc" if field == "_score" else "asc"
            out.append(SortSpec(field, order or default))
            continue
        if not isinstance(item, dict) or len(item) != 1:
            raise parsing_error("[sort] malformed, expected a field name or an object "
                                "with one field")
        (field, opts), = item.items()
        default = "desc" if field == "_score" else "asc"
        if isinstance(opts, str):
            out.append(SortSpec(field, opts))
            continue
        if not isinstance(opts, dict):
            raise parsing_error("[sort] malformed options for [%s]" % field)
        order = opts.get("order", default)
        if order not in ("asc", "desc"):
            raise error(400, "illegal_argument_exception",
                        "Unknown SortOrder [%s]" % order)
        out.append(SortSpec(field, order, opts.get("missing", "_last"),
                            opts.get("unmapped_type"), opts.get("mode")))
    return out


class _Sorter:
    """Sort values of documents for one index (raises ShardError)."""

    def __init__(self, specs, ctx, pit_tiebreak):
        self.specs = specs
        self.infos = []
        for s in specs:
            if s.field in ("_score", "_doc", "_shard_doc"):
                self.infos.append(None)
                continue
            info = ctx.field(s.field)
            if info is None:
                if s.unmapped_type is None:
                    reason = "No mapping found for [%s] in order to sort on" % s.field
                    raise ctx.query_error(reason)
                self.infos.append("unmapped")
                continue
            _check_doc_values(ctx, info, s.field)
            self.infos.append(info)
        self.pit_tiebreak = pit_tiebreak

    def values(self, doc):
        out = []
        for s, info in zip(self.specs, self.infos):
            if s.field == "_score":
                out.append(1.0)
            elif s.field in ("_doc", "_shard_doc"):
                out.append(doc.ordinal)
            elif info == "unmapped":
                out.append(_missing_value(s, None))
            else:
                vals = doc_values(info, doc, s.field)
                if not vals:
                    out.append(_missing_value(s, info))
                    continue
                mode = s.mode or ("min" if s.order == "asc" else "max")
                if mode == "max":
                    v = vals[-1]
                elif mode in ("sum", "avg") and info.kind in ("long", "double"):
                    v = sum(vals) if mode == "sum" else sum(vals) / len(vals)
                else:
                    v = vals[0]
                out.append(v)
        if self.pit_tiebreak:
            out.append(doc.ordinal)
        return out


def _missing_value(spec, info):
    """What ES reports (and sorts by) for a document without a value.

    Numeric sorts use the extreme long (or double) so the document lands
    first or last; keyword sorts report null.
    """
    if spec.missing not in ("_last", "_first", None):
        return spec.missing
    last = spec.missing in ("_last", None)
    numeric = info is not None and info != "unmapped" and \
        info.kind in ("long", "date", "boolean", "double")
    if not numeric:
        return _MissingKey(last, spec.order)
    high = (spec.order == "asc") == last
    if info.kind == "double":
        return 1.7976931348623157e308 if high else -1.7976931348623157e308
    return LONG_MAX if high else LONG_MIN


class _MissingKey:
    """A missing keyword sort value: null in the output, first/last in order."""

    def __init__(self, last, order):
        self.last = last
        self.order = order

    def __repr__(self):
        return "MISSING"


def _cmp_values(a, b):
    if isinstance(a, _MissingKey) or isinstance(b, _MissingKey) or a is None or b is None:
        return 0
    try:
        return (a > b) - (a < b)
    except TypeError:  # e.g. a search_after string against a number
        return (str(a) > str(b)) - (str(a) < str(b))


def _cmp_sort(specs, tiebreak):
    """A comparator of (sort values, ordinal) pairs following the specs."""
    n = len(specs)

    def cmp(x, y):
        va, vb = x[0], y[0]
        for i in range(min(len(va), len(vb))):
            a, b = va[i], vb[i]
            order = specs[i].order if i < n else "asc"
            ma = isinstance(a, _MissingKey) or a is None
            mb = isinstance(b, _MissingKey) or b is None
            if ma or mb:
                if ma and mb:
                    continue
                # Missing sorts last (or first) whatever the order.
                missing_last = (a.last if ma and isinstance(a, _MissingKey)
                                else b.last if isinstance(b, _MissingKey) else True)
                if ma:
                    return 1 if missing_last else -1
                return -1 if missing_last else 1
            c = _cmp_values(a, b)
            if c:
                return c if order == "asc" else -c
        if tiebreak:
            return (x[1] > y[1]) - (x[1] < y[1])
        return 0
    return cmp


def _apply_search_after(rows, specs, after):
    """Keep the rows that sort strictly after the `search_after` values."""
    width = len(rows[0][2]) if rows else len(specs)
    if len(after) not in (width, len(specs)):
        raise bad_request("search_after has %d value(s) but sort has %d."
                          % (len(after), len(specs)))
    cmp = _cmp_sort(specs, False)
    kept = []
    for r in rows:
        vals = r[2][:len(after)]
        conv = []
        for i, (a, v) in enumerate(zip(after, vals)):
            spec = specs[i] if i < len(specs) else SortSpec("_shard_doc")
            if a is None:
                conv.append(_MissingKey(spec.missing in ("_last", None), spec.order))
            elif isinstance(a, str) and isinstance(v, (int, float)):
                try:
                    conv.append(parse_date(a))
                except DateParseError:
                    raise bad_request("Failed to parse search_after value [%s]" % a)
            else:
                conv.append(a)
        if cmp((vals, 0), (conv, 0)) > 0:
            kept.append(r)
    return kept


def _public_sort_values(values):
    return [None if isinstance(v, _MissingKey) else v for v in values]


# ---------------------------------------------------------------------------
# Aggregations
# ---------------------------------------------------------------------------


class AggSpec:
    def __init__(self, name, atype, body, subs, meta=None):
        self.name = name
        self.type = atype
        self.body = body
        self.subs = subs
        self.meta = meta


def parse_aggs(aggs, depth=0, flavor=None):
    """Parse an aggregations object (request-level validation only)."""
    if aggs is None:
        return []
    if not isinstance(aggs, dict):
        raise parsing_error("Expected [START_OBJECT] under [aggregations], but got a "
                            "[%s]" % type(aggs).__name__)
    out = []
    for name, body in aggs.items():
        if not isinstance(body, dict):
            raise parsing_error("Expected [START_OBJECT] under [%s], but got a "
                                "[VALUE]" % name)
        types = [k for k in body if k not in ("aggs", "aggregations", "meta")]
        if len(types) > 1:
            raise parsing_error("Found two aggregation type definitions in [%s]: "
                                "[%s] and [%s]" % (name, types[0], types[1]))
        if not types:
            raise parsing_error("Missing definition for aggregation [%s]" % name)
        atype = types[0]
        if atype in KNOWN_UNSUPPORTED_AGGS:
            raise unsupported("the [%s] aggregation" % atype)
        if atype not in METRIC_AGGS and atype not in BUCKET_AGGS:
            raise error(400, "parsing_exception",
                        "Unknown aggregation type [%s]" % atype,
                        caused_by=cause("named_object_not_found_exception",
                                        "[1:1] unknown field [%s]" % atype))
        params = body[atype]
        if not isinstance(params, dict):
            raise parsing_error("Expected [START_OBJECT] under [%s], but got a "
                                "[VALUE]" % atype)
        subs = parse_aggs(body.get("aggs", body.get("aggregations")), depth + 1, flavor)
        if atype in METRIC_AGGS and subs:
            raise error(400, "aggregation_initialization_exception",
                        "Aggregator [%s] of type [%s] cannot accept sub-aggregations"
                        % (name, atype))
        spec = AggSpec(name, atype, params, subs, body.get("meta"))
        spec.flavor = flavor
        _validate_agg(spec)
        out.append(spec)
    return out


def _validate_agg(spec):
    p = spec.body
    if spec.type == "terms":
        if "script" in p:
            raise unsupported("scripts in the [terms] aggregation")
        if "field" not in p:
            raise error(400, "illegal_argument_exception",
                        "Required one of fields [field, script], but none were specified.")
        size = p.get("size", 10)
        if not isinstance(size, int) or size <= 0:
            raise error(400, "illegal_argument_exception",
                        "[size] must be greater than 0. Found [%s] in [%s]"
                        % (size, spec.name))
        if p.get("min_doc_count", 1) == 0:
            raise unsupported("min_doc_count 0 in the [terms] aggregation")
        # One shard is modelled, so every term is counted exactly: the
        # shard size only needs to be valid.
        shard_size = p.get("shard_size", size)
        if not isinstance(shard_size, int) or shard_size <= 0:
            raise error(400, "illegal_argument_exception",
                        "[shardSize] must be greater than 0. Found [%s] in [%s]"
                        % (shard_size, spec.name))
    elif spec.type == "composite":
        sources = p.get("sources")
        if not isinstance(sources, list) or not sources:
            raise error(400, "x_content_parse_exception",
                        "[composite] Required [sources]")
        names = []
        for src in sources:
            if not isinstance(src, dict) or len(src) != 1:
                raise parsing_error("[composite] sources must be objects with one key")
            (sname, sbody), = src.items()
            if not isinstance(sbody, dict) or len(sbody) != 1:
                raise parsing_error("[%s] malformed composite source" % sname)
            (stype, sparams), = sbody.items()
            if stype != "terms":
                raise unsupported("[%s] sources of the [composite] aggregation" % stype)
            if "script" in sparams:
                raise unsupported("scripts in composite sources")
            if "field" not in sparams:
                raise error(400, "illegal_argument_exception",
                            "Required one of fields [field, script], but none were "
                            "specified.")
            names.append(sname)
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise error(400, "illegal_argument_exception",
                        "Composite source names must be unique, found duplicates: [%s]"
                        % ", ".join(dup))
        size = p.get("size", 10)
        if not isinstance(size, int) or size < 1:
            raise error(400, "illegal_argument_exception",
                        "[size] must be greater than 0. Found [%s] in [%s]"
                        % (size, spec.name))
    elif spec.type == "date_histogram":
        _validate_date_histogram(spec)
    elif spec.type == "global":
        if p:
            raise parsing_error("Unexpected token in [global] aggregation [%s]: [%s]"
                                % (spec.name, sorted(p)[0]))
    elif spec.type == "filter":
        # A query: its syntax is checked at request level, as ES parses it.
        compile_query(p, Context(spec.flavor, "_na_", {}, {}, []))
    elif spec.type in METRIC_AGGS:
        if "script" in p:
            raise unsupported("scripts in the [%s] aggregation" % spec.type)
        if "field" not in p:
            raise error(400, "illegal_argument_exception",
                        "Required one of fields [field, script], but none were specified.")


# date_histogram: the interval parameters each engine takes. Elasticsearch
# 6.x to 7.1 has only `interval`; 7.2 added `fixed_interval` and
# `calendar_interval` and deprecated `interval` (7.x and OpenSearch still
# take it, with a deprecation warning this server does not send), which 8.0
# removed.
_INTERVAL_KEYS = ("interval", "fixed_interval", "calendar_interval")
_FIXED_UNITS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
# Calendar units of a fixed length in UTC (the only time zone implemented);
# weeks, months, quarters and years are not implemented.
_CALENDAR_UNITS = {"1m": 60000, "minute": 60000, "1h": 3600000, "hour": 3600000,
                   "1d": 86400000, "day": 86400000}
_CALENDAR_UNSUPPORTED = {"1w", "week", "1M", "month", "1q", "quarter", "1y", "year"}
_DATE_HISTOGRAM_KEYS = {"field", "min_doc_count", "time_zone"} | set(_INTERVAL_KEYS)
_DATE_HISTOGRAM_UNSUPPORTED = {"script", "offset", "extended_bounds", "hard_bounds", "keyed",
                               "order", "missing", "format", "value_type"}
_UTC_ZONES = {"UTC", "Z", "+00:00", "Etc/UTC", "GMT"}


def _interval_ms(key, value):
    """The length in ms of a date_histogram interval (or raise as ES does)."""
    text = str(value)
    if key != "fixed_interval" and text in _CALENDAR_UNITS:
        return _CALENDAR_UNITS[text]
    if key != "fixed_interval" and text in _CALENDAR_UNSUPPORTED:
        raise unsupported("calendar intervals longer than a day in [date_histogram]")
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", text)
    if key != "calendar_interval" and m and int(m.group(1)) > 0:
        return int(m.group(1)) * _FIXED_UNITS[m.group(2)]
    if key == "calendar_interval":
        detail = cause("illegal_argument_exception", "The supplied interval [%s] could not be "
                       "parsed as a calendar interval." % text)
    else:
        detail = cause("illegal_argument_exception", "failed to parse setting "
                       "[date_histogram.%s] with value [%s] as a time value: unit is missing or "
                       "unrecognized" % ("fixedInterval" if key == "fixed_interval"
                                         else "interval", text))
    raise error(400, "x_content_parse_exception",
                "[date_histogram] failed to parse field [%s]" % key, caused_by=detail)


def _validate_date_histogram(spec):
    """Request-level checks of a date_histogram, per flavor; sets spec.interval."""
    p = spec.body
    flavor = spec.flavor
    for key in p:
        if key in _DATE_HISTOGRAM_UNSUPPORTED:
            raise unsupported("[%s] in the [date_histogram] aggregation" % key)
        if key not in _DATE_HISTOGRAM_KEYS:
            raise error(400, "x_content_parse_exception",
                        "[date_histogram] unknown field [%s]" % key)
    given = [k for k in _INTERVAL_KEYS if k in p]
    legacy = flavor.name == "es6" or (flavor.name == "es7" and flavor.version < (7, 2))
    for key in given:
        if legacy and key != "interval":
            raise error(400, "x_content_parse_exception",
                        "[date_histogram] unknown field [%s], parser not found" % key)
        if flavor.name == "es8" and key == "interval":
            raise error(400, "x_content_parse_exception",
                        "[date_histogram] unknown field [interval] did you mean "
                        "[fixed_interval]?")
    if len(given) > 1:
        raise error(400, "illegal_argument_exception",
                    "Cannot use [%s] with [%s] configuration option." % (given[1], given[0]))
    if not given:
        raise error(400, "illegal_argument_exception",
                    "Invalid interval specified, must be non-null and non-empty")
    if "field" not in p:
        raise error(400, "illegal_argument_exception",
                    "Required one of fields [field, script], but none were specified.")
    spec.interval = _interval_ms(given[0], p[given[0]])
    mdc = p.get("min_doc_count", 0)
    if isinstance(mdc, bool) or not isinstance(mdc, int) or mdc < 0:
        raise error(400, "illegal_argument_exception",
                    "[minDocCount] must be greater than or equal to 0. Found [%s] in [%s]"
                    % (mdc, spec.name))
    zone = p.get("time_zone")
    if zone is not None and zone not in _UTC_ZONES:
        raise unsupported("time_zone other than UTC")


class _AggRun:
    """Executes aggregations over documents of several indices."""

    def __init__(self, flavor, max_buckets):
        self.flavor = flavor
        self.max_buckets = max_buckets
        self.buckets = 0
        self.contexts = []  # the indices searched without failure (for global)

    def check_shard(self, specs, ctx, parent=None):
        """Per-index validation: field types and composite placement."""
        for spec in specs:
            if spec.type == "composite":
                if parent is not None:
                    if self.flavor.name == "es6":
                        reason = "[composite] aggregation cannot be used with a parent aggregation"
                    else:
                        reason = ("[composite] aggregation cannot be used with a parent "
                                  "aggregation of type: [%s]" % _FACTORY[parent.type])
                    raise ShardError(cause("illegal_argument_exception", reason))
                size = spec.body.get("size", 10)
                if self.max_buckets >= 0 and size > self.max_buckets:
                    raise self.too_many(size)
                for src in spec.body["sources"]:
                    (sname, sbody), = src.items()
                    field = sbody["terms"]["field"]
                    _check_doc_values(ctx, ctx.field(field), field)
            elif spec.type == "global":
                if parent is not None:
                    raise ShardError(cause(
                        "aggregation_execution_exception",
                        "Aggregation [%s] cannot have a global sub-aggregation [%s]. Global "
                        "aggregations can only be defined as top level aggregations"
                        % (parent.name, spec.name)), status=500)
            elif spec.type == "filter":
                compile_query(spec.body, ctx)
            else:
                field = spec.body["field"]
                info = ctx.field(field)
                _check_doc_values(ctx, info, field)
                if spec.type == "date_histogram" and info is not None and \
                        info.kind not in ("date", "long", "double"):
                    raise ShardError(cause(
                        "illegal_argument_exception",
                        "Field [%s] of type [%s] is not supported for aggregation "
                        "[date_histogram]" % (field, info.mtype)))
            self.check_shard(spec.subs, ctx, spec if spec.type in BUCKET_AGGS else parent)

    def too_many(self, count):
        if self.flavor.buckets_new_wording and count is None:
            reason = ("Trying to create too many buckets. Must be less than or equal "
                      "to: [%d] but this number of buckets was exceeded. This limit can "
                      "be set by changing the [search.max_buckets] cluster level "
                      "setting." % self.max_buckets)
        else:
            reason = ("Trying to create too many buckets. Must be less than or equal "
                      "to: [%d] but was [%d]. This limit can be set by changing the "
                      "[search.max_buckets] cluster level setting."
                      % (self.max_buckets, count if count is not None
                         else self.max_buckets + 1))
        c = cause("too_many_buckets_exception", reason, max_buckets=self.max_buckets)
        return ShardError(c, status=self.flavor.buckets_status)

    def count_buckets(self, n):
        """Count buckets as the coordinating node's reduce does (ES >= 7.9)."""
        self.buckets += n
        if self.max_buckets >= 0 and self.buckets > self.max_buckets:
            raise _ReduceFailure(self.too_many(None))

    # -- execution ----------------------------------------------------------

    def run(self, specs, rows, typed_keys):
        """rows: list of (ctx, doc). Returns the aggregations object."""
        out = {}
        for spec in specs:
            result = getattr(self, "_agg_" + spec.type)(spec, rows, typed_keys)
            if spec.meta is not None:
                result = dict(result)
                result["meta"] = spec.meta
            key = spec.name
            if typed_keys:
                key = "%s#%s" % (self._typed_name(spec, rows), spec.name)
            out[key] = result
        return out

    def _typed_name(self, spec, rows):
        if spec.type != "terms":
            return spec.type
        for ctx, _ in rows:
            info = ctx.field(spec.body["field"])
            if info is not None:
                return {"long": "lterms", "date": "lterms", "boolean": "lterms",
                        "double": "dterms"}.get(info.kind, "sterms")
        return "sterms" if rows else "umterms"

    @staticmethod
    def _values(ctx, doc, field):
        info = ctx.field(field)
        if info is None:
            return [], None
        return doc_values(info, doc, field), info

    def _agg_terms(self, spec, rows, typed_keys):
        p = spec.body
        field = p["field"]
        groups = {}
        kind_info = None
        missing = p.get("missing")
        for ctx, doc in rows:
            vals, info = self._values(ctx, doc, field)
            if info is not None and kind_info is None:
                kind_info = info
            if not vals and missing is not None:
                vals = [missing]
            for v in vals:
                groups.setdefault(v, []).append((ctx, doc))
        include, exclude = p.get("include"), p.get("exclude")
        if include is not None or exclude is not None:
            groups = {k: v for k, v in groups.items()
                      if _include_ok(k, include, exclude)}
        min_count = p.get("min_doc_count", 1)
        items = [(k, docs) for k, docs in groups.items() if len(docs) >= min_count]
        # Sub-aggregation results are needed before ordering by them.
        results = {}
        for k, docs in items:
            results[k] = self.run(spec.subs, docs, typed_keys) if spec.subs else {}
        items.sort(key=functools.cmp_to_key(
            _terms_order(p.get("order"), results, spec)))
        size = p.get("size", 10)
        shown, rest = items[:size], items[size:]
        self.count_buckets(len(shown))
        buckets = []
        for k, docs in shown:
            b = {"key": k}
            if kind_info is not None and kind_info.kind == "date":
                b["key_as_string"] = format_date(k)
            elif kind_info is not None and kind_info.kind == "boolean":
                b["key_as_string"] = "true" if k else "false"
            b["doc_count"] = len(docs)
            if p.get("show_term_doc_count_error"):
                b["doc_count_error_upper_bound"] = 0
            b.update(results[k])
            buckets.append(b)
        return {"doc_count_error_upper_bound": 0,
                "sum_other_doc_count": sum(len(d) for _, d in rest),
                "buckets": buckets}

    def _agg_global(self, spec, rows, typed_keys):
        """Every searchable document of the indices, whatever the query."""
        every = [(ctx, d) for ctx in self.contexts for d in ctx.docs]
        out = {"doc_count": len(every)}
        out.update(self.run(spec.subs, every, typed_keys))
        return out

    def _agg_filter(self, spec, rows, typed_keys):
        preds = {}
        kept = []
        for ctx, doc in rows:
            if id(ctx) not in preds:
                preds[id(ctx)] = compile_query(spec.body, ctx)
            if preds[id(ctx)](doc):
                kept.append((ctx, doc))
        out = {"doc_count": len(kept)}
        out.update(self.run(spec.subs, kept, typed_keys))
        return out

    def _agg_date_histogram(self, spec, rows, typed_keys):
        """Buckets of `interval` ms from the epoch (UTC), ascending; with
        min_doc_count 0 (the default) the empty ones between the first and
        the last too, as ES fills them."""
        field, step = spec.body["field"], spec.interval
        groups = {}
        for ctx, doc in rows:
            vals, _info = self._values(ctx, doc, field)
            for key in sorted({int(v) // step * step for v in vals}):
                groups.setdefault(key, []).append((ctx, doc))
        min_count = spec.body.get("min_doc_count", 0)
        keys = sorted(groups)
        if min_count == 0 and keys:
            keys = list(range(keys[0], keys[-1] + step, step))
        keys = [k for k in keys if len(groups.get(k, ())) >= min_count]
        self.count_buckets(len(keys))
        buckets = []
        for k in keys:
            docs = groups.get(k, [])
            b = {"key_as_string": format_date(k), "key": k, "doc_count": len(docs)}
            b.update(self.run(spec.subs, docs, typed_keys))
            buckets.append(b)
        return {"buckets": buckets}

    def _agg_composite(self, spec, rows, typed_keys):
        p = spec.body
        sources = []
        for src in p["sources"]:
            (sname, sbody), = src.items()
            sp = sbody["terms"]
            sources.append((sname, sp["field"], sp.get("order", "asc"),
                            bool(sp.get("missing_bucket", False)),
                            sp.get("missing_order", "default")))
        size = p.get("size", 10)
        after = p.get("after")
        if after is not None:
            if not isinstance(after, dict) or len(after) != len(sources):
                n = len(after) if isinstance(after, dict) else 0
                raise error(400, "illegal_argument_exception",
                            "[after] has %d value(s) but [sources] has %d"
                            % (n, len(sources)))
            for sname, *_ in sources:
                if sname not in after:
                    raise error(400, "illegal_argument_exception",
                                "Missing value for [after.%s]" % sname)
        groups = {}
        kinds = [None] * len(sources)
        for ctx, doc in rows:
            per_source = []
            for i, (sname, field, _order, missing_bucket, _mo) in enumerate(sources):
                vals, info = self._values(ctx, doc, field)
                if info is not None and kinds[i] is None:
                    kinds[i] = info.kind
                if not vals:
                    if not missing_bucket:
                        per_source = None
                        break
                    vals = [None]
                per_source.append(vals)
            if per_source is None:
                continue
            for key in _product(per_source):
                groups.setdefault(key, []).append((ctx, doc))

        def key_cmp(a, b):
            for i, (_n, _f, order, _mb, missing_order) in enumerate(sources):
                x, y = a[i], b[i]
                if x == y:
                    continue
                # Missing (null) keys come first in ascending order.
                first = missing_order == "first" or (missing_order == "default"
                                                     and order == "asc")
                if x is None:
                    return -1 if first else 1
                if y is None:
                    return 1 if first else -1
                c = -1 if x < y else 1
                return c if order == "asc" else -c
            return 0

        keys = sorted(groups, key=functools.cmp_to_key(key_cmp))
        if after is not None:
            after_key = tuple(_after_value(after[s[0]], kinds[i])
                              for i, s in enumerate(sources))
            keys = [k for k in keys if key_cmp(k, after_key) > 0]
        page = keys[:size]
        self.count_buckets(len(page))
        buckets = []
        for k in page:
            key_obj = {}
            for i, (sname, *_rest) in enumerate(sources):
                key_obj[sname] = _composite_key_out(k[i], kinds[i])
            b = {"key": key_obj, "doc_count": len(groups[k])}
            if spec.subs:
                b.update(self.run(spec.subs, groups[k], typed_keys))
            buckets.append(b)
        out = {}
        if buckets:
            out["after_key"] = dict(buckets[-1]["key"])
        out["buckets"] = buckets
        return out

    def _metric_values(self, spec, rows):
        field = spec.body["field"]
        values = []
        kind = None
        for ctx, doc in rows:
            vals, info = self._values(ctx, doc, field)
            if info is not None and kind is None:
                kind = info.kind
            if spec.type == "value_count":
                values.extend(doc.fields.get(field, ()))
            else:
                values.extend(vals)
        if not values and "missing" in spec.body:
            values = [spec.body["missing"]] * len(rows)
        return values, kind

    def _metric_out(self, value, kind):
        out = {"value": value}
        if value is not None and kind == "date":
            out["value_as_string"] = format_date(int(value))
        return out

    def _agg_min(self, spec, rows, typed_keys):
        values, kind = self._metric_values(spec, rows)
        nums = [v for v in values if isinstance(v, (int, float))]
        return self._metric_out(float(min(nums)) if nums else None, kind)

    def _agg_max(self, spec, rows, typed_keys):
        values, kind = self._metric_values(spec, rows)
        nums = [v for v in values if isinstance(v, (int, float))]
        return self._metric_out(float(max(nums)) if nums else None, kind)

    def _agg_sum(self, spec, rows, typed_keys):
        values, kind = self._metric_values(spec, rows)
        nums = [v for v in values if isinstance(v, (int, float))]
        return {"value": float(sum(nums))}

    def _agg_avg(self, spec, rows, typed_keys):
        values, kind = self._metric_values(spec, rows)
        nums = [v for v in values if isinstance(v, (int, float))]
        return self._metric_out(float(sum(nums)) / len(nums) if nums else None, kind)

    def _agg_value_count(self, spec, rows, typed_keys):
        values, _ = self._metric_values(spec, rows)
        return {"value": len(values)}

    def _agg_cardinality(self, spec, rows, typed_keys):
        values, _ = self._metric_values(spec, rows)
        return {"value": len(set(values))}


class _ReduceFailure(Exception):
    """A failure while reducing shard results (not on a shard).

    ES reports it as a search_phase_execution_exception with an empty reason,
    phase "fetch", no failed shards and the cause under "caused_by".
    """

    def __init__(self, shard_error):
        super().__init__(shard_error.cause["reason"])
        self.error = shard_error

    def as_es_error(self):
        return error(self.error.status, "search_phase_execution_exception", "",
                     root_cause=[], caused_by=self.error.cause, phase="fetch",
                     grouped=True, failed_shards=[])


def _product(lists):
    out = [()]
    for vals in lists:
        out = [prev + (v,) for prev in out for v in vals]
    return out


def _include_ok(key, include, exclude):
    text = key if isinstance(key, str) else str(key)
    if include is not None:
        if isinstance(include, list):
            if key not in include and text not in include:
                return False
        elif isinstance(include, str) and not re.fullmatch(include, text):
            return False
    if exclude is not None:
        if isinstance(exclude, list):
            if key in exclude or text in exclude:
                return False
        elif isinstance(exclude, str) and re.fullmatch(exclude, text):
            return False
    return True


def _terms_order(order, results, spec):
    """Comparator of (key, docs) pairs for a terms aggregation's `order`."""
    if order is None:
        order = [{"_count": "desc"}]
    elif isinstance(order, dict):
        order = [{k: v} for k, v in order.items()]
    crit = []
    for o in order:
        (k, direction), = o.items()
        if k == "_term":
            k = "_key"
        crit.append((k, direction))
    if not any(k == "_key" for k, _ in crit):
        crit.append(("_key", "asc"))  # ES breaks ties by key ascending

    def metric(key, name):
        agg, _, prop = name.partition(".")
        found = None
        for rk, rv in results[key].items():
            if rk == agg or rk.endswith("#" + agg):
                found = rv
        if found is None:
            raise error(400, "aggregation_execution_exception",
                        "Invalid aggregator order path [%s]. Unknown aggregation [%s]"
                        % (name, agg))
        v = found.get(prop or "value")
        return float("-inf") if v is None else v

    def cmp(a, b):
        for k, direction in crit:
            if k == "_count":
                x, y = len(a[1]), len(b[1])
            elif k == "_key":
                x, y = a[0], b[0]
            else:
                x, y = metric(a[0], k), metric(b[0], k)
            if x != y:
                c = -1 if x < y else 1
                return c if direction == "asc" else -c
        return 0
    return cmp


def _after_value(value, kind):
    """Convert an `after` value to the indexed form to compare keys."""
    if value is None:
        return None
    if kind == "date" and isinstance(value, str):
        try:
            return parse_date(value)
        except DateParseError:
            raise error(400, "illegal_argument_exception",
                        "failed to parse date field [%s]" % value)
    if kind == "boolean":
        return 1 if value in (True, 1, "true") else 0
    if kind in ("long", "double", "date"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                return float(value)
            except (TypeError, ValueError):
                raise error(400, "illegal_argument_exception",
                            'For input string: "%s"' % value)
        return value
    if kind in ("keyword", "text", "ip", "flattened") and not isinstance(value, str):
        return str(value)
    return value


def _composite_key_out(value, kind):
    """How a composite key is rendered: dates as strings, booleans as bools."""
    if value is None:
        return None
    if kind == "date":
        return format_date(value)
    if kind == "boolean":
        return bool(value)
    return value


# ---------------------------------------------------------------------------
# _source filtering
# ---------------------------------------------------------------------------


def _as_patterns(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [p for p in value.split(",") if p] if "," in value else [value]
    return list(value)


def source_filter(spec, params=None):
    """(enabled, includes, excludes) from a body `_source` and URL params."""
    params = params or {}
    enabled, includes, excludes = True, [], []
    if spec is False or spec == "false":
        enabled = False
    elif spec is True or spec is None or spec == "true":
        pass
    elif isinstance(spec, (str, list)):
        includes = _as_patterns(spec)
    elif isinstance(spec, dict):
        includes = _as_patterns(spec.get("includes", spec.get("include")))
        excludes = _as_patterns(spec.get("excludes", spec.get("exclude")))
        if spec.get("enabled") is False:
            enabled = False
    if "_source" in params:
        v = params["_source"]
        if v == "false":
            enabled = False
        elif v != "true":
            includes = _as_patterns(v)
    if "_source_includes" in params:
        includes = _as_patterns(params["_source_includes"])
    if "_source_excludes" in params:
        excludes = _as_patterns(params["_source_excludes"])
    return enabled, includes, excludes


def filter_source(source, includes, excludes):
    """Apply include/exclude patterns to a document source (dotted paths)."""
    if not includes and not excludes:
        return source

    def matches(patterns, path):
        return any(simple_match(p, path) or path.startswith(p + ".")
                   for p in patterns)

    def may_contain(path):
        return any(p.startswith(path + ".") or
                   ("*" in p and simple_match(p.split(".")[0] + "*", path))
                   for p in includes)

    def walk(obj, prefix):
        out = {}
        for k, v in obj.items():
            path = prefix + k
            if excludes and matches(excludes, path):
                continue
            if not includes or matches(includes, path):
                if isinstance(v, dict) and excludes:
                    out[k] = walk_all(v, path + ".")
                else:
                    out[k] = v
            elif isinstance(v, dict) and may_contain(path):
                sub = walk(v, path + ".")
                if sub:
                    out[k] = sub
            elif isinstance(v, list) and may_contain(path):
                items = [walk(x, path + ".") for x in v if isinstance(x, dict)]
                items = [x for x in items if x]
                if items:
                    out[k] = items
        return out

    def walk_all(obj, prefix):
        return {k: (walk_all(v, prefix + k + ".") if isinstance(v, dict) else v)
                for k, v in obj.items() if not matches(excludes, prefix + k)}

    return walk(source, "")


# ---------------------------------------------------------------------------
# The search itself
# ---------------------------------------------------------------------------


class SearchRequest:
    """A parsed search body plus the query parameters that affect it."""

    def __init__(self, body, params, flavor):
        body = body or {}
        if not isinstance(body, dict):
            raise parsing_error("Expected [START_OBJECT] but found [%s]"
                                % type(body).__name__)
        for key in body:
            if key not in SEARCH_BODY_KEYS:
                raise parsing_error("Unknown key for a START_OBJECT in [%s]." % key)
            if key in UNSUPPORTED_BODY_KEYS:
                raise unsupported("[%s] in a search body" % key)
        if body.get("runtime_mappings"):
            raise unsupported("runtime_mappings")
        if "q" in params:
            raise unsupported("the q parameter (Lucene query syntax)")
        self.body = body
        self.params = params
        self.query = body.get("query")
        self.post_filter = body.get("post_filter")
        self.aggs = parse_aggs(body.get("aggs", body.get("aggregations")), flavor=flavor)
        self.size = _int_param(params.get("size"), body.get("size"), 10, "size")
        self.from_ = _int_param(params.get("from"), body.get("from"), 0, "from")
        if self.size < 0:
            raise bad_request("[size] parameter cannot be negative, found [%d]" % self.size)
        if self.from_ < 0:
            raise bad_request("[from] parameter cannot be negative, found [%d]" % self.from_)
        sort = body.get("sort")
        if "sort" in params:
            sort = params["sort"].split(",")
        self.sort = parse_sort(sort)
        self.search_after = body.get("search_after")
        if self.search_after is not None:
            if not self.sort:
                raise bad_request("Sort must contain at least one field.")
            if not isinstance(self.search_after, list):
                raise parsing_error("[search_after] must be an array")
        self.source = source_filter(body.get("_source"), params)
        self.track_scores = bool(body.get("track_scores"))
        self.version = bool(body.get("version")) or params.get("version") == "true"
        self.seq_no = bool(body.get("seq_no_primary_term")) or \
            params.get("seq_no_primary_term") == "true"
        tth = body.get("track_total_hits", params.get("track_total_hits"))
        if isinstance(tth, str):
            tth = {"true": True, "false": False}.get(tth, None) if not tth.isdigit() \
                else int(tth)
        self.as_int = flavor.total_as_int or params.get("rest_total_hits_as_int") == "true"
        if tth is None:
            tth = True if (self.as_int or flavor.name == "es6") else 10000
        if self.as_int and tth is not True and flavor.name != "es6":
            if tth is False or tth != 10000:
                raise bad_request("[rest_total_hits_as_int] cannot be used if the "
                                  "tracking of total hits is not accurate, got %s" % tth)
            tth = True
        self.track_total_hits = tth
        self.typed_keys = params.get("typed_keys") == "true"


def _int_param(url_value, body_value, default, name):
    value = url_value if url_value is not None else body_value
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request("Failed to parse int parameter [%s] with value [%s]"
                          % (name, value))


def execute(flavor, contexts, req, max_buckets, pit=False, scroll_all=False,
            faults=None):
    """Run a parsed search over index contexts; return (response, all_hits).

    `all_hits` is the full sorted hit list (used by scroll); the response
    holds the page from..from+size. Raises EsError for whole-request
    failures (including every shard failing).
    """
    started = time.monotonic()
    faults = faults or set()
    failures = []
    rows = []          # (ctx, doc, sort values) of matching documents
    agg_rows = []      # (ctx, doc) before post_filter, for aggregations
    agg_run = _AggRun(flavor, max_buckets)
    ok_contexts = []
    # Request-level parsing of the query against no mapping catches syntax
    # errors even when the target matches no index (as ES does).
    compile_query(req.query, Context(flavor, "_na_", {}, {}, []))
    if req.post_filter is not None:
        compile_query(req.post_filter, Context(flavor, "_na_", {}, {}, []))
    for ctx in contexts:
        try:
            window = int(ctx.settings.get("index.max_result_window", 10000))
            if not scroll_all and req.from_ + req.size > window:
                reason = ("Result window is too large, from + size must be less than "
                          "or equal to: [%d] but was [%d]. See the scroll api for a more "
                          "efficient way to request large data sets. This limit can be "
                          "set by changing the [index.max_result_window] index level "
                          "setting." % (window, req.from_ + req.size))
                raise ShardError(cause("illegal_argument_exception", reason))
            pred = compile_query(req.query, ctx)
            post = compile_query(req.post_filter, ctx) if req.post_filter else None
            sorter = _Sorter(req.sort, ctx, pit and bool(req.sort)) if req.sort else None
            agg_run.check_shard(req.aggs, ctx)
            matched = [d for d in ctx.docs if pred(d)]
            for d in matched:
                agg_rows.append((ctx, d))
                if post is None or post(d):
                    rows.append((ctx, d, sorter.values(d) if sorter else None))
            ok_contexts.append(ctx)
        except ShardError as exc:
            failures.append((ctx.name, exc))
    if contexts and not ok_contexts:
        raise phase_error(flavor, failures)

    sort_specs = req.sort
    if sort_specs:
        cmp = _cmp_sort(sort_specs, True)
        rows.sort(key=functools.cmp_to_key(
            lambda a, b: cmp((a[2], (a[0].name, a[1].ordinal)),
                             (b[2], (b[0].name, b[1].ordinal)))))
        if req.search_after is not None:
            rows = _apply_search_after(rows, sort_specs, req.search_after)
    total = len(rows)

    aggregations = None
    agg_run.contexts = ok_contexts
    if req.aggs and ok_contexts:
        try:
            aggregations = agg_run.run(req.aggs, agg_rows, req.typed_keys)
        except _ReduceFailure as exc:
            raise exc.as_es_error()
        except ShardError as exc:
            raise phase_error(flavor, [(c.name, exc) for c in ok_contexts])

    page = rows if scroll_all else rows[req.from_:req.from_ + req.size]
    hits = [_hit(flavor, ctx, doc, vals, req) for ctx, doc, vals in page]

    shards_total = sum(c.shards for c in contexts)
    failed = sum(next(c.shards for c in contexts if c.name == name)
                 for name, _ in failures)
    shards = {"total": shards_total, "successful": shards_total - failed,
              "skipped": 0, "failed": failed}
    if failures:
        shards["failures"] = shard_failure_entries(failures)
    if "partial_shards" in faults:
        _inject_shard_failure(shards, contexts)
    hits_obj = {}
    if req.track_total_hits is not False:
        if req.as_int:
            hits_obj["total"] = total
        elif req.track_total_hits is True or total <= req.track_total_hits:
            hits_obj["total"] = {"value": total, "relation": "eq"}
        else:
            hits_obj["total"] = {"value": int(req.track_total_hits), "relation": "gte"}
    if not contexts:
        hits_obj["max_score"] = 0.0
    elif hits and (not req.sort or req.track_scores):
        hits_obj["max_score"] = 1.0
    else:
        hits_obj["max_score"] = None
    hits_obj["hits"] = hits
    response = {"took": int((time.monotonic() - started) * 1000),
                "timed_out": "timed_out" in faults,
                "_shards": shards, "hits": hits_obj}
    if aggregations is not None:
        response["aggregations"] = aggregations
    all_hits = [_hit(flavor, ctx, doc, vals, req) for ctx, doc, vals in rows] \
        if scroll_all else None
    return response, all_hits


def _hit(flavor, ctx, doc, sort_values, req):
    hit = {"_index": ctx.name}
    if ctx.doc_type:
        hit["_type"] = ctx.doc_type
    hit["_id"] = doc.id
    if req.version:
        hit["_version"] = doc.version
    if req.seq_no:
        hit["_seq_no"] = doc.seq_no
        hit["_primary_term"] = 1
    hit["_score"] = None if (req.sort and not req.track_scores) else 1.0
    enabled, includes, excludes = req.source
    if enabled:
        hit["_source"] = filter_source(doc.source, includes, excludes)
    if sort_values is not None:
        hit["sort"] = _public_sort_values(sort_values)
    return hit


def _inject_shard_failure(shards, contexts):
    """The partial_shards fault: one more shard, failed, as a lost node gives."""
    shards["total"] += 1
    shards["failed"] += 1
    shards.setdefault("failures", []).append({
        "shard": 1, "index": contexts[0].name if contexts else "_na_",
        "node": "injected-fault-node",
        "reason": cause("node_not_connected_exception",
                        "[injected-fault-node][127.0.0.1:9300] Node not connected")})


def count(flavor, contexts, body, params, faults=frozenset()):
    """The _count API: {"count", "_shards"}; the partial_shards fault marks
    one extra shard failed, as for _search (_count has no timed_out)."""
    body = body or {}
    if "q" in params:
        raise unsupported("the q parameter (Lucene query syntax)")
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    for key in body:
        if key not in ("query",):
            raise parsing_error("request does not support [%s]" % key)
    compile_query(body.get("query"), Context(flavor, "_na_", {}, {}, []))
    failures = []
    n = 0
    for ctx in contexts:
        try:
            pred = compile_query(body.get("query"), ctx)
            n += sum(1 for d in ctx.docs if pred(d))
        except ShardError as exc:
            failures.append((ctx.name, exc))
    if contexts and len(failures) == len(contexts):
        raise phase_error(flavor, failures)
    total = sum(c.shards for c in contexts)
    failed = sum(c.shards for c in contexts if c.name in {f[0] for f in failures})
    shards = {"total": total, "successful": total - failed, "skipped": 0,
              "failed": failed}
    if failures:
        shards["failures"] = shard_failure_entries(failures)
    if "partial_shards" in faults:
        _inject_shard_failure(shards, contexts)
    return {"count": n, "_shards": shards}


__all__ = ["Context", "SearchRequest", "execute", "count", "EsError"]
