"""Shared pieces of the Elasticsearch/OpenSearch test server.

Flavors (which engine and version the server pretends to be), the error
shapes Elasticsearch returns, date parsing and date math, time values and the
text analysis used for `text` fields.

Everything here follows the public documentation and observed responses of
Elasticsearch 6.8/7.17/8.15 and OpenSearch 2.11 (see
/work/shared/reference/elasticsearch.md); nothing is copied from their code.
"""

import calendar
import datetime
import re

# ---------------------------------------------------------------------------
# Flavors
# ---------------------------------------------------------------------------


class Flavor:
    """What differs between the engines the server can pretend to be.

    Every behavioural switch of the server reads one of these attributes, so
    the differences between engines are listed in one place.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def is_es(self):
        return self.engine == "elasticsearch"

    @property
    def version(self):
        """(major, minor) of the version it reports."""
        major, minor = self.number.split(".")[:2]
        return int(major), int(minor)

    def at_version(self, number):
        """This flavor reporting another version of its engine (same major)."""
        parts = number.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts) or \
                parts[0] != self.number.split(".")[0]:
            raise ValueError("--version %s: not a %s.x.y version of this flavor"
                             % (number, self.number.split(".")[0]))
        return Flavor(**dict(vars(self), number=number))


FLAVORS = {
    # Elasticsearch 6.8: one mapping type per index ("_doc" or a custom name),
    # hits.total is an integer, no composable templates, no point in time,
    # search.max_buckets unlimited by default (-1 in 6.x), 5 shards default.
    "es6": Flavor(
        name="es6", engine="elasticsearch", number="6.8.23",
        lucene="7.7.3", min_wire="5.6.0", min_index="5.0.0",
        build_date="2022-01-06T22:07:12.937742Z", build_type="tar",
        product_header=False, typed=True, total_as_int=True,
        max_buckets=-1, buckets_status=503, buckets_new_wording=False,
        rejected_type="es_rejected_execution_exception", pit=None,
        composable_templates=False, default_shards=5,
        destructive_requires_name=False, flattened=None,
        caused_by_on_phase_error=False, not_found_reason_has_name=False,
        unknown_handler_object=False, auth_plain=False),
    # Elasticsearch 7.17: "_type":"_doc" still appears in responses, sends
    # X-Elastic-Product (>= 7.14), max_buckets 65535 (>= 7.9) answered 503.
    "es7": Flavor(
        name="es7", engine="elasticsearch", number="7.17.22",
        lucene="8.11.3", min_wire="6.8.0", min_index="6.0.0-beta1",
        build_date="2024-06-06T07:35:17.876121680Z", build_type="docker",
        product_header=True, typed=False, doc_type="_doc",
        total_as_int=False, max_buckets=65535, buckets_status=503,
        buckets_new_wording=True,
        rejected_type="es_rejected_execution_exception", pit="es",
        composable_templates=True, default_shards=1,
        destructive_requires_name=False, flattened="flattened",
        caused_by_on_phase_error=True, not_found_reason_has_name=True,
        unknown_handler_object=False, auth_plain=False),
    # Elasticsearch 8.15: no types at all, too_many_buckets is a 400 (>= 8.8),
    # wildcard deletes refused by default.
    "es8": Flavor(
        name="es8", engine="elasticsearch", number="8.15.0",
        lucene="9.11.1", min_wire="7.17.0", min_index="7.0.0",
        build_date="2024-08-05T10:05:34.233336849Z", build_type="docker",
        product_header=True, typed=False, doc_type=None,
        total_as_int=False, max_buckets=65535, buckets_status=400,
        buckets_new_wording=True,
        rejected_type="es_rejected_execution_exception", pit="es",
        composable_templates=True, default_shards=1,
        destructive_requires_name=True, flattened="flattened",
        caused_by_on_phase_error=True, not_found_reason_has_name=True,
        unknown_handler_object=True, auth_plain=False),
    # OpenSearch 2.11: forked from ES 7.10, so the older bucket wording and the
    # 503; no X-Elastic-Product; its own PIT API; flat_object; the security
    # plugin answers 401 with an empty body.
    "os2": Flavor(
        name="os2", engine="opensearch", number="2.11.1",
        lucene="9.7.0", min_wire="7.10.0", min_index="7.0.0",
        build_date="2023-11-29T21:43:10.135035992Z", build_type="tar",
        product_header=False, typed=False, doc_type=None,
        total_as_int=False, max_buckets=65535, buckets_status=503,
        buckets_new_wording=False,
        rejected_type="rejected_execution_exception", pit="os",
        composable_templates=True, default_shards=1,
        destructive_requires_name=False, flattened="flat_object",
        caused_by_on_phase_error=True, not_found_reason_has_name=True,
        unknown_handler_object=False, auth_plain=True),
}
FLAVORS["es6"].doc_type = "_doc"

# The node and cluster identity is fixed so responses are reproducible.
NODE_ID = "tQ3sLdDwQ8eZlR0w1m7V2A"
CLUSTER_UUID = "zk-HjQtYQGyL3NFSSu7InA"
BUILD_HASH = "0e1c7fd5f3a1b0c2d4e6f8a0b2c4d6e8f0a1b3c5"


def info_document(flavor):
    """The body of `GET /` for a flavor (shapes from the reference)."""
    if flavor.engine == "opensearch":
        version = {
            "distribution": "opensearch", "number": flavor.number,
            "build_type": flavor.build_type, "build_hash": BUILD_HASH,
            "build_date": flavor.build_date, "build_snapshot": False,
            "lucene_version": flavor.lucene,
            "minimum_wire_compatibility_version": flavor.min_wire,
            "minimum_index_compatibility_version": flavor.min_index,
        }
        tagline = "The OpenSearch Project: https://opensearch.org/"
    else:
        version = {
            "number": flavor.number, "build_flavor": "default",
            "build_type": flavor.build_type, "build_hash": BUILD_HASH[:8]
            if flavor.name == "es8" else BUILD_HASH,
            "build_date": flavor.build_date, "build_snapshot": False,
            "lucene_version": flavor.lucene,
            "minimum_wire_compatibility_version": flavor.min_wire,
            "minimum_index_compatibility_version": flavor.min_index,
        }
        tagline = "You Know, for Search"
    return {"name": "es-test-node", "cluster_name": "cloudtracker-test",
            "cluster_uuid": CLUSTER_UUID, "version": version,
            "tagline": tagline}


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class EsError(Exception):
    """An error answered to the client: an HTTP status and a JSON body.

    `body` may also be a str (sent as text/plain) or None (empty body), which
    some errors of the real engines are (406 strings are JSON though).
    """

    def __init__(self, status, body, headers=None):
        super().__init__("%s %s" % (status, body))
        self.status = status
        self.body = body
        self.headers = headers or []


def cause(type_, reason, **extra):
    """One ErrorCause object: {"type", "reason", ...extra}."""
    c = {"type": type_, "reason": reason}
    for k, v in extra.items():
        c[k.replace("__", ".")] = v
    return c


def error(status, type_, reason, root_cause=None, caused_by=None, **extra):
    """An EsError with ES's standard shape.

    {"error": {"root_cause": [..], "type", "reason", ...}, "status": N}.
    When no root cause is given, the root cause repeats the error itself
    (with the same extra fields), as ES does for errors without a cause.
    Keyword names with a double underscore become dotted keys
    (resource__type -> "resource.type").
    """
    top = cause(type_, reason, **extra)
    if root_cause is None:
        root_cause = [dict(top)]
    body = {"root_cause": root_cause}
    body.update(top)
    if caused_by is not None:
        body["caused_by"] = caused_by
    return EsError(status, {"error": body, "status": status})


def bad_request(reason, type_="illegal_argument_exception", **extra):
    return error(400, type_, reason, **extra)


def parsing_error(reason):
    """A request-level parsing error (query DSL or body structure)."""
    return error(400, "parsing_exception", reason)


def index_not_found(flavor, name):
    """404 index_not_found_exception with the exact shape of the reference."""
    reason = "no such index [%s]" % name if flavor.not_found_reason_has_name \
        else "no such index"
    return error(404, "index_not_found_exception", reason,
                 resource__type="index_or_alias", resource__id=name,
                 index_uuid="_na_", index=name)


def unsupported(what):
    """A feature real engines have but this test server does not.

    Answered as 501 with a type no engine uses, so a test relying on it fails
    loudly instead of silently testing invented semantics.
    """
    return error(501, "test_server_unsupported_exception",
                 "the cloudtracker test server does not implement %s" % what)


class ShardError(Exception):
    """A failure raised while executing a search on one index ("shard").

    Collected per index and turned into search_phase_execution_exception (all
    shards failed) or into `_shards.failures` (some failed), like ES.
    `status` is the HTTP status the phase error gets when every shard fails.
    """

    def __init__(self, cause_obj, status=400, root=None, top=None):
        super().__init__(cause_obj.get("reason"))
        self.cause = cause_obj
        self.status = status
        # The root cause ES reports (the innermost meaningful exception).
        self.root = root or cause_obj
        # The top-level "caused_by" of the phase error, when it differs from
        # the shard's reason (ES wraps the shard exception once more there).
        self.top = top or cause_obj


def phase_error(flavor, failures, phase="query"):
    """search_phase_execution_exception for shard failures that hit every shard.

    `failures` is a list of (index_name, ShardError).
    """
    failed = []
    roots = []
    seen = set()
    for idx, err in failures:
        failed.append({"shard": 0, "index": idx, "node": NODE_ID,
                       "reason": err.cause})
        key = (err.root.get("type"), err.root.get("reason"))
        if key not in seen:
            seen.add(key)
            roots.append(err.root)
    status = max(err.status for _, err in failures)
    caused_by = None
    if flavor.caused_by_on_phase_error:
        caused_by = failures[0][1].top
    e = error(status, "search_phase_execution_exception", "all shards failed",
              root_cause=roots, caused_by=caused_by, phase=phase,
              grouped=True, failed_shards=failed)
    return e


def shard_failure_entries(failures):
    """The `_shards.failures` array of a partially failed search."""
    return [{"shard": 0, "index": idx, "node": NODE_ID, "reason": err.cause}
            for idx, err in failures]


def fielddata_error(field):
    """The error of aggregating or sorting on a text field (ES wording)."""
    reason = ("Text fields are not optimised for operations that require "
              "per-document field data like aggregations and sorting, so "
              "these operations are disabled by default. Please use a "
              "keyword field instead. Alternatively, set fielddata=true on "
              "[%s] in order to load field data by uninverting the inverted "
              "index. Note that this can use significant memory." % field)
    return ShardError(cause("illegal_argument_exception", reason),
                      top=cause("illegal_argument_exception", reason,
                                caused_by=cause("illegal_argument_exception", reason)))


# ---------------------------------------------------------------------------
# Time values ("1s", "500ms", "-1") and dates
# ---------------------------------------------------------------------------

_TIME_UNITS = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1.0,
               "m": 60.0, "h": 3600.0, "d": 86400.0}
_TIME_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(nanos|micros|ms|s|m|h|d)\s*$")


def parse_time_value(value, setting):
    """Seconds of an ES time value; -1 means "disabled" (returns -1)."""
    text = str(value).strip()
    if text in ("-1", "-1ms", "-1s"):
        return -1
    m = _TIME_RE.match(text)
    if not m:
        if text == "0":
            return 0.0
        raise bad_request(
            "failed to parse setting [%s] with value [%s] as a time value: "
            "unit is missing or unrecognized" % (setting, text))
    return float(m.group(1)) * _TIME_UNITS[m.group(2)]


# ISO 8601 as ES's strict_date_optional_time accepts it: a 4-digit year, then
# optional month, day, 'T' time (hours, minutes, seconds, fraction) and zone.
_ISO_RE = re.compile(
    r"^(?P<y>[+-]?\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$")
# The second dynamic date format: "yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z".
_SLASH_RE = re.compile(
    r"^(?P<y>\d{4})/(?P<mo>\d{2})/(?P<d>\d{2})(?: (?P<h>\d{2}):(?P<mi>\d{2}):"
    r"(?P<s>\d{2}))?(?: ?(?P<z>Z|[+-]\d{2}:?\d{2}))?$")

DEFAULT_DATE_FORMAT = "strict_date_optional_time||epoch_millis"


class DateParseError(ValueError):
    pass


def _from_match(m):
    g = m.groupdict()
    try:
        dt = datetime.datetime(
            int(g["y"]), int(g.get("mo") or 1), int(g.get("d") or 1),
            int(g.get("h") or 0), int(g.get("mi") or 0), int(g.get("s") or 0))
    except ValueError as exc:
        raise DateParseError(str(exc))
    frac = g.get("f") or ""
    millis = int((frac + "000")[:3]) if frac else 0
    ms = calendar.timegm(dt.timetuple()) * 1000 + millis
    zone = g.get("z")
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
        ms -= sign * offset * 60000
    return ms


def parse_date(value, fmt=None):
    """Epoch milliseconds of a date value under an ES date format.

    Supports the formats CloudTrail data needs: strict_date_optional_time /
    date_optional_time (ISO 8601), epoch_millis, epoch_second and the
    "yyyy/MM/dd" dynamic format. Unknown format names fall back to ISO.
    """
    fmt = fmt or DEFAULT_DATE_FORMAT
    formats = [f.strip() for f in fmt.split("||")]
    if isinstance(value, bool):
        raise DateParseError("boolean")
    for f in formats:
        if f in ("epoch_millis", "epoch_second"):
            if isinstance(value, (int, float)) or (
                    isinstance(value, str) and re.match(r"^-?\d+(\.\d+)?$", value)):
                number = float(value)
                return int(number * (1000 if f == "epoch_second" else 1))
            continue
        if not isinstance(value, str):
            continue
        m = _ISO_RE.match(value)
        if m and f != "yyyy/MM/dd HH:mm:ss Z":
            return _from_match(m)
        m = _SLASH_RE.match(value)
        if m and ("/" in f):
            return _from_match(m)
    raise DateParseError(value)


def looks_like_dynamic_date(text):
    """Date detection for dynamic mapping (ES dynamic_date_formats default).

    Only strings with at least a full yyyy-MM-dd date (or yyyy/MM/dd) are
    detected; bare years are left as text, which is the safe reading.
    """
    m = _ISO_RE.match(text)
    if m and m.group("d"):
        try:
            _from_match(m)
            return True
        except DateParseError:
            return False
    m = _SLASH_RE.match(text)
    return bool(m)


def format_date(ms):
    """ES's default rendering of a date: 2024-01-01T00:00:00.000Z."""
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


_MATH_RE = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def _add_units(ms, amount, unit):
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    if unit in ("y", "M"):
        months = dt.year * 12 + (dt.month - 1) + (amount * 12 if unit == "y" else amount)
        year, month = divmod(months, 12)
        day = min(dt.day, calendar.monthrange(year, month + 1)[1])
        dt = dt.replace(year=year, month=month + 1, day=day)
        return calendar.timegm(dt.timetuple()) * 1000 + dt.microsecond // 1000
    seconds = {"w": 604800, "d": 86400, "h": 3600, "H": 3600, "m": 60, "s": 1}[unit]
    return ms + amount * seconds * 1000


def _round(ms, unit, up):
    """Round down to the start of `unit`, or up to its last millisecond."""
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    if unit == "y":
        start = dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "M":
        start = dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "w":
        start = (dt - datetime.timedelta(days=dt.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0)
    elif unit == "d":
        start = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit in ("h", "H"):
        start = dt.replace(minute=0, second=0, microsecond=0)
    elif unit == "m":
        start = dt.replace(second=0, microsecond=0)
    else:
        start = dt.replace(microsecond=0)
    start_ms = calendar.timegm(start.timetuple()) * 1000
    if not up:
        return start_ms
    return _add_units(start_ms, 1, unit) - 1


def parse_date_math(value, fmt=None, round_up=False, now_ms=None):
    """A range bound: a date, "now", or either followed by date math.

    "now-1d/d", "2024-01-01||+1M". Rounding direction follows ES: `gt` and
    `lte` round up, `gte` and `lt` round down (the caller says which).
    """
    if isinstance(value, str) and (value.startswith("now") or "||" in value):
        if value.startswith("now"):
            import time as _time
            base = now_ms if now_ms is not None else int(_time.time() * 1000)
            rest = value[3:]
        else:
            anchor, rest = value.split("||", 1)
            base = parse_date(anchor, fmt)
        pos = 0
        while pos < len(rest):
            m = _MATH_RE.match(rest, pos)
            if not m:
                raise DateParseError(value)
            if m.group(4):
                base = _round(base, m.group(4), round_up)
            else:
                amount = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
                base = _add_units(base, amount, m.group(3))
            pos = m.end()
        return base
    return parse_date(value, fmt)


# ---------------------------------------------------------------------------
# Text analysis (an approximation of the standard analyzer)
# ---------------------------------------------------------------------------

# Unicode word-break rules (UAX #29) keep "sts.amazonaws.com" and "arn:aws:iam"
# as single tokens: letters joined by ':' '.' or an apostrophe stay together,
# digits joined by '.' ',' ';' or an apostrophe stay together, and letters,
# digits and underscores run together. Everything else separates tokens.
# As a regex: runs of word characters, extended over one joiner when the
# characters on both sides are letters (or both digits).
_TOKEN_RE = re.compile(
    r"\w+(?:(?:(?<=[^\W\d])[:.'\u2019\u00b7](?=[^\W\d])"
    r"|(?<=\d)[.,;'\u2019](?=\d))\w+)*")


def tokenize(text):
    """Lower-cased tokens of a string, as the standard analyzer would give.

    The important property for tests: a term query on a text field only
    matches one lower-case token, so a mixed-case value or a whole ARN never
    matches, as with a real cluster.
    """
    tokens = []
    for m in _TOKEN_RE.finditer(text):
        tok = m.group(0).lower()
        # The standard tokenizer splits tokens longer than 255 characters.
        while len(tok) > 255:
            tokens.append(tok[:255])
            tok = tok[255:]
        tokens.append(tok)
    return tokens


def wildcard_to_regex(pattern):
    """An ES/Lucene wildcard (`*`, `?`) as an anchored regex."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.S)


def simple_match(pattern, name):
    """ES's simple wildcard match for index and field patterns (`*` only)."""
    if "*" not in pattern:
        return pattern == name
    return bool(wildcard_to_regex(pattern).match(name))
