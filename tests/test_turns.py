"""Issue 15, part 5: many portals at once. A run that has held its worker for its slice gives it back when
other work waits in the queue: it pauses and is continued behind that work. One real Celery worker (one
process, one task at a time); portal A's first sync is paced by a small bucket, portal B's waits behind it."""
import time

import pytest

from hrsync.models import RunStatus, SyncRun
from hrsync.tasks import sync_portal
from payroll_connector.services import connect_odata
from tests.conftest import celery_worker, install
from tests.sync_helpers import first_run_ended

pytestmark = [pytest.mark.slow]


def test_a_long_run_gives_its_worker_to_a_waiting_portal(sandbox_factory, zup, transactional_db):
    slow, quick = sandbox_factory(rate=2.0, burst=5), sandbox_factory()
    big, small = install(slow), install(quick)
    for portal in (big, small):
        connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    with celery_worker("--pool=solo", env={"HRSYNC_RUN_SLICE_SECONDS": "2"}):
        sync_portal.delay(big.pk, "manual")
        deadline = time.time() + 30
        while not SyncRun.objects.filter(portal=big).exists() and time.time() < deadline:
            time.sleep(0.1)
        sync_portal.delay(small.pk, "manual")  # waits in the queue: the only worker runs the big sync
        small_run, big_run = first_run_ended(small), first_run_ended(big)
    assert small_run.status == big_run.status == RunStatus.SUCCEEDED, (small_run.error, big_run.error)
    assert small_run.finished_at < big_run.finished_at  # it did not wait for the whole of the big one
    assert big_run.segments >= 2 and small_run.segments == 1
    assert big_run.outcome["failed"] == 0 and big_run.outcome["done"] == sum(big_run.planned.values())
