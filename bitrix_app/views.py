"""HTTP entry points the portal calls. Each parses and checks its input and calls one service."""
from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hrsync.tasks import process_portal_outbox
from hrsync.writeback import (
    CallerUnknown,
    DocumentUnreadable,
    portal_for_robot,
    receive_vacation_request,
    receive_webhook_request,
    webhook_for_key,
)

from .client import BitrixError
from .formdata import nested
from . import pages
from .frame import FrameSession, frame_view, render_frame, ui_language
from .gateway.workflows import VacationCall
from .services import Handshake, InstallRefused, enter_app_frame, handle_event, install_portal

log = logging.getLogger(__name__)

# Posts from the portal's server, not from a browser: no cookie, so no CSRF token to check (each view
# checks the application token or the secret URL instead), and nothing is ever shown in a frame.
portal_server_call = csrf_exempt


@frame_view
@require_POST
def install(request: HttpRequest) -> HttpResponse:
    """The installer the portal opens in its frame; the page it renders calls BX24.installFinish()."""
    language = ui_language(request.GET.get("LANG"))
    with translation.override(language):
        try:
            portal = install_portal(Handshake.from_frame(request.POST, request.GET))
        except InstallRefused as exc:
            log.warning("Install refused: %s", exc)
            return render_frame(request, "bitrix_app/install_failed.html", {"reason": str(exc)}, portal=None, status=403)
        except BitrixError as exc:
            log.warning("Install failed while calling the portal: %s", exc.message)
            return render_frame(request, "bitrix_app/install_failed.html", {"reason": exc.message}, portal=None, status=502)
        return render_frame(request, "bitrix_app/install.html", {"portal": portal}, portal=portal)


@portal_server_call
@require_POST
def events(request: HttpRequest) -> HttpResponse:
    """Portal events (form-encoded, `auth[...]`): ONAPPINSTALL, ONAPPUNINSTALL."""
    payload = nested(request.POST)
    auth = payload.get("auth") if isinstance(payload.get("auth"), dict) else {}
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    try:
        outcome = handle_event(str(payload.get("event", "")), data, auth)
    except InstallRefused as exc:
        log.warning("Event %s refused: %s", payload.get("event"), exc)
        return JsonResponse({"error": "unauthorized"}, status=401)
    return JsonResponse({"result": outcome})


@portal_server_call
@require_POST
def bizproc(request: HttpRequest) -> HttpResponse:
    """The workflow action "Передать отпуск в 1С:ЗУП": checked, stored, answered at once."""
    call = VacationCall.from_payload(nested(request.POST))
    try:
        portal = portal_for_robot(call)
    except CallerUnknown as exc:
        log.warning("Workflow call refused: %s", exc)
        return JsonResponse({"error": "unauthorized"}, status=401)
    item = receive_vacation_request(portal, call)
    process_portal_outbox.delay(portal.pk)
    return JsonResponse({"result": "accepted", "request": item.pk, "status": item.status})


@portal_server_call
@require_POST
def webhook(request: HttpRequest, key: str) -> HttpResponse:
    """The built-in Webhook action: only document_id arrives; the secret URL says which portal."""
    payload = nested(request.POST)
    document_id = payload.get("document_id")
    document_id = [document_id[k] for k in sorted(document_id, key=int)] if isinstance(document_id, dict) else []
    try:
        hook = webhook_for_key(key)
        item = receive_webhook_request(hook, document_id)
    except CallerUnknown as exc:
        log.warning("Webhook call refused: %s", exc)
        return JsonResponse({"error": "unauthorized"}, status=401)
    except DocumentUnreadable as exc:
        return JsonResponse({"error": "document_not_found", "message": str(exc)}, status=404)
    except BitrixError as exc:
        return JsonResponse({"error": "document_unreadable", "message": exc.message}, status=502)
    process_portal_outbox.delay(hook.portal_id)
    return JsonResponse({"result": "accepted", "request": item.pk, "status": item.status})


@frame_view
@require_POST
def app_entry(request: HttpRequest) -> HttpResponse:
    """The app's main page (placement DEFAULT): verify the portal's POST, open a frame session."""
    language = ui_language(request.GET.get("LANG"))
    with translation.override(language):
        try:
            frame_user = enter_app_frame(request.POST, request.GET)
        except InstallRefused as exc:
            log.warning("App page refused: %s", exc)
            return render_frame(request, "bitrix_app/denied.html", {}, portal=None, status=403)
        request.page_session = FrameSession.open(frame_user.portal, frame_user.user_id, frame_user.is_admin,
                                                 language, auth_id=request.POST.get("AUTH_ID", ""))
        request.portal, request.console = frame_user.portal, False
        request.method = "GET"  # the entry POST is Bitrix24's, not a change: the overview is shown as read
        return pages.home(request)
