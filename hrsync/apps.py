from django.apps import AppConfig


class HrsyncConfig(AppConfig):
    name = "hrsync"
    verbose_name = "hrsync"

    def ready(self) -> None:
        # Wiring, once the apps are loaded: the two adapters announce what happened (signals), the
        # orchestration reacts (tasks). Importing these at module level would load models before the
        # app registry is ready, which Django forbids; ready() is the place Django gives for it.
        from bitrix_app.signals import portal_data_deletion_requested, portal_installed
        from payroll_connector.signals import outbox_acknowledged, package_processed

        from . import celery  # noqa: F401  (binds @shared_task to the app in every process)
        from .tasks import (
            delete_after_uninstall,
            register_after_install,
            report_after_ack,
            sync_after_package,
        )

        package_processed.connect(sync_after_package, dispatch_uid="hrsync-sync-after-package")
        outbox_acknowledged.connect(report_after_ack, dispatch_uid="hrsync-report-after-ack")
        portal_data_deletion_requested.connect(delete_after_uninstall, dispatch_uid="hrsync-delete-after-uninstall")
        portal_installed.connect(register_after_install, dispatch_uid="hrsync-register-after-install")
