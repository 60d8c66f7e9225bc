"""The session of the in-portal pages, carried without cookies.

The pages live in a third-party iframe, where browsers block cookies, so the session is a signed,
short-lived token (portal, user, admin flag, language) that every link and form of the pages carries
(`?s=` / a hidden `s` field). Because an attacker's page cannot read it, the token in a POST body also
serves as the form's CSRF token.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Callable

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from .models import Portal, PortalStatus

_SALT = "hrsync.bitrix.frame"


@dataclass(frozen=True)
class FrameSession:
    portal_id: int
    user_id: str
    is_admin: bool
    language: str

    def dumps(self) -> str:
        return signing.dumps({"p": self.portal_id, "u": self.user_id, "a": self.is_admin, "l": self.language},
                             salt=_SALT, compress=True)

    @classmethod
    def loads(cls, token: str) -> "FrameSession":
        data = signing.loads(token, salt=_SALT, max_age=settings.FRAME_SESSION_MAX_AGE)
        return cls(int(data["p"]), str(data["u"]), bool(data["a"]), str(data["l"]))


def ui_language(bitrix_lang: str | None) -> str:
    """Bitrix24's LANG (ru, en, de, ua, kz, by…) -> one of our UI languages."""
    lang = (bitrix_lang or "").lower()
    return "ru" if lang in ("ru", "ua", "by", "kz") or not lang else "en"


def frame_headers(response: HttpResponse, portal: Portal | None) -> HttpResponse:
    """Let the portal (and only it) frame the page (reference §9: CSP frame-ancestors, no X-Frame-Options)."""
    ancestors = "'self'" + (f" {portal.origin}" if portal else "")
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def render_frame(request: HttpRequest, template: str, context: dict, *, portal: Portal | None,
                 status: int = 200) -> HttpResponse:
    context = {"bx24_js_url": settings.BITRIX_JS_SDK_URL, **context}
    html = render_to_string(template, context, request=request)
    return frame_headers(HttpResponse(html, status=status), portal)


def frame_view(view: Callable) -> Callable:
    """Views the portal opens in its iframe: exempt from X-Frame-Options and from cookie CSRF."""
    return csrf_exempt(xframe_options_exempt(view))


def frame_session_required(view: Callable) -> Callable:
    """Pages reached from inside the app: need a valid session token of an operational portal.

    A forged or expired token gets 403; the portal comes from the token, never from the request,
    so a session of one portal can reach no other.
    """
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        token = request.POST.get("s") if request.method == "POST" else request.GET.get("s")
        try:
            session = FrameSession.loads(token or "")
        except signing.BadSignature:
            return frame_headers(HttpResponseForbidden("Session expired or invalid: open the app from Bitrix24 again."), None)
        portal = Portal.objects.filter(pk=session.portal_id).exclude(status=PortalStatus.UNINSTALLED).first()
        if portal is None:
            return frame_headers(HttpResponseForbidden("This portal is not connected."), None)
        request.frame_session = session
        request.portal = portal
        with translation.override(session.language):
            return view(request, *args, **kwargs)

    return frame_view(wrapper)
