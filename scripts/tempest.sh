#!/usr/bin/env bash
# Run OpenStack's own test suite, tempest, against a fresh firebrick.
#
#   scripts/tempest.sh [REGEX]      # default: the modules in tempest/include-list.txt
#
# Installs tempest 47.0.0 in its own virtual environment (.tempest-venv), starts
# firebrick from .venv on a free port with an empty data directory and two backends,
# seeds an image, writes tempest.conf from tempest/tempest.conf.in, runs the tests,
# lists every skip with its reason, and exits with tempest's status. Tempest runs as
# the users of tempest/accounts.yaml (made here with `firebrick account`), or, with
# TEMPEST_CREDENTIALS=dynamic, makes its own projects, users and role assignments
# through the identity API; then the classes that boot servers skip, since tempest
# wants a network service for the projects it makes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${TEMPEST_VENV:-$ROOT/.tempest-venv}
FIREBRICK=$ROOT/.venv/bin/firebrick
[ -x "$FIREBRICK" ] || { echo "run ./run or ./test first: $FIREBRICK is missing" >&2; exit 2; }

if [ ! -x "$VENV/bin/tempest" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q tempest==47.0.0 stestr
fi

WORK=$(mktemp -d)
PORT=$("$ROOT/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
export FIREBRICK_ADMIN_PASSWORD=tempest-admin-secret
export FIREBRICK_DATABASE_URL=${TEMPEST_DATABASE_URL:-sqlite:///$WORK/data/firebrick.db}
# Real QEMU guests unless told otherwise (TEMPEST_HYPERVISOR=fake runs the API flows without guests).
export FIREBRICK_HYPERVISOR=${TEMPEST_HYPERVISOR:-qemu}
# Two backends (a raw pool and a qcow2 pool), the names tempest.conf.in gives as backend_names.
cat > "$WORK/firebrick.toml" <<'TOML'
[[backends]]
name = "raw"
format = "raw"

[[backends]]
name = "qcow2"
format = "qcow2"
TOML
"$FIREBRICK" serve --config "$WORK/firebrick.toml" --data-dir "$WORK/data" --port "$PORT" > "$WORK/firebrick.log" 2>&1 &
SERVER=$!
WORKSPACE=firebrick-$(basename "$WORK")
trap '"$VENV/bin/tempest" workspace remove --name "$WORKSPACE" >/dev/null 2>&1; kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 200); do
    "$ROOT/.venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1])' "$URL/" 2>/dev/null && break
    kill -0 $SERVER 2>/dev/null || { cat "$WORK/firebrick.log"; exit 1; }
    sleep 0.1
done

account() {
    "$FIREBRICK" --data-dir "$WORK/data" account --project tempest-project --password tempest-secret "$@" >/dev/null 2>&1
}
account --user tempest-member --role member
account --user tempest-reader --role reader
account --user tempest-admin --role admin --role service
account --user tempest-service --role admin --role service

# The image tempest's compute and image-backed volume tests name (a public 1 MiB raw image), and
# the multiattach volume type.
IMAGE=$("$ROOT/.venv/bin/python" "$ROOT/tempest/seed.py" "$URL" admin "$FIREBRICK_ADMIN_PASSWORD")

"$VENV/bin/tempest" init --name "$WORKSPACE" "$WORK/ws" >/dev/null 2>&1
if [ "${TEMPEST_CREDENTIALS:-accounts}" = dynamic ]; then DYNAMIC=True NEUTRON=False; else DYNAMIC=False NEUTRON=True; fi
sed -e "s|@URL@|$URL|" -e "s|@ACCOUNTS@|$ROOT/tempest/accounts.yaml|" -e "s|@IMAGE@|$IMAGE|" \
    -e "s|@DYNAMIC@|$DYNAMIC|" -e "s|@NEUTRON@|$NEUTRON|" -e "s|@ADMIN_PASSWORD@|$FIREBRICK_ADMIN_PASSWORD|" \
    "$ROOT/tempest/tempest.conf.in" > "$WORK/ws/etc/tempest.conf"
cd "$WORK/ws"
if [ $# -gt 0 ]; then SELECT=(--regex "$1"); else SELECT=(--include-list "$ROOT/tempest/include-list.txt"); fi
SELECT+=(--exclude-list "$ROOT/tempest/exclude-list.txt")
set +e
"$VENV/bin/tempest" run --config-file etc/tempest.conf "${SELECT[@]}" --concurrency "${TEMPEST_CONCURRENCY:-1}" \
    2>&1 | tee "$WORK/tempest.out" | grep -E '\.\.\. (ok|FAILED|SKIPPED)|^(Totals|=+$| - )|Passed|Failed|Skipped'
STATUS=${PIPESTATUS[0]}
set -e
echo "--- failed:"
grep -E '\.\.\. FAILED' "$WORK/tempest.out" | sed -E 's/^\{[0-9]+\} //' || echo "(none)"
echo "--- skipped, with the reason tempest gives:"
grep -E '\.\.\. SKIPPED' "$WORK/tempest.out" | sed -E 's/^\{[0-9]+\} //' || echo "(none)"
# One plain closing line, for people and for CI's log readers.
count() { grep -cE "\.\.\. $1" "$WORK/tempest.out" || true; }
echo "tempest: $(count ok) passed, $(count FAILED) failed, $(count SKIPPED) skipped"
if [ "$STATUS" -ne 0 ]; then
    echo "--- failures:"
    "$VENV/bin/stestr" last --subunit | "$VENV/bin/subunit2pyunit" 2>&1 | grep -B2 -A40 '^FAIL:' | head -400 || true
    echo "--- firebrick log (last 50 lines):"
    tail -50 "$WORK/firebrick.log"
fi
exit "$STATUS"
