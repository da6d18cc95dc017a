"""Labels, file names and the weights' name are shown as text, never run as HTML (no XSS), in a real browser.

Every label of a 1000-line label file, the uploaded photo's file name and the weights file's name carry markup
that would run script if it reached innerHTML; the page must show it literally and run none of it.
"""
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

from test_page import PHOTO, chromium, save, upload, wait_for_bars
from server_process import SEEDED_WEIGHTS, Server

# Each payload bumps window.__xss if it ever runs, in whichever way the markup could be interpreted.
LABEL = '<img src=x onerror="window.__xss=(window.__xss||0)+1">label {}<script>window.__xss=(window.__xss||0)+1</script>'
FILE_NAME = "<img src=x onerror=window.__xss=7>photo&amp;.png"
WEIGHTS_NAME = "<svg onload=window.__xss=9>weights.pth"
# Elements that exist only if some payload was parsed as HTML.
INJECTED = "return document.querySelectorAll('img[src=\"x\"], svg[onload], #results script, #error script').length"


@pytest.fixture(scope="module")
def hostile():
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder).resolve()
        labels = folder / "labels.txt"
        labels.write_text("".join(LABEL.format(index) + "\n" for index in range(1000)))
        weights = folder / WEIGHTS_NAME
        os.symlink(SEEDED_WEIGHTS, weights)
        photo = folder / FILE_NAME
        shutil.copy(PHOTO, photo)
        with Server("--weights", str(weights), "--labels", str(labels)) as running:
            yield running, photo


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def test_hostile_labels_file_name_and_weights_name_show_as_text(hostile, browser):
    server, photo = hostile
    browser.get(server.url)
    WebDriverWait(browser, 30).until(lambda d: "weights.pth" in d.find_element(By.ID, "weights").text)
    assert WEIGHTS_NAME in browser.find_element(By.ID, "weights").text

    upload(browser, photo)
    labels = wait_for_bars(browser)
    # The labels come back character for character, markup included, as text.
    assert len(labels) == 5
    for text in labels:
        assert text.startswith('<img src=x onerror="window.__xss=(window.__xss||0)+1">label ')
        assert text.endswith("<script>window.__xss=(window.__xss||0)+1</script>")
    assert browser.find_element(By.ID, "file-name").text == FILE_NAME
    # No element was made from the markup, and none of it ran.
    assert browser.execute_script(INJECTED) == 0
    assert browser.execute_script("return window.__xss === undefined")
    save(browser, "page-hostile-labels.png")


def test_hostile_file_name_in_an_error_shows_as_text(hostile, browser):
    server, _ = hostile
    browser.get(server.url)
    with tempfile.TemporaryDirectory() as folder:
        bad = Path(folder).resolve() / "<img src=x onerror=window.__xss=5>notes.txt"
        bad.write_text("this is not a photo\n")
        upload(browser, bad)
        error = WebDriverWait(browser, 30).until(conditions.visibility_of_element_located((By.ID, "error")))
        assert "not a JPEG, PNG or WebP image" in error.text
        assert browser.find_element(By.ID, "file-name").text == bad.name
    assert browser.execute_script(INJECTED) == 0
    assert browser.execute_script("return window.__xss === undefined")
