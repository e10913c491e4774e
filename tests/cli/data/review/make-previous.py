#!/usr/bin/env python3
"""Makes the fixture of `review --compare` (tests/cli/golden/review_compare*):
an earlier state of the demo account and the review cloudtracker made of it.

demo-before.json is the demo's IAM file (demo/iam/demo.json) as it was a
quarter earlier: alice also held an inline policy `extra-admin-tools`
(iam:CreateUser, s3:DeleteBucket, never used: the review then said "remove
them", and they are gone now, so the comparison verifies the revocation), a
user `eve` existed (removed since), and `henry` did not exist yet (added
since). previous.json is `cloudtracker review --format json` of that state
for the first quarter of 2018, made by the binary given.

Usage: make-previous.py /path/to/cloudtracker   (rewrites both files)
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))


def before_iam():
    with open(os.path.join(ROOT, "demo", "iam", "demo.json")) as f:
        doc = json.load(f)
    users = doc["UserDetailList"]
    alice = next(u for u in users if u["UserName"] == "alice")
    alice["UserPolicyList"].append({"PolicyName": "extra-admin-tools", "PolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:CreateUser", "s3:DeleteBucket"],
                       "Resource": "*"}]}})
    eve = copy.deepcopy(next(u for u in users if u["UserName"] == "dave"))
    eve.update({"UserName": "eve", "UserId": "AIDADEMOEVE000000001",
                "Arn": "arn:aws:iam::111111111111:user/eve"})
    users.append(eve)
    doc["UserDetailList"] = [u for u in users if u["UserName"] != "henry"]
    return doc


def main():
    binary = os.path.abspath(sys.argv[1])
    with open(os.path.join(HERE, "demo-before.json"), "w") as f:
        json.dump(before_iam(), f, indent=1, sort_keys=True)
        f.write("\n")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CLOUDTRACKER_TODAY="2018-04-01")
        out = subprocess.run([binary, "review", "--config", os.path.join(HERE, "config-before.yaml"),
                              "--store", os.path.join(tmp, "store.db"), "--start", "2018-01-01",
                              "--end", "2018-03-31", "--format", "json"],
                             env=env, cwd=HERE, check=True, stdout=subprocess.PIPE).stdout
    # The command line names this machine's paths: kept relative to the fixture.
    doc = json.loads(out)
    doc["command_line"] = ["cloudtracker"] + [a.replace(HERE + "/", "").replace(tmp, "TMP")
                                              for a in doc["command_line"][1:]]
    for account in doc["accounts"]:
        account["iam_file"] = os.path.relpath(account["iam_file"], HERE)
    with open(os.path.join(HERE, "previous.json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")


if __name__ == "__main__":
    main()
