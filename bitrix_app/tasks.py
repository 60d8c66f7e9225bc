"""Celery tasks of the Bitrix24 side: thin, each calls one service."""
from __future__ import annotations

import logging

from celery import shared_task

from .client import BitrixError, BitrixReauthRequired
from .models import Portal, PortalStatus
from .services import refresh_portal_info

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5)
def check_portal(self, portal_id: int) -> dict:
    """app.info for one portal: renews its tokens when due and refreshes plan and install state."""
    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None or not portal.refresh_token or portal.status not in (PortalStatus.ACTIVE, PortalStatus.PENDING):
        return {"portal": portal_id, "skipped": True}
    try:
        portal = refresh_portal_info(portal)
    except BitrixReauthRequired:
        return {"portal": portal_id, "status": PortalStatus.NEEDS_REAUTH}
    except BitrixError as exc:
        if exc.transient:
            raise self.retry(exc=exc, countdown=60 * 2 ** self.request.retries)
        log.warning("check_portal %s: %s", portal.domain, exc.message)
        return {"portal": portal_id, "error": exc.message}
    return {"portal": portal_id, "status": portal.status, "license_family": portal.license_family,
            "rate_per_second": portal.rate_per_second}


@shared_task
def keep_portals_alive() -> int:
    """Beat, weekly: one check per portal whose tokens we hold (a `needs_reauth` portal is left alone)."""
    ids = list(Portal.objects.filter(status__in=[PortalStatus.ACTIVE, PortalStatus.PENDING])
               .exclude(refresh_token="").values_list("pk", flat=True))
    for portal_id in ids:
        check_portal.delay(portal_id)
    return len(ids)
