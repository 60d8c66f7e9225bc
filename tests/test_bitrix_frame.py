"""The app page inside the portal's frame: request checks, the cookie-less session, frame headers."""
import re

import requests

from bitrix_app.frame import FrameSession
from bitrix_app.models import FrameSessionRecord, PortalStatus
from tests.conftest import control, install


def _open_app(sandbox, user_id=1, lang="ru", **override):
    page = requests.get(f"{sandbox.url}/marketplace/app/?user_id={user_id}&lang={lang}", timeout=10)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    action = re.search(r'action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    fields.update(override)
    return requests.post(action, data=fields, timeout=10)


def test_app_page_opens_for_the_portal_with_frame_headers(installed):
    sandbox, portal = installed
    response = _open_app(sandbox)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == f"frame-ancestors 'self' http://{sandbox.state.domain}"
    assert "X-Frame-Options" not in response.headers
    assert portal.domain in response.text
    assert 'data-testid="portal-status">Активно' in response.text
    assert "Администратор" in response.text


def test_app_page_in_english_for_an_english_portal(installed):
    sandbox, portal = installed
    response = _open_app(sandbox, lang="en")
    assert 'data-testid="portal-status">Active' in response.text


def test_wrong_application_token_gets_403(installed):
    sandbox, portal = installed
    response = _open_app(sandbox, APPLICATION_TOKEN="forged")
    assert response.status_code == 403
    assert "frame-ancestors 'self'" == response.headers["Content-Security-Policy"]


def test_forged_auth_id_gets_403(installed):
    sandbox, portal = installed
    assert _open_app(sandbox, AUTH_ID="forged").status_code == 403


def _session_of(response) -> str:
    return re.search(r'<meta name="hrsync-session" content="([^"]+)">', response.text).group(1)


def _page(live_server, path, token, **query):
    return requests.post(f"{live_server.url}/bitrix/app/{path}", params=query, data={"s": token, "_nav": "1"}, timeout=10)


def test_the_session_travels_in_bodies_and_headers_never_in_urls(installed, live_server):
    sandbox, portal = installed
    response = _open_app(sandbox)
    token = _session_of(response)
    assert token not in "".join(re.findall(r'(?:href|action|src)="([^"]*)"', response.text))
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "same-origin"
    again = _page(live_server, "home/", token)  # a fresh requests call: no cookies at all
    assert again.status_code == 200 and portal.domain in again.text
    assert requests.get(f"{live_server.url}/bitrix/app/home/", params={"s": token}, timeout=10).status_code == 403
    by_header = requests.get(f"{live_server.url}/bitrix/app/progress/?format=json", timeout=10,
                             headers={"X-Frame-Session": token})
    assert by_header.status_code == 200 and "percent" in by_header.json()
    stored = FrameSessionRecord.objects.get()
    assert token not in stored.token_hash and stored.auth_id and stored.auth_id not in token


def test_forged_expired_or_revoked_sessions_get_403(installed, live_server, settings):
    sandbox, portal = installed
    assert _page(live_server, "home/", "forged-" + "x" * 40).status_code == 403
    session = FrameSession.open(portal, "1", True, "ru")
    assert _page(live_server, "home/", session.token).status_code == 200
    settings.FRAME_SESSION_IDLE = 0
    idle = FrameSession.open(portal, "1", True, "ru")
    assert _page(live_server, "home/", idle.token).status_code == 403  # unused past its idle life
    settings.FRAME_SESSION_IDLE = 900
    other = FrameSession.open(portal, "1", True, "ru")
    settings.FRAME_SESSION_MAX_AGE = -1
    assert _page(live_server, "home/", other.token).status_code == 403  # past its maximum age, used or not
    settings.FRAME_SESSION_MAX_AGE = 3600
    third = FrameSession.open(portal, "1", True, "ru")
    third.revoke()
    assert _page(live_server, "home/", third.token).status_code == 403


def test_an_admin_demoted_in_bitrix24_can_change_nothing(installed, live_server, settings):
    sandbox, portal = installed
    settings.FRAME_ADMIN_RECHECK_SECONDS = 0  # ask Bitrix24 before every change
    token = _session_of(_open_app(sandbox))
    saved = requests.post(f"{live_server.url}/bitrix/app/absence-types/", data={"s": token, "kind:Болезнь": "OTHER"},
                          timeout=10)
    assert saved.status_code == 200
    sandbox.state.users[1]["IS_ADMIN"] = False  # the portal took the right away after the app was opened
    refused = requests.post(f"{live_server.url}/bitrix/app/absence-types/", data={"s": token, "kind:Болезнь": "VACATION"},
                            timeout=10)
    assert refused.status_code == 403
    assert not FrameSessionRecord.objects.get().is_admin


def test_uninstall_ends_open_sessions(installed, live_server):
    sandbox, portal = installed
    token = _session_of(_open_app(sandbox))
    control(sandbox, "uninstall")
    assert _page(live_server, "home/", token).status_code == 403
    assert not FrameSessionRecord.objects.exists()


def test_a_session_of_portal_a_shows_nothing_of_portal_b(sandbox_factory, live_server, transactional_db):
    portal_a = install(sandbox_factory())
    portal_b = install(sandbox_factory())
    token_a = FrameSession.open(portal_a, "1", True, "ru").token
    page = _page(live_server, "home/", token_a)
    assert portal_a.domain in page.text and portal_b.domain not in page.text


def test_uninstalled_portal_cannot_open_the_app(installed):
    sandbox, portal = installed
    token = sandbox.state.application_token
    control(sandbox, "uninstall")
    sandbox.state.app_present = True  # the frame page still posts; the app must refuse it
    sandbox.state.application_token = token
    assert _open_app(sandbox).status_code == 403


def test_pending_portal_becomes_active_when_opened_after_install_finish(sandbox, transactional_db):
    portal = install(sandbox, finish=False)
    assert portal.status == PortalStatus.PENDING
    sandbox.state.app_installed = True  # installFinish() reached the portal; ONAPPINSTALL was lost
    assert 'data-testid="portal-status">Активно' in _open_app(sandbox).text
