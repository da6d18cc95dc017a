#!/usr/bin/env bash
# Times the exact "find frames like this one" search over ROWS rows (default 1,000,000), beside numpy doing the same
# search in float32, in one run. Usage: bench/similar/run.sh [ROWS] [PYTHON]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rows=${1:-1000000}
python=${2:-$root/.venv-test/bin/python}
bin="$root/.build/release/resnet18"
[ -x "$bin" ] || (cd "$root" && swift build -c release --product resnet18 >/dev/null)
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), flags: $(grep -o -w 'avx512[a-z_]*\|avx2\|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$bin" bench --similar-rows "$rows" --json
"$python" "$root/bench/similar/numpy_peer.py" "$rows"
