"""Showing the sync core's codes as texts in the page's language (hrsync.texts)."""
from django import template

from hrsync.texts import (FIELD_LABELS, NOTICE_TEXTS, PHASE_TEXTS, absence_type_text, change_value, operation_text,
                          reason_text, text_of, zup_state_text)

register = template.Library()


@register.filter
def reason(code: str) -> str:
    return reason_text(code) if code else ""


@register.filter
def field_label(name: str) -> str:
    return text_of(FIELD_LABELS, name)


@register.filter
def notice(item: dict) -> str:
    """A notice in the page's language: what its code means. The specifics the core adds are English
    (for the operator and the logs): shown only where the code has no text of its own yet."""
    explained = NOTICE_TEXTS.get(item.get("code", ""))
    return str(explained) if explained else item.get("message", "")


@register.filter
def op_kind(kind: str) -> str:
    return operation_text(kind)


@register.filter
def planned(counts: dict | None) -> str:
    """A run's planned counts: «Создание сотрудника: 270, Добавление отсутствия: 66»."""
    return ", ".join(f"{operation_text(kind)}: {count}" for kind, count in (counts or {}).items())


@register.filter
def phase(name: str) -> str:
    return text_of(PHASE_TEXTS, name)


@register.filter
def absence_type(code: str) -> str:
    return absence_type_text(code)


@register.filter
def zup_state(state: str) -> str:
    return zup_state_text(state)


@register.simple_tag
def change_side(field: str, value) -> str:
    return change_value(field, value) or "—"
