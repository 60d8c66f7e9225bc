"""The plan: from the ZUP snapshot, the portal's state and the mappings, the typed operations of a run.

Pure: no Django, no HTTP. Re-running on fresh state gives the plan of what is still missing, so a run
that died half-way is finished by the next one, and a run with nothing to do plans nothing. ZUP wins
every conflict; a field someone changed in Bitrix24 that ZUP owns is put back and reported as drift.
"""
from __future__ import annotations

from datetime import timedelta

from .model import Employment, EmploymentKind, PayrollSnapshot, Person
from .operations import (
    DEPARTMENTS,
    AddAbsence,
    CreateDepartment,
    CreateUser,
    DeactivateUser,
    DeleteDepartment,
    DepartmentRef,
    NewRef,
    Notice,
    Op,
    ReactivateUser,
    Reason,
    RemoveAbsence,
    SetDepartmentHead,
    SyncPlan,
    UpdateAbsence,
    UpdateDepartment,
    UpdateUser,
)
from .portal import Mappings, PortalState, PortalUser, SyncSettings
from .states import DEFAULT_ABSENCE_TYPES

# ZUP's states -> the absence types hrsync shows them as by default: one table, hrsync.sync.states.
ABSENCE_TYPES = ("VACATION", "LEAVESICK", "ASSIGNMENT", "LEAVEUNPAYED", "LEAVEMATERINITY", "OTHER")
# What the calendar entry is called (the chart shows it as a personal absence with this name).
ABSENCE_NAMES = {"VACATION": "Отпуск", "LEAVESICK": "Больничный", "ASSIGNMENT": "Командировка",
                 "LEAVEUNPAYED": "Отпуск без сохранения оплаты", "LEAVEMATERINITY": "Декретный отпуск",
                 "OTHER": "Отсутствие"}
OPEN_ENDED_ABSENCE_DAYS = 90  # an absence without an end in ZUP is shown this long, then re-planned



def user_fields(person: Person, main: Employment | None, position_names: dict[str, str]) -> dict[str, str]:
    """The user fields ZUP owns (operations.USER_FIELDS), as strings; dates ISO."""
    return {
        "first_name": person.first_name, "last_name": person.last_name, "middle_name": person.middle_name,
        "email": person.email, "payroll_id": person.guid,
        "position": position_names.get(main.position_guid or "", "") if main else "",
        "employment_date": main.hire_date.isoformat() if main else "",
        "birthday": person.birthday.isoformat() if person.birthday else "",
        "gender": person.gender, "mobile_phone": person.phones[0] if person.phones else "",
    }


class _Planner:
    def __init__(self, snapshot: PayrollSnapshot, portal: PortalState, mappings: Mappings, settings: SyncSettings):
        self.snapshot, self.portal, self.mappings, self.settings = snapshot, portal, mappings, settings
        self.ops: list[Op] = []
        self.notices: list[Notice] = []
        self.portal_departments = {d.id: d for d in portal.departments}
        self.portal_users = {u.id: u for u in portal.users}
        self.departments = {d.guid: d for d in snapshot.departments}
        # department/organisation GUID -> its Bitrix24 department: an ID, or a NewRef when this run creates it
        self.resolved: dict[str, DepartmentRef] = {}
        self.person_user: dict[str, int] = {}  # person GUID -> existing user ID
        self.new_people: set[str] = set()
        self.deactivated: set[str] = set()
        self.reactivated: set[str] = set()
        self.person_of_employment = {e.guid: person.guid for person in snapshot.persons for e in person.employments}
        self.person_names = {person.guid: person.full_name for person in snapshot.persons}
        self.still_staffed: set[str] = set()

    def usable_user(self, person: str) -> bool:
        """Will the person have an active Bitrix24 user after this run's user phase?"""
        if person in self.new_people:
            return True
        user_id = self.person_user.get(person)
        if user_id is None or person in self.deactivated:
            return False
        return self.portal_users[user_id].active or person in self.reactivated

    # -- departments ------------------------------------------------------------------------------------
    def excluded(self, guid: str) -> bool:
        current: str | None = guid
        while current:
            if current in self.mappings.excluded_departments:
                return True
            current = self.departments[current].parent_guid if current in self.departments else None
        return False

    def wanted_departments(self) -> list[tuple[str, str, str | None]]:
        """(guid, name, parent guid or None for the portal root) in parents-first order."""
        nodes: list[tuple[str, str, str | None]] = []
        as_departments = self.settings.organisations_as_departments
        if as_departments:
            nodes += [(o.guid, o.name, None) for o in self.snapshot.organisations]
        for dep in self.snapshot.departments:
            gone = dep.is_disbanded and dep.guid not in self.still_staffed
            if gone or self.snapshot.is_blocked(dep.guid) or self.excluded(dep.guid):
                continue
            nodes.append((dep.guid, dep.name, dep.parent_guid or (dep.organisation_guid if as_departments else None)))
        parents = {guid: parent for guid, _, parent in nodes}
        depth: dict[str, int] = {}

        def depth_of(guid: str, parent: str | None) -> int:
            if guid not in depth:
                depth[guid] = 0 if parent is None else 1 + depth_of(parent, parents.get(parent))
            return depth[guid]
        return sorted(nodes, key=lambda n: (depth_of(n[0], n[2]), n[1], n[0]))

    def plan_departments(self) -> None:
        root = self.portal.root
        mapped_ids = set(self.mappings.departments.values())
        by_path = {self.portal.path_of(d.id): d.id for d in self.portal.departments
                   if d.parent is not None and d.id not in mapped_ids}
        wanted_paths: dict[str, tuple[str, ...]] = {}
        for guid, name, parent in self.wanted_departments():
            parent_ref: DepartmentRef | None = root if parent is None else self.resolved.get(parent)
            wanted_paths[guid] = (wanted_paths.get(parent, ()) if parent else ()) + (name,)
            if parent is not None and parent_ref is None:
                continue  # its parent waits for a decision: so does it
            existing = self.mappings.departments.get(guid)
            if existing is not None and existing in self.portal_departments:
                self.resolved[guid] = existing
                self.plan_department_update(guid, name, existing, parent_ref)
                continue
            match = by_path.get(wanted_paths[guid]) if existing is None else None
            if match is not None and guid not in self.mappings.create_departments:
                self.notices.append(Notice(payroll_id=guid, label=name, code="department_match_proposed",
                                           message=f"Bitrix24 already has «{' / '.join(wanted_paths[guid])}» (ID {match}): "
                                           "accept the match or choose to create a new department",
                                           proposal={"department_id": match}))
                continue
            self.resolved[guid] = NewRef(guid)
            if guid in self.still_staffed:
                self.notices.append(Notice(payroll_id=guid, label=name, code="disbanded_still_staffed",
                                           message="disbanded in ZUP, but employees still work in it there: it is made "
                                           "in Bitrix24 with them; move them in ZUP (a transfer), and it goes once empty"))
            reason = Reason.NEW_IN_ZUP if existing is None else Reason.DEPARTMENT_DELETED_IN_BITRIX
            self.ops.append(CreateDepartment(payroll_id=guid, label=name, reason=reason, name=name, parent=parent_ref,
                                             depth=len(wanted_paths[guid])))

    def staffed_disbanded(self) -> set[str]:
        """Departments disbanded in ZUP that active employments still point at, and the disbanded ones above
        them: they stay in (or come to) Bitrix24 with their people until HR moves them in ZUP."""
        departments = self.departments
        staffed: set[str] = set()
        for person in self.snapshot.persons:
            for employment in self.active_employments(person):
                current = employment.department_guid
                while current in departments and departments[current].is_disbanded and current not in staffed:
                    staffed.add(current)
                    current = departments[current].parent_guid
        return staffed

    def plan_department_update(self, guid: str, name: str, department_id: int, parent: DepartmentRef | None) -> None:
        current = self.portal_departments[department_id]
        changes: dict = {}
        if current.name != name:
            changes["name"] = [current.name, name]
        if parent is not None and current.parent != parent:
            changes["parent"] = [current.parent, parent]
        if not changes:
            return
        reason = (Reason.RENAMED_AND_MOVED if len(changes) == 2 else Reason.RENAMED if "name" in changes else Reason.MOVED)
        self.ops.append(UpdateDepartment(payroll_id=guid, label=name, reason=reason, department_id=department_id,
                                         changes=changes))

    def plan_disbanded(self, active_members: dict[int, int]) -> None:
        for dep in self.snapshot.departments:
            if not dep.is_disbanded or dep.guid not in self.mappings.departments:
                continue
            department_id = self.mappings.departments[dep.guid]
            if department_id not in self.portal_departments:
                continue
            children = [d for d in self.portal.departments if d.parent == department_id]
            members = active_members.get(department_id, 0)
            if children or members:
                self.notices.append(Notice(payroll_id=dep.guid, label=dep.name, code="disbanded_not_empty",
                                           message=f"disbanded in ZUP on {dep.disbanded}, but Bitrix24 still has {members} "
                                           f"employee(s) and {len(children)} subdepartment(s) in it; it is removed once empty"))
            else:
                self.ops.append(DeleteDepartment(payroll_id=dep.guid, label=dep.name, reason=Reason.DISBANDED,
                                                 department_id=department_id))

    # -- people ----------------------------------------------------------------------------------------
    def match_users(self) -> None:
        by_xml = {u.xml_id: u.id for u in self.portal.users if u.xml_id}
        claimed = {uid for uid in self.mappings.persons.values() if uid in self.portal_users}
        for person in self.snapshot.persons:
            mapped = self.mappings.persons.get(person.guid)
            if mapped in self.portal_users:
                self.person_user[person.guid] = mapped
            elif person.guid in by_xml and by_xml[person.guid] not in claimed:
                user_id = by_xml[person.guid]
                self.person_user[person.guid] = user_id  # ours from an earlier (interrupted or failed) run
                claimed.add(user_id)
                user = self.portal_users[user_id]
                if not user.fields.get("first_name") and not user.fields.get("last_name"):
                    # A user.add that failed after Bitrix24 had registered the user leaves it so: no name, and
                    # no invitation sent. This run completes it; the invitation is the admin's to send.
                    self.notices.append(Notice(
                        payroll_id=person.guid, label=person.full_name, code="unfinished_user_completed",
                        message=f"Bitrix24 user {user_id} was left without a name by an earlier user.add that "
                        "failed part-way; it is completed now, but Bitrix24 sent it no invitation: send one from "
                        "the user's profile in Bitrix24 («Пригласить повторно»)", proposal=None))

    def active_employments(self, person: Person) -> list[Employment]:
        lead = timedelta(days=self.settings.future_hire_lead_days)
        today = self.settings.today
        result = []
        for e in person.employments:
            if self.snapshot.is_blocked(e.guid) or (e.department_guid and self.excluded(e.department_guid)):
                continue
            starts = e.hire_date - lead <= today
            # A termination takes effect at the end of the last working day: that day is still worked.
            ongoing = e.termination_date is None or e.termination_date >= today
            if starts and ongoing:
                result.append(e)
        return result

    @property
    def partial(self) -> bool:
        return self.settings.only_person is not None or self.settings.scope is not None

    def in_scope(self, person: str | None) -> bool:
        """Whether this run is about the person: all are, but in a single-person run or a run for pushed changes."""
        settings = self.settings
        return person is not None and (settings.only_person is None or person == settings.only_person) and (
            settings.scope is None or person in settings.scope)

    def plan_people(self, position_names: dict[str, str]) -> None:
        email_owner = {u.email.lower(): u.id for u in self.portal.users if u.email}
        for person in self.snapshot.persons:
            if not self.in_scope(person.guid):
                continue
            if self.snapshot.is_blocked(person.guid):
                continue
            active = self.active_employments(person)
            user_id = self.person_user.get(person.guid)
            user = self.portal_users.get(user_id) if user_id else None
            if not active:
                ended = [e for e in person.employments if e.termination_date and e.termination_date < self.settings.today]
                if user and user.active and ended:
                    self.ops.append(DeactivateUser(payroll_id=person.guid, label=person.full_name,
                                                   reason=Reason.EMPLOYMENT_ENDED, user_id=user.id,
                                                   ended=max(e.termination_date for e in ended)))
                continue
            main = next((e for e in active if e.kind == EmploymentKind.MAIN), active[0])
            desired = user_fields(person, main, position_names)
            departments: list[str] = []
            for e in active:
                if e.department_guid in self.resolved and e.department_guid not in departments:
                    departments.append(e.department_guid)
            if not departments:
                self.notices.append(Notice(payroll_id=person.guid, label=person.full_name, code="department_pending",
                                           message="none of the person's departments exists in Bitrix24 yet "
                                           "(a mapping decision is pending)"))
                continue
            if user is None:
                self.plan_new_user(person, desired, tuple(departments), email_owner)
            else:
                self.plan_existing_user(person, user, desired, tuple(departments))

    def plan_new_user(self, person: Person, desired: dict, departments: tuple[str, ...], email_owner: dict) -> None:
        label = person.full_name
        if not person.email:
            self.notices.append(Notice(payroll_id=person.guid, label=label, code="no_email",
                                       message="not created: Bitrix24 needs an e-mail to invite the person; add one in "
                                       "ZUP (the person's contact information)"))
            return
        owner = email_owner.get(person.email.lower())
        if owner is not None:
            self.notices.append(Notice(payroll_id=person.guid, label=label, code="email_match_proposed",
                                       message=f"Bitrix24 user {owner} already has {person.email}: confirm that it is "
                                       "this person, or give the person another e-mail in ZUP", proposal={"user_id": owner}))
            return
        self.new_people.add(person.guid)
        self.ops.append(CreateUser(payroll_id=person.guid, label=label, reason=Reason.HIRED, fields=desired,
                                   department_payroll_ids=departments))

    def plan_existing_user(self, person: Person, user: PortalUser, desired: dict, departments: tuple[str, ...]) -> None:
        last_written = self.mappings.synced_fields.get(person.guid, {})
        changes, drift = {}, []
        for key, value in desired.items():
            current = user.fields.get(key, "")
            if current != value:
                changes[key] = [current, value]
                if key in last_written and last_written[key] == self.mappings.written_digest(key, value):
                    drift.append(key)  # ZUP did not change; someone edited it in Bitrix24
        wanted = [self.resolved[g] for g in departments]
        if any(isinstance(w, NewRef) for w in wanted) or set(user.departments) != set(wanted):
            changes[DEPARTMENTS] = [sorted(user.departments), wanted]
        common = dict(payroll_id=person.guid, label=person.full_name, user_id=user.id, changes=changes,
                      department_payroll_ids=departments, drift=tuple(drift))
        if not user.active:
            self.ops.append(ReactivateUser(reason=Reason.REHIRED, **common))
        elif changes:
            reason = Reason.CHANGED if len(drift) < len(changes) else Reason.DRIFT_PUT_BACK
            self.ops.append(UpdateUser(reason=reason, **common))

    # -- heads -------------------------------------------------------------------------------------------
    def plan_heads(self) -> None:
        for head in self.snapshot.heads:
            department = self.resolved.get(head.department_guid)
            person = head.person_guid
            if department is None or not self.in_scope(person) or not self.usable_user(person):
                continue
            user_id = self.person_user.get(person)
            current = self.portal_departments[department].head if isinstance(department, int) else None
            if isinstance(department, int) and user_id is not None and current == user_id:
                continue
            self.ops.append(SetDepartmentHead(payroll_id=head.department_guid,
                                              label=self.departments[head.department_guid].name,
                                              reason=Reason.HEAD_IN_ZUP, department=department,
                                              head_payroll_id=person, old_head=current))

    # -- absences ---------------------------------------------------------------------------------------
    def absence_type(self, kind: str) -> str:
        chosen = self.mappings.absence_types.get(kind) or DEFAULT_ABSENCE_TYPES.get(kind) or "OTHER"
        return chosen if chosen in ABSENCE_TYPES else "OTHER"

    def absence_label(self, person: str | None, name: str, start, end) -> str:
        """Whose absence, what and when: «Иванова Анна Сергеевна: Отпуск 01.06.2027–14.06.2027»."""
        whom = self.person_names.get(person or "", "")
        return f"{whom + ': ' if whom else ''}{name} {start:%d.%m.%Y}–{end:%d.%m.%Y}"

    def plan_absences(self) -> None:
        written = {a.payroll_id: a for a in self.portal.absences}
        wanted: set[str] = set()
        for absence in self.snapshot.absences:
            person = self.person_of_employment.get(absence.employment_guid)
            if (absence.reversed or person is None or self.snapshot.is_blocked(absence.guid)
                    or not self.in_scope(person) or not self.usable_user(person)):
                continue
            user_id = self.person_user.get(person)
            end = absence.end or absence.start + timedelta(days=OPEN_ENDED_ABSENCE_DAYS)
            if end < self.settings.today and absence.guid not in written:
                continue  # already over: nothing to show
            wanted.add(absence.guid)
            absence_type = self.absence_type(absence.kind)
            name = ABSENCE_NAMES[absence_type]
            label = self.absence_label(person, name, absence.start, end)
            known = written.get(absence.guid)
            shown = dict(payroll_id=absence.guid, label=label, person_payroll_id=person, absence_type=absence_type, name=name,
                         start=absence.start, end=end)
            if known is None:
                self.ops.append(AddAbsence(reason=Reason.ABSENCE_IN_ZUP, **shown))
                continue
            changes = {}
            for key, old, new in (("type", known.absence_type, absence_type), ("name", known.name, name),
                                  ("from", known.start, absence.start), ("to", known.end, end),
                                  ("user", known.user_id, user_id)):
                if old != new:
                    changes[key] = [str(old), str(new)]
            if changes:
                # Only the type (and so the name) moved: ZUP's absence is the same, the admin remapped its kind.
                reason = Reason.ABSENCE_TYPE_REMAPPED if set(changes) <= {"type", "name"} else Reason.ABSENCE_CHANGED
                self.ops.append(UpdateAbsence(reason=reason, event_id=known.event_id,
                                              user_id=known.user_id, changes=changes, **shown))
        present = {a.guid: a for a in self.snapshot.absences}
        users_person = {user_id: guid for guid, user_id in self.mappings.persons.items()}
        for known in self.portal.absences:
            if known.payroll_id in wanted:
                continue
            if self.partial and not self.in_scope(users_person.get(known.user_id)):
                continue  # someone this run is not about
            source = present.get(known.payroll_id)
            if source is not None and source.reversed:
                reason = Reason.ABSENCE_REVERSED
            elif source is None and known.end >= self.settings.today:
                reason = Reason.ABSENCE_GONE
            elif source is not None:
                reason = Reason.EMPLOYEE_NOT_SYNCED
            else:
                continue  # over, and out of ZUP's history window: the entry stays as history
            self.ops.append(RemoveAbsence(payroll_id=known.payroll_id,
                                          label=self.absence_label(users_person.get(known.user_id), known.name,
                                                                   known.start, known.end),
                                          reason=reason, event_id=known.event_id, user_id=known.user_id))

    # -- guards ------------------------------------------------------------------------------------------
    def members_after_run(self) -> dict[int, int]:
        """Active users per Bitrix24 department once this run's user phase is done."""
        deactivating = {op.user_id for op in self.ops if isinstance(op, DeactivateUser)}
        moving = [op for op in self.ops if isinstance(op, UpdateUser) and DEPARTMENTS in op.changes]
        moving_out = {op.user_id for op in moving}
        members: dict[int, int] = {}
        for user in self.portal.users:
            if user.active and user.id not in deactivating and user.id not in moving_out:
                for dep in user.departments:
                    members[dep] = members.get(dep, 0) + 1
        for op in moving:
            for dep in op.changes[DEPARTMENTS][1]:
                if isinstance(dep, int):
                    members[dep] = members.get(dep, 0) + 1
        return members

    def dismissal_guard(self, dismissals: int) -> str:
        settings = self.settings
        active_users = settings.population if settings.population is not None else sum(1 for u in self.portal.users if u.active)
        limit_share = active_users * settings.dismissal_guard_percent / 100
        if dismissals > settings.confirmed_dismissals and (dismissals > settings.dismissal_guard_count
                                                          or (active_users and dismissals > limit_share)):
            return (f"{dismissals} dismissals planned, more than the guard allows ({settings.dismissal_guard_percent:g} % "
                    f"of {active_users} active users or {settings.dismissal_guard_count} people): confirm to go on")
        return ""

    # -- all ---------------------------------------------------------------------------------------------
    def plan(self) -> SyncPlan:
        self.still_staffed = self.staffed_disbanded()
        if self.settings.scope is not None:
            # Who else works in a disbanded department this run cannot tell: what is in Bitrix24 stays.
            self.still_staffed |= {d.guid for d in self.snapshot.departments
                                   if d.is_disbanded and self.mappings.departments.get(d.guid) in self.portal_departments}
        self.plan_departments()
        self.match_users()
        self.plan_people({position.guid: position.name for position in self.snapshot.positions})
        self.deactivated = {op.payroll_id for op in self.ops if isinstance(op, DeactivateUser)}
        self.reactivated = {op.payroll_id for op in self.ops if isinstance(op, ReactivateUser)}
        self.plan_heads()
        self.plan_absences()
        if self.settings.scope is None:
            self.plan_disbanded(self.members_after_run())
        for problem in self.snapshot.problems:
            if problem.blocking and problem.entity in ("persons", "departments", "employments"):
                self.notices.append(Notice(payroll_id=problem.record, label=problem.label, code=problem.code,
                                           message=problem.message))
        dismissals = sum(1 for op in self.ops if isinstance(op, DeactivateUser))
        return SyncPlan(tuple(self.ops), tuple(self.notices), self.dismissal_guard(dismissals), dismissals)


def plan_sync(snapshot: PayrollSnapshot, portal: PortalState, mappings: Mappings, settings: SyncSettings) -> SyncPlan:
    return _Planner(snapshot, portal, mappings, settings).plan()
