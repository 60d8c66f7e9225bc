from django.db import migrations, models


def edition_from_flag(apps, schema_editor):
    # The old flag meant "КОРП"; the Russian edition is the likelier one (a Kazakh base is chosen on the page).
    apps.get_model("payroll_connector", "PayrollConnection").objects.filter(corp_edition=True).update(edition="corp_ru")


def flag_from_edition(apps, schema_editor):
    apps.get_model("payroll_connector", "PayrollConnection").objects.exclude(edition="standard").update(corp_edition=True)


class Migration(migrations.Migration):
    dependencies = [("payroll_connector", "0003_records_by_row")]

    operations = [
        migrations.AddField(
            model_name="payrollconnection", name="edition",
            field=models.CharField(choices=[
                ("standard", "ZUP 3.1 (ПРОФ, базовая): vacations as «Отпуск»"),
                ("corp_ru", "ZUP КОРП 3.1 (Russia): vacation requests as «Заявка на отпуск»"),
                ("corp_kz", "ZUP КОРП 3.1 for Kazakhstan: vacation requests as «Заявка на отпуск»")],
                default="standard", max_length=10)),
        migrations.RunPython(edition_from_flag, flag_from_edition),
        migrations.RemoveField(model_name="payrollconnection", name="corp_edition"),
    ]
