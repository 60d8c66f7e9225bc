from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BitrixAppConfig(AppConfig):
    name = "bitrix_app"
    verbose_name = _("Bitrix24 app")
