"""The history page in a real browser: a photo classified on the main page shows up in /history with its label
and thumbnail, and the label chart is drawn.

Run: RESNET18_BIN=.build/debug/resnet18 python -m pytest tests/browser/test_history.py
The screenshot goes to $RESNET18_ARTIFACTS/history.png (docs/history.png is a copy of a good one).
"""
import json
import sys
import urllib.request
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_process import IMAGES, SEEDED_WEIGHTS, Server, multipart  # noqa: E402
from test_page import chromium, save, upload, wait_for_bars  # noqa: E402

PHOTO = IMAGES / "chelsea.png"


@pytest.fixture(scope="module")
def server():
    with Server("--weights", str(SEEDED_WEIGHTS)) as running:
        yield running


@pytest.fixture
def browser():
    driver = chromium(1280, 1100)
    yield driver
    driver.quit()


def classify_api(server: Server, photo: Path) -> dict:
    content_type = "image/png" if photo.suffix == ".png" else "image/jpeg"
    body, form_type = multipart("file", photo.name, photo.read_bytes(), content_type)
    request = urllib.request.Request(server.url + "v1/classify", data=body, method="POST",
                                     headers={"Content-Type": form_type})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["results"][0]


def test_a_photo_classified_on_the_page_is_in_the_history_with_its_thumbnail_and_chart(server, browser):
    # Some other recognitions first, through the API, so that the chart has several labels.
    for name in ("rocket.jpg", "coffee.png", "astronaut.png", "motorcycle_left.png", "rocket.jpg"):
        classify_api(server, IMAGES / name)

    browser.get(server.url)
    upload(browser, PHOTO)
    labels = wait_for_bars(browser)
    link = WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.ID, "history-link") if d.find_element(By.ID, "history-link").is_displayed() else None)
    row_id = link.get_attribute("href").rsplit("#row-", 1)[1]

    # From the main page to the history page by its link.
    browser.find_element(By.ID, "history-nav").click()
    WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/history"))
    row = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "row-" + row_id))
    assert row.find_element(By.CSS_SELECTOR, ".best").text == labels[0]
    assert "page" in row.text
    # The seeded fixture is not torchvision's checkpoint: each row says so beside its label.
    assert "not torchvision's ImageNet" in row.find_element(By.CSS_SELECTOR, ".weights-note").text
    image = row.find_element(By.TAG_NAME, "img")
    assert image.get_attribute("src").endswith(f"/v1/history/{row_id}/thumbnail")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "const i = arguments[0]; return i.complete && i.naturalWidth > 0", image))
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 112

    # The chart: drawn (bars counted by the page) and really painted (coloured pixels on the canvas).
    canvas = browser.find_element(By.ID, "chart")
    WebDriverWait(browser, 30).until(lambda d: canvas.get_attribute("data-drawn") == "true")
    assert int(canvas.get_attribute("data-bars")) >= 2
    painted = browser.execute_script("""
        const c = arguments[0], data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let coloured = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
        }
        return coloured;""", canvas)
    assert painted > 200
    legend = browser.find_element(By.ID, "legend").text
    assert labels[0] in legend
    assert "6 recognitions" in browser.find_element(By.ID, "summary").text or \
        "of 6" in browser.find_element(By.ID, "summary").text

    # A filter narrows the rows to the label.
    browser.find_element(By.ID, "f-label").send_keys(labels[0])
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    # The table is rebuilt when the answer comes: a cell read while that happens is stale, and read again.
    WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: all(
        cell.text == labels[0] for cell in d.find_elements(By.CSS_SELECTOR, "#rows .best")))
    browser.find_element(By.ID, "f-reset").click()
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#rows tr")) == 6)

    # A source with spaces: the page's URLSearchParams sends "POST+%2Fv1%2Fclassify", which the server reads as
    # browsers mean it; the five API recognitions are listed, the page's is not.
    Select(browser.find_element(By.ID, "f-source")).select_by_value("POST /v1/classify")
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: len(
        d.find_elements(By.CSS_SELECTOR, "#rows tr")) == 5 and not d.find_elements(By.ID, "row-" + row_id))
    browser.find_element(By.ID, "f-reset").click()
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#rows tr")) == 6)
    save(browser, "history.png")
