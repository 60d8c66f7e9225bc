"""Install, reinstall, events and uninstall over real HTTP between the sandbox portal and the app."""
import requests
from django.db import connection

from bitrix_app.models import Portal, PortalStatus
from tests.conftest import control, install


def _event(live_server, event, auth, data=None):
    body = {"event": event, "ts": "1"}
    body.update({f"auth[{k}]": v for k, v in auth.items()})
    body.update({f"data[{k}]": v for k, v in (data or {}).items()})
    return requests.post(f"{live_server.url}/bitrix/events/", data=body, timeout=10)


def test_install_stores_portal_binds_events_and_finishes(sandbox, live_server, transactional_db):
    answer = control(sandbox, "install")
    assert answer["status"] == 200
    assert "BX24.installFinish()" in answer["body"]
    portal = Portal.objects.get(member_id=sandbox.state.member_id)
    assert portal.status == PortalStatus.PENDING  # installFinish() not yet called
    assert portal.domain == sandbox.state.domain
    assert portal.client_endpoint == sandbox.state.client_endpoint
    assert portal.scope.split(",") == list(sandbox.state.app.scope)
    bound = {(b["event"], b["handler"]) for b in control(sandbox, "state", method="get")["event_bindings"]}
    assert bound == {("ONAPPINSTALL", f"{live_server.url}/bitrix/events/"),
                     ("ONAPPUNINSTALL", f"{live_server.url}/bitrix/events/")}

    finished = control(sandbox, "install-finish")
    assert finished["deliveries"] == [{"handler": f"{live_server.url}/bitrix/events/", "status": 200}]
    portal.refresh_from_db()
    assert portal.status == PortalStatus.ACTIVE


def test_tokens_are_encrypted_at_rest(installed):
    sandbox, portal = installed
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token, application_token_hash FROM bitrix_app_portal WHERE id=%s",
                       [portal.pk])
        raw_access, raw_refresh, app_hash = cursor.fetchone()
    assert portal.access_token and portal.access_token not in raw_access
    assert portal.refresh_token not in raw_refresh
    assert raw_access.startswith("gAAAAA")  # Fernet token
    assert sandbox.state.application_token not in app_hash


def test_reinstall_updates_the_same_row(installed):
    sandbox, portal = installed
    control(sandbox, "install")
    control(sandbox, "install-finish")
    assert Portal.objects.filter(member_id=sandbox.state.member_id).count() == 1
    # event.bind is not repeated: a second bind would be refused by the portal
    assert len(control(sandbox, "state", method="get")["event_bindings"]) == 2


def test_install_from_an_untrusted_oauth_server_is_refused(sandbox, live_server, transactional_db, settings):
    settings.BITRIX_OAUTH_SERVER_HOSTS = ["oauth.bitrix.info"]
    answer = control(sandbox, "install")
    assert answer["status"] == 403
    assert "BITRIX_OAUTH_SERVER_HOSTS" in answer["body"]
    assert not Portal.objects.exists()


def test_install_with_a_forged_token_is_refused(sandbox, live_server, transactional_db):
    response = requests.post(
        f"{live_server.url}/bitrix/install/?DOMAIN={sandbox.state.domain}&PROTOCOL=0&LANG=ru",
        data={"AUTH_ID": "forged", "REFRESH_ID": "forged", "AUTH_EXPIRES": "3600", "member_id": "m-forged",
              "SERVER_ENDPOINT": sandbox.state.server_endpoint, "APPLICATION_TOKEN": "x"},
        timeout=10,
    )
    assert response.status_code == 403
    assert not Portal.objects.exists()


def test_uninstall_with_a_wrong_token_changes_nothing(installed, live_server):
    sandbox, portal = installed
    before = Portal.objects.get(pk=portal.pk)
    response = _event(live_server, "ONAPPUNINSTALL",
                      {"member_id": portal.member_id, "application_token": "not-the-token", "domain": portal.domain},
                      {"CLEAN": "1"})
    assert response.status_code == 401
    after = Portal.objects.get(pk=portal.pk)
    assert (after.status, after.access_token, after.refresh_token) == (before.status, before.access_token, before.refresh_token)


def test_event_from_an_unknown_portal_gets_401(installed, live_server):
    sandbox, portal = installed
    response = _event(live_server, "ONAPPUNINSTALL",
                      {"member_id": "unknown", "application_token": sandbox.state.application_token})
    assert response.status_code == 401
    assert Portal.objects.get(pk=portal.pk).status == PortalStatus.ACTIVE


def test_uninstall_disables_the_portal_and_wipes_tokens(installed):
    sandbox, portal = installed
    answer = control(sandbox, "uninstall", {"clean": 0})
    assert [d["status"] for d in answer["deliveries"]] == [200]
    portal.refresh_from_db()
    assert portal.status == PortalStatus.UNINSTALLED
    assert (portal.access_token, portal.refresh_token, portal.application_token_hash) == ("", "", "")
    assert portal.uninstalled_at is not None


def test_uninstall_with_clean_deletes_the_portals_data(installed, eager_celery):
    sandbox, portal = installed
    control(sandbox, "uninstall", {"clean": 1})  # the deletion task runs in-process here
    assert not Portal.objects.filter(pk=portal.pk).exists()


def test_reinstall_after_uninstall_revives_the_row(installed):
    sandbox, portal = installed
    control(sandbox, "uninstall", {"clean": 0})
    install(sandbox)
    revived = Portal.objects.get(member_id=sandbox.state.member_id)
    assert revived.pk == portal.pk
    assert revived.status == PortalStatus.ACTIVE and revived.refresh_token


def test_onappinstall_alone_installs_a_portal(sandbox, live_server, transactional_db):
    """When the install page did not store the portal, ONAPPINSTALL's own (verified) tokens do."""
    state = sandbox.state
    state.app_present = state.app_installed = True
    state.application_token = "apptoken-from-event"
    tokens = state.issue_tokens(1)
    response = _event(live_server, "ONAPPINSTALL", {
        "member_id": state.member_id, "domain": state.domain, "client_endpoint": state.client_endpoint,
        "server_endpoint": state.server_endpoint, "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"], "expires_in": "3600", "application_token": "apptoken-from-event",
        "scope": "user department calendar", "status": "L",
    }, {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "ru"})
    assert response.status_code == 200
    portal = Portal.objects.get(member_id=state.member_id)
    assert portal.status == PortalStatus.ACTIVE
    assert portal.scope == "user,department,calendar"


def test_onappinstall_with_forged_tokens_for_an_unknown_portal_is_refused(sandbox, live_server, transactional_db):
    state = sandbox.state
    response = _event(live_server, "ONAPPINSTALL", {
        "member_id": "attacker", "domain": state.domain, "client_endpoint": state.client_endpoint,
        "server_endpoint": state.server_endpoint, "access_token": "forged", "refresh_token": "forged",
        "application_token": "whatever"})
    assert response.status_code == 401
    assert not Portal.objects.exists()


def test_a_reinstall_waits_until_the_cleared_data_is_gone(installed, live_server):
    """Uninstalled with "clear application data" and the deletion not done yet: the old rows are not revived."""
    from bitrix_app.services import DELETION_PENDING

    sandbox, portal = installed
    control(sandbox, "uninstall", {"clean": 1})  # no worker here: the deletion is still pending
    assert Portal.objects.get(pk=portal.pk).status_reason == DELETION_PENDING
    answer = control(sandbox, "install")
    assert answer["status"] == 403 and "being deleted" in answer["body"]
    assert Portal.objects.get(pk=portal.pk).status == PortalStatus.UNINSTALLED
