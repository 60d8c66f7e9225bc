"""The texts behind the core's codes, in the translation catalogue: reasons, notices, field names.

The core (hrsync/sync) speaks in codes: an operation's `Reason`, a notice's `code`, a user field's name.
What a person reads is here, translated when shown (the `reason`, `notice` and `field_label` filters).
A test checks that every code has its text.
"""
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from .sync.operations import OPERATION_KINDS, PHASES, Reason
from .sync.states import STATE_SYNONYMS

REASON_MSGIDS = {
    Reason.NEW_IN_ZUP: gettext_noop("new in ZUP"),
    Reason.DEPARTMENT_DELETED_IN_BITRIX: gettext_noop("its Bitrix24 department was deleted"),
    Reason.RENAMED: gettext_noop("renamed in ZUP"),
    Reason.MOVED: gettext_noop("moved in ZUP"),
    Reason.RENAMED_AND_MOVED: gettext_noop("renamed in ZUP, moved in ZUP"),
    Reason.DISBANDED: gettext_noop("disbanded in ZUP"),
    Reason.HIRED: gettext_noop("hired in ZUP"),
    Reason.EMPLOYMENT_ENDED: gettext_noop("last employment ended in ZUP"),
    Reason.CHANGED: gettext_noop("changed in ZUP"),
    Reason.DRIFT_PUT_BACK: gettext_noop("edited in Bitrix24; ZUP's value is put back"),
    Reason.REHIRED: gettext_noop("employed again in ZUP (rehire)"),
    Reason.HEAD_IN_ZUP: gettext_noop("head in ZUP"),
    Reason.ABSENCE_IN_ZUP: gettext_noop("absence in ZUP"),
    Reason.ABSENCE_CHANGED: gettext_noop("changed in ZUP"),
    Reason.ABSENCE_TYPE_REMAPPED: gettext_noop("the Bitrix24 type for this kind of absence was changed in hrsync"),
    Reason.ABSENCE_REVERSED: gettext_noop("reversed (сторно) or cancelled in ZUP"),
    Reason.ABSENCE_GONE: gettext_noop("no longer in ZUP"),
    Reason.EMPLOYEE_NOT_SYNCED: gettext_noop("its employee is no longer synced"),
}
# Journals written before reasons were codes hold the English text itself: shown through the same catalogue.
_LEGACY_REASONS = frozenset(REASON_MSGIDS.values())

FIELD_LABELS = {
    "first_name": _("first name"), "last_name": _("last name"), "middle_name": _("middle name"), "email": _("e-mail"),
    "payroll_id": _("ZUP ID"), "position": _("position"), "employment_date": _("employment date"),
    "birthday": _("birthday"), "gender": _("gender"), "mobile_phone": _("mobile phone"), "departments": _("departments"),
    "name": _("name"), "parent": _("parent department"), "type": _("absence type"), "from": _("first day"),
    "to": _("last day"), "user": _("employee"),
}


def reason_text(value: str) -> str:
    try:
        return gettext(REASON_MSGIDS[Reason(value)])
    except ValueError:
        return gettext(value) if value in _LEGACY_REASONS else value


NOTICE_TEXTS = {
    "no_email": _("no e-mail in ZUP: Bitrix24 cannot invite the person; add it in ZUP"),
    "email_match_proposed": _("a Bitrix24 user already has this e-mail: confirm it is this person, or change the e-mail in ZUP"),
    "department_match_proposed": _("Bitrix24 already has a department with this path: accept the match or create a new one"),
    "department_pending": _("waits for a decision on its department"),
    "disbanded_not_empty": _("disbanded in ZUP, but not empty in Bitrix24: removed once empty"),
    "disbanded_still_staffed": _("disbanded in ZUP while people still work in it: kept with them until HR moves them"),
    "duplicate_email": _("the same e-mail as another person: give each their own in ZUP"),
    "invalid_email": _("the e-mail in ZUP is not an e-mail address"),
    "too_long": _("a value is longer than Bitrix24 keeps"),
    "empty": _("no name in ZUP"),
    "unknown_parent": _("its parent department is not in ZUP's data"),
    "parent_not_syncable": _("a department above it cannot be synced"),
    "cycle": _("the department tree in ZUP has a cycle here"),
    "unknown_person": _("the employment points at a person not in ZUP's data"),
    "unknown_department": _("the employment points at a department not in ZUP's data"),
    "department_not_syncable": _("its department cannot be synced"),
    "no_syncable_employment": _("none of the person's employments can be synced"),
    "dates_reversed": _("the dates are in the wrong order"),
    "bad_date": _("a date in ZUP is not a date"),
    "unfinished_user_completed": _("completed a user an earlier failed attempt left without a name; send the invitation from Bitrix24"),
    "date_out_of_range": _("a date in ZUP lies outside 1900–2100"),
    "parent_in_other_organisation": _("its parent department belongs to another organisation in ZUP"),
    "unknown_employment": _("the absence belongs to an employment not in ZUP's data"),
    "unknown_head": _("the head is a person not in ZUP's data"),
    "unknown_organisation": _("the employment points at an organisation not in ZUP's data"),
    "unknown_position": _("the employment points at a position not in ZUP's data"),
    "unknown_state": _("ZUP records a state hrsync does not know for this absence: it is not synced"),
}


# What an operation does, by its kind (the core's class name, stored in the journal).
OPERATION_TEXTS = {
    "CreateDepartment": _("Create department"), "UpdateDepartment": _("Update department"),
    "DeleteDepartment": _("Delete department"), "CreateUser": _("Create employee"), "UpdateUser": _("Update employee"),
    "ReactivateUser": _("Reinstate employee"), "DeactivateUser": _("Dismiss employee"),
    "SetDepartmentHead": _("Set department head"), "AddAbsence": _("Add absence"), "UpdateAbsence": _("Update absence"),
    "RemoveAbsence": _("Remove absence"),
}
PHASE_TEXTS = {"departments": _("Departments"), "users": _("Employees"), "heads": _("Department heads"),
               "absences": _("Absences"), "cleanup": _("Cleanup")}
# Bitrix24's absence types (the chart's), as Bitrix24 names them to its users.
ABSENCE_TYPE_TEXTS = {"VACATION": _("Vacation"), "LEAVESICK": _("Sick leave"), "ASSIGNMENT": _("Business trip"),
                      "LEAVEUNPAYED": _("Unpaid leave"), "LEAVEMATERINITY": _("Maternity leave"),
                      "OTHER": _("Other absence")}
assert set(OPERATION_TEXTS) == set(OPERATION_KINDS) and set(PHASE_TEXTS) == set(PHASES)


def text_of(table: dict, code: str) -> str:
    """A code's text from one of the tables above, in the active language; an unknown code as it is."""
    text = table.get(code)
    return str(text) if text is not None else code


def operation_text(kind: str) -> str:
    return text_of(OPERATION_TEXTS, kind)


def absence_type_text(code: str) -> str:
    return text_of(ABSENCE_TYPE_TEXTS, code)


def zup_state_text(state: str) -> str:
    """A ZUP absence kind as ZUP shows it (its synonym); an unknown one as it came."""
    return STATE_SYNONYMS.get(state, state)


def change_value(field: str, value) -> str:
    """One side of a change as a person reads it: an absence type by its name, other values as they are."""
    return absence_type_text(value) if field == "type" and value else value
