"""Bitrix24 REST client: transport, batch, paging, the shared rate limiter and the error tree."""
from .client import BATCH_LIMIT, BitrixClient, CallStats, Command, CommandOutcome, PortalEndpoint
from .errors import (
    BitrixAccessDenied,
    BitrixAuthError,
    BitrixError,
    BitrixInsufficientScope,
    BitrixInvalidToken,
    BitrixMethodError,
    BitrixMethodNotFound,
    BitrixOperationTimeLimit,
    BitrixPortalDeleted,
    BitrixRateLimited,
    BitrixReauthRequired,
    BitrixServerError,
    BitrixTokenExpired,
    BitrixTransportError,
)

__all__ = [
    "BATCH_LIMIT", "BitrixClient", "CallStats", "Command", "CommandOutcome", "PortalEndpoint",
    "BitrixAccessDenied", "BitrixAuthError", "BitrixError", "BitrixInsufficientScope", "BitrixInvalidToken",
    "BitrixMethodError", "BitrixMethodNotFound", "BitrixOperationTimeLimit", "BitrixPortalDeleted",
    "BitrixRateLimited", "BitrixReauthRequired", "BitrixServerError", "BitrixTokenExpired", "BitrixTransportError",
]
