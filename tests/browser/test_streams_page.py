"""The streams page in a real browser: add a camera with the form, see its frame, status and labels, and an
alert arrive live through EventSource (/v1/events).

Run: RESNET18_BIN=.build/debug/resnet18 python -m pytest tests/browser
"""
import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server_process import ARTIFACTS, IMAGES, SEEDED_WEIGHTS, Server  # noqa: E402
from test_page import chromium  # noqa: E402

PHOTO = "chelsea.png"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reference_top1(photo: str) -> dict:
    reference = json.loads((IMAGES.parent / "reference.json").read_text())
    entry = next(item for item in reference["references"] if item["image"] == photo)
    return entry["top5"][0]


@pytest.fixture
def camera():
    """ffmpeg serving the photo as a lossless live video over HTTP, in real time, to one client."""
    url = f"http://127.0.0.1:{free_port()}/camera.mkv"
    process = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-loop", "1", "-framerate", "5", "-t", "120",
         "-i", str(IMAGES / PHOTO), "-c:v", "ffv1", "-pix_fmt", "gbrp", "-f", "matroska", "-listen", "1", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield url
    process.kill()
    process.wait()


@pytest.fixture
def server():
    with Server("--weights", str(SEEDED_WEIGHTS)) as running:
        yield running


def test_add_a_stream_and_see_an_alert_live(server, camera):
    top1 = reference_top1(PHOTO)
    driver = chromium()
    try:
        driver.get(server.url + "streams")
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "live").text == "connected")
        # The rule editor offers WordNet categories ("dog": its 118 breeds) beside class names.
        offered = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#label-suggestions option")]
        assert {"dog", "domestic cat", "bird", "car"} <= set(offered), offered
        assert driver.find_element(By.ID, "labels").get_attribute("list") == "label-suggestions"
        driver.find_element(By.ID, "source").send_keys(camera)
        driver.find_element(By.ID, "labels").send_keys(top1["label"])
        threshold = driver.find_element(By.ID, "threshold")
        threshold.clear()
        threshold.send_keys(str(top1["probability"] * 0.99))
        window = driver.find_element(By.ID, "window")
        window.clear()
        window.send_keys("1/1")
        driver.find_element(By.CSS_SELECTOR, "#add-stream button[type=submit]").click()

        WebDriverWait(driver, 90).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".stream .state.running"))
        # The alert comes through EventSource, not the 2-second refresh: it lands in the live list.
        alert = WebDriverWait(driver, 90).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#alerts li.alert"))[0]
        assert top1["label"] in alert.text
        assert camera in alert.text
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(
            "const i = document.querySelector('.stream img'); return i && i.complete && i.naturalWidth > 0"))
        labels = driver.find_element(By.CSS_SELECTOR, ".stream .top").text
        assert top1["label"] in labels
        # The card counts in words: "1 alert", not "1 alerts".
        WebDriverWait(driver, 30).until(lambda d: " 1 alert" in " " + d.find_element(By.CSS_SELECTOR, ".stream .message").text)
        assert "1 alerts" not in driver.find_element(By.CSS_SELECTOR, ".stream .message").text
        # Its health at a glance: the last frame's age, the rate, the restarts.
        health = driver.find_element(By.CSS_SELECTOR, ".stream .health")
        assert "last frame" in health.text and " fps" in health.text and "restart" in health.text, health.text
        assert "ok" in health.get_attribute("class").split()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "streams.png"))

        # The API agrees: one alert, recorded in the history as an event with its snapshot.
        with urllib.request.urlopen(server.url + "v1/streams", timeout=30) as response:
            streams = json.load(response)["streams"]
        assert len(streams) == 1 and streams[0]["alerts"] == 1
        stream_id = streams[0]["id"]
        with urllib.request.urlopen(server.url + f"v1/history?alerts=true&source=stream:{stream_id}", timeout=30) as response:
            history = json.load(response)
        assert len(history["entries"]) == 1 and history["entries"][0]["thumbnail_url"]

        driver.find_element(By.CSS_SELECTOR, ".stream .remove").click()
        WebDriverWait(driver, 30).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".stream"))
    finally:
        driver.quit()
