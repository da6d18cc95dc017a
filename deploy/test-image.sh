#!/usr/bin/env bash
# Runs the image as an operator would and checks it: the server starts bound to 0.0.0.0 with login required (the
# first admin from a mounted secret file), answers its readiness probe, refuses the API without credentials, keeps
# its database in the volume; `classify` runs through the same entrypoint.
# Usage: deploy/test-image.sh [TAG]   (after deploy/build-image.sh; needs ../shared beside the checkout)
# podman here needs explicit --ulimit values (the machine's defaults are refused) and, with hybrid cgroups, runc.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-localhost/resnet18:latest}
shared=${RESNET18_SHARED:-$root/../shared}
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")
# On hosts with hybrid cgroups (v1 controllers and a v2 "unified" mount), crun refuses to start containers; runc runs.
if [ -d /sys/fs/cgroup/unified ]; then
  command -v runc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc >/dev/null; }
  limits+=(--runtime runc)
fi
work=$(mktemp -d)
name=resnet18-image-test-$$
volume=resnet18-image-test-$$
cleanup() { podman rm -f "$name" >/dev/null 2>&1 || true; podman volume rm -f "$volume" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
printf 'image test password 1\n' > "$work/admin-password"
chmod 0644 "$work/admin-password"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

podman volume create "$volume" >/dev/null
podman run -d --name "$name" "${limits[@]}" -p "127.0.0.1:$port:8080" \
  -v "$volume:/var/lib/resnet18" -v "$shared/fixtures:/fixtures:ro" -v "$work/admin-password:/run/secrets/admin-password:ro" \
  -e RESNET18_WEIGHTS=/fixtures/resnet18-seeded.pth -e RESNET18_ADMIN_USER=ada -e RESNET18_ADMIN_PASSWORD_FILE=/run/secrets/admin-password \
  "$tag" >/dev/null
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/v2/health/ready" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/v2/health/ready" >/dev/null || { podman logs "$name"; echo "FAIL: not ready"; exit 1; }
logs=$(podman logs "$name" 2>&1)
grep -q "added admin ada from RESNET18_ADMIN_USER" <<<"$logs" || { echo "$logs"; echo "FAIL: no first admin"; exit 1; }
grep -q "listening on http://0.0.0.0:8080/" <<<"$logs" || { echo "$logs"; echo "FAIL: not on 0.0.0.0"; exit 1; }
if grep -q "image test password" <<<"$logs"; then echo "FAIL: the password is in the log"; exit 1; fi
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: image/jpeg' --data-binary "@$shared/fixtures/images/rocket.jpg" \
  "http://127.0.0.1:$port/v1/classify")
[ "$status" = 401 ] || { echo "FAIL: /v1/classify without credentials answered $status, not 401"; exit 1; }
podman exec "$name" resnet18 user list --json | grep -q '"ada"' || { echo "FAIL: ada not in the volume's database"; exit 1; }
podman exec "$name" id -u | grep -qx 10001 || { echo "FAIL: not running as uid 10001"; exit 1; }
out=$(podman run --rm "${limits[@]}" -v "$shared/fixtures:/fixtures:ro" "$tag" classify /fixtures/images/rocket.jpg --json \
  --weights /fixtures/resnet18-seeded.pth 2>/dev/null)
grep -q '"weights":"resnet18-seeded.pth sha256:b0924803"' <<<"$out" || { echo "$out"; echo "FAIL: classify"; exit 1; }
echo "image $tag: ready on 0.0.0.0 with login required, first admin from a secret file, database in the volume, classify runs: OK"
