"""Turn source records (from OData or a pushed package) into a checked PayrollSnapshot.

Input: `SourceRecords`, plain dicts in the push package's shape with dates already parsed. Every
record-level problem is reported with its record, field and reason; the record and whatever depends
on it (a department's subtree, the employments in it, a person whose every employment is blocked)
are marked blocked, and the rest of the snapshot goes on.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from .model import (
    Absence,
    Department,
    DepartmentHead,
    Employment,
    EmploymentKind,
    Organisation,
    PayrollSnapshot,
    Person,
    Position,
    EARLIEST_DATE,
    LATEST_DATE,
    RecordProblem,
    date_in_range,
)
from .states import is_known_state

# Column sizes of the Bitrix24 fields these values end up in (b_user, b_iblock_section): a longer
# value would be refused or cut there, so it is reported here instead.
MAX_LENGTH = {"last_name": 50, "first_name": 50, "middle_name": 50, "email": 255, "department": 255,
              "position": 255, "phone": 255}
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_ABSENCE_NS = uuid.UUID("6f1c3c52-8f0e-4c55-9d43-3c8d2b7f0a11")


def absence_guid(document_guid: str, employment_guid: str, kind: str, start: date) -> str:
    """The same absence (and its сторно) always gets the same id, whichever way it arrived."""
    return str(uuid.uuid5(_ABSENCE_NS, f"{document_guid}|{employment_guid}|{kind}|{start.isoformat()}"))


@dataclass
class SourceRecords:
    organisations: list[dict[str, Any]] = field(default_factory=list)
    departments: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    employments: list[dict[str, Any]] = field(default_factory=list)
    heads: list[dict[str, Any]] = field(default_factory=list)
    absences: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)  # found while reading (bad dates, …)


def _range_message(value: date) -> str:
    return f"{value.isoformat()} is outside the dates an HR record may carry ({EARLIEST_DATE:%Y}–{LATEST_DATE:%Y}); correct it in ZUP"


class _Checker:
    def __init__(self, problems: Iterable[RecordProblem]) -> None:
        self.problems: list[RecordProblem] = list(problems)
        self.blocked: set[str] = {p.record for p in self.problems if p.blocking}
        self.labels: dict[str, str] = {}

    def report(self, entity: str, record: str, field_name: str, code: str, message: str, *, blocking: bool = True) -> None:
        self.problems.append(RecordProblem(entity, record, field_name, code, message, blocking))
        if blocking:
            self.blocked.add(record)

    def dates(self, entity: str, record: str, values: dict[str, date | None], *, blocking: bool = True) -> bool:
        """Report each date outside the allowed range; True when all are fine."""
        fine = True
        for name, value in values.items():
            if not date_in_range(value):
                self.report(entity, record, name, "date_out_of_range", _range_message(value), blocking=blocking)
                fine = False
        return fine

    def labelled(self) -> list[RecordProblem]:
        return [p if p.label or p.record not in self.labels else RecordProblem(**{**p.__dict__, "label": self.labels[p.record]})
                for p in self.problems]


def assemble_snapshot(source: SourceRecords, *, organisation_filter: frozenset[str] | None = None) -> PayrollSnapshot:
    check = _Checker(source.problems)
    restrict = bool(organisation_filter)  # a record of another organisation is left out, not reported
    organisations = {o["guid"]: Organisation(o["guid"], o["name"]) for o in source.organisations}
    if organisation_filter:
        organisations = {g: o for g, o in organisations.items() if g in organisation_filter or o.name in organisation_filter}
    departments = _departments(source.departments, organisations, check)
    positions = _positions(source.positions, check)
    employments = _employments(source.employments, organisations, departments, positions,
                               {p["guid"] for p in source.persons}, check, restrict=restrict)
    persons = _persons(source.persons, employments, check, restrict=restrict)
    _label(check, departments, persons)
    employment_guids = {e.guid for p in persons.values() for e in p.employments}
    person_of = {e.guid: p.guid for p in persons.values() for e in p.employments}
    heads = _heads(source.heads, departments, persons, person_of, check, restrict=restrict)
    absences = _absences(source.absences, employment_guids, check, skip_unknown=restrict)
    return PayrollSnapshot(
        organisations=tuple(sorted(organisations.values(), key=lambda o: o.guid)),
        departments=tuple(sorted(departments.values(), key=lambda d: d.guid)),
        positions=tuple(sorted(positions.values(), key=lambda p: p.guid)),
        persons=tuple(sorted(persons.values(), key=lambda p: p.guid)),
        heads=tuple(sorted(heads, key=lambda h: (h.department_guid, h.person_guid))),
        absences=tuple(sorted(absences.values(), key=lambda a: a.guid)),
        problems=tuple(sorted(check.labelled(), key=lambda p: (p.entity, p.record, p.field, p.code))),
        blocked=frozenset(check.blocked),
    )


def _positions(rows: list[dict], check: _Checker) -> dict[str, Position]:
    positions = {}
    for p in rows:
        positions[p["guid"]] = Position(p["guid"], p["name"])
        if len(p["name"]) > MAX_LENGTH["position"]:
            check.report("positions", p["guid"], "name", "too_long",
                         f"position name is {len(p['name'])} characters; Bitrix24 keeps {MAX_LENGTH['position']}")
    return positions


def _employments(rows: list[dict], organisations: dict, departments: dict, positions: dict, person_guids: set[str],
                 check: _Checker, *, restrict: bool) -> dict[str, list[Employment]]:
    """Employments by person, each checked against what it refers to."""
    by_person: dict[str, list[Employment]] = {}
    for e in rows:
        if e["organisation_guid"] not in organisations:
            if restrict:
                continue  # outside the organisations this portal syncs
            check.report("employments", e["guid"], "organisation_guid", "unknown_organisation",
                         f"organisation {e['organisation_guid']} is not in the data")
        employment = Employment(
            guid=e["guid"], person_guid=e["person_guid"], personnel_number=e.get("personnel_number") or "",
            organisation_guid=e["organisation_guid"], department_guid=e.get("department_guid"),
            position_guid=e.get("position_guid"), hire_date=e["hire_date"], termination_date=e.get("termination_date"),
            kind=EmploymentKind(e.get("kind") or EmploymentKind.MAIN),
        )
        guid, department = employment.guid, employment.department_guid
        check.dates("employments", guid, {"hire_date": employment.hire_date,
                                          "termination_date": employment.termination_date})
        if employment.person_guid not in person_guids:
            check.report("employments", guid, "person_guid", "unknown_person",
                         f"person {employment.person_guid} is not in the data")
        if department and department not in departments:
            check.report("employments", guid, "department_guid", "unknown_department",
                         f"department {department} is not in the data")
        elif department and department in check.blocked:
            check.report("employments", guid, "department_guid", "department_not_syncable",
                         f"its department {department} cannot be synced")
        if employment.position_guid and employment.position_guid not in positions:
            check.report("employments", guid, "position_guid", "unknown_position",
                         f"position {employment.position_guid} is not in the data", blocking=False)
        if employment.termination_date and employment.termination_date < employment.hire_date:
            check.report("employments", guid, "termination_date", "dates_reversed",
                         f"terminated {employment.termination_date} before hired {employment.hire_date}")
        by_person.setdefault(employment.person_guid, []).append(employment)
    return by_person


def _label(check: _Checker, departments: dict[str, Department], persons: dict[str, Person]) -> None:
    """What a person calls each record, for the problems found about it."""
    check.labels.update({d.guid: d.name for d in departments.values()})
    check.labels.update({p.guid: p.full_name for p in persons.values()})
    for person in persons.values():
        for employment in person.employments:
            check.labels[employment.guid] = f"{person.full_name}, таб. № {employment.personnel_number}".strip(", ")


def _heads(rows: list[dict], departments: dict, persons: dict, person_of: dict[str, str], check: _Checker, *,
           restrict: bool) -> list[DepartmentHead]:
    """A head names a person; a package of the first version named an employment, whose person it is."""
    heads = []
    for h in rows:
        person = h.get("person_guid") or person_of.get(h.get("employment_guid") or "")
        if h["department_guid"] in departments and person in persons:
            heads.append(DepartmentHead(h["department_guid"], person))
        elif not restrict:
            check.report("heads", h["department_guid"], "person_guid", "unknown_head",
                         "the head's department or person is not in the data", blocking=False)
    return heads


def _departments(rows: list[dict], organisations: dict[str, Organisation], check: _Checker) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    for d in rows:
        if d["organisation_guid"] not in organisations:
            continue
        departments[d["guid"]] = Department(d["guid"], d["name"], d.get("parent_guid") or None, d["organisation_guid"],
                                            d.get("created"), d.get("disbanded"), d.get("code") or "")
    for dep in departments.values():
        check.dates("departments", dep.guid, {"created": dep.created, "disbanded": dep.disbanded})
        if dep.parent_guid and dep.parent_guid not in departments:
            check.report("departments", dep.guid, "parent_guid", "unknown_parent",
                         f"parent department {dep.parent_guid} is not in the data")
        elif dep.parent_guid and departments[dep.parent_guid].organisation_guid != dep.organisation_guid:
            check.report("departments", dep.guid, "parent_guid", "parent_in_other_organisation",
                         "the parent department belongs to another organisation")
        if len(dep.name) > MAX_LENGTH["department"]:
            check.report("departments", dep.guid, "name", "too_long",
                         f"name is {len(dep.name)} characters; Bitrix24 keeps {MAX_LENGTH['department']}")
        if not dep.name.strip():
            check.report("departments", dep.guid, "name", "empty", "the department has no name")
    # Cycles: walk up from each department; a walk that comes back to a department already on it is one.
    for dep in departments.values():
        seen: list[str] = []
        current: str | None = dep.guid
        while current and current in departments and current not in seen:
            seen.append(current)
            current = departments[current].parent_guid
        if current and current in seen:
            cycle = seen[seen.index(current):]
            for guid in cycle:
                if guid not in check.blocked:
                    check.report("departments", guid, "parent_guid", "cycle",
                                 "the department is its own ancestor: " + " -> ".join(cycle + [current]))
    # Whatever hangs below a blocked department is blocked too.
    children: dict[str, list[str]] = {}
    for dep in departments.values():
        if dep.parent_guid:
            children.setdefault(dep.parent_guid, []).append(dep.guid)
    stack = [g for g in departments if g in check.blocked]
    while stack:
        guid = stack.pop()
        for child in children.get(guid, []):
            if child not in check.blocked:
                check.report("departments", child, "parent_guid", "parent_not_syncable",
                             f"a department above it ({guid}) cannot be synced")
                stack.append(child)
    return departments


def _persons(rows: list[dict], employments_by_person: dict[str, list[Employment]], check: _Checker,
             *, restrict: bool) -> dict[str, Person]:
    persons: dict[str, Person] = {}
    owners_of_email: dict[str, list[str]] = {}
    for p in rows:
        employments = tuple(sorted(employments_by_person.get(p["guid"], []), key=lambda e: (e.hire_date, e.guid)))
        if restrict and not employments:
            continue  # works only for organisations outside the filter
        email = (p.get("email") or "").strip()
        birthday = p.get("birthday")
        if not check.dates("persons", p["guid"], {"birthday": birthday}, blocking=False):
            birthday = None  # a wrong birthday is reported and left out; the person still syncs
        person = Person(
            guid=p["guid"], last_name=p.get("last_name") or "", first_name=p.get("first_name") or "",
            middle_name=p.get("middle_name") or "", birthday=birthday, gender=p.get("gender") or "",
            email=email, phones=tuple(p.get("phones") or ()), employments=employments,
        )
        persons[person.guid] = person
        for name in ("last_name", "first_name", "middle_name"):
            if len(getattr(person, name)) > MAX_LENGTH[name]:
                check.report("persons", person.guid, name, "too_long",
                             f"{len(getattr(person, name))} characters; Bitrix24 keeps {MAX_LENGTH[name]}")
        if not person.last_name and not person.first_name:
            check.report("persons", person.guid, "last_name", "empty", "the person has no name")
        for phone in person.phones:
            if len(phone) > MAX_LENGTH["phone"]:
                check.report("persons", person.guid, "phones", "too_long", "a phone number is too long", blocking=False)
        if not email:
            check.report("persons", person.guid, "email", "no_email",
                         "no e-mail in ZUP: Bitrix24 cannot invite the person; add it to the person's contact "
                         "information in ZUP", blocking=False)
        elif not _EMAIL.match(email) or len(email) > MAX_LENGTH["email"]:
            check.report("persons", person.guid, "email", "invalid_email",
                         f"{email!r} is not an e-mail address; correct it in ZUP")
        else:
            owners_of_email.setdefault(email.lower(), []).append(person.guid)
        if employments and all(e.guid in check.blocked for e in employments):
            check.report("persons", person.guid, "employments", "no_syncable_employment",
                         "none of the person's employments can be synced")
    for email, owners in owners_of_email.items():
        if len(owners) > 1:
            for guid in owners:
                others = ", ".join(f"{persons[o].full_name} ({o})" for o in owners if o != guid)
                check.report("persons", guid, "email", "duplicate_email",
                             f"{email} is also the e-mail of {others}: give each person their own address in ZUP")
    return persons


def _absences(rows: list[dict], employment_guids: set[str], check: _Checker, *, skip_unknown: bool) -> dict[str, Absence]:
    absences: dict[str, Absence] = {}
    for a in rows:
        if a["employment_guid"] not in employment_guids and skip_unknown:
            continue
        guid = absence_guid(a["document_guid"], a["employment_guid"], a["kind"], a["start"])
        reversed_ = bool(a.get("reversed"))
        known = absences.get(guid)
        if known is not None:
            # The original and its сторно share the key: the absence is cancelled.
            absences[guid] = Absence(**{**known.__dict__, "reversed": known.reversed or reversed_})
            continue
        absence = Absence(guid, a["document_guid"], a.get("document_kind") or "", a["employment_guid"], a["kind"],
                          a["start"], a.get("end"), reversed_)
        absences[guid] = absence
        if not is_known_state(absence.kind):
            check.report("absences", guid, "kind", "unknown_state",
                         f"«{absence.kind}» is not a value of ZUP's СостоянияСотрудника: the absence is not shown "
                         "(tell hrsync's team which state it is)")
        if absence.employment_guid not in employment_guids:
            check.report("absences", guid, "employment_guid", "unknown_employment",
                         f"employment {absence.employment_guid} is not in the data")
        check.dates("absences", guid, {"start": absence.start, "end": absence.end})
        if absence.end and absence.end < absence.start:
            check.report("absences", guid, "end", "dates_reversed", f"ends {absence.end} before it starts {absence.start}")
    return absences
