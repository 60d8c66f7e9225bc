"""The sandbox portal's time budget per method behaves as the rest module's LoadLimiter (its source is cited in
sandbox/bitrix24/operating.py): what is charged to which method, what the answers say, what a ban does."""
from __future__ import annotations

import time

import pytest
import requests

from sandbox.bitrix24.server import start_portal
from sandbox.bitrix24.state import AppRegistration


@pytest.fixture
def portal():
    running = start_portal(app=AppRegistration(app_url="http://127.0.0.1:1/"), rate=100, burst=1000)
    running.state.app_present = running.state.app_installed = True
    token = running.state.issue_tokens(1)["access_token"]
    requests.post(f"{running.url}/_sandbox/limits", json={
        "operating": {"limit": 1.0, "bucket_seconds": 1, "ban_seconds": 1.5}, "server_time": {"user.get": 0.15}},
        timeout=10).raise_for_status()
    yield running, token
    running.shutdown()


def _call(running, token, method, **params):
    return requests.post(f"{running.state.client_endpoint}{method}", json={"auth": token, **params}, timeout=10)


def test_each_command_is_charged_to_its_method_and_the_batch_to_batch_at_half(portal):
    running, token = portal
    answer = _call(running, token, "batch", cmd={"a": "user.get?ID=1", "b": "user.get?ID=1", "p": "profile"}).json()
    times = answer["result"]["result_time"]
    # While the request runs, its calls over 0.1 s count: the second command sees the first's time.
    assert times["a"]["operating"] == pytest.approx(0.15, abs=0.03)
    assert times["b"]["operating"] == pytest.approx(0.30, abs=0.05)
    assert times["p"]["operating"] == 0  # another method, its own budget
    assert answer["time"]["operating"] == pytest.approx(0.15, abs=0.05)  # the batch: half its 0.3 s
    for block in (times["a"], answer["time"]):
        assert block["operating_reset_at"] >= int(block["start"]) - 1


def test_past_the_limit_a_method_is_banned_with_a_429_without_time_then_free_again(portal):
    running, token = portal
    for _ in range(4):  # 4 × 0.3 s of user.get: past the 1 s limit
        _call(running, token, "batch", cmd={"a": "user.get?ID=1", "b": "user.get?ID=1"})
    refused = _call(running, token, "user.get", ID=1)
    assert refused.status_code == 429
    assert refused.json() == {"error": "OPERATION_TIME_LIMIT",
                              "error_description": "Method is blocked due to operation time limit."}
    in_batch = _call(running, token, "batch", cmd={"a": "user.get?ID=1", "p": "profile"}).json()["result"]
    assert in_batch["result_error"]["a"]["error"] == "OPERATION_TIME_LIMIT" and "p" in in_batch["result"]
    time.sleep(1.6)  # the ban ends, and the method's minutes were cleared with it (the 1.2 s before the ban
    again = _call(running, token, "user.get", ID=1)  # are gone; what the banning request had run is written after)
    assert again.status_code == 200 and again.json()["time"]["operating"] < 0.5


def test_with_the_limiter_off_answers_carry_no_counters(portal):
    running, token = portal
    requests.post(f"{running.url}/_sandbox/limits", json={"operating": {"enabled": False}}, timeout=10)
    answer = _call(running, token, "user.get", ID=1).json()
    assert "operating" not in answer["time"] and "operating_reset_at" not in answer["time"]
