"""REST methods of the sandbox portal, written from shared/reference/bitrix24-rest.md and the official docs.

Each handler gets (state, caller user id, params) and returns the `result`, or a tuple
(result, total, next) for list methods; it raises RestError as the portal would.
"""
from __future__ import annotations

import re
import time
from datetime import date, datetime
from typing import Any, Callable
from urllib.parse import urlsplit

from .state import PortalState, RestError

Handler = Callable[[PortalState, int, dict], Any]
METHODS: dict[str, tuple[str | None, bool, Handler]] = {}  # name -> (scope, admin only, handler)
PAGE = 50


def method(name: str, scope: str | None = None, *, admin: bool = False):
    def register(func: Handler) -> Handler:
        METHODS[name] = (scope, admin, func)
        return func
    return register


def core_error(description: str, code: str = "ERROR_CORE", status: int = 400) -> RestError:
    return RestError(status, code, description)


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise core_error(f"Invalid value for {name}", "ERROR_ARGUMENT")


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "Y", "y", "true", "True")


def _page(rows: list[dict], params: dict) -> tuple[list[dict], int | None, int | None]:
    start = params.get("start", params.get("START", 0))
    start = _int(start or 0, "start")
    if start == -1:  # no total counted (reference §3, huge-data.md)
        return rows[:PAGE], None, None
    chunk = rows[start:start + PAGE]
    nxt = start + PAGE if start + PAGE < len(rows) else None
    return chunk, len(rows), nxt


# -- filters as user.get / department.get read them ------------------------------------------------------
_OPS = ("!=", ">=", "<=", "=%", "!%", "!@", ">", "<", "=", "!", "%", "@")


def _cmp_value(field: str, value: Any) -> Any:
    if field in ("ID", "PARENT", "UF_HEAD", "SORT"):
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return value


def _match(row: dict, key: str, expected: Any) -> bool:
    op = ""
    for candidate in _OPS:
        if key.startswith(candidate):
            op, key = candidate, key[len(candidate):]
            break
    actual = row.get(key)
    if key == "ACTIVE":
        expected = _truthy(expected)
    if key == "UF_DEPARTMENT":
        wanted = {int(x) for x in (expected if isinstance(expected, list) else [expected]) if str(x).strip()}
        found = bool(wanted & set(actual or []))
        return not found if op.startswith("!") else found
    if op in ("@", "!@"):
        values = expected if isinstance(expected, list) else [expected]
        inside = _cmp_value(key, actual) in {_cmp_value(key, v) for v in values}
        return inside if op == "@" else not inside
    if op in ("%", "=%", "!%"):
        inside = str(expected).lower().strip("%") in str(actual or "").lower()
        return not inside if op == "!%" else inside
    a, e = _cmp_value(key, actual), _cmp_value(key, expected)
    if op in (">", ">=", "<", "<="):
        if e == "" or e is None:
            return True  # an empty bound is no bound: guess [G-batch-unresolved]
        try:
            return {">": a > e, ">=": a >= e, "<": a < e, "<=": a <= e}[op]
        except TypeError:
            return False
    if op in ("!", "!="):
        return a != e
    # A field named without an operator matches its value exactly, case included (EMAIL, XML_ID, ID: what the
    # app's lookups of a few people use); how CUser::GetList matches string fields was not read. [G-user-filter-match]
    return a == e


def _filtered(rows: list[dict], filters: dict) -> list[dict]:
    return [r for r in rows if all(_match(r, k, v) for k, v in filters.items())]


# -- users --------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USER_WRITABLE = {"XML_ID", "NAME", "LAST_NAME", "SECOND_NAME", "TITLE", "EMAIL", "UF_DEPARTMENT",
                  "UF_EMPLOYMENT_DATE", "UF_PHONE_INNER", "ACTIVE"}
_USER_OUT = ["ID", "ACTIVE", "NAME", "LAST_NAME", "SECOND_NAME", "EMAIL", "XML_ID", "WORK_POSITION",
             "PERSONAL_GENDER", "PERSONAL_BIRTHDAY", "PERSONAL_MOBILE", "WORK_PHONE", "UF_DEPARTMENT",
             "UF_EMPLOYMENT_DATE", "UF_PHONE_INNER", "USER_TYPE", "DATE_REGISTER"]
# What user.get may filter by: the fields it returns (getAllowedUserFields), plus IS_ONLINE and USER_TYPE.
_USER_FILTERABLE = frozenset(_USER_OUT) | {"IS_ONLINE", "USER_TYPE", "HAS_DEPARTAMENT", "NAME_SEARCH", "FIND"}


def _user_fields(params: dict, *, creating: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in params.items():
        if key.startswith(("WORK_", "PERSONAL_")):
            if not isinstance(value, str):
                raise core_error(f"Field {key} must be a string", "invalid_type_field")
            fields[key] = value
        elif key in _USER_WRITABLE or key.startswith("UF_USR_"):
            fields[key] = value
    if "UF_DEPARTMENT" in fields:
        deps = fields["UF_DEPARTMENT"]
        deps = deps if isinstance(deps, list) else [deps]
        fields["UF_DEPARTMENT"] = [_int(d, "UF_DEPARTMENT") for d in deps if str(d).strip()]
    if "ACTIVE" in fields:
        fields["ACTIVE"] = _truthy(fields["ACTIVE"])
    return fields


_SITE_FORMATS = {"DD.MM.YYYY": "%d.%m.%Y", "MM/DD/YYYY": "%m/%d/%Y", "YYYY-MM-DD": "%Y-%m-%d", "DD/MM/YYYY": "%d/%m/%Y"}


def _site_day(state: PortalState, value: str) -> date | None:
    """A date in the site's format, as main/lib/type/date.php `Date::isCorrect` checks it
    (date_parse_from_format with FORMAT_DATE): `2024-03-01` is not a date on a DD.MM.YYYY site.
    Source: main/lib/type/date.php and main/lib/userfield/types/datetype.php as issue 9 reads them (not
    re-read here); the site formats' table is a guess beyond DD.MM.YYYY and MM/DD/YYYY [G-site-date-format]."""
    try:
        return datetime.strptime(str(value).strip(), _SITE_FORMATS[state.date_format]).date()
    except (KeyError, ValueError):
        return None


def _iso_or_site_day(state: PortalState, value: str) -> date | None:
    """CRestUtil::unConvertDate (rest/classes/general/rest_util.php): an ISO 8601 date, else the value as given."""
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return _site_day(state, text)


def _checked_dates(state: PortalState, fields: dict[str, Any]) -> dict[str, Any]:
    """What CUser::Update does with the two date fields hrsync writes (source: yuliai/bitrix-modules,
    rest/lib/api/user.php prepareSaveData and getUserData, read for this):
    PERSONAL_BIRTHDAY is converted from ISO by the REST layer; UF_EMPLOYMENT_DATE is not (only UF_USR_* fields
    go through prepareUserField), so it reaches the user-field check (main/lib/userfield/types/datetype.php
    checkFields) as sent and must be in the site's format. Stored as dates; answered in ISO (getUserData's
    CRestUtil::convertDate)."""
    checked = dict(fields)
    for name, parse in (("PERSONAL_BIRTHDAY", _iso_or_site_day), ("UF_EMPLOYMENT_DATE", _site_day)):
        if name in checked and str(checked[name] or "").strip():
            day = parse(state, checked[name])
            if day is None:
                # The message's wording is a guess [G-date-refusal-wording]; the field and the refusal are the source's.
                raise core_error(f"Неверный формат даты в поле {name}: «{checked[name]}» (формат сайта "
                                 f"{state.date_format})", "")
            checked[name] = day.isoformat()
    return checked


def _user_out(user: dict) -> dict:
    out = {k: user.get(k, "") for k in _USER_OUT}
    out["ID"] = str(user["ID"])
    out["UF_DEPARTMENT"] = list(user.get("UF_DEPARTMENT") or [])
    for name in ("PERSONAL_BIRTHDAY", "UF_EMPLOYMENT_DATE"):  # CRestUtil::convertDate: ISO 8601 with the time zone
        out[name] = f"{user[name]}T00:00:00+03:00" if user.get(name) else ""
    return out


def _require_admin(state: PortalState, user_id: int) -> None:
    if not state.users.get(user_id, {}).get("IS_ADMIN"):
        raise core_error("Access denied", "ACCESS_DENIED", 403)


@method("user.add", "user")
def user_add(state, caller, params):
    _require_admin(state, caller)
    fields = _user_fields(params, creating=True)
    email = str(fields.get("EMAIL") or "").strip()
    if not email or not _EMAIL.match(email):
        raise core_error("wrong_email", "ERROR_ARGUMENT")
    if state.email_taken(email):
        raise core_error("A user with this email already exists", "ERROR_ARGUMENT")
    if not fields.get("UF_DEPARTMENT"):
        raise core_error("no_extranet_field", "ERROR_ARGUMENT")
    for dep in fields["UF_DEPARTMENT"]:
        if dep not in state.departments:
            raise core_error(f"Department {dep} not found", "ERROR_ARGUMENT")
    if state.user_limit_reached():
        raise core_error("user_count_exceeded", "ERROR_ARGUMENT")
    fields.setdefault("ACTIVE", True)
    # Source: yuliai/bitrix-modules, rest/lib/api/user.php userAdd: CIntranetInviteDialog::RegisterUser makes
    # the user first (from the e-mail, departments, XML_ID and ACTIVE), then CUser::update writes the rest;
    # when that update fails the method throws, and the registered user stays behind: no name, no
    # invitation (InviteUser comes after the update).
    user_id = state.next_id("user")
    registered = {k: v for k, v in fields.items() if k in ("EMAIL", "UF_DEPARTMENT", "XML_ID", "ACTIVE")}
    state.users[user_id] = state._new_user(user_id, registered)
    state.users[user_id].update(_checked_dates(state, fields))
    state.note_email(user_id)
    state.outgoing_log.append({"invitation_sent_to": email})  # user.add always invites (reference §5)
    return user_id


@method("user.update", "user")
def user_update(state, caller, params):
    user_id = _int(params.get("ID"), "ID")
    user = state.users.get(user_id)
    if user is None or not state.users.get(caller, {}).get("IS_ADMIN") and caller != user_id:
        raise core_error("access_denied", "ERROR_CORE")
    fields = _user_fields(params, creating=False)
    if "EMAIL" in fields:
        email = str(fields["EMAIL"]).strip()
        if not _EMAIL.match(email):
            raise core_error("wrong_email", "ERROR_ARGUMENT")
        if state.email_taken(email, but=user_id):
            raise core_error("A user with this email already exists", "ERROR_ARGUMENT")
    for dep in fields.get("UF_DEPARTMENT", []):
        if dep not in state.departments:
            raise core_error(f"Department {dep} not found", "ERROR_ARGUMENT")
    user.update(_checked_dates(state, fields))  # CUser::Update checks every field first: nothing is half-written
    if "EMAIL" in fields:
        state.note_email(user_id)
    return True


def _bare(key: str) -> str:
    for candidate in _OPS:
        if key.startswith(candidate):
            return key[len(candidate):]
    return key


@method("user.get", "user")
def user_get(state, caller, params):
    """As rest/lib/api/user.php `userGet` reads its query (yuliai/bitrix-modules).

    Keys in any case (`array_change_key_case(CASE_UPPER)`); SORT and ORDER sort only when both are given
    (else ID ascending, `prepareUserGetOrder`); a FILTER array replaces the query as the filter, otherwise the
    query itself is the filter; `prepareUserFilter` keeps only the user's allowed fields (with their
    operators), so SORT, ORDER, START and keys such as fast_bitrix24's `__order` filter nothing.
    """
    query = {str(k).upper(): v for k, v in params.items()}
    source = query["FILTER"] if isinstance(query.get("FILTER"), dict) else query
    filters = {k.upper(): v for k, v in source.items() if _bare(k.upper()) in _USER_FILTERABLE}
    sort, order = query.get("SORT"), query.get("ORDER")
    sort_key = str(sort).upper() if sort and order and isinstance(sort, str) else "ID"
    reverse = bool(sort and order) and str(order).upper() == "DESC"
    if sort_key == "ID" and not reverse and str(query.get("START", "")) == "-1":
        # A `start=-1` window in ID order: the first 50 matches from the bound on, found without reading
        # (or sorting) every user, so that 20,000 users cost the sandbox what 200 do. Same rows.
        return [_user_out(u) for u in _first_matches(state, filters, PAGE)], None, None
    rows = _filtered(list(state.users.values()), filters)
    rows.sort(key=lambda u: (_cmp_value(sort_key, u.get(sort_key)) is None, _cmp_value(sort_key, u.get(sort_key))),
              reverse=reverse)
    page, total, nxt = _page(rows, query)
    return [_user_out(u) for u in page], total, nxt


def _first_matches(state: PortalState, filters: dict, limit: int) -> list[dict]:
    try:
        after = int(filters.get(">ID"))
    except (TypeError, ValueError):
        after = 0
    found = []
    for user_id in state.ids_after(after):
        user = state.users[user_id]
        if all(_match(user, k, v) for k, v in filters.items()):
            found.append(user)
            if len(found) == limit:
                break
    return found


@method("user.current", "user")
def user_current(state, caller, params):
    return _user_out(state.users[caller])


@method("user.admin", "user")
def user_admin(state, caller, params):
    return bool(state.users.get(caller, {}).get("IS_ADMIN"))


@method("user.fields", "user")
def user_fields(state, caller, params):
    labels = {"ID": "ID", "XML_ID": "External code", "NAME": "First name", "LAST_NAME": "Last name",
              "SECOND_NAME": "Second name", "EMAIL": "E-mail", "ACTIVE": "Active", "WORK_POSITION": "Position",
              "PERSONAL_GENDER": "Gender", "PERSONAL_BIRTHDAY": "Date of birth", "PERSONAL_MOBILE": "Mobile",
              "WORK_PHONE": "Work phone", "UF_DEPARTMENT": "Departments", "UF_EMPLOYMENT_DATE": "Hire Date",
              "UF_PHONE_INNER": "Extension number"}
    return labels


@method("profile")
def profile(state, caller, params):
    user = state.users[caller]
    return {"ID": str(caller), "ADMIN": bool(user.get("IS_ADMIN")), "NAME": user["NAME"],
            "LAST_NAME": user["LAST_NAME"], "PERSONAL_GENDER": user["PERSONAL_GENDER"], "TIME_ZONE": "Europe/Moscow"}


# -- departments --------------------------------------------------------------------------------------
def _dep_out(dep: dict) -> dict:
    return {"ID": str(dep["ID"]), "NAME": dep["NAME"], "SORT": dep["SORT"],
            "PARENT": str(dep["PARENT"]) if dep["PARENT"] else None,
            "UF_HEAD": str(dep["UF_HEAD"]) if dep["UF_HEAD"] else None}


def _ancestors(state: PortalState, dep_id: int) -> set[int]:
    seen: set[int] = set()
    current = state.departments.get(dep_id, {}).get("PARENT")
    while current and current not in seen:
        seen.add(current)
        current = state.departments.get(current, {}).get("PARENT")
    return seen


_DEPARTMENT_FIELDS = ("ID", "NAME", "SORT", "PARENT", "UF_HEAD")


@method("department.get", "department")
def department_get(state, caller, params):
    """As intranet/classes/general/rest.php `departmentGet` reads its query (yuliai/bitrix-modules).

    A FILTER array replaces the query; `prepareDeptData` keeps only the keys ID, NAME, SORT, PARENT and
    UF_HEAD as they are spelled, so an operator such as `>ID` is no filter there either; `prepareSort`
    sorts by SORT (when it names one of those fields) and ORDER, else by LEFT_MARGIN, the tree's order
    (parents before their children; siblings by SORT, then ID: a guess at the iblock's margins [G-department-order]).
    """
    query = params["FILTER"] if isinstance(params.get("FILTER"), dict) else params
    filters = {k: v for k, v in query.items() if k in _DEPARTMENT_FIELDS}
    rows = _filtered(list(state.departments.values()), filters)
    upper = {str(k).upper(): v for k, v in query.items()}
    sort = str(upper.get("SORT") or "").upper() if isinstance(upper.get("SORT"), str) else ""
    if sort in _DEPARTMENT_FIELDS:
        reverse = str(upper.get("ORDER") or "").upper() == "DESC"
        rows.sort(key=lambda d: (d[sort] is None, _cmp_value(sort, d[sort]) if d[sort] is not None else 0), reverse=reverse)
    else:
        order = _tree_order(state)
        rows.sort(key=lambda d: order.get(d["ID"], len(order)))
    page, total, nxt = _page(rows, params)
    return [_dep_out(d) for d in page], total, nxt


def _tree_order(state: PortalState) -> dict[int, int]:
    children: dict[int | None, list[dict]] = {}
    for dep in state.departments.values():
        children.setdefault(dep["PARENT"] if dep["PARENT"] in state.departments else None, []).append(dep)
    order: dict[int, int] = {}

    def walk(parent: int | None) -> None:
        for dep in sorted(children.get(parent, []), key=lambda d: (d["SORT"], d["ID"])):
            if dep["ID"] not in order:
                order[dep["ID"]] = len(order)
                walk(dep["ID"])
    walk(None)
    return order


@method("department.fields", "department")
def department_fields(state, caller, params):
    return {"ID": "ID", "NAME": "Department", "SORT": "Sort", "PARENT": "Parent department",
            "UF_HEAD": "Department head"}


def _check_parent(state: PortalState, parent: Any) -> int:
    try:
        parent_id = int(parent)
    except (TypeError, ValueError):
        parent_id = 0
    if parent_id not in state.departments:
        raise core_error("There can only be one top-level department in the company structure")
    return parent_id


@method("department.add", "department")
def department_add(state, caller, params):
    _require_admin(state, caller)
    name = str(params.get("NAME") or "").strip()
    if not name:
        raise core_error("Department name not provided.")
    parent = _check_parent(state, params.get("PARENT"))
    dep_id = state.next_id("department")
    head = params.get("UF_HEAD")
    state.departments[dep_id] = {"ID": dep_id, "NAME": name, "SORT": _int(params.get("SORT") or 500, "SORT"),
                                 "PARENT": parent, "UF_HEAD": int(head) if str(head or "").strip() else None}
    return dep_id


@method("department.update", "department")
def department_update(state, caller, params):
    _require_admin(state, caller)
    dep_id = _int(params.get("ID"), "ID")
    dep = state.departments.get(dep_id)
    if dep is None:
        raise core_error("Department not found")
    if "NAME" in params:
        if not str(params["NAME"]).strip():
            raise core_error("Department name not provided.")
        dep["NAME"] = str(params["NAME"]).strip()
    if "PARENT" in params:
        if dep["PARENT"] is None:
            raise core_error("There can only be one top-level department in the company structure")
        parent = _check_parent(state, params["PARENT"])
        if parent == dep_id or dep_id in _ancestors(state, parent):
            raise core_error("A department cannot be moved into its own subdepartment")
        dep["PARENT"] = parent
    if "SORT" in params:
        dep["SORT"] = _int(params["SORT"], "SORT")
    if "UF_HEAD" in params:
        head = params["UF_HEAD"]
        dep["UF_HEAD"] = int(head) if str(head or "").strip() and str(head) != "0" else None
    return True


@method("department.delete", "department")
def department_delete(state, caller, params):
    _require_admin(state, caller)
    dep_id = _int(params.get("ID"), "ID")
    if dep_id not in state.departments:
        raise core_error("Department not found")
    if state.departments[dep_id]["PARENT"] is None or any(d["PARENT"] == dep_id for d in state.departments.values()):
        raise core_error("Access denied")  # the root, or a department with subdepartments
    del state.departments[dep_id]
    for user in state.users.values():
        if dep_id in user["UF_DEPARTMENT"]:
            user["UF_DEPARTMENT"] = [d for d in user["UF_DEPARTMENT"] if d != dep_id]
    return True


# -- calendar -----------------------------------------------------------------------------------------
def _owner(params: dict) -> int:
    if params.get("type") != "user":
        raise core_error('The required parameter "type" is missing or not supported by the sandbox', "")
    return _int(params.get("ownerId"), "ownerId")


def _may_write(state: PortalState, caller: int, owner: int) -> bool:
    return caller == owner or bool(state.users.get(caller, {}).get("IS_ADMIN"))


def _sections_of(state: PortalState, owner: int) -> list[dict]:
    found = [s for s in state.sections.values() if s["OWNER_ID"] == owner]
    if not found and owner in state.users:
        # A user's default calendar exists as soon as anyone looks at it.
        sid = state.next_id("section")
        state.sections[sid] = {"ID": sid, "NAME": "Мой календарь", "OWNER_ID": owner, "CAL_TYPE": "user", "COLOR": "#9dcf00"}
        found = [state.sections[sid]]
    return found


@method("calendar.section.get", "calendar")
def calendar_section_get(state, caller, params):
    owner = _owner(params)
    may = _may_write(state, caller, owner)
    return [{**{k: str(v) if k in ("ID", "OWNER_ID") else v for k, v in s.items()},
             "PERM": {"view_time": True, "view_title": True, "view_full": True,
                      "add": may, "edit": may, "edit_section": may, "access": caller == owner}}
            for s in _sections_of(state, owner)]


@method("calendar.section.add", "calendar")
def calendar_section_add(state, caller, params):
    owner = _owner(params)
    if not _may_write(state, caller, owner):
        raise core_error("Access denied", "")
    if not params.get("name"):
        raise core_error('The required parameter "name" is missing', "")
    sid = state.next_id("section")
    state.sections[sid] = {"ID": sid, "NAME": params["name"], "OWNER_ID": owner, "CAL_TYPE": "user",
                           "COLOR": params.get("color", "")}
    return sid


def _parse_day(value: Any, name: str) -> str:
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S"):
        try:
            return datetime.strptime(text[:19] if "T" in text else text, fmt).date().isoformat()
        except ValueError:
            continue
    raise core_error(f'The required parameter "{name}" is missing or is not a date', "")


@method("calendar.event.add", "calendar")
def calendar_event_add(state, caller, params):
    """As calendar/classes/general/calendar_restservice.php `EventAdd` does (yuliai/bitrix-modules).

    `section` is optional: a passed one must be the owner's (else the section error) and editable by the
    caller (`PERM.edit`, else "Access denied"); an empty one is auto-detected, the owner's calendar being
    created when they have none (`autoDetectSection`, `autoCreateSection`). Who may write into whose calendar
    (the owner, or a portal administrator) is a guess [G-calendar-access]: the portal's calendar access settings decide it.
    """
    owner = _owner(params)
    for required in ("from", "to", "name"):
        if not params.get(required):
            raise core_error(f'The required parameter "{required}" for the method "calendar.event.add" is not set', "")
    if params.get("section"):
        section = state.sections.get(_int(params["section"], "section"))
        if section is None or section["OWNER_ID"] != owner:
            raise core_error("You specified an invalid calendar section ID or the user does not have access to it", "")
        if not _may_write(state, caller, owner):
            raise core_error("Access denied", "")
    else:
        if owner not in state.users or not _may_write(state, caller, owner):
            raise core_error("Access denied", "")
        section = _sections_of(state, owner)[0]
    start, end = _parse_day(params["from"], "from"), _parse_day(params["to"], "to")
    if end < start:
        raise core_error("The end date is before the start date", "")
    eid = state.next_id("event")
    state.events[eid] = {"ID": eid, "OWNER_ID": owner, "SECTION_ID": section["ID"], "NAME": str(params["name"]),
                         "DATE_FROM": start, "DATE_TO": end, "SKIP_TIME": str(params.get("skip_time", "N")),
                         "ACCESSIBILITY": str(params.get("accessibility", "busy")),
                         "DESCRIPTION": str(params.get("description", "")), "CREATED_BY": caller}
    return eid


def _event_of(state: PortalState, params: dict) -> dict:
    owner = _owner(params)
    event = state.events.get(_int(params.get("id"), "id"))
    if event is None or event["OWNER_ID"] != owner:
        # EventUpdate of a missing event: SaveEvent fails, CAL_REST_EVENT_UPDATE_ERROR [G-calendar-error-wording].
        raise core_error("Error updating the event", "")
    return event


@method("calendar.event.update", "calendar")
def calendar_event_update(state, caller, params):
    event = _event_of(state, params)
    if not _may_write(state, caller, event["OWNER_ID"]):
        raise core_error("Access denied", "")
    if "from" in params:
        event["DATE_FROM"] = _parse_day(params["from"], "from")
    if "to" in params:
        event["DATE_TO"] = _parse_day(params["to"], "to")
    for key, field in (("name", "NAME"), ("accessibility", "ACCESSIBILITY"), ("description", "DESCRIPTION"),
                       ("skip_time", "SKIP_TIME")):
        if key in params:
            event[field] = str(params[key])
    return event["ID"]


@method("calendar.event.delete", "calendar")
def calendar_event_delete(state, caller, params):
    """calendar_restservice.php `EventDelete`: an id is required; a missing event makes `CCalendar::DeleteEvent`
    return false, answered with CAL_REST_EVENT_DELETE_ERROR like any failed deletion (its English text is not
    in the mirror: the wording is a guess [G-calendar-error-wording])."""
    event_id = _int(params.get("id"), "id")
    event = state.events.get(event_id)
    if event is None:
        raise core_error("Error deleting the event", "")
    if not _may_write(state, caller, event["OWNER_ID"]):
        raise core_error("Access denied", "")
    del state.events[event["ID"]]
    return True


@method("calendar.event.getbyid", "calendar")
def calendar_event_getbyid(state, caller, params):
    """calendar_restservice.php `EventGetById`: the event, or null when there is none."""
    event = state.events.get(_int(params.get("id"), "id"))
    return {**event, "ID": str(event["ID"]), "SECTION_ID": str(event["SECTION_ID"])} if event else None


@method("calendar.event.get", "calendar")
def calendar_event_get(state, caller, params):
    owner = _owner(params)
    start = _parse_day(params["from"], "from") if params.get("from") else "0000-01-01"
    end = _parse_day(params["to"], "to") if params.get("to") else "9999-12-31"
    sections = params.get("section")
    sections = {int(s) for s in (sections if isinstance(sections, list) else [sections])} if sections else None
    rows = [e for e in state.events.values() if e["OWNER_ID"] == owner and e["DATE_TO"] >= start
            and e["DATE_FROM"] <= end and (sections is None or e["SECTION_ID"] in sections)]
    return [{**e, "ID": str(e["ID"]), "SECTION_ID": str(e["SECTION_ID"])} for e in sorted(rows, key=lambda e: e["ID"])]


# -- events -------------------------------------------------------------------------------------------
@method("event.bind", admin=True)
def event_bind(state, caller, params):
    event, handler = str(params.get("event") or "").upper(), str(params.get("handler") or "")
    if not event or not handler:
        raise core_error("Handler and event required", "ERROR_CORE")
    if urlsplit(handler).netloc != urlsplit(state.app.app_url).netloc:
        raise core_error("Wrong handler URL: must be on the application domain", "ERROR_CORE")
    if any(b["event"] == event and b["handler"] == handler for b in state.event_bindings):
        raise core_error("Handler already binded", "ERROR_CORE")
    state.event_bindings.append({"event": event, "handler": handler, "auth_type": str(params.get("auth_type", 0)),
                                 "offline": 1 if str(params.get("event_type", "online")) == "offline" else 0})
    return True


@method("event.unbind", admin=True)
def event_unbind(state, caller, params):
    event, handler = str(params.get("event") or "").upper(), str(params.get("handler") or "")
    before = len(state.event_bindings)
    state.event_bindings = [b for b in state.event_bindings if not (b["event"] == event and (not handler or b["handler"] == handler))]
    return {"count": before - len(state.event_bindings)}


@method("event.get", admin=True)
def event_get(state, caller, params):
    return [dict(b) for b in state.event_bindings]


# -- app, notifications -----------------------------------------------------------------------------
def app_info_result(state: PortalState) -> dict:
    return {"ID": 1, "CODE": state.app.code, "VERSION": state.app.version, "STATUS": "L",
            "INSTALLED": state.app_installed, "PAYMENT_EXPIRED": "N", "DAYS": None,
            "LANGUAGE_ID": state.language, "LICENSE": f"ru_{state.license_family}",
            "LICENSE_TYPE": state.license_family, "LICENSE_FAMILY": state.license_family}


@method("app.info")
def app_info(state, caller, params):
    return app_info_result(state)


@method("scope")
def scope(state, caller, params):
    return list(state.app.scope)


@method("server.time")
def server_time(state, caller, params):
    return time.strftime("%Y-%m-%dT%H:%M:%S+03:00")


@method("im.notify.system.add", "im")
def im_notify_system_add(state, caller, params):
    user_id = _int(params.get("USER_ID"), "USER_ID")
    if user_id not in state.users or not params.get("MESSAGE"):
        raise core_error("User or message not specified", "USER_ID_EMPTY" if user_id not in state.users else "MESSAGE_EMPTY")
    state.notifications.append({"USER_ID": user_id, "MESSAGE": str(params["MESSAGE"]), "TAG": params.get("TAG", "")})
    return len(state.notifications)


# -- workflows ------------------------------------------------------------------------------------------
_CODE = re.compile(r"^[a-zA-Z0-9._-]+$")


_BIZPROC_FIELDS = ("CODE", "HANDLER", "AUTH_USER_ID", "USE_SUBSCRIPTION", "NAME", "DESCRIPTION", "PROPERTIES",
                   "RETURN_PROPERTIES", "DOCUMENT_TYPE", "FILTER", "USE_PLACEMENT")


def _check_definition(state: PortalState, params: dict) -> None:
    if not params.get("HANDLER") or not params.get("NAME"):
        raise core_error("Validation failure: HANDLER and NAME are required", "ERROR_ACTIVITY_VALIDATION_FAILURE")
    if urlsplit(str(params["HANDLER"])).netloc != urlsplit(state.app.app_url).netloc:
        raise core_error("Handler must be on the application domain", "ERROR_ACTIVITY_VALIDATION_FAILURE")


def _bizproc_add(registry: dict, state: PortalState, caller: int, params: dict) -> bool:
    """Robots and activities of one app share one set of codes. Source: b24restdocs, the bizproc-robot
    index ("if the application already has an action with the same CODE, the Automation Rule is not
    registered — ERROR_ACTIVITY_ALREADY_INSTALLED"); bizproc/lib/restservice.php keys both the same way."""
    _require_admin(state, caller)
    code = str(params.get("CODE") or "")
    if not _CODE.match(code):
        raise core_error("Wrong activity code!", "ERROR_ACTIVITY_VALIDATION_FAILURE")
    _check_definition(state, params)
    if code in state.robots or code in state.activities:
        raise core_error("Activity or Robot already installed!", "ERROR_ACTIVITY_ALREADY_INSTALLED")
    registry[code] = {k: params.get(k) for k in _BIZPROC_FIELDS}
    return True


def _installed_code(registry: dict, state: PortalState, caller: int, params: dict) -> str:
    _require_admin(state, caller)
    code = str(params.get("CODE") or "")
    if code not in registry:
        raise core_error("Activity or Robot not found!", "ERROR_ACTIVITY_NOT_FOUND")
    return code


def _bizproc_update(registry: dict, state: PortalState, caller: int, params: dict) -> bool:
    """bizproc.robot.update / bizproc.activity.update: CODE and the changed FIELDS (b24restdocs)."""
    code = _installed_code(registry, state, caller, params)
    fields = params.get("FIELDS") if isinstance(params.get("FIELDS"), dict) else {}
    updated = {**registry[code], **{k: v for k, v in fields.items() if k in _BIZPROC_FIELDS and k != "CODE"}}
    _check_definition(state, updated)
    registry[code] = updated
    return True


def _bizproc_delete(registry: dict, state: PortalState, caller: int, params: dict) -> bool:
    del registry[_installed_code(registry, state, caller, params)]
    return True


def _register_bizproc(kind: str, registry_name: str) -> None:
    """bizproc.activity.* and bizproc.robot.* behave alike, each over its own registry (one code space)."""
    for verb, handler in (("add", _bizproc_add), ("update", _bizproc_update), ("delete", _bizproc_delete)):
        method(f"bizproc.{kind}.{verb}", "bizproc")(
            (lambda h: lambda state, caller, params: h(getattr(state, registry_name), state, caller, params))(handler))
    method(f"bizproc.{kind}.list", "bizproc")(lambda state, caller, params: list(getattr(state, registry_name)))


_register_bizproc("activity", "activities")
_register_bizproc("robot", "robots")


@method("bizproc.event.send", "bizproc")
def bizproc_event_send(state, caller, params):
    token = str(params.get("EVENT_TOKEN") or params.get("event_token") or "")
    pending = state.pending_event_tokens
    if token not in pending:
        raise core_error("Access denied", "ACCESS_DENIED", 403)
    pending.discard(token)
    state.bizproc_events_sent.append({"EVENT_TOKEN": token, "RETURN_VALUES": params.get("RETURN_VALUES") or {},
                                      "LOG_MESSAGE": params.get("LOG_MESSAGE", "")})
    return True


# -- lists (the documents of "Processes" workflows) ---------------------------------------------------
@method("lists.element.get", "lists")
def lists_element_get(state, caller, params):
    if params.get("IBLOCK_TYPE_ID") not in ("lists", "bitrix_processes", "lists_socnet"):
        raise core_error("Access denied", "ACCESS_DENIED", 403)
    elements = state.list_elements.get(_int(params.get("IBLOCK_ID"), "IBLOCK_ID"))
    if elements is None:
        raise core_error("Iblock not found", "ERROR_IBLOCK_NOT_FOUND")
    if params.get("ELEMENT_ID"):
        element = elements.get(_int(params["ELEMENT_ID"], "ELEMENT_ID"))
        return [element] if element else []
    return list(elements.values())


# -- time tracking ----------------------------------------------------------------------------------
@method("timeman.timecontrol.reports.get", "timeman")
def timeman_reports_get(state, caller, params):
    for required in ("USER_ID", "MONTH", "YEAR"):
        if not params.get(required):
            raise core_error(f"Required parameter {required} is missing", "ERROR_ARGUMENT")
    key = (_int(params["USER_ID"], "USER_ID"), _int(params["YEAR"], "YEAR"), _int(params["MONTH"], "MONTH"))
    days = state.timeman_reports.get(key, [])
    return {"report": {"days": days}}

