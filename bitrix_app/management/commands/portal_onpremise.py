"""Name the on-premise Bitrix24 portals that may install the app with themselves as the OAuth server.

    python manage.py portal_onpremise https://bitrix.example.ru
    python manage.py portal_onpremise https://bitrix.example.ru --client-id local.65f0… --client-secret-env B24_SECRET
    python manage.py portal_onpremise --list
    python manage.py portal_onpremise https://bitrix.example.ru --remove

A cloud portal's install is proven by Bitrix24's OAuth server; a box portal whose SERVER_ENDPOINT is its
own address is trusted because the operator named it here, one portal at a time. The client secret of a
local application is read from an environment variable, so it never lands in the shell's history.
"""
import os

from django.core.management.base import BaseCommand, CommandError

from bitrix_app.models import OnPremisePortal
from bitrix_app.services import OnPremiseRefused, allow_on_premise, forbid_on_premise


class Command(BaseCommand):
    help = "Allow (or remove) an on-premise Bitrix24 portal that is its own OAuth server."

    def add_arguments(self, parser):
        parser.add_argument("url", nargs="?", help="the portal's address, https://bitrix.example.ru")
        parser.add_argument("--client-id", default="", help="the local application's client_id, if it has its own")
        parser.add_argument("--client-secret-env", default="", help="environment variable holding its client_secret")
        parser.add_argument("--note", default="")
        parser.add_argument("--remove", action="store_true")
        parser.add_argument("--list", action="store_true")

    def handle(self, *args, **options):
        if options["list"]:
            for entry in OnPremisePortal.objects.select_related("portal"):
                bound = entry.portal.member_id if entry.portal else "not installed yet"
                own = f"client_id {entry.client_id}" if entry.client_id else "the app's client_id"
                self.stdout.write(f"{entry.base_url}  {bound}  {own}  {entry.note}")
            return
        if not options["url"]:
            raise CommandError("name the portal's address, or give --list")
        if options["remove"]:
            if not forbid_on_premise(options["url"]):
                raise CommandError(f"{options['url']} is not on the list")
            self.stdout.write(f"Removed {options['url']}")
            return
        secret = ""
        if options["client_secret_env"]:
            secret = os.environ.get(options["client_secret_env"], "")
            if not secret:
                raise CommandError(f"the environment variable {options['client_secret_env']} is empty")
        try:
            entry = allow_on_premise(options["url"], client_id=options["client_id"], client_secret=secret,
                                     note=options["note"])
        except OnPremiseRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{entry.base_url} may install the app now (its OAuth server: itself). Register the app "
                          "there with the handler URLs from the README, then install it from that portal.")
