"""What the gRPC path adds to a lone FP32 request over the engine's own time, beside the HTTP (KServe v2 binary)
path of the same server: sequential [1,3,224,224] requests against one `resnet18 serve --db none` (no history
row to commit). Prints medians and p90s.

Two kinds of client each: tritonclient (what users run; its Python protobuf and numpy work counts in its round
trip), and the same request serialized once and sent as bytes (grpcio with no serializer; http.client with the
binary body), which leaves the transport and the server's own work.

For the bytes clients every request is paired with the server's own account of it (its `server-timing` trailer or
header: the engine's time for that request, and the server's whole time from the request's headers to its answer):
- server adds = the server's total - the engine's time (what the server's path costs, per request), split into
  receiving the body whole and parsing it, and the rest (batcher, answer);
- end to end adds = the client's round trip - the engine's time (the server, the loopback and the Python client).
tritonclient hides the trailers: its rows subtract the engine's mean over the same requests (from /metrics).
- on the wire (when tcpdump runs: as root, `apt-get install tcpdump`): the loopback capture's time from the
  request's first packet to the answer's last, less the engine's time: everything the server does, the kernel's
  share included, and nothing of the client's but the pace at which it hands its bytes to the kernel.
A last row sends the same bytes to a do-nothing gRPC server in Python (grpcio, answering 4 kB at once): what
this client and the loopback cost with no server work at all, and (with tcpdump) its time on the wire from the
request's first packet to the answer's last, to set beside what `resnet18 serve` adds on the wire.

Usage: RESNET18_BIN=.build/release/resnet18 python3 bench/grpc/overhead.py [requests per protocol, default 200]
"""
import json
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
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


def timing(value: str) -> dict:
    """{"engine": ms, "total": ms} from a Server-Timing value such as "engine;dur=24.113, total;dur=25.020"."""
    parts = (part.strip().split(";dur=") for part in value.split(","))
    return {name: float(duration) for name, duration in parts}


def percentiles(values: list) -> dict:
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p90": ordered[int(len(ordered) * 0.9) - 1]}


class Capture:
    """tcpdump on the loopback for one TCP port, as a list of (seconds, from_server, payload_bytes)."""

    def __init__(self, port: int):
        self.port = port
        self.path = os.path.join(tempfile.mkdtemp(prefix="overhead-"), "capture.pcap")
        self.process = subprocess.Popen(["tcpdump", "-Z", "root", "--immediate-mode", "-i", "lo", "-U", "-n", "-s", "128", "--time-stamp-precision=nano",
                                         "-w", self.path, f"tcp port {port}"], stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:  # "listening on lo, ..." once it captures
            if "listening on" in line:
                break
        time.sleep(0.5)  # it says so a moment before packets reach it

    def packets(self) -> list:
        time.sleep(0.2)
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        data = open(self.path, "rb").read()
        shutil.rmtree(os.path.dirname(self.path))
        magic = struct.unpack("<I", data[:4])[0]
        scale = 1e-9 if magic == 0xA1B23C4D else 1e-6
        link = struct.unpack("<I", data[20:24])[0]
        offset, packets = 24, []
        while offset + 16 <= len(data):
            seconds, fraction, captured, _ = struct.unpack("<IIII", data[offset:offset + 16])
            frame = data[offset + 16:offset + 16 + captured]
            offset += 16 + captured
            ip = frame[14:] if link == 1 else frame[16:] if link == 113 else frame
            if not ip or ip[0] >> 4 != 4:
                continue
            header, total = (ip[0] & 0x0F) * 4, struct.unpack(">H", ip[2:4])[0]
            source_port = struct.unpack(">H", ip[header:header + 2])[0]
            payload = total - header - (ip[header + 12] >> 4) * 4
            packets.append((seconds + fraction * scale, source_port == self.port, payload))
        return packets


def exchanges(packets: list) -> list:
    """(first request packet, last answer packet) of each sequential request: a request starts with the client's
    first packet of a burst carrying at least 1,000 bytes (the 600 kB tensor) more than 3 ms after the last one,
    or the small packet just before it (its headers)."""
    big = [index for index, (_, from_server, size) in enumerate(packets) if not from_server and size >= 1000]
    starts = [index for position, index in enumerate(big) if position == 0 or packets[index][0] - packets[big[position - 1]][0] > 0.003]
    spans = []
    for position, first_big in enumerate(starts):
        start = first_big
        while start > 0 and not packets[start - 1][1] and packets[start - 1][2] > 0 and packets[first_big][0] - packets[start - 1][0] < 0.001:
            start -= 1  # the HEADERS frame, sent just before the data
        stop = starts[position + 1] if position + 1 < len(starts) else len(packets)
        # The answer: the server's first packet of at least 1,000 bytes (not a window update), and what it sends
        # right after, up to the client's next packet with a payload (a ping's acknowledgement is no answer).
        answer = next((index for index in range(first_big, stop) if packets[index][1] and packets[index][2] >= 1000), None)
        if answer is None:
            continue
        end = answer
        for index in range(answer + 1, stop):
            if packets[index][2] > 0:
                if not packets[index][1]:
                    break
                end = index
        spans.append((packets[start][0], packets[end][0]))
    return spans


def run_paired(infer, count: int, port: int) -> dict:
    """infer() -> the server-timing value; per-request pairs of round trip and the server's account."""
    for _ in range(10):  # warm-up
        infer()
    capture = Capture(port) if shutil.which("tcpdump") and os.geteuid() == 0 else None
    trips, server_adds, end_to_end, receive, rest, handover, engines = [], [], [], [], [], [], []
    for _ in range(count):
        started = time.perf_counter()
        value = infer()
        trip = (time.perf_counter() - started) * 1000
        server = timing(value)
        trips.append(trip)
        server_adds.append(server["total"] - server["engine"])
        end_to_end.append(trip - server["engine"])
        receive.append(server["receive"])
        rest.append(server["total"] - server["receive"] - server["engine"])
        handover.append(server["batcher"] - server["engine"])
        engines.append(server["engine"])
        time.sleep(0.005)
    wire = {}
    if capture:
        spans = exchanges(capture.packets())
        if len(spans) == count:
            wire = {"wire_adds": percentiles([(stop - start) * 1000 - engine for (start, stop), engine in zip(spans, engines)])}
        else:
            print(f"the capture shows {len(spans)} exchanges for {count} requests: no wire figures", file=sys.stderr)
    return wire | {"round_trip": percentiles(trips), "server_adds": percentiles(server_adds), "end_to_end_adds": percentiles(end_to_end),
            "server_receive": percentiles(receive), "server_after_receive_less_engine": percentiles(rest),
            "batcher_less_engine": percentiles(handover)}


def floor(request_bytes: bytes, count: int) -> dict:
    """The same client and bytes against a gRPC server that answers 4 kB at once."""
    import grpc as grpcio
    from concurrent import futures
    answer = b"\0" * 4100
    server = grpcio.server(futures.ThreadPoolExecutor(max_workers=2), options=[("grpc.max_receive_message_length", 64 << 20)])
    handler = grpcio.unary_unary_rpc_method_handler(lambda request, context: answer)
    server.add_generic_rpc_handlers((grpcio.method_handlers_generic_handler("floor.Floor", {"Echo": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpcio.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 64 << 20)])
    echo = channel.unary_unary("/floor.Floor/Echo")
    capture = Capture(port) if shutil.which("tcpdump") and os.geteuid() == 0 else None
    trips = round_trips(lambda: echo(request_bytes), count)
    server.stop(None)
    wire = {}
    if capture:
        spans = exchanges(capture.packets())[-count:]  # after round_trips' unmeasured ones
        if len(spans) == count:
            wire = {"wire": percentiles([(stop - start) * 1000 for start, stop in spans])}
        else:
            print(f"the floor's capture shows {len(spans)} exchanges for {count} requests: no wire figure", file=sys.stderr)
    return wire | {"round_trip": percentiles(trips)}


def round_trips(call, count: int) -> list:
    """Milliseconds of `count` sequential calls, 5 ms apart, after 10 unmeasured ones."""
    for _ in range(10):
        call()
    trips = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        trips.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)
    return trips


def run(infer, url: str, count: int) -> dict:
    tensor = np.fromfile(IMAGES / "chelsea.input.f32", dtype="<f4").reshape(1, 3, 224, 224)
    infer(tensor)
    seconds_before, calls_before = inference_totals(url)
    trips = round_trips(lambda: infer(tensor), count)
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

        def over_grpc_bytes():
            _, call = infer_raw.with_call(request_bytes)
            return dict(call.trailing_metadata())["server-timing"]

        header = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224],
                                         "parameters": {"binary_data_size": tensor.nbytes}}],
                             "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
        body = header + tensor.tobytes()
        host, port = server.url.removeprefix("http://").rstrip("/").split(":")
        connection = httplib.HTTPConnection(host, int(port))

        def over_http_bytes():
            connection.request("POST", "/v2/models/resnet18/infer", body=body,
                               headers={"Inference-Header-Content-Length": str(len(header)),
                                        "Content-Type": "application/octet-stream"})
            response = connection.getresponse()
            response.read()
            return response.getheader("server-timing")

        grpc_port = int(server.grpc_address.rsplit(":", 1)[1])
        results = {"grpc bytes": run_paired(over_grpc_bytes, count, grpc_port), "http bytes": run_paired(over_http_bytes, count, int(port)),
                   "grpc tritonclient": run(over_grpc, server.url, count), "http tritonclient": run(over_http, server.url, count)}
    results["grpc floor"] = floor(request_bytes, count)
    print(json.dumps(results, indent=2))
    for name, result in results.items():
        line = f"{name:17s} round trip p50 {result['round_trip']['p50']:.2f} ms"
        if "server_adds" in result:
            line += (f", server adds p50 {result['server_adds']['p50']:.2f} / p90 {result['server_adds']['p90']:.2f} ms"
                     f" (receive {result['server_receive']['p50']:.2f}, the rest {result['server_after_receive_less_engine']['p50']:.2f}"
                     f" of which batcher hand-overs {result['batcher_less_engine']['p50']:.2f})")
            if "wire_adds" in result:
                line += f", on the wire adds p50 {result['wire_adds']['p50']:.2f} / p90 {result['wire_adds']['p90']:.2f} ms"
            line += f", end to end adds p50 {result['end_to_end_adds']['p50']:.2f} / p90 {result['end_to_end_adds']['p90']:.2f} ms"
        elif "wire" in result:
            line += f", on the wire p50 {result['wire']['p50']:.2f} / p90 {result['wire']['p90']:.2f} ms"
        elif "engine" in result:
            line += (f", engine mean {result['engine']['p50']:.2f} ms, end to end adds p50 {result['overhead']['p50']:.2f}"
                     f" / p90 {result['overhead']['p90']:.2f} ms")
        print(line)


if __name__ == "__main__":
    main()
