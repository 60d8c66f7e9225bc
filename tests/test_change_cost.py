"""A change package costs what its changes cost, not what the company weighs (SQL statements, rows written)."""
from __future__ import annotations

import json
import uuid

from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from payroll_connector.models import PayrollRecord
from payroll_connector.services import connect_push, process_package, receive_package
from sandbox.zup.generator import generate_company
from sandbox.zup.push import changes_package, snapshot_packages, snapshot_records
from tests.conftest import ZUP_TODAY


def _one_change_cost(portal, size: int) -> tuple[int, int, dict]:
    connection, _key = connect_push(portal)
    base = generate_company(seed=3, size=size, today=ZUP_TODAY)
    package, _ = receive_package(connection, json.dumps(snapshot_packages(base)[0]).encode())
    process_package(package.pk)
    records = snapshot_records(base)
    # (someone with an e-mail: the checks of a change look for a duplicate of it, one statement more)
    with_email = {p["guid"] for p in records["persons"] if p.get("email")}
    employment = next(e for e in records["employments"] if e["person_guid"] in with_email)
    change = changes_package([
        {"op": "transfer", "employment": {**employment, "position_guid": records["positions"][1]["guid"]}},
        {"op": "absence_added", "absence": {"document_guid": str(uuid.uuid4()), "document_kind": "Document_Отпуск",
                                            "employment_guid": employment["guid"], "kind": "ОтпускОсновной",
                                            "start": "2026-12-07", "end": "2026-12-20"}},
    ])
    before = dict(PayrollRecord.objects.filter(connection=connection).values_list("pk", "data"))
    stored, _ = receive_package(connection, json.dumps(change).encode())
    with CaptureQueriesContext(db) as queries:
        processed = process_package(stored.pk)
    after = dict(PayrollRecord.objects.filter(connection=connection).values_list("pk", "data"))
    written = sum(1 for pk, data in after.items() if before.get(pk) != data)
    return len(queries.captured_queries), written, processed.results


def test_a_one_change_package_reads_and_writes_the_same_at_any_company_size(sandbox_factory, transactional_db):
    from tests.conftest import install

    small_portal, large_portal = install(sandbox_factory()), install(sandbox_factory())
    small_queries, small_written, small_results = _one_change_cost(small_portal, 100)
    large_queries, large_written, large_results = _one_change_cost(large_portal, 1500)
    assert small_written == large_written == 2  # the employment and the new absence, nothing else
    assert large_queries == small_queries, (small_queries, large_queries)
    for results in (small_results, large_results):
        assert results["summary"]["changes_applied"] == 2 and results["summary"]["persons"] > 0


def test_a_large_change_package_reads_in_bulk_not_per_change(installed, transactional_db):
    """Issue 15, part 2 (the application of a package): what a package's changes look at is read ahead in one
    query per entity, so 600 changes cost the statements 6 changes cost, and the result is the same."""
    sandbox, portal = installed
    connection, _key = connect_push(portal)
    base = generate_company(seed=4, size=300, today=ZUP_TODAY)
    package, _ = receive_package(connection, json.dumps(snapshot_packages(base)[0]).encode())
    process_package(package.pk)
    employments = snapshot_records(base)["employments"]

    def changes(n: int) -> list[dict]:
        out = []
        for employment in employments[:n]:
            out.append({"op": "termination", "employment_guid": employment["guid"], "termination_date": "2026-12-31"})
            out.append({"op": "absence_added", "absence": {
                "document_guid": str(uuid.uuid4()), "document_kind": "Document_Отпуск", "employment_guid": employment["guid"],
                "kind": "ОтпускОсновной", "start": "2026-12-07", "end": "2026-12-20"}})
        return out

    def cost(n: int) -> tuple[int, dict]:
        stored, _ = receive_package(connection, json.dumps(changes_package(changes(n))).encode())
        with CaptureQueriesContext(db) as queries:
            processed = process_package(stored.pk)
        return len(queries.captured_queries), processed.results["summary"]

    few_reads, few = cost(3)
    many_reads, many = cost(300)
    assert few["changes_applied"] == 6 and many["changes_applied"] == 600
    assert many_reads == few_reads, (few_reads, many_reads)  # the same statements for 600 changes as for 6
    ended = PayrollRecord.objects.filter(connection=connection, entity="employments", data__termination_date="2026-12-31")
    assert ended.count() == 300
