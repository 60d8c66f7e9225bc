"""Celery tasks of the sync: thin, each calls one service."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bitrix_app.models import Portal, PortalStatus
from bitrix_app.services import DELETION_PENDING, delete_portal
from payroll_connector.models import OutboxItem, OutboxKind, OutboxStatus

from .locks import SyncBusy, portal_outbox_lock, portal_sync_lock
from .models import RunStatus, SyncConfig, SyncRun
from .privacy import prune_history
from .services import (SyncRefused, ask_for_follow_up, confirm_run, interrupted_runs, preview, run_sync,
                       take_follow_up)
from .writeback import collect_overtime, process_outbox, register_workflow_action

log = logging.getLogger(__name__)


@shared_task(acks_late=True)  # never retried: the next scheduled run re-plans from fresh state
def sync_portal(portal_id: int, trigger: str = "schedule", only_person: str | None = None,
                run_id: int | None = None, scope: list[str] | None = None) -> dict:
    """A run of one portal, or (`run_id`) the continuation of a run Bitrix24 paused. `scope`: the people a
    pushed package changed (the run reads and plans only them; services.run_sync)."""
    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None:
        return {"portal": portal_id, "skipped": "no such portal"}
    paused = SyncRun.objects.filter(portal=portal, status=RunStatus.PAUSED).order_by("-started_at").first()
    if paused is not None:
        # While a run is paused no other starts: its continuation reads both sides afresh, so it carries
        # whatever this trigger was for. It goes on once the portal allows (an earlier-scheduled
        # continuation of a run paused again since finds its time moved on, and leaves it).
        if paused.resume_at and paused.resume_at > timezone.now() + timedelta(seconds=1):
            return {"portal": portal_id, "skipped": "paused", "run": paused.pk, "resume_at": paused.resume_at.isoformat()}
        run_id = paused.pk
    elif run_id is not None:
        return {"portal": portal_id, "skipped": "the run is not paused", "run": run_id}
    try:
        run = run_sync(portal, trigger=trigger, only_person=only_person,
                       continuing=paused if run_id is not None else None, scope=scope)
    except SyncBusy:
        # Picked up by the running sync when it ends, not by the schedule (or now, if it has just ended);
        # the follow-up reads the whole company (it stands for every change asked for meanwhile).
        if ask_for_follow_up(portal):
            sync_portal.delay(portal_id, "follow_up")
        return {"portal": portal_id, "skipped": "already running", "follow_up": True}
    except SyncRefused as exc:
        return {"portal": portal_id, "skipped": str(exc)}
    if run.status == RunStatus.PAUSED:
        # The worker is free until then; the follow-up asks wait for the continuation, which covers them.
        sync_portal.apply_async((portal_id, "continue"), {"run_id": run.pk}, eta=run.resume_at)
        return {"portal": portal_id, "run": run.pk, "status": run.status, "resume_at": run.resume_at.isoformat()}
    follow_up = take_follow_up(portal_id)  # asked for while this one ran (after its lease was released: no gap)
    if follow_up:
        sync_portal.delay(portal_id, "follow_up")
    return {"portal": portal_id, "run": run.pk, "status": run.status, "outcome": run.outcome, "follow_up": follow_up}


@shared_task(acks_late=True)
def preview_portal(portal_id: int) -> dict:
    """The preview page asked for a dry run; the page follows it like a run and then shows its plan."""
    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None:
        return {"portal": portal_id, "skipped": "no such portal"}
    run = preview(portal)
    return {"portal": portal_id, "run": run.pk, "status": run.status}


@shared_task
def schedule_due_syncs() -> int:
    """Beat, every minute: start each portal whose schedule is due (default every 30 minutes)."""
    started = 0
    now = timezone.now()
    portals = (Portal.objects.filter(status=PortalStatus.ACTIVE, payroll_connection__isnull=False)
               .exclude(refresh_token="", webhook_key=""))  # an app's token pair, or a webhook's key
    for portal in portals.select_related("payroll_connection"):
        config = SyncConfig.objects.filter(portal=portal).first()
        if config is not None and not config.enabled:
            continue
        # Runs for pushed changes read only their people: the schedule counts from the last whole run.
        last = SyncRun.objects.filter(portal=portal, dry_run=False, scope__isnull=True).order_by("-started_at").first()
        if last is None or last.started_at <= now - timedelta(minutes=portal.payroll_connection.schedule_minutes):
            sync_portal.delay(portal.pk, "schedule")
            started += 1
    return started


@shared_task
def resume_interrupted_runs() -> list[int]:
    """Beat, every HRSYNC_RESUME_SECONDS: a run whose worker died (its lease lapsed) is marked interrupted
    and its portal synced again at once; the new run adopts what the dead one wrote (recover_intents)."""
    portals = []
    for run in interrupted_runs():
        log.warning("Run %s of portal %s lost its worker; resuming", run.pk, run.portal_id)
        if not run.dry_run and run.portal_id not in portals:
            sync_portal.delay(run.portal_id, "resume")
            portals.append(run.portal_id)
    # A paused run whose continuation was lost (a broker restarted) goes on all the same.
    overdue = SyncRun.objects.filter(status=RunStatus.PAUSED, resume_at__lt=timezone.now() - timedelta(minutes=2))
    for run in overdue:
        if run.portal_id not in portals:
            sync_portal.delay(run.portal_id, "continue", run_id=run.pk)
            portals.append(run.portal_id)
    return portals


@shared_task
def prune_old_history() -> dict[str, int]:
    """Beat, daily: runs, journals and processed packages older than HRSYNC_RETENTION_DAYS go."""
    return prune_history()


@shared_task(bind=True, max_retries=120)
def delete_portal_data(self, portal_id: int) -> dict:
    """A portal uninstalled with "clear application data" goes once its sync and outbox are idle: holding
    both leases, nothing of it is being written while its rows are deleted."""
    try:
        with portal_sync_lock(portal_id), portal_outbox_lock(portal_id):
            deleted = delete_portal(portal_id)
    except SyncBusy as exc:
        raise self.retry(exc=exc, countdown=5)
    return {"portal": portal_id, "deleted": deleted}


@shared_task
def delete_uninstalled_portals() -> int:
    """Beat, every minute: a deletion whose task was lost is done anyway."""
    pending = list(Portal.objects.filter(status=PortalStatus.UNINSTALLED, status_reason=DELETION_PENDING)
                   .values_list("pk", flat=True))
    for portal_id in pending:
        delete_portal_data.delay(portal_id)
    return len(pending)


def delete_after_uninstall(sender, portal_id, **kwargs) -> None:
    delete_portal_data.delay(portal_id)


def register_after_install(sender, portal, **kwargs) -> None:
    """The vacation action for workflows; a portal without the bizproc scope (or plan) just goes without."""
    outcome = register_workflow_action(portal)
    if any(v not in ("registered", "updated") for v in outcome.values()):
        log.warning("Workflow action not registered on %s: %s", portal.domain, outcome)


def sync_after_package(sender, connection, package, persons=None, **kwargs) -> None:
    """A pushed change reaches Bitrix24 within seconds: a run starts as soon as the package is processed,
    for the people it changed (a snapshot package: for everyone)."""
    if settings.HRSYNC_SYNC_AFTER_PACKAGE:
        scope = None if persons is None else sorted(persons)
        transaction.on_commit(lambda: sync_portal.delay(connection.portal_id, "push", scope=scope))


@shared_task(acks_late=True)
def process_portal_outbox(portal_id: int) -> dict:
    """Deliver a portal's requests to ZUP and tell the workflows (one worker per portal at a time)."""
    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None or not portal.is_operational:
        return {"portal": portal_id, "skipped": True}
    try:
        with portal_outbox_lock(portal_id):
            return process_outbox(portal)
    except SyncBusy:
        return {"portal": portal_id, "skipped": "busy"}


@shared_task
def process_all_outboxes() -> int:
    """Beat, every minute: retries with backoff while ZUP is down; nothing waits longer than that."""
    ids = set(OutboxItem.objects.filter(status=OutboxStatus.PENDING).values_list("portal_id", flat=True))
    ids |= set(OutboxItem.objects.filter(reported_at__isnull=True, kind=OutboxKind.VACATION).exclude(status=OutboxStatus.PENDING)
               .exclude(event_token="").values_list("portal_id", flat=True))
    for portal_id in ids:
        process_portal_outbox.delay(portal_id)
    return len(ids)


@shared_task
def collect_all_overtime() -> int:
    """Beat, daily: the current month's overtime of every portal (a previous day's corrections included)."""
    today = timezone.localdate()
    portals = Portal.objects.filter(status=PortalStatus.ACTIVE, payroll_connection__isnull=False)
    for portal in portals:
        collect_overtime(portal, today.year, today.month)
    return portals.count()


def report_after_ack(sender, item, **kwargs) -> None:
    transaction.on_commit(lambda: process_portal_outbox.delay(item.portal_id))


@shared_task(acks_late=True)
def confirm_sync(run_id: int) -> dict:
    """An admin confirmed a guard stop on the app page."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return {"run": run_id, "skipped": True}
    try:
        new = confirm_run(run)
    except (SyncRefused, SyncBusy) as exc:
        return {"run": run_id, "skipped": str(exc)}
    if new.status == RunStatus.PAUSED:
        sync_portal.apply_async((run.portal_id, "continue"), {"run_id": new.pk}, eta=new.resume_at)
        return {"run": new.pk, "status": new.status}
    if take_follow_up(run.portal_id):
        sync_portal.delay(run.portal_id, "follow_up")
    return {"run": new.pk, "status": new.status}
