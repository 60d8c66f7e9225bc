"""What the in-portal pages show: read-only queries, always through the portal."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bitrix_app.client import BitrixClient, BitrixError
from bitrix_app.gateway.reads import read_departments
from bitrix_app.models import Portal
from payroll_connector.models import OutboxItem, OutboxStatus, PayrollConnection

from .models import AbsenceTypeMapping, DepartmentMapping, OperationStatus, RunStatus, SyncConfig, SyncOperation, SyncRun
from .sync.operations import OPERATION_KINDS, PHASES
from .sync.states import DEFAULT_ABSENCE_TYPES


def overview(portal: Portal) -> dict:
    connection = PayrollConnection.objects.filter(portal=portal).first()
    runs = list(SyncRun.objects.filter(portal=portal, dry_run=False).order_by("-started_at")[:10])
    last = runs[0] if runs else None
    waiting = SyncRun.objects.filter(portal=portal, status=RunStatus.WAITING).order_by("-started_at").first()
    notices = last.notices if last else []
    attention = {
        "no_email": sum(1 for n in notices if n["code"] == "no_email"),
        "duplicate_email": sum(1 for n in notices if n["code"] in ("duplicate_email", "email_match_proposed")),
        "proposals": sum(1 for n in notices if n.get("proposal")),
        "failed": (last.outcome or {}).get("failed", 0) if last else 0,
        "undelivered": OutboxItem.objects.filter(portal=portal, status=OutboxStatus.PENDING).count(),
    }
    next_run = None
    if connection and last:
        next_run = last.started_at + timedelta(minutes=connection.schedule_minutes)
    config = SyncConfig.objects.filter(portal=portal).first()
    return {"connection": connection, "runs": runs, "last": last, "waiting": waiting, "attention": attention,
            "next_run": next_run, "charts": charts(portal), "overtime": config.overtime_state if config else {}}


def portal_rows(portals) -> list[dict]:
    """The console's list: each portal's state, its last run, that run's errors and its outbox depth.

    Four queries for the whole list, not a few per portal, so a list of 50 portals stays quick."""
    portals = list(portals)
    ids = [p.pk for p in portals]
    newest = (SyncRun.objects.filter(portal_id__in=ids, dry_run=False).values("portal_id")
              .annotate(newest=Max("id")).values_list("newest", flat=True))
    last_runs = {run.portal_id: run for run in SyncRun.objects.filter(pk__in=list(newest))}
    depth = dict(OutboxItem.objects.filter(portal_id__in=ids, status=OutboxStatus.PENDING).values("portal_id")
                 .annotate(n=Count("id")).values_list("portal_id", "n"))
    connected = set(PayrollConnection.objects.filter(portal_id__in=ids).values_list("portal_id", flat=True))
    rows = []
    for portal in portals:
        run = last_runs.get(portal.pk)
        rows.append({"portal": portal, "last_run": run, "failed": ((run.outcome or {}).get("failed", 0) if run else 0),
                     "outbox": depth.get(portal.pk, 0), "zup_connected": portal.pk in connected})
    return rows


def charts(portal: Portal) -> dict:
    """Series for the overview's charts: people synced, errors and duration per run (last 20 runs)."""
    runs = list(SyncRun.objects.filter(portal=portal, dry_run=False, finished_at__isnull=False).order_by("-started_at")[:20])
    runs.reverse()
    labels = [timezone.localtime(r.started_at).strftime("%d.%m %H:%M") for r in runs]
    return {
        "synced": _bars(labels, [(r.source_summary or {}).get("synced_people", 0) for r in runs]),
        "errors": _bars(labels, [(r.outcome or {}).get("failed", 0) for r in runs]),
        "seconds": _bars(labels, [round((r.finished_at - r.started_at).total_seconds(), 1) for r in runs]),
    }


def _bars(labels: list[str], values: list[float], *, height: int = 80, width: int = 18) -> dict:
    """Bars for an inline SVG chart (no charting library needed for three small charts)."""
    top = max(values, default=0) or 1
    bars = [{"label": label, "value": value, "x": i * (width + 4), "h": round(value / top * height, 1),
             "y": round(height - value / top * height, 1)} for i, (label, value) in enumerate(zip(labels, values))]
    return {"bars": bars, "width": max(1, len(bars)) * (width + 4), "height": height, "bar": width, "max": top}


def departments_planned(portal: Portal) -> set[str]:
    """ZUP departments the newest plan (a preview or a run) creates: what the departments page calls
    «will be created», so it never says so of one the preview does not plan (a disbanded one, say)."""
    run = SyncRun.objects.filter(portal=portal).exclude(source_summary={}).order_by("-started_at").first()
    if run is None:
        return set()
    return set(run.operations.filter(kind="CreateDepartment").exclude(status=OperationStatus.DONE)
               .values_list("payroll_id", flat=True))


def latest_source(portal: Portal) -> dict:
    run = SyncRun.objects.filter(portal=portal).exclude(source_summary={}).order_by("-started_at").first()
    return run.source_summary if run else {}


def latest_notices(portal: Portal) -> list[dict]:
    run = SyncRun.objects.filter(portal=portal).order_by("-started_at").first()
    return run.notices if run else []


def absence_kinds(portal: Portal) -> list[tuple[str, str, bool]]:
    """(ZUP kind, Bitrix24 type, is the default) for every kind seen in ZUP, and the known defaults."""
    chosen = dict(AbsenceTypeMapping.objects.filter(portal=portal).values_list("zup_kind", "bitrix_type"))
    kinds = sorted(set(latest_source(portal).get("absence_kinds", [])) | set(DEFAULT_ABSENCE_TYPES) | set(chosen))
    return [(k, chosen.get(k) or DEFAULT_ABSENCE_TYPES.get(k, "OTHER"), k not in chosen) for k in kinds]


JOURNAL_PAGE = 100  # operations per journal page


def journal(portal: Portal, *, run_id=None, query="", kind="", status="", limit=500):
    """The journal: what runs did. Previews (dry runs) are not in it: they wrote nothing, and the preview
    page shows each one's plan."""
    ops = SyncOperation.objects.filter(run__portal=portal, run__dry_run=False).select_related("run").order_by(
        "-run__started_at", "seq")
    if run_id:
        ops = ops.filter(run_id=run_id)
    if query:
        ops = ops.filter(Q(label__icontains=query) | Q(payroll_id=query))
    if kind:
        ops = ops.filter(kind=kind)
    if status:
        ops = ops.filter(status=status)
    return ops[:limit]


def journal_csv(portal: Portal, **filters) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["run", "started", "seq", "kind", "zup_id", "label", "reason", "status", "bitrix_id", "error"])
    for op in journal(portal, limit=100_000, **filters):
        writer.writerow([op.run_id, op.run.started_at.isoformat(), op.seq, op.kind, op.payroll_id, op.label, op.reason,
                         op.status, op.target_id or "", op.error_message])
    return out.getvalue()


def run_progress(portal: Portal, run_id: int | None = None, since=None, *, preview: bool = False) -> dict:
    """The progress of a run (or a preview): a given one, or the newest started after `since` (one just asked for)."""
    runs = SyncRun.objects.filter(portal=portal, dry_run=preview)
    if since is not None:
        runs = runs.filter(started_at__gte=since)
    run = runs.filter(pk=run_id).first() if run_id else runs.order_by("-started_at").first()
    if run is None:
        return {"run": None, "percent": 0, "status": "queued" if since is not None else "none",
                "finished": since is None}
    counts = dict(run.operations.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    total = sum(counts.values())
    finished = sum(counts.get(s, 0) for s in (OperationStatus.DONE, OperationStatus.FAILED, OperationStatus.SKIPPED))
    over = run.status not in (RunStatus.RUNNING, RunStatus.PAUSED)  # a paused run goes on by itself
    percent = 100 if over else (int(finished * 100 / total) if total else 0)
    label = str(run.get_status_display())
    if run.status == RunStatus.PAUSED and run.resume_at:
        label = _("%(status)s: goes on at %(time)s") % {"status": label, "time": date_format(
            timezone.localtime(run.resume_at), "TIME_FORMAT")}
    return {"run": run.pk, "status": run.status, "status_label": label, "percent": percent,
            "done": counts.get(OperationStatus.DONE, 0), "failed": counts.get(OperationStatus.FAILED, 0),
            "total": total, "finished": over, "error": run.error, "guard": run.guard_reason}


def requests_to_zup(portal: Portal):
    return OutboxItem.objects.filter(portal=portal).order_by("-created_at")[:300]



def portal_named(domain_or_member_id: str) -> Portal | None:
    """The portal an operator names on the command line."""
    return Portal.objects.named(domain_or_member_id)


# -- the pages' other reads ------------------------------------------------------------------------------------
def connection_of(portal: Portal) -> PayrollConnection | None:
    return PayrollConnection.objects.filter(portal=portal).first()


def sync_config_of(portal: Portal) -> SyncConfig:
    return SyncConfig.objects.filter(portal=portal).first() or SyncConfig(portal=portal)


def journal_page(portal: Portal, *, page: int = 1, **filters) -> tuple[list, int, int, int]:
    """(one page of the journal, the page's number, kept within the pages there are, the number of matching
    operations, the number of pages)."""
    ops = journal(portal, limit=None, **filters)
    count = ops.count()
    pages = max(1, -(-count // JOURNAL_PAGE))
    page = min(max(1, page), pages)
    return list(ops[(page - 1) * JOURNAL_PAGE:page * JOURNAL_PAGE]), page, count, pages


def operation_statuses() -> list[tuple[str, str]]:
    """The statuses the journal filters by, with their names in the page's language."""
    shown = (OperationStatus.FAILED, OperationStatus.DONE, OperationStatus.SKIPPED, OperationStatus.PLANNED,
             OperationStatus.RECOVERED)
    return [(status.value, status.label) for status in shown]


def recent_runs(portal: Portal, limit: int = 30):
    """The last runs that wrote (or would have): previews are not listed."""
    return SyncRun.objects.filter(portal=portal, dry_run=False).order_by("-started_at")[:limit]


def waiting_run(portal: Portal, run_id: int | None = None) -> SyncRun | None:
    """The run stopped by the dismissal guard (a given one, or the newest)."""
    runs = SyncRun.objects.filter(portal=portal, status=RunStatus.WAITING)
    return runs.filter(pk=run_id).first() if run_id else runs.order_by("-started_at").first()


def preview_run(portal: Portal, run_id: int | None = None, since=None) -> SyncRun | None:
    """A preview (dry run): a given one, or the newest started after `since`."""
    runs = SyncRun.objects.filter(portal=portal, dry_run=True)
    if since is not None:
        runs = runs.filter(started_at__gte=since)
    return runs.filter(pk=run_id).first() if run_id else runs.order_by("-started_at").first()


def planned_by_phase(run: SyncRun, *, per_phase: int = 300) -> list[dict]:
    ops = list(run.operations.order_by("seq"))
    groups = []
    for phase in PHASES:
        members = [op for op in ops if op.phase == phase]
        if members:
            groups.append({"phase": phase, "ops": members[:per_phase], "count": len(members)})
    return groups


def operation_kinds() -> tuple[str, ...]:
    return OPERATION_KINDS


def department_mappings(portal: Portal) -> dict[str, DepartmentMapping]:
    return {m.payroll_id: m for m in DepartmentMapping.objects.filter(portal=portal)}


def bitrix_department_paths(portal: Portal) -> tuple[list[dict], str]:
    """The portal's departments as paths of names from the root (one or two REST calls), or the error."""
    try:
        state = read_departments(BitrixClient.for_portal(portal))
    except BitrixError as exc:
        return [], exc.message
    paths = ({"id": d.id, "path": " / ".join(state.path_of(d.id, with_root=True))} for d in state.departments)
    return sorted(paths, key=lambda d: d["path"]), ""
