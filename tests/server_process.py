"""Starts `resnet18 serve` from the built binary on a free port and stops it with SIGTERM.

Shared by tests/browser and tests/api. The binary comes from $RESNET18_BIN; the fixtures from
$RESNET18_SHARED or ../shared beside the project root.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Resolved: chromedriver refuses upload paths that are not canonical (no "..", no symlinks).
SHARED = Path(os.environ.get("RESNET18_SHARED", ROOT.parent / "shared")).resolve()
FIXTURES = SHARED / "fixtures"
IMAGES = FIXTURES / "images"
SEEDED_WEIGHTS = FIXTURES / "resnet18-seeded.pth"
ARTIFACTS = Path(os.environ.get("RESNET18_ARTIFACTS", ROOT / "artifacts"))
LISTENING = re.compile(r"listening on (http://\S+/)")
GRPC_LISTENING = re.compile(r"^gRPC .* on (\S+:\d+)$")


def binary() -> str:
    path = os.environ.get("RESNET18_BIN")
    if not path:
        raise RuntimeError("set RESNET18_BIN to the built resnet18 binary (swift build; .build/debug/resnet18)")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"RESNET18_BIN={path} is not an executable file: build it first")
    return path


class Server:
    """A running `resnet18 serve --port 0`; `url` is the page's address, as the server printed it.

    Unless the arguments name a --db, the history goes to a fresh SQLite file in a temporary directory
    (`history_path`), removed on stop: tests never write to the user's data directory.
    """

    def __init__(self, *arguments: str, env: dict | None = None, timeout: float = 120):
        self.output: list[str] = []
        self.history_dir = None
        self.history_path = None
        if "--db" not in arguments:
            self.history_dir = tempfile.mkdtemp(prefix="resnet18-history-")
            self.history_path = os.path.join(self.history_dir, "history.sqlite")
            arguments = (*arguments, "--db", self.history_path)
        self.process = subprocess.Popen(
            [binary(), "serve", "--port", "0", *arguments],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
        )
        found = threading.Event()
        self.url = None

        def read() -> None:
            for line in self.process.stdout:
                self.output.append(line.rstrip("\n"))
                match = LISTENING.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        found.wait(timeout)
        if self.url is None:
            self.stop()
            raise RuntimeError("resnet18 serve did not print 'listening on ...':\n" + "\n".join(self.output[-40:]))

    @property
    def grpc_address(self) -> str:
        """host:port of the gRPC service, as the server printed it (it may print it just after the HTTP line)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in list(self.output):
                match = GRPC_LISTENING.match(line)
                if match:
                    return match.group(1)
            time.sleep(0.05)
        raise RuntimeError("resnet18 serve did not print 'gRPC ... on HOST:PORT':\n" + "\n".join(self.output[-40:]))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.history_dir:
            shutil.rmtree(self.history_dir, ignore_errors=True)
            self.history_dir = None
        return self.process.returncode

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *_) -> None:
        self.stop()


def multipart(field: str, filename: str, data: bytes, content_type: str = "application/octet-stream") -> tuple[bytes, str]:
    """A multipart/form-data body with one file, and its Content-Type."""
    boundary = "----resnet18-python-test"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
