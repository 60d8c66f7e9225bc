"""The push API's edge: what no schema says but the database and the planner need, and two fuzzers.

Every refusal names the record and the field; nothing refused is stored; no input gives a 5xx.
"""
from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings as hsettings, strategies as st
from schemathesis.checks import not_a_server_error

from hrsync.sync.assemble import SourceRecords, assemble_snapshot
from payroll_connector.models import PayrollPackage
from payroll_connector.push.schema import package_json_schema
from payroll_connector.services import connect_push
from tests.conftest import install


def G() -> str:
    return str(uuid.uuid4())


def _company(**absence) -> dict:
    org, dep, person, job = G(), G(), G(), G()
    return {"organisations": [{"guid": org, "name": "ООО Тест"}],
            "departments": [{"guid": dep, "name": "Склад", "organisation_guid": org}],
            "persons": [{"guid": person, "last_name": "Петрова", "first_name": "Ольга", "email": "olga@example.ru"}],
            "employments": [{"guid": job, "person_guid": person, "organisation_guid": org, "department_guid": dep,
                             "hire_date": "2024-02-01"}],
            "absences": [{"document_guid": G(), "employment_guid": job, "kind": "Болезнь", "start": "2026-11-01",
                          **absence}] if absence else []}


@pytest.fixture
def push(sandbox, live_server, transactional_db, eager_celery):
    portal = install(sandbox)
    connection, key = connect_push(portal)

    def post(body, *, content_type="application/json", raw: bytes | None = None) -> requests.Response:
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        return requests.post(f"{live_server.url}/payroll/api/v1/packages", data=data, timeout=30,
                             headers={"Authorization": f"Bearer {key}", "Content-Type": content_type})

    post.key, post.connection, post.url = key, connection, live_server.url
    return post


def _snapshot(body: dict, package_id: str | None = None) -> dict:
    return {"schema_version": "1.0", "package_id": package_id or G(), "kind": "snapshot", "snapshot": body}


def test_a_date_no_hr_record_can_carry_is_refused_with_its_record(push):
    body = _company(start="9999-10-03")
    response = push(_snapshot(body))
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert problem["field"] == "start" and body["absences"][0]["document_guid"] in problem["record"]
    assert not PayrollPackage.objects.exists()


def test_the_assembler_refuses_such_dates_from_odata_too_and_the_rest_goes_on():
    body = _company(start="2026-11-01")
    records = {name: [dict(r) for r in rows] for name, rows in body.items()}
    for row in records["employments"]:
        row["hire_date"] = date(2024, 2, 1)
    records["absences"][0]["start"] = date(9999, 10, 3)
    records["persons"][0]["birthday"] = date(1, 1, 1)
    snapshot = assemble_snapshot(SourceRecords(**records))
    codes = {(p.entity, p.field, p.code, p.blocking) for p in snapshot.problems}
    assert ("absences", "start", "date_out_of_range", True) in codes
    assert ("persons", "birthday", "date_out_of_range", False) in codes
    assert snapshot.persons[0].birthday is None and not snapshot.is_blocked(snapshot.persons[0].guid)
    assert snapshot.is_blocked(snapshot.absences[0].guid)


@pytest.mark.parametrize("where", ["name", "package_id", "key"])
def test_nul_in_any_text_is_refused_at_the_edge(push, where):
    body = _company()
    package = _snapshot(body)
    if where == "name":
        body["departments"][0]["name"] = "Скл\u0000ад"
    elif where == "package_id":
        package["package_id"] = "p\u0000"
    else:
        body["persons"][0]["ema\u0000il"] = "x"
    response = push(package)
    assert response.status_code == 400, response.text
    [problem] = response.json()["problems"]
    assert "NUL" in problem["problem"]
    if where == "name":
        assert (problem["field"], body["departments"][0]["guid"] in problem["record"]) == ("name", True)
    if where == "package_id":
        assert problem == {**problem, "record": "package", "field": "package_id"}
    assert not PayrollPackage.objects.exists()


def test_deep_nesting_non_json_and_bad_paths_are_4xx(push):
    deep = b'{"schema_version": "1.0", "package_id": "x", "kind": "changes", "changes": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    assert push(None, raw=deep).status_code == 400
    assert push(None, raw=b"\xff\xfe not json").status_code == 400
    assert push(None, raw=b"[" * 3000).status_code == 400
    nine_hundred = b'{"schema_version": "1.0", "package_id": "y", "kind": "changes", "changes": ' + b"[" * 900 + b"]" * 900 + b"}"
    assert push(None, raw=nine_hundred).status_code == 400
    headers = {"Authorization": f"Bearer {push.key}"}
    for path in ("%00", "a" * 300, "%00%00x"):
        assert requests.get(f"{push.url}/payroll/api/v1/packages/{path}", headers=headers, timeout=10).status_code == 404
    assert requests.get(f"{push.url}/payroll/api/v1/packages/x", timeout=10,
                        headers={"Authorization": "Bearer hrs_%00_x".replace("%00", "\u0000")}).status_code in (400, 401)


def test_other_content_types_are_refused_with_415(push):
    package = json.dumps(_snapshot(_company())).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        assert push(None, raw=package, content_type=content_type).status_code == 415
    assert push(None, raw=package, content_type="application/json; charset=utf-8").status_code == 202


def test_a_package_id_reused_with_other_content_is_a_conflict(push):
    first = _snapshot(_company(), package_id="same-id")
    assert push(first).status_code == 202
    assert (push(first).status_code, push(first).json()["duplicate"]) == (200, True)
    other = _snapshot(_company(), package_id="same-id")
    response = push(other)
    assert response.status_code == 409 and response.json()["problems"][0]["field"] == "package_id"
    assert PayrollPackage.objects.filter(package_id="same-id").count() == 1


def test_the_schema_and_the_app_agree_that_each_kind_needs_its_body(push):
    import jsonschema_rs

    validator = jsonschema_rs.validator_for(package_json_schema())
    for kind in ("changes", "snapshot"):
        package = {"schema_version": "1.0", "package_id": G(), "kind": kind}
        assert not validator.is_valid(package)
        response = push(package)
        assert response.status_code == 400 and response.json()["problems"][0]["field"] == kind.replace("changes", "changes")
    assert validator.is_valid({"schema_version": "1.0", "package_id": G(), "kind": "changes", "changes": []})


# -- fuzzing -------------------------------------------------------------------------------------------
_texts = st.text(st.characters(codec="utf-8"), max_size=30)
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _texts,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=4), max_leaves=25)
_fields = st.sampled_from(["guid", "name", "start", "end", "hire_date", "kind", "employment_guid", "op", "email",
                           "package_id", "part", "parts", "snapshot_id", "birthday", "organisation_guid"])


def _mutated_package(draw) -> dict:
    """A valid package with a few fields replaced by anything JSON can carry."""
    body = _company(start="2026-11-01")
    package = _snapshot(body) if draw(st.booleans()) else {
        "schema_version": "1.0", "package_id": G(), "kind": "changes",
        "changes": [{"op": "absence_added", "absence": body["absences"][0]},
                    {"op": "termination", "employment_guid": body["employments"][0]["guid"], "termination_date": "2026-12-01"}]}
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3]))):  # some stay valid: they must be accepted
        node = package
        path = draw(st.lists(st.sampled_from(["snapshot", "changes", "absences", "persons", "employments", 0, 1, "absence"]),
                             max_size=3))
        for step in path:
            if isinstance(node, dict) and step in node and isinstance(node[step], (dict, list)):
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                node = node[step]
        if isinstance(node, dict):
            node[draw(_fields)] = draw(_json)
        elif isinstance(node, list):
            node.append(draw(_json))
    return package


@st.composite
def packages(draw):
    return _mutated_package(draw)


@pytest.mark.slow
def test_fuzz_the_push_api_no_5xx_and_every_refusal_named(push):
    seen = {"requests": 0, "statuses": {}}

    @seed(20261202)
    @hsettings(max_examples=2500, deadline=None, database=None, derandomize=True,
               suppress_health_check=list(HealthCheck))
    @given(packages())
    def check(package):
        response = push(package)
        seen["requests"] += 1
        seen["statuses"][response.status_code] = seen["statuses"].get(response.status_code, 0) + 1
        assert response.status_code < 500, response.text[:500]
        if response.status_code == 400:
            problems = response.json()["problems"]
            assert problems and all(p["record"] and "field" in p and p["problem"] for p in problems)

    check()
    assert seen["requests"] >= 2000 and seen["statuses"].get(400) and seen["statuses"].get(202)


@pytest.mark.slow
def test_schemathesis_over_the_published_openapi_finds_no_5xx(push):
    """Schemathesis generates requests for every operation of /payroll/api/v1/openapi.json (valid and not)."""
    document = requests.get(f"{push.url}/payroll/api/v1/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=push.url)
    calls = {"count": 0}
    for result in schema.get_all_operations():
        operation = result.ok()

        @seed(20261202)
        @hsettings(max_examples=200, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy())
        def check(case):
            response = case.call(headers={"Authorization": f"Bearer {push.key}"}, timeout=30)
            calls["count"] += 1
            case.validate_response(response, checks=[not_a_server_error])

        check()
    assert calls["count"] >= 200
