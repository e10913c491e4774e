#!/usr/bin/env bash
# What the ingest finds among the logs: folder links that make a graph with
# exponentially many paths (each folder walked once, each file counted
# once).
# Usage: test_walk.sh CLOUDTRACKER_BINARY SOURCE_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
scratch=$(cd "$scratch" && pwd -P) # messages name canonical paths
good=$root/tests/cli/data/broken/logs/AWSLogs/111111111111/CloudTrail/us-east-1/2018/03/05/111111111111_CloudTrail_us-east-1_20180305T1015Z_good.json.gz
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL $1"
    [ -f "$scratch/err" ] && sed 's/^/  stderr: /' "$scratch/err" | head -20
}
# run NAME WANT_RC ARGS...: runs the binary, stderr in $scratch/err.
run() {
    local name=$1 want=$2
    shift 2
    "$bin" "$@" >"$scratch/out" 2>"$scratch/err"
    local rc=$?
    if [ "$rc" = "$want" ]; then ok; else bad "$name: exit code $rc, expected $want"; fi
}
# has NAME TEXT: stderr of the last run holds the line TEXT.
has() {
    if grep -qxF -- "$2" "$scratch/err"; then ok; else bad "$1: no line '$2'"; fi
}

# dag DEPTH: folders d0..dDEPTH, each holding two links (a, b) to the next,
# the last one a trail file: 2^DEPTH paths lead to it.
dag() {
    local dir=$scratch/dag$1
    mkdir -p "$dir"
    for i in $(seq 0 "$1"); do mkdir "$dir/d$i"; done
    for i in $(seq 0 $(($1 - 1))); do
        ln -s "../d$((i + 1))" "$dir/d$i/a"
        ln -s "../d$((i + 1))" "$dir/d$i/b"
    done
    cp "$good" "$dir/d$1/trail.json.gz"
}

for depth in 12 30; do
    dag $depth
    run "dag$depth" 0 ingest --store "$scratch/dag$depth.db" "$scratch/dag$depth/d0"
    has "dag$depth" "cloudtracker: 1 file: 1 read, 0 unchanged, 0 partly read, 0 skipped; 1 record stored, 0 rejected"
done

echo "$pass passed, $fail failed"
[ $fail = 0 ]
