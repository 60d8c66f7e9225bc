"""1C:ZUP connections of portals, the pushed source state, and received packages."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hrsync.crypto import EncryptedTextField


class ConnectionMode(models.TextChoices):
    ODATA = "odata", _("OData (the app reads ZUP)")
    PUSH = "push", _("Push (1C sends to the app)")


class ZupEdition(models.TextChoices):
    """Which ZUP 3.1 the base is: it decides the vacation document and the attributes it has.

    КОРП turns a vacation request into `Document_ЗаявкаНаОтпуск`, whose attributes differ by edition: RU
    КОРП 3.1.38 has `Сотрудник` (scriperirkth/zup-structure), KZ КОРП 3.1.2 does not (yevgeniy1212/zup-korp);
    neither has `Организация`. See payroll_connector/odata/writer.py."""

    STANDARD = "standard", _("ZUP 3.1 (ПРОФ, базовая): vacations as «Отпуск»")
    CORP_RU = "corp_ru", _("ZUP КОРП 3.1 (Russia): vacation requests as «Заявка на отпуск»")
    CORP_KZ = "corp_kz", _("ZUP КОРП 3.1 for Kazakhstan: vacation requests as «Заявка на отпуск»")


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
    edition = models.CharField(max_length=10, choices=ZupEdition.choices, default=ZupEdition.STANDARD)
    last_read_at = models.DateTimeField(null=True, blank=True)
    last_package_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.portal_id}: {self.mode}"


class PayrollSourceState(models.Model):
    """The version of the HR picture 1C pushed (mode B); its row lock puts packages in order.

    The picture itself is PayrollRecord rows: the last snapshot with the change packages applied."""

    connection = models.OneToOneField(PayrollConnection, on_delete=models.CASCADE, related_name="source_state")
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class PayrollRecord(models.Model):
    """One pushed record (a person, an employment, an absence, …), so a change package touches only its rows."""

    connection = models.ForeignKey(PayrollConnection, on_delete=models.CASCADE, related_name="records")
    entity = models.CharField(max_length=16)  # organisations, departments, positions, persons, employments, heads, absences
    key = models.CharField(max_length=400)  # the record's guid; an absence's document|employment|kind|start
    # Looked up by a change: an absence by its document and employee, an employment by its person.
    document_guid = models.CharField(max_length=36, blank=True)
    employment_guid = models.CharField(max_length=36, blank=True)
    person_guid = models.CharField(max_length=36, blank=True)
    data = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "entity", "key"], name="one_record_per_key")]
        indexes = [models.Index(fields=["connection", "entity", "document_guid", "employment_guid"]),
                   models.Index(fields=["connection", "entity", "person_guid"]),
                   models.Index(fields=["connection", "entity", "employment_guid"])]


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
    # What arrived under this package_id: a repeat must be the same package, or it is refused (409).
    body_sha256 = models.CharField(max_length=64, blank=True)
    results = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "package_id"], name="one_package_per_id")]
        indexes = [models.Index(fields=["connection", "snapshot_id"])]


class OutboxKind(models.TextChoices):
    VACATION = "vacation", _("Vacation request")
    OVERTIME = "overtime", _("Overtime")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for 1C:ZUP")
    DELIVERED = "delivered", _("Taken by 1C:ZUP")
    REFUSED = "refused", _("Refused by 1C:ZUP")
    REJECTED = "rejected", _("Rejected before sending")
    REPLACED = "replaced", _("Replaced by a correction")


class OutboxItem(models.Model):
    """Something for 1C:ZUP from Bitrix24 (a vacation request, a day of overtime), kept until confirmed."""

    portal = models.ForeignKey("bitrix_app.Portal", on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=10, choices=OutboxKind.choices)
    key = models.CharField(max_length=200, help_text="one item per key: the workflow's event_token, or overtime:<person>:<day>")
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    payload = models.JSONField(default=dict)
    event_token = models.CharField(max_length=200, blank=True)
    bitrix_user_id = models.PositiveIntegerField(null=True, blank=True)
    person_guid = models.CharField(max_length=64, blank=True)
    correction_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="corrections")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    document_entity = models.CharField(max_length=100, blank=True)
    document_ref = models.CharField(max_length=64, blank=True)
    document_number = models.CharField(max_length=50, blank=True)
    message = models.TextField(blank=True, help_text="ZUP's refusal, or why the request was rejected")
    delivered_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True, help_text="the workflow was told the outcome")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["portal", "key"], condition=~models.Q(status="replaced"),
                                               name="one_live_item_per_key")]

    @property
    def marker(self) -> str:
        """Written into the ZUP document's comment: how a retried delivery finds the document it made."""
        return f"Битрикс24 hrsync #{self.pk}"
