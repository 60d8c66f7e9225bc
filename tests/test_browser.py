"""The real install and app page in Debian's headless Chromium, driven by Playwright, inside the portal's frame."""
import os
import time

import pytest

from bitrix_app.models import Portal, PortalStatus
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page(monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run scripts/test.sh, which installs it")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still
    # plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        yield page
        browser.close()


def test_install_in_the_portal_frame_then_open_the_app(sandbox, browser_page, settings, transactional_db):
    settings.BITRIX_JS_SDK_URL = f"{sandbox.url}/bx24/api/v1/"
    page = browser_page
    page.goto(f"{sandbox.url}/marketplace/install/")
    page.wait_for_selector("body[data-installed=yes]", timeout=20000)  # BX24.installFinish() reached the portal
    frame = page.frame_locator("#appframe")
    assert "Устанавливаем hrsync" in frame.locator("h1").inner_text()
    page.screenshot(path=str(ARTIFACTS / "bitrix-install.png"))
    deadline = time.time() + 10
    while time.time() < deadline and Portal.objects.get(member_id=sandbox.state.member_id).status != PortalStatus.ACTIVE:
        time.sleep(0.2)
    assert Portal.objects.get(member_id=sandbox.state.member_id).status == PortalStatus.ACTIVE

    page.goto(f"{sandbox.url}/marketplace/app/")
    frame = page.frame_locator("#appframe")
    assert frame.get_by_test_id("portal-status").inner_text() == "Активно"
    frame.get_by_test_id("refresh-link").click()  # a link inside the frame keeps the cookie-less session
    assert frame.get_by_test_id("role").inner_text() == "Администратор"
    height = page.locator("#appframe").evaluate("f => f.style.height")
    assert height.endswith("px")  # BX24.fitWindow() resized the frame
    page.screenshot(path=str(ARTIFACTS / "bitrix-app-overview.png"))
