"""Issue 15, part 3: no change waits for the schedule. A sync asked for while one runs (a pushed change, a
retry) is not dropped as "already running": the running sync starts one follow-up run when it ends, however
many asks came in the meantime. Real Celery workers on Redis, the sandbox portal slowed down so the first run
is still running when the change arrives."""
import time
from datetime import timedelta

import pytest

from hrsync.models import SyncConfig, SyncRun
from hrsync.services import run_sync
from hrsync.tasks import sync_portal
from payroll_connector.services import connect_odata
from tests.conftest import ZUP_TODAY, celery_worker, control
from tests.sync_helpers import ZupEditor

pytestmark = [pytest.mark.slow]


@pytest.fixture
def workers(settings, transactional_db):
    """A worker with three threads: a second task can start while the first still runs."""
    with celery_worker("--pool=threads", "--concurrency=3") as process:
        yield process


def _wait(predicate, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_changes_during_a_run_get_one_follow_up_run_right_after_it(installed, zup, workers):
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run_sync(portal, today=ZUP_TODAY)  # the initial sync, done

    edit = ZupEditor(zup.state.infobase)
    department = zup.state.infobase.entities["Catalog_ПодразделенияОрганизаций"][3]
    position = zup.state.infobase.entities["Catalog_Должности"][0]["Ref_Key"]
    control(sandbox, "faults", {"slow": 6, "slow_seconds": 0.7})  # the next run's first calls take a while
    sync_portal.delay(portal.pk, "schedule")
    assert _wait(lambda: SyncRun.objects.filter(portal=portal, trigger="schedule", finished_at__isnull=True).exists())
    assert _wait(lambda: sandbox.state.faults.slow < 6)  # it calls the portal now: it has read ZUP already

    # While it runs, HR hires someone (the running sync read ZUP before that) and three syncs are asked for.
    person, _employee = edit.hire(last="Новикова", first="Алла", email="novikova.alla@example.ru",
                                  department=department["Ref_Key"], position=position, org=department["Owner_Key"],
                                  hired=ZUP_TODAY - timedelta(days=1))
    for _ in range(3):
        sync_portal.delay(portal.pk, "package")
    assert _wait(lambda: SyncConfig.objects.filter(portal=portal, follow_up_requested_at__isnull=False).exists(), 30)

    assert _wait(lambda: SyncRun.objects.filter(portal=portal, trigger="follow_up", finished_at__isnull=False).exists()), \
        (list(SyncRun.objects.filter(portal=portal).values_list("trigger", "status", "error", "finished_at")),
         SyncConfig.objects.get(portal=portal).follow_up_requested_at)
    first = SyncRun.objects.get(portal=portal, trigger="schedule")
    [follow_up] = SyncRun.objects.filter(portal=portal, trigger="follow_up")
    assert follow_up.started_at >= first.finished_at  # right after it, not with the next schedule
    assert (follow_up.started_at - first.finished_at).total_seconds() < 15
    assert follow_up.planned.get("CreateUser") == 1 and follow_up.outcome["done"] >= 1
    assert any(u.get("XML_ID") == person["Ref_Key"] for u in sandbox.state.users.values())
    time.sleep(2)  # nothing else comes: three asks made one follow-up
    assert SyncRun.objects.filter(portal=portal, dry_run=False).count() == 3
    assert SyncConfig.objects.get(portal=portal).follow_up_requested_at is None
    assert connection  # (the ZUP connection the runs read)
