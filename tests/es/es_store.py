"""In-memory cluster state of the Elasticsearch/OpenSearch test server.

Indices with their mappings, settings, aliases and documents; composable,
component and legacy index templates; cluster settings; scroll contexts and
points in time. Every public method implements one REST API and returns
(status, body) or raises EsError; the HTTP layer (es_server.py) only routes.

Refresh semantics: a write is visible to `_search` and `_count` only after a
refresh, i.e. after `POST _refresh`, `?refresh=true|wait_for`, or once it is
`index.refresh_interval` old (default 1s; "-1" disables this). Real ES
refreshes on a timer, so a write becomes visible within the interval; here it
becomes visible exactly one interval after it was made, which keeps tests
deterministic. `GET /idx/_doc/id` and `_mget` are realtime, as in ES.

Durability (--data-dir): mutating API calls run under `_mutation()`; what
they changed (index metadata, documents, templates, cluster settings) is
appended to a Journal when the outermost call ends, before the HTTP layer
answers, and replayed by the next process started on the same directory.
"""

import base64
import collections
import contextlib
import copy
import json
import os
import threading
import time
import uuid as uuidlib

import es_search
from es_common import (EsError, bad_request, cause, error, index_not_found,
                       info_document, parse_time_value, simple_match,
                       unsupported)
from es_mapping import (DocumentParser, MapperError, leaf_fields, merge_mapping,
                        validate_mapping)

# The recommended CloudTrail template of the reference (--mapping template).
CLOUDTRAIL_TEMPLATE_MAPPINGS = {
    "dynamic": False, "date_detection": False,
    "properties": {
        "eventTime": {"type": "date"}, "eventVersion": {"type": "keyword"},
        "eventSource": {"type": "keyword"}, "eventName": {"type": "keyword"},
        "eventType": {"type": "keyword"}, "eventCategory": {"type": "keyword"},
        "eventID": {"type": "keyword"}, "sharedEventID": {"type": "keyword"},
        "requestID": {"type": "keyword"}, "awsRegion": {"type": "keyword"},
        "recipientAccountId": {"type": "keyword"},
        "sourceIPAddress": {"type": "keyword"},
        "userAgent": {"type": "keyword", "ignore_above": 1024},
        "errorCode": {"type": "keyword"}, "errorMessage": {"type": "text"},
        "readOnly": {"type": "boolean"}, "managementEvent": {"type": "boolean"},
        "userIdentity": {"properties": {
            "type": {"type": "keyword"}, "arn": {"type": "keyword"},
            "principalId": {"type": "keyword"}, "accountId": {"type": "keyword"},
            "accessKeyId": {"type": "keyword"}, "userName": {"type": "keyword"},
            "invokedBy": {"type": "keyword"},
            "sessionContext": {"properties": {
                "sourceIdentity": {"type": "keyword"},
                "sessionIssuer": {"properties": {
                    "type": {"type": "keyword"}, "arn": {"type": "keyword"},
                    "userName": {"type": "keyword"},
                    "principalId": {"type": "keyword"},
                    "accountId": {"type": "keyword"}}}}}}},
        "requestParameters": {"type": "object", "dynamic": False, "properties": {
            "roleArn": {"type": "keyword"}, "roleSessionName": {"type": "keyword"}}},
        "responseElements": {"type": "object", "dynamic": False, "properties": {
            "credentials": {"properties": {"accessKeyId": {"type": "keyword"}}},
            "assumedRoleUser": {"properties": {"arn": {"type": "keyword"}}}}},
        "additionalEventData": {"type": "object", "enabled": False},
        "serviceEventDetails": {"type": "object", "enabled": False},
        "resources": {"type": "object", "enabled": False},
        "tlsDetails": {"type": "object", "enabled": False},
    }}
CLOUDTRAIL_TEMPLATE_SETTINGS = {"number_of_shards": 1, "number_of_replicas": 1,
                                "refresh_interval": "30s"}

# Index settings the server accepts (others are rejected like ES rejects
# unknown settings). Prefixes cover setting groups it merely stores.
KNOWN_SETTINGS = {
    "index.number_of_shards", "index.number_of_replicas", "index.refresh_interval",
    "index.max_result_window", "index.max_terms_count", "index.auto_expand_replicas",
    "index.mapping.total_fields.limit", "index.mapping.depth.limit",
    "index.mapping.nested_fields.limit", "index.mapping.ignore_malformed",
    "index.mapping.coerce", "index.codec", "index.hidden", "index.priority",
    "index.default_pipeline", "index.final_pipeline", "index.max_inner_result_window",
    "index.max_docvalue_fields_search", "index.max_script_fields",
    "index.max_ngram_diff", "index.max_shingle_diff", "index.max_refresh_listeners",
    "index.max_regex_length", "index.gc_deletes", "index.number_of_routing_shards",
    "index.shard.check_on_startup", "index.load_fixed_bitset_filters_eagerly",
    "index.mapping.field_name_length.limit", "index.mapping.dimension_fields.limit",
    "index.soft_deletes.enabled", "index.soft_deletes.retention_lease.period",
    "index.format", "index.mode",
}
KNOWN_SETTING_PREFIXES = (
    "index.routing.", "index.blocks.", "index.translog.", "index.lifecycle.",
    "index.plugins.", "index.analysis.", "index.merge.", "index.search.",
    "index.indexing.", "index.query.", "index.sort.", "index.unassigned.",
    "index.write.", "index.similarity.", "index.store.", "index.knn",
    "index.opendistro.", "index.replication.", "index.version.", "index.uuid",
    "index.creation_date", "index.provided_name",
)
STATIC_SETTINGS = {"index.number_of_shards", "index.codec",
                   "index.number_of_routing_shards", "index.sort.field",
                   "index.soft_deletes.enabled", "index.mode"}

INVALID_NAME_CHARS = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']


class Journal:
    """An append-only file of JSON lines in the data directory, one per
    acknowledged state-changing call: {"ops": [...]}. Each line is handed to
    the OS with write() before the response is sent, so a SIGKILL loses
    nothing acknowledged; a torn last line (the process killed inside the
    write, before answering) is dropped at start-up."""

    FORMAT = 1

    def __init__(self, data_dir, flavor_name):
        os.makedirs(data_dir, exist_ok=True)
        meta_path = os.path.join(data_dir, "es_server.json")
        self.path = os.path.join(data_dir, "journal.jsonl")
        if os.path.exists(meta_path):
            with open(meta_path, encoding="utf-8") as fh:
                meta = json.load(fh)
            if meta.get("flavor") != flavor_name or meta.get("format") != self.FORMAT:
                raise ValueError("data dir %s holds a %s cluster (format %s), not %s"
                                 % (data_dir, meta.get("flavor"), meta.get("format"),
                                    flavor_name))
        else:
            tmp = meta_path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"flavor": flavor_name, "format": self.FORMAT}, fh)
            os.replace(tmp, meta_path)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def replay(self, apply):
        with open(self.path, "rb") as fh:
            data = fh.read()
        pos = 0
        while True:
            end = data.find(b"\n", pos)
            if end < 0:
                break
            try:
                entry = json.loads(data[pos:end])
            except ValueError:
                break
            apply(entry["ops"])
            pos = end + 1
        if pos != len(data):
            os.ftruncate(self.fd, pos)

    def append(self, ops):
        data = memoryview((json.dumps({"ops": ops}, separators=(",", ":"))
                           + "\n").encode())
        while data:
            n = os.write(self.fd, data)
            data = data[n:]

    def truncate(self):
        os.ftruncate(self.fd, 0)


class Doc:
    """A stored document: its source and the values its fields index."""

    __slots__ = ("id", "source", "fields", "version", "seq_no", "ordinal")

    def __init__(self, doc_id, source, fields, version, seq_no, ordinal):
        self.id = doc_id
        self.source = source
        self.fields = fields
        self.version = version
        self.seq_no = seq_no
        self.ordinal = ordinal


class Clock:
    """The clock of refresh timers: the monotonic clock, unless a test
    stops it (POST /__clock) to move it by hand, so "one interval after the
    write" does not depend on how fast the test runs."""

    def __init__(self):
        self.stopped_at = None  # monotonic time when stopped
        self.offset = 0.0

    def now(self):
        base = self.stopped_at if self.stopped_at is not None else time.monotonic()
        return base + self.offset

    def stop(self):
        if self.stopped_at is None:
            self.stopped_at = time.monotonic()

    def advance(self, seconds):
        """Stops the clock (if running) and moves it `seconds` forward."""
        self.stop()
        self.offset += seconds


class Index:
    """One index: mapping, settings, aliases and two document views.

    `docs` is the realtime view (get by id, create conflicts); `visible` is
    what search sees; `pending` holds writes not refreshed yet, oldest first.
    """

    def __init__(self, name, settings, mapping, doc_type):
        self.name = name
        self.uuid = base64.urlsafe_b64encode(uuidlib.uuid4().bytes)[:22].decode()
        self.created = int(time.time() * 1000)
        self.settings = settings
        self.mapping = mapping
        self.doc_type = doc_type
        self.aliases = {}
        self.docs = {}
        self.visible = {}
        self.pending = collections.deque()
        self.versions = {}
        self.seq_no = -1

    @property
    def shards(self):
        return int(self.settings.get("index.number_of_shards", 1))

    @property
    def replicas(self):
        return int(self.settings.get("index.number_of_replicas", 1))

    def refresh_interval(self):
        return parse_time_value(self.settings.get("index.refresh_interval", "1s"),
                                "index.refresh_interval")

    def sync(self, now):
        """Make writes older than the refresh interval visible."""
        interval = self.refresh_interval()
        if interval < 0:
            return
        while self.pending and now - self.pending[0][0] >= interval:
            self._apply(self.pending.popleft())

    def refresh(self):
        while self.pending:
            self._apply(self.pending.popleft())

    def _apply(self, op):
        _ts, kind, doc_id, doc = op
        # Lucene appends a re-indexed document at the end: keep that order.
        self.visible.pop(doc_id, None)
        if kind == "index":
            self.visible[doc_id] = doc

    def write(self, doc_id, doc, now):
        self.docs[doc_id] = doc
        self.pending.append((now, "index", doc_id, doc))

    def delete(self, doc_id, now):
        self.docs.pop(doc_id, None)
        self.pending.append((now, "delete", doc_id, None))

    def next_seq_no(self):
        self.seq_no += 1
        return self.seq_no


def _flat_settings(settings, prefix=""):
    """Flatten nested settings into {"index.x.y": value}."""
    out = {}
    for key, value in (settings or {}).items():
        full = prefix + key
        if isinstance(value, dict):
            out.update(_flat_settings(value, full + "."))
        else:
            out[full] = value
    return out


def _normalize_settings(settings):
    """ES's settings normalization: index. prefix, values as strings."""
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise bad_request("settings must be an object")
    out = {}
    for key, value in _flat_settings(settings).items():
        if not key.startswith("index."):
            key = "index." + key
        if value is None:
            out[key] = None
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def _validate_settings(flat):
    for key, value in flat.items():
        if key not in KNOWN_SETTINGS and not key.startswith(KNOWN_SETTING_PREFIXES):
            raise bad_request(
                "unknown setting [%s] please check that any required plugins are "
                "installed, or check the breaking changes documentation for removed "
                "settings" % key)
        if value is None:
            continue
        if key == "index.refresh_interval":
            parse_time_value(value, key)
        elif key in ("index.number_of_shards", "index.number_of_replicas",
                     "index.max_result_window", "index.max_terms_count",
                     "index.mapping.total_fields.limit", "index.mapping.depth.limit"):
            try:
                n = int(value)
            except ValueError:
                raise bad_request("Failed to parse value [%s] for setting [%s]"
                                  % (value, key))
            low = 1 if key == "index.number_of_shards" else 0
            if n < low:
                raise bad_request("Failed to parse value [%s] for setting [%s] must be "
                                  ">= %d" % (value, key, low))


def _nest_settings(flat):
    """{"index.a.b": v} -> {"index": {"a": {"b": v}}} as GET _settings shows."""
    out = {}
    for key, value in sorted(flat.items()):
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = node[part] = {}
            node = nxt
        node[parts[-1]] = value
    return out


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return list(value)


def _new_id():
    return base64.urlsafe_b64encode(os.urandom(15)).decode()


def _bool_param(params, name, default=False):
    if name not in params:
        return default
    return params[name] in ("", "true")


class Store:
    """The whole cluster state, guarded by one lock."""

    def __init__(self, flavor, mapping_mode="dynamic", max_buckets=None,
                 data_dir=None):
        self.flavor = flavor
        self.mapping_mode = mapping_mode
        self.default_max_buckets = flavor.max_buckets if max_buckets is None \
            else max_buckets
        self.lock = threading.RLock()
        self.journal = None
        self._jrecs = []        # effects of the current mutating call, in order
        self._jseen = set()     # id() of indices with a metadata record in it
        self._jdepth = 0
        self.reset()
        if data_dir is not None:
            self.journal = Journal(data_dir, flavor.name)
            with self.lock:
                self.journal.replay(self._replay_ops)

    # ------------------------------------------------------------------
    # durability (--data-dir): a journal of effective state changes
    # ------------------------------------------------------------------

    @contextlib.contextmanager
    def _mutation(self):
        """The lock, for an API call that changes state. When the outermost
        such call ends (answer or error), what it changed is appended to the
        journal, before the HTTP layer sends the response."""
        with self.lock:
            self._jdepth += 1
            try:
                yield
            finally:
                self._jdepth -= 1
                if self._jdepth == 0 and self.journal is not None:
                    self._j_flush()

    def _j_index(self, index):
        """Record the index's metadata (settings, mapping, aliases) as it is
        when the call ends, at the point of its first change in the call."""
        if self.journal is not None and id(index) not in self._jseen:
            self._jseen.add(id(index))
            self._jrecs.append(("index", index, None))

    def _j_drop(self, index):
        if self.journal is not None:
            self._jrecs.append(("drop", index, None))

    def _j_templates(self):
        if self.journal is not None:
            self._jrecs.append(("templates", None, None))

    def _j_cluster(self):
        if self.journal is not None:
            self._jrecs.append(("cluster", None, None))

    def _j_flush(self):
        recs, self._jrecs, self._jseen = self._jrecs, [], set()
        if not recs:
            return
        ops = []
        done = set()
        for kind, index, arg in recs:
            if kind == "doc":
                ops.append({"t": "doc", "i": index.name, "u": index.uuid, "id": arg.id,
                            "v": arg.version, "s": arg.seq_no, "o": arg.ordinal,
                            "src": arg.source})
            elif kind == "del":
                doc_id, version, seq_no = arg
                ops.append({"t": "del", "i": index.name, "u": index.uuid, "id": doc_id,
                            "v": version, "s": seq_no})
            elif kind == "index":
                ops.append({"t": "index", "i": index.name, "u": index.uuid,
                            "created": index.created, "settings": index.settings,
                            "mapping": index.mapping, "doc_type": index.doc_type,
                            "aliases": index.aliases})
            elif kind == "drop":
                ops.append({"t": "drop", "i": index.name, "u": index.uuid})
            elif kind not in done:
                done.add(kind)
                if kind == "templates":
                    ops.append({"t": "templates", "index": self.index_templates,
                                "component": self.component_templates,
                                "legacy": self.legacy_templates})
                else:
                    ops.append({"t": "cluster", "settings": self.cluster_settings})
        self.journal.append(ops)

    def _replay_ops(self, ops):
        """Apply one journal entry (the effects of one acknowledged call)."""
        for op in ops:
            t = op["t"]
            if t == "templates":
                self.index_templates = op["index"]
                self.component_templates = op["component"]
                self.legacy_templates = op["legacy"]
                continue
            if t == "cluster":
                self.cluster_settings = op["settings"]
                continue
            name = op["i"]
            index = self.indices.get(name)
            if index is not None and index.uuid != op["u"]:
                index = None
            if t == "index":
                if index is None:
                    index = Index(name, op["settings"], op["mapping"], op["doc_type"])
                    index.uuid = op["u"]
                    index.created = op["created"]
                    self.indices[name] = index
                index.settings = op["settings"]
                index.mapping = op["mapping"]
                index.doc_type = op["doc_type"]
                index.aliases = op["aliases"]
            elif index is None:
                continue
            elif t == "drop":
                del self.indices[name]
            elif t == "doc":
                doc_id, source = op["id"], op["src"]
                try:
                    fields = DocumentParser(index.mapping, doc_id, self.flavor,
                                            index.settings).parse(source)
                except MapperError:
                    fields = {}
                doc = Doc(doc_id, source, fields, op["v"], op["s"], op["o"])
                index.docs[doc_id] = doc
                index.visible.pop(doc_id, None)
                index.visible[doc_id] = doc
                index.versions[doc_id] = op["v"]
                index.seq_no = max(index.seq_no, op["s"])
                self.ordinal = max(self.ordinal, op["o"])
            elif t == "del":
                doc_id = op["id"]
                index.docs.pop(doc_id, None)
                index.visible.pop(doc_id, None)
                index.versions[doc_id] = op["v"]
                index.seq_no = max(index.seq_no, op["s"])

    # ------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------

    def reset(self):
        with self.lock:
            if self.journal is not None:
                # An empty cluster: nothing to replay.
                self.journal.truncate()
                self._jrecs, self._jseen = [], set()
            self.indices = {}
            self.index_templates = {}
            self.component_templates = {}
            self.legacy_templates = {}
            self.scrolls = {}
            self.pits = {}
            self.cluster_settings = {"persistent": {}, "transient": {}}
            self.ordinal = 0
            self.counter = 0
            self.clock = Clock()
            if self.mapping_mode == "template":
                self._install_cloudtrail_template()

    def _install_cloudtrail_template(self):
        if self.flavor.composable_templates:
            self.index_templates["cloudtrail"] = {
                "index_patterns": ["cloudtrail-*"],
                "template": {"settings": copy.deepcopy(CLOUDTRAIL_TEMPLATE_SETTINGS),
                             "mappings": copy.deepcopy(CLOUDTRAIL_TEMPLATE_MAPPINGS)},
                "composed_of": [], "priority": 100}
        else:
            self.legacy_templates["cloudtrail"] = {
                "order": 0, "index_patterns": ["cloudtrail-*"],
                "settings": _normalize_settings(CLOUDTRAIL_TEMPLATE_SETTINGS),
                "mappings": copy.deepcopy(CLOUDTRAIL_TEMPLATE_MAPPINGS),
                "doc_type": "_doc", "aliases": {}}

    def cluster_setting(self, key, default=None):
        for scope in ("transient", "persistent"):
            if key in self.cluster_settings[scope]:
                return self.cluster_settings[scope][key]
        return default

    @property
    def max_buckets(self):
        value = self.cluster_setting("search.max_buckets")
        return int(value) if value is not None else self.default_max_buckets

    def _response_type(self, index):
        """The `_type` to show in responses (ES 6 and 7 only)."""
        if self.flavor.name == "es6":
            return index.doc_type or "_doc"
        return self.flavor.doc_type

    def _now(self):
        return self.clock.now()

    # ------------------------------------------------------------------
    # names, patterns, aliases
    # ------------------------------------------------------------------

    def _invalid_name(self, name, why):
        return error(400, "invalid_index_name_exception",
                     "Invalid index name [%s], %s" % (name, why),
                     index_uuid="_na_", index=name)

    def _validate_index_name(self, name):
        if name != name.lower():
            raise self._invalid_name(name, "must be lowercase")
        if name[:1] in ("_", "-", "+"):
            raise self._invalid_name(name, "must not start with '_', '-', or '+'")
        if name in (".", ".."):
            raise self._invalid_name(name, "must not be '.' or '..'")
        bad = [c for c in INVALID_NAME_CHARS if c in name]
        if bad:
            raise self._invalid_name(
                name, "must not contain the following characters [ , \", *, \\, <, |, "
                ",, >, /, ?]")
        if len(name.encode()) > 255:
            raise self._invalid_name(name, "index name is too long, (%d > 255)"
                                     % len(name.encode()))
        if self._alias_indices(name):
            raise self._invalid_name(name, "already exists as alias")

    def _alias_indices(self, alias):
        return [i for i in self.indices.values() if alias in i.aliases]

    def _all_aliases(self):
        names = set()
        for i in self.indices.values():
            names.update(i.aliases)
        return names

    def resolve(self, expr, params=None, allow_empty_default=True):
        """Concrete index names for an index expression (read APIs).

        Wildcards (`cloudtrail-*`), comma lists, aliases and `-exclusions`.
        A wildcard matching nothing is fine (allow_no_indices=true); a missing
        concrete name is a 404 unless ignore_unavailable=true.
        """
        params = params or {}
        allow_no = params.get("allow_no_indices", "true") != "false"
        ignore_unavailable = params.get("ignore_unavailable", "false") == "true"
        expand = params.get("expand_wildcards", "open")
        if expr in (None, "", "_all", "*"):
            names = [n for n in self.indices if not n.startswith(".")]
            if not names and not allow_no and expr not in (None, ""):
                raise index_not_found(self.flavor, expr or "_all")
            return sorted(names)
        result = []
        for part in expr.split(","):
            if not part:
                continue
            if part.startswith("-") and result:
                pattern = part[1:]
                result = [n for n in result if not simple_match(pattern, n)]
                continue
            if "*" in part:
                if expand == "none":
                    continue
                for name in sorted(self.indices):
                    if name.startswith(".") and not part.startswith("."):
                        continue
                    if simple_match(part, name) and name not in result:
                        result.append(name)
                for alias in sorted(self._all_aliases()):
                    if simple_match(part, alias):
                        for i in self._alias_indices(alias):
                            if i.name not in result:
                                result.append(i.name)
                continue
            if part in self.indices:
                if part not in result:
                    result.append(part)
            elif self._alias_indices(part):
                for i in self._alias_indices(part):
                    if i.name not in result:
                        result.append(i.name)
            elif not ignore_unavailable:
                raise index_not_found(self.flavor, part)
        if not result and not allow_no:
            raise index_not_found(self.flavor, expr)
        return sorted(result)

    def _write_index(self, name, params=None, auto_create=True):
        """The index a write to `name` goes to, creating it if needed."""
        if name in self.indices:
            return self.indices[name]
        targets = self._alias_indices(name)
        if targets:
            if len(targets) == 1 and targets[0].aliases[name].get("is_write_index") \
                    is not False:
                return targets[0]
            writers = [i for i in targets if i.aliases[name].get("is_write_index")]
            if len(writers) == 1:
                return writers[0]
            raise bad_request(
                "no write index is defined for alias [%s]. The write index may be "
                "explicitly disabled using is_write_index=false or the alias points "
                "to multiple indices without one being designated as a write index"
                % name)
        auto = self.cluster_setting("action.auto_create_index", "true")
        if not auto_create or str(auto).lower() == "false":
            raise index_not_found(self.flavor, name)
        self._create_index(name, {}, auto=True)
        return self.indices[name]

    # ------------------------------------------------------------------
    # templates
    # ------------------------------------------------------------------

    def _unwrap_typed(self, mappings, where, params):
        """ES 6 mappings carry a type name: {"_doc": {...}} -> (type, mapping)."""
        if not mappings:
            return None, {}
        typed = self.flavor.typed or params.get("include_type_name") == "true"
        if not typed:
            return None, mappings
        if len(mappings) != 1:
            raise error(400, "mapper_parsing_exception",
                        "Failed to parse mapping: expected a single mapping type in %s"
                        % where)
        (tname, body), = mappings.items()
        if tname in ("properties", "dynamic", "_source") or not isinstance(body, dict):
            raise error(400, "mapper_parsing_exception",
                        "Root mapping definition has unsupported parameters:  [%s : %s]"
                        % (tname, json.dumps(body)))
        return tname, body

    def _matching_template(self, name):
        """(settings, mappings, aliases, doc_type) from templates for `name`."""
        settings, mappings, aliases, doc_type = {}, {}, {}, None
        best = None
        if self.flavor.composable_templates:
            for tname, t in self.index_templates.items():
                if any(simple_match(p, name) for p in t["index_patterns"]):
                    if best is None or t.get("priority", 0) > best[1].get("priority", 0):
                        best = (tname, t)
        if best is not None:
            parts = [self.component_templates[c]["template"]
                     for c in best[1].get("composed_of", [])
                     if c in self.component_templates]
            parts.append(best[1].get("template") or {})
            for part in parts:
                settings.update(_normalize_settings(part.get("settings")))
                mappings = merge_mapping(mappings, part.get("mappings") or {},
                                         conflicts=False)
                aliases.update(copy.deepcopy(part.get("aliases") or {}))
            return settings, mappings, aliases, None
        legacy = [t for t in self.legacy_templates.values()
                  if any(simple_match(p, name) for p in t["index_patterns"])]
        for t in sorted(legacy, key=lambda t: t.get("order", 0)):
            settings.update(t.get("settings") or {})
            mappings = merge_mapping(mappings, t.get("mappings") or {}, conflicts=False)
            aliases.update(copy.deepcopy(t.get("aliases") or {}))
            doc_type = t.get("doc_type") or doc_type
        return settings, mappings, aliases, doc_type

    def put_index_template(self, name, body, params, component=False):
        with self._mutation():
            self._j_templates()
            if not self.flavor.composable_templates:
                # ES 6 reads "_index_template" as an index name.
                raise self._invalid_name("_index_template" if not component
                                         else "_component_template",
                                         "must not start with '_', '-', or '+'")
            if not isinstance(body, dict):
                raise bad_request("request body is required")
            store = self.component_templates if component else self.index_templates
            if params.get("create") == "true" and name in store:
                raise bad_request("index template [%s] already exists" % name)
            allowed = {"template", "version", "_meta"} if component else {
                "index_patterns", "template", "composed_of", "priority", "version",
                "_meta", "data_stream", "allow_auto_create", "ignore_missing_component_templates",
                "deprecated"}
            unknown = set(body) - allowed
            if unknown:
                raise error(400, "x_content_parse_exception",
                            "[1:2] [%s] unknown field [%s]"
                            % ("component_template" if component else "index_template",
                               sorted(unknown)[0]))
            if body.get("data_stream") is not None:
                raise unsupported("data streams")
            tmpl = copy.deepcopy(body.get("template") or {})
            if "mappings" in tmpl:
                tmpl["mappings"] = validate_mapping(tmpl["mappings"], self.flavor)
            _validate_settings(_normalize_settings(tmpl.get("settings")))
            if component:
                store[name] = {"template": tmpl}
                if "version" in body:
                    store[name]["version"] = body["version"]
                return 200, {"acknowledged": True}
            patterns = _as_list(body.get("index_patterns"))
            if not patterns:
                raise error(400, "action_request_validation_exception",
                            "Validation Failed: 1: index patterns are missing;")
            missing = [c for c in body.get("composed_of", [])
                       if c not in self.component_templates]
            if missing:
                raise error(400, "invalid_index_template_exception",
                            "index_template [%s] invalid, cause [index template [%s] "
                            "specifies component templates %s that do not exist]"
                            % (name, name, json.dumps(missing).replace('"', "")),
                            name=name)
            priority = int(body.get("priority", 0))
            for other, t in self.index_templates.items():
                if other == name or t.get("priority", 0) != priority:
                    continue
                overlap = [p for p in patterns for q in t["index_patterns"]
                           if simple_match(p, q) or simple_match(q, p)]
                if overlap:
                    raise bad_request(
                        "index template [%s] has index patterns %s matching patterns "
                        "from existing templates [%s] with patterns (%s => %s) that have "
                        "the same priority [%d], multiple index templates may not match "
                        "during index creation, please use a different priority"
                        % (name, json.dumps(patterns).replace('"', ""), other, other,
                           json.dumps(t["index_patterns"]).replace('"', ""), priority))
            store[name] = {"index_patterns": patterns, "template": tmpl,
                           "composed_of": list(body.get("composed_of", [])),
                           "priority": priority}
            for key in ("version", "_meta"):
                if key in body:
                    store[name][key] = body[key]
            return 200, {"acknowledged": True}

    def get_index_template(self, name, component=False, head=False):
        with self.lock:
            if not self.flavor.composable_templates:
                raise index_not_found(self.flavor, "_index_template")
            store = self.component_templates if component else self.index_templates
            names = [n for n in sorted(store) if name is None or
                     any(simple_match(p, n) for p in name.split(","))]
            if name is not None and not names:
                if head:
                    return 404, None
                raise error(404, "resource_not_found_exception",
                            "%s matching [%s] not found"
                            % ("component template" if component else "index template",
                               name))
            if head:
                return 200, None
            key = "component_templates" if component else "index_templates"
            inner = "component_template" if component else "index_template"
            return 200, {key: [{"name": n, inner: copy.deepcopy(store[n])} for n in names]}

    def delete_index_template(self, name, component=False):
        with self._mutation():
            self._j_templates()
            store = self.component_templates if component else self.index_templates
            names = [n for n in list(store) if simple_match(name, n)]
            if not names:
                raise error(404, "resource_not_found_exception",
                            "%s [%s] missing" % ("component_template" if component
                                                 else "index_template", name))
            for n in names:
                del store[n]
            return 200, {"acknowledged": True}

    def put_legacy_template(self, name, body, params):
        with self._mutation():
            self._j_templates()
            if not isinstance(body, dict):
                raise bad_request("request body is required")
            if params.get("create") == "true" and name in self.legacy_templates:
                raise bad_request("index_template [%s] already exists" % name)
            patterns = _as_list(body.get("index_patterns", body.get("template")))
            if not patterns:
                raise error(400, "action_request_validation_exception",
                            "Validation Failed: 1: index patterns are missing;")
            doc_type, mapping = self._unwrap_typed(body.get("mappings") or {},
                                                   "template", params)
            mapping = validate_mapping(mapping, self.flavor) if mapping else {}
            settings = _normalize_settings(body.get("settings"))
            _validate_settings(settings)
            self.legacy_templates[name] = {
                "order": int(body.get("order", 0)), "index_patterns": patterns,
                "settings": settings, "mappings": mapping, "doc_type": doc_type,
                "aliases": copy.deepcopy(body.get("aliases") or {})}
            if "version" in body:
                self.legacy_templates[name]["version"] = body["version"]
            return 200, {"acknowledged": True}

    def get_legacy_template(self, name, head=False):
        with self.lock:
            names = [n for n in sorted(self.legacy_templates) if name is None or
                     any(simple_match(p, n) for p in name.split(","))]
            if name is not None and not names:
                return 404, (None if head else {})
            if head:
                return 200, None
            out = {}
            for n in names:
                t = self.legacy_templates[n]
                entry = {"order": t["order"]}
                if "version" in t:
                    entry["version"] = t["version"]
                entry["index_patterns"] = list(t["index_patterns"])
                entry["settings"] = _nest_settings(
                    {k: v for k, v in t["settings"].items() if v is not None})
                mappings = copy.deepcopy(t["mappings"])
                if self.flavor.typed and mappings:
                    mappings = {t.get("doc_type") or "_doc": mappings}
                entry["mappings"] = mappings
                entry["aliases"] = copy.deepcopy(t["aliases"])
                out[n] = entry
            return 200, out

    def delete_legacy_template(self, name):
        with self._mutation():
            self._j_templates()
            names = [n for n in list(self.legacy_templates) if simple_match(name, n)]
            if not names:
                raise error(404, "index_template_missing_exception",
                            "index_template [%s] missing" % name)
            for n in names:
                del self.legacy_templates[n]
            return 200, {"acknowledged": True}

    # ------------------------------------------------------------------
    # index lifecycle
    # ------------------------------------------------------------------

    def _create_index(self, name, body, auto=False, params=None):
        params = params or {}
        self._validate_index_name(name)
        if name in self.indices:
            i = self.indices[name]
            raise error(400, "resource_already_exists_exception",
                        "index [%s/%s] already exists" % (name, i.uuid),
                        index_uuid=i.uuid, index=name)
        body = body or {}
        if not isinstance(body, dict):
            raise bad_request("request body must be an object")
        unknown = set(body) - {"settings", "mappings", "aliases"}
        if unknown:
            key = sorted(unknown)[0]
            raise error(400, "parse_exception",
                        "unknown key [%s] for create index" % key)
        t_settings, t_mappings, t_aliases, t_type = self._matching_template(name)
        doc_type, mapping = self._unwrap_typed(body.get("mappings") or {}, name, params)
        mapping = validate_mapping(mapping, self.flavor) if mapping else {}
        settings = {"index.number_of_shards": str(self.flavor.default_shards),
                    "index.number_of_replicas": "1"}
        settings.update({k: v for k, v in t_settings.items() if v is not None})
        explicit = _normalize_settings(body.get("settings"))
        _validate_settings(explicit)
        settings.update({k: v for k, v in explicit.items() if v is not None})
        mapping = merge_mapping(t_mappings, mapping, conflicts=False)
        index = Index(name, settings, mapping, doc_type or t_type)
        index.settings.update({
            "index.uuid": index.uuid, "index.provided_name": name,
            "index.creation_date": str(index.created),
            "index.version.created": _version_id(self.flavor)})
        aliases = dict(t_aliases)
        aliases.update(body.get("aliases") or {})
        for alias, props in aliases.items():
            if alias in self.indices:
                raise error(400, "invalid_alias_name_exception",
                            "Invalid alias name [%s], an index exists with the same "
                            "name as the alias" % alias, index=name)
            index.aliases[alias] = copy.deepcopy(props or {})
        self.indices[name] = index
        self._j_index(index)
        return index

    def create_index(self, name, body, params):
        with self._mutation():
            self._create_index(name, body, params=params)
            return 200, {"acknowledged": True, "shards_acknowledged": True,
                         "index": name}

    def delete_index(self, expr, params):
        with self._mutation():
            wildcard = "*" in expr or expr in ("_all",)
            requires_name = self.cluster_setting(
                "action.destructive_requires_name",
                "true" if self.flavor.destructive_requires_name else "false")
            if wildcard and str(requires_name).lower() == "true":
                raise bad_request("Wildcard expressions or all indices are not allowed")
            for name in expr.split(","):
                if "*" not in name and name != "_all" and name not in self.indices:
                    if self._alias_indices(name):
                        raise bad_request(
                            "The provided expression [%s] matches an alias, specify the "
                            "corresponding concrete indices instead." % name)
                    if params.get("ignore_unavailable") != "true":
                        raise index_not_found(self.flavor, name)
            for name in self.resolve(expr, {"ignore_unavailable": "true"}):
                self._j_drop(self.indices[name])
                del self.indices[name]
            return 200, {"acknowledged": True}

    def get_index(self, expr, params, head=False):
        with self.lock:
            try:
                names = self.resolve(expr, params)
            except EsError:
                if head:
                    return 404, None
                raise
            if head:
                return (200 if names else 404), None
            out = {}
            for n in names:
                i = self.indices[n]
                out[n] = {"aliases": copy.deepcopy(i.aliases),
                          "mappings": self._mapping_view(i),
                          "settings": _nest_settings(i.settings)}
            return 200, out

    def _mapping_view(self, index):
        mapping = copy.deepcopy(index.mapping)
        if self.flavor.typed:
            return {index.doc_type: mapping} if index.doc_type and mapping else {}
        return mapping

    def get_mapping(self, expr, params):
        with self.lock:
            out = {}
            for n in self.resolve(expr, params):
                out[n] = {"mappings": self._mapping_view(self.indices[n])}
            return 200, out

    def put_mapping(self, expr, body, params, doc_type=None):
        with self._mutation():
            names = self.resolve(expr, params)
            if not names:
                raise index_not_found(self.flavor, expr or "_all")
            if not isinstance(body, dict):
                raise bad_request("mapping source is required")
            if self.flavor.typed and doc_type is None and len(body) == 1 and \
                    "properties" not in body:
                doc_type, body = next(iter(body.items()))
            mapping = validate_mapping(body, self.flavor)
            for n in names:
                i = self.indices[n]
                if self.flavor.typed:
                    want = doc_type or "_doc"
                    if i.doc_type and i.doc_type != want:
                        raise bad_request(
                            "Rejecting mapping update to [%s] as the final mapping would "
                            "have more than 1 type: [%s, %s]" % (n, i.doc_type, want))
                    i.doc_type = want
                i.mapping = merge_mapping(i.mapping, mapping, conflicts=True)
                self._j_index(i)
            return 200, {"acknowledged": True}

    def get_field_mapping(self, expr, fields, params):
        """GET /idx/_mapping/field/f1,f2 in ES's exact shape."""
        with self.lock:
            wanted = [f for f in fields.split(",") if f]
            out = {}
            for n in self.resolve(expr, params):
                i = self.indices[n]
                found = {}
                for full, short, node in leaf_fields(i.mapping):
                    if any(simple_match(w, full) for w in wanted):
                        found[full] = {"full_name": full,
                                       "mapping": {short: copy.deepcopy(node)}}
                # Order as requested, like ES.
                ordered = {}
                for w in wanted:
                    for k in list(found):
                        if simple_match(w, k) and k not in ordered:
                            ordered[k] = found[k]
                if self.flavor.typed:
                    out[n] = {"mappings": {i.doc_type: ordered} if i.doc_type else {}}
                else:
                    out[n] = {"mappings": ordered}
            return 200, out

    def get_settings(self, expr, params, name_filter=None):
        with self.lock:
            flat = params.get("flat_settings") == "true"
            out = {}
            for n in self.resolve(expr, params):
                s = {k: v for k, v in self.indices[n].settings.items() if v is not None}
                if name_filter:
                    pats = name_filter.split(",")
                    s = {k: v for k, v in s.items()
                         if any(simple_match(p, k) or simple_match("index." + p, k)
                                for p in pats)}
                out[n] = {"settings": s if flat else _nest_settings(s)}
            return 200, out

    def put_settings(self, expr, body, params):
        with self._mutation():
            names = self.resolve(expr, params)
            if expr not in (None, "", "_all", "*") and not names and \
                    "*" not in (expr or ""):
                raise index_not_found(self.flavor, expr)
            if not isinstance(body, dict) or not body:
                raise error(400, "action_request_validation_exception",
                            "Validation Failed: 1: no settings to update;")
            if "settings" in body and isinstance(body["settings"], dict):
                body = body["settings"]
            flat = _normalize_settings(body)
            _validate_settings(flat)
            static = [k for k in flat if k in STATIC_SETTINGS]
            if static:
                raise bad_request("Can't update non dynamic settings [%s] for open "
                                  "indices [%s]" % (json.dumps(static).replace('"', ""),
                                                    ", ".join("[%s/%s]" % (
                                                        n, self.indices[n].uuid)
                                                        for n in names)))
            preserve = params.get("preserve_existing") == "true"
            for n in names:
                i = self.indices[n]
                # Make writes visible under the old interval before switching.
                i.sync(self._now())
                for k, v in flat.items():
                    if preserve and k in i.settings:
                        continue
                    if v is None:
                        i.settings.pop(k, None)
                    else:
                        i.settings[k] = v
                self._j_index(i)
            return 200, {"acknowledged": True}

    def refresh(self, expr, params, flush=False):
        with self.lock:
            names = self.resolve(expr, params)
            total = successful = 0
            for n in names:
                i = self.indices[n]
                i.refresh()
                total += i.shards * (1 + i.replicas)
                successful += i.shards
            return 200, {"_shards": {"total": total, "successful": successful,
                                     "failed": 0}}

    # ------------------------------------------------------------------
    # aliases
    # ------------------------------------------------------------------

    def update_aliases(self, body):
        with self._mutation():
            actions = (body or {}).get("actions")
            if not isinstance(actions, list) or not actions:
                raise error(400, "action_request_validation_exception",
                            "Validation Failed: 1: no actions specified;")
            for action in actions:
                if not isinstance(action, dict) or len(action) != 1:
                    raise bad_request("[aliases] malformed action")
                (kind, spec), = action.items()
                indices = _as_list(spec.get("indices", spec.get("index")))
                aliases = _as_list(spec.get("aliases", spec.get("alias")))
                if kind == "remove_index":
                    for name in self.resolve(",".join(indices)):
                        self._j_drop(self.indices[name])
                        del self.indices[name]
                    continue
                if kind not in ("add", "remove"):
                    raise bad_request("Unsupported action [%s]" % kind)
                names = self.resolve(",".join(indices))
                for n in names:
                    i = self.indices[n]
                    for a in aliases:
                        if kind == "add":
                            if a in self.indices:
                                raise error(400, "invalid_alias_name_exception",
                                            "Invalid alias name [%s], an index exists "
                                            "with the same name as the alias" % a,
                                            index=n)
                            props = {k: v for k, v in spec.items()
                                     if k in ("is_write_index", "filter", "routing",
                                              "index_routing", "search_routing",
                                              "is_hidden")}
                            i.aliases[a] = props
                            self._j_index(i)
                        else:
                            matched = [x for x in list(i.aliases) if simple_match(a, x)]
                            if not matched and not spec.get("must_exist") is False:
                                raise error(404, "aliases_not_found_exception",
                                            "aliases [%s] missing" % a,
                                            resource__type="aliases",
                                            resource__id=a)
                            for x in matched:
                                del i.aliases[x]
                                self._j_index(i)
            return 200, {"acknowledged": True}

    def put_alias(self, expr, alias, body):
        with self._mutation():
            spec = {"indices": self.resolve(expr), "alias": alias}
            spec.update({k: v for k, v in (body or {}).items() if k != "alias"})
            return self.update_aliases({"actions": [{"add": spec}]})

    def delete_alias(self, expr, alias):
        with self._mutation():
            return self.update_aliases({"actions": [{"remove": {
                "indices": self.resolve(expr), "alias": alias}}]})

    def get_alias(self, expr, alias, params, head=False):
        with self.lock:
            names = self.resolve(expr, params)
            out = {}
            found = False
            for n in names:
                i = self.indices[n]
                matched = {a: copy.deepcopy(p) for a, p in i.aliases.items()
                           if alias is None or any(simple_match(x, a)
                                                   for x in alias.split(","))}
                if matched:
                    found = True
                if matched or alias is None:
                    out[n] = {"aliases": matched}
            if alias is not None and not found:
                if head:
                    return 404, None
                return 404, {"error": "alias [%s] missing" % alias, "status": 404}
            if head:
                return 200, None
            return 200, out

    # ------------------------------------------------------------------
    # documents
    # ------------------------------------------------------------------

    def _check_type(self, index, doc_type):
        """ES 6/7 allow a single mapping type per index."""
        if doc_type is None:
            return None
        if self.flavor.name == "es6":
            if index.doc_type and index.doc_type != doc_type:
                return cause("illegal_argument_exception",
                             "Rejecting mapping update to [%s] as the final mapping would "
                             "have more than 1 type: [%s, %s]"
                             % (index.name, index.doc_type, doc_type))
            if index.doc_type != doc_type:
                index.doc_type = doc_type
                self._j_index(index)
        elif doc_type != "_doc":
            return cause("illegal_argument_exception",
                         "Rejecting mapping update to [%s] as the final mapping would "
                         "have more than 1 type: [_doc, %s]" % (index.name, doc_type))
        return None

    def _conflict(self, index, doc_id):
        version = index.versions.get(doc_id, 1)
        prefix = "[%s][%s]" % (self._response_type(index), doc_id) \
            if self.flavor.name == "es6" else "[%s]" % doc_id
        return cause("version_conflict_engine_exception",
                     "%s: version conflict, document already exists (current version "
                     "[%d])" % (prefix, version),
                     index_uuid=index.uuid, shard="0", index=index.name)

    def _index_doc(self, index, op, doc_id, source, doc_type=None):
        """Index or create one document. Returns (status, item) like _bulk."""
        item = {"_index": index.name}
        type_error = self._check_type(index, doc_type)
        rtype = self._response_type(index)
        if rtype:
            # ES 6 answers with the type the request named.
            item["_type"] = doc_type if self.flavor.name == "es6" and doc_type else rtype
        item["_id"] = doc_id
        if type_error is not None:
            item["status"] = 400
            item["error"] = type_error
            return item
        exists = doc_id in index.docs
        if op == "create" and exists:
            item["status"] = 409
            item["error"] = self._conflict(index, doc_id)
            return item
        parser = DocumentParser(index.mapping, doc_id, self.flavor, index.settings)
        try:
            fields = parser.parse(source)
        except MapperError as exc:
            item["status"] = exc.status
            item["error"] = exc.cause
            return item
        new_mapping = parser.updated_mapping()
        if new_mapping is not None:
            index.mapping = new_mapping
            self._j_index(index)
        version = index.versions.get(doc_id, 0) + 1
        index.versions[doc_id] = version
        seq_no = index.next_seq_no()
        self.ordinal += 1
        doc = Doc(doc_id, source, fields, version, seq_no, self.ordinal)
        index.write(doc_id, doc, self._now())
        if self.journal is not None:
            self._jrecs.append(("doc", index, doc))
        item["_version"] = version
        item["result"] = "updated" if exists else "created"
        item["_shards"] = {"total": 1 + index.replicas, "successful": 1, "failed": 0}
        item["_seq_no"] = seq_no
        item["_primary_term"] = 1
        item["status"] = 200 if exists else 201
        return item

    def _delete_doc(self, index, doc_id):
        item = {"_index": index.name}
        rtype = self._response_type(index)
        if rtype:
            item["_type"] = rtype
        item["_id"] = doc_id
        exists = doc_id in index.docs
        version = index.versions.get(doc_id, 0) + 1
        index.versions[doc_id] = version
        if exists:
            index.delete(doc_id, self._now())
        item["_version"] = version
        item["result"] = "deleted" if exists else "not_found"
        item["_shards"] = {"total": 1 + index.replicas, "successful": 1, "failed": 0}
        item["_seq_no"] = index.next_seq_no()
        if self.journal is not None:
            self._jrecs.append(("del", index, (doc_id, version, item["_seq_no"])))
        item["_primary_term"] = 1
        item["status"] = 200 if exists else 404
        return item

    def _update_doc(self, index, doc_id, spec):
        """The `update` bulk action: partial doc merge, upsert."""
        if not isinstance(spec, dict):
            raise bad_request("update request must be an object")
        if "script" in spec:
            raise unsupported("scripted updates")
        current = index.docs.get(doc_id)
        if current is None:
            if spec.get("doc_as_upsert") and "doc" in spec:
                return self._index_doc(index, "create", doc_id, spec["doc"])
            if "upsert" in spec:
                return self._index_doc(index, "create", doc_id, spec["upsert"])
            item = {"_index": index.name}
            if self._response_type(index):
                item["_type"] = self._response_type(index)
            item.update({"_id": doc_id, "status": 404, "error": cause(
                "document_missing_exception", "[%s]: document missing" % doc_id,
                index_uuid=index.uuid, shard="0", index=index.name)})
            return item
        merged = _deep_merge(current.source, spec.get("doc") or {})
        if merged == current.source and spec.get("detect_noop", True):
            item = {"_index": index.name}
            if self._response_type(index):
                item["_type"] = self._response_type(index)
            item.update({"_id": doc_id, "_version": current.version, "result": "noop",
                         "_shards": {"total": 0, "successful": 0, "failed": 0},
                         "_seq_no": current.seq_no, "_primary_term": 1, "status": 200})
            return item
        return self._index_doc(index, "index", doc_id, merged)

    def put_doc(self, expr, doc_id, body, params, op="index", doc_type=None):
        """PUT/POST /idx/_doc/id, /idx/_create/id, POST /idx/_doc."""
        with self._mutation():
            if op == "index" and params.get("op_type") == "create":
                op = "create"
            index = self._write_index(expr, params)
            if self.flavor.name == "es6" and doc_type is None:
                doc_type = index.doc_type or "_doc"
            item = self._index_doc(index, op, doc_id or _new_id(), body, doc_type)
            if "error" in item:
                e = item["error"]
                raise error(item["status"], e["type"], e["reason"],
                            root_cause=[{k: v for k, v in e.items() if k != "caused_by"}],
                            **{k: v for k, v in e.items() if k not in ("type", "reason")})
            self._after_write([index], params, [item])
            status = item.pop("status")
            return status, item

    def delete_doc(self, expr, doc_id, params):
        with self._mutation():
            if expr not in self.indices and not self._alias_indices(expr):
                raise index_not_found(self.flavor, expr)
            index = self._write_index(expr, params, auto_create=False)
            item = self._delete_doc(index, doc_id)
            self._after_write([index], params, [item])
            status = item.pop("status")
            return status, item

    def get_doc(self, expr, doc_id, params, head=False):
        with self.lock:
            names = self.resolve(expr, params)
            if len(names) != 1:
                if not names:
                    raise index_not_found(self.flavor, expr)
                raise bad_request("alias [%s] has more than one index associated with "
                                  "it [%s], can't execute a single index op"
                                  % (expr, ", ".join(names)))
            index = self.indices[names[0]]
            doc = index.docs.get(doc_id)
            if head:
                return (200 if doc else 404), None
            out = {"_index": index.name}
            if self._response_type(index):
                out["_type"] = self._response_type(index)
            out["_id"] = doc_id
            if doc is None:
                out["found"] = False
                return 404, out
            out.update({"_version": doc.version, "_seq_no": doc.seq_no,
                        "_primary_term": 1, "found": True})
            enabled, inc, exc = es_search.source_filter(None, params)
            if enabled:
                out["_source"] = es_search.filter_source(doc.source, inc, exc)
            return 200, out

    def mget(self, path_index, body, params, path_type=None):
        """GET|POST [/idx]/_mget: realtime gets, one item per requested doc."""
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise bad_request("request body must be an object")
        unknown = [k for k in body if k not in ("docs", "ids")]
        if unknown:
            raise error(400, "parsing_exception",
                        "unknown key [%s] for a START_ARRAY, expected [docs] or [ids]"
                        % unknown[0])
        specs = []
        if "ids" in body:
            if not isinstance(body["ids"], list):
                raise error(400, "parsing_exception", "ids must be an array")
            for doc_id in body["ids"]:
                specs.append({"_id": doc_id})
        if "docs" in body:
            if not isinstance(body["docs"], list):
                raise error(400, "parsing_exception", "docs must be an array")
            for spec in body["docs"]:
                if not isinstance(spec, dict):
                    raise error(400, "parsing_exception",
                                "docs array element should include an object")
                specs.append(spec)
        problems = []
        for n, spec in enumerate(specs):
            if not (spec.get("_index") or path_index):
                problems.append("index is missing for doc %d" % n)
            if spec.get("_id") in (None, ""):
                problems.append("id is missing for doc %d" % n)
        if not specs:
            problems.append("no documents to get")
        if problems:
            raise error(400, "action_request_validation_exception",
                        "Validation Failed: " + "".join(
                            "%d: %s;" % (n + 1, p) for n, p in enumerate(problems)))
        realtime = params.get("realtime", "true") != "false"
        do_refresh = _bool_param(params, "refresh")
        with self.lock:
            docs = []
            for spec in specs:
                docs.append(self._mget_item(spec, path_index, path_type, params,
                                            realtime, do_refresh))
            return 200, {"docs": docs}

    def _mget_item(self, spec, path_index, path_type, params, realtime, do_refresh):
        expr = spec.get("_index") or path_index
        doc_id = str(spec["_id"]) if not isinstance(spec["_id"], str) else spec["_id"]
        doc_type = spec.get("_type") or path_type
        names = self.resolve(expr, {"ignore_unavailable": "true"})
        out = {"_index": expr}
        if self.flavor.doc_type:
            out["_type"] = doc_type or self._response_type_name(names)
        out["_id"] = doc_id
        if not names:
            reason = "no such index [%s]" % expr \
                if self.flavor.not_found_reason_has_name else "no such index"
            out["error"] = {k: v for k, v in error(
                404, "index_not_found_exception", reason,
                resource__type="index_expression", resource__id=expr,
                index_uuid="_na_", index=expr).body["error"].items()}
            return out
        if len(names) > 1:
            out["error"] = error(400, "illegal_argument_exception",
                                 "alias [%s] has more than one index associated with it "
                                 "[%s], can't execute a single index op"
                                 % (expr, ", ".join(names))).body["error"]
            return out
        index = self.indices[names[0]]
        out["_index"] = index.name
        if self.flavor.doc_type:
            out["_type"] = doc_type or self._response_type(index)
        if do_refresh:
            index.refresh()
        if realtime:
            doc = index.docs.get(doc_id)
        else:
            index.sync(self._now())
            doc = index.visible.get(doc_id)
        if doc is None or (self.flavor.name == "es6" and doc_type and
                           index.doc_type and doc_type not in (index.doc_type, "_all")):
            out["found"] = False
            return out
        out.update({"_version": doc.version, "_seq_no": doc.seq_no,
                    "_primary_term": 1, "found": True})
        source_spec = spec.get("_source")
        item_params = params if source_spec is None else {}
        enabled, inc, exc = es_search.source_filter(source_spec, item_params)
        if ("stored_fields" in spec or "stored_fields" in params) and \
                source_spec is None and not any(
                    k in params for k in ("_source", "_source_includes",
                                          "_source_excludes")):
            # stored_fields without _source asks for no source (and nothing
            # is stored here but _source, so no "fields" either).
            enabled = False
        if enabled:
            out["_source"] = es_search.filter_source(doc.source, inc, exc)
        return out

    def _response_type_name(self, names):
        if names and len(names) == 1:
            return self._response_type(self.indices[names[0]])
        return self.flavor.doc_type

    def update_doc(self, expr, doc_id, body, params):
        with self._mutation():
            index = self._write_index(expr, params)
            item = self._update_doc(index, doc_id, body)
            if "error" in item:
                e = item["error"]
                raise error(item["status"], e["type"], e["reason"],
                            **{k: v for k, v in e.items() if k not in ("type", "reason")})
            self._after_write([index], params, [item])
            status = item.pop("status")
            return status, item

    def _after_write(self, indices, params, items):
        refresh = params.get("refresh")
        if refresh in ("", "true", "wait_for"):
            for i in indices:
                i.refresh()
            if refresh != "wait_for":
                for item in items:
                    if "error" not in item and item.get("result") != "noop":
                        item["forced_refresh"] = True

    # ------------------------------------------------------------------
    # _bulk
    # ------------------------------------------------------------------

    def bulk(self, path_index, raw, params, path_type=None, item_fault=None):
        """POST /_bulk and /idx/_bulk (NDJSON); items in request order."""
        started = time.monotonic()
        if not raw or not raw.strip():
            raise error(400, "action_request_validation_exception",
                        "Validation Failed: 1: no requests added;")
        if not raw.endswith(b"\n"):
            raise bad_request("The bulk request must be terminated by a newline [\\n]")
        lines = raw.split(b"\n")
        ops = []
        problems = []
        i = 0
        line_no = 0
        while i < len(lines):
            line = lines[i].strip()
            i += 1
            line_no += 1
            if not line:
                continue
            try:
                action = json.loads(line)
            except ValueError as exc:
                raise error(400, "json_parse_exception",
                            "Unexpected character in action/metadata line [%d]: %s"
                            % (line_no, exc))
            if not isinstance(action, dict) or len(action) != 1:
                raise bad_request("Malformed action/metadata line [%d], expected "
                                  "START_OBJECT or END_OBJECT but found [%s]"
                                  % (line_no, type(action).__name__))
            (kind, meta), = action.items()
            if kind not in ("index", "create", "update", "delete"):
                raise bad_request("Malformed action/metadata line [%d], expected field "
                                  "[create], [delete], [index] or [update] but found [%s]"
                                  % (line_no, kind))
            if not isinstance(meta, dict):
                raise bad_request("Malformed action/metadata line [%d], expected "
                                  "START_OBJECT but found [%s]" % (line_no, meta))
            allowed = {"_index", "_id", "routing", "_routing", "version", "version_type",
                       "if_seq_no", "if_primary_term", "pipeline", "require_alias",
                       "retry_on_conflict", "_source", "dynamic_templates",
                       "_retry_on_conflict", "_version", "_version_type", "op_type",
                       "list_executed_pipelines", "require_data_stream"}
            if self.flavor.name in ("es6", "es7"):
                allowed.add("_type")
            for key in meta:
                if key not in allowed:
                    raise bad_request("Action/metadata line [%d] contains an unknown "
                                      "parameter [%s]" % (line_no, key))
            source = None
            if kind != "delete":
                if i >= len(lines) or (i == len(lines) - 1 and not lines[i].strip()):
                    raise bad_request("The bulk request must be terminated by a newline "
                                      "[\\n]")
                source = lines[i]
                i += 1
                line_no += 1
            index = meta.get("_index", path_index)
            if not index:
                problems.append("index is missing")
            doc_type = meta.get("_type", path_type)
            if self.flavor.name == "es6" and not doc_type:
                problems.append("type is missing")
            if kind == "update" and not meta.get("_id"):
                problems.append("id is missing")
            ops.append((kind, index, meta.get("_id"), doc_type, source))
        if problems:
            detail = "".join("%d: %s;" % (n + 1, p) for n, p in enumerate(problems))
            raise error(400, "action_request_validation_exception",
                        "Validation Failed: " + detail)
        items = []
        touched = {}
        with self._mutation():
            for pos, (kind, index_name, doc_id, doc_type, source) in enumerate(ops):
                entry = self._bulk_item(pos, kind, index_name, doc_id, doc_type, source,
                                        item_fault, touched)
                items.append({kind: entry})
            self._after_write(list(touched.values()), params,
                              [next(iter(it.values())) for it in items])
        return 200, {"took": int((time.monotonic() - started) * 1000),
                     "errors": any("error" in next(iter(it.values())) for it in items),
                     "items": items}

    def _bulk_item(self, pos, kind, index_name, doc_id, doc_type, source,
                   item_fault, touched):
        if item_fault is not None and item_fault.hits(pos):
            entry = {"_index": index_name}
            if self.flavor.doc_type:
                entry["_type"] = doc_type or self.flavor.doc_type
            entry["_id"] = doc_id or _new_id()
            entry["status"] = item_fault.status
            entry["error"] = item_fault.cause(self.flavor)
            return entry
        try:
            index = self._write_index(index_name)
        except EsError as exc:
            err = exc.body["error"]
            entry = {"_index": index_name}
            if self.flavor.doc_type:
                entry["_type"] = doc_type or self.flavor.doc_type
            entry["_id"] = doc_id
            entry["status"] = exc.status
            entry["error"] = {k: v for k, v in err.items() if k != "root_cause"}
            return entry
        touched[index.name] = index
        if kind == "delete":
            return self._delete_doc(index, doc_id)
        try:
            body = json.loads(source)
        except ValueError as exc:
            entry = {"_index": index.name}
            if self._response_type(index):
                entry["_type"] = self._response_type(index)
            entry.update({"_id": doc_id, "status": 400, "error": cause(
                "mapper_parsing_exception", "failed to parse",
                caused_by=cause("json_parse_exception", str(exc)))})
            return entry
        if kind == "update":
            return self._update_doc(index, doc_id, body)
        if not isinstance(body, dict):
            entry = {"_index": index.name, "_id": doc_id, "status": 400,
                     "error": cause("mapper_parsing_exception", "failed to parse",
                                    caused_by=cause("not_x_content_exception",
                                                    "Compressor detection can only be "
                                                    "called on some xcontent bytes or "
                                                    "compressed xcontent bytes"))}
            return entry
        return self._index_doc(index, kind, doc_id or _new_id(), body, doc_type)

    # ------------------------------------------------------------------
    # search, count, scroll, point in time
    # ------------------------------------------------------------------

    def _contexts(self, names, now_ms=None):
        now = self._now()
        contexts = []
        for n in names:
            i = self.indices[n]
            i.sync(now)
            contexts.append(es_search.Context(
                self.flavor, n, i.mapping, i.settings, list(i.visible.values()),
                uuid=i.uuid, shards=i.shards, doc_type=self._response_type(i),
                now_ms=now_ms))
        return contexts

    def search(self, expr, body, params, faults=frozenset(), has_index=True):
        req = es_search.SearchRequest(body, params, self.flavor)
        pit = (body or {}).get("pit")
        with self.lock:
            if pit is not None:
                if has_index:
                    raise error(400, "action_request_validation_exception",
                                "Validation Failed: 1: [indices] cannot be used with "
                                "point in time. Do not specify any index with point in "
                                "time.;")
                if "scroll" in params:
                    raise error(400, "action_request_validation_exception",
                                "Validation Failed: 1: using [point in time] is not "
                                "allowed in a scroll context;")
                ctx_list, pit_id = self._pit_contexts(pit)
            else:
                ctx_list = self._contexts(self.resolve(expr, params))
            scroll = params.get("scroll")
            if scroll is not None:
                keep = parse_time_value(scroll, "scroll")
                response, all_hits = es_search.execute(
                    self.flavor, ctx_list, req, self.max_buckets, scroll_all=True,
                    faults=faults)
                self.counter += 1
                sid = base64.b64encode(("scroll:%d:%s" % (
                    self.counter, os.urandom(6).hex())).encode()).decode()
                self.scrolls[sid] = {"hits": all_hits, "pos": req.size,
                                     "size": req.size, "keep": keep,
                                     "shards": sum(c.shards for c in ctx_list),
                                     "expires": time.monotonic() + keep,
                                     "template": response}
                response["hits"]["hits"] = all_hits[:req.size]
                out = {"_scroll_id": sid}
                out.update(response)
                return 200, out
            response, _ = es_search.execute(self.flavor, ctx_list, req,
                                            self.max_buckets, pit=pit is not None,
                                            faults=faults)
            if pit is not None:
                out = {"pit_id": pit_id}
                out.update(response)
                return 200, out
            return 200, response

    def count(self, expr, body, params, faults=frozenset()):
        with self.lock:
            return 200, es_search.count(self.flavor,
                                        self._contexts(self.resolve(expr, params)),
                                        body, params, faults)

    def _context_missing(self, what):
        reason = "No search context found for id [%s]" % what
        c = cause("search_context_missing_exception", reason)
        return error(404, "search_phase_execution_exception", "all shards failed",
                     root_cause=[dict(c)], phase="query", grouped=True,
                     failed_shards=[{"shard": -1, "index": None, "reason": c}],
                     caused_by=dict(c) if self.flavor.caused_by_on_phase_error else None)

    def scroll(self, body, params, faults=frozenset()):
        body = body or {}
        sid = body.get("scroll_id", params.get("scroll_id"))
        keep = body.get("scroll", params.get("scroll"))
        if not sid:
            raise error(400, "action_request_validation_exception",
                        "Validation Failed: 1: scroll id is missing;")
        with self.lock:
            self._expire()
            ctx = self.scrolls.get(sid)
            if ctx is None:
                if not _decodes(sid, "scroll:"):
                    raise bad_request("Cannot parse scroll id")
                raise self._context_missing(_decoded_number(sid))
            if keep is not None:
                ctx["keep"] = parse_time_value(keep, "scroll")
            ctx["expires"] = time.monotonic() + ctx["keep"]
            page = ctx["hits"][ctx["pos"]:ctx["pos"] + ctx["size"]]
            ctx["pos"] += ctx["size"]
            template = ctx["template"]
            out = {"_scroll_id": sid, "took": 1,
                   "timed_out": "timed_out" in faults,
                   "_shards": copy.deepcopy(template["_shards"])}
            if "partial_shards" in faults:
                out["_shards"]["total"] += 1
                out["_shards"]["failed"] += 1
            hits = {}
            if "total" in template["hits"]:
                hits["total"] = template["hits"]["total"]
            hits["max_score"] = template["hits"]["max_score"]
            hits["hits"] = page
            out["hits"] = hits
            return 200, out

    def clear_scroll(self, body, params, path_id=None):
        body = body or {}
        ids = body.get("scroll_id", params.get("scroll_id", path_id))
        ids = _as_list(ids)
        with self.lock:
            self._expire()
            # num_freed counts search contexts, i.e. one per shard searched.
            if ids == ["_all"]:
                n = sum(c["shards"] for c in self.scrolls.values())
                self.scrolls.clear()
                return 200, {"succeeded": True, "num_freed": n}
            freed = 0
            for sid in ids:
                if sid in self.scrolls:
                    freed += self.scrolls.pop(sid)["shards"]
                elif not _decodes(sid, "scroll:"):
                    raise bad_request("Cannot parse scroll id")
            return (200 if freed or not ids else 404), {"succeeded": True,
                                                        "num_freed": freed}

    def _expire(self):
        now = time.monotonic()
        for store in (self.scrolls, self.pits):
            for key in [k for k, v in store.items() if v["expires"] < now]:
                del store[key]

    def open_pit(self, expr, params, engine):
        """POST /idx/_pit (ES) or POST /idx/_search/point_in_time (OpenSearch)."""
        keep = params.get("keep_alive")
        if keep is None:
            if engine == "es":
                raise error(400, "action_request_validation_exception",
                            "Validation Failed: 1: [keep_alive] is not specified;")
            raise bad_request("Keep alive cannot be empty")
        seconds = parse_time_value(keep, "keep_alive")
        with self.lock:
            names = self.resolve(expr, params)
            contexts = self._contexts(names)
            self.counter += 1
            raw = "%s:%d:%s" % ("pit", self.counter, os.urandom(9).hex())
            pit_id = base64.urlsafe_b64encode(raw.encode()).decode()
            created = int(time.time() * 1000)
            self.pits[pit_id] = {"contexts": contexts, "keep": seconds,
                                 "expires": time.monotonic() + seconds,
                                 "created": created, "engine": engine}
            total = sum(c.shards for c in contexts)
            shards = {"total": total, "successful": total, "skipped": 0, "failed": 0}
            if engine == "os":
                return 200, {"pit_id": pit_id, "_shards": shards,
                             "creation_time": created}
            out = {"id": pit_id}
            if self.flavor.name == "es8":
                out["_shards"] = shards
            return 200, out

    def _pit_contexts(self, pit):
        if not isinstance(pit, dict) or "id" not in pit:
            raise error(400, "x_content_parse_exception", "[pit] requires [id]")
        pit_id = pit["id"]
        self._expire()
        entry = self.pits.get(pit_id)
        if entry is None:
            if not _decodes(pit_id, "pit:"):
                raise bad_request("invalid id: [%s]" % pit_id)
            raise self._context_missing(_decoded_number(pit_id))
        if "keep_alive" in pit:
            entry["keep"] = parse_time_value(pit["keep_alive"], "keep_alive")
        entry["expires"] = time.monotonic() + entry["keep"]
        return entry["contexts"], pit_id

    def close_pit_es(self, body):
        pit_id = (body or {}).get("id")
        if not pit_id:
            raise error(400, "action_request_validation_exception",
                        "Validation Failed: 1: point in time id is missing;")
        with self.lock:
            self._expire()
            if pit_id in self.pits:
                entry = self.pits.pop(pit_id)
                freed = sum(c.shards for c in entry["contexts"])
                return 200, {"succeeded": True, "num_freed": freed}
            if not _decodes(pit_id, "pit:"):
                raise bad_request("invalid id: [%s]" % pit_id)
            return 404, {"succeeded": True, "num_freed": 0}

    def close_pit_os(self, body, all_pits=False):
        with self.lock:
            self._expire()
            if all_pits:
                ids = list(self.pits)
            else:
                ids = _as_list((body or {}).get("pit_id"))
                if not ids:
                    raise error(400, "action_request_validation_exception",
                                "Validation Failed: 1: no pit ids specified;")
            result = []
            for pid in ids:
                ok = self.pits.pop(pid, None) is not None
                result.append({"successful": ok, "pit_id": pid})
            status = 200 if all(r["successful"] for r in result) else 404
            return status, {"pits": result}

    def list_pits_os(self):
        with self.lock:
            self._expire()
            return 200, {"pits": [{"pit_id": k, "creation_time": v["created"],
                                   "keep_alive": int(v["keep"] * 1000)}
                                  for k, v in self.pits.items()]}

    # ------------------------------------------------------------------
    # cluster
    # ------------------------------------------------------------------

    def info(self):
        return 200, info_document(self.flavor)

    def health(self, expr, params):
        with self.lock:
            names = self.resolve(expr, params) if expr else list(self.indices)
            primaries = sum(self.indices[n].shards for n in names)
            return 200, {
                "cluster_name": "cloudtracker-test", "status": "green",
                "timed_out": False, "number_of_nodes": 1, "number_of_data_nodes": 1,
                "active_primary_shards": primaries, "active_shards": primaries,
                "relocating_shards": 0, "initializing_shards": 0,
                "unassigned_shards": 0, "delayed_unassigned_shards": 0,
                "number_of_pending_tasks": 0, "number_of_in_flight_fetch": 0,
                "task_max_waiting_in_queue_millis": 0,
                "active_shards_percent_as_number": 100.0}

    def get_cluster_settings(self, params):
        with self.lock:
            flat = params.get("flat_settings") == "true"
            out = {}
            for scope in ("persistent", "transient"):
                s = self.cluster_settings[scope]
                out[scope] = dict(s) if flat else _nest_settings(s)
            return 200, out

    def put_cluster_settings(self, body):
        with self._mutation():
            self._j_cluster()
            if not isinstance(body, dict) or not body:
                raise error(400, "action_request_validation_exception",
                            "Validation Failed: 1: no settings to update;")
            known = {"search.max_buckets", "action.destructive_requires_name",
                     "action.auto_create_index", "search.max_keep_alive",
                     "search.default_search_timeout", "indices.recovery.max_bytes_per_sec",
                     "cluster.routing.allocation.enable", "logger.level"}
            out = {"acknowledged": True, "persistent": {}, "transient": {}}
            for scope in ("persistent", "transient"):
                for key, value in _flat_settings(body.get(scope) or {}).items():
                    if key not in known and not key.startswith(("logger.", "cluster.",
                                                                "indices.", "xpack.",
                                                                "plugins.")):
                        raise bad_request(
                            "%s setting [%s], not recognized" % (scope, key))
                    if key == "search.max_buckets" and value is not None:
                        try:
                            int(value)
                        except (TypeError, ValueError):
                            raise bad_request("Failed to parse value [%s] for setting "
                                              "[search.max_buckets]" % value)
                    if value is None:
                        self.cluster_settings[scope].pop(key, None)
                    else:
                        self.cluster_settings[scope][key] = str(value) \
                            if not isinstance(value, bool) else str(value).lower()
                        out[scope][key] = self.cluster_settings[scope][key]
                out[scope] = _nest_settings(out[scope])
            return 200, out

    def cat_indices(self, expr, params):
        with self.lock:
            rows = []
            now = self._now()
            for n in self.resolve(expr, params):
                i = self.indices[n]
                i.sync(now)
                size = sum(len(json.dumps(d.source)) for d in i.visible.values())
                rows.append({"health": "green", "status": "open", "index": n,
                             "uuid": i.uuid, "pri": str(i.shards),
                             "rep": str(i.replicas), "docs.count": str(len(i.visible)),
                             "docs.deleted": "0", "store.size": "%db" % size,
                             "pri.store.size": "%db" % size})
            if params.get("format") == "json":
                cols = params.get("h")
                if cols:
                    rows = [{c: r.get(c) for c in cols.split(",")} for r in rows]
                return 200, rows
            cols = params.get("h", "health,status,index,uuid,pri,rep,docs.count,"
                                   "docs.deleted,store.size,pri.store.size").split(",")
            lines = []
            if params.get("v") in ("", "true"):
                lines.append(" ".join(cols))
            for r in rows:
                lines.append(" ".join(str(r.get(c, "")) for c in cols))
            return 200, "\n".join(lines) + ("\n" if lines else "")


def _deep_merge(base, overlay):
    out = copy.deepcopy(base)
    for k, v in overlay.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _decodes(token, prefix):
    """Whether a scroll or PIT id is one this server could have issued."""
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            if decode(token.encode()).decode().startswith(prefix):
                return True
        except (ValueError, UnicodeDecodeError):
            continue
    return False


def _decoded_number(token):
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return decode(token.encode()).decode().split(":")[1]
        except (ValueError, UnicodeDecodeError, IndexError):
            continue
    return token


def _version_id(flavor):
    major, minor, patch = (int(x) for x in flavor.number.split("."))
    return str(major * 1000000 + minor * 10000 + patch * 100 + 99)
