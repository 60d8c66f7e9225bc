"""Issue 9, defect 2: department heads from the register ZUP 3.1 has, a head being a person.

InformationRegisters/ПодразделенияОрганизацииРуководители.xml (scriperirkth/zup-structure, RU 3.1.38): periodic by day, dimension
Подразделение, resource Руководитель → Catalog.ФизическиеЛица. Today's head is the last record on or
before today. The register the app read before (РуководителиПодразделений) is in neither dump.
"""
import json
from datetime import timedelta

from hrsync.models import DepartmentMapping, PersonMapping
from hrsync.services import run_sync
from payroll_connector.services import connect_odata, connect_push, process_package, read_snapshot, receive_package
from sandbox.zup.generator import HEADS_ENTITY, HISTORY_ENTITY, STAFF_HEADS_ENTITY, STRUCTURE_ENTITY, dt
from sandbox.zup.push import changes_package
from tests.conftest import ZUP_TODAY

HEADS = "InformationRegister_ПодразделенияОрганизацииРуководители"


def test_the_head_today_is_the_last_record_on_or_before_today(installed, zup):
    sandbox, portal = installed
    assert HEADS_ENTITY == HEADS
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    before = read_snapshot(connection, today=ZUP_TODAY)
    department = before.heads[0].department_guid
    earlier, today, later = [p.guid for p in before.persons if p.guid != before.heads[0].person_guid][:3]
    rows = zup.state.infobase.rows(HEADS)
    rows[:] = [r for r in rows if r["Подразделение_Key"] != department] + [
        {"Period": dt(ZUP_TODAY - timedelta(days=400)), "Подразделение_Key": department, "Руководитель_Key": earlier},
        {"Period": dt(ZUP_TODAY), "Подразделение_Key": department, "Руководитель_Key": today},
        {"Period": dt(ZUP_TODAY + timedelta(days=5)), "Подразделение_Key": department, "Руководитель_Key": later}]
    zup.state.infobase.touch()
    heads = {h.department_guid: h.person_guid for h in read_snapshot(connection, today=ZUP_TODAY).heads}
    assert heads[department] == today


def _first_head_synced(sandbox, portal, zup):
    """Sync, and the first department's head as ZUP and Bitrix24 then have it."""
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run_sync(portal, today=ZUP_TODAY)
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    head = snapshot.heads[0]
    users = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    department_id = DepartmentMapping.objects.get(portal=portal, payroll_id=head.department_guid).bitrix_id
    assert sandbox.state.departments[department_id]["UF_HEAD"] == users[head.person_guid]
    return snapshot, head, users, department_id


def test_a_new_head_in_zup_becomes_uf_head_in_bitrix24(installed, zup):
    sandbox, portal = installed
    snapshot, head, users, department_id = _first_head_synced(sandbox, portal, zup)
    # Another employee of that department becomes its head from today on.
    members = {e.person_guid for p in snapshot.persons for e in p.employments
               if e.department_guid == head.department_guid and e.person_guid in users and e.person_guid != head.person_guid}
    successor = sorted(members)[0]
    zup.state.infobase.rows(HEADS).append({"Period": dt(ZUP_TODAY), "Подразделение_Key": head.department_guid,
                                           "Руководитель_Key": successor})
    zup.state.infobase.touch()
    run = run_sync(portal, today=ZUP_TODAY)
    assert run.planned.get("SetDepartmentHead") == 1
    assert sandbox.state.departments[department_id]["UF_HEAD"] == users[successor]


def test_a_pushed_head_names_a_person_and_the_first_versions_employment_still_works(installed, zup):
    sandbox, portal = installed
    connection, _ = connect_push(portal)
    from sandbox.zup.push import snapshot_packages

    for package in snapshot_packages(zup.state.infobase):
        stored, created = receive_package(connection, json.dumps(package).encode())
        process_package(stored.pk)
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    head = snapshot.heads[0]
    person = next(p for p in snapshot.persons if p.guid == head.person_guid)
    other = next(d for d in snapshot.departments if d.guid != head.department_guid and not d.is_disbanded)
    by_employment = changes_package([{"op": "head_changed", "department_guid": other.guid,
                                      "employment_guid": person.employments[0].guid}])
    stored, _ = receive_package(connection, json.dumps(by_employment).encode())
    process_package(stored.pk)
    heads = {h.department_guid: h.person_guid for h in read_snapshot(connection, today=ZUP_TODAY).heads}
    assert heads[other.guid] == person.guid and heads[head.department_guid] == person.guid


def test_corp_staff_positions_give_the_same_heads_as_the_organisation_register(installed, zup, settings):
    """КОРП with a staff schedule: the head is whoever holds the unit's head position today."""
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    by_register = {(h.department_guid, h.person_guid) for h in read_snapshot(connection, today=ZUP_TODAY).heads}
    settings.PAYROLL_ODATA_HEADS_SOURCE = "staff_positions"
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    assert {(h.department_guid, h.person_guid) for h in snapshot.heads} == by_register and by_register
    assert not [p for p in snapshot.problems if p.code == "heads_not_published"]


def test_corp_a_head_who_moves_off_the_position_is_no_longer_head(installed, zup, settings):
    sandbox, portal = installed
    settings.PAYROLL_ODATA_HEADS_SOURCE = "staff_positions"
    snapshot, head, users, department_id = _first_head_synced(sandbox, portal, zup)
    # Another employee of the department is transferred onto the head position today; the head moves off it.
    unit = next(u["Ref_Key"] for u in zup.state.infobase.rows(STRUCTURE_ENTITY) if u["Источник"] == head.department_guid)
    position = next(r["ПозицияШтатногоРасписания_Key"] for r in zup.state.infobase.rows(STAFF_HEADS_ENTITY)
                    if r["Подразделение_Key"] == unit)
    history = zup.state.infobase.rows(HISTORY_ENTITY)
    old = next(r for r in reversed(history) if r["ФизическоеЛицо_Key"] == head.person_guid)
    successor = next(e for p in snapshot.persons for e in p.employments if e.department_guid == head.department_guid
                     and e.person_guid in users and e.person_guid != head.person_guid)
    history.append({**old, "Period": dt(ZUP_TODAY), "ДолжностьПоШтатномуРасписанию_Key": "00000000-0000-0000-0000-000000000000"})
    history.append({**old, "Period": dt(ZUP_TODAY), "Сотрудник_Key": successor.guid, "ФизическоеЛицо_Key": successor.person_guid,
                    "ДолжностьПоШтатномуРасписанию_Key": position})
    zup.state.infobase.touch()
    run_sync(portal, today=ZUP_TODAY)
    assert sandbox.state.departments[department_id]["UF_HEAD"] == users[successor.person_guid]
