"""The KServe v2 routes through the real Triton HTTP client (`tritonclient[http]` from PyPI), as a deployment uses it.

tritonclient sends tensors as binary data by default (the `binary_tensor_data` extension: a JSON header, the raw
bytes after it, `Inference-Header-Content-Length`), and asks for outputs the same way.

Run: RESNET18_BIN=.build/debug/resnet18 python -m pytest tests/api/test_tritonclient.py
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_process import FIXTURES, IMAGES, SEEDED_WEIGHTS, Server  # noqa: E402

MODEL = "resnet18"


@pytest.fixture(scope="module")
def client():
    """One server for the module, history off (nothing here is about it)."""
    with Server("--weights", str(SEEDED_WEIGHTS), "--db", "none") as running:
        host = running.url.removeprefix("http://").rstrip("/")
        triton = httpclient.InferenceServerClient(url=host, network_timeout=300.0, connection_timeout=60.0)
        yield triton
        triton.close()


def chelsea_tensor() -> np.ndarray:
    """torchvision's 1x3x224x224 float32 tensor of chelsea.png."""
    return np.fromfile(IMAGES / "chelsea.input.f32", dtype="<f4").reshape(1, 3, 224, 224)


def reference_logits(image: str) -> np.ndarray:
    references = json.loads((FIXTURES / "reference.json").read_text())["references"]
    return np.array(next(entry["logits"] for entry in references if entry["image"] == image), dtype=np.float64)


def fp32_input(tensor: np.ndarray, binary: bool) -> httpclient.InferInput:
    given = httpclient.InferInput("input", list(tensor.shape), "FP32")
    given.set_data_from_numpy(tensor, binary_data=binary)
    return given


def test_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready(MODEL)
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    metadata = client.get_model_metadata(MODEL)
    assert metadata["name"] == MODEL
    assert [(i["name"], i["datatype"], i["shape"]) for i in metadata["inputs"]] == [
        ("input", "FP32", [-1, 3, 224, 224]), ("image", "BYTES", [-1])]
    assert [(o["name"], o["shape"]) for o in metadata["outputs"]] == [("logits", [-1, 1000]), ("features", [-1, 512])]


def test_binary_fp32_matches_json_and_pytorch(client):
    tensor = chelsea_tensor()
    # The client's defaults: binary input, and binary_data_output for the unnamed outputs.
    binary = client.infer(MODEL, [fp32_input(tensor, binary=True)])
    assert binary.get_response()["outputs"][0]["parameters"]["binary_data_size"] == 4000
    logits = binary.as_numpy("logits")
    assert logits.shape == (1, 1000) and logits.dtype == np.float32

    as_json = client.infer(MODEL, [fp32_input(tensor, binary=False)],
                           outputs=[httpclient.InferRequestedOutput("logits", binary_data=False)])
    assert "data" in as_json.get_response()["outputs"][0]
    assert np.abs(logits.astype(np.float64) - as_json.as_numpy("logits").astype(np.float64)).max() <= 1e-5
    assert np.abs(logits[0].astype(np.float64) - reference_logits("chelsea.png")).max() < 1e-3


def test_binary_bytes_image_and_classification(client):
    photo = (IMAGES / "chelsea.png").read_bytes()
    image = httpclient.InferInput("image", [1], "BYTES")
    image.set_data_from_numpy(np.array([photo], dtype=np.object_))
    result = client.infer(MODEL, [image], outputs=[httpclient.InferRequestedOutput("logits", class_count=3)])
    top = [entry.decode().split(":", 2) for entry in result.as_numpy("logits").reshape(-1)]
    assert len(top) == 3
    best = int(np.argmax(reference_logits("chelsea.png")))
    assert int(top[0][1]) == best

    logits = client.infer(MODEL, [image]).as_numpy("logits")
    assert int(np.argmax(logits[0])) == best
    assert abs(float(top[0][0]) - float(logits[0][best])) < 1e-3


def reference_features(image: str) -> np.ndarray:
    references = json.loads((Path(__file__).resolve().parents[1] / "reference" / "features.json").read_text())["references"]
    return np.array(next(entry["features"] for entry in references if entry["image"] == image), dtype=np.float64)


def test_features_output_beside_the_logits(client):
    tensor = chelsea_tensor()
    # Both outputs in binary after the JSON header, in the order asked for.
    both = client.infer(MODEL, [fp32_input(tensor, binary=True)],
                        outputs=[httpclient.InferRequestedOutput("features", binary_data=True),
                                 httpclient.InferRequestedOutput("logits", binary_data=True)])
    assert [output["name"] for output in both.get_response()["outputs"]] == ["features", "logits"]
    features = both.as_numpy("features")
    assert features.shape == (1, 512) and features.dtype == np.float32
    assert np.abs(features[0].astype(np.float64) - reference_features("chelsea.png")).max() <= 1e-4
    assert np.abs(both.as_numpy("logits")[0].astype(np.float64) - reference_logits("chelsea.png")).max() < 1e-3

    # An encoded image, features as JSON: the same numbers the photo's tensor gives.
    photo = (IMAGES / "chelsea.png").read_bytes()
    image = httpclient.InferInput("image", [1], "BYTES")
    image.set_data_from_numpy(np.array([photo], dtype=np.object_))
    as_json = client.infer(MODEL, [image], outputs=[httpclient.InferRequestedOutput("features", binary_data=False)])
    assert [output["name"] for output in as_json.get_response()["outputs"]] == ["features"]
    assert np.abs(as_json.as_numpy("features")[0].astype(np.float64) - reference_features("chelsea.png")).max() <= 1e-4


def test_refusal_reaches_the_client(client):
    not_an_image = httpclient.InferInput("image", [1], "BYTES")
    not_an_image.set_data_from_numpy(np.array([b"GIF89a" + bytes(20)], dtype=np.object_))
    with pytest.raises(InferenceServerException) as refused:
        client.infer(MODEL, [not_an_image])
    assert "GIF" in str(refused.value) or "format" in str(refused.value)
    assert client.is_server_live()
