#!/usr/bin/env bash
# Checks that /openapi.yaml tells the truth: starts `resnet18 serve` on a free port with the fixture weights
# and runs schemathesis (every check) against the document the server serves. Exits non-zero on any failure.
#
# Usage: tests/api/run_schemathesis.sh PATH/TO/resnet18 [more schemathesis run options]
# Env:   SCHEMATHESIS (default: schemathesis on PATH), MAX_EXAMPLES (default 50), RESNET18_SHARED (default ../shared)
set -euo pipefail

binary=${1:-${RESNET18_BIN:-}}
[[ -n "$binary" && -x "$binary" ]] || { echo "usage: $0 PATH/TO/resnet18 (build it first)" >&2; exit 2; }
shift || true
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${RESNET18_SHARED:-$root/../shared}
schemathesis=${SCHEMATHESIS:-schemathesis}
log=$(mktemp)
# History on (so its routes answer real rows), in a throwaway SQLite file; RESNET18_DB overrides it.
history_dir=$(mktemp -d)
db=${RESNET18_DB:-$history_dir/history.sqlite}

"$binary" serve --port 0 --weights "$shared/fixtures/resnet18-seeded.pth" --db "$db" --log-level warning >"$log" 2>&1 &
server=$!
stop() {
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -f "$log"
    rm -rf "$history_dir"
}
trap stop EXIT

url=""
for _ in $(seq 1 600); do
    url=$(grep -o 'listening on http://[^ ]*/' "$log" | head -n 1 | sed 's/^listening on //') || true
    [[ -n "$url" ]] && break
    kill -0 "$server" 2>/dev/null || { echo "resnet18 serve exited:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$url" ]] || { echo "resnet18 serve did not start listening within 60 s:" >&2; cat "$log" >&2; exit 1; }

echo "schemathesis against ${url}openapi.yaml"
status=0
"$schemathesis" --config-file "$root/tests/api/schemathesis.toml" run "${url}openapi.yaml" \
    --checks all --max-examples "${MAX_EXAMPLES:-50}" --request-timeout 60 --generation-database none "$@" || status=$?

# The server must have survived everything schemathesis sent.
if ! kill -0 "$server" 2>/dev/null; then
    echo "resnet18 serve died during the run:" >&2
    cat "$log" >&2
    exit 1
fi
exit $status
