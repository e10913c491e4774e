#!/usr/bin/env bash
# Colors appear only on a terminal, and --no-color or NO_COLOR turn them off.
# A pseudo-terminal comes from util-linux's `script`.
# Usage: test_color.sh CLOUDTRACKER_BINARY SOURCE_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
if ! command -v script >/dev/null; then
    echo "script (util-linux) is missing"
    exit 1
fi
esc=$(printf '\033')
args="--config $root/config.yaml.example --store $scratch/store.db --account demo --user alice"
pass=0 fail=0
check() { # name, expect (color|plain), command...
    local name=$1 expect=$2
    shift 2
    local out
    out=$(cd "$scratch" && "$@" </dev/null 2>&1)
    local has=plain
    case "$out" in *"$esc["*) has=color ;; esac
    if [ "$has" = "$expect" ] && [[ "$out" == *"cloudwatch:getdashboard"* ]]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: expected $expect output, got:"
        printf '%s\n' "$out" | head -5 | cat -v
    fi
}
unset NO_COLOR
check tty color script -qec "$bin $args" /dev/null
check no-color-flag plain script -qec "$bin $args --no-color" /dev/null
check no-color-env plain env NO_COLOR=1 script -qec "$bin $args" /dev/null
check empty-no-color-env color env NO_COLOR= script -qec "$bin $args" /dev/null
check pipe plain "$bin" $args
check json-on-tty plain script -qec "$bin $args --format json" /dev/null
echo "$pass passed, $fail failed"
[ $fail = 0 ]
