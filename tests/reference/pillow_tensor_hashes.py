"""The FNV-1a 64 hashes TorchvisionTensorTests' synthetic cases expect: torchvision's ImageNet transform (Pillow's
bilinear Resize(256), CenterCrop(224), ToTensor, Normalize) of the test's xorshift pattern, as float32 bytes.

Usage (a Python with torch, torchvision and Pillow 13, e.g. the peers' environment from bench/setup-peers.sh):
  python tests/reference/pillow_tensor_hashes.py 1920x1080 500x2400
"""
import sys

from PIL import Image
from torchvision import transforms


def pattern(width: int, height: int) -> bytes:
    """TorchvisionTensorTests.pattern: xorshift32 noise seeded by the size."""
    state = (0x9E3779B9 ^ (width * 65536 + height)) & 0xFFFFFFFF
    out = bytearray(width * height * 3)
    for i in range(len(out)):
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        out[i] = state & 0xFF
    return bytes(out)


def fnv1a(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


transform = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                                transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
for size in sys.argv[1:]:
    width, height = map(int, size.split("x"))
    tensor = transform(Image.frombytes("RGB", (width, height), pattern(width, height)))
    print(f"{size}: 0x{fnv1a(tensor.numpy().astype('<f4').tobytes()):016x}")
