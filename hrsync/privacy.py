"""Personal data the sync keeps (152-ФЗ): as little as the journal and the next run need, for as long as set.

- The journal shows what changed (old → new) and for whom (the label, ФИО); contact data and birthdays in
  it are masked, so a run does not leave one more copy of everyone's e-mail, mobile and birthday behind.
- What the app last wrote to a user (for drift detection) is kept as keyed digests, not values.
- Runs, their journals, processed push packages and finished requests to ZUP older than
  HRSYNC_RETENTION_DAYS are deleted
  (`manage.py prune_history`, and beat once a day).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from bitrix_app.models import FrameSessionRecord
from payroll_connector.models import OutboxItem, OutboxKind, OutboxStatus, PackageStatus, PayrollPackage

from .models import Lease, RunStatus, SyncRun

# User fields (the core's names, hrsync.sync.operations.USER_FIELDS) that carry contact data or a
# birthday: masked wherever the journal keeps them.
MASKED_FIELDS = ("email", "birthday", "mobile_phone")


def _key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"hrsync.privacy.digest", hashlib.sha256).digest()


def digest(field: str, value: Any) -> str:
    """A keyed digest of one field's value: equal values give equal digests, the value cannot be read back."""
    return hmac.new(_key(), f"{field}={value}".encode(), hashlib.sha256).hexdigest()[:32]


def digests(fields: dict[str, Any]) -> dict[str, str]:
    return {name: digest(name, value) for name, value in fields.items()}


def mask(field: str, value: Any) -> Any:
    """What the journal may show of a value: enough to recognise it, not to use it."""
    if field not in MASKED_FIELDS or value in (None, ""):
        return value
    text = str(value)
    if field == "email" and "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    if field == "mobile_phone":
        return "***" + text[-2:] if len(text) > 4 else "***"
    return "***"


def journal_details(kind: str, details: dict[str, Any]) -> dict[str, Any]:
    """An operation's details as the journal keeps them: personal data masked, e-mail kept as a digest."""
    details = dict(details)
    if isinstance(details.get("fields"), dict):
        fields = details["fields"]
        if fields.get("email"):
            details["email_digest"] = digest("email", str(fields["email"]).lower())  # for crash recovery
        details["fields"] = {name: mask(name, value) for name, value in fields.items()}
    if isinstance(details.get("changes"), dict):
        details["changes"] = {name: ([mask(name, v) for v in pair] if isinstance(pair, (list, tuple)) else pair)
                              for name, pair in details["changes"].items()}
    return details


def prune_history(days: int | None = None) -> dict[str, int]:
    """Delete what is older than the retention period. Runs waiting for a confirmation and the newest
    run of each portal stay (the pages show them)."""
    days = settings.HRSYNC_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    newest = SyncRun.objects.filter(portal=OuterRef("portal")).order_by("-started_at").values("pk")[:1]
    old_runs = (SyncRun.objects.filter(started_at__lt=cutoff).exclude(status=RunStatus.WAITING)
                .exclude(pk=Subquery(newest)))
    _, by_model = old_runs.delete()
    packages, _ = PayrollPackage.objects.filter(
        received_at__lt=cutoff, status__in=[PackageStatus.PROCESSED, PackageStatus.FAILED]).delete()
    # Requests to ZUP that are finished and told (their dates and comments are personal data too).
    requests, _ = (OutboxItem.objects.filter(updated_at__lt=cutoff).exclude(status=OutboxStatus.PENDING)
                   .filter(Q(reported_at__isnull=False) | ~Q(kind=OutboxKind.VACATION) | Q(event_token=""))
                   .delete())
    sessions, _ = FrameSessionRecord.objects.filter(expires_at__lt=timezone.now()).delete()
    leases, _ = Lease.objects.filter(expires_at__lt=timezone.now() - timedelta(days=1)).delete()
    return {"runs": by_model.get("hrsync.SyncRun", 0), "operations": by_model.get("hrsync.SyncOperation", 0),
            "packages": packages, "requests": requests, "sessions": sessions, "leases": leases}
