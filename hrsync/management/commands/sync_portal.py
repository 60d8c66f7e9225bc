"""Run (or preview) the ZUP -> Bitrix24 sync of one portal."""
import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from hrsync.locks import SyncBusy
from hrsync.models import RunStatus, SyncRun
from hrsync.selectors import portal_named
from hrsync.services import SyncRefused, confirm_run, run_sync


class Command(BaseCommand):
    help = "Sync a portal from 1C:ZUP now; --dry-run prints the plan and changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--portal", required=True, help="the portal's domain (or member_id)")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--person", help="sync only this ZUP person (ФизическоеЛицо GUID)")
        parser.add_argument("--today", type=date.fromisoformat, help="plan as of this day (rehearsals, tests)")
        parser.add_argument("--confirm", type=int, metavar="RUN_ID", help="confirm a run stopped by the dismissal guard")

    def handle(self, *args, **opts):
        portal = portal_named(opts["portal"])
        if portal is None:
            raise CommandError(f"No portal {opts['portal']!r}.")
        try:
            if opts["confirm"]:
                run = confirm_run(SyncRun.objects.get(pk=opts["confirm"], portal=portal))
            else:
                run = run_sync(portal, dry_run=opts["dry_run"], trigger="manual", only_person=opts["person"],
                               today=opts["today"])
        except (SyncRefused, SyncBusy) as exc:
            raise CommandError(str(exc)) from exc
        except SyncRun.DoesNotExist as exc:
            raise CommandError("No such run for this portal.") from exc
        operations = list(run.operations.order_by("seq").values("seq", "kind", "payroll_id", "label", "reason",
                                                                "details", "status", "error_message"))
        if opts["json"]:
            self.stdout.write(json.dumps({"run": run.pk, "status": run.status, "planned": run.planned,
                                          "outcome": run.outcome, "rest_calls": run.rest_calls, "guard": run.guard_reason,
                                          "notices": run.notices, "operations": operations},
                                         ensure_ascii=False, indent=2, default=str))
        else:
            self.stdout.write(f"Run {run.pk}: {run.get_status_display()}; planned {run.planned or 'nothing'}; "
                              f"outcome {run.outcome or '-'}; {run.rest_calls} REST calls")
            for op in operations[:50]:
                changes = op["details"].get("changes") or {}
                shown = ", ".join(f"{k}: {v[0]!r} → {v[1]!r}" for k, v in list(changes.items())[:4])
                self.stdout.write(f"  {op['kind']:<18} {op['label'][:60]:<60} {op['reason']} {shown} [{op['status']}]"
                                  + (f" {op['error_message']}" if op["error_message"] else ""))
            if len(operations) > 50:
                self.stdout.write(f"  … and {len(operations) - 50} more (--json lists all)")
            for notice in run.notices[:20]:
                self.stdout.write(f"  ! {notice['label'] or notice['payroll_id']}: {notice['message']}")
            if run.guard_reason:
                self.stdout.write(f"Stopped by the guard: {run.guard_reason}\nConfirm with --confirm {run.pk}")
        if run.status == RunStatus.FAILED:
            raise CommandError(run.error)
