"""Show what hrsync reads from 1C:ZUP for a portal: counts and every record it cannot sync, with why."""
import json

from django.core.management.base import BaseCommand, CommandError

from hrsync.selectors import portal_named
from payroll_connector.errors import PayrollError
from payroll_connector.models import PayrollConnection
from payroll_connector.services import read_snapshot


class Command(BaseCommand):
    help = "Read the portal's 1C:ZUP snapshot (OData or the pushed state) and print a summary and its problems."

    def add_arguments(self, parser):
        parser.add_argument("--portal", required=True, help="the portal's domain (or member_id)")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--problems", type=int, default=20, help="how many problems to list (0: all)")

    def handle(self, *args, **opts):
        portal = portal_named(opts["portal"])
        connection = PayrollConnection.objects.filter(portal=portal).first() if portal else None
        if connection is None:
            raise CommandError(f"Portal {opts['portal']!r} has no 1C:ZUP connection: run payroll_connect first.")
        try:
            snapshot = read_snapshot(connection)
        except PayrollError as exc:
            raise CommandError(exc.message) from exc
        summary = {
            "organisations": len(snapshot.organisations), "departments": len(snapshot.departments),
            "positions": len(snapshot.positions), "persons": len(snapshot.persons),
            "employments": sum(len(p.employments) for p in snapshot.persons), "heads": len(snapshot.heads),
            "absences": len(snapshot.absences), "blocked": len(snapshot.blocked), "problems": len(snapshot.problems),
        }
        problems = [{"entity": p.entity, "record": p.record, "field": p.field, "code": p.code, "problem": p.message,
                     "blocking": p.blocking, "label": p.label} for p in snapshot.problems]
        if opts["json"]:
            self.stdout.write(json.dumps({"summary": summary, "problems": problems}, ensure_ascii=False, indent=2))
            return
        self.stdout.write("  ".join(f"{k}: {v}" for k, v in summary.items()))
        shown = problems if opts["problems"] == 0 else problems[:opts["problems"]]
        for p in shown:
            marker = "blocked" if p["blocking"] else "warning"
            who = f"{p['label']} ({p['record']})" if p["label"] else p["record"]
            self.stdout.write(f"  [{marker}] {p['entity']} {who} {p['field']}: {p['problem']}")
        if len(shown) < len(problems):
            self.stdout.write(f"  … and {len(problems) - len(shown)} more (--problems 0 lists all)")
