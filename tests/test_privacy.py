"""Personal data (152-ФЗ): the journal keeps what it shows, masked; nothing is kept longer than the retention."""
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from hrsync.models import PersonMapping, RunStatus, SyncOperation, SyncRun
from hrsync.services import run_sync
from payroll_connector.models import PayrollPackage
from payroll_connector.services import connect_odata, read_snapshot
from tests.conftest import ZUP_TODAY


def test_no_run_keeps_another_copy_of_anyones_contact_data(installed, zup):
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run = run_sync(portal, today=ZUP_TODAY)
    assert run.status == RunStatus.SUCCEEDED, run.error
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    secrets = {p.email for p in snapshot.persons if p.email} | {p.birthday.isoformat() for p in snapshot.persons if p.birthday} \
        | {phone for p in snapshot.persons for phone in p.phones if len(phone) > 4}
    journal = " ".join(str(op.details) for op in SyncOperation.objects.filter(run__portal=portal))
    mappings = " ".join(str(m.synced_fields) for m in PersonMapping.objects.filter(portal=portal))
    assert secrets and not [s for s in secrets if s in journal or s in mappings]
    created = SyncOperation.objects.filter(run=run, kind="CreateUser").first()
    assert created.details["fields"]["email"].count("***@") == 1 and created.details["email_digest"]
    assert created.details["fields"]["last_name"]  # what the journal shows stays readable


def test_history_older_than_the_retention_is_pruned(installed, settings):
    sandbox, portal = installed
    settings.HRSYNC_RETENTION_DAYS = 90
    old = timezone.now() - timedelta(days=91)
    stale = [SyncRun.objects.create(portal=portal, status=RunStatus.SUCCEEDED) for _ in range(2)]
    waiting = SyncRun.objects.create(portal=portal, status=RunStatus.WAITING)
    SyncOperation.objects.create(run=stale[0], seq=1, kind="CreateUser", phase="users", payroll_id="x")
    SyncRun.objects.filter(pk__in=[r.pk for r in [*stale, waiting]]).update(started_at=old)
    newest = SyncRun.objects.create(portal=portal, status=RunStatus.SUCCEEDED)
    SyncRun.objects.filter(pk=newest.pk).update(started_at=old + timedelta(hours=1))  # old, but the newest
    from payroll_connector.services import connect_push

    connection, _key = connect_push(portal)
    for package_id, status in (("old-done", "processed"), ("old-waiting", "waiting_for_parts"), ("new-done", "processed")):
        PayrollPackage.objects.create(connection=connection, package_id=package_id, kind="snapshot", status=status)
    PayrollPackage.objects.filter(package_id__startswith="old").update(received_at=old)
    from payroll_connector.models import OutboxItem

    done = OutboxItem.objects.create(portal=portal, kind="overtime", key="o1", status="delivered", payload={"date": "2026-01-05"})
    pending = OutboxItem.objects.create(portal=portal, kind="overtime", key="o2", status="pending", payload={})
    OutboxItem.objects.filter(pk__in=[done.pk, pending.pk]).update(updated_at=old)
    out = StringIO()
    call_command("prune_history", stdout=out)
    assert "runs: 2" in out.getvalue() and "operations: 1" in out.getvalue()
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {waiting.pk, newest.pk}
    assert set(PayrollPackage.objects.values_list("package_id", flat=True)) == {"old-waiting", "new-done"}
    assert list(OutboxItem.objects.values_list("pk", flat=True)) == [pending.pk]  # still owed to ZUP
