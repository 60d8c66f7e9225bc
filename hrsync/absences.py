"""How absences reach Bitrix24's absence chart, behind one interface.

Bitrix24 has no REST method that writes the absence chart (`timeman.absence.add` does not exist;
shared/reference/bitrix24-rest.md §6). Two ways do write it:

- CalendarAbsenceWriter (used): an all-day event with `accessibility: absent` in the employee's own
  calendar (`calendar.event.add`, which needs that calendar's section ID). The chart shows it — typed
  as a personal absence, named by its kind ("Отпуск", "Больничный", "Командировка") — and it blocks
  meetings. Works on every cloud portal with the `calendar` scope.
- A workflow writer (not built yet; the place for it is here): start a workflow whose template ends in
  Bitrix24's own Absence action (`bizproc.workflow.start`), which writes a typed chart entry (VACATION,
  LEAVESICK, …). Typed entries, but the chain is unconfirmed on live portals.
"""
from __future__ import annotations

from typing import Protocol

from bitrix_app.client import Command

ABSENCE_MARK = "hrsync:"  # in the entry's description: how a crashed run finds what it wrote


class AbsenceWriter(Protocol):
    def add(self, *, user_id: int, section: int | str, payroll_id: str, absence_type: str, name: str, start, end) -> Command: ...

    def update(self, *, user_id: int, entry_id: int, absence_type: str, name: str, start, end) -> Command: ...

    def remove(self, *, user_id: int, entry_id: int) -> Command: ...

    def find(self, *, user_id: int, start: str, end: str) -> Command: ...


class CalendarAbsenceWriter:
    """Absences as all-day 'absent' events in the employee's calendar."""

    needs_section = True

    def add(self, *, user_id, section, payroll_id, absence_type, name, start, end) -> Command:
        return Command("calendar.event.add", {
            "type": "user", "ownerId": user_id, "section": section, "name": name, "from": start.isoformat(),
            "to": end.isoformat(), "skip_time": "Y", "accessibility": "absent",
            "description": f"{ABSENCE_MARK}{payroll_id}"})

    def update(self, *, user_id, entry_id, absence_type, name, start, end) -> Command:
        return Command("calendar.event.update", {
            "type": "user", "ownerId": user_id, "id": entry_id, "name": name, "from": start.isoformat(),
            "to": end.isoformat(), "skip_time": "Y", "accessibility": "absent"})

    def remove(self, *, user_id, entry_id) -> Command:
        return Command("calendar.event.delete", {"type": "user", "ownerId": user_id, "id": entry_id})

    def find(self, *, user_id, start, end) -> Command:
        return Command("calendar.event.get", {"type": "user", "ownerId": user_id, "from": start, "to": end})

    def section_lookup(self, user_id: int) -> Command:
        return Command("calendar.section.get", {"type": "user", "ownerId": user_id})
