"""Writes the committed seed corpus of the fuzz targets: fixture photos cut down to a few dozen pixels in every
variant the decoders handle, small hand-made weight files of every container, and request bodies (KServe v2 JSON,
multipart forms). Run once; the output is in git. The `found-SHA1` files beside
them are what libFuzzer's own runs added, minimised with `-merge=1` (see bench/results/fuzz.md).

Usage: /usr/bin/python3 fuzz/make_seeds.py ../shared [imaging|checkpoint|requests...]
       (imaging needs Pillow: Debian's python3-pil; requests reads the imaging seeds)
"""
import base64
import collections
import io
import json
import pickle
import shutil
import struct
import sys
import types
import zipfile
from pathlib import Path

shared = Path(sys.argv[1])
here = Path(__file__).resolve().parent
images = here / "corpus" / "imaging"
weights = here / "corpus" / "checkpoint"
requests = here / "corpus" / "requests"


def exif(orientation):
    from PIL import Image
    data = Image.Exif()
    data[0x0112] = orientation
    return data.tobytes()


def write_images():
    from PIL import Image
    photo = Image.open(shared / "fixtures" / "images" / "chelsea.png").convert("RGB")
    small = photo.resize((40, 27))
    tall = Image.open(shared / "fixtures" / "images" / "astronaut.png").convert("RGB").resize((19, 33))

    def save(name, image, fmt, **options):
        image.save(images / name, fmt, **options)

    save("baseline-q90.jpg", small, "JPEG", quality=90)
    save("progressive.jpg", small, "JPEG", quality=75, progressive=True)
    save("444.jpg", tall, "JPEG", quality=95, subsampling=0)
    save("422.jpg", small, "JPEG", quality=80, subsampling=1)
    save("gray.jpg", small.convert("L"), "JPEG")
    save("cmyk.jpg", small.convert("CMYK"), "JPEG")
    for orientation in (3, 6, 8):
        save(f"exif-{orientation}.jpg", tall, "JPEG", exif=exif(orientation))
    save("rgb.png", small, "PNG")
    save("rgba.png", small.convert("RGBA"), "PNG")
    save("palette.png", small.convert("P"), "PNG")
    save("gray.png", small.convert("L"), "PNG")
    save("gray-alpha.png", small.convert("LA"), "PNG")
    save("gray16.png", small.convert("I").point(lambda v: v * 257).convert("I;16"), "PNG")
    save("bilevel.png", small.convert("1"), "PNG")
    save("exif-6.png", tall, "PNG", exif=exif(6))
    save("lossy.webp", small, "WEBP", quality=80)
    save("lossless.webp", tall, "WEBP", lossless=True)
    save("alpha.webp", small.convert("RGBA"), "WEBP", quality=70)
    save("exif-8.webp", tall, "WEBP", exif=exif(8))
    for name in ("cmyk.jpg", "gray.jpg", "two-frames.webp"):
        shutil.copy(here.parent / "Tests" / "ImagingTests" / "Resources" / name, images / f"resource-{name}")


class Storage:
    """Stands for a torch storage class in the pickle (module torch, name e.g. FloatStorage)."""


def fake_torch():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    for name in ("FloatStorage", "HalfStorage", "LongStorage", "BFloat16Storage", "DoubleStorage", "ByteStorage"):
        cls = type(name, (Storage,), {"__module__": "torch"})
        setattr(torch, name, cls)

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch, utils


class TensorRef:
    """Pickles as torch does: _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        return (sys.modules["torch._utils"]._rebuild_tensor_v2,
                (self.storage, self.offset, tuple(self.size), tuple(self.stride), False, collections.OrderedDict()))


class StorageRef:
    def __init__(self, cls, key, count):
        self.cls, self.key, self.count = cls, key, count


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", obj.cls, obj.key, "cpu", obj.count)
        return None


def torch_zip(path, tensors):
    """tensors: name -> (storage class, element format, values, size)."""
    torch, _ = fake_torch()
    state = collections.OrderedDict()
    storages = {}
    for index, (name, (cls_name, fmt, values, size)) in enumerate(tensors.items()):
        key = str(index)
        stride = [1] * len(size)
        for i in range(len(size) - 2, -1, -1):
            stride[i] = stride[i + 1] * size[i + 1]
        state[name] = TensorRef(StorageRef(getattr(torch, cls_name), key, len(values)), 0, size, stride)
        storages[key] = struct.pack("<" + fmt * len(values), *values)
    buffer = io.BytesIO()
    TorchPickler(buffer, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        archive.writestr("archive/byteorder", "little")
        for key, data in storages.items():
            archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", "3\n")


def safetensors(path, tensors):
    """tensors: name -> (dtype, element format, values, shape)."""
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, (dtype, fmt, values, shape) in tensors.items():
        raw = struct.pack("<" + fmt * len(values), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def write_weights():
    shutil.copy(shared / "fixtures" / "resnet18-stem-legacy.pth", weights / "stem-legacy.pth")
    conv = [0.5 * i for i in range(2 * 3 * 3 * 3)]
    torch_zip(weights / "small.pth", {
        "conv1.weight": ("FloatStorage", "f", conv, [2, 3, 3, 3]),
        "bn1.running_mean": ("FloatStorage", "f", [0.1, -0.2], [2]),
        "bn1.num_batches_tracked": ("LongStorage", "q", [7], []),
        "fc.bias": ("HalfStorage", "e", [1.0, -2.5, 0.25], [3]),
        "fc.weight": ("DoubleStorage", "d", [1.5] * 6, [3, 2]),
    })
    safetensors(weights / "small.safetensors", {
        "conv1.weight": ("F32", "f", conv, [2, 3, 3, 3]),
        "bn1.num_batches_tracked": ("I64", "q", [7], []),
        "fc.bias": ("F16", "e", [1.0, -2.5, 0.25], [3]),
        "fc.weight": ("BF16", "H", [0x3f80] * 6, [3, 2]),
        "mask": ("U8", "B", [0, 1, 255], [3]),
    })


def write_requests():
    """FuzzRequests reads a first byte that picks the parser (even: KServe JSON; odd: multipart), then the body."""
    requests.mkdir(exist_ok=True)
    png = (images / "bilevel.png").read_bytes()
    jpeg = (images / "resource-gray.jpg").read_bytes()
    b64 = base64.b64encode(png).decode()

    def kserve(name, body):
        text = body if isinstance(body, str) else json.dumps(body)
        (requests / name).write_bytes(b"\x00" + text.encode())

    def fp32(shape, data, **extra):
        return {"inputs": [{"name": "input", "shape": shape, "datatype": "FP32", "data": data}], **extra}

    kserve("kserve-fp32-flat.json", fp32([1, 3, 2, 2], [0.5 * i - 2 for i in range(12)]))
    kserve("kserve-fp32-nested.json", fp32([1, 3, 2, 2], [[[[0.25, -1.5], [2.0, 0]], [[1, 2], [3, 4]], [[-0.0, 1e-7], [3.4e38, -3.4e38]]]]))
    kserve("kserve-fp32-shape-overflow.json", fp32([100000000000000, 3, 224, 224], [0]))
    kserve("kserve-fp32-negative-shape.json", fp32([-1, 3, 224, 224], []))
    kserve("kserve-fp32-1e40.json", '{"inputs":[{"name":"input","shape":[1e40,3],"datatype":"FP32","data":[1e40,2]}]}')
    kserve("kserve-bytes-b64.json", {"id": "seed-1", "inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": [b64]}]})
    kserve("kserve-bytes-b64-objects.json", {"inputs": [{"name": "image", "shape": [2, 1], "datatype": "BYTES",
                                                          "data": [[{"b64": b64}], [{"b64": base64.b64encode(jpeg).decode()}]]}]})
    kserve("kserve-classification.json", {
        "id": "seed-2",
        "inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": [b64]}],
        "outputs": [{"name": "logits", "parameters": {"classification": 5}}]})
    # 500 lists deep: under JSONDecoder's own limit (512), over the tensor data's (8).
    kserve("kserve-deep-nesting.json", json.dumps(fp32([1], "@")).replace('"@"', "[" * 500 + "1" + "]" * 500))
    kserve("kserve-b64-object-without-b64.json", {"inputs": [{"name": "image", "shape": [2], "datatype": "BYTES",
                                                               "data": [{"base64": b64}, b64]}]})

    def kserve_binary(name, header, tail):
        """The binary tensor data extension: the Inference-Header-Content-Length value, NUL, the JSON header, its tail."""
        text = json.dumps(header).encode()
        (requests / name).write_bytes(b"\x00" + str(len(text)).encode() + b"\x00" + text + tail)

    floats = struct.pack("<12f", *[0.5 * i - 2 for i in range(12)])
    kserve_binary("kserve-binary-fp32", {"inputs": [{"name": "input", "shape": [1, 3, 2, 2], "datatype": "FP32",
                                                     "parameters": {"binary_data_size": len(floats)}}],
                                         "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}, floats)
    elements = b"".join(struct.pack("<I", len(data)) + data for data in (png, jpeg))
    kserve_binary("kserve-binary-bytes", {"inputs": [{"name": "image", "shape": [2], "datatype": "BYTES",
                                                      "parameters": {"binary_data_size": len(elements)}}],
                                          "parameters": {"binary_data_output": True}}, elements)
    kserve_binary("kserve-binary-sizes-short", {"inputs": [{"name": "a", "shape": [1], "datatype": "FP32",
                                                            "parameters": {"binary_data_size": 4}},
                                                           {"name": "b", "shape": [1], "datatype": "BYTES", "data": ["AAAA"]},
                                                           {"name": "c", "shape": [1], "datatype": "BYTES",
                                                            "parameters": {"binary_data_size": 9223372036854775807}}]},
                  b"\x00\x00\x80\x3f\x05\x00\x00\x00abc")

    def multipart(name, content_type, parts, preamble=b"", boundary=None):
        boundary = boundary or content_type.split("boundary=")[1].strip('"')
        body = preamble
        for headers, data in parts:
            body += b"--" + boundary.encode() + b"\r\n" + headers.encode() + b"\r\n\r\n" + data + b"\r\n"
        body += b"--" + boundary.encode() + b"--\r\n"
        (requests / name).write_bytes(b"\x01" + content_type.encode() + b"\n" + body)

    multipart("multipart-one-file", "multipart/form-data; boundary=XyZ",
              [('Content-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png', png)])
    multipart("multipart-two-files", 'multipart/form-data; charset=utf-8; boundary="----b0und4ry; x"',
              [('Content-Disposition: form-data; name="files"; filename="a.png"', png),
               ('content-disposition: form-data; name="note"', b"not a file"),
               ('Content-Disposition: form-data; name="image"; filename="b \\"q\\".jpg"\r\nContent-Type: image/jpeg', jpeg)],
              preamble=b"a preamble\r\n")
    multipart("multipart-odd-boundary", "multipart/form-data; boundary=abc", [("", b"x" * 33)])


targets = sys.argv[2:] or ["imaging", "checkpoint", "requests"]
if "imaging" in targets:
    write_images()
if "checkpoint" in targets:
    write_weights()
if "requests" in targets:
    write_requests()
total = sum(p.stat().st_size for p in (here / "corpus").rglob("*") if p.is_file())
print(f"{sum(1 for _ in (here / 'corpus').rglob('*.*'))} seeds, {total} bytes")
