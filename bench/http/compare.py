"""resnet18 serve against the seeds' Flask + torchvision service, in one run, on loopback with wrk.

Both services get the same multipart upload of the same JPEG (boundary ----bnd123, field `file`) on POST
/predict, at 1 and at 16 concurrent connections. For each: p50 latency, requests per second, non-2xx
answers, and the peak resident memory (VmRSS) of the server process sampled during the load. resnet18 serve
is measured as it starts by default, and again with each variant (lean Winograd, bf16, int8).
Writes bench/results/http.json and bench/results/http.md.

Usage (see compare.sh): python3 compare.py --binary .build/release/resnet18 --python .venv-peers/bin/python
"""
import argparse
import datetime
import json
import os
import re
import shlex
import statistics
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("RESNET18_SHARED", ROOT.parent / "shared"))
BOUNDARY = "----bnd123"
# The bar, relative to the Flask service measured in the same run.
BAR = {"p50_ratio_1_client": 0.35, "rps_ratio_16_clients": 4.0, "rss_mb": 200}
# resnet18 serve is measured as it starts by default, then with each of these options (bf16 only where the CPU has
# AVX-512: oneDNN has no bf16 convolution without it, and serve refuses it there).
HAS_AVX512 = "avx512f" in Path("/proc/cpuinfo").read_text().split()
DEFAULT_VARIANTS = (["--precision bf16"] if HAS_AVX512 else []) + ["--precision int8"]


def multipart_body(photo: Path) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{photo.name}\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + photo.read_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RSSSampler:
    """Peak VmRSS of a process while the load runs, sampled every 100 ms."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


def wait_until_answers(url: str, body: bytes, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with status {process.returncode}")
        try:
            request = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
            with urllib.request.urlopen(request, timeout=30) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer 200 within {timeout} s")


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(url: str, body_path: Path, connections: int, duration: str, pid: int) -> dict:
    threads = min(connections, 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", duration, "--latency",
               "-s", str(SHARED / "bench" / "post_file.lua"), url]
    env = dict(os.environ, BODY=str(body_path))
    with RSSSampler(pid) as sampler:
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.M)
    return {
        "connections": connections,
        "p50_ms": round(to_ms(p50.group(1)), 2) if p50 else None,
        "p99_ms": round(to_ms(p99.group(1)), 2) if p99 else None,
        "requests_per_s": float(rps.group(1)) if rps else None,
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else None,
        "peak_rss_mb": round(sampler.peak, 1),
    }


def measure(name: str, command: list[str], url: str, body: bytes, body_path: Path, duration: str, warmup: str,
            log: Path) -> dict:
    with open(log, "w") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_until_answers(url, body, process)
        print(f"{name}: warming up ({warmup})", flush=True)
        run_wrk(url, body_path, 16, warmup, process.pid)
        results = []
        for connections in (1, 16):
            print(f"{name}: {connections} connection(s) for {duration}", flush=True)
            results.append(run_wrk(url, body_path, connections, duration, process.pid))
            print(f"  {results[-1]}", flush=True)
        return {"service": name, "command": " ".join(command), "runs": results, "idle_rss_mb": round(rss_mb(process.pid), 1)}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def markdown(report: dict) -> str:
    lines = [
        f"# HTTP: resnet18 serve vs the seeds' Flask service ({report['date']})",
        "",
        f"wrk on loopback, POST /predict with {report['photo']} as multipart (field `file`), {report['duration']} per row, "
        f"{report['cpus']} CPUs, after a {report['warmup']} warm-up at 16 connections. RSS is the server's peak VmRSS during the row. "
        "resnet18 serve runs with its result cache off (`--cache-entries 0`): every request is decoded and run.",
        "",
        f"{report['rounds']} round(s), the order alternating (ours first, then Flask first): this machine's speed drifts "
        "by 20-30 % within minutes, so the bars are judged on the median of the per-round ratios (RSS: the largest).",
        "",
        "| round | service | connections | p50 ms | p99 ms | requests/s | non-2xx | peak RSS MB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for service in report["services"]:
        for run in service["runs"]:
            lines.append(f"| {service.get('round', 1)} | {service['service']} | {run['connections']} | {run['p50_ms']} | "
                         f"{run['p99_ms']} | {run['requests_per_s']} | {run['non_2xx']} | {run['peak_rss_mb']} |")
    verdict = report.get("verdict")
    if verdict:
        lines += ["", "| service | the issue's bar | needed | each round | measured | met |",
                  "| --- | --- | ---: | --- | ---: | --- |"]
        for row in verdict:
            lines.append(f"| {row['service']} | {row['what']} | {row['needed']} | {row['each']} | {row['measured']} | "
                         f"{'yes' if row['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def verdict(services: list[dict]) -> list[dict]:
    """Each bar per round (ours against Flask in the same round), judged on the median over the rounds."""
    by_round: dict[int, dict[str, dict]] = {}
    for service in services:
        by_round.setdefault(service.get("round", 1), {})[service["service"]] = {run["connections"]: run for run in service["runs"]}
    names = list(dict.fromkeys(service["service"] for service in services if service["service"] != "flask (seed)"))
    rows = []
    for name in names:
        rounds = [r for r in by_round.values() if name in r and "flask (seed)" in r]
        if not rounds:
            continue
        p50 = [r[name][1]["p50_ms"] / r["flask (seed)"][1]["p50_ms"] for r in rounds]
        rps = [r[name][16]["requests_per_s"] / r["flask (seed)"][16]["requests_per_s"] for r in rounds]
        rss = [max(run["peak_rss_mb"] for run in r[name].values()) for r in rounds]
        p50_ratio, rps_ratio = statistics.median(p50), statistics.median(rps)
        rows += [
            {"service": name, "what": "one client p50, ours / Flask's", "needed": f"<= {BAR['p50_ratio_1_client']}",
             "each": ", ".join(f"{x:.3f}" for x in p50), "measured": round(p50_ratio, 3),
             "met": p50_ratio <= BAR["p50_ratio_1_client"]},
            {"service": name, "what": "16 clients requests/s, ours / Flask's", "needed": f">= {BAR['rps_ratio_16_clients']}",
             "each": ", ".join(f"{x:.2f}" for x in rps), "measured": round(rps_ratio, 2),
             "met": rps_ratio >= BAR["rps_ratio_16_clients"]},
            {"service": name, "what": "peak RSS under load (MB)", "needed": f"<= {BAR['rss_mb']}",
             "each": ", ".join(f"{x:.1f}" for x in rss), "measured": max(rss), "met": max(rss) <= BAR["rss_mb"]},
        ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "resnet18"))
    parser.add_argument("--python", default=str(ROOT / ".venv-peers" / "bin" / "python"))
    parser.add_argument("--photo", default=os.environ.get("PHOTO", "chelsea-q90.jpg"))
    parser.add_argument("--duration", default=os.environ.get("DURATION", "30s"))
    parser.add_argument("--warmup", default=os.environ.get("WARMUP", "5s"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "3")),
                        help="rounds of every service, the order alternating (default 3, env ROUNDS)")
    parser.add_argument("--skip-flask", action="store_true", help="measure resnet18 serve alone")
    parser.add_argument("--serve-option", action="append", default=[],
                        help="extra option for resnet18 serve, as --serve-option=--max-batch=4 (repeatable)")
    parser.add_argument("--variant", action="append", default=None, metavar="OPTIONS",
                        help="also measure resnet18 serve with these options, as --variant='--precision int8' "
                             "(repeatable; default: --precision bf16, --precision int8; "
                             "--variant= for none)")
    arguments = parser.parse_args()
    variants = [v for v in (arguments.variant if arguments.variant is not None else DEFAULT_VARIANTS) if v.strip()]

    weights = SHARED / "fixtures" / "resnet18-seeded.pth"
    photo = SHARED / "fixtures" / "images" / arguments.photo
    body = multipart_body(photo)
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    services = []
    with tempfile.TemporaryDirectory() as scratch:
        body_path = Path(scratch) / "multipart.bin"
        body_path.write_bytes(body)
        quantization = Path(scratch) / "seeded.int8.json"
        if any("int8" in variant for variant in variants):
            subprocess.run([arguments.binary, "quantize", "--weights", str(weights), "--output", str(quantization)],
                           check=True, stdout=subprocess.DEVNULL)
        def ours(round_: int) -> None:
            for variant in ["", *variants]:
                name = f"resnet18 serve {variant}".strip()
                if "int8" in variant and "--quantization" not in variant:
                    variant += f" --quantization {quantization}"
                port = free_port()
                print(f"round {round_}:", flush=True)
                services.append({"round": round_, **measure(
                    name,
                    # The result cache is off: wrk posts the same bytes every time, and the comparison is of the work per image.
                    [arguments.binary, "serve", "--port", str(port), "--weights", str(weights), "--log-level", "warning",
                     "--cache-entries", "0", *arguments.serve_option, *shlex.split(variant)],
                    f"http://127.0.0.1:{port}/predict", body, body_path, arguments.duration, arguments.warmup,
                    Path(scratch) / "resnet18.log")})

        def flask(round_: int) -> None:
            if arguments.skip_flask:
                return
            port = free_port()
            print(f"round {round_}:", flush=True)
            services.append({"round": round_, **measure(
                "flask (seed)",
                [arguments.python, str(SHARED / "bench" / "seed_flask_app.py"), str(weights),
                 str(SHARED / "data" / "imagenet-classes.json"), str(port)],
                f"http://127.0.0.1:{port}/predict", body, body_path, arguments.duration, arguments.warmup,
                Path(scratch) / "flask.log")})

        for round_ in range(1, arguments.rounds + 1):
            first, second = (ours, flask) if round_ % 2 == 1 else (flask, ours)
            first(round_)
            second(round_)
    report = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "photo": arguments.photo, "duration": arguments.duration, "warmup": arguments.warmup,
        "cpus": os.cpu_count(), "rounds": arguments.rounds, "services": services, "verdict": verdict(services),
    }
    (out / "http.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "http.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
