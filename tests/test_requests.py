"""Bitrix24 -> ZUP over HTTP: workflow -> action -> outbox -> ZUP draft -> bizproc.event.send, both modes."""
import signal
import subprocess
import time
from datetime import date

import pytest
import requests

from hrsync.models import PersonMapping
from hrsync.writeback import collect_overtime, process_outbox
from hrsync.services import run_sync
from payroll_connector.models import OutboxItem, OutboxStatus
from payroll_connector.services import connect_odata, connect_push, read_snapshot
from sandbox.zup.push import post_package, snapshot_packages
from tests.conftest import PYTHON, ROOT, ZUP_TODAY, child_env, control

AUTH = ("odata", "secret")


@pytest.fixture
def synced(installed, zup, eager_celery):
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run_sync(portal, today=ZUP_TODAY)
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    mapped = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    person = next(p for p in snapshot.persons if p.guid in mapped and all(e.termination_date is None for e in p.employments)
                  and all(e.hire_date < ZUP_TODAY for e in p.employments))
    return sandbox, portal, zup, person, mapped[person.guid]


def _run_workflow(sandbox, user_id, first="01.06.2027", last="14.06.2027", kind="ОтпускОсновной", **extra):
    answer = control(sandbox, "bizproc/run", {"properties": {"employee": f"user_{user_id}", "kind": kind,
                                                             "first_day": first, "last_day": last,
                                                             "comment": "Согласовано руководителем"}, **extra})
    return answer


def _sent(sandbox, token):
    return [e for e in sandbox.state.bizproc_events_sent if e["EVENT_TOKEN"] == token]


def _documents(zup, entity="Document_Отпуск"):
    return list(zup.state.infobase.documents.get(entity, {}).values())


def test_the_action_is_registered_at_install(installed):
    sandbox, portal = installed
    # A robot and an activity share one code space (bizproc/lib/restservice.php): each has its own code.
    assert list(sandbox.state.activities) == ["hrsync_vacation_to_zup"]
    assert list(sandbox.state.robots) == ["hrsync_vacation_to_zup_robot"]
    for action in (sandbox.state.robots["hrsync_vacation_to_zup_robot"], sandbox.state.activities["hrsync_vacation_to_zup"]):
        assert action["NAME"]["ru"] == "Передать отпуск в 1С:ЗУП"
        assert set(action["RETURN_PROPERTIES"]) == {"status", "document_number", "message"}


def test_a_reinstall_brings_a_changed_definition_up_to_date(installed):
    from hrsync.writeback import register_workflow_action

    sandbox, portal = installed
    sandbox.state.activities["hrsync_vacation_to_zup"]["NAME"] = {"ru": "Старое имя"}
    sandbox.state.robots["hrsync_vacation_to_zup_robot"]["PROPERTIES"] = {}
    assert register_workflow_action(portal) == {"activity": "updated", "robot": "updated"}
    assert sandbox.state.activities["hrsync_vacation_to_zup"]["NAME"]["ru"] == "Передать отпуск в 1С:ЗУП"
    assert set(sandbox.state.robots["hrsync_vacation_to_zup_robot"]["PROPERTIES"]) >= {"employee", "first_day"}
    # The portal's rule that made both registrations under one code fail: an activity's code is taken.
    taken = requests.post(f"{sandbox.state.client_endpoint}bizproc.robot.add", timeout=10, json={
        "auth": portal.access_token, "CODE": "hrsync_vacation_to_zup", "HANDLER": f"{sandbox.state.app.app_url}x",
        "NAME": {"ru": "x"}}).json()
    assert taken["error"] == "ERROR_ACTIVITY_ALREADY_INSTALLED"


def test_round_trip_by_odata(synced):
    sandbox, portal, zup, person, user_id = synced
    answer = _run_workflow(sandbox, user_id)
    assert answer["status"] == 200
    item = OutboxItem.objects.get(portal=portal)
    assert item.status == OutboxStatus.DELIVERED
    [document] = _documents(zup)
    assert document["Posted"] is False and document["ПредоставитьОсновнойОтпуск"] is True
    assert document["ДатаНачалаОсновногоОтпуска"] == "2027-06-01T00:00:00" and document["КоличествоДнейОсновногоОтпуска"] == 14
    assert document["ФизическоеЛицо_Key"] == person.guid and item.marker in document["Комментарий"]
    [sent] = _sent(sandbox, answer["event_token"])
    assert sent["RETURN_VALUES"] == {"status": "accepted", "document_number": document["Number"],
                                     "message": f"Черновик документа {document['Number']} создан в 1С:ЗУП"}
    process_outbox(portal)  # again: nothing new in ZUP, nothing new to the workflow
    assert len(_documents(zup)) == 1 and len(_sent(sandbox, answer["event_token"])) == 1


def test_round_trip_by_push(installed, zup, eager_celery, live_server):
    sandbox, portal = installed
    connection, key = connect_push(portal)
    assert post_package(live_server.url, key, snapshot_packages(zup.state.infobase)[0]).status_code == 202
    run_sync(portal, today=ZUP_TODAY)
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    mapped = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    person = next(p for p in snapshot.persons if p.guid in mapped and all(e.termination_date is None for e in p.employments))
    answer = _run_workflow(sandbox, mapped[person.guid])
    headers = {"Authorization": f"Bearer {key}"}
    collected = requests.get(f"{live_server.url}/payroll/api/v1/outbox", headers=headers, timeout=10).json()["items"]
    again = requests.get(f"{live_server.url}/payroll/api/v1/outbox", headers=headers, timeout=10).json()["items"]
    assert [i["id"] for i in collected] == [i["id"] for i in again]  # unconfirmed: it comes back
    [item] = collected
    assert item["document"]["entity"] == "Document_Отпуск" and item["employment_guid"]
    assert item["marker"] in item["document"]["fields"]["Комментарий"]
    assert _sent(sandbox, answer["event_token"]) == []  # not yet: ZUP has not taken it
    ack = requests.post(f"{live_server.url}/payroll/api/v1/outbox/{item['id']}/ack", headers=headers, timeout=10,
                        json={"document_number": "ЗУП-0042", "document_ref": "6f1c3c52-8f0e-4c55-9d43-3c8d2b7f0a11"})
    assert ack.json()["status"] == "delivered"
    requests.post(f"{live_server.url}/payroll/api/v1/outbox/{item['id']}/ack", headers=headers, timeout=10,
                  json={"refused": "поздно"})  # a second answer changes nothing
    assert requests.get(f"{live_server.url}/payroll/api/v1/outbox", headers=headers, timeout=10).json()["items"] == []
    [sent] = _sent(sandbox, answer["event_token"])
    assert sent["RETURN_VALUES"]["document_number"] == "ЗУП-0042"
    assert OutboxItem.objects.get(pk=item["id"]).status == OutboxStatus.DELIVERED


def test_a_wrong_token_gets_401_and_stores_nothing(synced):
    sandbox, portal, zup, person, user_id = synced
    answer = _run_workflow(sandbox, user_id, application_token="forged")
    assert answer["status"] == 401
    assert not OutboxItem.objects.exists()


@pytest.mark.parametrize("case, expected", [
    ("unmapped", "не связан с 1С:ЗУП"),
    ("reversed", "Первый день отпуска позже последнего"),
    ("kind", "Вид отпуска «Отгул» не поддерживается"),
    ("dismissed", "нет действующего трудоустройства"),
    ("overlap", "уже есть отсутствие"),
])
def test_bad_requests_are_rejected_with_a_message_in_russian(case, expected, synced):
    sandbox, portal, zup, person, user_id = synced
    kwargs = {}
    if case == "unmapped":
        user_id = control(sandbox, "users", {"NAME": "Гость", "EMAIL": "guest@sandbox.example", "UF_DEPARTMENT": [1]})["id"]
    elif case == "reversed":
        kwargs = {"first": "14.06.2027", "last": "01.06.2027"}
    elif case == "kind":
        kwargs = {"kind": "Отгул"}
    elif case == "dismissed":
        for row in zup.state.infobase.rows("InformationRegister_ТекущиеКадровыеДанныеСотрудников"):
            if row["ФизическоеЛицо_Key"] == person.guid:
                row["ДатаУвольнения"] = "2027-01-31T00:00:00"
        zup.state.infobase.touch()
    elif case == "overlap":
        absence = next(a for a in read_snapshot(portal.payroll_connection, today=ZUP_TODAY).absences
                       if not a.reversed and a.end and a.end > ZUP_TODAY and a.employment_guid in
                       {e.guid for p in read_snapshot(portal.payroll_connection, today=ZUP_TODAY).persons
                        if p.guid in dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
                        for e in p.employments})
        owner = next(p for p in read_snapshot(portal.payroll_connection, today=ZUP_TODAY).persons
                     if absence.employment_guid in {e.guid for e in p.employments})
        user_id = PersonMapping.objects.get(portal=portal, payroll_id=owner.guid).user_id
        kwargs = {"first": absence.start.strftime("%d.%m.%Y"), "last": absence.end.strftime("%d.%m.%Y")}
    answer = _run_workflow(sandbox, user_id, **kwargs)
    [sent] = _sent(sandbox, answer["event_token"])
    assert sent["RETURN_VALUES"]["status"] == "rejected"
    assert expected in sent["RETURN_VALUES"]["message"]
    assert _documents(zup) == []


def test_the_same_event_token_twice_is_one_request(synced):
    sandbox, portal, zup, person, user_id = synced
    first = _run_workflow(sandbox, user_id)
    sandbox.state.pending_event_tokens.add(first["event_token"])
    _run_workflow(sandbox, user_id, event_token=first["event_token"])
    assert OutboxItem.objects.count() == 1 and len(_documents(zup)) == 1
    assert len(_sent(sandbox, first["event_token"])) == 1


def test_zup_down_for_a_while_then_back_delivers_once(synced):
    sandbox, portal, zup, person, user_id = synced
    requests.post(f"{zup.url}/_sandbox/faults", json={"down": True}, timeout=5)
    answers = [_run_workflow(sandbox, user_id, f"0{d}.10.2027", f"0{d}.10.2027") for d in range(1, 4)]
    items = list(OutboxItem.objects.filter(portal=portal))
    assert all(i.status == OutboxStatus.PENDING and i.attempts == 1 and i.next_attempt_at for i in items)
    assert all(_sent(sandbox, a["event_token"]) == [] for a in answers)
    requests.post(f"{zup.url}/_sandbox/faults", json={"down": False}, timeout=5)
    process_outbox(portal)  # still backing off: nothing happens before next_attempt_at
    assert OutboxItem.objects.filter(status=OutboxStatus.PENDING).count() == 3
    OutboxItem.objects.update(next_attempt_at=None)  # the backoff has passed
    process_outbox(portal)
    assert OutboxItem.objects.filter(status=OutboxStatus.DELIVERED).count() == 3
    assert len(_documents(zup)) == 3
    assert all(len(_sent(sandbox, a["event_token"])) == 1 for a in answers)


def test_a_worker_killed_mid_delivery_does_not_double_the_document(synced, settings):
    sandbox, portal, zup, person, user_id = synced
    requests.post(f"{zup.url}/_sandbox/faults", json={"down": True}, timeout=5)
    answer = _run_workflow(sandbox, user_id)
    OutboxItem.objects.update(next_attempt_at=None)
    requests.post(f"{zup.url}/_sandbox/faults", json={"down": False, "slow_seconds": 0.7}, timeout=5)
    base = zup.state.requests
    worker = subprocess.Popen([PYTHON, "manage.py", "process_outbox", "--portal", portal.domain], cwd=ROOT,
                              env=child_env(PAYROLL_HTTP_TIMEOUT="30"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline and zup.state.requests < base + 4:  # employment, absences, lookup, then the POST
        time.sleep(0.02)
    time.sleep(0.3)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    time.sleep(1.0)  # the POST the worker sent is still being made in ZUP
    requests.post(f"{zup.url}/_sandbox/faults", json={"slow_seconds": 0}, timeout=5)
    assert len(_documents(zup)) == 1 and OutboxItem.objects.get().status == OutboxStatus.PENDING
    process_outbox(portal)
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.DELIVERED and len(_documents(zup)) == 1
    assert item.document_number == _documents(zup)[0]["Number"]
    assert len(_sent(sandbox, answer["event_token"])) == 1


def _month_of_days(seed: int, year=2026, month=10):
    import calendar
    import random

    rng = random.Random(seed)
    days = []
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        if date(year, month, day).weekday() >= 5:
            continue
        final = 8 * 3600 + rng.choice([0, 0, 0, -1800, 3600, 5400, 9000])
        days.append({"index": f"{year}{month:02d}{day:02d}", "workday_complete": day != 30,
                     "workday_duration_config": 8 * 3600, "workday_duration_final": final,
                     "workday_time_leaks_final": 8 * 3600 - final})
    return days


def test_a_month_of_overtime_becomes_the_right_records_once(synced):
    sandbox, portal, zup, person, user_id = synced
    users = list(PersonMapping.objects.filter(portal=portal).values_list("user_id", flat=True))[:20]
    reports = [{"user_id": u, "year": 2026, "month": 10, "days": _month_of_days(u)} for u in users]
    control(sandbox, "timeman", {"reports": reports})
    expected = {(r["user_id"], d["index"]): round((d["workday_duration_final"] - 8 * 3600) / 3600, 2)
                for r in reports for d in r["days"] if d["workday_complete"] and d["workday_duration_final"] > 8 * 3600}
    counts = collect_overtime(portal, 2026, 10)
    assert counts["created"] == len(expected) > 20 and counts["with_time_tracking"] == len(users)
    got = {(i.bitrix_user_id, i.payload["date"].replace("-", "")): i.payload["hours"] for i in OutboxItem.objects.filter(kind="overtime")}
    assert got == expected
    assert collect_overtime(portal, 2026, 10)["created"] == 0  # once per person and day

    (user, index), hours = next(iter(expected.items()))
    report = next(r for r in reports if r["user_id"] == user)
    day = next(d for d in report["days"] if d["index"] == index)
    day["workday_duration_final"] += 1800
    control(sandbox, "timeman", {"reports": [report]})
    assert collect_overtime(portal, 2026, 10)["updated"] == 1  # not yet delivered: replaced
    process_outbox(portal)
    documents = _documents(zup, "Document_РаботаСверхурочно")
    assert len(documents) == len(expected) and all(d["Posted"] is False and d["ВремяУчтено"] is False for d in documents)
    day["workday_duration_final"] += 1800
    control(sandbox, "timeman", {"reports": [report]})
    assert collect_overtime(portal, 2026, 10)["corrections"] == 1  # delivered already: a correction
    process_outbox(portal)
    assert len(_documents(zup, "Document_РаботаСверхурочно")) == len(expected) + 1


def test_time_tracking_off_is_said(synced, live_server):
    from bitrix_app.frame import FrameSession

    sandbox, portal, zup, person, user_id = synced
    counts = collect_overtime(portal, 2026, 10)
    assert counts["time_tracking_off"] is True and counts["created"] == 0
    page = requests.post(f"{live_server.url}/bitrix/app/home/", timeout=10,
                         data={"s": FrameSession.open(portal, "1", True, "ru").dumps(), "_nav": "1"})
    assert "не ведётся учёт рабочего времени" in page.text


def test_the_plain_webhook_action_reads_the_request_back_from_the_document(synced, live_server):
    from hrsync.writeback import create_webhook

    sandbox, portal, zup, person, user_id = synced
    url = create_webhook(portal, iblock_id=30, first_day_field="PROPERTY_101", last_day_field="PROPERTY_102",
                         comment_field="PROPERTY_103")
    assert url.startswith(f"{live_server.url}/bitrix/webhook/")
    element = control(sandbox, "lists/element", {"iblock_id": 30, "fields": {
        "NAME": "Заявка на отпуск", "CREATED_BY": str(user_id), "PROPERTY_101": {"901": "02.11.2027"},
        "PROPERTY_102": {"902": "12.11.2027"}, "PROPERTY_103": {"903": "в горы"}}})["id"]
    assert control(sandbox, "webhook/run", {"url": url, "element_id": element})["status"] == 200
    assert control(sandbox, "webhook/run", {"url": url, "element_id": element})["status"] == 200  # twice: one request
    [document] = _documents(zup)
    assert document["ДатаНачалаОсновногоОтпуска"] == "2027-11-02T00:00:00" and "в горы" in document["Комментарий"]
    assert OutboxItem.objects.count() == 1
    assert any("Черновик документа" in n["MESSAGE"] and n["USER_ID"] == user_id for n in sandbox.state.notifications)
    wrong = url.replace("/bitrix/webhook/", "/bitrix/webhook/x")
    assert control(sandbox, "webhook/run", {"url": wrong, "element_id": element})["status"] == 401
