#!/usr/bin/env bash
# Golden CLI tests: each tests/cli/golden/NAME.args (one argument per line)
# is run, and its stdout, stderr and exit code are compared byte for byte
# with NAME.out, NAME.err (if present) and NAME.rc (default 0).
# In args and expected output, @ROOT@ is the source tree and @SCRATCH@ this
# run's scratch folder. CT_GOLDEN_UPDATE=1 rewrites the expected files.
# Usage: test_golden.sh CLOUDTRACKER_BINARY SOURCE_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
cases="$root/tests/cli/golden"
export CLOUDTRACKER_TODAY=2026-11-27
unset NO_COLOR
pass=0 fail=0
for argsfile in "$cases"/*.args; do
    name=$(basename "$argsfile" .args)
    args=()
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line//@ROOT@/$root}
        args+=("${line//@SCRATCH@/$scratch}")
    done <"$argsfile"
    (cd "$scratch" && "$bin" "${args[@]}" >"$scratch/$name.out" 2>"$scratch/$name.err")
    rc=$?
    # Paths in messages are written back as placeholders.
    sed -i -e "s|$scratch|@SCRATCH@|g" -e "s|$root|@ROOT@|g" "$scratch/$name.out" "$scratch/$name.err"
    if [ "${CT_GOLDEN_UPDATE:-}" = 1 ]; then
        cp "$scratch/$name.out" "$cases/$name.out"
        if [ -s "$scratch/$name.err" ] || [ -f "$cases/$name.err" ]; then
            cp "$scratch/$name.err" "$cases/$name.err"
        fi
        if [ "$rc" != 0 ]; then echo "$rc" >"$cases/$name.rc"; else rm -f "$cases/$name.rc"; fi
    fi
    want_rc=0
    [ -f "$cases/$name.rc" ] && want_rc=$(cat "$cases/$name.rc")
    ok=1
    if ! diff -u "$cases/$name.out" "$scratch/$name.out" >"$scratch/$name.diff"; then ok=0; fi
    if [ -f "$cases/$name.err" ]; then
        diff -u "$cases/$name.err" "$scratch/$name.err" >>"$scratch/$name.diff" || ok=0
    elif [ -s "$scratch/$name.err" ]; then
        { echo "unexpected stderr:"; cat "$scratch/$name.err"; } >>"$scratch/$name.diff"
        ok=0
    fi
    if [ "$rc" != "$want_rc" ]; then
        echo "exit code $rc, expected $want_rc" >>"$scratch/$name.diff"
        ok=0
    fi
    if [ $ok = 1 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name"
        cat "$scratch/$name.diff"
    fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
