"""Delete runs, journals and processed push packages older than the retention period (152-ФЗ)."""
from django.conf import settings
from django.core.management.base import BaseCommand

from hrsync.privacy import prune_history


class Command(BaseCommand):
    help = "Delete sync runs with their journals and processed push packages older than HRSYNC_RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"keep this many days (default HRSYNC_RETENTION_DAYS, now {settings.HRSYNC_RETENTION_DAYS})")

    def handle(self, *args, days=None, **options):
        removed = prune_history(days)
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in removed.items()))
