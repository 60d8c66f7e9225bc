"""The Bitrix24 REST client: single calls, batches, and list reading at the fewest HTTP calls."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from hrsync.counters import counters

from .errors import (
    BitrixError,
    BitrixMethodError,
    BitrixOperationTimeLimit,
    BitrixRateLimited,
    BitrixTokenExpired,
    BitrixTransportError,
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
    waited_seconds: float = 0.0


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
        max_operating_wait: float = 120.0,
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
        self._operating_reset_at: dict[str, float] = {}

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
            token = self.tokens.current()
            waited = self.limiter.acquire(self.endpoint.bucket_key, self.endpoint.rate_per_second, self.endpoint.rate_burst)
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
                self._remember_operating(method, payload)
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
            if isinstance(error, BitrixOperationTimeLimit) and attempts < self.max_retries:
                wait = self._operating_wait(method, payload)
                if wait <= self.max_operating_wait:
                    attempts += 1
                    self.stats.retries += 1
                    log.warning("%s hit its time budget on %s; waiting %.0f s", method, self.endpoint.bucket_key, wait)
                    self._sleep(wait)
                    continue
                error.reset_at = time.time() + wait
            raise error

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.call_raw(method, params)["result"]

    def _post(self, url: str, method: str, body: dict) -> tuple[dict, int]:
        try:
            response = self.session.post(url, json=body, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise BitrixTransportError("transport", f"{exc.__class__.__name__} calling {method}", method=method) from exc
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

    def _remember_operating(self, method: str, payload: dict) -> None:
        reset_at = (payload.get("time") or {}).get("operating_reset_at")
        if reset_at:
            self._operating_reset_at[method] = float(reset_at)

    def _operating_wait(self, method: str, payload: dict) -> float:
        reset_at = (payload.get("time") or {}).get("operating_reset_at") or self._operating_reset_at.get(method)
        if reset_at:
            return max(1.0, float(reset_at) - time.time())
        return 60.0  # one of the ten 1-minute buckets rolls off (reference §4)

    # -- batch --------------------------------------------------------------------------------------
    def batch(self, commands: Mapping[str, Command | tuple[str, dict]], *, halt: bool = False) -> dict[str, CommandOutcome]:
        """Run commands in `batch` calls of ≤50, in order; every command gets its own outcome.

        `$result[key]` references work between commands of the same call of 50.
        """
        items = [(key, cmd if isinstance(cmd, Command) else Command(*cmd)) for key, cmd in commands.items()]
        outcomes: dict[str, CommandOutcome] = {}
        for start in range(0, len(items), BATCH_LIMIT):
            chunk = items[start:start + BATCH_LIMIT]
            retry_reads = all(is_read_only(cmd.method) for _, cmd in chunk)
            answer = self.call_raw(
                "batch", {"halt": 1 if halt else 0, "cmd": {key: cmd.encoded() for key, cmd in chunk}},
                retry_reads=retry_reads,
            )["result"]
            self.stats.commands += len(chunk)
            results = _as_dict(answer.get("result"))
            errors = _as_dict(answer.get("result_error"))
            totals = _as_dict(answer.get("result_total"))
            nexts = _as_dict(answer.get("result_next"))
            for key, cmd in chunk:
                if key in errors:
                    error = BitrixError.from_payload(errors[key], method=cmd.method)
                    outcomes[key] = CommandOutcome(key, error=error)
                elif key in results:
                    outcomes[key] = CommandOutcome(key, results[key], total=totals.get(key), next=nexts.get(key))
                else:
                    outcomes[key] = CommandOutcome(key, error=BitrixMethodError(
                        "NOT_RUN", "the batch stopped before this command", method=cmd.method))
        return outcomes

    # -- lists --------------------------------------------------------------------------------------
    def iter_list(self, method: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a list method: the first page tells the total, the rest come 50 pages a call."""
        yield from read_lists(self, {"items": OffsetList(method, params)})["items"]


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
