#!/usr/bin/env bash
# Reading a store that cannot or must not be written: a query with
# --skip-setup opens it read-only, so it works where the user cannot write
# (a read-only folder, a store shipped to an auditor); a store whose
# write-ahead log cannot be read there is refused rather than read in part;
# and a store an ingest is writing answers with a warning and exit 11.
# Usage: test_store_access.sh CLOUDTRACKER_BINARY SOURCE_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
# The reader below may be another user, who may not reach the build or
# source folders (a checkout under /root): what it needs (the binary, the
# config and IAM files, the stores) lies in a folder of its own under /tmp.
pub=$(mktemp -d "${TMPDIR:-/tmp}/ct-store-access.XXXXXX") || exit 1
cleanup() { chmod -R u+w "$pub" 2>/dev/null; rm -rf "$pub"; }
trap cleanup EXIT
chmod 755 "$pub"
mkdir -p "$pub/demo" && cp -r "$root/demo/iam" "$pub/demo/" && cp "$root/config.yaml.example" "$pub/config.yaml" &&
    cp "$bin" "$pub/cloudtracker" && chmod -R a+rX "$pub" || exit 1
config=$root/config.yaml.example
query=(--config "$pub/config.yaml" --account demo --user alice --skip-setup)
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# As a user who cannot write the folder: root writes anywhere, so root
# runs the query as nobody.
as_reader() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
    else
        "$@"
    fi
}

# 1. A store shipped into a folder the reader may not write is queried as
# it is, and nothing is written there.
orig=$scratch/orig ro=$pub/ro
mkdir -p "$orig" "$ro" && chmod 755 "$ro"
if ! (cd "$scratch" && "$bin" ingest --config "$config" --store "$orig/store.db" >/dev/null 2>&1); then
    bad "ingest into $orig/store.db failed"
fi
(cd "$scratch" && "$bin" "${query[@]}" --store "$orig/store.db" >"$scratch/want.out" 2>&1)
cp "$orig/store.db" "$ro/store.db"
chmod 644 "$ro/store.db" && chmod 555 "$ro"
before=$(ls -A "$ro")
out=$(cd "$pub" && as_reader "$pub/cloudtracker" "${query[@]}" --store "$ro/store.db" 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$out" = "$(cat "$scratch/want.out")" ] && [ -s "$scratch/want.out" ]; then
    ok
else
    bad "read-only folder: exit $rc, output:"
    printf '%s\n' "$out" | head -5
fi
if [ "$(ls -A "$ro")" = "$before" ]; then
    ok
else
    bad "the read-only query changed the folder: $(ls -A "$ro" | tr '\n' ' ')"
fi

# 2. The same with commits still in the write-ahead log: they cannot be
# read without writing, so the store is refused (exit 6), not read in part.
wal=$pub/wal
mkdir -p "$wal" && chmod 755 "$wal"
cp "$orig/store.db" "$scratch/w.db" && chmod 644 "$scratch/w.db"
python3 - "$scratch/w.db" "$wal" <<'PY'
import shutil, sqlite3, sys
db, dest = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("INSERT INTO account(account) VALUES ('999999999999')")
c.commit()
# Copied while the connection is open: the commit is in the WAL only.
shutil.copy(db, dest + "/store.db")
shutil.copy(db + "-wal", dest + "/store.db-wal")
c.close()
PY
chmod 644 "$wal"/* && chmod 555 "$wal"
out=$(cd "$pub" && as_reader "$pub/cloudtracker" "${query[@]}" --store "$wal/store.db" 2>&1)
rc=$?
if [ $rc = 6 ] && [[ "$out" == *"write-ahead log"*"holds changes"* ]] && [[ "$out" != *"cloudwatch"* ]]; then
    ok
else
    bad "store with a WAL in a read-only folder: exit $rc, output:"
    printf '%s\n' "$out" | head -5
fi

# 3. While an ingest holds its mark, a --skip-setup query says the store is
# being written, in text and in JSON, and exits 11 with its answer.
rw=$scratch/rw
mkdir -p "$rw" && cp "$orig/store.db" "$rw/store.db"
python3 - "$bin" "$rw/store.db" "$scratch" "${query[@]}" <<'PY'
import fcntl, json, os, struct, subprocess, sys
binary, store, scratch, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
fails = 0
def run(extra):
    return subprocess.run([binary] + args + ["--store", store] + extra, cwd=scratch,
                          capture_output=True, text=True)
# What an ingest holds (src/store/store.c): a shared open-file-description
# lock on the whole "<store>-ingest.lock".
fd = os.open(store + "-ingest.lock", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0))
p = run([])
want = "%s: an ingest is writing this store now" % store
if p.returncode != 11 or want not in p.stderr or "cloudwatch" not in p.stdout:
    print("FAIL during an ingest: exit %d, stderr %r" % (p.returncode, p.stderr)); fails += 1
p = run(["--format", "json"])
doc = json.loads(p.stdout) if p.stdout else {}
if p.returncode != 11 or not any(w.startswith(want) for w in doc.get("warnings", [])):
    print("FAIL during an ingest, JSON: exit %d, %r" % (p.returncode, doc.get("warnings")))
    fails += 1
os.close(fd)
p = run([])
if p.returncode != 0 or p.stderr:
    print("FAIL after the ingest: exit %d, stderr %r" % (p.returncode, p.stderr)); fails += 1
sys.exit(1 if fails else 0)
PY
if [ $? = 0 ]; then ok; else bad "queries beside an ingest"; fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
