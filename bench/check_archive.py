#!/usr/bin/env python3
"""Checks an archive written by gen_archive.py: layout, gzip+JSON validity, record counts,
record shapes, role-session joins (AssumeRole and AssumeRoleWithSAML, role chains, source
identities, identity-enhanced sessions), the IAM and identity store files, and that the
benchmark questions have answers.
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

SSO_ROLE = re.compile(r"^arn:aws:iam::\d{12}:role/aws-reserved/sso\.amazonaws\.com/AWSReservedSSO_[A-Za-z0-9+=,.@-]+_[0-9a-f]{16}$")
SSO_PROVIDER = re.compile(r"^arn:aws:iam::\d{12}:saml-provider/AWSSSO_[0-9a-f]{16}_DO_NOT_DELETE$")
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
    issued = {}        # ASIA key -> (caller, role arn, session name, creation time, source identity)
    session_calls = []  # (key, arn, eventTime, ok, role arn, source identity, onBehalfOf)
    chained = []       # (key issued, key of the caller's session)
    saml = collections.Counter()  # AssumeRoleWithSAML sessions: "idc" or "other"
    subjects = set()
    store_ids = {}     # identity store: UserId -> IdentityStoreId
    for acct_id, name in accounts.items():
        m = re.search(r"^\s*- name: %s\n(?:\s+\w+: .*\n)*?\s+identity_store: (\S+)" % re.escape(name),
                      open(os.path.join(d, "config.yaml")).read(), re.M)
        if m:
            try:
                users = json.load(open(os.path.join(d, m.group(1))))["Users"]
            except (OSError, ValueError, KeyError, TypeError) as e:
                fail("identity store %s: %s" % (m.group(1), e))
                continue
            for u in users:
                if not all(isinstance(u.get(k), str) and u[k] for k in
                           ("UserName", "UserId", "IdentityStoreId", "DisplayName")):
                    fail("identity store %s: a user without UserName, UserId, IdentityStoreId or DisplayName"
                         % m.group(1))
                    break
                store_ids[u["UserId"]] = u["IdentityStoreId"]
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
                if r["eventName"] in ("AssumeRole", "AssumeRoleWithSAML") and ok:
                    rp, re_ = r["requestParameters"], r["responseElements"]
                    key = re_["credentials"]["accessKeyId"]
                    if not key.startswith("ASIA"):
                        fail("%s: %s issued %s" % (path, r["eventName"], key))
                    src = re_.get("sourceIdentity")
                    if rp.get("sourceIdentity", src) != src:
                        fail("%s: sourceIdentity %s asked, %s granted" % (path, rp.get("sourceIdentity"), src))
                    caller = ui.get("arn") or ui.get("invokedBy")
                    if r["eventName"] == "AssumeRoleWithSAML":
                        caller = ui.get("userName")
                        if (ui["type"] != "SAMLUser" or caller != re_.get("subject") or
                                ui.get("principalId") != "%s:%s" % (ui.get("identityProvider"), caller) or
                                re_.get("nameQualifier") != ui.get("identityProvider") or not re_.get("issuer")):
                            fail("%s: AssumeRoleWithSAML whose SAMLUser does not match its subject" % path)
                        if SSO_ROLE.match(rp["roleArn"]):
                            saml["idc"] += 1
                            if not SSO_PROVIDER.match(rp["principalArn"]) or rp["roleSessionName"] != caller:
                                fail("%s: Identity Center session %s through %s" % (
                                    path, rp["roleSessionName"], rp["principalArn"]))
                        else:
                            saml["other"] += 1
                        subjects.add(caller)
                    elif ui["type"] == "AssumedRole":
                        chained.append((key, ui["accessKeyId"]))
                    issued[key] = (caller, rp["roleArn"], rp["roleSessionName"], t, src)
                if ui["type"] == "AssumedRole":
                    ctx = ui["sessionContext"]
                    session_calls.append((ui["accessKeyId"], ui["arn"], t, ok, ctx["sessionIssuer"]["arn"],
                                          ctx.get("sourceIdentity"), ui.get("onBehalfOf")))
                elif ui["type"] == "IAMUser":
                    if ui["arn"].endswith(":user/user000") and ok:
                        user000_direct += 1
                    if ui["arn"] != "arn:aws:iam::%s:user/%s" % (acct, ui["userName"]):
                        fail("%s: IAMUser arn %s does not match userName" % (path, ui["arn"]))

    # Role sessions: calls made with an issued key must name that key's role and session, and
    # come after the AssumeRole.
    joined, orphan, user000_admin = 0, 0, 0
    admin_callers = set()
    obo_keys, botocore = set(), set()
    for key, arn, t, ok, issuer, src, obo in session_calls:
        if obo is not None and key not in obo_keys:
            obo_keys.add(key)
            if store_ids.get(obo.get("userId")) is None or not obo.get("identityStoreArn", "").endswith(
                    "/" + store_ids[obo["userId"]]):
                fail("session %s: onBehalfOf %s is not a user of the identity store" % (key, obo))
        if "/botocore-session-" in arn:
            botocore.add(key)
        s = issued.get(key)
        if s is None:
            orphan += 1
            continue
        joined += 1
        caller, role_arn, name, created, issued_src = s
        acct, role = role_arn.split(":")[4], role_arn.split("/")[-1]
        if arn != "arn:aws:sts::%s:assumed-role/%s/%s" % (acct, role, name) or issuer != role_arn:
            fail("session %s: call as %s but the key was issued for %s/%s" % (key, arn, role_arn, name))
        if t < created:
            fail("session %s: call at %s before the AssumeRole at %s" % (key, t, created))
        if src != issued_src:
            fail("session %s: a call with sourceIdentity %s, the session's is %s" % (key, src, issued_src))
        if role == "admin" and ok:
            admin_callers.add(caller)
            if caller and caller.endswith(":user/user000"):
                user000_admin += 1

    # Role chains: the caller's session is one the logs opened, and its source identity stays.
    chain_known, chain_src = 0, 0
    for key, parent in chained:
        p = issued.get(parent)
        if p is None:
            continue
        chain_known += 1
        if issued[key][4] != p[4]:
            fail("session %s: chained from %s, source identity %s, not %s" % (key, parent, issued[key][4], p[4]))
        chain_src += p[4] is not None

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
        if manifest["params"].get("people"):
            planned = manifest["people"]["saml_people"]
            if not (saml["idc"] and saml["other"] and chain_src and obo_keys and botocore):
                fail("people behind roles: %d Identity Center and %d other SAML sessions, %d chains with a "
                     "source identity, %d identity-enhanced and %d botocore-session sessions; expected some of each"
                     % (saml["idc"], saml["other"], chain_src, len(obo_keys), len(botocore)))
            if len(subjects) < 0.9 * planned:
                fail("%d SAML subjects, expected about %d people" % (len(subjects), planned))
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
        by_arn = {r["Arn"]: r for r in roles.values()}
        for key, (_, role_arn, _, _, _) in issued.items():
            r = by_arn.get(role_arn)
            if role_arn.split(":")[4] != acct_id:
                continue
            if r is None:
                fail("%s: no role %s, which session %s is of" % (fname, role_arn, key))
            elif not (r["RolePolicyList"] or r["AttachedManagedPolicies"]):
                fail("%s: role %s has no policy" % (fname, role_arn))
            elif SSO_ROLE.match(role_arn) and (
                    r["Path"] != "/aws-reserved/sso.amazonaws.com/" or not any(
                        SSO_PROVIDER.match(st.get("Principal", {}).get("Federated", ""))
                        for st in r["AssumeRolePolicyDocument"]["Statement"])):
                fail("%s: %s lacks the Identity Center path or trust" % (fname, role_arn))
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
    print("check_archive: people: %d SAML subjects (%d Identity Center users in the store); %d Identity Center "
          "and %d other SAML sessions; %d role chains (%d with a source identity); %d identity-enhanced "
          "sessions; %d sessions named botocore-session-*" % (
              len(subjects), len(store_ids), saml["idc"], saml["other"], chain_known, chain_src, len(obo_keys),
              len(botocore)))
    if problems:
        print("check_archive: %d problem(s)" % len(problems), file=sys.stderr)
        return 1
    print("check_archive: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
