"""Issue 9, defect 7: one rule for the calendar an absence goes into, the portal's own.

calendar/classes/general/calendar_restservice.php (yuliai/bitrix-modules), `EventAdd`: with `section` empty
the event is saved with `autoDetectSection` and `autoCreateSection`, so a user who never opened the calendar
gets one. The app passes no section anywhere and asks for none (no calendar.section.get); when the app's user
may not write into an employee's calendar, the journal says so and what to do.
"""
from hrsync.models import OperationStatus, PersonMapping, SyncOperation
from hrsync.services import run_sync
from payroll_connector.services import connect_odata
from tests.conftest import ZUP_TODAY


def test_absences_go_to_each_users_own_calendar_without_a_section_lookup(installed, zup):
    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    assert not sandbox.state.sections  # nobody has opened the calendar yet
    run = run_sync(portal, today=ZUP_TODAY)
    added = run.operations.filter(kind="AddAbsence")
    assert added.count() > 0 and not added.exclude(status=OperationStatus.DONE).exists()
    assert sandbox.state.stats["by_method"].get("calendar.section.get", 0) == 0
    for event in sandbox.state.events.values():  # each in a calendar of its owner, created by the portal
        assert sandbox.state.sections[event["SECTION_ID"]]["OWNER_ID"] == event["OWNER_ID"]
    assert all(command.get("section") is None for command in sandbox.state.calls.get("calendar.event.add", []))


def test_a_calendar_the_apps_user_may_not_write_is_a_clear_journal_entry(installed, zup):
    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run_sync(portal, today=ZUP_TODAY)
    # The app's user loses the right to write into others' calendars; a new absence comes from ZUP.
    installer = next(u for u in sandbox.state.users.values() if u.get("IS_ADMIN"))
    installer["IS_ADMIN"] = False
    from tests.sync_helpers import ZupEditor
    users = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    employee = next(r for r in zup.state.infobase.rows("InformationRegister_ТекущиеКадровыеДанныеСотрудников")
                    if users.get(r["ФизическоеЛицо_Key"]) not in (None, installer["ID"])
                    and r["ДатаУвольнения"].startswith("0001"))
    ZupEditor(zup.state.infobase).vacation(employee["Сотрудник_Key"], ZUP_TODAY, 7)
    run = run_sync(portal, today=ZUP_TODAY)
    [failed] = SyncOperation.objects.filter(run=run, kind="AddAbsence", status=OperationStatus.FAILED)
    assert "Access denied" in failed.error_message
    assert "may not add events to this employee's calendar" in failed.error_message


def _vacation_synced(sandbox, zup, portal):
    from tests.sync_helpers import ZupEditor

    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run_sync(portal, today=ZUP_TODAY)
    users = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    employee = next(r for r in zup.state.infobase.rows("InformationRegister_ТекущиеКадровыеДанныеСотрудников")
                    if r["ФизическоеЛицо_Key"] in users and r["ДатаУвольнения"].startswith("0001"))
    editor = ZupEditor(zup.state.infobase)
    row = editor.vacation(employee["Сотрудник_Key"], ZUP_TODAY, 5)
    before = set(sandbox.state.events)
    run_sync(portal, today=ZUP_TODAY)
    [event_id] = set(sandbox.state.events) - before
    return editor, row, event_id


def test_an_event_deleted_by_hand_is_not_a_failure_when_zup_removes_the_absence(installed, zup):
    """EventDelete answers a missing event with its generic error: the app asks calendar.event.getbyid."""
    sandbox, portal = installed
    editor, row, event_id = _vacation_synced(sandbox, zup, portal)
    del sandbox.state.events[event_id]  # someone deleted it in Bitrix24
    editor.reverse(row)  # and HR cancels the vacation in ZUP
    run = run_sync(portal, today=ZUP_TODAY)
    [removal] = SyncOperation.objects.filter(run=run, kind="RemoveAbsence")
    assert removal.status == OperationStatus.DONE, removal.error_message
    assert [int(c["id"]) for c in sandbox.state.calls["calendar.event.getbyid"]] == [event_id]


def test_a_refused_removal_of_an_event_still_there_stays_a_failure(installed, zup):
    sandbox, portal = installed
    editor, row, event_id = _vacation_synced(sandbox, zup, portal)
    editor.reverse(row)
    # The app's user may no longer write into colleagues' calendars: the event stays, the removal fails.
    installer = next(u for u in sandbox.state.users.values() if u.get("IS_ADMIN"))
    installer["IS_ADMIN"] = False
    run = run_sync(portal, today=ZUP_TODAY)
    [removal] = SyncOperation.objects.filter(run=run, kind="RemoveAbsence")
    assert removal.status == OperationStatus.FAILED and "Access denied" in removal.error_message
    assert event_id in sandbox.state.events and "calendar.event.getbyid" not in sandbox.state.calls
