"""The pure core (hrsync/sync) writes its reasons in English; these are they, for translation when shown.

makemessages finds them here (gettext_noop); templates translate them with {% translate op.reason %}.
Problem notices are explained by their stable code (NOTICE_TEXTS).
"""
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

REASONS = [
    gettext_noop("new in ZUP"), gettext_noop("its Bitrix24 department was deleted"), gettext_noop("renamed in ZUP"),
    gettext_noop("moved in ZUP"), gettext_noop("renamed in ZUP, moved in ZUP"), gettext_noop("disbanded in ZUP"),
    gettext_noop("hired in ZUP"), gettext_noop("last employment ended in ZUP"), gettext_noop("changed in ZUP"),
    gettext_noop("edited in Bitrix24; ZUP's value is put back"), gettext_noop("employed again in ZUP (rehire)"),
    gettext_noop("head in ZUP"), gettext_noop("absence in ZUP"), gettext_noop("reversed (сторно) or cancelled in ZUP"),
    gettext_noop("no longer in ZUP"), gettext_noop("its employee is no longer synced"),
]

NOTICE_TEXTS = {
    "no_email": _("no e-mail in ZUP: Bitrix24 cannot invite the person; add it in ZUP"),
    "email_match_proposed": _("a Bitrix24 user already has this e-mail: confirm it is this person, or change the e-mail in ZUP"),
    "department_match_proposed": _("Bitrix24 already has a department with this path: accept the match or create a new one"),
    "department_pending": _("waits for a decision on its department"),
    "disbanded_not_empty": _("disbanded in ZUP, but not empty in Bitrix24: removed once empty"),
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
}
