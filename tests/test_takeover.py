"""Nobody takes over a portal: the install handshake, events and refreshes trust only Bitrix24's OAuth server.

Two sandbox portals (B, whose user attacks, and C, the victim) and a stand-in attacker host on loopback
that records every request it gets. Each attack must leave C's row, tokens and application token as they
were, and send nothing to the attacker.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bitrix_app.models import Portal, PortalStatus
from hrsync.models import RunStatus
from hrsync.services import run_sync
from payroll_connector.services import connect_odata
from tests.conftest import ZUP_TODAY, control, install


class AttackerHost:
    """Answers everything like a portal would (200, a JSON `result`) and remembers what it was sent."""

    def __init__(self) -> None:
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                seen.append((self.command, self.path, self.rfile.read(length).decode("utf-8", "replace")))
                body = b'{"result": {"ID": "1", "ADMIN": true, "INSTALLED": true, "LICENSE_FAMILY": "ent"}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.host = f"127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def two_portals(sandbox_factory, transactional_db):
    attacker = AttackerHost()
    portal_b, portal_c = sandbox_factory(), sandbox_factory()
    install(portal_b)
    victim = install(portal_c)
    yield portal_b, portal_c, victim, attacker
    attacker.close()


def _row(portal: Portal) -> tuple:
    portal = Portal.objects.get(pk=portal.pk)
    return (portal.domain, portal.client_endpoint, portal.server_endpoint, portal.access_token, portal.refresh_token,
            portal.application_token_hash, portal.status, portal.token_user_id)


def _colleague_tokens(running, *, admin: bool = False) -> dict:
    user_id = control(running, "users", {"NAME": "Злоумышленник", "LAST_NAME": "Коллегов", "EMAIL": "x@b.example",
                                         "admin": admin})["id"]
    with running.state.lock:
        return running.state.issue_tokens(user_id)


def _post_install(live_server, *, domain: str, form: dict) -> requests.Response:
    return requests.post(f"{live_server.url}/bitrix/install/?DOMAIN={domain}&PROTOCOL=0&LANG=ru", data=form, timeout=30)


@pytest.mark.parametrize("admin", [False, True])
def test_install_with_another_portals_token_cannot_repoint_a_portal(two_portals, live_server, admin):
    portal_b, portal_c, victim, attacker = two_portals
    before = _row(victim)
    tokens = _colleague_tokens(portal_b, admin=admin)
    for server_endpoint in (portal_b.state.server_endpoint, portal_c.state.server_endpoint):
        response = _post_install(live_server, domain=attacker.host, form={
            "AUTH_ID": tokens["access_token"], "REFRESH_ID": tokens["refresh_token"], "AUTH_EXPIRES": "3600",
            "member_id": portal_c.state.member_id, "SERVER_ENDPOINT": server_endpoint,
            "APPLICATION_TOKEN": "attacker-chosen", "APPLICATION_SCOPE": "user,department", "status": "L"})
        assert response.status_code == 403, response.text[:300]
    assert _row(victim) == before
    assert attacker.seen == []


def test_a_non_admin_cannot_install_even_into_their_own_portal(sandbox, live_server, transactional_db):
    control(sandbox, "install")  # the portal knows the app; nobody stored it yet through a non-admin
    Portal.objects.all().delete()
    tokens = _colleague_tokens(sandbox, admin=False)
    response = _post_install(live_server, domain=sandbox.state.domain, form={
        "AUTH_ID": tokens["access_token"], "REFRESH_ID": tokens["refresh_token"], "AUTH_EXPIRES": "3600",
        "member_id": sandbox.state.member_id, "SERVER_ENDPOINT": sandbox.state.server_endpoint,
        "APPLICATION_TOKEN": sandbox.state.application_token, "APPLICATION_SCOPE": "user", "status": "L"})
    assert response.status_code == 403
    assert "administrator" in response.text
    assert not Portal.objects.exists()


def _event(live_server, event: str, auth: dict, data: dict | None = None) -> requests.Response:
    body = {"event": event, "ts": "1", **{f"auth[{k}]": v for k, v in auth.items()},
            **{f"data[{k}]": v for k, v in (data or {}).items()}}
    return requests.post(f"{live_server.url}/bitrix/events/", data=body, timeout=30)


def test_events_with_another_portals_token_change_nothing(two_portals, live_server):
    portal_b, portal_c, victim, attacker = two_portals
    before = _row(victim)
    tokens = _colleague_tokens(portal_b, admin=True)
    forged = {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"], "expires_in": "3600",
              "member_id": portal_c.state.member_id, "domain": attacker.host,
              "client_endpoint": f"http://{attacker.host}/rest/", "server_endpoint": portal_b.state.server_endpoint,
              "application_token": "attacker-chosen", "scope": "user department", "status": "L", "user_id": "1"}
    assert _event(live_server, "ONAPPINSTALL", forged).status_code == 401
    # After an uninstall the row is unguarded by an application token: the forged install still fails.
    Portal.objects.filter(pk=victim.pk).update(status=PortalStatus.UNINSTALLED)
    assert _event(live_server, "ONAPPINSTALL", forged).status_code == 401
    Portal.objects.filter(pk=victim.pk).update(status=PortalStatus.ACTIVE)
    assert _event(live_server, "ONAPPUNINSTALL", {**forged, "access_token": "", "refresh_token": ""},
                  {"CLEAN": "1"}).status_code == 401
    assert _row(victim) == before
    assert attacker.seen == []


def test_the_victim_still_syncs_only_to_its_own_portal(two_portals, live_server, zup):
    portal_b, portal_c, victim, attacker = two_portals
    tokens = _colleague_tokens(portal_b)
    _post_install(live_server, domain=attacker.host, form={
        "AUTH_ID": tokens["access_token"], "REFRESH_ID": tokens["refresh_token"], "AUTH_EXPIRES": "3600",
        "member_id": portal_c.state.member_id, "SERVER_ENDPOINT": portal_b.state.server_endpoint,
        "APPLICATION_TOKEN": "attacker-chosen"})
    connect_odata(victim, url=zup.odata_url, username="odata", password="secret")
    users_on_b = len(portal_b.state.users)
    run = run_sync(victim, today=ZUP_TODAY)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert portal_c.state.stats["by_method"].get("user.add", 0) > 0
    assert len(portal_b.state.users) == users_on_b and attacker.seen == []


def test_a_refresh_answer_for_another_portal_is_not_stored(two_portals, settings):
    """The refresh answer names its portal (member_id); a pair for another portal never lands in this row."""
    from bitrix_app.client.errors import BitrixAuthError
    from bitrix_app.client.oauth import refresh_portal_tokens

    portal_b, portal_c, victim, attacker = two_portals
    before = _row(victim)
    # The victim's row is (wrongly) made to renew through portal B's OAuth server with a token of B.
    with portal_b.state.lock:
        foreign = portal_b.state.issue_tokens(1)
    Portal.objects.filter(pk=victim.pk).update(server_endpoint=portal_b.state.server_endpoint)
    stored = Portal.objects.get(pk=victim.pk)
    stored.refresh_token = foreign["refresh_token"]
    stored.save()
    with pytest.raises(BitrixAuthError, match="another|pair of portal"):
        refresh_portal_tokens(victim.pk, failed_access_token=stored.access_token)
    after = Portal.objects.get(pk=victim.pk)
    assert after.access_token == before[3] and after.client_endpoint == before[1]
