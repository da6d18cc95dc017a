"""What recording the history costs a request: sequential POST /v1/classify of distinct JPEG bytes (no cache hits)
against `resnet18 serve` with --db none, a SQLite file (thumbnails on and off) and, when
RESNET18_TEST_POSTGRES_URL is set, PostgreSQL. Prints the median and p90 latency of each, in milliseconds.

Usage: RESNET18_BIN=.build/release/resnet18 python3 bench/history_overhead.py [requests per variant, default 100]
"""
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from server_process import IMAGES, SEEDED_WEIGHTS, Server  # noqa: E402


def measure(url: str, count: int) -> list[float]:
    photo = (IMAGES / "chelsea-q90.jpg").read_bytes()
    timings = []
    for index in range(count + 5):
        body = photo + f"request {index} {time.time_ns()}".encode()  # after the JPEG end: same pixels, new SHA-256
        request = urllib.request.Request(url + "v1/classify", data=body, method="POST", headers={"Content-Type": "image/jpeg"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        if index >= 5:  # the first few warm up
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as directory:
        variants = [("--db none", ["--db", "none"]),
                    ("SQLite, thumbnails on", ["--db", os.path.join(directory, "on.sqlite")]),
                    ("SQLite, thumbnails off", ["--db", os.path.join(directory, "off.sqlite"), "--thumbnails", "off"])]
        if os.environ.get("RESNET18_TEST_POSTGRES_URL"):
            variants.append(("PostgreSQL, thumbnails on", ["--db", os.environ["RESNET18_TEST_POSTGRES_URL"]]))
        print(f"{count} sequential requests each, binary {os.environ.get('RESNET18_BIN')}")
        for name, arguments in variants:
            with Server("--weights", str(SEEDED_WEIGHTS), "--cache-entries", "0", "--log-level", "warning", *arguments) as server:
                timings = sorted(measure(server.url, count))
                print(f"{name:28s} median {statistics.median(timings):7.2f} ms   p90 {timings[int(len(timings) * 0.9)]:7.2f} ms")


if __name__ == "__main__":
    main()
