from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayrollConnectorConfig(AppConfig):
    name = "payroll_connector"
    verbose_name = _("1C:ZUP connector")
