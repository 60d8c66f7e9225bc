"""The canonical HR picture from 1C:ZUP: frozen dataclasses, no Django, no HTTP.

Both ways of getting data from ZUP (OData pull, pushed packages) end here, through
`hrsync.sync.assemble.assemble_snapshot`, so the sync sees one shape whatever the source.
Names follow ZUP's objects: a Person is a ФизическоеЛицо, an Employment a Сотрудник.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum


# Dates an HR record may carry. No hire, absence or birthday needs more, and inside these bounds every
# date fits Bitrix24's date fields and the planner's date arithmetic (an open-ended absence is shown for
# a few months past its start). Outside them a record is refused by name, never carried into a run.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def date_in_range(value: date | None) -> bool:
    return value is None or EARLIEST_DATE <= value <= LATEST_DATE


class EmploymentKind(str, Enum):
    """ZUP's ВидыЗанятости, as the sync needs them."""

    MAIN = "main"  # ОсновноеМестоРаботы
    INTERNAL_PART_TIME = "internal_part_time"  # ВнутреннееСовместительство, Подработка
    EXTERNAL_PART_TIME = "external_part_time"  # Совместительство


@dataclass(frozen=True)
class Organisation:
    guid: str
    name: str


@dataclass(frozen=True)
class Department:
    guid: str
    name: str
    parent_guid: str | None
    organisation_guid: str
    created: date | None = None
    disbanded: date | None = None
    code: str = ""

    @property
    def is_disbanded(self) -> bool:
        return self.disbanded is not None


@dataclass(frozen=True)
class Position:
    guid: str
    name: str


@dataclass(frozen=True)
class Employment:
    guid: str  # Catalog_Сотрудники.Ref_Key
    person_guid: str
    personnel_number: str  # табельный номер (Catalog_Сотрудники.Code)
    organisation_guid: str
    department_guid: str | None
    position_guid: str | None
    hire_date: date
    termination_date: date | None
    kind: EmploymentKind

    def active_on(self, day: date) -> bool:
        return self.hire_date <= day and (self.termination_date is None or self.termination_date >= day)


@dataclass(frozen=True)
class Person:
    guid: str  # Catalog_ФизическиеЛица.Ref_Key
    last_name: str
    first_name: str
    middle_name: str
    birthday: date | None
    gender: str  # "M", "F" or ""
    email: str
    phones: tuple[str, ...]
    employments: tuple[Employment, ...] = ()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


@dataclass(frozen=True)
class DepartmentHead:
    department_guid: str
    person_guid: str  # ZUP's head is a person (ФизическоеЛицо), whichever of their employments


@dataclass(frozen=True)
class Absence:
    guid: str  # stable: the same source document, employee, kind and start always give the same guid
    document_guid: str
    document_kind: str  # e.g. Document_Отпуск
    employment_guid: str
    kind: str  # ZUP's СостоянияСотрудника value: ОтпускОсновной, Болезнь, Командировка, …
    start: date
    end: date | None
    reversed: bool = False  # сторно, or the document was unposted


@dataclass(frozen=True)
class RecordProblem:
    """Why one record (and what depends on it) cannot be synced. `code` is stable for the UI to translate."""

    entity: str  # persons, employments, departments, absences, …
    record: str  # the record's guid, or its position in a package
    field: str
    code: str
    message: str
    blocking: bool = True  # False: a warning, the record still syncs
    label: str = ""  # what a person calls the record: a full name, a department's name


@dataclass(frozen=True)
class PayrollSnapshot:
    organisations: tuple[Organisation, ...]
    departments: tuple[Department, ...]
    positions: tuple[Position, ...]
    persons: tuple[Person, ...]
    heads: tuple[DepartmentHead, ...]
    absences: tuple[Absence, ...]
    problems: tuple[RecordProblem, ...] = ()
    blocked: frozenset[str] = field(default_factory=frozenset)  # guids that must not be synced

    def is_blocked(self, guid: str) -> bool:
        return guid in self.blocked

    def problems_of(self, guid: str) -> list[RecordProblem]:
        return [p for p in self.problems if p.record == guid]
