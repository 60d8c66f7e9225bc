"""Issue 15, part 2: a run for a pushed change does work sized by the change. It reads, of 1C's pushed state and
of the portal, only the people the package touched (and the department tree), plans only for them, and leaves
everyone else alone; the whole run that follows finds nothing left to do."""
from __future__ import annotations

import json
import uuid

from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from hrsync.models import RunStatus, SyncRun
from hrsync.services import run_sync
from hrsync.tasks import sync_portal
from payroll_connector.services import connect_push, process_package, read_snapshot, receive_package
from sandbox.zup.generator import generate_company
from sandbox.zup.push import changes_package, snapshot_packages, snapshot_records
from tests.conftest import ZUP_TODAY
from tests.sync_helpers import assert_portal_matches


def _push(connection, package: dict):
    stored, _ = receive_package(connection, json.dumps(package).encode())
    return process_package(stored.pk)


def _pushed_portal(portal, size: int):
    connection, _key = connect_push(portal)
    base = generate_company(seed=5, size=size, today=ZUP_TODAY)
    _push(connection, snapshot_packages(base)[0])
    first = run_sync(portal, today=ZUP_TODAY, trigger="push")
    assert first.status == RunStatus.SUCCEEDED and first.scope is None
    return connection, snapshot_records(base)


def _changes(records: dict) -> tuple[list[dict], set[str]]:
    """A hire, a transfer and a vacation: three people."""
    employments = [e for e in records["employments"] if not e["termination_date"]]
    hired = {**records["persons"][0], "guid": str(uuid.uuid4()), "last_name": "Новикова", "first_name": "Алла",
             "email": f"novikova.{uuid.uuid4().hex[:6]}@example.ru"}
    job = {**employments[0], "guid": str(uuid.uuid4()), "person_guid": hired["guid"], "hire_date": "2026-11-20"}
    elsewhere = next(e["department_guid"] for e in employments if e["department_guid"] != employments[1]["department_guid"]
                     and e["organisation_guid"] == employments[1]["organisation_guid"])
    moved = {**employments[1], "department_guid": elsewhere}
    away = employments[3]
    vacation = {"document_guid": str(uuid.uuid4()), "document_kind": "Document_Отпуск", "employment_guid": away["guid"],
                "kind": "ОтпускОсновной", "start": "2026-12-07", "end": "2026-12-20"}
    changes = [{"op": "hire", "person": hired, "employment": job}, {"op": "transfer", "employment": moved},
               {"op": "absence_added", "absence": vacation}]
    return changes, {hired["guid"], moved["person_guid"], away["person_guid"]}


def test_a_pushed_change_is_synced_by_a_run_sized_by_the_change(installed, transactional_db):
    sandbox, portal = installed
    connection, records = _pushed_portal(portal, 300)
    changes, people = _changes(records)
    processed = _push(connection, changes_package(changes))
    assert set(processed.results["summary"]["persons_touched"]) == people

    calls_before = sandbox.state.stats["http_requests"]
    with CaptureQueriesContext(db) as queries:
        run = run_sync(portal, today=ZUP_TODAY, trigger="push", scope=processed.results["summary"]["persons_touched"])
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert set(run.scope) == people
    # The three people's work, nothing else: a new user, a move, an absence.
    assert run.planned == {"CreateUser": 1, "UpdateUser": 1, "AddAbsence": 1}, run.planned
    assert {op.payroll_id for op in run.operations.exclude(kind="AddAbsence")} <= people
    # Reads sized by the change: the tree and three people in two calls (writes in one), not 300 people.
    assert run.rest_calls <= 4 and sandbox.state.stats["http_requests"] - calls_before <= 4
    assert len(queries.captured_queries) < 80, len(queries.captured_queries)
    assert run.source_summary["persons"] == 300  # the pages still describe the whole company

    # Nothing else was touched, nothing was left undone: the whole run that follows has nothing to do.
    whole = run_sync(portal, today=ZUP_TODAY, trigger="schedule")
    assert whole.scope is None and whole.planned == {}, whole.planned
    assert_portal_matches(read_snapshot(connection, today=ZUP_TODAY), sandbox.state, portal, ZUP_TODAY)


def test_a_package_triggers_a_run_for_the_people_it_changed(installed, transactional_db, eager_celery, settings):
    """The package's processing starts the run with the people it touched (the signal, the task, the run)."""
    settings.HRSYNC_SYNC_AFTER_PACKAGE = True
    sandbox, portal = installed
    connection, records = _pushed_portal(portal, 100)
    changes, people = _changes(records)
    _push(connection, changes_package(changes))
    run = SyncRun.objects.filter(portal=portal).order_by("-pk").first()
    assert run.trigger == "push" and set(run.scope) == people


def test_a_run_for_a_change_falls_back_to_the_whole_when_it_must(installed, transactional_db):
    """Before any whole run, or with more people than a partial read is worth, the run reads everything."""
    sandbox, portal = installed
    connection, _key = connect_push(portal)
    base = generate_company(seed=6, size=60, today=ZUP_TODAY)
    _push(connection, snapshot_packages(base)[0])
    someone = snapshot_records(base)["persons"][0]["guid"]
    first = run_sync(portal, today=ZUP_TODAY, trigger="push", scope=[someone])
    assert first.scope is None and first.planned.get("CreateUser", 0) > 1  # never synced whole: whole
    assert sync_portal  # (the task passes the scope on; tested above)


def test_the_schedule_counts_from_the_last_whole_run(installed, transactional_db, eager_celery):
    """Runs for pushed changes read only their people: however often they come, the scheduled whole run that
    reconciles everything still comes."""
    from datetime import timedelta

    from django.utils import timezone

    from hrsync.tasks import schedule_due_syncs

    sandbox, portal = installed
    connection, records = _pushed_portal(portal, 60)
    changes, people = _changes(records)
    processed = _push(connection, changes_package(changes))
    run_sync(portal, today=ZUP_TODAY, trigger="push", scope=processed.results["summary"]["persons_touched"])
    SyncRun.objects.filter(portal=portal, scope__isnull=True).update(started_at=timezone.now() - timedelta(hours=2))
    assert schedule_due_syncs() == 1
    assert SyncRun.objects.filter(portal=portal, scope__isnull=True, trigger="schedule").exists()
