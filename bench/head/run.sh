#!/usr/bin/env bash
# Times `resnet18 train` (release build) on 5 categories × 50 images, beside scikit-learn fitting the same features
# with the same grid and folds, and the engine's own batch throughput (what embedding should run at).
# Usage: bench/head/run.sh [PYTHON]   (PYTHON: one with Pillow, numpy and scikit-learn; default .venv-test's)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${RESNET18_SHARED:-$root/../shared}
python=${1:-$root/.venv-test/bin/python}
bin="$root/.build/release/resnet18"
[ -x "$bin" ] || (cd "$root" && swift build -c release --product resnet18 >/dev/null)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" "$root/bench/head/make_examples.py" "$shared/fixtures" "$work/examples" --categories 5 --per 50
weights=(--weights "$shared/fixtures/resnet18-seeded.pth")
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), flags: $(grep -o -w 'avx512[a-z_]*\|avx2\|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for augment in flip,crops none; do
    "$bin" train "$work/examples" -o "$work/head.json" --augment "$augment" --json --features-out "$work/features.jsonl" "${weights[@]}" \
        2>/dev/null > "$work/report.json"
    "$python" - "$work/report.json" "$augment" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"resnet18 train, augment {sys.argv[2]}: {r['samples']} samples, embedding {r['embedding_seconds']:.2f} s "
      f"({r['samples'] / r['embedding_seconds']:.1f} samples/s), cross-validation + fit {r['training_seconds']:.2f} s, "
      f"C = {r['c']}, held-out accuracy {r['accuracy']:.3f}")
PY
    "$python" "$root/bench/head/sklearn_fit.py" "$work/features.jsonl"
done
"$bin" bench --batch 8 --runs 20 "${weights[@]}" 2>/dev/null | tail -3
