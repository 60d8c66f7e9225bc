"""The sandbox portal is a product part (the demo runs on it): it must enforce what a real portal does."""
import pytest
import requests

from sandbox.bitrix24.phpquery import flatten, parse_query
from sandbox.bitrix24.server import start_portal
from sandbox.bitrix24.state import AppRegistration


@pytest.fixture
def portal_factory():
    started = []

    def start(**options):
        running = start_portal(app=AppRegistration(app_url="http://127.0.0.1:1/app/"), **options)
        running.state.app_present = True
        started.append(running)
        return running, running.state.issue_tokens(1)

    yield start
    for running in started:
        running.shutdown()


def _call(running, method, params=None, token=None):
    return requests.post(f"{running.state.client_endpoint}{method}", json={**(params or {}), "auth": token}, timeout=5)


def test_php_query_round_trip():
    params = {"FILTER": {">ID": "5", "UF_DEPARTMENT": ["1", "2"]}, "select": ["ID", "NAME"]}
    from urllib.parse import urlencode

    assert parse_query(urlencode(flatten(params))) == params


def test_user_add_enforces_email_department_and_uniqueness(portal_factory):
    running, tokens = portal_factory(limits_enabled=False)
    token = tokens["access_token"]
    missing_email = _call(running, "user.add", {"NAME": "X", "UF_DEPARTMENT": [1]}, token)
    assert missing_email.status_code == 400 and missing_email.json()["error_description"] == "wrong_email"
    no_department = _call(running, "user.add", {"EMAIL": "a@b.ru"}, token)
    assert no_department.json()["error_description"] == "no_extranet_field"
    ok = _call(running, "user.add", {"EMAIL": "a@b.ru", "UF_DEPARTMENT": [1], "WORK_POSITION": "Бухгалтер"}, token)
    assert isinstance(ok.json()["result"], int)
    duplicate = _call(running, "user.add", {"EMAIL": "A@b.ru", "UF_DEPARTMENT": [1]}, token)
    assert "already exists" in duplicate.json()["error_description"]
    wrong_type = _call(running, "user.add", {"EMAIL": "c@b.ru", "UF_DEPARTMENT": [1], "PERSONAL_BIRTHDAY": 5}, token)
    assert wrong_type.json()["error"] == "invalid_type_field"
    dismissed = _call(running, "user.update", {"ID": ok.json()["result"], "ACTIVE": "N"}, token)
    assert dismissed.json()["result"] is True
    everyone = _call(running, "user.get", {}, token).json()
    active = _call(running, "user.get", {"FILTER": {"ACTIVE": True}}, token).json()
    assert everyone["total"] == 2 and active["total"] == 1  # dismissed users are returned unless filtered



def test_one_root_department_and_no_cycles(portal_factory):
    running, tokens = portal_factory(limits_enabled=False)
    token = tokens["access_token"]
    second_root = _call(running, "department.add", {"NAME": "Вторая компания"}, token)
    assert "only be one top-level department" in second_root.json()["error_description"]
    child = _call(running, "department.add", {"NAME": "Отдел", "PARENT": 1}, token).json()["result"]
    grandchild = _call(running, "department.add", {"NAME": "Группа", "PARENT": child}, token).json()["result"]
    cycle = _call(running, "department.update", {"ID": child, "PARENT": grandchild}, token)
    assert cycle.status_code == 400



def test_tokens_expire_and_refresh_tokens_are_single_use(portal_factory):
    running, tokens = portal_factory(limits_enabled=False, access_ttl=0.2)
    import time

    time.sleep(0.3)
    expired = _call(running, "profile", token=tokens["access_token"])
    assert expired.status_code == 401 and expired.json()["error"] == "expired_token"
    query = {"grant_type": "refresh_token", "client_id": "local.hrsync.sandbox", "client_secret": "sandbox-secret",
             "refresh_token": tokens["refresh_token"]}
    first = requests.get(f"http://{running.oauth_host}/oauth/token/", params=query, timeout=5)
    assert first.status_code == 200 and first.json()["refresh_token"] != tokens["refresh_token"]
    again = requests.get(f"http://{running.oauth_host}/oauth/token/", params=query, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"



def test_leaky_bucket_answers_503_past_the_burst(portal_factory):
    running, tokens = portal_factory(rate=1.0, burst=5)
    statuses = [_call(running, "profile", token=tokens["access_token"]).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and 503 in statuses[5:]
    body = _call(running, "profile", token=tokens["access_token"]).json()
    assert body["error"] == "QUERY_LIMIT_EXCEEDED"



def test_batch_always_answers_200_and_refuses_more_than_50(portal_factory):
    running, tokens = portal_factory(limits_enabled=False)
    token = tokens["access_token"]
    answer = _call(running, "batch", {"cmd": {"a": "profile", "b": "no.such.method"}}, token)
    assert answer.status_code == 200
    body = answer.json()["result"]
    assert body["result"]["a"]["ID"] == "1" and body["result_error"]["b"]["error"] == "ERROR_METHOD_NOT_FOUND"
    too_long = _call(running, "batch", {"cmd": {str(i): "profile" for i in range(51)}}, token)
    assert too_long.status_code == 400 and too_long.json()["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"



def test_absence_chart_has_no_rest_writer_but_calendar_events_work(portal_factory):
    running, tokens = portal_factory(limits_enabled=False)
    token = tokens["access_token"]
    assert _call(running, "timeman.absence.add", {"USER_ID": 1}, token).status_code == 404  # does not exist in Bitrix24
    section = _call(running, "calendar.section.get", {"type": "user", "ownerId": 1}, token).json()["result"][0]
    assert section["PERM"]["add"] is True
    # calendar_restservice.php EventAdd: without a section the portal picks the owner's own calendar.
    no_section = _call(running, "calendar.event.add", {"type": "user", "ownerId": 1, "from": "2026-12-01",
                                                      "to": "2026-12-05", "name": "Отпуск"}, token)
    assert isinstance(no_section.json()["result"], int)
    assert running.state.events[no_section.json()["result"]]["SECTION_ID"] == int(section["ID"])
    wrong = _call(running, "calendar.event.add", {"type": "user", "ownerId": 1, "from": "2026-12-01", "to": "2026-12-05",
                                                 "name": "Отпуск", "section": 999}, token)
    assert "invalid calendar section" in wrong.json()["error_description"]
    event = _call(running, "calendar.event.add", {"type": "user", "ownerId": 1, "from": "2026-12-01", "to": "2026-12-05",
                                                 "name": "Отпуск", "section": section["ID"], "skip_time": "Y",
                                                 "accessibility": "absent"}, token)
    assert isinstance(event.json()["result"], int)
