#!/usr/bin/env bash
# Runs the kustomize base's Deployment for real with `podman kube play` (no cluster here) until its pod answers the
# readiness probe the Deployment declares, then checks login is required and tears it down. Needs the image
# (deploy/build-image.sh) and ../shared (the seeded weights, mounted in place of the weights volume's file).
# Usage: deploy/kubernetes/test-kube-play.sh [TAG]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tag=${1:-localhost/resnet18:latest}
shared=${RESNET18_SHARED:-$root/../shared}
work=$(mktemp -d)
global=()
command -v catatonit >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends catatonit >/dev/null; }  # the pod's pause process
# Hybrid cgroups (v1 controllers beside a v2 "unified" mount): crun refuses, runc runs.
[ -d /sys/fs/cgroup/unified ] && global+=(--runtime runc)
# kube play takes no --ulimit: podman here refuses its default limits, so they come from a containers.conf.
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\n' "$(ulimit -Hn)" "$(ulimit -Hn)" > "$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  podman "${global[@]}" kube down "$work/pod.yaml" >/dev/null 2>&1 || true
  podman secret rm resnet18 >/dev/null 2>&1 || true
  podman volume rm -f resnet18-weights >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The base as rendered, with a Secret for this run (SQLite in the pod's /tmp instead of PostgreSQL), the image
# tag, one replica, the probe's port published on loopback, and the seeded weights mounted read-only.
kubectl kustomize "$root/deploy/kubernetes" > "$work/rendered.yaml"
python3 - "$work/rendered.yaml" "$work/pod.yaml" "$tag" "$port" "$shared/fixtures" <<'PY'
import sys, yaml
rendered, out, tag, port, fixtures = sys.argv[1:]
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
deployment = next(d for d in docs if d["kind"] == "Deployment")
deployment["spec"]["replicas"] = 1
pod = deployment["spec"]["template"]["spec"]
container = pod["containers"][0]
container["image"] = tag
container["ports"][0]["hostPort"] = int(port)
container["ports"][0]["hostIP"] = "127.0.0.1"
container["env"].append({"name": "RESNET18_WEIGHTS", "value": "/fixtures/resnet18-seeded.pth"})
container["volumeMounts"].append({"name": "fixtures", "mountPath": "/fixtures", "readOnly": True})
pod["volumes"].append({"name": "fixtures", "hostPath": {"path": fixtures, "type": "Directory"}})
secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "resnet18"}, "type": "Opaque",
          "stringData": {"database-url": "/tmp/history.sqlite", "admin-user": "ada", "admin-password": "kube play password 1"}}
claim = next(d for d in docs if d["kind"] == "PersistentVolumeClaim")
# podman keeps a Secret as a podman secret when it is played on its own, before the pods that read it.
yaml.safe_dump(secret, open(out.replace("pod.yaml", "secret.yaml"), "w"))
yaml.safe_dump_all([claim, deployment], open(out, "w"))
PY
podman secret rm resnet18 >/dev/null 2>&1 || true
# podman 4.3 reads a secretKeyRef from a podman secret holding a JSON object of the keys.
python3 -c 'import base64, json, sys, yaml; print(json.dumps({k: base64.b64encode(v.encode()).decode() for k, v in yaml.safe_load(open(sys.argv[1]))["stringData"].items()}))' "$work/secret.yaml" \
  | podman secret create resnet18 - >/dev/null
podman "${global[@]}" kube play "$work/pod.yaml" >/dev/null
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/v2/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/v2/health/ready" >/dev/null || { podman pod logs "$(podman pod ps -q | head -1)" || true; echo "FAIL: the pod never answered its readiness probe"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/model")
[ "$status" = 401 ] || { echo "FAIL: /v1/model without credentials answered $status, not 401"; exit 1; }
echo "podman kube play: the Deployment's pod (uid 10001, read-only root) answered /v2/health/ready on its probe port; the API wants login: OK"
