#!/usr/bin/env python3
"""Speed and memory of `cloudtracker ingest --to elasticsearch` against a bulk sink.

    python3 bench/es_load_bench.py [--events N ...] [--build DIR] [--runs K] [--no-sweep]
                                   [--md FILE]

For each generated archive (bench/out/archive-e<N>-..., made by run.sh or gen_archive.py;
default: 1,000,000 events plus the 300,000 and 100,000 ones when they exist) it measures, in
the same invocation and on a warm page cache:

* the baseline: `xargs -0 zcat FILES > /dev/null` (CPU = user + sys, and wall);
* the loader: `cloudtracker ingest --to elasticsearch` into a fresh bench/es_sink.py (a fake
  Elasticsearch that counts what it gets and stores nothing), CPU (user + sys from wait4),
  wall, peak RSS (GNU time's %M when /usr/bin/time exists, else ru_maxrss), and what the sink
  received. The sink must have received every record of the archive (plus one state document
  per file in the state index), or the run fails.

The loader is one thread, so events per CPU-second is its speed on one core. With the default
sweep it also loads the largest archive with bulk_requests 1 and bulk_bytes 2 MiB / 15 MiB.
The Markdown table goes to stdout and to bench/out/runs/<time>-es-load/es-load.md.

Python standard library only. Exit status: 0 when every run loaded everything, 1 when a run
failed or the sink's counts differ, 2 when the build failed, 64 when no archive was found.
"""

import argparse
import glob
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
SINK = os.path.join(HERE, "es_sink.py")
GNU_TIME = "/usr/bin/time"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20


def log(msg):
    print("es_load_bench: " + msg, file=sys.stderr, flush=True)


def build(build_dir):
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        log("configuring %s (Release)" % build_dir)
        subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                        "-DCT_BUILD_TESTS=OFF"], check=True, stdout=subprocess.DEVNULL)
    log("building cloudtracker in %s" % build_dir)
    subprocess.run(["cmake", "--build", build_dir, "--target", "cloudtracker", "-j",
                    str(os.cpu_count() or 2)], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build_dir, "cloudtracker")


def find_archive(events):
    found = sorted(glob.glob(os.path.join(OUT, "archive-e%d-s1-*" % events)),
                   key=os.path.getmtime)
    found = [d for d in found if os.path.exists(os.path.join(d, "manifest.json"))]
    return found[-1] if found else None


def measure(argv, stdout_path, stderr_path):
    """Runs argv; returns dict(rc, wall, cpu, user, sys, maxrss_kb)."""
    rss_file = None
    if os.access(GNU_TIME, os.X_OK):
        # ru_maxrss survives exec(): a child forked from Python starts at Python's size.
        fd, rss_file = tempfile.mkstemp(prefix="es-load-rss-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file] + argv
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=dict(os.environ, NO_COLOR="1"))
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    maxrss = ru.ru_maxrss
    if rss_file:
        with open(rss_file) as f:
            last = (f.read().strip().splitlines() or ["0"])[-1]
        os.remove(rss_file)
        maxrss = int(last) if last.isdigit() else maxrss
    return {"rc": os.waitstatus_to_exitcode(status), "wall": wall,
            "user": ru.ru_utime, "sys": ru.ru_stime, "cpu": ru.ru_utime + ru.ru_stime,
            "maxrss_kb": maxrss}


def proc_cpu(pid):
    """user + sys seconds of a running process, from /proc/PID/stat."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


class Sink:
    """A fresh bench/es_sink.py on 127.0.0.1 and a free port; always stopped on exit."""

    def __init__(self, folder):
        self.folder = folder
        self.proc = None

    def __enter__(self):
        port_file = os.path.join(self.folder, "sink.port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(os.path.join(self.folder, "sink.log"), "wb")
        self.proc = subprocess.Popen([sys.executable, SINK, "--port", "0",
                                      "--port-file", port_file],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sink did not start (see %s)" % self.log.name)
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        return self

    def stats(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/__stats" % self.port, timeout=30) as r:
            out = json.loads(r.read())
        out["cpu"] = proc_cpu(self.proc.pid)
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __exit__(self, *exc):
        self.stop()


def write_config(folder, archive, port, bulk_bytes=None, bulk_requests=None):
    with open(os.path.join(archive, "manifest.json")) as f:
        manifest = json.load(f)
    lines = ["accounts:"]
    for acct in manifest["accounts"]:
        lines += ["  - name: %s" % acct["name"], '    id: "%s"' % acct["id"]]
    lines += ["elasticsearch:", "  url: http://127.0.0.1:%d" % port,
              "  index: 'cloudtrail-*'"]
    if bulk_bytes is not None:
        lines.append("  bulk_bytes: %d" % bulk_bytes)
    if bulk_requests is not None:
        lines.append("  bulk_requests: %d" % bulk_requests)
    path = os.path.join(folder, "config.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def load_once(binary, archive, manifest, folder, label, bulk_bytes=None, bulk_requests=None):
    """One loader run into a fresh sink; checks the counts. Returns the measurement."""
    events = manifest["totals"]["records"]
    files = manifest["files"]
    with Sink(folder) as sink:
        config = write_config(folder, archive, sink.port, bulk_bytes, bulk_requests)
        rejects = os.path.join(folder, "rejects.ndjson")
        argv = [binary, "ingest", "--to", "elasticsearch", "--config", config,
                "--rejects", rejects, os.path.join(archive, "AWSLogs")]
        m = measure(argv, os.path.join(folder, label + ".out"),
                    os.path.join(folder, label + ".err"))
        st = sink.stats()
    m["sink"] = st
    with open(os.path.join(folder, label + ".err"), errors="replace") as f:
        err = f.read()
    with open(os.path.join(folder, label + ".out"), errors="replace") as f:
        err += f.read()
    problems = []
    if m["rc"] != 0:
        problems.append("exit status %d" % m["rc"])
    got = re.search(r"(\d+) records read: (\d+) indexed, (\d+) already present, (\d+) rejected",
                    err)
    if not got:
        problems.append("no summary line in the loader's output")
    else:
        m["indexed"] = int(got.group(2))
        if int(got.group(1)) != events or int(got.group(2)) != events:
            problems.append("loader says %s records read, %s indexed; the archive has %d"
                            % (got.group(1), got.group(2), events))
    # Every record is one `create` with a source; each file adds one state document.
    if st["docs"] != events + files or st["actions"] != st["docs"]:
        problems.append("the sink got %d documents in %d actions; expected %d records + %d "
                        "file states = %d" % (st["docs"], st["actions"], events, files,
                                              events + files))
    m["problems"] = problems
    if problems:
        log("FAILED %s: %s (output in %s)" % (label, "; ".join(problems), folder))
    log("  %-26s cpu %7.2f s  wall %7.2f s  %9.0f events/CPU-s  rss %6.1f MB  sink %d docs"
        % (label, m["cpu"], m["wall"], events / m["cpu"] if m["cpu"] else 0,
           m["maxrss_kb"] / 1024, st["docs"]))
    return m


def zcat_once(files0, folder):
    return measure(["bash", "-o", "pipefail", "-c", "xargs -0 zcat < '%s' > /dev/null" % files0],
                   os.path.join(folder, "zcat.out"), os.path.join(folder, "zcat.err"))


def median_run(runs, fn):
    ms = [fn(i) for i in range(runs)]
    ms.sort(key=lambda m: m["cpu"])
    med = dict(ms[len(ms) // 2])
    med["runs"] = [{k: v for k, v in m.items() if k != "runs"} for m in ms]
    return med


def rss_cell(m):
    mb = [x["maxrss_kb"] / 1024 for x in m["runs"]]
    if len(mb) == 1:
        return "%.1f MB" % mb[0]
    return "%.1f MB (%.1f–%.1f)" % (m["maxrss_kb"] / 1024, min(mb), max(mb))


def fmt(n, digits=0):
    return "{:,.{}f}".format(n, digits)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, nargs="+",
                    help="archive sizes (default: 1000000 300000 100000, those that exist)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"),
                    help="Release build folder (default build-bench/)")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs of zcat and of each loader measurement; median by CPU (default 3)")
    ap.add_argument("--no-sweep", action="store_true",
                    help="skip the bulk_requests / bulk_bytes variants")
    ap.add_argument("--md", help="also write the table here")
    a = ap.parse_args()

    sizes = a.events or [1000000, 300000, 100000]
    archives = []
    for n in sizes:
        d = find_archive(n)
        if d:
            archives.append((n, d))
        elif a.events:
            log("no archive of %d events in %s (make one with bench/run.sh --events %d or "
                "gen_archive.py)" % (n, OUT, n))
            return 64
    if not archives:
        log("no archive found in %s" % OUT)
        return 64
    archives.sort(key=lambda x: -x[0])

    try:
        state = source_state()
        binary = build(a.build)
    except (subprocess.CalledProcessError, OSError) as e:
        log("build failed: %s" % e)
        return 2

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir = os.path.join(OUT, "runs", stamp + "-es-load")
    os.makedirs(run_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="es-load-bench-")
    results = []
    failed = False
    load0 = os.getloadavg()[0]
    t_start = time.time()
    for n, archive in archives:
        with open(os.path.join(archive, "manifest.json")) as f:
            manifest = json.load(f)
        files = sorted(glob.glob(os.path.join(archive, "AWSLogs", "**", "*.json.gz"),
                                 recursive=True))
        folder = os.path.join(work, "e%d" % n)
        os.makedirs(folder)
        files0 = os.path.join(folder, "files0")
        with open(files0, "wb") as f:
            f.write(b"".join(p.encode() + b"\0" for p in files))
        log("%s: %d events, %d files; warming the page cache" % (os.path.basename(archive),
                                                                manifest["totals"]["records"],
                                                                len(files)))
        subprocess.run("xargs -0 cat < '%s' > /dev/null" % files0, shell=True, check=True)
        z = median_run(a.runs, lambda i: zcat_once(files0, folder))
        log("  %-26s cpu %7.2f s  wall %7.2f s" % ("zcat", z["cpu"], z["wall"]))
        variants = [("default", None, None)]
        if not a.no_sweep and n == archives[0][0]:
            variants += [("bulk_requests 1", None, 1), ("bulk_bytes 2 MiB", 2 * MIB, None),
                         ("bulk_bytes 15 MiB", 15 * MIB, None)]
        for name, bb, br in variants:
            label = "load-" + re.sub(r"[^a-z0-9]+", "-", name)
            m = median_run(a.runs if name == "default" else 1,
                           lambda i: load_once(binary, archive, manifest, folder,
                                               "%s-%d" % (label, i), bb, br))
            if any(r["problems"] for r in m["runs"]):
                failed = True
            results.append({"events": n, "archive": os.path.basename(archive),
                            "manifest": manifest, "files": len(files), "zcat": z,
                            "variant": name, "load": m})

    load1 = os.getloadavg()[0]
    md = report(results, binary, a, load0, load1, t_start, state)
    print(md)
    for path in [os.path.join(run_dir, "es-load.md")] + ([a.md] if a.md else []):
        with open(path, "w") as f:
            f.write(md)
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump([{k: v for k, v in r.items() if k != "manifest"} for r in results], f,
                  indent=1, default=str)
    log("report: %s" % os.path.join(run_dir, "es-load.md"))
    if failed:
        log("FAILED: at least one run did not load every record (outputs kept in %s)" % work)
        return 1
    subprocess.run(["rm", "-rf", work])
    return 0


def source_state():
    """'commit X' or 'working tree on top of X' for src/, include/ and CMakeLists.txt."""
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip() or "?"
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src",
                                "include", "CMakeLists.txt"],
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"
    return ("working tree on top of " if dirty else "commit ") + head


def report(results, binary, a, load0, load1, t_start, state):
    lines = []
    lines.append("# `cloudtracker ingest --to elasticsearch` into a bulk sink")
    lines.append("")
    lines.append("- %s UTC, %d CPUs, load average %.1f at the start, %.1f at the end"
                 % (time.strftime("%Y-%m-%d %H:%M", time.gmtime(t_start)), os.cpu_count() or 0,
                    load0, load1))
    lines.append("- binary: %s, built %s UTC from the %s" % (
        binary, time.strftime("%H:%M:%S", time.gmtime(os.path.getmtime(binary))), state))
    lines.append("- medians of %d runs by CPU time (variants: 1 run); every run into a fresh "
                 "`bench/es_sink.py`" % a.runs)
    lines.append("")
    lines.append("| archive | run | CPU s (user+sys) | wall s | events / CPU-s (one core) | "
                 "events / s wall | MB JSON / CPU-s | peak RSS (all runs: min–max) | docs at the sink | bulk "
                 "requests | bulk MB | sink CPU s | CPU / zcat CPU | wall / zcat wall |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    seen = set()
    for r in results:
        n, z, m, man = r["events"], r["zcat"], r["load"], r["manifest"]
        json_mb = man["totals"]["json_bytes"] / 1e6
        if n not in seen:
            seen.add(n)
            lines.append("| %s events, %s files, %s MB JSON | `zcat` > /dev/null (baseline) | "
                         "%.2f | %.2f | %s | %s | %s | | | | | | **1** | **1** |"
                         % (fmt(n), fmt(r["files"]), fmt(json_mb), z["cpu"], z["wall"],
                            fmt(n / z["cpu"]), fmt(n / z["wall"]), fmt(json_mb / z["cpu"], 1)))
        st = m["sink"]
        ok = "" if not m["problems"] else " **FAILED: %s**" % "; ".join(m["problems"])
        lines.append("| | loader, %s%s | %.2f | %.2f | **%s** | %s | %s | %s | %s | %s | "
                     "%s | %s | **%.2f** | %.2f |"
                     % (r["variant"], ok, m["cpu"], m["wall"], fmt(n / m["cpu"]),
                        fmt(n / m["wall"]), fmt(json_mb / m["cpu"], 1), rss_cell(m),
                        fmt(st["docs"]), fmt(st["bulk_requests"]),
                        fmt(st["body_bytes"] / 1e6), "%.2f" % st["cpu"] if st["cpu"] else "?",
                        m["cpu"] / z["cpu"], m["wall"] / z["wall"]))
    defaults = {r["events"]: r["load"] for r in results if r["variant"] == "default"}
    lines.append("")
    lines.append("Docs at the sink = the archive's records + one state document per file "
                 "(checked). Target: 100,000 events per CPU-second of the loader.")
    if len(defaults) > 1:
        big, small = max(defaults), min(defaults)

        def top(k):
            return max(x["maxrss_kb"] for x in defaults[k]["runs"]) / 1024

        lines.append("")
        lines.append("Peak RSS, highest of the runs: " + ", ".join(
            "%s MB at %s events" % (fmt(top(k), 1), fmt(k)) for k in sorted(defaults)) +
            "; **ratio %s / %s = %.2f**." % (fmt(big), fmt(small), top(big) / top(small)))
        lines.append("The same with the runs of median CPU: %.2f." % (
            defaults[big]["maxrss_kb"] / defaults[small]["maxrss_kb"]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
