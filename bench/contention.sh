#!/usr/bin/env bash
# The engine on a shared CPU, beside the peers: batch-1 fp32 median and p90 at the default thread count (the
# machine's cores) with 0, 1 and 2 busy loops (`sh -c 'while :; do :; done'`) running, for resnet18, OpenVINO and
# ONNX Runtime, each pair back to back in the same conditions.
# Writes bench/results/contention.jsonl (every measurement) and contention.md (printed too).
# Usage: [ROUNDS=2] bench/contention.sh [RUNS]      (needs bench/setup-peers.sh once; builds release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-100}
rounds=${ROUNDS:-2}
shared=${RESNET18_SHARED:-$root/../shared}
venv=${PEERS_VENV:-$root/.venv-peers}
[ -x "$venv/bin/python" ] || bench/setup-peers.sh "$venv"
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product resnet18 >/dev/null
bin="$(swift build -c release --show-bin-path)/resnet18"
threads=$(nproc)
out=${OUT:-bench/results}/contention.jsonl
mkdir -p "$(dirname "$out")"
: > "$out"
loops=()
stop_loops() { for pid in "${loops[@]}"; do kill "$pid" 2>/dev/null || true; done; loops=(); }
trap stop_loops EXIT
for round in $(seq 1 "$rounds"); do
  for busy in 0 1 2; do
    stop_loops
    for _ in $(seq 1 "$busy"); do sh -c 'while :; do :; done' & loops+=($!); done
    sleep 1
    echo "==> round $round, $busy busy loops: resnet18, OpenVINO, ONNX Runtime (batch 1, $threads threads)" >&2
    "$bin" bench --weights "$shared/fixtures/resnet18-seeded.pth" --threads "$threads" --batch 1 --runs "$runs" --json \
      | sed "s/^{/{\"round\":$round,\"busy\":$busy,/" >> "$out"
    "$venv/bin/python" "$shared/bench/peers.py" --threads "$threads" --runs "$runs" --batches 1 --engines openvino,ort 2>/dev/null \
      | grep '^{' | sed "s/^{/{\"round\":$round,\"busy\":$busy,/" >> "$out"
  done
done
stop_loops
python3 - "$out" <<'PY' | tee "${out%.jsonl}.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
engines = list(dict.fromkeys(r["engine"] for r in rows))
print("Batch 1 fp32, default threads; each figure the median over the rounds.")
print()
print("| busy loops | " + " | ".join(f"{e} p50 / p90 ms" for e in engines) + " | ours vs the better peer (p50, p90) |")
print("|---:|" + "---|" * (len(engines) + 1))
for busy in sorted({r["busy"] for r in rows}):
    cells, figures = [], {}
    for engine in engines:
        picked = [r for r in rows if r["busy"] == busy and r["engine"] == engine]
        if not picked:
            cells.append("")
            continue
        p50 = statistics.median(r["median_ms"] for r in picked)
        p90 = statistics.median(r["p90_ms"] for r in picked)
        figures[engine] = (p50, p90)
        cells.append(f"{p50:.2f} / {p90:.2f}")
    ours = next((v for k, v in figures.items() if k.startswith("resnet18")), None)
    peers = [v for k, v in figures.items() if not k.startswith("resnet18")]
    ratio = ""
    if ours and peers:
        ratio = f"{ours[0] / min(p[0] for p in peers):.2f}×, {ours[1] / min(p[1] for p in peers):.2f}×"
    print(f"| {busy} | " + " | ".join(cells) + f" | {ratio} |")
PY
