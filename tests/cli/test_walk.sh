#!/usr/bin/env bash
# What the ingest finds among the logs: folder links that make a graph with
# exponentially many paths (each folder walked once, each file counted
# once), and FIFOs, sockets and devices with trail file names (named as
# skipped, never opened: opening a FIFO would wait for a writer for ever).
# Usage: test_walk.sh CLOUDTRACKER_BINARY SOURCE_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
scratch=$(cd "$scratch" && pwd -P) # messages name canonical paths
if ! command -v python3 >/dev/null; then
    echo "python3 (to make a unix socket) is missing"
    exit 1
fi
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

# Special files with trail names, next to a good file; a FIFO with another
# name is not a trail file and is left out quietly, like any such file.
logs=$scratch/special/logs
mkdir -p "$logs"
cp "$good" "$logs/good.json.gz"
mkfifo "$logs/pipe.json" "$logs/notes.txt"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$logs/sock.json.gz"
ln -s /dev/null "$logs/device.json"
[ -p "$logs/pipe.json" ] && [ -S "$logs/sock.json.gz" ] || bad "special: cannot make the FIFO or socket"
skipped() { # NAME PREFIX SUFFIX (the link is named by its target)
    has "$1" "cloudtracker: $2/dev/null: not a regular file: a character device$3"
    has "$1" "cloudtracker: $2$logs/pipe.json: not a regular file: a named pipe (FIFO)$3"
    has "$1" "cloudtracker: $2$logs/sock.json.gz: not a regular file: a socket$3"
}
run special 11 ingest --store "$scratch/special.db" "$logs"
skipped special "" ""
has special "cloudtracker: 4 files: 1 read, 0 unchanged, 0 partly read, 3 skipped; 1 record stored, 0 rejected"
if grep -q notes "$scratch/err"; then bad "special: notes.txt named"; else ok; fi
# Skipped files stay listed in the store: a query repeats them.
cat >"$scratch/special/config.yaml" <<EOF
accounts:
  - name: demo
    id: "111111111111"
    iam: $root/demo/iam/demo.json
files:
  paths: [logs]
window:
  end: 2018-06-30
EOF
run special-query 11 --config "$scratch/special/config.yaml" --store "$scratch/special.db" \
    --skip-setup --account demo --user alice --show-used
skipped special-query "warning: " " (the answer may miss its events)"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
