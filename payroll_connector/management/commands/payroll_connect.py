"""Connect a portal to its 1C:ZUP: OData (the app reads ZUP) or push (1C sends; prints the key once)."""
from django.core.management.base import BaseCommand, CommandError

from hrsync.selectors import portal_named
from payroll_connector import services


class Command(BaseCommand):
    help = "Connect a portal to 1C:ZUP by OData (--odata-url, --username, --password) or by push (--push)."

    def add_arguments(self, parser):
        parser.add_argument("--portal", required=True, help="the portal's domain (or member_id)")
        parser.add_argument("--odata-url", help="…/odata/standard.odata/ of the ZUP infobase")
        parser.add_argument("--username")
        parser.add_argument("--password")
        parser.add_argument("--push", action="store_true", help="1C will push; prints a new key")
        parser.add_argument("--organisation", action="append", default=[],
                            help="sync only this ZUP organisation (GUID or name); repeatable")
        parser.add_argument("--no-check", action="store_true", help="do not read ZUP to check the connection")

    def handle(self, *args, **opts):
        portal = portal_named(opts["portal"])
        if portal is None:
            raise CommandError(f"No portal {opts['portal']!r}: install the app into it first.")
        if opts["push"] == bool(opts["odata_url"]):
            raise CommandError("Give either --push or --odata-url (with --username and --password).")
        if opts["push"]:
            connection, key = services.connect_push(portal, organisation_filter=opts["organisation"])
            self.stdout.write(f"Portal {portal.domain} now receives pushes from 1C.\n"
                              f"Push key (shown once, keep it in the 1C settings): {key}\n"
                              f"Packages: POST /payroll/api/v1/packages with 'Authorization: Bearer <key>'")
            return
        if not opts["username"] or opts["password"] is None:
            raise CommandError("--odata-url needs --username and --password.")
        connection = services.connect_odata(portal, url=opts["odata_url"], username=opts["username"],
                                            password=opts["password"], organisation_filter=opts["organisation"])
        self.stdout.write(f"Portal {portal.domain} reads 1C:ZUP at {connection.odata_url}.")
        if opts["no_check"]:
            return
        failed = {entity: outcome for entity, outcome in services.check_odata(connection).items() if outcome != "ok"}
        for entity, outcome in failed.items():
            self.stderr.write(f"  {entity}: {outcome}")
        if failed:
            raise CommandError("The connection is saved, but ZUP cannot be read yet: fix the above and run again.")
        self.stdout.write("Checked: every entity set the sync needs can be read.")
