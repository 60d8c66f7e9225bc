"""Apply a plan: batches of ≤50 commands through the rate-limited client, phase by phase, journaled.

Before a chunk is sent its operations are marked `intent` (committed), and after it every operation
gets its outcome, and the mappings their new IDs, in one transaction. A worker killed between the
two leaves intents, which the next run resolves (services.recover_intents) before it plans.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from bitrix_app.client import BATCH_LIMIT, BitrixClient, Command
from bitrix_app.client.errors import BitrixError

from .absences import CalendarAbsenceWriter
from .privacy import digests
from .models import (
    DepartmentDecision,
    DepartmentMapping,
    OperationStatus,
    PersonMapping,
    SyncedAbsence,
    SyncOperation,
    SyncRun,
    UserCalendar,
)
from .sync import plan as p

log = logging.getLogger(__name__)


def _user_params(fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if not (creating and v in ("", None))}


class Applier:
    def __init__(self, portal, client: BitrixClient, run: SyncRun, plan: p.SyncPlan, journal: dict[int, SyncOperation],
                 *, fence=lambda: None):
        self.portal, self.client, self.run, self.plan = portal, client, run, plan
        # Called before every write: raises when this run's lease was lost (another run owns the portal).
        self.fence = fence
        self.absences = CalendarAbsenceWriter()
        self.journal = journal  # id(op) -> its SyncOperation row
        self.departments = {m.payroll_id: m.bitrix_id for m in DepartmentMapping.objects.filter(portal=portal)
                            if m.bitrix_id}
        self.users = {m.payroll_id: m.user_id for m in PersonMapping.objects.filter(portal=portal)}
        self.calendars = dict(UserCalendar.objects.filter(portal=portal).values_list("user_id", "section_id"))
        self.counts = {"done": 0, "failed": 0, "skipped": 0}
        self.user_limit_reached = False

    def apply(self) -> dict[str, int]:
        for phase, kinds in p.PHASES.items():
            ops = [op for op in self.plan.operations if type(op) in kinds]
            if phase == "departments":
                ops.sort(key=lambda op: (0, op.depth) if isinstance(op, p.CreateDepartment) else (1, 0))
            self.apply_ops(ops)
        return self.counts

    # -- chunks -----------------------------------------------------------------------------------------
    def apply_ops(self, ops: list) -> None:
        chunk: list = []
        size = 0
        lookups: set[int] = set()  # users whose calendar this chunk looks up (once each)
        for op in ops:
            lookup = self.needs_calendar_lookup(op)
            need = 1 + (lookup is not None and lookup not in lookups)
            if size + need > BATCH_LIMIT:
                self.send(chunk)
                chunk, size, lookups = [], 0, set()
                need = 1 + (lookup is not None)
            chunk.append(op)
            size += need
            if lookup is not None:
                lookups.add(lookup)
        if chunk:
            self.send(chunk)

    def needs_calendar_lookup(self, op) -> int | None:
        """The user whose calendar section must be looked up for this operation, if any."""
        if type(op) is not p.AddAbsence:
            return None
        user_id = self.users.get(op.person_id)
        return user_id if user_id is not None and user_id not in self.calendars else None

    def send(self, ops: list) -> None:
        commands: dict[str, Command] = {}
        keyed: list[tuple[Any, str]] = []
        in_chunk: dict[str, str] = {}  # department GUID -> batch key creating it in this chunk
        sections_needed: dict[int, str] = {}
        ready = []
        for op in ops:
            key = f"op{self.journal[id(op)].seq}"
            try:
                command = self.command_for(op, key, in_chunk, sections_needed)
            except _Skip as skip:
                self.finish(op, OperationStatus.FAILED if skip.failed else OperationStatus.SKIPPED, error=skip)
                continue
            if isinstance(op, p.CreateDepartment):
                in_chunk[op.payroll_id] = key
            ready.append((op, key, command))
        if not ready:
            return
        for user_id, skey in sections_needed.items():
            commands[skey] = self.absences.section_lookup(user_id)
        for op, key, command in ready:
            commands[key] = command
            keyed.append((op, key))
        self.fence()
        SyncOperation.objects.filter(pk__in=[self.journal[id(op)].pk for op, _ in keyed]).update(status=OperationStatus.INTENT)
        try:
            outcomes = self.client.batch(commands)
        except BitrixError as exc:
            # The whole call failed (transport, auth): nothing is known to be written; the intents stay
            # for the next run to check, and this run stops here.
            log.warning("Batch failed for portal %s: %s", self.portal.domain, exc.message)
            raise
        with transaction.atomic():
            for user_id, skey in sections_needed.items():
                outcome = outcomes.get(skey)
                if outcome and outcome.ok and outcome.result:
                    section = next((s for s in outcome.result if (s.get("PERM") or {}).get("add")), outcome.result[0])
                    UserCalendar.objects.update_or_create(portal=self.portal, user_id=user_id,
                                                          defaults={"section_id": int(section["ID"])})
                    self.calendars[user_id] = int(section["ID"])
            for op, key in keyed:
                outcome = outcomes[key]
                if outcome.ok:
                    self.succeeded(op, outcome.result)
                else:
                    self.failed(op, outcome.error)

    # -- commands ---------------------------------------------------------------------------------------
    def department_ref(self, guid: str | None, in_chunk: dict[str, str]) -> str | int:
        if guid in in_chunk:
            return f"$result[{in_chunk[guid]}]"
        if guid in self.departments:
            return self.departments[guid]
        raise _Skip("its parent department was not created")

    def command_for(self, op, key: str, in_chunk: dict[str, str], sections_needed: dict[int, str]) -> Command:
        if isinstance(op, p.CreateDepartment):
            parent = op.parent_id if op.parent_id is not None else self.department_ref(op.parent_payroll_id, in_chunk)
            return Command("department.add", {"NAME": op.name, "PARENT": parent})
        if isinstance(op, p.UpdateDepartment):
            params: dict[str, Any] = {"ID": op.department_id}
            if "NAME" in op.changes:
                params["NAME"] = op.changes["NAME"][1]
            if "PARENT" in op.changes:
                new_parent = op.changes["PARENT"][1]
                params["PARENT"] = new_parent if isinstance(new_parent, int) else self.department_ref(op.parent_payroll_id, in_chunk)
            return Command("department.update", params)
        if isinstance(op, p.DeleteDepartment):
            return Command("department.delete", {"ID": op.department_id})
        if isinstance(op, (p.CreateUser, p.UpdateUser)):
            departments = [self.departments[g] for g in op.department_payroll_ids if g in self.departments]
            if not departments:
                raise _Skip("none of the person's departments could be created in Bitrix24")
            if isinstance(op, p.CreateUser):
                if self.user_limit_reached:
                    raise _Skip("the portal's user limit is reached (user_count_exceeded)")
                return Command("user.add", {**_user_params(op.fields, creating=True), "UF_DEPARTMENT": departments})
            params = {"ID": op.user_id, **{k: v[1] for k, v in op.changes.items() if k != "UF_DEPARTMENT"}}
            if "UF_DEPARTMENT" in op.changes:
                params["UF_DEPARTMENT"] = departments
            if isinstance(op, p.ReactivateUser):
                params["ACTIVE"] = "Y"
            return Command("user.update", params)
        if isinstance(op, p.DeactivateUser):
            return Command("user.update", {"ID": op.user_id, "ACTIVE": "N"})
        if isinstance(op, p.SetDepartmentHead):
            department = op.department_id or self.departments.get(op.department_payroll_id)
            head = self.users.get(op.head_person_id)
            if not department or not head:
                raise _Skip("the department or its head is not in Bitrix24")
            return Command("department.update", {"ID": department, "UF_HEAD": head})
        if isinstance(op, p.UpdateAbsence):
            return self.absences.update(user_id=op.user_id, entry_id=op.event_id, absence_type=op.absence_type,
                                        name=op.name, start=op.start, end=op.end)
        if isinstance(op, p.AddAbsence):
            user_id = self.users.get(op.person_id)
            if not user_id:
                raise _Skip("the employee is not in Bitrix24 (see the operation that created them)")
            section = self.calendars.get(user_id)
            if section is None:
                skey = sections_needed.setdefault(user_id, f"sec{user_id}")
                section = f"$result[{skey}][0][ID]"
            return self.absences.add(user_id=user_id, section=section, payroll_id=op.payroll_id,
                                     absence_type=op.absence_type, name=op.name, start=op.start, end=op.end)
        if isinstance(op, p.RemoveAbsence):
            return self.absences.remove(user_id=op.user_id, entry_id=op.event_id)
        raise _Skip(f"unknown operation {op.kind}", failed=True)

    # -- outcomes ---------------------------------------------------------------------------------------
    def succeeded(self, op, result: Any) -> None:
        target = None
        if isinstance(op, p.CreateDepartment):
            target = int(result)
            self.departments[op.payroll_id] = target
            DepartmentMapping.objects.update_or_create(portal=self.portal, payroll_id=op.payroll_id,
                                                       defaults={"bitrix_id": target, "decision": DepartmentDecision.SYNCED})
        elif isinstance(op, p.DeleteDepartment):
            DepartmentMapping.objects.filter(portal=self.portal, payroll_id=op.payroll_id).delete()
            self.departments.pop(op.payroll_id, None)
        elif isinstance(op, p.CreateUser):
            target = int(result)
            self.users[op.payroll_id] = target
            PersonMapping.objects.update_or_create(portal=self.portal, payroll_id=op.payroll_id,
                                                   defaults={"user_id": target, "synced_fields": digests(op.fields)})
        elif isinstance(op, p.UpdateUser):
            target = op.user_id
            mapping, _ = PersonMapping.objects.get_or_create(portal=self.portal, payroll_id=op.payroll_id,
                                                             defaults={"user_id": op.user_id})
            mapping.user_id = op.user_id
            mapping.synced_fields = {**mapping.synced_fields,
                                     **digests({k: v[1] for k, v in op.changes.items() if k != "UF_DEPARTMENT"})}
            mapping.save()
            self.users[op.payroll_id] = op.user_id
        elif isinstance(op, p.DeactivateUser):
            target = op.user_id
        elif isinstance(op, p.SetDepartmentHead):
            target = self.users.get(op.head_person_id)
        elif isinstance(op, p.UpdateAbsence):
            target = op.event_id
            SyncedAbsence.objects.filter(portal=self.portal, payroll_id=op.payroll_id).update(
                absence_type=op.absence_type, name=op.name, start=op.start, end=op.end)
        elif isinstance(op, p.AddAbsence):
            target = int(result)
            SyncedAbsence.objects.update_or_create(portal=self.portal, payroll_id=op.payroll_id, defaults={
                "event_id": target, "user_id": self.users[op.person_id], "absence_type": op.absence_type,
                "name": op.name, "start": op.start, "end": op.end})
        elif isinstance(op, p.RemoveAbsence):
            target = op.event_id
            SyncedAbsence.objects.filter(portal=self.portal, payroll_id=op.payroll_id).delete()
        self.finish(op, OperationStatus.DONE, target=target)

    def failed(self, op, error: BitrixError) -> None:
        if isinstance(op, p.RemoveAbsence) and "not found" in error.description.lower():
            # Someone already deleted the entry: what we wanted is the case.
            SyncedAbsence.objects.filter(portal=self.portal, payroll_id=op.payroll_id).delete()
            self.finish(op, OperationStatus.DONE, target=op.event_id)
            return
        if isinstance(op, p.CreateUser) and "user_count_exceeded" in error.description:
            self.user_limit_reached = True
        message = error.message
        if isinstance(op, p.AddAbsence) and "access denied" in error.description.lower():
            message += (" — the app's Bitrix24 user may not add events to this employee's calendar: install the "
                        "app as a portal administrator, or give that user access to employees' calendars")
        self.finish(op, OperationStatus.FAILED, error=_Failure(error.code, message))

    def finish(self, op, status: str, *, target: int | None = None, error: Exception | None = None) -> None:
        row = self.journal[id(op)]
        row.status = status
        row.target_id = target
        if error is not None:
            row.error_code = getattr(error, "code", "") or ""
            row.error_message = getattr(error, "text", None) or str(error)
        row.save(update_fields=["status", "target_id", "error_code", "error_message", "updated_at"])
        key = {OperationStatus.DONE: "done", OperationStatus.FAILED: "failed"}.get(status, "skipped")
        self.counts[key] += 1


class _Skip(Exception):
    def __init__(self, text: str, *, failed: bool = False):
        super().__init__(text)
        self.text, self.failed, self.code = text, failed, "not_sent"


class _Failure(Exception):
    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code, self.text = code, text
