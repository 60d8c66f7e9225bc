from django.apps import AppConfig


class HrsyncConfig(AppConfig):
    name = "hrsync"
    verbose_name = "hrsync"

    def ready(self) -> None:
        from payroll_connector.signals import outbox_acknowledged, package_processed

        from .tasks import report_after_ack, sync_after_package

        package_processed.connect(sync_after_package, dispatch_uid="hrsync-sync-after-package")
        outbox_acknowledged.connect(report_after_ack, dispatch_uid="hrsync-report-after-ack")
