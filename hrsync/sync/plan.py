"""The plan: from the ZUP snapshot, the portal's state and the mappings, the typed operations of a run.

Pure: no Django, no HTTP. Re-running on fresh state gives the plan of what is still missing, so a run
that died half-way is finished by the next one, and a run with nothing to do plans nothing. ZUP wins
every conflict; a field someone changed in Bitrix24 that ZUP owns is put back and reported as drift.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Union

from .model import Employment, EmploymentKind, PayrollSnapshot, Person
from .portal import Mappings, PortalState, PortalUser, SyncSettings

# ZUP absence kinds (СостоянияСотрудника) -> Bitrix24 absence types (the chart's ABSENCE_TYPE XML_IDs).
DEFAULT_ABSENCE_TYPES = {
    "ОтпускОсновной": "VACATION",
    "ДополнительныйОтпуск": "VACATION",
    "ОтпускЕжегодный": "VACATION",
    "Болезнь": "LEAVESICK",
    "Командировка": "ASSIGNMENT",
    "ОтпускНеоплачиваемыйПоРазрешениюРаботодателя": "LEAVEUNPAYED",
    "ОтпускБезСохраненияОплаты": "LEAVEUNPAYED",
    "ОтпускПоУходуЗаРебенком": "LEAVEMATERINITY",
    "ОтпускПоБеременностиИРодам": "LEAVEMATERINITY",
}
ABSENCE_TYPES = ("VACATION", "LEAVESICK", "ASSIGNMENT", "LEAVEUNPAYED", "LEAVEMATERINITY", "OTHER")
# What the calendar entry is called (the chart shows it as a personal absence with this name).
ABSENCE_NAMES = {"VACATION": "Отпуск", "LEAVESICK": "Больничный", "ASSIGNMENT": "Командировка",
                 "LEAVEUNPAYED": "Отпуск без сохранения оплаты", "LEAVEMATERINITY": "Декретный отпуск",
                 "OTHER": "Отсутствие"}
OPEN_ENDED_ABSENCE_DAYS = 90  # an absence without an end in ZUP is shown this long, then re-planned


@dataclass(frozen=True)
class Operation:
    payroll_id: str
    label: str
    reason: str

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class CreateDepartment(Operation):
    name: str = ""
    parent_id: int | None = None  # an existing Bitrix24 department…
    parent_payroll_id: str | None = None  # …or one created earlier in this run
    depth: int = 0


@dataclass(frozen=True)
class UpdateDepartment(Operation):
    department_id: int = 0
    changes: dict = field(default_factory=dict)  # NAME / PARENT: [old, new]; PARENT may be "new:<guid>"
    parent_payroll_id: str | None = None


@dataclass(frozen=True)
class DeleteDepartment(Operation):
    department_id: int = 0


@dataclass(frozen=True)
class CreateUser(Operation):
    fields: dict = field(default_factory=dict)
    department_payroll_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateUser(Operation):
    user_id: int = 0
    changes: dict = field(default_factory=dict)  # field: [old, new]
    department_payroll_ids: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()  # fields someone changed in Bitrix24


@dataclass(frozen=True)
class ReactivateUser(UpdateUser):
    pass


@dataclass(frozen=True)
class DeactivateUser(Operation):
    user_id: int = 0
    ended: date | None = None  # the last employment's termination date


@dataclass(frozen=True)
class SetDepartmentHead(Operation):
    department_id: int | None = None
    department_payroll_id: str = ""
    head_person_id: str = ""
    old_head: int | None = None


@dataclass(frozen=True)
class AddAbsence(Operation):
    person_id: str = ""
    absence_type: str = ""
    name: str = ""
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class UpdateAbsence(AddAbsence):
    event_id: int = 0
    user_id: int = 0
    changes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RemoveAbsence(Operation):
    event_id: int = 0
    user_id: int = 0


Op = Union[CreateDepartment, UpdateDepartment, DeleteDepartment, CreateUser, UpdateUser, ReactivateUser,
           DeactivateUser, SetDepartmentHead, AddAbsence, UpdateAbsence, RemoveAbsence]
PHASES = {"departments": (CreateDepartment, UpdateDepartment), "users": (CreateUser, UpdateUser, ReactivateUser, DeactivateUser),
          "heads": (SetDepartmentHead,), "absences": (AddAbsence, UpdateAbsence, RemoveAbsence),
          "cleanup": (DeleteDepartment,)}


@dataclass(frozen=True)
class Notice:
    """Something the admin should see: a problem that keeps a record out, or a proposal to confirm."""

    payroll_id: str
    label: str
    code: str
    message: str
    proposal: dict | None = None  # e.g. {"department_id": 12} for a proposed match


@dataclass(frozen=True)
class SyncPlan:
    operations: tuple[Op, ...]
    notices: tuple[Notice, ...]
    guard: str = ""  # non-empty: the run must stop before writing and wait for confirmation
    dismissals: int = 0

    def of(self, *kinds) -> list[Op]:
        """Operations of exactly these types (a ReactivateUser is not an UpdateUser here)."""
        return [op for op in self.operations if type(op) in kinds]

    @property
    def writes(self) -> int:
        return len(self.operations)


def _norm_day(value) -> str:
    return str(value or "")[:10]


def user_fields(person: Person, main: Employment | None, position_names: dict[str, str]) -> dict:
    """The Bitrix24 user fields ZUP owns, as strings (user.add refuses non-strings in WORK_/PERSONAL_)."""
    phone = person.phones[0] if person.phones else ""
    return {
        "NAME": person.first_name, "LAST_NAME": person.last_name, "SECOND_NAME": person.middle_name,
        "EMAIL": person.email, "XML_ID": person.guid,
        "WORK_POSITION": position_names.get(main.position_guid or "", "") if main else "",
        "UF_EMPLOYMENT_DATE": main.hire_date.isoformat() if main else "",
        "PERSONAL_BIRTHDAY": person.birthday.isoformat() if person.birthday else "",
        "PERSONAL_GENDER": person.gender, "PERSONAL_MOBILE": phone,
    }


def portal_user_fields(raw: dict) -> dict:
    """user.get's answer, normalised like user_fields for comparison."""
    return {
        "NAME": raw.get("NAME") or "", "LAST_NAME": raw.get("LAST_NAME") or "", "SECOND_NAME": raw.get("SECOND_NAME") or "",
        "EMAIL": raw.get("EMAIL") or "", "XML_ID": raw.get("XML_ID") or "", "WORK_POSITION": raw.get("WORK_POSITION") or "",
        "UF_EMPLOYMENT_DATE": _norm_day(raw.get("UF_EMPLOYMENT_DATE")),
        "PERSONAL_BIRTHDAY": _norm_day(raw.get("PERSONAL_BIRTHDAY")),
        "PERSONAL_GENDER": raw.get("PERSONAL_GENDER") or "", "PERSONAL_MOBILE": raw.get("PERSONAL_MOBILE") or "",
    }


class _Planner:
    def __init__(self, snapshot: PayrollSnapshot, portal: PortalState, mappings: Mappings, settings: SyncSettings):
        self.s, self.p, self.m, self.cfg = snapshot, portal, mappings, settings
        self.ops: list[Op] = []
        self.notices: list[Notice] = []
        self.portal_departments = {d.id: d for d in portal.departments}
        self.portal_users = {u.id: u for u in portal.users}
        self.departments = {d.guid: d for d in snapshot.departments}
        self.organisations = {o.guid: o for o in snapshot.organisations}
        # department/organisation GUID -> Bitrix24 ID, or "new:<guid>" when this run creates it
        self.resolved: dict[str, int | str] = {}
        self.person_user: dict[str, int] = {}  # person GUID -> existing user ID
        self.new_people: set[str] = set()
        self.person_of_employment = {e.guid: p.guid for p in snapshot.persons for e in p.employments}

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
            if current in self.m.excluded_departments:
                return True
            current = self.departments[current].parent_guid if current in self.departments else None
        return False

    def wanted_departments(self) -> list[tuple[str, str, str | None, str]]:
        """(guid, name, parent guid or None for the portal root, organisation) in parents-first order."""
        nodes: list[tuple[str, str, str | None, str]] = []
        if self.cfg.organisations_as_departments:
            nodes += [(o.guid, o.name, None, o.guid) for o in self.s.organisations]
        live = [d for d in self.s.departments if not d.is_disbanded and not self.s.is_blocked(d.guid) and not self.excluded(d.guid)]
        for dep in live:
            parent = dep.parent_guid or (dep.organisation_guid if self.cfg.organisations_as_departments else None)
            nodes.append((dep.guid, dep.name, parent, dep.organisation_guid))
        depth = {}

        def depth_of(guid, parent):
            if guid not in depth:
                depth[guid] = 0 if parent is None else 1 + depth_of(parent, parents.get(parent))
            return depth[guid]
        parents = {g: p for g, _, p, _ in nodes}
        return sorted(nodes, key=lambda n: (depth_of(n[0], n[2]), n[1], n[0]))

    def path_of(self, department_id: int) -> tuple[str, ...]:
        names, current, seen = [], department_id, set()
        while current and current in self.portal_departments and current not in seen:
            seen.add(current)
            dep = self.portal_departments[current]
            if dep.parent is None:
                break
            names.append(dep.name)
            current = dep.parent
        return tuple(reversed(names))

    def plan_departments(self) -> None:
        root = self.p.root
        mapped_ids = set(self.m.departments.values())
        by_path = {self.path_of(d.id): d.id for d in self.p.departments if d.parent is not None and d.id not in mapped_ids}
        wanted_paths: dict[str, tuple[str, ...]] = {}
        for guid, name, parent, _org in self.wanted_departments():
            parent_ref: int | str | None = root if parent is None else self.resolved.get(parent)
            label = name
            wanted_paths[guid] = (wanted_paths.get(parent, ()) if parent else ()) + (name,)
            if parent is not None and parent_ref is None:
                continue  # its parent waits for a decision: so does it
            existing = self.m.departments.get(guid)
            if existing is not None and existing in self.portal_departments:
                self.resolved[guid] = existing
                current = self.portal_departments[existing]
                changes = {}
                if current.name != name:
                    changes["NAME"] = [current.name, name]
                if current.parent != parent_ref and isinstance(parent_ref, int):
                    changes["PARENT"] = [current.parent, parent_ref]
                elif isinstance(parent_ref, str):
                    changes["PARENT"] = [current.parent, parent_ref]
                if changes:
                    why = []
                    if "NAME" in changes:
                        why.append("renamed in ZUP")
                    if "PARENT" in changes:
                        why.append("moved in ZUP")
                    self.ops.append(UpdateDepartment(guid, label, ", ".join(why), department_id=existing, changes=changes,
                                                     parent_payroll_id=parent_ref[4:] if isinstance(parent_ref, str) else None))
                continue
            reason = "new in ZUP" if existing is None else "its Bitrix24 department was deleted"
            match = by_path.get(wanted_paths[guid]) if existing is None else None
            if match is not None and guid not in self.m.create_departments:
                self.notices.append(Notice(guid, label, "department_match_proposed",
                                           f"Bitrix24 already has «{' / '.join(wanted_paths[guid])}» (ID {match}): "
                                           "accept the match or choose to create a new department",
                                           proposal={"department_id": match}))
                continue
            self.resolved[guid] = f"new:{guid}"
            self.ops.append(CreateDepartment(
                guid, label, reason, name=name,
                parent_id=parent_ref if isinstance(parent_ref, int) else None,
                parent_payroll_id=parent_ref[4:] if isinstance(parent_ref, str) else None,
                depth=len(wanted_paths[guid])))

    def plan_disbanded(self, active_members: dict[int, int]) -> None:
        for dep in self.s.departments:
            if not dep.is_disbanded or dep.guid not in self.m.departments:
                continue
            department_id = self.m.departments[dep.guid]
            if department_id not in self.portal_departments:
                continue
            children = [d for d in self.p.departments if d.parent == department_id]
            members = active_members.get(department_id, 0)
            if children or members:
                self.notices.append(Notice(dep.guid, dep.name, "disbanded_not_empty",
                                           f"disbanded in ZUP on {dep.disbanded}, but Bitrix24 still has {members} "
                                           f"employee(s) and {len(children)} subdepartment(s) in it; it is removed once empty"))
            else:
                self.ops.append(DeleteDepartment(dep.guid, dep.name, "disbanded in ZUP",
                                                 department_id=department_id))

    # -- people ----------------------------------------------------------------------------------------
    def match_users(self) -> None:
        by_id = self.portal_users
        by_xml = {u.xml_id: u.id for u in self.p.users if u.xml_id}
        by_email: dict[str, list[int]] = {}
        for u in self.p.users:
            if u.email:
                by_email.setdefault(u.email.lower(), []).append(u.id)
        claimed = {uid for uid in self.m.persons.values() if uid in by_id}
        for person in self.s.persons:
            mapped = self.m.persons.get(person.guid)
            if mapped in by_id:
                self.person_user[person.guid] = mapped
            elif person.guid in by_xml and by_xml[person.guid] not in claimed:
                self.person_user[person.guid] = by_xml[person.guid]  # ours from an earlier (interrupted) run
                claimed.add(by_xml[person.guid])

    def active_employments(self, person: Person) -> list[Employment]:
        lead = timedelta(days=self.cfg.future_hire_lead_days)
        today = self.cfg.today
        result = []
        for e in person.employments:
            if self.s.is_blocked(e.guid) or (e.department_guid and self.excluded(e.department_guid)):
                continue
            starts = e.hire_date - lead <= today
            # A termination takes effect at the end of the last working day: that day is still worked.
            ongoing = e.termination_date is None or e.termination_date >= today
            if starts and ongoing:
                result.append(e)
        return result

    def plan_people(self, position_names: dict[str, str]) -> None:
        email_owner = {u.email.lower(): u.id for u in self.p.users if u.email}
        for person in self.s.persons:
            if self.cfg.only_person and person.guid != self.cfg.only_person:
                continue
            if self.s.is_blocked(person.guid):
                continue
            active = self.active_employments(person)
            user_id = self.person_user.get(person.guid)
            user = self.portal_users.get(user_id) if user_id else None
            label = person.full_name
            if not active:
                ended = [e for e in person.employments if e.termination_date and e.termination_date < self.cfg.today]
                if user and user.active and ended:
                    last = max(e.termination_date for e in ended)
                    self.ops.append(DeactivateUser(person.guid, label, "last employment ended in ZUP", user_id=user.id,
                                                   ended=last))
                continue
            main = next((e for e in active if e.kind == EmploymentKind.MAIN), active[0])
            desired = user_fields(person, main, position_names)
            department_refs = []
            for e in active:
                ref = self.resolved.get(e.department_guid or "")
                if ref is not None and e.department_guid not in department_refs:
                    department_refs.append(e.department_guid)
            if not department_refs:
                self.notices.append(Notice(person.guid, label, "department_pending",
                                           "none of the person's departments exists in Bitrix24 yet (a mapping decision is pending)"))
                continue
            if user is None:
                self.plan_new_user(person, desired, tuple(department_refs), email_owner)
                continue
            self.plan_existing_user(person, user, desired, tuple(department_refs))

    def plan_new_user(self, person: Person, desired: dict, departments: tuple[str, ...], email_owner: dict) -> None:
        label = person.full_name
        if not person.email:
            self.notices.append(Notice(person.guid, label, "no_email",
                                       "not created: Bitrix24 needs an e-mail to invite the person; add one in ZUP "
                                       "(the person's contact information)"))
            return
        owner = email_owner.get(person.email.lower())
        if owner is not None:
            self.notices.append(Notice(person.guid, label, "email_match_proposed",
                                       f"Bitrix24 user {owner} already has {person.email}: confirm that it is this "
                                       "person, or give the person another e-mail in ZUP", proposal={"user_id": owner}))
            return
        self.new_people.add(person.guid)
        self.ops.append(CreateUser(person.guid, label, "hired in ZUP", fields=desired, department_payroll_ids=departments))

    def plan_existing_user(self, person: Person, user: PortalUser, desired: dict, departments: tuple[str, ...]) -> None:
        last_written = self.m.synced_fields.get(person.guid, {})
        changes, drift = {}, []
        for key, value in desired.items():
            current = user.fields.get(key, "")
            if current != value:
                changes[key] = [current, value]
                if key in last_written and last_written[key] == self.m.written_digest(key, value):
                    drift.append(key)  # ZUP did not change; someone edited it in Bitrix24
        wanted_ids = {self.resolved[g] for g in departments}
        if any(isinstance(w, str) for w in wanted_ids) or set(user.departments) != wanted_ids:
            changes["UF_DEPARTMENT"] = [sorted(user.departments), [w if isinstance(w, int) else w for w in wanted_ids]]
        if not user.active:
            self.ops.append(ReactivateUser(person.guid, person.full_name, "employed again in ZUP (rehire)",
                                           user_id=user.id, changes=changes, department_payroll_ids=departments,
                                           drift=tuple(drift)))
        elif changes:
            reason = "changed in ZUP" if len(drift) < len(changes) else "edited in Bitrix24; ZUP's value is put back"
            self.ops.append(UpdateUser(person.guid, person.full_name, reason, user_id=user.id, changes=changes,
                                       department_payroll_ids=departments, drift=tuple(drift)))

    # -- heads -------------------------------------------------------------------------------------------
    def plan_heads(self) -> None:
        for head in self.s.heads:
            dep_ref = self.resolved.get(head.department_guid)
            person = self.person_of_employment.get(head.employment_guid)
            if dep_ref is None or person is None or not self.usable_user(person):
                continue
            user_id = self.person_user.get(person)
            current = self.portal_departments[dep_ref].head if isinstance(dep_ref, int) else None
            if isinstance(dep_ref, int) and user_id is not None and current == user_id:
                continue
            self.ops.append(SetDepartmentHead(
                head.department_guid, self.departments[head.department_guid].name, "head in ZUP",
                department_id=dep_ref if isinstance(dep_ref, int) else None, department_payroll_id=head.department_guid,
                head_person_id=person, old_head=current))

    # -- absences ---------------------------------------------------------------------------------------
    def absence_type(self, kind: str) -> str:
        chosen = self.m.absence_types.get(kind) or DEFAULT_ABSENCE_TYPES.get(kind) or "OTHER"
        return chosen if chosen in ABSENCE_TYPES else "OTHER"

    def plan_absences(self) -> None:
        synced = {a.payroll_id: a for a in self.p.absences}
        wanted: set[str] = set()
        for absence in self.s.absences:
            person = self.person_of_employment.get(absence.employment_guid)
            if (absence.reversed or person is None or self.s.is_blocked(absence.guid)
                    or (self.cfg.only_person and person != self.cfg.only_person) or not self.usable_user(person)):
                continue
            user_id = self.person_user.get(person)
            end = absence.end or absence.start + timedelta(days=OPEN_ENDED_ABSENCE_DAYS)
            if end < self.cfg.today and absence.guid not in synced:
                continue  # already over: nothing to show
            wanted.add(absence.guid)
            absence_type = self.absence_type(absence.kind)
            name = ABSENCE_NAMES[absence_type]
            label = f"{name} {absence.start:%d.%m.%Y}–{end:%d.%m.%Y}"
            known = synced.get(absence.guid)
            if known is None:
                self.ops.append(AddAbsence(absence.guid, label, "absence in ZUP", person_id=person,
                                           absence_type=absence_type, name=name, start=absence.start, end=end))
                continue
            changes = {}
            for key, old, new in (("type", known.absence_type, absence_type), ("name", known.name, name),
                                  ("from", known.start, absence.start), ("to", known.end, end),
                                  ("user", known.user_id, user_id)):
                if old != new:
                    changes[key] = [str(old), str(new)]
            if changes:
                self.ops.append(UpdateAbsence(absence.guid, label, "changed in ZUP", person_id=person,
                                              absence_type=absence_type, name=name, start=absence.start, end=end,
                                              event_id=known.event_id, user_id=known.user_id, changes=changes))
        present = {a.guid: a for a in self.s.absences}
        for known in self.p.absences:
            if known.payroll_id in wanted:
                continue
            if self.cfg.only_person and self.m.persons.get(self.cfg.only_person) != known.user_id:
                continue
            source = present.get(known.payroll_id)
            if source is not None and source.reversed:
                reason = "reversed (сторно) or cancelled in ZUP"
            elif source is None and known.end >= self.cfg.today:
                reason = "no longer in ZUP"
            elif source is not None and not source.reversed:
                reason = "its employee is no longer synced"
            else:
                continue  # over, and out of ZUP's history window: the entry stays as history
            self.ops.append(RemoveAbsence(known.payroll_id, f"{known.name} {known.start:%d.%m.%Y}–{known.end:%d.%m.%Y}",
                                          reason, event_id=known.event_id, user_id=known.user_id))

    # -- all ---------------------------------------------------------------------------------------------
    def plan(self) -> SyncPlan:
        self.plan_departments()
        self.match_users()
        positions = {p.guid: p.name for p in self.s.positions}
        self.plan_people(positions)
        self.deactivated = {op.payroll_id for op in self.ops if isinstance(op, DeactivateUser)}
        self.reactivated = {op.payroll_id for op in self.ops if isinstance(op, ReactivateUser)}
        self.plan_heads()
        self.plan_absences()
        deactivating = {op.user_id for op in self.ops if isinstance(op, DeactivateUser)}
        moving_out = {op.user_id for op in self.ops if isinstance(op, (UpdateUser, ReactivateUser)) and "UF_DEPARTMENT" in op.changes}
        members: dict[int, int] = {}
        for user in self.p.users:
            if user.active and user.id not in deactivating and user.id not in moving_out:
                for dep in user.departments:
                    members[dep] = members.get(dep, 0) + 1
        for op in self.ops:
            if isinstance(op, (UpdateUser, ReactivateUser)) and "UF_DEPARTMENT" in op.changes:
                for dep in op.changes["UF_DEPARTMENT"][1]:
                    if isinstance(dep, int):
                        members[dep] = members.get(dep, 0) + 1
        self.plan_disbanded(members)
        for problem in self.s.problems:
            if problem.blocking and problem.entity in ("persons", "departments", "employments"):
                self.notices.append(Notice(problem.record, problem.label, problem.code, problem.message))
        dismissals = sum(1 for op in self.ops if isinstance(op, DeactivateUser))
        active_users = sum(1 for u in self.p.users if u.active)
        guard = ""
        limit_share = active_users * self.cfg.dismissal_guard_percent / 100
        if dismissals > self.cfg.confirmed_dismissals and (dismissals > self.cfg.dismissal_guard_count
                                                          or (active_users and dismissals > limit_share)):
            guard = (f"{dismissals} dismissals planned, more than the guard allows ({self.cfg.dismissal_guard_percent:g} % "
                     f"of {active_users} active users or {self.cfg.dismissal_guard_count} people): confirm to go on")
        return SyncPlan(tuple(self.ops), tuple(self.notices), guard, dismissals)


def plan_sync(snapshot: PayrollSnapshot, portal: PortalState, mappings: Mappings, settings: SyncSettings) -> SyncPlan:
    return _Planner(snapshot, portal, mappings, settings).plan()
