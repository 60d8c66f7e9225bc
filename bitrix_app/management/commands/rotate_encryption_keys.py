"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEY.

Rotation: put the new key first (keep the old ones after it), deploy, run this command, then drop the
old keys from the setting.
"""
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from hrsync.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = "Re-encrypt stored secrets (OAuth tokens, 1C passwords) with the current encryption key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            columns = [connection.ops.quote_name(f.column) for f in fields]
            with transaction.atomic(), connection.cursor() as cursor:
                # Raw SQL: the ciphertext itself is rotated, without a decrypt/encrypt round trip
                # through the model (which would also bump auto_now fields).
                cursor.execute(f"SELECT {pk}, {', '.join(columns)} FROM {table}")
                for row in cursor.fetchall():
                    values = [rotate(v) if v else v for v in row[1:]]
                    cursor.execute(f"UPDATE {table} SET {', '.join(c + ' = %s' for c in columns)} WHERE {pk} = %s",
                                   [*values, row[0]])
                    total += 1
        self.stdout.write(f"Re-encrypted {total} rows.")
