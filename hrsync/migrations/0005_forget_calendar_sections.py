from django.db import migrations


class Migration(migrations.Migration):
    """Absences no longer name a calendar section: Bitrix24 picks the user's own (issue 9, defect 7), so the
    sections found with calendar.section.get are not kept."""

    dependencies = [
        ('hrsync', '0004_core_field_names'),
    ]

    operations = [
        migrations.DeleteModel(
            name='UserCalendar',
        ),
    ]
