"""One sync per portal at a time, across all workers (Redis), or per process (the demo without Redis)."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from django.conf import settings

_local_locks: dict[int, threading.Lock] = {}
_guard = threading.Lock()


class SyncBusy(Exception):
    """Another run of this portal is going on."""


@contextmanager
def portal_sync_lock(portal_id: int, *, timeout: int = 3600):
    if settings.REDIS_URL:
        import redis

        # The lock expires on its own if its worker is killed, so a crash never blocks the portal for long.
        lock = redis.Redis.from_url(settings.REDIS_URL).lock(f"hrsync:sync:{portal_id}", timeout=timeout, blocking=False)
        if not lock.acquire():
            raise SyncBusy(f"a sync of portal {portal_id} is already running")
        try:
            yield lock
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # expired while we ran; nothing to release
        return
    with _guard:
        lock = _local_locks.setdefault(portal_id, threading.Lock())
    if not lock.acquire(blocking=False):
        raise SyncBusy(f"a sync of portal {portal_id} is already running")
    try:
        yield lock
    finally:
        lock.release()
