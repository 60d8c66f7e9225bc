"""The HR admin's path through the app in Debian's headless Chromium, inside the sandbox portal's frame,
with a real Celery worker running the sync: connect ZUP, accept the proposed mapping, preview, run and
watch the progress, find a failed person and retry after the cause is fixed, confirm a guard stop."""
from datetime import timedelta

import pytest

from hrsync.models import RunStatus, SyncRun
from payroll_connector.services import read_snapshot
from tests.conftest import ARTIFACTS, ZUP_TODAY, celery_worker, control, install
from tests.sync_helpers import ZupEditor
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def worker(settings, transactional_db):
    with celery_worker() as process:
        yield process


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"))


def connect_zup(page, zup):
    """On the Connect tab (of the frame or the console), save the sandbox ZUP's OData address and check it."""
    page.get_by_test_id("tab-connect").click()
    page.get_by_test_id("odata-url").fill(zup.odata_url)
    page.get_by_test_id("odata-user").fill("odata")
    page.get_by_test_id("odata-password").fill("secret")
    page.get_by_test_id("odata-save").click()
    page.get_by_test_id("check").wait_for()
    assert page.get_by_test_id("check").locator(".bad").count() == 0


def wait_finished(frame, timeout=60000):
    frame.locator("[data-testid=percent]").filter(has_text="100").wait_for(timeout=timeout)


def test_the_admins_whole_path(sandbox_factory, zup, worker, settings, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sandbox = sandbox_factory()
    settings.BITRIX_JS_SDK_URL = f"{sandbox.url}/bx24/api/v1/"
    portal = install(sandbox)
    organisation = zup.state.infobase.entities["Catalog_Организации"][0]["Description"]
    sandbox.state.add_department_unchecked(organisation, 1)  # HR made one by hand before hrsync came
    control(sandbox, "limits", {"max_users": 200})  # the plan's user limit will stop some creations

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{sandbox.url}/marketplace/app/")
        frame = page.frame_locator("#appframe")
        connect_zup(frame, zup)
        shot(page, "connect")

        frame.get_by_test_id("tab-preview").click()
        frame.get_by_test_id("plan-summary").wait_for()
        frame.get_by_test_id("tab-departments").click()
        frame.get_by_test_id("department-map").wait_for()  # the whole page is in (the map comes after the button)
        frame.get_by_test_id("accept-all").click()
        frame.get_by_test_id("accept-all").wait_for(state="detached")  # decided: no longer proposed
        frame.get_by_test_id("department-map").wait_for()
        assert "Match accepted" in frame.get_by_test_id("department-map").inner_text() or \
            "Совпадение принято" in frame.get_by_test_id("department-map").inner_text()
        shot(page, "departments")

        frame.get_by_test_id("tab-absences").click()
        frame.get_by_test_id("absence-map").wait_for()
        shot(page, "absence-types")

        frame.get_by_test_id("tab-preview").click()
        frame.get_by_test_id("plan-summary").wait_for()
        assert "Создание сотрудника" in frame.get_by_test_id("plan-summary").inner_text()  # kinds by name, not code
        shot(page, "preview")
        frame.get_by_test_id("run-now").click()
        wait_finished(frame)
        shot(page, "progress")
        run = SyncRun.objects.filter(portal=portal, dry_run=False).order_by("-started_at").first()
        assert run.status == RunStatus.PARTIAL and run.outcome["failed"] > 0

        frame.get_by_test_id("tab-journal").click()
        frame.locator("select[name=status]").select_option("failed")
        frame.get_by_test_id("journal-filter").click()
        frame.locator('tr[data-status]:not([data-status="failed"])').first.wait_for(state="detached")
        first_error = frame.locator('tr[data-status="failed"] [data-testid=op-error]').first
        assert "user_count_exceeded" in first_error.inner_text()
        shot(page, "journal")
        control(sandbox, "limits", {"max_users": 100000})  # the cause is fixed (the plan upgraded)
        failed_before = run.operations.filter(status="failed").count()
        frame.get_by_test_id("retry").first.click()
        wait_finished(frame)
        retry = SyncRun.objects.filter(portal=portal, trigger="person").get()
        assert retry.status == RunStatus.SUCCEEDED and retry.outcome["done"] >= 1
        assert failed_before > 0

        frame.get_by_test_id("tab-preview").click()
        frame.get_by_test_id("run-now").click()
        wait_finished(frame)

        edit = ZupEditor(zup.state.infobase)
        snapshot = read_snapshot(portal.payroll_connection, today=ZUP_TODAY)
        leaving = [p for p in snapshot.persons if len(p.employments) == 1 and p.employments[0].termination_date is None
                   and p.email and not snapshot.is_blocked(p.guid)][:25]
        for person in leaving:
            edit.terminate(person.employments[0].guid, ZUP_TODAY - timedelta(days=1))
        frame.get_by_test_id("tab-preview").click()
        frame.get_by_test_id("run-now").click()
        wait_finished(frame)
        frame.get_by_test_id("tab-preview").click()
        frame.get_by_test_id("guard").wait_for()
        shot(page, "guard")
        frame.get_by_test_id("guard-confirm").click()
        wait_finished(frame)
        confirmed = SyncRun.objects.filter(portal=portal, trigger="confirmed").get()
        assert confirmed.status == RunStatus.SUCCEEDED and confirmed.planned.get("DeactivateUser", 0) >= 25

        frame.get_by_test_id("tab-home").click()
        frame.get_by_test_id("charts").wait_for()
        shot(page, "overview")
        frame.get_by_test_id("tab-requests").click()
        frame.get_by_test_id("outbox").wait_for()
        shot(page, "requests")
        browser.close()
