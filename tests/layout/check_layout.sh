#!/usr/bin/env bash
# Checks the rules of docs/architecture.md that a machine can check: which
# folder of src/ may include which module, that only src/cli/ writes to
# stdout or exits, and that src/iam/ and src/analysis/ do no I/O of their
# own. Usage: check_layout.sh SOURCE_DIR. Prints every breach; exit 1 if any.
set -u
root=${1:?usage: check_layout.sh SOURCE_DIR}
cd "$root" || exit 2
fail=0
breach() {
    echo "layout: $*"
    fail=1
}

# The module an include names: a public header's module, or the folder of
# a private one ("es/es_http.h" -> es, "internal.h" -> the including folder).
module_of() {
    local inc=$1 own=$2
    case $inc in
    cloudtracker/util.h | cloudtracker/error.h | cloudtracker/date.h | cloudtracker/outfile.h) echo util ;;
    cloudtracker/es.h | cloudtracker/es_load.h) echo es ;;
    cloudtracker/*.h) inc=${inc#cloudtracker/}; echo "${inc%.h}" ;;
    */*) echo "${inc%%/*}" ;;
    *) echo "$own" ;;
    esac
}

# The modules each folder may include (itself always).
declare -A allowed=(
    [util]=""
    [config]="util"
    [iam]="util"
    [actions]="util"
    [trail]="util source"
    [source]="util"
    [store]="util trail source"
    [es]="util trail source config"
    [analysis]="util source iam actions"
    [report]="util analysis iam actions"
    [cli]="*"
)

for dir in src/*/; do
    own=$(basename "$dir")
    if [ -z "${allowed[$own]+set}" ]; then
        breach "$dir is not a folder docs/architecture.md knows"
        continue
    fi
    [ "${allowed[$own]}" = "*" ] && continue
    while IFS=: read -r file line inc; do
        inc=${inc#*\"}
        inc=${inc%\"*}
        mod=$(module_of "$inc" "$own")
        [ "$mod" = "$own" ] && continue
        case " ${allowed[$own]} " in
        *" $mod "*) ;;
        *) breach "$file:$line includes $inc: $own/ may not include $mod" ;;
        esac
    done < <(grep -n '^#include "' "$dir"*.c "$dir"*.h 2>/dev/null)
done

# Private headers of a folder stay in it, except trail/ and util/ ones.
while IFS=: read -r file line inc; do
    inc=${inc#*\"}
    inc=${inc%\"*}
    folder=${inc%%/*}
    case $folder in trail | util) continue ;; esac
    [[ $file == src/$folder/* ]] || breach "$file:$line includes $inc, private to src/$folder/"
done < <(grep -n '^#include "[a-z]*/[a-z_]*\.h"' src/*/*.c src/*/*.h 2>/dev/null |
    grep -v '"cloudtracker/')

# Only src/cli/ writes to stdout, exits or aborts.
grep -nE '\bstdout\b|(^|[^a-z_])(printf|puts|putchar)\(|\b(exit|_exit|abort)\(' src/*/*.c |
    grep -v '^src/cli/' | grep -vE '^[^:]*:[0-9]+:\s*(/\*|\*)' |
    while IFS= read -r hit; do echo "layout: $hit: only src/cli/ writes to stdout or exits"; done |
    grep . && fail=1

# src/iam/ and src/analysis/ do no I/O of their own (files go through
# src/util/file.c).
grep -nE '\b(fopen|fdopen|freopen|fread|fwrite|fprintf|fputs|fgets|popen|opendir|stderr|stdin|curl_[a-z_]+|sqlite3_[a-z_]+)\b|(^|[^a-z_])(open|read|write|close)\(' \
    src/iam/*.c src/analysis/*.c | grep -vE '^[^:]*:[0-9]+:\s*(/\*|\*)' |
    while IFS= read -r hit; do echo "layout: $hit: src/iam/ and src/analysis/ do no I/O"; done |
    grep . && fail=1

# Tests follow the layout: tests/unit/<folder>/ tests src/<folder>/.
for dir in tests/unit/*/; do
    [ -d "src/$(basename "$dir")" ] || breach "$dir tests no folder of src/"
done

[ $fail = 0 ] && echo "layout: ok"
exit $fail
