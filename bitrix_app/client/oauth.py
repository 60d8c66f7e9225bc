"""OAuth 2.0 token refresh for portals (reference §2), one refresh per portal at a time.

Each refresh returns a new pair and kills the old refresh token, so two workers refreshing together
would leave one of them with a dead token and the portal with `invalid_grant`. The refresh therefore
runs under the portal's row lock (SELECT … FOR UPDATE, across processes and machines) plus a process
lock (for SQLite, which has no row locks), and the new pair is saved in that same transaction. A worker
that waited for the lock finds the pair already renewed and uses it.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests_oauthlib import OAuth2Session

from hrsync.counters import counters

from ..models import OnPremisePortal, Portal, PortalStatus
from .errors import BitrixAuthError, BitrixError, BitrixReauthRequired, BitrixTransportError

log = logging.getLogger(__name__)

# Bitrix24 answers with a comma-separated scope that oauthlib would read as "scope changed".
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")

_REAUTH_CODES = {"invalid_grant", "invalid_client", "wrong_client", "unauthorized_client"}


def oauth_host_allowed(server_endpoint: str) -> bool:
    host = urlsplit(server_endpoint).netloc.lower()
    return bool(host) and host in {h.lower() for h in settings.BITRIX_OAUTH_SERVER_HOSTS}


@dataclass(frozen=True)
class TokenEndpoint:
    """Where a portal's pair is renewed, and as which application."""

    url: str
    client_id: str
    client_secret: str = field(repr=False)
    on_premise: bool = False


def token_endpoint_for(portal) -> TokenEndpoint:
    """The cloud OAuth server of the portal's server_endpoint (https://oauth.bitrix.info/rest/ ->
    https://oauth.bitrix.info/oauth/token/, or the forced setting), or, for an on-premise portal the
    operator named, the portal's own token endpoint and its local application's credentials."""
    on_premise = OnPremisePortal.objects.for_endpoint(portal.server_endpoint)
    if on_premise is not None and on_premise.portal_id == portal.pk:
        return TokenEndpoint(on_premise.token_url, on_premise.client_id or settings.BITRIX_CLIENT_ID,
                             on_premise.client_secret or settings.BITRIX_CLIENT_SECRET, on_premise=True)
    if settings.BITRIX_OAUTH_TOKEN_URL:
        return TokenEndpoint(settings.BITRIX_OAUTH_TOKEN_URL, settings.BITRIX_CLIENT_ID, settings.BITRIX_CLIENT_SECRET)
    if not oauth_host_allowed(portal.server_endpoint):
        raise BitrixReauthRequired(
            "untrusted_oauth_server",
            f"OAuth server {urlsplit(portal.server_endpoint).netloc!r} is not in BITRIX_OAUTH_SERVER_HOSTS",
        )
    parts = urlsplit(portal.server_endpoint)
    return TokenEndpoint(f"{parts.scheme}://{parts.netloc}/oauth/token/", settings.BITRIX_CLIENT_ID,
                         settings.BITRIX_CLIENT_SECRET)


def request_refresh(endpoint: TokenEndpoint, refresh_token: str) -> dict:
    """Exchange a refresh token for a new pair.

    Bitrix24 documents the token endpoint as a GET with query parameters. requests-oauthlib's
    `OAuth2Session.refresh_token` always POSTs, so we let its oauthlib client build and parse the
    grant and send the GET through the session ourselves.
    """
    oauth_client = WebApplicationClient(endpoint.client_id)
    session = OAuth2Session(client=oauth_client)
    query = oauth_client.prepare_refresh_body(
        refresh_token=refresh_token,
        client_id=endpoint.client_id,
        client_secret=endpoint.client_secret,
    )
    try:
        response = session.get(
            f"{endpoint.url}?{query}",
            withhold_token=True,
            allow_redirects=False,
            timeout=(settings.BITRIX_HTTP_CONNECT_TIMEOUT, settings.BITRIX_HTTP_TIMEOUT),
        )
    except requests.RequestException as exc:
        raise BitrixTransportError("oauth_unreachable", f"token endpoint: {exc.__class__.__name__}") from exc
    if response.status_code >= 500:
        raise BitrixTransportError("oauth_unavailable", f"token endpoint answered HTTP {response.status_code}",
                                   http_status=response.status_code)
    try:
        return dict(oauth_client.parse_request_body_response(response.text))
    except OAuth2Error as exc:
        error_class = BitrixReauthRequired if exc.error in _REAUTH_CODES else BitrixAuthError
        raise error_class(exc.error, exc.description or "", http_status=response.status_code, method="oauth/token") from exc
    except ValueError as exc:  # not JSON, or JSON without a token
        raise BitrixTransportError("oauth_bad_answer", f"token endpoint answered HTTP {response.status_code} "
                                   "without a token", http_status=response.status_code) from exc


class TokenSource(Protocol):
    def current(self) -> str: ...

    def renew(self, failed_access_token: str) -> str: ...

    def rejected(self, error: BitrixError) -> None:
        """The portal refused the credentials outright (a webhook's key). Only a webhook has no token."""


_process_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)


def refresh_portal_tokens(portal_id: int, failed_access_token: str | None = None):
    """Renew the portal's pair unless another worker already did; returns the up-to-date Portal."""
    with _process_locks[portal_id]:
        reauth: BitrixError | None = None
        with transaction.atomic():
            portal = Portal.objects.select_for_update().get(pk=portal_id)
            if portal.status == PortalStatus.NEEDS_REAUTH or not portal.refresh_token:
                raise BitrixReauthRequired("needs_reauth", portal.status_reason or "the portal has no valid token pair")
            renewed_meanwhile = failed_access_token is not None and portal.access_token != failed_access_token
            if (renewed_meanwhile or failed_access_token is None) and not portal.access_token_expired():
                return portal
            try:
                endpoint = token_endpoint_for(portal)
                token = request_refresh(endpoint, portal.refresh_token)
            except BitrixReauthRequired as exc:
                portal.status = PortalStatus.NEEDS_REAUTH
                portal.status_reason = exc.message
                portal.wipe_tokens()
                portal.save()
                reauth = exc
            else:
                answered_for = str(token.get("member_id") or portal.member_id)
                if answered_for != portal.member_id:
                    # The pair must be this portal's; the OAuth server's answer names the portal (DOCS
                    # settings/oauth/auto-renewal.md: member_id, client_endpoint in the refresh answer).
                    raise BitrixAuthError("wrong_portal", f"the OAuth server renewed a pair of portal {answered_for}",
                                          method="oauth/token")
                client_endpoint = str(token.get("client_endpoint") or "")
                if client_endpoint and client_endpoint != portal.client_endpoint and not endpoint.on_premise:
                    # (An on-premise portal's address is the operator's word, not the answer's.)
                    # The portal changed its address (a renamed cloud portal); the OAuth server knows the new one.
                    log.info("Portal %s moved to %s (from the refresh answer)", portal.member_id, client_endpoint)
                    portal.client_endpoint = client_endpoint
                    portal.domain = urlsplit(client_endpoint).netloc or portal.domain
                portal.set_tokens(
                    access_token=token["access_token"],
                    refresh_token=token.get("refresh_token") or portal.refresh_token,
                    expires_in=token.get("expires_in"),
                    user_id=str(token.get("user_id") or ""),
                )
                portal.token_refreshed_at = timezone.now()
                portal.save()
                log.info("Renewed the token pair of portal %s", portal.domain)
                counters().add("oauth_refreshes", outcome="renewed")
                return portal
        log.warning("Portal %s needs re-authorisation: %s", portal.domain, reauth.message)
        counters().add("oauth_refreshes", outcome="needs_reauth")
        raise reauth


class PortalTokenSource:
    """Tokens of one portal, read from the database and renewed under its lock."""

    def __init__(self, portal) -> None:
        self.portal = portal

    def current(self) -> str:
        if self.portal.status == PortalStatus.NEEDS_REAUTH:
            raise BitrixReauthRequired("needs_reauth", self.portal.status_reason)
        if self.portal.access_token_expired():
            self.portal = refresh_portal_tokens(self.portal.pk)
        return self.portal.access_token

    def renew(self, failed_access_token: str) -> str:
        self.portal = refresh_portal_tokens(self.portal.pk, failed_access_token)
        return self.portal.access_token

    def rejected(self, error: BitrixError) -> None:
        return None  # an app's 401 is a token matter: renew() handles it


class WebhookCredentials:
    """An incoming webhook: the key is in the URL, so there is no token to send or to renew.

    A 401 means the key was revoked or its user deactivated: the portal is marked as needing attention
    (the same state as a dead OAuth pair), so scheduled work stops calling it instead of retrying.
    """

    def __init__(self, portal) -> None:
        self.portal = portal

    def current(self) -> str:
        if self.portal.status == PortalStatus.NEEDS_REAUTH:
            raise BitrixReauthRequired("needs_reauth", self.portal.status_reason)
        return ""

    def renew(self, failed_access_token: str) -> str:
        # `rejected` always raises: a webhook has nothing to renew.
        self.rejected(BitrixReauthRequired("expired_token", "the webhook's key was refused"))
        raise AssertionError("unreachable")

    def rejected(self, error: BitrixError) -> None:
        reason = (f"Bitrix24 refused the incoming webhook ({error.code}): it was deleted or its user lost the "
                  "rights. Make a new webhook and connect it again.")
        Portal.objects.filter(pk=self.portal.pk).update(status=PortalStatus.NEEDS_REAUTH, status_reason=reason)
        self.portal.status, self.portal.status_reason = PortalStatus.NEEDS_REAUTH, reason
        log.warning("Portal %s: its incoming webhook was refused (%s)", self.portal.domain, error.code)
        raise BitrixReauthRequired("webhook_refused", reason)


class StaticTokenSource:
    """A token that cannot be renewed: the frame's AUTH_ID, or an install handshake."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def current(self) -> str:
        return self._token

    def renew(self, failed_access_token: str) -> str:
        raise BitrixReauthRequired("expired_token", "this token cannot be renewed")

    def rejected(self, error: BitrixError) -> None:
        return None
