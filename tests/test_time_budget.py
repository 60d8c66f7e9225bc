"""Issue 15, part 4: Bitrix24's time budget per method. The sandbox portal keeps it as the rest module's
LoadLimiter does (sandbox/bitrix24/operating.py, with its source), shrunk in time so a test lives through
several windows: user.add takes 12 ms of server time, the budget is a second or two per 3-second window, a ban
lasts 1 s. A real Celery worker runs the sync; a run the portal holds back pauses, frees the worker, and is
continued (the same run) when the portal allows."""
import time

import pytest

from hrsync.models import OperationStatus, RunStatus, SyncRun
from hrsync.services import portal_today, sync_config
from hrsync.tasks import sync_portal
from payroll_connector.services import connect_odata, read_snapshot
from tests.conftest import celery_worker, control
from tests.sync_helpers import assert_portal_matches, first_run_ended

pytestmark = [pytest.mark.slow]

USER_ADD_SECONDS = 0.012  # 300 people: 3.6 s of user.add, past one window's budget several times


def _budget(sandbox, *, limit: float) -> None:
    control(sandbox, "limits", {"operating": {"limit": limit, "bucket_seconds": 0.3, "ban_seconds": 1},
                                "server_time": {"user.add": USER_ADD_SECONDS}})


def _assert_complete(sandbox, portal, zup, run: SyncRun) -> None:
    assert run.status == RunStatus.SUCCEEDED, (run.status, run.error, run.outcome)
    assert not run.operations.exclude(status=OperationStatus.DONE).exists(), list(
        run.operations.exclude(status=OperationStatus.DONE).values_list("kind", "status", "error_message"))
    assert run.outcome["failed"] == 0 and run.outcome["done"] == sum(run.planned.values())
    # The journal keeps what was done, once: nothing put off is left in it, nothing was written twice.
    assert not run.operations.exclude(status=OperationStatus.DONE).exists()
    assert run.operations.filter(kind="CreateUser").count() == run.planned["CreateUser"]
    today = portal_today(sync_config(portal))
    assert_portal_matches(read_snapshot(portal.payroll_connection, today=today), sandbox.state, portal, today)
    assert SyncRun.objects.filter(portal=portal, dry_run=False).count() == 1  # one run, continued


def test_a_429_mid_run_is_waited_out_and_the_run_completes(installed, zup, transactional_db):
    """The app is told a budget far above the portal's (480 s against 0.6 s): the portal bans user.add mid-run,
    every 429 puts its commands off (not failed), and the run goes on after each ban, to the end."""
    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    _budget(sandbox, limit=0.6)
    with celery_worker(env={"BITRIX_OPERATING_BAN": "1"}):
        sync_portal.delay(portal.pk, "manual")
        run = first_run_ended(portal)
    assert sandbox.state.stats["rejected_429"] >= 2  # banned more than once: it did happen, mid-run
    assert run.segments >= 3
    _assert_complete(sandbox, portal, zup, run)


def test_a_run_paced_to_the_budget_is_never_refused(installed, zup, transactional_db):
    """Told the portal's budget, the app reads `operating` from each answer and sends no command the budget
    cannot take: no 429 at all. A wait longer than it sleeps (10 ms) pauses the run, and a continuation scheduled
    for the time the portal named picks it up."""
    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    _budget(sandbox, limit=1.5)
    with celery_worker(env={"BITRIX_OPERATING_LIMIT": "1.5", "BITRIX_OPERATING_MARGIN": "0.2",
                            "BITRIX_MAX_OPERATING_WAIT": "0.01"}):
        sync_portal.delay(portal.pk, "manual")
        run = first_run_ended(portal)
    assert sandbox.state.stats["rejected_429"] == 0
    assert run.segments >= 2 or run.costs["budget_wait_s"] > 0  # it was held back (a pause, or a short sleep)
    _assert_complete(sandbox, portal, zup, run)


def test_a_trigger_while_paused_is_carried_by_the_continuation(installed, zup, transactional_db, eager_celery):
    """A pushed change or the schedule during the pause starts no second run: the paused one reads both
    sides afresh when it goes on."""
    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run = SyncRun.objects.create(portal=portal, status=RunStatus.PAUSED, trigger="schedule",
                                 resume_at=time_in(60))
    answer = sync_portal(portal.pk, "push")
    assert answer["skipped"] == "paused" and answer["run"] == run.pk
    assert SyncRun.objects.filter(portal=portal).count() == 1
    stale = sync_portal(portal.pk, "continue", run_id=run.pk + 1000)  # a continuation of no paused run
    assert stale["skipped"] == "paused"


def time_in(seconds: float):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(seconds=seconds)
