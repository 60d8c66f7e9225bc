"""Every Bitrix24 REST method hrsync calls: the parameters it sends and the result fields it reads, with sources.

DOCS = the official REST documentation, github.com/bitrix24/b24restdocs (api-reference/…);
MODULE = the Bitrix24 module source in its public mirror github.com/yuliai/bitrix-modules.
tests/test_contract.py records every call of a whole sync, a robot delivery and an overtime run against the
sandbox portal and fails on a method or a parameter that is not here; another test fails when the code
names a method this table does not have.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    params: frozenset[str]
    results: frozenset[str]  # fields of the result hrsync reads ("" where it reads the bare value)
    source: str


def _m(params: str, results: str, source: str) -> Method:
    return Method(frozenset(params.split()), frozenset(results.split()), source)


BITRIX_METHODS: dict[str, Method] = {
    # Installation, the portal's identity, the frame's user.
    "app.info": _m("", "ID CODE VERSION STATUS INSTALLED LICENSE", "DOCS api-reference/common/system/app-info.md"),
    "scope": _m("", "", "DOCS api-reference/common/system/scope.md (a webhook's permissions, checked at connect time)"),
    "profile": _m("", "ID ADMIN NAME LAST_NAME", "DOCS api-reference/common/users/profile.md"),
    "event.get": _m("", "event handler", "DOCS api-reference/events/event-get.md"),
    "event.bind": _m("event handler", "", "DOCS api-reference/events/event-bind.md"),
    # Users: read in ID windows; created and updated in batches.
    "user.get": _m("FILTER sort order start", "ID ACTIVE NAME LAST_NAME SECOND_NAME EMAIL XML_ID WORK_POSITION "
                   "PERSONAL_GENDER PERSONAL_BIRTHDAY PERSONAL_MOBILE UF_DEPARTMENT UF_EMPLOYMENT_DATE USER_TYPE",
                   "DOCS api-reference/user/user-get.md; MODULE rest/lib/api/user.php userGet (keys in any case, "
                   "FILTER replaces the query, SORT+ORDER)"),
    "user.add": _m("XML_ID EMAIL NAME LAST_NAME SECOND_NAME WORK_POSITION PERSONAL_GENDER PERSONAL_BIRTHDAY "
                   "PERSONAL_MOBILE UF_DEPARTMENT UF_EMPLOYMENT_DATE ACTIVE", "",
                   "DOCS api-reference/user/user-add.md; MODULE rest/lib/api/user.php userAdd, prepareSaveData "
                   "(only PERSONAL_BIRTHDAY is converted from ISO: UF_EMPLOYMENT_DATE goes in the site's format)"),
    "user.update": _m("ID XML_ID EMAIL NAME LAST_NAME SECOND_NAME WORK_POSITION PERSONAL_GENDER PERSONAL_BIRTHDAY "
                      "PERSONAL_MOBILE UF_DEPARTMENT UF_EMPLOYMENT_DATE ACTIVE", "",
                      "DOCS api-reference/user/user-update.md; MODULE rest/lib/api/user.php userUpdate"),
    # Departments.
    "department.get": _m("start", "ID NAME SORT PARENT UF_HEAD",
                         "DOCS api-reference/departments/department-get.md; MODULE intranet/classes/general/rest.php "
                         "departmentGet"),
    "department.add": _m("NAME PARENT", "", "DOCS api-reference/departments/department-add.md"),
    "department.update": _m("ID NAME PARENT UF_HEAD", "", "DOCS api-reference/departments/department-update.md"),
    "department.delete": _m("ID", "", "DOCS api-reference/departments/department-delete.md"),
    # Absences: all-day events in the employee's own calendar (no section: the portal picks it).
    "calendar.event.add": _m("type ownerId name from to skip_time accessibility description", "",
                             "DOCS api-reference/calendar/calendar-event/calendar-event-add.md; MODULE "
                             "calendar/classes/general/calendar_restservice.php EventAdd (section optional)"),
    "calendar.event.update": _m("type ownerId id name from to skip_time accessibility", "",
                                "DOCS api-reference/calendar/calendar-event/calendar-event-update.md"),
    "calendar.event.delete": _m("type ownerId id", "", "DOCS api-reference/calendar/calendar-event/calendar-event-delete.md"),
    "calendar.event.getbyid": _m("id", "ID", "DOCS api-reference/calendar/calendar-event/calendar-event-get-by-id.md; "
                                 "MODULE calendar/classes/general/calendar_restservice.php EventGetById (null if none)"),
    "calendar.event.get": _m("type ownerId from to", "ID OWNER_ID DESCRIPTION",
                             "DOCS api-reference/calendar/calendar-event/calendar-event-get.md"),
    # The workflow action and its answers.
    "bizproc.activity.add": _m("CODE HANDLER AUTH_USER_ID USE_SUBSCRIPTION NAME DESCRIPTION PROPERTIES RETURN_PROPERTIES",
                               "", "DOCS api-reference/bizproc/bizproc-activity/bizproc-activity-add.md"),
    "bizproc.activity.update": _m("CODE FIELDS", "", "DOCS api-reference/bizproc/bizproc-activity/bizproc-activity-update.md"),
    "bizproc.robot.add": _m("CODE HANDLER AUTH_USER_ID USE_SUBSCRIPTION NAME DESCRIPTION PROPERTIES RETURN_PROPERTIES", "",
                            "DOCS api-reference/bizproc/bizproc-robot/bizproc-robot-add.md; MODULE "
                            "bizproc/lib/restservice.php (one code space with activities)"),
    "bizproc.robot.update": _m("CODE FIELDS", "", "DOCS api-reference/bizproc/bizproc-robot/bizproc-robot-update.md"),
    "bizproc.event.send": _m("EVENT_TOKEN RETURN_VALUES LOG_MESSAGE", "",
                             "DOCS api-reference/bizproc/bizproc-robot/bizproc-event-send.md"),
    "im.notify.system.add": _m("USER_ID MESSAGE TAG", "", "DOCS api-reference/chats/notifications/im-notify-system-add.md"),
    "lists.element.get": _m("IBLOCK_TYPE_ID IBLOCK_ID ELEMENT_ID", "ID NAME PROPERTY_*",
                            "DOCS api-reference/lists/elements/lists-element-get.md"),
    # Overtime.
    "timeman.timecontrol.reports.get": _m("USER_ID YEAR MONTH", "days index workday_complete workday_duration_final",
                                          "DOCS api-reference/timeman/timecontrol/timeman-timecontrol-reports-get.md"),
}

# `batch` carries the commands above (cmd, halt): DOCS api-reference/how-to-call-rest-api/batch.md.
BATCH = _m("cmd halt", "result result_error result_total result_next", "DOCS api-reference/how-to-call-rest-api/batch.md")
