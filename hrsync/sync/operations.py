"""What a run does, as typed values: the plan's operations, their reasons, and what the admin must see.

Pure: no Django, no HTTP. Names are the core's own: a user's fields are `first_name`, `employment_date`,
…, never Bitrix24's (bitrix_app.gateway.fields turns one into the other, both ways). Each operation
carries the payroll ID it comes from and why it is planned (a `Reason` code; the texts are translated
where they are shown, hrsync.texts).

Names: a ZUP record is called by its `guid` in the canonical model (hrsync.sync.model, as ZUP's
Ref_Key), and by `payroll_id` wherever the sync refers to it from the Bitrix24 side (operations,
mappings, the journal); `person_payroll_id` / `head_payroll_id` name the person an operation is about.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Union


@dataclass(frozen=True)
class NewRef:
    """A department this run creates: its Bitrix24 ID is known only once the command creating it ran."""

    payroll_id: str


DepartmentRef = Union[int, NewRef]  # an existing Bitrix24 department, or one created in this run


class Reason(str, Enum):
    """Why an operation is planned. The value is stored in the journal; its text lives in hrsync.texts."""

    NEW_IN_ZUP = "new_in_zup"
    DEPARTMENT_DELETED_IN_BITRIX = "department_deleted_in_bitrix"
    RENAMED = "renamed_in_zup"
    MOVED = "moved_in_zup"
    RENAMED_AND_MOVED = "renamed_and_moved_in_zup"
    DISBANDED = "disbanded_in_zup"
    HIRED = "hired_in_zup"
    EMPLOYMENT_ENDED = "employment_ended_in_zup"
    CHANGED = "changed_in_zup"
    DRIFT_PUT_BACK = "edited_in_bitrix_put_back"
    REHIRED = "rehired_in_zup"
    HEAD_IN_ZUP = "head_in_zup"
    ABSENCE_IN_ZUP = "absence_in_zup"
    ABSENCE_CHANGED = "absence_changed_in_zup"
    ABSENCE_TYPE_REMAPPED = "absence_type_mapping_changed"  # ZUP's data is the same: hrsync's type mapping changed
    ABSENCE_REVERSED = "absence_reversed_in_zup"
    ABSENCE_GONE = "absence_gone_from_zup"
    EMPLOYEE_NOT_SYNCED = "employee_no_longer_synced"


# What ZUP owns of a Bitrix24 user, by the core's names; values are strings, dates as ISO `YYYY-MM-DD`.
USER_FIELDS = ("first_name", "last_name", "middle_name", "email", "payroll_id", "position", "employment_date",
               "birthday", "gender", "mobile_phone")
DEPARTMENTS = "departments"  # the key of a user's department change in `changes`


@dataclass(frozen=True, kw_only=True)
class Operation:
    payroll_id: str
    label: str
    reason: Reason

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, kw_only=True)
class CreateDepartment(Operation):
    name: str
    parent: DepartmentRef
    depth: int = 0


@dataclass(frozen=True, kw_only=True)
class UpdateDepartment(Operation):
    department_id: int
    changes: dict = field(default_factory=dict)  # "name" / "parent": [old, new]; a new parent may be a NewRef


@dataclass(frozen=True, kw_only=True)
class DeleteDepartment(Operation):
    department_id: int


@dataclass(frozen=True, kw_only=True)
class CreateUser(Operation):
    fields: dict = field(default_factory=dict)  # USER_FIELDS -> value
    department_payroll_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class UpdateUser(Operation):
    user_id: int
    changes: dict = field(default_factory=dict)  # USER_FIELDS or DEPARTMENTS -> [old, new]
    department_payroll_ids: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()  # fields someone changed in Bitrix24


@dataclass(frozen=True, kw_only=True)
class ReactivateUser(UpdateUser):
    """An update that also makes a dismissed user active again (a rehire)."""


@dataclass(frozen=True, kw_only=True)
class DeactivateUser(Operation):
    user_id: int
    ended: date | None = None  # the last employment's termination date


@dataclass(frozen=True, kw_only=True)
class SetDepartmentHead(Operation):
    department: DepartmentRef
    head_payroll_id: str
    old_head: int | None = None


@dataclass(frozen=True, kw_only=True)
class _ShownAbsence(Operation):
    """What an absence looks like on the portal: whose, which type, its name, its days."""

    person_payroll_id: str  # the ZUP person (Catalog_ФизическиеЛица) whose absence it is
    absence_type: str
    name: str
    start: date
    end: date


@dataclass(frozen=True, kw_only=True)
class AddAbsence(_ShownAbsence):
    pass


@dataclass(frozen=True, kw_only=True)
class UpdateAbsence(_ShownAbsence):
    event_id: int
    user_id: int
    changes: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RemoveAbsence(Operation):
    event_id: int
    user_id: int


Op = Union[CreateDepartment, UpdateDepartment, DeleteDepartment, CreateUser, UpdateUser, ReactivateUser,
           DeactivateUser, SetDepartmentHead, AddAbsence, UpdateAbsence, RemoveAbsence]

# The order a run writes in: a user needs its departments, a head its user, an absence its user; a
# department is deleted last, once its people have moved out.
PHASES: dict[str, tuple[type, ...]] = {
    "departments": (CreateDepartment, UpdateDepartment),
    "users": (CreateUser, UpdateUser, ReactivateUser, DeactivateUser),
    "heads": (SetDepartmentHead,),
    "absences": (AddAbsence, UpdateAbsence, RemoveAbsence),
    "cleanup": (DeleteDepartment,),
}
PHASE_OF: dict[type, str] = {kind: phase for phase, kinds in PHASES.items() for kind in kinds}
OPERATION_KINDS: tuple[str, ...] = tuple(kind.__name__ for kinds in PHASES.values() for kind in kinds)


@dataclass(frozen=True, kw_only=True)
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
