"""What the sync knows of the portal and of its own earlier work: plain values, read by the services."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Callable


def _as_is(name: str, value: Any) -> Any:
    return value


@dataclass(frozen=True)
class PortalDepartment:
    id: int
    name: str
    parent: int | None
    head: int | None


@dataclass(frozen=True)
class PortalUser:
    id: int
    active: bool
    email: str
    xml_id: str
    fields: dict  # the fields ZUP owns (operations.USER_FIELDS), as plan.user_fields gives them
    departments: frozenset[int]


@dataclass(frozen=True)
class WrittenAbsence:
    """An absence the app wrote to the portal (its calendar event), from the app's own table."""

    payroll_id: str
    event_id: int
    user_id: int
    absence_type: str
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class PortalState:
    departments: tuple[PortalDepartment, ...]
    users: tuple[PortalUser, ...]
    absences: tuple[WrittenAbsence, ...] = ()

    @property
    def root(self) -> int | None:
        return next((d.id for d in self.departments if d.parent is None), None)

    def path_of(self, department_id: int, *, with_root: bool = False) -> tuple[str, ...]:
        """The names from below the root (or from the root) down to the department; a loop stops the walk."""
        by_id = self.departments_by_id
        names: list[str] = []
        current: int | None = department_id
        seen: set[int] = set()
        while current in by_id and current not in seen:
            seen.add(current)
            department = by_id[current]
            if department.parent is None and not with_root:
                break
            names.append(department.name)
            current = department.parent
        return tuple(reversed(names))

    @cached_property
    def departments_by_id(self) -> dict[int, PortalDepartment]:
        return {d.id: d for d in self.departments}


@dataclass(frozen=True)
class Mappings:
    """The app's own tables: ZUP GUID -> Bitrix24 ID, and the admin's decisions."""

    departments: dict[str, int] = field(default_factory=dict)  # department or organisation GUID -> department ID
    create_departments: frozenset[str] = frozenset()  # admin chose "create in Bitrix24" over a proposed match
    excluded_departments: frozenset[str] = frozenset()  # subtrees kept out of the sync
    persons: dict[str, int] = field(default_factory=dict)  # person GUID -> user ID
    # person GUID -> what the app last wrote, field by field, as `written_digest(field, value)`: the app keeps
    # digests, not copies of people's data; equal values still compare equal (drift detection).
    synced_fields: dict[str, dict] = field(default_factory=dict)
    absence_types: dict[str, str] = field(default_factory=dict)  # ZUP absence kind -> Bitrix24 type
    written_digest: Callable[[str, Any], Any] = field(default=_as_is)


@dataclass(frozen=True)
class SyncSettings:
    today: date
    organisations_as_departments: bool = True
    future_hire_lead_days: int = 0
    dismissal_guard_percent: float = 10.0
    dismissal_guard_count: int = 20
    confirmed_dismissals: int = 0  # an admin confirmed a guard stop for up to this many dismissals
    only_person: str | None = None  # single-person sync
    # A run for pushed changes: only these people (the structure whole). The snapshot and the portal were
    # read for them alone, so nothing is concluded about anyone else: no department is removed, no absence
    # of another person; `population` (the portal's active users, from the last whole read) is what the
    # dismissal guard's share is of.
    scope: frozenset[str] | None = None
    population: int | None = None
