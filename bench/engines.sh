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
# The host also moves this VM's two vCPUs between two cores of their own and the two hardware threads of one core
# (bench/cpu/core_pair.c): a two-thread run then has one core's FMA units. Each measurement is bracketed by that probe,
# written beside it as core_pair [before, after] (ratio: near 1 on two cores, near 0.5 on one; round_trip_ns).
probe=$(mktemp)
trap 'rm -f "$probe"' EXIT
${CC:-cc} -O2 -pthread bench/cpu/core_pair.c -o "$probe" 2>/dev/null \
  || /opt/swift/usr/bin/clang -O2 -pthread bench/cpu/core_pair.c -o "$probe" 2>/dev/null || : > "$probe"
pair() { { [ -s "$probe" ] && "$probe" 300 2>/dev/null | grep '^{'; } || echo null; }
tag() {  # round, probe before, probe after: prefix every JSON line on stdin
  sed "s/^{/{\"round\":$1,\"core_pair\":[$2,$3],/"
}
"$bin" quantize --weights "$shared/fixtures/resnet18-seeded.pth" --output bench/results/resnet18-seeded.int8.json >&2
ours() {
  local round=$1 precision=$2 extra=()
  echo "==> round $round: resnet18 $precision, batch 1,8" >&2
  [ "$precision" = int8 ] && extra=(--quantization bench/results/resnet18-seeded.int8.json)
  local before after lines
  before=$(pair)
  lines=$("$bin" bench --weights "$shared/fixtures/resnet18-seeded.pth" --threads "$threads" --batch 1,8 --runs "$runs" \
    --precision "$precision" "${extra[@]}" --json)
  after=$(pair)
  echo "$lines" | tag "$round" "$before" "$after" >> "$out"
}
peers() {
  local round=$1 engines=$2
  echo "==> round $round: $engines" >&2
  local before after lines
  before=$(pair)
  lines=$("$venv/bin/python" "$shared/bench/peers.py" --threads "$threads" --runs "$runs" --engines "$engines" 2>/dev/null | grep '^{')
  after=$(pair)
  echo "$lines" | tag "$round" "$before" "$after" >> "$out"
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
# Where each pair ran: "2" when the core-pair probe before and after both engines' runs found the vCPUs on cores of
# their own (every ratio >= 0.8), "1" when on one core's two hardware threads (every ratio <= 0.65), "?" otherwise.
def placement(*rows):
    probes = [p["ratio"] for r in rows for p in (r.get("core_pair") or []) if p]
    if not probes: return "?"
    return "2" if min(probes) >= 0.8 else "1" if max(probes) <= 0.65 else "?"
print()
print("| the issues' bar | needed | each round (cores: 2 apart, 1 shared, ? mixed) | median | met | median on 2 cores |")
print("|---|---:|---|---:|---|---:|")
for ours, peer, batch, key, sense, bar in bars:
    pairs = [(by[(ours, batch, n)][key] / by[(peer, batch, n)][key], placement(by[(ours, batch, n)], by[(peer, batch, n)]))
             for n in rounds if (ours, batch, n) in by and (peer, batch, n) in by]
    if not pairs: continue
    ratio = statistics.median(x for x, _ in pairs)
    met = ratio <= bar if sense == "<=" else ratio >= bar
    apart = [x for x, where in pairs if where == "2"]
    on_two = f"{statistics.median(apart):.3f} ({len(apart)})" if apart else "-"
    what = "median time" if key == "median_ms" else "images/s"
    each = ", ".join(f"{x:.3f} ({where})" for x, where in pairs)
    print(f"| {ours} / {peer}, batch {batch} {what} | {sense} {bar} | {each} | {ratio:.3f} | {'yes' if met else 'NO'} | {on_two} |")
PY
"$venv/bin/python" bench/plot_engines.py bench/results/engines-median.jsonl docs/engines.png >&2
