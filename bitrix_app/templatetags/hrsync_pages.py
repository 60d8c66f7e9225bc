"""Links and form fields of the pages, the same template inside the frame and in the console."""
from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, name: str, *args) -> str:
    """{% page_url "journal" %}: the frame's address of a page, or the console's for the portal shown."""
    if context.get("console"):
        return reverse(f"console:{name}", args=[context["portal"].pk, *args])
    return reverse(f"bitrix_app:{name}", args=args)


@register.simple_tag(takes_context=True)
def session_fields(context) -> str:
    """What a form must carry: in the frame its session token (which is also its CSRF token, see
    bitrix_app.frame), in the console Django's CSRF token (the session is the cookie)."""
    if context.get("console"):
        return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(context["request"]))
    return format_html('<input type="hidden" name="s" value="{}">', context.get("s", ""))
