from django.apps import AppConfig


class HrsyncConfig(AppConfig):
    name = "hrsync"
    verbose_name = "hrsync"

    def ready(self) -> None:
        from payroll_connector.signals import package_processed

        from .tasks import sync_after_package

        package_processed.connect(sync_after_package, dispatch_uid="hrsync-sync-after-package")
