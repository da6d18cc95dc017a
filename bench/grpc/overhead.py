"""What the gRPC path adds to a lone FP32 request over the engine's own time, beside the HTTP (KServe v2 binary)
path of the same server: sequential [1,3,224,224] requests through tritonclient.grpc and tritonclient.http against
one `resnet18 serve` (history in a temporary SQLite file: each row keeps the request's queue and engine time).
Per request, overhead = client round trip - (queue + inference) as the server recorded them. Prints medians and p90s.

Usage: RESNET18_BIN=.build/release/resnet18 python3 bench/grpc/overhead.py [requests per protocol, default 200]
"""
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from server_process import IMAGES, SEEDED_WEIGHTS, Server  # noqa: E402


def rows(url: str, count: int) -> list[dict]:
    """The newest `count` history rows, oldest first."""
    found, cursor = [], None
    while len(found) < count:
        page = json.load(urllib.request.urlopen(url + "v1/history?limit=100" + (f"&cursor={cursor}" if cursor else ""), timeout=60))
        found += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return list(reversed(found[:count]))


def run(infer, url: str, count: int) -> dict:
    tensor = np.fromfile(IMAGES / "chelsea.input.f32", dtype="<f4").reshape(1, 3, 224, 224)
    for _ in range(10):  # warm-up
        infer(tensor)
    trips = []
    for _ in range(count):
        started = time.perf_counter()
        infer(tensor)
        trips.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)
    recorded = rows(url, count)
    engine = [row["timings"]["queue"] + row["timings"]["inference"] for row in recorded]
    overhead = [trip - inside for trip, inside in zip(trips, engine)]
    def summary(values):
        ordered = sorted(values)
        return {"p50": statistics.median(ordered), "p90": ordered[int(len(ordered) * 0.9) - 1]}
    return {"round_trip": summary(trips), "engine": summary(engine), "overhead": summary(overhead)}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with Server("--weights", str(SEEDED_WEIGHTS), "--cache-entries", "0") as server:
        grpc = grpcclient.InferenceServerClient(url=server.grpc_address)
        http = httpclient.InferenceServerClient(url=server.url.removeprefix("http://").rstrip("/"))

        def over_grpc(tensor):
            given = grpcclient.InferInput("input", list(tensor.shape), "FP32")
            given.set_data_from_numpy(tensor)
            return grpc.infer("resnet18", [given]).as_numpy("logits")

        def over_http(tensor):
            given = httpclient.InferInput("input", list(tensor.shape), "FP32")
            given.set_data_from_numpy(tensor, binary_data=True)
            return http.infer("resnet18", [given]).as_numpy("logits")

        results = {"grpc": run(over_grpc, server.url, count), "http": run(over_http, server.url, count)}
    print(json.dumps(results, indent=2))
    for name, result in results.items():
        print(f"{name:5s} round trip p50 {result['round_trip']['p50']:.2f} ms, engine (queue + inference) p50 "
              f"{result['engine']['p50']:.2f} ms, added p50 {result['overhead']['p50']:.2f} ms / p90 {result['overhead']['p90']:.2f} ms")


if __name__ == "__main__":
    main()
