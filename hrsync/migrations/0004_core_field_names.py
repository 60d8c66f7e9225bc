"""The user fields the app last wrote are now keyed by the core's names (first_name, email, …) instead
of Bitrix24's (NAME, EMAIL, …). Each entry is a keyed digest that includes its field's name, so an
old entry cannot be carried over; they are cleared. The only effect: on the first run after the
upgrade, a field someone edited in Bitrix24 is reported as "changed in ZUP" instead of "edited in
Bitrix24" (ZUP's value is put back either way), and from then on the new entries are used."""
from django.db import migrations


def clear_written_fields(apps, schema_editor):
    PersonMapping = apps.get_model("hrsync", "PersonMapping")
    PersonMapping.objects.exclude(synced_fields={}).update(synced_fields={})


class Migration(migrations.Migration):
    dependencies = [("hrsync", "0003_personal_data")]
    operations = [migrations.RunPython(clear_written_fields, migrations.RunPython.noop)]
