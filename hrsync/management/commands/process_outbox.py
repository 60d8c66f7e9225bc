"""Deliver a portal's requests to 1C:ZUP now and tell the waiting workflows (what the beat task does)."""
from django.core.management.base import BaseCommand, CommandError

from hrsync.writeback import collect_overtime, process_outbox
from hrsync.selectors import portal_named


class Command(BaseCommand):
    help = "Deliver pending vacation requests and overtime of a portal to 1C:ZUP; --overtime YYYY-MM collects first."

    def add_arguments(self, parser):
        parser.add_argument("--portal", required=True)
        parser.add_argument("--overtime", metavar="YYYY-MM", help="collect this month's overtime from time tracking first")

    def handle(self, *args, **opts):
        portal = portal_named(opts["portal"])
        if portal is None:
            raise CommandError(f"No portal {opts['portal']!r}.")
        if opts["overtime"]:
            year, month = (int(x) for x in opts["overtime"].split("-"))
            self.stdout.write(f"Overtime {opts['overtime']}: {collect_overtime(portal, year, month)}")
        self.stdout.write(f"Outbox: {process_outbox(portal)}")
