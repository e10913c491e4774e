"""End-to-end tests of cloudtracker's Elasticsearch/OpenSearch backend.

Loads the demo's CloudTrail records into the test server (es_server.py) in
each flavor and field schema, runs the built cloudtracker binary against it
and checks that it prints exactly what the embedded store prints (the golden
files tests/cli/golden/demo_*.out), within the request budget, and that every
failure gives its exit code and no diff on stdout.

Usage: python3 -m unittest test_es_backend   (from tests/es), with the
binary's path in CLOUDTRACKER_BIN or as the first argument after `--`:
    python3 test_es_backend.py /path/to/cloudtracker [-v]
"""

import copy
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(ROOT, "tests", "cli", "golden")
sys.path.insert(0, HERE)

from es_server import running_server  # noqa: E402
from es_store import CLOUDTRAIL_TEMPLATE_MAPPINGS  # noqa: E402
from test_es_server import IndependentSigner  # noqa: E402

BIN = os.environ.get("CLOUDTRACKER_BIN", "")
# ct_source_probe, built next to the binary (<build>/tests/ct_source_probe).
PROBE = os.path.join(os.path.dirname(BIN), "tests", "ct_source_probe")
TODAY = "2026-11-27"

# Exit codes (src/cli/cli.h).
EXIT_CONFIG, EXIT_UNREACHABLE, EXIT_PARTIAL = 3, 7, 8

# The golden cases a query backend answers (ingest cases are the store's).
CASES = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(GOLDEN, "demo_*.args"))
               if "ingest" not in os.path.basename(p))


# The visibility fixture: data events, event kinds, request-dependent calls,
# and a Logstash-style export read through files.timestamp_field.
VIS = os.path.join(ROOT, "tests", "cli", "data", "visibility")
VIS_CONFIG = "@ROOT@/tests/cli/data/visibility/config.yaml"
VIS_CASES = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(GOLDEN, "vis_*.args"))
                   if "ingest" not in os.path.basename(p))


def vis_records():
    """The fixture's records as a loader would index them: the export's
    @timestamp becomes eventTime (what `ingest --to elasticsearch` does)."""
    records = []
    for path in sorted(glob.glob(os.path.join(VIS, "logs", "**", "*.json"), recursive=True)):
        with open(path) as f:
            records.extend(json.load(f)["Records"])
    for path in sorted(glob.glob(os.path.join(VIS, "logs", "**", "*.ndjson"), recursive=True)):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                rec.setdefault("eventTime", rec["@timestamp"].replace(".000Z", "Z"))
                records.append(rec)
    return records


def write_vis_config(folder, es_section):
    text = (
        "accounts:\n"
        "  - name: vis\n    id: \"333333333333\"\n    iam: %s/iam.json\n"
        "files:\n  paths: [%s/logs]\n  timestamp_field: '@timestamp'\n"
        "window:\n  start: 2024-05-01\n  end: 2024-05-31\n"
        "elasticsearch:\n%s" % (VIS, VIS, es_section))
    path = os.path.join(folder, "vis-config.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def demo_records():
    records = []
    for path in sorted(glob.glob(os.path.join(ROOT, "demo", "logs", "**", "*.json.gz"),
                                 recursive=True)):
        if "CloudTrail-Digest" in path:
            continue
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records.extend(json.load(f)["Records"])
    return records


def keyword_doc(rec):
    """A record as the recommended template's loader sends it: free-form
    objects that arrive as strings move to a *Raw field."""
    doc = dict(rec)
    for key in ("requestParameters", "responseElements", "additionalEventData",
                "serviceEventDetails", "resources", "tlsDetails"):
        if key in doc and doc[key] is not None and not isinstance(doc[key], (dict, list)):
            doc[key + "Raw"] = str(doc.pop(key))
    return doc


def ecs_doc(rec):
    """A record as Elastic's AWS integration stores it (ECS names): its
    pipeline renames userIdentity.userName to user.name, then the session
    issuer's userName when user.name is still free, and keeps no
    identityProvider, sessionContext.sourceIdentity or onBehalfOf."""
    ui = rec.get("userIdentity") or {}
    issuer = ((ui.get("sessionContext") or {}).get("sessionIssuer") or {})
    ct = {
        "error_code": rec.get("errorCode"),
        "event_type": rec.get("eventType"),
        "event_category": rec.get("eventCategory"),
        "read_only": rec.get("readOnly"),
        # The integration's pipeline keeps managementEvent as a keyword.
        "management_event": (None if rec.get("managementEvent") is None
                             else str(rec["managementEvent"]).lower()),
        "recipient_account_id": rec.get("recipientAccountId"),
        "shared_event_id": rec.get("sharedEventID"),
        "user_identity": {
            "type": ui.get("type"),
            "arn": ui.get("arn"),
            "access_key_id": ui.get("accessKeyId"),
            "session_context": {"session_issuer": {"arn": issuer.get("arn")}},
        },
        "flattened": {},
    }
    for src, dst in (("requestParameters", "request_parameters"),
                     ("responseElements", "response_elements")):
        if isinstance(rec.get(src), dict):
            ct["flattened"][dst] = rec[src]

    def prune(d):
        return {k: prune(v) if isinstance(v, dict) and k != "flattened" else v
                for k, v in d.items() if v is not None and v != {}}
    # cloud.region: awsRegion when not empty (the pipeline drops empty values).
    return prune({"@timestamp": rec["eventTime"],
                  "cloud": {"region": rec.get("awsRegion") or None},
                  "event": {"provider": rec["eventSource"], "action": rec["eventName"],
                            "id": rec.get("eventID")},
                  "user": {"name": ui.get("userName") or issuer.get("userName")},
                  "aws": {"cloudtrail": ct}})


ECS_INDEX = "logs-aws.cloudtrail-default"


def ecs_mapping(flavor):
    kw = {"type": "keyword"}
    flat = {"type": "flat_object" if flavor == "os2" else "flattened"}
    return {"mappings": {"properties": {
        "@timestamp": {"type": "date"},
        "cloud": {"properties": {"region": kw}},
        "event": {"properties": {"provider": kw, "action": kw, "id": kw}},
        "user": {"properties": {"name": kw}},
        "aws": {"properties": {"cloudtrail": {"properties": {
            "error_code": kw, "recipient_account_id": kw, "shared_event_id": kw,
            "event_type": kw, "event_category": kw, "read_only": {"type": "boolean"},
            "management_event": kw,
            "user_identity": {"properties": {
                "type": kw, "arn": kw, "access_key_id": kw,
                "session_context": {"properties": {"session_issuer": {"properties": {
                    "arn": kw}}}}}},
            "flattened": {"properties": {"request_parameters": flat,
                                         "response_elements": flat}}}}}}}}}


class Client:
    """Just enough HTTP to load a server (with Basic or SigV4 when needed)."""

    def __init__(self, url, basic=None, signer=None):
        self.url, self.basic, self.signer = url, basic, signer

    def call(self, method, path, body=None, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": ctype} if data else {}
        headers.update(getattr(self, "headers", {}))
        if self.basic:
            import base64
            headers["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % self.basic).encode()).decode()
        if self.signer:
            path_only, _, query = path.partition("?")
            headers.update(self.signer.headers(method, "127.0.0.1:%d" % self.url.port,
                                               path_only, query, data or b""))
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=60,
                                    context=getattr(self.url, "ssl_context", None)) as resp:
            return json.loads(resp.read() or b"null")

    def has_reference_template(self, flavor):
        path = "/_template/cloudtrail" if flavor == "es6" else "/_index_template/cloudtrail"
        try:
            self.call("GET", path)
            return True
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return False
            raise

    def load(self, records, schema, flavor, prefix="cloudtrail", people=True):
        """Indexes records as `schema` lays them out. On a server of
        --mapping template (the reference's template), under a template
        with the fields the sessions question reads too, as a cluster set
        up for this version of cloudtracker has (unless not `people`)."""
        if people and schema != "ecs" and self.has_reference_template(flavor):
            install_people_template(self, flavor)
        if schema == "ecs":
            self.call("PUT", "/" + ECS_INDEX, json.dumps(ecs_mapping(flavor)))
        lines = []
        for rec in records:
            if schema == "ecs":
                index, doc = ECS_INDEX, ecs_doc(rec)
            else:
                index, doc = prefix + "-" + rec["eventTime"][:7].replace("-", "."), \
                    keyword_doc(rec)
            meta = {"_index": index, "_id": rec["eventID"]}
            if flavor == "es6":
                meta["_type"] = "_doc"
            lines.append(json.dumps({"create": meta}))
            lines.append(json.dumps(doc))
        resp = self.call("POST", "/_bulk?refresh=true", "\n".join(lines) + "\n",
                         "application/x-ndjson")
        failed = [i for i in resp["items"] if i["create"]["status"] >= 300]
        if failed:
            raise AssertionError("bulk load failed: %s" % failed[:3])


# The fields the sessions question reads that the reference's recommended
# template (the server's --mapping template) and cloudtracker's
# mapping_version 1 lack.
PEOPLE_FIELDS = {
    "userIdentity": {"identityProvider": None, "onBehalfOf": {"userId": None,
                                                              "identityStoreArn": None}},
    "requestParameters": {"sourceIdentity": None},
    "responseElements": {"sourceIdentity": None, "subject": None,
                         "subjectFromWebIdentityToken": None, "issuer": None,
                         "provider": None},
}


def people_mappings():
    """The server's template mappings with PEOPLE_FIELDS as keywords: a
    template of one's own made ready for the sessions question."""
    mappings = copy.deepcopy(CLOUDTRAIL_TEMPLATE_MAPPINGS)

    def add(props, fields):
        for name, sub in fields.items():
            if sub is None:
                props[name] = {"type": "keyword"}
            else:
                add(props.setdefault(name, {"properties": {}})["properties"], sub)
    add(mappings["properties"], PEOPLE_FIELDS)
    return mappings


def install_people_template(client, flavor):
    """Puts people_mappings() in a template for cloudtrail-* that wins over
    the server's own (a composable one does not merge with it)."""
    if flavor == "es6":
        client.call("PUT", "/_template/cloudtrail-people", json.dumps({
            "index_patterns": ["cloudtrail-*"], "order": 1,
            "mappings": {"_doc": people_mappings()}}))
    else:
        client.call("PUT", "/_index_template/cloudtrail-people", json.dumps({
            "index_patterns": ["cloudtrail-*"], "priority": 200,
            "template": {"mappings": people_mappings()}}))


def write_config(folder, es_section):
    text = (
        "accounts:\n"
        "  - name: demo\n    id: \"111111111111\"\n    iam: %s/demo/iam/demo.json\n"
        "    identity_store: %s/demo/iam/identity-store.json\n"
        "  - name: backup\n    id: \"222222222222\"\n    iam: %s/demo/iam/backup.json\n"
        "window:\n  end: 2018-06-30\n"
        "elasticsearch:\n%s" % (ROOT, ROOT, ROOT, es_section))
    path = os.path.join(folder, "config.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def case_args(name, config):
    """The golden case's arguments, pointed at `config`, without --store."""
    with open(os.path.join(GOLDEN, name + ".args")) as f:
        raw = [line.rstrip("\n") for line in f]
    args, skip = [], False
    for a in raw:
        if skip:
            skip = False
            continue
        if a == "--store":
            skip = True
            continue
        args.append(config if a in ("@ROOT@/config.yaml.example", VIS_CONFIG)
                    else a.replace("@ROOT@", ROOT))
    return args


def golden(name):
    with open(os.path.join(GOLDEN, name + ".out")) as f:
        out = f.read()
    rc_path = os.path.join(GOLDEN, name + ".rc")
    rc = int(open(rc_path).read()) if os.path.exists(rc_path) else 0
    return out, rc


def run_ct(args, env_extra=None, timeout=60):
    env = dict(os.environ, CLOUDTRACKER_TODAY=TODAY)
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    p = subprocess.run([BIN] + args, capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def run_ct_rusage(args, tmp, env_extra=None, timeout=120):
    """run_ct, plus the process's peak RSS in KiB (wait4: this process only)."""
    env = dict(os.environ, CLOUDTRACKER_TODAY=TODAY)
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    out_path, err_path = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen([BIN] + args, stdout=out, stderr=err, env=env)
    try:
        _, status, usage = os.wait4(p.pid, 0)
    finally:
        p.returncode = 0  # reaped by wait4: Popen must not wait again
    with open(out_path, encoding="utf-8") as out, open(err_path, encoding="utf-8") as err:
        return os.waitstatus_to_exitcode(status), out.read(), err.read(), usage.ru_maxrss


# Control bytes a server may put in an error's reason: each must reach the
# terminal escaped exactly once (ESC as \x1b, a backslash as \\).
NASTY_REASON = "bad \x1b[31mred\x1b[0m \\path\r\nX-Next: 1 \x7f \u00e9"
NASTY_PRINTED = "bad \\x1b[31mred\\x1b[0m \\\\path\\x0d\\x0aX-Next: 1 \\x7f \u00e9"

CLEARTEXT_WARNING = ("cloudtracker: warning: elasticsearch credentials are sent unencrypted to "
                     "%s: use https:// (plain http:// is only safe to this machine)\n")

RECORDS = None


def records():
    global RECORDS
    if RECORDS is None:
        RECORDS = demo_records()
    return RECORDS


class Base(unittest.TestCase):
    def setUp(self):
        if not BIN or not os.access(BIN, os.X_OK):
            self.skipTest("set CLOUDTRACKER_BIN to the built cloudtracker")
        self.tmp = tempfile.mkdtemp(prefix="ct-es-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def check_goldens(self, srv, config, env=None, cases=CASES, budget=True):
        for name in cases:
            with self.subTest(case=name):
                srv.clear_log()
                rc, out, err = run_ct(case_args(name, config), env)
                want_out, want_rc = golden(name)
                self.assertEqual(out, want_out, "stderr: " + err)
                self.assertEqual(rc, want_rc, "stderr: " + err)
                if budget:
                    self.check_budget(name, srv.settled_requests())

    def check_budget(self, name, log):
        # The data events of the account (composite source "ro", readOnly)
        # are asked once, only when a data-event action is in the diff.
        data = [r for r in log if "ro" in r.get("composite_sources", [])]
        self.assertLessEqual(len(data), 1, log)
        searches = [r for r in log if r["path"].endswith("/_search") and r not in data]
        detect = [r for r in log if r["path"] == "/" or "/_mapping/field/" in r["path"]]
        counts = [r for r in log if r["path"].endswith("/_count")]
        self.assertLessEqual(len(detect), 2, log)
        self.assertLessEqual(len(counts), 1, log)
        with open(os.path.join(GOLDEN, name + ".args")) as f:
            args = f.read().split("\n")
        # The demo's answers fit in one composite page each. --user/--role:
        # one search (--role --format json two: the sessions question tells
        # who used the role); --list one (--list people: the sessions
        # question, both its aggregations in one search); --person two (the
        # sessions, then one batch of their calls); --destrole up to four
        # (the keys the principal's AssumeRoles issued, one batch of their
        # calls, the sessions question for role chains, one batch of the
        # chained sessions' calls).
        if "--person" in args:
            want = 2
        elif "--destrole" in args:
            want = 4
        else:
            want = 2 if "--role" in args and "json" in args else 1
        self.assertLessEqual(len(searches), want, [r["path"] for r in log])
        self.assertEqual(len(log), len(detect) + len(counts) + len(searches) + len(data), log)


class VisibilityTests(Base):
    """The visibility goldens (data events, event kinds, permission-free and
    request-dependent calls) answered from every schema, and from what the
    loader itself wrote (files.timestamp_field included)."""

    def run_schema(self, flavor, mapping, schema="cloudtrail"):
        with running_server(flavor=flavor, mapping=mapping) as srv:
            Client(srv).load(vis_records(), schema, flavor)
            index = ECS_INDEX.rsplit("-", 1)[0] + "-*" if schema == "ecs" else "cloudtrail-*"
            config = write_vis_config(self.tmp, "  url: %s\n  index: '%s'\n" % (srv, index))
            self.check_goldens(srv, config, cases=VIS_CASES)

    def test_es8_template(self):
        self.run_schema("es8", "template")

    def test_es7_dynamic(self):
        self.run_schema("es7", "dynamic")

    def test_es6_template(self):
        self.run_schema("es6", "template")

    def test_os2_ecs(self):
        self.run_schema("os2", "dynamic", "ecs")

    def test_loaded_by_cloudtracker(self):
        for flavor in ("es8", "os2"):
            with self.subTest(flavor=flavor), running_server(flavor=flavor) as srv:
                config = write_vis_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
                rc, out, err = run_ct(["ingest", "--to", "elasticsearch", "--config", config,
                                       "--rejects", os.path.join(self.tmp, "rejects.ndjson")])
                self.assertEqual(rc, 0, err)
                self.assertIn("19 records read: 19 indexed", err)
                self.check_goldens(srv, config, cases=VIS_CASES)


class EveryFlavor:
    """The flavors and field schemas a backend answer must agree in: each
    test is run_flavor(flavor, mapping[, schema]) of the class using it."""

    def test_es7_dynamic(self):
        self.run_flavor("es7", "dynamic")

    def test_es7_template(self):
        self.run_flavor("es7", "template")

    def test_es8_dynamic(self):
        self.run_flavor("es8", "dynamic")

    def test_es8_template(self):
        self.run_flavor("es8", "template")

    def test_os2_dynamic(self):
        self.run_flavor("os2", "dynamic")

    def test_os2_template(self):
        self.run_flavor("os2", "template")

    def test_es6_dynamic(self):
        self.run_flavor("es6", "dynamic")

    def test_es6_template(self):
        self.run_flavor("es6", "template")

    def test_es8_ecs(self):
        self.run_flavor("es8", "dynamic", "ecs")

    def test_os2_ecs(self):
        self.run_flavor("os2", "dynamic", "ecs")


# Elastic's AWS integration keeps no onBehalfOf (see ECS_NAMES in
# src/es/es_source.c): from its indices the demo's application session that
# acts for erin names nobody, so these goldens cannot hold there (the
# sessions answers are compared with those columns empty in
# BulkQuestionTests).
ECS_LOSSY_CASES = {"demo_people_list", "demo_people_list_json", "demo_person_erin_app"}


class GoldenTests(EveryFlavor, Base):
    """Every demo golden case, per flavor and schema."""

    def run_flavor(self, flavor, mapping, schema=None, forced=False):
        with running_server(flavor=flavor, mapping=mapping) as srv:
            Client(srv).load(records(), schema or "cloudtrail", flavor)
            section = "  url: %s\n  index: '%s'\n" % (
                srv, ECS_INDEX.rsplit("-", 1)[0] + "-*" if schema == "ecs" else "cloudtrail-*")
            if forced:
                section += "  schema: %s\n" % (schema or ("keyword" if mapping == "template"
                                                          else "dynamic"))
            config = write_config(self.tmp, section)
            self.check_goldens(srv, config, cases=[c for c in CASES if schema != "ecs"
                                                   or c not in ECS_LOSSY_CASES])
            if schema != "ecs":
                self.check_review(srv, config)

    def check_review(self, srv, config):
        """`cloudtracker review` of both demo accounts: the same review as
        the store's golden (but for what only a store knows: the trail files
        read), in two searches per account (its calls; its coverage with its
        data events) and two for all (the sessions; the people's calls)."""
        srv.clear_log()
        rc, out, err = run_ct(["review", "--config", config, "--format", "json"])
        self.assertEqual(rc, 0, err)
        got = json.loads(out)
        want = json.loads(golden("review_demo_json")[0])
        self.assertEqual(got.pop("backend"), "elasticsearch")
        want.pop("backend")
        for doc in (got, want):
            doc.pop("command_line")
            for account in doc["accounts"]:
                account["iam_file"] = os.path.basename(account["iam_file"])
        for account in got["accounts"]:
            self.assertIsNone(account["coverage"].pop("trail_files"))
        for account in want["accounts"]:
            account["coverage"].pop("trail_files")
        self.assertEqual(got, want)
        searches = [r for r in srv.settled_requests() if r["path"].endswith("/_search")]
        self.assertEqual(len(searches), 2 * len(got["accounts"]) + 2,
                         [r.get("composite_sources") for r in searches])


    def test_small_max_buckets_pages(self):
        # search.max_buckets 10: pages shrink from 10,000 to 10 after three
        # refusals, and every answer is then paged through with after_key.
        with running_server(flavor="es7", mapping="template", max_buckets=10) as srv:
            Client(srv).load(records(), "cloudtrail", "es7")
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            self.check_goldens(srv, config, budget=False)
            most = 0
            for name in CASES:
                srv.clear_log()
                run_ct(case_args(name, config))
                searches = [r for r in srv.settled_requests() if r["path"].endswith("/_search")]
                self.assertEqual([r["status"] for r in searches[:3]], [503, 503, 503])
                self.assertTrue(all(r["status"] == 200 for r in searches[3:]))
                most = max(most, len(searches) - 3)
            self.assertGreater(most, 1)  # some answer took several pages

    def test_forced_schema_skips_detection(self):
        with running_server(flavor="es8", mapping="template") as srv:
            Client(srv).load(records(), "cloudtrail", "es8")
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n"
                                            "  schema: keyword\n" % srv)
            srv.clear_log()
            rc, out, err = run_ct(case_args("demo_alice", config))
            self.assertEqual((rc, out), (0, golden("demo_alice")[0]), err)
            log = srv.settled_requests()
            # alice has calls, so the "no events for the account" check
            # (one _count) is not needed: one request plus version detection,
            # and one for the account's data events (cloudwatch:GetMetricData,
            # granted to her, is a data event).
            self.assertEqual([r["path"] for r in log],
                             ["/", "/cloudtrail-*/_search", "/cloudtrail-*/_search"])
            self.assertEqual([r["composite_sources"] for r in log[1:]],
                             [["src", "name", "type"], ["src", "name", "ro"]])


class TransportTests(Base):
    """Authentication, failover and failures against one loaded server."""

    def test_basic_auth_secret_from_env(self):
        with running_server(flavor="es8", mapping="template",
                            auth="basic:elastic:pa55word") as srv:
            Client(srv, basic=("elastic", "pa55word")).load(records(), "cloudtrail", "es8")
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n"
                                            "  username: elastic\n  password_env: CT_ES_PW\n"
                                            % srv)
            self.check_goldens(srv, config, {"CT_ES_PW": "pa55word"},
                               ["demo_alice", "demo_bob_destrole_admin"])
            rc, out, err = run_ct(case_args("demo_alice", config), {"CT_ES_PW": "wrong-pw"})
            self.assertEqual((rc, out), (EXIT_UNREACHABLE, ""), err)
            self.assertIn(srv, err)
            self.assertIn("401", err)
            self.assertNotIn("wrong-pw", err)

    def test_api_key(self):
        with running_server(flavor="es7", mapping="template", auth="apikey:kid:ksecret") as srv:
            import base64
            enc = base64.b64encode(b"kid:ksecret").decode()
            c = Client(srv)
            c.basic = None
            # Load with the encoded key as a header.
            orig = c.call

            def call(method, path, body=None, ctype="application/json"):
                data = body.encode() if isinstance(body, str) else body
                req = urllib.request.Request(srv + path, data=data, method=method,
                                             headers={"Content-Type": ctype,
                                                      "Authorization": "ApiKey " + enc})
                with urllib.request.urlopen(req, timeout=60) as resp:
                    return json.loads(resp.read())
            c.call = call
            c.load(records(), "cloudtrail", "es7")
            del orig
            for key in ("kid:ksecret", enc):
                config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n"
                                                "  api_key_env: CT_ES_KEY\n" % srv)
                self.check_goldens(srv, config, {"CT_ES_KEY": key}, ["demo_alice"])

    def test_control_characters_in_secrets(self):
        # A CR LF in a secret would put a header of its own on the wire:
        # refused before any request, naming where the value came from but
        # never showing it.
        injected = "S3CRET\r\nX-Injected: yes"
        with running_server(flavor="es8", mapping="template", auth="bearer:S3CRET") as srv:
            loader = Client(srv)
            loader.headers = {"Authorization": "Bearer S3CRET"}
            loader.load(records(), "cloudtrail", "es8")
            base = "  url: %s\n  index: 'cloudtrail-*'\n" % srv
            cases = [
                ("  bearer_token_env: CT_ES_TOKEN\n", {"CT_ES_TOKEN": injected},
                 "environment variable 'CT_ES_TOKEN' (elasticsearch.bearer_token_env)"),
                ("  api_key_env: CT_ES_KEY\n", {"CT_ES_KEY": "id:S3CRET\x7f"},
                 "environment variable 'CT_ES_KEY' (elasticsearch.api_key_env)"),
                ("  username: elastic\n  password_env: CT_ES_PW\n", {"CT_ES_PW": "S3CRET\tx"},
                 "environment variable 'CT_ES_PW' (elasticsearch.password_env)"),
                ("  bearer_token: \"S3CRET\\r\\nX-Injected: yes\"\n", {},
                 "elasticsearch.bearer_token"),
                ("  username: \"S3CRET\\nX-Injected: yes\"\n  password: pw\n", {},
                 "elasticsearch.username"),
                ("  aws_sigv4: {region: eu-west-1, service: es}\n",
                 {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
                  "AWS_SESSION_TOKEN": injected},
                 "environment variable 'AWS_SESSION_TOKEN' (elasticsearch.aws_sigv4)"),
                ("  aws_sigv4: {region: eu-west-1, service: es}\n",
                 {"AWS_ACCESS_KEY_ID": "S3CRET\r\nX-Injected: yes",
                  "AWS_SECRET_ACCESS_KEY": "secret"},
                 "environment variable 'AWS_ACCESS_KEY_ID' (elasticsearch.aws_sigv4)"),
            ]
            for section, env, named in cases:
                with self.subTest(named=named):
                    srv.clear_log()
                    config = write_config(self.tmp, base + section)
                    rc, out, err = run_ct(case_args("demo_alice", config), env)
                    self.assertEqual((rc, out), (EXIT_CONFIG, ""), err)
                    self.assertEqual(err.count("\n"), 1, err)
                    self.assertIn(named + " holds a control character", err)
                    self.assertNotIn("Injected", err)
                    self.assertNotIn("S3CRET", err)
                    log = srv.settled_requests()
                    self.assertEqual([r for r in log if "x-injected" in r["headers"]], [])
                    self.assertEqual(log, [])
            # The same token without the injection is accepted.
            config = write_config(self.tmp, base + "  bearer_token_env: CT_ES_TOKEN\n")
            rc, out, err = run_ct(case_args("demo_list_roles", config), {"CT_ES_TOKEN": "S3CRET"})
            self.assertEqual((out, rc), golden("demo_list_roles"), err)

    def test_sigv4(self):
        access, secret, token = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok/en+="
        with running_server(flavor="os2", mapping="template",
                            auth="sigv4:%s:%s:eu-west-1:es:%s" % (access, secret, token)) as srv:
            signer = IndependentSigner(access, secret, "eu-west-1", "es", token)
            Client(srv, signer=signer).load(records(), "cloudtrail", "os2")
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*,cloudtrail'\n"
                                            "  aws_sigv4: {region: eu-west-1, service: es}\n"
                                            % srv)
            env = {"AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret,
                   "AWS_SESSION_TOKEN": token}
            # A concrete index that does not exist would be a 404: add it.
            Client(srv, signer=signer).call("PUT", "/cloudtrail")
            self.check_goldens(srv, config, env,
                               ["demo_alice", "demo_bob_destrole_admin", "demo_list_users"])
            rc, out, err = run_ct(case_args("demo_alice", config),
                                  dict(env, AWS_SECRET_ACCESS_KEY="wrong"))
            self.assertEqual((rc, out), (EXIT_UNREACHABLE, ""), err)
            self.assertIn("403", err)
            self.assertNotIn("wrong", err.replace("wrong-", ""))
            rc, out, err = run_ct(case_args("demo_alice", config),
                                  {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
            self.assertEqual((rc, out), (EXIT_CONFIG, ""), err)


class TlsTests(Base):
    def test_tls(self):
        if not shutil.which("openssl"):
            self.skipTest("no openssl to make a certificate")
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        with running_server(flavor="es8", mapping="template", tls=(cert, key)) as srv:
            self.assertTrue(srv.startswith("https://"))
            Client(srv).load(records(), "cloudtrail", "es8")
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n"
                                            "  ca_cert: cert.pem\n" % srv)
            self.check_goldens(srv, config, cases=["demo_alice", "demo_list_roles"])
            self.assertTrue(all(r["tls"] for r in srv.settled_requests()))
            # Without the CA the certificate is refused...
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            rc, out, err = run_ct(case_args("demo_alice", config),
                                  {"SSL_CERT_FILE": "/nonexistent", "CURL_CA_BUNDLE": ""})
            self.assertEqual((rc, out), (EXIT_UNREACHABLE, ""), err)
            self.assertIn("TLS", err)
            self.assertIn(srv, err)
            # ... unless verification is turned off, which warns.
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n"
                                            "  insecure: true\n" % srv)
            rc, out, err = run_ct(case_args("demo_alice", config))
            self.assertEqual((rc, out), (0, golden("demo_alice")[0]), err)
            self.assertIn("insecure", err)

    def test_skip_setup_is_accepted(self):
        with running_server(flavor="es7", mapping="template") as srv:
            Client(srv).load(records(), "cloudtrail", "es7")
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            rc, out, err = run_ct(case_args("demo_alice", config) + ["--skip-setup"])
            self.assertEqual((rc, out, err), (0, golden("demo_alice")[0], ""))


class FailureTests(Base):
    """Each failure: its exit code, a message naming the host, nothing on stdout."""

    @classmethod
    def setUpClass(cls):
        cls.ctx = running_server(flavor="es8", mapping="template")
        cls.srv = cls.ctx.__enter__()
        Client(cls.srv).load(records(), "cloudtrail", "es8")

    @classmethod
    def tearDownClass(cls):
        cls.ctx.__exit__(None, None, None)

    def setUp(self):
        super().setUp()
        self.srv.control("DELETE", "/__faults")
        self.srv.clear_log()
        self.config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n"
                                             "  request_timeout: 2\n  retries: 2\n" % self.srv)

    def expect(self, code, case="demo_alice", config=None, needle=None):
        rc, out, err = run_ct(case_args(case, config or self.config))
        self.assertEqual(out, "", err)
        self.assertEqual(rc, code, err)
        self.assertEqual(err.count("\n"), 1, err)
        if needle:
            self.assertIn(needle, err)
        return err

    def test_retry_then_success(self):
        self.srv.fault("429", count=2, path="_search")
        rc, out, err = run_ct(case_args("demo_alice", self.config))
        self.assertEqual((rc, out), (0, golden("demo_alice")[0]), err)
        searches = [r for r in self.srv.settled_requests() if r["path"].endswith("_search")]
        # The calls' search was retried twice; then the data events' search.
        self.assertEqual([r["status"] for r in searches], [429, 429, 200, 200])

    def test_busy_gives_up(self):
        for kind in ("429", "503"):
            with self.subTest(kind=kind):
                self.srv.control("DELETE", "/__faults")
                self.srv.clear_log()
                self.srv.fault(kind, count=-1, path="_search")
                err = self.expect(EXIT_UNREACHABLE, needle=self.srv)
                self.assertIn("busy", err)
                searches = [r for r in self.srv.settled_requests() if r["path"].endswith("_search")]
                self.assertEqual(len(searches), 3)  # the first try and 2 retries

    def test_server_error(self):
        self.srv.fault("500", path="_search")
        self.expect(EXIT_PARTIAL, needle="HTTP 500")

    def test_gateway_error(self):
        self.srv.fault("502", path="_search")
        self.expect(EXIT_UNREACHABLE, needle="HTTP 502")

    def test_partial_results(self):
        for kind, needle in (("partial_shards", "shard"), ("timed_out", "timed out")):
            with self.subTest(kind=kind):
                self.srv.control("DELETE", "/__faults")
                self.srv.fault(kind, path="_search")
                self.expect(EXIT_PARTIAL, needle=needle)
        self.srv.control("DELETE", "/__faults")
        self.srv.fault("partial_shards", path="_search")
        self.expect(EXIT_PARTIAL, case="demo_bob_destrole_admin")
        self.srv.fault("partial_shards", path="_search")
        self.expect(EXIT_PARTIAL, case="demo_list_users")
        # The "no events for the account" check (_count) runs when an answer
        # is empty: a partial count must not pass for "no logs" either.
        self.srv.control("DELETE", "/__faults")
        self.srv.fault("partial_shards", path="_count")
        self.expect(EXIT_PARTIAL, case="demo_window_empty")

    def test_truncated_and_closed(self):
        self.srv.fault("truncate", path="_search")
        self.expect(EXIT_PARTIAL, needle=self.srv)
        # libcurl resends once, on a new connection, a request whose reused
        # connection closed before answering (the keep-alive race): the
        # second close is the failure.
        self.srv.fault("close", count=2, path="_search")
        self.expect(EXIT_UNREACHABLE, needle=self.srv)

    def test_timeout(self):
        # Held until the next test clears the faults: longer than the 2 s
        # request_timeout however slow the machine is.
        self.srv.fault("stall", path="_search", seconds=3600)
        self.expect(EXIT_UNREACHABLE, needle="no answer")

    def test_error_reason_escaped_once(self):
        self.srv.fault("500", path="_search", reason=NASTY_REASON)
        err = self.expect(EXIT_PARTIAL)
        self.assertEqual(err, "cloudtracker: elasticsearch at %s: POST /cloudtrail-*/_search "
                              "failed (HTTP 500): exception: %s\n" % (self.srv, NASTY_PRINTED))
        self.srv.fault("partial_shards", path="_search", reason=NASTY_REASON)
        err = self.expect(EXIT_PARTIAL)
        self.assertEqual(err, "cloudtracker: elasticsearch at %s: 1 shard(s) failed: results "
                              "would be partial: %s\n" % (self.srv, NASTY_PRINTED))

    def test_answer_without_aggregations(self):
        # A 200 "{}" (a proxy, a gateway) is not "no calls": read so, every
        # grant would print as unused. Only a search over no shard at all may
        # answer without aggregations.
        self.srv.fault("empty_answer", path="_search")
        self.expect(EXIT_PARTIAL, needle="the search answered without its composite buckets")
        config = write_config(self.tmp, "  url: %s\n  index: 'nothing-here-*'\n" % self.srv)
        rc, out, err = run_ct(case_args("demo_alice", config))
        self.assertEqual(rc, 0, err)
        self.assertIn("holds no events for account demo", err)

    def test_answer_too_large(self):
        # The least limit allowed (1 MiB), so the bodies can stay small; the
        # demo's answers are far below it.
        config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n"
                                        "  max_response_bytes: 1048576\n" % self.srv)
        rc, out, err = run_ct(case_args("demo_alice", config))
        self.assertEqual((rc, out, err), (0, golden("demo_alice")[0], ""))
        want = ("cloudtracker: elasticsearch at %s: the answer to POST /cloudtrail-*/_search is "
                "larger than 1048576 bytes (elasticsearch.max_response_bytes): stopped reading "
                "it\n" % self.srv)
        # A gzip body of 256 KB that inflates to 256 MiB: the client must
        # stop inflating at the limit, so it never holds the whole of it.
        self.srv.clear_log()
        self.srv.fault("gzip_bomb", path="_search", bytes=256 << 20)
        rc, out, err, rss_kib = run_ct_rusage(case_args("demo_alice", config), self.tmp)
        self.assertEqual((rc, out, err), (EXIT_PARTIAL, "", want))
        self.assertLess(rss_kib, 128 << 10)
        searches = [r for r in self.srv.settled_requests() if r["path"].endswith("/_search")]
        self.assertEqual([r["fault"] for r in searches], ["gzip_bomb"])  # not sent again
        # A plain 64 MiB body: the client stops reading at the limit, so the
        # server cannot send the rest (the connection is gone).
        self.srv.clear_log()
        self.srv.fault("huge_body", path="_search", bytes=64 << 20)
        rc, out, err = run_ct(case_args("demo_alice", config))
        self.assertEqual((rc, out, err), (EXIT_PARTIAL, "", want))
        searches = [r for r in self.srv.settled_requests() if r["path"].endswith("/_search")]
        self.assertEqual([r["fault"] for r in searches], ["huge_body"])
        self.assertIn("error", searches[0])

    def test_cleartext_credentials_warning(self):
        # An http:// host that is not this machine (and cannot be reached):
        # the warning comes once, before the connection error.
        for url in ("http://no-such-host.invalid:9200", "http://no-such-host.invalid:9200/es"):
            config = write_config(self.tmp, "  url: %s\n  username: elastic\n"
                                            "  password_env: CT_ES_PW\n" % url)
            rc, out, err = run_ct(case_args("demo_alice", config), {"CT_ES_PW": "pw"})
            self.assertEqual((rc, out), (EXIT_UNREACHABLE, ""), err)
            lines = err.splitlines(True)
            self.assertEqual(len(lines), 2, err)
            self.assertEqual(lines[0], CLEARTEXT_WARNING % url)
            self.assertIn("no-such-host.invalid", lines[1])
        # Several such hosts: still one warning, naming the first.
        config = write_config(self.tmp, "  hosts: ['http://no-such-host.invalid:9200', "
                                        "'http://other.invalid:9200']\n"
                                        "  bearer_token_env: CT_ES_TOKEN\n")
        rc, out, err = run_ct(case_args("demo_alice", config), {"CT_ES_TOKEN": "t"})
        self.assertEqual((rc, out), (EXIT_UNREACHABLE, ""), err)
        self.assertEqual(err.count("warning"), 1, err)
        self.assertTrue(err.startswith(CLEARTEXT_WARNING % "http://no-such-host.invalid:9200"))
        # No warning over https, without credentials, or to this machine.
        for section, env in (("  url: https://no-such-host.invalid:9200\n"
                              "  api_key_env: CT_ES_KEY\n", {"CT_ES_KEY": "k"}),
                             ("  url: http://no-such-host.invalid:9200\n", {})):
            config = write_config(self.tmp, section)
            rc, out, err = run_ct(case_args("demo_alice", config), env)
            self.assertEqual((rc, out), (EXIT_UNREACHABLE, ""), err)
            self.assertNotIn("warning", err)
        with running_server(flavor="es8", mapping="template",
                            auth="basic:elastic:pa55word") as srv:
            Client(srv, basic=("elastic", "pa55word")).load(records(), "cloudtrail", "es8")
            local = srv.replace("127.0.0.1", "localhost")
            for url in (srv, local):
                config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n"
                                                "  username: elastic\n  password_env: CT_ES_PW\n"
                                                % url)
                rc, out, err = run_ct(case_args("demo_alice", config), {"CT_ES_PW": "pa55word"})
                self.assertEqual((rc, out, err), (0, golden("demo_alice")[0], ""))

    def test_missing_index(self):
        config = write_config(self.tmp, "  url: %s\n  index: 'nosuch'\n" % self.srv)
        self.expect(EXIT_CONFIG, config=config, needle="nosuch")

    def test_unreachable_and_failover(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        dead = "http://127.0.0.1:%d" % s.getsockname()[1]
        s.close()
        config = write_config(self.tmp, "  url: %s\n  connect_timeout: 2\n" % dead)
        self.expect(EXIT_UNREACHABLE, config=config, needle=dead)
        config = write_config(self.tmp, "  hosts: ['%s', '%s']\n  index: 'cloudtrail-*'\n"
                                        % (dead, self.srv))
        rc, out, err = run_ct(case_args("demo_alice", config))
        self.assertEqual((rc, out), (0, golden("demo_alice")[0]), err)
        config = write_config(self.tmp, "  hosts: ['%s', '%s']\n  connect_timeout: 2\n"
                                        % (dead, dead))
        self.expect(EXIT_UNREACHABLE, config=config, needle="none of the 2 hosts answered")
        config = write_config(self.tmp, "  url: http://no-such-host.invalid:9200\n")
        self.expect(EXIT_UNREACHABLE, config=config, needle="no-such-host.invalid")

    def test_not_json(self):
        # An HTTP server that is not Elasticsearch: the control endpoint's
        # 404 for an unknown path is JSON but has no version.
        config = write_config(self.tmp, "  url: %s/__nothing\n" % self.srv)
        rc, out, err = run_ct(case_args("demo_alice", config))
        self.assertEqual(out, "")
        self.assertIn(rc, (EXIT_UNREACHABLE, EXIT_PARTIAL), err)


class SessionBudgetTests(Base):
    """--destrole stays at 2 + ceil(N/10000) searches for N sessions."""

    def test_many_sessions(self):
        sessions = 12000
        user = "arn:aws:iam::111111111111:user/alice"
        role = "arn:aws:iam::111111111111:role/admin"
        docs = []
        for i in range(sessions):
            key = "ASIA%016d" % i
            docs.append({"eventTime": "2018-06-01T10:00:00Z", "eventSource": "sts.amazonaws.com",
                         "eventName": "AssumeRole", "eventID": "a%d" % i,
                         "recipientAccountId": "111111111111",
                         "userIdentity": {"type": "IAMUser", "arn": user},
                         "requestParameters": {"roleArn": role},
                         "responseElements": {"credentials": {"accessKeyId": key}}})
            if i % 1000 == 0:
                docs.append({"eventTime": "2018-06-01T11:00:00Z",
                             "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
                             "eventID": "c%d" % i, "recipientAccountId": "111111111111",
                             "userIdentity": {
                                 "type": "AssumedRole", "accessKeyId": key,
                                 "arn": "arn:aws:sts::111111111111:assumed-role/admin/s",
                                 "sessionContext": {"sessionIssuer": {"arn": role}}}})
        with running_server(flavor="es8", mapping="template") as srv:
            Client(srv).load(docs, "cloudtrail", "es8")
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            srv.clear_log()
            rc, out, err = run_ct(["--config", config, "--account", "demo", "--user", "alice",
                                   "--destrole", "admin", "--show-used", "--format", "json"])
            self.assertEqual(rc, 0, err)
            self.assertIn('"action": "s3:listallmybuckets", "status": "used", "calls": 12,', out)
            log = srv.settled_requests()
            searches = [r for r in log if r["path"].endswith("/_search")
                        and "ro" not in r["composite_sources"]]
            # Phase A: 2 composite pages (12,000 keys); phase B: 2 batches;
            # the sessions question (for role chains): 2 searches (5,000
            # openings beside the 13 buckets of session records, then the
            # other 7,000 openings in a page of 10,000 alone); and one search
            # for the account's data events (admin is granted data-event
            # actions).
            self.assertEqual(len(searches), 2 + 2 + 2, [r["path"] for r in log])
            self.assertLessEqual(len(log), 2 + 2 + 2 + 2 + 1)



# ---- the bulk questions (account_calls, sessions, session_calls), asked of both backends ----

PROBE_NAME = "ct_source_probe"
ACCT_A, ACCT_B = "111111111111", "222222222222"


def arn(account, kind):
    return "arn:aws:iam::%s:%s" % (account, kind)


def event(when, source, name, identity, account, event_id, **extra):
    rec = {"eventVersion": "1.08", "eventTime": when, "eventSource": source, "eventName": name,
           "awsRegion": "us-east-1", "eventID": event_id, "eventType": "AwsApiCall",
           "recipientAccountId": account, "userIdentity": identity}
    rec.update(extra)
    return rec


def user(account, name):
    return {"type": "IAMUser", "arn": arn(account, "user/" + name), "accountId": account,
            "accessKeyId": "AKIA" + name.upper()}


IDENTITY_STORE = "arn:aws:identitystore::111111111111:identitystore/d-1234567890"


def session(role_arn, name, key, typed=True, source_identity=None, on_behalf_of=None):
    account = role_arn.split(":")[4]
    ui = {"type": "AssumedRole",
          "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (account, role_arn.rsplit("/", 1)[1],
                                                        name),
          "accountId": account, "accessKeyId": key,
          "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role_arn,
                                               "userName": role_arn.rsplit("/", 1)[1],
                                               "accountId": account}}}
    if not typed:
        del ui["type"]
    if source_identity:
        ui["sessionContext"]["sourceIdentity"] = source_identity
    if on_behalf_of:
        ui["onBehalfOf"] = {"userId": on_behalf_of, "identityStoreArn": IDENTITY_STORE}
    return ui


def opening(when, caller, account, event_id, role_arn, name, key, api="AssumeRole",
            request=None, response=None, **extra):
    """An STS event that opened a session of role_arn named `name` with key
    `key`; request and response add members to its requestParameters and
    responseElements."""
    role_account, role_name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[1]
    return event(when, "sts.amazonaws.com", api, caller, account, event_id,
                 requestParameters=dict({"roleArn": role_arn, "roleSessionName": name,
                                         "durationSeconds": 3600}, **(request or {})),
                 responseElements=dict({
                     "credentials": {"accessKeyId": key, "sessionToken": "IQoJb3JpZ2luX2Vj",
                                     "expiration": "Jun 30, 2018 11:00:00 PM"},
                     "assumedRoleUser": {
                         "assumedRoleId": "AROAEXAMPLE:" + name,
                         "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (role_account,
                                                                       role_name, name)}},
                     **(response or {})), **extra)


ADMIN, DEPLOY = arn(ACCT_A, "role/admin"), arn(ACCT_A, "role/deploy")
AUDIT, SAML = arn(ACCT_B, "role/audit"), arn(ACCT_A, "role/saml-users")


def session_records():
    """June 2018 in accounts A and B: a role chain, a cross-account hop
    logged in both accounts, failed AssumeRoles, sessions opened before the
    window (within and beyond CT_SESSION_REACH), SAML and web identity, a
    session whose opening is not in the logs, a record without
    userIdentity.type, the root user, a federated user, an IAM path with
    ':', and principals of accounts whose ids look like A's."""
    alice, bob = user(ACCT_A, "alice"), user(ACCT_A, "bob")
    s1 = session(ADMIN, "alice-1", "ASIAALICEADMIN000001")
    return [
        event("2018-05-30T10:00:00Z", "iam.amazonaws.com", "ListUsers", alice, ACCT_A, "f-01"),
        event("2018-06-01T09:00:00Z", "sts.amazonaws.com", "GetCallerIdentity", alice, ACCT_A,
              "f-02"),
        # Opened within 12 h of the window, with a call inside it.
        opening("2018-05-31T20:00:00Z", alice, ACCT_A, "f-03", ADMIN, "late",
                "ASIAALICEADMIN000000"),
        event("2018-06-01T02:00:00Z", "s3.amazonaws.com", "ListBuckets",
              session(ADMIN, "late", "ASIAALICEADMIN000000"), ACCT_A, "f-04"),
        # Opened within reach but no call in the window: not a session of it.
        opening("2018-05-31T22:00:00Z", alice, ACCT_A, "f-05", ADMIN, "idle",
                "ASIAALICEADMIN000008"),
        # Opened beyond reach: its call is in, its opening is not known.
        opening("2018-05-31T06:00:00Z", alice, ACCT_A, "f-06", ADMIN, "old",
                "ASIAALICEADMINOLD001"),
        event("2018-06-01T00:30:00Z", "s3.amazonaws.com", "ListBuckets",
              session(ADMIN, "old", "ASIAALICEADMINOLD001"), ACCT_A, "f-07"),
        opening("2018-06-02T10:00:00Z", alice, ACCT_A, "f-08", ADMIN, "alice-1",
                "ASIAALICEADMIN000001"),
        event("2018-06-02T10:05:00Z", "s3.amazonaws.com", "ListBuckets", s1, ACCT_A, "f-09"),
        event("2018-06-02T10:10:00Z", "ec2.amazonaws.com", "DescribeInstances", s1, ACCT_A,
              "f-10", errorCode="Client.UnauthorizedOperation"),
        # The same session's call in a record without userIdentity.type.
        event("2018-06-02T10:20:00Z", "s3.amazonaws.com", "ListBuckets",
              session(ADMIN, "alice-1", "ASIAALICEADMIN000001", typed=False), ACCT_A, "f-11"),
        # A role chain: admin's session opens one of deploy.
        opening("2018-06-02T10:30:00Z", s1, ACCT_A, "f-12", DEPLOY, "chain",
                "ASIAADMINDEPLOY00001"),
        event("2018-06-02T10:35:00Z", "cloudformation.amazonaws.com", "CreateStack",
              session(DEPLOY, "chain", "ASIAADMINDEPLOY00001"), ACCT_A, "f-13"),
        # A cross-account hop, logged in both accounts at the same time: the
        # caller's copy (A) wins over B's, whose eventID is smaller.
        opening("2018-06-04T08:00:00Z", alice, ACCT_A, "ff-a", AUDIT, "audit",
                "ASIAALICEAUDIT000001", sharedEventID="shared-1"),
        opening("2018-06-04T08:00:00Z", {"type": "AWSAccount", "principalId": "AIDAALICE",
                                         "accountId": ACCT_A},
                ACCT_B, "00-b", AUDIT, "audit", "ASIAALICEAUDIT000001",
                sharedEventID="shared-1"),
        event("2018-06-04T08:05:00Z", "s3.amazonaws.com", "ListBuckets",
              session(AUDIT, "audit", "ASIAALICEAUDIT000001"), ACCT_B, "f-14"),
        # Failed AssumeRoles open nothing, even one that names a key.
        event("2018-06-05T12:00:00Z", "sts.amazonaws.com", "AssumeRole", bob, ACCT_A, "f-15",
              errorCode="AccessDenied", requestParameters={"roleArn": ADMIN,
                                                           "roleSessionName": "bob"}),
        opening("2018-06-05T12:01:00Z", bob, ACCT_A, "f-16", ADMIN, "bob",
                "ASIABOBFAILED0000001", errorCode="AccessDenied"),
        # Opened in the window without calls: a session all the same.
        opening("2018-06-06T09:00:00Z", alice, ACCT_A, "f-17", ADMIN, "quiet",
                "ASIAALICEADMIN000006"),
        # SAML and web identity: no ARN to charge the opening to.
        opening("2018-06-07T09:00:00Z", {"type": "SAMLUser", "principalId": "x:frank",
                                         "userName": "frank"},
                ACCT_A, "f-18", SAML, "frank@example.com", "ASIASAMLFRANK0000001",
                api="AssumeRoleWithSAML"),
        event("2018-06-07T09:05:00Z", "s3.amazonaws.com", "ListBuckets",
              session(SAML, "frank@example.com", "ASIASAMLFRANK0000001"), ACCT_A, "f-19"),
        opening("2018-06-12T09:00:00Z", {"type": "WebIdentityUser", "principalId": "w:1",
                                         "userName": "1"},
                ACCT_A, "f-20", DEPLOY, "web", "ASIAWEBDEPLOY0000001",
                api="AssumeRoleWithWebIdentity"),
        # A session whose opening is not in the logs.
        event("2018-06-08T09:00:00Z", "s3.amazonaws.com", "ListBuckets",
              session(ADMIN, "unknown", "ASIAUNKNOWNOPEN00001"), ACCT_A, "f-21"),
        event("2018-06-09T09:00:00Z", "iam.amazonaws.com", "ListUsers",
              {"type": "Root", "arn": arn(ACCT_A, "root"), "accountId": ACCT_A}, ACCT_A, "f-22"),
        event("2018-06-09T09:01:00Z", "signin.amazonaws.com", "ConsoleLogin",
              {"type": "Root", "arn": arn(ACCT_A, "root"), "accountId": ACCT_A}, ACCT_A, "f-23",
              eventType="AwsConsoleSignIn"),
        event("2018-06-10T09:00:00Z", "s3.amazonaws.com", "ListBuckets",
              {"type": "FederatedUser", "arn": "arn:aws:sts::%s:federated-user/dave" % ACCT_A,
               "accountId": ACCT_A,
               "sessionContext": {"sessionIssuer": {"type": "IAMUser",
                                                    "arn": arn(ACCT_A, "user/alice")}}},
              ACCT_A, "f-24"),
        event("2018-06-10T09:01:00Z", "iam.amazonaws.com", "GetUser",
              dict(user(ACCT_A, "carol"), arn=arn(ACCT_A, "user/ops:team/carol")), ACCT_A,
              "f-25"),
        event("2018-06-10T09:02:00Z", "s3.amazonaws.com", "ListBuckets", user(ACCT_B, "erin"),
              ACCT_B, "f-26"),
        event("2018-06-10T09:03:00Z", "s3.amazonaws.com", "ListBuckets",
              user("111111111112", "zed"), ACCT_A, "f-27"),
        event("2018-06-10T09:04:00Z", "s3.amazonaws.com", "ListBuckets",
              user("11111111111", "short"), ACCT_A, "f-28"),
        event("2018-06-11T09:00:00Z", "kms.amazonaws.com", "Decrypt",
              {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}, ACCT_A, "f-29",
              eventType="AwsServiceEvent"),
        event("2018-07-02T09:00:00Z", "iam.amazonaws.com", "ListUsers", alice, ACCT_A, "f-30"),
    ] + people_records()


# Roles of the people records (reference people-and-access-reviews.md §3).
SSO_ADMIN = arn(ACCT_A, "role/aws-reserved/sso.amazonaws.com/eu-west-1/"
                        "AWSReservedSSO_AdministratorAccess_a08e3792465d3f04")
GITHUB, DEV = arn(ACCT_A, "role/github-deploy"), arn(ACCT_A, "role/dev")
PROD, APP = arn(ACCT_B, "role/prod"), arn(ACCT_A, "role/app-qbusiness")
GITHUB_OIDC = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
GITHUB_SUBJECT = "repo:example/app:ref:refs/heads/main"


def people_records():
    """Who is behind role sessions, in the shapes CloudTrail logs them
    (reference §3): Identity Center (AssumeRoleWithSAML of an AWSReservedSSO
    role), web identity (GitHub Actions), an IAM user setting a source
    identity, then chaining into another account (logged in both), an
    identity-enhanced session (onBehalfOf, not on every event), a chain
    opened before the window, openings and calls on both sides of the
    window's reach (CT_CHAIN_REACH before 2018-06-01), and a failed chained
    AssumeRole whose record names a key."""
    bob = user(ACCT_A, "bob")
    alice = user(ACCT_A, "alice")
    sso = session(SSO_ADMIN, "alice@example.com", "ASIASSOALICE00000001")
    dev = session(DEV, "bob", "ASIABOBDEV0000000001", source_identity="bob@example.com")
    prod = session(PROD, "gntd-1a2b3c", "ASIABOBPROD000000001",
                   source_identity="bob@example.com")
    qualifier = "pWXdz1Cz7fPt0D+1eAcZz3mrGiU="
    return [
        # Identity Center: the member account's AssumeRoleWithSAML, then the
        # session's calls (named after the user).
        opening("2018-06-13T08:00:00Z",
                {"type": "SAMLUser", "principalId": qualifier + ":alice@example.com",
                 "userName": "alice@example.com", "identityProvider": qualifier},
                ACCT_A, "p-01", SSO_ADMIN, "alice@example.com", "ASIASSOALICE00000001",
                api="AssumeRoleWithSAML",
                request={"principalArn": arn(ACCT_A, "saml-provider/"
                                                     "AWSSSO_5f2a8e1c_DO_NOT_DELETE")},
                response={"subject": "alice@example.com", "subjectType": "persistent",
                          "issuer": "https://portal.sso.eu-west-1.amazonaws.com/saml/"
                                    "assertion/MTExMTExMTExMTExX2lucy0xMjM0",
                          "audience": "https://signin.aws.amazon.com/saml",
                          "nameQualifier": qualifier}),
        event("2018-06-13T08:05:00Z", "ec2.amazonaws.com", "DescribeInstances", sso, ACCT_A,
              "p-02"),
        event("2018-06-13T08:06:00Z", "iam.amazonaws.com", "ListRoles", sso, ACCT_A, "p-03"),
        # The Identity Center side: a portal event of the user, no key.
        event("2018-06-13T07:59:00Z", "sso.amazonaws.com", "Federate",
              {"type": "IdentityCenterUser", "accountId": ACCT_A,
               "onBehalfOf": {"userId": "544894e8-80c1-70f1-3ba6-1c28b6510dfa",
                              "identityStoreArn": IDENTITY_STORE},
               "credentialId": "AAAAAGZGa2V5"}, ACCT_A, "p-04", eventType="AwsServiceEvent"),
        # Web identity: GitHub Actions.
        opening("2018-06-14T09:00:00Z",
                {"type": "WebIdentityUser",
                 "principalId": GITHUB_OIDC + ":sts.amazonaws.com:" + GITHUB_SUBJECT,
                 "userName": GITHUB_SUBJECT, "identityProvider": GITHUB_OIDC},
                ACCT_A, "p-05", GITHUB, "GitHubActions", "ASIAWEBGITHUB0000001",
                api="AssumeRoleWithWebIdentity",
                response={"subjectFromWebIdentityToken": GITHUB_SUBJECT,
                          "provider": GITHUB_OIDC, "audience": "sts.amazonaws.com"}),
        event("2018-06-14T09:02:00Z", "cloudformation.amazonaws.com", "UpdateStack",
              session(GITHUB, "GitHubActions", "ASIAWEBGITHUB0000001"), ACCT_A, "p-06"),
        # An IAM user sets a source identity; it stays on the session's
        # calls and on the sessions it opens (role chaining to account B,
        # logged in both accounts).
        opening("2018-06-15T10:00:00Z", bob, ACCT_A, "p-07", DEV, "bob",
                "ASIABOBDEV0000000001", request={"sourceIdentity": "bob@example.com"},
                response={"sourceIdentity": "bob@example.com"}),
        event("2018-06-15T10:05:00Z", "s3.amazonaws.com", "GetObject", dev, ACCT_A, "p-08",
              eventCategory="Data", readOnly=True),
        opening("2018-06-15T10:10:00Z", dev, ACCT_A, "p-09", PROD, "gntd-1a2b3c",
                "ASIABOBPROD000000001", response={"sourceIdentity": "bob@example.com"},
                sharedEventID="shared-2"),
        opening("2018-06-15T10:10:00Z",
                {"type": "AWSAccount", "principalId": "AROAEXAMPLE:bob", "accountId": ACCT_A},
                ACCT_B, "p-10", PROD, "gntd-1a2b3c", "ASIABOBPROD000000001",
                response={"sourceIdentity": "bob@example.com"}, sharedEventID="shared-2"),
        event("2018-06-15T10:15:00Z", "rds.amazonaws.com", "DescribeDBInstances", prod, ACCT_B,
              "p-11"),
        # A chained AssumeRole that failed: its record names a key, but it
        # opened nothing (it is evidence of the session that called it).
        opening("2018-06-15T10:20:00Z", dev, ACCT_A, "p-12", DEPLOY, "gntd-ffff",
                "ASIABOBFAILED0000002", errorCode="AccessDenied"),
        # An identity-enhanced session: an AWS application opens it, its
        # calls carry the Identity Center user (not every service logs it).
        opening("2018-06-16T11:00:00Z",
                {"type": "AWSService", "invokedBy": "qbusiness.amazonaws.com"}, ACCT_A, "p-13",
                APP, "qbusiness-chat", "ASIAAPPQBIZ000000001",
                request={"providedContexts": [{"providerArn": "arn:aws:iam::aws:contextProvider"
                                                              "/IdentityCenter",
                                               "contextAssertion": "eyJhbGciOiJ"}]}),
        event("2018-06-16T11:01:00Z", "s3.amazonaws.com", "ListBuckets",
              session(APP, "qbusiness-chat", "ASIAAPPQBIZ000000001",
                      on_behalf_of="544894e8-80c1-70f1-3ba6-1c28b6510dfa"), ACCT_A, "p-14"),
        event("2018-06-16T11:02:00Z", "kms.amazonaws.com", "Decrypt",
              session(APP, "qbusiness-chat", "ASIAAPPQBIZ000000001"), ACCT_A, "p-15"),
        # Values that differ between a session's events: the smallest wins.
        event("2018-06-16T11:03:00Z", "s3.amazonaws.com", "GetObject",
              session(APP, "qbusiness-chat", "ASIAAPPQBIZ000000001",
                      on_behalf_of="144894e8-80c1-70f1-3ba6-1c28b6510dfa"), ACCT_A, "p-16"),
        # A chain opened before the window: hop 1 on its last evening, hop
        # 2 (by hop 1's session) inside it.
        opening("2018-05-31T23:00:00Z", alice, ACCT_A, "p-17", DEV, "alice",
                "ASIAALICEDEVHOP00001"),
        event("2018-05-31T23:10:00Z", "sts.amazonaws.com", "GetCallerIdentity",
              session(DEV, "alice", "ASIAALICEDEVHOP00001"), ACCT_A, "p-18"),
        opening("2018-06-01T00:05:00Z", session(DEV, "alice", "ASIAALICEDEVHOP00001"), ACCT_A,
                "p-19", DEPLOY, "hop-2", "ASIADEVDEPLOYHOP0001"),
        event("2018-06-01T00:10:00Z", "cloudformation.amazonaws.com", "DescribeStacks",
              session(DEPLOY, "hop-2", "ASIADEVDEPLOYHOP0001"), ACCT_A, "p-20"),
        # The reach of the June window starts at 2018-05-31T00:00:00Z. (A
        # source identity in the request only: the response's is read
        # first, then the request's.)
        opening("2018-05-31T00:00:00Z", bob, ACCT_A, "p-21", DEV, "edge-in",
                "ASIABOBDEVEDGE000001", request={"sourceIdentity": "bob@example.com"}),
        opening("2018-05-30T23:59:59Z", bob, ACCT_A, "p-22", DEV, "edge-out",
                "ASIABOBDEVEDGE000000"),
        event("2018-05-31T00:00:00Z", "sts.amazonaws.com", "GetCallerIdentity",
              session(DEV, "edge-old", "ASIABOBDEVEDGE000002"), ACCT_A, "p-23"),
        event("2018-05-30T23:59:59Z", "sts.amazonaws.com", "GetCallerIdentity",
              session(DEV, "edge-older", "ASIABOBDEVEDGE000003"), ACCT_A, "p-24"),
        # A role session's record without its session issuer: no session the
        # logs can tie to a role, in neither backend.
        event("2018-06-20T09:00:00Z", "s3.amazonaws.com", "ListBuckets",
              {"type": "AssumedRole", "accessKeyId": "ASIANOISSUER00000001",
               "arn": "arn:aws:sts::%s:assumed-role/dev/no-issuer" % ACCT_A,
               "accountId": ACCT_A}, ACCT_A, "p-25"),
    ]


# The store's fixture for the same questions (tests/data/bulk/README.md):
# February 2024, other partitions, an IAM path holding another account id.
BULK = os.path.join(ROOT, "tests", "data", "bulk")


def bulk_records():
    records = []
    for path in sorted(glob.glob(os.path.join(BULK, "AWSLogs", "**", "*.json"),
                                 recursive=True)):
        with open(path) as f:
            records.extend(json.load(f)["Records"])
    return records


# The store's fixture for the sessions questions (tests/data/people/README.md):
# March 2024, Identity Center, SAML, web identity, chains, the reach.
PEOPLE = os.path.join(ROOT, "tests", "data", "people")


def people_data_records():
    records = []
    for path in sorted(glob.glob(os.path.join(PEOPLE, "AWSLogs", "**", "*.json"),
                                 recursive=True)):
        with open(path) as f:
            records.extend(json.load(f)["Records"])
    return records


def coverage_records():
    """June 2018, for the coverage question: account A in other Regions,
    without awsRegion and with an empty one, data events of each kind
    (readOnly true, false, none; eventCategory, or only managementEvent),
    and events on the edges of June."""
    who = user(ACCT_A, "coverage")

    def ev(when, source, name, n, region="eu-west-1", **extra):
        rec = event(when, source, name, who, ACCT_A, "cov-%02d" % n, awsRegion=region,
                    **extra)
        if region is None:
            del rec["awsRegion"]
        return rec
    data = {"eventCategory": "Data", "managementEvent": False}
    return [
        ev("2018-05-31T23:59:59Z", "ec2.amazonaws.com", "DescribeRegions", 1, "sa-east-1"),
        ev("2018-06-20T08:00:00Z", "ec2.amazonaws.com", "DescribeInstances", 2),
        ev("2018-06-20T09:00:00Z", "ec2.amazonaws.com", "DescribeInstances", 3,
           "ap-southeast-2"),
        ev("2018-06-21T10:00:00Z", "iam.amazonaws.com", "ListUsers", 4, None),
        ev("2018-06-21T11:00:00Z", "ec2.amazonaws.com", "DescribeVpcs", 5, ""),
        ev("2018-06-22T12:00:00Z", "s3.amazonaws.com", "GetObject", 6, readOnly=True, **data),
        ev("2018-06-22T13:00:00Z", "s3.amazonaws.com", "GetObject", 7, "us-west-2",
           readOnly=True, **data),
        ev("2018-06-23T14:00:00Z", "s3.amazonaws.com", "PutObject", 8, readOnly=False, **data),
        ev("2018-06-24T15:00:00Z", "lambda.amazonaws.com", "Invoke", 9, None,
           eventCategory="Data"),
        ev("2018-06-25T16:00:00Z", "s3.amazonaws.com", "DeleteObject", 10,
           eventVersion="1.05", managementEvent=False, readOnly=False),
        ev("2018-06-30T23:59:59Z", "ec2.amazonaws.com", "DescribeRegions", 11, "eu-north-1"),
        ev("2018-07-01T00:00:00Z", "ec2.amazonaws.com", "DescribeRegions", 12, "me-south-1"),
    ]


def write_trail(folder, records):
    """The records as trail files (one per account and day) under folder."""
    by_file = {}
    for rec in records:
        day = rec["eventTime"][:10].replace("-", "/")
        by_file.setdefault((rec["recipientAccountId"], day), []).append(rec)
    for (account, day), recs in by_file.items():
        d = os.path.join(folder, "AWSLogs", account, "CloudTrail", "us-east-1", day)
        os.makedirs(d, exist_ok=True)
        name = "%s_CloudTrail_us-east-1_%sT0000Z_fixture.json.gz" % (account,
                                                                     day.replace("/", ""))
        with gzip.open(os.path.join(d, name), "wt", encoding="utf-8") as f:
            json.dump({"Records": recs}, f)


def write_probe_config(folder, name, paths, store, es_section=None):
    text = (
        "accounts:\n"
        "  - name: demo\n    id: \"%s\"\n    iam: %s/demo/iam/demo.json\n"
        "  - name: backup\n    id: \"%s\"\n    iam: %s/demo/iam/backup.json\n"
        "files:\n  paths: [%s]\n  store: %s\n"
        % (ACCT_A, ROOT, ACCT_B, ROOT, ", ".join(paths), store))
    if es_section:
        text += "elasticsearch:\n" + es_section
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def probe(config, start, end, *question):
    p = subprocess.run([PROBE, config, start, end] + list(question), capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def build_store(test, folder, paths):
    """An embedded store of `paths` and the config naming it (no elasticsearch:)."""
    config = write_probe_config(folder, "store.yaml", paths, os.path.join(folder, "store.db"))
    rc, out, err = run_ct(["ingest", "--config", config])
    test.assertEqual(rc, 0, err)
    return config


# Keys of sessions of every kind, a key of no session, and an IAM user's.
JUNE_SESSION_CALLS = ("2018-06-01", "2018-06-30", "session-calls", "ASIAALICEADMIN000001",
                      "ASIAADMINDEPLOY00001", "ASIABOBDEV0000000001", "ASIABOBPROD000000001",
                      "ASIASSOALICE00000001", "ASIAAPPQBIZ000000001", "ASIANOSUCHKEY0000000",
                      "AKIAALICE", "ASIANOISSUER00000001")
# A record without userIdentity.type; a session without calls.
JUNE_2_SESSION_CALLS = ("2018-06-02", "2018-06-02", "session-calls", "ASIAALICEADMIN000001",
                        "ASIAALICEADMIN000006")

# (window, question...) asked of the demo, session_records(), bulk_records()
# and people_data_records() together.
BULK_QUESTIONS = [
    ("2018-01-01", "2018-12-31", "account-calls", ACCT_A),
    ("2018-01-01", "2018-12-31", "account-calls", ACCT_B),
    ("2018-03-01", "2018-05-15", "account-calls", ACCT_A),
    ("2018-06-01", "2018-06-30", "account-calls", ACCT_A),
    ("2018-06-01", "2018-06-30", "account-calls", ACCT_B),
    ("2018-06-01", "2018-06-30", "account-calls", "111111111112"),
    ("2018-06-01", "2018-06-30", "account-calls", "11111111111"),
    ("2018-01-01", "2018-12-31", "account-calls", "999999999999"),
    ("2024-02-10", "2024-02-12", "account-calls", ACCT_A),
    ("2024-02-10", "2024-02-12", "account-calls", ACCT_B),
    ("2024-02-01", "2024-02-29", "account-calls", "444444444444"),
    ("2024-02-01", "2024-02-29", "account-calls", "555555555555"),
    ("2018-06-01", "2018-06-30", "sessions"),
    ("2018-06-01", "2018-06-01", "sessions"),
    ("2018-06-15", "2018-06-15", "sessions"),
    ("2018-03-01", "2018-05-15", "sessions"),
    ("2018-01-01", "2018-12-31", "sessions"),
    ("2018-07-01", "2018-07-31", "sessions"),
    ("2024-02-10", "2024-02-12", "sessions"),
    ("2024-02-01", "2024-02-29", "sessions"),
    JUNE_SESSION_CALLS,
    JUNE_2_SESSION_CALLS,
    ("2018-05-31", "2018-06-01", "session-calls", "ASIAALICEDEVHOP00001",
     "ASIABOBDEVEDGE000002", "ASIABOBDEVEDGE000003", "ASIAALICEADMINOLD001"),
    ("2018-03-01", "2018-05-15", "session-calls", "ASIABACKUPCHARLIE001",
     "ASIADEMOALICEADMIN01", "ASIADEMOBOBADMIN0001"),
    ("2024-03-10", "2024-03-12", "sessions"),
    ("2024-03-11", "2024-03-11", "sessions"),
    ("2024-03-01", "2024-03-31", "sessions"),
    ("2024-03-10", "2024-03-12", "session-calls", "ASIAPEOPLEALICE00001",
     "ASIAPEOPLEOPS0000002", "ASIAPEOPLEBOBAUDIT03", "ASIAPEOPLESAMLERIN04",
     "ASIAPEOPLEWEBAPP0005", "ASIAPEOPLESSOJANE006", "ASIAPEOPLEAPPROLE007",
     "ASIAPEOPLECAROLDEV08", "ASIAPEOPLEDEPLOY0009", "ASIAPEOPLEFRANKNT010",
     "ASIAPEOPLEGRACE00011", "ASIAPEOPLEHEIDI00012", "ASIAPEOPLEIVAN000013",
     "ASIAPEOPLELATE000014", "ASIAPEOPLENOOPEN0015"),
    ("2024-02-01", "2024-02-29", "session-calls", "ASIACHAINOPS00000001",
     "ASIAOPSALICE00000001", "ASIAOPSALICE00000003", "ASIAOPSALICE00000008",
     "ASIAOPSBOB0000000002", "ASIAOPSBOB0000000004", "ASIAOPSCAROL00000005",
     "ASIAOPSNOOPENING0007", "ASIAOPSSAML000000006"),
    # Days, Regions, data events; the edges of June; the bulk fixture's
    # other partitions; an account without events.
    ("2018-06-01", "2018-06-30", "account-coverage", ACCT_A),
    ("2018-06-30", "2018-07-01", "account-coverage", ACCT_A),
    ("2018-01-01", "2018-12-31", "account-coverage", ACCT_B),
    ("2024-02-01", "2024-02-29", "account-coverage", ACCT_A),
    ("2018-01-01", "2018-12-31", "account-coverage", "999999999999"),
]


# What Elastic's AWS integration keeps none of (see ecs_doc): the columns
# of the probe's lines that answers from ECS indices have empty.
ECS_DROPPED = {"session": (4, 5, 6),  # source identity, onBehalfOf userId, identity store
               "opened": (7,)}         # the caller's identityProvider


def es_answer(question, store_answer, schema="cloudtrail"):
    """What Elasticsearch answers where the store answers `store_answer`:
    without what ECS indices lack, and without the files the store read
    (Elasticsearch holds records, not files)."""
    if schema == "ecs":
        store_answer = ecs_answer(store_answer)
    if question[2] == "account-coverage":
        store_answer = re.sub(r"^files\t.*$", "files\tunknown", store_answer, flags=re.M)
    return store_answer


def ecs_answer(store_answer):
    lines = []
    for line in store_answer.splitlines(True):
        fields = line.rstrip("\n").split("\t")
        for i in ECS_DROPPED.get(fields[0], ()):
            fields[i] = ""
        lines.append("\t".join(fields) + "\n")
    return "".join(lines)


class BulkQuestionTests(EveryFlavor, Base):
    """account_calls, sessions and session_calls answered by Elasticsearch exactly as
    by the embedded store (ct_source_probe's lines), in every flavor and
    schema, within a bounded number of searches, and nothing but an error
    when the cluster fails."""

    @classmethod
    def setUpClass(cls):
        cls.store_tmp = tempfile.mkdtemp(prefix="ct-es-bulk-")
        cls.store_answers = None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.store_tmp, True)

    def setUp(self):
        super().setUp()
        if not os.access(PROBE, os.X_OK):
            self.skipTest("no %s next to the cloudtracker binary" % PROBE)
        cls = type(self)
        if cls.store_answers is None:
            fixture = os.path.join(cls.store_tmp, "fixture")
            write_trail(fixture, session_records() + coverage_records())
            config = build_store(self, cls.store_tmp,
                                 [os.path.join(ROOT, "demo", "logs"), fixture, BULK, PEOPLE])
            cls.store_answers = []
            for q in BULK_QUESTIONS:
                rc, out, err = probe(config, *q)
                self.assertEqual((rc, err), (0, ""), q)
                cls.store_answers.append(out)
            self.check_store_answers(dict(zip(BULK_QUESTIONS, cls.store_answers)))

    def check_store_answers(self, answers):
        """What the fixture is there for shows in the answers (so the
        comparison is not between two empty lists)."""
        june_a = answers[("2018-06-01", "2018-06-30", "account-calls", ACCT_A)]
        for who in ("root", "user/ops:team/carol", "role/admin", "role/deploy", "user/alice"):
            self.assertIn("call\t%s\t" % arn(ACCT_A, who), june_a)
        self.assertIn("call\t%s\ts3.amazonaws.com\tListBuckets\tAwsApiCall\t5\t0\t"
                      "2018-06-01\t2018-06-08\n" % ADMIN, june_a)
        self.assertNotIn("zed", june_a)
        self.assertEqual(answers[("2018-06-01", "2018-06-30", "account-calls", "11111111111")],
                         "call\tarn:aws:iam::11111111111:user/short\ts3.amazonaws.com\t"
                         "ListBuckets\tAwsApiCall\t1\t0\t2018-06-10\t2018-06-10\n")
        june = answers[("2018-06-01", "2018-06-30", "sessions")]
        for line in (
                # Identity Center: the SAML subject and issuer; the caller's
                # userName and identityProvider.
                "session\tASIASSOALICE00000001\t%s\talice@example.com\t\t\t\tactive\t"
                "2018-06-13\n" % SSO_ADMIN,
                "opened\tAssumeRoleWithSAML\t%s\t\tSAMLUser\t\talice@example.com\t"
                "pWXdz1Cz7fPt0D+1eAcZz3mrGiU=\talice@example.com\thttps://portal.sso."
                "eu-west-1.amazonaws.com/saml/assertion/MTExMTExMTExMTExX2lucy0xMjM0\t\t"
                "alice@example.com\t%s\tp-01\t\t1528876800\n" % (SSO_ADMIN, ACCT_A),
                # Web identity: the token's subject and the provider.
                "opened\tAssumeRoleWithWebIdentity\t%s\t\tWebIdentityUser\t\t%s\t%s\t%s\t"
                "%s\t\tGitHubActions\t%s\tp-05\t\t1528966800\n"
                % (GITHUB, GITHUB_SUBJECT, GITHUB_OIDC, GITHUB_SUBJECT, GITHUB_OIDC, ACCT_A),
                # A source identity on the calls, and on the chained hop
                # (whose caller's copy, in account A, names the caller).
                "session\tASIABOBDEV0000000001\t%s\tbob\tbob@example.com\t\t\tactive\t"
                "2018-06-15\n" % DEV,
                "opened\tAssumeRole\t%s\t%s\tAssumedRole\tASIABOBDEV0000000001\t\t\t\t\t"
                "bob@example.com\tgntd-1a2b3c\t%s\tp-09\tshared-2\t1529057400\n"
                % (PROD, DEV, ACCT_A),
                # onBehalfOf: the smallest of the two values.
                "session\tASIAAPPQBIZ000000001\t%s\tqbusiness-chat\t\t"
                "144894e8-80c1-70f1-3ba6-1c28b6510dfa\t%s\tactive\t2018-06-16\n"
                % (APP, IDENTITY_STORE),
                # The reach: opened at its first second, no call; a call on
                # its first second.
                "session\tASIABOBDEVEDGE000001\t%s\t\t\t\t\tinactive\t-\n" % DEV,
                "opened\tAssumeRole\t%s\t%s\tIAMUser\tAKIABOB\t\t\t\t\tbob@example.com\t"
                "edge-in\t%s\tp-21\t\t1527724800\n" % (DEV, arn(ACCT_A, "user/bob"), ACCT_A),
                "session\tASIABOBDEVEDGE000002\t%s\tedge-old\t\t\t\tinactive\t"
                "2018-05-31\n" % DEV):
            self.assertIn(line, june)
        for key in ("ASIABOBDEVEDGE000000", "ASIABOBDEVEDGE000003", "ASIABOBFAILED0000002",
                    "AKIA", "ASIANOISSUER00000001"):
            self.assertNotIn("session\t" + key, june)
        march = answers[("2024-03-10", "2024-03-12", "sessions")]
        self.assertIn("session\tASIAPEOPLEAPPROLE007\tarn:aws:iam::111111111111:role/AppRole\t"
                      "qbusiness-session\t\t544894e8-80c1-4b2d-9e7a-3ba6510dfac1\t", march)
        self.assertIn("session\tASIAPEOPLEIVAN000013\t", march)
        self.assertNotIn("ASIAPEOPLEHEIDI00012", march)
        self.assertNotIn("ASIAPEOPLELATE000014", march)
        calls = answers[JUNE_SESSION_CALLS]
        self.assertIn("call\tASIABOBDEV0000000001\tsts.amazonaws.com\tAssumeRole\tAwsApiCall\t1"
                      "\t1\t2018-06-15\t2018-06-15\n", calls)
        self.assertNotIn("AKIAALICE", calls)
        self.assertNotIn("ASIANOISSUER00000001", calls)
        self.assertIn("call\tASIAALICEADMIN000001\ts3.amazonaws.com\tListBuckets\tAwsApiCall\t"
                      "2\t0\t2018-06-02\t2018-06-02\n", answers[JUNE_2_SESSION_CALLS])
        # The coverage: every kind of Region and data event, the window's
        # edges (a second before and after June), the files the store read.
        june = answers[("2018-06-01", "2018-06-30", "account-coverage", ACCT_A)]
        lines = june.splitlines()
        days = [line.split("\t") for line in lines if line.startswith("day\t")]
        self.assertEqual(lines[0], "coverage\t%d" % sum(int(d[2]) for d in days))
        self.assertEqual(days, sorted(days))
        self.assertEqual(days[-1], ["day", "2018-06-30", "1"])
        regions = [line[7:] for line in lines if line.startswith("region\t")]
        self.assertEqual(regions, ["", "ap-southeast-2", "eu-north-1", "eu-west-1", "us-east-1",
                                   "us-west-2"])
        for line in ("data\ts3.amazonaws.com\tGetObject\ttrue\t3\t2018-06-15\t2018-06-22",
                     "data\ts3.amazonaws.com\tPutObject\tfalse\t1\t2018-06-23\t2018-06-23",
                     "data\ts3.amazonaws.com\tDeleteObject\tfalse\t1\t2018-06-25\t2018-06-25",
                     "data\tlambda.amazonaws.com\tInvoke\t-\t1\t2018-06-24\t2018-06-24"):
            self.assertIn(line, lines)
        self.assertRegex(lines[-1], r"^files\t[1-9][0-9]*\t0\t0$")
        edges = answers[("2018-06-30", "2018-07-01", "account-coverage", ACCT_A)]
        self.assertIn("day\t2018-07-01\t1\nregion\teu-north-1\nregion\tme-south-1\n", edges)
        self.assertRegex(answers[("2018-01-01", "2018-12-31", "account-coverage",
                                  "999999999999")], r"^coverage\t0\nfiles\t[0-9]+\t0\t0\n$")

    def run_flavor(self, flavor, mapping, schema="cloudtrail"):
        with running_server(flavor=flavor, mapping=mapping) as srv:
            Client(srv).load(records() + session_records() + coverage_records() +
                             bulk_records() + people_data_records(), schema, flavor)
            index = ECS_INDEX.rsplit("-", 1)[0] + "-*" if schema == "ecs" else "cloudtrail-*"
            config = write_probe_config(self.tmp, "es.yaml", [], os.path.join(self.tmp, "no.db"),
                                        "  url: %s\n  index: '%s'\n" % (srv, index))
            for q, want in zip(BULK_QUESTIONS, self.store_answers):
                with self.subTest(question=q):
                    srv.clear_log()
                    rc, out, err = probe(config, *q)
                    self.assertEqual((rc, err), (0, ""))
                    self.assertEqual(out, es_answer(q, want, schema))
                    # After version and schema detection, one search each:
                    # account-calls and sessions two aggregations in one,
                    # session-calls one per 10,000 keys, account-coverage
                    # one (its data events, days and Regions).
                    log = srv.settled_requests()
                    searches = [r for r in log if r["path"].endswith("/_search")]
                    self.assertEqual(len(searches), 1, log)
                    self.assertEqual(len(log), 3, log)

    def test_es71_takes_interval(self):
        # Elasticsearch before 7.2 has no fixed_interval: the day histogram
        # of the coverage question asks by `interval` (ES 8 refuses that,
        # which the other flavors' tests show is not sent to them).
        with running_server(flavor="es7", mapping="template",
                            extra_args=("--version", "7.1.1")) as srv:
            Client(srv).load(records() + session_records() + coverage_records() +
                             bulk_records(), "cloudtrail", "es7")
            config = write_probe_config(self.tmp, "es.yaml", [], os.path.join(self.tmp, "no.db"),
                                        "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            for q, want in zip(BULK_QUESTIONS, self.store_answers):
                if q[2] == "account-coverage":
                    with self.subTest(question=q):
                        self.assertEqual(probe(config, *q), (0, es_answer(q, want), ""))

    def test_loaded_by_cloudtracker(self):
        # The same trail files through `ingest --to elasticsearch` (its
        # mapping and alias), for es6's legacy template and a composable one.
        for flavor in ("es6", "os2"):
            with self.subTest(flavor=flavor), running_server(flavor=flavor) as srv:
                config = write_probe_config(
                    self.tmp, "es.yaml", [os.path.join(ROOT, "demo", "logs"),
                                          os.path.join(self.store_tmp, "fixture"), BULK,
                                          PEOPLE],
                    os.path.join(self.tmp, "no.db"), "  url: %s\n" % srv)
                rc, out, err = run_ct(["ingest", "--to", "elasticsearch", "--config", config,
                                       "--rejects", os.path.join(self.tmp, "rejects.ndjson")])
                self.assertEqual(rc, 0, err)
                for q, want in zip(BULK_QUESTIONS, self.store_answers):
                    with self.subTest(question=q):
                        self.assertEqual(probe(config, *q), (0, es_answer(q, want), ""))



# The resources calls named (principal_resources): the fixture of
# tests/data/resources/README.md (April 2024), the Stratus Red Team logs
# (AssumeRole with a resources array, ssm GetParameters) and the bulk
# fixture's AssumeRole calls.
RESOURCES = os.path.join(ROOT, "tests", "data", "resources")
STRATUS = os.path.join(ROOT, "tests", "data", "stratus-red-team")
RES_ALICE, RES_APP = arn(ACCT_A, "user/res-alice"), arn(ACCT_A, "role/res-app")
RES_LONG = arn(ACCT_A, "user/res-long")
APRIL = ("2024-04-01", "2024-04-30")
RESOURCE_QUESTIONS = [
    APRIL + ("principal-resources", RES_ALICE),
    ("2024-04-11", "2024-04-11", "principal-resources", RES_ALICE),
    APRIL + ("principal-resources", RES_APP),
    APRIL + ("principal-resources", arn(ACCT_A, "user/nobody")),
    ("2024-02-01", "2024-02-29", "principal-resources", arn(ACCT_A, "user/alice")),
    ("2024-02-01", "2024-02-29", "principal-resources", arn(ACCT_A, "user/bob")),
    ("2024-02-01", "2024-02-29", "principal-resources", arn(ACCT_A, "role/ops")),
    ("2024-07-01", "2024-08-31", "principal-resources",
     arn("933175858973", "user/christophe")),
    ("2024-07-01", "2024-08-31", "principal-resources",
     arn("457448411975", "user/christophe")),
]
# A set longer than the mapping indexes (CT_ES_RESOURCES_INDEXED): kept in
# _source, not indexed, so Elasticsearch counts its call as naming nothing
# where the store lists it.
LONG_QUESTION = APRIL + ("principal-resources", RES_LONG)
LONG_ES_ANSWER = ("resources\ts3.amazonaws.com\tGetObject\tAwsApiCall\t1\tsets\n"
                  "set\t1\tarn:aws:s3:::res-data\tarn:aws:s3:::res-data/short\n")


class ResourceTests(Base):
    """principal_resources answered from what `ingest --to elasticsearch`
    wrote exactly as the store answers it, in every flavor, in one search;
    from records no loader of ours derived the field for, as naming
    nothing; nothing but an error when the cluster fails."""

    @classmethod
    def setUpClass(cls):
        cls.store_tmp = tempfile.mkdtemp(prefix="ct-es-res-")
        cls.store_answers = None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.store_tmp, True)

    def setUp(self):
        super().setUp()
        if not os.access(PROBE, os.X_OK):
            self.skipTest("no %s next to the cloudtracker binary" % PROBE)
        cls = type(self)
        if cls.store_answers is None:
            config = build_store(self, cls.store_tmp, [RESOURCES, STRATUS, BULK])
            answers = {}
            for q in RESOURCE_QUESTIONS + [LONG_QUESTION]:
                rc, out, err = probe(config, *q)
                self.assertEqual((rc, err), (0, ""), q)
                answers[q] = out
            self.check_store_answers(answers)
            cls.store_answers = answers

    def check_store_answers(self, a):
        """What the fixture is there for shows in the store's answers."""
        alice = a[RESOURCE_QUESTIONS[0]]
        for text in (
                # Two days, one set; a failed call and an empty errorCode
                # left out; the window's first second in, its edges out.
                "resources\ts3.amazonaws.com\tGetBucketAcl\tAwsApiCall\t4\tsets\n"
                "set\t1\tarn:aws:s3:::edge-first\nset\t2\tarn:aws:s3:::logs-a\n"
                "set\t1\tarn:aws:s3:::logs-b\n",
                "resources\ts3.amazonaws.com\tGetBucketAcl\tAwsConsoleAction\t1\tsets\n",
                "set\t1\tarn:aws:lambda:eu-west-1:111111111111:function:fn-b\n",
                "set\t1\tarn:aws:sqs:eu-west-1:111111111111:q-a\n",
                "resources\tsqs.amazonaws.com\tReceiveMessage\tAwsApiCall\t70\tmore\n",
                "resources\tdynamodb.amazonaws.com\tDescribeTable\tAwsApiCall\t64\tsets\n",
                "resources\tec2.amazonaws.com\tCreateTags\tAwsApiCall\t1\tmore\n",
                "set\t1\tarn:aws:ec2:eu-west-1:111111111111:instance/i-1\t"
                "arn:aws:ec2:eu-west-1:111111111111:volume/vol-1\n",
                "set\t1\tarn:aws:ec2:eu-west-1:111111111111:instance/i-caf\u00e9\"q\\\\1\n",
                "set\t1\tarn:aws:iam::111111111111:role/res-app\n"):
            self.assertIn(text, alice)
        for absent in ("secret", "empty-error", "edge-before", "edge-after", "ListBuckets"):
            self.assertNotIn(absent, alice)
        self.assertEqual(alice.count("\nset\t1\tarn:aws:dynamodb:"), 64)
        self.assertNotIn("edge-first", a[RESOURCE_QUESTIONS[1]])
        self.assertIn("set\t2\tarn:aws:s3:::res-data\tarn:aws:s3:::res-data/in/a.csv\n",
                      a[RESOURCE_QUESTIONS[2]])
        self.assertEqual(a[RESOURCE_QUESTIONS[3]], "")
        self.assertIn("set\t3\tarn:aws:iam::111111111111:role/ops\n", a[RESOURCE_QUESTIONS[4]])
        self.assertIn("ssm.amazonaws.com\tGetParameters\tAwsApiCall\t5\tsets\n",
                      a[RESOURCE_QUESTIONS[7]])
        long_answer = a[LONG_QUESTION]
        self.assertIn("GetObject\tAwsApiCall\t2\tsets\n", long_answer)
        self.assertGreater(len(long_answer), 8191)

    def load(self, srv, paths, extra=""):
        """`ingest --to elasticsearch` of paths; the probe's config for srv."""
        config = write_probe_config(self.tmp, "es.yaml", paths, os.path.join(self.tmp, "no.db"),
                                    "  url: %s\n%s" % (srv, extra))
        rc, out, err = run_ct(["ingest", "--to", "elasticsearch", "--config", config,
                               "--rejects", os.path.join(self.tmp, "rejects.ndjson")])
        self.assertEqual(rc, 0, err)
        self.assertIn(" 0 rejected", err)
        return config, err

    def check_answers(self, srv, config, searches=1):
        for q in RESOURCE_QUESTIONS + [LONG_QUESTION]:
            with self.subTest(question=q):
                srv.clear_log()
                rc, out, err = probe(config, *q)
                self.assertEqual((rc, err), (0, ""))
                want = LONG_ES_ANSWER if q == LONG_QUESTION else self.store_answers[q]
                self.assertEqual(out, want)
                if searches is not None:
                    log = srv.settled_requests()
                    found = [r for r in log if r["path"].endswith("/_search")]
                    self.assertEqual(len(found), searches, log)
                    self.assertEqual(len(log), 2 + searches, log)  # GET /, the mappings

    def run_loaded(self, flavor):
        with running_server(flavor=flavor) as srv:
            config, _ = self.load(srv, [RESOURCES, STRATUS, BULK])
            self.check_answers(srv, config)

    def test_es6_loaded_by_cloudtracker(self):
        self.run_loaded("es6")

    def test_es7_loaded_by_cloudtracker(self):
        self.run_loaded("es7")

    def test_es8_loaded_by_cloudtracker(self):
        self.run_loaded("es8")

    def test_os2_loaded_by_cloudtracker(self):
        self.run_loaded("os2")

    def test_small_max_buckets_pages(self):
        # Each call kind brings up to 65 set buckets: with search.max_buckets
        # at 100 the pages shrink to one call kind each, and the answers stay
        # the same.
        with running_server(flavor="es8", max_buckets=100) as srv:
            config, _ = self.load(srv, [RESOURCES, STRATUS, BULK])
            self.check_answers(srv, config, searches=None)
            srv.clear_log()
            self.assertEqual(probe(config, *RESOURCE_QUESTIONS[0]),
                             (0, self.store_answers[RESOURCE_QUESTIONS[0]], ""))
            statuses = [r["status"] for r in srv.settled_requests()
                        if r["path"].endswith("/_search")]
            # Two refusals (pages of 151 and 15 call kinds), then a page per
            # call kind, and the empty page after the last full one.
            kinds = self.store_answers[RESOURCE_QUESTIONS[0]].count("resources\t")
            self.assertEqual(statuses, [400, 400] + [200] * (kinds + 1))

    def test_failures_leave_nothing(self):
        # A failed or partial page, first or later: an error, and no
        # answer (the probe prints what a backend leaves behind). The pages
        # hold one call kind each after two refused searches (see above).
        with running_server(flavor="es8", max_buckets=100) as srv:
            config, _ = self.load(srv, [RESOURCES])
            for kind, skip in (("partial_shards", 2), ("partial_shards", 6),
                               ("timed_out", 7), ("500", 8)):
                with self.subTest(kind=kind, skip=skip):
                    srv.control("DELETE", "/__faults")
                    srv.fault(kind, path="_search", skip=skip)
                    rc, out, err = probe(config, *RESOURCE_QUESTIONS[0])
                    self.assertEqual((rc, out), (1, ""), err)
                    self.assertIn(srv, err)

    def test_other_loaders_name_nothing(self):
        # Records indexed by another loader have no cloudtrackerResources:
        # every call names nothing, from every schema (ECS asks nothing).
        for flavor, mapping, schema in (("es8", "template", "cloudtrail"),
                                        ("os2", "dynamic", "cloudtrail"),
                                        ("es8", "dynamic", "ecs")):
            with self.subTest(flavor=flavor, mapping=mapping, schema=schema), \
                    running_server(flavor=flavor, mapping=mapping) as srv:
                recs = []
                for path in sorted(glob.glob(os.path.join(RESOURCES, "AWSLogs", "**", "*.json"),
                                             recursive=True)):
                    with open(path, encoding="utf-8") as f:
                        recs.extend(json.load(f)["Records"])
                Client(srv).load(recs, schema, flavor)
                index = ECS_INDEX if schema == "ecs" else "cloudtrail-*"
                config = write_probe_config(self.tmp, "es.yaml", [],
                                            os.path.join(self.tmp, "no.db"),
                                            "  url: %s\n  index: '%s'\n" % (srv, index))
                srv.clear_log()
                self.assertEqual(probe(config, *RESOURCE_QUESTIONS[0]), (0, "", ""))
                searches = [r for r in srv.settled_requests() if r["path"].endswith("/_search")]
                self.assertEqual(len(searches), 0 if schema == "ecs" else 1)

    def test_index_of_an_older_mapping_names_nothing(self):
        # An index an older cloudtracker made (mapping_version 2) keeps its
        # mapping: the loader still loads into it and warns, and the derived
        # field stays in _source only, so its calls name nothing.
        with running_server(flavor="es8") as srv:
            old = dict(people_mappings(), _meta={"cloudtracker": {"mapping_version": 2}})
            for month in ("2024.03", "2024.04", "2024.05"):
                srv.control("PUT", "/cloudtrail-" + month, {"mappings": old})
            config, err = self.load(srv, [RESOURCES])
            self.assertIn("(mapping_version 2): records there name no resources for "
                          "--resources", err)
            hit = Client(srv).call("POST", "/cloudtrail-2024.04/_search", json.dumps(
                {"query": {"term": {"eventName": "SendMessage"}}}))["hits"]["hits"][0]
            self.assertEqual(hit["_source"]["cloudtrackerResources"],
                             "arn:aws:sqs:eu-west-1:111111111111:q-a")
            self.assertEqual(probe(config, *RESOURCE_QUESTIONS[0]), (0, "", ""))


def request_kinds(srv):
    """The requests a server answered: "/", or the endpoint after the index."""
    return [r["path"] if r["path"] == "/" else r["path"].split("/")[2]
            for r in srv.settled_requests()]


class OldMappingTests(Base):
    """Indices whose explicit mapping lacks the fields the sessions question
    reads (cloudtracker's mapping_version 1, the reference's template) make
    it fail with a message naming them and how to reload them, rather than
    answer with those fields empty; the other questions still answer."""

    OLD_MESSAGE = (
        "ct_source_probe: elasticsearch at %s: %s loaded with an older mapping, which lacks "
        "fields that tell who is behind a role session (userIdentity.identityProvider, "
        "userIdentity.onBehalfOf.userId, userIdentity.onBehalfOf.identityStoreArn and 6 "
        "more): answering from %s would name fewer people. To reload %s, delete %s and the "
        "state index (cloudtracker-state), then run `cloudtracker ingest --to elasticsearch` "
        "again (docs/elasticsearch-load.md); indices cloudtracker did not load need these "
        "fields mapped as keyword, and a reindex\n")

    def setUp(self):
        super().setUp()
        if not os.access(PROBE, os.X_OK):
            self.skipTest("no %s next to the cloudtracker binary" % PROBE)

    def message(self, srv, indices):
        several = len(indices) > 1
        named = ", ".join(indices[:5]) + (" and %d more" % (len(indices) - 5)
                                          if len(indices) > 5 else "")
        them = "them" if several else "it"
        return self.OLD_MESSAGE % (srv, ("indices %s were" if several else "index %s was")
                                   % named, them, them, them)

    def create(self, srv, flavor, index, mappings):
        body = {"mappings": {"_doc": mappings} if flavor == "es6" else mappings}
        Client(srv).call("PUT", "/" + index, json.dumps(body))

    def config(self, srv, extra=""):
        return write_probe_config(self.tmp, "es.yaml", [], os.path.join(self.tmp, "no.db"),
                                  "  url: %s\n  index: 'cloudtrail-*'\n%s" % (srv, extra))

    def test_mapping_version_1(self):
        old = dict(CLOUDTRAIL_TEMPLATE_MAPPINGS,
                   _meta={"cloudtracker": {"mapping_version": 1}})
        new = dict(people_mappings(), _meta={"cloudtracker": {"mapping_version": 2}})
        for flavor in ("es6", "es8", "os2"):
            with self.subTest(flavor=flavor), running_server(flavor=flavor) as srv:
                self.create(srv, flavor, "cloudtrail-2018.05", new)
                self.create(srv, flavor, "cloudtrail-2018.06", old)
                self.create(srv, flavor, "cloudtrail-2018.07", new)
                Client(srv).load(session_records(), "cloudtrail", flavor)
                config = self.config(srv)
                srv.clear_log()
                rc, out, err = probe(config, "2018-06-01", "2018-06-30", "sessions")
                self.assertEqual((rc, out, err),
                                 (1, "", self.message(srv, ["cloudtrail-2018.06"])))
                # Found by schema detection: no search was made.
                self.assertEqual(request_kinds(srv), ["/", "_mapping"])
                # The questions that need none of those fields answer.
                for q in (("account-calls", ACCT_A), JUNE_SESSION_CALLS[2:]):
                    rc, out, err = probe(config, "2018-06-01", "2018-06-30", *q)
                    self.assertEqual((rc, err), (0, ""))
                    self.assertIn("call\t", out)

    def test_command_line_on_an_old_mapping(self):
        # The demo in an index of mapping_version 1: --destrole and a role's
        # JSON still answer from the questions that index can answer, say
        # what they cannot (role chains, who used the role) and exit 11;
        # --list people cannot answer at all (exit 3, the indices named).
        old = dict(CLOUDTRAIL_TEMPLATE_MAPPINGS, _meta={"cloudtracker": {"mapping_version": 1}})
        with running_server(flavor="es8") as srv:
            for month in ("03", "04", "05", "06"):
                self.create(srv, "es8", "cloudtrail-2018." + month, old)
            Client(srv).load(records(), "cloudtrail", "es8")
            config = write_config(self.tmp, "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            rc, out, err = run_ct(case_args("demo_alice_destrole_admin", config))
            self.assertEqual((rc, out), (11, golden("demo_alice_destrole_admin")[0]), err)
            self.assertIn("warning: role chains are not followed: elasticsearch at", err)
            rc, out, err = run_ct(case_args("demo_ci_deploy_json", config))
            self.assertEqual(rc, 11, err)
            self.assertIn("warning: who used the role is not known: elasticsearch at", err)
            doc = json.loads(out)
            self.assertNotIn("used_by", doc)
            self.assertEqual(len(doc["warnings"]), 1, doc["warnings"])
            rc, out, err = run_ct(case_args("demo_people_list", config))
            self.assertEqual((rc, out), (EXIT_CONFIG, ""), err)
            self.assertIn("were loaded with an older mapping", err)

    def test_reloading_as_told(self):
        # An index an older cloudtracker made, loaded into by this one (the
        # loader warns); then the message's advice: delete it and the state
        # index, ingest again.
        with running_server(flavor="es8") as srv:
            self.create(srv, "es8", "cloudtrail-2018.06",
                        dict(CLOUDTRAIL_TEMPLATE_MAPPINGS,
                             _meta={"cloudtracker": {"mapping_version": 1}}))
            config = write_probe_config(self.tmp, "es.yaml", [os.path.join(ROOT, "demo", "logs")],
                                        os.path.join(self.tmp, "no.db"), "  url: %s\n" % srv)
            ingest = ["ingest", "--to", "elasticsearch", "--config", config]
            rc, out, err = run_ct(ingest)
            self.assertEqual(rc, 0, err)
            rc, out, err = probe(config, "2018-06-01", "2018-06-30", "sessions")
            self.assertEqual((rc, out), (1, ""), err)
            self.assertIn("index cloudtrail-2018.06 was loaded with an older mapping", err)
            for index in ("cloudtrail-2018.06", "cloudtracker-state"):
                Client(srv).call("DELETE", "/" + index)
            rc, out, err = run_ct(ingest)
            self.assertEqual(rc, 0, err)
            rc, out, err = probe(config, "2018-06-01", "2018-06-30", "sessions")
            self.assertEqual((rc, err), (0, ""))
            self.assertIn("session\tASIADEMOHENRYOPS0001\t", out)

    def test_template_without_the_fields(self):
        # The reference's recommended template (the server's): no _meta.
        with running_server(flavor="es7", mapping="template") as srv:
            Client(srv).load(session_records(), "cloudtrail", "es7", people=False)
            rc, out, err = probe(self.config(srv), "2018-06-01", "2018-06-30", "sessions")
            self.assertEqual((rc, out, err), (1, "", self.message(
                srv, ["cloudtrail-2018.05", "cloudtrail-2018.06", "cloudtrail-2018.07"])))

    def test_many_indices_are_counted(self):
        with running_server(flavor="es8", mapping="template") as srv:
            recs = [event("2018-%02d-01T00:00:00Z" % m, "s3.amazonaws.com", "ListBuckets",
                          user(ACCT_A, "alice"), ACCT_A, "m-%d" % m) for m in range(1, 8)]
            Client(srv).load(recs, "cloudtrail", "es8", people=False)
            rc, out, err = probe(self.config(srv), "2018-06-01", "2018-06-30", "sessions")
            self.assertEqual((rc, out, err), (1, "", self.message(
                srv, ["cloudtrail-2018.%02d" % m for m in range(1, 8)])))

    def test_forced_schema_looks_at_the_mappings_once(self):
        # elasticsearch.schema skips detection: sessions asks for the
        # mappings itself, before its search.
        for old in (True, False):
            with self.subTest(old=old), running_server(flavor="es8", mapping="template") as srv:
                Client(srv).load(session_records(), "cloudtrail", "es8", people=not old)
                config = self.config(srv, "  schema: keyword\n")
                srv.clear_log()
                rc, out, err = probe(config, "2018-06-01", "2018-06-30", "sessions")
                paths = request_kinds(srv)
                if old:
                    self.assertEqual((rc, out), (1, ""), err)
                    self.assertIn("were loaded with an older mapping", err)
                    self.assertEqual(paths, ["/", "_mapping"])
                else:
                    self.assertEqual((rc, err), (0, ""))
                    self.assertIn("session\tASIABOBPROD000000001\t", out)
                    self.assertEqual(paths, ["/", "_mapping", "_search"])


class BulkBudgetTests(Base):
    """Many principals and sessions: the searches grow with the pages of
    the aggregations, never with the principals or sessions; a failed page
    leaves no answer."""

    N = 2500      # users of account A, and sessions of role admin
    PAGE = 1000   # search.max_buckets: composite pages shrink to this

    def many_records(self):
        alice = user(ACCT_A, "alice")
        recs = []
        for i in range(self.N):
            recs.append(event("2018-06-01T10:00:00Z", "s3.amazonaws.com", "ListBuckets",
                              user(ACCT_A, "u%05d" % i), ACCT_A, "u%05d" % i))
            key = "ASIA%016d" % i
            recs.append(opening("2018-06-02T10:00:00Z", alice, ACCT_A, "o%05d" % i, ADMIN,
                                "s%d" % i, key))
            recs.append(event("2018-06-02T11:00:00Z", "s3.amazonaws.com", "ListBuckets",
                              session(ADMIN, "s%d" % i, key), ACCT_A, "c%05d" % i))
        return recs

    def test_many_principals_and_sessions(self):
        recs = self.many_records()
        fixture = os.path.join(self.tmp, "fixture")
        write_trail(fixture, recs)
        store = build_store(self, self.tmp, [fixture])
        with running_server(flavor="es8", mapping="template", max_buckets=self.PAGE) as srv:
            Client(srv).load(recs, "cloudtrail", "es8")
            config = write_probe_config(self.tmp, "es.yaml", [], os.path.join(self.tmp, "no.db"),
                                        "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            # 2,500 unknown keys more make two batches of session keys.
            keys = ["ASIA%016d" % i for i in range(self.N + 10000)]
            # Searches: those refused at 10,000 buckets a page, then pages
            # of 1,000. account-calls (one search refused) has its two
            # aggregations in each search, 500 buckets each: the sessions
            # (one bucket: the role) and the users (2,501 buckets). sessions
            # (one refused) has two aggregations in each search, 500
            # buckets each: the sessions' records and alice's (2,501
            # buckets), the openings (2,500), the last page being the first
            # with less than 500. session-calls (two batches refused) pages
            # 2,500 sessions' calls in one batch, the other has none.
            for question, want in ((("account-calls", ACCT_A), 1 + -(-(self.N + 1) // (self.PAGE // 2))),
                                   (("sessions",), 1 + (self.N + 1) // (self.PAGE // 2) + 1),
                                   (["session-calls"] + keys, 2 + self.N // self.PAGE + 1 + 1)):
                with self.subTest(question=question[0]):
                    srv.clear_log()
                    rc, out, err = probe(config, "2018-06-01", "2018-06-30", *question)
                    self.assertEqual((rc, err), (0, ""))
                    self.assertEqual((0, out, ""), probe(store, "2018-06-01", "2018-06-30",
                                                         *question))
                    self.assertGreaterEqual(out.count("\n"), self.N)
                    searches = [r for r in srv.settled_requests()
                                if r["path"].endswith("/_search")]
                    self.assertEqual(len(searches), want, [r["status"] for r in searches])
                    # A page after the first ones fails: an error, no lines.
                    for fault, needle in (("partial_shards", "shard"),
                                          ("empty_answer", "without its composite buckets")):
                        srv.control("DELETE", "/__faults")
                        srv.fault(fault, path="_search", skip=4)
                        rc, out, err = probe(config, "2018-06-01", "2018-06-30", *question)
                        self.assertEqual((rc, out), (1, ""), err)
                        self.assertIn(needle, err)
                        self.assertEqual(err.count("\n"), 1, err)


    def test_coverage_pages_its_data_events(self):
        # 2,500 kinds of data event: the coverage's one search holds the
        # days and Regions and the first page of them; further pages are
        # searches of their own, which ask for the days and Regions no more.
        recs = []
        for i in range(self.N):
            recs.append(event("2018-06-%02dT10:00:00Z" % (1 + i % 10), "s3.amazonaws.com",
                              "Op%05d" % i, user(ACCT_A, "data"), ACCT_A, "d%05d" % i,
                              awsRegion=("us-east-1", "eu-west-1", "")[i % 3],
                              eventCategory="Data", readOnly=i % 2 == 0))
        fixture = os.path.join(self.tmp, "fixture")
        write_trail(fixture, recs)
        store = build_store(self, self.tmp, [fixture])
        question = ("2018-06-01", "2018-06-30", "account-coverage", ACCT_A)
        rc, want, err = probe(store, *question)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(want.count("\ndata\t"), self.N)
        with running_server(flavor="es8", mapping="template", max_buckets=self.PAGE) as srv:
            Client(srv).load(recs, "cloudtrail", "es8")
            config = write_probe_config(self.tmp, "es.yaml", [], os.path.join(self.tmp, "no.db"),
                                        "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            srv.clear_log()
            self.assertEqual(probe(config, *question), (0, es_answer(question, want), ""))
            # One refused at 10,000 buckets, then pages of 1,000: the first
            # with room left for 30 days, the Regions and the two
            # single-bucket aggregations above them (904), then 1,000 and
            # 596.
            searches = [r for r in srv.settled_requests() if r["path"].endswith("/_search")]
            self.assertEqual([r["status"] for r in searches], [400, 200, 200, 200])
            # A failed page, the first or a later one: an error, no lines.
            for fault, skip, needle in (("empty_answer", 1, "without its aggregations"),
                                        ("partial_shards", 2, "shard"),
                                        ("empty_answer", 2, "without its composite buckets")):
                with self.subTest(fault=fault, skip=skip):
                    srv.control("DELETE", "/__faults")
                    srv.fault(fault, path="_search", skip=skip)
                    rc, out, err = probe(config, *question)
                    self.assertEqual((rc, out), (1, ""), err)
                    self.assertIn(needle, err)
                    self.assertEqual(err.count("\n"), 1, err)

    def test_coverage_lists_every_region_or_fails(self):
        # More awsRegion values than the coverage search takes (1,000): an
        # error, not a shorter list; the store lists them all.
        recs = [event("2018-06-01T10:00:00Z", "ec2.amazonaws.com", "DescribeRegions",
                      user(ACCT_A, "r"), ACCT_A, "r%04d" % i, awsRegion="xx-%04d" % i)
                for i in range(1001)]
        fixture = os.path.join(self.tmp, "fixture")
        write_trail(fixture, recs)
        store = build_store(self, self.tmp, [fixture])
        question = ("2018-06-01", "2018-06-30", "account-coverage", ACCT_A)
        rc, out, err = probe(store, *question)
        self.assertEqual((rc, out.count("\nregion\t")), (0, 1001), err)
        with running_server(flavor="os2", mapping="template") as srv:
            Client(srv).load(recs, "cloudtrail", "os2")
            config = write_probe_config(self.tmp, "es.yaml", [], os.path.join(self.tmp, "no.db"),
                                        "  url: %s\n  index: 'cloudtrail-*'\n" % srv)
            rc, out, err = probe(config, *question)
            self.assertEqual((rc, out), (1, ""), err)
            self.assertIn("more than 1000 awsRegion values", err)
            # One fewer fits.
            srv.reset()
            Client(srv).load(recs[1:], "cloudtrail", "os2")
            rc, out, err = probe(config, *question)
            self.assertEqual((rc, out.count("\nregion\t"), err), (0, 1000, ""))


REAL_URL = os.environ.get("CLOUDTRACKER_TEST_ES_URL")


class _Url(str):
    """A base URL carrying the TLS context Client.call uses."""
    ssl_context = None


class RealClusterTests(Base):
    """The demo goldens against CLOUDTRACKER_TEST_ES_URL (skipped when it is
    unset, see real_cluster()): the records go into indices of their own,
    named cloudtracker-test-RANDOM-YYYY.MM and deleted afterwards. Request
    counts and fault injection need the test server and are not repeated
    here."""

    def test_goldens_on_real_cluster(self):
        real = real_cluster()
        if not real:
            self.skipTest("CLOUDTRACKER_TEST_ES_URL is not set")
        import uuid
        prefix = "cloudtracker-test-%s" % uuid.uuid4().hex[:8]
        # Concrete names: ES 8 refuses wildcard deletes by default.
        months = sorted({r["eventTime"][:7].replace("-", ".") for r in records()})
        for month in months:
            self.addCleanup(real.client.call, "DELETE", "/%s-%s" % (prefix, month))
        real.client.load(records(), "cloudtrail", real.flavor, prefix=prefix)
        config = write_config(self.tmp, "  url: %s\n  index: '%s-*'\n%s"
                              % (real.base, prefix, real.section))
        for name in CASES:
            with self.subTest(case=name):
                rc, out, err = run_ct(case_args(name, config), real.env)
                want_out, want_rc = golden(name)
                self.assertEqual(out, want_out, "stderr: " + err)
                self.assertEqual(rc, want_rc, "stderr: " + err)


class RealCluster:
    """How to reach CLOUDTRACKER_TEST_ES_URL: an HTTP client for the test's
    own requests, the base URL without credentials, the config lines and
    environment that give cloudtracker the same credentials, and the
    flavor ("es6" or "es8": what matters for the test's requests)."""

    def __init__(self, client, base, section, env, flavor):
        self.client, self.base, self.section, self.env = client, base, section, env
        self.flavor = flavor


def real_cluster():
    """A RealCluster for CLOUDTRACKER_TEST_ES_URL, or None when it is unset.
    The optional CLOUDTRACKER_TEST_ES_API_KEY, _CA and _INSECURE variables
    work as for test_es_server.py."""
    if not REAL_URL:
        return None
    import ssl
    import urllib.parse
    parts = urllib.parse.urlsplit(REAL_URL)
    netloc = parts.hostname + (":%d" % parts.port if parts.port else "")
    base = _Url(urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")))
    ca = os.environ.get("CLOUDTRACKER_TEST_ES_CA")
    insecure = os.environ.get("CLOUDTRACKER_TEST_ES_INSECURE") == "1"
    if parts.scheme == "https":
        base.ssl_context = ssl.create_default_context(cafile=ca)
        if insecure:
            base.ssl_context.check_hostname = False
            base.ssl_context.verify_mode = ssl.CERT_NONE
    user = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password or "") if user else None
    api_key = os.environ.get("CLOUDTRACKER_TEST_ES_API_KEY")
    client = Client(base, basic=(user, password) if user else None)
    section, env = "", {}
    if api_key:
        client.basic = None
        client.headers = {"Authorization": "ApiKey " + api_key}
        section += "  api_key_env: CT_TEST_ES_API_KEY\n"
        env["CT_TEST_ES_API_KEY"] = api_key
    elif user:
        section += "  username: '%s'\n  password_env: CT_TEST_ES_PASSWORD\n" % user
        env["CT_TEST_ES_PASSWORD"] = password
    if ca:
        section += "  ca_cert: '%s'\n" % os.path.abspath(ca)
    if insecure:
        section += "  insecure: true\n"
    info = client.call("GET", "/")
    flavor = "es6" if info["version"]["number"].startswith("6.") else "es8"
    return RealCluster(client, base, section, env, flavor)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        BIN = os.path.abspath(sys.argv.pop(1))
        PROBE = os.path.join(os.path.dirname(BIN), "tests", PROBE_NAME)
    unittest.main()
