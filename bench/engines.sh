#!/usr/bin/env bash
# resnet18's engine side by side with the peers (PyTorch, ONNX Runtime, OpenVINO) in one run, same threads.
# Writes bench/results/engines.jsonl (every round), engines-median.jsonl, engines.md (printed too) and docs/engines.png.
# Usage: [ROUNDS=3] bench/engines.sh [THREADS] [RUNS]      (needs bench/setup-peers.sh once; builds release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
threads=${1:-2}
runs=${2:-60}
shared=${RESNET18_SHARED:-$root/../shared}
venv=${PEERS_VENV:-$root/.venv-peers}
[ -x "$venv/bin/python" ] || bench/setup-peers.sh "$venv"
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product resnet18 >/dev/null
bin="$(swift build -c release --show-bin-path)/resnet18"
mkdir -p bench/results
# This machine's speed drifts by 20-50 % within minutes (other tenants). So each bar's pair runs back to back, seconds
# apart: ours in fp32 next to OpenVINO, ours in int8 next to ONNX Runtime int8, ours in bf16 next to the other peers.
# ROUNDS passes (default 3), the order within each pair alternating from one round to the next; the bars are judged
# on the median of the per-round ratios.
rounds=${ROUNDS:-3}
out=bench/results/engines.jsonl
: > "$out"
"$bin" quantize --weights "$shared/fixtures/resnet18-seeded.pth" --output bench/results/resnet18-seeded.int8.json >&2
ours() {
  local round=$1 precision=$2 extra=()
  echo "==> round $round: resnet18 $precision, batch 1,8" >&2
  [ "$precision" = int8 ] && extra=(--quantization bench/results/resnet18-seeded.int8.json)
  "$bin" bench --weights "$shared/fixtures/resnet18-seeded.pth" --threads "$threads" --batch 1,8 --runs "$runs" \
    --precision "$precision" "${extra[@]}" --json | sed "s/^{/{\"round\":$round,/" >> "$out"
}
peers() {
  local round=$1 engines=$2
  echo "==> round $round: $engines" >&2
  "$venv/bin/python" "$shared/bench/peers.py" --threads "$threads" --runs "$runs" --engines "$engines" 2>/dev/null \
    | grep '^{' | sed "s/^{/{\"round\":$round,/" >> "$out"
}
# bf16 needs AVX-512 (oneDNN has no bf16 convolution without it): elsewhere the other peers run alone.
grep -qw avx512f /proc/cpuinfo && bf16=bf16 || bf16=none
for round in $(seq 1 "$rounds"); do
  for pair in fp32:openvino int8:ort-int8 $bf16:torch,torch-jit,torch-cl,ort; do
    precision=${pair%%:*} engines=${pair#*:}
    if [ "$precision" = none ]; then peers "$round" "$engines"; continue; fi
    if [ $((round % 2)) = 1 ]; then ours "$round" "$precision"; peers "$round" "$engines"
    else peers "$round" "$engines"; ours "$round" "$precision"; fi
  done
done
python3 - "$out" bench/results/engines-median.jsonl <<'PY' | tee bench/results/engines.md
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rounds = sorted({r["round"] for r in rows})
keys = list(dict.fromkeys((r["engine"], r["batch"]) for r in rows))
by = {(r["engine"], r["batch"], r["round"]): r for r in rows}
# One row per engine and batch: the median over the rounds of each figure.
median = {}
for engine, batch in keys:
    runs = [by[(engine, batch, n)] for n in rounds if (engine, batch, n) in by]
    median[(engine, batch)] = {"engine": engine, "batch": batch, "threads": runs[0].get("threads"), "rounds": len(runs),
                               **{k: statistics.median(r[k] for r in runs) for k in ("median_ms", "p90_ms", "img_per_s")}}
with open(sys.argv[2], "w") as f:
    for row in median.values(): f.write(json.dumps(row) + "\n")
print(f"Medians over {len(rounds)} rounds (each figure: the median of the rounds' medians).")
print()
print("| engine | batch | median ms | p90 ms | images/s | vs OpenVINO fp32 |")
print("|---|---:|---:|---:|---:|---:|")
for (engine, batch), r in median.items():
    base = median.get(("openvino-fp32", batch))
    ratio = f'{r["median_ms"] / base["median_ms"]:.2f}× time' if base else ""
    print(f'| {engine} | {batch} | {r["median_ms"]:.2f} | {r["p90_ms"]:.2f} | {r["img_per_s"]:.1f} | {ratio} |')
bars = [("resnet18-fp32", "openvino-fp32", 1, "median_ms", "<=", 0.6), ("resnet18-fp32", "openvino-fp32", 8, "img_per_s", ">=", 1.8),
        ("resnet18-int8", "onnxruntime-int8", 1, "median_ms", "<=", 0.7), ("resnet18-int8", "onnxruntime-int8", 8, "img_per_s", ">=", 1.7)]
print()
print("| the issues' bar | needed | each round | median | met |")
print("|---|---:|---|---:|---|")
for ours, peer, batch, key, sense, bar in bars:
    ratios = [by[(ours, batch, n)][key] / by[(peer, batch, n)][key] for n in rounds
              if (ours, batch, n) in by and (peer, batch, n) in by]
    if not ratios: continue
    ratio = statistics.median(ratios)
    met = ratio <= bar if sense == "<=" else ratio >= bar
    what = "median time" if key == "median_ms" else "images/s"
    each = ", ".join(f"{x:.3f}" for x in ratios)
    print(f"| {ours} / {peer}, batch {batch} {what} | {sense} {bar} | {each} | {ratio:.3f} | {'yes' if met else 'NO'} |")
PY
"$venv/bin/python" bench/plot_engines.py bench/results/engines-median.jsonl docs/engines.png >&2
