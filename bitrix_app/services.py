"""Install, uninstall, events and frame entry: what the Bitrix24 views call (views hold no logic)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hrsync.crypto import hash_secret, secret_matches

from .client import BitrixClient, BitrixError, PortalEndpoint
from .client.errors import BitrixAlreadyDone, BitrixAuthError, BitrixMethodError
from .client.oauth import StaticTokenSource, oauth_host_allowed
from .client.ratelimit import default_limiter
from .gateway.fields import DateStyle
from .models import STANDARD_RATE, OnPremisePortal, Portal, PortalAccess, PortalStatus
from .signals import portal_data_deletion_requested, portal_installed

log = logging.getLogger(__name__)

# Events the app listens to. ONAPPUNINSTALL carries no tokens, so its only check is the
# application_token stored at install (reference §1).
EVENTS_TO_BIND = ("ONAPPINSTALL", "ONAPPUNINSTALL")


# The status_reason of an uninstalled portal whose data is to be deleted ("clear application data").
DELETION_PENDING = "uninstalled with \"clear application data\": its data is being deleted"


def delete_portal(portal_id: int) -> bool:
    """Delete a portal uninstalled with CLEAN=1 and all it owns; the caller holds its sync lease."""
    deleted, _ = Portal.objects.filter(pk=portal_id, status=PortalStatus.UNINSTALLED,
                                       status_reason=DELETION_PENDING).delete()
    return bool(deleted)


class InstallRefused(Exception):
    """The install, event or frame request cannot be trusted; nothing was changed."""


def events_handler_url() -> str:
    return f"{settings.APP_BASE_URL}/bitrix/events/"


@dataclass(frozen=True)
class Handshake:
    """OAuth data a portal hands over: the install frame's form, or an event's `auth[...]`."""

    member_id: str
    domain: str
    client_endpoint: str
    server_endpoint: str
    access_token: str
    refresh_token: str
    expires_in: int
    application_token: str
    scope: str
    app_status: str
    user_id: str = ""

    @classmethod
    def from_frame(cls, form: Mapping[str, str], query: Mapping[str, str]) -> "Handshake":
        domain = (query.get("DOMAIN") or "").strip().lower()
        scheme = "https" if str(query.get("PROTOCOL", "1")) == "1" else "http"
        return cls(
            member_id=form.get("member_id", ""),
            domain=domain,
            client_endpoint=f"{scheme}://{domain}/rest/" if domain else "",
            server_endpoint=form.get("SERVER_ENDPOINT", ""),
            access_token=form.get("AUTH_ID", ""),
            refresh_token=form.get("REFRESH_ID", ""),
            expires_in=_int(form.get("AUTH_EXPIRES"), 3600),
            application_token=form.get("APPLICATION_TOKEN", ""),
            scope=form.get("APPLICATION_SCOPE", ""),
            app_status=form.get("status", ""),
        )

    @classmethod
    def from_event(cls, auth: Mapping[str, Any]) -> "Handshake":
        return cls(
            member_id=str(auth.get("member_id", "")),
            domain=str(auth.get("domain", "")).lower(),
            client_endpoint=str(auth.get("client_endpoint", "")),
            server_endpoint=str(auth.get("server_endpoint", "")),
            access_token=str(auth.get("access_token", "")),
            refresh_token=str(auth.get("refresh_token", "")),
            expires_in=_int(auth.get("expires_in"), 3600),
            application_token=str(auth.get("application_token", "")),
            scope=str(auth.get("scope", "")),
            app_status=str(auth.get("status", "")),
            user_id=str(auth.get("user_id", "")),
        )

    @property
    def scopes(self) -> str:
        # ONAPPINSTALL documents a space-separated scope, everything else commas (reference §1).
        return ",".join(s for s in self.scope.replace(" ", ",").split(",") if s)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _token_client(endpoint: PortalEndpoint, access_token: str) -> BitrixClient:
    """A client for a token that cannot be renewed: the install handshake's, or the frame's AUTH_ID."""
    return BitrixClient(endpoint, StaticTokenSource(access_token), default_limiter(),
                        timeout=(settings.BITRIX_HTTP_CONNECT_TIMEOUT, settings.BITRIX_HTTP_TIMEOUT), max_retries=2)


@dataclass(frozen=True)
class ProvenInstall:
    """Whose token it is, as Bitrix24's OAuth server says (never as the request says)."""

    member_id: str
    domain: str
    client_endpoint: str
    installed: bool
    user_id: str


def prove_token(server_endpoint: str, access_token: str, *, claimed_member_id: str = "") -> ProvenInstall:
    """Ask the OAuth server which installation an access token belongs to.

    The OAuth server's app.info answers `client_id, scope, expires, install{installed, domain, member_id,
    client_endpoint, status, …}, user_id` (b24pysdk api/responses/bitrix_app_info_response.py; PHPSDK
    src/Core/ApiClient.php asks it because tokens from placements and events cannot be trusted). The host
    must be one we trust with our client secret, or an on-premise portal the operator named (OnPremisePortal).
    """
    on_premise = OnPremisePortal.objects.for_endpoint(server_endpoint)
    if on_premise is not None:
        return _prove_on_premise(on_premise, access_token, claimed_member_id)
    if not oauth_host_allowed(server_endpoint):
        raise InstallRefused(f"OAuth server {server_endpoint!r} is not in BITRIX_OAUTH_SERVER_HOSTS and is no "
                             "on-premise portal named by the operator (manage.py portal_onpremise)")
    endpoint = PortalEndpoint(server_endpoint, "oauth-server", 2.0, 50)
    try:
        info = _token_client(endpoint, access_token).call("app.info")
    except BitrixError as exc:
        raise InstallRefused(f"the OAuth server did not accept the token: {exc.message}") from exc
    proven = _install_of(info, expected_client_id=settings.BITRIX_CLIENT_ID)
    if proven is None:
        raise InstallRefused("the OAuth server's app.info names no installation for this token")
    return proven


def _install_of(info: Any, *, expected_client_id: str) -> ProvenInstall | None:
    """The installation an OAuth server's app.info names, or None when the answer names none."""
    install = info.get("install") if isinstance(info, dict) else None
    if not isinstance(install, dict) or not install.get("member_id") or not install.get("client_endpoint"):
        return None
    if expected_client_id and str(info.get("client_id") or "") != expected_client_id:
        raise InstallRefused("the token was issued to another application")
    return ProvenInstall(member_id=str(install["member_id"]), domain=str(install.get("domain") or "").lower(),
                         client_endpoint=str(install["client_endpoint"]), installed=bool(install.get("installed")),
                         user_id=str(info.get("user_id") or ""))


def _prove_on_premise(on_premise: OnPremisePortal, access_token: str, claimed_member_id: str) -> ProvenInstall:
    """A token proven by an on-premise portal that is its own OAuth server, at the address the operator named.

    The portal's app.info has the portal's shape (ID, CODE, INSTALLED, LICENSE…, no member_id), so what
    the request claims as member_id is taken only within what the operator allowed: the portal this row
    is bound to, or, at the first install, a member_id that no other portal already has. Should the portal
    answer in the OAuth server's shape, its member_id and address must agree with the named one.
    """
    client = _token_client(PortalEndpoint(on_premise.rest_url, f"on-premise:{on_premise.host}", *STANDARD_RATE),
                           access_token)
    try:
        info = client.call("app.info")
    except BitrixError as exc:
        raise InstallRefused(f"{on_premise.host} did not accept the token: {exc.message}") from exc
    named = _install_of(info, expected_client_id=on_premise.client_id or settings.BITRIX_CLIENT_ID)
    member_id = named.member_id if named else claimed_member_id
    if named and urlsplit(named.client_endpoint).netloc.lower() != on_premise.host:
        raise InstallRefused(f"{on_premise.host} answered for another address, {named.client_endpoint}")
    if not member_id:
        raise InstallRefused("no member_id for the on-premise portal")
    bound = Portal.objects.filter(pk=on_premise.portal_id).first() if on_premise.portal_id else None
    if bound is not None and bound.member_id != member_id:
        raise InstallRefused(f"{on_premise.host} is bound to portal {bound.member_id}, not to {member_id}")
    other = Portal.objects.filter(member_id=member_id).exclude(domain=on_premise.host).first()
    if bound is None and other is not None:
        raise InstallRefused(f"member_id {member_id} belongs to another portal ({other.domain})")
    installed = named.installed if named else bool(isinstance(info, dict) and info.get("INSTALLED"))
    return ProvenInstall(member_id=member_id, domain=on_premise.host, client_endpoint=on_premise.rest_url,
                         installed=installed, user_id=named.user_id if named else "")


def verify_handshake(handshake: Handshake) -> ProvenInstall:
    """The handshake's tokens, proven by the OAuth server, and the portal they belong to.

    The request's own member_id and domain must agree with the OAuth server's answer; on a mismatch
    nothing is changed. The portal's address used from here on is the OAuth server's, not the request's.
    """
    missing = [name for name in ("member_id", "server_endpoint", "access_token", "application_token")
               if not getattr(handshake, name)]
    if missing:
        raise InstallRefused(f"missing fields: {', '.join(missing)}")
    proven = prove_token(handshake.server_endpoint, handshake.access_token, claimed_member_id=handshake.member_id)
    if proven.member_id != handshake.member_id:
        raise InstallRefused(f"the token belongs to portal {proven.member_id}, not to {handshake.member_id}")
    if handshake.domain and proven.domain and proven.domain != handshake.domain:
        raise InstallRefused(f"the token belongs to {proven.domain}, not to {handshake.domain}")
    return proven


def install_portal(handshake: Handshake) -> Portal:
    """Store (or update) the portal from a proven handshake by one of its administrators; bind events.

    Every check runs before anything is saved: the OAuth server names the portal, the portal itself
    (at the address the OAuth server gave) says the installing user is an administrator and tells its
    plan. A reinstall on the same member_id updates the same row.
    """
    proven = verify_handshake(handshake)
    endpoint = PortalEndpoint(proven.client_endpoint, proven.member_id, 2.0, 50)
    client = _token_client(endpoint, handshake.access_token)
    try:
        profile = client.call("profile")
        app_info = client.call("app.info")
    except BitrixError as exc:
        raise InstallRefused(f"the portal did not accept the token: {exc.message}") from exc
    if not profile.get("ADMIN"):
        raise InstallRefused("only a portal administrator can install the app")
    installer = str(profile.get("ID") or proven.user_id or "")
    with transaction.atomic():
        portal = Portal.objects.select_for_update().filter(member_id=proven.member_id).first()
        if portal is not None and portal.status == PortalStatus.UNINSTALLED and portal.status_reason == DELETION_PENDING:
            # The administrator asked for the old data to go; it goes first (within a minute), then install again.
            raise InstallRefused("the data of the previous installation is being deleted: install again in a minute")
        if portal is None:
            portal = Portal(member_id=proven.member_id)
        portal.domain = proven.domain or urlsplit(proven.client_endpoint).netloc
        portal.client_endpoint = proven.client_endpoint
        portal.server_endpoint = handshake.server_endpoint
        portal.scope = handshake.scopes or portal.scope
        portal.app_status = handshake.app_status[:2]
        portal.language = str(app_info.get("LANGUAGE_ID") or portal.language or "ru")[:8]
        portal.apply_plan(str(app_info.get("LICENSE_FAMILY") or ""))
        portal.application_token_hash = hash_secret(handshake.application_token)
        if handshake.refresh_token:
            portal.set_tokens(access_token=handshake.access_token, refresh_token=handshake.refresh_token,
                              expires_in=handshake.expires_in, user_id=installer)
        installed = proven.installed or bool(app_info.get("INSTALLED"))
        portal.status = PortalStatus.ACTIVE if installed else PortalStatus.PENDING
        portal.status_reason = ""
        portal.installed_at = portal.installed_at if portal.pk and portal.uninstalled_at is None else timezone.now()
        portal.uninstalled_at = None
        portal.save()
        if OnPremisePortal.objects.for_endpoint(handshake.server_endpoint) is not None:  # proven by the portal itself
            OnPremisePortal.objects.filter(base_url=_origin(handshake.server_endpoint), portal__isnull=True).update(
                portal=portal)
    bind_events(portal)
    portal_installed.send(sender=Portal, portal=portal)
    log.info("Portal %s installed (member_id %s, status %s)", portal.domain, portal.member_id, portal.status)
    return portal


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def set_date_format(portal: Portal, date_format: str) -> Portal:
    """The site's date format, when it is not its language's default ("" goes back to the default)."""
    if date_format:
        DateStyle(date_format)  # refuses an unknown one
    portal.date_format = date_format
    portal.save(update_fields=["date_format", "updated_at"])
    return portal


def bind_events(portal: Portal) -> list[str]:
    """Bind the events the app needs, once each (event.get first: a second bind is an error)."""
    client = BitrixClient.for_portal(portal)
    handler = events_handler_url()
    bound = {(b.get("event", "").upper(), b.get("handler")) for b in client.call("event.get") or []}
    missing = [event for event in EVENTS_TO_BIND if (event, handler) not in bound]
    if missing:
        outcomes = client.batch({event: ("event.bind", {"event": event, "handler": handler}) for event in missing})
        failed = {k: o.error for k, o in outcomes.items() if o.error and not isinstance(o.error, BitrixAlreadyDone)}
        if failed:
            raise BitrixMethodError("EVENT_BIND_FAILED", "; ".join(e.message for e in failed.values()))
    return missing


def _portal_with_token(member_id: str, application_token: str, *, lock: bool = False) -> Portal:
    queryset = Portal.objects.select_for_update() if lock else Portal.objects
    portal = queryset.filter(member_id=member_id).first()
    if portal is None or not secret_matches(application_token, portal.application_token_hash):
        raise InstallRefused("unknown portal or wrong application_token")
    return portal


def handle_event(event: str, data: Mapping[str, Any], auth: Mapping[str, Any]) -> str:
    """Dispatch one portal event; InstallRefused (-> 401) when it cannot be trusted."""
    handshake = Handshake.from_event(auth)
    event = event.upper()
    if event == "ONAPPINSTALL":
        return _on_app_install(handshake)
    if event == "ONAPPUNINSTALL":
        return _on_app_uninstall(handshake, clean=str(data.get("CLEAN", "0")) == "1")
    _portal_with_token(handshake.member_id, handshake.application_token)
    return "ignored"


def _on_app_install(handshake: Handshake) -> str:
    portal = Portal.objects.filter(member_id=handshake.member_id).first()
    if portal and portal.application_token_hash and portal.status != PortalStatus.UNINSTALLED:
        _portal_with_token(handshake.member_id, handshake.application_token)
        with transaction.atomic():
            portal = Portal.objects.select_for_update().get(pk=portal.pk)
            if handshake.refresh_token and not portal.refresh_token:
                portal.set_tokens(access_token=handshake.access_token, refresh_token=handshake.refresh_token,
                                  expires_in=handshake.expires_in, user_id=handshake.user_id)
            portal.status = PortalStatus.ACTIVE
            portal.status_reason = ""
            portal.save()
        return "installed"
    # The install page did not store this portal (or it was uninstalled): the event's own tokens must
    # prove themselves before anything is written.
    if not handshake.refresh_token:
        raise InstallRefused("ONAPPINSTALL without tokens for an unknown portal")
    install_portal(handshake)
    return "installed"


def _on_app_uninstall(handshake: Handshake, *, clean: bool) -> str:
    with transaction.atomic():
        portal = _portal_with_token(handshake.member_id, handshake.application_token, lock=True)
        portal.frame_sessions.all().delete()  # open pages of the portal stop working at once
        if clean:
            # "Clear application data": the portal and everything it owns goes (FKs cascade), but not here
            # and now: a sync still writing its journal would deadlock with the cascade. The portal stops
            # at once (no tokens, uninstalled); its data goes as soon as no run of it is left.
            portal.status, portal.status_reason = PortalStatus.UNINSTALLED, DELETION_PENDING
            portal.wipe_tokens()
            portal.application_token_hash = ""
            portal.uninstalled_at = timezone.now()
            portal.save()
            portal_id = portal.pk
            transaction.on_commit(lambda: portal_data_deletion_requested.send(sender=Portal, portal_id=portal_id))
            log.info("Portal %s uninstalled with CLEAN=1: its data will be deleted", handshake.member_id)
            return "deleted"
        portal.status = PortalStatus.UNINSTALLED
        portal.status_reason = "uninstalled from the portal"
        portal.wipe_tokens()
        portal.application_token_hash = ""
        portal.uninstalled_at = timezone.now()
        portal.save()
    log.info("Portal %s uninstalled; its data is kept for a reinstall", portal.domain)
    return "uninstalled"


@dataclass(frozen=True)
class FrameUser:
    portal: Portal
    user_id: str
    is_admin: bool


def enter_app_frame(form: Mapping[str, str], query: Mapping[str, str]) -> FrameUser:
    """Check a portal's POST to the app page and find out who opened it."""
    handshake = Handshake.from_frame(form, query)
    portal = Portal.objects.filter(member_id=handshake.member_id).first()
    if portal is None or portal.status == PortalStatus.UNINSTALLED or not secret_matches(
        handshake.application_token, portal.application_token_hash
    ):
        raise InstallRefused("unknown portal or wrong APPLICATION_TOKEN")
    # The AUTH_ID of the user who opened the page tells us who it is; asked of the portal we stored,
    # never of an address in the request.
    client = _token_client(PortalEndpoint.of(portal), handshake.access_token)
    try:
        profile = client.call("profile")
        app_info = client.call("app.info") if portal.status == PortalStatus.PENDING else None
    except BitrixAuthError as exc:
        raise InstallRefused(f"the portal did not accept AUTH_ID: {exc.message}") from exc
    is_admin = bool(profile.get("ADMIN"))
    changed = False
    if app_info and app_info.get("INSTALLED"):
        portal.status, changed = PortalStatus.ACTIVE, True
    if portal.status == PortalStatus.NEEDS_REAUTH and is_admin and handshake.refresh_token and _pair_belongs_to(
            portal, handshake):
        # An administrator's fresh pair brings a portal whose refresh token died back to life.
        portal.set_tokens(access_token=handshake.access_token, refresh_token=handshake.refresh_token,
                          expires_in=handshake.expires_in, user_id=str(profile.get("ID", "")))
        portal.status, portal.status_reason, changed = PortalStatus.ACTIVE, "", True
    if changed:
        portal.save()
    return FrameUser(portal=portal, user_id=str(profile.get("ID", "")), is_admin=is_admin)


def still_admin(portal: Portal, auth_id: str) -> bool:
    """Ask the portal again whether the user of this AUTH_ID is an administrator (before a change)."""
    if not auth_id:
        return False
    try:
        return bool(_token_client(PortalEndpoint.of(portal), auth_id).call("profile").get("ADMIN"))
    except BitrixError as exc:
        log.info("Admin recheck on %s failed: %s", portal.domain, exc.message)
        return False


def _pair_belongs_to(portal: Portal, handshake: Handshake) -> bool:
    """A frame's pair revives a portal only when the OAuth server says it is that portal's."""
    try:
        return prove_token(portal.server_endpoint, handshake.access_token,
                           claimed_member_id=portal.member_id).member_id == portal.member_id
    except InstallRefused as exc:
        log.warning("Frame pair for %s not taken: %s", portal.domain, exc)
        return False


# -- portals connected by an incoming webhook --------------------------------------------------------------
# What the sync needs of a webhook (DOCS api-reference/common/system/scope.md lists them by these names).
WEBHOOK_REQUIRED_SCOPES = ("user", "department", "calendar")
# Used when present: notifications to the admin, overtime from time tracking, the plain Webhook action's list.
WEBHOOK_OPTIONAL_SCOPES = ("im", "timeman", "lists")
_WEBHOOK_PATH = re.compile(r"^/rest/(?P<user>\d+)/(?P<key>[A-Za-z0-9]+)/?$")


class WebhookRefused(ValueError):
    """The webhook cannot be used as it is; the message says what to change in Bitrix24."""


def parse_webhook_url(url: str) -> tuple[str, str, str, str]:
    """https://<portal>/rest/<user id>/<key>/ -> (scheme, host, user id, key). Plain http only for a named host."""
    parts = urlsplit(url.strip())
    match = _WEBHOOK_PATH.match(parts.path or "")
    if parts.scheme not in ("https", "http") or not parts.netloc or match is None or parts.query:
        raise WebhookRefused("not an incoming webhook URL: expected https://<portal>/rest/<user id>/<key>/")
    if parts.scheme == "http" and parts.netloc.lower() not in {h.lower() for h in settings.BITRIX_PLAIN_HTTP_HOSTS}:
        raise WebhookRefused(f"{parts.netloc} is reached over plain http: use https, or name the host in "
                             "BITRIX_PLAIN_HTTP_HOSTS (an on-premise portal inside your network)")
    return parts.scheme, parts.netloc.lower(), match.group("user"), match.group("key")


def connect_webhook(url: str) -> Portal:
    """A portal reached by an incoming webhook: its rights checked with `scope` and `profile`, the key kept
    encrypted and never logged. One portal per host: connecting another webhook of the same portal (a new
    key, or another user's) replaces the one stored."""
    scheme, host, user_id, key = parse_webhook_url(url)
    endpoint = f"{scheme}://{host}/rest/"
    probe = BitrixClient(PortalEndpoint(f"{endpoint}{user_id}/{key}/", f"webhook:{host}", *STANDARD_RATE),
                         StaticTokenSource(""), default_limiter(), max_retries=2,
                         timeout=(settings.BITRIX_HTTP_CONNECT_TIMEOUT, settings.BITRIX_HTTP_TIMEOUT))
    try:
        scopes = set(probe.call("scope") or [])
        profile = probe.call("profile") or {}
    except BitrixError as exc:
        raise WebhookRefused(f"Bitrix24 refused the webhook: {exc.message}") from exc
    missing = [scope for scope in WEBHOOK_REQUIRED_SCOPES if scope not in scopes]
    if missing:
        raise WebhookRefused("the webhook lacks the permissions the sync needs: " + ", ".join(missing)
                             + ". Edit the webhook in Bitrix24 (Developer resources → Other → Incoming webhook) "
                             "and tick them.")
    if str(profile.get("ID")) != user_id:
        raise WebhookRefused(f"the webhook belongs to user {profile.get('ID')}, not to user {user_id} of its URL")
    with transaction.atomic():
        portal, _ = Portal.objects.select_for_update().get_or_create(
            member_id=f"webhook:{host}", defaults={"domain": host, "client_endpoint": endpoint,
                                                   "server_endpoint": endpoint, "access": PortalAccess.WEBHOOK})
        if not portal.is_webhook:
            raise WebhookRefused(f"{host} is connected as an installed app already")
        portal.domain, portal.client_endpoint, portal.server_endpoint = host, endpoint, endpoint
        portal.webhook_user_id, portal.webhook_key = user_id, key
        portal.token_user_id, portal.scope = user_id, ",".join(sorted(scopes))
        portal.status, portal.status_reason, portal.installed_at = PortalStatus.ACTIVE, "", portal.installed_at or timezone.now()
        portal.save()
    log.info("Portal %s connected by an incoming webhook of user %s (scopes %s)", host, user_id, portal.scope)
    without = [scope for scope in WEBHOOK_OPTIONAL_SCOPES if scope not in scopes]
    if without:
        log.info("Portal %s: the webhook has no %s; the features that need them are off", host, ", ".join(without))
    return portal


# -- on-premise portals that are their own OAuth server ----------------------------------------------------
class OnPremiseRefused(ValueError):
    """The address cannot be allowed as an on-premise portal; the message says why."""


def _plain_http_allowed(host: str) -> bool:
    return host.lower() in {h.lower() for h in settings.BITRIX_PLAIN_HTTP_HOSTS}


def allow_on_premise(url: str, *, client_id: str = "", client_secret: str = "", note: str = "") -> OnPremisePortal:
    """Name one on-premise portal that may install the app with itself as the OAuth server.

    Only an exact address is taken (https://bitrix.example.ru, with a port if it has one): no pattern, no
    path. Plain http only for a host in BITRIX_PLAIN_HTTP_HOSTS. Naming it again updates its credentials.
    """
    parts = urlsplit(url.strip())
    host = (parts.netloc or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.path.strip("/") or parts.query or parts.fragment:
        raise OnPremiseRefused("expected the portal's address, e.g. https://bitrix.example.ru")
    if "*" in host or "@" in host or host.startswith("."):
        raise OnPremiseRefused("name one portal by its exact address: patterns are not allowed")
    if parts.scheme == "http" and not _plain_http_allowed(host):
        raise OnPremiseRefused(f"{host} is reached over plain http: use https, or name the host in BITRIX_PLAIN_HTTP_HOSTS")
    if oauth_host_allowed(f"{parts.scheme}://{host}/"):
        raise OnPremiseRefused(f"{host} is a cloud OAuth server (BITRIX_OAUTH_SERVER_HOSTS), not a portal")
    if (client_id == "") != (client_secret == ""):
        raise OnPremiseRefused("give both the local application's client_id and its client_secret, or neither")
    entry, _ = OnPremisePortal.objects.get_or_create(base_url=f"{parts.scheme}://{host}")
    if client_id:
        entry.client_id, entry.client_secret = client_id, client_secret
    entry.note = note or entry.note
    entry.save()
    log.info("On-premise portal %s allowed to install the app (own OAuth server)", entry.base_url)
    return entry


def forbid_on_premise(url: str) -> bool:
    """Take an on-premise portal off the list; a portal installed through it can no longer renew its pair."""
    deleted, _ = OnPremisePortal.objects.filter(base_url=url.strip().rstrip("/").lower()).delete()
    return bool(deleted)


def refresh_portal_info(portal: Portal) -> Portal:
    """app.info through the stored tokens: keeps the refresh token alive and the plan's limits current."""
    info = BitrixClient.for_portal(portal).call("app.info")
    portal.refresh_from_db()
    portal.apply_plan(str(info.get("LICENSE_FAMILY") or ""))
    if info.get("INSTALLED") and portal.status == PortalStatus.PENDING:
        portal.status = PortalStatus.ACTIVE
    portal.save(update_fields=["license_family", "rate_per_second", "rate_burst", "status", "updated_at"])
    return portal
