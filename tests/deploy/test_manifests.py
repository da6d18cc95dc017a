"""The Kubernetes and KServe manifests: valid against Kubernetes' own schemas (kubernetes-validate, strict), the
committed rendering current, and the Deployment as the docs describe it (probes, restricted security context,
resources, the database from a Secret). The pod itself runs under `podman kube play` in
deploy/kubernetes/test-kube-play.sh (it needs the image, built by deploy/build-image.sh).

Run: python -m pytest tests/deploy
"""
import pathlib
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy/kubernetes"
VERSION = "1.37.0"


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_rendering_is_current():
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the committed rendering is validated as it is")
    rendered = subprocess.run(["kubectl", "kustomize", str(BASE)], capture_output=True, text=True, check=True).stdout
    assert documents(BASE / "rendered.yaml") == [d for d in yaml.safe_load_all(rendered) if d], \
        "deploy/kubernetes/rendered.yaml is stale: run kubectl kustomize deploy/kubernetes again"


@pytest.mark.parametrize("path", ["rendered.yaml", "weights-job.yaml", "secret.example.yaml"])
def test_valid_against_kubernetes_schemas(path):
    for document in documents(BASE / path):
        kubernetes_validate.validate(document, VERSION, strict=True)


def test_deployment_is_hardened_and_probed():
    kinds = {d["kind"]: d for d in documents(BASE / "rendered.yaml")}
    assert set(kinds) == {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "PersistentVolumeClaim"}
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
    env = {e["name"]: e for e in container["env"]}
    assert env["RESNET18_DB"]["valueFrom"]["secretKeyRef"] == {"name": "resnet18", "key": "database-url"}
    assert env["RESNET18_ADMIN_PASSWORD_FILE"]["value"].startswith("/run/secrets/")
    assert "RESNET18_ADMIN_PASSWORD" not in env, "the password comes from a mounted secret file, not an environment variable"
    selector = kinds["Service"]["spec"]["selector"]
    assert selector and all(kinds["Deployment"]["spec"]["template"]["metadata"]["labels"][k] == v for k, v in selector.items())
    assert kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == kinds["Deployment"]["metadata"]["name"]
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == selector


def test_kserve_runtime_serves_the_v2_protocol():
    runtime, = documents(BASE / "kserve/servingruntime.yaml")
    service, = documents(BASE / "kserve/inferenceservice.yaml")
    assert runtime["apiVersion"] == "serving.kserve.io/v1alpha1" and runtime["kind"] == "ServingRuntime"
    assert service["apiVersion"] == "serving.kserve.io/v1beta1" and service["kind"] == "InferenceService"
    assert "v2" in runtime["spec"]["protocolVersions"]
    container, = runtime["spec"]["containers"]
    assert container["name"] == "kserve-container" and container["args"][0] == "serve"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    model = service["spec"]["predictor"]["model"]
    assert model["runtime"] == runtime["metadata"]["name"] and model["protocolVersion"] == "v2"
    assert model["modelFormat"]["name"] in {f["name"] for f in runtime["spec"]["supportedModelFormats"]}
    # The container's own fields are Kubernetes' Container: validated through a pod of it.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kserve-container"}, "spec": {"containers": [container]}}
    kubernetes_validate.validate(pod, VERSION, strict=True)
