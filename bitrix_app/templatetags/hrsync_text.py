"""Showing the sync core's English texts in the page's language."""
from django import template
from django.utils.translation import gettext

from hrsync.texts import NOTICE_TEXTS

register = template.Library()


@register.filter
def reason(text: str) -> str:
    return gettext(text) if text else ""


@register.filter
def notice(item: dict) -> str:
    """A notice in the page's language: what its code means, then the specifics from ZUP's data."""
    explained = NOTICE_TEXTS.get(item.get("code", ""))
    return f"{explained}. {item.get('message', '')}" if explained else item.get("message", "")
