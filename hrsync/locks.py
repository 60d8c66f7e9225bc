"""Leases: one holder of a portal's sync (or outbox delivery) at a time, across processes and machines.

A lease is a row in the database every process already shares (PostgreSQL in production, the demo's
SQLite too), so it holds across processes in every configuration, with or without Redis. It lives
HRSYNC_LEASE_TTL seconds unless renewed:

- while the work runs, a heartbeat thread renews it every TTL/3, so no single wait (a batch waiting out
  a 429, a slow 1C answer) outlives it, and a killed worker's lease lapses within the TTL;
- before every write the holder calls `check()`, which renews the lease only if it still holds it (a
  fencing check): a run whose lease lapsed and was taken by another stops before writing again.
"""
from __future__ import annotations

import logging
import secrets
import threading
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.utils import timezone

from .models import Lease

log = logging.getLogger(__name__)


class SyncBusy(Exception):
    """Another holder has this portal's lease (another run, or another delivery of its outbox)."""


class LeaseLost(SyncBusy):
    """This holder's lease lapsed and may belong to another now: stop before writing anything more."""


class HeldLease:
    def __init__(self, name: str, holder: str, ttl: float) -> None:
        self.name, self.holder, self.ttl = name, holder, ttl
        self._lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def renew(self) -> bool:
        """Extend the lease if this holder still has it (one UPDATE); False when it was lost."""
        now = timezone.now()
        kept = Lease.objects.filter(name=self.name, holder=self.holder).update(
            expires_at=now + timedelta(seconds=self.ttl), renewed_at=now)
        if not kept:
            self._lost = True
        return bool(kept)

    def check(self) -> None:
        """The fence before a write: raises LeaseLost unless this holder still holds the lease."""
        if self._lost or not self.renew():
            raise LeaseLost(f"the lease {self.name} lapsed and may belong to another worker now: this one stops")

    def _beat(self) -> None:
        interval = max(0.2, self.ttl / 3)
        try:
            while not self._stop.wait(interval):
                try:
                    if not self.renew():
                        log.warning("Lease %s was lost while its work was running", self.name)
                        return
                except Exception:  # a database hiccup: the next beat tries again, the fence decides
                    log.exception("Could not renew lease %s", self.name)
                    close_old_connections()
        finally:
            connections.close_all()  # this thread's own connection

    def start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.name}", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        Lease.objects.filter(name=self.name, holder=self.holder).delete()


def acquire(name: str, ttl: float | None = None) -> HeldLease:
    """Take the lease when it is free or lapsed; SyncBusy when a live holder has it."""
    ttl = float(ttl or settings.HRSYNC_LEASE_TTL)
    holder = secrets.token_hex(12)
    now = timezone.now()
    expires = now + timedelta(seconds=ttl)
    with transaction.atomic():
        taken = Lease.objects.filter(name=name, expires_at__lte=now).update(
            holder=holder, expires_at=expires, acquired_at=now, renewed_at=now)
        if not taken:
            try:
                with transaction.atomic():
                    Lease.objects.create(name=name, holder=holder, expires_at=expires, acquired_at=now, renewed_at=now)
            except IntegrityError:
                raise SyncBusy(f"{name} is held by another worker") from None
    return HeldLease(name, holder, ttl)


@contextmanager
def hold(name: str, ttl: float | None = None) -> Iterator[HeldLease]:
    lease = acquire(name, ttl)
    lease.start_heartbeat()
    try:
        yield lease
    finally:
        lease.release()


def lease_alive(name: str, holder: str) -> bool:
    """Is this holder's lease still live (its worker still renewing it)?"""
    return Lease.objects.filter(name=name, holder=holder, expires_at__gt=timezone.now()).exists()


def lease_held(name: str) -> bool:
    """Does any live holder have this lease now?"""
    return Lease.objects.filter(name=name, expires_at__gt=timezone.now()).exists()


def sync_lease_name(portal_id: int) -> str:
    return f"sync:{portal_id}"


def portal_sync_lock(portal_id: int):
    return hold(sync_lease_name(portal_id))


def preview_lease_name(portal_id: int) -> str:
    return f"preview:{portal_id}"


def portal_preview_lock(portal_id: int):
    """Dry runs write nothing to the portal: one at a time, never behind (or in the way of) a sync."""
    return hold(preview_lease_name(portal_id))


def portal_outbox_lock(portal_id: int):
    """Delivering a portal's outbox is one worker's job at a time, like its sync."""
    return hold(f"outbox:{portal_id}")
