"""Soak test of `resnet18 serve`: capacity first, then an open-loop load at a multiple of it, RSS sampled.

1. Capacity: 16 clients in a closed loop (keep-alive), POST of one photo to /v1/classify, result cache off,
   for --capacity-seconds: answered requests per second.
2. Soak: requests at fixed arrival times, --factor × capacity per second, for --seconds. Open loop: a request
   is sent on schedule whether or not earlier ones were answered (each on its own connection), so an overloaded
   server meets the backlog wrk's closed loop would hide. Each gets --timeout seconds to be answered.
3. The server's VmRSS every 10 s, from /proc.

Report: every status counted (a result is 200; refused is 503, which must carry Retry-After), anything else
(other status, timeout, reset) counted as lost; p50/p99 of the 200s; RSS start/end/max; JSON, markdown, a plot.

History hook: --serve-arg passes flags to `resnet18 serve` (e.g. --serve-arg=--db --serve-arg=/tmp/h.sqlite);
--history-count CMD is a shell command printing the number of history rows; run before the soak and after the
server stopped, the difference must equal the soak's count of 200s.

Loopback only; stdlib only (matplotlib for the plot, from bench/soak.sh's venv).
"""
import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Serve:
    """`resnet18 serve --port 0` on 127.0.0.1; the port is read from its 'listening on' line."""

    def __init__(self, binary, arguments):
        self.process = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", "0", *arguments],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        self.lines = []
        found = threading.Event()
        self.port = None

        def read():
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
                if match and not found.is_set():
                    self.port = int(match.group(1))
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        found.wait(300)
        if self.port is None:
            self.stop()
            sys.exit("serve did not start:\n" + "\n".join(self.lines[-30:]))

    def rss_kb(self):
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except FileNotFoundError:
            return None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def request_bytes(photo, keep_alive):
    head = (f"POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(photo)}\r\nConnection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
    return head.encode() + photo


async def read_response(reader):
    """(status, headers dict, body) of one HTTP/1.1 response with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def capacity(port, photo, clients, seconds):
    """Closed loop: `clients` keep-alive connections, each sending the next request when answered."""
    payload = request_bytes(photo, keep_alive=True)
    deadline = time.monotonic() + seconds
    counts = Counter()

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < deadline:
            writer.write(payload)
            await writer.drain()
            status, _, _ = await read_response(reader)
            counts[status] += 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.monotonic() - started
    return counts[200] / elapsed, dict(counts)


def count_rows(command):
    return int(subprocess.run(command, shell=True, check=True, text=True, capture_output=True).stdout.strip())


async def soak(serve, photo, rate, seconds, timeout, rss_every):
    """Open loop at `rate` requests/s for `seconds`; returns outcomes and the RSS samples."""
    payload = request_bytes(photo, keep_alive=False)
    outcomes = Counter()
    latencies = []
    missing_retry_after = 0
    samples = []
    in_flight = 0
    max_in_flight = 0

    async def one():
        nonlocal missing_retry_after, in_flight, max_in_flight
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        started = time.monotonic()
        try:
            async def exchange():
                reader, writer = await asyncio.open_connection("127.0.0.1", serve.port)
                try:
                    writer.write(payload)
                    await writer.drain()
                    return await read_response(reader)
                finally:
                    writer.close()
            status, headers, _ = await asyncio.wait_for(exchange(), timeout)
            outcomes[str(status)] += 1
            if status == 200:
                latencies.append((time.monotonic() - started) * 1000)
            elif status == 503 and "retry-after" not in headers:
                missing_retry_after += 1
        except asyncio.TimeoutError:
            outcomes["timeout"] += 1
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as error:
            outcomes[type(error).__name__] += 1
        finally:
            in_flight -= 1

    async def sample():
        start = time.monotonic()
        while True:
            samples.append((round(time.monotonic() - start, 1), serve.rss_kb()))
            await asyncio.sleep(rss_every)

    sampler = asyncio.create_task(sample())
    tasks = []
    start = time.monotonic()
    total = int(rate * seconds)
    for index in range(total):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    sent_seconds = time.monotonic() - start
    await asyncio.gather(*tasks)
    samples.append((round(time.monotonic() - start, 1), serve.rss_kb()))
    sampler.cancel()
    return {
        "requests": total, "sent_over_seconds": round(sent_seconds, 1), "outcomes": dict(outcomes),
        "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies) if latencies else None, "missing_retry_after": missing_retry_after,
        "max_in_flight": max_in_flight, "rss_kb": samples,
    }


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    seconds = [s for s, kb in result["soak"]["rss_kb"] if kb]
    megabytes = [kb / 1024 for s, kb in result["soak"]["rss_kb"] if kb]
    figure, axis = plt.subplots(figsize=(8, 3.6), dpi=110)
    axis.plot(seconds, megabytes, marker="o", markersize=3, color="#1f77b4")
    axis.set_xlabel("seconds into the soak")
    axis.set_ylabel("server RSS (MB)")
    axis.set_ylim(0, max(megabytes) * 1.25)
    axis.grid(alpha=0.3)
    outcomes = result["soak"]["outcomes"]
    axis.set_title(f"resnet18 serve, {result['rate']:.0f} req/s offered ({result['factor']}× capacity "
                   f"{result['capacity_rps']:.1f}) for {result['seconds']} s: "
                   f"{outcomes.get('200', 0)} × 200, {outcomes.get('503', 0)} × 503", fontsize=9)
    figure.tight_layout()
    figure.savefig(path)


def markdown(result, command):
    soak_result = result["soak"]
    rss = [kb for _, kb in soak_result["rss_kb"] if kb]
    lost = {k: v for k, v in soak_result["outcomes"].items() if k not in ("200", "503")}
    lines = [
        "# Soak", "",
        f"`{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `resnet18 serve "
        f"{' '.join(result['serve_arguments'])}`, POST of `{result['photo']}` to `/v1/classify` on loopback.", "",
        f"- capacity: **{result['capacity_rps']:.1f} req/s** (16 keep-alive clients, closed loop, "
        f"{result['capacity_seconds']} s; statuses {result['capacity_statuses']})",
        f"- offered: **{result['rate']:.1f} req/s** ({result['factor']}× capacity), open loop, one connection per "
        f"request, for {result['seconds']} s = {soak_result['requests']} requests (sent over "
        f"{soak_result['sent_over_seconds']} s; at most {soak_result['max_in_flight']} in flight)",
        f"- answers: " + ", ".join(f"{count} × {status}" for status, count in sorted(soak_result["outcomes"].items())),
        f"- 503 without Retry-After: {soak_result['missing_retry_after']}",
        f"- lost (no answer, or another status): {sum(lost.values())} {lost if lost else ''}",
        f"- accepted (200) latency: p50 {soak_result['p50_ms']:.1f} ms, p99 **{soak_result['p99_ms']:.1f} ms**, "
        f"max {soak_result['max_ms']:.1f} ms" if soak_result["p50_ms"] is not None else "- no request accepted",
        f"- server RSS: start {rss[0] / 1024:.0f} MB, end {rss[-1] / 1024:.0f} MB, max {max(rss) / 1024:.0f} MB "
        f"({len(rss)} samples, every 10 s; plot: docs/soak.png)",
    ]
    if "history_rows" in result:
        lines.append(f"- history rows: {result['history_rows']} for {soak_result['outcomes'].get('200', 0)} answers 200")
    lines += ["", "RSS samples (s, MB): " + ", ".join(f"{s:.0f}: {kb / 1024:.0f}" for s, kb in soak_result["rss_kb"] if kb), ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/resnet18"))
    parser.add_argument("--photo", default=str(ROOT.parent / "shared/fixtures/images/chelsea-q90.jpg"))
    parser.add_argument("--weights", default=str(ROOT.parent / "shared/fixtures/resnet18-seeded.pth"))
    parser.add_argument("--serve-arg", action="append", default=[], help="extra flag for resnet18 serve (repeat)")
    parser.add_argument("--capacity-seconds", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--factor", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds each soak request may take")
    parser.add_argument("--history-count", help="shell command printing the history rows after the run")
    parser.add_argument("--json", default=str(ROOT / "bench/results/soak.json"))
    parser.add_argument("--markdown", default=str(ROOT / "bench/results/soak.md"))
    parser.add_argument("--plot", default=str(ROOT / "docs/soak.png"))
    parser.add_argument("--command", default="bench/soak.sh")
    options = parser.parse_args()

    photo = Path(options.photo).read_bytes()
    arguments = ["--weights", options.weights, "--cache-entries", "0", *options.serve_arg]
    serve = Serve(options.binary, arguments)
    try:
        for _ in range(5):  # warm-up
            asyncio.run(capacity(serve.port, photo, 1, 0.5))
        rps, statuses = asyncio.run(capacity(serve.port, photo, 16, options.capacity_seconds))
        print(f"capacity: {rps:.1f} req/s at 16 clients {statuses}", flush=True)
        rate = rps * options.factor
        print(f"soak: {rate:.1f} req/s for {options.seconds} s", flush=True)
        result = {"capacity_rps": rps, "capacity_statuses": statuses, "capacity_seconds": options.capacity_seconds,
                  "rate": rate, "factor": options.factor, "seconds": options.seconds,
                  "photo": Path(options.photo).name, "serve_arguments": arguments}
        if options.history_count:
            time.sleep(3)  # the history writer commits what the capacity run answered
            rows_before = count_rows(options.history_count)
        result["soak"] = asyncio.run(soak(serve, photo, rate, options.seconds, options.timeout, 10))
    finally:
        serve.stop()
    if options.history_count:
        # Rows the soak added: every answer 200 must have one (the server commits its queue as it stops).
        result["history_rows_before"] = rows_before
        result["history_rows"] = count_rows(options.history_count) - rows_before
    Path(options.json).write_text(json.dumps(result, indent=1) + "\n")
    Path(options.markdown).write_text(markdown(result, options.command))
    try:
        plot(result, options.plot)
    except ImportError:
        print("matplotlib missing: no plot (bench/soak.sh makes a venv with it)", file=sys.stderr)
    print(Path(options.markdown).read_text())
    outcomes = result["soak"]["outcomes"]
    lost = sum(v for k, v in outcomes.items() if k not in ("200", "503"))
    ok = lost == 0 and result["soak"]["missing_retry_after"] == 0
    if "history_rows" in result:
        ok = ok and result["history_rows"] == outcomes.get("200", 0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
