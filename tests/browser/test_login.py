"""Login in a real browser: the login page, a classification while signed in, the log-out button.

Run: RESNET18_BIN=.build/debug/resnet18 python -m pytest tests/browser/test_login.py
"""
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import IMAGES, SEEDED_WEIGHTS, Server, binary  # noqa: E402
from test_page import chromium, save, upload, wait_for_bars  # noqa: E402

PHOTO = IMAGES / "chelsea.png"
ADMIN, ADMIN_PASSWORD = "ada", "ada-browser-password"
VIEWER, VIEWER_PASSWORD = "vic", "vic-browser-password"


def add_user(database: Path, name: str, password: str, role: str) -> None:
    subprocess.run([binary(), "user", "add", name, "--role", role, "--password-stdin", "--bcrypt-cost", "4",
                    "--db", str(database)], input=password + "\n", text=True, check=True, capture_output=True)


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "resnet18.sqlite"
        add_user(database, ADMIN, ADMIN_PASSWORD, "admin")
        add_user(database, VIEWER, VIEWER_PASSWORD, "viewer")
        with Server("--weights", str(SEEDED_WEIGHTS), "--db", str(database), "--bcrypt-cost", "4") as running:
            yield running


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def sign_in(driver, server: Server, name: str, password: str) -> None:
    driver.get(server.url)
    WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(server.url + "login"))
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def test_sign_in_classify_and_sign_out(server, browser):
    sign_in(browser, server, ADMIN, ADMIN_PASSWORD)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "account").is_displayed())
    assert browser.current_url == server.url
    assert "ada (admin)" in browser.find_element(By.ID, "account-name").text
    assert browser.find_element(By.ID, "admin-link").is_displayed()
    cookies = {cookie["name"]: cookie for cookie in browser.get_cookies()}
    assert cookies["resnet18_session"]["httpOnly"]
    assert cookies["resnet18_session"]["sameSite"] == "Lax"
    # The page's POST /v1/classify carries the CSRF token (session.js): the bars come.
    upload(browser, PHOTO)
    assert len(wait_for_bars(browser)) == 5
    save(browser, "page-signed-in.png")

    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, 30).until(lambda d: "/login" in d.current_url)
    # The session is gone on the server: the page sends the browser back to the login form.
    browser.get(server.url)
    WebDriverWait(browser, 30).until(lambda d: "/login" in d.current_url)
    assert browser.find_element(By.ID, "login-form").is_displayed()


def test_wrong_password_stays_on_the_login_page(server, browser):
    sign_in(browser, server, ADMIN, "not-the-password")
    # The form's answer is a new page: the message is read from it, not from the page it replaces (found again on
    # each try, since the old page's element goes stale when the new one arrives).
    WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: "Wrong user name or password" in d.find_element(By.ID, "login-message").text)
    save(browser, "login-failed.png")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(server.url + "v1/model", timeout=30)
    assert refused.value.code == 401


def test_admin_makes_and_revokes_a_token(server, browser):
    sign_in(browser, server, ADMIN, ADMIN_PASSWORD)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "account").is_displayed())
    browser.find_element(By.ID, "admin-link").click()
    WebDriverWait(browser, 30).until(lambda d: "(admin)" in d.find_element(By.ID, "account-name").text)
    browser.find_element(By.ID, "token-name").send_keys("browser-test")
    browser.find_element(By.ID, "token-create").click()
    secret = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "token-secret").text)
    assert secret.startswith("r18_")
    request = urllib.request.Request(server.url + "v1/model", headers={"Authorization": "Bearer " + secret})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    save(browser, "admin-tokens.png")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#token-rows button.revoke"))
    browser.find_element(By.CSS_SELECTOR, "#token-rows button.revoke").click()
    WebDriverWait(browser, 30).until(lambda d: "revoked" in d.find_element(By.ID, "token-rows").text)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401


def test_a_viewer_watches_streams_but_is_not_offered_to_add_or_stop_them(server, browser):
    sign_in(browser, server, VIEWER, VIEWER_PASSWORD)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "account").is_displayed())
    assert not browser.find_element(By.ID, "admin-link").is_displayed()
    browser.get(server.url + "streams")
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "read-only-note").is_displayed())
    assert "vic (viewer)" in browser.find_element(By.ID, "account-name").text
    assert not browser.find_element(By.ID, "add-stream").is_displayed()
    # The live events still come to a viewer.
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "live").text == "connected")
    # And the API agrees with the page: a viewer's POST is refused.
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch("/v1/streams", {method: "POST", headers: {"Content-Type": "application/json"},
                              body: JSON.stringify({source: "rtsp://127.0.0.1:9/none"})}).then(r => done(r.status));
    """)
    assert status == 403
