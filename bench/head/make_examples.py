#!/usr/bin/env python3
"""Makes a training folder for `resnet18 train` benchmarks: CATEGORIES categories of PER images each, each category
random crops (55-95 %) with random brightness of one fixture photo, as JPEG.

    python bench/head/make_examples.py ../shared/fixtures OUT [--categories 5] [--per 50]
"""
import argparse
import pathlib
import random

from PIL import Image, ImageEnhance

PHOTOS = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "motorcycle_left.png", "chelsea-q90.jpg"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("fixtures", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--categories", type=int, default=5)
    parser.add_argument("--per", type=int, default=50)
    arguments = parser.parse_args()
    rng = random.Random(5)
    for position in range(arguments.categories):
        photo = PHOTOS[position % len(PHOTOS)]
        folder = arguments.out / f"category-{position + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        image = Image.open(arguments.fixtures / "images" / photo).convert("RGB")
        for index in range(arguments.per):
            width, height = image.size
            scale = rng.uniform(0.55, 0.95)
            w, h = int(width * scale), int(height * scale)
            x, y = rng.randint(0, width - w), rng.randint(0, height - h)
            variant = ImageEnhance.Brightness(image.crop((x, y, x + w, y + h))).enhance(rng.uniform(0.6, 1.4))
            variant.save(folder / f"{index:03d}.jpg", quality=88)


if __name__ == "__main__":
    main()
