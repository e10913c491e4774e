"""Mappings and document parsing for the Elasticsearch test server.

A mapping is kept exactly in ES's JSON form ({"properties": {...}, ...}) so
`GET /idx/_mapping` echoes it. Parsing a document walks its JSON against the
mapping, adds fields under dynamic mapping like ES does (strings become
`text` with a `.keyword` sub-field, ISO dates become `date`, ...), converts
every value to what the field type indexes, and reports mapping conflicts as
the `mapper_parsing_exception` errors a bulk item would get.

The result of parsing is a flat dict {field path: [indexed values]}: tokens
for text, strings for keyword, ints for long and date (epoch ms), floats,
bools, normalized strings for ip. Queries and aggregations read only that.
"""

import copy
import ipaddress
import json
import math

from es_common import (DEFAULT_DATE_FORMAT, DateParseError, cause, error,
                       looks_like_dynamic_date, parse_date, simple_match,
                       tokenize)

INTEGER_RANGES = {
    "long": (-2 ** 63, 2 ** 63 - 1), "integer": (-2 ** 31, 2 ** 31 - 1),
    "short": (-2 ** 15, 2 ** 15 - 1), "byte": (-128, 127),
    "unsigned_long": (0, 2 ** 64 - 1),
}
FLOAT_TYPES = {"double", "float", "half_float", "scaled_float"}
TEXT_TYPES = {"text", "match_only_text"}
KEYWORD_TYPES = {"keyword", "wildcard", "constant_keyword"}
OBJECT_TYPES = {"object", "nested"}
FLATTENED_TYPES = {"flattened", "flat_object"}
OTHER_LEAF_TYPES = {"date", "date_nanos", "boolean", "ip", "binary"}

# Root-level mapping parameters ES accepts; anything else is rejected the way
# ES rejects it ("Root mapping definition has unsupported parameters").
ROOT_PARAMS = {"properties", "dynamic", "date_detection", "numeric_detection",
               "dynamic_date_formats", "dynamic_templates", "_source", "_meta",
               "_routing", "_field_names", "enabled", "runtime", "_all",
               "_data_stream_timestamp", "subobjects", "_size"}


def known_types(flavor):
    types = set(INTEGER_RANGES) | FLOAT_TYPES | TEXT_TYPES | KEYWORD_TYPES | \
        OBJECT_TYPES | OTHER_LEAF_TYPES
    if flavor.name == "es6":
        types -= {"wildcard", "constant_keyword", "match_only_text", "unsigned_long"}
    if flavor.engine == "opensearch":
        types -= {"wildcard", "constant_keyword", "match_only_text", "unsigned_long"}
    if flavor.flattened:
        types.add(flavor.flattened)
    return types


class FieldInfo:
    """What a query or aggregation needs to know about a field path.

    kind is one of: text, keyword, long, double, date, boolean, ip, object,
    flattened, binary. `mapping` is the field's mapping dict.
    """

    def __init__(self, path, mtype, mapping):
        self.path = path
        self.mtype = mtype
        self.mapping = mapping
        if mtype in TEXT_TYPES:
            self.kind = "text"
        elif mtype in KEYWORD_TYPES:
            self.kind = "keyword"
        elif mtype in INTEGER_RANGES:
            self.kind = "long"
        elif mtype in FLOAT_TYPES:
            self.kind = "double"
        elif mtype in ("date", "date_nanos"):
            self.kind = "date"
        elif mtype in FLATTENED_TYPES:
            self.kind = "flattened"
        else:
            self.kind = mtype
        self.fmt = mapping.get("format", DEFAULT_DATE_FORMAT)

    @property
    def aggregatable(self):
        return self.kind not in ("text", "object", "binary") or \
            (self.kind == "text" and self.mapping.get("fielddata") is True)


def field_type(node):
    """The mapping type of a node (objects may omit "type")."""
    return node.get("type", "object" if "properties" in node or "type" not in node
                    else node.get("type"))


def resolve_field(root, path):
    """FieldInfo of `path` in a root mapping, or None if it is not mapped.

    Handles objects, multi-fields ("eventName.keyword") and keyed access into
    flattened fields ("aws.flattened.request_parameters.roleArn").
    """
    if not root:
        return None
    segs = path.split(".")
    node = root
    i = 0
    while i < len(segs):
        props = node.get("properties") or {}
        child = props.get(segs[i])
        if child is None:
            return None
        t = field_type(child)
        rest = segs[i + 1:]
        if t in OBJECT_TYPES:
            node = child
            i += 1
            continue
        if not rest:
            return FieldInfo(path, t, child)
        if t in FLATTENED_TYPES:
            # Keyed sub-fields of a flattened field behave as keywords.
            return FieldInfo(path, "keyword", {"type": "keyword"})
        subs = child.get("fields") or {}
        if len(rest) == 1 and rest[0] in subs:
            sub = subs[rest[0]]
            return FieldInfo(path, field_type(sub), sub)
        return None
    if node is root:
        return None
    return FieldInfo(path, "object", node)


def leaf_fields(root, prefix=""):
    """Every leaf field mapper as (full name, short name, mapping).

    Multi-fields appear as their own entries ("eventName.keyword" with short
    name "keyword"), as in ES's get-field-mapping API.
    """
    out = []
    for name, node in (root.get("properties") or {}).items():
        full = prefix + name
        t = field_type(node)
        if t in OBJECT_TYPES:
            out.extend(leaf_fields(node, full + "."))
            continue
        out.append((full, name, node))
        for sub, subnode in (node.get("fields") or {}).items():
            out.append((full + "." + sub, sub, subnode))
    return out


def count_fields(root):
    """Fields counted against index.mapping.total_fields.limit.

    ES counts object fields, leaf fields and multi-fields alike.
    """
    total = 0
    for node in (root.get("properties") or {}).values():
        total += 1
        if field_type(node) in OBJECT_TYPES:
            total += count_fields(node)
        total += len(node.get("fields") or {})
    return total


def mapping_depth(root, depth=1):
    best = depth
    for node in (root.get("properties") or {}).values():
        if field_type(node) in OBJECT_TYPES:
            best = max(best, mapping_depth(node, depth + 1))
    return best


# ---------------------------------------------------------------------------
# Validating and merging explicit mappings
# ---------------------------------------------------------------------------


def _mapper_error(reason, caused_by=None):
    kw = {}
    if caused_by is not None:
        kw["caused_by"] = caused_by
    return error(400, "mapper_parsing_exception", reason,
                 root_cause=[cause("mapper_parsing_exception", reason)], **kw)


def validate_mapping(mapping, flavor):
    """Check an explicit root mapping; return a deep copy of it.

    Rejects unknown root parameters and unknown field types with ES's
    mapper_parsing_exception wording. `mapping` must already be unwrapped
    from an ES 6 type name.
    """
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise _mapper_error("Failed to parse mapping: mapping must be an object")
    unknown = [k for k in mapping if k not in ROOT_PARAMS]
    if unknown:
        detail = ", ".join("%s : %s" % (k, _java_preview(mapping[k])) for k in unknown)
        reason = "Root mapping definition has unsupported parameters:  [%s]" % detail
        raise _mapper_error("Failed to parse mapping [_doc]: " + reason,
                            caused_by=cause("mapper_parsing_exception", reason))
    types = known_types(flavor)

    def check(props, prefix):
        if not isinstance(props, dict):
            raise _mapper_error("Expected map for property [properties] on field [%s]"
                                % (prefix.rstrip(".") or "_doc"))
        for name, node in props.items():
            full = prefix + name
            if not isinstance(node, dict):
                raise _mapper_error("Expected map for property [fields] on field [%s] "
                                    "but got a class java.lang.String" % name)
            t = node.get("type")
            if t is None and "properties" not in node:
                t = "object"
            if t is not None and t not in types:
                raise _mapper_error("No handler for type [%s] declared on field [%s]"
                                    % (t, name))
            if "properties" in node:
                check(node["properties"], full + ".")
            for sub, subnode in (node.get("fields") or {}).items():
                st = subnode.get("type") if isinstance(subnode, dict) else None
                if st not in types:
                    raise _mapper_error("No handler for type [%s] declared on field [%s]"
                                        % (st, sub))

    check(mapping.get("properties") or {}, "")
    return copy.deepcopy(mapping)


def merge_mapping(base, overlay, conflicts=True):
    """Merge `overlay` into a copy of `base` (templates, PUT _mapping).

    With conflicts=True a field whose type changes fails with ES's
    illegal_argument_exception "mapper [x] cannot be changed from type ...".
    """
    out = copy.deepcopy(base or {})

    def merge(dst, src, prefix):
        for key, value in src.items():
            if key != "properties":
                dst[key] = copy.deepcopy(value)
                continue
            props = dst.setdefault("properties", {})
            for name, node in value.items():
                full = prefix + name
                if name not in props:
                    props[name] = copy.deepcopy(node)
                    continue
                old_t, new_t = field_type(props[name]), field_type(node)
                if conflicts and old_t != new_t:
                    raise error(400, "illegal_argument_exception",
                                "mapper [%s] cannot be changed from type [%s] to [%s]"
                                % (full, old_t, new_t))
                if new_t in OBJECT_TYPES:
                    merge(props[name], node, full + ".")
                else:
                    merged = copy.deepcopy(props[name])
                    merged.update(copy.deepcopy(node))
                    props[name] = merged

    merge(out, overlay or {}, "")
    return out


# ---------------------------------------------------------------------------
# Parsing documents
# ---------------------------------------------------------------------------


def _java_preview(value):
    """How ES previews a value in errors: Java's Map/List toString."""
    if isinstance(value, dict):
        return "{" + ", ".join("%s=%s" % (k, _java_preview(v)) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_preview(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_text(value):
    """The string form ES indexes for a scalar put into a string field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return json.dumps(value)
    return str(value)


class MapperError(Exception):
    """A bulk item failure: (status, error cause object)."""

    def __init__(self, status, cause_obj):
        super().__init__(cause_obj["reason"])
        self.status = status
        self.cause = cause_obj


class DocumentParser:
    """Parse one document against a mapping, collecting dynamic additions.

    New fields are kept in `self.added` until the whole document parsed; the
    caller then calls `updated_mapping()` to get the mapping with them. A
    failed document therefore leaves the mapping untouched, as in ES.
    """

    def __init__(self, root, doc_id, flavor, settings):
        self.root = root or {}
        self.doc_id = doc_id
        self.flavor = flavor
        self.settings = settings
        self.fields = {}
        self.added = []          # (parent path, name, mapping) in order
        self._added_nodes = {}   # full path -> mapping node (for lookups)
        self.date_detection = self.root.get("date_detection", True)
        self.numeric_detection = self.root.get("numeric_detection", False)
        self.templates = self.root.get("dynamic_templates") or []

    # -- errors -------------------------------------------------------------

    def _fail(self, reason, caused_by=None, type_="mapper_parsing_exception",
              status=400):
        c = cause(type_, reason)
        if caused_by is not None:
            c["caused_by"] = caused_by
        raise MapperError(status, c)

    def _value_error(self, full, mtype, value, caused_by):
        if self.flavor.name == "es6":
            reason = "failed to parse field [%s] of type [%s]" % (full, mtype)
        else:
            reason = ("failed to parse field [%s] of type [%s] in document with id "
                      "'%s'. Preview of field's value: '%s'"
                      % (full, mtype, self.doc_id, _java_preview(value)))
        self._fail(reason, caused_by)

    # -- mapping lookups ----------------------------------------------------

    def _child(self, node, full, name):
        props = node.get("properties") or {}
        if name in props:
            return props[name]
        return self._added_nodes.get(full)

    def _add(self, parent_full, full, name, mapping):
        self.added.append((parent_full, name, mapping))
        self._added_nodes[full] = mapping
        return mapping

    @staticmethod
    def _dynamic_of(node, inherited):
        d = node.get("dynamic", inherited)
        if isinstance(d, str):
            d = {"true": True, "false": False}.get(d, d)
        return d

    def _refuse_new(self, dynamic, parent_full, name):
        """True when a new field must be ignored; raises under strict."""
        if dynamic == "strict":
            where = parent_full or "_doc"
            self._fail("mapping set to strict, dynamic introduction of [%s] within "
                       "[%s] is not allowed" % (name, where),
                       type_="strict_dynamic_mapping_exception")
        return dynamic is False or dynamic == "runtime"

    # -- dynamic mapping ----------------------------------------------------

    def _template_for(self, full, name, mtype):
        for entry in self.templates:
            if not isinstance(entry, dict) or len(entry) != 1:
                continue
            (tname, spec), = entry.items()
            mm = spec.get("match_mapping_type")
            if mm is not None and mm != "*" and mm != mtype:
                continue
            if "match" in spec and not simple_match(spec["match"], name):
                continue
            if "unmatch" in spec and simple_match(spec["unmatch"], name):
                continue
            if "path_match" in spec and not simple_match(spec["path_match"], full):
                continue
            if "path_unmatch" in spec and simple_match(spec["path_unmatch"], full):
                continue
            mapping = json.loads(json.dumps(spec.get("mapping", {}))
                                 .replace("{name}", name)
                                 .replace("{dynamic_type}", mtype))
            return mapping
        return None

    def _dynamic_mapping(self, full, name, value):
        if isinstance(value, bool):
            mtype, default = "boolean", {"type": "boolean"}
        elif isinstance(value, int):
            mtype, default = "long", {"type": "long"}
        elif isinstance(value, float):
            mtype, default = "double", {"type": "float"}
        elif self.date_detection and looks_like_dynamic_date(value):
            mtype, default = "date", {"type": "date"}
        elif self.numeric_detection and _is_number(value):
            if _is_int(value):
                mtype, default = "long", {"type": "long"}
            else:
                mtype, default = "double", {"type": "float"}
        else:
            mtype = "string"
            default = {"type": "text",
                       "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
        return self._template_for(full, name, mtype) or default

    # -- walking the document -----------------------------------------------

    def parse(self, source):
        if not isinstance(source, dict):
            self._fail("failed to parse, document is empty")
        dynamic = self._dynamic_of(self.root, True)
        self._object(source, self.root, "", dynamic)
        self._check_limits()
        return self.fields

    def _object(self, obj, node, path, dynamic):
        for key, value in obj.items():
            if key.strip() == "":
                self._fail("field name cannot be an empty string")
            segs = key.split(".")
            if any(s == "" for s in segs):
                self._fail("object field starting or ending with a [.] makes object "
                           "resolution ambiguous: [%s]" % key)
            self._field(segs, value, node, path, dynamic)

    def _field(self, segs, value, node, path, dynamic):
        name = segs[0]
        full = path + "." + name if path else name
        child = self._child(node, full, name)
        if len(segs) > 1:
            # A dotted field name stands for nested objects.
            if child is None:
                if self._refuse_new(dynamic, path, name):
                    return
                child = self._add(path, full, name, {"properties": {}})
            t = field_type(child)
            if t in FLATTENED_TYPES:
                self._flattened(full, {".".join(segs[1:]): value})
                return
            if t not in OBJECT_TYPES:
                self._fail("Could not dynamically add mapping for field [%s]. Existing "
                           "mapping for [%s] must be of type object but found [%s]."
                           % (full + "." + ".".join(segs[1:]), full, t))
            if child.get("enabled") is False:
                return
            self._field(segs[1:], value, child, full, self._dynamic_of(child, dynamic))
            return
        self._value(name, full, value, node, path, dynamic)

    def _value(self, name, full, value, node, path, dynamic):
        if value is None:
            return
        child = self._child(node, full, name)
        if isinstance(value, list):
            for item in value:
                self._value(name, full, item, node, path, dynamic)
            return
        if child is not None and child.get("enabled") is False:
            return  # not parsed at all, stays only in _source
        if isinstance(value, dict):
            if child is None:
                if self._refuse_new(dynamic, path, name):
                    return
                mapping = self._template_for(full, name, "object") or {"properties": {}}
                child = self._add(path, full, name, mapping)
            t = field_type(child)
            if t in OBJECT_TYPES:
                if child.get("enabled") is False:
                    return
                self._object(value, child, full, self._dynamic_of(child, dynamic))
            elif t in FLATTENED_TYPES:
                self._flattened(full, value)
            else:
                self._value_error(full, t, value, cause(
                    "illegal_state_exception",
                    "Can't get text on a START_OBJECT at 1:1"))
            return
        if child is None:
            if self._refuse_new(dynamic, path, name):
                return
            child = self._add(path, full, name, self._dynamic_mapping(full, name, value))
        t = field_type(child)
        if t in OBJECT_TYPES:
            self._fail("object mapping for [%s] tried to parse field [%s] as object, "
                       "but found a concrete value" % (full, name))
        if t in FLATTENED_TYPES:
            self._index(full, _as_text(value))
            return
        self._leaf(full, t, child, value)

    def _flattened(self, full, obj, prefix=""):
        """Index the leaves of a flattened field as keywords.

        Every leaf value is indexed under the root field and under its keyed
        path, which is how flattened/flat_object fields are queried.
        """
        for key, value in obj.items():
            sub = prefix + key
            items = value if isinstance(value, list) else [value]
            for item in items:
                if item is None:
                    continue
                if isinstance(item, dict):
                    self._flattened(full, item, sub + ".")
                    continue
                text = _as_text(item)
                self._index(full, text)
                self._index(full + "." + sub, text)

    def _index(self, full, value):
        self.fields.setdefault(full, []).append(value)

    def _leaf(self, full, t, mapping, value):
        converted = self._convert(full, t, mapping, value)
        if converted is not _SKIP:
            self._index(full, converted)
        for sub, submap in (mapping.get("fields") or {}).items():
            st = field_type(submap)
            c = self._convert(full + "." + sub, st, submap, value)
            if c is not _SKIP:
                self._index(full + "." + sub, c)

    def _convert(self, full, t, mapping, value):
        """The indexed form of a scalar for a field type (or _SKIP)."""
        if t in TEXT_TYPES:
            return tuple(tokenize(_as_text(value)))
        if t in KEYWORD_TYPES:
            text = _as_text(value)
            limit = mapping.get("ignore_above")
            if limit is not None and len(text) > int(limit):
                return _SKIP
            return text
        if t in INTEGER_RANGES or t in FLOAT_TYPES:
            return self._number(full, t, value)
        if t in ("date", "date_nanos"):
            fmt = mapping.get("format", DEFAULT_DATE_FORMAT)
            try:
                return parse_date(value, fmt)
            except DateParseError:
                self._value_error(full, t, value, cause(
                    "illegal_argument_exception",
                    "failed to parse date field [%s] with format [%s]"
                    % (_java_preview(value), fmt)))
        if t == "boolean":
            if value is True or value == "true":
                return True
            if value is False or value in ("false", ""):
                return False
            self._value_error(full, t, value, cause(
                "illegal_argument_exception",
                "Failed to parse value [%s] as only [true] or [false] are allowed."
                % _java_preview(value)))
        if t == "ip":
            try:
                return str(ipaddress.ip_address(str(value)))
            except ValueError:
                self._value_error(full, t, value, cause(
                    "illegal_argument_exception",
                    "'%s' is not an IP string literal." % _java_preview(value)))
        return _SKIP  # binary and other unindexed types

    def _number(self, full, t, value):
        if isinstance(value, bool):
            self._value_error(full, t, value, cause(
                "illegal_argument_exception",
                "Current token (VALUE_%s) not numeric, can not use numeric value "
                "accessors" % ("TRUE" if value else "FALSE")))
        if isinstance(value, str):
            try:
                number = float(value.strip()) if not _is_int(value.strip()) \
                    else int(value.strip())
            except ValueError:
                self._value_error(full, t, value, cause(
                    "number_format_exception", 'For input string: "%s"' % value))
        else:
            number = value
        if isinstance(number, float) and not math.isfinite(number):
            self._value_error(full, t, value, cause(
                "illegal_argument_exception", "[%s] supports only finite values" % t))
        if t in INTEGER_RANGES:
            lo, hi = INTEGER_RANGES[t]
            if number < lo or number > hi:
                self._value_error(full, t, value, cause(
                    "illegal_argument_exception",
                    "Value [%s] is out of range for %s %s"
                    % (value, "an" if t == "integer" else "a", t)))
            return int(number)  # coercion truncates decimals like ES
        return float(number)

    # -- limits and result --------------------------------------------------

    def updated_mapping(self):
        """The mapping with this document's dynamic additions (or None)."""
        if not self.added:
            return None
        if getattr(self, "_new_root", None) is not None:
            return self._new_root
        root = copy.deepcopy(self.root)
        nodes = {"": root}

        def node_for(path):
            if path in nodes:
                return nodes[path]
            node = root
            for seg in path.split("."):
                node = node.setdefault("properties", {})[seg]
            nodes[path] = node
            return node

        for parent, name, mapping in self.added:
            parent_node = node_for(parent)
            props = parent_node.setdefault("properties", {})
            props[name] = copy.deepcopy(mapping)
            full = parent + "." + name if parent else name
            nodes[full] = props[name]
        return root

    def _check_limits(self):
        if not self.added:
            return
        new_root = self.updated_mapping()
        limit = int(self.settings.get("index.mapping.total_fields.limit", 1000))
        total = count_fields(new_root)
        if total > limit:
            if self.flavor.name == "es8":
                reason = ("Limit of total fields [%d] has been exceeded while adding "
                          "new fields [%d]" % (limit, total - count_fields(self.root)))
            else:
                reason = "Limit of total fields [%d] has been exceeded" % limit
            self._fail(reason, type_="illegal_argument_exception")
        depth_limit = int(self.settings.get("index.mapping.depth.limit", 20))
        if mapping_depth(new_root) - 1 > depth_limit:
            self._fail("Limit of mapping depth [%d] has been exceeded" % depth_limit,
                       type_="illegal_argument_exception")
        self._new_root = new_root


_SKIP = object()


def _is_int(text):
    t = text[1:] if text[:1] in "+-" else text
    return t.isdigit()


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False
