"""Issue 13, part 2: an on-premise Bitrix24 that is its own OAuth server installs the app only when the
operator named that portal (manage.py portal_onpremise), one portal at a time; then it runs as a cloud one.

The sandbox portal started with `on_premise=True` sends its own REST base as SERVER_ENDPOINT and serves
/oauth/token/ itself; its app.info has the portal's shape (no member_id), as a real portal's does.
"""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bitrix_app.client import BitrixClient
from bitrix_app.models import OnPremisePortal, Portal, PortalStatus
from hrsync.models import RunStatus
from hrsync.services import run_sync
from payroll_connector.services import connect_odata
from tests.conftest import ZUP_TODAY, control, install


@pytest.fixture
def box(sandbox_factory, settings):
    running = sandbox_factory(on_premise=True)
    settings.BITRIX_PLAIN_HTTP_HOSTS = [running.state.domain]  # the sandbox speaks plain http on loopback
    assert running.state.server_endpoint == running.state.client_endpoint
    return running


def _install_answer(running) -> dict:
    return control(running, "install")


def test_an_on_premise_portal_not_named_by_the_operator_cannot_install(box):
    answer = _install_answer(box)
    assert answer["status"] == 403 and "portal_onpremise" in answer["body"]
    assert not Portal.objects.exists()


def test_a_named_on_premise_portal_installs_syncs_and_renews_its_pair_at_itself(box, zup):
    call_command("portal_onpremise", box.url, note="head office")
    portal = install(box)
    assert portal.status == PortalStatus.ACTIVE and portal.client_endpoint == box.state.client_endpoint
    assert OnPremisePortal.objects.get(base_url=box.url).portal == portal
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run = run_sync(portal, today=ZUP_TODAY)
    assert run.status == RunStatus.SUCCEEDED and run.outcome["failed"] == 0, run.error
    assert len(box.state.users) > 250

    refreshes = box.state.stats["token_refreshes"]
    Portal.objects.filter(pk=portal.pk).update(access_expires_at=None)  # the hour is over
    portal.refresh_from_db()
    assert BitrixClient.for_portal(portal).call("profile")["ID"]
    assert box.state.stats["token_refreshes"] == refreshes + 1
    portal.refresh_from_db()
    assert portal.status == PortalStatus.ACTIVE and portal.token_refreshed_at is not None


def test_naming_one_portal_lets_no_other_in(sandbox_factory, settings):
    named, other = sandbox_factory(on_premise=True), sandbox_factory(on_premise=True)
    settings.BITRIX_PLAIN_HTTP_HOSTS = [named.state.domain, other.state.domain]
    call_command("portal_onpremise", named.url)
    install(named)
    assert _install_answer(other)["status"] == 403
    assert list(Portal.objects.values_list("domain", flat=True)) == [named.state.domain]


def test_an_on_premise_install_cannot_take_over_another_portals_member_id(sandbox_factory, settings):
    cloud = sandbox_factory()
    victim = install(cloud)
    before = Portal.objects.filter(pk=victim.pk).values().get()
    box = sandbox_factory(on_premise=True, member_id=cloud.state.member_id)
    settings.BITRIX_PLAIN_HTTP_HOSTS = [box.state.domain]
    call_command("portal_onpremise", box.url)
    answer = _install_answer(box)
    assert answer["status"] == 403 and "belongs to another portal" in answer["body"]
    assert Portal.objects.filter(pk=victim.pk).values().get() == before
    assert Portal.objects.count() == 1


def test_a_bound_on_premise_portal_keeps_its_member_id(box):
    call_command("portal_onpremise", box.url)
    first = install(box)
    box.state.member_id = "another-member-id"  # the same address now claims to be another installation
    answer = _install_answer(box)
    assert answer["status"] == 403 and "is bound to portal" in answer["body"]
    assert list(Portal.objects.values_list("member_id", flat=True)) == [first.member_id]


@pytest.mark.parametrize("url, says", [
    ("https://*.example.ru", "patterns are not allowed"),
    ("https://bitrix.example.ru/rest/", "expected the portal's address"),
    ("http://bitrix.example.ru", "plain http"),
    ("https://oauth.bitrix.info", "cloud OAuth server"),
])
def test_the_operator_names_exact_addresses_only(url, says, transactional_db):
    with pytest.raises(CommandError, match=says):
        call_command("portal_onpremise", url)
    assert not OnPremisePortal.objects.exists()
