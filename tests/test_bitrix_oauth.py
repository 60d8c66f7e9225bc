"""OAuth refresh over HTTP against the sandbox's OAuth server: expiry, races between processes, dead tokens."""
import json
import subprocess
import time

import pytest
import requests

from bitrix_app.client import BitrixClient, BitrixReauthRequired
from bitrix_app.models import Portal, PortalStatus
from bitrix_app.tasks import keep_portals_alive
from tests.conftest import PYTHON, ROOT, child_env, control


def test_expired_token_is_refreshed_once_and_the_call_repeated(installed):
    sandbox, portal = installed
    old_access, old_refresh = portal.access_token, portal.refresh_token
    control(sandbox, "faults", {"expire_tokens": True})
    client = BitrixClient.for_portal(portal)
    users = client.call("user.get")
    assert users[0]["ID"] == "1"
    assert sandbox.state.stats["token_refreshes"] == 1
    stored = Portal.objects.get(pk=portal.pk)
    assert stored.access_token != old_access and stored.refresh_token != old_refresh
    assert stored.token_refreshed_at is not None
    # The old refresh token died with the exchange (single use).
    assert old_refresh not in sandbox.state.refresh_tokens


def test_refresh_uses_get_on_the_server_endpoint_host(installed, settings):
    """The sandbox's token endpoint answers only GET, and only on the OAuth listener."""
    sandbox, portal = installed
    response = requests.post(f"http://{sandbox.oauth_host}/oauth/token/", timeout=5)
    assert response.status_code == 405
    portal.access_expires_at = None  # our clock says expired: refresh before calling
    portal.save()
    BitrixClient.for_portal(portal).call("app.info")
    assert sandbox.state.stats["token_refreshes"] == 1


def test_two_processes_with_an_expired_token_refresh_once_and_both_succeed(installed):
    sandbox, portal = installed
    control(sandbox, "faults", {"expire_tokens": True})
    start_at = time.time() + 2.5  # both processes are up and waiting by then
    workers = [
        subprocess.Popen([PYTHON, "-m", "tests.helpers.portal_worker", str(portal.pk), str(start_at), "3", "user.get"],
                         cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["errors"] == [] for r in results), results
    assert sandbox.state.stats["token_refreshes"] == 1
    assert Portal.objects.get(pk=portal.pk).status == PortalStatus.ACTIVE


def test_invalid_grant_marks_needs_reauth_without_a_retry_storm(installed, live_server):
    sandbox, portal = installed
    control(sandbox, "faults", {"expire_tokens": True, "revoke_refresh_tokens": True})
    client = BitrixClient.for_portal(portal)
    with pytest.raises(BitrixReauthRequired):
        client.call("user.get")
    stored = Portal.objects.get(pk=portal.pk)
    assert stored.status == PortalStatus.NEEDS_REAUTH
    assert "invalid_grant" in stored.status_reason
    assert not stored.is_operational

    requests_before = sandbox.state.stats["http_requests"]
    with pytest.raises(BitrixReauthRequired):
        BitrixClient.for_portal(stored).call("user.get")
    assert sandbox.state.stats["http_requests"] == requests_before  # nothing sent
    assert keep_portals_alive.apply().get() == 0  # scheduled work leaves it alone


def test_needs_reauth_is_shown_and_healed_when_an_admin_opens_the_app(installed, live_server):
    sandbox, portal = installed
    control(sandbox, "faults", {"expire_tokens": True, "revoke_refresh_tokens": True})
    with pytest.raises(BitrixReauthRequired):
        BitrixClient.for_portal(portal).call("user.get")

    colleague = control(sandbox, "users", {"NAME": "Иван", "EMAIL": "ivan@sandbox.example", "admin": False})["id"]
    page = requests.get(f"{sandbox.url}/marketplace/app/?user_id={colleague}", timeout=10)
    form = _form_fields(page.text)
    response = requests.post(form.pop("_action"), data=form, timeout=10)
    assert response.status_code == 200
    assert 'data-testid="reauth-notice"' in response.text
    assert Portal.objects.get(pk=portal.pk).status == PortalStatus.NEEDS_REAUTH  # a non-admin cannot heal it

    page = requests.get(f"{sandbox.url}/marketplace/app/?user_id=1", timeout=10)
    form = _form_fields(page.text)
    response = requests.post(form.pop("_action"), data=form, timeout=10)
    assert response.status_code == 200
    healed = Portal.objects.get(pk=portal.pk)
    assert healed.status == PortalStatus.ACTIVE
    assert BitrixClient.for_portal(healed).call("profile")["ID"] == "1"


def _form_fields(html: str) -> dict:
    """The hidden form the sandbox frame page posts into the iframe."""
    import re

    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    fields["_action"] = re.search(r'action="([^"]+)"', html).group(1).replace("&amp;", "&")
    return fields
