"""Celery tasks of the 1C:ZUP side: thin, each calls one service."""
from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .services import process_package


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def process_payroll_package(package_pk: int) -> dict:
    package = process_package(package_pk)
    return {"package_id": package.package_id, "status": package.status}
