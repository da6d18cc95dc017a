"""Where one client's request goes: the server's own account of each answer beside the client's round trip.

Starts `resnet18 serve` (result cache off; extra serve options after `--`), posts a photo to /v1/classify from
one client, one request at a time, and prints the medians of the round trip and of the timings each answer
carries (decode, preprocess, queue, inference: the engine call, normalising the image into it included; total),
then the engine's own batch-1 median from `resnet18 bench` (lean, as serve runs, and not lean) right after, so
that all of them come from the same few minutes of the machine.

Usage: python3 bench/http/timings.py [--binary .build/release/resnet18] [--requests 300] [--rounds 3] [-- SERVE OPTIONS]
"""
import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("RESNET18_SHARED", os.path.join(ROOT, "..", "shared"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_server_round(binary, weights, photo, requests, serve_options):
    port = free_port()
    server = subprocess.Popen([binary, "serve", "--port", str(port), "--grpc-port", "0", "--cache-entries", "0",
                               "--weights", weights] + serve_options,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", "/v2/health/ready")
                connection.getresponse().read()
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise SystemExit("resnet18 serve did not start")
                time.sleep(0.2)
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n"
                "Content-Type: image/jpeg\r\n\r\n").encode() + photo + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        round_trips, parts = [], {}
        for index in range(requests + 10):
            start = time.perf_counter()
            connection.request("POST", "/v1/classify", body, headers)
            response = connection.getresponse()
            answer = response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                raise SystemExit(f"/v1/classify answered {response.status}: {answer[:200]!r}")
            if index < 10:
                continue  # warm-up
            round_trips.append(elapsed)
            for name, value in json.loads(answer)["results"][0]["timings"].items():
                parts.setdefault(name, []).append(value)
        row = {"round_trip": statistics.median(round_trips)}
        row.update({name: statistics.median(values) for name, values in parts.items()})
        return row
    finally:
        server.terminate()
        server.wait(timeout=60)


def bench_median(binary, weights, lean):
    command = [binary, "bench", "--weights", weights, "--batch", "1", "--runs", "60", "--json"]
    command.append("--lean-winograd" if lean else "--no-lean-winograd")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.splitlines()[0])["median_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "resnet18"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photo", default=os.path.join(SHARED, "fixtures", "images", "chelsea-q90.jpg"))
    parser.add_argument("serve_options", nargs="*", help="after --: options for resnet18 serve (say --db none)")
    arguments = parser.parse_args()
    weights = os.path.join(SHARED, "fixtures", "resnet18-seeded.safetensors")
    photo = open(arguments.photo, "rb").read()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"# {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {cpu}, {os.cpu_count()} CPUs; "
          f"serve {' '.join(arguments.serve_options) or '(defaults)'}; medians, ms")
    names = ["round_trip", "decode", "preprocess", "queue", "inference", "total"]
    print("| round | " + " | ".join(names) + " | bench lean | bench not lean |")
    print("|---:|" + "---:|" * (len(names) + 2))
    for round_number in range(1, arguments.rounds + 1):
        row = one_server_round(arguments.binary, weights, photo, arguments.requests, arguments.serve_options)
        lean = bench_median(arguments.binary, weights, lean=True)
        fast = bench_median(arguments.binary, weights, lean=False)
        cells = [f"{row.get(name, float('nan')):.2f}" for name in names]
        print(f"| {round_number} | " + " | ".join(cells) + f" | {lean:.2f} | {fast:.2f} |", flush=True)


if __name__ == "__main__":
    main()
