"""Counters of events, kept where every process adds to them: REST calls, rate-limiter waits, token refreshes.

The web process, every Celery worker and beat count into one Redis hash, so /metrics (hrsync.metrics) sees
the whole installation, whichever process serves the scrape. Without Redis (the demo runs everything in
one process) the counts stay in that process. Counting never gets in the way of the work: a Redis error
is logged and the event goes uncounted.
"""
from __future__ import annotations

import logging
import threading

import redis
from django.conf import settings

log = logging.getLogger(__name__)

COUNTERS_KEY = "hrsync:counters"
_SEPARATOR = "|"


def _field(name: str, labels: dict[str, str]) -> str:
    return name + "".join(f"{_SEPARATOR}{key}={value}" for key, value in sorted(labels.items()))


def _parse(field: str) -> tuple[str, dict[str, str]]:
    name, *pairs = field.split(_SEPARATOR)
    return name, dict(pair.split("=", 1) for pair in pairs)


class Counters:
    def __init__(self, redis_url: str) -> None:
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1) if redis_url else None
        self._local: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, amount: float = 1.0, **labels: str) -> None:
        field = _field(name, labels)
        if self._redis is None:
            with self._lock:
                self._local[field] = self._local.get(field, 0.0) + amount
            return
        try:
            self._redis.hincrbyfloat(COUNTERS_KEY, field, amount)
        except redis.RedisError as exc:
            log.debug("Counter %s not counted: %s", field, exc)

    def read(self) -> list[tuple[str, dict[str, str], float]]:
        """(name, labels, value) of every counter (raises redis.RedisError when Redis cannot be read)."""
        if self._redis is None:
            with self._lock:
                items = list(self._local.items())
        else:
            items = [(k.decode(), float(v)) for k, v in self._redis.hgetall(COUNTERS_KEY).items()]
        return [(*_parse(field), value) for field, value in items]

    def reset(self) -> None:
        """For tests: start every counter at zero."""
        if self._redis is None:
            with self._lock:
                self._local.clear()
        else:
            self._redis.delete(COUNTERS_KEY)


_counters: Counters | None = None


def counters() -> Counters:
    global _counters
    if _counters is None:
        _counters = Counters(settings.REDIS_URL)
    return _counters
