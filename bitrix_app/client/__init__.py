"""Bitrix24 REST client: transport, batch, paging, the shared rate limiter and the error tree."""
from .client import BATCH_LIMIT, BitrixClient, CallStats, Command, CommandOutcome, PortalEndpoint
from .errors import (
    BitrixAccessDenied,
    BitrixAlreadyDone,
    BitrixAuthError,
    BitrixError,
    BitrixInsufficientScope,
    BitrixInvalidToken,
    BitrixMethodError,
    BitrixMethodNotFound,
    BitrixMustWait,
    BitrixNotFound,
    BitrixObjectAccessDenied,
    BitrixOperationTimeLimit,
    BitrixPortalDeleted,
    BitrixRateLimited,
    BitrixReauthRequired,
    BitrixServerError,
    BitrixTokenExpired,
    BitrixTransportError,
    BitrixUserLimitReached,
    resume_time,
)

__all__ = [
    "BATCH_LIMIT", "BitrixClient", "CallStats", "Command", "CommandOutcome", "PortalEndpoint",
    "BitrixAccessDenied", "BitrixAlreadyDone", "BitrixAuthError", "BitrixError", "BitrixInsufficientScope", "BitrixInvalidToken",
    "BitrixMethodError", "BitrixMethodNotFound", "BitrixMustWait", "BitrixNotFound",
    "BitrixObjectAccessDenied", "BitrixOperationTimeLimit", "BitrixPortalDeleted",
    "BitrixRateLimited", "BitrixReauthRequired", "BitrixServerError", "BitrixTokenExpired", "BitrixTransportError",
    "BitrixUserLimitReached", "resume_time",
]
