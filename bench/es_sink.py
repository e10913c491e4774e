#!/usr/bin/env python3
"""A bulk sink for benchmarking the client side of `cloudtracker ingest
--to elasticsearch`. It is NOT an Elasticsearch and stores nothing.

    python3 bench/es_sink.py [--port 0] [--port-file F] [--stats-file F]

It binds 127.0.0.1 (port 0 picks a free one), prints "listening on PORT",
writes the port to --port-file (atomically) and serves until SIGTERM or
SIGINT, when it prints its counters as one JSON line on stdout (and writes
them to --stats-file). Python standard library only; one process, a thread
per connection, HTTP/1.1 keep-alive, `Expect: 100-continue`, chunked and
gzip/deflate request bodies.

What it answers, as cheaply as it can, so that the loader is what is measured:

* `GET /`: an Elasticsearch 8.15.0 info document. Every response carries
  `X-Elastic-Product: Elasticsearch`.
* `POST|PUT [/idx]/_bulk`: a well-formed bulk response, one item per action
  line, in order: `{"create": {"_index", "_id", "_version": 1, "result":
  "created", "status": 201, ...}}` (`index` likewise, `update` 200 "updated",
  `delete` 200 "deleted"), `errors: false`. The documents (the line after each
  create/index/update action) are never parsed; `_index` and `_id` are cut
  out of the action line by bytes (json.loads only for unusual action lines,
  e.g. with spaces or escapes). `filter_path` is honoured for the top-level
  keys and for `items.*.<field>` patterns.
* `GET|POST [/idx]/_mget`: every document `found: false`.
* `GET .../_mapping...`: `{}`. Other GETs: `{}`.
* `HEAD /x`: 200 if a PUT to /x was seen, else 404.
* Any other PUT/POST/DELETE (index creation, templates, settings, aliases,
  `_refresh`, cluster settings): an `{"acknowledged": true}`-style 200.
* `GET /__stats`: the counters as JSON: requests, bulk_requests, actions,
  docs (actions with a source line), wire_bytes and body_bytes (bulk bodies
  as received and after decompression), bytes_received (all request bodies),
  seconds (since the first bulk), docs_per_second, mb_per_second.
"""

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
import zlib
from urllib.parse import parse_qsl, unquote

INFO = {
    "name": "es-sink", "cluster_name": "es-sink", "cluster_uuid": "c2luay1jbHVzdGVy",
    "version": {"number": "8.15.0", "build_flavor": "default", "build_type": "docker",
                "build_hash": "1a77947f34deddb41af25e6f0ddb8e830159c179",
                "build_date": "2024-08-05T10:05:34.233336849Z",
                "build_snapshot": False, "lucene_version": "9.11.1",
                "minimum_wire_compatibility_version": "7.17.0",
                "minimum_index_compatibility_version": "7.0.0"},
    "tagline": "You Know, for Search"}

ACK = b'{"acknowledged":true}'
SHARDS = b'{"_shards":{"total":1,"successful":1,"failed":0}}'
ITEM_FIELDS = ("_index", "_id", "_version", "result", "_shards", "_seq_no",
               "_primary_term", "status")
RESULTS = {b"create": (b"created", b"201"), b"index": (b"created", b"201"),
           b"update": (b"updated", b"200"), b"delete": (b"deleted", b"200")}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.bulk_requests = 0
        self.actions = 0
        self.docs = 0
        self.wire_bytes = 0
        self.body_bytes = 0
        self.bytes_received = 0
        self.first_bulk = None
        self.last_bulk = None

    def snapshot(self):
        with self.lock:
            out = {k: getattr(self, k) for k in (
                "requests", "bulk_requests", "actions", "docs", "wire_bytes",
                "body_bytes", "bytes_received")}
            secs = (self.last_bulk - self.first_bulk) if self.first_bulk else 0.0
        out["seconds"] = round(secs, 3)
        out["docs_per_second"] = round(out["docs"] / secs, 1) if secs > 0 else None
        out["mb_per_second"] = round(out["body_bytes"] / secs / 1e6, 2) \
            if secs > 0 else None
        return out


STATS = Stats()
PUT_PATHS = set()


def _filter_spec(spec):
    """(top-level keys wanted, item fields wanted or None for all) of a
    filter_path, as far as a bulk response needs it."""
    top, fields = set(), set()
    all_items = False
    for pat in (p for p in spec.split(",") if p and not p.startswith("-")):
        parts = pat.split(".")
        if parts[0] == "**":
            return {"took", "errors", "items"}, None
        if parts[0] in ("took", "errors"):
            top.add(parts[0])
        elif parts[0] in ("items", "*"):
            if parts[0] == "*":
                top.update(("took", "errors"))
            top.add("items")
            if len(parts) < 3 or parts[2] in ("*", "**"):
                all_items = True
            else:
                fields.add(parts[2])
    if all_items:
        return top, None
    fields &= set(ITEM_FIELDS)
    if not fields:
        top.discard("items")
    return top, fields


FULL_ITEM = (b'{"%s":{"_index":"%s","_id":"%s","_version":1,"result":"%s",'
             b'"_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,'
             b'"_primary_term":1,"status":%s}}')


def _item(kind, index, doc_id, fields):
    result, status = RESULTS.get(kind, (b"created", b"201"))
    if fields is None:
        return FULL_ITEM % (kind, index, doc_id, result, status)
    parts = []
    if fields is None or "_index" in fields:
        parts.append(b'"_index":"' + index + b'"')
    if fields is None or "_id" in fields:
        parts.append(b'"_id":"' + doc_id + b'"')
    if fields is None or "_version" in fields:
        parts.append(b'"_version":1')
    if fields is None or "result" in fields:
        parts.append(b'"result":"' + result + b'"')
    if fields is None or "_shards" in fields:
        parts.append(b'"_shards":{"total":2,"successful":1,"failed":0}')
    if fields is None or "_seq_no" in fields:
        parts.append(b'"_seq_no":0')
    if fields is None or "_primary_term" in fields:
        parts.append(b'"_primary_term":1')
    if fields is None or "status" in fields:
        parts.append(b'"status":' + status)
    return b'{"' + kind + b'":{' + b",".join(parts) + b"}}"


_auto_id = [0]


def _action_meta(line, path_index):
    """(kind, index, id) of an action line, as JSON-escaped bytes."""
    start = line.find(b'"', 0, 8)
    end = line.find(b'"', start + 1)
    kind = bytes(line[start + 1:end])
    i = line.find(b'"_index":"', end)
    j = line.find(b'"_id":"', end)
    if b"\\" in line or (i < 0 and path_index is None) or (kind not in RESULTS):
        return _action_meta_slow(line, path_index)
    if i >= 0:
        i += 10
        index = line[i:line.index(b'"', i)]
    else:
        index = path_index
    if j >= 0:
        j += 7
        doc_id = line[j:line.index(b'"', j)]
    else:
        if line.find(b'"_id"') >= 0:   # "_id": "x" with a space, or a number
            return _action_meta_slow(line, path_index)
        _auto_id[0] += 1
        doc_id = b"sink%016d" % _auto_id[0]
    return kind, index, doc_id


def _action_meta_slow(line, path_index):
    try:
        action = json.loads(line)
        (kind, meta), = action.items()
    except (ValueError, AttributeError):
        return b"index", path_index or b"", b""
    index = meta.get("_index")
    index = json.dumps(index)[1:-1].encode() if index is not None else (path_index or b"")
    doc_id = meta.get("_id")
    if doc_id is None:
        _auto_id[0] += 1
        doc_id = "sink%016d" % _auto_id[0]
    return kind.encode(), index, json.dumps(str(doc_id))[1:-1].encode()


def bulk(body, path_index, params):
    lines = body.split(b"\n")
    n = len(lines)
    if lines and not lines[-1]:
        n -= 1
    items = []
    docs = 0
    top, fields = _filter_spec(params["filter_path"]) \
        if "filter_path" in params else ({"took", "errors", "items"}, None)
    want_items = "items" in top
    i = 0
    append = items.append
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        kind, index, doc_id = _action_meta(line, path_index)
        if kind == b"delete":
            i += 1
        else:
            i += 2
            docs += 1
        if want_items:
            append(_item(kind, index, doc_id, fields))
        else:
            append(None)
    out = []
    if "took" in top:
        out.append(b'"took":1')
    if "errors" in top:
        out.append(b'"errors":false')
    if want_items:
        out.append(b'"items":[' + b",".join(items) + b"]")
    return b"{" + b",".join(out) + b"}", len(items), docs


def mget(body, path_index):
    try:
        req = json.loads(body) if body.strip() else {}
    except ValueError:
        req = {}
    specs = [{"_id": x} for x in req.get("ids") or []] + list(req.get("docs") or [])
    docs = [{"_index": s.get("_index") or path_index, "_id": str(s.get("_id")),
             "found": False} for s in specs if isinstance(s, dict)]
    return json.dumps({"docs": docs}, separators=(",", ":")).encode()


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def read_head(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buf[:end]
                self.buf = self.buf[end + 4:]
                return head
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def read_exact(self, length):
        have = len(self.buf)
        if have >= length:
            data = self.buf[:length]
            self.buf = self.buf[length:]
            return data
        out = bytearray(length)
        view = memoryview(out)
        view[:have] = self.buf
        self.buf = b""
        pos = have
        recv_into = self.sock.recv_into
        while pos < length:
            got = recv_into(view[pos:], min(length - pos, 1 << 22))
            if not got:
                raise ConnectionError("client closed mid-body")
            pos += got
        return out

    def read_line(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = self.buf[:end]
                self.buf = self.buf[end + 2:]
                return line
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("client closed mid-chunk")
            self.buf += chunk

    def read_chunked(self):
        parts = []
        while True:
            size = int(self.read_line().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.read_line():
                    pass
                return b"".join(parts)
            parts.append(bytes(self.read_exact(size)))
            self.read_line()

    def send(self, status, body, ctype=b"application/json", head_only=False):
        reason = {200: b"OK", 404: b"Not Found", 400: b"Bad Request"}.get(status, b"OK")
        hdr = (b"HTTP/1.1 %d %s\r\nX-Elastic-Product: Elasticsearch\r\n"
               b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n"
               % (status, reason, ctype, len(body)))
        self.sock.sendall(hdr if head_only else hdr + body)

    def serve(self):
        try:
            while True:
                head = self.read_head()
                if head is None:
                    return
                if not self.handle(head):
                    return
        except (ConnectionError, OSError, ValueError):
            return
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def handle(self, head):
        lines = head.split(b"\r\n")
        method, target, version = lines[0].split(b" ", 2)
        headers = {}
        for h in lines[1:]:
            k, _, v = h.partition(b":")
            headers[k.strip().lower()] = v.strip()
        keep = not (headers.get(b"connection", b"").lower() == b"close" or
                    (version == b"HTTP/1.0" and
                     headers.get(b"connection", b"").lower() != b"keep-alive"))
        if headers.get(b"expect", b"").lower() == b"100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            wire = self.read_chunked()
        else:
            length = int(headers.get(b"content-length", b"0"))
            wire = self.read_exact(length) if length else b""
        body = wire
        enc = headers.get(b"content-encoding", b"").lower()
        if enc == b"gzip" and wire:
            body = zlib.decompress(bytes(wire), 47)
        elif enc == b"deflate" and wire:
            body = zlib.decompress(bytes(wire))
        path, _, query = target.decode("latin-1").partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True))
        segs = [unquote(s) for s in path.split("/") if s]
        meth = method.decode("latin-1")
        with STATS.lock:
            STATS.requests += 1
            STATS.bytes_received += len(wire)
        status, out = 200, b"{}"
        if segs and segs[-1] == "_bulk" and meth in ("POST", "PUT"):
            path_index = segs[0].encode() if len(segs) > 1 else None
            out, actions, docs = bulk(body, path_index, params)
            now = time.monotonic()
            with STATS.lock:
                STATS.bulk_requests += 1
                STATS.actions += actions
                STATS.docs += docs
                STATS.wire_bytes += len(wire)
                STATS.body_bytes += len(body)
                if STATS.first_bulk is None:
                    STATS.first_bulk = now
                STATS.last_bulk = now
        elif path == "/__stats":
            out = json.dumps(STATS.snapshot()).encode()
        elif not segs and meth in ("GET", "HEAD"):
            out = json.dumps(INFO).encode()
        elif segs and segs[-1] == "_mget":
            out = mget(body, segs[0] if len(segs) > 1 else None)
        elif meth == "HEAD":
            status = 200 if path in PUT_PATHS else 404
            out = b""
        elif meth == "GET":
            out = b"{}"
        elif segs and segs[-1] in ("_refresh", "_flush"):
            out = SHARDS
        elif meth == "PUT" and len(segs) == 1:
            PUT_PATHS.add(path)
            out = b'{"acknowledged":true,"shards_acknowledged":true,"index":%s}' \
                % json.dumps(segs[0]).encode()
        else:
            if meth == "PUT":
                PUT_PATHS.add(path)
            out = ACK
        self.send(status, out, head_only=(meth == "HEAD"))
        return keep


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--stats-file")
    opts = p.parse_args(argv)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", opts.port))
    lsock.listen(128)
    port = lsock.getsockname()[1]

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write("%d\n" % port)
        os.replace(tmp, opts.port_file)
    print("listening on %d" % port, flush=True)
    try:
        while True:
            sock, _ = lsock.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            threading.Thread(target=Connection(sock).serve, daemon=True).start()
    finally:
        lsock.close()
        stats = json.dumps(STATS.snapshot())
        print(stats, flush=True)
        if opts.stats_file:
            tmp = opts.stats_file + ".tmp"
            with open(tmp, "w") as fh:
                fh.write(stats + "\n")
            os.replace(tmp, opts.stats_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
