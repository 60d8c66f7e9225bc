"""One error tree for Bitrix24, chosen from the remote error code (reference §3 system-errors table).

`transient` errors are retried with backoff by whoever runs the work; the others are journaled with the
portal's own message.
"""
from __future__ import annotations

import re
from typing import Any


class BitrixError(Exception):
    transient = False

    def __init__(self, code: str = "", description: str = "", *, http_status: int | None = None, method: str = ""):
        self.code = code or ""
        self.description = description or ""
        self.http_status = http_status
        self.method = method
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.method}: " if self.method else ""
        text = self.description or self.code or self.__class__.__name__
        if self.code and self.description:
            text = f"{self.code}: {self.description}"
        return where + text

    @classmethod
    def from_payload(cls, payload: Any, *, http_status: int | None = None, method: str = "") -> "BitrixError":
        """Build the right subclass from an `{"error", "error_description"}` body (or a batch `result_error` entry)."""
        if isinstance(payload, dict):
            code = str(payload.get("error") or "")
            description = str(payload.get("error_description") or "")
        else:
            code, description = "", str(payload or "")
        error_class = _BY_CODE.get(code) or _BY_CODE.get(code.upper()) or _by_status(http_status)
        if error_class is BitrixMethodError and code.upper() in _GENERIC_CODES:
            error_class = next((kind for pattern, kind in _BY_DESCRIPTION if pattern.search(description)), error_class)
        return error_class(code, description, http_status=http_status, method=method)


class BitrixTransportError(BitrixError):
    """The request did not get an answer (timeout, refused or dropped connection, a non-JSON body)."""

    transient = True


class BitrixAuthError(BitrixError):
    pass


class BitrixTokenExpired(BitrixAuthError):
    """401 expired_token: refresh and repeat once (the client does it)."""


class BitrixInvalidToken(BitrixAuthError):
    """401 NO_AUTH_FOUND / invalid_token: the token is not known to the portal."""


class BitrixReauthRequired(BitrixAuthError):
    """The refresh token is dead (invalid_grant) or the app was removed: an admin must open the app again."""


class BitrixRateLimited(BitrixError):
    """503 QUERY_LIMIT_EXCEEDED / OVERLOAD_LIMIT: the leaky bucket overflowed; nothing was run."""

    transient = True


class BitrixOperationTimeLimit(BitrixError):
    """429 OPERATION_TIME_LIMIT: the method used its time budget; blocked until `operating_reset_at`."""

    transient = True

    def __init__(self, *args, reset_at: float | None = None, **kwargs):
        self.reset_at = reset_at
        super().__init__(*args, **kwargs)


class BitrixMustWait(BitrixError):
    """Nothing was sent: the portal would refuse it now (the method's time budget is spent, or the request
    bucket is taken for longer than a call waits). `resume_at`: when it may be sent."""

    transient = True

    def __init__(self, *args, resume_at: float, **kwargs):
        self.resume_at = resume_at
        super().__init__(*args, **kwargs)


def resume_time(error: BitrixError) -> float | None:
    """When a refused or held-back call may be tried again; None for an error that time does not cure."""
    if isinstance(error, BitrixMustWait):
        return error.resume_at
    if isinstance(error, BitrixOperationTimeLimit):
        return error.reset_at
    return None


class BitrixAccessDenied(BitrixError):
    """403-family: the app's user lacks a right, or REST is not in the portal's plan."""


class BitrixInsufficientScope(BitrixAccessDenied):
    """The app was not granted the scope this method needs: add it in the app's settings and reinstall."""


class BitrixPortalDeleted(BitrixError):
    pass


class BitrixServerError(BitrixError):
    """500 from the portal (INTERNAL_SERVER_ERROR, ERROR_UNEXPECTED_ANSWER)."""

    transient = True


class BitrixMethodNotFound(BitrixError):
    pass


class BitrixMethodError(BitrixError):
    """The method ran and refused the input (ERROR_CORE, ERROR_ARGUMENT, and codes of single methods)."""


class BitrixNotFound(BitrixMethodError):
    """What the command names does not exist (any more): an event, a department, a list element."""


class BitrixUserLimitReached(BitrixMethodError):
    """user.add on a portal whose plan allows no more users (user_count_exceeded)."""


class BitrixAlreadyDone(BitrixMethodError):
    """The command's effect is already there (an event handler bound twice)."""


class BitrixObjectAccessDenied(BitrixMethodError):
    """The method ran, and the app's user may not touch this object (another user's calendar)."""


_BY_CODE: dict[str, type[BitrixError]] = {
    "expired_token": BitrixTokenExpired,
    "NO_AUTH_FOUND": BitrixInvalidToken,
    "invalid_token": BitrixInvalidToken,
    "invalid_grant": BitrixReauthRequired,
    "wrong_client": BitrixReauthRequired,
    "invalid_client": BitrixReauthRequired,
    "QUERY_LIMIT_EXCEEDED": BitrixRateLimited,
    "OVERLOAD_LIMIT": BitrixRateLimited,
    "OPERATION_TIME_LIMIT": BitrixOperationTimeLimit,
    "insufficient_scope": BitrixInsufficientScope,
    "invalid_scope": BitrixInsufficientScope,
    "ACCESS_DENIED": BitrixAccessDenied,
    "INVALID_CREDENTIALS": BitrixAccessDenied,
    "user_access_error": BitrixAccessDenied,
    "WRONG_AUTH_TYPE": BitrixAccessDenied,
    "PORTAL_DELETED": BitrixPortalDeleted,
    "INTERNAL_SERVER_ERROR": BitrixServerError,
    "ERROR_UNEXPECTED_ANSWER": BitrixServerError,
    "ERROR_METHOD_NOT_FOUND": BitrixMethodNotFound,
    "ERROR_CORE": BitrixMethodError,
    "ERROR_ARGUMENT": BitrixMethodError,
}


# Codes that say only "the method refused": for these the description is all Bitrix24 gives, so it is
# read here, in the one place that turns an answer into an error, and nowhere else. (Several methods
# throw a plain exception with a message and no code, which arrives with code "" or ERROR_CORE.)
_GENERIC_CODES = {"", "ERROR_CORE", "ERROR_ARGUMENT"}
_BY_DESCRIPTION: tuple[tuple[re.Pattern, type[BitrixError]], ...] = (
    (re.compile(r"user_count_exceeded", re.I), BitrixUserLimitReached),
    (re.compile(r"\bnot found\b", re.I), BitrixNotFound),
    (re.compile(r"\balready\b", re.I), BitrixAlreadyDone),
    (re.compile(r"access denied|access_denied", re.I), BitrixObjectAccessDenied),
)


def _by_status(http_status: int | None) -> type[BitrixError]:
    if http_status is None:
        return BitrixMethodError  # a batch entry without a known code
    if http_status >= 500:
        return BitrixServerError
    if http_status == 401:
        return BitrixInvalidToken
    if http_status == 403:
        return BitrixAccessDenied
    if http_status == 404:
        return BitrixMethodNotFound
    return BitrixMethodError
