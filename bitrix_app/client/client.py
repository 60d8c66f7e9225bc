"""The Bitrix24 REST client: single calls, batches, and list reading at the fewest HTTP calls."""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from hrsync.counters import counters

from .budget import TimeBudget, budget_for
from .errors import (
    BitrixError,
    BitrixMethodError,
    BitrixMustWait,
    BitrixOperationTimeLimit,
    BitrixRateLimited,
    BitrixTokenExpired,
    BitrixTransportError,
    resume_time,
)
from .oauth import PortalTokenSource, TokenSource, WebhookCredentials
from .query import command as batch_command
from .ratelimit import RateLimiter, default_limiter

log = logging.getLogger(__name__)

BATCH_LIMIT = 50  # commands per batch (reference §3, ERROR_BATCH_LENGTH_EXCEEDED above)
PAGE_SIZE = 50  # list methods return fixed pages of 50 (reference §3)

# Methods that change nothing may be repeated after an answer was lost; writes may not (a lost answer
# to user.add may mean the user exists): those surface as BitrixTransportError and the next sync run,
# which re-plans from fresh portal state, finishes the job.
_READ_SUFFIXES = (".get", ".list", ".fields", ".info", ".current", ".search")
_READ_METHODS = {"profile", "scope", "methods", "app.info", "server.time"}


def is_read_only(method: str) -> bool:
    return method in _READ_METHODS or method.endswith(_READ_SUFFIXES)


@dataclass(frozen=True)
class PortalEndpoint:
    """Where and how fast to call: the part of a Portal the client needs."""

    client_endpoint: str
    bucket_key: str
    rate_per_second: float
    rate_burst: int

    @classmethod
    def of(cls, portal) -> "PortalEndpoint":
        endpoint = portal.client_endpoint
        if portal.is_webhook:  # https://<portal>/rest/<user>/<key>/<method> (the REST docs' webhook examples)
            endpoint = f"{endpoint}{portal.webhook_user_id}/{portal.webhook_key}/"
        return cls(endpoint, portal.member_id, portal.rate_per_second, portal.rate_burst)

    def __repr__(self) -> str:  # a webhook's endpoint holds its key: never print it
        return f"PortalEndpoint({self.bucket_key})"


@dataclass
class CallStats:
    http_calls: int = 0
    commands: int = 0
    retries: int = 0
    token_renewals: int = 0
    waited_seconds: float = 0.0  # on the request bucket and the time budgets, together
    budget_waited_seconds: float = 0.0  # of which on the time budgets
    http_seconds: float = 0.0  # request to answer, the portal's own time included


@dataclass(frozen=True)
class CommandOutcome:
    """One command of a batch: its result, or its typed error (a failed command never hides the others)."""

    key: str
    result: Any = None
    error: BitrixError | None = None
    total: int | None = None
    next: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Command:
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def encoded(self) -> str:
        return batch_command(self.method, self.params)


def _never_reached_server(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError)
    return False


class BitrixClient:
    def __init__(
        self,
        endpoint: PortalEndpoint,
        tokens: TokenSource,
        limiter: RateLimiter,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 5,
        max_operating_wait: float = 10.0,
        budget: TimeBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self.tokens = tokens
        self.limiter = limiter
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_operating_wait = max_operating_wait
        self.stats = CallStats()
        self._sleep = sleep
        self.budget = budget or budget_for(endpoint.bucket_key)

    @classmethod
    def for_portal(cls, portal, **kwargs) -> "BitrixClient":
        """The client as the product uses it: settings' timeouts, the shared limiter, the portal's tokens."""
        kwargs.setdefault("timeout", (settings.BITRIX_HTTP_CONNECT_TIMEOUT, settings.BITRIX_HTTP_TIMEOUT))
        kwargs.setdefault("max_retries", settings.BITRIX_MAX_RETRIES)
        kwargs.setdefault("max_operating_wait", settings.BITRIX_MAX_OPERATING_WAIT)
        tokens = WebhookCredentials(portal) if portal.is_webhook else PortalTokenSource(portal)
        return cls(PortalEndpoint.of(portal), tokens, default_limiter(), **kwargs)

    # -- one HTTP call ------------------------------------------------------------------------------
    def call_raw(self, method: str, params: Mapping[str, Any] | None = None, *, retry_reads: bool | None = None) -> dict:
        """POST one method; the whole answer (`result`, `total`, `next`, `time`)."""
        idempotent = is_read_only(method) if retry_reads is None else retry_reads
        url = f"{self.endpoint.client_endpoint}{method}"
        attempts = 0
        renewed = False
        while True:
            self._hold_for_budget([method])
            token = self.tokens.current()
            waited = self._take_slot(method)
            self.stats.waited_seconds += waited
            self.stats.http_calls += 1
            counters().add("bitrix_rest_calls")
            if waited > 0:
                counters().add("ratelimit_waits")
                counters().add("ratelimit_wait_seconds", waited)
            try:
                # A webhook's key is in the URL: it sends no `auth`.
                payload, status = self._post(url, method, {**(params or {}), **({"auth": token} if token else {})})
            except BitrixTransportError as exc:
                cause = exc.__cause__
                retriable = idempotent or (isinstance(cause, requests.RequestException) and _never_reached_server(cause))
                if not retriable or attempts >= self.max_retries:
                    raise
                attempts += 1
                self._backoff(attempts, method, exc)
                continue
            if status < 400 and "error" not in payload:
                timing = payload.get("time") or {}
                # A batch is charged half its time (LoadLimiter::BATCH_TIME_WEIGHT); its commands by batch().
                seconds = _seconds(timing) * (0.5 if method == "batch" else 1.0)
                self.budget.observe(method, timing, seconds=seconds, unreported=_unreported([seconds]))
                return payload
            error = BitrixError.from_payload(payload, http_status=status, method=method)
            if status == 401 and not token:
                self.tokens.rejected(error)  # a webhook whose key was revoked: no renewal, no retry
            if isinstance(error, BitrixTokenExpired) and not renewed:
                self.tokens.renew(token)
                self.stats.token_renewals += 1
                renewed = True
                continue
            if isinstance(error, BitrixRateLimited) and attempts < self.max_retries:
                attempts += 1
                self._backoff(attempts, method, error)
                continue
            if isinstance(error, BitrixOperationTimeLimit):
                # Banned for a fixed time the answer does not tell (LoadLimiter::BAN_DURATION, a setting).
                error.reset_at = self.budget.banned(method)
                wait = error.reset_at - time.time()
                log.warning("%s is over its time budget on %s for %.0f s", method, self.endpoint.bucket_key, wait)
                if wait <= self.max_operating_wait and attempts < self.max_retries:
                    attempts += 1
                    self.stats.retries += 1
                    self.stats.waited_seconds += max(0.0, wait)
                    self.stats.budget_waited_seconds += max(0.0, wait)
                    self._sleep(max(0.0, wait))
                    continue
            raise error

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.call_raw(method, params)["result"]

    def _post(self, url: str, method: str, body: dict) -> tuple[dict, int]:
        sent = time.perf_counter()
        try:
            response = self.session.post(url, json=body, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise BitrixTransportError("transport", f"{exc.__class__.__name__} calling {method}", method=method) from exc
        finally:
            self.stats.http_seconds += time.perf_counter() - sent
        if 300 <= response.status_code < 400:
            # A moved portal (new domain, http->https) must be re-installed, not followed silently.
            raise BitrixError.from_payload(
                {"error": "UNEXPECTED_REDIRECT", "error_description": f"redirected to {response.headers.get('Location')}"},
                http_status=response.status_code, method=method,
            )
        try:
            payload = response.json()
        except ValueError as exc:
            # Proxies in front of a portal answer overloads with HTML pages.
            raise BitrixTransportError("bad_answer", f"HTTP {response.status_code} with a non-JSON body",
                                       http_status=response.status_code, method=method) from exc
        if not isinstance(payload, dict):
            raise BitrixTransportError("bad_answer", "answer is not a JSON object", method=method)
        return payload, response.status_code

    def _backoff(self, attempt: int, method: str, error: BitrixError) -> None:
        delay = min(30.0, 0.5 * 2 ** (attempt - 1))
        self.stats.retries += 1
        log.warning("%s on %s: %s; retry %d in %.1f s", method, self.endpoint.bucket_key, error.code, attempt, delay)
        self._sleep(delay)

    def _take_slot(self, method: str) -> float:
        """The request bucket's next slot: slept through when near, handed back to the caller when not
        (a worker must not sleep for long on one portal's bucket)."""
        wait = self.limiter.reserve(self.endpoint.bucket_key, self.endpoint.rate_per_second, self.endpoint.rate_burst)
        if wait > self.max_operating_wait:
            raise BitrixMustWait("BUCKET_WAIT", f"the portal's request bucket is taken for {wait:.0f} s",
                                 method=method, resume_at=time.time() + wait)
        if wait > 0:
            self._sleep(wait)
        return wait

    def _hold_for_budget(self, methods: list[str], *, divisible: bool = False) -> int:
        """How many of these commands (in order) may go now, waiting first while none may: the method's
        time budgets decide (budget.py). `divisible`: the commands may go in several calls (no command
        refers to another's result); else all of them go together or none does."""
        while True:
            allowed = {method: self.budget.allowance(method) for method in set(methods)}
            fit, seen = 0, Counter()
            for method in methods:
                seen[method] += 1
                if seen[method] > allowed[method][0]:
                    break
                fit += 1
            if fit == len(methods) or (fit and divisible):
                return fit
            method = methods[fit]
            wait = allowed[method][1]
            if fit and not wait:
                return len(methods)  # chained commands, and only the next answer can tell the room: they go
            if wait > self.max_operating_wait:
                raise BitrixMustWait("TIME_BUDGET_WAIT", f"{method} has spent its time budget; the portal "
                                     f"releases part of it in {wait:.0f} s", method=method, resume_at=time.time() + wait)
            counters().add("time_budget_waits")
            self.stats.waited_seconds += wait
            self.stats.budget_waited_seconds += wait
            self._sleep(wait)

    # -- batch --------------------------------------------------------------------------------------
    def batch(self, commands: Mapping[str, Command | tuple[str, dict]], *, halt: bool = False) -> dict[str, CommandOutcome]:
        """Run commands in `batch` calls of ≤50, in order; every command gets its own outcome.

        `$result[key]` references work between commands of the same call of 50.
        """
        items = [(key, cmd if isinstance(cmd, Command) else Command(*cmd)) for key, cmd in commands.items()]
        outcomes: dict[str, CommandOutcome] = {}
        while items:
            chunk = items[:BATCH_LIMIT]
            # As many as the methods' time budgets take now; commands chained by $result[…] go together.
            divisible = not halt and not any("$result[" in cmd.encoded() for _, cmd in chunk)
            try:
                chunk = chunk[:self._hold_for_budget([cmd.method for _, cmd in chunk], divisible=divisible)]
                retry_reads = all(is_read_only(cmd.method) for _, cmd in chunk)
                answer = self.call_raw(
                    "batch", {"halt": 1 if halt else 0, "cmd": {key: cmd.encoded() for key, cmd in chunk}},
                    retry_reads=retry_reads,
                )["result"]
            except (BitrixMustWait, BitrixOperationTimeLimit) as held:
                if not outcomes:
                    raise  # nothing of the batch ran: the caller knows it all waits
                # Part of the commands ran: the rest, which did not, is answered as refused for time, each
                # with when it may go (a caller must not think the ones that ran did not).
                for key, cmd in items:
                    outcomes[key] = CommandOutcome(key, error=BitrixOperationTimeLimit(
                        held.code, held.message, method=cmd.method, reset_at=resume_time(held)))
                break
            items = items[len(chunk):]
            self.stats.commands += len(chunk)
            results = _as_dict(answer.get("result"))
            errors = _as_dict(answer.get("result_error"))
            totals = _as_dict(answer.get("result_total"))
            nexts = _as_dict(answer.get("result_next"))
            self._observe_commands(chunk, _as_dict(answer.get("result_time")))
            for key, cmd in chunk:
                if key in errors:
                    error = BitrixError.from_payload(errors[key], method=cmd.method)
                    if isinstance(error, BitrixOperationTimeLimit):
                        error.reset_at = self.budget.banned(cmd.method)
                    outcomes[key] = CommandOutcome(key, error=error)
                elif key in results:
                    outcomes[key] = CommandOutcome(key, results[key], total=totals.get(key), next=nexts.get(key))
                else:
                    outcomes[key] = CommandOutcome(key, error=BitrixMethodError(
                        "NOT_RUN", "the batch stopped before this command", method=cmd.method))
        return outcomes

    def _observe_commands(self, chunk: list[tuple[str, Command]], times: dict) -> None:
        """Each command's `result_time` tells its method's total so far: the last one of each method is the
        newest, and the commands' own times say what one costs."""
        last: dict[str, dict] = {}
        took: dict[str, list[float]] = {}
        for key, cmd in chunk:
            timing = times.get(key)
            if isinstance(timing, dict):
                last[cmd.method] = timing
                took.setdefault(cmd.method, []).append(_seconds(timing))
        for method, timing in last.items():
            self.budget.observe(method, timing, commands=len(took[method]), seconds=sum(took[method]),
                                unreported=_unreported(took[method]))

    # -- lists --------------------------------------------------------------------------------------
    def iter_list(self, method: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a list method: the first page tells the total, the rest come 50 pages a call."""
        yield from read_lists(self, {"items": OffsetList(method, params)})["items"]


def _seconds(timing: dict) -> float:
    """What a call took on the server: `processing` where given, else the answer's whole duration."""
    try:
        return float(timing.get("processing") or timing.get("duration") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _unreported(took: list[float]) -> float:
    """What a request's own calls add to their method's total after the answer: while a request runs, the
    total it reports counts only its calls over 0.1 s (LoadLimiter::getRestTime, `minimalFixTime`); the rest
    is written when it ends (finalize). Counted here, or the next command would find the budget fuller."""
    return sum(t for t in took if t <= 0.1)


def _as_dict(section: Any) -> dict:
    # Empty batch sections arrive as [] rather than {} (reference §3).
    return section if isinstance(section, dict) else {}


def _items(result: Any) -> list:
    if isinstance(result, list):
        return result
    if isinstance(result, dict):
        # Some list methods wrap rows: {"items": [...]} / {"tasks": [...]}.
        for value in result.values():
            if isinstance(value, list):
                return value
        return list(result.values())
    return []


class OffsetList:
    """A list read by offset pages: the first page tells the total, the rest can run in any call."""

    def __init__(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        self.method, self.params = method, dict(params or {})
        self.prefix = "o"  # batch keys stay plain letters and digits, safe inside $result[…]
        self.items: list = []
        self.total: int | None = None
        self.pending: list[int] = [0]
        self.done = False

    def commands(self, room: int) -> dict[str, Command]:
        if self.total is None and self.pending != [0]:
            return {}  # waiting for the first page
        take, self.pending = self.pending[:room], self.pending[room:]
        return {f"{self.prefix}{start}": Command(self.method, {**self.params, "start": start}) for start in take}

    def consume(self, outcomes: dict[str, CommandOutcome], keys: list[str]) -> None:
        for key in keys:
            outcome = outcomes[key]
            if outcome.error:
                raise outcome.error
            self.items.extend(_items(outcome.result))
            if self.total is None:
                self.total = int(outcome.total or 0)
                self.pending = list(range(PAGE_SIZE, self.total, PAGE_SIZE))
        self.done = self.total is not None and not self.pending


class IdWindows:
    """A list read by `start=-1` windows of `>ID`, chained inside a call with `$result[…][49][ID]`."""

    def __init__(self, method: str, params_after: Callable[[str], dict[str, Any]], id_field: str = "ID") -> None:
        self.method, self.params_after, self.id_field = method, params_after, id_field
        self.prefix = "w"
        self.windows = 0
        self.items: list = []
        self.last_id = "0"
        self.done = False

    def commands(self, room: int) -> dict[str, Command]:
        out: dict[str, Command] = {}
        previous = None
        for _ in range(room):
            key = f"{self.prefix}{self.windows}"
            self.windows += 1
            after = self.last_id if previous is None else f"$result[{previous}][{PAGE_SIZE - 1}][{self.id_field}]"
            out[key] = Command(self.method, self.params_after(after))
            previous = key
        return out

    def consume(self, outcomes: dict[str, CommandOutcome], keys: list[str]) -> None:
        for key in keys:
            outcome = outcomes[key]
            if outcome.error:
                raise outcome.error
            rows = _items(outcome.result)
            self.items.extend(rows)
            if len(rows) < PAGE_SIZE:
                self.done = True
                return
            self.last_id = str(rows[-1][self.id_field])


def read_lists(client: BitrixClient, lists: Mapping[str, OffsetList | IdWindows]) -> dict[str, list]:
    """Read several lists sharing batch calls: offset pages first, ID windows fill the rest of each call.

    A portal of 300 departments and 5,000 users is read in 3 HTTP calls.
    """
    for name, reader in lists.items():
        reader.prefix = "".join(ch for ch in name if ch.isalnum()) + "_"
    while not all(reader.done for reader in lists.values()):
        plan: list[tuple[OffsetList | IdWindows, list[str]]] = []
        commands: dict[str, Command] = {}
        ordered = sorted((r for r in lists.values() if not r.done), key=lambda r: isinstance(r, IdWindows))
        for index, reader in enumerate(ordered):
            room = BATCH_LIMIT - len(commands)
            if room <= 0:
                break
            if isinstance(reader, IdWindows):
                # Share what is left between the window readers still running.
                room = max(1, room // (len(ordered) - index))
            batch = reader.commands(room)
            commands.update(batch)
            plan.append((reader, list(batch)))
        outcomes = client.batch(commands)
        for reader, keys in plan:
            if keys:
                reader.consume(outcomes, keys)
    return {name: reader.items for name, reader in lists.items()}
