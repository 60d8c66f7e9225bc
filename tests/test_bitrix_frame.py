"""The app page inside the portal's frame: request checks, the cookie-less session, frame headers."""
import re

import requests
from django.core import signing

from bitrix_app.frame import FrameSession
from bitrix_app.models import PortalStatus
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


def test_the_session_link_works_without_cookies(installed, live_server):
    sandbox, portal = installed
    response = _open_app(sandbox)
    link = re.search(r'href="([^"]+)" data-testid="refresh-link"', response.text).group(1).replace("&amp;", "&")
    again = requests.get(f"{live_server.url}{link}", timeout=10)  # a fresh requests call: no cookies at all
    assert again.status_code == 200 and portal.domain in again.text


def test_forged_or_expired_session_gets_403(installed, live_server, settings):
    sandbox, portal = installed
    forged = signing.dumps({"p": portal.pk, "u": "1", "a": True, "l": "ru"}, salt="another-salt")
    assert requests.get(f"{live_server.url}/bitrix/app/home/?s={forged}", timeout=10).status_code == 403
    token = FrameSession(portal.pk, "1", True, "ru").dumps()
    settings.FRAME_SESSION_MAX_AGE = -1
    assert requests.get(f"{live_server.url}/bitrix/app/home/", params={"s": token}, timeout=10).status_code == 403


def test_a_session_of_portal_a_shows_nothing_of_portal_b(sandbox_factory, live_server, transactional_db):
    portal_a = install(sandbox_factory())
    portal_b = install(sandbox_factory())
    token_a = FrameSession(portal_a.pk, "1", True, "ru").dumps()
    page = requests.get(f"{live_server.url}/bitrix/app/home/", params={"s": token_a}, timeout=10)
    assert portal_a.domain in page.text and portal_b.domain not in page.text
    # Swapping the portal id inside the token breaks the signature.
    tampered = token_a.replace(token_a.split(":")[0], signing.dumps({"p": portal_b.pk}, salt="x").split(":")[0])
    assert requests.get(f"{live_server.url}/bitrix/app/home/", params={"s": tampered}, timeout=10).status_code == 403


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
