"""The console's own pages: the list of portals, and connecting one by an incoming webhook (the operator)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hrsync.selectors import portal_rows

from .console import portals_of
from .services import WebhookRefused, connect_webhook


@login_required
@require_http_methods(["GET", "POST"])
def portals(request: HttpRequest) -> HttpResponse:
    """Every portal the user was given, with its state; a superuser may connect one by webhook here."""
    with translation.override(translation.get_language_from_request(request)):
        error = ""
        if request.method == "POST":
            if not request.user.is_superuser:
                return HttpResponseForbidden(_("Only the operator can connect portals."))
            try:
                portal = connect_webhook(request.POST.get("webhook_url", ""))
            except WebhookRefused as exc:
                error = str(exc)
            else:
                return HttpResponseRedirect(reverse("console:home", kwargs={"portal_id": portal.pk}))
        response = render(request, "console/portals.html", {
            "rows": portal_rows(portals_of(request.user).order_by("domain")), "error": error, "console": True,
            "can_connect": request.user.is_superuser})
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response
