"""Apply a plan: chunk by chunk through the Bitrix24 gateway, phase by phase, journaled.

Before a chunk is sent its operations are marked `intent` (committed), and after it every operation
gets its outcome, and the mappings their new IDs, in one transaction. A worker killed between the
two leaves intents, which the next run resolves (services.recover_intents) before it plans.
"""
from __future__ import annotations

import logging
from typing import Callable

from django.db import transaction

from bitrix_app.client import BitrixClient, BitrixError
from bitrix_app.gateway.fields import portal_dates
from bitrix_app.gateway.writes import KnownIds, PortalWriter, Refused, Written
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


class Applier:
    def __init__(self, portal: Portal, client: BitrixClient, run: SyncRun, plan: o.SyncPlan,
                 journal: dict[int, SyncOperation], *, fence: Callable[[], None] = lambda: None):
        self.portal, self.run, self.plan = portal, run, plan
        # Called before every write: raises when this run's lease was lost (another run owns the portal).
        self.fence = fence
        self.journal = journal  # id(op) -> its SyncOperation row
        self.known = KnownIds(
            departments={m.payroll_id: m.bitrix_id for m in DepartmentMapping.objects.filter(portal=portal) if m.bitrix_id},
            users={m.payroll_id: m.user_id for m in PersonMapping.objects.filter(portal=portal)})
        self.writer = PortalWriter(client, self.known, dates=portal_dates(portal))
        self.counts = {"done": 0, "failed": 0, "skipped": 0}

    def apply(self) -> dict[str, int]:
        for phase, kinds in o.PHASES.items():
            ops = [op for op in self.plan.operations if type(op) in kinds]
            if phase == "departments":  # parents before children; renames and moves after the creations
                ops.sort(key=lambda op: (0, op.depth) if isinstance(op, o.CreateDepartment) else (1, 0))
            for chunk in self.writer.chunks(ops):
                self.send(chunk)
        return self.counts

    def send(self, ops: list[o.Op]) -> None:
        chunk = self.writer.prepare(ops)
        for op, why in chunk.skipped:
            self.finish(op, OperationStatus.FAILED if why.failed else OperationStatus.SKIPPED, code=why.code,
                        message=why.text)
        if not chunk.ready:
            return
        self.fence()
        SyncOperation.objects.filter(pk__in=[self.journal[id(op)].pk for op, _ in chunk.ready]).update(
            status=OperationStatus.INTENT)
        try:
            result = self.writer.send(chunk)
        except BitrixError as exc:
            # The whole call failed (transport, auth): nothing is known to be written; the intents stay
            # for the next run to check, and this run stops here.
            log.warning("Batch failed for portal %s: %s", self.portal.domain, exc.message)
            raise
        with transaction.atomic():
            for outcome in result.outcomes:
                if isinstance(outcome, Written):
                    _REMEMBER[type(outcome.op)](self, outcome.op, outcome.target)
                    self.finish(outcome.op, OperationStatus.DONE, target=outcome.target)
                else:
                    self.refused(outcome)

    def refused(self, outcome: Refused) -> None:
        self.finish(outcome.op, OperationStatus.FAILED, code=outcome.code, message=outcome.message)

    def finish(self, op: o.Op, status: str, *, target: int | None = None, code: str = "", message: str = "") -> None:
        row = self.journal[id(op)]
        row.status, row.target_id = status, target
        if code or message:
            row.error_code, row.error_message = code, message
        row.save(update_fields=["status", "target_id", "error_code", "error_message", "updated_at"])
        self.counts[{OperationStatus.DONE: "done", OperationStatus.FAILED: "failed"}.get(status, "skipped")] += 1

    # -- what a written operation changes in the app's own tables -----------------------------------------
    def created_department(self, op: o.CreateDepartment, target: int) -> None:
        self.known.departments[op.payroll_id] = target
        DepartmentMapping.objects.update_or_create(portal=self.portal, payroll_id=op.payroll_id,
                                                   defaults={"bitrix_id": target, "decision": DepartmentDecision.SYNCED})

    def deleted_department(self, op: o.DeleteDepartment, target: int | None) -> None:
        DepartmentMapping.objects.filter(portal=self.portal, payroll_id=op.payroll_id).delete()
        self.known.departments.pop(op.payroll_id, None)

    def created_user(self, op: o.CreateUser, target: int) -> None:
        self.known.users[op.payroll_id] = target
        PersonMapping.objects.update_or_create(portal=self.portal, payroll_id=op.payroll_id,
                                               defaults={"user_id": target, "synced_fields": digests(op.fields)})

    def updated_user(self, op: o.UpdateUser, target: int | None) -> None:
        mapping, _ = PersonMapping.objects.get_or_create(portal=self.portal, payroll_id=op.payroll_id,
                                                         defaults={"user_id": op.user_id})
        mapping.user_id = op.user_id
        written = {name: pair[1] for name, pair in op.changes.items() if name != o.DEPARTMENTS}
        mapping.synced_fields = {**mapping.synced_fields, **digests(written)}
        mapping.save()
        self.known.users[op.payroll_id] = op.user_id

    def added_absence(self, op: o.AddAbsence, target: int) -> None:
        SyncedAbsence.objects.update_or_create(portal=self.portal, payroll_id=op.payroll_id, defaults={
            "event_id": target, "user_id": self.known.users[op.person_payroll_id], "absence_type": op.absence_type,
            "name": op.name, "start": op.start, "end": op.end})

    def updated_absence(self, op: o.UpdateAbsence, target: int | None) -> None:
        SyncedAbsence.objects.filter(portal=self.portal, payroll_id=op.payroll_id).update(
            absence_type=op.absence_type, name=op.name, start=op.start, end=op.end)

    def removed_absence(self, op: o.RemoveAbsence, target: int | None) -> None:
        SyncedAbsence.objects.filter(portal=self.portal, payroll_id=op.payroll_id).delete()

    def nothing_to_remember(self, op: o.Op, target: int | None) -> None:
        pass


_REMEMBER: dict[type, Callable[[Applier, o.Op, int | None], None]] = {
    o.CreateDepartment: Applier.created_department,
    o.UpdateDepartment: Applier.nothing_to_remember,
    o.DeleteDepartment: Applier.deleted_department,
    o.CreateUser: Applier.created_user,
    o.UpdateUser: Applier.updated_user,
    o.ReactivateUser: Applier.updated_user,
    o.DeactivateUser: Applier.nothing_to_remember,
    o.SetDepartmentHead: Applier.nothing_to_remember,
    o.AddAbsence: Applier.added_absence,
    o.UpdateAbsence: Applier.updated_absence,
    o.RemoveAbsence: Applier.removed_absence,
}
