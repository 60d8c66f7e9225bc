"""Bitrix24's time budget per method, as the app reads it from the answers and spends it.

The portal keeps, per app (or webhook) and method, the server time of the last ten minutes; past the limit
the method is banned for 300 s (the rest module's LoadLimiter: reference bitrix24-rest.md §4; the source as
read is summarised in sandbox/bitrix24/operating.py). Batching does not help: each command of a `batch` is
charged to its own method, and the batch itself to `batch`, at half its time.

Every answer says where its method stands: `time.operating` (the method's total in the window) and
`time.operating_reset_at` (when the oldest minute of it rolls off); a batch tells it for each command in
`result_time`. The app keeps, per portal and method, the last total reported, when the next part rolls off,
and what one command costs, and before a call asks `allowance(method)`: how many commands fit under
the limit less a margin, else the seconds until the portal has released some. Once that time has passed the
app sends one command to learn the new total (how much rolled off is the portal's to say, not ours).

Shared by every worker through Redis, like the request bucket (ratelimit.py); one process without Redis
(the demo) keeps it in memory.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Protocol

import redis
from django.conf import settings


UNLIMITED = 1_000_000


@dataclass
class MethodUse:
    reported: float = 0.0  # the method's total the portal last reported (seconds of server time)
    reported_at: float = 0.0
    reset_at: float = 0.0  # when the oldest part of `reported` rolls off (operating_reset_at)
    cost: float = 0.0  # server seconds one command of the method took, lately
    banned_until: float = 0.0  # a 429 was answered: the portal's ban runs until then


class BudgetStore(Protocol):
    def load(self, key: str) -> MethodUse | None: ...

    def save(self, key: str, use: MethodUse, ttl: float) -> None: ...


class LocalBudgetStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uses: dict[str, tuple[MethodUse, float]] = {}

    def load(self, key: str) -> MethodUse | None:
        with self._lock:
            held = self._uses.get(key)
        if held is None or held[1] < time.time():
            return None
        return MethodUse(**asdict(held[0]))

    def save(self, key: str, use: MethodUse, ttl: float) -> None:
        with self._lock:
            self._uses[key] = (MethodUse(**asdict(use)), time.time() + ttl)


class RedisBudgetStore:
    def __init__(self, redis_client, prefix: str = "hrsync:bitrix:budget:") -> None:
        self._redis, self._prefix = redis_client, prefix

    def load(self, key: str) -> MethodUse | None:
        raw = self._redis.get(self._prefix + key)
        return MethodUse(**json.loads(raw)) if raw else None

    def save(self, key: str, use: MethodUse, ttl: float) -> None:
        self._redis.set(self._prefix + key, json.dumps(asdict(use)), px=int(ttl * 1000))


class TimeBudget:
    """One portal's methods. `limit` is the portal's budget per method and window (settings)."""

    def __init__(self, portal_key: str, store: BudgetStore, *, limit: float, margin: float, window: float,
                 ban: float) -> None:
        self.portal_key, self.store = portal_key, store
        self.limit, self.margin, self.window, self.ban = limit, margin, window, ban

    def _key(self, method: str) -> str:
        return f"{self.portal_key}:{method}"

    def _save(self, method: str, use: MethodUse) -> None:
        self.store.save(self._key(method), use, ttl=self.window + self.ban)

    def allowance(self, method: str, *, now: float | None = None) -> tuple[int, float]:
        """How many commands of `method` may go now, and the seconds until more may (0: not known to be
        sooner than the next answer tells).

        Bitrix24 refuses a command only when the method's total is already past the limit (LoadLimiter::is,
        checked before each command), so a command that starts below the limit runs to its end; keeping the
        total below the limit less a margin means no command is ever refused. When the oldest part has rolled
        off and the portal has not yet said how much that was, one command goes, and its answer tells."""
        now = time.time() if now is None else now
        use = self.store.load(self._key(method))
        if use is None:
            return UNLIMITED, 0.0
        if use.banned_until > now:
            return 0, use.banned_until - now
        if use.reported_at < use.banned_until:
            return UNLIMITED, 0.0  # a ban ended: the portal cleared the method's minutes with it
        room = self.limit - self.margin - use.reported
        if room > 0:
            fit = int(room / use.cost) if use.cost > 0 else UNLIMITED
            if fit >= 1:
                return fit, max(0.0, use.reset_at - now) if fit < UNLIMITED else 0.0
        if use.reset_at > now:
            return 0, use.reset_at - now
        return 1, 0.0

    def observe(self, method: str, time_block: dict | None, *, commands: int = 1, seconds: float | None = None,
                unreported: float = 0.0, now: float | None = None) -> None:
        """An answer's `time` for `method` (for a batch command: its `result_time` entry). `seconds` is
        what the commands took on the server, when the answer says so; `unreported`, what of it the total
        does not show yet (client.py: calls under 0.1 s are added when their request ends)."""
        if not isinstance(time_block, dict) or time_block.get("operating") is None:
            return  # no counters: the portal's limiter is off (an on-premise default)
        now = time.time() if now is None else now
        use = self.store.load(self._key(method)) or MethodUse()
        use.reported, use.reported_at = float(time_block["operating"]) + unreported, now
        if time_block.get("operating_reset_at"):
            use.reset_at = float(time_block["operating_reset_at"])
        if seconds is not None and commands:
            # Lately, weighted to the newest: a method's cost moves with the portal's data and load.
            latest = max(seconds / commands, 0.0)
            use.cost = latest if use.cost <= 0 else 0.5 * use.cost + 0.5 * latest
        self._save(method, use)

    def banned(self, method: str, *, now: float | None = None) -> float:
        """The portal answered 429: the method is banned for its fixed time (the answer does not say until
        when). Returns when it ends."""
        now = time.time() if now is None else now
        use = self.store.load(self._key(method)) or MethodUse()
        if use.banned_until <= now:
            use.banned_until = now + self.ban
        self._save(method, use)
        return use.banned_until


_local = LocalBudgetStore()
_shared: RedisBudgetStore | None = None


def default_store() -> BudgetStore:
    global _shared
    if settings.RATE_LIMITER == "redis":
        if _shared is None:
            _shared = RedisBudgetStore(redis.Redis.from_url(settings.REDIS_URL))
        return _shared
    return _local


def budget_for(portal_key: str) -> TimeBudget:
    return TimeBudget(portal_key, default_store(), limit=settings.BITRIX_OPERATING_LIMIT,
                      margin=settings.BITRIX_OPERATING_MARGIN, window=settings.BITRIX_OPERATING_WINDOW,
                      ban=settings.BITRIX_OPERATING_BAN)
