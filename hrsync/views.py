"""The operator's endpoints: /health/ and /metrics (Prometheus). Thin: check the token, call hrsync.health."""
from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry

from .health import HrsyncCollector, health

_registry = CollectorRegistry(auto_describe=False)
_registry.register(HrsyncCollector())


def _allowed(request: HttpRequest) -> bool:
    """With HRSYNC_OPS_TOKEN set (production), the endpoints need `Authorization: Bearer <token>`: they name
    the portals served. Without it they are open, for a monitoring host inside the network."""
    token = settings.HRSYNC_OPS_TOKEN
    if not token:
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), token.encode())


@require_GET
def health_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return JsonResponse({"error": "unauthorized"}, status=401)
    ok, report = health()
    return JsonResponse(report, status=200 if ok else 503)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("unauthorized\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
