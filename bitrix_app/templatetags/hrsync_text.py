"""Showing the sync core's codes as texts in the page's language (hrsync.texts)."""
from django import template

from hrsync.texts import FIELD_LABELS, NOTICE_TEXTS, reason_text

register = template.Library()


@register.filter
def reason(code: str) -> str:
    return reason_text(code) if code else ""


@register.filter
def field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name


@register.filter
def notice(item: dict) -> str:
    """A notice in the page's language: what its code means, then the specifics from ZUP's data."""
    explained = NOTICE_TEXTS.get(item.get("code", ""))
    return f"{explained}. {item.get('message', '')}" if explained else item.get("message", "")
