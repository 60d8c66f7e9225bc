"""A Bitrix24 portal that installed the app: one row per member_id."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hrsync.crypto import EncryptedTextField

# Leaky-bucket parameters by plan (reference §4, DOCS limits.md): Enterprise 5/s with 250, others 2/s with 50.
STANDARD_RATE = (2.0, 50)
ENTERPRISE_RATE = (5.0, 250)


class PortalStatus(models.TextChoices):
    PENDING = "pending", _("Installing")  # install page stored it, BX24.installFinish() not yet seen
    ACTIVE = "active", _("Active")
    NEEDS_REAUTH = "needs_reauth", _("Needs re-authorisation")
    UNINSTALLED = "uninstalled", _("Uninstalled")


class PortalAccess(models.TextChoices):
    """How the app reaches the portal: as an installed OAuth app, or by an incoming webhook (one company,
    on-premise portals; no app registration, no tokens to renew, the key in the URL)."""

    APP = "app", _("Bitrix24 app (OAuth)")
    WEBHOOK = "webhook", _("Incoming webhook")


class PortalQuerySet(models.QuerySet):
    def named(self, domain_or_member_id: str) -> "Portal | None":
        """The portal an operator names on the command line: by its domain, or by its member_id."""
        return self.filter(domain=domain_or_member_id).first() or self.filter(member_id=domain_or_member_id).first()


class Portal(models.Model):
    objects = PortalQuerySet.as_manager()

    member_id = models.CharField(max_length=64, unique=True)
    domain = models.CharField(max_length=255)
    client_endpoint = models.URLField(help_text="REST base, e.g. https://company.bitrix24.ru/rest/")
    server_endpoint = models.URLField(help_text="OAuth server REST base, e.g. https://oauth.bitrix.info/rest/")
    scope = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=PortalStatus.choices, default=PortalStatus.PENDING)
    status_reason = models.TextField(blank=True)
    app_status = models.CharField(max_length=2, blank=True, help_text="Bitrix24's L/F/D/T/P app status")
    license_family = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=8, default="ru")
    # The site's date format (FORMAT_DATE), as Bitrix24 spells it: DD.MM.YYYY, MM/DD/YYYY, …; blank: the
    # default of the portal's language (bitrix_app.gateway.fields.DATE_FORMAT_BY_LANGUAGE).
    date_format = models.CharField(max_length=16, blank=True, default="")
    # Per-portal leaky bucket; set from the plan at install, editable for portals with other limits.
    rate_per_second = models.FloatField(default=STANDARD_RATE[0])
    rate_burst = models.PositiveIntegerField(default=STANDARD_RATE[1])

    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    token_user_id = models.CharField(max_length=20, blank=True, help_text="Bitrix24 user the tokens belong to")
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    application_token_hash = models.CharField(max_length=64, blank=True)
    access = models.CharField(max_length=10, choices=PortalAccess.choices, default=PortalAccess.APP)
    # An incoming webhook: https://<domain>/rest/<webhook_user_id>/<webhook_key>/ (the key is a secret).
    webhook_user_id = models.CharField(max_length=20, blank=True)
    webhook_key = EncryptedTextField(blank=True)

    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return f"{self.domain} ({self.member_id})"

    @property
    def origin(self) -> str:
        """The portal's own scheme://host, for frame-ancestors."""
        parts = urlsplit(self.client_endpoint)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def is_operational(self) -> bool:
        """May scheduled work call this portal?"""
        return self.status == PortalStatus.ACTIVE and bool(self.refresh_token or self.webhook_key)

    @property
    def is_webhook(self) -> bool:
        return self.access == PortalAccess.WEBHOOK

    def access_token_expired(self, leeway: timedelta = timedelta(seconds=30)) -> bool:
        return self.access_expires_at is None or self.access_expires_at <= timezone.now() + leeway

    def apply_plan(self, license_family: str) -> None:
        self.license_family = license_family or ""
        if license_family == "ent":
            self.rate_per_second, self.rate_burst = ENTERPRISE_RATE
        else:
            self.rate_per_second, self.rate_burst = STANDARD_RATE

    def set_tokens(self, *, access_token: str, refresh_token: str, expires_in: int | None, user_id: str = "") -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.access_expires_at = timezone.now() + timedelta(seconds=int(expires_in or 3600))
        if user_id:
            self.token_user_id = str(user_id)

    def wipe_tokens(self) -> None:
        self.access_token = ""
        self.refresh_token = ""
        self.access_expires_at = None


class OnPremisePortalQuerySet(models.QuerySet):
    def for_endpoint(self, endpoint: str) -> "OnPremisePortal | None":
        """The named on-premise portal whose own address `endpoint` (a SERVER_ENDPOINT, a REST base) is."""
        parts = urlsplit(endpoint or "")
        if not parts.netloc:
            return None
        return self.filter(base_url=f"{parts.scheme}://{parts.netloc.lower()}").first()


class OnPremisePortal(models.Model):
    """An on-premise ("box") Bitrix24 the operator allows to install the app with itself as its OAuth server.

    A cloud portal's install is proven by Bitrix24's OAuth server (BITRIX_OAUTH_SERVER_HOSTS). A box portal
    whose SERVER_ENDPOINT is its own address has no third party to vouch for it, so the trust is the
    operator's: one row per portal, named by its address (never a pattern). The first install binds the
    row to that portal's member_id; no other member_id can install through it afterwards.
    """

    objects = OnPremisePortalQuerySet.as_manager()

    base_url = models.CharField(max_length=255, unique=True, help_text="scheme://host[:port] of the portal")
    # A local application registered in that portal has its own client_id/secret; blank: the app's own
    # (BITRIX_CLIENT_ID/BITRIX_CLIENT_SECRET), as for a Market app.
    client_id = models.CharField(max_length=128, blank=True)
    client_secret = EncryptedTextField(blank=True)
    portal = models.OneToOneField(Portal, null=True, blank=True, on_delete=models.SET_NULL, related_name="on_premise")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["base_url"]

    def __str__(self) -> str:
        return self.base_url

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/rest/"

    @property
    def token_url(self) -> str:
        # The portal's own token endpoint, at the path Bitrix24 serves it on every portal
        # (dev.1c-bitrix.ru/community/blogs/b24_marketplace/8323.php: https://<portal>/oauth/token/).
        return f"{self.base_url}/oauth/token/"


class PortalMember(models.Model):
    """A console user (Django's own account) and a portal the operator gave them.

    The console shows a user only the portals bound here (a superuser, the operator, sees all). `is_admin`
    is what an administrator is in the frame: may change settings and run syncs; without it, read only.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_memberships")
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="members")
    is_admin = models.BooleanField(default=False, help_text=_("May change settings and run synchronisations"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "portal"], name="one_membership_per_user_and_portal")]
        verbose_name = _("console access to a portal")
        verbose_name_plural = _("console access to portals")

    def __str__(self) -> str:
        return f"{self.user} → {self.portal.domain}"


class FrameSessionRecord(models.Model):
    """A session of the in-portal pages (bitrix_app.frame): opaque to the page, revocable here.

    Only the token's hash is stored. The AUTH_ID the user opened the app with is kept (encrypted) so a
    change can ask Bitrix24 again whether this user is still an administrator.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="frame_sessions")
    user_id = models.CharField(max_length=20)
    is_admin = models.BooleanField(default=False)
    language = models.CharField(max_length=8, default="ru")
    auth_id = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    admin_checked_at = models.DateTimeField(null=True, blank=True)
