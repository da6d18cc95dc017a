"""Decode and preprocess time per image as `resnet18 serve` reports it, for photos and camera-frame sizes.

Starts `serve --db none --cache-entries 0` for each binary given (alternating, --rounds rounds), posts each image
REQUESTS times to /v1/classify one at a time, and prints the medians of the answer's own `timings` (decode,
preprocess: Resize(256) + CenterCrop(224), inference). Images: the fixture photo chelsea-q90.jpg (451x300) and the
same photo scaled by ffmpeg to 1920x1080 and 3840x2160 JPEGs (what a camera's frame is in size; streams hand the
engine raw frames, so for them only the preprocess column applies). With --pillow PYTHON, the same images through
Pillow in that Python (torch, torchvision, Pillow: the peers' environment) in the same run: `Image.open(...).convert
("RGB")`, then torchvision's `Resize(256)` and `CenterCrop(224)`, which compute what ours does.

Usage: RESNET18_SHARED=../shared python3 bench/imaging/preprocess.py [--requests 30] [--rounds 2] [--pillow PYTHON]
           BINARY [BINARY ...]
"""
import argparse, json, os, socket, statistics, subprocess, tempfile, time, urllib.request, uuid
from pathlib import Path

SHARED = Path(os.environ.get("RESNET18_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, name: str, data: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/classify", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)["results"][0]["timings"]


def measure(binary: str, images: dict, requests: int) -> dict:
    port = free_port()
    weights = SHARED / "fixtures" / "resnet18-seeded.safetensors"
    server = subprocess.Popen([binary, "serve", "--port", str(port), "--weights", str(weights), "--db", "none",
                               "--cache-entries", "0", "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{binary} serve did not become ready on port {port} within a minute")
        results = {}
        for name, data in images.items():
            post(port, name, data)  # warm-up
            rows = [post(port, name, data) for _ in range(requests)]
            results[name] = {key: statistics.median(row[key] for row in rows) for key in ("decode", "preprocess", "inference")}
        return results
    finally:
        server.terminate()
        server.wait()


PILLOW = """
import io, statistics, sys, time
from PIL import Image
from torchvision import transforms
crop = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    decode, preprocess = [], []
    for _ in range(int(sys.argv[1])):
        a = time.perf_counter(); image = Image.open(io.BytesIO(data)).convert("RGB"); b = time.perf_counter()
        crop(image); c = time.perf_counter()
        decode.append((b - a) * 1e3); preprocess.append((c - b) * 1e3)
    print(f"{statistics.median(decode):.2f} {statistics.median(preprocess):.2f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pillow", help="a Python with torchvision and Pillow, measured beside the binaries")
    arguments = parser.parse_args()
    photo = SHARED / "fixtures" / "images" / "chelsea-q90.jpg"
    images = {"451x300 (chelsea-q90.jpg)": photo.read_bytes()}
    with tempfile.TemporaryDirectory() as directory:
        paths = [str(photo)]
        for width, height in ((1920, 1080), (3840, 2160)):
            path = Path(directory) / f"{width}x{height}.jpg"
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(photo), "-vf", f"scale={width}:{height}",
                            "-q:v", "3", str(path)], check=True)
            images[f"{width}x{height} (JPEG, q 3)"] = path.read_bytes()
            paths.append(str(path))
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
        print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu}, {os.cpu_count()} CPUs; medians of "
              f"{arguments.requests} requests, ms")
        print("| round | binary | image | decode | preprocess | inference |")
        print("|---:|---|---|---:|---:|---:|")
        for round_number in range(1, arguments.rounds + 1):
            for binary in arguments.binaries:
                for name, row in measure(binary, images, arguments.requests).items():
                    print(f"| {round_number} | {binary} | {name} | {row['decode']:.2f} | {row['preprocess']:.2f} | "
                          f"{row['inference']:.2f} |", flush=True)
            if arguments.pillow:
                lines = subprocess.run([arguments.pillow, "-c", PILLOW, str(arguments.requests), *paths], check=True,
                                       capture_output=True, text=True).stdout.split("\n")
                for name, line in zip(images, lines):
                    decode, preprocess = line.split()
                    print(f"| {round_number} | Pillow + torchvision | {name} | {decode} | {preprocess} | |", flush=True)


if __name__ == "__main__":
    main()
