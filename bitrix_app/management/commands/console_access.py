"""Give a console user a portal (or take it back); the same as the Portal page in /admin/.

    python manage.py console_access --user hr.ivanova --portal company.bitrix24.ru --admin
    python manage.py console_access --user hr.ivanova --portal company.bitrix24.ru --revoke

The user is made with `createsuperuser` (an operator, who sees every portal) or in /admin/; `--admin`
lets them change settings and run synchronisations, without it they only look.
"""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bitrix_app.models import Portal, PortalMember


class Command(BaseCommand):
    help = "Give a console user access to one portal, or take it back."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--portal", required=True, help="the portal's domain or member_id")
        parser.add_argument("--admin", action="store_true", help="may change settings and run syncs")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}: make it in /admin/ or with createsuperuser first")
        portal = Portal.objects.named(options["portal"])
        if portal is None:
            raise CommandError(f"no portal {options['portal']!r}")
        if options["revoke"]:
            PortalMember.objects.filter(user=user, portal=portal).delete()
            self.stdout.write(f"{user} can no longer open {portal.domain} in the console")
            return
        PortalMember.objects.update_or_create(user=user, portal=portal, defaults={"is_admin": options["admin"]})
        role = "change settings and run syncs" if options["admin"] else "look (read only)"
        self.stdout.write(f"{user} may open {portal.domain} in the console and {role}")
