#!/usr/bin/env bash
# Soak: capacity at 16 clients, then 10 minutes of open-loop load at twice that, the server's RSS every 10 s.
# Usage: bench/soak.sh [PATH/TO/resnet18] [soak.py flags: --seconds 600 --factor 2 --serve-arg=--db ...]
# History is on (a throwaway SQLite file) and every answer 200 must be a history row.
# (default binary .build/release/resnet18: swift build -c release). Loopback only; stops by itself.
# Writes bench/results/soak.md and soak.json and docs/soak.png; exits non-zero if a request was lost, a 503
# came without Retry-After, or (with --history-count CMD) the history rows differ from the 200s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
binary=${1:-$root/.build/release/resnet18}
[[ -x "$binary" ]] || { echo "$binary is missing: swift build -c release" >&2; exit 2; }
venv=${VENV:-$root/.venv-soak}
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet matplotlib
fi
# Many connections in flight at once when the server falls behind.
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
# History on, in a throwaway SQLite file (WAL), counted with sqlite3 before and after the soak: every 200 must be
# a row. (Pass --serve-arg=--db ... --history-count CMD to soak another database instead.)
history=()
if [[ " ${*:2} " != *" --history-count"* ]]; then
    command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: scripts/setup.sh --test installs it" >&2; exit 2; }
    db_dir=$(mktemp -d /tmp/resnet18-soak.XXXXXX)
    trap 'rm -rf "$db_dir"' EXIT
    history=(--serve-arg=--db "--serve-arg=$db_dir/history.sqlite"
             --history-count "sqlite3 '$db_dir/history.sqlite' 'SELECT count(*) FROM recognitions'")
fi
"$venv/bin/python" "$root/bench/soak.py" --binary "$binary" --command "bench/soak.sh ${*}" "${history[@]}" "${@:2}"
