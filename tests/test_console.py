"""Issue 13, part 3: the console outside the portal frame, with Django's own sign-in.

The browser test drives Debian's headless Chromium against the live app, two sandbox portals connected by
incoming webhooks and a real Celery worker: the operator connects a portal from the console and gives it to
an HR user; that user signs in, lists their portals, opens theirs, connects ZUP, previews and runs; the
other portal answers 403; an anonymous visitor is sent to the sign-in page. The tests after it check the
same rules without a browser: read-only members, CSRF, the list's figures.
"""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from bitrix_app.models import Portal, PortalMember
from bitrix_app.services import connect_webhook
from hrsync.models import RunStatus, SyncRun
from payroll_connector.models import OutboxItem, OutboxKind
from payroll_connector.services import connect_odata
from tests.conftest import control
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_browser_pages import connect_zup, shot, wait_finished, worker  # noqa: F401 - the worker fixture

PASSWORD = "Пароль-для-теста-42"


def _webhook(running, settings) -> str:
    settings.BITRIX_PLAIN_HTTP_HOSTS = [*settings.BITRIX_PLAIN_HTTP_HOSTS, running.state.domain]
    return control(running, "webhook", {"user_id": 1, "scopes": ["user", "department", "calendar", "im"]})["url"]


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/console/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("portal-list").wait_for()


@pytest.mark.browser
@pytest.mark.slow
def test_console_sign_in_list_open_preview_run_and_nobody_sees_another_portal(
        sandbox_factory, zup, worker, live_server, settings, monkeypatch):  # noqa: F811
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    portal_a_sandbox, portal_b_sandbox = sandbox_factory(), sandbox_factory()
    url_a, url_b = _webhook(portal_a_sandbox, settings), _webhook(portal_b_sandbox, settings)
    portal_b = connect_webhook(url_b)
    users = get_user_model().objects
    users.create_superuser("operator", "op@example.ru", PASSWORD)
    users.create_user("hr.a", "hr@a.example.ru", PASSWORD)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        errors: list[str] = []
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ru-RU")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        # The operator connects portal A from the console and gives it to HR.
        _sign_in(page, live_server, "operator")
        assert page.get_by_test_id("portal-row").count() == 1  # B, connected by the command
        page.locator("#webhook_url").fill(url_a)
        page.get_by_test_id("connect-webhook").click()
        page.get_by_test_id("portal-status").wait_for()
        portal_a = Portal.objects.get(domain=portal_a_sandbox.state.domain)
        assert page.get_by_test_id("console-portal").inner_text() == portal_a.domain
        call_command("console_access", user="hr.a", portal=portal_a.domain, admin=True)
        page.get_by_test_id("console-portals").click()
        assert page.get_by_test_id("portal-row").count() == 2
        shot(page, "console-operator-list")
        page.get_by_test_id("sign-out").click()
        page.locator("#id_username").wait_for()

        # HR signs in: one portal, theirs.
        _sign_in(page, live_server, "hr.a")
        rows = page.get_by_test_id("portal-row")
        assert rows.count() == 1 and portal_a.domain in rows.inner_text()
        shot(page, "console-list")
        page.get_by_test_id("open-portal").click()
        assert page.get_by_test_id("role").inner_text() == "Администратор"
        connect_zup(page, zup)

        page.get_by_test_id("tab-preview").click()
        page.get_by_test_id("plan-summary").wait_for(timeout=60000)
        assert "Создание сотрудника" in page.get_by_test_id("plan-summary").inner_text()  # kinds by name, not code
        assert len(portal_a_sandbox.state.users) == 1  # a preview writes nothing
        shot(page, "console-preview")
        page.get_by_test_id("run-now").click()
        wait_finished(page)
        shot(page, "console-progress")
        run = SyncRun.objects.filter(portal=portal_a, dry_run=False).get()
        assert run.status == RunStatus.SUCCEEDED and run.outcome["failed"] == 0, run.error
        assert len(portal_a_sandbox.state.users) > 250
        page.get_by_test_id("to-journal").click()
        page.locator("tr[data-status=done]").first.wait_for()

        assert not errors, errors  # every page drew without a console error
        # Portal B was not given to HR: every page of it answers 403, and nothing of it is shown.
        for path in ("", "preview/", "journal/", "connect/"):
            response = page.goto(f"{live_server.url}/console/{portal_b.pk}/{path}")
            assert response.status == 403, path
            assert portal_b.domain not in page.content()
        assert not SyncRun.objects.filter(portal=portal_b).exists()

        # Someone not signed in is sent to the sign-in page, and comes back after it.
        anonymous = browser.new_context().new_page()
        anonymous.goto(f"{live_server.url}/console/{portal_a.pk}/journal/")
        assert anonymous.url.startswith(f"{live_server.url}/console/login/?next=")
        anonymous.locator("#id_username").fill("hr.a")
        anonymous.locator("#id_password").fill(PASSWORD)
        anonymous.get_by_test_id("sign-in").click()
        anonymous.locator("tr[data-status]").first.wait_for()
        assert anonymous.url == f"{live_server.url}/console/{portal_a.pk}/journal/"
        browser.close()


@pytest.fixture
def two_webhook_portals(sandbox_factory, settings, transactional_db):
    first, second = sandbox_factory(), sandbox_factory()
    return connect_webhook(_webhook(first, settings)), connect_webhook(_webhook(second, settings))


def _client(username: str, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_a_read_only_member_looks_but_changes_nothing(two_webhook_portals, zup):
    portal, _ = two_webhook_portals
    get_user_model().objects.create_user("viewer", password=PASSWORD)
    call_command("console_access", user="viewer", portal=portal.domain)
    client = _client("viewer")
    page = client.get(f"/console/{portal.pk}/")
    assert page.status_code == 200 and "Сотрудник (только просмотр)" in page.content.decode()
    assert page["Content-Security-Policy"] == "frame-ancestors 'none'" and page["X-Frame-Options"] == "DENY"
    refused = client.post(f"/console/{portal.pk}/connect/", {"action": "push"})
    assert refused.status_code == 403 and not hasattr(portal, "payroll_connection")
    assert client.get(f"/console/{portal.pk}/preview/").status_code == 403  # a preview costs a run
    assert not SyncRun.objects.exists()


def test_a_change_without_the_csrf_token_is_refused(two_webhook_portals):
    portal, _ = two_webhook_portals
    get_user_model().objects.create_user("hr", password=PASSWORD)
    call_command("console_access", user="hr", portal=portal.domain, admin=True)
    client = _client("hr", csrf=True)
    assert client.post(f"/console/{portal.pk}/connect/", {"action": "push"}).status_code == 403
    token = client.get(f"/console/{portal.pk}/connect/").cookies["csrftoken"].value
    made = client.post(f"/console/{portal.pk}/connect/", {"action": "push", "csrfmiddlewaretoken": token})
    assert made.status_code == 200 and Portal.objects.get(pk=portal.pk).payroll_connection.mode == "push"


def test_the_list_shows_state_last_run_errors_and_outbox_depth_of_the_users_portals_only(two_webhook_portals, zup):
    mine, theirs = two_webhook_portals
    get_user_model().objects.create_user("hr", password=PASSWORD)
    call_command("console_access", user="hr", portal=mine.domain)
    connect_odata(mine, url=zup.odata_url, username="odata", password="secret")
    SyncRun.objects.create(portal=mine, trigger="manual", status=RunStatus.PARTIAL, outcome={"failed": 3})
    OutboxItem.objects.create(portal=mine, kind=OutboxKind.VACATION, key="event-token-1", payload={})
    html = _client("hr").get("/console/").content.decode()
    assert mine.domain in html and theirs.domain not in html
    assert 'data-testid="portal-errors">3<' in html and 'data-testid="portal-outbox">1<' in html
    assert PortalMember.objects.filter(user__username="hr").count() == 1


def test_console_access_names_what_is_missing(transactional_db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user"):
        call_command("console_access", user="nobody", portal="x.bitrix24.ru")
