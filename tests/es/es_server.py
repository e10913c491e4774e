#!/usr/bin/env python3
"""An HTTP server speaking the Elasticsearch/OpenSearch REST protocol for tests.

    python3 tests/es/es_server.py --flavor es7|es8|os2|es6 [--port 0]
        [--port-file F] [--auth none|basic:USER:PASS|apikey:ID:KEY|bearer:TOKEN|
         sigv4:ACCESS:SECRET:REGION:SERVICE[:SESSION_TOKEN]]
        [--mapping dynamic|template] [--max-buckets N] [--request-log FILE]
        [--tls CERT KEY] [--max-content-length BYTES] [--exit-with-parent]
        [--data-dir DIR]

It binds 127.0.0.1 (port 0 picks a free port), prints "listening on PORT",
writes the port to --port-file and serves until SIGTERM or SIGINT. Python
standard library only. What it implements, and what it does not, is in
tests/es/README.md; the behaviour lives in es_store/es_search/es_mapping, and
this module is the HTTP side: routing, content types, authentication, fault
injection and the request log.

Tests use `running_server(...)`, a context manager that starts the server as
a subprocess on a free port and always stops it.

Control endpoints (no authentication, not logged):
    GET  /__ping            readiness probe
    POST /__fault           {"kind", "count", "seconds", "path", "method",
                             "items", "every", "skip", "bytes", "reason"}: affect
                            the next matching requests
    GET  /__faults          pending faults;  DELETE /__faults clears them
    GET  /__log             {"requests": [...]};  DELETE /__log clears it
    POST /__reset           clear indices, templates, faults and the log
                            (and the --data-dir journal)

With --data-dir DIR, every acknowledged change is journaled in DIR before the
response is sent and replayed at start-up (see es_store.Journal).
"""

import argparse
import base64
import contextlib
import functools
import gzip
import http.server
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import zlib
from urllib.parse import parse_qsl, unquote

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from es_common import (FLAVORS, EsError, cause, error, simple_match,  # noqa: E402
                       unsupported)
from es_sigv4 import Credentials, verify as sigv4_verify  # noqa: E402
from es_store import Store  # noqa: E402

JSON_TYPES = ("application/json", "application/x-ndjson")
COMMON_PARAMS = {"pretty", "human", "error_trace", "filter_path", "source",
                 "source_content_type"}

# ---------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------



def composite_source_names(wire_body):
    """The names of a search's composite sources, those of each top-level
    composite aggregation in turn (for the request log: tests tell the kinds
    of searches apart by them), or [] when there is none."""
    try:
        body = json.loads(wire_body or b"{}")
        aggs = body.get("aggs") or body.get("aggregations") or {}
        return [name for agg in aggs.values() if isinstance(agg, dict) and "composite" in agg
                for source in agg["composite"]["sources"] for name in source]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []

class Auth:
    """One authentication mode: none, basic, apikey, bearer or sigv4."""

    def __init__(self, spec, flavor):
        self.flavor = flavor
        self.mode, _, rest = (spec or "none").partition(":")
        if self.mode == "none":
            return
        if self.mode == "basic":
            self.user, _, self.password = rest.partition(":")
        elif self.mode == "apikey":
            self.key_id, _, self.key = rest.partition(":")
        elif self.mode == "bearer":
            self.token = rest
        elif self.mode == "sigv4":
            parts = rest.split(":")
            if len(parts) not in (4, 5):
                raise ValueError("sigv4 needs ACCESS:SECRET:REGION:SERVICE[:TOKEN]")
            self.creds = Credentials(*parts)
        else:
            raise ValueError("unknown auth mode %r" % self.mode)
        if not rest:
            raise ValueError("auth mode %s needs credentials" % self.mode)

    @staticmethod
    def describe(header):
        """(scheme, principal) of an Authorization header, never a secret."""
        if not header:
            return "none", None
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                return "basic", base64.b64decode(value).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return "basic", None
        if scheme == "apikey":
            try:
                return "apikey", base64.b64decode(value).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return "apikey", None
        if scheme == "bearer":
            return "bearer", None
        if scheme == "aws4-hmac-sha256":
            m = re.search(r"Credential=([^/,\s]+)", value)
            return "sigv4", m.group(1) if m else None
        return scheme, None

    def _es_401(self, reason):
        if self.flavor.auth_plain:
            # The OpenSearch security plugin (2.11+) challenges with no body.
            return EsError(401, None, headers=[
                ("WWW-Authenticate", 'Basic realm="OpenSearch Security"')])
        if self.flavor.name == "es6":
            challenges = ['Basic realm="security" charset="UTF-8"']
        else:
            challenges = ['Basic realm="security" charset="UTF-8"',
                          'Bearer realm="security"', "ApiKey"]
        header_value = challenges[0] if len(challenges) == 1 else challenges
        err = error(401, "security_exception", reason,
                    header={"WWW-Authenticate": header_value})
        err.headers = [("WWW-Authenticate", c) for c in challenges]
        return err

    def check(self, method, raw_path, raw_query, headers, body):
        """Raise EsError unless the request carries valid credentials."""
        if self.mode == "none":
            return None
        if self.mode == "sigv4":
            return sigv4_verify(method, raw_path, raw_query, headers, body, self.creds)
        header = next((v for k, v in headers if k.lower() == "authorization"), None)
        uri = raw_path + ("?" + raw_query if raw_query else "")
        if not header:
            raise self._es_401("missing authentication credentials for REST request "
                               "[%s]" % uri)
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if self.mode == "basic" and scheme == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = None, None
            if user == self.user and password == self.password:
                return None
            raise self._es_401("unable to authenticate user [%s] for REST request [%s]"
                               % (user, uri))
        if self.mode == "apikey" and scheme == "apikey":
            expected = base64.b64encode(("%s:%s" % (self.key_id, self.key)).encode())
            if value.encode() == expected:
                return None
        if self.mode == "bearer" and scheme == "bearer" and value == self.token:
            return None
        raise self._es_401("unable to authenticate with provided credentials and "
                           "anonymous access is not allowed for this request")


# ---------------------------------------------------------------------------
# Fault injection
# ---------------------------------------------------------------------------

FAULT_KINDS = {"429", "500", "502", "503", "504", "stall", "truncate", "close",
               "partial_shards", "timed_out", "bulk_item_400", "bulk_item_429",
               "bulk_item_500", "gzip_bomb", "huge_body", "empty_answer"}
# The body of the gzip_bomb and huge_body faults: a JSON object padded with
# spaces (valid JSON of any length), and how big it is by default.
BIG_HEAD, BIG_TAIL = b'{"timed_out":false', b"}"
BIG_BYTES = 1 << 30
# How long GET /__log?settled, DELETE /__log and POST /__reset wait for the
# requests being answered (a guard against a stuck client, not a pause).
SETTLE_SECONDS = 60
SEARCH_PATH = re.compile(r"/_search|/_count")
BULK_PATH = re.compile(r"/_bulk")


class Fault:
    """One injected fault affecting the next `count` matching requests."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("fault must be a JSON object")
        self.kind = str(spec.get("kind"))
        if self.kind not in FAULT_KINDS:
            raise ValueError("unknown fault kind %r (one of %s)"
                             % (self.kind, ", ".join(sorted(FAULT_KINDS))))
        # count -1 keeps the fault until DELETE /__faults or POST /__reset.
        self.count = int(spec.get("count", 1))
        if self.count == 0 or self.count < -1:
            raise ValueError("count must be a positive number of requests, or -1")
        self.seconds = float(spec.get("seconds", 60))
        self.path = re.compile(spec["path"]) if spec.get("path") else None
        self.method = spec.get("method")
        self.items = spec.get("items")      # bulk item positions to fail
        self.every = spec.get("every")      # or every n-th item
        self.skip = int(spec.get("skip", 0))  # let this many matching requests pass first
        self.bytes = int(spec.get("bytes", BIG_BYTES))  # gzip_bomb, huge_body: decoded size
        if self.bytes < len(BIG_HEAD) + len(BIG_TAIL):
            raise ValueError("bytes must be at least %d" % (len(BIG_HEAD) + len(BIG_TAIL)))
        self.reason = spec.get("reason")    # 429/500/503/partial_shards: the error's reason
        self.spec = dict(spec)

    def applies(self, method, path):
        if self.method and self.method.upper() != method:
            return False
        if self.path and not self.path.search(path):
            return False
        if self.kind in ("partial_shards", "timed_out"):
            return bool(SEARCH_PATH.search(path))
        if self.kind.startswith("bulk_item_"):
            return bool(BULK_PATH.search(path))
        return True

    # The interface es_store expects from a bulk item fault.
    @property
    def status(self):
        return int(self.kind.rsplit("_", 1)[1])

    def hits(self, pos):
        if self.items is not None:
            return pos in self.items
        if self.every:
            return pos % int(self.every) == 0
        return True

    def cause(self, flavor):
        if self.status == 429:
            return cause(flavor.rejected_type,
                         "rejected execution of coordinating operation [shard_detail="
                         "[cloudtrail][0][P], shard_coordinating_and_primary_bytes=0, "
                         "shard_operation_bytes=1024, shard_max_coordinating_and_primary"
                         "_bytes=104857600] on EsThreadPoolExecutor[name = es-test-node/"
                         "write, queue capacity = 10000]")
        if self.status == 400:
            return cause("mapper_parsing_exception",
                         "failed to parse field [eventName] of type [keyword] in document "
                         "(injected)")
        return cause("exception", "injected bulk item failure")


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.pending = []
        # Set when the faults are cleared: stalls in progress end then.
        self.released = threading.Event()

    def add(self, fault):
        with self.lock:
            fault.released = self.released
            self.pending.append(fault)

    def clear(self):
        """Drops every pending fault and ends the stalls in progress."""
        with self.lock:
            self.pending = []
            self.released.set()
            self.released = threading.Event()

    def take(self, method, path):
        """Consume and return the first fault matching this request."""
        with self.lock:
            for f in self.pending:
                if f.applies(method, path):
                    if f.skip > 0:
                        f.skip -= 1
                        continue
                    if f.count > 0:
                        f.count -= 1
                        if f.count == 0:
                            self.pending.remove(f)
                    return f
        return None

    def list(self):
        with self.lock:
            return [dict(f.spec, remaining=f.count) for f in self.pending]


# ---------------------------------------------------------------------------
# Request log
# ---------------------------------------------------------------------------


class RequestLog:
    """Every request (control endpoints excepted), also as JSONL on disk.

    A request's entry is added just before its answer goes out, so a client
    that has its answer finds the request in the log, in the order the
    answers were given. Requests being handled are counted (begin/end), so
    settle() can wait for those a client gave up on (a stall, a killed
    process) instead of guessing how long they take."""

    def __init__(self, path=None):
        self.cond = threading.Condition()
        self.entries = []
        self.path = path
        self.seq = 0
        self.active = 0

    def begin(self):
        """A request that will be logged is being handled."""
        with self.cond:
            self.active += 1

    def end(self):
        """That request is done (logged, or failed before it could be)."""
        with self.cond:
            self.active -= 1
            if self.active == 0:
                self.cond.notify_all()

    def _write(self, entry):
        if self.path:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, sort_keys=True) + "\n")

    def add(self, entry):
        with self.cond:
            self.seq += 1
            entry["seq"] = self.seq
            self.entries.append(entry)
            self._write(entry)

    def amend(self, entry, **changes):
        """Changes a logged entry (its answer could not be sent); the log
        file gets the entry again, with the same seq."""
        with self.cond:
            entry.update(changes)
            self._write(entry)

    def settle(self, timeout):
        """Waits until no request is being handled; False after `timeout`
        seconds if some still are."""
        with self.cond:
            return self.cond.wait_for(lambda: self.active == 0, timeout)

    def clear(self):
        with self.cond:
            self.entries = []

    def snapshot(self):
        with self.cond:
            return [dict(e) for e in self.entries]


# ---------------------------------------------------------------------------
# filter_path
# ---------------------------------------------------------------------------


def apply_filter_path(body, spec):
    """ES's response filtering: dotted patterns with `*` and `**`."""
    includes = [p.split(".") for p in spec.split(",") if p and not p.startswith("-")]
    excludes = [p[1:].split(".") for p in spec.split(",") if p.startswith("-")]

    def match(seg, key):
        return simple_match(seg, key)

    def walk(node, pats):
        if any(not p for p in pats):
            return node
        if isinstance(node, list):
            items = [walk(x, pats) for x in node]
            items = [x for x in items if x is not None]
            return items or None
        if not isinstance(node, dict):
            return None
        out = {}
        for k, v in node.items():
            nxt = []
            for p in pats:
                if p[0] == "**":
                    nxt.append(p)
                    if len(p) == 1:
                        nxt.append([])
                    elif match(p[1], k):
                        nxt.append(p[2:])
                elif match(p[0], k):
                    nxt.append(p[1:])
            if nxt:
                r = walk(v, nxt)
                if r is not None:
                    out[k] = r
        return out or None

    def drop(node, pats):
        if isinstance(node, list):
            return [drop(x, pats) for x in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            rest = [p[1:] for p in pats if match(p[0], k)]
            if any(not r for r in rest):
                continue
            out[k] = drop(v, rest) if rest else v
        return out

    result = body
    if includes:
        result = walk(body, includes)
        if result is None:
            result = {}
    if excludes:
        result = drop(result, excludes)
    return result


# ---------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------


class Route:
    """A path shape, e.g. ("{index}", "_search"), with handlers per method."""

    def __init__(self, shape, methods, params=(), flavors=None):
        self.shape = shape
        self.methods = methods        # {"GET": callable(req, args)}
        self.params = set(params)
        self.flavors = flavors

    def match(self, segs, flavor):
        if self.flavors and flavor.name not in self.flavors:
            return None
        if len(segs) != len(self.shape):
            return None
        args = {}
        for want, seg in zip(self.shape, segs):
            if want.startswith("{"):
                # Placeholders never take a segment naming an API ("_search"),
                # except {id}, {name} and {fields}, which may be anything.
                if want == "{index}" and seg.startswith("_") and seg != "_all":
                    return None
                if want == "{type}" and seg.startswith("_") and seg != "_doc":
                    return None
                args[want[1:-1]] = seg
            elif want != seg:
                return None
        return args


SEARCH_PARAMS = {
    "size", "from", "sort", "q", "scroll", "rest_total_hits_as_int",
    "track_total_hits", "allow_no_indices", "ignore_unavailable",
    "expand_wildcards", "typed_keys", "preference", "request_cache", "timeout",
    "batched_reduce_size", "ccs_minimize_roundtrips", "pre_filter_shard_size",
    "max_concurrent_shard_requests", "search_type", "seq_no_primary_term",
    "version", "_source", "_source_includes", "_source_excludes", "stored_fields",
    "docvalue_fields", "terminate_after", "track_scores", "allow_partial_search_results",
    "routing", "ignore_throttled", "explain", "analyzer", "analyze_wildcard",
    "default_operator", "df", "lenient", "stats", "suggest_field",
    "include_named_queries_score", "force_synthetic_source", "cancel_after_time_interval",
    "phase_took", "keep_alive",
}
INDICES_PARAMS = {"allow_no_indices", "ignore_unavailable", "expand_wildcards",
                  "master_timeout", "timeout", "local", "cluster_manager_timeout"}
WRITE_PARAMS = {"refresh", "wait_for_active_shards", "routing", "timeout", "pipeline",
                "require_alias", "version", "version_type", "if_seq_no",
                "if_primary_term", "op_type", "_source", "_source_includes",
                "_source_excludes", "type", "require_data_stream",
                "list_executed_pipelines"}
MGET_PARAMS = {"realtime", "refresh", "preference", "routing", "stored_fields",
               "_source", "_source_includes", "_source_excludes",
               "force_synthetic_source"}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, opts):
        self.opts = opts
        self.flavor = FLAVORS[opts.flavor]
        if opts.version:
            self.flavor = self.flavor.at_version(opts.version)
        self.store = Store(self.flavor, opts.mapping, opts.max_buckets,
                           data_dir=opts.data_dir)
        self.auth = Auth(opts.auth, self.flavor)
        self.faults = Faults()
        self.log = RequestLog(opts.request_log)
        self.stopping = threading.Event()
        self.ssl_context = None
        if opts.tls:
            self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ssl_context.load_cert_chain(opts.tls[0], opts.tls[1])
        self.routes = build_routes(self)
        super().__init__(("127.0.0.1", opts.port), Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            # The handshake runs in the handler thread (see Handler.setup), so a
            # slow client cannot block accept().
            sock = self.ssl_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr


def build_routes(server):
    """The REST API table: path shapes, methods and accepted parameters."""
    s = server.store
    f = server.flavor
    R = Route

    def body(req):
        return req.json()

    routes = [
        R((), {"GET": lambda r, a: s.info(), "HEAD": lambda r, a: (200, None)}),
        # bulk
        R(("_bulk",), {m: lambda r, a: s.bulk(None, r.body, r.params,
                                              item_fault=r.bulk_fault)
                       for m in ("POST", "PUT")}, WRITE_PARAMS),
        R(("{index}", "_bulk"), {m: lambda r, a: s.bulk(a["index"], r.body, r.params,
                                                        item_fault=r.bulk_fault)
                                 for m in ("POST", "PUT")}, WRITE_PARAMS),
        R(("{index}", "{type}", "_bulk"),
          {m: lambda r, a: s.bulk(a["index"], r.body, r.params, path_type=a["type"],
                                  item_fault=r.bulk_fault)
           for m in ("POST", "PUT")}, WRITE_PARAMS, flavors={"es6"}),
        # search, count, scroll, point in time
        R(("_search",), {m: lambda r, a: s.search(None, body(r), r.params, r.faults,
                                                  has_index=False)
                         for m in ("GET", "POST")}, SEARCH_PARAMS),
        R(("{index}", "_search"), {m: lambda r, a: s.search(a["index"], body(r),
                                                            r.params, r.faults)
                                   for m in ("GET", "POST")}, SEARCH_PARAMS),
        R(("_search", "scroll"),
          {"GET": lambda r, a: s.scroll(body(r), r.params, r.faults),
           "POST": lambda r, a: s.scroll(body(r), r.params, r.faults),
           "DELETE": lambda r, a: s.clear_scroll(body(r), r.params)},
          {"scroll", "scroll_id", "rest_total_hits_as_int"}),
        R(("_search", "scroll", "{id}"),
          {"GET": lambda r, a: s.scroll(dict(body(r) or {}, scroll_id=a["id"]),
                                        r.params, r.faults),
           "POST": lambda r, a: s.scroll(dict(body(r) or {}, scroll_id=a["id"]),
                                         r.params, r.faults),
           "DELETE": lambda r, a: s.clear_scroll(body(r), r.params, a["id"])},
          {"scroll", "rest_total_hits_as_int"}),
        R(("_count",), {m: lambda r, a: s.count(None, body(r), r.params, r.faults)
                        for m in ("GET", "POST")}, INDICES_PARAMS | {
            "q", "routing", "preference", "min_score", "terminate_after", "analyzer",
            "default_operator", "df", "lenient", "ignore_throttled", "analyze_wildcard"}),
        R(("{index}", "_count"), {m: lambda r, a: s.count(a["index"], body(r), r.params,
                                                                 r.faults)
                                  for m in ("GET", "POST")}, INDICES_PARAMS | {
            "q", "routing", "preference", "min_score", "terminate_after", "analyzer",
            "default_operator", "df", "lenient", "ignore_throttled", "analyze_wildcard"}),
        # refresh / flush
        R(("_refresh",), {m: lambda r, a: s.refresh(None, r.params)
                          for m in ("GET", "POST")}, INDICES_PARAMS),
        R(("{index}", "_refresh"), {m: lambda r, a: s.refresh(a["index"], r.params)
                                    for m in ("GET", "POST")}, INDICES_PARAMS),
        R(("_flush",), {m: lambda r, a: s.refresh(None, r.params)
                        for m in ("GET", "POST")}, INDICES_PARAMS | {"force",
                                                                     "wait_if_ongoing"}),
        R(("{index}", "_flush"), {m: lambda r, a: s.refresh(a["index"], r.params)
                                  for m in ("GET", "POST")},
          INDICES_PARAMS | {"force", "wait_if_ongoing"}),
        # mappings
        R(("_mapping",), {"GET": lambda r, a: s.get_mapping(None, r.params)},
          INDICES_PARAMS | {"include_type_name"}),
        R(("{index}", "_mapping"),
          {"GET": lambda r, a: s.get_mapping(a["index"], r.params),
           "PUT": lambda r, a: s.put_mapping(a["index"], body(r), r.params),
           "POST": lambda r, a: s.put_mapping(a["index"], body(r), r.params)},
          INDICES_PARAMS | {"include_type_name", "write_index_only"}),
        R(("{index}", "_mapping", "{type}"),
          {"PUT": lambda r, a: s.put_mapping(a["index"], body(r), r.params, a["type"]),
           "POST": lambda r, a: s.put_mapping(a["index"], body(r), r.params, a["type"]),
           "GET": lambda r, a: s.get_mapping(a["index"], r.params)},
          INDICES_PARAMS | {"include_type_name"}, flavors={"es6"}),
        R(("_mapping", "field", "{fields}"),
          {"GET": lambda r, a: s.get_field_mapping(None, a["fields"], r.params)},
          INDICES_PARAMS | {"include_defaults", "include_type_name"}),
        R(("{index}", "_mapping", "field", "{fields}"),
          {"GET": lambda r, a: s.get_field_mapping(a["index"], a["fields"], r.params)},
          INDICES_PARAMS | {"include_defaults", "include_type_name"}),
        # settings
        R(("_settings",), {"GET": lambda r, a: s.get_settings(None, r.params),
                           "PUT": lambda r, a: s.put_settings(None, body(r), r.params)},
          INDICES_PARAMS | {"flat_settings", "include_defaults", "preserve_existing",
                            "reopen"}),
        R(("{index}", "_settings"),
          {"GET": lambda r, a: s.get_settings(a["index"], r.params),
           "PUT": lambda r, a: s.put_settings(a["index"], body(r), r.params)},
          INDICES_PARAMS | {"flat_settings", "include_defaults", "preserve_existing",
                            "reopen"}),
        R(("{index}", "_settings", "{name}"),
          {"GET": lambda r, a: s.get_settings(a["index"], r.params, a["name"])},
          INDICES_PARAMS | {"flat_settings", "include_defaults"}),
        # templates
        R(("_index_template",), {"GET": lambda r, a: s.get_index_template(None)},
          {"local", "master_timeout", "flat_settings", "include_defaults"}),
        R(("_index_template", "{name}"),
          {"GET": lambda r, a: s.get_index_template(a["name"]),
           "HEAD": lambda r, a: s.get_index_template(a["name"], head=True),
           "PUT": lambda r, a: s.put_index_template(a["name"], body(r), r.params),
           "POST": lambda r, a: s.put_index_template(a["name"], body(r), r.params),
           "DELETE": lambda r, a: s.delete_index_template(a["name"])},
          {"create", "master_timeout", "cause", "local", "flat_settings", "timeout",
           "include_defaults"}),
        R(("_component_template",),
          {"GET": lambda r, a: s.get_index_template(None, component=True)},
          {"local", "master_timeout", "flat_settings", "include_defaults"}),
        R(("_component_template", "{name}"),
          {"GET": lambda r, a: s.get_index_template(a["name"], component=True),
           "HEAD": lambda r, a: s.get_index_template(a["name"], True, True),
           "PUT": lambda r, a: s.put_index_template(a["name"], body(r), r.params, True),
           "POST": lambda r, a: s.put_index_template(a["name"], body(r), r.params, True),
           "DELETE": lambda r, a: s.delete_index_template(a["name"], True)},
          {"create", "master_timeout", "local", "flat_settings", "timeout"}),
        R(("_template",), {"GET": lambda r, a: s.get_legacy_template(None)},
          {"local", "master_timeout", "flat_settings", "include_type_name"}),
        R(("_template", "{name}"),
          {"GET": lambda r, a: s.get_legacy_template(a["name"]),
           "HEAD": lambda r, a: s.get_legacy_template(a["name"], head=True),
           "PUT": lambda r, a: s.put_legacy_template(a["name"], body(r), r.params),
           "POST": lambda r, a: s.put_legacy_template(a["name"], body(r), r.params),
           "DELETE": lambda r, a: s.delete_legacy_template(a["name"])},
          {"create", "order", "master_timeout", "timeout", "flat_settings", "local",
           "include_type_name", "cluster_manager_timeout"}),
        # aliases
        R(("_aliases",), {"POST": lambda r, a: s.update_aliases(body(r)),
                          "GET": lambda r, a: s.get_alias(None, None, r.params)},
          {"master_timeout", "timeout", "local"}),
        R(("_alias",), {"GET": lambda r, a: s.get_alias(None, None, r.params)},
          INDICES_PARAMS),
        R(("_alias", "{name}"),
          {"GET": lambda r, a: s.get_alias(None, a["name"], r.params),
           "HEAD": lambda r, a: s.get_alias(None, a["name"], r.params, head=True)},
          INDICES_PARAMS),
        R(("{index}", "_alias"), {"GET": lambda r, a: s.get_alias(a["index"], None,
                                                                  r.params)},
          INDICES_PARAMS),
    ]
    for plural in ("_alias", "_aliases"):
        routes.append(R(("{index}", plural, "{name}"), {
            "GET": lambda r, a: s.get_alias(a["index"], a["name"], r.params),
            "HEAD": lambda r, a: s.get_alias(a["index"], a["name"], r.params, True),
            "PUT": lambda r, a: s.put_alias(a["index"], a["name"], body(r)),
            "POST": lambda r, a: s.put_alias(a["index"], a["name"], body(r)),
            "DELETE": lambda r, a: s.delete_alias(a["index"], a["name"])},
            INDICES_PARAMS))
    if f.pit == "es":
        routes += [
            R(("{index}", "_pit"), {"POST": lambda r, a: s.open_pit(a["index"],
                                                                   r.params, "es")},
              INDICES_PARAMS | {"keep_alive", "preference", "routing",
                                "allow_partial_search_results"}),
            R(("_pit",), {"DELETE": lambda r, a: s.close_pit_es(body(r))}),
        ]
    elif f.pit == "os":
        routes += [
            R(("{index}", "_search", "point_in_time"),
              {"POST": lambda r, a: s.open_pit(a["index"], r.params, "os")},
              INDICES_PARAMS | {"keep_alive", "preference", "routing",
                                "allow_partial_pit_creation"}),
            R(("_search", "point_in_time"),
              {"DELETE": lambda r, a: s.close_pit_os(body(r))}),
            R(("_search", "point_in_time", "_all"),
              {"DELETE": lambda r, a: s.close_pit_os(None, all_pits=True),
               "GET": lambda r, a: s.list_pits_os()}),
        ]
    routes += [
        # cluster
        R(("_cluster", "health"), {"GET": lambda r, a: s.health(None, r.params)},
          INDICES_PARAMS | {"level", "wait_for_status", "wait_for_nodes",
                            "wait_for_active_shards", "wait_for_no_relocating_shards",
                            "wait_for_no_initializing_shards", "wait_for_events"}),
        R(("_cluster", "health", "{index}"),
          {"GET": lambda r, a: s.health(a["index"], r.params)},
          INDICES_PARAMS | {"level", "wait_for_status", "wait_for_active_shards"}),
        R(("_cluster", "settings"),
          {"GET": lambda r, a: s.get_cluster_settings(r.params),
           "PUT": lambda r, a: s.put_cluster_settings(body(r))},
          {"flat_settings", "include_defaults", "master_timeout", "timeout"}),
        R(("_cat", "indices"), {"GET": lambda r, a: s.cat_indices(None, r.params)},
          INDICES_PARAMS | {"format", "h", "v", "s", "bytes", "health", "pri", "help",
                            "time", "include_unloaded_segments"}),
        R(("_cat", "indices", "{index}"),
          {"GET": lambda r, a: s.cat_indices(a["index"], r.params)},
          INDICES_PARAMS | {"format", "h", "v", "s", "bytes", "health", "pri", "help"}),
        # multi get
        R(("_mget",), {m: lambda r, a: s.mget(None, body(r), r.params)
                       for m in ("GET", "POST")}, MGET_PARAMS),
        R(("{index}", "_mget"), {m: lambda r, a: s.mget(a["index"], body(r), r.params)
                                 for m in ("GET", "POST")}, MGET_PARAMS),
        R(("{index}", "{type}", "_mget"),
          {m: lambda r, a: s.mget(a["index"], body(r), r.params, a["type"])
           for m in ("GET", "POST")}, MGET_PARAMS, flavors={"es6"}),
        # documents
        R(("{index}", "_doc", "{id}"),
          {"GET": lambda r, a: s.get_doc(a["index"], a["id"], r.params),
           "HEAD": lambda r, a: s.get_doc(a["index"], a["id"], r.params, head=True),
           "PUT": lambda r, a: s.put_doc(a["index"], a["id"], body(r), r.params),
           "POST": lambda r, a: s.put_doc(a["index"], a["id"], body(r), r.params),
           "DELETE": lambda r, a: s.delete_doc(a["index"], a["id"], r.params)},
          WRITE_PARAMS | {"realtime", "preference", "stored_fields"}),
        R(("{index}", "_doc"),
          {"POST": lambda r, a: s.put_doc(a["index"], None, body(r), r.params)},
          WRITE_PARAMS),
        R(("{index}", "_create", "{id}"),
          {m: lambda r, a: s.put_doc(a["index"], a["id"], body(r), r.params, "create")
           for m in ("PUT", "POST")}, WRITE_PARAMS),
        R(("{index}", "_update", "{id}"),
          {"POST": lambda r, a: s.update_doc(a["index"], a["id"], body(r), r.params)},
          WRITE_PARAMS | {"retry_on_conflict", "lang"}),
        R(("{index}", "{type}", "{id}"),
          {"GET": lambda r, a: s.get_doc(a["index"], a["id"], r.params),
           "HEAD": lambda r, a: s.get_doc(a["index"], a["id"], r.params, head=True),
           "PUT": lambda r, a: s.put_doc(a["index"], a["id"], body(r), r.params,
                                         doc_type=a["type"]),
           "POST": lambda r, a: s.put_doc(a["index"], a["id"], body(r), r.params,
                                          doc_type=a["type"]),
           "DELETE": lambda r, a: s.delete_doc(a["index"], a["id"], r.params)},
          WRITE_PARAMS | {"realtime", "preference", "stored_fields"}, flavors={"es6"}),
        R(("{index}", "{type}"),
          {"POST": lambda r, a: s.put_doc(a["index"], None, body(r), r.params,
                                          doc_type=a["type"])},
          WRITE_PARAMS, flavors={"es6"}),
        # indices
        R(("{index}",),
          {"GET": lambda r, a: s.get_index(a["index"], r.params),
           "HEAD": lambda r, a: s.get_index(a["index"], r.params, head=True),
           "PUT": lambda r, a: s.create_index(a["index"], body(r), r.params),
           "DELETE": lambda r, a: s.delete_index(a["index"], r.params)},
          INDICES_PARAMS | {"include_type_name", "wait_for_active_shards",
                            "flat_settings", "include_defaults", "features"}),
    ]
    return routes


class Request:
    """What a route handler sees of an HTTP request."""

    def __init__(self, method, raw_path, raw_query, segs, params, headers, body,
                 faults, bulk_fault):
        self.method = method
        self.raw_path = raw_path
        self.raw_query = raw_query
        self.segs = segs
        self.params = params
        self.headers = headers
        self.body = body
        self.faults = faults
        self.bulk_fault = bulk_fault
        self._json = None
        self._parsed = False

    def json(self):
        if not self._parsed:
            self._parsed = True
            if self.body and self.body.strip():
                try:
                    self._json = json.loads(self.body)
                except ValueError as exc:
                    raise error(400, "json_parse_exception",
                                "Unexpected character: %s" % exc)
        return self._json


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections are dropped after this many seconds.
    timeout = 120

    # -- plumbing -----------------------------------------------------------

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(10)
            self.connection.do_handshake()
            self.connection.settimeout(self.timeout)

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("es_server: " + (fmt % args) + "\n")

    def send_response(self, code, message=None):
        # ES sends neither Server nor Date headers.
        self.log_request(code)
        self.send_response_only(code, message)

    def handle_expect_100(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.server.opts.max_content_length:
            self._too_large()
            return False
        return super().handle_expect_100()

    def _too_large(self):
        self.send_response(413)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_PATCH(self):
        self._handle("PATCH")

    def _read_body(self):
        """The raw request body (chunked or Content-Length)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass  # trailers
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- the request --------------------------------------------------------

    def _handle(self, method):
        server = self.server
        started = time.monotonic()
        raw_path, _, raw_query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if length > server.opts.max_content_length:
            self._too_large()
            return
        if raw_path.startswith("/__"):
            self._control(method, raw_path, raw_query, self._read_body())
            return
        server.log.begin()
        try:
            self._handle_logged(method, raw_path, raw_query, started)
        finally:
            self._entry = None
            server.log.end()

    def _log_entry(self):
        """Logs the request being answered, once: called just before its
        answer is sent (or the connection is closed instead)."""
        entry = getattr(self, "_entry", None)
        if entry is not None and "seq" not in entry:
            entry["duration_ms"] = round((time.monotonic() - self._started) * 1000, 3)
            self.server.log.add(entry)

    def _handle_logged(self, method, raw_path, raw_query, started):
        server = self.server
        self._started = started
        wire_body = self._read_body()
        headers = list(self.headers.items())
        entry = {"time": time.time(), "method": method, "path": raw_path,
                 "query": dict(parse_qsl(raw_query, keep_blank_values=True)),
                 "body_bytes": len(wire_body),
                 "content_type": self.headers.get("Content-Type"),
                 "content_encoding": self.headers.get("Content-Encoding"),
                 "expect_100": bool(self.headers.get("Expect")),
                 "connection": "%s:%s" % self.client_address,
                 "tls": server.ssl_context is not None}
        if raw_path.endswith("/_search"):
            entry["composite_sources"] = composite_source_names(wire_body)
        entry["auth"], entry["principal"] = Auth.describe(self.headers.get("Authorization"))
        # Names only (values may be secrets): what a client put on the wire.
        entry["headers"] = [name.lower() for name, _ in headers]
        fault = server.faults.take(method, raw_path)
        entry["fault"] = fault.kind if fault else None
        self._entry = entry
        try:
            if fault is not None and fault.kind == "close":
                entry["status"] = None
                self._log_entry()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault is not None and fault.kind in ("gzip_bomb", "huge_body"):
                entry["status"] = 200
                self._send_big(method, fault, entry)
                return
            if fault is not None and fault.kind == "stall":
                # Hold the request; a client with a timeout gives up first.
                # Clearing the faults (or stopping the server) ends it.
                fault.released.wait(fault.seconds)
            status, body, extra = self._dispatch(method, raw_path, raw_query, headers,
                                                 wire_body, fault, entry)
            entry["status"] = status
            self._send(method, status, body, extra, truncate=(
                fault is not None and fault.kind == "truncate"))
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError) as exc:
            self.close_connection = True
            if "seq" in entry:
                server.log.amend(entry, error=str(exc))
            else:
                entry.setdefault("status", None)
                entry["error"] = str(exc)
        finally:
            self._log_entry()

    def _dispatch(self, method, raw_path, raw_query, headers, wire_body, fault, entry):
        """(status, body, extra headers) of an ES request."""
        server = self.server
        if fault is not None and fault.kind in ("429", "500", "502", "503", "504"):
            return self._fault_response(int(fault.kind), fault.reason)
        if fault is not None and fault.kind == "empty_answer":
            # What a misbehaving proxy or gateway may answer: 200 and "{}".
            return 200, {}, []
        try:
            try:
                server.auth.check(method, raw_path, raw_query, headers, wire_body)
            except EsError as exc:
                detail = getattr(exc, "sigv4_detail", None)
                if detail:
                    entry["sigv4"] = detail
                raise
            body = self._decode_body(wire_body)
            params = dict(parse_qsl(raw_query, keep_blank_values=True))
            segs = [unquote(p) for p in raw_path.split("/") if p != ""]
            route, args = self._route(method, segs, raw_path)
            self._check_params(route, params, raw_path)
            if body:
                self._check_content_type()
            faults = set()
            if fault is not None and fault.kind in ("partial_shards", "timed_out"):
                faults.add(fault.kind)
            bulk_fault = fault if fault is not None and \
                fault.kind.startswith("bulk_item_") else None
            req = Request(method, raw_path, raw_query, segs, params, headers, body,
                          frozenset(faults), bulk_fault)
            status, resp = route.methods[method](req, args)
            if fault is not None and fault.kind == "partial_shards" and fault.reason is not None:
                for failure in resp.get("_shards", {}).get("failures", []):
                    if failure.get("node") == "injected-fault-node":
                        failure["reason"]["reason"] = fault.reason
            if "filter_path" in params and isinstance(resp, (dict, list)) and \
                    status < 300:
                resp = apply_filter_path(resp, params["filter_path"])
            return status, resp, []
        except EsError as exc:
            return exc.status, exc.body, exc.headers
        except Exception as exc:  # a bug in the server: answer like ES's 500
            traceback.print_exc()
            err = error(500, "exception", "test server error: %s: %s"
                        % (type(exc).__name__, exc))
            return err.status, err.body, []

    def _fault_response(self, status, reason=None):
        flavor = self.server.flavor
        if status == 429:
            c = cause(flavor.rejected_type, reason or
                      "rejected execution of coordinating operation [coordinating_and_"
                      "primary_bytes=104857600, replica_bytes=0, all_bytes=104857600, "
                      "coordinating_operation_bytes=1024, max_coordinating_and_primary_"
                      "bytes=104857600]")
            err = error(429, c["type"], c["reason"])
            return 429, err.body, [("Retry-After", "1")]
        if status in (502, 504):
            # A reverse proxy in front of the cluster answers HTML, not JSON.
            title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}[status]
            html = ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>"
                    "%s</h1></center>\r\n</body>\r\n</html>\r\n" % (title, title))
            return status, _Raw(html.encode(), "text/html"), []
        if status == 503:
            err = error(503, "cluster_block_exception",
                        reason or "blocked by: [SERVICE_UNAVAILABLE/2/no master];")
            return 503, err.body, []
        err = error(500, "exception", reason or "injected internal server error")
        return 500, err.body, []

    def _send_big(self, method, fault, entry):
        """The gzip_bomb and huge_body faults: a 200 whose body is fault.bytes
        long once decoded. huge_body streams it plain; gzip_bomb sends it
        gzipped (about a thousandth of the size) whatever the client accepts.
        A client that stops reading makes the writes fail: the log entry
        then gets an `error`."""
        size = fault.bytes
        entry["response_bytes"] = size
        self._log_entry()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.server.flavor.product_header:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        if fault.kind == "gzip_bomb":
            data = gzip_padded(size)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(data)
            return
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if method == "HEAD":
            return
        self.wfile.write(BIG_HEAD)
        left = size - len(BIG_HEAD) - len(BIG_TAIL)
        chunk = b" " * (1 << 20)
        while left > 0:
            n = min(left, len(chunk))
            self.wfile.write(chunk[:n])
            left -= n
        self.wfile.write(BIG_TAIL)

    def _decode_body(self, wire_body):
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        try:
            if encoding == "gzip":
                return gzip.decompress(wire_body)
            if encoding == "deflate":
                return zlib.decompress(wire_body)
        except (OSError, zlib.error) as exc:
            raise error(400, "illegal_argument_exception",
                        "failed to decompress the request body: %s" % exc)
        if encoding and encoding != "identity":
            raise error(400, "illegal_argument_exception",
                        "Unsupported Content-Encoding [%s]" % encoding)
        return wire_body

    def _check_content_type(self):
        """ES >= 6 refuses bodies without a JSON content type (406)."""
        ctype = self.headers.get("Content-Type")
        if ctype is None:
            raise EsError(406, {"error": "Content-Type header is missing",
                                "status": 406})
        media = ctype.split(";")[0].strip().lower()
        if media in JSON_TYPES:
            return
        flavor = self.server.flavor
        if media in ("application/vnd.elasticsearch+json",
                     "application/vnd.elasticsearch+x-ndjson") and flavor.name == "es8" \
                and re.search(r"compatible-with=(7|8)\b", ctype):
            return
        if media in ("application/yaml", "application/cbor", "application/smile"):
            raise unsupported("%s request bodies" % media)
        raise EsError(406, {"error": "Content-Type header [%s] is not supported" % ctype,
                            "status": 406})

    def _route(self, method, segs, raw_path):
        flavor = self.server.flavor
        for route in self.server.routes:
            args = route.match(segs, flavor)
            if args is None:
                continue
            if method not in route.methods:
                allowed = sorted(route.methods)
                raise EsError(405, {"error": "Incorrect HTTP method for uri [%s] and "
                                    "method [%s], allowed: [%s]"
                                    % (raw_path, method, ", ".join(allowed)),
                                    "status": 405},
                              headers=[("Allow", ",".join(allowed))])
            return route, args
        reason = "no handler found for uri [%s] and method [%s]" % (raw_path, method)
        if flavor.unknown_handler_object:
            raise error(400, "illegal_argument_exception", reason)
        raise EsError(400, {"error": reason, "status": 400})

    def _check_params(self, route, params, raw_path):
        allowed = route.params | COMMON_PARAMS
        for name in params:
            if name not in allowed:
                raise error(400, "illegal_argument_exception",
                            "request [%s] contains unrecognized parameter: [%s]"
                            % (raw_path, name))

    def _send(self, method, status, body, extra_headers, truncate=False):
        flavor = self.server.flavor
        params = dict(parse_qsl(self.path.partition("?")[2], keep_blank_values=True))
        if isinstance(body, _Raw):
            payload, ctype = body.data, body.ctype
        elif body is None:
            payload, ctype = b"", None
        elif isinstance(body, str):
            payload, ctype = body.encode(), "text/plain; charset=UTF-8"
        else:
            indent = 2 if params.get("pretty") in ("", "true") else None
            seps = (",", " : ") if indent else (",", ":")
            payload = json.dumps(body, indent=indent, separators=seps,
                                 ensure_ascii=False).encode()
            if indent:
                payload += b"\n"
            ctype = "application/json; charset=UTF-8" if flavor.name != "es8" \
                else "application/json"
        gzipped = False
        entry = getattr(self, "_entry", None)
        if entry is not None:
            # What the client holds once it has decoded the body.
            entry["response_bytes"] = 0 if method == "HEAD" else len(payload)
        accept = (self.headers.get("Accept-Encoding") or "").lower()
        if payload and "gzip" in accept and not truncate:
            payload = gzip.compress(payload)
            gzipped = True
        self._log_entry()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        # ES >= 7.14 identifies itself on every response but 401 and 403.
        if flavor.product_header and status not in (401, 403):
            self.send_header("X-Elastic-Product", "Elasticsearch")
        for name, value in extra_headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(0 if method == "HEAD" else len(payload)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if method == "HEAD":
            return
        if truncate:
            self.wfile.write(payload[:max(1, len(payload) // 2)])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)

    # -- control endpoints --------------------------------------------------

    def _control(self, method, raw_path, raw_query, wire_body):
        server = self.server
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        try:
            data = json.loads(wire_body) if wire_body.strip() else None
        except ValueError:
            data = None
        status, body = 200, {"acknowledged": True}
        if raw_path == "/__ping":
            body = {"ok": True, "flavor": server.flavor.name, "pid": os.getpid()}
        elif raw_path == "/__fault" and method == "POST":
            try:
                fault = Fault(data)
            except (ValueError, TypeError, re.error) as exc:
                status, body = 400, {"error": str(exc)}
            else:
                server.faults.add(fault)
                body = {"acknowledged": True, "fault": fault.spec}
        elif raw_path == "/__clock" and method == "POST":
            # Refresh timers: stop the clock, or move it forward by hand.
            try:
                seconds = float((data or {}).get("advance", 0))
            except (TypeError, ValueError, AttributeError):
                seconds = -1
            if seconds < 0:
                status, body = 400, {"error": "body must be {\"advance\": SECONDS >= 0}"}
            else:
                with server.store.lock:
                    server.store.clock.advance(seconds)
        elif raw_path == "/__faults" and method == "GET":
            body = {"faults": server.faults.list()}
        elif raw_path == "/__faults" and method == "DELETE":
            server.faults.clear()
        elif raw_path == "/__log" and method == "GET":
            if "settled" in params and not server.log.settle(SETTLE_SECONDS):
                status, body = self._unsettled()
            else:
                body = {"requests": server.log.snapshot()}
        elif raw_path == "/__log" and method == "DELETE":
            # Requests still being answered belong to what is cleared.
            if not server.log.settle(SETTLE_SECONDS):
                status, body = self._unsettled()
            else:
                server.log.clear()
        elif raw_path == "/__reset" and method == "POST":
            server.faults.clear()  # ends stalls, so their requests finish
            if not server.log.settle(SETTLE_SECONDS):
                status, body = self._unsettled()
            else:
                server.store.reset()
                server.log.clear()
        else:
            status, body = 404, {"error": "unknown control endpoint %s %s"
                                 % (method, raw_path)}
        self._send(method, status, body, [])

    def _unsettled(self):
        return 504, {"error": "requests were still being answered after %d s: the request "
                              "log did not settle" % SETTLE_SECONDS}


@functools.lru_cache(maxsize=4)
def gzip_padded(size):
    """The gzip_bomb body: BIG_HEAD, spaces, BIG_TAIL (`size` bytes in all),
    gzipped; 1 GiB becomes about 1 MB."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(BIG_HEAD)]
    left = size - len(BIG_HEAD) - len(BIG_TAIL)
    chunk = b" " * (1 << 20)
    while left > 0:
        n = min(left, len(chunk))
        parts.append(comp.compress(chunk[:n]))
        left -= n
    parts.append(comp.compress(BIG_TAIL))
    parts.append(comp.flush())
    return b"".join(parts)


class _Raw:
    """A non-JSON response body."""

    def __init__(self, data, ctype):
        self.data = data
        self.ctype = ctype


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--flavor", choices=sorted(FLAVORS), default="es8")
    p.add_argument("--version", help="report this version of the flavor's engine (same major) "
                   "and behave as it where the server models versions (date_histogram intervals "
                   "before 7.2)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--auth", default="none")
    p.add_argument("--mapping", choices=("dynamic", "template"), default="dynamic")
    p.add_argument("--max-buckets", type=int, default=None)
    p.add_argument("--request-log")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--max-content-length", type=int, default=100 * 1024 * 1024)
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop when the process that started the server exits")
    p.add_argument("--data-dir", help="keep the cluster state in this directory: "
                   "whatever was acknowledged survives a kill -9 and a restart")
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    opts = parse_args(argv if argv is not None else sys.argv[1:])
    try:
        server = Server(opts)
    except (ValueError, OSError) as exc:
        sys.stderr.write("es_server: %s\n" % exc)
        return 2
    port = server.server_address[1]

    def stop(signum, frame):
        server.stopping.set()

        def stop_serving():
            server.faults.clear()  # held (stalled) requests are answered now
            server.shutdown()
        # shutdown() waits for serve_forever(), which runs in this thread.
        threading.Thread(target=stop_serving, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if opts.exit_with_parent:
        parent = os.getppid()

        def watch():
            while not server.stopping.wait(0.5):
                if os.getppid() != parent:
                    stop(None, None)
                    return
        threading.Thread(target=watch, daemon=True).start()
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write("%d\n" % port)
        os.replace(tmp, opts.port_file)
    print("listening on %d" % port, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
        # Requests being answered still get their entries (and lines in
        # --request-log) before the process goes.
        server.log.settle(5)
    finally:
        server.server_close()
    return 0


# ---------------------------------------------------------------------------
# For tests: run the server as a subprocess
# ---------------------------------------------------------------------------


class ServerURL(str):
    """The base URL of a running server (a str), with a few helpers."""

    def __new__(cls, url, process, port, ssl_context=None, launcher=None):
        obj = super().__new__(cls, url)
        obj.process = process
        obj.port = port
        obj.ssl_context = ssl_context
        obj._launcher = launcher
        return obj

    @property
    def url(self):
        return str(self)

    def control(self, method, path, body=None, timeout=10):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context) as resp:
            return json.loads(resp.read() or b"null")

    def fault(self, kind, count=1, **extra):
        spec = dict(extra, kind=kind, count=count)
        return self.control("POST", "/__fault", spec)

    def requests(self):
        return self.control("GET", "/__log")["requests"]

    def settled_requests(self):
        """The request log once no request is being answered. A request is
        logged before its answer is sent, so requests() already holds every
        request a client has its answer to; this also waits for requests a
        client gave up on (a timeout, a killed process). Use it once the
        clients are done; requests() is for looking while they run."""
        return self.control("GET", "/__log?settled", timeout=SETTLE_SECONDS + 10)["requests"]

    def clear_log(self):
        """Empties the log once every request being answered is in it, so
        what follows is counted alone."""
        self.control("DELETE", "/__log", timeout=SETTLE_SECONDS + 10)

    def reset(self):
        self.control("POST", "/__reset", timeout=SETTLE_SECONDS + 10)

    def kill(self):
        """SIGKILL the server process (a crash: no clean shutdown) and wait
        for it to be gone. Idempotent."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def restart(self, timeout=120):
        """Start the server again on the same port with the same options
        (flavor, auth, data dir, ...) and wait (up to `timeout` seconds: the
        journal replay takes about 0.2 ms per document) until it listens. A
        running server is killed first (SIGKILL). Faults and the request log
        start empty; with a data dir the cluster is what was acknowledged
        before."""
        if self._launcher is None:
            raise RuntimeError("this server was not started by running_server()")
        self.kill()
        self.process = self._launcher.start(self.port, timeout)
        return self


class _Launcher:
    """Starts es_server.py subprocesses with one command line."""

    def __init__(self, cmd, tmp, startup_timeout):
        self.cmd = cmd
        self.port_file = os.path.join(tmp, "port")
        self.stderr_path = os.path.join(tmp, "stderr")
        self.startup_timeout = startup_timeout
        self.port = None

    def start(self, port=0, timeout=None):
        """A new server process on `port` (0: a free one); sets self.port."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.port_file)
        cmd = self.cmd + ["--port", str(port), "--port-file", self.port_file]
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while True:
            with open(self.stderr_path, "ab") as err:
                offset = err.tell()
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                        stdin=subprocess.DEVNULL)
            got = None
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                try:
                    with open(self.port_file) as fh:
                        got = int(fh.read().strip())
                    break
                except (OSError, ValueError):
                    time.sleep(0.01)
            if got is not None:
                self.port = got
                return proc
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            with open(self.stderr_path, errors="replace") as fh:
                fh.seek(offset)
                why = fh.read()
            # A restart on a fixed port may race the old socket's release.
            if port == 0 or time.monotonic() >= deadline or \
                    "Address already in use" not in why:
                raise RuntimeError("es_server did not start: %s" % why)
            time.sleep(0.05)


@contextlib.contextmanager
def running_server(flavor="es8", auth=None, mapping=None, max_buckets=None,
                   request_log=None, tls=None, extra_args=(), startup_timeout=15,
                   data_dir=None):
    """Start es_server.py on a free port; yield its base URL; always stop it.

    `tls` is (cert, key) or None; `data_dir` makes the cluster durable
    (--data-dir). The yielded value is a str (the URL) with .port, .process,
    .fault(kind, count, ...), .requests(), .reset(), .kill() (SIGKILL) and
    .restart() (same port, same options). Whatever process is current when
    the block ends is stopped.
    """
    with tempfile.TemporaryDirectory(prefix="es-server-") as tmp:
        cmd = [sys.executable, os.path.join(HERE, "es_server.py"), "--flavor", flavor,
               "--exit-with-parent"]
        if auth:
            cmd += ["--auth", auth]
        if mapping:
            cmd += ["--mapping", mapping]
        if max_buckets is not None:
            cmd += ["--max-buckets", str(max_buckets)]
        if request_log:
            cmd += ["--request-log", request_log]
        if tls:
            cmd += ["--tls", tls[0], tls[1]]
        if data_dir is not None:
            cmd += ["--data-dir", data_dir]
        cmd += list(extra_args)
        launcher = _Launcher(cmd, tmp, startup_timeout)
        proc = launcher.start()
        handle = None
        try:
            ctx = None
            scheme = "http"
            if tls:
                scheme = "https"
                ctx = ssl.create_default_context(cafile=tls[0])
            handle = ServerURL("%s://127.0.0.1:%d" % (scheme, launcher.port), proc,
                               launcher.port, ctx, launcher)
            yield handle
        finally:
            current = handle.process if handle is not None else proc
            for p in {id(proc): proc, id(current): current}.values():
                if p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()


if __name__ == "__main__":
    sys.exit(main())
