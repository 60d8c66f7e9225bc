"""The operator's tools in Django's admin: console users, the portals they may open, on-premise portals.

Secrets (tokens, webhook keys, client secrets) are never shown or edited here: the commands set them
(portal_connect, portal_onpremise)."""
from django.contrib import admin

from .models import OnPremisePortal, Portal, PortalMember


class PortalMemberInline(admin.TabularInline):
    model = PortalMember
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Portal)
class PortalAdmin(admin.ModelAdmin):
    list_display = ["domain", "access", "status", "license_family", "installed_at"]
    list_filter = ["status", "access"]
    search_fields = ["domain", "member_id"]
    fields = ["domain", "member_id", "access", "status", "status_reason", "client_endpoint", "scope",
              "license_family", "rate_per_second", "rate_burst", "installed_at", "uninstalled_at"]
    readonly_fields = ["domain", "member_id", "access", "status", "status_reason", "client_endpoint", "scope",
                       "license_family", "installed_at", "uninstalled_at"]
    inlines = [PortalMemberInline]

    def has_add_permission(self, request):
        return False  # portals come from installs and from portal_connect, never from a form


@admin.register(PortalMember)
class PortalMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "portal", "is_admin", "created_at"]
    list_filter = ["is_admin"]
    autocomplete_fields = ["user"]


@admin.register(OnPremisePortal)
class OnPremisePortalAdmin(admin.ModelAdmin):
    list_display = ["base_url", "portal", "client_id", "note", "created_at"]
    fields = ["base_url", "client_id", "note", "portal"]
    readonly_fields = ["base_url", "client_id", "portal"]

    def has_add_permission(self, request):
        return False  # manage.py portal_onpremise checks the address and keeps the secret out of forms
