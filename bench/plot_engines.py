"""Draws bench/results/engines-median.jsonl (one run of bench/engines.sh, medians over its rounds) as docs/engines.png.

Left: batch-1 median latency per engine (lower is better), with the p90 as a whisker.
Right: batch-8 images per second (higher is better).
resnet18's bars are coloured by precision; the peers are grey, ONNX Runtime int8 (the int8 yardstick) darker.

Usage: python plot_engines.py [engines-median.jsonl] [out.png]   (needs matplotlib: bench/setup-peers.sh installs it)
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COLOURS = {"resnet18-fp32": "#1f77b4", "resnet18-bf16": "#2ca02c", "resnet18-int8": "#d62728",
           "onnxruntime-int8": "#555555"}


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "results" / "engines-median.jsonl"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "engines.png"
    rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    engines = list(dict.fromkeys(row["engine"] for row in rows))
    by = {(row["engine"], row["batch"]): row for row in rows}

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 5.5), constrained_layout=True)
    for axis, batch, key, title in ((latency, 1, "median_ms", "Batch 1: median latency, ms (lower is better)"),
                                    (throughput, 8, "img_per_s", "Batch 8: images per second (higher is better)")):
        names = [engine for engine in engines if (engine, batch) in by]
        values = [by[(engine, batch)][key] for engine in names]
        colours = [COLOURS.get(engine, "#bbbbbb") for engine in names]
        positions = range(len(names))
        if key == "median_ms":
            whiskers = [[0] * len(names), [by[(engine, batch)]["p90_ms"] - by[(engine, batch)]["median_ms"] for engine in names]]
            axis.barh(positions, values, color=colours, xerr=whiskers, capsize=3)
        else:
            axis.barh(positions, values, color=colours)
        ends = [by[(engine, batch)]["p90_ms"] if key == "median_ms" else by[(engine, batch)][key] for engine in names]
        for position, value, end in zip(positions, values, ends):
            axis.text(end, position, f" {value:.1f}" if key == "img_per_s" else f" {value:.2f}", va="center", fontsize=9)
        axis.set_yticks(list(positions), names)
        axis.invert_yaxis()
        axis.set_title(title, fontsize=11)
        axis.set_xlim(0, max(ends) * 1.18)
        axis.grid(axis="x", alpha=0.3)
    threads = rows[0].get("threads", "?")
    rounds = rows[0].get("rounds", 1)
    figure.suptitle(f"ResNet-18 on this machine, {threads} threads, bench/engines.sh (medians of {rounds} rounds)", fontsize=12)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
