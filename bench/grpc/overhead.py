"""What the gRPC path adds to a lone FP32 request over the engine's own time, beside the HTTP (KServe v2 binary)
path of the same server: sequential [1,3,224,224] requests against one `resnet18 serve --db none` (no history
row to commit). Added = client round trip - the engine's own time, the mean of the server's
resnet18_inference_duration_seconds over the same requests (each a batch of one). Prints medians and p90s.

Two kinds of client each: tritonclient (what users run; its Python protobuf and numpy work counts in its round
trip), and the same request serialized once and sent as bytes (grpcio with no serializer; http.client with the
binary body), which leaves the transport and the server's own work.

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


def inference_totals(url: str) -> tuple[float, float]:
    """The engine's seconds and calls so far, from /metrics."""
    text = urllib.request.urlopen(url + "metrics", timeout=60).read().decode()
    total = sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("resnet18_inference_duration_seconds_sum"))
    calls = sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("resnet18_inference_duration_seconds_count"))
    return total, calls


def run(infer, url: str, count: int) -> dict:
    tensor = np.fromfile(IMAGES / "chelsea.input.f32", dtype="<f4").reshape(1, 3, 224, 224)
    for _ in range(10):  # warm-up
        infer(tensor)
    seconds_before, calls_before = inference_totals(url)
    trips = []
    for _ in range(count):
        started = time.perf_counter()
        infer(tensor)
        trips.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)
    seconds_after, calls_after = inference_totals(url)
    engine = (seconds_after - seconds_before) / max(1, calls_after - calls_before) * 1000
    ordered = sorted(trips)
    p50, p90 = statistics.median(ordered), ordered[int(len(ordered) * 0.9) - 1]
    return {"round_trip": {"p50": p50, "p90": p90}, "engine": {"p50": engine},
            "overhead": {"p50": p50 - engine, "p90": p90 - engine}}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with Server("--weights", str(SEEDED_WEIGHTS), "--db", "none") as server:
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

        import grpc as grpcio
        import http.client as httplib
        import tritonclient.grpc.service_pb2 as pb
        tensor = np.fromfile(IMAGES / "chelsea.input.f32", dtype="<f4").reshape(1, 3, 224, 224)
        request = pb.ModelInferRequest(model_name="resnet18")
        request.inputs.add(name="input", datatype="FP32", shape=[1, 3, 224, 224])
        request.raw_input_contents.append(tensor.tobytes())
        request_bytes = request.SerializeToString()
        channel = grpcio.insecure_channel(server.grpc_address, options=[("grpc.max_receive_message_length", 64 << 20)])
        infer_raw = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")

        def over_grpc_bytes(_):
            return infer_raw(request_bytes)

        header = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224],
                                         "parameters": {"binary_data_size": tensor.nbytes}}],
                             "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
        body = header + tensor.tobytes()
        host, port = server.url.removeprefix("http://").rstrip("/").split(":")
        connection = httplib.HTTPConnection(host, int(port))

        def over_http_bytes(_):
            connection.request("POST", "/v2/models/resnet18/infer", body=body,
                               headers={"Inference-Header-Content-Length": str(len(header)),
                                        "Content-Type": "application/octet-stream"})
            return connection.getresponse().read()

        results = {"grpc bytes": run(over_grpc_bytes, server.url, count), "http bytes": run(over_http_bytes, server.url, count),
                   "grpc tritonclient": run(over_grpc, server.url, count), "http tritonclient": run(over_http, server.url, count)}
    print(json.dumps(results, indent=2))
    for name, result in results.items():
        print(f"{name:17s} round trip p50 {result['round_trip']['p50']:.2f} ms, engine mean "
              f"{result['engine']['p50']:.2f} ms, added p50 {result['overhead']['p50']:.2f} ms / p90 {result['overhead']['p90']:.2f} ms")


if __name__ == "__main__":
    main()
