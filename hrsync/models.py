"""The sync's own state: per-portal settings, the ZUP ⇄ Bitrix24 mappings, runs and their journal.

Every row belongs to a portal and is reached through it.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SyncConfig(models.Model):
    portal = models.OneToOneField("bitrix_app.Portal", on_delete=models.CASCADE, related_name="sync_config")
    enabled = models.BooleanField(default=True)
    organisations_as_departments = models.BooleanField(
        default=True, help_text="ZUP organisations become top-level departments under the portal's root")
    future_hire_lead_days = models.PositiveIntegerField(default=0, help_text="create future hires this many days early")
    dismissal_guard_percent = models.FloatField(default=10.0)
    dismissal_guard_count = models.PositiveIntegerField(default=20)
    time_zone = models.CharField(max_length=64, default="Europe/Moscow", help_text="the portal's, for 'today'")
    overtime_state = models.JSONField(default=dict, blank=True, help_text="the last overtime collection: when, what it found")
    follow_up_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="a sync was asked for while one ran: one follow-up run starts when it ends")


class DepartmentDecision(models.TextChoices):
    SYNCED = "synced", _("Synced")
    ACCEPTED = "accepted", _("Match accepted")
    CREATE = "create", _("Create in Bitrix24")
    EXCLUDED = "excluded", _("Kept out of the sync")


class DepartmentMapping(models.Model):
    """ZUP department (or organisation) GUID -> Bitrix24 department: the source of truth (Bitrix24
    departments have no external code)."""

    portal = models.ForeignKey("bitrix_app.Portal", on_delete=models.CASCADE, related_name="department_mappings")
    payroll_id = models.CharField(max_length=64)
    bitrix_id = models.PositiveIntegerField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=DepartmentDecision.choices, default=DepartmentDecision.SYNCED)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "payroll_id"], name="one_mapping_per_department")]


class PersonMapping(models.Model):
    """ZUP person (ФизическоеЛицо) -> Bitrix24 user, and what the app last wrote (to tell drift)."""

    portal = models.ForeignKey("bitrix_app.Portal", on_delete=models.CASCADE, related_name="person_mappings")
    payroll_id = models.CharField(max_length=64)
    user_id = models.PositiveIntegerField()
    synced_fields = models.JSONField(default=dict)
    confirmed = models.BooleanField(default=False, help_text="an admin confirmed an e-mail match")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "payroll_id"], name="one_mapping_per_person")]


class AbsenceTypeMapping(models.Model):
    portal = models.ForeignKey("bitrix_app.Portal", on_delete=models.CASCADE, related_name="absence_type_mappings")
    zup_kind = models.CharField(max_length=100)
    bitrix_type = models.CharField(max_length=20)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "zup_kind"], name="one_type_per_kind")]


class SyncedAbsence(models.Model):
    """An absence the app wrote into Bitrix24 (a calendar event in the employee's calendar)."""

    portal = models.ForeignKey("bitrix_app.Portal", on_delete=models.CASCADE, related_name="synced_absences")
    payroll_id = models.CharField(max_length=64)
    event_id = models.PositiveIntegerField()
    user_id = models.PositiveIntegerField()
    absence_type = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    start = models.DateField()
    end = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "payroll_id"], name="one_event_per_absence")]


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PLANNED = "planned", _("Planned (dry run)")
    WAITING = "waiting_confirmation", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIAL = "partial", _("Finished with errors")
    FAILED = "failed", _("Failed")
    INTERRUPTED = "interrupted", _("Interrupted (its worker stopped)")
    PAUSED = "paused", _("Paused until Bitrix24 allows more")


class SyncRun(models.Model):
    portal = models.ForeignKey("bitrix_app.Portal", on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=20, default="manual")  # manual, schedule, push, person, demo
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=24, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    planned = models.JSONField(default=dict)  # operations per kind
    outcome = models.JSONField(default=dict)  # done / failed / skipped
    notices = models.JSONField(default=list)
    guard_reason = models.TextField(blank=True)
    dismissals = models.PositiveIntegerField(default=0)
    rest_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The holder of the portal's sync lease while this run runs: a run whose lease lapsed lost its worker.
    lease_holder = models.CharField(max_length=32, blank=True)
    # What the run saw in ZUP, for the mapping pages: departments, organisations, absence kinds, people.
    source_summary = models.JSONField(default=dict)
    # A run Bitrix24 held back (a method's time budget spent) pauses, and continues from fresh data then.
    resume_at = models.DateTimeField(null=True, blank=True)
    segments = models.PositiveIntegerField(default=1, help_text="how many times the run was started or continued")
    # A run for pushed changes: the people it was about (null: the whole company).
    scope = models.JSONField(null=True, blank=True)
    # Where its time went, all parts together (hrsync.services._Costs): CPU, SQL, REST, waits.
    costs = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]


class OperationStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    INTENT = "intent", _("Being written")  # journaled before the write; an intent left behind means a crash
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    RECOVERED = "recovered", _("Found written after a crash")
    LOST = "lost", _("Not written before a crash; planned again")


class SyncOperation(models.Model):
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="operations")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=30)
    phase = models.CharField(max_length=20)
    payroll_id = models.CharField(max_length=64)
    label = models.CharField(max_length=300)
    reason = models.TextField(blank=True)
    target_id = models.PositiveIntegerField(null=True, blank=True)  # the Bitrix24 ID written or created
    details = models.JSONField(default=dict)  # fields and changes (old -> new), for the preview and recovery
    status = models.CharField(max_length=12, choices=OperationStatus.choices, default=OperationStatus.PLANNED)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="one_operation_per_seq")]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["payroll_id"])]


class WorkflowWebhook(models.Model):
    """The plain built-in "Webhook" workflow action: a secret URL per portal, and where the request's
    fields are in the workflow's document (a list of the "Processes" type: lists.element.get)."""

    portal = models.OneToOneField("bitrix_app.Portal", on_delete=models.CASCADE, related_name="workflow_webhook")
    key_id = models.CharField(max_length=24, unique=True)
    secret_hash = models.CharField(max_length=64)
    iblock_type = models.CharField(max_length=50, default="bitrix_processes")
    iblock_id = models.PositiveIntegerField()
    employee_field = models.CharField(max_length=50, default="CREATED_BY")
    kind_field = models.CharField(max_length=50, blank=True, help_text="empty: always ОтпускОсновной")
    first_day_field = models.CharField(max_length=50)
    last_day_field = models.CharField(max_length=50)
    comment_field = models.CharField(max_length=50, blank=True)


class Lease(models.Model):
    """Who holds a named piece of work (a portal's sync, its outbox) and until when (hrsync.locks)."""

    name = models.CharField(max_length=100, unique=True)
    holder = models.CharField(max_length=32)
    expires_at = models.DateTimeField()
    acquired_at = models.DateTimeField()
    renewed_at = models.DateTimeField()
