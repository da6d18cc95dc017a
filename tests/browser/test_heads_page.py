"""The heads page in a real browser: photos uploaded into categories and a frame picked from the history become
examples, Train shows the held-out report, "Switch this head on" makes the API answer with the head at once; and
the history page shows the frames most like a row as thumbnails.

Run: RESNET18_BIN=.build/debug/resnet18 python -m pytest tests/browser/test_heads_page.py
Screenshots go to $RESNET18_ARTIFACTS/heads.png and similar.png (docs/heads.png is a copy of a good one).
"""
import json
import sys
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_process import IMAGES, SEEDED_WEIGHTS, Server, multipart  # noqa: E402
from test_page import chromium, save  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with Server("--weights", str(SEEDED_WEIGHTS)) as running:
        yield running


@pytest.fixture
def browser():
    driver = chromium(1280, 1500)
    yield driver
    driver.quit()


def classify(server: Server, photo: Path) -> dict:
    content_type = "image/png" if photo.suffix == ".png" else "image/jpeg"
    body, form_type = multipart("file", photo.name, photo.read_bytes(), content_type)
    request = urllib.request.Request(server.url + "v1/classify", data=body, method="POST",
                                     headers={"Content-Type": form_type})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["results"][0]


def add_photos(browser, category: str, photos: list[str]) -> None:
    before = len(browser.find_elements(By.CSS_SELECTOR, "#categories li"))
    field = browser.find_element(By.ID, "upload-category")
    field.clear()
    field.send_keys(category)
    browser.find_element(By.ID, "upload-files").send_keys("\n".join(str(IMAGES / name) for name in photos))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#categories li")) == before + len(photos))


def test_teach_train_and_switch_on_from_the_page(server, browser):
    coffee_row = classify(server, IMAGES / "coffee.png")["history_id"]
    classify(server, IMAGES / "motorcycle_left.png")

    browser.get(server.url + "heads#head=gate")
    WebDriverWait(browser, 30).until(lambda d: "No examples yet" in d.find_element(By.ID, "categories").text)
    add_photos(browser, "cat", ["chelsea.png", "chelsea-q90.jpg"])
    add_photos(browser, "space", ["rocket.jpg", "astronaut.png"])
    add_photos(browser, "cup", ["coffee.png"])

    # The coffee frame from the history joins "cup".
    frame = WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'#history-frames li[data-id="{coffee_row}"] button'))
    frame.click()
    assert browser.find_element(By.ID, "picked").text == "1 picked"
    field = browser.find_element(By.ID, "history-category")
    field.send_keys("cup")
    browser.find_element(By.CSS_SELECTOR, "#history-form button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "cup · 2 examples" in d.find_element(By.ID, "categories").text)
    sections = [element.get_attribute("data-category") for element in browser.find_elements(By.CSS_SELECTOR, "#categories .category")]
    assert sections == ["cat", "cup", "space"]

    browser.find_element(By.ID, "train").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "report").is_displayed())
    assert "held-out accuracy" in browser.find_element(By.ID, "train-message").text
    assert browser.find_element(By.ID, "report-summary").text.startswith("Held-out accuracy")
    rows = [row.text.split()[0] for row in browser.find_elements(By.CSS_SELECTOR, "#report-rows tr")]
    assert rows == ["cat", "cup", "space"]
    cells = browser.find_elements(By.CSS_SELECTOR, "#confusion tbody td")
    assert sum(int(cell.text) for cell in cells) == 6  # every example held out once

    # Not answering yet; switched on, the API answers with it without a restart.
    assert "custom" not in classify(server, IMAGES / "chelsea.png")
    browser.find_element(By.ID, "activate").click()
    WebDriverWait(browser, 30).until(lambda d: "answering now" in d.find_element(By.ID, "head-state").text)
    assert "gate/cat" in browser.find_element(By.ID, "active-line").text
    custom = classify(server, IMAGES / "chelsea-q90.jpg")["custom"]
    assert custom[0]["head"] == "gate"
    assert {category["label"] for category in custom[0]["top"]} == {"cat", "cup", "space"}
    browser.execute_script("window.scrollTo(0, 0)")
    save(browser, "heads.png")


def test_the_history_page_shows_similar_frames(server, browser):
    for name in ("chelsea.png", "rocket.jpg", "chelsea-q90.jpg", "astronaut.png"):
        classify(server, IMAGES / name)
    row = classify(server, IMAGES / "chelsea.png")["history_id"]
    browser.get(server.url + "history")
    button = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, f'#row-{row} button.similar'))
    button.click()
    strip = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, ".similar-row .similar-strip"))
    items = strip.find_elements(By.TAG_NAME, "li")
    assert items, "no similar frames shown"
    # The same photo recorded earlier (identical features) comes first, as a thumbnail.
    first = items[0]
    assert first.find_element(By.TAG_NAME, "img").get_attribute("naturalWidth") not in (None, "0")
    answer = json.load(urllib.request.urlopen(server.url + f"v1/history/{row}/similar?limit=12", timeout=30))
    assert [item.get_attribute("data-id") for item in items] == [str(match["entry"]["id"]) for match in answer["similar"]]
    assert answer["similar"][0]["similarity"] > 0.99
    save(browser, "similar.png")
