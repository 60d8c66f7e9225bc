"""Expected portal state, computed from the snapshot independently of the planner, and ZUP edits."""
from __future__ import annotations

from datetime import date, timedelta

import time

from hrsync.models import DepartmentMapping, PersonMapping, RunStatus, SyncRun
from sandbox.zup.edits import ZupEditor  # noqa: F401 (HR's work in ZUP, shared with the demo)

ABSENCE_TYPE = {"ОтпускОсновной": "VACATION", "ДополнительныйОтпуск": "VACATION", "Болезнь": "LEAVESICK",
                "Командировка": "ASSIGNMENT", "ОтпускНеоплачиваемыйПоРазрешениюРаботодателя": "LEAVEUNPAYED",
                "ОтпускПоУходуЗаРебенком": "LEAVEMATERINITY", "ОтпускПоБеременностиИРодам": "LEAVEMATERINITY"}


def assert_portal_matches(snapshot, sandbox_state, portal, today: date) -> dict:
    """The portal has exactly the tree, users, heads, positions and absences the snapshot calls for."""
    departments = dict(DepartmentMapping.objects.filter(portal=portal).values_list("payroll_id", "bitrix_id"))
    portal_deps = sandbox_state.departments
    org_node = {o.guid: departments[o.guid] for o in snapshot.organisations}
    expected_deps = [d for d in snapshot.departments if not d.is_disbanded and not snapshot.is_blocked(d.guid)]
    for dep in expected_deps:
        bitrix = portal_deps[departments[dep.guid]]
        assert bitrix["NAME"] == dep.name
        parent = departments[dep.parent_guid] if dep.parent_guid else org_node[dep.organisation_guid]
        assert bitrix["PARENT"] == parent, dep.name
    assert len(portal_deps) == 1 + len(snapshot.organisations) + len(expected_deps)  # root + orgs + departments

    users_by_xml = {}
    for user in sandbox_state.users.values():
        if user["XML_ID"]:
            assert user["XML_ID"] not in users_by_xml, f"two users for {user['XML_ID']}"
            users_by_xml[user["XML_ID"]] = user
    positions = {p.guid: p.name for p in snapshot.positions}
    expected_active = 0
    for person in snapshot.persons:
        active = [e for e in person.employments if e.hire_date <= today and (e.termination_date is None or e.termination_date >= today)
                  and not snapshot.is_blocked(e.guid)]
        user = users_by_xml.get(person.guid)
        if snapshot.is_blocked(person.guid) or not person.email:
            assert user is None
            continue
        if not active:
            assert user is None or user["ACTIVE"] is False, person.full_name
            continue
        expected_active += 1
        assert user is not None and user["ACTIVE"] is True, person.full_name
        assert set(user["UF_DEPARTMENT"]) == {departments[e.department_guid] for e in active}
        main = next((e for e in active if e.kind.value == "main"), active[0])
        assert user["WORK_POSITION"] == positions[main.position_guid]
        assert (user["LAST_NAME"], user["NAME"], user["EMAIL"]) == (person.last_name, person.first_name, person.email)
        assert user["UF_EMPLOYMENT_DATE"] == main.hire_date.isoformat()  # (the sandbox keeps dates as ISO days)
    assert sum(1 for u in users_by_xml.values() if u["ACTIVE"]) == expected_active

    person_of = {e.guid: p.guid for p in snapshot.persons for e in p.employments}
    for head in snapshot.heads:
        user = users_by_xml.get(head.person_guid)
        dep_id = departments.get(head.department_guid)
        if user and user["ACTIVE"] and dep_id:
            assert portal_deps[dep_id]["UF_HEAD"] == user["ID"]

    user_of_person = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    expected_events = set()
    for absence in snapshot.absences:
        person = person_of.get(absence.employment_guid)
        user = users_by_xml.get(person)
        end = absence.end or absence.start + timedelta(days=90)
        if absence.reversed or user is None or not user["ACTIVE"] or end < today:
            continue
        expected_events.add((user_of_person[person], absence.start.isoformat(), end.isoformat()))
    events = [(e["OWNER_ID"], e["DATE_FROM"], e["DATE_TO"]) for e in sandbox_state.events.values()]
    assert len(events) == len(set(events)), "an absence was written twice"
    assert set(events) == expected_events
    assert all(e["ACCESSIBILITY"] == "absent" and e["SKIP_TIME"] == "Y" for e in sandbox_state.events.values())
    return {"departments": len(expected_deps), "active_users": expected_active, "events": len(expected_events)}




def first_run_ended(portal, seconds: float = 180) -> SyncRun:
    """The portal's first run, once it has ended (its paused parts included): a worker runs it."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        run = SyncRun.objects.filter(portal=portal, dry_run=False).order_by("pk").first()
        if run is not None and run.status not in (RunStatus.RUNNING, RunStatus.PAUSED):
            return run
        time.sleep(0.2)
    raise AssertionError(list(SyncRun.objects.filter(portal=portal).values_list("status", "segments", "error")))
