"""A secret URL for the built-in Webhook workflow action (printed once), and where its fields are."""
from django.core.management.base import BaseCommand, CommandError

from hrsync.writeback import create_webhook
from hrsync.selectors import portal_named


class Command(BaseCommand):
    help = "Create (or replace) the portal's Webhook action URL for vacation requests from a Processes list."

    def add_arguments(self, parser):
        parser.add_argument("--portal", required=True)
        parser.add_argument("--iblock-id", type=int, required=True, help="the list (Processes) of vacation requests")
        parser.add_argument("--first-day-field", required=True, help="e.g. PROPERTY_101")
        parser.add_argument("--last-day-field", required=True)
        parser.add_argument("--employee-field", default="CREATED_BY")
        parser.add_argument("--kind-field", default="", help="empty: every request is ОтпускОсновной")
        parser.add_argument("--comment-field", default="")

    def handle(self, *args, **opts):
        portal = portal_named(opts["portal"])
        if portal is None:
            raise CommandError(f"No portal {opts['portal']!r}.")
        url = create_webhook(portal, iblock_id=opts["iblock_id"], first_day_field=opts["first_day_field"],
                             last_day_field=opts["last_day_field"], employee_field=opts["employee_field"],
                             kind_field=opts["kind_field"], comment_field=opts["comment_field"])
        self.stdout.write(f"Put this URL into the workflow's Webhook action (shown once):\n{url}")
