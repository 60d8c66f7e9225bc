"""1C:ZUP connections of portals, the pushed source state, and received packages."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hrsync.crypto import EncryptedTextField

from .push.records import empty_state


class ConnectionMode(models.TextChoices):
    ODATA = "odata", _("OData (the app reads ZUP)")
    PUSH = "push", _("Push (1C sends to the app)")


class PayrollConnection(models.Model):
    """How one portal gets its HR data from 1C:ZUP. Reached through the portal (one per portal)."""

    portal = models.OneToOneField("bitrix_app.Portal", on_delete=models.CASCADE, related_name="payroll_connection")
    mode = models.CharField(max_length=10, choices=ConnectionMode.choices)
    odata_url = models.URLField(blank=True, help_text="…/odata/standard.odata/ of the ZUP infobase")
    odata_username = models.CharField(max_length=150, blank=True)
    odata_password = EncryptedTextField(blank=True)
    push_key_id = models.CharField(max_length=24, unique=True, null=True, blank=True)
    push_key_hash = models.CharField(max_length=64, blank=True)
    organisation_filter = models.JSONField(default=list, blank=True, help_text="GUIDs or names of ZUP organisations; empty: all")
    schedule_minutes = models.PositiveIntegerField(default=30)
    absence_history_days = models.PositiveIntegerField(default=90)
    corp_edition = models.BooleanField(default=False, help_text="ZUP КОРП: vacation requests become Document_ЗаявкаНаОтпуск")
    last_read_at = models.DateTimeField(null=True, blank=True)
    last_package_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.portal_id}: {self.mode}"


class PayrollSourceState(models.Model):
    """The HR picture 1C pushed (mode B): the last snapshot with the change packages applied."""

    connection = models.OneToOneField(PayrollConnection, on_delete=models.CASCADE, related_name="source_state")
    records = models.JSONField(default=empty_state)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class PackageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    WAITING_FOR_PARTS = "waiting_for_parts", _("Waiting for the other parts")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")


class PayrollPackage(models.Model):
    connection = models.ForeignKey(PayrollConnection, on_delete=models.CASCADE, related_name="packages")
    package_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=10)
    snapshot_id = models.CharField(max_length=100, blank=True)
    part = models.PositiveIntegerField(default=1)
    parts = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=PackageStatus.choices, default=PackageStatus.RECEIVED)
    # The package as 1C sent it (validated), kept until processed, then emptied. Raw text rather than a
    # JSON column: a 20,000-person snapshot is not parsed, dumped and parsed again on the way in.
    body = models.TextField(blank=True)
    results = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "package_id"], name="one_package_per_id")]
        indexes = [models.Index(fields=["connection", "snapshot_id"])]
