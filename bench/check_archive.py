#!/usr/bin/env python3
"""Checks an archive written by gen_archive.py: layout, gzip+JSON validity, record counts,
record shapes, role-session joins, and that the benchmark questions have answers.
Exit status 0 when every check passes, 1 otherwise. Standard library only."""

import argparse
import collections
import gzip
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_archive  # noqa: E402  (for the event-name -> IAM action mapping)

NAME = re.compile(r"^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8})T(\d{4})Z_[A-Za-z0-9]{16}\.json\.gz$")
REQUIRED = ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
            "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID",
            "eventID", "readOnly", "eventType", "managementEvent", "recipientAccountId")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--events", type=int, help="expected record count (default: the manifest's)")
    ap.add_argument("--iam-actions", help="iam_actions.tsv to check event names against")
    args = ap.parse_args()
    d = args.dir
    problems = []

    def fail(msg):
        if len(problems) < 30:
            print("check_archive: FAIL: " + msg, file=sys.stderr)
        problems.append(msg)

    manifest = json.load(open(os.path.join(d, "manifest.json")))
    want = args.events if args.events is not None else manifest["params"]["events"]
    anchor = time.strptime(manifest["params"]["anchor"], "%Y-%m-%d")
    end = time.strftime("%Y-%m-%dT00:00:00Z", anchor)
    start = manifest["window"]["start"] + "T00:00:00Z"
    accounts = {a["id"]: a["name"] for a in manifest["accounts"]}

    tsv = args.iam_actions
    if tsv is None:
        for cand in ("../data/iam-actions/iam_actions.tsv", "../../shared/data/iam-actions/iam_actions.tsv"):
            p = os.path.join(os.path.dirname(os.path.abspath(__file__)), cand)
            if os.path.exists(p):
                tsv = p
                break
    known = None
    if tsv:
        known = {line.split("\t")[0].lower() for line in open(tsv) if line.strip()}

    total, files, json_bytes = 0, 0, 0
    per_file = []
    types = collections.Counter()
    errors = 0
    issued = {}        # ASIA key -> (caller arn, role arn, session name, creation time)
    session_calls = []  # (key, arn, eventTime, ok)
    user000_direct = 0
    endpoint = collections.Counter()
    unknown_actions = collections.Counter()
    event_ids = set()
    dup_ids = 0
    for root, _, names in os.walk(os.path.join(d, "AWSLogs")):
        for n in names:
            path = os.path.join(root, n)
            rel = os.path.relpath(path, d).split(os.sep)
            m = NAME.match(n)
            if not m:
                fail("%s: file name does not follow the CloudTrail pattern" % path)
                continue
            acct, region, ymd, hm = m.groups()
            if (len(rel) != 8 or rel[0] != "AWSLogs" or rel[1] != acct or rel[2] != "CloudTrail"
                    or rel[3] != region or "".join(rel[4:7]) != ymd):
                fail("%s: folder does not match AWSLogs/%s/CloudTrail/%s/%s/%s/%s" % (
                    path, acct, region, ymd[:4], ymd[4:6], ymd[6:]))
            if acct not in accounts:
                fail("%s: account %s is not in the manifest" % (path, acct))
            try:
                raw = gzip.open(path).read()
                doc = json.loads(raw)
            except (OSError, ValueError) as e:
                fail("%s: not gzip'd JSON: %s" % (path, e))
                continue
            files += 1
            json_bytes += len(raw)
            recs = doc.get("Records") if isinstance(doc, dict) else None
            if not isinstance(recs, list) or len(doc) != 1:
                fail("%s: not a {\"Records\":[...]} document" % path)
                continue
            per_file.append(len(recs))
            total += len(recs)
            stamp = "%s-%s-%sT%s:%s" % (ymd[:4], ymd[4:6], ymd[6:], hm[:2], hm[2:])
            for r in recs:
                missing = [k for k in REQUIRED if k not in r]
                if missing:
                    fail("%s: record without %s" % (path, ", ".join(missing)))
                    continue
                if r["eventID"] in event_ids:
                    dup_ids += 1
                event_ids.add(r["eventID"])
                t = r["eventTime"]
                if not (start <= t < end):
                    fail("%s: eventTime %s outside [%s, %s)" % (path, t, start, end))
                if t[:16] > stamp:
                    fail("%s: eventTime %s after the file's time %s" % (path, t, stamp))
                if r["awsRegion"] != region or r["recipientAccountId"] != acct:
                    fail("%s: record of %s/%s in a file of %s/%s" % (
                        path, r["recipientAccountId"], r["awsRegion"], acct, region))
                ui = r["userIdentity"]
                types[ui["type"]] += 1
                src = r["eventSource"].split(".amazonaws.com")[0]
                if known is not None:
                    for a in gen_archive.iam_actions_of(src, r["eventName"]):
                        if a.lower() not in known:
                            unknown_actions[a] += 1
                ok = "errorCode" not in r
                if not ok:
                    errors += 1
                    if not r.get("errorMessage"):
                        fail("%s: errorCode without errorMessage" % path)
                ep = (r["responseElements"] or {}).get("endpoint") if isinstance(r["responseElements"], dict) else None
                if ep is not None:
                    endpoint[type(ep).__name__] += 1
                if r["eventName"] == "AssumeRole" and ok:
                    rp, re_ = r["requestParameters"], r["responseElements"]
                    key = re_["credentials"]["accessKeyId"]
                    if not key.startswith("ASIA"):
                        fail("%s: AssumeRole issued %s" % (path, key))
                    issued[key] = (ui.get("arn") or ui.get("invokedBy"), rp["roleArn"],
                                   rp["roleSessionName"], t)
                if ui["type"] == "AssumedRole":
                    session_calls.append((ui["accessKeyId"], ui["arn"], t, ok,
                                          ui["sessionContext"]["sessionIssuer"]["arn"]))
                elif ui["type"] == "IAMUser":
                    if ui["arn"].endswith(":user/user000") and ok:
                        user000_direct += 1
                    if ui["arn"] != "arn:aws:iam::%s:user/%s" % (acct, ui["userName"]):
                        fail("%s: IAMUser arn %s does not match userName" % (path, ui["arn"]))

    # Role sessions: calls made with an issued key must name that key's role and session, and
    # come after the AssumeRole.
    joined, orphan, user000_admin = 0, 0, 0
    admin_callers = set()
    for key, arn, t, ok, issuer in session_calls:
        s = issued.get(key)
        if s is None:
            orphan += 1
            continue
        joined += 1
        caller, role_arn, name, created = s
        acct, role = role_arn.split(":")[4], role_arn.split("/")[-1]
        if arn != "arn:aws:sts::%s:assumed-role/%s/%s" % (acct, role, name) or issuer != role_arn:
            fail("session %s: call as %s but the key was issued for %s/%s" % (key, arn, role_arn, name))
        if t < created:
            fail("session %s: call at %s before the AssumeRole at %s" % (key, t, created))
        if role == "admin" and ok:
            admin_callers.add(caller)
            if caller and caller.endswith(":user/user000"):
                user000_admin += 1

    if total != want:
        fail("%d records, expected %d" % (total, want))
    if per_file and (max(per_file) > 300 or (len(per_file) > 1 and min(per_file) < 50)):
        fail("records per file range %d..%d, expected ~50..300" % (min(per_file), max(per_file)))
    if dup_ids:
        fail("%d duplicate eventIDs" % dup_ids)
    if unknown_actions:
        fail("event names with no IAM action in %s: %s" % (tsv, ", ".join(sorted(unknown_actions))))
    if want >= 5000:
        if not user000_direct:
            fail("user000 has no successful direct calls")
        if not user000_admin:
            fail("user000 has no successful calls in admin sessions")
        if len(admin_callers) < 3:
            fail("admin is assumed by only %d principals" % len(admin_callers))
        if not 0.015 < errors / total < 0.06:
            fail("%.1f%% of records have an errorCode, expected ~3%%" % (100.0 * errors / total))
        if not joined:
            fail("no call joins an AssumeRole")
    if want >= 200000 and not (endpoint["str"] and endpoint["dict"]):
        fail("responseElements.endpoint seen as %s; expected both a string and an object" % dict(endpoint))

    # The IAM document and config.
    for acct_id, name in accounts.items():
        fname = "iam.json" if name == "bench" else "iam-%s.json" % name
        auth = json.load(open(os.path.join(d, fname)))
        users = {u["UserName"]: u for u in auth["UserDetailList"]}
        roles = {r["RoleName"]: r for r in auth["RoleDetailList"]}
        pols = {p["Arn"]: p for p in auth["Policies"]}
        groups = {g["GroupName"] for g in auth["GroupDetailList"]}
        if "user000" not in users or "admin" not in roles:
            fail("%s: no user000 or no admin role" % fname)
            continue
        for u in users.values():
            for g in u["GroupList"]:
                if g not in groups:
                    fail("%s: %s is in unknown group %s" % (fname, u["UserName"], g))
            for p in u["AttachedManagedPolicies"]:
                if p["PolicyArn"] not in pols:
                    fail("%s: %s attaches %s, which Policies lacks" % (fname, u["UserName"], p["PolicyArn"]))
        adm = [pols[p["PolicyArn"]] for p in roles["admin"]["AttachedManagedPolicies"]]
        docs = [v["Document"] for p in adm for v in p["PolicyVersionList"] if v["IsDefaultVersion"]]
        if not any(s["Action"] == "*" and s["Resource"] == "*" for dd in docs for s in dd["Statement"]):
            fail("%s: admin has no Action * Resource * policy" % fname)
    cfg = open(os.path.join(d, "config.yaml")).read()
    for acct_id in accounts:
        if '"%s"' % acct_id not in cfg:
            fail("config.yaml does not name account %s" % acct_id)

    print("check_archive: %d files, %d records (%.1f MB JSON, %.0f B/record), %d..%d per file" % (
        files, total, json_bytes / 1e6, json_bytes / max(1, total), min(per_file or [0]), max(per_file or [0])))
    print("check_archive: identities %s; %.1f%% errors; %d AssumeRole keys, %d session calls joined, "
          "%d from sessions without an AssumeRole" % (
              dict(types), 100.0 * errors / max(1, total), len(issued), joined, orphan))
    print("check_archive: user000: %d direct calls, %d calls as admin; admin assumed by %d principals; "
          "endpoint types %s" % (user000_direct, user000_admin, len(admin_callers), dict(endpoint)))
    if problems:
        print("check_archive: %d problem(s)" % len(problems), file=sys.stderr)
        return 1
    print("check_archive: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
