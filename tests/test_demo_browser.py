"""Issue 12, defect 9: a newcomer runs `make demo`, opens the app and has something to do: the demo has not
synced yet, «Run now» goes to the demo's own worker and the page follows the run from its start to 100 %, and
a change made in the sandbox ZUP with `python -m sandbox.zup.change` shows up in the next preview."""
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_browser_pages import shot
from tests.test_demo import _free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def demo(tmp_path):
    ports = {name: _free_port() for name in ("APP", "PORTAL", "OAUTH", "ZUP")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    env.update({f"DEMO_{name}_PORT": str(port) for name, port in ports.items()},
               DEMO_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    log = open(tmp_path / "demo.log", "w")
    process = subprocess.Popen([str(ROOT / "scripts" / "demo.sh")], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and "Ctrl-C stops the demo." not in (tmp_path / "demo.log").read_text():
        assert process.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
        time.sleep(0.3)
    output = (tmp_path / "demo.log").read_text()
    assert "Ctrl-C stops the demo." in output, output[-3000:]
    yield ports, output
    os.killpg(process.pid, 2)  # Ctrl-C
    process.wait(timeout=30)
    log.close()


def test_the_demo_has_work_to_do_and_its_progress_can_be_watched(demo, monkeypatch):
    from playwright.sync_api import sync_playwright

    ports, output = demo
    assert "python -m sandbox.zup.change hire" in output.replace(sys.executable, "python")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"http://127.0.0.1:{ports['PORTAL']}/marketplace/app/")
        frame = page.frame_locator("#appframe")
        frame.get_by_test_id("tab-preview").click()
        summary = frame.get_by_test_id("plan-summary")
        summary.wait_for(timeout=60000)
        assert "Создание сотрудника" in summary.inner_text()  # nothing synced yet: the newcomer has a plan to run
        shot(page, "demo-preview")

        frame.get_by_test_id("run-now").click()
        percent = frame.get_by_test_id("percent")
        percent.wait_for()
        first = int(percent.inner_text())
        assert first < 100  # the page is there before the worker has finished: progress to watch
        frame.locator("[data-testid=percent]").filter(has_text="100").wait_for(timeout=120000)
        assert "Выполнено" in frame.get_by_test_id("run-status").inner_text()
        shot(page, "demo-progress")

        change = subprocess.run([sys.executable, "-m", "sandbox.zup.change", "hire", "--url",
                                 f"http://127.0.0.1:{ports['ZUP']}"], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert change.returncode == 0 and change.stdout.startswith("Принят(а) "), change.stderr
        frame.get_by_test_id("tab-preview").click()
        frame.get_by_test_id("plan-summary").wait_for(timeout=60000)
        assert frame.get_by_test_id("plan-summary").inner_text().strip() == "Создание сотрудника: 1"
        shot(page, "demo-after-change")
        browser.close()
