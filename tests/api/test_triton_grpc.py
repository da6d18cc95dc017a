"""The KServe v2 gRPC service (inference.GRPCInferenceService) through the real Triton gRPC client
(`tritonclient[grpc]` from PyPI), beside the same server's HTTP routes.

tritonclient.grpc sends inputs as raw_input_contents and reads outputs from raw_output_contents.

Run: RESNET18_BIN=.build/debug/resnet18 python -m pytest tests/api/test_triton_grpc.py
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_process import FIXTURES, IMAGES, SEEDED_WEIGHTS, Server  # noqa: E402

MODEL = "resnet18"


@pytest.fixture(scope="module")
def server():
    with Server("--weights", str(SEEDED_WEIGHTS), "--db", "none") as running:
        yield running


@pytest.fixture(scope="module")
def grpc(server):
    client = grpcclient.InferenceServerClient(url=server.grpc_address)
    yield client
    client.close()


@pytest.fixture(scope="module")
def http(server):
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://").rstrip("/"), network_timeout=300.0)
    yield client
    client.close()


def tensors(names: list[str]) -> np.ndarray:
    """torchvision's Nx3x224x224 float32 tensors of the fixture photos."""
    return np.stack([np.fromfile(IMAGES / f"{name}.input.f32", dtype="<f4").reshape(3, 224, 224) for name in names])


def reference_logits(image: str) -> np.ndarray:
    references = json.loads((FIXTURES / "reference.json").read_text())["references"]
    return np.array(next(entry["logits"] for entry in references if entry["image"] == image), dtype=np.float64)


def test_health_and_metadata(grpc):
    assert grpc.is_server_live()
    assert grpc.is_server_ready()
    assert grpc.is_model_ready(MODEL)
    assert not grpc.is_model_ready("resnet50")
    assert grpc.get_server_metadata().name == MODEL
    metadata = grpc.get_model_metadata(MODEL)
    assert metadata.name == MODEL and list(metadata.versions) == ["1"]
    assert [(i.name, i.datatype, list(i.shape)) for i in metadata.inputs] == [
        ("input", "FP32", [-1, 3, 224, 224]), ("image", "BYTES", [-1])]
    assert [(o.name, list(o.shape)) for o in metadata.outputs] == [("logits", [-1, 1000]), ("features", [-1, 512])]
    with pytest.raises(InferenceServerException) as unknown:
        grpc.get_model_metadata("resnet50")
    assert "NOT_FOUND" in str(unknown.value) and "resnet50" in str(unknown.value)


def test_fp32_batch_matches_http_and_pytorch(grpc, http):
    names = ["chelsea", "rocket", "coffee"]
    batch = tensors(names)
    given = grpcclient.InferInput("input", list(batch.shape), "FP32")
    given.set_data_from_numpy(batch)
    logits = grpc.infer(MODEL, [given]).as_numpy("logits")
    assert logits.shape == (3, 1000) and logits.dtype == np.float32

    over_http = httpclient.InferInput("input", list(batch.shape), "FP32")
    over_http.set_data_from_numpy(batch, binary_data=True)
    same = http.infer(MODEL, [over_http]).as_numpy("logits")
    assert np.abs(logits.astype(np.float64) - same.astype(np.float64)).max() <= 1e-5
    for row, name in enumerate(names):
        photo = f"{name}.jpg" if name == "rocket" else f"{name}.png"
        assert np.abs(logits[row].astype(np.float64) - reference_logits(photo)).max() < 1e-3


def test_bytes_images_classification_and_features(grpc, http):
    photos = [(IMAGES / "chelsea.png").read_bytes(), (IMAGES / "rocket.jpg").read_bytes()]
    image = grpcclient.InferInput("image", [2], "BYTES")
    image.set_data_from_numpy(np.array(photos, dtype=np.object_))
    result = grpc.infer(MODEL, [image], outputs=[grpcclient.InferRequestedOutput("logits"),
                                                  grpcclient.InferRequestedOutput("features")])
    logits = result.as_numpy("logits")
    assert logits.shape == (2, 1000) and result.as_numpy("features").shape == (2, 512)

    over_http = httpclient.InferInput("image", [2], "BYTES")
    over_http.set_data_from_numpy(np.array(photos, dtype=np.object_), binary_data=True)
    same = http.infer(MODEL, [over_http]).as_numpy("logits")
    assert np.abs(logits.astype(np.float64) - same.astype(np.float64)).max() <= 1e-5

    top = grpc.infer(MODEL, [image], outputs=[grpcclient.InferRequestedOutput("logits", class_count=3)]).as_numpy("logits")
    assert top.shape == (2, 3)
    best = int(np.argmax(logits[0]))
    assert top[0][0].decode().split(":", 2)[1] == str(best)


def test_refusals_name_the_problem_and_the_server_keeps_serving(grpc):
    wrong_shape = grpcclient.InferInput("input", [1, 3, 100, 100], "FP32")
    wrong_shape.set_data_from_numpy(np.zeros((1, 3, 100, 100), dtype=np.float32))
    with pytest.raises(InferenceServerException) as refused:
        grpc.infer(MODEL, [wrong_shape])
    assert "INVALID_ARGUMENT" in str(refused.value) and "224" in str(refused.value)
    not_an_image = grpcclient.InferInput("image", [1], "BYTES")
    not_an_image.set_data_from_numpy(np.array([b"GIF89a" + bytes(20)], dtype=np.object_))
    with pytest.raises(InferenceServerException) as refused:
        grpc.infer(MODEL, [not_an_image])
    assert "INVALID_ARGUMENT" in str(refused.value)
    with pytest.raises(InferenceServerException) as unknown:
        grpc.infer("resnet50", [not_an_image])
    assert "NOT_FOUND" in str(unknown.value)
    assert grpc.is_server_live()


def make_token(server: Server, name: str, password: str) -> str:
    """Signs in on the login page and makes a viewer token at POST /v1/tokens, as an admin does on /admin."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(server.url + "login", timeout=30).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": csrf, "next": "/", "username": name, "password": password}).encode()
    opener.open(urllib.request.Request(server.url + "login", data=form, method="POST"), timeout=30).read()
    session = json.load(opener.open(server.url + "v1/session", timeout=30))
    request = urllib.request.Request(server.url + "v1/tokens", data=json.dumps({"name": "grpc", "role": "viewer"}).encode(),
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "X-CSRF-Token": session["csrf_token"]})
    return json.load(opener.open(request, timeout=30))["token"]


def test_login_enforced_needs_a_bearer_token_in_the_metadata(tmp_path):
    import subprocess
    from server_process import binary
    database = tmp_path / "users.sqlite"
    subprocess.run([binary(), "user", "add", "admin", "--role", "admin", "--password-stdin", "--bcrypt-cost", "4",
                    "--db", str(database)], input="correct horse battery\n", text=True, check=True, capture_output=True)
    with Server("--weights", str(SEEDED_WEIGHTS), "--db", str(database)) as running:
        token = make_token(running, "admin", "correct horse battery")
        client = grpcclient.InferenceServerClient(url=running.grpc_address)
        # Probes stay open, as /v2/health/* do.
        assert client.is_server_live() and client.is_server_ready()
        photo = grpcclient.InferInput("image", [1], "BYTES")
        photo.set_data_from_numpy(np.array([(IMAGES / "chelsea.png").read_bytes()], dtype=np.object_))
        with pytest.raises(InferenceServerException) as refused:
            client.infer(MODEL, [photo])
        assert "UNAUTHENTICATED" in str(refused.value) and "Bearer" in str(refused.value)
        with pytest.raises(InferenceServerException) as wrong:
            client.infer(MODEL, [photo], headers={"authorization": "Bearer not-a-token"})
        assert "UNAUTHENTICATED" in str(wrong.value)
        logits = client.infer(MODEL, [photo], headers={"authorization": f"Bearer {token}"}).as_numpy("logits")
        assert logits.shape == (1, 1000)
        assert client.is_model_ready(MODEL, headers={"authorization": f"Bearer {token}"})
        client.close()
        assert token not in "\n".join(running.output)


def test_raw_contents_that_disagree_with_the_shape_are_refused(server, grpc):
    """A tensor whose declared shape does not match its bytes, and BYTES whose element lengths lie: INVALID_ARGUMENT
    naming the problem, and the server keeps serving."""
    import grpc as grpcio
    import tritonclient.grpc.service_pb2 as pb
    channel = grpcio.insecure_channel(server.grpc_address)
    infer = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                                request_serializer=pb.ModelInferRequest.SerializeToString,
                                response_deserializer=pb.ModelInferResponse.FromString)
    short = pb.ModelInferRequest(model_name=MODEL)
    short.inputs.add(name="input", datatype="FP32", shape=[2, 3, 224, 224])
    short.raw_input_contents.append(np.zeros((1, 3, 224, 224), dtype="<f4").tobytes())  # one image's bytes for two
    with pytest.raises(grpcio.RpcError) as refused:
        infer(short, timeout=30)
    assert refused.value.code() == grpcio.StatusCode.INVALID_ARGUMENT
    assert "bytes" in refused.value.details(), refused.value.details()

    lying = pb.ModelInferRequest(model_name=MODEL)
    lying.inputs.add(name="image", datatype="BYTES", shape=[1])
    lying.raw_input_contents.append((10_000_000).to_bytes(4, "little") + b"\xff\xd8\xff")  # says 10 MB, brings 3 bytes
    with pytest.raises(grpcio.RpcError) as refused:
        infer(lying, timeout=30)
    assert refused.value.code() == grpcio.StatusCode.INVALID_ARGUMENT

    huge = pb.ModelInferRequest(model_name=MODEL)
    huge.inputs.add(name="input", datatype="FP32", shape=[2**40, 3, 224, 224])
    huge.raw_input_contents.append(b"\x00" * 16)
    with pytest.raises(grpcio.RpcError) as refused:
        infer(huge, timeout=30)
    assert refused.value.code() == grpcio.StatusCode.INVALID_ARGUMENT
    channel.close()
    assert grpc.is_server_live()


def test_model_infer_trailers_carry_the_server_timing(server):
    """ModelInfer's trailing metadata says how long the server held the request and how long the engine took
    (W3C Server-Timing, milliseconds), so a client can tell the server's overhead from the network's."""
    import grpc as grpcio
    import tritonclient.grpc.service_pb2 as pb
    channel = grpcio.insecure_channel(server.grpc_address, options=[("grpc.max_receive_message_length", 64 << 20)])
    infer = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                                request_serializer=pb.ModelInferRequest.SerializeToString,
                                response_deserializer=pb.ModelInferResponse.FromString)
    request = pb.ModelInferRequest(model_name=MODEL)
    request.inputs.add(name="input", datatype="FP32", shape=[1, 3, 224, 224])
    request.raw_input_contents.append(tensors(["chelsea"]).astype("<f4").tobytes())
    response, call = infer.with_call(request, timeout=120)
    assert len(response.raw_output_contents[0]) == 4000
    value = dict(call.trailing_metadata())["server-timing"]
    metrics = {name.strip(): float(duration) for name, duration in (part.split(";dur=") for part in value.split(","))}
    assert set(metrics) == {"receive", "batcher", "engine", "total"}, value
    assert 0 < metrics["engine"] <= metrics["batcher"] <= metrics["total"], value
    assert metrics["receive"] + metrics["batcher"] <= metrics["total"], value

    listed = pb.ServerLiveRequest()
    _, call = channel.unary_unary("/inference.GRPCInferenceService/ServerLive",
                                  request_serializer=pb.ServerLiveRequest.SerializeToString,
                                  response_deserializer=pb.ServerLiveResponse.FromString).with_call(listed, timeout=30)
    assert "server-timing" not in dict(call.trailing_metadata())  # only inference is timed
    channel.close()
