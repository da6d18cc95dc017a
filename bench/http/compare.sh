#!/usr/bin/env bash
# resnet18 serve vs the seeds' Flask + torchvision service, with wrk, in one run (see compare.py).
# Usage: bench/http/compare.sh [PATH/TO/resnet18]   (default .build/release/resnet18: swift build -c release)
# Env:   ROUNDS (default 3, the order alternating), DURATION (default 30s per row), WARMUP (5s), PHOTO (chelsea-q90.jpg), VENV (.venv-peers, from bench/setup-peers.sh)
# Needs: wrk (apt-get install wrk). Writes bench/results/http.md and http.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-$root/.build/release/resnet18}
venv=${VENV:-$root/.venv-peers}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
[[ -x "$binary" ]] || { echo "$binary is missing: swift build -c release" >&2; exit 2; }
[[ -x "$venv/bin/python" ]] || { echo "$venv is missing: bench/setup-peers.sh" >&2; exit 2; }
"$venv/bin/python" -c "import flask" 2>/dev/null || "$venv/bin/pip" install --quiet flask
exec python3 "$root/bench/http/compare.py" --binary "$binary" --python "$venv/bin/python" "${@:2}"
