"""Celery tasks of the 1C:ZUP side: thin, each calls one service."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from .services import fail_package, process_package

log = logging.getLogger(__name__)


@shared_task(bind=True, retry_backoff=True, max_retries=5)
def process_payroll_package(self, package_pk: int) -> dict:
    try:
        package = process_package(package_pk)
    except OperationalError as exc:  # the database went away for a moment: try again with backoff
        if self.request.retries >= self.max_retries:
            fail_package(package_pk, f"the database was unavailable: {exc}")
            raise
        raise self.retry(exc=exc, countdown=2 ** self.request.retries)
    except Exception as exc:  # never leave a package "received" with nobody told
        log.exception("Package %s could not be processed", package_pk)
        fail_package(package_pk, f"processing failed: {exc.__class__.__name__}: {exc}")
        return {"package": package_pk, "status": "failed"}
    return {"package_id": package.package_id, "status": package.status}
