"""Apply a plan: chunk by chunk through the Bitrix24 gateway, phase by phase, journaled.

Before a chunk is sent its operations are marked `intent` (committed), and after it every operation
gets its outcome, and the mappings their new IDs, in one transaction. A worker killed between the
two leaves intents, which the next run resolves (services.recover_intents) before it plans.
"""
from __future__ import annotations

import logging
from typing import Callable

from django.db import connection as database
from django.db import transaction
from django.utils import timezone

from bitrix_app.client import BitrixClient, BitrixError, BitrixOperationTimeLimit, resume_time
from bitrix_app.gateway.fields import portal_dates
from bitrix_app.gateway.writes import Deferred, KnownIds, PortalWriter, Written
from bitrix_app.models import Portal

from .models import (
    DepartmentDecision,
    DepartmentMapping,
    OperationStatus,
    PersonMapping,
    SyncedAbsence,
    SyncOperation,
    SyncRun,
)
from .privacy import digests
from .sync import operations as o

log = logging.getLogger(__name__)


class TurnOver(Exception):
    """The run gives its worker back (services._Turn): nothing of the chunk at hand was sent."""


class Applier:
    def __init__(self, portal: Portal, client: BitrixClient, run: SyncRun, plan: o.SyncPlan,
                 journal: dict[int, SyncOperation], *, fence: Callable[[], None] = lambda: None,
                 turn: Callable[[], None] = lambda: None):
        self.portal, self.run, self.plan = portal, run, plan
        # Called before every write: raises when this run's lease was lost (another run owns the portal).
        self.fence = fence
        # Called before every chunk: raises TurnOver when the run should give its worker back.
        self.turn = turn
        self.journal = journal  # id(op) -> its SyncOperation row
        self.known = KnownIds(
            departments={m.payroll_id: m.bitrix_id for m in DepartmentMapping.objects.filter(portal=portal) if m.bitrix_id},
            users={m.payroll_id: m.user_id for m in PersonMapping.objects.filter(portal=portal)})
        self.writer = PortalWriter(client, self.known, dates=portal_dates(portal))

    def apply(self) -> None:
        for phase, kinds in o.PHASES.items():
            ops = [op for op in self.plan.operations if type(op) in kinds]
            if phase == "departments":  # parents before children; renames and moves after the creations
                ops.sort(key=lambda op: (0, op.depth) if isinstance(op, o.CreateDepartment) else (1, 0))
            for chunk in self.writer.chunks(ops):
                self.send(chunk)

    def send(self, ops: list[o.Op]) -> None:
        chunk = self.writer.prepare(ops)
        finished = [self.finish(op, OperationStatus.FAILED if why.failed else OperationStatus.SKIPPED, code=why.code,
                                message=why.text) for op, why in chunk.skipped]
        if not chunk.ready:
            self.save(finished, _Remembered(self))
            return
        try:
            self.turn()
        except TurnOver:
            self.save(finished, _Remembered(self))  # (nothing of the chunk was sent; what was refused is kept)
            raise
        self.fence()
        sent = [self.journal[id(op)].pk for op, _ in chunk.ready]
        SyncOperation.objects.filter(pk__in=sent).update(status=OperationStatus.INTENT)
        try:
            result = self.writer.send(chunk)
        except BitrixError as exc:
            if resume_time(exc) is not None:
                # Held back or refused before anything ran (a time budget, a bucket taken for long): the
                # operations are still to do, by this run once it continues (services.run_sync pauses it).
                SyncOperation.objects.filter(pk__in=sent).update(status=OperationStatus.PLANNED)
                self.save(finished, _Remembered(self))
                raise
            # The whole call failed (transport, auth): nothing is known to be written; the intents stay
            # for the next run to check, and this run stops here.
            log.warning("Batch failed for portal %s: %s", self.portal.domain, exc.message)
            self.save(finished, _Remembered(self))  # what was refused before sending is journaled all the same
            raise
        remembered = _Remembered(self)
        deferred: list[float] = []
        for outcome in result.outcomes:
            if isinstance(outcome, Written):
                _REMEMBER[type(outcome.op)](remembered, outcome.op, outcome.target)
                finished.append(self.finish(outcome.op, OperationStatus.DONE, target=outcome.target))
            elif isinstance(outcome, Deferred):
                finished.append(self.defer(outcome.op))
                deferred.append(outcome.retry_at or 0.0)
            else:
                finished.append(self.finish(outcome.op, OperationStatus.FAILED, code=outcome.code,
                                            message=outcome.message))
        self.save(finished, remembered)
        if deferred:
            # The rest of the run waits too: what follows may need what was deferred (a user's absences).
            raise BitrixOperationTimeLimit("OPERATION_TIME_LIMIT", "a method's time budget is spent",
                                           http_status=429, reset_at=max(deferred) or None)

    def save(self, finished: list[SyncOperation], remembered: "_Remembered") -> None:
        """A chunk's outcomes and what the app remembers of them, in one transaction and a few statements
        (one per table, whatever the chunk's size): the database never paces a run, the portal's bucket does."""
        with transaction.atomic():
            remembered.flush()
            if finished:
                _write_outcomes(finished)

    def defer(self, op: o.Op) -> SyncOperation:
        """Not run by the portal (its method's time budget): still to do, by this run when it continues."""
        row = self.journal[id(op)]
        row.status, row.updated_at = OperationStatus.PLANNED, timezone.now()
        return row

    def finish(self, op: o.Op, status: str, *, target: int | None = None, code: str = "", message: str = "") -> SyncOperation:
        """An operation's outcome on its journal row (saved with its chunk by `save`)."""
        row = self.journal[id(op)]
        row.status, row.target_id = status, target
        if code or message:
            row.error_code, row.error_message = code, message
        row.updated_at = timezone.now()
        return row


_OUTCOME_FIELDS = ("status", "target_id", "error_code", "error_message", "updated_at")


def _write_outcomes(rows: list[SyncOperation]) -> None:
    """The chunk's journal rows, one UPDATE … FROM (VALUES …) on PostgreSQL. Django's bulk_update says the same
    in CASE WHEN expressions it builds in Python, which cost more of a run's CPU than all the rest of it (1.9 s
    of a 1,000-person first sync's 3.4); elsewhere (SQLite, the demo) bulk_update it is."""
    if database.vendor != "postgresql":
        SyncOperation.objects.bulk_update(rows, list(_OUTCOME_FIELDS))
        return
    meta = SyncOperation._meta
    column = {name: meta.get_field(name).column for name in _OUTCOME_FIELDS}
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = (f'UPDATE {meta.db_table} AS o SET {column["status"]} = v.status, {column["target_id"]} = v.target_id::integer, '
           f'{column["error_code"]} = v.error_code, {column["error_message"]} = v.error_message, '
           f'{column["updated_at"]} = v.updated_at::timestamptz '
           f'FROM (VALUES {values}) AS v(id, status, target_id, error_code, error_message, updated_at) '
           f'WHERE o.{meta.pk.column} = v.id::bigint')
    params: list = []
    for row in rows:
        params += [row.pk, row.status, row.target_id, row.error_code, row.error_message, row.updated_at]
    with database.cursor() as cursor:
        cursor.execute(sql, params)


class _Remembered:
    """What a chunk's written operations change in the app's own tables, collected and then written in bulk.
    The known IDs change at once (a later chunk of the same run needs a department made in this one)."""

    def __init__(self, applier: Applier) -> None:
        self.portal, self.known = applier.portal, applier.known
        self.departments: dict[str, int] = {}
        self.departments_gone: list[str] = []
        self.users: dict[str, tuple[int, dict]] = {}  # payroll ID -> (user ID, digests of what was written)
        self.user_updates: dict[str, tuple[int, dict]] = {}  # the same, merged into what the mapping holds
        self.absences: dict[str, dict] = {}
        self.absences_gone: list[str] = []

    # -- one per kind of written operation (the table _REMEMBER) --------------------------------------------
    def created_department(self, op: o.CreateDepartment, target: int) -> None:
        self.known.departments[op.payroll_id] = target
        self.departments[op.payroll_id] = target

    def deleted_department(self, op: o.DeleteDepartment, target: int | None) -> None:
        self.departments_gone.append(op.payroll_id)
        self.known.departments.pop(op.payroll_id, None)

    def created_user(self, op: o.CreateUser, target: int) -> None:
        self.known.users[op.payroll_id] = target
        self.users[op.payroll_id] = (target, digests(op.fields))

    def updated_user(self, op: o.UpdateUser, target: int | None) -> None:
        written = {name: pair[1] for name, pair in op.changes.items() if name != o.DEPARTMENTS}
        self.user_updates[op.payroll_id] = (op.user_id, digests(written))
        self.known.users[op.payroll_id] = op.user_id

    def added_absence(self, op: o.AddAbsence, target: int) -> None:
        self.absences[op.payroll_id] = {"event_id": target, "user_id": self.known.users[op.person_payroll_id],
                                        "absence_type": op.absence_type, "name": op.name, "start": op.start, "end": op.end}

    def updated_absence(self, op: o.UpdateAbsence, target: int | None) -> None:
        self.absences[op.payroll_id] = {"event_id": op.event_id, "user_id": op.user_id, "absence_type": op.absence_type,
                                        "name": op.name, "start": op.start, "end": op.end}

    def removed_absence(self, op: o.RemoveAbsence, target: int | None) -> None:
        self.absences_gone.append(op.payroll_id)

    def nothing_to_remember(self, op: o.Op, target: int | None) -> None:
        pass

    # -- the writes: one statement per table ----------------------------------------------------------------
    def flush(self) -> None:
        portal = self.portal
        if self.departments:
            DepartmentMapping.objects.bulk_create(
                [DepartmentMapping(portal=portal, payroll_id=p, bitrix_id=b, decision=DepartmentDecision.SYNCED)
                 for p, b in self.departments.items()],
                update_conflicts=True, unique_fields=["portal", "payroll_id"],
                update_fields=["bitrix_id", "decision", "updated_at"])
        if self.departments_gone:
            DepartmentMapping.objects.filter(portal=portal, payroll_id__in=self.departments_gone).delete()
        users = {p: (user_id, fields) for p, (user_id, fields) in self.users.items()}
        if self.user_updates:
            held = dict(PersonMapping.objects.filter(portal=portal, payroll_id__in=list(self.user_updates))
                        .values_list("payroll_id", "synced_fields"))
            for payroll_id, (user_id, fields) in self.user_updates.items():
                users[payroll_id] = (user_id, {**(held.get(payroll_id) or {}), **fields})
        if users:
            PersonMapping.objects.bulk_create(
                [PersonMapping(portal=portal, payroll_id=p, user_id=u, synced_fields=f) for p, (u, f) in users.items()],
                update_conflicts=True, unique_fields=["portal", "payroll_id"], update_fields=["user_id", "synced_fields"])
        if self.absences:
            SyncedAbsence.objects.bulk_create(
                [SyncedAbsence(portal=portal, payroll_id=p, **values) for p, values in self.absences.items()],
                update_conflicts=True, unique_fields=["portal", "payroll_id"],
                update_fields=["event_id", "user_id", "absence_type", "name", "start", "end"])
        if self.absences_gone:
            SyncedAbsence.objects.filter(portal=portal, payroll_id__in=self.absences_gone).delete()


_REMEMBER: dict[type, Callable[[_Remembered, o.Op, int | None], None]] = {
    o.CreateDepartment: _Remembered.created_department,
    o.UpdateDepartment: _Remembered.nothing_to_remember,
    o.DeleteDepartment: _Remembered.deleted_department,
    o.CreateUser: _Remembered.created_user,
    o.UpdateUser: _Remembered.updated_user,
    o.ReactivateUser: _Remembered.updated_user,
    o.DeactivateUser: _Remembered.nothing_to_remember,
    o.SetDepartmentHead: _Remembered.nothing_to_remember,
    o.AddAbsence: _Remembered.added_absence,
    o.UpdateAbsence: _Remembered.updated_absence,
    o.RemoveAbsence: _Remembered.removed_absence,
}
