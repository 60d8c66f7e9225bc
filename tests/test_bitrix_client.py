"""The REST client against the sandbox portal: batch, paging, limits and faults, over real HTTP."""
import json
import subprocess
import time

import pytest

from bitrix_app.client import (
    BitrixMustWait,
    BitrixClient,
    BitrixMethodError,
    BitrixMethodNotFound,
    BitrixOperationTimeLimit,
    BitrixTransportError,
    Command,
)
from bitrix_app.client.client import IdWindows, read_lists
from tests.conftest import PYTHON, ROOT, child_env, control, install


def test_batch_of_120_with_3_bad_commands_returns_117_results_and_3_typed_errors(installed):
    sandbox, portal = installed
    client = BitrixClient.for_portal(portal)
    commands = {f"d{i}": Command("department.add", {"NAME": f"Отдел {i}", "PARENT": 1}) for i in range(117)}
    commands["no_name"] = Command("department.add", {"PARENT": 1})
    commands["no_such_method"] = Command("timeman.absence.add", {"USER_ID": 1})  # does not exist in Bitrix24
    commands["missing_department"] = Command("department.update", {"ID": 99999, "NAME": "x"})
    outcomes = client.batch(commands)
    assert client.stats.http_calls == 3
    assert sum(o.ok for o in outcomes.values()) == 117
    assert isinstance(outcomes["no_name"].error, BitrixMethodError)
    assert outcomes["no_name"].error.description == "Department name not provided."
    assert isinstance(outcomes["no_such_method"].error, BitrixMethodNotFound)
    assert isinstance(outcomes["missing_department"].error, BitrixMethodError)
    assert len(sandbox.state.departments) == 1 + 117


def test_batch_references_between_commands(installed):
    sandbox, portal = installed
    client = BitrixClient.for_portal(portal)
    outcomes = client.batch({
        "parent": Command("department.add", {"NAME": "Дирекция", "PARENT": 1}),
        "child": Command("department.add", {"NAME": "Бухгалтерия", "PARENT": "$result[parent]"}),
    })
    parent_id, child_id = outcomes["parent"].result, outcomes["child"].result
    assert sandbox.state.departments[child_id]["PARENT"] == parent_id


def test_listing_5000_users_costs_at_most_3_http_calls(installed):
    sandbox, portal = installed
    control(sandbox, "seed", {"users": 5000})
    client = BitrixClient.for_portal(portal)
    users = list(client.iter_list("user.get", {"sort": "ID", "order": "ASC"}))
    assert client.stats.http_calls <= 3
    assert len(users) == 5001
    assert len({u["ID"] for u in users}) == 5001


def test_fast_listing_by_id_windows_reads_every_user_once(installed):
    sandbox, portal = installed
    control(sandbox, "seed", {"users": 2600})
    client = BitrixClient.for_portal(portal)
    users = read_lists(client, {"usr": IdWindows(
        "user.get", lambda after: {"sort": "ID", "order": "ASC", "FILTER": {">ID": after}, "start": -1})})["usr"]
    ids = [int(u["ID"]) for u in users]
    assert ids == sorted(ids) and len(ids) == 2601 == len(set(ids))
    assert client.stats.http_calls == 2  # 50 windows of 50 per call


def test_four_workers_sharing_the_limiter_never_get_a_503(sandbox_factory, transactional_db):
    sandbox = sandbox_factory(rate=10.0, burst=20)
    portal = install(sandbox)
    control(sandbox, "stats/reset")
    control(sandbox, "limits", {"rate": 10.0, "burst": 20})  # an empty bucket to start from
    start_at = time.time() + 2.5
    workers = [
        subprocess.Popen([PYTHON, "-m", "tests.helpers.portal_worker", str(portal.pk), str(start_at), "20", "profile"],
                         cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [json.loads(w.communicate(timeout=120)[0].strip().splitlines()[-1]) for w in workers]
    stats = control(sandbox, "state", method="get")["stats"]
    assert stats["rejected_503"] == 0
    assert stats["by_method"]["profile"] == 80
    assert all(r["errors"] == [] and r["retries"] == 0 for r in results), results


def test_without_pacing_the_same_load_overflows_the_bucket(sandbox_factory, transactional_db):
    """The control case for the test above: the sandbox's bucket does refuse what is too fast."""
    import requests

    sandbox = sandbox_factory(rate=10.0, burst=20)
    portal = install(sandbox)
    control(sandbox, "limits", {"rate": 10.0, "burst": 20})
    statuses = [requests.post(f"{sandbox.state.client_endpoint}profile", json={"auth": portal.access_token},
                              timeout=5).status_code for _ in range(40)]
    assert statuses.count(503) > 0


def test_503_is_retried_with_backoff(installed):
    sandbox, portal = installed
    control(sandbox, "faults", {"rate_limit_503": 2})
    client = BitrixClient.for_portal(portal)
    assert client.call("profile")["ID"] == "1"
    assert client.stats.retries == 2 and client.stats.http_calls == 3


def test_429_waits_for_operating_reset(installed):
    sandbox, portal = installed
    control(sandbox, "faults", {"operating_limit": {"user.get": 1.5}})
    client = BitrixClient.for_portal(portal)
    started = time.monotonic()
    assert client.call("user.get")
    assert time.monotonic() - started >= 1.0
    assert client.stats.retries >= 1


def test_429_beyond_the_longest_wait_is_raised_with_its_reset_time(installed):
    """The 429 answer has no `time` block (CRestServer::processException): the ban's end is the app's to
    reckon (BITRIX_OPERATING_BAN after the refusal); beyond the longest wait the call ends with it."""
    sandbox, portal = installed
    control(sandbox, "faults", {"operating_limit": {"user.get": 600}})
    client = BitrixClient.for_portal(portal, max_operating_wait=1.0)
    asked = time.time()
    with pytest.raises(BitrixOperationTimeLimit) as raised:
        client.call("user.get")
    assert raised.value.transient and raised.value.reset_at >= asked + 2.0
    assert client.stats.http_calls == 1
    with pytest.raises(BitrixMustWait):  # and the next call is not even sent until then
        client.call("user.get")
    assert client.stats.http_calls == 1


def test_a_read_that_times_out_is_repeated(installed):
    sandbox, portal = installed
    control(sandbox, "faults", {"slow": 1, "slow_seconds": 3})
    client = BitrixClient.for_portal(portal)
    assert client.call("user.get")
    assert client.stats.retries == 1


def test_a_write_that_times_out_is_not_repeated(installed):
    """The portal may have run it: repeating user.add could create a second user."""
    sandbox, portal = installed
    control(sandbox, "faults", {"slow": 1, "slow_seconds": 3})
    client = BitrixClient.for_portal(portal)
    with pytest.raises(BitrixTransportError):
        client.call("department.add", {"NAME": "Склад", "PARENT": 1})
    time.sleep(1.5)
    assert [d["NAME"] for d in sandbox.state.departments.values()].count("Склад") == 1


def test_a_dropped_connection_on_a_read_is_repeated(installed):
    sandbox, portal = installed
    control(sandbox, "faults", {"drop": 1})
    client = BitrixClient.for_portal(portal)
    assert client.call("profile")["ID"] == "1"
    assert client.stats.http_calls == 2


def test_method_errors_carry_the_portals_message(installed):
    sandbox, portal = installed
    client = BitrixClient.for_portal(portal)
    with pytest.raises(BitrixMethodError) as raised:
        client.call("user.add", {"EMAIL": "admin@sandbox.example", "UF_DEPARTMENT": [1]})
    assert raised.value.code == "ERROR_ARGUMENT"
    assert "already exists" in raised.value.message
    assert raised.value.http_status == 400


def test_redirects_are_not_followed(installed):
    """A portal that moved (new domain, http -> https) answers 301: an error, never a silent re-post."""
    from bitrix_app.client import BitrixError

    sandbox, portal = installed
    control(sandbox, "faults", {"moved_to": "https://elsewhere.example"})
    client = BitrixClient.for_portal(portal)
    with pytest.raises(BitrixError) as raised:
        client.call("profile")
    assert raised.value.code == "UNEXPECTED_REDIRECT" and raised.value.http_status == 302
    assert "elsewhere.example" in raised.value.description
