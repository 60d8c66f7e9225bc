"""Issue 13, part 1: a portal connected by an incoming webhook runs the same sync as an installed app.

The sandbox portal serves `/rest/<user>/<key>/<method>` with the webhook's own scopes (control `webhook`).
"""
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bitrix_app.client import BitrixClient
from bitrix_app.models import Portal, PortalStatus
from bitrix_app.services import WebhookRefused, connect_webhook
from hrsync.models import RunStatus
from hrsync.services import preview, run_sync
from payroll_connector.services import connect_odata, read_snapshot
from tests.conftest import ZUP_TODAY, control
from tests.sync_helpers import ZupEditor, assert_portal_matches


@pytest.fixture
def webhook_url(sandbox, settings, transactional_db):
    settings.BITRIX_PLAIN_HTTP_HOSTS = [sandbox.state.domain]  # the sandbox speaks plain http on loopback
    return control(sandbox, "webhook", {"user_id": 1, "scopes": ["user", "department", "calendar", "im"]})["url"]


def test_connect_by_webhook_preview_sync_change_resync(sandbox, zup, webhook_url, caplog):
    caplog.set_level(logging.DEBUG)
    call_command("portal_connect", webhook=webhook_url)
    portal = Portal.objects.get(domain=sandbox.state.domain)
    assert portal.is_webhook and portal.status == PortalStatus.ACTIVE and portal.webhook_user_id == "1"
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")

    dry = preview(portal)
    assert dry.status == RunStatus.PLANNED and dry.planned.get("CreateUser", 0) > 250
    assert len(sandbox.state.users) == 1  # a dry run writes nothing
    run = run_sync(portal, today=ZUP_TODAY)
    assert run.status == RunStatus.SUCCEEDED and run.outcome["failed"] == 0, run.error
    assert_portal_matches(read_snapshot(connection, today=ZUP_TODAY), sandbox.state, portal, ZUP_TODAY)

    edit = ZupEditor(zup.state.infobase)
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    leaver = next(p for p in snapshot.persons if len(p.employments) == 1 and p.employments[0].termination_date is None
                  and p.employments[0].hire_date < ZUP_TODAY)
    edit.terminate(leaver.employments[0].guid, ZUP_TODAY - timedelta(days=1))
    again = run_sync(portal, today=ZUP_TODAY)
    assert again.status == RunStatus.SUCCEEDED and again.planned.get("DeactivateUser") == 1
    assert_portal_matches(read_snapshot(connection, today=ZUP_TODAY), sandbox.state, portal, ZUP_TODAY)
    # Every call went by the webhook's URL, and its key is in no log line.
    key = webhook_url.rstrip("/").rsplit("/", 1)[-1]
    assert not [r for r in caplog.records if key in r.getMessage()]
    assert "auth" not in str(sandbox.state.calls.get("user.get", [])[:1])


def test_a_revoked_webhook_stops_the_portal_without_retries(sandbox, zup, webhook_url):
    portal = connect_webhook(webhook_url)
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    sandbox.state.webhooks.clear()  # the admin deleted the webhook in Bitrix24
    before = sandbox.state.stats["http_requests"]
    run = run_sync(portal, today=ZUP_TODAY)
    assert run.status == RunStatus.FAILED
    portal.refresh_from_db()
    assert portal.status == PortalStatus.NEEDS_REAUTH and "webhook" in portal.status_reason
    assert sandbox.state.stats["http_requests"] - before == 1  # one refused call, no retry storm
    with pytest.raises(Exception):
        BitrixClient.for_portal(portal).call("profile")  # refused here, before any request
    assert sandbox.state.stats["http_requests"] - before == 1


def test_a_missing_scope_is_named_at_connect_time(sandbox, settings, transactional_db):
    settings.BITRIX_PLAIN_HTTP_HOSTS = [sandbox.state.domain]
    url = control(sandbox, "webhook", {"user_id": 1, "scopes": ["user"]})["url"]
    with pytest.raises(WebhookRefused) as refused:
        connect_webhook(url)
    assert "department, calendar" in str(refused.value)
    with pytest.raises(CommandError):
        call_command("portal_connect", webhook=url)
    assert not Portal.objects.exists()


def test_plain_http_and_foreign_urls_are_refused(sandbox, webhook_url, settings):
    settings.BITRIX_PLAIN_HTTP_HOSTS = []
    with pytest.raises(WebhookRefused, match="plain http"):
        connect_webhook(webhook_url)
    with pytest.raises(WebhookRefused, match="not an incoming webhook URL"):
        connect_webhook(f"https://{sandbox.state.domain}/rest/user.get")
    wrong = control(sandbox, "webhook", {"user_id": 1})["url"].replace("/1/", "/1/x")
    settings.BITRIX_PLAIN_HTTP_HOSTS = [sandbox.state.domain]
    with pytest.raises(WebhookRefused, match="refused the webhook"):
        connect_webhook(wrong)
