"""Client-side pacing to each portal's leaky bucket, shared by every worker.

Bitrix24 counts requests per portal in a leaky bucket (reference §4: +1 per request, drains `rate`/s,
503 above `burst`). We schedule every request with GCRA, the same bucket seen from the sender: each
request reserves the next slot atomically and sleeps until its slot, so the portal never has to refuse.
With Redis the reservation is one Lua script using Redis' own clock, so processes on several machines
pace together; without Redis (the demo) a process-local bucket does the same for one process.
"""
from __future__ import annotations

import threading
import time
from typing import Protocol

import redis
from django.conf import settings

# Requests reach the portal a little later than their slot, and not all equally late: keeping a few
# places free in the bucket absorbs that jitter. 10 % of the burst, at least 2.
def client_burst(server_burst: int) -> int:
    return max(1, server_burst - max(2, server_burst // 10))


class RateLimiter(Protocol):
    def reserve(self, key: str, rate: float, burst: int) -> float:
        """Take the next slot; return the seconds until it (the caller sleeps them, or gives the slot up)."""



class LocalRateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def reserve(self, key: str, rate: float, burst: int) -> float:
        interval = 1.0 / rate
        tolerance = (client_burst(burst) - 1) * interval
        bucket = f"{key}:{rate:g}:{burst}"
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(bucket, now), now)
            allowed_at = tat - tolerance
            self._tat[bucket] = tat + interval
        return max(0.0, allowed_at - now)



# KEYS[1]: the bucket; ARGV: interval in microseconds, tolerance in microseconds.
# Returns the microseconds the caller must wait before sending.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
if wait < 0 then wait = 0 end
return wait
"""


class RedisRateLimiter:
    def __init__(self, redis_client, prefix: str = "hrsync:bitrix:bucket:") -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._script = redis_client.register_script(_GCRA_LUA)

    def reserve(self, key: str, rate: float, burst: int) -> float:
        interval_us = int(1_000_000 / rate)
        tolerance_us = (client_burst(burst) - 1) * interval_us
        # The bucket's parameters are part of its key: after a change of plan (2/s -> 5/s) the schedule
        # built at the old pace does not hold the new one back.
        bucket = f"{self._prefix}{key}:{rate:g}:{burst}"
        wait_us = int(self._script(keys=[bucket], args=[interval_us, tolerance_us]))
        return wait_us / 1_000_000



_local = LocalRateLimiter()
_shared: RedisRateLimiter | None = None


def default_limiter() -> RateLimiter:
    """The limiter the settings choose (RATE_LIMITER=redis|local)."""
    global _shared
    if settings.RATE_LIMITER == "redis":
        if _shared is None:
            _shared = RedisRateLimiter(redis.Redis.from_url(settings.REDIS_URL))
        return _shared
    return _local
