"""Absences as Bitrix24 sees them: all-day "absent" events in the employee's own calendar.

Bitrix24 has no REST method that writes the absence chart (`timeman.absence.add` does not exist;
shared/reference/bitrix24-rest.md §6). An all-day event with `accessibility: absent` in the employee's
calendar (`calendar.event.add`) shows on the chart — typed as a
personal absence, named by its kind ("Отпуск", "Больничный", "Командировка") — and blocks meetings.
It works on every cloud portal with the `calendar` scope.

The other way (a workflow whose template ends in Bitrix24's own Absence action, started with
`bizproc.workflow.start`, writing typed chart entries) is unconfirmed on live portals; it would be a
second module with these same functions.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from ..client import Command

# In the event's description: how a crashed run finds what it wrote (see `is_written_for`).
ABSENCE_MARK = "hrsync:"


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def add(*, user_id: int, payroll_id: str, name: str, start: date, end: date) -> Command:
    """One rule for the calendar: no `section` is passed, so Bitrix24 picks the user's calendar itself.

    calendar/classes/general/calendar_restservice.php, `EventAdd`: with `section` empty it saves with
    `autoDetectSection` and `autoCreateSection` (the user's last used calendar, else their own, created if
    they never opened the calendar). A passed section must belong to the owner and be editable by the
    app's user, which no lookup of ours could promise for a user made in the same batch. Where the app's
    user may not add to that calendar at all, the portal answers "Access denied" (journalled with the fix).
    """
    return Command("calendar.event.add", {
        "type": "user", "ownerId": user_id, "name": name, "from": _day(start), "to": _day(end),
        "skip_time": "Y", "accessibility": "absent", "description": f"{ABSENCE_MARK}{payroll_id}"})


def update(*, user_id: int, event_id: int, name: str, start: date, end: date) -> Command:
    return Command("calendar.event.update", {
        "type": "user", "ownerId": user_id, "id": event_id, "name": name, "from": _day(start), "to": _day(end),
        "skip_time": "Y", "accessibility": "absent"})


def remove(*, user_id: int, event_id: int) -> Command:
    return Command("calendar.event.delete", {"type": "user", "ownerId": user_id, "id": event_id})


def by_id(*, event_id: int) -> Command:
    """calendar.event.getbyid: the event, or null when there is none (calendar_restservice.php EventGetById)."""
    return Command("calendar.event.getbyid", {"id": event_id})


def find(*, user_id: int, start: date | str, end: date | str) -> Command:
    return Command("calendar.event.get", {"type": "user", "ownerId": user_id, "from": _day(start), "to": _day(end)})


def written_event(events: Any, payroll_id: str) -> tuple[int, int] | None:
    """From calendar.event.get: (event ID, owner's user ID) of the event the app wrote for this absence."""
    if not isinstance(events, list):
        return None
    event = next((e for e in events if ABSENCE_MARK + payroll_id in (e.get("DESCRIPTION") or "")), None)
    return (int(event["ID"]), int(event.get("OWNER_ID") or 0)) if event else None
