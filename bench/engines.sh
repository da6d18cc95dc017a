#!/usr/bin/env bash
# resnet18's engine side by side with the peers (PyTorch, ONNX Runtime, OpenVINO) in one run, same threads.
# Writes bench/results/engines.jsonl, bench/results/engines.md (printed too) and the plot docs/engines.png.
# Usage: bench/engines.sh [THREADS] [RUNS]      (needs bench/setup-peers.sh once; builds release)
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
out=bench/results/engines.jsonl
: > "$out"
echo "==> resnet18 (fp32) batch 1,8" >&2
"$bin" bench --weights "$shared/fixtures/resnet18-seeded.pth" --threads "$threads" --batch 1,8 --runs "$runs" --json >> "$out"
echo "==> resnet18 (bf16) batch 1,8" >&2
"$bin" bench --weights "$shared/fixtures/resnet18-seeded.pth" --threads "$threads" --batch 1,8 --runs "$runs" --precision bf16 --json >> "$out"
echo "==> resnet18 (int8, calibrated on the built-in photos) batch 1,8" >&2
"$bin" quantize --weights "$shared/fixtures/resnet18-seeded.pth" --output bench/results/resnet18-seeded.int8.json >&2
"$bin" bench --weights "$shared/fixtures/resnet18-seeded.pth" --threads "$threads" --batch 1,8 --runs "$runs" --precision int8 \
  --quantization bench/results/resnet18-seeded.int8.json --json >> "$out"
echo "==> peers" >&2
"$venv/bin/python" "$shared/bench/peers.py" --threads "$threads" --runs "$runs" 2>/dev/null | grep '^{' >> "$out"
python3 - "$out" <<'PY' | tee bench/results/engines.md
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r["engine"], r["batch"]): r for r in rows}
ov = {r["batch"]: r for r in rows if r["engine"] == "openvino-fp32"}
print("| engine | batch | median ms | p90 ms | images/s | vs OpenVINO fp32 |")
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    base = ov.get(r["batch"])
    ratio = f'{r["median_ms"] / base["median_ms"]:.2f}× time' if base else ""
    print(f'| {r["engine"]} | {r["batch"]} | {r["median_ms"]:.2f} | {r["p90_ms"]:.2f} | {r["img_per_s"]:.1f} | {ratio} |')
bars = [("resnet18-fp32", "openvino-fp32", 1, "median_ms", "<=", 0.7), ("resnet18-fp32", "openvino-fp32", 8, "img_per_s", ">=", 1.3),
        ("resnet18-int8", "onnxruntime-int8", 1, "median_ms", "<=", 0.8), ("resnet18-int8", "onnxruntime-int8", 8, "img_per_s", ">=", 1.3)]
print()
print("| the issues' bar | needed | measured | met |")
print("|---|---:|---:|---|")
for ours, peer, batch, key, sense, bar in bars:
    if (ours, batch) in by and (peer, batch) in by:
        ratio = by[(ours, batch)][key] / by[(peer, batch)][key]
        met = ratio <= bar if sense == "<=" else ratio >= bar
        what = "median time" if key == "median_ms" else "images/s"
        print(f"| {ours} / {peer}, batch {batch} {what} | {sense} {bar} | {ratio:.3f} | {'yes' if met else 'NO'} |")
PY
"$venv/bin/python" bench/plot_engines.py "$out" docs/engines.png >&2
