"""End-to-end tests of `cloudtracker ingest --to elasticsearch` (the loader).

Runs the built binary against the test server (es_server.py) and checks the
cluster afterwards: exact document counts, idempotent and incremental
re-runs, index settings restored, a 429 storm, items failing now and then,
items refused for good (the reject file), records whose values the mapping
cannot take, a server killed mid-load and brought back (a re-run ends with
every record exactly once), a foreign index left alone, the demo's
queries answering through the Elasticsearch backend exactly as the
embedded store answers them (tests/cli/golden), and the alias named by
elasticsearch.index that lets a config naming only the cluster query what
it loaded (and its absence next to the original tool's `cloudtrail` index).

Usage: python3 test_es_load.py /path/to/cloudtracker [-v]
(or CLOUDTRACKER_BIN=... python3 -m unittest test_es_load, from tests/es).
"""

import glob
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from es_server import running_server  # noqa: E402
import test_es_backend as backend  # noqa: E402

BIN = os.environ.get("CLOUDTRACKER_BIN", "")
DEMO_LOGS = os.path.join(ROOT, "demo", "logs")
DEMO_FILES, DEMO_RECORDS = 14, 32

EXIT_OK, EXIT_CONFIG, EXIT_UNREACHABLE, EXIT_PARTIAL, EXIT_INCOMPLETE = 0, 3, 7, 8, 11


def http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def count(url, index="cloudtrail-*"):
    http(url + "/" + index + "/_refresh", "POST")
    return http(url + "/" + index + "/_count")[1]["count"]


def all_ids(url, index="cloudtrail-*"):
    http(url + "/" + index + "/_refresh", "POST")
    ids = []
    status, page = http(url + "/" + index + "/_search?scroll=1m",
                        "POST", {"size": 1000, "_source": False, "sort": ["_doc"]})
    while page["hits"]["hits"]:
        ids += [h["_id"] for h in page["hits"]["hits"]]
        status, page = http(url + "/_search/scroll", "POST",
                            {"scroll": "1m", "scroll_id": page["_scroll_id"]})
    return ids


def write_record_file(path, records, gz=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = json.dumps({"Records": records}).encode()
    if gz:
        data = gzip.compress(data)
    with open(path, "wb") as f:
        f.write(data)


def record(i, **extra):
    rec = {"eventVersion": "1.08", "eventTime": "2018-06-%02dT10:00:00Z" % (1 + i % 28),
           "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
           "awsRegion": "us-east-1", "eventID": "ev-%06d" % i,
           "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/alice",
                            "accountId": "111111111111", "userName": "alice"},
           "recipientAccountId": "111111111111"}
    rec.update(extra)
    return rec


class LoaderTest(unittest.TestCase):
    flavor = "es8"

    def setUp(self):
        if not BIN:
            self.skipTest("set CLOUDTRACKER_BIN or give the binary's path")
        self.tmp = tempfile.mkdtemp(prefix="ct-es-load-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config(self, url, extra=""):
        return backend.write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n%s"
                                    % (url, extra))

    def load(self, config, paths, extra_args=(), timeout=300, env=None):
        """Runs the loader; its stdout is kept in self.stdout."""
        rejects = os.path.join(self.tmp, "rejects.ndjson")
        args = [BIN, "ingest", "--to", "elasticsearch", "--config", config,
                "--rejects", rejects] + list(extra_args) + list(paths)
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, **(env or {})))
        self.stdout = p.stdout
        return p.returncode, p.stderr, rejects

    def make_logs(self, files=20, per_file=50, name="logs", first=0):
        logs = os.path.join(self.tmp, name)
        n = first
        for f in range(files):
            recs = [record(n + i) for i in range(per_file)]
            n += per_file
            write_record_file(os.path.join(logs, "f%03d.json.gz" % f), recs)
        return logs, n - first

    def start_load(self, url, config, logs, bulks):
        """Starts a load in the background; returns once the server has
        answered `bulks` _bulk requests. The server holds every later _bulk
        (a stall until the faults are cleared or the server stops), so the
        load is mid-way then, however fast or slow it runs."""
        url.fault("stall", count=-1, path="_bulk", seconds=3600, skip=bulks)
        args = [BIN, "ingest", "--to", "elasticsearch", "--config", config,
                "--rejects", os.path.join(self.tmp, "r.ndjson"), logs]
        proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 120
        while sum("_bulk" in r["path"] for r in url.requests()) < bulks:
            self.assertIsNone(proc.poll(), "the load ended before %d _bulk requests" % bulks)
            self.assertLess(time.monotonic(), deadline, "no %d _bulk requests" % bulks)
            time.sleep(0.05)
        return proc

    def summary(self, stderr):
        """(read, indexed, present, rejected) from the summary line."""
        for line in stderr.splitlines():
            if " read: " in line and "indexed" in line:
                words = line.replace(",", "").split()
                nums = [int(w) for w in words if w.isdigit()]
                return tuple(nums[:4])
        self.fail("no summary in:\n" + stderr)


class DemoTests(LoaderTest):
    def test_demo_queries_through_elasticsearch(self):
        """After loading the demo archive, every demo golden case answers
        through the Elasticsearch backend byte for byte, in each flavor."""
        for flavor in ("es6", "es7", "es8", "os2"):
            with self.subTest(flavor=flavor), running_server(flavor=flavor) as url:
                config = self.config(url)
                rc, err, _ = self.load(config, [DEMO_LOGS])
                self.assertEqual(rc, EXIT_OK, err)
                self.assertEqual(self.summary(err), (DEMO_RECORDS, DEMO_RECORDS, 0, 0))
                self.assertEqual(count(url), DEMO_RECORDS)
                for name in backend.CASES:
                    args = backend.case_args(name, config)
                    want_out, want_rc = backend.golden(name)
                    rc, out, qerr = backend.run_ct(args)
                    self.assertEqual((rc, out), (want_rc, want_out), "%s: %s" % (name, qerr))

    def test_template_mapping_and_settings(self):
        with running_server(flavor="es8") as url:
            rc, err, _ = self.load(self.config(url), [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            _, tpl = http(url + "/_index_template/cloudtracker-cloudtrail")
            body = tpl["index_templates"][0]["index_template"]
            self.assertEqual(body["index_patterns"], ["cloudtrail-*.*"])
            props = body["template"]["mappings"]["properties"]
            self.assertEqual(props["eventName"]["type"], "keyword")
            self.assertEqual(props["eventTime"]["type"], "date")
            self.assertFalse(props["cloudtrackerMoved"]["enabled"])
            _, indices = http(url + "/cloudtrail-*/_settings")
            self.assertEqual(sorted(indices), ["cloudtrail-2018.03", "cloudtrail-2018.04",
                                               "cloudtrail-2018.05", "cloudtrail-2018.06"])
            for name, s in indices.items():
                # The template's values are back, after -1 and 0 while loading.
                self.assertEqual(s["settings"]["index"]["refresh_interval"], "30s", name)
                self.assertEqual(s["settings"]["index"]["number_of_replicas"], "1", name)
            puts = [r for r in url.settled_requests()
                    if r["method"] == "PUT" and r["path"].endswith("/_settings")]
            self.assertEqual(len(puts), 4)  # one restore per index
            # No index is left marked as being loaded: one document per file.
            self.assertEqual(count(url, "cloudtracker-state"), DEMO_FILES)

    def test_people_fields_are_aggregatable_keywords(self):
        """The fields that name who is behind a role session, and the keys
        that join a session to the event that opened it, are keywords in
        every flavor's template and index (mapping_version 2 on), and the
        records keep them: a terms aggregation on each finds its value."""
        saml = record(1, eventSource="sts.amazonaws.com", eventName="AssumeRoleWithSAML",
                      eventID="ev-saml", sharedEventID="sh-1",
                      userIdentity={"type": "SAMLUser", "principalId": "Q0V=:alice@example.com",
                                    "userName": "alice@example.com", "identityProvider": "Q0V="},
                      requestParameters={"roleArn": "arn:aws:iam::111111111111:role/S",
                                         "roleSessionName": "alice@example.com",
                                         "sourceIdentity": "alice-req", "durationSeconds": 3600},
                      responseElements={"credentials": {"accessKeyId": "ASIASAML"},
                                        "subject": "alice@example.com", "subjectType": "persistent",
                                        "issuer": "http://www.okta.com/exk1",
                                        "sourceIdentity": "alice-resp",
                                        "assumedRoleUser": {
                                            "assumedRoleId": "AROAS:alice@example.com",
                                            "arn": "arn:aws:sts::111111111111:assumed-role/S/a"}})
        web = record(2, eventSource="sts.amazonaws.com", eventName="AssumeRoleWithWebIdentity",
                     eventID="ev-web",
                     userIdentity={"type": "WebIdentityUser", "userName": "1234",
                                   "identityProvider": "accounts.google.com"},
                     responseElements={"credentials": {"accessKeyId": "ASIAWEB"},
                                       "subjectFromWebIdentityToken": "1234",
                                       "provider": "accounts.google.com"})
        idc = record(3, eventSource="signin.amazonaws.com", eventName="UserAuthentication",
                     eventID="ev-idc",
                     userIdentity={"type": "IdentityCenterUser", "accountId": "111111111111",
                                   "onBehalfOf": {"userId": "544894e8",
                                                  "identityStoreArn": "arn:aws:identitystore::"
                                                  "111111111111:identitystore/d-1"}})
        chained = record(4, eventSource="sts.amazonaws.com", eventName="AssumeRole",
                         eventID="ev-chain",
                         userIdentity={"type": "AssumedRole", "principalId": "AROAS:alice",
                                       "accessKeyId": "ASIASAML",
                                       "sessionContext": {"sourceIdentity": "alice-chain"}})
        logs = os.path.join(self.tmp, "people")
        write_record_file(os.path.join(logs, "people.json.gz"), [saml, web, idc, chained])
        want = {
            "eventID": ["ev-chain", "ev-idc", "ev-saml", "ev-web"],
            "sharedEventID": ["sh-1"],
            "userIdentity.principalId": ["AROAS:alice", "Q0V=:alice@example.com"],
            "userIdentity.userName": ["1234", "alice@example.com"],
            "userIdentity.identityProvider": ["Q0V=", "accounts.google.com"],
            "userIdentity.onBehalfOf.userId": ["544894e8"],
            "userIdentity.onBehalfOf.identityStoreArn": [
                "arn:aws:identitystore::111111111111:identitystore/d-1"],
            "userIdentity.sessionContext.sourceIdentity": ["alice-chain"],
            "requestParameters.roleSessionName": ["alice@example.com"],
            "requestParameters.sourceIdentity": ["alice-req"],
            "responseElements.sourceIdentity": ["alice-resp"],
            "responseElements.subject": ["alice@example.com"],
            "responseElements.subjectFromWebIdentityToken": ["1234"],
            "responseElements.issuer": ["http://www.okta.com/exk1"],
            "responseElements.provider": ["accounts.google.com"],
            "responseElements.assumedRoleUser.assumedRoleId": ["AROAS:alice@example.com"],
            "responseElements.assumedRoleUser.arn": ["arn:aws:sts::111111111111:assumed-role/S/a"],
        }
        for flavor in ("es6", "es7", "es8", "os2"):
            with self.subTest(flavor=flavor), running_server(flavor=flavor) as url:
                rc, err, _ = self.load(self.config(url), [logs])
                self.assertEqual(rc, EXIT_OK, err)
                self.assertEqual(self.summary(err), (4, 4, 0, 0))
                if flavor == "es6":
                    _, tpl = http(url + "/_template/cloudtracker-cloudtrail")
                    tpl_map = tpl["cloudtracker-cloudtrail"]["mappings"]["_doc"]
                else:
                    _, tpl = http(url + "/_index_template/cloudtracker-cloudtrail")
                    tpl_map = tpl["index_templates"][0]["index_template"]["template"]["mappings"]
                _, idx = http(url + "/cloudtrail-2018.06/_mapping")
                idx_map = idx["cloudtrail-2018.06"]["mappings"]
                if flavor == "es6":
                    idx_map = idx_map["_doc"]
                for mapping in (tpl_map, idx_map):
                    self.assertEqual(mapping["_meta"]["cloudtracker"]["mapping_version"], 3)
                    for path in want:
                        props = mapping
                        for part in path.split("."):
                            props = props["properties"][part]
                        self.assertEqual(props["type"], "keyword", path)
                http(url + "/cloudtrail-*/_refresh", "POST")
                for path, values in want.items():
                    status, res = http(url + "/cloudtrail-*/_search", "POST", {
                        "size": 0, "aggs": {"v": {"terms": {"field": path, "size": 10}}}})
                    self.assertEqual(status, 200, res)
                    keys = sorted(b["key"] for b in res["aggregations"]["v"]["buckets"])
                    self.assertEqual(keys, values, path)

    def test_resources_field(self):
        """Every document gets the resources its record names
        (ct_trail_resource_set) in cloudtrackerResources, a keyword of every
        flavor's template and index (mapping_version 3), failed calls too;
        none when it names nothing; a record's own member of that name is
        moved to cloudtrackerMoved, so the field holds only the loader's."""
        role = "arn:aws:iam::111111111111:role/ops"
        recs = [
            record(1, eventName="GetBucketAcl", requestParameters={"bucketName": "logs"}),
            record(2, eventName="GetBucketAcl", requestParameters={"bucketName": "secret"},
                   errorCode="AccessDenied"),
            record(3, eventSource="sts.amazonaws.com", eventName="AssumeRole",
                   requestParameters={"roleArn": role, "roleSessionName": "a"},
                   resources=[{"ARN": role}, {"ARN": "arn:aws:iam::111111111111:role/b"}]),
            record(4),
            record(5, eventName="GetBucketAcl", requestParameters={"bucketName": "real"},
                   cloudtrackerResources="arn:aws:s3:::forged"),
        ]
        want = {"ev-000001": "arn:aws:s3:::logs", "ev-000002": "arn:aws:s3:::secret",
                "ev-000003": "arn:aws:iam::111111111111:role/b\n" + role,
                "ev-000004": None, "ev-000005": "arn:aws:s3:::real"}
        logs = os.path.join(self.tmp, "resources")
        write_record_file(os.path.join(logs, "resources.json.gz"), recs)
        for flavor in ("es6", "es7", "es8", "os2"):
            with self.subTest(flavor=flavor), running_server(flavor=flavor) as url:
                rc, err, _ = self.load(self.config(url), [logs])
                self.assertEqual(rc, EXIT_OK, err)
                self.assertEqual(self.summary(err), (5, 5, 0, 0))
                self.assertIn("1 record had values the mapping cannot index", err)
                _, idx = http(url + "/cloudtrail-2018.06/_mapping")
                idx_map = idx["cloudtrail-2018.06"]["mappings"]
                if flavor == "es6":
                    idx_map = idx_map["_doc"]
                self.assertEqual(idx_map["_meta"]["cloudtracker"]["mapping_version"], 3)
                self.assertEqual(idx_map["properties"]["cloudtrackerResources"],
                                 {"type": "keyword", "ignore_above": 8191})
                http(url + "/cloudtrail-*/_refresh", "POST")
                _, res = http(url + "/cloudtrail-*/_search", "POST", {
                    "size": 10, "aggs": {"v": {"terms": {"field": "cloudtrackerResources"}}}})
                got = {h["_id"]: h["_source"].get("cloudtrackerResources")
                       for h in res["hits"]["hits"]}
                self.assertEqual(got, want)
                forged = [h["_source"] for h in res["hits"]["hits"] if h["_id"] == "ev-000005"]
                self.assertEqual(forged[0]["cloudtrackerMoved"],
                                 {"cloudtrackerResources": "arn:aws:s3:::forged"})
                keys = sorted(b["key"] for b in res["aggregations"]["v"]["buckets"])
                self.assertEqual(keys, sorted(v for v in want.values() if v))

    def test_query_index_that_misses_the_loaded_indices_is_pointed_out(self):
        with running_server(flavor="es8") as url:
            config = backend.write_config(self.tmp, "  url: %s\n  index: 'ct-old-*'\n" % url)
            rc, err, _ = self.load(config, [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertIn("warning: elasticsearch.index 'ct-old-*' does not name "
                          "cloudtrail-2018.03, which this load wrote to", err)
            self.assertIn("(index: 'cloudtrail-*.*' does)", err)
            # A pattern that covers them: no warning (a new state index, so the
            # files are loaded again and the indices written to).
            config = backend.write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-2018.0*'\n"
                                          "  state_index: other-state\n" % url)
            rc, err, _ = self.load(config, [DEMO_LOGS])
            self.assertEqual(self.summary(err), (DEMO_RECORDS, 0, DEMO_RECORDS, 0))
            self.assertNotIn("warning", err)

    def test_existing_index_settings_restored(self):
        """An index that exists (made by an earlier load, then tuned by an
        operator) gets its own settings back, not the template's."""
        with running_server(flavor="es7") as url:
            config = self.config(url)
            self.assertEqual(self.load(config, [DEMO_LOGS])[0], EXIT_OK)
            http(url + "/cloudtrail-2018.03/_settings", "PUT",
                 {"index": {"refresh_interval": "5s", "number_of_replicas": 2}})
            # Make the files look new to the loader: a new state index.
            config = self.config(url, "  state_index: other-state\n")
            rc, err, _ = self.load(config, [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertEqual(self.summary(err), (DEMO_RECORDS, 0, DEMO_RECORDS, 0))
            _, s = http(url + "/cloudtrail-2018.03/_settings")
            idx = s["cloudtrail-2018.03"]["settings"]["index"]
            self.assertEqual((idx["refresh_interval"], idx["number_of_replicas"]), ("5s", "2"))


def load_original(url, flavor, index="cloudtrail"):
    """The demo's records in one concrete index with a dynamic mapping, as
    the original tool's instructions made it."""
    lines = []
    for rec in backend.records():
        meta = {"_index": index, "_id": rec["eventID"]}
        if flavor == "es6":
            meta["_type"] = "_doc"
        lines += [json.dumps({"create": meta}), json.dumps(backend.keyword_doc(rec))]
    resp = backend.Client(url).call("POST", "/_bulk?refresh=true", "\n".join(lines) + "\n",
                                    "application/x-ndjson")
    assert not resp["errors"], resp


class AliasTests(LoaderTest):
    """elasticsearch.index, default cloudtrail, names what queries read: when
    it is one plain name, the loaded indices go behind an alias of that name,
    so a config that names only the cluster answers what it loaded."""

    CASES = ("demo_alice", "demo_bob_destrole_admin", "demo_list_users")
    MONTHS = ["cloudtrail-2018.03", "cloudtrail-2018.04", "cloudtrail-2018.05",
              "cloudtrail-2018.06"]

    def answers(self, config):
        """(exit code, stdout) of a few demo queries."""
        return {name: backend.run_ct(backend.case_args(name, config))[:2]
                for name in self.CASES}

    def goldens(self):
        return {name: backend.golden(name)[::-1] for name in self.CASES}

    def aliases(self, url):
        """index -> its aliases, for every index but the state index."""
        _, out = http(url + "/_alias")
        return {i: sorted(a["aliases"]) for i, a in out.items() if i != "cloudtracker-state"}

    def test_cluster_only_config_round_trip(self):
        for flavor in ("es6", "es7", "es8", "os2"):
            with self.subTest(flavor=flavor), running_server(flavor=flavor) as url:
                config = backend.write_config(self.tmp, "  url: %s\n" % url)
                rc, err, _ = self.load(config, [DEMO_LOGS])
                self.assertEqual(rc, EXIT_OK, err)
                self.assertEqual(self.summary(err), (DEMO_RECORDS, DEMO_RECORDS, 0, 0))
                self.assertNotIn("warning", err)
                self.assertEqual(self.aliases(url), {m: ["cloudtrail"] for m in self.MONTHS})
                if flavor == "es6":
                    _, tpl = http(url + "/_template/cloudtracker-cloudtrail")
                    aliases = tpl["cloudtracker-cloudtrail"]["aliases"]
                else:
                    _, tpl = http(url + "/_index_template/cloudtracker-cloudtrail")
                    aliases = tpl["index_templates"][0]["index_template"]["template"]["aliases"]
                self.assertEqual(aliases, {"cloudtrail": {}})
                self.assertEqual(self.answers(config), self.goldens())
                # Again: the indices have the alias, nothing is added.
                url.clear_log()
                rc, err, _ = self.load(config, [DEMO_LOGS])
                self.assertEqual((rc, self.summary(err)), (EXIT_OK, (0, 0, 0, 0)), err)
                self.assertFalse([r for r in url.settled_requests() if r["path"] == "/_aliases"])

    def test_index_cloudtrail_puts_earlier_loads_behind_the_alias(self):
        """Indices loaded before with a pattern config get the alias when a
        config says `index: cloudtrail`, even if nothing new is loaded."""
        with running_server(flavor="es7") as url:
            rc, err, _ = self.load(self.config(url), [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertEqual(self.aliases(url), {m: [] for m in self.MONTHS})
            config = backend.write_config(self.tmp, "  url: %s\n  index: cloudtrail\n" % url)
            url.clear_log()
            rc, err, _ = self.load(config, [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertIn("0 loaded, %d unchanged" % DEMO_FILES, err)
            self.assertNotIn("warning", err)
            self.assertEqual(len([r for r in url.settled_requests()
                                  if r["path"] == "/_aliases"]), 1)
            self.assertEqual(self.aliases(url), {m: ["cloudtrail"] for m in self.MONTHS})
            self.assertEqual(self.answers(config), self.goldens())

    def test_existing_cloudtrail_index_is_left_alone(self):
        """The original tool's concrete `cloudtrail` index: no alias can have
        its name. The load goes on, says so once, and queries of the config
        read that index exactly as before."""
        for flavor in ("es6", "es8"):
            with self.subTest(flavor=flavor), running_server(flavor=flavor) as url:
                load_original(url, flavor)
                config = backend.write_config(self.tmp, "  url: %s\n  index: cloudtrail\n"
                                              % url)
                before = self.answers(config)
                self.assertEqual(before, self.goldens())
                rc, err, _ = self.load(config, [DEMO_LOGS])
                self.assertEqual(rc, EXIT_OK, err)
                self.assertEqual(self.summary(err), (DEMO_RECORDS, DEMO_RECORDS, 0, 0))
                self.assertEqual(err.count("warning"), 1, err)
                self.assertIn("warning: elasticsearch.index 'cloudtrail' is an existing index, "
                              "so the loaded indices cannot be put behind an alias of that "
                              "name and queries will not see them: set index: "
                              "'cloudtrail-*.*' to read them, or 'cloudtrail*' to read both",
                              err)
                self.assertEqual(self.aliases(url),
                                 dict({m: [] for m in self.MONTHS}, cloudtrail=[]))
                self.assertEqual(count(url, "cloudtrail"), DEMO_RECORDS)
                self.assertEqual(self.answers(config), before)
                # What was loaded answers through the pattern the warning names.
                config = backend.write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*.*'\n"
                                              % url)
                self.assertEqual(self.answers(config), self.goldens())

    def test_alias_of_other_indices_is_left_alone(self):
        with running_server(flavor="os2") as url:
            load_original(url, "os2", "old-trail")
            http(url + "/_aliases", "POST",
                 {"actions": [{"add": {"index": "old-trail", "alias": "cloudtrail"}}]})
            config = backend.write_config(self.tmp, "  url: %s\n" % url)
            before = self.answers(config)
            rc, err, _ = self.load(config, [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertEqual(err.count("warning"), 1, err)
            self.assertIn("warning: elasticsearch.index 'cloudtrail' is an alias of old-trail, "
                          "which cloudtracker did not make, so the loaded indices are not added "
                          "to it", err)
            self.assertEqual(self.aliases(url),
                             dict({m: [] for m in self.MONTHS}, **{"old-trail": ["cloudtrail"]}))
            self.assertEqual(self.answers(config), before)

    def test_alias_requests_failing(self):
        """Looking up elasticsearch.index, or adding the alias to indices
        loaded before, failing: one message, exit 8, nothing loaded."""
        with running_server(flavor="es8") as url:
            rc, err, _ = self.load(self.config(url), [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            config = backend.write_config(self.tmp, "  url: %s\n  index: cloudtrail\n" % url)
            for kind, path, what in (
                    ("500", "^/cloudtrail/_mapping$",
                     "looking up elasticsearch.index failed (HTTP 500)"),
                    ("500", "^/_aliases$", "putting existing indices behind the alias "
                                           "elasticsearch.index failed (HTTP 500)"),
                    ("truncate", "^/cloudtrail/_mapping$", "the response was cut short"),
                    ("truncate", r"^/cloudtrail-\*\.\*/_alias$", "the response was cut short")):
                with self.subTest(kind=kind, path=path):
                    url.fault(kind, path=path)
                    rc, err, _ = self.load(config, [DEMO_LOGS])
                    self.assertEqual(rc, EXIT_PARTIAL, err)
                    self.assertEqual(err.count("\n"), 1, err)
                    self.assertIn(what, err)
            self.assertEqual(self.aliases(url), {m: [] for m in self.MONTHS})

    def test_pattern_or_list_gets_no_alias(self):
        for index, unseen in (("cloudtrail-*", None),
                              ("cloudtrail-2018.03,cloudtrail-2018.04", "cloudtrail-2018.05"),
                              ("cloudtrail-2018.04", "cloudtrail-2018.03")):
            with self.subTest(index=index), running_server(flavor="es8") as url:
                config = backend.write_config(self.tmp, "  url: %s\n  index: '%s'\n"
                                              % (url, index))
                rc, err, _ = self.load(config, [DEMO_LOGS])
                self.assertEqual(rc, EXIT_OK, err)
                self.assertEqual(self.aliases(url), {m: [] for m in self.MONTHS})
                _, tpl = http(url + "/_index_template/cloudtracker-cloudtrail")
                self.assertNotIn("aliases", tpl["index_templates"][0]["index_template"]
                                 ["template"])
                if unseen:
                    self.assertEqual(err.count("warning"), 1, err)
                    self.assertIn("warning: elasticsearch.index '%s' does not name %s"
                                  % (index, unseen), err)
                else:
                    self.assertNotIn("warning", err)


class RerunTests(LoaderTest):
    def test_rerun_is_incremental_and_idempotent(self):
        for flavor in ("es6", "es7", "es8", "os2"):
            with self.subTest(flavor=flavor):
                self.rerun(flavor)

    def rerun(self, flavor):
        logs = os.path.join(self.tmp, flavor, "logs")
        shutil.copytree(DEMO_LOGS, logs)
        with running_server(flavor=flavor) as url:
            config = self.config(url)
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            url.clear_log()
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertIn("0 loaded, %d unchanged" % DEMO_FILES, err)
            self.assertEqual(self.summary(err), (0, 0, 0, 0))
            self.assertFalse([r for r in url.settled_requests() if "_bulk" in r["path"]])
            # A file that changed is read again; its records are there already.
            changed = sorted(p for p in glob.glob(logs + "/**/*.json.gz", recursive=True)
                             if "CloudTrail-Digest" not in p)[0]
            os.utime(changed, (time.time() + 5, time.time() + 5))
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertIn("1 loaded, %d unchanged" % (DEMO_FILES - 1), err)
            read, indexed, present, rejected = self.summary(err)
            self.assertEqual((indexed, present, rejected), (0, read, 0))
            self.assertEqual(count(url), DEMO_RECORDS)

    def test_records_without_event_id_are_not_doubled(self):
        logs = os.path.join(self.tmp, "logs")
        recs = [record(i) for i in range(5)]
        for r in recs:
            del r["eventID"]
        write_record_file(os.path.join(logs, "a.json.gz"), recs)
        with running_server(flavor="es8") as url:
            config = self.config(url)
            self.assertEqual(self.load(config, [logs])[0], EXIT_OK)
            os.utime(os.path.join(logs, "a.json.gz"), (time.time() + 5, time.time() + 5))
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(self.summary(err), (5, 0, 5, 0))
            self.assertEqual(count(url), 5)


class FaultTests(LoaderTest):
    def test_429_storm(self):
        logs, n = self.make_logs()
        with running_server(flavor="es8") as url:
            config = self.config(url, "  bulk_bytes: 20000\n")
            url.fault("429", count=6, path="_bulk")
            url.fault("bulk_item_429", count=10, every=3)
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertEqual(self.summary(err), (n, n, 0, 0))
            ids = all_ids(url)
            self.assertEqual(len(ids), n)
            self.assertEqual(len(set(ids)), n)

    def test_items_failing_with_500_are_sent_again(self):
        logs, n = self.make_logs(files=5)
        with running_server(flavor="es7") as url:
            config = self.config(url, "  bulk_bytes: 30000\n")
            url.fault("bulk_item_500", count=3, items=[0, 2, 5])
            url.fault("503", count=2, path="_bulk")
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertEqual(self.summary(err), (n, n, 0, 0))
            self.assertEqual(count(url), n)

    def test_items_refused_for_good_go_to_the_reject_file(self):
        logs, n = self.make_logs(files=2, per_file=10)
        with running_server(flavor="es8") as url:
            config = self.config(url)
            url.fault("bulk_item_400", count=1, items=[3, 7])
            rc, err, rejects = self.load(config, [logs])
            self.assertEqual(rc, EXIT_INCOMPLETE, err)
            self.assertEqual(self.summary(err), (n, n - 2, 0, 2))
            self.assertIn("2 records rejected by elasticsearch", err)
            with open(rejects) as f:
                lines = [json.loads(line) for line in f]
            self.assertEqual(len(lines), 2)
            for line in lines:
                self.assertEqual(line["rejected_by"], "elasticsearch")
                self.assertEqual(line["status"], 400)
                self.assertIn("mapper_parsing_exception", line["reason"])
                self.assertTrue(line["record"]["eventID"].startswith("ev-"))
                self.assertEqual(line["action"]["create"]["_id"], line["record"]["eventID"])
            # The file is not recorded as loaded: the next run tries again.
            rc, err, rejects = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertEqual(self.summary(err)[1:], (2, 8, 0))
            self.assertEqual(count(url), n)
            # Nothing rejected this time: the file is neither made nor removed.
            with open(rejects) as f:
                self.assertEqual(len(f.readlines()), 2)

    def test_the_reject_file_is_never_written_through_a_link(self):
        """A link planted at the reject file's name leads nowhere: a run
        rejecting nothing leaves it alone, a run rejecting something
        replaces the link, and the file it pointed to is never touched."""
        logs, n = self.make_logs(files=1, per_file=10)
        victim = os.path.join(self.tmp, "victim.txt")
        with open(victim, "w") as f:
            f.write("precious\n")
        rejects = os.path.join(self.tmp, "rejects.ndjson")
        os.symlink(victim, rejects)
        with running_server(flavor="es8") as url:
            config = self.config(url)
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertTrue(os.path.islink(rejects))
            with open(victim) as f:
                self.assertEqual(f.read(), "precious\n")
            # A changed file with two records refused for good.
            logs2, _ = self.make_logs(files=1, per_file=10, name="more", first=100)
            url.fault("bulk_item_400", count=1, items=[1, 4])
            rc, err, _ = self.load(config, [logs2])
            self.assertEqual(rc, EXIT_INCOMPLETE, err)
            self.assertFalse(os.path.islink(rejects))
            with open(rejects) as f:
                self.assertEqual(len(f.readlines()), 2)
            self.assertEqual(os.stat(rejects).st_mode & 0o777, 0o600)
            with open(victim) as f:
                self.assertEqual(f.read(), "precious\n")
            # No temporary file is left beside it.
            self.assertEqual([x for x in os.listdir(self.tmp) if x.startswith(".")], [])

    def test_files_not_recorded_are_read_again(self):
        """The first _bulk carries the demo's records; the second the state
        documents saying their files are loaded. If those are refused, the
        load says so, and the next run reads the files again (409s)."""
        with running_server(flavor="es8") as url:
            config = self.config(url)
            url.fault("bulk_item_500", count=1, path="_bulk", skip=1)
            rc, err, _ = self.load(config, [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertIn("%d files were loaded but could not be recorded" % DEMO_FILES, err)
            rc, err, _ = self.load(config, [DEMO_LOGS])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertIn("%d loaded, 0 unchanged" % DEMO_FILES, err)
            self.assertEqual(self.summary(err), (DEMO_RECORDS, 0, DEMO_RECORDS, 0))
            self.assertEqual(count(url), DEMO_RECORDS)

    def test_mixed_types_are_moved_aside_not_dropped(self):
        """Values the mapping cannot take, in fields that decide nothing
        (free-form payloads, errorMessage): indexed, moved aside."""
        logs = os.path.join(self.tmp, "logs")
        recs = [
            record(1, responseElements="an endpoint string"),
            record(2, requestParameters=["a", "list"]),
            record(3, errorCode="AccessDenied", errorMessage={"nested": True}),
            record(6, additionalEventData="anything goes here"),
            record(7, responseElements={"credentials": "string", "x": {"y": 1}}),
        ]
        write_record_file(os.path.join(logs, "mixed.json"), recs, gz=False)
        with running_server(flavor="es8") as url:
            config = self.config(url)
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertEqual(self.summary(err), (5, 5, 0, 0))
            self.assertIn("4 records had values the mapping cannot index", err)
            _, doc = http(url + "/cloudtrail-2018.06/_doc/ev-000001")
            src = doc["_source"]
            self.assertNotIn("responseElements", src)
            self.assertEqual(src["cloudtrackerMoved"], {"responseElements": "an endpoint string"})
            _, doc = http(url + "/cloudtrail-2018.06/_doc/ev-000007")
            self.assertEqual(doc["_source"]["cloudtrackerMoved"],
                             {"responseElements.credentials": "string"})
            self.assertEqual(doc["_source"]["responseElements"], {"x": {"y": 1}})
            _, doc = http(url + "/cloudtrail-2018.06/_doc/ev-000006")
            self.assertEqual(doc["_source"]["additionalEventData"], "anything goes here")

    def test_fields_of_the_wrong_type_go_to_the_reject_file(self):
        """A field that decides who made a call, whether it failed or what
        kind of event it is, of another type than CloudTrail writes: the
        record is rejected with the field and the type, never indexed (an
        errorCode object would make a failed call look successful)."""
        logs = os.path.join(self.tmp, "logs")
        recs = [
            record(10),
            record(11, errorCode={"nested": True}),
            record(12, errorCode=403),
            record(13, userIdentity="alice"),
            record(14, userIdentity={"type": "IAMUser", "arn": 5}),
            record(15, readOnly="yes"),
            record(16, eventSource="sts.amazonaws.com", eventName="AssumeRole",
                   responseElements={"credentials": "ASIA"}),
        ]
        path = os.path.join(logs, "types.json")
        os.makedirs(logs)
        with open(path, "w") as f:  # a record per line, to tell them apart
            f.write('{"Records": [\n%s\n]}\n' % ",\n".join(json.dumps(r) for r in recs))
        with running_server(flavor="es8") as url:
            rc, err, rejects = self.load(self.config(url), [logs])
            self.assertEqual(rc, EXIT_INCOMPLETE, err)
            self.assertEqual(self.summary(err), (7, 1, 0, 6))
            self.assertIn("types.json: 6 records rejected (first at line 3, column ", err)
            self.assertIn(": errorCode is an object, expected a string)", err)
            with open(rejects) as f:
                lines = [json.loads(line) for line in f]
            self.assertEqual([(x["line"], x["reason"]) for x in lines], [
                (3, "errorCode is an object, expected a string"),
                (4, "errorCode is a number, expected a string"),
                (5, "userIdentity is a string, expected an object"),
                (6, "userIdentity.arn is a number, expected a string"),
                (7, 'readOnly is a string other than "true" or "false"'),
                (8, "responseElements.credentials is a string, expected an object"),
            ])
            self.assertTrue(all(x["rejected_by"] == "cloudtracker"
                                and x["file"] == os.path.realpath(path) for x in lines))
            self.assertEqual(all_ids(url), ["ev-000010"])

    def test_unreadable_input_is_listed_and_rejected(self):
        logs = os.path.join(self.tmp, "logs")
        write_record_file(os.path.join(logs, "good.json.gz"), [record(i) for i in range(3)])
        with open(os.path.join(logs, "broken.json"), "w") as f:
            f.write('{"Records":[%s, {"eventSource":' % json.dumps(record(9)))
        with open(os.path.join(logs, "notgzip.json.gz"), "w") as f:
            f.write("plain text")
        # Never opened (that would wait for a writer), named as skipped.
        os.mkfifo(os.path.join(logs, "pipe.json"))
        with running_server(flavor="es8") as url:
            rc, err, rejects = self.load(self.config(url), [logs])
            self.assertEqual(rc, EXIT_INCOMPLETE, err)
            self.assertIn("broken.json: ", err)
            self.assertIn("notgzip.json.gz: not a valid gzip file", err)
            self.assertIn("pipe.json: not a regular file: a named pipe (FIFO)", err)
            self.assertIn("4 files: 1 loaded, 0 unchanged, 1 partly loaded, 2 skipped", err)
            read, indexed, present, rejected = self.summary(err)
            self.assertEqual(read, indexed + present + rejected)
            self.assertEqual((indexed, rejected), (4, 2))
            with open(rejects) as f:
                lines = [json.loads(line) for line in f]
            self.assertEqual(sorted(os.path.basename(x["file"]) for x in lines),
                             ["broken.json", "notgzip.json.gz"])
            self.assertTrue(all(x["rejected_by"] == "cloudtracker" for x in lines))

    def test_server_killed_mid_load_then_back(self):
        """The cluster dies while bulks are in flight; the load fails with
        exit 7; the cluster comes back with what it acknowledged; a re-run
        ends with every record exactly once and the settings restored."""
        logs, n = self.make_logs(files=40, per_file=100)
        data = os.path.join(self.tmp, "data")
        with running_server(flavor="es8", data_dir=data) as url:
            config = self.config(url, "  bulk_bytes: 20000\n  bulk_requests: 2\n"
                                      "  bulk_retries: 0\n  retries: 0\n")
            proc = self.start_load(url, config, logs, bulks=5)
            url.kill()
            err = proc.communicate(timeout=300)[1]
            self.assertEqual(proc.returncode, EXIT_UNREACHABLE, err)
            # The server is gone: the settings could not be put back yet.
            self.assertIn("the settings of 1 index could not be restored", err)
            url.restart()
            partial = count(url)
            self.assertLess(partial, n)
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            read, indexed, present, rejected = self.summary(err)
            self.assertEqual(rejected, 0)
            ids = all_ids(url)
            self.assertEqual(len(ids), n)
            self.assertEqual(len(set(ids)), n)
            _, s = http(url + "/cloudtrail-*/_settings")
            for name, idx in s.items():
                self.assertEqual(idx["settings"]["index"]["refresh_interval"], "30s", name)
            self.assertEqual(count(url, "cloudtracker-state"), 40)  # files, no index left

    def test_server_away_briefly_load_goes_on(self):
        """The cluster dies mid-load and is back within seconds: the loader's
        backoff rides it out and one run loads every record exactly once
        (items the cluster took before dying come back as 409s)."""
        logs, n = self.make_logs(files=40, per_file=100)
        data = os.path.join(self.tmp, "data")
        with running_server(flavor="os2", data_dir=data) as url:
            config = self.config(url, "  bulk_bytes: 20000\n  bulk_requests: 2\n")
            proc = self.start_load(url, config, logs, bulks=5)
            url.kill()
            time.sleep(1)
            url.restart()
            err = proc.communicate(timeout=300)[1]
            self.assertEqual(proc.returncode, EXIT_OK, err)
            read, indexed, present, rejected = self.summary(err)
            self.assertEqual((read, indexed + present, rejected), (n, n, 0))
            ids = all_ids(url)
            self.assertEqual((len(ids), len(set(ids))), (n, n))

    def test_interrupted_load_restores_settings(self):
        logs, n = self.make_logs(files=40, per_file=100)
        with running_server(flavor="es8") as url:
            config = self.config(url, "  bulk_bytes: 20000\n  bulk_requests: 1\n")
            proc = self.start_load(url, config, logs, bulks=3)
            proc.send_signal(signal.SIGINT)
            # The signal is pending before the held _bulk is let go, so the
            # loader stops after that one answer (and does not wait 10 s for it).
            url.control("DELETE", "/__faults")
            err = proc.communicate(timeout=120)[1]
            self.assertEqual(proc.returncode, -signal.SIGINT, err)
            self.assertIn("interrupted", err)
            _, s = http(url + "/cloudtrail-*/_settings")
            for name, idx in s.items():
                self.assertEqual(idx["settings"]["index"]["refresh_interval"], "30s", name)
            self.assertLess(count(url), n)
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_OK, err)
            self.assertEqual(count(url), n)


class ProgressTests(LoaderTest):
    def test_progress_on_a_terminal(self):
        if not shutil.which("script"):
            self.skipTest("script(1) is needed for a pseudo-terminal")
        logs, n = self.make_logs(files=20, per_file=50)
        with running_server(flavor="es8") as url:
            config = self.config(url, "  bulk_bytes: 20000\n  bulk_requests: 1\n")
            url.fault("stall", count=-1, path="_bulk", seconds=0.05)
            cmd = " ".join([BIN, "ingest", "--to", "elasticsearch", "--config", config,
                            "--rejects", os.path.join(self.tmp, "r.ndjson"), logs])
            p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True,
                               text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout)
            shown = p.stdout.replace("\r", "\n")
            self.assertRegex(shown, r"cloudtracker: \d+/20 files, \d+ events, \d+ MB/s")
            self.assertIn("ETA", shown)
            self.assertIn("%d records read: %d indexed" % (n, n), shown)
            self.assertRegex(shown, r"MB of JSON in [\d.]+ s, \d+ _bulk requests")


class RefusalTests(LoaderTest):
    def test_foreign_index_is_left_alone(self):
        with running_server(flavor="es8") as url:
            # An index of the pattern made by someone else (dynamic mapping).
            http(url + "/cloudtrail-2018.03/_doc/x", "PUT", {"eventName": "Foreign"})
            rc, err, _ = self.load(self.config(url), [DEMO_LOGS])
            self.assertEqual(rc, EXIT_CONFIG, err)
            self.assertIn("index cloudtrail-2018.03 exists with a mapping cloudtracker did "
                          "not make", err)
            self.assertEqual(count(url, "cloudtrail-2018.03"), 1)

    def test_index_of_an_older_mapping_version_is_pointed_out(self):
        with running_server(flavor="es8") as url:
            # An index an older cloudtracker made: ours (_meta), version 1,
            # without the fields people behind roles need.
            http(url + "/cloudtrail-2018.03", "PUT", {"mappings": {
                "dynamic": False, "_meta": {"cloudtracker": {"mapping_version": 1}},
                "properties": {"eventTime": {"type": "date"},
                               "eventName": {"type": "keyword"}}}})
            rc, err, _ = self.load(self.config(url), [DEMO_LOGS])
            self.assertEqual(rc, 0, err)
            self.assertIn("1 index loaded into (cloudtrail-2018.03) was made by an older "
                          "cloudtracker (mapping_version 1): records there cannot answer "
                          "--list people or --person, and name no resources for --resources",
                          err)
            self.assertEqual(count(url), DEMO_RECORDS)
            # The other indices were made now, of the current version, and a
            # run that loads nothing touches no index: nothing to say.
            rc, err, _ = self.load(self.config(url), [DEMO_LOGS])
            self.assertEqual(rc, 0, err)
            self.assertNotIn("older cloudtracker", err)

    def test_requests_too_large_for_the_cluster(self):
        with running_server(flavor="es8",
                            extra_args=["--max-content-length", "50000"]) as url:
            config = self.config(url, "  bulk_bytes: 200000\n")
            logs = os.path.join(self.tmp, "logs")
            write_record_file(os.path.join(logs, "a.json.gz"), [record(i) for i in range(400)])
            rc, err, _ = self.load(config, [logs])
            self.assertEqual(rc, EXIT_CONFIG, err)
            self.assertIn("(HTTP 413): lower elasticsearch.bulk_bytes", err)
            self.assertEqual(count(url), 0)
            _, s = http(url + "/cloudtrail-*/_settings")
            self.assertEqual(s["cloudtrail-2018.06"]["settings"]["index"]["refresh_interval"],
                             "30s")

    def test_unreachable_cluster(self):
        config = self.config("http://127.0.0.1:9", "  connect_timeout: 2\n")
        rc, err, _ = self.load(config, [DEMO_LOGS])
        self.assertEqual(rc, EXIT_UNREACHABLE, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("127.0.0.1:9", err)

    def test_missing_path_fails_before_any_request(self):
        with running_server(flavor="es8") as url:
            rc, err, _ = self.load(self.config(url), [os.path.join(self.tmp, "nope")])
            self.assertEqual(rc, 9, err)
            self.assertFalse(url.settled_requests())

    def test_answers_too_large(self):
        # elasticsearch.max_response_bytes holds for the set-up requests and
        # for the _bulk answers (1 MiB, the least allowed: small bodies do).
        with running_server(flavor="es8") as url:
            config = self.config(url, "  max_response_bytes: 1048576\n")
            for kind, path, method in (("huge_body", "^/$", "GET"),
                                       ("gzip_bomb", "^/_bulk$", "POST")):
                with self.subTest(kind=kind):
                    url.clear_log()
                    url.fault(kind, path=path, method=method, bytes=64 << 20)
                    rc, err, _ = self.load(config, [DEMO_LOGS])
                    self.assertEqual((rc, self.stdout), (EXIT_PARTIAL, ""), err)
                    self.assertIn("cloudtracker: elasticsearch at %s: the answer to %s %s is "
                                  "larger than 1048576 bytes (elasticsearch.max_response_bytes): "
                                  "stopped reading it\n" % (url, method, path.strip("^$")), err)
                    hit = [r for r in url.settled_requests() if r["fault"] == kind]
                    self.assertEqual(len(hit), 1)  # not sent again
                    if kind == "huge_body":  # the client stopped reading it
                        self.assertIn("error", hit[0])

    def test_error_reason_escaped_once(self):
        with running_server(flavor="es8") as url:
            url.fault("500", path="^/$", method="GET", reason=backend.NASTY_REASON)
            rc, err, _ = self.load(self.config(url), [DEMO_LOGS])
            self.assertEqual((rc, self.stdout), (EXIT_PARTIAL, ""), err)
            self.assertEqual(err, "cloudtracker: elasticsearch at %s: GET / failed (HTTP 500): "
                                  "exception: %s\n" % (url, backend.NASTY_PRINTED))

    def test_control_characters_in_secrets(self):
        with running_server(flavor="es8", auth="bearer:S3CRET") as url:
            config = self.config(url, "  bearer_token_env: CT_ES_TOKEN\n")
            rc, err, _ = self.load(config, [DEMO_LOGS],
                                   env={"CT_ES_TOKEN": "S3CRET\r\nX-Injected: yes"})
            self.assertEqual((rc, self.stdout), (EXIT_CONFIG, ""), err)
            self.assertIn("environment variable 'CT_ES_TOKEN' (elasticsearch.bearer_token_env) "
                          "holds a control character", err)
            self.assertNotIn("S3CRET", err)
            self.assertNotIn("Injected", err)
            self.assertEqual(url.settled_requests(), [])

    def test_cleartext_credentials_warning(self):
        config = self.config("http://no-such-host.invalid:9200", "  username: elastic\n"
                                                                "  password_env: CT_ES_PW\n")
        rc, err, _ = self.load(config, [DEMO_LOGS], env={"CT_ES_PW": "pw"})
        self.assertEqual((rc, self.stdout), (EXIT_UNREACHABLE, ""), err)
        lines = err.splitlines(True)
        self.assertEqual(len(lines), 2, err)
        self.assertEqual(lines[0], backend.CLEARTEXT_WARNING % "http://no-such-host.invalid:9200")
        self.assertIn("no-such-host.invalid", lines[1])

    def test_config_errors(self):
        for extra, msg in (("  index_format: 'CloudTrail-%Y'\n", "lower-case letters"),
                           ("  index_format: 'ct-%'\n", "the only tokens are"),
                           ("  index_format: 'cloudtrail'\n", "needs %Y, %m or %d"),
                           ("  bulk_bytes: 10\n", "bulk_bytes must be")):
            with self.subTest(extra=extra):
                rc, err, _ = self.load(self.config("http://127.0.0.1:9", extra), [DEMO_LOGS])
                self.assertEqual(rc, EXIT_CONFIG, err)
                self.assertIn(msg, err)


class RealClusterLoadTests(LoaderTest):
    """The loader against CLOUDTRACKER_TEST_ES_URL (skipped when it is unset;
    credentials as in test_es_backend.real_cluster()): the demo is loaded into
    indices, a state index and a template of a random name of its own, all
    deleted afterwards; the demo goldens must then answer as from the
    embedded store through the alias the loader puts them behind (the
    config's index is that random name), and a second load must read
    nothing."""

    def test_load_and_query_real_cluster(self):
        real = backend.real_cluster()
        if not real:
            self.skipTest("CLOUDTRACKER_TEST_ES_URL is not set")
        import uuid
        name = "ct-load-test-%s" % uuid.uuid4().hex[:8]

        def delete(path):
            try:
                real.client.call("DELETE", path)
            except urllib.error.HTTPError:
                pass  # never made

        for month in ("2018.03", "2018.04", "2018.05", "2018.06"):
            self.addCleanup(delete, "/%s-%s" % (name, month))
        self.addCleanup(delete, "/%s-state" % name)
        template = "/_template/" if real.flavor == "es6" else "/_index_template/"
        self.addCleanup(delete, template + "cloudtracker-" + name)
        config = backend.write_config(
            self.tmp, "  url: %s\n  index: %s\n  index_format: '%s-%%Y.%%m'\n"
                      "  state_index: %s-state\n%s"
                      % (real.base, name, name, name, real.section))
        env = dict(os.environ, **real.env)
        args = [BIN, "ingest", "--to", "elasticsearch", "--config", config,
                "--rejects", os.path.join(self.tmp, "r.ndjson"), DEMO_LOGS]
        for run, want in ((1, (DEMO_RECORDS, DEMO_RECORDS, 0, 0)), (2, (0, 0, 0, 0))):
            p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
            self.assertEqual(p.returncode, EXIT_OK, p.stderr)
            self.assertEqual(self.summary(p.stderr), want, "run %d" % run)
            self.assertNotIn("warning", p.stderr)
        for case in backend.CASES:
            with self.subTest(case=case):
                rc, out, err = backend.run_ct(backend.case_args(case, config), real.env)
                self.assertEqual((rc, out), backend.golden(case)[::-1], err)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        BIN = os.path.abspath(sys.argv.pop(1))
        backend.BIN = BIN
    elif BIN:
        backend.BIN = BIN
    unittest.main()
