"""What earlier runs kept of people's data becomes what the app keeps now (hrsync.privacy)."""
from django.db import migrations

from hrsync.privacy import digest, digests, mask

# The journal of this time named user fields as Bitrix24 does; the masking of that time, kept here so
# the migration means the same whatever hrsync.privacy calls the fields later.
_LEGACY_NAMES = {"EMAIL": "email", "PERSONAL_BIRTHDAY": "birthday", "PERSONAL_MOBILE": "mobile_phone"}


def _masked(name, value):
    return mask(_LEGACY_NAMES.get(name, name), value)


def journal_details(kind, details):
    details = dict(details)
    if isinstance(details.get("fields"), dict):
        fields = details["fields"]
        if fields.get("EMAIL"):
            details["email_digest"] = digest("email", str(fields["EMAIL"]).lower())
        details["fields"] = {name: _masked(name, value) for name, value in fields.items()}
    if isinstance(details.get("changes"), dict):
        details["changes"] = {name: ([_masked(name, v) for v in pair] if isinstance(pair, (list, tuple)) else pair)
                              for name, pair in details["changes"].items()}
    return details


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
