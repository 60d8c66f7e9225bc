"""What earlier runs kept of people's data becomes what the app keeps now (hrsync.privacy)."""
from django.db import migrations

from hrsync.privacy import digests, journal_details


def minimise(apps, schema_editor):
    PersonMapping = apps.get_model("hrsync", "PersonMapping")
    SyncOperation = apps.get_model("hrsync", "SyncOperation")
    for mapping in PersonMapping.objects.exclude(synced_fields={}).iterator():
        mapping.synced_fields = digests(mapping.synced_fields)
        mapping.save(update_fields=["synced_fields"])
    for op in SyncOperation.objects.filter(kind__in=["CreateUser", "UpdateUser", "ReactivateUser"]).iterator():
        op.details = journal_details(op.kind, op.details)
        op.save(update_fields=["details"])


class Migration(migrations.Migration):
    dependencies = [("hrsync", "0002_leases")]
    operations = [migrations.RunPython(minimise, migrations.RunPython.noop)]
