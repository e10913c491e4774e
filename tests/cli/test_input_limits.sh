#!/usr/bin/env bash
# Config and IAM files the loaders must refuse by what they are, at once and
# with one message naming the file: devices, FIFOs, folders, files over the
# size limits; a config with 200,000 accounts (the duplicate check must stay
# linear); and ~ in a config path, with HOME set to this run's scratch folder.
# Every run is guarded so that a loader without these bounds fails here
# instead of exhausting the machine: 1 GiB of address space (ulimit -v; ASan
# reserves terabytes of it, so an ASan build gets ASan's own limits instead:
# 1 GiB per allocation, 2 GiB resident, where correct code needs 0.7), 20 s
# of CPU (correct code: under 3 s even with ASan) and `timeout` for a FIFO
# that would block. These are guards, not timing checks.
# Usage: test_input_limits.sh CLOUDTRACKER_BINARY SOURCE_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
cfg=$root/config.yaml.example
iam=$root/demo/iam/demo.json
asan=0
grep -qa __asan_init "$bin" && asan=1

guarded() {
    if [ $asan = 1 ]; then
        (ulimit -t 20 && ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=2048:max_allocation_size_mb=1024" exec timeout 60 "$@")
    else
        (ulimit -t 20 -v 1048576 && exec timeout 60 "$@")
    fi
}

pass=0 fail=0
envcmd=() # arguments of env(1) for the next checks
# check NAME RC STDERR ARGS...: runs cloudtracker in the scratch folder and
# compares its exit code and stderr (scratch written as @SCRATCH@).
check() {
    local name=$1 want_rc=$2 want_err=$3
    shift 3
    local err rc
    err=$(cd "$scratch" && guarded env "${envcmd[@]}" "$bin" "$@" 2>&1 >"$scratch/$name.out" </dev/null)
    rc=$?
    err=${err//$scratch/@SCRATCH@}
    if [ "$rc" = "$want_rc" ] && [ "$err" = "$want_err" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: exit code $rc (expected $want_rc), stderr:"
        printf '%s\n' "$err" | head -5
        echo "expected:"
        printf '%s\n' "$want_err"
    fi
}

query=(--store "$scratch/store.db" --account demo --list users)

check config-device 3 "cloudtracker: /dev/zero: cannot read config: it is a character device, not a regular file" \
    --config /dev/zero "${query[@]}"
check iam-device 4 "cloudtracker: /dev/zero: cannot read IAM authorization details: it is a character device, not a regular file" \
    --config "$cfg" "${query[@]}" --iam /dev/zero

mkfifo "$scratch/fifo" || exit 1
check config-fifo 3 "cloudtracker: @SCRATCH@/fifo: cannot read config: it is a named pipe (FIFO), not a regular file" \
    --config "$scratch/fifo" "${query[@]}"
check iam-fifo 4 "cloudtracker: @SCRATCH@/fifo: cannot read IAM authorization details: it is a named pipe (FIFO), not a regular file" \
    --config "$cfg" "${query[@]}" --iam "$scratch/fifo"

check config-folder 3 "cloudtracker: @SCRATCH@: cannot read config: it is a folder, not a regular file" \
    --config "$scratch" "${query[@]}"

# Sparse files: their size is what counts, and they take no disk space.
truncate -s $((16 * 1024 * 1024 + 1)) "$scratch/big.yaml" || exit 1
check config-too-large 3 "cloudtracker: @SCRATCH@/big.yaml: cannot read config: the file is larger than the 16 MiB limit" \
    --config "$scratch/big.yaml" "${query[@]}"
truncate -s $((1024 * 1024 * 1024 + 1)) "$scratch/big.json" || exit 1
check iam-too-large 4 "cloudtracker: @SCRATCH@/big.json: cannot read IAM authorization details: the file is larger than the 1 GiB limit" \
    --config "$cfg" "${query[@]}" --iam "$scratch/big.json"
rm -f "$scratch/big.yaml" "$scratch/big.json"

# 200,000 accounts: loaded, then the same with a duplicate id at the end.
awk 'BEGIN {
    print "accounts:"
    for (i = 0; i < 200000; i++) printf "  - {name: acct-%d, id: \"%012d\"}\n", i, i
}' >"$scratch/many.yaml"
check many-accounts 0 "cloudtracker: warning: the store holds no events for account acct-199999 (000000199999) between 2018-01-01 and 2018-06-30: every grant would look unused" \
    --config "$scratch/many.yaml" --store "$scratch/store.db" --account acct-199999 --iam "$iam" \
    --list users --start 2018-01-01 --end 2018-06-30
if ! grep -q '^- alice$' "$scratch/many-accounts.out"; then
    fail=$((fail + 1))
    echo "FAIL many-accounts: alice is not listed"
fi
{ cat "$scratch/many.yaml" && echo '  - {name: late, id: "000000000007"}'; } >"$scratch/many-dup.yaml"
check many-accounts-duplicate 3 "cloudtracker: @SCRATCH@/many-dup.yaml:200002:5: account id 000000000007 is used twice (first on line 9)" \
    --config "$scratch/many-dup.yaml" --store "$scratch/store.db" --account acct-1 --iam "$iam" \
    --list users
rm -f "$scratch/many.yaml" "$scratch/many-dup.yaml"

# ~/ in config paths is $HOME: the store is made there, not in a folder "~".
mkdir -p "$scratch/home" "$scratch/conf" || exit 1
printf 'accounts:\n  - {name: demo, id: "111111111111", iam: ~/demo.json}\nfiles:\n  store: ~/ct/store.db\n' \
    >"$scratch/conf/config.yaml"
cp "$iam" "$scratch/home/demo.json" || exit 1
envcmd=(HOME="$scratch/home")
check home-paths 0 "cloudtracker: warning: the store holds no events for account demo (111111111111) between 2018-01-01 and 2018-06-30: every grant would look unused" \
    --config "$scratch/conf/config.yaml" --account demo --list users --start 2018-01-01 \
    --end 2018-06-30
if [ ! -f "$scratch/home/ct/store.db" ] || [ -e "$scratch/conf/~" ]; then
    fail=$((fail + 1))
    echo "FAIL home-paths: the store is not in \$HOME/ct"
fi
envcmd=(-u HOME)
check home-unset 3 "cloudtracker: @SCRATCH@/conf/config.yaml:2:43: the iam file of account 'demo' starts with ~ but HOME is not set" \
    --config "$scratch/conf/config.yaml" --account demo --list users

echo "$pass passed, $fail failed"
[ $fail = 0 ]
