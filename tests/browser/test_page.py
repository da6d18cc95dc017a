"""The page in a real browser (Debian's chromium + chromium-driver, headless, via selenium).

Run: RESNET18_BIN=.build/debug/resnet18 python -m pytest tests/browser
Screenshots for people to look at go to artifacts/ (or $RESNET18_ARTIFACTS).
"""
import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_process import ARTIFACTS, IMAGES, SEEDED_WEIGHTS, Server, multipart  # noqa: E402

PHOTO = IMAGES / "chelsea.png"


def chromium(width: int = 1280, height: int = 900) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture(scope="module")
def server():
    with Server("--weights", str(SEEDED_WEIGHTS)) as running:
        yield running


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def api_labels(server: Server, photo: Path) -> list[str]:
    body, content_type = multipart("file", photo.name, photo.read_bytes(), "image/png")
    request = urllib.request.Request(server.url + "v1/classify?top_k=5", data=body, method="POST",
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    return [prediction["label"] for prediction in answer["results"][0]["top"]]


def upload(driver: webdriver.Chrome, photo: Path) -> None:
    driver.find_element(By.ID, "file-input").send_keys(str(photo))


def wait_for_bars(driver: webdriver.Chrome, count: int = 5) -> list[str]:
    WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li .bar .fill")) == count)
    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, "#results li .label")]


def save(driver: webdriver.Chrome, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


def test_labels_on_the_page_equal_the_api(server, browser):
    browser.get(server.url)
    WebDriverWait(browser, 30).until(lambda d: "seeded" in d.find_element(By.ID, "weights").text)
    upload(browser, PHOTO)
    labels = wait_for_bars(browser)
    assert labels == api_labels(server, PHOTO)
    percents = [element.text for element in browser.find_elements(By.CSS_SELECTOR, "#results li .percent")]
    assert all(text.endswith(" %") for text in percents)
    assert "inference" in browser.find_element(By.ID, "timings").text
    assert browser.find_element(By.ID, "preview").get_attribute("src").startswith("blob:")
    assert not browser.find_element(By.ID, "untrained-banner").is_displayed()
    # The seeded fixture is not torchvision's checkpoint: the page says its labels need not mean anything.
    notice = browser.find_element(By.ID, "weights-notice")
    assert notice.is_displayed() and "Not torchvision's ImageNet weights" in notice.text
    save(browser, "page.png")


def test_bad_upload_shows_the_error_in_the_page(server, browser):
    browser.get(server.url)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as text:
        text.write("this is not a photo\n")
    try:
        upload(browser, Path(text.name))
        error = WebDriverWait(browser, 30).until(conditions.visibility_of_element_located((By.ID, "error")))
        assert "not a JPEG, PNG or WebP image" in error.text
    finally:
        os.unlink(text.name)
    # The server is still fine, and the page recovers on the next photo.
    upload(browser, PHOTO)
    wait_for_bars(browser)
    assert not browser.find_element(By.ID, "error").is_displayed()


def test_phone_width_has_no_horizontal_scrolling(server):
    driver = chromium(390, 844)
    try:
        driver.get(server.url)
        upload(driver, IMAGES / "rocket.jpg")
        wait_for_bars(driver)
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        save(driver, "page-phone.png")
    finally:
        driver.quit()


def test_untrained_weights_show_a_red_banner(browser):
    with tempfile.TemporaryDirectory() as cache:
        env = {key: value for key, value in os.environ.items() if key != "RESNET18_WEIGHTS"}
        env["XDG_CACHE_HOME"] = cache
        with Server(env=env) as untrained:
            browser.get(untrained.url)
            banner = WebDriverWait(browser, 30).until(conditions.visibility_of_element_located((By.ID, "untrained-banner")))
            assert "meaningless" in banner.text
            color = banner.value_of_css_property("background-color")
            red, green, blue = [int(part) for part in color[color.index("(") + 1:].split(",")[:3]]
            assert red > 150 and green < 80 and blue < 80, color
            upload(browser, PHOTO)
            wait_for_bars(browser)
            assert banner.is_displayed()
            save(browser, "page-untrained.png")
