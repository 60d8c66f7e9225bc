"""Faults with real Celery workers on Redis: slow 1C, a batch that waits longer than a lease, kill -9.

Whatever happens, nothing is written twice (users, departments, calendar events, ZUP documents), and a
run whose worker died is resumed within a minute, never left "running".
"""
from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter

import pytest
import redis
from django.conf import settings

from bitrix_app.models import Portal
from hrsync.locks import SyncBusy
from hrsync.models import OperationStatus, PersonMapping, RunStatus, SyncRun
from hrsync.services import portal_today, run_sync, sync_config
from payroll_connector.models import OutboxItem, OutboxStatus
from payroll_connector.services import connect_odata, read_snapshot
from tests.conftest import PYTHON, ROOT, ZUP_TODAY, child_env, control, install
from tests.sync_helpers import assert_portal_matches

pytestmark = pytest.mark.slow


class Processes:
    """Celery workers and beat as separate processes, each in its own process group (kill -9 reaches all)."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        process = subprocess.Popen([PYTHON, "-m", "celery", "-A", "hrsync", *args, "--loglevel=WARNING"], cwd=ROOT,
                                   env=child_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        self.running.append(process)
        return process

    def worker(self, **env: str) -> subprocess.Popen:
        return self.start("worker", "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat", **env)

    def beat(self, **env: str) -> subprocess.Popen:
        return self.start("beat", "--schedule=/tmp/hrsync-test-beat", **env)

    @staticmethod
    def kill9(process: subprocess.Popen) -> None:
        import os

        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def processes(transactional_db):
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    running = Processes()
    yield running
    running.stop()


def _wait(predicate, seconds: float, what: str):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _no_doubles(sandbox) -> None:
    xml = Counter(u["XML_ID"] for u in sandbox.state.users.values() if u["XML_ID"])
    assert not [k for k, n in xml.items() if n > 1], "a person became two users"
    tree = Counter((d["NAME"], d["PARENT"]) for d in sandbox.state.departments.values())
    assert not [k for k, n in tree.items() if n > 1], "a department was created twice"
    events = Counter((e["OWNER_ID"], e["DATE_FROM"], e["DATE_TO"]) for e in sandbox.state.events.values())
    assert not [k for k, n in events.items() if n > 1], "an absence became two events"


@pytest.fixture
def synced_for_requests(installed, zup, settings):
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    assert run_sync(portal, today=ZUP_TODAY).status == RunStatus.SUCCEEDED
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    mapped = dict(PersonMapping.objects.filter(portal=portal).values_list("payroll_id", "user_id"))
    people = [mapped[p.guid] for p in snapshot.persons if p.guid in mapped
              and all(e.termination_date is None and e.hire_date < ZUP_TODAY for e in p.employments)]
    return sandbox, portal, zup, people


def _request_vacation(sandbox, user_id: int, month: int) -> dict:
    return control(sandbox, "bizproc/run", {"properties": {
        "employee": f"user_{user_id}", "kind": "ОтпускОсновной", "first_day": f"01.{month:02d}.2027",
        "last_day": f"05.{month:02d}.2027", "comment": "Согласовано"}})


def test_deliveries_slower_than_the_lease_create_each_document_once(synced_for_requests, processes):
    from hrsync.tasks import process_portal_outbox

    sandbox, portal, zup, people = synced_for_requests
    zup.state.slow_post_seconds = 2.5  # 1C takes longer to write a document than the workers' lease lives
    for _ in range(2):
        processes.worker(HRSYNC_LEASE_TTL="1")
    for month, user_id in zip((3, 4), people):
        assert _request_vacation(sandbox, user_id, month)["status"] == 200  # each call queues a delivery
    _wait(lambda: zup.state.posts > 0, 60, "the first document POST")
    time.sleep(1.5)  # the first delivery's lease would have lapsed by now without its heartbeat
    for _ in range(3):
        process_portal_outbox.delay(portal.pk)
    _wait(lambda: OutboxItem.objects.filter(portal=portal, status=OutboxStatus.PENDING).count() == 0
          and OutboxItem.objects.filter(portal=portal, reported_at__isnull=True).count() == 0, 90, "the deliveries")
    documents = list(zup.state.infobase.documents.get("Document_Отпуск", {}).values())
    assert len(documents) == 2
    assert OutboxItem.objects.filter(portal=portal, status=OutboxStatus.DELIVERED).count() == 2
    assert len(sandbox.state.bizproc_events_sent) == 2


def test_a_worker_killed_mid_delivery_leaves_one_document(synced_for_requests, processes):
    from hrsync.tasks import process_portal_outbox

    sandbox, portal, zup, people = synced_for_requests
    worker = processes.worker()
    zup.state.slow_seconds = 1.5
    posts = zup.state.posts
    _request_vacation(sandbox, people[0], 7)
    _wait(lambda: zup.state.posts > posts, 60, "the document POST")
    Processes.kill9(worker)  # the POST is on its way; 1C creates the document, the worker never hears back
    _wait(lambda: zup.state.infobase.documents.get("Document_Отпуск"), 10, "the document in 1C")
    zup.state.slow_seconds = 0
    processes.worker()

    def delivered():
        # Beat's process_all_outboxes asks every minute; here every second. The dead worker's lease makes
        # the first asks "busy" until it lapses (HRSYNC_LEASE_TTL).
        process_portal_outbox.delay(portal.pk)
        time.sleep(1)
        return OutboxItem.objects.filter(portal=portal, status=OutboxStatus.DELIVERED).first()

    item = _wait(delivered, 60, "the item delivered by the next worker")
    [document] = zup.state.infobase.documents["Document_Отпуск"].values()
    assert item.document_ref == document["Ref_Key"] and item.marker in document["Комментарий"]


def test_a_batch_that_waits_past_the_lease_keeps_the_portal(installed, zup, processes):
    from hrsync.tasks import sync_portal

    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    processes.worker(HRSYNC_LEASE_TTL="1", TEST_BITRIX_HTTP_TIMEOUT="15")
    result = sync_portal.delay(portal.pk, "manual")
    _wait(lambda: sandbox.state.stats["by_method"].get("department.add"), 60, "the first writes")
    control(sandbox, "faults", {"slow": 1, "slow_seconds": 4})  # the next batch is held 4 lease lifetimes
    time.sleep(2.5)
    with pytest.raises(SyncBusy):  # the live run still owns the portal while its batch waits
        run_sync(portal, today=ZUP_TODAY)
    outcome = result.get(timeout=120)
    assert outcome["status"] == RunStatus.SUCCEEDED, outcome
    run = SyncRun.objects.get(pk=outcome["run"])
    assert not run.operations.filter(status__in=[OperationStatus.LOST, OperationStatus.INTENT]).exists()
    _no_doubles(sandbox)
    today = portal_today(sync_config(portal))  # the task syncs as of the portal's today
    assert_portal_matches(read_snapshot(connection, today=today), sandbox.state, portal, today)
    assert run_sync(portal).planned == {}


def test_a_run_whose_worker_was_killed_is_resumed_within_a_minute(sandbox_factory, zup, processes):
    from hrsync.tasks import sync_portal

    sandbox = sandbox_factory(rate=20.0, burst=10)
    portal = install(sandbox)
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    worker = processes.worker()
    sync_portal.delay(portal.pk, "manual")
    _wait(lambda: sandbox.state.stats["by_method"].get("user.add"), 60, "the run's user.add")
    control(sandbox, "faults", {"slow": 1, "slow_seconds": 1.0})
    time.sleep(0.5)
    Processes.kill9(worker)
    killed_at = time.time()
    killed = SyncRun.objects.get(portal=portal)
    assert killed.status == RunStatus.RUNNING
    processes.worker()
    processes.beat()
    resumed = _wait(lambda: SyncRun.objects.filter(portal=portal, trigger="resume", finished_at__isnull=False).first(),
                    60, "the resumed run")
    assert resumed.started_at.timestamp() - killed_at < 60
    assert resumed.status == RunStatus.SUCCEEDED, resumed.error
    killed.refresh_from_db()
    assert killed.status == RunStatus.INTERRUPTED
    assert not SyncRun.objects.filter(portal=portal, status=RunStatus.RUNNING).exists()
    assert killed.operations.filter(status=OperationStatus.INTENT).count() == 0
    _no_doubles(sandbox)
    today = portal_today(sync_config(portal))
    assert_portal_matches(read_snapshot(connection, today=today), sandbox.state, portal, today)
    assert run_sync(portal).planned == {}


def test_two_command_line_runs_without_redis_never_overlap(installed, zup):
    """The demo's configuration (no REDIS_URL, no broker): the lease in the database still holds."""
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    control(sandbox, "limits", {"rate": 4.0, "burst": 4})  # slow enough that the two runs meet (a run: ~6 s)
    env = child_env(REDIS_URL="", CELERY_BROKER_URL="", RATE_LIMITER="local")
    command = [PYTHON, "manage.py", "sync_portal", "--portal", portal.domain, "--today", ZUP_TODAY.isoformat()]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outcomes = [run.communicate(timeout=300) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 1], outcomes
    assert any("held by another worker" in err for _, err in outcomes), outcomes
    _no_doubles(sandbox)
    assert_portal_matches(read_snapshot(connection, today=ZUP_TODAY), sandbox.state, portal, ZUP_TODAY)


def test_a_portal_uninstalled_with_clear_data_during_its_sync_goes_once_the_run_stops(installed, zup, processes):
    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    control(sandbox, "limits", {"rate": 20.0, "burst": 10})
    processes.worker()  # runs the deletion
    run = subprocess.Popen([PYTHON, "manage.py", "sync_portal", "--portal", portal.domain, "--today", ZUP_TODAY.isoformat()],
                           cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait(lambda: sandbox.state.stats["by_method"].get("user.add"), 60, "the run's writes")
    answer = control(sandbox, "uninstall", {"clean": 1})  # "clear application data" while the run writes
    assert answer["deliveries"][0]["status"] == 200, answer
    out, err = run.communicate(timeout=120)
    assert run.returncode == 1 and "Traceback" not in err and "IntegrityError" not in err, err[-2000:]
    _wait(lambda: not Portal.objects.filter(pk=portal.pk).exists(), 60, "the portal's data deleted")
    assert not SyncRun.objects.filter(portal_id=portal.pk).exists()
