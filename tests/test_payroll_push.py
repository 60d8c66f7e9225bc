"""The push API (mode B) over HTTP: packages, idempotency, per-record results, and every kind of bad input."""
import uuid

import pytest
import requests

from payroll_connector.models import PayrollPackage
from payroll_connector.services import connect_push, read_snapshot
from sandbox.zup.push import changes_package, post_package, snapshot_packages, snapshot_records
from tests.conftest import ZUP_TODAY


def G():
    return str(uuid.uuid4())


@pytest.fixture
def pushed(installed, zup, eager_celery, live_server):
    """A push connection that has received the sandbox company's snapshot."""
    sandbox, portal = installed
    connection, key = connect_push(portal)
    package = snapshot_packages(zup.state.infobase)[0]
    assert post_package(live_server.url, key, package).status_code == 202
    return connection, key, zup.state.infobase, package["package_id"]


def _status(live_server, key, package_id):
    return requests.get(f"{live_server.url}/payroll/api/v1/packages/{package_id}",
                        headers={"Authorization": f"Bearer {key}"}, timeout=10).json()


def _small_company():
    org, dep, pos, person, job = G(), G(), G(), G(), G()
    return {
        "organisations": [{"guid": org, "name": 'ООО "Тест"'}],
        "departments": [{"guid": dep, "name": "Бухгалтерия", "organisation_guid": org}],
        "positions": [{"guid": pos, "name": "Бухгалтер"}],
        "persons": [{"guid": person, "last_name": "Иванова", "first_name": "Анна", "email": "anna@example.ru"}],
        "employments": [{"guid": job, "person_guid": person, "organisation_guid": org, "department_guid": dep,
                         "position_guid": pos, "hire_date": "2024-02-01"}],
        "absences": [],
    }


def _snapshot_package(body):
    return {"schema_version": "1.0", "package_id": G(), "kind": "snapshot", "snapshot": body}


def test_a_repeated_package_is_accepted_once(pushed, live_server):
    connection, key, base, first_package = pushed
    package = snapshot_packages(base)[0]
    package["package_id"] = "repeat-me"
    first = post_package(live_server.url, key, package)
    second = post_package(live_server.url, key, package)
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (second.status_code, second.json()["duplicate"]) == (200, True)
    assert PayrollPackage.objects.filter(connection=connection, package_id="repeat-me").count() == 1
    status = _status(live_server, key, "repeat-me")
    assert status["status"] == "processed"
    assert status["results"]["summary"]["persons"] == len(snapshot_records(base)["persons"])


def test_per_record_results_name_record_field_and_problem(pushed, live_server):
    connection, key, base, first_package = pushed
    problems = _status(live_server, key, first_package)["results"]["problems"]
    duplicate = next(p for p in problems if p["code"] == "duplicate_email")
    assert duplicate["entity"] == "persons" and duplicate["field"] == "email" and "is also the e-mail of" in duplicate["problem"]


def test_wrong_key_gets_401_and_stores_nothing(pushed, live_server):
    connection, key, base, first_package = pushed
    before = PayrollPackage.objects.count()
    response = post_package(live_server.url, key[:-2] + "xx", snapshot_packages(base)[0])
    assert response.status_code == 401
    assert requests.get(f"{live_server.url}/payroll/api/v1/packages/x", timeout=5).status_code == 401
    assert PayrollPackage.objects.count() == before


def test_a_50_mb_body_is_refused_with_413(pushed, live_server):
    connection, key, base, first_package = pushed
    body = b'{"schema_version": "1.0", "package_id": "big", "kind": "snapshot", "snapshot": {"persons": [' + \
        b",".join([b'{"guid": "00000000-0000-0000-0000-000000000000", "last_name": "' + b"x" * 900 + b'"}'] * 55000) + b"]}}"
    assert len(body) > 50 * 1024 * 1024
    response = requests.post(f"{live_server.url}/payroll/api/v1/packages", data=body, timeout=60,
                             headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    assert response.status_code == 413
    assert "send the snapshot in parts" in response.json()["problems"][0]["problem"]
    assert not PayrollPackage.objects.filter(package_id="big").exists()


def test_schema_errors_reject_the_package_with_a_list(pushed, live_server):
    connection, key, base, first_package = pushed
    body = _small_company()
    body["persons"][0]["birthday"] = "31.02.1990"  # a date that is not a date
    body["employments"][0]["hire_date"] = "вчера"
    body["employments"][0]["kind"] = "freelance"
    response = post_package(live_server.url, key, _snapshot_package(body))
    assert response.status_code == 400
    problems = response.json()["problems"]
    by_field = {p["field"]: p for p in problems}
    person_guid, job_guid = body["persons"][0]["guid"], body["employments"][0]["guid"]
    assert by_field["birthday"]["record"] == f"snapshot.persons[0] ({person_guid})"
    assert "date" in by_field["birthday"]["problem"].lower()
    assert by_field["hire_date"]["record"] == f"snapshot.employments[0] ({job_guid})"
    assert by_field["kind"]["record"] == f"snapshot.employments[0] ({job_guid})"
    assert PayrollPackage.objects.filter(connection=connection).count() == 1  # only the fixture's snapshot


def test_not_json_is_a_clear_400(pushed, live_server):
    connection, key, base, first_package = pushed
    response = requests.post(f"{live_server.url}/payroll/api/v1/packages", data=b"<xml/>", timeout=10,
                             headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["problems"][0]["problem"].startswith("Invalid JSON")


@pytest.mark.parametrize("breakage, entity, code", [
    ("unknown_parent", "departments", "unknown_parent"),
    ("cycle", "departments", "cycle"),
    ("missing_person", "employments", "unknown_person"),
    ("missing_department", "employments", "unknown_department"),
    ("absence_reversed_dates", "absences", "dates_reversed"),
    ("bad_email", "persons", "invalid_email"),
    ("shared_email", "persons", "duplicate_email"),
    ("long_name", "persons", "too_long"),
])
def test_record_level_problems_block_the_record_and_the_rest_goes_on(breakage, entity, code, installed, eager_celery,
                                                                     live_server):
    sandbox, portal = installed
    connection, key = connect_push(portal)
    body = _small_company()
    org, dep = body["organisations"][0]["guid"], body["departments"][0]["guid"]
    ok_person, ok_job, ok_dep = G(), G(), G()
    body["departments"].append({"guid": ok_dep, "name": "Склад", "organisation_guid": org})
    body["persons"].append({"guid": ok_person, "last_name": "Петров", "first_name": "Олег", "email": "oleg@example.ru"})
    body["employments"].append({"guid": ok_job, "person_guid": ok_person, "organisation_guid": org,
                                "department_guid": ok_dep, "hire_date": "2023-05-01"})
    victim = {"departments": body["departments"][0]["guid"], "persons": body["persons"][0]["guid"],
              "employments": body["employments"][0]["guid"]}.get(entity)
    if breakage == "unknown_parent":
        body["departments"][0]["parent_guid"] = G()
    elif breakage == "cycle":
        a, b = G(), G()
        body["departments"] += [{"guid": a, "name": "А", "parent_guid": b, "organisation_guid": org},
                                {"guid": b, "name": "Б", "parent_guid": a, "organisation_guid": org}]
        victim = a
    elif breakage == "missing_person":
        body["employments"][0]["person_guid"] = G()
    elif breakage == "missing_department":
        body["employments"][0]["department_guid"] = G()
    elif breakage == "absence_reversed_dates":
        body["absences"] = [{"document_guid": G(), "employment_guid": ok_job, "kind": "ОтпускОсновной",
                             "start": "2026-12-10", "end": "2026-12-01"}]
    elif breakage == "bad_email":
        body["persons"][0]["email"] = "anna(at)example.ru"
    elif breakage == "shared_email":
        body["persons"][1]["email"] = body["persons"][0]["email"]
    elif breakage == "long_name":
        body["persons"][0]["last_name"] = "Ж" * 60
    package = _snapshot_package(body)
    assert post_package(live_server.url, key, package).status_code == 202
    results = _status(live_server, key, package["package_id"])["results"]
    problem = next(p for p in results["problems"] if p["code"] == code)
    assert problem["entity"] == entity and problem["problem"]
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    if victim:
        assert snapshot.is_blocked(victim)
    if breakage == "absence_reversed_dates":
        assert snapshot.is_blocked(snapshot.absences[0].guid)
    if breakage != "shared_email":
        assert not snapshot.is_blocked(ok_person) and not snapshot.is_blocked(ok_job)  # the rest goes on
    if breakage == "unknown_parent":
        # What depends on the department is blocked too: the employment in it, and its person.
        assert snapshot.is_blocked(body["employments"][0]["guid"]) and snapshot.is_blocked(body["persons"][0]["guid"])


def test_change_packages_apply_each_kind_once(pushed, live_server):
    connection, key, base, first_package = pushed
    before = read_snapshot(connection, today=ZUP_TODAY)
    org = before.organisations[0].guid
    department = next(d for d in before.departments if d.organisation_guid == org and d.parent_guid and not d.is_disbanded)
    person = next(p for p in before.persons if p.employments and p.email and not before.is_blocked(p.guid)
                  and p.employments[-1].termination_date is None and p.employments[-1].organisation_guid == org)
    job = person.employments[-1]
    vacation = next(a for a in before.absences if not a.reversed and a.kind == "ОтпускОсновной")
    new_person, new_job, new_dep = G(), G(), G()
    changes = [
        {"op": "hire", "person": {"guid": new_person, "last_name": "Новикова", "first_name": "Ева", "email": "eva@romashka.example"},
         "employment": {"guid": new_job, "person_guid": new_person, "organisation_guid": org,
                        "department_guid": department.guid, "hire_date": "2026-12-01"}},
        {"op": "transfer", "employment": {"guid": job.guid, "person_guid": person.guid, "organisation_guid": org,
                                          "department_guid": department.guid, "position_guid": job.position_guid,
                                          "hire_date": job.hire_date.isoformat(), "kind": job.kind.value}},
        {"op": "termination", "employment_guid": job.guid, "termination_date": "2026-12-31"},
        {"op": "absence_cancelled", "document_guid": vacation.document_guid, "employment_guid": vacation.employment_guid},
        {"op": "absence_added", "absence": {"document_guid": G(), "employment_guid": new_job, "kind": "Командировка",
                                            "start": "2026-12-05", "end": "2026-12-07"}},
        {"op": "department_created", "department": {"guid": new_dep, "name": "Отдел роботов", "organisation_guid": org,
                                                    "parent_guid": department.guid}},
        {"op": "department_renamed", "department": {"guid": department.guid, "name": "Переименованный отдел",
                                                    "organisation_guid": org, "parent_guid": department.parent_guid}},
        {"op": "department_disbanded", "department_guid": new_dep, "disbanded": "2026-12-31"},
        {"op": "termination", "employment_guid": G(), "termination_date": "2026-12-31"},  # unknown: rejected
    ]
    package = changes_package(changes, package_id="changes-1")
    assert post_package(live_server.url, key, package).status_code == 202
    assert post_package(live_server.url, key, package).status_code == 200  # twice: applied once
    results = _status(live_server, key, "changes-1")["results"]
    assert [c["status"] for c in results["changes"]] == ["applied"] * 8 + ["rejected"]
    assert results["changes"][-1]["problem"] == "unknown employment"
    after = read_snapshot(connection, today=ZUP_TODAY)
    by_person = {p.guid: p for p in after.persons}
    assert by_person[new_person].employments[0].hire_date.isoformat() == "2026-12-01"
    moved = next(e for e in by_person[person.guid].employments if e.guid == job.guid)
    assert moved.department_guid == department.guid and moved.termination_date.isoformat() == "2026-12-31"
    assert next(a for a in after.absences if a.guid == vacation.guid).reversed
    assert any(a.employment_guid == new_job and a.kind == "Командировка" for a in after.absences)
    departments = {d.guid: d for d in after.departments}
    assert departments[department.guid].name == "Переименованный отдел"
    assert departments[new_dep].is_disbanded
    assert len(after.persons) == len(before.persons) + 1


def test_a_package_processed_by_a_real_worker(installed, zup, live_server, settings):
    """Without eager mode: the API answers 202 at once, a Celery worker on Redis does the work."""
    import time

    from tests.conftest import celery_worker

    sandbox, portal = installed
    connection, key = connect_push(portal)
    with celery_worker():
        package = snapshot_packages(zup.state.infobase)[0]
        assert post_package(live_server.url, key, package).status_code == 202
        deadline = time.time() + 60
        while time.time() < deadline and _status(live_server, key, package["package_id"])["status"] != "processed":
            time.sleep(0.3)
        assert _status(live_server, key, package["package_id"])["status"] == "processed"
