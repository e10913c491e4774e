#!/usr/bin/env bash
# Benchmarks cloudtracker on a generated CloudTrail archive, next to zcat and jq baselines
# measured in the same invocation. See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/run.sh [--events N] [--quick] [--build DIR] [--runs K] [--seed S] [--keep]

  --events N   archive size in CloudTrail records (default 1000000)
  --quick      a fast sanity check: 50000 events unless --events is given
  --build DIR  build folder for the Release binary (default build-bench/)
  --runs K     runs per cloudtracker query, the median is reported (default 5)
  --seed S     generator seed (default 1)
  --keep       keep the stores the run made (deleted at the end otherwise)

The archives are generated once into bench/out/ and reused by later runs with the same
parameters and the same gen_archive.py. Results go to bench/out/runs/<time>/.
Exit status: 0 all steps ran; 1 a cloudtracker step failed or an answer differs; 2 cloudtracker steps were skipped
(no usable binary); 64 usage.
EOF
}

EVENTS=""
BUILD=""
KEEP=0
QUICK=0
RUNS=5
SEED=1
JOBS=2
while [ $# -gt 0 ]; do
    case "$1" in
    --events) EVENTS=${2:?--events needs a value}; shift 2 ;;
    --events=*) EVENTS=${1#*=}; shift ;;
    --build) BUILD=${2:?--build needs a value}; shift 2 ;;
    --build=*) BUILD=${1#*=}; shift ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --seed) SEED=${2:?--seed needs a value}; shift 2 ;;
    --seed=*) SEED=${1#*=}; shift ;;
    --keep) KEEP=1; shift ;;
    --quick) QUICK=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option: $1" >&2; usage >&2; exit 64 ;;
    esac
done
if [ -z "$EVENTS" ]; then
    if [ "$QUICK" = 1 ]; then EVENTS=50000; else EVENTS=1000000; fi
fi
case "$EVENTS$RUNS$SEED" in *[!0-9]*) echo "run.sh: --events, --runs and --seed take numbers" >&2; exit 64 ;; esac
if [ "$EVENTS" -lt 100 ] || [ "$RUNS" -lt 1 ]; then
    echo "run.sh: need --events >= 100 and --runs >= 1" >&2
    exit 64
fi
# Peak memory is compared with an archive of 3/10 the size: big enough that the ingest's
# memory bounds (SQLite's 4 MiB page cache, the writer's buffers) are all reached there too.
SMALL=$((EVENTS * 3 / 10))

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
OUT=$BENCH/out
BUILD=${BUILD:-$ROOT/build-bench}
case "$BUILD" in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
RUN=$OUT/runs/$(date -u +%Y%m%dT%H%M%SZ)-e$EVENTS
mkdir -p "$RUN"
RESULTS=$RUN/results.jsonl
: >"$RESULTS"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
M() { python3 "$BENCH/measure.py" run --results "$RESULTS" "$@"; }
say() { printf '\n== %s\n' "$*" >&2; }

for tool in python3 zcat jq cmake xargs; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 2; }
done

# --- the binary ---------------------------------------------------------------------------
SKIP=""
CT=$BUILD/cloudtracker
say "building cloudtracker (Release) in $BUILD"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCT_BUILD_TESTS=OFF >"$RUN/cmake.log" 2>&1 ||
        SKIP="cmake configure failed, see $RUN/cmake.log"
fi
if [ -z "$SKIP" ]; then
    cmake --build "$BUILD" --target cloudtracker -j "$(nproc)" >"$RUN/build.log" 2>&1 ||
        SKIP="build failed, see $RUN/build.log"
fi
if [ -z "$SKIP" ]; then
    btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
    [ "$btype" = Release ] || echo "run.sh: warning: $BUILD is a '$btype' build, not Release" >&2
    help=$("$CT" --help 2>&1 || true)
    for need in ingest --skip-setup --destrole --list --person review; do
        case "$help" in *"$need"*) ;; *) SKIP="the binary's --help lacks '$need' (CLI not ready)" ;; esac
    done
fi
[ -z "$SKIP" ] || echo "run.sh: cloudtracker steps skipped: $SKIP" >&2

# --- the archives (cached) ------------------------------------------------------------------
GENHASH=$(sha256sum "$BENCH/gen_archive.py" | cut -c1-10)
archive() { # N -> folder, generating and checking it once
    local d=$OUT/archive-e$1-s$SEED-$GENHASH
    if [ ! -f "$d/manifest.json" ]; then
        say "generating $1 events into $d"
        python3 "$BENCH/gen_archive.py" --out "$d" --events "$1" --seed "$SEED" --jobs "$JOBS" --force >&2
        python3 "$BENCH/check_archive.py" "$d" >&2
    else
        echo "run.sh: using cached archive $d" >&2
    fi
    ARCHIVE=$d
}
archive "$EVENTS"
A=$ARCHIVE
man() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/manifest.json")); print(eval(sys.argv[2]))' "$A" "$1"; }
ACCT=$(man 'm["accounts"][0]["id"]')
ACCT_NAME=$(man 'm["accounts"][0]["name"]')
PERSON=$(man 'm["people"]["person_example"] or ""')
START=$(man 'm["window"]["start"]')
END=$(man 'm["window"]["end"]')
find "$A/AWSLogs" -name '*.json.gz' -print0 | sort -z >"$RUN/files0"
say "warming the page cache"
xargs -0 cat <"$RUN/files0" >/dev/null

# --- (a) zcat baseline ----------------------------------------------------------------------
say "(a) zcat baseline (median of 3)"
for _ in 1 2 3; do
    M --label zcat --shell -- "xargs -0 zcat < '$RUN/files0' > /dev/null"
done

STATUS=0
CROSS=""
PCROSS=""
RCROSS=""
PLCROSS=""
PACHECK=""
clear_store() { rm -f "$1/store.db" "$1/store.db-wal" "$1/store.db-shm" "$1/store.db-journal"; }

# --- (b) ingest -----------------------------------------------------------------------------
if [ -z "$SKIP" ]; then
    say "(b) cloudtracker ingest of $EVENTS events into a fresh store"
    clear_store "$A"
    M --label ingest --stderr "$RUN/ingest.stderr" -- "$CT" ingest --config "$A/config.yaml" || STATUS=1
    tail -n 5 "$RUN/ingest.stderr" >&2 || true
fi

# --- (c) jq baseline for the --user question --------------------------------------------------
say "(c) jq pipeline: what did user000 call directly"
JQ='.Records[] | select(.userIdentity.arn == "arn:aws:iam::'$ACCT':user/user000" and .errorCode == null) | [.eventSource, .eventName]'
M --label jq --stdout "$RUN/jq-user000.txt" --shell -- \
    "xargs -0 zcat < '$RUN/files0' | jq -c '$JQ' | sort -u"
JQ_LINES=$(wc -l <"$RUN/jq-user000.txt")

# --- (d) queries ----------------------------------------------------------------------------
if [ -z "$SKIP" ] && [ "$STATUS" = 0 ]; then
    say "(d) cloudtracker queries, median of $RUNS"
    q() { # label, then the query's own options
        local label=$1
        shift
        for _ in $(seq "$RUNS"); do
            M --label "$label" --stdout "$RUN/$label.out" --stderr "$RUN/$label.err" -- \
                "$CT" --config "$A/config.yaml" --account "$ACCT_NAME" --skip-setup \
                --start "$START" --end "$END" "$@" || STATUS=1
        done
    }
    q q-user --user user000
    q q-role --role admin
    q q-destrole --user user000 --destrole admin
    q q-list --list users
    q q-people --list people
    # The least-privilege policy of the same diffs: no more than the diff costs.
    q q-policy-user --user user000 --format policy
    q q-policy-role --role admin --format policy
    # Limited to the resources the calls named: one more question.
    q q-policy-resources --user user000 --format policy --resources
    # The access review of the whole account: one pass, every identity.
    for _ in $(seq "$RUNS"); do
        M --label q-review --stdout "$RUN/q-review.json" --stderr "$RUN/q-review.err" -- \
            "$CT" review --config "$A/config.yaml" --account "$ACCT_NAME" --skip-setup \
            --start "$START" --end "$END" --format json || STATUS=1
    done
    # The person with the most Identity Center sessions (gen_archive.py's manifest).
    [ -z "$PERSON" ] || q q-person --person "$PERSON"
    CROSS=$(python3 "$BENCH/measure.py" crosscheck --jq "$RUN/jq-user000.txt" --ct "$RUN/q-user.out") || STATUS=1
    echo "run.sh: --user user000 against jq: $CROSS" >&2
    PCROSS=$(python3 "$BENCH/measure.py" crosscheck-people --manifest "$A/manifest.json" --account "$ACCT_NAME" \
        --ct "$RUN/q-people.out") || STATUS=1
    echo "run.sh: --list people against the generator: $PCROSS" >&2
    RCROSS=$(python3 "$BENCH/measure.py" crosscheck-review --review "$RUN/q-review.json" --user-out "$RUN/q-user.out" \
        --list-out "$RUN/q-list.out") || STATUS=1
    echo "run.sh: review against --user user000 and --list users: $RCROSS" >&2
    PLCROSS=$(python3 "$BENCH/measure.py" crosscheck-policy --policy "$RUN/q-policy-user.out" \
        --user-out "$RUN/q-user.out") || STATUS=1
    echo "run.sh: --format policy against --user user000: $PLCROSS" >&2
    # Every user and role of the archive's IAM file: cloudtracker proves each policy with its
    # own policy engine before it prints it, so this counts the policies that came out.
    say "--format policy of every user and role, one process each"
    PACHECK=$(python3 "$BENCH/measure.py" policy-all --config "$A/config.yaml" --account "$ACCT_NAME" -- \
        "$CT" --config "$A/config.yaml" --account "$ACCT_NAME" --skip-setup --start "$START" --end "$END") ||
        STATUS=1
    echo "run.sh: --format policy of every principal: $PACHECK" >&2
fi

# --- (e) peak memory at 3/10 of the size ------------------------------------------------
if [ -z "$SKIP" ] && [ "$STATUS" = 0 ]; then
    archive "$SMALL"
    S=$ARCHIVE
    say "(e) cloudtracker ingest of $SMALL events into a fresh store"
    clear_store "$S"
    M --label ingest-small --stderr "$RUN/ingest-small.stderr" -- "$CT" ingest --config "$S/config.yaml" || STATUS=1
    # The review's memory should not grow with the number of events.
    M --label q-review-small --stdout "$RUN/q-review-small.json" -- \
        "$CT" review --config "$S/config.yaml" --account "$ACCT_NAME" --skip-setup \
        --start "$START" --end "$END" --format json || STATUS=1
    [ "$KEEP" = 1 ] || clear_store "$S"
else
    S=""
fi
[ "$KEEP" = 1 ] || clear_store "$A"

# --- the table ------------------------------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
git -C "$ROOT" diff --quiet HEAD -- src include 2>/dev/null || COMMIT="$COMMIT+local changes"
say "results"
python3 "$BENCH/measure.py" report --results "$RESULTS" --archive "$A" ${S:+--small "$S"} --md "$RUN/report.md" \
    --info "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
    --info "machine=$(nproc) x ${CPU:-unknown CPU}, $(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo)" \
    --info "commit=commit $COMMIT, $(basename "$BUILD"); load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end" \
    --info "jq_lines=$JQ_LINES" --info "skip=${SKIP:-}" --info "crosscheck=${CROSS:-}" \
    --info "person=$PERSON" --info "crosscheck_people=${PCROSS:-}" --info "crosscheck_review=${RCROSS:-}" --info "crosscheck_policy=${PLCROSS:-}" \
    --info "policy_all=${PACHECK:-}"
cp "$RUN/report.md" "$OUT/last-report.md"
echo >&2
echo "run.sh: logs and outputs in $RUN" >&2
if [ -n "$SKIP" ]; then exit 2; fi
exit "$STATUS"
