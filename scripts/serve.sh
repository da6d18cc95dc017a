#!/usr/bin/env bash
# Sets up, builds (release) and starts the service with its page. Extra arguments go to `resnet18 serve`.
# Usage: scripts/serve.sh [--port 8080] [--weights PATH] ...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
bin="$(swift build -c release --show-bin-path)/resnet18"
exec "$bin" serve "$@"
