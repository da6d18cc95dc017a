"""A lone request after idle against the hot median: does the server answer a request that comes alone, after the
machine has been quiet for a while, as fast as one in a steady stream?

Against one `resnet18 serve --db none` (release build), KServe v2 binary FP32 [1,3,224,224] requests from one
client, in `rounds` rounds (3 by default) of `hot` requests back to back, then `lone` requests one every `gap` ms
(300 by default): this machine's speed drifts by 20-30 % within minutes, so both kinds are measured in each round
and the bar is judged on the median of the rounds' lone/hot ratios (of the medians). Each answer's Server-Timing
gives the engine's time for it; the round trip is the client's. Prints medians and p90s of both (all rounds), and
the ratios, against the bar of 1.2.

With --history the server keeps its history (a fresh SQLite file) and each answer waits for its row's commit, as
`serve` does by default.

Usage: RESNET18_BIN=.build/release/resnet18 python3 bench/idle/lone.py [--rounds 3] [--hot 100] [--lone 30] [--gap-ms 300] [--history]
"""
import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from server_process import IMAGES, SEEDED_WEIGHTS, Server  # noqa: E402


def summary(values: list) -> dict:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 3), "p90": round(ordered[int(len(ordered) * 0.9) - 1], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hot", type=int, default=100)
    parser.add_argument("--lone", type=int, default=30)
    parser.add_argument("--gap-ms", type=float, default=300)
    parser.add_argument("--history", action="store_true", help="history on (a temporary SQLite file)")
    arguments = parser.parse_args()
    tensor = np.fromfile(IMAGES / "chelsea.input.f32", dtype="<f4")
    header = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224],
                                     "parameters": {"binary_data_size": tensor.nbytes}}],
                         "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
    body = header + tensor.tobytes()
    database = () if arguments.history else ("--db", "none")
    with Server("--weights", str(SEEDED_WEIGHTS), *database, "--grpc-port", "0") as server:
        host, port = server.url.removeprefix("http://").rstrip("/").split(":")
        connection = http.client.HTTPConnection(host, int(port))

        def infer() -> tuple[float, float]:
            started = time.perf_counter()
            connection.request("POST", "/v2/models/resnet18/infer", body=body,
                               headers={"Inference-Header-Content-Length": str(len(header)),
                                        "Content-Type": "application/octet-stream"})
            response = connection.getresponse()
            response.read()
            trip = (time.perf_counter() - started) * 1000
            metrics = dict(part.strip().split(";dur=") for part in response.getheader("server-timing").split(","))
            return trip, float(metrics["engine"])

        for _ in range(20):
            infer()
        rounds = []
        for _ in range(arguments.rounds):
            hot = [infer() for _ in range(arguments.hot)]
            lone = []
            for _ in range(arguments.lone):
                time.sleep(arguments.gap_ms / 1000)
                lone.append(infer())
            rounds.append((hot, lone))
    hot = [pair for round_hot, _ in rounds for pair in round_hot]
    lone = [pair for _, round_lone in rounds for pair in round_lone]
    report = {"gap_ms": arguments.gap_ms, "history": arguments.history, "rounds": arguments.rounds,
              "hot": {"round_trip": summary([t for t, _ in hot]), "engine": summary([e for _, e in hot]), "count": len(hot)},
              "lone": {"round_trip": summary([t for t, _ in lone]), "engine": summary([e for _, e in lone]), "count": len(lone)}}
    for index, measure in enumerate(("round_trip", "engine")):
        ratios = [statistics.median(pair[index] for pair in round_lone) / statistics.median(pair[index] for pair in round_hot)
                  for round_hot, round_lone in rounds]
        report[f"{measure}_ratios"] = [round(ratio, 3) for ratio in ratios]
        report[f"{measure}_ratio"] = round(statistics.median(ratios), 3)
    print(json.dumps(report))
    for name in ("hot", "lone"):
        print(f"{name:5s} ({report[name]['count']}): round trip p50 {report[name]['round_trip']['p50']:.2f} / p90 "
              f"{report[name]['round_trip']['p90']:.2f} ms, engine p50 {report[name]['engine']['p50']:.2f} / p90 "
              f"{report[name]['engine']['p90']:.2f} ms", file=sys.stderr)
    print(f"lone after {arguments.gap_ms:.0f} ms idle / hot, median of the rounds' ratios: round trip "
          f"{report['round_trip_ratio']:.3f} {report['round_trip_ratios']}, engine {report['engine_ratio']:.3f} "
          f"{report['engine_ratios']} (bar: <= 1.2)", file=sys.stderr)


if __name__ == "__main__":
    main()
