"""Connect a portal by an incoming webhook (one company, on-premise Bitrix24): no app to install.

    python manage.py portal_connect --webhook https://company.bitrix24.ru/rest/1/abc123def456/

The webhook needs the permissions user, department and calendar (im, timeman and lists when those
features are wanted). The key is stored encrypted; it is never printed or logged.
"""
from django.core.management.base import BaseCommand, CommandError

from bitrix_app.services import WebhookRefused, connect_webhook


class Command(BaseCommand):
    help = "Connect a Bitrix24 portal by an incoming webhook URL."

    def add_arguments(self, parser):
        parser.add_argument("--webhook", required=True, help="https://<portal>/rest/<user id>/<key>/")

    def handle(self, *args, **options):
        try:
            portal = connect_webhook(options["webhook"])
        except WebhookRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Connected {portal.domain} by an incoming webhook of user {portal.webhook_user_id} "
                          f"(permissions: {portal.scope}). Connect 1C:ZUP next: payroll_connect --portal {portal.domain}")
