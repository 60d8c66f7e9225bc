"""The console: the same pages as the portal frame, outside it, for the people of a webhook portal and for
the operator of a multi-portal installation.

Sign-in is Django's own (accounts made by `createsuperuser` or the operator in /admin/; nobody registers
themselves); session and CSRF cookies work as usual outside a frame. A user sees only the portals the
operator bound to them (PortalMember), a superuser all of them; the portal comes from the URL and is
looked up through the user's own bindings, so a portal not given to the user answers 403.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps
from typing import Callable

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseForbidden
from django.utils import translation
from django.utils.translation import gettext as _

from .frame import navigation_as_get
from .models import Portal, PortalMember, PortalStatus


@dataclass(frozen=True)
class ConsoleSession:
    """What a page needs to know of who is looking (the frame's FrameSession has the same face)."""

    portal_id: int
    user_id: str
    is_admin: bool
    language: str
    token: str = field(default="", repr=False, compare=False)

    def dumps(self) -> str:
        return ""  # the console's session is Django's cookie: nothing travels in the page


def portals_of(user) -> QuerySet[Portal]:
    """The portals a console user may open: those the operator gave them; a superuser's: all."""
    portals = Portal.objects.exclude(status=PortalStatus.UNINSTALLED)
    return portals if user.is_superuser else portals.filter(members__user=user)


def may_change(user, portal: Portal) -> bool:
    return user.is_superuser or PortalMember.objects.filter(user=user, portal=portal, is_admin=True).exists()


def console_page(view: Callable) -> Callable:
    """A page of one portal in the console: a signed-in user to whom the operator gave that portal."""
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, portal_id: int, *args, **kwargs):
        portal = portals_of(request.user).filter(pk=portal_id).first()
        if portal is None:
            return HttpResponseForbidden(_("This portal was not given to you: ask the operator."))
        navigation_as_get(request)
        language = translation.get_language_from_request(request)
        request.page_session = ConsoleSession(portal.pk, str(request.user.pk), may_change(request.user, portal), language)
        request.portal = portal
        request.console = True
        with translation.override(language):
            return view(request, *args, **kwargs)
    return wrapper
