#!/usr/bin/env bash
# Installs what resnet18 needs on Debian (12+) and builds it.
# Usage: scripts/setup.sh [--test] [--debug]
#   --test   also the test tools: chromium + chromium-driver, PostgreSQL (a throwaway server for the history tests),
#            mosquitto + mosquitto-clients (a broker on loopback for the MQTT tests),
#            GStreamer's RTSP server with python3-gi and the H.264 plugins (a camera on loopback for the RTSP tests),
#            eslint (the pages' JavaScript), Python venv with selenium, schemathesis, openapi-spec-validator,
#            scikit-learn and Pillow (resnet18 train against scikit-learn), kubernetes-validate (the manifests) and
#            tritonclient[http,grpc] (the Triton clients, against the KServe v2 routes and gRPC service)
#   --debug  build the debug configuration (what `swift test` uses) instead of release
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
want_test=0
config=release
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --debug) config=debug ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

packages=(libdnnl-dev libturbojpeg0-dev libspng-dev libwebp-dev libsqlite3-dev pkg-config python3 python3-venv ca-certificates ffmpeg)
if [ "$want_test" = 1 ]; then
  packages+=(chromium chromium-driver wrk postgresql sqlite3 eslint mosquitto mosquitto-clients haproxy
             gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
  else
    echo "setup.sh: Swift 6 is not installed. Install a Swift 6 toolchain for Linux from swift.org (swiftly), then run this again." >&2
    exit 1
  fi
fi

# The test tools' Python packages download while Swift compiles (the build keeps every core busy; pip mostly waits
# on the network); a failure is shown and stops the setup once the build is done.
pip_pid=""
if [ "$want_test" = 1 ]; then
  venv="$root/.venv-test"
  if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
  pip_log=$(mktemp)
  echo "==> pip install (test tools) into .venv-test, beside the build"
  "$venv/bin/pip" install --quiet --disable-pip-version-check selenium schemathesis pytest openapi-spec-validator \
    'tritonclient[http,grpc]' scikit-learn pillow kubernetes-validate pyyaml >"$pip_log" 2>&1 &
  pip_pid=$!
fi

echo "==> swift build -c $config"
swift build -c "$config" --product resnet18 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x "$(swift build -c "$config" --show-bin-path)/resnet18"
echo "==> built $(swift build -c "$config" --show-bin-path)/resnet18"

if [ -n "$pip_pid" ]; then
  if ! wait "$pip_pid"; then
    cat "$pip_log" >&2
    echo "setup.sh: pip install of the test tools failed (above)" >&2
    exit 1
  fi
  cat "$pip_log"
  rm -f "$pip_log"
fi
