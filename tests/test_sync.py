"""The sync end to end over HTTP: sandbox ZUP (300 people) -> app -> sandbox portal."""
from datetime import timedelta

import pytest
import requests

from bitrix_app.models import PortalStatus
from hrsync.sync.operations import Reason
from hrsync.models import OperationStatus, PersonMapping, RunStatus, SyncRun
from hrsync.services import SyncRefused, confirm_run, run_sync
from payroll_connector.services import connect_odata, read_snapshot
from tests.conftest import ZUP_TODAY, control
from tests.sync_helpers import ZupEditor, assert_portal_matches

TODAY = ZUP_TODAY


@pytest.fixture
def connected(installed, zup):
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    return sandbox, portal, zup, connection


def _writes(sandbox) -> int:
    by_method = sandbox.state.stats["by_method"]
    return sum(n for m, n in by_method.items() if m.endswith((".add", ".update", ".delete")) and not m.startswith("im."))


def test_first_sync_builds_the_portal_and_a_second_run_writes_nothing(connected):
    sandbox, portal, zup, connection = connected
    run = run_sync(portal, today=TODAY)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.outcome["failed"] == 0
    snapshot = read_snapshot(connection, today=TODAY)
    counts = assert_portal_matches(snapshot, sandbox.state, portal, TODAY)
    assert counts["active_users"] > 250 and counts["events"] > 30
    assert run.operations.filter(status=OperationStatus.INTENT).count() == 0
    invitations = [e for e in sandbox.state.outgoing_log if "invitation_sent_to" in e]
    assert len(invitations) == run.planned["CreateUser"]

    writes = _writes(sandbox)
    again = run_sync(portal, today=TODAY)
    assert again.planned == {} and again.status == RunStatus.SUCCEEDED
    assert _writes(sandbox) == writes
    assert again.rest_calls <= 2  # 2 + 300 / 2,500, rounded down


def test_each_kind_of_change_is_applied_once(connected):
    sandbox, portal, zup, connection = connected
    run_sync(portal, today=TODAY)
    before = read_snapshot(connection, today=TODAY)
    edit = ZupEditor(zup.state.infobase)
    org = before.organisations[0].guid
    deps = [d for d in before.departments if d.organisation_guid == org and not d.is_disbanded and not before.is_blocked(d.guid)]
    leaf = next(d for d in deps if d.parent_guid and not any(x.parent_guid == d.guid for x in before.departments))
    other = next(d for d in deps if d.guid not in (leaf.guid, leaf.parent_guid) and d.parent_guid)
    position = before.positions[0].guid
    movers = [p for p in before.persons if not before.is_blocked(p.guid) and p.email and len(p.employments) == 1
              and p.employments[0].termination_date is None and p.employments[0].hire_date < TODAY
              and p.employments[0].organisation_guid == org]
    transferred, leaver, part_timer = movers[0], movers[1], movers[2]
    vacation = next(a for a in before.absences if not a.reversed and a.kind == "ОтпускОсновной" and a.end >= TODAY)
    vacation_row = next(r for r in edit.rows("InformationRegister_ДанныеСостоянийСотрудников_RecordType")
                        if r["ДокументОснование"] == vacation.document_guid)

    new_person, _ = edit.hire(last="Новикова", first="Ева", email="eva.new@romashka.example", department=other.guid,
                              position=position, org=org, hired=TODAY - timedelta(days=1))
    edit.transfer(transferred.employments[0].guid, other.guid)
    edit.terminate(leaver.employments[0].guid, TODAY - timedelta(days=1))
    edit.hire(last=part_timer.last_name, first=part_timer.first_name, email=part_timer.email, department=leaf.guid,
              position=position, org=org, hired=TODAY - timedelta(days=2),
              person=next(r for r in edit.rows("Catalog_ФизическиеЛица") if r["Ref_Key"] == part_timer.guid),
              kind="ВнутреннееСовместительство")
    edit.rename(leaf.guid, "Отдел переименован")
    edit.move(leaf.guid, other.guid)
    edit.reverse(vacation_row)

    run = run_sync(portal, today=TODAY)
    assert run.status == RunStatus.SUCCEEDED, [(o.label, o.error_message) for o in run.operations.filter(status="failed")]
    kinds = run.planned
    assert kinds.get("CreateUser", 0) == 1 and kinds.get("DeactivateUser") == 1 and kinds.get("RemoveAbsence") == 1
    assert kinds.get("UpdateDepartment") == 1
    user_of = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    users = sandbox.state.users
    assert users[user_of[leaver.guid]]["ACTIVE"] is False  # dismissed, not deleted
    assert len(users[user_of[part_timer.guid]]["UF_DEPARTMENT"]) == 2
    assert_portal_matches(read_snapshot(connection, today=TODAY), sandbox.state, portal, TODAY)

    writes = _writes(sandbox)
    assert run_sync(portal, today=TODAY).planned == {}
    assert _writes(sandbox) == writes
    assert new_person["Ref_Key"] in user_of

    # Rehire: the same person comes back with a new employment -> the same user, reinstated.
    leaver_row = next(r for r in edit.rows("Catalog_ФизическиеЛица") if r["Ref_Key"] == leaver.guid)
    edit.hire(last=leaver.last_name, first=leaver.first_name, email=leaver.email, department=other.guid,
              position=position, org=org, hired=TODAY, person=leaver_row)
    run = run_sync(portal, today=TODAY)
    assert run.planned.get("ReactivateUser") == 1 and "CreateUser" not in run.planned
    assert users[user_of[leaver.guid]]["ACTIVE"] is True
    assert sum(1 for u in users.values() if u["XML_ID"] == leaver.guid) == 1
    assert_portal_matches(read_snapshot(connection, today=TODAY), sandbox.state, portal, TODAY)
    assert run_sync(portal, today=TODAY).planned == {}


def test_drift_in_bitrix24_is_put_back_and_reported(connected):
    sandbox, portal, zup, connection = connected
    run_sync(portal, today=TODAY)
    mapping = PersonMapping.objects.filter(portal=portal).first()
    user = sandbox.state.users[mapping.user_id]
    correct = user["WORK_POSITION"]
    user["WORK_POSITION"] = "Главный по всему"
    run = run_sync(portal, today=TODAY)
    op = run.operations.get(kind="UpdateUser")
    assert op.details["drift"] == ["position"] and op.reason == Reason.DRIFT_PUT_BACK
    assert op.details["changes"]["position"] == ["Главный по всему", correct]
    assert sandbox.state.users[mapping.user_id]["WORK_POSITION"] == correct


def test_dismissal_guard_stops_before_writing_and_waits_for_confirmation(connected):
    sandbox, portal, zup, connection = connected
    run_sync(portal, today=TODAY)
    edit = ZupEditor(zup.state.infobase)
    snapshot = read_snapshot(connection, today=TODAY)
    active = [p for p in snapshot.persons if len(p.employments) == 1 and p.employments[0].termination_date is None
              and p.email and not snapshot.is_blocked(p.guid) and p.employments[0].hire_date < TODAY][:25]
    for person in active:
        edit.terminate(person.employments[0].guid, TODAY - timedelta(days=1))
    writes = _writes(sandbox)
    stopped = run_sync(portal, today=TODAY)
    assert stopped.status == RunStatus.WAITING and "25 dismissals" in stopped.guard_reason
    assert _writes(sandbox) == writes
    assert any("остановлена" in n["MESSAGE"] for n in sandbox.state.notifications)  # the admin is told
    confirmed = confirm_run(stopped, today=TODAY)  # the day the stopped run planned for, not the machine's
    assert confirmed.status == RunStatus.SUCCEEDED and confirmed.outcome["done"] >= 25
    assert SyncRun.objects.get(pk=stopped.pk).status == RunStatus.CONFIRMED
    user_of = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    assert all(sandbox.state.users[user_of[p.guid]]["ACTIVE"] is False for p in active)


def test_user_limit_stops_creations_cleanly(connected):
    sandbox, portal, zup, connection = connected
    control(sandbox, "limits", {"max_users": 60})
    run = run_sync(portal, today=TODAY)
    assert run.status == RunStatus.PARTIAL
    created = sum(1 for u in sandbox.state.users.values() if u["XML_ID"])
    assert created == 59  # the admin plus 59 fill the limit of 60
    waiting = run.operations.filter(kind="CreateUser").exclude(status=OperationStatus.DONE)
    assert waiting.count() == run.planned["CreateUser"] - 59
    assert all("user_count_exceeded" in (op.error_message or "") or "user limit" in op.error_message for op in waiting)


def test_token_expiry_and_503s_during_a_run_lose_nothing(connected):
    sandbox, portal, zup, connection = connected
    control(sandbox, "faults", {"expire_tokens": True, "rate_limit_503": 3})
    run = run_sync(portal, today=TODAY)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert sandbox.state.stats["token_refreshes"] == 1
    assert_portal_matches(read_snapshot(connection, today=TODAY), sandbox.state, portal, TODAY)


def test_refused_without_calling_bitrix24(connected):
    sandbox, portal, zup, connection = connected
    portal.status = PortalStatus.NEEDS_REAUTH
    portal.save()
    before = sandbox.state.stats["http_requests"]
    with pytest.raises(SyncRefused, match="administrator must open the app"):
        run_sync(portal, today=TODAY)
    assert sandbox.state.stats["http_requests"] == before


def test_single_person_sync(connected):
    sandbox, portal, zup, connection = connected
    snapshot = read_snapshot(connection, today=TODAY)
    person = next(p for p in snapshot.persons if p.email and not snapshot.is_blocked(p.guid)
                  and any(e.termination_date is None and e.hire_date < TODAY for e in p.employments))
    run = run_sync(portal, today=TODAY, only_person=person.guid)
    assert run.planned.get("CreateUser") == 1
    assert [u["XML_ID"] for u in sandbox.state.users.values() if u["XML_ID"]] == [person.guid]


def test_dry_run_command_prints_the_plan_and_changes_nothing(connected):
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command

    sandbox, portal, zup, connection = connected
    out = StringIO()
    call_command("sync_portal", "--portal", portal.domain, "--dry-run", "--json", stdout=out)
    plan = json.loads(out.getvalue())
    assert plan["status"] == "planned" and plan["planned"]["CreateUser"] > 250
    assert any(op["kind"] == "CreateDepartment" and op["reason"] == Reason.NEW_IN_ZUP for op in plan["operations"])
    assert len(sandbox.state.users) == 1
    portal.status = PortalStatus.UNINSTALLED
    portal.save()
    with pytest.raises(CommandError, match="install the app again"):
        call_command("sync_portal", "--portal", portal.domain, stdout=StringIO())


def test_existing_departments_are_proposed_not_merged(connected):
    sandbox, portal, zup, connection = connected
    snapshot = read_snapshot(connection, today=TODAY)
    org = snapshot.organisations[0]
    existing = requests.post(f"{sandbox.state.client_endpoint}department.add", timeout=5,
                             json={"auth": portal.access_token, "NAME": org.name, "PARENT": 1}).json()["result"]
    run = run_sync(portal, today=TODAY, only_person="nobody")
    proposal = next(n for n in run.notices if n["code"] == "department_match_proposed")
    assert proposal["payroll_id"] == org.guid and proposal["proposal"] == {"department_id": existing}
    names = [d["NAME"] for d in sandbox.state.departments.values()]
    assert names.count(org.name) == 1  # nothing created beside it


@pytest.mark.parametrize("killed_in", ["user.add", "calendar.event.add"])
def test_a_worker_killed_mid_run_is_finished_by_the_next_run_without_duplicates(killed_in, sandbox_factory, zup):
    """SIGKILL while a batch is on its way: the portal runs it, the worker never hears back."""
    import signal
    import subprocess
    import time

    from tests.conftest import PYTHON, ROOT, child_env, install

    sandbox = sandbox_factory(rate=20.0, burst=10)
    portal = install(sandbox)
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    # The first batch with that method is held on its way, then run: the worker is killed meanwhile.
    control(sandbox, "faults", {"slow_method": killed_in, "slow_seconds": 2.0})
    worker = subprocess.Popen([PYTHON, "manage.py", "sync_portal", "--portal", portal.domain, "--today", TODAY.isoformat()],
                              cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not sandbox.state.stats.get("held"):
        time.sleep(0.02)
    assert sandbox.state.stats.get("held"), "the run did not get that far"
    time.sleep(0.3)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    time.sleep(2.0)  # the held batch runs on the portal after the worker died
    assert sandbox.state.stats["by_method"].get(killed_in, 0) > 0
    killed = SyncRun.objects.get(portal=portal)
    assert killed.status == RunStatus.RUNNING  # never finished
    assert killed.operations.filter(status=OperationStatus.INTENT).exists()

    time.sleep(4)  # the dead worker's lease lapses (HRSYNC_LEASE_TTL)
    run = run_sync(portal, today=TODAY)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert killed.operations.filter(status=OperationStatus.INTENT).count() == 0
    assert killed.operations.filter(status=OperationStatus.RECOVERED).exists()
    assert_portal_matches(read_snapshot(connection, today=TODAY), sandbox.state, portal, TODAY)
    assert run_sync(portal, today=TODAY).planned == {}


def test_two_runs_of_one_portal_never_overlap(connected):
    from hrsync.locks import SyncBusy, portal_sync_lock

    sandbox, portal, zup, connection = connected
    with portal_sync_lock(portal.pk):
        with pytest.raises(SyncBusy):
            run_sync(portal, today=TODAY)
    assert run_sync(portal, today=TODAY).status == RunStatus.SUCCEEDED


def test_a_pushed_change_package_starts_a_run_for_its_portal(installed, zup, eager_celery, live_server, settings):
    import uuid

    from payroll_connector.services import connect_push
    from sandbox.zup.push import changes_package, post_package, snapshot_packages

    sandbox, portal = installed
    settings.HRSYNC_SYNC_AFTER_PACKAGE = True
    connection, key = connect_push(portal)
    assert post_package(live_server.url, key, snapshot_packages(zup.state.infobase)[0]).status_code == 202
    first = SyncRun.objects.filter(portal=portal, trigger="push").count()
    assert first == 1
    snapshot = read_snapshot(connection)
    org = snapshot.organisations[0].guid
    department = next(d for d in snapshot.departments if d.organisation_guid == org and not d.is_disbanded
                      and not snapshot.is_blocked(d.guid))
    person, job = str(uuid.uuid4()), str(uuid.uuid4())
    package = changes_package([{"op": "hire", "person": {"guid": person, "last_name": "Пушкина", "first_name": "Ада",
                                                         "email": "ada.push@romashka.example"},
                                "employment": {"guid": job, "person_guid": person, "organisation_guid": org,
                                               "department_guid": department.guid, "hire_date": "2020-01-01"}}])
    assert post_package(live_server.url, key, package).status_code == 202
    assert SyncRun.objects.filter(portal=portal, trigger="push").count() == 2
    assert any(u["XML_ID"] == person and u["ACTIVE"] for u in sandbox.state.users.values())


def test_beat_starts_due_portals_only(connected, eager_celery):
    from hrsync.tasks import schedule_due_syncs

    sandbox, portal, zup, connection = connected
    assert schedule_due_syncs() == 1  # never ran: due
    assert SyncRun.objects.filter(portal=portal, trigger="schedule").count() == 1
    assert schedule_due_syncs() == 0  # ran a moment ago; next in 30 minutes


def test_a_disbanded_department_goes_once_empty_and_a_changed_absence_is_updated(connected):
    sandbox, portal, zup, connection = connected
    run_sync(portal, today=TODAY)
    snapshot = read_snapshot(connection, today=TODAY)
    edit = ZupEditor(zup.state.infobase)
    from hrsync.models import DepartmentMapping, SyncedAbsence

    mapped = dict(DepartmentMapping.objects.filter(portal=portal).values_list("payroll_id", "bitrix_id"))
    staffed = {e.department_guid for p in snapshot.persons for e in p.employments
               if e.termination_date is None and e.hire_date <= TODAY and not snapshot.is_blocked(p.guid)}
    parents = {d.parent_guid for d in snapshot.departments}
    leaf = next(d for d in snapshot.departments if d.guid in staffed and d.guid not in parents and d.guid in mapped)
    target = next(d for d in snapshot.departments if d.guid in mapped and d.guid != leaf.guid and not d.is_disbanded
                  and d.organisation_guid == leaf.organisation_guid)
    row = edit.department(leaf.guid)
    row["Расформировано"], row["ДатаРасформирования"] = True, (TODAY - timedelta(days=1)).strftime("%Y-%m-%dT00:00:00")
    zup.state.infobase.touch()
    first = run_sync(portal, today=TODAY)
    assert any(n["code"] == "disbanded_not_empty" and n["payroll_id"] == leaf.guid for n in first.notices)
    assert mapped[leaf.guid] in sandbox.state.departments

    for person in snapshot.persons:
        for e in person.employments:
            if e.department_guid == leaf.guid:
                edit.transfer(e.guid, target.guid)
    vacation = SyncedAbsence.objects.filter(portal=portal, absence_type="VACATION").first()
    source = next(r for r in edit.rows("InformationRegister_ДанныеСостоянийСотрудников_RecordType")
                  if r["Начало"].startswith(vacation.start.isoformat()) and not r["Сторно"]
                  and r["Окончание"].startswith(vacation.end.isoformat()))
    source["Окончание"] = (vacation.end + timedelta(days=2)).strftime("%Y-%m-%dT00:00:00")
    zup.state.infobase.touch()
    second = run_sync(portal, today=TODAY)
    assert second.status == RunStatus.SUCCEEDED
    assert second.planned.get("DeleteDepartment") == 1 and second.planned.get("UpdateAbsence") == 1
    assert mapped[leaf.guid] not in sandbox.state.departments
    event = sandbox.state.events[vacation.event_id]
    assert event["DATE_TO"] == (vacation.end + timedelta(days=2)).isoformat()
    assert run_sync(portal, today=TODAY).planned == {}


def test_a_defect_in_one_step_ends_the_run_failed_never_running(connected, monkeypatch):
    from hrsync import services

    sandbox, portal, zup, connection = connected

    def broken(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(services, "plan_sync", broken)
    run = run_sync(portal, today=TODAY)
    assert run.status == RunStatus.FAILED and "OverflowError" in run.error
    monkeypatch.undo()
    assert run_sync(portal, today=TODAY).status == RunStatus.SUCCEEDED  # the next run is not stuck behind it
