"""The sandbox portal's state: users, departments, calendars, events, tokens, the leaky bucket, faults."""
from __future__ import annotations

import bisect
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import urlsplit

from .operating import OperatingLimiter


class RestError(Exception):
    """An error answer: HTTP status, Bitrix24 error code and description."""

    def __init__(self, status: int, code: str, description: str = "", extra: dict | None = None):
        super().__init__(f"{code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.extra = extra or {}

    def body(self) -> dict:
        return {"error": self.code, "error_description": self.description, **self.extra}


@dataclass
class AppRegistration:
    """What the developer enters when registering a local app in the portal."""

    client_id: str = "local.hrsync.sandbox"
    client_secret: str = "sandbox-secret"
    app_url: str = ""  # main page (placement DEFAULT)
    install_url: str = ""  # initial installation path (shown in a frame)
    scope: tuple[str, ...] = ("user", "department", "calendar", "im", "bizproc", "timeman", "lists", "placement")
    code: str = "local.hrsync"
    version: int = 1


@dataclass
class Faults:
    """Injected failures; each counter is consumed by the next matching REST requests."""

    rate_limit_503: int = 0  # answer 503 QUERY_LIMIT_EXCEEDED regardless of the bucket
    server_error_500: int = 0
    slow_seconds: float = 0.0  # how long a "slow" answer takes (beyond the client's timeout)
    slow: int = 0
    drop: int = 0  # close the connection without answering
    moved_to: str = ""  # the portal changed its address: REST answers 302 to it
    slow_method: str = ""  # hold the first request that runs this method for `slow_seconds`
    operating_limit: dict[str, float] = field(default_factory=dict)  # method -> seconds blocked from now

    def take(self, name: str) -> bool:
        value = getattr(self, name)
        if value > 0:
            setattr(self, name, value - 1)
            return True
        return False


class LeakyBucket:
    """Bitrix24's request counter (reference §4): +1 per request, drains `rate`/s, 503 above `burst`."""

    def __init__(self, rate: float, burst: int, enabled: bool = True) -> None:
        self.rate = rate
        self.burst = burst
        self.enabled = enabled
        self.level = 0.0
        self.stamp = time.monotonic()

    def admit(self) -> bool:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.stamp) * self.rate)
        self.stamp = now
        if not self.enabled:
            return True
        if self.level + 1 > self.burst:
            return False
        self.level += 1
        return True


@dataclass
class Token:
    user_id: int
    expires_at: float


class PortalState:
    def __init__(
        self,
        *,
        domain: str,
        app: AppRegistration,
        rate: float = 2.0,
        burst: int = 50,
        limits_enabled: bool = True,
        access_ttl: float = 3600.0,
        license_family: str = "std",
        max_users: int = 100_000,
        member_id: str | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.domain = domain
        self.member_id = member_id or secrets.token_hex(16)
        self.app = app
        self.license_family = license_family
        self.language = "ru"
        # The site's date format (FORMAT_DATE of the site's culture). Guess [G-site-date-format] (no source for the cloud's per-language
        # defaults): DD.MM.YYYY, as on a Russian portal; tests set another with control "site".
        self.date_format = "DD.MM.YYYY"
        self.bucket = LeakyBucket(rate, burst, limits_enabled)
        # The per-method time budget, on as in the cloud (operating.py); the docs' 480 s per 10 minutes.
        self.operating = OperatingLimiter(enabled=limits_enabled)
        self.access_ttl = access_ttl
        self.max_users = max_users
        self.faults = Faults()
        self.server_endpoint = ""  # set by the server once the OAuth listener has its port
        self.client_endpoint = ""
        # Install state
        self.app_installed = False  # BX24.installFinish() seen
        self.app_present = False  # between install and uninstall
        self.application_token = ""
        self.access_tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, int] = {}  # single use: removed when exchanged
        # Data
        self.users: dict[int, dict[str, Any]] = {}
        self.departments: dict[int, dict[str, Any]] = {}
        self.sections: dict[int, dict[str, Any]] = {}
        self.events: dict[int, dict[str, Any]] = {}
        self.event_bindings: list[dict[str, Any]] = []
        self.activities: dict[str, dict[str, Any]] = {}
        self.robots: dict[str, dict[str, Any]] = {}
        self.bizproc_events_sent: list[dict[str, Any]] = []
        self.pending_event_tokens: set[str] = set()
        self.list_elements: dict[int, dict[int, dict[str, Any]]] = {}  # iblock id -> element id -> element  # workflows waiting for bizproc.event.send
        self.notifications: list[dict[str, Any]] = []
        self.timeman_reports: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
        self.outgoing_log: list[dict[str, Any]] = []
        self._ids = {"user": 0, "department": 0, "section": 0, "event": 0}
        # Counters for tests and benchmarks
        self.stats: dict[str, Any] = {"http_requests": 0, "rejected_503": 0, "rejected_429": 0,
                                      "commands": 0, "by_method": {}, "token_refreshes": 0}
        # Every method called and its parameters (the contract test checks them against its table); the
        # first CALLS_KEPT of each method are kept, so a benchmark's 20,000 users do not fill the memory.
        self.calls: dict[str, list[dict[str, Any]]] = {}
        # Incoming webhooks: (user ID, key) -> the scopes it was made with (/rest/<user>/<key>/<method>).
        self.webhooks: dict[tuple[int, str], tuple[str, ...]] = {}
        self._emails: dict[str, set[int]] = {}
        self._email_index_size = -1
        self._ids_cache: tuple[int, list[int]] = (-1, [])
        self._seed()

    # -- ids and seed ---------------------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _seed(self) -> None:
        root = self.next_id("department")
        self.departments[root] = {"ID": root, "NAME": "Компания", "SORT": 500, "PARENT": None, "UF_HEAD": 1}
        admin = self.next_id("user")
        self.users[admin] = self._new_user(admin, {
            "NAME": "Анна", "LAST_NAME": "Администратор", "EMAIL": "admin@sandbox.example",
            "UF_DEPARTMENT": [root], "WORK_POSITION": "HR-директор",
        }, admin_flag=True)

    def _new_user(self, user_id: int, fields: dict[str, Any], *, admin_flag: bool = False) -> dict[str, Any]:
        user = {
            "ID": user_id, "ACTIVE": True, "NAME": "", "LAST_NAME": "", "SECOND_NAME": "", "EMAIL": "",
            "XML_ID": "", "WORK_POSITION": "", "PERSONAL_GENDER": "", "PERSONAL_BIRTHDAY": "",
            "PERSONAL_MOBILE": "", "WORK_PHONE": "", "UF_DEPARTMENT": [], "UF_EMPLOYMENT_DATE": "",
            "UF_PHONE_INNER": "", "USER_TYPE": "employee", "IS_ADMIN": admin_flag,
            "DATE_REGISTER": time.strftime("%Y-%m-%dT%H:%M:%S+03:00"),
        }
        user.update(fields)
        return user

    # -- indexes: the sandbox's own, so that 20,000 users cost what 200 do --------------------------------
    def email_taken(self, email: str, *, but: int | None = None) -> bool:
        """Another user has this e-mail (compared without case). The index is checked against the users
        themselves, and rebuilt when it no longer matches them (a control call edits users directly)."""
        if self._email_index_size != len(self.users):
            self._reindex()
        wanted = email.strip().lower()
        owners = [uid for uid in self._emails.get(wanted, ()) if uid != but
                  and str(self.users.get(uid, {}).get("EMAIL", "")).strip().lower() == wanted]
        return bool(owners)

    def note_email(self, user_id: int) -> None:
        """A user was added or changed their e-mail through REST: the index follows."""
        in_step = self._email_index_size == len(self.users) - 1 or self._email_index_size == len(self.users)
        self._emails.setdefault(str(self.users[user_id].get("EMAIL", "")).strip().lower(), set()).add(user_id)
        if in_step:
            self._email_index_size = len(self.users)

    def _reindex(self) -> None:
        self._emails = {}
        for uid, user in self.users.items():
            self._emails.setdefault(str(user.get("EMAIL", "")).strip().lower(), set()).add(uid)
        self._email_index_size = len(self.users)

    def user_limit_reached(self) -> bool:
        """The plan's user limit: active users are counted only when there are that many users at all."""
        return len(self.users) >= self.max_users and sum(1 for u in self.users.values() if u["ACTIVE"]) >= self.max_users

    def ids_after(self, after: int) -> Iterator[int]:
        """User IDs above `after`, ascending (IDs are given in ascending order: the dict keeps them so)."""
        ids = list(self.users) if self._ids_cache[0] != len(self.users) else self._ids_cache[1]
        self._ids_cache = (len(self.users), ids)
        return (ids[i] for i in range(bisect.bisect_right(ids, after), len(ids)))

    def add_user_unchecked(self, fields: dict[str, Any]) -> int:
        """Bulk seeding for tests and benchmarks (not reachable through REST)."""
        user_id = self.next_id("user")
        self.users[user_id] = self._new_user(user_id, fields)
        return user_id

    def add_department_unchecked(self, name: str, parent: int) -> int:
        dep_id = self.next_id("department")
        self.departments[dep_id] = {"ID": dep_id, "NAME": name, "SORT": 500, "PARENT": parent, "UF_HEAD": None}
        return dep_id

    # -- tokens -----------------------------------------------------------------------------------------
    def issue_tokens(self, user_id: int) -> dict[str, Any]:
        access, refresh = secrets.token_hex(24), secrets.token_hex(24)
        self.access_tokens[access] = Token(user_id, time.time() + self.access_ttl)
        self.refresh_tokens[refresh] = user_id
        # The token answer's fields as DOCS settings/oauth/index.md and auto-renewal.md show them: `domain`
        # is the OAuth server's host ("oauth.bitrix.info"), the portal is named by client_endpoint/member_id.
        return {
            "access_token": access, "refresh_token": refresh, "expires_in": int(self.access_ttl),
            "expires": int(time.time() + self.access_ttl), "user_id": user_id,
            "scope": ",".join(self.app.scope), "member_id": self.member_id,
            "domain": urlsplit(self.server_endpoint).netloc, "client_endpoint": self.client_endpoint,
            "server_endpoint": self.server_endpoint, "status": "L",
        }

    def user_for_token(self, access_token: str | None) -> int:
        if not access_token:
            raise RestError(401, "NO_AUTH_FOUND", "Wrong authorization data")
        token = self.access_tokens.get(access_token)
        if token is None or not self.app_present:
            raise RestError(401, "invalid_token", "Unable to get application by token")
        if token.expires_at <= time.time():
            raise RestError(401, "expired_token", "The access token provided has expired.")
        return token.user_id

    def user_for_webhook(self, user_id: int, key: str) -> tuple[int, tuple[str, ...]]:
        """An incoming webhook acts as the user who made it, with the scopes it was given."""
        scopes = self.webhooks.get((user_id, key))
        if scopes is None or user_id not in self.users:
            # A wrong webhook key: 401 INVALID_CREDENTIALS. Guess [G-webhook-refusal] (code and wording).
            raise RestError(401, "INVALID_CREDENTIALS", "Invalid request credentials")
        return user_id, scopes

    def expire_all_tokens(self) -> None:
        for token in self.access_tokens.values():
            token.expires_at = 0

    def revoke_refresh_tokens(self) -> None:
        self.refresh_tokens.clear()

    CALLS_KEPT = 500

    def record(self, method: str, params: dict[str, Any]) -> None:
        kept = self.calls.setdefault(method, [])
        if len(kept) < self.CALLS_KEPT:
            kept.append({k: v for k, v in params.items() if k != "auth"})

    def refused(self, method: str) -> None:
        """A 429 OPERATION_TIME_LIMIT, counted in all and per method."""
        self.stats["rejected_429"] += 1
        by_method = self.stats.setdefault("rejected_429_by_method", {})
        by_method[method] = by_method.get(method, 0) + 1

    def count(self, method: str) -> None:
        by_method = self.stats["by_method"]
        by_method[method] = by_method.get(method, 0) + 1
