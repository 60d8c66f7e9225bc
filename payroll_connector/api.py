"""The push API 1C calls (mode B). Views check the key and the input and call one service each."""
from __future__ import annotations

import json
import logging
from functools import wraps

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .errors import PackageConflict, PayrollPackageInvalid
from .models import OutboxItem, PayrollPackage
from .odata.writer import document_for
from .outbox import acknowledge, collectable
from .push.openapi import openapi_document
from .push.schema import package_json_schema
from .services import connection_for_push_key, receive_package
from .tasks import process_payroll_package

log = logging.getLogger(__name__)


def push_key_required(view):
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        key = header[7:].strip() if header.startswith("Bearer ") else ""
        connection = connection_for_push_key(key) if key else None
        if connection is None or not connection.portal.is_operational:
            return JsonResponse({"error": "unauthorized",
                                 "message": "missing or wrong push key, or the portal is not active"}, status=401)
        request.payroll_connection = connection
        return view(request, *args, **kwargs)
    return wrapper


def _package_json(package: PayrollPackage, request: HttpRequest, *, duplicate: bool | None = None) -> dict:
    body = {"package_id": package.package_id, "kind": package.kind, "status": package.status,
            "status_url": request.build_absolute_uri(f"/payroll/api/v1/packages/{package.package_id}")}
    if duplicate is not None:
        body["duplicate"] = duplicate
    return body


def _is_json(request: HttpRequest) -> bool:
    return request.content_type in ("application/json", "application/problem+json") or (
        request.content_type.startswith("application/") and request.content_type.endswith("+json"))


def _unsupported_media_type() -> JsonResponse:
    return JsonResponse({"error": "unsupported_media_type", "problems": [{
        "record": "package", "field": "Content-Type", "problem": "send the package as application/json (UTF-8)"}]},
        status=415)


def _usable_id(value: str) -> bool:
    """Path parameters end up in SQL: PostgreSQL text cannot hold NUL, and our ids are at most 100 long."""
    return 0 < len(value) <= 100 and "\x00" not in value


@require_POST
@push_key_required
def packages(request: HttpRequest) -> JsonResponse:
    if not _is_json(request):
        return _unsupported_media_type()
    limit = settings.PAYROLL_MAX_PACKAGE_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Read the stream ourselves (not request.body) so the package limit, not Django's form limit, applies.
    raw = request.read(limit + 1) if declared <= limit else b""
    if declared > limit or len(raw) > limit:
        return JsonResponse({"error": "package_too_large", "problems": [{
            "record": "package", "field": "", "problem": f"the package is larger than {limit} bytes: send the "
            "snapshot in parts (snapshot.snapshot_id, part, parts)"}]}, status=413)
    try:
        package, created = receive_package(request.payroll_connection, raw)
    except PayrollPackageInvalid as exc:
        log.warning("Package refused for portal %s: %s", request.payroll_connection.portal_id, exc)
        return JsonResponse({"error": "invalid_package", "problems": exc.problems}, status=400)
    except PackageConflict as exc:
        return JsonResponse({"error": "package_id_conflict", "problems": [{
            "record": "package", "field": "package_id", "problem": exc.message}]}, status=409)
    if created:
        transaction.on_commit(lambda: process_payroll_package.delay(package.pk))
    return JsonResponse(_package_json(package, request, duplicate=not created), status=202 if created else 200)


@require_GET
@push_key_required
def package_status(request: HttpRequest, package_id: str) -> JsonResponse:
    package = request.payroll_connection.packages.filter(package_id=package_id).first() if _usable_id(package_id) else None
    if package is None:
        return JsonResponse({"error": "not_found"}, status=404)
    body = _package_json(package, request)
    body.update(received_at=package.received_at.isoformat(),
                processed_at=package.processed_at.isoformat() if package.processed_at else None,
                results=package.results)
    return JsonResponse(body)


def _outbox_json(item, connection) -> dict:
    entity, fields = document_for(item, connection, {})
    return {"id": item.pk, "kind": item.kind, "marker": item.marker, "created_at": item.created_at.isoformat(),
            "person_guid": item.person_guid, "employment_guid": item.payload.get("employment_guid"),
            "organisation_guid": item.payload.get("organisation_guid"),
            "request": {k: v for k, v in item.payload.items() if k not in ("employment_guid", "organisation_guid",
                                                                           "document_id", "workflow_id")},
            "correction_of": item.correction_of_id,
            # What the app would write by OData: 1C may create exactly this (unposted), or its own equivalent.
            "document": {"entity": entity, "fields": fields}}


@require_GET
@push_key_required
def outbox(request: HttpRequest) -> JsonResponse:
    """Mode B: what 1C should create now. Items stay here until confirmed, so nothing is lost."""
    connection = request.payroll_connection
    items = [_outbox_json(item, connection) for item in collectable(connection)[:500]]
    return JsonResponse({"items": items}, json_dumps_params={"ensure_ascii": False})


@require_POST
@push_key_required
def outbox_ack(request: HttpRequest, item_id: int) -> JsonResponse:
    """Mode B: 1C confirms an item with its document, or refuses it with its reason (in Russian)."""
    item = OutboxItem.objects.filter(pk=item_id, portal_id=request.payroll_connection.portal_id).first()
    if item is None:
        return JsonResponse({"error": "not_found"}, status=404)
    if request.body and not _is_json(request):
        return _unsupported_media_type()
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict) and any("\x00" in str(v) for v in body.values()):
        return JsonResponse({"error": "invalid", "problems": [{"record": f"outbox/{item_id}", "field": next(
            k for k, v in body.items() if "\x00" in str(v)), "problem": "contains the NUL character (\\u0000)"}]},
            status=400)
    if not isinstance(body, dict) or not (body.get("document_number") or body.get("refused")):
        return JsonResponse({"error": "invalid", "problems": [{"record": f"outbox/{item_id}", "field": "document_number",
                             "problem": "send document_number (and document_ref), or refused with the reason"}]}, status=400)
    item = acknowledge(item, document_number=str(body.get("document_number") or "")[:50],
                       document_ref=str(body.get("document_ref") or "")[:64], refusal=str(body.get("refused") or ""))
    return JsonResponse({"id": item.pk, "status": item.status, "document_number": item.document_number})


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document(settings.APP_BASE_URL), json_dumps_params={"ensure_ascii": False})


@require_GET
def schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(package_json_schema(), json_dumps_params={"ensure_ascii": False})
