"""Typed writes: the plan's operations in, `batch` commands out, and Bitrix24's answers back as outcomes.

One table says, per operation type, which command it becomes and what its answer means
(`_WRITES`); the caller (hrsync.apply) journals and keeps its mappings, and never spells a method.
A chunk is at most 50 commands (one `batch` call), and a department created in a chunk is referred to
by later commands of the same chunk as `$result[key]` (reference bitrix24-rest.md §3).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from hrsync.sync import operations as o

from ..client import BATCH_LIMIT, BitrixClient, Command, CommandOutcome
from ..client.errors import (
    BitrixAccessDenied,
    BitrixError,
    BitrixNotFound,
    BitrixObjectAccessDenied,
    BitrixOperationTimeLimit,
    BitrixUserLimitReached,
)
from . import calendar
from .fields import (
    DEPARTMENT_HEAD,
    DEPARTMENT_ID,
    DEPARTMENT_NAME,
    DEPARTMENT_PARENT,
    ISO_DATES,
    USER_ACTIVE,
    USER_DEPARTMENTS,
    USER_ID,
    DateStyle,
    user_params,
)


@dataclass(kw_only=True)
class KnownIds:
    """What the app knows of the portal's IDs; the writer adds what each chunk creates or finds."""

    departments: dict[str, int]  # department/organisation payroll ID -> Bitrix24 department ID
    users: dict[str, int]  # person payroll ID -> Bitrix24 user ID
    user_limit_reached: bool = False


class NotSendable(Exception):
    """The operation cannot become a command now (what it needs is not in Bitrix24); nothing was sent."""

    code = "not_sent"

    def __init__(self, text: str, *, failed: bool = False) -> None:
        super().__init__(text)
        self.text, self.failed = text, failed


@dataclass(frozen=True)
class Written:
    op: o.Op
    target: int | None  # the Bitrix24 ID the operation wrote (a new department, user or event), when it has one


@dataclass(frozen=True)
class Refused:
    op: o.Op
    code: str
    message: str
    # The portal's refusal does not say whether the object is still there: ask it (see `send`).
    ask_if_gone: bool = False


@dataclass(frozen=True)
class Deferred:
    """The portal did not run the command: its method had spent its time budget (429 OPERATION_TIME_LIMIT,
    checked before the method runs, CRestServer::processCall). Nothing was written; it may go at `retry_at`."""

    op: o.Op
    retry_at: float | None


@dataclass
class Chunk:
    commands: dict[str, Command] = field(default_factory=dict)
    ready: list[tuple[o.Op, str]] = field(default_factory=list)  # (operation, its batch key)
    skipped: list[tuple[o.Op, NotSendable]] = field(default_factory=list)


@dataclass(frozen=True)
class ChunkResult:
    outcomes: list[Written | Refused | Deferred]


class PortalWriter:
    def __init__(self, client: BitrixClient, known: KnownIds, *, dates: DateStyle = ISO_DATES) -> None:
        self.client, self.known, self.dates = client, known, dates

    # -- chunks ---------------------------------------------------------------------------------------
    def chunks(self, ops: Iterable[o.Op]) -> Iterator[list[o.Op]]:
        """Operations in groups that fit one batch call (one command each)."""
        chunk: list[o.Op] = []
        for op in ops:
            if len(chunk) == BATCH_LIMIT:
                yield chunk
                chunk = []
            chunk.append(op)
        if chunk:
            yield chunk

    def prepare(self, ops: list[o.Op]) -> Chunk:
        chunk = Chunk()
        created_here: dict[str, str] = {}  # department payroll ID -> key of the command creating it
        for index, op in enumerate(ops):
            key = f"op{index}"
            build = _WRITES.get(type(op))
            try:
                if build is None:
                    raise NotSendable(f"unknown operation {op.kind}", failed=True)
                command = build.command(self, op, created_here)
            except NotSendable as why:
                chunk.skipped.append((op, why))
                continue
            if isinstance(op, o.CreateDepartment):
                created_here[op.payroll_id] = key
            chunk.ready.append((op, key))
            chunk.commands[key] = command
        return chunk

    def send(self, chunk: Chunk) -> ChunkResult:
        """One batch call. A failure of the whole call (transport, auth) raises: nothing is known written."""
        answers = self.client.batch(chunk.commands)
        outcomes = [self._outcome(op, answers[key]) for op, key in chunk.ready]
        return ChunkResult(self._settle_removals(outcomes))

    def _settle_removals(self, outcomes: list[Written | Refused | Deferred]) -> list[Written | Refused | Deferred]:
        """An event removal the portal refused is done if the event is gone (deleted by hand).

        calendar_restservice.php `EventDelete` answers a missing event with the same generic error as any
        failed deletion (`CCalendar::DeleteEvent` returns false), so the app asks `calendar.event.getbyid`,
        which answers null for an event that does not exist, rather than reading the message.
        """
        asked = {f"gone{index}": calendar.by_id(event_id=outcome.op.event_id)
                 for index, outcome in enumerate(outcomes) if isinstance(outcome, Refused) and outcome.ask_if_gone}
        if not asked:
            return outcomes
        answers = self.client.batch(asked)
        settled = list(outcomes)
        for key in asked:
            index = int(key.removeprefix("gone"))
            answer = answers.get(key)
            if answer is not None and answer.ok and not answer.result:
                settled[index] = Written(outcomes[index].op, outcomes[index].op.event_id)
        return settled

    def _outcome(self, op: o.Op, answer: CommandOutcome) -> Written | Refused | Deferred:
        write = _WRITES[type(op)]
        if answer.ok:
            return Written(op, write.target(self, op, answer.result))
        if isinstance(answer.error, BitrixOperationTimeLimit):
            return Deferred(op, answer.error.reset_at)
        return write.refusal(self, op, answer.error)

    # -- references -------------------------------------------------------------------------------------
    def department(self, ref: o.DepartmentRef | None, created_here: dict[str, str]) -> int | str:
        if isinstance(ref, int):
            return ref
        if isinstance(ref, o.NewRef):
            if ref.payroll_id in created_here:
                return f"$result[{created_here[ref.payroll_id]}]"
            if ref.payroll_id in self.known.departments:
                return self.known.departments[ref.payroll_id]
        raise NotSendable("its parent department was not created")

    def departments_of(self, op: o.CreateUser | o.UpdateUser) -> list[int]:
        departments = [self.known.departments[g] for g in op.department_payroll_ids if g in self.known.departments]
        if not departments:
            raise NotSendable("none of the person's departments could be created in Bitrix24")
        return departments


# -- the table: one entry per operation type ----------------------------------------------------------------
def _refused(writer: PortalWriter, op: o.Op, error: BitrixError) -> Written | Refused:
    return Refused(op, error.code, error.message)


def _no_target(writer: PortalWriter, op: o.Op, result: Any) -> int | None:
    return None


def _new_id(writer: PortalWriter, op: o.Op, result: Any) -> int | None:
    return int(result)


@dataclass(frozen=True)
class _Write:
    command: Callable[[PortalWriter, Any, dict[str, str]], Command]
    target: Callable[[PortalWriter, Any, Any], int | None] = _no_target
    refusal: Callable[[PortalWriter, Any, BitrixError], Written | Refused] = _refused


def _create_department(writer: PortalWriter, op: o.CreateDepartment, created_here) -> Command:
    return Command("department.add", {DEPARTMENT_NAME: op.name, DEPARTMENT_PARENT: writer.department(op.parent, created_here)})


def _update_department(writer: PortalWriter, op: o.UpdateDepartment, created_here) -> Command:
    params: dict[str, Any] = {DEPARTMENT_ID: op.department_id}
    if "name" in op.changes:
        params[DEPARTMENT_NAME] = op.changes["name"][1]
    if "parent" in op.changes:
        params[DEPARTMENT_PARENT] = writer.department(op.changes["parent"][1], created_here)
    return Command("department.update", params)


def _delete_department(writer: PortalWriter, op: o.DeleteDepartment, created_here) -> Command:
    return Command("department.delete", {DEPARTMENT_ID: op.department_id})


def _create_user(writer: PortalWriter, op: o.CreateUser, created_here) -> Command:
    departments = writer.departments_of(op)
    if writer.known.user_limit_reached:
        raise NotSendable("the portal's user limit is reached (user_count_exceeded)")
    return Command("user.add", {**user_params(op.fields, dates=writer.dates, creating=True), USER_DEPARTMENTS: departments})


def _create_user_refused(writer: PortalWriter, op: o.CreateUser, error: BitrixError) -> Written | Refused:
    if isinstance(error, BitrixUserLimitReached):
        writer.known.user_limit_reached = True  # the rest of the run's new users are not even tried
    return _refused(writer, op, error)


def _update_user(writer: PortalWriter, op: o.UpdateUser, created_here) -> Command:
    departments = writer.departments_of(op)
    params = {USER_ID: op.user_id, **user_params({k: v[1] for k, v in op.changes.items()}, dates=writer.dates)}
    if o.DEPARTMENTS in op.changes:
        params[USER_DEPARTMENTS] = departments
    if isinstance(op, o.ReactivateUser):
        params[USER_ACTIVE] = "Y"
    return Command("user.update", params)


def _deactivate_user(writer: PortalWriter, op: o.DeactivateUser, created_here) -> Command:
    return Command("user.update", {USER_ID: op.user_id, USER_ACTIVE: "N"})


def _user_target(writer: PortalWriter, op, result: Any) -> int | None:
    return op.user_id


def _set_head(writer: PortalWriter, op: o.SetDepartmentHead, created_here) -> Command:
    department = op.department if isinstance(op.department, int) else writer.known.departments.get(op.department.payroll_id)
    head = writer.known.users.get(op.head_payroll_id)
    if not department or not head:
        raise NotSendable("the department or its head is not in Bitrix24")
    return Command("department.update", {DEPARTMENT_ID: department, DEPARTMENT_HEAD: head})


def _head_target(writer: PortalWriter, op: o.SetDepartmentHead, result: Any) -> int | None:
    return writer.known.users.get(op.head_payroll_id)


def _add_absence(writer: PortalWriter, op: o.AddAbsence, created_here) -> Command:
    user_id = writer.known.users.get(op.person_payroll_id)
    if not user_id:
        raise NotSendable("the employee is not in Bitrix24 (see the operation that created them)")
    return calendar.add(user_id=user_id, payroll_id=op.payroll_id, name=op.name, start=op.start, end=op.end)


def _update_absence(writer: PortalWriter, op: o.UpdateAbsence, created_here) -> Command:
    return calendar.update(user_id=op.user_id, event_id=op.event_id, name=op.name, start=op.start, end=op.end)


def _absence_refused(writer: PortalWriter, op, error: BitrixError) -> Written | Refused:
    message = error.message
    if isinstance(error, (BitrixAccessDenied, BitrixObjectAccessDenied)):
        message += (" — the app's Bitrix24 user may not add events to this employee's calendar: install the "
                    "app as a portal administrator, or give that user access to employees' calendars")
    return Refused(op, error.code, message)


def _remove_absence(writer: PortalWriter, op: o.RemoveAbsence, created_here) -> Command:
    return calendar.remove(user_id=op.user_id, event_id=op.event_id)


def _event_target(writer: PortalWriter, op, result: Any) -> int | None:
    return op.event_id


def _remove_absence_refused(writer: PortalWriter, op: o.RemoveAbsence, error: BitrixError) -> Written | Refused:
    if isinstance(error, BitrixNotFound):
        return Written(op, op.event_id)  # someone already deleted the event: what we wanted is the case
    refused = _absence_refused(writer, op, error)
    if isinstance(error, (BitrixAccessDenied, BitrixObjectAccessDenied)):
        return refused
    return Refused(op, refused.code, refused.message, ask_if_gone=True)


_WRITES: dict[type, _Write] = {
    o.CreateDepartment: _Write(_create_department, _new_id),
    o.UpdateDepartment: _Write(_update_department),
    o.DeleteDepartment: _Write(_delete_department),
    o.CreateUser: _Write(_create_user, _new_id, _create_user_refused),
    o.UpdateUser: _Write(_update_user, _user_target),
    o.ReactivateUser: _Write(_update_user, _user_target),
    o.DeactivateUser: _Write(_deactivate_user, _user_target),
    o.SetDepartmentHead: _Write(_set_head, _head_target),
    o.AddAbsence: _Write(_add_absence, _new_id, _absence_refused),
    o.UpdateAbsence: _Write(_update_absence, _event_target, _absence_refused),
    o.RemoveAbsence: _Write(_remove_absence, _event_target, _remove_absence_refused),
}
