#!/usr/bin/env python3
"""Two variants of the engine, alternating, judged by the share of the steps a change touches.

On a shared machine whole-network times move by more than most changes (the same binary's batch 1 between 7.5 and
14 ms within minutes). The steps a change does not touch run the same code in both variants, so the touched steps'
time divided by the rest of the same run is a figure the machine's speed mostly cancels out of.

Usage:
  bench/steps_ab.py --pairs 4 --touched '^(reorder|conv1|pooling@stem)$' \\
      --a= --b=--onednn-stem -- --precision int8 --quantization bench/results/resnet18-seeded.int8.json

`--touched` is a regular expression over step names; `pooling@stem` names a pooling step straight after a conv1
step (the stem's), `pooling` alone the last one. `--a=...`/`--b=...` are each variant's extra `bench` arguments
(with `=`, as they start with dashes); what follows `--` goes to both. `--binary-b` makes B another build
(two builds of the same network: `--touched` names the steps whose code differs). Each pair runs A then B, the next pair B then A.
"""
import argparse, os, re, shlex, statistics, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--binary", default=os.path.join(root, ".build/release/resnet18"))
parser.add_argument("--binary-b", help="variant B's binary, to compare two builds (default: --binary)")
parser.add_argument("--weights", default=os.path.join(os.environ.get("RESNET18_SHARED", os.path.join(root, "../shared")),
                                                      "fixtures/resnet18-seeded.pth"))
parser.add_argument("--pairs", type=int, default=4)
parser.add_argument("--runs", type=int, default=40)
parser.add_argument("--batch", default="1,8")
parser.add_argument("--touched", required=True)
parser.add_argument("--a", default="")
parser.add_argument("--b", default="")
args, common = parser.parse_known_args()
common = [c for c in common if c != "--"]
touched = re.compile(args.touched)


def shares(extra, binary):
    command = [binary, "bench", "--weights", args.weights, "--runs", str(args.runs), "--batch", args.batch,
               "--layers", *shlex.split(extra), *common]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = {}
    for block in re.split(r"\n(?=batch )", out):
        header = re.match(r"batch (\d+)", block)
        if not header:
            continue
        steps = [line.split() for line in block.splitlines() if re.match(r"\s+\d+\s+\d", line)]
        part = rest = 0.0
        for i, fields in enumerate(steps):
            name = fields[3]
            if name == "pooling" and i > 0 and steps[i - 1][3] == "conv1":
                name = "pooling@stem"
            if touched.search(name):
                part += float(fields[1])
            else:
                rest += float(fields[1])
        result[int(header.group(1))] = (part, rest)
    return result


figures = {"A": {}, "B": {}}
for pair in range(args.pairs):
    for name in ("AB" if pair % 2 == 0 else "BA"):
        for batch, (part, rest) in shares(args.a if name == "A" else args.b,
                                          args.binary if name == "A" else args.binary_b or args.binary).items():
            figures[name].setdefault(batch, []).append(part / rest)
            print(f"pair {pair + 1} {name} batch {batch}: touched {part:.3f} ms, rest {rest:.3f} ms, ratio {part / rest:.4f}",
                  flush=True)
for batch in sorted(figures["A"]):
    a, b = figures["A"][batch], figures["B"][batch]
    print(f"batch {batch}: touched/rest A {statistics.median(a):.4f} ({', '.join(f'{x:.3f}' for x in a)}), "
          f"B {statistics.median(b):.4f} ({', '.join(f'{x:.3f}' for x in b)}); A/B {statistics.median(a) / statistics.median(b):.3f}")
