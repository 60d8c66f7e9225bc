"""What the sync knows of the portal and of its own earlier work: plain values, read by the services."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
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
    fields: dict  # the user.get fields the sync owns, normalised (see plan.user_fields)
    departments: frozenset[int]


@dataclass(frozen=True)
class SyncedAbsence:
    """An absence the app wrote (its calendar event), from the app's own table."""

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
    absences: tuple[SyncedAbsence, ...] = ()

    @property
    def root(self) -> int | None:
        return next((d.id for d in self.departments if d.parent is None), None)


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
