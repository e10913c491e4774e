#!/usr/bin/env bash
# `review --output FILE` writes the review whole or not at all: the file
# holds the complete review after success; after a failure (a compare file
# that cannot be read, a folder that does not exist) the file is as it was
# and no temporary file is left; a link planted at FILE is replaced, never
# written through.
# Usage: test_review_output.sh CLOUDTRACKER_BINARY SOURCE_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch/out" || exit 1
export CLOUDTRACKER_TODAY=2026-11-27
review=("$bin" review --config "$root/config.yaml.example" --store "$scratch/store.db")
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
leftovers() { find "$scratch/out" -name '.*' -type f | wc -l; }

# A JSON review, written whole: stdout stays empty, the file parses.
"${review[@]}" --format json --output "$scratch/out/review.json" >"$scratch/stdout" 2>"$scratch/stderr"
rc=$?
[ "$rc" = 0 ] && ok || bad "--output: exit $rc: $(cat "$scratch/stderr")"
[ ! -s "$scratch/stdout" ] && ok || bad "--output: the review also went to stdout"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["type"] == "review" and d["identities"]' \
    "$scratch/out/review.json" && ok || bad "--output: the file is not a whole review"
# The same review as stdout gives (but for the command line, which names
# --output).
"${review[@]}" --format json >"$scratch/stdout.json" 2>/dev/null
python3 -c 'import json,sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a.pop("command_line") != b.pop("command_line") and a == b' "$scratch/stdout.json" \
    "$scratch/out/review.json" && ok || bad "--output differs from stdout"

# A failed review leaves the file as it was, and nothing beside it.
echo "the review of last quarter" >"$scratch/out/kept.txt"
"${review[@]}" --output "$scratch/out/kept.txt" --compare "$scratch/missing.json" 2>"$scratch/stderr"
rc=$?
[ "$rc" = 12 ] && ok || bad "a missing compare file: exit $rc, expected 12"
[ "$(cat "$scratch/out/kept.txt")" = "the review of last quarter" ] && ok ||
    bad "a failed review changed the output file"
[ "$(leftovers)" = 0 ] && ok || bad "a failed review left a temporary file: $(find "$scratch/out" -name '.*')"

# A folder that does not exist: the output error, exit 10, naming the file.
"${review[@]}" --output "$scratch/no/such/folder/review.txt" 2>"$scratch/stderr"
rc=$?
[ "$rc" = 10 ] && ok || bad "an output in a missing folder: exit $rc, expected 10"
grep -q "no/such/folder/review.txt" "$scratch/stderr" && ok || bad "the error does not name the file: $(cat "$scratch/stderr")"

# A link planted at the output name is replaced; its target is untouched.
echo "someone else's file" >"$scratch/victim"
ln -s "$scratch/victim" "$scratch/out/linked.txt"
"${review[@]}" --output "$scratch/out/linked.txt" 2>/dev/null
rc=$?
[ "$rc" = 0 ] && ok || bad "--output over a link: exit $rc"
[ "$(cat "$scratch/victim")" = "someone else's file" ] && ok || bad "the review was written through a link"
[ ! -L "$scratch/out/linked.txt" ] && grep -q "^Access review" "$scratch/out/linked.txt" && ok ||
    bad "the link was not replaced by the review"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
