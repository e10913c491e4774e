#!/usr/bin/env bash
# A store made by an older cloudtracker (schema version 3) met by the
# command line: a query with --skip-setup refuses it and says how to
# rebuild; `ingest` and a query without it say, in one line, that they
# rebuild it from the trail files, and then answer as from a fresh store.
# Usage: test_store_rebuild.sh CLOUDTRACKER_BINARY SOURCE_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
if ! command -v python3 >/dev/null; then
    echo "python3 (to make the old store) is missing"
    exit 1
fi
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL $1"
    sed 's/^/  stderr: /' "$scratch/err" | head -20
}
run() {
    local name=$1 want=$2
    shift 2
    "$bin" "$@" >"$scratch/out" 2>"$scratch/err"
    local rc=$?
    if [ "$rc" = "$want" ]; then ok; else bad "$name: exit code $rc, expected $want"; fi
}
expect_err() {
    if grep -qF -- "$2" "$scratch/err"; then ok; else bad "$1: stderr lacks: $2"; fi
}
old_store() {
    rm -f "$1" "$1".rebuild*
    python3 - "$root/tests/data/store/schema-v3.sql" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.executescript(open(sys.argv[1]).read())
db.execute("PRAGMA application_id = 1129608052")  # "CTst"
db.execute("PRAGMA user_version = 3")
db.commit()
PY
}
config=$root/config.yaml.example
store=$scratch/old.db
notice="store $store was made by an older cloudtracker (schema version 3); rebuilding it from the trail files"

old_store "$store"
run skip_setup 6 --config "$config" --store "$store" --account demo --list users --skip-setup
expect_err skip_setup "made by an older cloudtracker (schema version 3"
expect_err skip_setup "cloudtracker ingest"
if [ "$(wc -l <"$scratch/err")" = 1 ]; then ok; else bad "skip_setup: more than one line"; fi

run ingest 0 ingest --config "$config" --store "$store"
expect_err ingest "$notice"
expect_err ingest "14 files: 14 read"
# Rebuilt: the next run has nothing to say and nothing to read.
run ingest_again 0 ingest --config "$config" --store "$store"
if grep -qF "older cloudtracker" "$scratch/err"; then bad "ingest_again: still rebuilding"; else ok; fi
expect_err ingest_again "14 files: 0 read, 14 unchanged"

# A query rebuilds it too, and answers as the golden case does.
old_store "$store"
run query 0 --config "$config" --store "$store" --account demo --list users
expect_err query "$notice"
if diff -q "$scratch/out" "$root/tests/cli/golden/demo_list_users.out" >/dev/null; then ok; else
    bad "query: output differs from the golden demo_list_users"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
