"""One sync per portal at a time, across all workers (Redis), or per process (the demo without Redis)."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from django.conf import settings

_local_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


class SyncBusy(Exception):
    """Another run of this portal is going on."""


class _Held:
    """The held lock; `heartbeat()` after each step keeps it (a killed worker's lock expires in HRSYNC_LOCK_TTL)."""

    def __init__(self, redis_lock=None) -> None:
        self._lock = redis_lock

    def heartbeat(self) -> None:
        if self._lock is None:
            return
        import redis

        try:
            self._lock.reacquire()
        except redis.exceptions.LockNotOwnedError:
            # A step took longer than the TTL. Take the lock back if nobody else did; if someone did,
            # another run owns the portal now and this one must stop.
            if not self._lock.acquire(blocking=False):
                raise SyncBusy("another run took over this portal while this one was waiting") from None


def portal_outbox_lock(portal_id: int):
    """Delivering a portal's outbox is one worker's job at a time, like its sync."""
    return portal_sync_lock(portal_id, name="outbox")


@contextmanager
def portal_sync_lock(portal_id: int, name: str = "sync"):
    if settings.REDIS_URL:
        import redis

        # Short-lived and renewed on every batch: a worker killed mid-run frees the portal within the TTL.
        lock = redis.Redis.from_url(settings.REDIS_URL).lock(f"hrsync:{name}:{portal_id}", timeout=settings.HRSYNC_LOCK_TTL,
                                                              blocking=False)
        if not lock.acquire():
            raise SyncBusy(f"a sync of portal {portal_id} is already running")
        try:
            yield _Held(lock)
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # expired while we ran; nothing to release
        return
    with _guard:
        lock = _local_locks.setdefault(f"{name}:{portal_id}", threading.Lock())
    if not lock.acquire(blocking=False):
        raise SyncBusy(f"a sync of portal {portal_id} is already running")
    try:
        yield _Held()
    finally:
        lock.release()
