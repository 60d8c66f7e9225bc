"""Sync runs: read both sides, recover what a crashed run left, plan, guard, apply, journal, notify."""
from __future__ import annotations

import logging
import time
from collections import Counter

import redis
from dataclasses import asdict, fields, replace
from typing import Iterable
from enum import Enum
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db import connection as database
from django.db.models import Count
from django.utils import timezone

from bitrix_app.client import BitrixClient, BitrixError, BitrixOperationTimeLimit, resume_time
from bitrix_app.gateway import reads as gateway_reads
from bitrix_app.gateway.fields import portal_dates
from bitrix_app.gateway.workflows import notify
from bitrix_app.models import Portal
from payroll_connector.errors import PayrollError
from payroll_connector.models import ConnectionMode, PayrollConnection
from payroll_connector.services import read_snapshot

from .apply import Applier, TurnOver
from . import privacy
from .locks import (SyncBusy, lease_alive, lease_held, portal_preview_lock, portal_sync_lock, preview_lease_name,
                    sync_lease_name)
from .models import (
    AbsenceTypeMapping,
    DepartmentDecision,
    DepartmentMapping,
    OperationStatus,
    PersonMapping,
    RunStatus,
    SyncConfig,
    SyncedAbsence,
    SyncOperation,
    SyncRun,
)
from .sync import operations as o
from .sync.plan import ABSENCE_TYPES, plan_sync
from .sync.portal import Mappings, PortalState, SyncSettings, WrittenAbsence

log = logging.getLogger(__name__)


class SyncRefused(Exception):
    """The run cannot start (portal disabled or needing re-authorisation, no ZUP connection)."""


def read_portal_state(client: BitrixClient, portal: Portal) -> PortalState:
    """The portal's departments and users (the gateway reads them), and the absences the app wrote there."""
    state = gateway_reads.read_portal_state(client, dates=portal_dates(portal))
    absences = tuple(WrittenAbsence(a.payroll_id, a.event_id, a.user_id, a.absence_type, a.name, a.start, a.end)
                     for a in SyncedAbsence.objects.filter(portal=portal))
    return replace(state, absences=absences)


def load_mappings(portal: Portal) -> Mappings:
    departments = list(DepartmentMapping.objects.filter(portal=portal))
    persons = list(PersonMapping.objects.filter(portal=portal))
    return Mappings(
        departments={m.payroll_id: m.bitrix_id for m in departments if m.bitrix_id},
        create_departments=frozenset(m.payroll_id for m in departments if m.decision == DepartmentDecision.CREATE),
        excluded_departments=frozenset(m.payroll_id for m in departments if m.decision == DepartmentDecision.EXCLUDED),
        persons={m.payroll_id: m.user_id for m in persons},
        synced_fields={m.payroll_id: m.synced_fields for m in persons},
        absence_types=dict(AbsenceTypeMapping.objects.filter(portal=portal).values_list("zup_kind", "bitrix_type")),
        written_digest=privacy.digest,
    )


def save_sync_settings(portal: Portal, *, guard_percent: float, guard_count: int, lead_days: int,
                       organisations_as_departments: bool) -> SyncConfig:
    config = sync_config(portal)
    config.dismissal_guard_percent = float(guard_percent)
    config.dismissal_guard_count = int(guard_count)
    config.future_hire_lead_days = int(lead_days)
    config.organisations_as_departments = organisations_as_departments
    config.save()
    return config


def preview(portal: Portal) -> SyncRun:
    """A dry run, as the preview page asks for it: a refusal is kept as a failed preview, for the page to show."""
    try:
        return run_sync(portal, dry_run=True, trigger="preview")
    except (SyncRefused, SyncBusy) as exc:
        message = (str(exc) if isinstance(exc, SyncRefused)
                   else "a preview is being prepared already: open the tab again in a moment")
        now = timezone.now()
        return SyncRun.objects.create(portal=portal, trigger="preview", dry_run=True, status=RunStatus.FAILED,
                                      error=message, finished_at=now)


def sync_config(portal: Portal) -> SyncConfig:
    config, _ = SyncConfig.objects.get_or_create(portal=portal)
    return config


def request_follow_up(portal: Portal) -> None:
    """A sync was asked for (a pushed change, a retry) while one runs: a follow-up run is due as soon as that
    one ends, instead of the change waiting for the schedule. Many asks during one run make one follow-up."""
    sync_config(portal)
    SyncConfig.objects.filter(portal=portal, follow_up_requested_at__isnull=True).update(follow_up_requested_at=timezone.now())


def ask_for_follow_up(portal: Portal) -> bool:
    """A sync was refused as busy: ask the running one for a follow-up. True when the caller must start it
    itself: the running sync ended between the refusal and the ask, after it had looked for asks (it takes
    them only once its lease is gone, so a live lease here means it will see this one)."""
    request_follow_up(portal)
    return not lease_held(sync_lease_name(portal.pk)) and take_follow_up(portal.pk)


def take_follow_up(portal_id: int) -> bool:
    """True once per request: the caller (a run that has just ended) starts the follow-up."""
    return SyncConfig.objects.filter(portal_id=portal_id, follow_up_requested_at__isnull=False).update(
        follow_up_requested_at=None) == 1


def portal_today(config: SyncConfig) -> date:
    return datetime.now(ZoneInfo(config.time_zone)).date()


def recover_intents(portal: Portal, client: BitrixClient, state: PortalState) -> int:
    """Resolve operations a killed run journaled as `intent`: adopt what reached Bitrix24, or mark it lost.

    Users are found by their payroll ID (XML_ID) or e-mail, departments by name under their parent,
    absences by the mark the app puts in the event. Nothing is ever written twice.
    """
    intents = list(SyncOperation.objects.filter(run__portal=portal, status=OperationStatus.INTENT).order_by("seq"))
    if not intents:
        return 0
    mapped_departments = set(DepartmentMapping.objects.filter(portal=portal).values_list("bitrix_id", flat=True))
    by_payroll_id = {u.xml_id: u.id for u in state.users if u.xml_id}
    by_email = {privacy.digest("email", u.email.lower()): u.id for u in state.users if u.email}
    absences_to_find: dict[str, tuple[int, str, str, str]] = {}
    for op in intents:
        found: int | None = None
        if op.kind == "CreateDepartment":
            # (an intent journaled before operations carried a NewRef named its parent parent_id / parent_payroll_id)
            parent = _journaled_department(portal, op.details.get("parent", op.details.get("parent_id")
                                                                  or {"new": op.details.get("parent_payroll_id")}))
            found = next((d.id for d in state.departments if d.name == op.details.get("name") and d.parent == parent
                          and d.id not in mapped_departments), None)
            if found:
                DepartmentMapping.objects.update_or_create(portal=portal, payroll_id=op.payroll_id,
                                                           defaults={"bitrix_id": found, "decision": DepartmentDecision.SYNCED})
                mapped_departments.add(found)
        elif op.kind == "CreateUser":
            # The journal keeps the e-mail as a digest only (hrsync.privacy): portal users are compared by theirs.
            found = by_payroll_id.get(op.payroll_id) or by_email.get(op.details.get("email_digest") or "-")
            if found:
                PersonMapping.objects.update_or_create(portal=portal, payroll_id=op.payroll_id,
                                                       defaults={"user_id": found, "synced_fields": {}})
        elif op.kind == "AddAbsence":
            person = op.details.get("person_payroll_id") or op.details.get("person_id")  # (the older journals' name)
            user_id = PersonMapping.objects.filter(portal=portal, payroll_id=person).values_list(
                "user_id", flat=True).first()
            if user_id:
                absences_to_find[str(op.pk)] = (user_id, op.payroll_id, op.details["start"], op.details["end"])
                continue
        _resolve(op, found)
    found_events = gateway_reads.find_written_absences(client, absences_to_find)
    for op in intents:
        if str(op.pk) not in found_events:
            continue
        event = found_events[str(op.pk)]
        if event:
            event_id, owner = event
            SyncedAbsence.objects.update_or_create(portal=portal, payroll_id=op.payroll_id, defaults={
                "event_id": event_id, "user_id": owner, "absence_type": op.details["absence_type"],
                "name": op.details["name"], "start": op.details["start"], "end": op.details["end"]})
        _resolve(op, event[0] if event else None)
    return len(intents)


def _journaled_department(portal: Portal, ref) -> int | None:
    """A department as the journal wrote it (see _plain): an ID, or {"new": payroll ID} of one made in that run."""
    if isinstance(ref, dict):
        return DepartmentMapping.objects.filter(portal=portal, payroll_id=ref.get("new") or "-").values_list(
            "bitrix_id", flat=True).first()
    return ref if isinstance(ref, int) else None


def _resolve(op: SyncOperation, found: int | None) -> None:
    """Updates and deletes are idempotent: the new plan simply redoes what is still needed."""
    op.status = OperationStatus.RECOVERED if found else OperationStatus.LOST
    op.target_id = found
    op.save(update_fields=["status", "target_id", "updated_at"])


def _plain(value):
    """An operation's value as JSON keeps it: days ISO, a department made in the run as {"new": payroll ID}."""
    if isinstance(value, o.NewRef):
        return {"new": value.payroll_id}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _details(op: o.Op) -> dict:
    # (asdict would turn a NewRef into an anonymous dict: the fields are taken one by one instead)
    return {f.name: _plain(getattr(op, f.name)) for f in fields(op) if f.name not in ("payroll_id", "label", "reason")}


def run_sync(portal: Portal, *, dry_run: bool = False, trigger: str = "manual", only_person: str | None = None,
             confirmed_dismissals: int = 0, today: date | None = None, continuing: SyncRun | None = None,
             scope: Iterable[str] | None = None) -> SyncRun:
    """One run for one portal; never two at once (SyncBusy).

    A run Bitrix24 holds back (a method's time budget spent, its request bucket taken for long) ends
    PAUSED with the time it may go on; `continuing` that run then reads both sides afresh, plans what is
    still to do and applies it, in the same run: its journal keeps what was done, not what was put off.

    `scope`: the people a pushed change package touched. Such a run reads of 1C's pushed state and of the
    portal only them (and the department tree), and plans only for them: its work follows the change, not the
    company (`_scope_for` says when it falls back to the whole; the periodic runs always read the whole).
    """
    connection = _ready_to_run(portal)
    config = sync_config(portal)
    costs = _Costs()
    # A dry run writes nothing to the portal: it never holds (or waits for) the sync's lease.
    with (portal_preview_lock if dry_run else portal_sync_lock)(portal.pk) as lock, costs:
        if continuing is not None:
            run, calls_before = _continue(continuing, lock.holder)
            people = None if run.scope is None else frozenset(run.scope)
            last_whole = _last_whole_run(portal) if people is not None else None
            if run.trigger == "confirmed":  # what the admin confirmed holds for the rest of the run
                confirmed_dismissals = max(confirmed_dismissals, run.dismissals)
        else:
            last_whole = _last_whole_run(portal) if scope is not None else None
            people = _scope_for(portal, connection, scope, last_whole, dry_run=dry_run)
            run, calls_before = SyncRun.objects.create(portal=portal, trigger=trigger, dry_run=dry_run,
                                                       lease_holder=lock.holder,
                                                       scope=None if people is None else sorted(people)), 0
        client = BitrixClient.for_portal(portal)
        applied = False
        try:
            snapshot = read_snapshot(connection, today=today, persons=people)
            mappings = load_mappings(portal)
            if people is not None:
                state = read_portal_scope(client, portal, snapshot, mappings, people)
            else:
                state = read_portal_state(client, portal)
            lock.check()
            if not dry_run and people is None and recover_intents(portal, client, state):
                state = read_portal_state(client, portal)
                mappings = load_mappings(portal)
            settings = _settings(config, today=today, confirmed_dismissals=confirmed_dismissals, only_person=only_person,
                                 scope=people, population=_population(portal, last_whole) if people is not None else None)
            plan = plan_sync(snapshot, state, mappings, settings)
            _record_plan(run, plan, snapshot, state, mappings, last_whole)
            journal = _journal(run, plan)
            if dry_run:
                run.status = RunStatus.PLANNED
            elif plan.guard:
                run.status, run.guard_reason = RunStatus.WAITING, plan.guard
            else:
                applied = True
                Applier(portal, client, run, plan, journal, fence=lock.check, turn=_Turn()).apply()
                run.status = RunStatus.SUCCEEDED
        except TurnOver as exc:
            run.status, run.resume_at, run.error = RunStatus.PAUSED, timezone.now(), ""
            log.info("Sync of %s gives its worker back: %s", portal.domain, exc)
        except (BitrixError, PayrollError) as exc:
            resume_at = _pause_until(exc)
            if resume_at is not None and not dry_run:
                run.status, run.resume_at, run.error = RunStatus.PAUSED, resume_at, ""
                log.info("Sync of %s paused until %s: %s", portal.domain, resume_at, exc.message)
            else:
                run.status, run.error = RunStatus.FAILED, exc.message
                log.warning("Sync of %s failed: %s", portal.domain, exc.message)
        except SyncBusy as exc:
            run.status, run.error = RunStatus.FAILED, str(exc)
        except (IntegrityError, Portal.DoesNotExist, DatabaseError):
            _stop_if_portal_deleted(portal)
            raise
        except Exception as exc:  # a defect, not a remote answer: the run ends failed and says so
            log.exception("Sync of %s stopped by an internal error", portal.domain)
            run.status, run.error = RunStatus.FAILED, f"internal error: {exc.__class__.__name__}: {exc}"[:2000]
        if applied or continuing is not None:
            # Counted from the journal: a continued run's outcome is that of all its parts.
            run.outcome = _outcome(run)
            if run.status == RunStatus.SUCCEEDED and run.outcome["failed"]:
                run.status = RunStatus.PARTIAL
            # The overview's chart counts people synced after the run, not before it (a first run made them all).
            run.source_summary["synced_people"] = PersonMapping.objects.filter(portal=portal).count()
        run.rest_calls = calls_before + client.stats.http_calls
        run.costs = costs.added_to(run.costs, client.stats)
        run.finished_at = None if run.status == RunStatus.PAUSED else timezone.now()
        try:
            run.save()
        except (IntegrityError, DatabaseError):
            _stop_if_portal_deleted(portal)
            raise
    notify_admins(portal, run)
    return run


class _Turn:
    """A run gives its worker back, once it has held it HRSYNC_RUN_SLICE_SECONDS, when other tasks wait in the
    broker's queue: it pauses, and its continuation goes to the back of that queue (one large portal's first
    sync does not hold up the others' work; the continuation reads both sides afresh, so a slice is not made
    short). The queue is looked at once per chunk, one Redis call; without Redis (the demo) there is none."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> None:
        slice_seconds = django_settings.HRSYNC_RUN_SLICE_SECONDS
        if not slice_seconds or time.monotonic() - self.started < slice_seconds or not tasks_waiting():
            return
        raise TurnOver("other portals' work waits for this worker")


_broker: redis.Redis | None = None


def tasks_waiting() -> bool:
    """Whether tasks wait in the broker's default queue (a Redis list, kombu's Redis transport)."""
    global _broker
    url = django_settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return False
    if _broker is None:  # one client (and its connection pool) per process, not one per chunk
        _broker = redis.Redis.from_url(url, socket_timeout=1)
    try:
        return _broker.llen(django_settings.CELERY_TASK_DEFAULT_QUEUE) > 0
    except redis.RedisError:
        return False


class _Costs:
    """Where a run's time goes on the app's side: CPU of this process, SQL statements and their time, REST
    round trips, and waits on the request bucket and the time budgets. Kept on the run (the benchmarks
    print it beside the wall time; an operator reads it in the admin)."""

    def __init__(self) -> None:
        self.statements, self.sql_seconds = 0, 0.0

    def __enter__(self) -> "_Costs":
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        self._wrapper = database.execute_wrapper(self._count)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._wrapper.__exit__(*exc)

    def _count(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements += 1
            self.sql_seconds += time.perf_counter() - started

    def added_to(self, before: dict, stats) -> dict:
        now = {"wall_s": time.perf_counter() - self._wall, "cpu_s": time.process_time() - self._cpu,
               "sql_statements": self.statements, "sql_s": self.sql_seconds, "rest_s": stats.http_seconds,
               "bucket_wait_s": stats.waited_seconds - stats.budget_waited_seconds,
               "budget_wait_s": stats.budget_waited_seconds}
        return {key: round((before or {}).get(key, 0) + value, 3) for key, value in now.items()}


def _continue(run: SyncRun, holder: str) -> tuple[SyncRun, int]:
    """A paused run goes on: what it put off is planned again from fresh data (and may have changed)."""
    run.refresh_from_db()
    if run.status != RunStatus.PAUSED:
        raise SyncRefused("the run is not paused (it was continued already)")
    SyncOperation.objects.filter(run=run, status__in=[OperationStatus.PLANNED, OperationStatus.SKIPPED]).delete()
    run.status, run.resume_at, run.lease_holder, run.segments = RunStatus.RUNNING, None, holder, run.segments + 1
    run.save(update_fields=["status", "resume_at", "lease_holder", "segments"])
    return run, run.rest_calls


def _pause_until(exc: Exception) -> datetime | None:
    """When a run Bitrix24 held back may go on (None: the error is not one time cures)."""
    if not isinstance(exc, BitrixError):
        return None
    at = resume_time(exc)
    if at is None and isinstance(exc, BitrixOperationTimeLimit):
        at = timezone.now().timestamp() + django_settings.BITRIX_OPERATING_BAN
    return None if at is None else datetime.fromtimestamp(at, tz=timezone.get_current_timezone())


def _outcome(run: SyncRun) -> dict[str, int]:
    by_status = dict(SyncOperation.objects.filter(run=run).values_list("status").annotate(n=Count("id")))
    return {"done": by_status.get(OperationStatus.DONE, 0), "failed": by_status.get(OperationStatus.FAILED, 0),
            "skipped": by_status.get(OperationStatus.SKIPPED, 0)}


def _scope_for(portal: Portal, connection: PayrollConnection, scope: Iterable[str] | None,
               last_whole: SyncRun | None, *, dry_run: bool) -> frozenset[str] | None:
    """The people a run may be limited to, or None for the whole company: a preview, ZUP read by OData (no
    package says what changed), a portal never synced whole, a write a killed run may have left half-done
    (its recovery reads the whole portal), or more people than a partial read is worth."""
    if scope is None or dry_run or connection.mode != ConnectionMode.PUSH:
        return None
    people = frozenset(scope)
    if len(people) > django_settings.HRSYNC_SCOPED_RUN_MAX_PEOPLE or last_whole is None:
        return None
    if SyncOperation.objects.filter(run__portal=portal, status=OperationStatus.INTENT).exists():
        return None
    return people


def _last_whole_run(portal: Portal) -> SyncRun | None:
    return (SyncRun.objects.filter(portal=portal, dry_run=False, scope__isnull=True,
                                   status__in=[RunStatus.SUCCEEDED, RunStatus.PARTIAL]).order_by("-started_at").first())


def _population(portal: Portal, last_whole: SyncRun | None) -> int:
    """The portal's active users as its last whole read found them (the guard's share is of them)."""
    counted = (last_whole.source_summary or {}).get("active_users") if last_whole else None
    return int(counted) if counted is not None else PersonMapping.objects.filter(portal=portal).count()


def read_portal_scope(client: BitrixClient, portal: Portal, snapshot, mappings: Mappings,
                      people: frozenset[str]) -> PortalState:
    """The portal as a run for these people needs it: the department tree; their users (by the mapping, else
    by payroll ID), whoever holds a new person's e-mail; the absences the app wrote for them."""
    user_ids = [mappings.persons[p] for p in people if p in mappings.persons]
    unmapped = [p for p in people if p not in mappings.persons]
    emails = [person.email for person in snapshot.persons if person.guid in unmapped and person.email]
    state = gateway_reads.read_portal_people(client, user_ids=user_ids, payroll_ids=unmapped, emails=emails,
                                             dates=portal_dates(portal))
    absences = tuple(WrittenAbsence(a.payroll_id, a.event_id, a.user_id, a.absence_type, a.name, a.start, a.end)
                     for a in SyncedAbsence.objects.filter(portal=portal, user_id__in=user_ids))
    return replace(state, absences=absences)


def _ready_to_run(portal: Portal) -> PayrollConnection:
    portal.refresh_from_db()
    if not portal.is_operational:
        raise SyncRefused(f"portal {portal.domain} is {portal.get_status_display().lower()}: "
                          + ("an administrator must open the app in Bitrix24 again" if portal.status == "needs_reauth"
                             else "install the app again"))
    connection = PayrollConnection.objects.filter(portal=portal).first()
    if connection is None:
        raise SyncRefused(f"portal {portal.domain} has no 1C:ZUP connection: run payroll_connect")
    return connection


def _settings(config: SyncConfig, *, today: date | None, confirmed_dismissals: int, only_person: str | None,
              scope: frozenset[str] | None = None, population: int | None = None) -> SyncSettings:
    return SyncSettings(scope=scope, population=population,
        today=today or portal_today(config), organisations_as_departments=config.organisations_as_departments,
        future_hire_lead_days=config.future_hire_lead_days, dismissal_guard_percent=config.dismissal_guard_percent,
        dismissal_guard_count=config.dismissal_guard_count, confirmed_dismissals=confirmed_dismissals,
        only_person=only_person)


def _record_plan(run: SyncRun, plan: o.SyncPlan, snapshot, state: PortalState, mappings: Mappings,
                 last_whole: SyncRun | None = None) -> None:
    """What the pages show of a run before its outcome: the source's tree, the plan's counts, the notices.

    A run for a few people saw only them: of everyone else the pages keep what the last whole run said."""
    run.planned = _planned(run, plan)
    run.dismissals = plan.dismissals
    if run.scope is not None:
        _record_partial_plan(run, plan, snapshot, last_whole)
        return
    run.source_summary = {
        "organisations": [[org.guid, org.name] for org in snapshot.organisations],
        "departments": [[d.guid, d.name, d.parent_guid, d.organisation_guid, bool(d.disbanded)]
                        for d in snapshot.departments],
        "absence_kinds": sorted({a.kind for a in snapshot.absences}),
        "persons": len(snapshot.persons), "active_users": sum(1 for u in state.users if u.active),
        "synced_people": len(mappings.persons)}
    run.notices = [asdict(n) for n in plan.notices]  # Notice holds plain values only


def _planned(run: SyncRun, plan: o.SyncPlan) -> dict[str, int]:
    """Operations per kind: this plan's, and (a continued run) what its earlier parts journaled."""
    planned = Counter(op.kind for op in plan.operations)
    if run.segments > 1:
        planned.update(dict(SyncOperation.objects.filter(run=run).values_list("kind").annotate(n=Count("id"))))
    return dict(planned)


# Notices about the department tree: a partial run reads the tree whole and says them again itself.
_TREE_NOTICES = {"department_match_proposed", "disbanded_still_staffed"}


def _record_partial_plan(run: SyncRun, plan: o.SyncPlan, snapshot, last: SyncRun | None) -> None:
    summary = dict(last.source_summary) if last else {}
    summary.update({"organisations": [[org.guid, org.name] for org in snapshot.organisations],
                    "departments": [[d.guid, d.name, d.parent_guid, d.organisation_guid, bool(d.disbanded)]
                                    for d in snapshot.departments]})
    run.source_summary = summary
    fresh = [asdict(n) for n in plan.notices]
    said = {n["payroll_id"] for n in fresh} | set(run.scope or ())
    kept = [n for n in (last.notices if last else []) if n["payroll_id"] not in said and n["code"] not in _TREE_NOTICES]
    run.notices = kept + fresh


def _stop_if_portal_deleted(portal: Portal) -> None:
    """The portal was uninstalled with "clear data" while its run ran: nothing is left to journal."""
    if not Portal.objects.filter(pk=portal.pk).exists():
        log.info("Portal %s was deleted during its sync; the run stops", portal.domain)
        raise SyncRefused(f"portal {portal.domain} was deleted during the run") from None


def interrupted_runs() -> list[SyncRun]:
    """Runs still marked running whose lease lapsed (their worker died): each is marked interrupted, once."""
    stopped = []
    for run in SyncRun.objects.filter(status=RunStatus.RUNNING).order_by("pk"):
        name = preview_lease_name(run.portal_id) if run.dry_run else sync_lease_name(run.portal_id)
        if lease_alive(name, run.lease_holder):
            continue
        marked = SyncRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.INTERRUPTED, finished_at=timezone.now(),
            error="the worker running this sync stopped before it finished; the next run completes its work")
        if marked:
            stopped.append(run)
    return stopped


def _journal(run: SyncRun, plan: o.SyncPlan) -> dict[int, SyncOperation]:
    # A continued run's new rows follow those it kept (done and failed ones of its earlier parts).
    first = (SyncOperation.objects.filter(run=run).order_by("-seq").values_list("seq", flat=True).first() or 0) + 1 \
        if run.segments > 1 else 1
    rows = [SyncOperation(run=run, seq=first + i, kind=op.kind, phase=o.PHASE_OF[type(op)], payroll_id=op.payroll_id,
                          label=op.label[:300], reason=op.reason.value, details=privacy.journal_details(op.kind, _details(op)))
            for i, op in enumerate(plan.operations)]
    with transaction.atomic():
        SyncOperation.objects.bulk_create(rows, batch_size=1000)
    return {id(op): row for op, row in zip(plan.operations, rows)}


def confirm_run(run: SyncRun, *, today: date | None = None) -> SyncRun:
    """An admin confirms a guard stop: a new run may dismiss up to that many people.

    `today` is the day the stopped run planned for (tests and back-dated runs); by default the portal's today.
    """
    if run.status != RunStatus.WAITING:
        raise SyncRefused("only a run waiting for confirmation can be confirmed")
    run.status = RunStatus.CONFIRMED
    run.save(update_fields=["status"])
    return run_sync(run.portal, trigger="confirmed", confirmed_dismissals=run.dismissals, today=today)


def cancel_run(run: SyncRun) -> None:
    if run.status == RunStatus.WAITING:
        run.status = RunStatus.CANCELLED
        run.save(update_fields=["status"])


def notify_admins(portal: Portal, run: SyncRun) -> None:
    """A Bitrix24 notification to the app's administrator when a run needs them (not after every run)."""
    failed = (run.outcome or {}).get("failed", 0)
    previous = SyncRun.objects.filter(portal=portal, started_at__lt=run.started_at, dry_run=False).first()
    new_notices = len(run.notices) > len(previous.notices) if previous else bool(run.notices)
    if run.dry_run or run.status == RunStatus.PAUSED or not portal.token_user_id or not (failed or run.status in (RunStatus.WAITING, RunStatus.FAILED) or new_notices):
        return
    parts = []
    if run.status == RunStatus.WAITING:
        parts.append(f"синхронизация с 1С:ЗУП остановлена: {run.guard_reason}. Подтвердите или отмените в приложении hrsync")
    if run.status == RunStatus.FAILED:
        parts.append(f"синхронизация с 1С:ЗУП не выполнена: {run.error}")
    if failed:
        parts.append(f"{failed} операций не выполнено — см. журнал в приложении hrsync")
    if new_notices:
        parts.append(f"{len(run.notices)} записей ЗУП требуют внимания (нет e-mail, совпадения, решения по отделам)")
    try:
        notify(BitrixClient.for_portal(portal), int(portal.token_user_id), "hrsync: " + "; ".join(parts),
               tag=f"hrsync-run-{run.pk}")
    except BitrixError as exc:
        log.warning("Could not notify the admins of %s: %s", portal.domain, exc.message)


# -- what the in-portal pages change -------------------------------------------------------------------
def decide_department(portal: Portal, payroll_id: str, decision: str, bitrix_id: int | None = None) -> None:
    """Accept a proposed match (with its Bitrix24 ID), create a new department, or keep a subtree out."""
    if decision not in (DepartmentDecision.ACCEPTED, DepartmentDecision.CREATE, DepartmentDecision.EXCLUDED, "reset"):
        raise ValueError(f"unknown decision {decision!r}")
    if decision == "reset":
        DepartmentMapping.objects.filter(portal=portal, payroll_id=payroll_id).exclude(
            decision=DepartmentDecision.SYNCED).delete()
        return
    DepartmentMapping.objects.update_or_create(portal=portal, payroll_id=payroll_id, defaults={
        "decision": decision, "bitrix_id": bitrix_id if decision == DepartmentDecision.ACCEPTED else None})


def accept_all_department_matches(portal: Portal) -> int:
    run = SyncRun.objects.filter(portal=portal).order_by("-started_at").first()
    accepted = 0
    decided = set(DepartmentMapping.objects.filter(portal=portal).values_list("payroll_id", flat=True))
    for notice in (run.notices if run else []):
        if notice["code"] == "department_match_proposed" and notice.get("proposal") and notice["payroll_id"] not in decided:
            decide_department(portal, notice["payroll_id"], DepartmentDecision.ACCEPTED, notice["proposal"]["department_id"])
            accepted += 1
    return accepted


def save_absence_types(portal: Portal, chosen: dict[str, str]) -> None:
    for kind, bitrix_type in chosen.items():
        if bitrix_type not in ABSENCE_TYPES:
            raise ValueError(f"unknown Bitrix24 absence type {bitrix_type!r}")
        AbsenceTypeMapping.objects.update_or_create(portal=portal, zup_kind=kind, defaults={"bitrix_type": bitrix_type})


def confirm_email_match(portal: Portal, payroll_id: str, user_id: int) -> None:
    PersonMapping.objects.update_or_create(portal=portal, payroll_id=payroll_id,
                                           defaults={"user_id": user_id, "confirmed": True})
