"""Bitrix24 → ZUP in Bitrix24's terms: the workflow action, its calls, the answer, notifications, time tracking.

The action "Передать отпуск в 1С:ЗУП" is registered both as an automation robot (`bizproc.robot.add`)
and as a designer activity (`bizproc.activity.add`); it waits for our answer (`USE_SUBSCRIPTION`), which
`bizproc.event.send` gives once per event token (reference bitrix24-rest.md, workflows).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from ..client import BitrixClient, Command

# A robot and an activity of one app share one set of codes (bizproc/lib/restservice.php; b24restdocs,
# bizproc-robot: a second add under the same CODE answers ERROR_ACTIVITY_ALREADY_INSTALLED), so each has
# its own. Both are registered: the activity for business processes built in the designer (a vacation
# request list's process), the robot for automation rules (a smart process's stages).
ACTIVITY_CODE = "hrsync_vacation_to_zup"
ROBOT_CODE = "hrsync_vacation_to_zup_robot"
ACTION_NAME = {"ru": "Передать отпуск в 1С:ЗУП", "en": "Send vacation to 1C:ZUP"}
ALREADY_INSTALLED = "ERROR_ACTIVITY_ALREADY_INSTALLED"


def action_definition(*, handler_url: str, auth_user_id: int, vacation_kinds: Mapping[str, str],
                      default_kind: str) -> dict:
    """The action's fields, without its CODE (each registration gives its own)."""
    return {
        "HANDLER": handler_url, "AUTH_USER_ID": auth_user_id, "USE_SUBSCRIPTION": "Y",
        "NAME": ACTION_NAME,
        "DESCRIPTION": {"ru": "Создаёт в 1С:ЗУП черновик документа «Отпуск» по согласованной заявке",
                        "en": "Creates a draft vacation document in 1C:ZUP from an approved request"},
        "PROPERTIES": {
            "employee": {"Name": {"ru": "Сотрудник", "en": "Employee"}, "Type": "user", "Required": "Y"},
            "kind": {"Name": {"ru": "Вид отпуска", "en": "Vacation kind"}, "Type": "select", "Required": "Y",
                     "Options": dict(vacation_kinds), "Default": default_kind},
            "first_day": {"Name": {"ru": "Первый день", "en": "First day"}, "Type": "date", "Required": "Y"},
            "last_day": {"Name": {"ru": "Последний день", "en": "Last day"}, "Type": "date", "Required": "Y"},
            "comment": {"Name": {"ru": "Комментарий", "en": "Comment"}, "Type": "text", "Required": "N"},
        },
        "RETURN_PROPERTIES": {
            "status": {"Name": {"ru": "Статус", "en": "Status"}, "Type": "string"},
            "document_number": {"Name": {"ru": "Номер документа в ЗУП", "en": "ZUP document number"}, "Type": "string"},
            "message": {"Name": {"ru": "Сообщение", "en": "Message"}, "Type": "string"},
        },
    }


_REGISTRATIONS = {"activity": ("bizproc.activity", ACTIVITY_CODE), "robot": ("bizproc.robot", ROBOT_CODE)}


def register_action(client: BitrixClient, definition: dict) -> dict[str, str]:
    """{"activity": …, "robot": …}: "registered", "updated" (installed before: its definition is brought up to
    date, so a reinstall after an upgrade changes what the portal shows) or the portal's refusal."""
    added = client.batch({key: Command(f"{prefix}.add", {"CODE": code, **definition})
                          for key, (prefix, code) in _REGISTRATIONS.items()})
    outcome = {key: "registered" if answer.ok else answer.error.message for key, answer in added.items()}
    there = [key for key, answer in added.items() if not answer.ok and answer.error.code == ALREADY_INSTALLED]
    if there:
        updated = client.batch({key: Command(f"{_REGISTRATIONS[key][0]}.update",
                                             {"CODE": _REGISTRATIONS[key][1], "FIELDS": definition}) for key in there})
        outcome.update({key: "updated" if answer.ok else answer.error.message for key, answer in updated.items()})
    return outcome


# -- a call of the action --------------------------------------------------------------------------------
_USER = re.compile(r"^(?:user_)?(\d+)$")
# Dates as a portal formats them: its site format (DD.MM.YYYY, MM/DD/YYYY) or ISO, with or without time.
_DAY_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%m/%d/%Y", "%m/%d/%Y %I:%M:%S %p")


def parse_user(value: Any) -> int | None:
    """A "user" property: `user_5`, `5`, or a list / map holding one of them."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = next(iter(value.values()), "")
    match = _USER.match(str(value or "").strip())
    return int(match.group(1)) if match else None


def parse_day(value: Any) -> date | None:
    text = str(value or "").strip()
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class VacationCall:
    """What the action was called with, in plain values (None where the portal sent nothing usable)."""

    member_id: str
    application_token: str
    event_token: str
    workflow_id: str
    document_id: Any
    employee: int | None
    kind: str
    first_day: date | None
    last_day: date | None
    comment: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> "VacationCall":
        auth = payload.get("auth") if isinstance(payload.get("auth"), dict) else {}
        properties = payload.get("properties") if isinstance(payload.get("properties"), dict) else {}
        return cls(member_id=str(auth.get("member_id", "")), application_token=str(auth.get("application_token", "")),
                   event_token=str(payload.get("event_token") or ""), workflow_id=str(payload.get("workflow_id") or ""),
                   document_id=payload.get("document_id"), employee=parse_user(properties.get("employee")),
                   kind=str(properties.get("kind") or ""), first_day=parse_day(properties.get("first_day")),
                   last_day=parse_day(properties.get("last_day")), comment=str(properties.get("comment") or ""))


def tell_workflow(client: BitrixClient, event_token: str, *, status: str, document_number: str, message: str) -> None:
    """The action's answer; a used or unknown token answers ACCESS_DENIED (the caller decides what that means)."""
    client.call("bizproc.event.send", {"EVENT_TOKEN": event_token, "RETURN_VALUES": {
        "status": status, "document_number": document_number, "message": message}, "LOG_MESSAGE": f"hrsync: {message}"})


def notify(client: BitrixClient, user_id: int, message: str, *, tag: str) -> None:
    """A system notification to one user (the tag makes a repeat replace, not add)."""
    client.call("im.notify.system.add", {"USER_ID": int(user_id), "MESSAGE": message, "TAG": tag})


# -- the plain "Webhook" action: its document is a list element ---------------------------------------------
def read_list_element(client: BitrixClient, *, iblock_type: str, iblock_id: int, element_id: str) -> dict | None:
    elements = client.call("lists.element.get", {"IBLOCK_TYPE_ID": iblock_type, "IBLOCK_ID": iblock_id,
                                                 "ELEMENT_ID": element_id})
    return elements[0] if elements else None


def element_value(element: Mapping[str, Any], code: str) -> Any:
    value = element.get(code)
    if isinstance(value, dict):  # list properties arrive as {value id: value}
        value = next(iter(value.values()), "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value


# -- time tracking --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkedDay:
    day: date
    complete: bool
    worked_seconds: int  # the day's final duration
    norm_seconds: int  # the duration the schedule asks for


def worked_days(client: BitrixClient, user_ids: list[int], *, year: int, month: int) -> dict[int, list[WorkedDay] | None]:
    """Each user's days of the month from `timeman.timecontrol.reports.get` (None: the report was refused)."""
    answers = client.batch({f"u{user_id}": Command("timeman.timecontrol.reports.get",
                                                   {"USER_ID": user_id, "MONTH": month, "YEAR": year})
                            for user_id in user_ids})
    days: dict[int, list[WorkedDay] | None] = {}
    for user_id in user_ids:
        answer = answers[f"u{user_id}"]
        if not answer.ok:
            days[user_id] = None
            continue
        rows = ((answer.result or {}).get("report") or {}).get("days") or []
        days[user_id] = [day for day in map(_worked_day, rows) if day is not None]
    return days


def _worked_day(row: Mapping[str, Any]) -> WorkedDay | None:
    index = str(row.get("index") or "")  # the day as YYYYMMDD
    try:
        day = date(int(index[:4]), int(index[4:6]), int(index[6:8]))
    except ValueError:
        return None
    return WorkedDay(day, bool(row.get("workday_complete")), int(row.get("workday_duration_final") or 0),
                     int(row.get("workday_duration_config") or 0))

