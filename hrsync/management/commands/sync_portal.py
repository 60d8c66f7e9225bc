"""Run (or preview) the ZUP -> Bitrix24 sync of one portal."""
import json
import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hrsync.locks import SyncBusy
from hrsync.models import OperationStatus, RunStatus, SyncRun
from hrsync.selectors import portal_named
from hrsync.services import SyncRefused, confirm_run, run_sync
from hrsync.texts import FIELD_LABELS, NOTICE_TEXTS, change_value, operation_text, reason_text


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
            while run.status == RunStatus.PAUSED:
                # No worker here to hand the wait back to: the command waits, then the run goes on.
                wait = max(0.0, (run.resume_at - timezone.now()).total_seconds())
                self.stderr.write(f"Bitrix24 holds the run back; it goes on in {wait:.0f} s")
                time.sleep(wait)
                run = run_sync(portal, trigger="manual", today=opts["today"], continuing=run)
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
            with translation.override(settings.LANGUAGE_CODE):  # the people's language, as on the pages
                self._print(run, operations)
        if run.status == RunStatus.FAILED:
            raise CommandError(run.error)

    def _print(self, run: SyncRun, operations: list[dict]) -> None:
        planned = ", ".join(f"{operation_text(k)}: {n}" for k, n in (run.planned or {}).items()) or _("nothing")
        outcome = run.outcome or {}
        self.stdout.write(_("Run %(id)s: %(status)s; planned: %(planned)s; done %(done)s, failed %(failed)s; "
                            "%(calls)s REST calls") % {"id": run.pk, "status": run.get_status_display(), "planned": planned,
                                                       "done": outcome.get("done", 0), "failed": outcome.get("failed", 0),
                                                       "calls": run.rest_calls})
        for op in operations[:50]:
            changes = op["details"].get("changes") or {}
            shown = ", ".join(f"{FIELD_LABELS.get(k, k)}: {change_value(k, v[0]) or '—'} → {change_value(k, v[1]) or '—'}"
                              for k, v in list(changes.items())[:4])
            status = _status_label(op["status"])
            self.stdout.write(f"  {operation_text(op['kind']):<24} {op['label'][:60]:<60} {reason_text(op['reason'])}"
                              f"{' · ' + shown if shown else ''} [{status}]" + (f" {op['error_message']}" if op["error_message"] else ""))
        if len(operations) > 50:
            self.stdout.write("  " + _("… and %(n)s more (--json lists all)") % {"n": len(operations) - 50})
        for notice in run.notices[:20]:
            text = NOTICE_TEXTS.get(notice["code"]) or notice["message"]
            self.stdout.write(f"  ! {notice['label'] or notice['payroll_id']}: {text}")
        if run.guard_reason:
            self.stdout.write(_("Stopped by the guard: %(reason)s. Confirm with --confirm %(id)s")
                              % {"reason": run.guard_reason, "id": run.pk})


def _status_label(status: str) -> str:
    return str(dict(OperationStatus.choices).get(status, status))
