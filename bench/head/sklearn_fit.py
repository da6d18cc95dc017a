#!/usr/bin/env python3
"""The peer of `resnet18 train`'s fitting: scikit-learn's LogisticRegression (lbfgs, multinomial, L2) on the same
features (`resnet18 train --features-out`), the same C grid, folds and held-out scoring, timed.

    python bench/head/sklearn_fit.py FEATURES.jsonl [--folds 5]
"""
import argparse
import json
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

GRID = [0.001, 0.01, 0.1, 1, 10, 100]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("features")
    parser.add_argument("--folds", type=int, default=5)
    arguments = parser.parse_args()
    samples = [json.loads(line) for line in open(arguments.features)]
    x = np.array([s["features"] for s in samples])
    y = np.array([s["label"] for s in samples])
    folds = np.array([s["fold"] for s in samples])
    original = np.array([s["original"] for s in samples])
    started = time.perf_counter()
    best = None
    for c in GRID:
        losses = []
        for fold in range(arguments.folds):
            model = LogisticRegression(C=c, max_iter=1000).fit(x[folds != fold], y[folds != fold])
            held = (folds == fold) & original
            p = model.predict_proba(x[held])
            losses += list(-np.log(np.maximum(p[np.arange(held.sum()), y[held]], 1e-15)))
        loss = float(np.mean(losses))
        if best is None or loss < best[1]:
            best = (c, loss)
    LogisticRegression(C=best[0], max_iter=1000).fit(x, y)
    seconds = time.perf_counter() - started
    print(json.dumps({"peer": "scikit-learn LogisticRegression", "samples": len(samples), "c": best[0], "seconds": seconds}))


if __name__ == "__main__":
    main()
