from django.apps import AppConfig


class HrsyncConfig(AppConfig):
    name = "hrsync"
    verbose_name = "hrsync"

    def ready(self) -> None:
        from bitrix_app.signals import portal_data_deletion_requested
        from payroll_connector.signals import outbox_acknowledged, package_processed

        from .tasks import delete_after_uninstall, report_after_ack, sync_after_package

        package_processed.connect(sync_after_package, dispatch_uid="hrsync-sync-after-package")
        outbox_acknowledged.connect(report_after_ack, dispatch_uid="hrsync-report-after-ack")
        portal_data_deletion_requested.connect(delete_after_uninstall, dispatch_uid="hrsync-delete-after-uninstall")
