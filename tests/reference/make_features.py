#!/usr/bin/env python3
"""PyTorch's 512 pooled features (torchvision's `avgpool` output, flattened: the input of `fc`) of every fixture
photo under the seeded weights, the reference `resnet18 embed` and `POST /v1/embed` are tested against.

    python tests/reference/make_features.py ../shared/fixtures > tests/reference/features.json

Needs torch, torchvision and Pillow (the venv of ../shared/bench/peers.py). Preprocessing is torchvision's:
Resize(256), CenterCrop(224), ToTensor, Normalize, on Pillow's decoding, as ../shared/fixtures/reference.json was
made. The output is committed; run this again only if the fixtures change.
"""
import json
import pathlib
import sys

import PIL
import torch
import torchvision
from PIL import Image


def main() -> int:
    fixtures = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures")
    model = torchvision.models.resnet18(weights=None)
    model.load_state_dict(torch.load(fixtures / "resnet18-seeded.pth", map_location="cpu"))
    model.eval()
    pooled = {}
    model.avgpool.register_forward_hook(lambda _module, _inputs, output: pooled.__setitem__("features", output))
    transform = torchvision.transforms.Compose([
        torchvision.transforms.Resize(256), torchvision.transforms.CenterCrop(224), torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    images = sorted(p for p in (fixtures / "images").iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    references = []
    with torch.no_grad():
        for path in images:
            tensor = transform(Image.open(path).convert("RGB")).unsqueeze(0)
            model(tensor)
            features = torch.flatten(pooled["features"], 1)[0]
            references.append({"image": path.name, "features": [float(value) for value in features]})
    json.dump({"weights": "resnet18-seeded.pth", "layer": "avgpool (flattened), the input of fc",
               "made_with": f"torch {torch.__version__}, torchvision {torchvision.__version__}, Pillow {PIL.__version__}",
               "references": references}, sys.stdout, indent=None)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
