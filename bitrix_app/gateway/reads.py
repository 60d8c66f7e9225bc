"""Typed reads: the portal's departments and users in the core's terms (hrsync.sync.portal)."""
from __future__ import annotations

from datetime import date
from typing import Iterable, Mapping

from hrsync.sync.portal import PortalDepartment, PortalState, PortalUser

from ..client import BitrixClient, Command
from ..client.client import IdWindows, OffsetList, read_lists
from . import calendar
from .fields import (
    DEPARTMENT_HEAD,
    DEPARTMENT_ID,
    DEPARTMENT_NAME,
    DEPARTMENT_PARENT,
    ISO_DATES,
    USER_FIELDS,
    USER_ID,
    DateStyle,
    canonical_user,
    optional_id,
    user_departments,
    user_is_active,
)


def _department(raw: Mapping) -> PortalDepartment:
    return PortalDepartment(int(raw[DEPARTMENT_ID]), raw.get(DEPARTMENT_NAME) or "", optional_id(raw.get(DEPARTMENT_PARENT)),
                            optional_id(raw.get(DEPARTMENT_HEAD)))


def _user(raw: Mapping, dates: DateStyle) -> PortalUser:
    fields = canonical_user(raw, dates=dates)
    return PortalUser(id=int(raw["ID"]), active=user_is_active(raw), email=fields["email"].strip(),
                      xml_id=fields["payroll_id"], fields=fields, departments=user_departments(raw))


def read_portal_state(client: BitrixClient, *, dates: DateStyle = ISO_DATES) -> PortalState:
    """Departments and users in shared batch calls (300 departments + 5,000 users: 3 HTTP calls).

    `user.get` also returns dismissed users (reference §5): the planner needs them to reinstate a rehire.
    The absences the app wrote are the app's own knowledge: the caller adds them.
    """
    lists = read_lists(client, {
        "dep": OffsetList("department.get"),
        "usr": IdWindows("user.get", lambda after: {"FILTER": {">ID": after}, "sort": "ID", "order": "ASC", "start": -1}),
    })
    return PortalState(departments=tuple(_department(d) for d in lists["dep"]),
                       users=tuple(_user(u, dates) for u in lists["usr"]))


def read_portal_people(client: BitrixClient, *, user_ids: Iterable[int] = (), payroll_ids: Iterable[str] = (),
                       emails: Iterable[str] = (), dates: DateStyle = ISO_DATES) -> PortalState:
    """The department tree, and of users only these: by ID, by payroll ID (XML_ID) and by e-mail (whoever
    holds an address a new person would need). What a run for a few pushed changes reads: a few calls,
    whatever the portal's size. `user.get` filters by these fields (rest/lib/api/user.php, getAllowedUserFields);
    that it matches them exactly is unconfirmed (sandbox/GUESSES.md, G-user-filter-match), and harmless the other
    way: the planner compares what comes back itself."""
    departments = read_lists(client, {"dep": OffsetList("department.get")})["dep"]
    lookups: dict[str, Command] = {}
    for index, user_id in enumerate(sorted(set(user_ids))):
        lookups[f"id{index}"] = Command("user.get", {"FILTER": {USER_ID: user_id}})
    for index, payroll_id in enumerate(sorted(set(payroll_ids))):
        lookups[f"x{index}"] = Command("user.get", {"FILTER": {USER_FIELDS["payroll_id"].bitrix: payroll_id}})
    for index, email in enumerate(sorted({e.strip() for e in emails if e and e.strip()})):
        lookups[f"e{index}"] = Command("user.get", {"FILTER": {USER_FIELDS["email"].bitrix: email}})
    users: dict[int, PortalUser] = {}
    for key, outcome in client.batch(lookups).items():
        if not outcome.ok:
            raise outcome.error
        for raw in outcome.result or []:
            user = _user(raw, dates)
            users[user.id] = user
    return PortalState(departments=tuple(_department(d) for d in departments), users=tuple(users.values()))


def read_departments(client: BitrixClient) -> PortalState:
    """Only the department tree (the settings page's list of paths): one or two calls."""
    return PortalState(departments=tuple(_department(d) for d in client.iter_list("department.get")), users=())


def find_written_absences(client: BitrixClient, wanted: Mapping[str, tuple[int, str, date | str, date | str]]
                          ) -> dict[str, tuple[int, int] | None]:
    """For each key's (user ID, absence payroll ID, first day, last day): the event the app wrote, if any.

    How a run killed between sending and saving finds what reached the portal (the event's mark).
    """
    if not wanted:
        return {}
    answers = client.batch({f"i{key}": calendar.find(user_id=user_id, start=start, end=end)
                            for key, (user_id, _, start, end) in wanted.items()})
    found: dict[str, tuple[int, int] | None] = {}
    for key, (_, payroll_id, _, _) in wanted.items():
        answer = answers.get(f"i{key}")
        found[key] = calendar.written_event(answer.result, payroll_id) if answer and answer.ok else None
    return found
