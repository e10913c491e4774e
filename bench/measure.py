#!/usr/bin/env python3
"""Measurement plumbing for bench/run.sh: times one command, and prints the final table.

  measure.py run --label L --results FILE [--stdout F] [--stderr F] [--shell] -- CMD...
      Runs CMD (with --shell: one string for `bash -o pipefail -c`), appends one JSON line
      {label, wall, maxrss_kb, user, sys, rc} to FILE and exits with CMD's status. Wall time is
      measured around the child only; peak RSS comes from wait4() (for a shell pipeline it is the
      largest process of the pipeline).
  measure.py crosscheck --jq FILE --ct FILE
      Checks that cloudtracker's used actions for --user equal the jq answer.
  measure.py crosscheck-people --manifest FILE --account NAME --ct FILE
      Checks that cloudtracker's --list people equals the people the generator planned.
  measure.py policy-all --config FILE --account NAME -- CT [OPTIONS...]
      Runs `CT OPTIONS --user U --format policy` (--role R) for every user and role of the
      account's IAM file (the config's `iam:`), one process each; cloudtracker proves each policy
      before it prints it, so a success is exit status 0 and a JSON policy on stdout. Prints one
      line, exits 1 when any failed.
  measure.py report --results FILE --archive DIR [--small DIR] [--md OUT] [--info K=V ...]
      Prints the table, each number next to the baseline measured in the same run.
Standard library only."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def cmd_run(a):
    argv = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if a.shell:
        argv = ["bash", "-o", "pipefail", "-c", " ".join(argv)]
    # ru_maxrss survives exec(), so a child forked from this Python starts at Python's size.
    # GNU time is a small C program: its child's peak is the command's own.
    rss_file = None
    if os.access(GNU_TIME, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="measure-rss-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file] + argv
    out = open(a.stdout, "wb") if a.stdout else subprocess.DEVNULL
    err = open(a.stderr, "wb") if a.stderr else None
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=out, stderr=err)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    maxrss = ru.ru_maxrss
    if rss_file:
        with open(rss_file) as f:
            last = (f.read().strip().splitlines() or ["0"])[-1]
        os.remove(rss_file)
        maxrss = int(last) if last.isdigit() else 0
    rec = {"label": a.label, "wall": wall, "maxrss_kb": maxrss, "user": ru.ru_utime,
           "sys": ru.ru_stime, "rc": p.returncode}
    with open(a.results, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print("  %-28s %8.3f s  rss %7.1f MB  rc %d" % (a.label, wall, maxrss / 1024, p.returncode),
          file=sys.stderr)
    return p.returncode


def cmd_crosscheck(a):
    """Compares the jq answer (eventSource, eventName pairs) with the actions cloudtracker
    marks as used ("  " lines); prints one line, exits 1 when they differ."""
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gen_archive
    want = set()
    for line in open(a.jq):
        src, name = json.loads(line)
        want.update(x.lower() for x in gen_archive.iam_actions_of(src.split(".amazonaws.com")[0], name))
    got = {line.split()[-1] for line in open(a.ct) if line.startswith("  ") and line.strip()}
    if want == got:
        print("same %d used actions" % len(want))
        return 0
    print("DIFFER: %d from jq, %d from cloudtracker; only jq: %s; only cloudtracker: %s" % (
        len(want), len(got), " ".join(sorted(want - got)[:8]) or "-", " ".join(sorted(got - want)[:8]) or "-"))
    return 1


def cmd_crosscheck_people(a):
    """Compares `--list people` (text) with what the generator planned (manifest.json's
    people.expected for the account): the same people, each with the same roles, and the same
    Identity Center users without activity ("- "). Prints one line, exits 1 when they differ."""
    exp = json.load(open(a.manifest))["people"]["expected"][a.account]
    want = {n: sorted(r) for n, r in exp["active"].items()}
    want.update({n: None for n in exp["dormant"]})
    got, low = {}, 0
    for line in open(a.ct):
        if not line.strip():
            continue
        name, _, rest = line[2:].rstrip("\n").partition(" ")
        if line.startswith("- "):
            got[name] = None
            continue
        if "(low confidence" in rest:
            low += 1
            rest = rest.split("  (low confidence")[0]
        # "ROLE (ACCOUNT), ROLE (ACCOUNT)": the role names
        got[name] = sorted(r.strip().rsplit(" (", 1)[0] for r in rest.strip().split(", ") if r.strip())
    if got == want and not low:
        print("same %d people (%d without activity), each with the same roles" % (
            len(want), len(exp["dormant"])))
        return 0
    only_w = sorted(set(want) - set(got))
    only_g = sorted(set(got) - set(want))
    diff = sorted(n for n in set(want) & set(got) if want[n] != got[n])
    print("DIFFER: %d expected, %d listed (%d low confidence); only expected: %s; only listed: %s; "
          "other roles: %s" % (len(want), len(got), low, " ".join(only_w[:5]) or "-", " ".join(only_g[:5]) or "-",
                               " ".join("%s %s/%s" % (n, want[n], got[n]) for n in diff[:3]) or "-"))
    return 1


def fmt_n(x):
    return "{:,}".format(int(round(x)))


def cmd_report(a):
    rows = {}
    for line in open(a.results):
        r = json.loads(line)
        rows.setdefault(r["label"], []).append(r)
    info = dict(kv.split("=", 1) for kv in a.info)
    man = json.load(open(os.path.join(a.archive, "manifest.json")))
    small = json.load(open(os.path.join(a.small, "manifest.json"))) if a.small else None
    ev, jmb, gmb = man["params"]["events"], man["totals"]["json_bytes"] / 1e6, man["totals"]["gz_bytes"] / 1e6

    def med(label):
        rs = rows.get(label)
        if not rs:
            return None
        return {"wall": statistics.median(r["wall"] for r in rs), "rss": max(r["maxrss_kb"] for r in rs) / 1024,
                "rc": max(abs(r["rc"]) for r in rs), "n": len(rs)}

    zc = med("zcat")
    jq = med("jq")
    ing = med("ingest")
    ing_s = med("ingest-small")
    lines = []
    out = lines.append
    out("cloudtracker benchmark, %s" % info.get("date", ""))
    out("machine: %s; %s" % (info.get("machine", "?"), info.get("commit", "")))
    out("archive: %s events, %s files, %.1f MB JSON, %.1f MB gzip, %d users, %d roles, %d role sessions; "
        "generated at %s events/s" % (fmt_n(ev), fmt_n(man["files"]), jmb, gmb, man["params"]["users"],
                                      man["params"]["roles"], man["sessions"],
                                      fmt_n(ev / max(man["seconds"], 1e-9))))
    pm = man.get("people") or {}
    if pm.get("person_example"):
        out("people behind roles: %s people open role sessions (%s through SAML, the others are IAM users); "
            "the identity store holds %s Identity Center users, %s of them without activity; role sessions: %s; "
            "`--person` asks for %s (%s Identity Center sessions)" % (
                fmt_n(pm["people"]), fmt_n(pm["saml_people"]), fmt_n(pm["identity_store_users"]),
                fmt_n(pm["dormant"]), ", ".join("%s %s" % (k, fmt_n(v)) for k, v in sorted(pm["sessions"].items())),
                pm["person_example"], pm["person_example_sessions"]))
    out("")
    out("| step | wall s | throughput | peak RSS | relative to the baseline of this run |")
    out("|---|---:|---|---:|---|")
    if zc:
        out("| (a) `zcat` all files > /dev/null | %.2f | %.0f MB/s JSON, %.1f MB/s gzip | %.1f MB | **baseline** |" % (
            zc["wall"], jmb / zc["wall"], gmb / zc["wall"], zc["rss"]))
    if ing:
        bad = "" if ing["rc"] == 0 else " (exit %d)" % ing["rc"]
        out("| (b) `cloudtracker ingest`, fresh store%s | %.2f | %s events/s, %.0f MB/s JSON | %.1f MB | "
            "**%.2f x zcat** |" % (bad, ing["wall"], fmt_n(ev / ing["wall"]), jmb / ing["wall"], ing["rss"],
                                   ing["wall"] / zc["wall"] if zc else float("nan")))
    else:
        out("| (b) `cloudtracker ingest` | n/a | %s | | |" % info.get("skip", "not run"))
    if jq:
        out("| (c) `zcat \\| jq \\| sort -u`: --user user000 | %.2f | %.0f MB/s JSON | %.1f MB | %.1f x zcat; "
            "**query baseline** (%s lines) |" % (jq["wall"], jmb / jq["wall"], jq["rss"],
                                                 jq["wall"] / zc["wall"] if zc else float("nan"),
                                                 info.get("jq_lines", "?")))
    if info.get("crosscheck"):
        out("| | | | | `--user user000` vs jq: %s |" % info["crosscheck"])
    for label, title in (("q-user", "--user user000"), ("q-role", "--role admin"),
                         ("q-destrole", "--user user000 --destrole admin"), ("q-list", "--list users"),
                         ("q-people", "--list people"), ("q-person", "--person %s" % info.get("person")),
                         ("q-review", "review --format json"),
                         ("q-policy-user", "--user user000 --format policy"),
                         ("q-policy-role", "--role admin --format policy"),
                         ("q-policy-resources", "--user user000 --format policy --resources")):
        q = med(label)
        if q is None and label in ("q-people", "q-person") and not pm.get("person_example"):
            continue  # an archive without people behind roles
        if q is None:
            out("| (d) `cloudtracker %s --skip-setup` | n/a | | | |" % title)
            continue
        bad = "" if q["rc"] == 0 else " (exit %d)" % q["rc"]
        pct = 100.0 * q["wall"] / jq["wall"] if jq else float("nan")
        # Queries have a fixed cost of some milliseconds, so the goal is judged at 1M events.
        goal = ("goal < 1%%: %s" % ("met" if pct < 1 else "NOT met")) if ev >= 1000000 else \
            "the < 1% goal is for 1M events"
        out("| (d) `cloudtracker %s --skip-setup`%s, median of %d | %.3f | | %.1f MB | **%.3f%% of jq** (%s) |" % (
            title, bad, q["n"], q["wall"], q["rss"], pct, goal))
        if label == "q-policy-user" and info.get("crosscheck_policy"):
            out("| | | | | `--format policy` vs `--user user000`: %s |" % info["crosscheck_policy"])
        if label == "q-policy-role" and info.get("policy_all"):
            out("| | | | | `--format policy` of every user and role: %s |" % info["policy_all"])
        if label == "q-review" and info.get("crosscheck_review"):
            out("| | | | | `review` vs `--user user000` and `--list users`: %s |" % info["crosscheck_review"])
        if label == "q-people" and info.get("crosscheck_people"):
            out("| | | | | `--list people` vs the generator: %s |" % info["crosscheck_people"])
    if ing_s and ing and small:
        sev = small["params"]["events"]
        out("| (e) `cloudtracker ingest` of %s events, fresh store | %.2f | %s events/s | %.1f MB | "
            "**RSS at %s / at %s = %.2f** |" % (
                fmt_n(sev), ing_s["wall"], fmt_n(sev / ing_s["wall"]), ing_s["rss"], fmt_n(ev), fmt_n(sev),
                ing["rss"] / ing_s["rss"]))
    rv_s = med("q-review-small")
    rv = med("q-review")
    if rv_s and rv and small:
        sev = small["params"]["events"]
        out("| (e) `cloudtracker review` of the %s-event archive | %.3f | | %.1f MB | "
            "**RSS at %s / at %s = %.2f** |" % (fmt_n(sev), rv_s["wall"], rv_s["rss"], fmt_n(ev), fmt_n(sev),
                                               rv["rss"] / rv_s["rss"]))
    out("")
    out("Times are wall-clock seconds on a warm page cache; peak RSS is the command's maximum "
        "resident set (GNU time's %M; for a pipeline, its largest process). Compare ratios, not "
        "absolute numbers, between machines.")
    text = "\n".join(lines)
    print(text)
    if a.md:
        with open(a.md, "w") as f:
            f.write(text + "\n")
    return 0


def cmd_crosscheck_review(a):
    """The review against the one-principal questions: user000's used
    actions are the `--user user000` lines without a mark, and the users
    reviewed are those `--list users` lists."""
    with open(a.review) as f:
        review = json.load(f)
    users = [i for i in review["identities"] if i["kind"] == "user"]
    listed = [line[2:].strip() for line in open(a.list_out) if line.strip()]
    if sorted(u["name"] for u in users) != sorted(listed):
        print("review users differ from --list users", file=sys.stderr)
        return 1
    u0 = [u for u in users if u["name"] == "user000"]
    used = sorted(line[2:].strip() for line in open(a.user_out) if line.startswith("  "))
    if not u0 or sorted(u0[0]["actions"]["used"]) != used:
        print("user000's used actions differ from --user user000", file=sys.stderr)
        return 1
    print("%d identities (%d users, as --list users), user000's %d used actions as --user" % (
        len(review["identities"]), len(users), len(used)))
    return 0


def cmd_crosscheck_policy(a):
    """--user user000 --format policy against --user user000: the policy's
    actions are exactly the used ("  ") and "?" lines of the diff."""
    with open(a.policy) as f:
        doc = json.load(f)
    docs = doc if isinstance(doc, list) else [doc]
    actions = sorted(x.lower() for d in docs for st in d["Statement"] for x in st["Action"])
    want = sorted(line[2:].strip() for line in open(a.user_out)
                  if line.startswith("  ") or line.startswith("? "))
    if actions != want:
        print("the policy's actions differ from the used and ? lines of --user", file=sys.stderr)
        return 1
    print("the policy grants exactly the %d used and ? actions of --user user000" % len(actions))
    return 0


def config_iam(config, account):
    """The IAM file of an account in a config.yaml as gen_archive.py writes it (accounts: a list
    of `name:`, `id:`, `iam:` entries): a reader for that shape only, the standard library has
    no YAML."""
    current, found = None, None
    for line in open(config):
        key, _, value = line.strip().lstrip("- ").partition(":")
        value = value.strip().strip('"\'')
        if key == "name":
            current = value
        elif key == "iam" and current == account:
            found = value
    if not found:
        raise SystemExit("measure.py: no iam file for account %s in %s" % (account, config))
    return os.path.join(os.path.dirname(os.path.abspath(config)), found)


def cmd_policy_all(a):
    """--format policy for every user and role of the IAM file: cloudtracker checks each policy
    with its own policy engine before printing it (exit 1, nothing printed, on a violation), so
    this counts the principals whose policy came out."""
    argv = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    with open(config_iam(a.config, a.account)) as f:
        iam = json.load(f)
    principals = [("--user", u["UserName"]) for u in iam.get("UserDetailList", [])] + \
                 [("--role", r["RoleName"]) for r in iam.get("RoleDetailList", [])]
    ok, split, empty, failed = 0, 0, 0, []
    t0 = time.perf_counter()
    for flag, name in principals:
        p = subprocess.run(argv + [flag, name, "--format", "policy"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        try:
            doc = json.loads(p.stdout) if p.returncode == 0 else None
        except ValueError:
            doc = None
        if doc is None:
            why = (p.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
            failed.append("%s %s: exit %d: %s" % (flag[2:], name, p.returncode, why[:300]))
            continue
        docs = doc if isinstance(doc, list) else [doc]
        ok += 1
        split += len(docs) > 1
        empty += not any(st["Action"] for d in docs for st in d["Statement"])
    wall = time.perf_counter() - t0
    users = sum(1 for f, _ in principals if f == "--user")
    summary = "%d of %d principals (%d users, %d roles) printed a policy that passed its self-check " \
              "(%d split, %d granting nothing), %.1f s for all (%.0f ms each)" % (
                  ok, len(principals), users, len(principals) - users, split, empty, wall,
                  1000 * wall / max(len(principals), 1))
    if failed:
        print("FAILED: %s; %d failed: %s" % (summary, len(failed), "; ".join(failed[:3])))
        return 1
    print(summary)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--label", required=True)
    r.add_argument("--results", required=True)
    r.add_argument("--stdout")
    r.add_argument("--stderr")
    r.add_argument("--shell", action="store_true")
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--archive", required=True)
    p.add_argument("--small")
    p.add_argument("--md")
    p.add_argument("--info", action="append", default=[])
    c = sub.add_parser("crosscheck")
    c.add_argument("--jq", required=True)
    c.add_argument("--ct", required=True)
    c = sub.add_parser("crosscheck-people")
    c.add_argument("--manifest", required=True)
    c.add_argument("--account", required=True)
    c.add_argument("--ct", required=True)
    c = sub.add_parser("crosscheck-policy")
    c.add_argument("--policy", required=True)
    c.add_argument("--user-out", required=True)
    c = sub.add_parser("crosscheck-review")
    c.add_argument("--review", required=True)
    c.add_argument("--user-out", required=True)
    c.add_argument("--list-out", required=True)
    c = sub.add_parser("policy-all")
    c.add_argument("--config", required=True)
    c.add_argument("--account", required=True)
    c.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    return {"run": cmd_run, "report": cmd_report, "crosscheck": cmd_crosscheck,
            "crosscheck-people": cmd_crosscheck_people, "crosscheck-review": cmd_crosscheck_review,
            "crosscheck-policy": cmd_crosscheck_policy, "policy-all": cmd_policy_all}[a.what](a)


if __name__ == "__main__":
    sys.exit(main())
