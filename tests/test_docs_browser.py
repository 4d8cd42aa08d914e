"""The docs page in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium) against the app served by gunicorn on a loopback port: Swagger UI lists the
operations, "Try it out" → "Execute" registers a user, and no request leaves the loopback."""

import json
import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .served import served

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = Path(tempfile.gettempdir()) / "jsonapi_server-docs-page.png"

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
    reason="chromium and chromium-driver are not installed (make test installs them where "
    "apt-get can)",
)

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app under gunicorn on a free loopback port."""
    directory = tmp_path_factory.mktemp("docs")
    with served(directory, workers=2, prefix="jsonapi_server_docs") as app:
        yield f"http://127.0.0.1:{app.port}"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-proxy-server",
        "--window-size=1280,2000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    # Every request the page makes (performance log) and every console message (browser log).
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # The driver's path is given: selenium-manager never looks for (or downloads) one.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_swagger_ui_lists_the_operations_and_executes_a_registration(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(f"{server}/api/v2/docs")
    wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) > 50)
    assert browser.title == "jsonapi_server API"
    paths = {
        (block.get_attribute("class"), summary.get_attribute("data-path"))
        for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")
        for summary in block.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    }
    assert any("opblock-get" in kind and path == "/api/v2/organizations" for kind, path in paths)
    browser.save_screenshot(str(SCREENSHOT))

    registration = browser.find_element(
        By.XPATH,
        "//div[contains(@class, 'opblock-post')]"
        "[.//*[contains(@class, 'opblock-summary-path') and @data-path='/api/v2/users']]",
    )
    registration.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    try_it_out = registration.find_element(By.CSS_SELECTOR, ".try-out__btn")
    wait.until(ready.element_to_be_clickable(try_it_out)).click()
    body = wait.until(
        lambda _: registration.find_element(By.CSS_SELECTOR, "textarea.body-param__text")
    )
    email = f"docs-{uuid.uuid4().hex[:8]}@example.com"
    attributes = {"email": email, "password": "a long password"}
    document = {"data": {"type": "users", "attributes": attributes}}
    body.send_keys(Keys.CONTROL, "a")
    body.send_keys(Keys.DELETE)
    body.send_keys(json.dumps(document))
    registration.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait.until(
        lambda _: registration.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    assert status.text.strip().startswith("201"), status.text
    shown = registration.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    assert email in shown
    browser.save_screenshot(str(SCREENSHOT.with_name("jsonapi_server-docs-executed.png")))

    urls = requested_urls(browser)
    assert any(url.endswith("/api/v2/openapi.json") for url in urls)
    assert any(url.endswith("/api/v2/docs/swagger-ui-bundle.js") for url in urls)
    assert any(url.endswith("/api/v2/users") for url in urls)
    # Schemes that go over the network (the browser's own chrome:// pages and data: do not).
    left = [
        url
        for url in urls
        if urlsplit(url).scheme not in ("chrome", "data", "blob")
        and urlsplit(url).hostname not in LOOPBACK
    ]
    assert not left, left
    # Nothing the page tried was refused either (a refused load would not reach the network).
    console = [entry["message"] for entry in browser.get_log("browser")]
    refused = [message for message in console if "Content Security" in message]
    assert not refused, refused
