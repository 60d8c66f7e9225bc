"""Bitrix24's time budget per method, as the `rest` module keeps it.

Source: yuliai/bitrix-modules rest/lib/engine/access/loadlimiter.php (class LoadLimiter) and
rest/classes/general/rest.php (CRestServer::processCall, appendDebugInfo), read 2026-12-06:
- The key is (auth type, the app's client ID or the webhook's password ID, method): each method of each
  app or webhook has its own budget. A `batch` is the method `batch`, and each of its commands runs through
  processCall as its own method (CRestServerBatchItem), so a command is charged to its method *and* the batch
  that carried it is charged to `batch`, at half weight (BATCH_TIME_WEIGHT = 0.5).
- Time is kept in 10 buckets of 60 s (`bucketSize`, `bucketCount`); the time a request spent in a method is
  added to the bucket of its minute when the request ends (finalize), if that request's total for the method
  is above 0.1 s (`minimalFixTime`). A bucket expires 600 s after the first time written into it.
- Before each call (and each batch command) `is()` sums the buckets and what this request has spent so far:
  above the limit (420 s by default, `rest_load_limiter_seconds` in the cloud; the docs' limits.md says 480)
  the method is banned for a fixed 300 s (BAN_DURATION) and its buckets are cleared. A banned call answers
  429 OPERATION_TIME_LIMIT "Method is blocked due to operation time limit." (in a batch: that command's
  entry in `result_error`), with no `time` block (the error goes out through processException).
- Every answer's `time` carries `operating` (the method's total) and `operating_reset_at`: the ban's end
  while banned, else when the oldest non-empty bucket expires, else the request's first start + 600 s.
  With the limiter off (on-premise default, option `load_limiter_active` = N) neither is sent.

The sandbox's own: how long each method takes (`server_time`, a setting per method: a real portal's time
depends on its data and load) [G-operating-cost], and the clock's scale (`bucket_seconds`, `ban_seconds` and `limit` can be
shrunk together, so a benchmark can live through several windows in minutes).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

BATCH_TIME_WEIGHT = 0.5
MINIMAL_FIX_TIME = 0.1


@dataclass
class _Bucket:
    seconds: float
    expires_at: float


@dataclass
class OperatingLimiter:
    enabled: bool = True
    limit: float = 480.0
    bucket_seconds: float = 60.0
    bucket_count: int = 10
    ban_seconds: float = 300.0
    server_time: dict[str, float] = field(default_factory=dict)  # method -> seconds each call takes
    _buckets: dict[tuple[str, str], dict[int, _Bucket]] = field(default_factory=dict)
    _bans: dict[tuple[str, str], float] = field(default_factory=dict)

    def hit(self, entity: str) -> "Hit":
        return Hit(self, entity, time.time())

    def _number(self, now: float) -> int:
        return int(now // self.bucket_seconds)

    def _kept(self, key: tuple[str, str], now: float) -> dict[int, _Bucket]:
        buckets = self._buckets.get(key, {})
        oldest = self._number(now) - self.bucket_count + 1
        for number in [n for n, b in buckets.items() if n < oldest or b.expires_at <= now]:
            del buckets[number]
        return buckets

    def stored(self, key: tuple[str, str], now: float) -> float:
        return sum(b.seconds for b in self._kept(key, now).values())

    def banned_until(self, key: tuple[str, str], now: float) -> float | None:
        until = self._bans.get(key)
        return until if until and until > now else None

    def ban(self, key: tuple[str, str], now: float) -> None:
        self._bans[key] = now + self.ban_seconds
        self._buckets.pop(key, None)  # "the buckets … would otherwise trigger an immediate re-ban"

    def write(self, key: tuple[str, str], seconds: float, first_start: float, now: float) -> None:
        buckets = self._kept(key, now)
        self._buckets[key] = buckets
        # expireAt((int) $expireAt): the bucket goes at a whole second
        bucket = buckets.setdefault(self._number(now), _Bucket(0.0, float(int(first_start + self.bucket_seconds * self.bucket_count))))
        bucket.seconds += seconds

    def reset_at(self, key: tuple[str, str], now: float, first_start: float) -> int:
        until = self.banned_until(key, now)
        if until:
            return int(until)
        buckets = self._kept(key, now)
        for number in sorted(buckets):
            if buckets[number].seconds > 0:
                return int(buckets[number].expires_at)
        return int(first_start + self.bucket_seconds * self.bucket_count)


class Hit:
    """One HTTP request's use of the limiter: what it spends per method is written when it ends."""

    def __init__(self, limiter: OperatingLimiter, entity: str, started: float) -> None:
        self.limiter, self.entity, self.started = limiter, entity, started
        self.spent: dict[str, list[float]] = {}  # method -> the times of its calls in this request
        self.first_start: dict[str, float] = {}

    def _key(self, method: str) -> tuple[str, str]:
        return (self.entity, method)

    def _in_flight(self, method: str) -> float:
        weight = BATCH_TIME_WEIGHT if method == "batch" else 1.0
        return sum(t * weight for t in self.spent.get(method, []) if t * weight > MINIMAL_FIX_TIME)

    def blocked(self, method: str) -> bool:
        """LoadLimiter::is(): banned, or over the limit now (which bans it)."""
        limiter, now = self.limiter, time.time()
        if not limiter.enabled:
            return False
        key = self._key(method)
        if limiter.banned_until(key, now):
            return True
        if limiter.stored(key, now) + self._in_flight(method) > limiter.limit:
            limiter.ban(key, now)
            return True
        return False

    def run(self, method: str, call):
        """registerStarting … registerEnding around the method's own work (and its configured server time)."""
        start = time.time()
        self.first_start.setdefault(method, start)
        try:
            pause = self.limiter.server_time.get(method, 0.0)
            if pause:
                time.sleep(pause)
            return call()
        finally:
            self.spent.setdefault(method, []).append(time.time() - start)

    def time_block(self, method: str) -> dict[str, float]:
        """`operating` and `operating_reset_at` of an answer's `time` (nothing when the limiter is off)."""
        limiter, now = self.limiter, time.time()
        if not limiter.enabled:
            return {}
        key = self._key(method)
        return {"operating_reset_at": limiter.reset_at(key, now, self.first_start.get(method, self.started)),
                "operating": limiter.stored(key, now) + self._in_flight(method)}

    def finish(self) -> None:
        """finalize(): each method's total of this request, if above 0.1 s, into its minute's bucket."""
        limiter, now = self.limiter, time.time()
        if not limiter.enabled:
            return
        for method, times in self.spent.items():
            total = sum(times) * (BATCH_TIME_WEIGHT if method == "batch" else 1.0)
            if total > MINIMAL_FIX_TIME:
                limiter.write(self._key(method), total, self.first_start.get(method, self.started), now)
