#!/usr/bin/env python3
"""Costs of cloudtracker's Elasticsearch backend per query, next to the embedded store.

    bench/es_bench.py [--events N | --archive DIR] [--build DIR] [--flavor es8] [--runs K]
                      [--md FILE]

Loads a generated archive (bench/gen_archive.py) into a fresh embedded store and into the
wire-protocol test server (tests/es/es_server.py, `--mapping template`), then runs the
benchmark's four queries against both and checks that the outputs are byte-identical. For the
Elasticsearch run it reports the HTTP requests per endpoint (the server's request log), the
bytes sent and received and the TCP connections (counted by a proxy between cloudtracker and
the server), the client's CPU time (user+sys of the cloudtracker process, from wait4) and the
wall time; for the store run the wall and CPU times. The server is pure Python: its time is in
the wall times and says nothing about a real cluster. See bench/README.md.

Python standard library only. Exit status: 0 when every answer matched, 1 otherwise, 2 when
the binary could not be built, 64 when the archive is missing.
"""

import argparse
import glob
import gzip
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "es"))

from es_server import running_server  # noqa: E402
from test_es_backend import keyword_doc  # noqa: E402

QUERIES = [
    ("--user user000", ["--user", "user000"]),
    ("--role admin", ["--role", "admin"]),
    ("--user user000 --destrole admin", ["--user", "user000", "--destrole", "admin"]),
    ("--list users", ["--list", "users"]),
]
KEYS_PER_SEARCH = 10000  # role-session keys per --destrole search (README.md)


def log(msg):
    print("es_bench: " + msg, file=sys.stderr, flush=True)


# --- a counting TCP proxy ------------------------------------------------------------------

class CountingProxy:
    """127.0.0.1:port -> target; counts connections and bytes each way."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.lock = threading.Lock()
        self.reset()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.connections = 0
            self.sent = 0      # client -> server (requests)
            self.received = 0  # server -> client (responses)
            self.open = 0

    def snapshot(self):
        with self.lock:
            return {"connections": self.connections, "sent": self.sent,
                    "received": self.received, "open": self.open}

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.connections += 1
                self.open += 2
            threading.Thread(target=self._pipe, args=(client, upstream, "sent"),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, "received"),
                             daemon=True).start()

    def _pipe(self, src, dst, counter):
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                with self.lock:
                    setattr(self, counter, getattr(self, counter) + len(data))
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            with self.lock:
                self.open -= 1

    def settle(self, timeout=5.0):
        """Wait until every piped connection has closed (the client may exit first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.open == 0:
                    return
            time.sleep(0.01)


# --- running cloudtracker ------------------------------------------------------------------

def run(cmd, out_path=None):
    """Runs cmd; returns (rc, stdout bytes, stderr bytes, wall s, user s, sys s)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=dict(os.environ, NO_COLOR="1"))
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if out_path:
        with open(out_path, "wb") as f:
            f.write(stdout)
    return proc.returncode, stdout, stderr, wall, ru.ru_utime, ru.ru_stime


def build(build_dir):
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        log("configuring %s (Release)" % build_dir)
        subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                        "-DCT_BUILD_TESTS=OFF"], check=True, stdout=subprocess.DEVNULL)
    log("building cloudtracker in %s" % build_dir)
    subprocess.run(["cmake", "--build", build_dir, "--target", "cloudtracker", "-j",
                    str(os.cpu_count() or 2)], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build_dir, "cloudtracker")


# --- loading the test server ---------------------------------------------------------------

def archive_files(archive):
    return sorted(glob.glob(os.path.join(archive, "AWSLogs", "**", "*.json.gz"),
                            recursive=True))


def bulk_load(url, files, flavor, acct, start, end, chunk=5000):
    """Sends every record with _bulk (`create`, one index per month, as the template's
    loader does); returns (docs, bytes sent, seconds, admin sessions of user000)."""
    user_arn = "arn:aws:iam::%s:user/user000" % acct
    admin_arn = "arn:aws:iam::%s:role/admin" % acct
    sessions = 0
    lines, docs, sent, n = [], 0, 0, 0
    t0 = time.monotonic()

    def flush():
        nonlocal lines, sent
        if not lines:
            return
        body = ("\n".join(lines) + "\n").encode()
        req = urllib.request.Request(url + "/_bulk", data=body, method="POST",
                                     headers={"Content-Type": "application/x-ndjson"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            answer = json.loads(resp.read())
        if answer.get("errors"):
            bad = [i for i in answer["items"] if i["create"]["status"] >= 300]
            raise SystemExit("es_bench: bulk load failed: %s" % bad[:3])
        sent += len(body)
        lines = []

    for i, path in enumerate(files):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records = json.load(f)["Records"]
        for rec in records:
            meta = {"_index": "cloudtrail-" + rec["eventTime"][:7].replace("-", "."),
                    "_id": rec["eventID"]}
            if flavor == "es6":
                meta["_type"] = "_doc"
            lines.append(json.dumps({"create": meta}))
            lines.append(json.dumps(keyword_doc(rec)))
            n += 1
            if (rec.get("eventName") == "AssumeRole" and not rec.get("errorCode")
                    and (rec.get("userIdentity") or {}).get("arn") == user_arn
                    and (rec.get("requestParameters") or {}).get("roleArn") == admin_arn
                    and start <= rec["eventTime"][:10] <= end):
                sessions += 1
            if len(lines) >= 2 * chunk:
                docs += len(lines) // 2
                flush()
        if (i + 1) % 500 == 0:
            el = time.monotonic() - t0
            log("  %d/%d files, %d docs, %.0f s (%.0f docs/s)"
                % (i + 1, len(files), n, el, n / el))
    docs += len(lines) // 2
    flush()
    req = urllib.request.Request(url + "/cloudtrail-*/_refresh", data=b"", method="POST")
    urllib.request.urlopen(req, timeout=600).read()
    return docs, sent, time.monotonic() - t0, sessions


def endpoint(entry):
    path = entry["path"]
    if path == "/":
        return "/"
    if "/_mapping/field/" in path:
        return "_mapping/field"
    return path.rsplit("/", 1)[-1]


# --- the report ----------------------------------------------------------------------------

def human_bytes(n):
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return "%.1f %s" % (n / size, unit)
    return "%d B" % n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1000000,
                    help="use bench/out/archive-e<N>-s1-*/ (default 1000000)")
    ap.add_argument("--archive", help="an archive folder made by gen_archive.py")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--flavor", default="es8", choices=["es6", "es7", "es8", "os2"])
    ap.add_argument("--runs", type=int, default=3, help="runs per query; medians (default 3)")
    ap.add_argument("--md", help="also write the report here")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be >= 1")

    archive = args.archive
    if not archive:
        found = sorted(glob.glob(os.path.join(HERE, "out", "archive-e%d-s1-*" % args.events)))
        if not found:
            log("no archive of %d events in bench/out/: run bench/gen_archive.py "
                "(or bench/run.sh --events %d) first" % (args.events, args.events))
            return 64
        archive = found[-1]
    archive = os.path.abspath(archive)
    with open(os.path.join(archive, "manifest.json")) as f:
        manifest = json.load(f)
    acct = manifest["accounts"][0]
    start, end = manifest["window"]["start"], manifest["window"]["end"]

    try:
        ct = build(os.path.abspath(args.build))
    except (subprocess.CalledProcessError, OSError) as exc:
        log("build failed: %s" % exc)
        return 2

    run_dir = os.path.join(HERE, "out", "runs",
                           time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-es-e%d"
                           % manifest["totals"]["records"])
    os.makedirs(run_dir, exist_ok=True)
    store = os.path.join(run_dir, "store.db")
    log("run folder %s" % run_dir)

    # The embedded store.
    log("ingesting %s into a fresh store" % archive)
    rc, _, err, wall, ut, st = run([ct, "ingest", "--config", os.path.join(archive, "config.yaml"),
                                    "--store", store])
    if rc != 0:
        log("ingest failed (%d): %s" % (rc, err.decode(errors="replace")[-2000:]))
        return 1
    log("ingest: %.1f s wall, %.1f s CPU" % (wall, ut + st))

    files = archive_files(archive)
    status = 0
    rows = []
    with running_server(flavor=args.flavor, mapping="template", startup_timeout=30) as srv:
        log("bulk-loading %d records from %d files into the test server (%s, template)"
            % (manifest["totals"]["records"], len(files), args.flavor))
        docs, load_bytes, load_s, sessions = bulk_load(srv, files, args.flavor, acct["id"],
                                                       start, end)
        log("loaded %d docs (%s of _bulk) in %.0f s (%.0f docs/s)"
            % (docs, human_bytes(load_bytes), load_s, docs / load_s))
        srv.clear_log()
        proxy = CountingProxy(srv.port)
        config = os.path.join(run_dir, "config-es.yaml")
        with open(config, "w") as f:
            f.write("accounts:\n  - name: %s\n    id: \"%s\"\n    iam: %s\n"
                    "elasticsearch:\n  url: http://127.0.0.1:%d\n  index: 'cloudtrail-*'\n"
                    "  schema: keyword\n  request_timeout: 900\n"
                    % (acct["name"], acct["id"], os.path.join(archive, "iam.json"),
                       proxy.port))
        for label, qargs in QUERIES:
            common = ["--account", acct["name"], "--start", start, "--end", end] + qargs
            slug = "q-" + "-".join(a.strip("-") for a in qargs)
            s_runs, e_runs, same = [], [], True
            for k in range(args.runs):
                rc1, out1, err1, w1, u1, s1 = run(
                    [ct, "--config", os.path.join(archive, "config.yaml"), "--store", store,
                     "--skip-setup"] + common, os.path.join(run_dir, slug + ".store.out"))
                srv.clear_log()
                proxy.reset()
                rc2, out2, err2, w2, u2, s2 = run([ct, "--config", config] + common,
                                                  os.path.join(run_dir, slug + ".es.out"))
                entries = srv.settled_requests()
                proxy.settle()
                net = proxy.snapshot()
                if rc1 != 0 or rc2 != 0 or out1 != out2:
                    same = False
                    status = 1
                    log("%s: outputs differ or failed (store rc %d, es rc %d); es stderr: %s"
                        % (label, rc1, rc2, err2.decode(errors="replace")[-1500:]))
                s_runs.append((w1, u1 + s1))
                by_ep = {}
                for e in entries:
                    by_ep[endpoint(e)] = by_ep.get(endpoint(e), 0) + 1
                e_runs.append({"wall": w2, "cpu": u2 + s2, "requests": len(entries),
                               "by_ep": by_ep, "net": net,
                               "server_ms": sum(e.get("duration_ms") or 0 for e in entries),
                               "lines": out1.count(b"\n")})
            mid = len(e_runs) // 2
            e_sorted = sorted(e_runs, key=lambda r: r["wall"])
            rows.append({"label": label, "same": same,
                         "store_wall": sorted(w for w, _ in s_runs)[mid],
                         "store_cpu": sorted(c for _, c in s_runs)[mid],
                         "es_wall": e_sorted[mid]["wall"],
                         "es_cpu": sorted(r["cpu"] for r in e_runs)[mid],
                         "es": e_runs[-1],
                         "server_s": sorted(r["server_ms"] for r in e_runs)[mid] / 1000})
            r = rows[-1]
            log("%s: same=%s store %.3f s, es %.2f s (%d requests, %s out, %s in, cpu %.3f s)"
                % (label, same, r["store_wall"], r["es_wall"], r["es"]["requests"],
                   human_bytes(r["es"]["net"]["sent"]), human_bytes(r["es"]["net"]["received"]),
                   r["es_cpu"]))

    budget = 2 + math.ceil(sessions / KEYS_PER_SEARCH)
    lines = []
    lines.append("Archive: `%s` (%d events, %d role sessions, window %s to %s); test server "
                 "flavor %s, `--mapping template`, `schema: keyword`; %d docs bulk-loaded in "
                 "%.0f s (%.0f docs/s, %s of `_bulk` bodies). Medians of %d"
                 % (os.path.relpath(archive, ROOT), manifest["totals"]["records"],
                    manifest["sessions"], start, end, args.flavor, docs, load_s,
                    docs / load_s, human_bytes(load_bytes), args.runs) + (" run" if args.runs == 1 else " runs"))
    lines.append("")
    lines.append("| query | same output | lines | ES requests (by endpoint) | connections "
                 "| request bytes | response bytes | ES client CPU | ES wall (server time) "
                 "| store CPU | store wall |")
    lines.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        e = r["es"]
        eps = ", ".join("%s %d" % (k, v) for k, v in sorted(e["by_ep"].items()))
        lines.append("| `%s` | %s | %d | %d (%s) | %d | %s | %s | %.3f s | %.2f s (%.2f s) "
                     "| %.3f s | %.3f s |"
                     % (r["label"], "yes" if r["same"] else "**NO**", e["lines"],
                        e["requests"], eps, e["net"]["connections"],
                        human_bytes(e["net"]["sent"]), human_bytes(e["net"]["received"]),
                        r["es_cpu"], r["es_wall"], r["server_s"], r["store_cpu"],
                        r["store_wall"]))
    lines.append("")
    dest = next(r for r in rows if "--destrole" in r["label"])
    searches = dest["es"]["by_ep"].get("_search", 0)
    lines.append("`--destrole admin` for user000: N = %d role sessions in the window "
                 "(successful AssumeRole calls of `admin` by user000, counted while loading); "
                 "%d requests (%d `_search`) against the budget 2 + ceil(N / %d) = %d "
                 "(version check, one search for the sessions' keys, one per %d keys): %s."
                 % (sessions, dest["es"]["requests"], searches, KEYS_PER_SEARCH, budget,
                    KEYS_PER_SEARCH,
                    "within" if dest["es"]["requests"] <= budget else "**over**"))
    lines.append("")
    lines.append("Server time is the pure-Python test server's (the sum of its request "
                 "durations); it is not representative of Elasticsearch. The client CPU, the "
                 "request counts and the bytes are the client's own costs.")
    report = "\n".join(lines) + "\n"
    print(report)
    with open(os.path.join(run_dir, "report.md"), "w") as f:
        f.write(report)
    if args.md:
        with open(args.md, "w") as f:
            f.write(report)
    os.remove(store)
    return status


if __name__ == "__main__":
    sys.exit(main())
