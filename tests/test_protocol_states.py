"""Issue 9, defect 3: ZUP's employee states, all 29, from the enumeration itself; an unknown one is reported.

Enums/СостоянияСотрудника.xml (scriperirkth/zup-structure, RU 3.1.38). `ОтпускЕжегодный`,
`ОтпускБезСохраненияОплаты` and `НеОпределено`, which the app knew before, are not among them.
"""
import uuid
from datetime import timedelta

from hrsync.services import run_sync
from hrsync.sync.states import DEFAULT_ABSENCE_TYPES, EMPLOYEE_STATES, NOT_ABSENCES
from payroll_connector.services import connect_odata, read_snapshot
from sandbox.zup.generator import ABSENCE_ENTITY, EMPTY_DATE, NULL_GUID, dt
from tests.conftest import ZUP_TODAY


def test_the_table_is_the_enumeration():
    # 29 values; one of them spelled two ways by the two dumps (RU «…Неоплачиваемые», KZ «…НеОплачиваемые»).
    assert len(EMPLOYEE_STATES) == 30
    assert EMPLOYEE_STATES["ДополнительныеВыходныеДниНеоплачиваемые"] == EMPLOYEE_STATES["ДополнительныеВыходныеДниНеОплачиваемые"]
    assert not {"ОтпускЕжегодный", "ОтпускБезСохраненияОплаты", "НеОпределено"} & set(EMPLOYEE_STATES)
    assert {"Перемещение", "Факт", "РаботаВОтпускеПоУходуЗаРебенком", "Работа", "Увольнение"} <= NOT_ABSENCES
    assert DEFAULT_ABSENCE_TYPES["БолезньБезОплаты"] == "LEAVESICK"
    assert DEFAULT_ABSENCE_TYPES["ОтпускНеоплачиваемыйПоЗаконодательству"] == "LEAVEUNPAYED"


def _state_row(employee: str, state: str, days: int) -> dict:
    document = str(uuid.uuid4())
    return {"Recorder": document, "Recorder_Type": "StandardODATA.Document_Отпуск", "LineNumber": "1", "Active": True,
            "Сотрудник_Key": employee, "ДокументОснование": document,
            "ДокументОснование_Type": "StandardODATA.Document_Отпуск", "Сторно": False, "Состояние": state,
            "Начало": dt(ZUP_TODAY + timedelta(days=days)), "Окончание": dt(ZUP_TODAY + timedelta(days=days + 2)),
            "ОкончаниеПредположительно": EMPTY_DATE, "ВидВремени_Key": NULL_GUID}


def test_an_unknown_state_is_reported_a_non_absence_is_skipped_and_a_real_one_is_shown(installed, zup):
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    before = read_snapshot(connection, today=ZUP_TODAY)
    person = next(p for p in before.persons if p.email and not before.is_blocked(p.guid)
                  and all(e.termination_date is None for e in p.employments))
    employee = person.employments[0].guid
    rows = zup.state.infobase.rows(ABSENCE_ENTITY)
    rows += [_state_row(employee, "НовоеСостояние", 40), _state_row(employee, "Перемещение", 50),
             _state_row(employee, "БолезньБезОплаты", 60)]
    zup.state.infobase.touch()
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    mine = [a for a in snapshot.absences if a.employment_guid == employee]
    unknown = next(a for a in mine if a.kind == "НовоеСостояние")
    problem = next(p for p in snapshot.problems if p.record == unknown.guid)
    assert problem.code == "unknown_state" and problem.field == "kind" and snapshot.is_blocked(unknown.guid)
    assert not any(a.kind == "Перемещение" for a in mine)
    run = run_sync(portal, today=ZUP_TODAY)
    shown = [op for op in run.operations.filter(kind="AddAbsence", payroll_id__in=[a.guid for a in mine])]
    assert {op.details["absence_type"] for op in shown} >= {"LEAVESICK"}
    assert unknown.guid not in {op.payroll_id for op in shown}
