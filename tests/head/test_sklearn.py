"""`resnet18 train` against scikit-learn: the same multinomial L2 logistic regression on the same features.

Run: RESNET18_BIN=.build/debug/resnet18 RESNET18_SHARED=../shared python -m pytest tests/head

The training folder is made here from the fixture photos (random crops and brightness, three visually distinct
categories): the fixture weights are not trained on ImageNet, so only visually distinct categories can be learnt.
"""
import json
import os
import pathlib
import random
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageEnhance
from sklearn.linear_model import LogisticRegression

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("RESNET18_SHARED", ROOT.parent / "shared"))
BIN = os.environ.get("RESNET18_BIN", str(ROOT / ".build/debug/resnet18"))
WEIGHTS = str(SHARED / "fixtures/resnet18-seeded.pth")
SOURCES = {"cat": "chelsea.png", "coffee": "coffee.png", "rocket": "rocket.jpg"}


def make_folder(folder: pathlib.Path, per_category: int) -> None:
    rng = random.Random(20261205)
    for category, photo in SOURCES.items():
        (folder / category).mkdir(parents=True)
        image = Image.open(SHARED / "fixtures/images" / photo).convert("RGB")
        for index in range(per_category):
            width, height = image.size
            scale = rng.uniform(0.55, 0.95)
            w, h = int(width * scale), int(height * scale)
            x, y = rng.randint(0, width - w), rng.randint(0, height - h)
            variant = ImageEnhance.Brightness(image.crop((x, y, x + w, y + h))).enhance(rng.uniform(0.6, 1.4))
            variant.save(folder / category / f"{index:02d}.jpg", quality=88)


def train(folder, output, *arguments):
    completed = subprocess.run([BIN, "train", str(folder), "--output", str(output), "--weights", WEIGHTS, "--json", *arguments],
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def head_probabilities(head, features):
    weights, bias = np.array(head["weights"]), np.array(head["bias"])
    logits = features @ weights.T + bias
    logits -= logits.max(axis=1, keepdims=True)
    exponentials = np.exp(logits)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("examples")
    make_folder(folder / "data", 8)
    report = train(folder / "data", folder / "head.json", "--c", "0.5", "--augment", "flip", "--folds", "4",
                   "--features-out", str(folder / "features.jsonl"))
    samples = [json.loads(line) for line in (folder / "features.jsonl").read_text().splitlines()]
    head = json.loads((folder / "head.json").read_text())
    return report, samples, head


def sklearn_model(c, features, labels):
    return LogisticRegression(C=c, solver="lbfgs", max_iter=20000, tol=1e-12).fit(features, labels)


def test_held_out_probabilities_match_sklearn(trained):
    report, samples, _ = trained
    c = report["c"]
    assert c == 0.5
    by_file = {prediction["file"]: prediction for prediction in report["held_out"]}
    features = np.array([s["features"] for s in samples])
    labels = np.array([s["label"] for s in samples])
    folds = np.array([s["fold"] for s in samples])
    originals = np.array([s["original"] for s in samples])
    ours_right = theirs_right = 0
    compared = 0
    for fold in sorted(set(folds)):
        model = sklearn_model(c, features[folds != fold], labels[folds != fold])
        held = (folds == fold) & originals
        theirs = model.predict_proba(features[held])
        for sample, probabilities in zip([s for s, keep in zip(samples, held) if keep], theirs):
            ours = np.array(by_file[sample["file"]]["probabilities"])
            assert np.abs(ours - probabilities).max() < 1e-3, (sample["file"], ours, probabilities)
            ours_right += int(np.argmax(ours) == sample["label"])
            theirs_right += int(np.argmax(probabilities) == sample["label"])
            compared += 1
    assert compared == len(report["held_out"]) == 24
    assert ours_right == theirs_right
    assert abs(report["accuracy"] - ours_right / compared) < 1e-12


def test_head_matches_sklearn_on_all_data(trained):
    report, samples, head = trained
    features = np.array([s["features"] for s in samples])
    labels = np.array([s["label"] for s in samples])
    model = sklearn_model(report["c"], features, labels)
    ours = head_probabilities(head, features)
    assert np.abs(ours - model.predict_proba(features)).max() < 1e-3
    assert head["categories"] == sorted(SOURCES)
    assert head["backbone"]["sha256"] == "b0924803"
    assert len(head["weights"]) == 3 and all(len(row) == 512 for row in head["weights"])


def test_report_counts_and_confusion(trained):
    report, samples, _ = trained
    assert [c["name"] for c in report["categories"]] == ["cat", "coffee", "rocket"]
    assert [c["images"] for c in report["categories"]] == [8, 8, 8]
    assert report["samples"] == len(samples) == 48  # each image and its mirror image
    assert sum(map(sum, report["confusion"])) == 24
    assert report["augmentations"] == ["flip"]
