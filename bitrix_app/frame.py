"""The session of the in-portal pages, carried without cookies and without URLs.

The pages live in a third-party iframe, where browsers block cookies, so the page carries an opaque
random token: in the body of every form and navigation (base.html turns links into POSTs) and in the
`X-Frame-Session` header of the page's own requests, never in a URL, so it lands in no access log and
no browser history. The token names a server-side row (FrameSessionRecord): it expires after
FRAME_SESSION_IDLE seconds unused and FRAME_SESSION_MAX_AGE at most, can be revoked, and is removed with
its portal. Because an attacker's page cannot read it, the token in a POST body is also the CSRF token.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from typing import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from hrsync.crypto import hash_secret

from .models import FrameSessionRecord, Portal, PortalStatus

SESSION_HEADER = "X-Frame-Session"


class SessionInvalid(Exception):
    """No such session, or it expired: the user opens the app from Bitrix24 again."""


@dataclass(frozen=True)
class FrameSession:
    portal_id: int
    user_id: str
    is_admin: bool
    language: str
    token: str = field(default="", repr=False, compare=False)

    @classmethod
    def open(cls, portal: Portal, user_id: str, is_admin: bool, language: str, *, auth_id: str = "") -> "FrameSession":
        """A new session for a user Bitrix24 just vouched for (the app page's POST)."""
        token = secrets.token_urlsafe(32)
        FrameSessionRecord.objects.create(
            token_hash=hash_secret(token), portal=portal, user_id=str(user_id), is_admin=is_admin, language=language,
            auth_id=auth_id, expires_at=timezone.now() + timedelta(seconds=settings.FRAME_SESSION_IDLE),
            admin_checked_at=timezone.now() if is_admin else None)
        return cls(portal.pk, str(user_id), is_admin, language, token)

    def dumps(self) -> str:
        return self.token

    @classmethod
    def admin_confirmed(cls, token: str, *, still_admin: Callable[[Portal, str], bool]) -> bool:
        """An administrator at entry, and still one by Bitrix24's word (asked again after a minute)."""
        record = cls.record_for(token)
        if not record.is_admin:
            return False
        recent = timezone.now() - timedelta(seconds=settings.FRAME_ADMIN_RECHECK_SECONDS)
        if record.admin_checked_at and record.admin_checked_at > recent:
            return True
        if not still_admin(record.portal, record.auth_id):
            FrameSessionRecord.objects.filter(pk=record.pk).update(is_admin=False)
            return False
        FrameSessionRecord.objects.filter(pk=record.pk).update(admin_checked_at=timezone.now())
        return True

    @classmethod
    def record_for(cls, token: str) -> FrameSessionRecord:
        if not token or len(token) > 100:
            raise SessionInvalid("no session")
        record = FrameSessionRecord.objects.filter(token_hash=hash_secret(token)).first()
        now = timezone.now()
        if record is None or record.expires_at <= now or \
                record.created_at <= now - timedelta(seconds=settings.FRAME_SESSION_MAX_AGE):
            raise SessionInvalid("the session expired")
        return record

    @classmethod
    def loads(cls, token: str) -> "FrameSession":
        """The session behind a token; each use extends it by FRAME_SESSION_IDLE (within its maximum age)."""
        record = cls.record_for(token)
        FrameSessionRecord.objects.filter(pk=record.pk).update(
            expires_at=timezone.now() + timedelta(seconds=settings.FRAME_SESSION_IDLE))
        return cls(record.portal_id, record.user_id, record.is_admin, record.language, token)

    def revoke(self) -> None:
        FrameSessionRecord.objects.filter(token_hash=hash_secret(self.token)).delete()


def ui_language(bitrix_lang: str | None) -> str:
    """Bitrix24's LANG (ru, en, de, ua, kz, by…) -> one of our UI languages."""
    lang = (bitrix_lang or "").lower()
    return "ru" if lang in ("ru", "ua", "by", "kz") or not lang else "en"


def frame_headers(response: HttpResponse, portal: Portal | None) -> HttpResponse:
    """Let the portal (and only it) frame the page (reference §9: CSP frame-ancestors, no X-Frame-Options)."""
    ancestors = "'self'" + (f" {portal.origin}" if portal else "")
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    response["Referrer-Policy"] = "same-origin"
    return response


def render_frame(request: HttpRequest, template: str, context: dict, *, portal: Portal | None,
                 status: int = 200) -> HttpResponse:
    context = {"bx24_js_url": settings.BITRIX_JS_SDK_URL, **context}
    html = render_to_string(template, context, request=request)
    response = frame_headers(HttpResponse(html, status=status), portal)
    response["Cache-Control"] = "no-store"  # pages carry the session token
    return response


def frame_view(view: Callable) -> Callable:
    """Views the portal opens in its iframe: exempt from X-Frame-Options and from cookie CSRF."""
    return csrf_exempt(xframe_options_exempt(view))


def _token_of(request: HttpRequest) -> str:
    """From the POST body or the page's header; a token in the query string is not taken."""
    return request.headers.get(SESSION_HEADER) or (request.POST.get("s", "") if request.method == "POST" else "")


def navigation_as_get(request: HttpRequest) -> None:
    """A navigation POST (a link the page turned into a POST, marked `_nav`) is the GET it stands for;
    a filter form's fields are the query it stands for."""
    if request.method == "POST" and request.POST.get("_nav") == "1":
        query = QueryDict(request.META.get("QUERY_STRING", ""), mutable=True)
        for key in request.POST:
            if key not in ("s", "_nav", "csrfmiddlewaretoken"):
                query.setlist(key, request.POST.getlist(key))
        request.method = "GET"
        request.GET = query


def frame_session_required(view: Callable) -> Callable:
    """Pages reached from inside the app: need a valid session of an operational portal.

    A forged or expired session gets 403; the portal comes from the session, never from the request,
    so a session of one portal can reach no other. A navigation is a read (navigation_as_get).
    """
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            session = FrameSession.loads(_token_of(request))
        except SessionInvalid:
            return frame_headers(HttpResponseForbidden("Session expired or invalid: open the app from Bitrix24 again."), None)
        portal = Portal.objects.filter(pk=session.portal_id).exclude(status=PortalStatus.UNINSTALLED).first()
        if portal is None:
            return frame_headers(HttpResponseForbidden("This portal is not connected."), None)
        navigation_as_get(request)
        request.page_session = session
        request.portal = portal
        request.console = False
        with translation.override(session.language):
            return view(request, *args, **kwargs)

    return frame_view(wrapper)
