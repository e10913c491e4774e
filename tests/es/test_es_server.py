"""Conformance tests of the Elasticsearch/OpenSearch test server (es_server.py).

Run from this folder:  python3 -m unittest -v test_es_server

Two kinds of tests:

* CommonTests: wire behaviour every engine shares (mappings, text vs keyword,
  aggregations, bulk, errors, scroll, PIT, ...). They run against the local
  server in each flavor (es6, es7, es8, os2) and, when the environment
  variable CLOUDTRACKER_TEST_ES_URL is set, against that real cluster too,
  which is how the server's fidelity is checked. They only assert what holds
  for real engines of the matching version.
* Server-only tests: exact per-flavor shapes, authentication modes (including
  SigV4 signed by an independent signer below), fault injection, the request
  log, transport details and the command line.

Only the standard library is used (urllib for requests; http.client and
socket where a test needs control of the connection itself).
"""

import base64
import contextlib
import datetime
import gzip
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import es_common  # noqa: E402
import es_sigv4  # noqa: E402
from es_server import running_server  # noqa: E402

REAL_URL = os.environ.get("CLOUDTRACKER_TEST_ES_URL")

# ---------------------------------------------------------------------------
# Shared servers: started on first use, stopped when the module finishes.
# ---------------------------------------------------------------------------

_STACK = contextlib.ExitStack()
_SERVERS = {}


def server(flavor="es8", **opts):
    key = (flavor, tuple(sorted(opts.items())))
    if key not in _SERVERS:
        _SERVERS[key] = _STACK.enter_context(running_server(flavor=flavor, **opts))
    return _SERVERS[key]


def tearDownModule():
    _STACK.close()


# ---------------------------------------------------------------------------
# A minimal HTTP client
# ---------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    @property
    def json(self):
        return json.loads(self.data) if self.data else None

    def header(self, name):
        return self.headers.get(name)

    def header_all(self, name):
        return self.headers.get_all(name) or []

    def __repr__(self):
        return "<%d %s>" % (self.status, self.data[:400])


class Client:
    """urllib-based client: every error status comes back as a Response."""

    def __init__(self, base, headers=None, ssl_context=None, timeout=20):
        self.base = base.rstrip("/")
        self.headers = dict(headers or {})
        self.ssl_context = ssl_context
        self.timeout = timeout

    def request(self, method, path, body=None, ctype="application/json",
                headers=None, timeout=None):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body
        hdrs = dict(self.headers)
        if data is not None and ctype:
            hdrs["Content-Type"] = ctype
        hdrs.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout,
                                        context=self.ssl_context) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.headers, exc.read())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def bulk(self, actions, refresh="true", path="/_bulk"):
        lines = "".join(json.dumps(a) + "\n" for a in actions)
        q = "?refresh=%s" % refresh if refresh else ""
        return self.post(path + q, lines, ctype="application/x-ndjson")


def real_client():
    """A Client for CLOUDTRACKER_TEST_ES_URL (user:pass@ in the URL is Basic)."""
    parts = urllib.parse.urlsplit(REAL_URL)
    headers = {}
    if parts.username:
        token = base64.b64encode(("%s:%s" % (urllib.parse.unquote(parts.username),
                                             urllib.parse.unquote(parts.password or "")))
                                 .encode()).decode()
        headers["Authorization"] = "Basic " + token
    if os.environ.get("CLOUDTRACKER_TEST_ES_API_KEY"):
        headers["Authorization"] = "ApiKey " + os.environ["CLOUDTRACKER_TEST_ES_API_KEY"]
    netloc = parts.hostname + (":%d" % parts.port if parts.port else "")
    base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    ctx = None
    if parts.scheme == "https":
        ctx = ssl.create_default_context(cafile=os.environ.get("CLOUDTRACKER_TEST_ES_CA"))
        if os.environ.get("CLOUDTRACKER_TEST_ES_INSECURE") == "1":
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
    return Client(base, headers, ctx, timeout=60)


def events(n=1, **fields):
    """CloudTrail-like records; keyword arguments override fields."""
    out = []
    for i in range(n):
        e = {"eventVersion": "1.08", "eventID": "evt-%04d" % i,
             "eventTime": "2024-01-01T00:%02d:%02dZ" % (i // 60 % 60, i % 60),
             "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
             "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.%d" % (i % 250),
             "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/Alice",
                              "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLE%04d" % i,
                              "userName": "Alice"},
             "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/Admin",
                                   "roleSessionName": "s%d" % i},
             "recipientAccountId": "111122223333"}
        e.update(fields)
        out.append(e)
    return out


def creates(index, docs):
    actions = []
    for d in docs:
        actions.append({"create": {"_index": index, "_id": d["eventID"]}})
        actions.append(d)
    return actions


# ---------------------------------------------------------------------------
# Tests shared by every flavor and by a real cluster
# ---------------------------------------------------------------------------


class CommonTests:
    """Behaviour every engine shares. Subclasses set FLAVOR (None = real)."""

    FLAVOR = None

    @classmethod
    def setUpClass(cls):
        if cls.FLAVOR is None:
            if not REAL_URL:
                raise unittest.SkipTest("CLOUDTRACKER_TEST_ES_URL is not set")
            cls.client = real_client()
            cls.local = None
        else:
            cls.local = server(cls.FLAVOR)
            cls.client = Client(cls.local)
        info = cls.client.get("/").json
        cls.engine = info["version"].get("distribution", "elasticsearch")
        cls.version = tuple(int(x) for x in info["version"]["number"].split("-")[0]
                            .split(".")[:2])
        cls.es6 = cls.engine == "elasticsearch" and cls.version[0] == 6

    def setUp(self):
        if self.local is not None:
            self.local.reset()
        self.prefix = "cttest-%s-" % "".join(random.choice(string.ascii_lowercase)
                                             for _ in range(8))
        self.templates = []

    def tearDown(self):
        if self.local is not None:
            return
        for kind, name in self.templates:
            self.client.delete("/%s/%s" % (kind, name))
        found = self.client.get("/_cat/indices/%s*?format=json&h=index" % self.prefix)
        names = [row["index"] for row in (found.json or [])]
        if names:
            self.client.delete("/" + ",".join(names))

    # -- helpers -------------------------------------------------------------

    def idx(self, name="a"):
        return self.prefix + name

    def total(self, body):
        t = body["hits"]["total"]
        return t if isinstance(t, int) else t["value"]

    def mapping_of(self, index):
        m = self.client.get("/%s/_mapping" % index).json[index]["mappings"]
        if self.es6 and m:
            (_type, m), = m.items()
        return m

    def load(self, index, docs):
        r = self.client.bulk(creates(index, docs) if not self.es6 else
                             [dict(a, **({"create": dict(a["create"], _type="_doc")}
                                         if "create" in a else {})) for a in
                              creates(index, docs)])
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["errors"], r)
        return r

    def search(self, index, body, expect=200, params=""):
        """The answer's JSON; `expect` None: any error status."""
        r = self.client.post("/%s/_search%s" % (index, params), body)
        if expect is None:
            self.assertGreaterEqual(r.status, 400, r)
        else:
            self.assertEqual(r.status, expect, r)
        return r.json

    def typed(self, meta):
        """Bulk metadata with the type ES 6 requires."""
        return dict(meta, _type="_doc") if self.es6 else meta

    # -- info ----------------------------------------------------------------

    def test_info_document(self):
        r = self.client.get("/")
        self.assertEqual(r.status, 200)
        v = r.json["version"]
        self.assertIn("number", v)
        if self.engine == "opensearch":
            self.assertEqual(v["distribution"], "opensearch")
            self.assertNotIn("build_flavor", v)
            self.assertEqual(r.json["tagline"],
                             "The OpenSearch Project: https://opensearch.org/")
            self.assertIsNone(r.header("X-Elastic-Product"))
        else:
            self.assertEqual(r.json["tagline"], "You Know, for Search")
            if self.version >= (7, 14):
                self.assertEqual(r.header("X-Elastic-Product"), "Elasticsearch")

    # -- mappings ------------------------------------------------------------

    def test_dynamic_mapping_has_keyword_subfields_and_dates(self):
        index = self.idx()
        self.load(index, events(1))
        m = self.mapping_of(index)["properties"]
        self.assertEqual(m["eventName"], {"type": "text", "fields": {
            "keyword": {"type": "keyword", "ignore_above": 256}}})
        self.assertEqual(m["eventTime"], {"type": "date"})
        self.assertEqual(m["userIdentity"]["properties"]["arn"]["type"], "text")

    def test_field_mapping_shape(self):
        index = self.idx()
        self.load(index, events(1))
        r = self.client.get("/%s/_mapping/field/eventName,eventName.keyword,nope"
                            % index)
        self.assertEqual(r.status, 200)
        fields = r.json[index]["mappings"]
        if self.es6:
            fields = fields["_doc"]
        self.assertEqual(fields["eventName"], {
            "full_name": "eventName",
            "mapping": {"eventName": {"type": "text", "fields": {
                "keyword": {"type": "keyword", "ignore_above": 256}}}}})
        self.assertEqual(fields["eventName.keyword"], {
            "full_name": "eventName.keyword",
            "mapping": {"keyword": {"type": "keyword", "ignore_above": 256}}})
        self.assertNotIn("nope", fields)
        nested = self.client.get("/%s/_mapping/field/userIdentity.arn" % index).json
        inner = nested[index]["mappings"]
        if self.es6:
            inner = inner["_doc"]
        self.assertEqual(inner["userIdentity.arn"]["mapping"]["arn"]["type"], "text")
        # A pattern matching no index answers an empty object.
        r = self.client.get("/%snothing-*/_mapping/field/eventName" % self.prefix)
        self.assertEqual((r.status, r.json), (200, {}))

    def test_explicit_mapping_roundtrip(self):
        index = self.idx()
        props = {"eventName": {"type": "keyword"}, "eventTime": {"type": "date"},
                 "readOnly": {"type": "boolean"}}
        mappings = {"_doc": {"properties": props}} if self.es6 else {"properties": props}
        r = self.client.put("/" + index, {"mappings": mappings,
                                          "settings": {"number_of_shards": 1}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["acknowledged"], True)
        self.assertEqual(self.mapping_of(index)["properties"], props)
        again = self.client.put("/" + index, {})
        self.assertEqual(again.status, 400)
        self.assertEqual(again.json["error"]["type"], "resource_already_exists_exception")

    # -- text vs keyword -----------------------------------------------------

    def test_term_on_text_field_does_not_match_arn_or_mixed_case(self):
        index = self.idx()
        self.load(index, events(3))
        arn = "arn:aws:iam::111122223333:user/Alice"

        def hits(query):
            return self.total(self.search(index, {"query": query}))
        self.assertEqual(hits({"term": {"userIdentity.arn.keyword": arn}}), 3)
        self.assertEqual(hits({"term": {"userIdentity.arn": arn}}), 0)
        self.assertEqual(hits({"term": {"eventName": "AssumeRole"}}), 0)
        self.assertEqual(hits({"term": {"eventName": "assumerole"}}), 3)
        self.assertEqual(hits({"term": {"eventName.keyword": "AssumeRole"}}), 3)
        self.assertEqual(hits({"match": {"eventName": "AssumeRole"}}), 3)
        self.assertEqual(hits({"terms": {"eventSource.keyword": [
            "sts.amazonaws.com", "s3.amazonaws.com"]}}), 3)

    def test_aggregating_on_text_field_fails_like_es(self):
        index = self.idx()
        self.load(index, events(2))
        body = self.search(index, {"size": 0, "aggs": {
            "n": {"terms": {"field": "eventName"}}}}, expect=400)
        err = body["error"]
        self.assertEqual(body["status"], 400)
        self.assertEqual(err["type"], "search_phase_execution_exception")
        self.assertEqual(err["reason"], "all shards failed")
        self.assertEqual(err["phase"], "query")
        self.assertTrue(err["grouped"])
        self.assertEqual(err["root_cause"][0]["type"], "illegal_argument_exception")
        self.assertIn("Text fields are not optimised", err["root_cause"][0]["reason"])
        self.assertIn("fielddata=true on [eventName]", err["root_cause"][0]["reason"])
        self.assertEqual(err["failed_shards"][0]["index"], index)
        self.assertEqual(err["failed_shards"][0]["reason"]["type"],
                         "illegal_argument_exception")
        # Sorting on a text field fails the same way.
        body = self.search(index, {"sort": [{"eventName": "asc"}]}, expect=400)
        self.assertIn("Text fields are not optimised",
                      body["error"]["root_cause"][0]["reason"])

    # -- composite and terms -------------------------------------------------

    def _pairs(self, index, count=25):
        docs = []
        for i in range(count):
            docs.extend(events(1, eventID="pair-%03d" % i,
                               eventSource="svc%d.amazonaws.com" % (i % 5),
                               eventName="Action%d" % (i // 5)))
        # Failed calls and other principals must be filtered out.
        docs.extend(events(1, eventID="err-1", eventSource="svc0.amazonaws.com",
                           eventName="Denied", errorCode="AccessDenied"))
        docs.extend(events(1, eventID="bob-1", eventSource="svc0.amazonaws.com",
                           eventName="BobOnly", userIdentity={
                               "arn": "arn:aws:iam::111122223333:user/Bob"}))
        docs.extend(events(1, eventID="old-1", eventTime="2023-06-01T00:00:00Z",
                           eventSource="svc0.amazonaws.com", eventName="Old"))
        self.load(index, docs)

    def test_composite_pages_through_every_pair(self):
        index = self.idx()
        self._pairs(index)
        query = {"bool": {
            "filter": [{"term": {"userIdentity.arn.keyword":
                                 "arn:aws:iam::111122223333:user/Alice"}},
                       {"range": {"eventTime": {"gte": "2024-01-01T00:00:00Z",
                                                "lte": "2024-02-01T00:00:00Z"}}}],
            "must_not": [{"exists": {"field": "errorCode"}}]}}
        comp = {"size": 7, "sources": [
            {"src": {"terms": {"field": "eventSource.keyword"}}},
            {"name": {"terms": {"field": "eventName.keyword"}}}]}
        seen, pages, after = [], 0, None
        while True:
            c = dict(comp, after=after) if after else comp
            body = self.search(index, {"size": 0, "track_total_hits": False,
                                       "query": query, "aggs": {"pairs": {"composite": c}}})
            self.assertNotIn("total", body["hits"])
            agg = body["aggregations"]["pairs"]
            if not agg["buckets"]:
                self.assertNotIn("after_key", agg)
                break
            pages += 1
            self.assertLessEqual(len(agg["buckets"]), 7)
            self.assertEqual(agg["after_key"], agg["buckets"][-1]["key"])
            for b in agg["buckets"]:
                seen.append((b["key"]["src"], b["key"]["name"], b["doc_count"]))
            after = agg["after_key"]
        self.assertEqual(pages, 4)
        expected = sorted(("svc%d.amazonaws.com" % (i % 5), "Action%d" % (i // 5), 1)
                          for i in range(25))
        self.assertEqual(seen, expected)

    def test_sibling_composites_page_on_their_own(self):
        # Two composite aggregations in one search (what cloudtracker's
        # sessions question sends), each with its own size and after key.
        index = self.idx()
        self._pairs(index)

        def search(c, c1):
            aggs = {}
            if c is not None:
                aggs["c"] = {"composite": dict(c, sources=[
                    {"src": {"terms": {"field": "eventSource.keyword"}}}])}
            if c1 is not None:
                aggs["c1"] = {"composite": dict(c1, sources=[
                    {"name": {"terms": {"field": "eventName.keyword"}}}])}
            return self.search(index, {"size": 0, "aggs": aggs})["aggregations"]

        first = search({"size": 3}, {"size": 10})
        self.assertEqual([b["key"]["src"] for b in first["c"]["buckets"]],
                         ["svc0.amazonaws.com", "svc1.amazonaws.com", "svc2.amazonaws.com"])
        self.assertEqual([b["key"]["name"] for b in first["c1"]["buckets"]],
                         ["Action0", "Action1", "Action2", "Action3", "Action4", "BobOnly",
                          "Denied", "Old"])
        rest = search({"size": 3, "after": first["c"]["after_key"]}, None)
        self.assertEqual(list(rest), ["c"])
        self.assertEqual([b["key"]["src"] for b in rest["c"]["buckets"]],
                         ["svc3.amazonaws.com", "svc4.amazonaws.com"])

    def test_composite_size_above_max_buckets_is_refused(self):
        if self.es6:
            self.skipTest("search.max_buckets is unlimited by default in ES 6")
        index = self.idx()
        self.load(index, events(2))
        body = self.search(index, {"size": 0, "aggs": {"p": {"composite": {
            "size": 10000000, "sources": [
                {"n": {"terms": {"field": "eventName.keyword"}}}]}}}},
            expect=self._bucket_status())
        err = body["error"]
        self.assertEqual(err["type"], "search_phase_execution_exception")
        root = err["root_cause"][0]
        self.assertEqual(root["type"], "too_many_buckets_exception")
        self.assertIn("Trying to create too many buckets", root["reason"])
        self.assertIn("search.max_buckets", root["reason"])
        self.assertIn("max_buckets", root)

    def _bucket_status(self):
        # 503 before ES 8.8 (and in OpenSearch), 400 since (PR #95304).
        if self.engine == "elasticsearch" and self.version >= (8, 8):
            return 400
        return 503

    def test_composite_under_a_parent_is_refused(self):
        index = self.idx()
        self.load(index, events(2))
        body = self.search(index, {"size": 0, "aggs": {"t": {
            "terms": {"field": "eventSource.keyword"},
            "aggs": {"c": {"composite": {"sources": [
                {"n": {"terms": {"field": "eventName.keyword"}}}]}}}}}}, expect=400)
        self.assertIn("[composite] aggregation cannot be used with a parent aggregation",
                      json.dumps(body))

    def test_terms_aggregation_order_and_other_count(self):
        index = self.idx()
        docs = []
        for name, n in (("B", 3), ("A", 3), ("C", 2), ("D", 1)):
            docs += events(n, eventName=name)
        for i, d in enumerate(docs):
            d["eventID"] = "t-%d" % i
        self.load(index, docs)
        body = self.search(index, {"size": 0, "aggs": {"n": {
            "terms": {"field": "eventName.keyword", "size": 2},
            "aggs": {"s": {"terms": {"field": "eventSource.keyword"}}}}}})
        agg = body["aggregations"]["n"]
        self.assertEqual(agg["doc_count_error_upper_bound"], 0)
        self.assertEqual(agg["sum_other_doc_count"], 3)
        self.assertEqual([(b["key"], b["doc_count"]) for b in agg["buckets"]],
                         [("A", 3), ("B", 3)])
        self.assertEqual(agg["buckets"][0]["s"]["buckets"],
                         [{"key": "sts.amazonaws.com", "doc_count": 3}])
        body = self.search(index, {"size": 0, "aggs": {"n": {
            "terms": {"field": "eventName.keyword", "order": {"_key": "desc"}}}}})
        self.assertEqual([b["key"] for b in body["aggregations"]["n"]["buckets"]],
                         ["D", "C", "B", "A"])

    def test_terms_under_composite(self):
        # What cloudtracker's resources question sends: a terms aggregation
        # (size and shard_size) in each composite bucket, over a keyword
        # whose values past ignore_above are not indexed (neither counted
        # nor found by exists).
        index = self.idx()
        docs = []
        for src, names in (("s1.amazonaws.com", "AAB"), ("s2.amazonaws.com", "CDEE")):
            docs += [dict(e, eventSource=src, eventName=n)
                     for e, n in zip(events(len(names)), names)]
        docs += events(1, eventSource="s1.amazonaws.com", eventName="L" * 300)
        for i, d in enumerate(docs):
            d["eventID"] = "tc-%d" % i
        self.load(index, docs)
        sets = {"terms": {"field": "eventName.keyword", "size": 2, "shard_size": 2}}
        body = self.search(index, {"size": 0, "query": {"bool": {"filter": [
            {"exists": {"field": "eventName.keyword"}}]}}, "aggs": {"c": {"composite": {
                "sources": [{"src": {"terms": {"field": "eventSource.keyword"}}}]},
                "aggs": {"n": sets}}}})
        s1, s2 = body["aggregations"]["c"]["buckets"]
        self.assertEqual(s1["doc_count"], 3)
        self.assertEqual([(b["key"], b["doc_count"]) for b in s1["n"]["buckets"]],
                         [("A", 2), ("B", 1)])
        self.assertEqual(s1["n"]["sum_other_doc_count"], 0)
        self.assertEqual(s2["doc_count"], 4)
        self.assertEqual(len(s2["n"]["buckets"]), 2)
        self.assertEqual(sum(b["doc_count"] for b in s2["n"]["buckets"]) +
                         s2["n"]["sum_other_doc_count"], 4)
        body = self.search(index, {"size": 0, "aggs": {"n": dict(sets, terms=dict(
            sets["terms"], shard_size=0))}}, expect=400)
        self.assertIn("[shardSize] must be greater than 0. Found [0] in [n]", json.dumps(body))

    # -- date_histogram, global, filter (cloudtracker's coverage question) ----

    def _interval_key(self):
        """The date_histogram interval parameter this engine takes."""
        legacy = self.engine == "elasticsearch" and self.version < (7, 2)
        return "interval" if legacy else "fixed_interval"

    def _days(self, index):
        docs = []
        for i, when in enumerate(("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z",
                                  "2024-01-02T12:00:00Z", "2024-01-04T00:00:00Z",
                                  "2023-12-31T23:59:59Z")):
            docs += events(1, eventID="d-%d" % i, eventTime=when,
                           awsRegion="eu-west-1" if i % 2 else "us-east-1")
        self.load(index, docs)

    def test_date_histogram_by_utc_day(self):
        index = self.idx()
        self._days(index)
        day = 86400000
        jan1 = 1704067200000  # 2024-01-01T00:00:00Z
        body = self.search(index, {"size": 0, "aggs": {"d": {"date_histogram": {
            "field": "eventTime", self._interval_key(): "1d", "min_doc_count": 1}}}})
        buckets = body["aggregations"]["d"]["buckets"]
        self.assertEqual([(b["key"], b["doc_count"]) for b in buckets],
                         [(jan1 - day, 1), (jan1, 2), (jan1 + day, 1), (jan1 + 3 * day, 1)])
        self.assertEqual(buckets[1]["key_as_string"], "2024-01-01T00:00:00.000Z")
        self.assertEqual(list(buckets[1]), ["key_as_string", "key", "doc_count"])
        # min_doc_count 0 (the default) fills the empty days between.
        body = self.search(index, {"size": 0, "query": {"range": {"eventTime": {
            "gte": "2024-01-01T00:00:00Z"}}}, "aggs": {"d": {"date_histogram": {
                "field": "eventTime", self._interval_key(): "1d"}}}})
        self.assertEqual([(b["key"], b["doc_count"])
                          for b in body["aggregations"]["d"]["buckets"]],
                         [(jan1, 2), (jan1 + day, 1), (jan1 + 2 * day, 0), (jan1 + 3 * day, 1)])
        # A keyword field is refused.
        self.search(index, {"size": 0, "aggs": {"d": {"date_histogram": {
            "field": "eventName.keyword", self._interval_key(): "1d"}}}}, expect=400)

    def test_date_histogram_interval_parameters(self):
        index = self.idx()
        self._days(index)
        for key in ("interval", "fixed_interval", "calendar_interval"):
            taken = (key == "interval" and not (self.engine == "elasticsearch"
                                                and self.version >= (8, 0))) or \
                (key != "interval" and self._interval_key() == "fixed_interval")
            body = self.search(index, {"size": 0, "aggs": {"d": {"date_histogram": {
                "field": "eventTime", key: "1d", "min_doc_count": 1}}}},
                expect=200 if taken else 400)
            if taken:
                self.assertEqual(len(body["aggregations"]["d"]["buckets"]), 4)
            else:
                self.assertIn("[%s]" % key, json.dumps(body["error"]))
        if self._interval_key() == "fixed_interval":
            # One of them only, and one of them at all.
            self.search(index, {"size": 0, "aggs": {"d": {"date_histogram": {
                "field": "eventTime", "fixed_interval": "1d", "calendar_interval": "1d"}}}},
                expect=400)
            # A calendar interval is one unit; a fixed one any number.
            self.search(index, {"size": 0, "aggs": {"d": {"date_histogram": {
                "field": "eventTime", "calendar_interval": "2d"}}}}, expect=400)
            # Fixed intervals count from the epoch: 2023-12-31 opens one.
            body = self.search(index, {"size": 0, "aggs": {"d": {"date_histogram": {
                "field": "eventTime", "fixed_interval": "2d", "min_doc_count": 1}}}})
            self.assertEqual([(b["key_as_string"][:10], b["doc_count"])
                              for b in body["aggregations"]["d"]["buckets"]],
                             [("2023-12-31", 3), ("2024-01-02", 1), ("2024-01-04", 1)])
        self.search(index, {"size": 0, "aggs": {"d": {"date_histogram": {
            "field": "eventTime"}}}}, expect=400)

    def test_global_and_filter_aggregations(self):
        # What cloudtracker's coverage question sends: a query (one kind of
        # event) and a global aggregation that goes back to every event,
        # narrowed by a filter aggregation.
        index = self.idx()
        self._days(index)
        self.load(index, events(1, eventID="other", eventTime="2024-01-02T00:00:00Z",
                                recipientAccountId="999999999999", awsRegion="ap-south-1"))
        body = self.search(index, {
            "size": 0, "track_total_hits": True,
            "query": {"term": {"awsRegion.keyword": "eu-west-1"}},
            "aggs": {"all": {"global": {}, "aggs": {"acct": {
                "filter": {"term": {"recipientAccountId.keyword": "111122223333"}},
                "aggs": {"days": {"date_histogram": {"field": "eventTime",
                                                     self._interval_key(): "1d",
                                                     "min_doc_count": 1}},
                         "regions": {"terms": {"field": "awsRegion.keyword", "size": 1}}}}}},
                "n": {"terms": {"field": "awsRegion.keyword"}}}})
        self.assertEqual(self.total(body), 2)
        aggs = body["aggregations"]
        self.assertEqual([(b["key"], b["doc_count"]) for b in aggs["n"]["buckets"]],
                         [("eu-west-1", 2)])
        self.assertEqual(aggs["all"]["doc_count"], 6)
        acct = aggs["all"]["acct"]
        self.assertEqual(acct["doc_count"], 5)
        self.assertEqual([b["doc_count"] for b in acct["days"]["buckets"]], [1, 2, 1, 1])
        # size 1 of two Regions: the other one's events are counted aside.
        self.assertEqual([(b["key"], b["doc_count"]) for b in acct["regions"]["buckets"]],
                         [("us-east-1", 3)])
        self.assertEqual(acct["regions"]["sum_other_doc_count"], 2)
        # A global aggregation must be at the top; a composite has no parent.
        body = self.search(index, {"size": 0, "aggs": {"t": {
            "terms": {"field": "awsRegion.keyword"},
            "aggs": {"g": {"global": {}}}}}}, expect=None)
        self.assertIn("global", json.dumps(body["error"]))
        body = self.search(index, {"size": 0, "aggs": {"g": {"global": {}, "aggs": {"c": {
            "composite": {"sources": [{"n": {"terms": {"field": "eventName.keyword"}}}]}}}}}},
            expect=400)
        self.assertIn("[composite] aggregation cannot be used with a parent aggregation",
                      json.dumps(body))

    def test_min_max_of_dates(self):
        index = self.idx()
        self.load(index, events(3))
        body = self.search(index, {"size": 0, "aggs": {
            "first": {"min": {"field": "eventTime"}},
            "last": {"max": {"field": "eventTime"}}}})
        aggs = body["aggregations"]
        self.assertEqual(aggs["first"]["value_as_string"], "2024-01-01T00:00:00.000Z")
        self.assertEqual(aggs["last"]["value_as_string"], "2024-01-01T00:00:02.000Z")
        self.assertEqual(aggs["first"]["value"], 1704067200000.0)

    # -- bulk ----------------------------------------------------------------

    def test_bulk_reports_each_item_in_order(self):
        index = self.idx()
        first = {"eventID": "1", "eventName": "Get",
                 "responseElements": {"endpoint": {"address": "x", "port": 1}}}
        actions = [
            {"create": self.typed({"_index": index, "_id": "1"})}, first,
            {"create": self.typed({"_index": index, "_id": "1"})}, first,
            {"create": self.typed({"_index": index, "_id": "2"})},
            {"eventID": "2", "eventName": {"nested": "object"}},
            {"create": self.typed({"_index": index, "_id": "3"})},
            {"eventID": "3", "responseElements": {"endpoint": "a string"}},
            {"index": self.typed({"_index": index, "_id": "4"})}, {"eventID": "4"},
            {"delete": self.typed({"_index": index, "_id": "missing"})},
        ]
        r = self.client.bulk(actions)
        self.assertEqual(r.status, 200)
        body = r.json
        self.assertTrue(body["errors"])
        items = body["items"]
        self.assertEqual([list(i)[0] for i in items],
                         ["create", "create", "create", "create", "index", "delete"])
        statuses = [next(iter(i.values()))["status"] for i in items]
        self.assertEqual(statuses, [201, 409, 400, 400, 201, 404])
        conflict = items[1]["create"]["error"]
        self.assertEqual(conflict["type"], "version_conflict_engine_exception")
        self.assertIn("version conflict, document already exists (current version [1])",
                      conflict["reason"])
        self.assertEqual(conflict["index"], index)
        self.assertEqual(items[2]["create"]["error"]["type"], "mapper_parsing_exception")
        self.assertEqual(items[3]["create"]["error"]["type"], "mapper_parsing_exception")
        self.assertIn("tried to parse field [endpoint] as object, but found a concrete "
                      "value", items[3]["create"]["error"]["reason"])
        self.assertEqual(items[0]["create"]["result"], "created")
        self.assertEqual(items[0]["create"]["_version"], 1)
        self.assertEqual(items[5]["delete"]["result"], "not_found")
        self.assertNotIn("error", items[5]["delete"])
        count = self.client.get("/%s/_count" % index).json
        self.assertEqual(count["count"], 2)

    def test_bulk_without_final_newline_is_refused(self):
        r = self.client.post("/_bulk", json.dumps({"index": self.typed(
            {"_index": self.idx()})}) + "\n{}", ctype="application/x-ndjson")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["type"], "illegal_argument_exception")

    def test_realtime_get_sees_unrefreshed_documents(self):
        index = self.idx()
        self.client.put("/" + index, {"settings": {"refresh_interval": "-1"}})
        r = self.client.bulk([{"index": self.typed({"_index": index, "_id": "x"})},
                              {"eventName": "A"}], refresh=None)
        self.assertEqual(r.status, 200)
        doc = self.client.get("/%s/_doc/x" % index if not self.es6 else
                              "/%s/_doc/x" % index)
        self.assertEqual(doc.status, 200, doc)
        self.assertTrue(doc.json["found"])
        self.assertEqual(doc.json["_source"], {"eventName": "A"})
        missing = self.client.get("/%s/_doc/nope" % index)
        self.assertEqual(missing.status, 404)
        self.assertFalse(missing.json["found"])

    # -- multi get -------------------------------------------------------------

    def test_mget_is_realtime_and_in_request_order(self):
        index = self.idx()
        self.client.put("/" + index, {"settings": {"refresh_interval": "-1"}})
        r = self.client.bulk([{"index": self.typed({"_index": index, "_id": "1"})},
                              {"eventName": "A", "awsRegion": "us-east-1"},
                              {"index": self.typed({"_index": index, "_id": "2"})},
                              {"eventName": "B", "awsRegion": "eu-west-1"},
                              {"index": self.typed({"_index": index, "_id": "2"})},
                              {"eventName": "B2", "awsRegion": "eu-west-1"}],
                             refresh=None)
        self.assertFalse(r.json["errors"], r)
        missing = self.idx("missing")
        r = self.client.post("/_mget", {"docs": [
            {"_index": index, "_id": "2"}, {"_index": index, "_id": "nope"},
            {"_index": missing, "_id": "1"},
            {"_index": index, "_id": "1", "_source": ["eventName"]},
            {"_index": index, "_id": "1", "_source": False}]})
        self.assertEqual(r.status, 200, r)
        docs = r.json["docs"]
        self.assertEqual(len(docs), 5)
        first = docs[0]
        self.assertEqual((first["_index"], first["_id"], first["found"],
                          first["_version"], first["_source"]),
                         (index, "2", True, 2, {"eventName": "B2", "awsRegion": "eu-west-1"}))
        self.assertIn("_seq_no", first)
        self.assertEqual(first["_primary_term"], 1)
        self.assertEqual(docs[1], dict({"_index": index, "_id": "nope", "found": False},
                                       **({"_type": "_doc"} if self.es6 or
                                          self.version[0] == 7 and self.engine ==
                                          "elasticsearch" else {})))
        err = docs[2]["error"]
        self.assertEqual((docs[2]["_index"], docs[2]["_id"]), (missing, "1"))
        self.assertNotIn("found", docs[2])
        self.assertEqual(err["type"], "index_not_found_exception")
        self.assertEqual(err["root_cause"][0]["type"], "index_not_found_exception")
        self.assertEqual(err["index"], missing)
        self.assertEqual(docs[3]["_source"], {"eventName": "A"})
        self.assertTrue(docs[4]["found"])
        self.assertNotIn("_source", docs[4])
        if self.es6 or (self.engine == "elasticsearch" and self.version[0] == 7):
            self.assertTrue(all(d.get("_type") == "_doc" for d in docs
                                if "error" not in d), docs)
        else:
            self.assertTrue(all("_type" not in d for d in docs), docs)

    def test_mget_with_index_in_the_path(self):
        index = self.idx()
        self.load(index, events(3))
        r = self.client.post("/%s/_mget?_source_includes=eventName&realtime=true"
                             "&preference=_local&refresh=false" % index,
                             {"ids": ["evt-0002", "evt-0009", "evt-0000"]})
        self.assertEqual(r.status, 200, r)
        docs = r.json["docs"]
        self.assertEqual([(d["_id"], d["found"]) for d in docs],
                         [("evt-0002", True), ("evt-0009", False), ("evt-0000", True)])
        self.assertEqual(docs[0]["_source"], {"eventName": "AssumeRole"})
        r = self.client.post("/%s/_mget?_source=false" % index,
                             {"docs": [{"_id": "evt-0001"}]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["docs"][0]["_index"], index)
        self.assertNotIn("_source", r.json["docs"][0])
        # A request without documents is refused.
        r = self.client.post("/%s/_mget" % index, {"ids": []})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["type"], "action_request_validation_exception")
        r = self.client.post("/_mget", {"docs": [{"_id": "evt-0001"}]})
        self.assertEqual(r.status, 400, r)
        self.assertIn("index is missing", r.json["error"]["reason"])

    # -- index patterns and errors ---------------------------------------------

    def test_missing_concrete_index_is_404_but_wildcard_is_empty(self):
        name = self.idx("missing")
        r = self.client.post("/%s/_search" % name, {})
        self.assertEqual(r.status, 404)
        err = r.json["error"]
        self.assertEqual(r.json["status"], 404)
        self.assertEqual(err["type"], "index_not_found_exception")
        self.assertEqual(err["reason"], "no such index" if self.es6
                         else "no such index [%s]" % name)
        for obj in (err, err["root_cause"][0]):
            self.assertEqual(obj["resource.type"], "index_or_alias")
            self.assertEqual(obj["resource.id"], name)
            self.assertEqual(obj["index_uuid"], "_na_")
            self.assertEqual(obj["index"], name)
        body = self.search(self.prefix + "nothing-*", {"query": {"match_all": {}}})
        self.assertEqual(self.total(body), 0)
        self.assertEqual(body["hits"]["hits"], [])
        self.assertEqual(body["_shards"]["total"], 0)
        strict = self.client.post("/%snothing-*/_search?allow_no_indices=false"
                                  % self.prefix, {})
        self.assertEqual(strict.status, 404)

    def test_comma_lists_wildcards_and_aliases(self):
        a, b = self.idx("2024.01"), self.idx("2024.02")
        self.load(a, events(2))
        self.load(b, events(3))
        self.assertEqual(self.total(self.search(self.prefix + "2024.*", {})), 5)
        self.assertEqual(self.total(self.search("%s,%s" % (a, b), {})), 5)
        r = self.client.post("/_aliases", {"actions": [
            {"add": {"index": a, "alias": self.idx("all")}},
            {"add": {"index": b, "alias": self.idx("all")}}]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.total(self.search(self.idx("all"), {})), 5)
        hits = self.search(self.idx("all"), {"size": 10})["hits"]["hits"]
        self.assertEqual(sorted({h["_index"] for h in hits}), [a, b])

    def test_unrecognized_parameter_is_refused(self):
        r = self.client.post("/_search?no_such_param=1", {})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["type"], "illegal_argument_exception")
        self.assertIn("contains unrecognized parameter: [no_such_param]",
                      r.json["error"]["reason"])

    def test_wrong_content_type_is_406_with_a_string_error(self):
        r = self.client.post("/_search", "{}", ctype="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 406)
        self.assertEqual(r.json, {"error": "Content-Type header "
                                  "[application/x-www-form-urlencoded] is not "
                                  "supported", "status": 406})

    def test_unknown_query_is_a_parsing_error(self):
        r = self.client.post("/_search", {"query": {"no_such_query": {}}})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["type"], "parsing_exception")
        self.assertIn("no_such_query", r.json["error"]["reason"])

    def test_result_window_limit(self):
        index = self.idx()
        self.load(index, events(1))
        body = self.search(index, {"from": 9999, "size": 2}, expect=400)
        self.assertIn("Result window is too large", json.dumps(body))

    # -- queries -------------------------------------------------------------

    def test_queries_and_count(self):
        index = self.idx()
        docs = events(10)
        docs[0]["errorCode"] = "AccessDenied"
        docs[1]["eventName"] = "GetObject"
        docs[1]["eventSource"] = "s3.amazonaws.com"
        docs[2]["readOnly"] = True
        self.load(index, docs)

        def count(query):
            r = self.client.post("/%s/_count" % index, {"query": query})
            self.assertEqual(r.status, 200, r)
            self.assertIn("_shards", r.json)
            return r.json["count"]
        self.assertEqual(count({"match_all": {}}), 10)
        self.assertEqual(count({"exists": {"field": "errorCode"}}), 1)
        self.assertEqual(count({"bool": {"must_not": [{"exists": {"field": "errorCode"}}]}}), 9)
        self.assertEqual(count({"range": {"eventTime": {"gte": "2024-01-01T00:00:05Z"}}}), 5)
        self.assertEqual(count({"range": {"eventTime": {"gt": "2024-01-01T00:00:05Z",
                                                        "lt": "2024-01-01T00:00:08Z"}}}), 2)
        self.assertEqual(count({"bool": {"should": [
            {"term": {"eventName.keyword": "GetObject"}},
            {"term": {"errorCode.keyword": "AccessDenied"}}]}}), 2)
        self.assertEqual(count({"bool": {"should": [
            {"term": {"eventName.keyword": "GetObject"}},
            {"term": {"eventSource.keyword": "s3.amazonaws.com"}}],
            "minimum_should_match": 2}}), 1)
        self.assertEqual(count({"terms": {"eventID.keyword": ["evt-0001", "evt-0003",
                                                              "nope"]}}), 2)
        self.assertEqual(count({"term": {"readOnly": True}}), 1)
        self.assertEqual(count({"match": {"eventSource": "s3.amazonaws.com"}}), 1)
        self.assertEqual(count({"ids": {"values": ["evt-0001"]}}), 1)
        self.assertEqual(count({"prefix": {"eventName.keyword": "Get"}}), 1)
        r = self.client.get("/%s/_count" % index)
        self.assertEqual(r.json["count"], 10)

    def test_sort_and_search_after(self):
        index = self.idx()
        self.load(index, events(7))
        sort = [{"eventTime": "desc"}, {"eventID.keyword": "asc"}]
        body = self.search(index, {"size": 3, "sort": sort})
        hits = body["hits"]["hits"]
        self.assertEqual([h["_id"] for h in hits], ["evt-0006", "evt-0005", "evt-0004"])
        self.assertIsNone(hits[0]["_score"])
        self.assertEqual(hits[0]["sort"], [1704067206000, "evt-0006"])
        body = self.search(index, {"size": 3, "sort": sort,
                                   "search_after": hits[-1]["sort"]})
        self.assertEqual([h["_id"] for h in body["hits"]["hits"]],
                         ["evt-0003", "evt-0002", "evt-0001"])

    def test_source_filtering(self):
        index = self.idx()
        self.load(index, events(1))
        hit = self.search(index, {"_source": ["eventName", "userIdentity.arn"]})[
            "hits"]["hits"][0]
        self.assertEqual(hit["_source"], {"eventName": "AssumeRole", "userIdentity": {
            "arn": "arn:aws:iam::111122223333:user/Alice"}})
        hit = self.search(index, {"_source": False})["hits"]["hits"][0]
        self.assertNotIn("_source", hit)

    def test_hits_total_shapes(self):
        index = self.idx()
        self.load(index, events(3))
        body = self.search(index, {})
        if self.es6:
            self.assertEqual(body["hits"]["total"], 3)
        else:
            self.assertEqual(body["hits"]["total"], {"value": 3, "relation": "eq"})
            body = self.search(index, {"track_total_hits": False})
            self.assertNotIn("total", body["hits"])
            body = self.search(index, {"track_total_hits": 2})
            self.assertEqual(body["hits"]["total"], {"value": 2, "relation": "gte"})
            body = self.search(index, {}, params="?rest_total_hits_as_int=true")
            self.assertEqual(body["hits"]["total"], 3)
        self.assertEqual(body["_shards"]["failed"], 0)
        self.assertFalse(body["timed_out"])

    # -- refresh and settings --------------------------------------------------

    def test_writes_are_invisible_until_refresh(self):
        index = self.idx()
        r = self.client.put("/" + index, {"settings": {"refresh_interval": "-1"}})
        self.assertEqual(r.status, 200, r)
        self.client.bulk(creates(index, events(4)) if not self.es6 else
                         [{"create": dict(a["create"], _type="_doc")} if "create" in a
                          else a for a in creates(index, events(4))], refresh=None)
        self.assertEqual(self.client.get("/%s/_count" % index).json["count"], 0)
        r = self.client.post("/%s/_refresh" % index)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["_shards"]["failed"], 0)
        self.assertEqual(self.client.get("/%s/_count" % index).json["count"], 4)

    def test_settings_roundtrip(self):
        index = self.idx()
        self.client.put("/" + index, {})
        r = self.client.put("/%s/_settings" % index, {"index": {
            "refresh_interval": "-1", "number_of_replicas": 0}})
        self.assertEqual((r.status, r.json), (200, {"acknowledged": True}))
        s = self.client.get("/%s/_settings" % index).json[index]["settings"]["index"]
        self.assertEqual(s["refresh_interval"], "-1")
        self.assertEqual(s["number_of_replicas"], "0")
        self.assertIn("uuid", s)
        r = self.client.put("/%s/_settings" % index, {"number_of_shards": 3})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["type"], "illegal_argument_exception")
        r = self.client.put("/%s/_settings" % index, {"refresh_interval": "1s"})
        self.assertEqual(r.status, 200)
        r = self.client.put("/%s/_settings" % self.idx("absent"), {"refresh_interval": "1s"})
        self.assertEqual(r.status, 404)

    # -- templates -------------------------------------------------------------

    def test_index_template_applies_on_auto_creation(self):
        if self.es6:
            self.skipTest("composable templates need ES >= 7.8")
        name = self.prefix + "tmpl"
        self.templates.append(("_index_template", name))
        r = self.client.put("/_index_template/" + name, {
            "index_patterns": [self.prefix + "ct-*"], "priority": 500,
            "template": {"settings": {"number_of_replicas": 0},
                         "mappings": {"dynamic": False, "properties": {
                             "eventName": {"type": "keyword"},
                             "eventTime": {"type": "date"}}},
                         "aliases": {self.prefix + "ct": {}}}})
        self.assertEqual((r.status, r.json), (200, {"acknowledged": True}))
        index = self.prefix + "ct-2024.01"
        self.load(index, events(2))
        m = self.mapping_of(index)
        self.assertEqual(m["properties"]["eventName"], {"type": "keyword"})
        self.assertNotIn("eventSource", m["properties"])
        # Unmapped fields stay in _source but are not searchable.
        body = self.search(self.prefix + "ct", {"query": {"term": {
            "eventSource": "sts.amazonaws.com"}}})
        self.assertEqual(self.total(body), 0)
        body = self.search(self.prefix + "ct", {"query": {"term": {
            "eventName": "AssumeRole"}}})
        self.assertEqual(self.total(body), 2)
        self.assertEqual(body["hits"]["hits"][0]["_source"]["eventSource"],
                         "sts.amazonaws.com")
        got = self.client.get("/_index_template/" + name).json
        self.assertEqual(got["index_templates"][0]["name"], name)
        self.assertEqual(got["index_templates"][0]["index_template"]["index_patterns"],
                         [self.prefix + "ct-*"])
        missing = self.client.get("/_index_template/%snope" % self.prefix)
        self.assertEqual(missing.status, 404)

    def test_legacy_template(self):
        name = self.prefix + "legacy"
        self.templates.append(("_template", name))
        props = {"eventName": {"type": "keyword"}}
        mappings = {"_doc": {"properties": props}} if self.es6 else {"properties": props}
        r = self.client.put("/_template/" + name, {
            "index_patterns": [self.prefix + "old-*"], "order": 1,
            "mappings": mappings})
        self.assertEqual((r.status, r.json), (200, {"acknowledged": True}))
        index = self.prefix + "old-1"
        self.load(index, events(1))
        self.assertEqual(self.mapping_of(index)["properties"]["eventName"],
                         {"type": "keyword"})
        got = self.client.get("/_template/" + name).json[name]
        self.assertEqual(got["index_patterns"], [self.prefix + "old-*"])
        self.assertEqual(got["mappings"], mappings)

    # -- scroll and point in time ---------------------------------------------

    def test_scroll_pages_and_clear(self):
        index = self.idx()
        # Two shards: clearing the scroll frees one search context per shard.
        self.client.put("/" + index, {"settings": {"number_of_shards": 2}})
        self.load(index, events(25))
        first = self.search(index, {"size": 10, "sort": ["_doc"]}, params="?scroll=1m")
        sid = first["_scroll_id"]
        got = [h["_id"] for h in first["hits"]["hits"]]
        sizes = [len(got)]
        while True:
            r = self.client.post("/_search/scroll", {"scroll": "1m", "scroll_id": sid})
            self.assertEqual(r.status, 200, r)
            page = r.json["hits"]["hits"]
            sizes.append(len(page))
            if not page:
                break
            got += [h["_id"] for h in page]
            sid = r.json["_scroll_id"]
        self.assertEqual(sizes, [10, 10, 5, 0])
        self.assertEqual(sorted(got), sorted("evt-%04d" % i for i in range(25)))
        r = self.client.delete("/_search/scroll", {"scroll_id": [sid]})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, {"succeeded": True, "num_freed": 2})
        r = self.client.post("/_search/scroll", {"scroll": "1m", "scroll_id": sid})
        self.assertEqual(r.status, 404)
        self.assertIn("search_context_missing_exception", json.dumps(r.json))

    def test_point_in_time(self):
        index = self.idx()
        self.load(index, events(5))
        if self.engine == "opensearch":
            if self.version < (2, 4):
                self.skipTest("PIT needs OpenSearch >= 2.4")
            r = self.client.post("/%s/_search/point_in_time?keep_alive=1m" % index)
            self.assertEqual(r.status, 200, r)
            pit = r.json["pit_id"]
            self.assertIn("creation_time", r.json)
        else:
            if self.version < (7, 10):
                self.skipTest("PIT needs ES >= 7.10")
            r = self.client.post("/%s/_pit?keep_alive=1m" % index)
            self.assertEqual(r.status, 200, r)
            pit = r.json["id"]
        # Writes after opening are not seen through the PIT.
        self.load(index, events(1, eventID="later"))
        body = {"size": 2, "sort": [{"eventTime": "asc"}],
                "pit": {"id": pit, "keep_alive": "1m"}}
        seen = []
        while True:
            r = self.client.post("/_search", body)
            self.assertEqual(r.status, 200, r)
            self.assertIn("pit_id", r.json)
            hits = r.json["hits"]["hits"]
            if not hits:
                break
            seen += [h["_id"] for h in hits]
            body = dict(body, search_after=hits[-1]["sort"],
                        pit={"id": r.json["pit_id"], "keep_alive": "1m"})
        self.assertEqual(seen, ["evt-%04d" % i for i in range(5)])
        r = self.client.post("/%s/_search" % index, {"pit": {"id": pit}})
        self.assertEqual(r.status, 400)
        if self.engine == "opensearch":
            r = self.client.delete("/_search/point_in_time", {"pit_id": [pit]})
            self.assertEqual(r.json["pits"], [{"successful": True, "pit_id": pit}])
        else:
            r = self.client.delete("/_pit", {"id": pit})
            self.assertEqual(r.json, {"succeeded": True, "num_freed": 1})


class CommonEs6(CommonTests, unittest.TestCase):
    FLAVOR = "es6"


class CommonEs7(CommonTests, unittest.TestCase):
    FLAVOR = "es7"


class CommonEs8(CommonTests, unittest.TestCase):
    FLAVOR = "es8"


class CommonOs2(CommonTests, unittest.TestCase):
    FLAVOR = "os2"


class CommonRealCluster(CommonTests, unittest.TestCase):
    """The same tests against CLOUDTRACKER_TEST_ES_URL (skipped when unset)."""
    FLAVOR = None


# ---------------------------------------------------------------------------
# Server-only tests
# ---------------------------------------------------------------------------


class LocalTest(unittest.TestCase):
    """Base for tests that need a fresh local server state."""

    FLAVOR = "es8"
    OPTS = {}

    def setUp(self):
        self.srv = server(self.FLAVOR, **self.OPTS)
        self.srv.reset()
        self.client = Client(self.srv)


class TestFlavors(unittest.TestCase):
    """Exact per-flavor identity and response shapes."""

    def test_info_and_product_header_per_flavor(self):
        expected = {"es6": ("6.8.23", True, False), "es7": ("7.17.22", True, True),
                    "es8": ("8.15.0", True, True), "os2": ("2.11.1", False, False)}
        for flavor, (number, es, header) in expected.items():
            with self.subTest(flavor=flavor):
                c = Client(server(flavor))
                r = c.get("/")
                info = r.json
                self.assertEqual(set(info), {"name", "cluster_name", "cluster_uuid",
                                             "version", "tagline"})
                self.assertEqual(info["version"]["number"], number)
                self.assertEqual("build_flavor" in info["version"], es)
                self.assertEqual("distribution" in info["version"], not es)
                self.assertEqual(r.header("X-Elastic-Product") == "Elasticsearch",
                                 header)
                # The header is on every response of ES >= 7.14, errors too.
                r = c.get("/missing-index")
                self.assertEqual(r.status, 404)
                self.assertEqual(r.header("X-Elastic-Product") == "Elasticsearch",
                                 header)
                head = c.request("HEAD", "/")
                self.assertEqual((head.status, head.data), (200, b""))

    def test_types_in_responses(self):
        for flavor, doc_type in (("es6", "_doc"), ("es7", "_doc"), ("es8", None),
                                 ("os2", None)):
            with self.subTest(flavor=flavor):
                srv = server(flavor)
                srv.reset()
                c = Client(srv)
                meta = {"_index": "t", "_id": "1"}
                if flavor == "es6":
                    meta["_type"] = "_doc"
                r = c.bulk([{"index": meta}, {"a": "b"}])
                item = r.json["items"][0]["index"]
                hit = c.post("/t/_search", {}).json["hits"]["hits"][0]
                for obj in (item, hit):
                    self.assertEqual(obj.get("_type"), doc_type)

    def test_bucket_errors_per_flavor(self):
        for flavor, status, wording in (
                ("es7", 503, "but this number of buckets was exceeded"),
                ("es8", 400, "but this number of buckets was exceeded"),
                ("os2", 503, "but was [")):
            with self.subTest(flavor=flavor):
                srv = server(flavor, max_buckets=3)
                srv.reset()
                c = Client(srv)
                c.bulk([x for i in range(5) for x in (
                    {"index": {"_index": "b", "_id": str(i)}}, {"k": "v%d" % i})])
                r = c.post("/b/_search", {"size": 0, "aggs": {
                    "t": {"terms": {"field": "k.keyword", "size": 10}}}})
                self.assertEqual(r.status, status, r)
                # Counted while reducing: no failed shard, the cause in caused_by.
                err = r.json["error"]
                self.assertEqual((err["type"], err["reason"], err["phase"],
                                  err["failed_shards"]),
                                 ("search_phase_execution_exception", "", "fetch", []))
                self.assertEqual(err["caused_by"]["type"], "too_many_buckets_exception")
                self.assertEqual(err["caused_by"]["max_buckets"], 3)
                self.assertIn(wording, err["caused_by"]["reason"])
                # Composite checks its size before collecting (exact wording).
                r = c.post("/b/_search", {"size": 0, "aggs": {"c": {"composite": {
                    "size": 4, "sources": [{"k": {"terms": {"field": "k.keyword"}}}]}}}})
                self.assertEqual(r.status, status)
                self.assertIn("Must be less than or equal to: [3] but was [4].",
                              r.json["error"]["root_cause"][0]["reason"])
                # Within the limit is fine; the limit is a cluster setting.
                r = c.post("/b/_search", {"size": 0, "aggs": {"c": {"composite": {
                    "size": 3, "sources": [{"k": {"terms": {"field": "k.keyword"}}}]}}}})
                self.assertEqual(r.status, 200)
                r = c.put("/_cluster/settings", {"transient": {"search.max_buckets": 100}})
                self.assertEqual(r.status, 200, r)
                r = c.post("/b/_search", {"size": 0, "aggs": {
                    "t": {"terms": {"field": "k.keyword", "size": 10}}}})
                self.assertEqual(r.status, 200, r)
                c.put("/_cluster/settings", {"transient": {"search.max_buckets": None}})

    def test_rejected_execution_type_per_flavor(self):
        for flavor, type_ in (("es8", "es_rejected_execution_exception"),
                              ("os2", "rejected_execution_exception")):
            with self.subTest(flavor=flavor):
                srv = server(flavor)
                srv.reset()
                srv.fault("429")
                r = Client(srv).get("/")
                self.assertEqual(r.status, 429)
                self.assertEqual(r.json["error"]["type"], type_)
                self.assertEqual(r.json["error"]["root_cause"][0]["type"], type_)
                self.assertEqual(r.json["status"], 429)


class TestEs6(LocalTest):
    FLAVOR = "es6"

    def test_bulk_requires_a_type(self):
        r = self.client.bulk([{"index": {"_index": "x", "_id": "1"}}, {"a": 1}])
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["type"], "action_request_validation_exception")
        self.assertIn("type is missing", r.json["error"]["reason"])
        r = self.client.bulk([{"index": {"_index": "x", "_id": "1"}}, {"a": 1}],
                             path="/x/_doc/_bulk")
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["errors"])

    def test_single_type_per_index(self):
        r = self.client.put("/_template/ct", {"index_patterns": ["ct-*"], "mappings": {
            "doc": {"properties": {"eventName": {"type": "keyword"}}}}})
        self.assertEqual(r.status, 200, r)
        r = self.client.bulk([{"index": {"_index": "ct-1", "_type": "_doc", "_id": "1"}},
                              {"eventName": "A"}])
        item = r.json["items"][0]["index"]
        self.assertEqual(item["status"], 400)
        self.assertIn("more than 1 type: [doc, _doc]", item["error"]["reason"])
        r = self.client.get("/ct-1/_mapping")
        self.assertEqual(r.json, {"ct-1": {"mappings": {"doc": {"properties": {
            "eventName": {"type": "keyword"}}}}}})

    def test_composable_templates_do_not_exist(self):
        r = self.client.put("/_index_template/x", {"index_patterns": ["x-*"]})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["type"], "invalid_index_name_exception")

    def test_pit_does_not_exist_and_shards_default_to_five(self):
        self.client.put("/x", {})
        r = self.client.post("/x/_pit?keep_alive=1m")
        self.assertEqual(r.status, 400)
        s = self.client.get("/x/_settings").json["x"]["settings"]["index"]
        self.assertEqual(s["number_of_shards"], "5")


class TestEs7Before72(LocalTest):
    """--version 7.1.1: an Elasticsearch from before fixed_interval."""
    FLAVOR = "es7"
    OPTS = {"extra_args": ("--version", "7.1.1")}

    def test_date_histogram_takes_interval_only(self):
        self.assertEqual(self.client.get("/").json["version"]["number"], "7.1.1")
        self.client.bulk(creates("x", events(3)))
        r = self.client.post("/x/_search", {"size": 0, "aggs": {"d": {"date_histogram": {
            "field": "eventTime", "fixed_interval": "1d"}}}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["reason"],
                         "[date_histogram] unknown field [fixed_interval], parser not found")
        r = self.client.post("/x/_search", {"size": 0, "aggs": {"d": {"date_histogram": {
            "field": "eventTime", "interval": "1d"}}}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([b["doc_count"] for b in r.json["aggregations"]["d"]["buckets"]], [3])

    def test_version_of_another_major_is_refused(self):
        with self.assertRaises(RuntimeError):
            with running_server("es7", extra_args=("--version", "8.1.0")):
                pass


class TestAggregationShapes(LocalTest):
    """The exact refusals of date_histogram per flavor (believed from
    reported answers; CommonTests checks their status on real clusters)."""

    def answer(self, flavor, params):
        srv = server(flavor)
        srv.reset()
        client = Client(srv)
        return client.post("/x/_search", {"size": 0, "aggs": {"d": {
            "date_histogram": dict({"field": "eventTime"}, **params)}}})

    def test_refusals(self):
        for flavor, params, reason in (
                ("es8", {"interval": "1d"},
                 "[date_histogram] unknown field [interval] did you mean [fixed_interval]?"),
                ("es6", {"fixed_interval": "1d"},
                 "[date_histogram] unknown field [fixed_interval], parser not found"),
                ("es6", {"calendar_interval": "1d"},
                 "[date_histogram] unknown field [calendar_interval], parser not found"),
                ("os2", {"fixed_interval": "1d", "interval": "1d"},
                 "Cannot use [fixed_interval] with [interval] configuration option."),
                ("es7", {"calendar_interval": "3d"},
                 "[date_histogram] failed to parse field [calendar_interval]"),
                ("es7", {"fixed_interval": "1x"},
                 "[date_histogram] failed to parse field [fixed_interval]"),
                ("es8", {}, "Invalid interval specified, must be non-null and non-empty"),
                ("es8", {"fixed_interval": "1d", "min_doc_count": -1},
                 "[minDocCount] must be greater than or equal to 0. Found [-1] in [d]"),
                ("es8", {"fixed_interval": "1d", "bogus": 1},
                 "[date_histogram] unknown field [bogus]")):
            with self.subTest(flavor=flavor, params=params):
                r = self.answer(flavor, params)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json["error"]["reason"], reason)
        # What the server does not implement fails loudly.
        for params in ({"fixed_interval": "1d", "time_zone": "Europe/Paris"},
                       {"calendar_interval": "month"}, {"fixed_interval": "1d", "offset": "1h"}):
            with self.subTest(params=params):
                self.assertEqual(self.answer("es8", params).status, 501)

    def test_global_under_a_parent(self):
        self.client.bulk(creates("x", events(2)))
        r = self.client.post("/x/_search", {"size": 0, "aggs": {"t": {
            "terms": {"field": "awsRegion.keyword"}, "aggs": {"g": {"global": {}}}}}})
        self.assertEqual(r.status, 500, r)
        self.assertEqual(r.json["error"]["root_cause"][0]["reason"],
                         "Aggregation [t] cannot have a global sub-aggregation [g]. Global "
                         "aggregations can only be defined as top level aggregations")

    def test_typed_keys_and_buckets_counted(self):
        self.client.bulk(creates("x", events(3)))
        r = self.client.post("/x/_search?typed_keys=true", {"size": 0, "aggs": {"g": {
            "global": {}, "aggs": {"f": {"filter": {"match_all": {}}, "aggs": {"d": {
                "date_histogram": {"field": "eventTime", "fixed_interval": "1d"}}}}}}}})
        self.assertEqual(r.status, 200, r)
        d = r.json["aggregations"]["global#g"]["filter#f"]["date_histogram#d"]
        self.assertEqual(d["buckets"][0]["doc_count"], 3)
        # Day buckets count against search.max_buckets like any others.
        self.client.put("/_cluster/settings", {"transient": {"search.max_buckets": 2}})
        try:
            r = self.client.post("/x/_search", {"size": 0, "aggs": {"d": {"date_histogram": {
                "field": "eventTime", "fixed_interval": "1s"}}}})
            self.assertEqual(r.status, 400, r)
            self.assertIn("too_many_buckets_exception", json.dumps(r.json))
        finally:
            self.client.put("/_cluster/settings", {"transient": {"search.max_buckets": None}})


class TestEs8(LocalTest):
    FLAVOR = "es8"

    def test_types_are_gone(self):
        r = self.client.bulk([{"index": {"_index": "x", "_type": "_doc", "_id": "1"}},
                              {"a": 1}])
        self.assertEqual(r.status, 400)
        self.assertIn("unknown parameter [_type]", r.json["error"]["reason"])
        r = self.client.put("/y", {"mappings": {"_doc": {"properties": {}}}})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["type"], "mapper_parsing_exception")

    def test_wildcard_delete_needs_names(self):
        self.client.put("/x-1", {})
        r = self.client.delete("/x-*")
        self.assertEqual(r.status, 400)
        self.assertIn("Wildcard expressions or all indices are not allowed",
                      r.json["error"]["reason"])
        self.assertEqual(self.client.delete("/x-1").status, 200)
        self.assertEqual(self.client.delete("/x-1").status, 404)

    def test_unknown_endpoint_and_wrong_method(self):
        r = self.client.get("/_no_such_api")
        self.assertEqual(r.status, 400)
        self.assertIn("no handler found for uri [/_no_such_api] and method [GET]",
                      json.dumps(r.json))
        r = self.client.get("/_bulk")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.json["error"], "Incorrect HTTP method for uri [/_bulk] and "
                                          "method [GET], allowed: [POST, PUT]")
        self.assertEqual(r.header("Allow"), "POST,PUT")

    def test_missing_content_type_is_406(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.putrequest("POST", "/_search", skip_accept_encoding=True)
        conn.putheader("Content-Length", "2")
        conn.endheaders(b"{}")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 406)
        self.assertEqual(json.loads(resp.read()), {
            "error": "Content-Type header is missing", "status": 406})
        conn.close()

    def test_typed_keys_and_filter_path(self):
        self.client.bulk([{"index": {"_index": "x", "_id": "1"}}, {"k": "a", "n": 5}])
        r = self.client.post("/x/_search?typed_keys=true&filter_path=aggregations",
                             {"size": 0, "aggs": {"t": {"terms": {"field": "k.keyword"}},
                                                  "m": {"max": {"field": "n"}}}})
        self.assertEqual(set(r.json["aggregations"]), {"sterms#t", "max#m"})
        self.assertEqual(set(r.json), {"aggregations"})
        r = self.client.post("/x/_search?filter_path=hits.hits._id,hits.total.value", {})
        self.assertEqual(r.json, {"hits": {"total": {"value": 1}, "hits": [{"_id": "1"}]}})

    def test_mapping_limits_and_strict_mode(self):
        self.client.put("/s", {"mappings": {"dynamic": "strict", "properties": {
            "a": {"type": "keyword"}}}})
        r = self.client.bulk([{"index": {"_index": "s", "_id": "1"}}, {"b": 1}])
        err = r.json["items"][0]["index"]["error"]
        self.assertEqual(err["type"], "strict_dynamic_mapping_exception")
        self.assertIn("dynamic introduction of [b] within [_doc]", err["reason"])
        self.client.put("/l", {"settings": {"index.mapping.total_fields.limit": 3}})
        r = self.client.bulk([{"index": {"_index": "l", "_id": "1"}},
                              {"a": 1, "b": 2, "c": 3, "d": 4}])
        err = r.json["items"][0]["index"]["error"]
        self.assertEqual(err["type"], "illegal_argument_exception")
        self.assertIn("Limit of total fields [3]", err["reason"])
        # A failed document leaves the mapping untouched.
        self.assertEqual(self.client.get("/l/_mapping").json["l"]["mappings"], {})

    def test_date_detection_locks_the_type(self):
        r = self.client.bulk([
            {"index": {"_index": "d", "_id": "1"}}, {"requestParameters": {"v": "2012-10-17"}},
            {"index": {"_index": "d", "_id": "2"}}, {"requestParameters": {"v": "latest"}}])
        items = [i["index"] for i in r.json["items"]]
        self.assertEqual([i["status"] for i in items], [201, 400])
        self.assertIn("of type [date]", items[1]["error"]["reason"])
        self.assertIn("failed to parse date field [latest]",
                      items[1]["error"]["caused_by"]["reason"])

    def test_flattened_fields_are_queried_by_key(self):
        self.client.put("/ecs", {"mappings": {"properties": {
            "aws": {"properties": {"flattened": {"properties": {
                "request_parameters": {"type": "flattened"}}}}},
            "event": {"properties": {"action": {"type": "keyword"}}}}}})
        self.client.bulk([{"index": {"_index": "ecs", "_id": "1"}}, {
            "event": {"action": "AssumeRole"},
            "aws": {"flattened": {"request_parameters": {
                "roleArn": "arn:aws:iam::1:role/R", "durationSeconds": 900}}}}])
        r = self.client.post("/ecs/_search", {"query": {"term": {
            "aws.flattened.request_parameters.roleArn": "arn:aws:iam::1:role/R"}},
            "aggs": {"r": {"terms": {
                "field": "aws.flattened.request_parameters.durationSeconds"}}}})
        self.assertEqual(r.json["hits"]["total"]["value"], 1)
        self.assertEqual(r.json["aggregations"]["r"]["buckets"][0]["key"], "900")

    def test_partial_shard_failure_across_indices(self):
        # eventName is keyword in one index and text in the other.
        self.client.put("/k", {"mappings": {"properties": {"eventName": {"type": "keyword"}}}})
        self.client.bulk([{"index": {"_index": "k", "_id": "1"}}, {"eventName": "A"},
                          {"index": {"_index": "t", "_id": "1"}}, {"eventName": "A"}])
        r = self.client.post("/k,t/_search", {"size": 0, "aggs": {
            "n": {"terms": {"field": "eventName"}}}})
        self.assertEqual(r.status, 200, r)
        shards = r.json["_shards"]
        self.assertEqual((shards["total"], shards["successful"], shards["failed"]), (2, 1, 1))
        self.assertEqual(shards["failures"][0]["index"], "t")
        self.assertEqual(r.json["aggregations"]["n"]["buckets"],
                         [{"key": "A", "doc_count": 1}])

    def test_single_document_apis(self):
        r = self.client.put("/d/_doc/1?refresh=true", {"a": 1})
        self.assertEqual(r.status, 201)
        self.assertEqual(r.json["result"], "created")
        r = self.client.put("/d/_create/1", {"a": 2})
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json["error"]["type"], "version_conflict_engine_exception")
        r = self.client.post("/d/_update/1", {"doc": {"b": 2}})
        self.assertEqual((r.status, r.json["result"], r.json["_version"]),
                         (200, "updated", 2))
        self.assertEqual(self.client.get("/d/_doc/1").json["_source"], {"a": 1, "b": 2})
        self.assertEqual(self.client.delete("/d/_doc/1").json["result"], "deleted")
        self.assertEqual(self.client.request("HEAD", "/d/_doc/1").status, 404)


class TestMoreApis(LocalTest):
    """Smaller APIs and options the README promises."""

    def setUp(self):
        super().setUp()
        docs = events(6)
        docs[0]["errorCode"] = "AccessDenied"
        docs[1]["eventName"] = "GetObject"
        docs[2]["eventName"] = "GetObjectAcl"
        self.client.bulk(creates("m", docs))

    def count(self, query):
        return self.client.post("/m/_count", {"query": query}).json["count"]

    def test_more_queries(self):
        self.assertEqual(self.count({"match_phrase": {"userIdentity.arn": "user/alice"}}), 6)
        self.assertEqual(self.count({"match_phrase": {"userIdentity.arn": "alice user"}}), 0)
        self.assertEqual(self.count({"wildcard": {"eventName.keyword": {"value": "Get*Acl"}}}), 1)
        self.assertEqual(self.count({"regexp": {"eventName.keyword": "Get.*"}}), 2)
        self.assertEqual(self.count({"exists": {"field": "error*"}}), 1)
        self.assertEqual(self.count({"exists": {"field": "userIdentity"}}), 6)
        self.assertEqual(self.count({"constant_score": {"filter": {"term": {
            "eventName.keyword": "GetObject"}}}}), 1)
        self.assertEqual(self.count({"range": {"eventTime": {
            "gte": "2024-01-01T00:00:00Z||+2s", "lt": "2024-01-01||+1d/d"}}}), 4)
        self.assertEqual(self.count({"range": {"eventTime": {"lte": "now"}}}), 6)
        self.assertEqual(self.count({"bool": {"should": [
            {"term": {"eventName.keyword": "GetObject"}},
            {"term": {"eventName.keyword": "GetObjectAcl"}},
            {"term": {"errorCode.keyword": "AccessDenied"}}],
            "minimum_should_match": "-1"}}), 0)
        r = self.client.post("/m/_count", {"query": {"range": {"eventTime": {"gte": "junk"}}}})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"]["root_cause"][0]["type"], "query_shard_exception")
        r = self.client.post("/m/_search", {"query": {"query_string": {"query": "x"}}})
        self.assertEqual(r.status, 501)

    def test_more_aggregations(self):
        r = self.client.post("/m/_search", {"size": 0, "aggs": {
            "c": {"composite": {"sources": [{"e": {"terms": {
                "field": "errorCode.keyword", "missing_bucket": True}}}]}},
            "t": {"terms": {"field": "eventName.keyword", "exclude": ["AssumeRole"],
                            "order": {"latest": "desc"}},
                  "aggs": {"latest": {"max": {"field": "eventTime"}}}},
            "n": {"cardinality": {"field": "eventName.keyword"}},
            "v": {"value_count": {"field": "eventID.keyword"}}}})
        self.assertEqual(r.status, 200, r)
        aggs = r.json["aggregations"]
        self.assertEqual(aggs["c"]["buckets"], [
            {"key": {"e": None}, "doc_count": 5},
            {"key": {"e": "AccessDenied"}, "doc_count": 1}])
        self.assertEqual([b["key"] for b in aggs["t"]["buckets"]],
                         ["GetObjectAcl", "GetObject"])
        self.assertEqual((aggs["n"]["value"], aggs["v"]["value"]), (3, 6))
        r = self.client.post("/m/_search", {"size": 0, "aggs": {"x": {"histogram": {
            "field": "eventTime", "interval": 10}}}})
        self.assertEqual(r.status, 501)
        r = self.client.post("/m/_search", {"size": 0, "aggs": {"x": {"nope": {}}}})
        self.assertEqual(r.status, 400)

    def test_url_options(self):
        r = self.client.get("/m/_search?sort=eventID.keyword:desc&size=2"
                            "&_source_includes=eventID&filter_path=-took,-_shards")
        self.assertEqual([h["_source"] for h in r.json["hits"]["hits"]],
                         [{"eventID": "evt-0005"}, {"eventID": "evt-0004"}])
        self.assertNotIn("took", r.json)
        r = self.client.get("/m/_search?pretty")
        self.assertIn(b'\n  "took" : ', r.data)
        r = self.client.get("/_cat/indices?v")
        self.assertTrue(r.data.decode().startswith("health status index"))
        self.assertEqual(self.client.get("/_cat/indices/m?format=json&h=index,docs.count")
                         .json, [{"index": "m", "docs.count": "6"}])
        self.assertEqual(self.client.get("/_cluster/health").json["status"], "green")
        self.assertEqual(self.client.request("HEAD", "/m").status, 200)
        self.assertEqual(self.client.request("HEAD", "/nope").status, 404)

    def test_templates_and_aliases(self):
        c = self.client
        self.assertEqual(c.put("/_component_template/base", {"template": {
            "mappings": {"properties": {"a": {"type": "keyword"}}}}}).status, 200)
        r = c.put("/_index_template/t1", {"index_patterns": ["z-*"], "composed_of": ["base"],
                                          "template": {"aliases": {"z": {}}}})
        self.assertEqual(r.status, 200, r)
        r = c.put("/_index_template/t2", {"index_patterns": ["z-*"]})
        self.assertEqual(r.status, 400)
        self.assertIn("same priority [0]", r.json["error"]["reason"])
        r = c.put("/_index_template/t3", {"index_patterns": ["q-*"], "composed_of": ["nope"]})
        self.assertEqual(r.status, 400)
        c.bulk([{"index": {"_index": "z-1", "_id": "1"}}, {"a": "x", "b": "y"}])
        props = c.get("/z-1/_mapping").json["z-1"]["mappings"]["properties"]
        self.assertEqual(props["a"], {"type": "keyword"})
        self.assertEqual(c.get("/_alias/z").json, {"z-1": {"aliases": {"z": {}}}})
        self.assertEqual(c.request("HEAD", "/_alias/z").status, 200)
        self.assertEqual(c.get("/_alias/nope").status, 404)
        # Writing through an alias of one index goes to that index.
        self.assertEqual(c.put("/z/_doc/2?refresh=true", {"a": "w"}).json["_index"], "z-1")
        c.put("/z-2", {})
        c.put("/z-2/_alias/z", {})
        r = c.put("/z/_doc/3", {"a": "v"})
        self.assertEqual(r.status, 400)
        self.assertIn("no write index is defined for alias [z]", r.json["error"]["reason"])
        self.assertEqual(c.delete("/z-2/_alias/z").status, 200)
        self.assertEqual(c.delete("/_index_template/t1").status, 200)
        self.assertEqual(c.delete("/_index_template/t1").status, 404)

    def test_dynamic_templates_and_updates(self):
        c = self.client
        c.put("/dt", {"mappings": {"dynamic_templates": [{"strings": {
            "match_mapping_type": "string", "mapping": {"type": "keyword"}}}]}})
        c.bulk([{"index": {"_index": "dt", "_id": "1"}}, {"s": "Hello World", "n": 1},
                {"update": {"_index": "dt", "_id": "1"}}, {"doc": {"t": "x"}},
                {"update": {"_index": "dt", "_id": "2"}}, {"doc": {"t": "y"},
                                                           "doc_as_upsert": True},
                {"update": {"_index": "dt", "_id": "3"}}, {"doc": {"t": "z"}}])
        props = c.get("/dt/_mapping").json["dt"]["mappings"]["properties"]
        self.assertEqual(props["s"], {"type": "keyword"})
        self.assertEqual(props["n"], {"type": "long"})
        self.assertEqual(c.get("/dt/_doc/1").json["_source"], {"s": "Hello World", "n": 1,
                                                              "t": "x"})
        self.assertEqual(c.get("/dt/_doc/2").json["_source"], {"t": "y"})
        self.assertEqual(c.get("/dt/_doc/3").status, 404)

    def test_opensearch_pit_listing(self):
        srv = server("os2")
        srv.reset()
        c = Client(srv)
        c.bulk([{"index": {"_index": "p", "_id": "1"}}, {"a": 1}])
        ids = [c.post("/p/_search/point_in_time?keep_alive=5m").json["pit_id"]
               for _ in range(2)]
        listed = c.get("/_search/point_in_time/_all").json["pits"]
        self.assertEqual(sorted(p["pit_id"] for p in listed), sorted(ids))
        self.assertEqual(listed[0]["keep_alive"], 300000)
        r = c.delete("/_search/point_in_time/_all")
        self.assertEqual(sorted(p["pit_id"] for p in r.json["pits"]), sorted(ids))
        r = c.post("/p/_search/point_in_time")
        self.assertEqual(r.status, 400)


class TestRefreshTimer(LocalTest):
    def test_default_interval_makes_writes_visible_after_one_second(self):
        # The refresh clock is stopped and moved by hand: what is visible
        # does not depend on how fast this test runs.
        self.srv.control("POST", "/__clock", {"advance": 0})
        self.client.bulk([{"index": {"_index": "r", "_id": "1"}}, {"a": 1}], refresh=None)
        self.assertEqual(self.client.get("/r/_count").json["count"], 0)
        self.srv.control("POST", "/__clock", {"advance": 0.999})
        self.assertEqual(self.client.get("/r/_count").json["count"], 0)
        self.srv.control("POST", "/__clock", {"advance": 0.001})
        self.assertEqual(self.client.get("/r/_count").json["count"], 1)

    def test_wait_for_refresh(self):
        r = self.client.bulk([{"index": {"_index": "r", "_id": "1"}}, {"a": 1}],
                             refresh="wait_for")
        self.assertNotIn("forced_refresh", r.json["items"][0]["index"])
        self.assertEqual(self.client.get("/r/_count").json["count"], 1)


class TestTemplateMode(LocalTest):
    OPTS = {"mapping": "template"}

    def test_cloudtrail_template_is_installed(self):
        r = self.client.bulk(creates("cloudtrail-2024.01", events(2)) + [
            {"create": {"_index": "cloudtrail-2024.01", "_id": "bad"}},
            {"eventID": "bad", "responseElements": "not an object"}])
        items = [i["create"] for i in r.json["items"]]
        self.assertEqual([i["status"] for i in items], [201, 201, 400])
        self.assertIn("object mapping for [responseElements] tried to parse field "
                      "[responseElements] as object, but found a concrete value",
                      items[2]["error"]["reason"])
        m = self.client.get("/cloudtrail-2024.01/_mapping").json
        props = m["cloudtrail-2024.01"]["mappings"]["properties"]
        self.assertEqual(props["eventName"], {"type": "keyword"})
        r = self.client.post("/cloudtrail-*/_search", {"size": 0, "aggs": {"p": {
            "composite": {"sources": [{"s": {"terms": {"field": "eventSource"}}},
                                      {"n": {"terms": {"field": "eventName"}}}]}}}})
        self.assertEqual(r.json["aggregations"]["p"]["buckets"],
                         [{"key": {"s": "sts.amazonaws.com", "n": "AssumeRole"},
                           "doc_count": 2}])
        s = self.client.get("/cloudtrail-2024.01/_settings").json
        self.assertEqual(s["cloudtrail-2024.01"]["settings"]["index"]["refresh_interval"],
                         "30s")


# ---------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


class TestAuth(unittest.TestCase):
    def test_basic(self):
        srv = server("es8", auth="basic:elastic:s3cr:et")
        c = Client(srv)
        r = c.get("/")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json["error"]["type"], "security_exception")
        self.assertEqual(r.json["error"]["reason"],
                         "missing authentication credentials for REST request [/]")
        self.assertEqual(r.header_all("WWW-Authenticate"),
                         ['Basic realm="security" charset="UTF-8"',
                          'Bearer realm="security"', "ApiKey"])
        self.assertIsNone(r.header("X-Elastic-Product"))
        self.assertEqual(r.json["error"]["header"]["WWW-Authenticate"][0],
                         'Basic realm="security" charset="UTF-8"')
        r = Client(srv, basic("elastic", "wrong")).get("/_cluster/health")
        self.assertEqual(r.status, 401)
        self.assertIn("unable to authenticate user [elastic]", r.json["error"]["reason"])
        r = Client(srv, basic("elastic", "s3cr:et")).get("/")
        self.assertEqual(r.status, 200)
        # Control endpoints bypass authentication.
        self.assertTrue(srv.control("GET", "/__ping")["ok"])

    def test_api_key_and_bearer(self):
        srv = server("es7", auth="apikey:kid:kval")
        good = base64.b64encode(b"kid:kval").decode()
        self.assertEqual(Client(srv, {"Authorization": "ApiKey " + good}).get("/").status,
                         200)
        bad = base64.b64encode(b"kid:nope").decode()
        r = Client(srv, {"Authorization": "ApiKey " + bad}).get("/")
        self.assertEqual(r.status, 401)
        srv = server("es8", auth="bearer:tok123")
        self.assertEqual(Client(srv, {"Authorization": "Bearer tok123"}).get("/").status,
                         200)
        self.assertEqual(Client(srv, {"Authorization": "Bearer x"}).get("/").status, 401)
        self.assertEqual(Client(srv, basic("a", "b")).get("/").status, 401)

    def test_opensearch_challenge_has_no_body(self):
        srv = server("os2", auth="basic:admin:admin")
        r = Client(srv).get("/")
        self.assertEqual((r.status, r.data), (401, b""))
        self.assertEqual(r.header("WWW-Authenticate"), 'Basic realm="OpenSearch Security"')
        self.assertEqual(Client(srv, basic("admin", "admin")).get("/").status, 200)

    def test_log_never_holds_secrets(self):
        srv = server("es8", auth="basic:elastic:topsecret")
        srv.clear_log()
        Client(srv, basic("elastic", "topsecret")).get("/")
        Client(srv, basic("elastic", "wrongsecret")).get("/")
        log = srv.settled_requests()
        self.assertEqual([(e["auth"], e["principal"], e["status"]) for e in log],
                         [("basic", "elastic", 200), ("basic", "elastic", 401)])
        self.assertNotIn("topsecret", json.dumps(log))
        self.assertNotIn("wrongsecret", json.dumps(log))
        encoded = base64.b64encode(b"elastic:topsecret").decode()
        self.assertNotIn(encoded, json.dumps(log))


class IndependentSigner:
    """A SigV4 signer written from the AWS documentation, separately from
    the server's verifier, so a shared misunderstanding is less likely."""

    def __init__(self, access, secret, region, service, token=None):
        self.access, self.secret = access, secret
        self.region, self.service, self.token = region, service, token

    @staticmethod
    def _uri(path):
        # Each segment as sent on the wire, URI-encoded once more (non-S3).
        segments = path.split("/")
        return "/".join(urllib.parse.quote(s, safe="~") for s in segments) or "/"

    @staticmethod
    def _query(query):
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        enc = sorted((urllib.parse.quote(k, safe="~"), urllib.parse.quote(v, safe="~"))
                     for k, v in pairs)
        return "&".join(k + "=" + v for k, v in enc)

    def headers(self, method, host, path, query="", body=b"", when=None,
                content_sha=False, extra=None, verbatim=False):
        when = when or datetime.datetime.now(datetime.timezone.utc)
        amz_date = when.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        payload = hashlib.sha256(body).hexdigest()
        hdrs = {"host": host, "x-amz-date": amz_date}
        if content_sha:
            hdrs["x-amz-content-sha256"] = payload
        if self.token:
            hdrs["x-amz-security-token"] = self.token
        hdrs.update({k.lower(): v for k, v in (extra or {}).items()})
        names = sorted(hdrs)
        canonical = "\n".join([
            method,
            path if verbatim else self._uri(path),
            query if verbatim else self._query(query),
            "".join("%s:%s\n" % (n, " ".join(hdrs[n].split())) for n in names),
            ";".join(names), payload])
        scope = "%s/%s/%s/aws4_request" % (day, self.region, self.service)
        to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (
            amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest())
        key = ("AWS4" + self.secret).encode()
        for part in (day, self.region, self.service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        out = {k: v for k, v in hdrs.items() if k != "host"}
        out["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                                "Signature=%s" % (self.access, scope, ";".join(names), sig))
        return out


class TestSigV4(unittest.TestCase):
    ACCESS, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    def setUp(self):
        self.srv = server("os2", auth="sigv4:%s:%s:eu-west-1:es" % (self.ACCESS, self.SECRET))
        self.srv.reset()
        self.host = "127.0.0.1:%d" % self.srv.port
        self.signer = IndependentSigner(self.ACCESS, self.SECRET, "eu-west-1", "es")

    def send(self, method, path, query="", body=b"", signer=None, sign_path=None,
             sign_query=None, sign_body=None, ctype="application/json", **kw):
        signer = signer or self.signer
        hdrs = signer.headers(method, self.host, sign_path if sign_path is not None
                              else path, sign_query if sign_query is not None else query,
                              sign_body if sign_body is not None else body, **kw)
        if body:
            hdrs["Content-Type"] = ctype
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.request(method, path + ("?" + query if query else ""), body=body or None,
                     headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, json.loads(data) if data else None

    def test_documented_aws_example(self):
        # The worked example of the AWS "Signature Version 4 signing process"
        # documentation (IAM ListUsers, 2015-08-30).
        headers = [("Host", "iam.amazonaws.com"),
                   ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                   ("X-Amz-Date", "20150830T123600Z"),
                   ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
                    "us-east-1/iam/aws4_request, SignedHeaders=content-type;host;"
                    "x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82"
                    "c400e06b5924a6f2b5d7")]
        creds = es_sigv4.Credentials(self.ACCESS, self.SECRET, "us-east-1", "iam")
        when = datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.timezone.utc)
        detail = es_sigv4.verify("GET", "/", "Action=ListUsers&Version=2010-05-08",
                                 headers, b"", creds, now=when)
        self.assertEqual(hashlib.sha256(detail["canonical_request"].encode()).hexdigest(),
                         "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")

    def test_signed_requests_pass(self):
        self.assertEqual(self.send("GET", "/")[0], 200)
        body = json.dumps({"query": {"match_all": {}}}).encode()
        status, resp = self.send("POST", "/cloudtrail-*/_search",
                                 query="size=0&allow_no_indices=true", body=body)
        self.assertEqual(status, 200, resp)
        status, _ = self.send("POST", "/a%2Cb/_search", query="ignore_unavailable=true",
                              body=body, content_sha=True)
        self.assertEqual(status, 200)
        bulk = b'{"index":{"_index":"x","_id":"1"}}\n{"a":"b c"}\n'
        status, resp = self.send("POST", "/_bulk", query="refresh=true", body=bulk,
                                 ctype="application/x-ndjson")
        self.assertEqual((status, resp["errors"]), (200, False))

    def test_bad_signatures_are_refused(self):
        mismatch = {"message": es_sigv4.MISMATCH}
        wrong = IndependentSigner(self.ACCESS, "not-the-secret", "eu-west-1", "es")
        self.assertEqual(self.send("GET", "/", signer=wrong), (403, mismatch))
        body = b'{"size":0}'
        self.assertEqual(self.send("POST", "/_search", body=body,
                                   sign_body=b'{"size":1}'), (403, mismatch))
        # libcurl 7.88 signs the path and query verbatim: '*' unencoded and the
        # query unsorted, which the service rejects.
        self.assertEqual(self.send("POST", "/cloudtrail-*/_search", query="size=0&from=0",
                                   body=body, verbatim=True), (403, mismatch))
        status, resp = self.send("GET", "/", signer=IndependentSigner(
            "AKIDOTHER", self.SECRET, "eu-west-1", "es"))
        self.assertEqual((status, resp["message"]),
                         (403, "The security token included in the request is invalid."))
        status, resp = self.send("GET", "/", signer=IndependentSigner(
            self.ACCESS, self.SECRET, "us-east-1", "es"))
        self.assertEqual(status, 403)
        self.assertIn("valid region", resp["message"])
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        status, resp = self.send("GET", "/", when=old)
        self.assertEqual(status, 403)
        self.assertTrue(resp["message"].startswith("Signature expired"))
        r = Client(self.srv).get("/")
        self.assertEqual((r.status, r.json), (403, {
            "Message": "User: anonymous is not authorized to perform: es:ESHttpGet"}))
        # The log shows why a signature failed, without the secret.
        log = self.srv.settled_requests()
        failed = [e for e in log if e.get("sigv4")]
        self.assertTrue(failed)
        self.assertIn("/cloudtrail-%2A/_search", json.dumps(failed))
        self.assertNotIn(self.SECRET, json.dumps(log))

    def test_session_token_and_serverless(self):
        srv = server("os2", auth="sigv4:%s:%s:eu-west-1:aoss:TOKEN1" % (
            self.ACCESS, self.SECRET))
        self.srv, self.host = srv, "127.0.0.1:%d" % srv.port
        signer = IndependentSigner(self.ACCESS, self.SECRET, "eu-west-1", "aoss", "TOKEN1")
        self.assertEqual(self.send("GET", "/", signer=signer, content_sha=True)[0], 200)
        status, resp = self.send("GET", "/", signer=signer)
        self.assertEqual(status, 403)
        self.assertIn("x-amz-content-sha256", resp["message"])
        other = IndependentSigner(self.ACCESS, self.SECRET, "eu-west-1", "aoss", "TOKEN2")
        self.assertEqual(self.send("GET", "/", signer=other, content_sha=True)[0], 403)


# ---------------------------------------------------------------------------
# Fault injection and the request log
# ---------------------------------------------------------------------------


class TestFaults(LocalTest):
    def raw(self, method, path, body=None, timeout=10, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=timeout)
        self.addCleanup(conn.close)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        return conn, conn.getresponse()

    def test_status_faults_affect_the_next_n_requests(self):
        self.srv.fault("503", count=2)
        self.assertEqual([self.client.get("/").status for _ in range(3)], [503, 503, 200])
        self.srv.fault("500")
        r = self.client.get("/")
        self.assertEqual((r.status, r.json["error"]["type"]), (500, "exception"))
        self.srv.fault("502")
        r = self.client.get("/")
        self.assertEqual(r.status, 502)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.srv.fault("429", path="_bulk")
        self.assertEqual(self.client.get("/").status, 200)
        r = self.client.bulk([{"index": {"_index": "x"}}, {"a": 1}])
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Retry-After"), "1")
        self.assertEqual(self.client.get("/x/_count").status, 404)

    def test_stall_outlasts_a_client_timeout(self):
        # Held until the faults are cleared: longer than any client waits.
        self.srv.fault("stall", seconds=600)
        with self.assertRaises((socket.timeout, TimeoutError, urllib.error.URLError)):
            self.client.get("/", timeout=0.5)
        self.assertEqual(self.client.get("/").status, 200)
        # The request given up on is still being answered: the settled log
        # waits for it once the stall is over.
        self.srv.control("DELETE", "/__faults")
        log = self.srv.settled_requests()
        self.assertEqual([(e["path"], e["fault"], e["status"]) for e in log],
                         [("/", None, 200), ("/", "stall", 200)])

    def test_clearing_faults_ends_a_stall(self):
        self.srv.fault("stall", seconds=600)
        done = []
        t = threading.Thread(target=lambda: done.append(self.client.get("/", timeout=60)))
        t.start()
        # Until the request is held the fault is pending; then it is used up.
        while self.srv.control("GET", "/__faults")["faults"]:
            time.sleep(0.01)
        self.srv.control("DELETE", "/__faults")
        t.join(60)
        self.assertEqual([r.status for r in done], [200])

    def test_truncated_body(self):
        self.srv.fault("truncate")
        conn, resp = self.raw("GET", "/")
        self.assertEqual(resp.status, 200)
        with self.assertRaises(http.client.IncompleteRead):
            resp.read()
        conn.close()

    def test_closed_connection(self):
        self.srv.fault("close")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.raw("GET", "/")
        self.assertEqual(self.client.get("/").status, 200)

    def test_partial_shards_and_timed_out(self):
        self.client.bulk([{"index": {"_index": "x", "_id": "1"}}, {"a": 1}])
        self.srv.fault("partial_shards")
        body = self.client.post("/x/_search", {}).json
        shards = body["_shards"]
        self.assertEqual((shards["total"], shards["successful"], shards["failed"]), (2, 1, 1))
        self.assertEqual(shards["failures"][0]["reason"]["type"],
                         "node_not_connected_exception")
        self.srv.fault("timed_out")
        self.assertTrue(self.client.post("/x/_search", {}).json["timed_out"])
        self.assertFalse(self.client.post("/x/_search", {}).json["timed_out"])

    def test_bulk_item_faults(self):
        self.srv.fault("bulk_item_429", items=[1, 3])
        actions = []
        for i in range(4):
            actions += [{"create": {"_index": "x", "_id": str(i)}}, {"n": i}]
        body = self.client.bulk(actions).json
        self.assertTrue(body["errors"])
        statuses = [i["create"]["status"] for i in body["items"]]
        self.assertEqual(statuses, [201, 429, 201, 429])
        self.assertEqual(body["items"][1]["create"]["error"]["type"],
                         "es_rejected_execution_exception")
        # Retrying only the failed items completes the load.
        retry = actions[2:4] + actions[6:8]
        body = self.client.bulk(retry).json
        self.assertFalse(body["errors"])
        self.assertEqual(self.client.get("/x/_count").json["count"], 4)
        self.srv.fault("bulk_item_500", every=2)
        body = self.client.bulk([x for i in range(4) for x in (
            {"index": {"_index": "y", "_id": str(i)}}, {"n": i})]).json
        self.assertEqual([i["index"]["status"] for i in body["items"]], [500, 201, 500, 201])

    def test_reason_of_injected_errors(self):
        reason = "bad \x1b[31m \\ \r\n"
        for kind in ("429", "500", "503"):
            with self.subTest(kind=kind):
                self.srv.fault(kind, reason=reason)
                r = self.client.get("/")
                self.assertEqual((r.status, r.json["error"]["reason"]), (int(kind), reason))
        self.client.bulk([{"index": {"_index": "x", "_id": "1"}}, {"a": 1}])
        self.srv.fault("partial_shards", reason=reason)
        shards = self.client.post("/x/_search", {}).json["_shards"]
        self.assertEqual(shards["failures"][0]["reason"]["reason"], reason)

    def test_gzip_bomb_and_huge_body(self):
        size = 5 << 20
        self.srv.clear_log()
        self.srv.fault("gzip_bomb", path="_search", bytes=size)
        # Sent gzipped even to a client that did not ask for it.
        conn, resp = self.raw("POST", "/_search", body="{}")
        self.assertEqual((resp.status, resp.getheader("Content-Encoding")), (200, "gzip"))
        wire = resp.read()
        self.assertLess(len(wire), size // 100)
        body = gzip.decompress(wire)
        self.assertEqual(len(body), size)
        self.assertEqual(json.loads(body), {"timed_out": False})
        self.srv.fault("huge_body", path="_search", bytes=size)
        conn, resp = self.raw("POST", "/_search", body="{}")
        self.assertEqual(resp.getheader("Content-Encoding"), None)
        self.assertEqual(int(resp.getheader("Content-Length")), size)
        body = resp.read()
        self.assertEqual((len(body), json.loads(body)), (size, {"timed_out": False}))
        log = self.srv.settled_requests()
        self.assertEqual([(e["fault"], e["status"], e["response_bytes"], "error" in e)
                          for e in log],
                         [("gzip_bomb", 200, size, False), ("huge_body", 200, size, False)])
        # A client that stops reading: the server's writes fail, which the
        # log says.
        self.srv.clear_log()
        self.srv.fault("huge_body", path="_search", bytes=256 << 20)
        conn, resp = self.raw("POST", "/_search", body="{}")
        resp.read(1000)
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
        log = self.srv.settled_requests()
        self.assertEqual(len(log), 1)
        self.assertIn("error", log[0])

    def test_bad_fault_spec(self):
        req = urllib.request.Request(self.srv + "/__fault", data=b'{"kind":"nope"}',
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=5)
        self.assertEqual(ctx.exception.code, 400)


class TestRequestLogAndTransport(LocalTest):
    def test_log_counts_round_trips(self):
        self.srv.clear_log()
        self.client.get("/")
        self.client.post("/_search?size=0", {"query": {"match_all": {}}})
        self.srv.control("GET", "/__faults")  # control calls are not logged
        log = self.srv.settled_requests()
        self.assertEqual([(e["method"], e["path"], e["status"]) for e in log],
                         [("GET", "/", 200), ("POST", "/_search", 200)])
        self.assertEqual(log[1]["query"], {"size": "0"})
        self.assertEqual(log[1]["body_bytes"], len(b'{"query": {"match_all": {}}}'))
        self.assertEqual(log[1]["auth"], "none")
        # The composite sources of each composite aggregation, in order.
        self.client.post("/_search", {"size": 0, "aggs": {
            "c": {"composite": {"sources": [{"a": {"terms": {"field": "x"}}}]}},
            "t": {"terms": {"field": "x"}},
            "c1": {"composite": {"sources": [{"b": {"terms": {"field": "y"}}},
                                             {"c": {"terms": {"field": "z"}}}]}}}})
        self.assertEqual(self.srv.settled_requests()[-1]["composite_sources"], ["a", "b", "c"])
        # Header names only (values can be secrets); the answer's size.
        self.assertIn("content-type", log[1]["headers"])
        self.assertEqual(log[0]["response_bytes"], len(self.client.get("/").data))

    def test_keep_alive_reuses_one_connection(self):
        self.srv.clear_log()
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        conn.close()
        self.assertEqual(len({e["connection"] for e in self.srv.settled_requests()}), 1)

    def test_expect_100_continue_chunked_and_gzip_bodies(self):
        body = (json.dumps({"index": {"_index": "big"}}) + "\n" +
                json.dumps({"pad": "x" * 1000}) + "\n") * 50
        data = body.encode()
        # Expect: 100-continue, the way libcurl sends bodies over 1 MiB.
        sock = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        sock.sendall(("POST /_bulk HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/x-ndjson\r\nContent-Length: %d\r\nExpect: "
                      "100-continue\r\n\r\n" % len(data)).encode())
        interim = sock.recv(100)
        self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue"), interim)
        sock.sendall(data)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:100])
        sock.close()
        # Chunked transfer encoding (libcurl with a read callback).
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        conn.request("POST", "/_bulk?refresh=true", body=iter([data[:5000], data[5000:]]),
                     headers={"Content-Type": "application/x-ndjson",
                              "Transfer-Encoding": "chunked"}, encode_chunked=True)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertFalse(json.loads(resp.read())["errors"])
        # A gzip-compressed body, and a gzip response when asked for.
        conn.request("POST", "/big/_count", body=gzip.compress(b'{"query":{"match_all":{}}}'),
                     headers={"Content-Type": "application/json",
                              "Content-Encoding": "gzip", "Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        self.assertEqual(resp.getheader("Content-Encoding"), "gzip")
        # 50 documents from each of the two bulk requests above.
        self.assertEqual(json.loads(gzip.decompress(resp.read()))["count"], 100)
        conn.close()
        log = self.srv.settled_requests()
        self.assertTrue(log[0]["expect_100"])
        self.assertEqual(log[-1]["content_encoding"], "gzip")

    def test_request_log_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "requests.jsonl")
            with running_server("es7", request_log=path) as url:
                Client(url).get("/")
                Client(url).get("/_cluster/health")
            with open(path) as fh:
                lines = [json.loads(line) for line in fh]
        self.assertEqual([e["path"] for e in lines], ["/", "/_cluster/health"])
        self.assertEqual([e["seq"] for e in lines], [1, 2])

    def test_body_too_large(self):
        with running_server("es8", extra_args=["--max-content-length", "100"]) as url:
            r = Client(url).post("/_search", {"query": {"match_all": {}}, "pad": "x" * 200})
            self.assertEqual(r.status, 413)

    def test_tls(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl is not installed")
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "1", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
            with running_server("es8", tls=(cert, key)) as url:
                self.assertTrue(url.startswith("https://"))
                r = Client(url, ssl_context=url.ssl_context).get("/")
                self.assertEqual(r.status, 200)
                with self.assertRaises(urllib.error.URLError):
                    Client(url, ssl_context=ssl.create_default_context()).get("/")


# ---------------------------------------------------------------------------
# Command line and process lifetime
# ---------------------------------------------------------------------------


class TestProcess(unittest.TestCase):
    def test_cli_port_file_and_sigterm(self):
        with tempfile.TemporaryDirectory() as tmp:
            port_file = os.path.join(tmp, "port")
            proc = subprocess.Popen([sys.executable, os.path.join(HERE, "es_server.py"),
                                     "--flavor", "os2", "--port", "0", "--port-file",
                                     port_file], stdout=subprocess.PIPE, text=True)
            try:
                line = proc.stdout.readline()
                self.assertRegex(line, r"^listening on \d+$")
                port = int(line.split()[-1])
                with open(port_file) as fh:
                    self.assertEqual(int(fh.read()), port)
                info = Client("http://127.0.0.1:%d" % port).get("/").json
                self.assertEqual(info["version"]["distribution"], "opensearch")
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=10), 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()

    def test_bad_arguments(self):
        r = subprocess.run([sys.executable, os.path.join(HERE, "es_server.py"),
                            "--auth", "kerberos:x"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown auth mode", r.stderr)

    def test_server_stops_when_the_test_fails(self):
        proc = None
        with self.assertRaises(AssertionError):
            with running_server("es8") as url:
                proc = url.process
                self.assertEqual(Client(url).get("/").status, 200)
                raise AssertionError("a failing test")
        self.assertIsNotNone(proc.poll())


# ---------------------------------------------------------------------------
# Durability: --data-dir, kill -9 and restart
# ---------------------------------------------------------------------------


class TestDurability(unittest.TestCase):
    """What the server acknowledged survives SIGKILL and a restart with the
    same --data-dir, with the same versions and sequence numbers."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="es-data-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def snapshot(self, client, indices, ids):
        """Everything a client can see of the state (searchable state once
        refreshed, as after a restart)."""
        out = {}
        for path in ["/_cat/indices?format=json&h=index,uuid,pri,rep",
                     "/_cluster/settings", "/_alias", "/_template"] + \
                ["/%s" % i for i in indices] + \
                ["/%s/_mapping" % i for i in indices]:
            r = client.get(path)
            self.assertEqual(r.status, 200, (path, r))
            out[path] = r.json
        for path in ("/_index_template", "/_component_template"):
            r = client.get(path)
            out[path] = r.json if r.status == 200 else r.status
        out["mget"] = client.post("/_mget", {"docs": [
            {"_index": i, "_id": d} for i in indices for d in ids]}).json
        client.post("/_refresh")
        for i in indices:
            out["count " + i] = client.get("/%s/_count" % i).json["count"]
            out["search " + i] = [
                (h["_id"], h["_source"]) for h in client.post(
                    "/%s/_search" % i, {"size": 100, "sort": ["_doc"]}).json[
                        "hits"]["hits"]]
        return out

    def test_acknowledged_state_survives_kill_9(self):
        with running_server("es8", data_dir=self.tmp) as srv:
            c = Client(srv)
            ok = [
                c.put("/_component_template/base", {"template": {"settings": {
                    "number_of_replicas": 0}}}),
                c.put("/_index_template/ct", {"index_patterns": ["ct-*"],
                                              "composed_of": ["base"], "priority": 5,
                                              "template": {"mappings": {"properties": {
                                                  "eventName": {"type": "keyword"}}}}}),
                c.put("/_template/legacy", {"index_patterns": ["old-*"], "order": 1,
                                            "settings": {"number_of_shards": 2}}),
                c.put("/_cluster/settings", {"persistent": {"search.max_buckets": 500},
                                             "transient": {"action.auto_create_index":
                                                           "true"}}),
                c.put("/explicit", {"settings": {"refresh_interval": "-1"},
                                    "mappings": {"properties": {"n": {"type": "long"}}},
                                    "aliases": {"ex": {}}}),
                c.bulk(creates("ct-1", events(6)), refresh=None),
                c.put("/ct-1/_settings", {"index": {"refresh_interval": "30s"}}),
                c.put("/ct-1/_mapping", {"properties": {"extra": {"type": "keyword"}}}),
                c.post("/_aliases", {"actions": [{"add": {"index": "ct-1",
                                                          "alias": "ct"}}]}),
                c.put("/explicit/_doc/a", {"n": 1, "s": "x"}),
                c.post("/explicit/_update/a", {"doc": {"n": 2}}),
                c.put("/explicit/_doc/b", {"n": 3}),
                c.delete("/explicit/_doc/b"),
                c.delete("/explicit/_doc/never"),
                c.put("/old-1/_doc/1", {"v": 1}),
                c.put("/gone", {}),
                c.delete("/gone"),
                c.delete("/_template/nothing-here"),   # a 404: nothing changes
            ]
            # Deleting a missing document is a 404 that still takes a sequence
            # number and a version, as in ES.
            self.assertEqual([r.status for r in ok if r.status >= 300], [404, 404],
                             [r for r in ok if r.status >= 300])
            self.assertEqual(ok[13].json["result"], "not_found")
            indices = ["ct-1", "explicit", "old-1"]
            ids = ["evt-%04d" % i for i in range(7)] + ["a", "b", "1", "never"]
            before = self.snapshot(c, indices, ids)
            old_process = srv.process
            srv.kill()
            self.assertEqual(old_process.returncode, -signal.SIGKILL)
            srv.restart()
            self.assertIsNot(srv.process, old_process)
            after = self.snapshot(c, indices, ids)
            self.assertEqual(before, after)
            self.assertEqual(c.get("/gone").status, 404)
            # Writes go on from the replayed sequence numbers and versions.
            r = c.put("/explicit/_doc/a", {"n": 9})
            self.assertEqual((r.json["_version"], r.json["_seq_no"]), (3, 5), r)
            r = c.put("/explicit/_doc/b", {"n": 9})
            self.assertEqual((r.json["_version"], r.json["result"]), (3, "created"), r)
            # A second crash right away loses nothing either.
            srv.restart()
            self.assertEqual(c.get("/explicit/_doc/b").json["_version"], 3)
            self.assertEqual(c.get("/_cluster/settings?flat_settings=true").json[
                "persistent"], {"search.max_buckets": "500"})

    def test_bulk_replays_only_the_items_that_succeeded(self):
        with running_server("es7", data_dir=self.tmp) as srv:
            c = Client(srv)
            self.assertFalse(c.bulk(creates("b", events(2)), refresh=None)
                             .json["errors"])
            srv.fault("bulk_item_429", items=[1])
            actions = creates("b", events(4))            # 0, 1 exist: 409s
            actions += [{"create": {"_index": "b", "_id": "bad"}},
                        {"userIdentity": "a string, not an object"},   # 400
                        {"index": {"_index": "b", "_id": "evt-0000"}},
                        {"eventName": "Reindexed"},
                        {"delete": {"_index": "b", "_id": "evt-0001"}}]
            body = c.bulk(actions, refresh=None).json
            statuses = [next(iter(i.values()))["status"] for i in body["items"]]
            self.assertEqual(statuses, [409, 429, 201, 201, 400, 200, 200])
            ids = ["evt-%04d" % i for i in range(4)] + ["bad"]
            before = c.post("/b/_mget", {"ids": ids}).json
            mapping = c.get("/b/_mapping").json
            srv.kill()
            srv.restart()
            self.assertEqual(c.post("/b/_mget", {"ids": ids}).json, before)
            self.assertEqual(c.get("/b/_mapping").json, mapping)
            found = [d["_id"] for d in before["docs"] if d["found"]]
            self.assertEqual(found, ["evt-0000", "evt-0002", "evt-0003"])
            self.assertEqual(c.get("/b/_count").json["count"], 3)
            # evt-0001 was never written by the faulted item: its create now works.
            r = c.put("/b/_create/evt-0001", {"eventName": "Late"})
            self.assertEqual((r.status, r.json["_version"]), (201, 3), r)

    def test_empty_data_dir_is_an_empty_cluster(self):
        with running_server("os2", data_dir=self.tmp) as srv:
            c = Client(srv)
            self.assertEqual(c.get("/_cat/indices?format=json").json, [])
            c.bulk(creates("x", events(3)))
            c.put("/_index_template/t", {"index_patterns": ["t-*"]})
            srv.kill()
            for name in os.listdir(self.tmp):
                os.unlink(os.path.join(self.tmp, name))
            srv.restart()
            self.assertEqual(c.get("/_cat/indices?format=json").json, [])
            self.assertEqual(c.get("/_index_template/t").status, 404)
            # POST /__reset empties the data dir's cluster too.
            c.bulk(creates("y", events(1)))
            srv.reset()
            srv.restart()
            self.assertEqual(c.get("/_cat/indices?format=json").json, [])

    def test_template_mode_and_es6_types(self):
        with running_server("es6", data_dir=self.tmp, mapping="template") as srv:
            c = Client(srv)
            c.delete("/_template/cloudtrail")
            r = c.bulk([{"index": {"_index": "cloudtrail-1", "_type": "event",
                                   "_id": "1"}}, {"eventName": "A"}])
            self.assertFalse(r.json["errors"], r)
            srv.restart()
            self.assertEqual(c.get("/_template/cloudtrail").status, 404)
            r = c.get("/cloudtrail-1/event/1")
            self.assertEqual((r.status, r.json["_type"], r.json["_version"]),
                             (200, "event", 1), r)
            self.assertIn("event", c.get("/cloudtrail-1/_mapping").json[
                "cloudtrail-1"]["mappings"])

    def test_torn_last_entry_and_other_flavor(self):
        with running_server("es8", data_dir=self.tmp) as srv:
            c = Client(srv)
            c.put("/x/_doc/1", {"a": 1})
            srv.kill()
            with open(os.path.join(self.tmp, "journal.jsonl"), "ab") as fh:
                fh.write(b'{"ops":[{"t":"doc","i":"x"')    # killed mid-write
            srv.restart()
            self.assertEqual(c.get("/x/_doc/1").json["_version"], 1)
            self.assertEqual(c.put("/x/_doc/2", {"a": 2}).status, 201)
            srv.restart()
            self.assertEqual(c.get("/x/_count").json["count"], 2)
        with self.assertRaisesRegex(RuntimeError, "holds a es8 cluster"):
            with running_server("es7", data_dir=self.tmp):
                pass

    def test_the_current_process_is_always_stopped(self):
        procs = []
        with self.assertRaises(AssertionError):
            with running_server("es8") as srv:
                procs.append(srv.process)
                srv.restart()          # also without a data dir: an empty cluster
                procs.append(srv.process)
                self.assertEqual(Client(srv).get("/").status, 200)
                srv.kill()
                srv.restart()
                procs.append(srv.process)
                raise AssertionError("a failing test")
        self.assertEqual(len({p.pid for p in procs}), 3)
        self.assertTrue(all(p.poll() is not None for p in procs))


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


class TestBuildingBlocks(unittest.TestCase):
    def test_tokenizer(self):
        self.assertEqual(es_common.tokenize("AssumeRole"), ["assumerole"])
        self.assertEqual(es_common.tokenize("sts.amazonaws.com"), ["sts.amazonaws.com"])
        self.assertEqual(es_common.tokenize("s3.amazonaws.com"), ["s3", "amazonaws.com"])
        self.assertEqual(es_common.tokenize("arn:aws:iam::111122223333:user/Alice"),
                         ["arn:aws:iam", "111122223333", "user", "alice"])
        self.assertEqual(es_common.tokenize("Access denied, v1.2"),
                         ["access", "denied", "v1.2"])

    def test_dates(self):
        self.assertEqual(es_common.parse_date("2024-01-01T00:00:00Z"), 1704067200000)
        self.assertEqual(es_common.parse_date("2024-01-01T01:00:00.5+01:00"), 1704067200500)
        self.assertEqual(es_common.parse_date(1704067200000), 1704067200000)
        self.assertEqual(es_common.format_date(1704067200500), "2024-01-01T00:00:00.500Z")
        now = es_common.parse_date("2024-03-15T10:20:30Z")
        self.assertEqual(es_common.format_date(es_common.parse_date_math(
            "now-1d/d", now_ms=now)), "2024-03-14T00:00:00.000Z")
        self.assertEqual(es_common.format_date(es_common.parse_date_math(
            "now/d", round_up=True, now_ms=now)), "2024-03-15T23:59:59.999Z")
        self.assertTrue(es_common.looks_like_dynamic_date("2012-10-17"))
        self.assertFalse(es_common.looks_like_dynamic_date("2012"))
        self.assertFalse(es_common.looks_like_dynamic_date("arn:aws:iam::1:root"))

    def test_sigv4_canonical_forms(self):
        self.assertEqual(es_sigv4.canonical_uri("/cloudtrail-*/_search"),
                         "/cloudtrail-%2A/_search")
        self.assertEqual(es_sigv4.canonical_uri("/a%2Cb//./x/../_search"),
                         "/a%252Cb/_search")
        self.assertEqual(es_sigv4.canonical_query("b=2&a=x%20y&v"), "a=x%20y&b=2&v=")


class FaultSkipTest(unittest.TestCase):
    def test_skip_lets_requests_through_first(self):
        with running_server(flavor="es8") as url:
            url.fault("500", count=1, path="_count", skip=2)
            codes = []
            for _ in range(4):
                try:
                    with urllib.request.urlopen(url + "/_count", timeout=10) as resp:
                        codes.append(resp.status)
                except urllib.error.HTTPError as exc:
                    codes.append(exc.code)
            self.assertEqual(codes, [200, 200, 500, 200])


if __name__ == "__main__":
    unittest.main()
