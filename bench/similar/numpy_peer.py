#!/usr/bin/env python3
"""The peer of /v1/history/{id}/similar's exact search: numpy (BLAS sgemv) over the same number of 512-wide rows as
float32, cosine similarity and the best 20 by argpartition, timed the same way (median and p90 of 21 queries after
3 warm-ups).

    python bench/similar/numpy_peer.py ROWS
"""
import json
import sys
import time

import numpy as np


def main() -> None:
    rows = int(sys.argv[1])
    rng = np.random.default_rng(5)
    matrix = rng.integers(-127, 128, size=(rows, 512), dtype=np.int8).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    times = []
    for query in range(24):
        vector = rng.integers(-127, 128, size=512).astype(np.float32)
        started = time.perf_counter()
        scores = matrix @ (vector / np.linalg.norm(vector))
        best = np.argpartition(-scores, 20)[:20]
        best = best[np.argsort(-scores[best])]
        elapsed = (time.perf_counter() - started) * 1000
        if query >= 3:
            times.append(elapsed)
    times.sort()
    print(json.dumps({"peer": f"numpy {np.__version__} float32 sgemv", "rows": rows,
                      "median_ms": times[len(times) // 2], "p90_ms": times[int((len(times) - 1) * 0.9)]}))


if __name__ == "__main__":
    main()
