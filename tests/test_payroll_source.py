"""1C:ZUP as the source, over HTTP: OData pull and push give one canonical snapshot."""
import json

import pytest
import requests

from hrsync.crypto import secret_matches
from payroll_connector.errors import PayrollAuthError, PayrollNotPublished, PayrollUnavailable
from payroll_connector.models import PayrollConnection
from payroll_connector.services import check_odata, connect_odata, connect_push, read_snapshot
from sandbox.zup.push import post_package, snapshot_packages
from tests.conftest import ZUP_TODAY


def _odata(portal, zup, password="secret"):
    return connect_odata(portal, url=zup.odata_url, username="odata", password=password)


def test_the_same_company_gives_the_same_snapshot_by_odata_and_by_push(installed, zup, eager_celery, live_server):
    sandbox, portal = installed
    by_odata = read_snapshot(_odata(portal, zup), today=ZUP_TODAY)

    connection, key = connect_push(portal)
    for package in snapshot_packages(zup.state.infobase, parts=3):
        response = post_package(live_server.url, key, package)
        assert response.status_code == 202, response.text
    by_push = read_snapshot(connection, today=ZUP_TODAY)

    assert by_push == by_odata
    assert len(by_odata.persons) >= 290 and len(by_odata.departments) >= 20
    assert len(by_odata.organisations) == 2


def test_snapshot_carries_what_real_data_has(installed, zup):
    sandbox, portal = installed
    snapshot = read_snapshot(_odata(portal, zup), today=ZUP_TODAY)
    employments = [e for p in snapshot.persons for e in p.employments]
    kinds = {e.kind.value for e in employments}
    assert kinds == {"main", "internal_part_time", "external_part_time"}
    assert any(len([e for e in p.employments if e.kind.value == "main"]) >= 2 for p in snapshot.persons)  # rehired
    assert any(e.termination_date and e.termination_date < ZUP_TODAY for e in employments)
    assert any(e.hire_date > ZUP_TODAY for e in employments)  # future-dated hires
    assert any(p.email == "" for p in snapshot.persons)
    assert {p.code for p in snapshot.problems} >= {"no_email", "duplicate_email"}
    assert {a.kind for a in snapshot.absences} >= {"ОтпускОсновной", "Болезнь", "Командировка", "ОтпускПоУходуЗаРебенком"}
    assert any(a.reversed for a in snapshot.absences)  # сторно
    assert snapshot.heads
    depth = {}
    by_guid = {d.guid: d for d in snapshot.departments}
    for dep in snapshot.departments:
        level, current = 1, dep
        while current.parent_guid:
            level, current = level + 1, by_guid[current.parent_guid]
        depth[dep.guid] = level
    assert max(depth.values()) == 5
    assert any(d.is_disbanded for d in snapshot.departments)
    # Inactive (unposted) rows and absences long past the history window are not read.
    assert all(a.end is None or (ZUP_TODAY - a.end).days <= 90 for a in snapshot.absences)


def test_odata_reader_selects_only_the_fields_it_uses(installed, zup):
    sandbox, portal = installed
    seen = []
    from payroll_connector.odata import client as client_module

    original = client_module.ODataClient._request

    def spy(self, method, path, **kwargs):
        seen.append((path, (kwargs.get("query") or {}).get("$select")))
        return original(self, method, path, **kwargs)

    client_module.ODataClient._request = spy
    try:
        read_snapshot(_odata(portal, zup), today=ZUP_TODAY)
    finally:
        client_module.ODataClient._request = original
    assert all(select for _, select in seen), seen
    persons_select = next(s for p, s in seen if p == "Catalog_ФизическиеЛица")
    assert "ИНН" not in persons_select and "КонтактнаяИнформация" in persons_select


def test_odata_errors_are_typed_with_the_fix(installed, zup):
    sandbox, portal = installed
    with pytest.raises(PayrollAuthError):
        read_snapshot(_odata(portal, zup, password="wrong"), today=ZUP_TODAY)
    requests.post(f"{zup.url}/_sandbox/unpublish", json={"entities": ["Catalog_ФизическиеЛица"]}, timeout=5)
    connection = _odata(portal, zup)
    with pytest.raises(PayrollNotPublished) as raised:
        read_snapshot(connection, today=ZUP_TODAY)
    assert "Catalog_ФизическиеЛица is not published" in raised.value.message
    assert "Настройки стандартного интерфейса OData" in raised.value.message
    assert PayrollConnection.objects.get(pk=connection.pk).last_error == raised.value.message
    outcome = check_odata(connection)
    assert outcome["Catalog_Организации"] == "ok" and "not published" in outcome["Catalog_ФизическиеЛица"]
    requests.post(f"{zup.url}/_sandbox/faults", json={"down": True}, timeout=5)
    with pytest.raises(PayrollUnavailable) as down:
        read_snapshot(connection, today=ZUP_TODAY)
    assert down.value.transient


@pytest.mark.parametrize("status", [404, 400])  # 1C's answer for a set not published is unconfirmed: both shapes
def test_heads_register_not_published_is_a_warning_not_a_failure(installed, zup, status):
    sandbox, portal = installed
    requests.post(f"{zup.url}/_sandbox/unpublish", json={
        "entities": ["InformationRegister_ПодразделенияОрганизацииРуководители"], "status": status}, timeout=5)
    snapshot = read_snapshot(_odata(portal, zup), today=ZUP_TODAY)
    assert snapshot.heads == ()
    warning = next(p for p in snapshot.problems if p.code == "heads_not_published")
    assert not warning.blocking


def test_a_date_that_is_not_a_date_in_odata_blocks_only_that_record(installed, zup):
    sandbox, portal = installed
    rows = zup.state.infobase.rows("InformationRegister_ТекущиеКадровыеДанныеСотрудников")
    broken = rows[10]
    broken["ДатаУвольнения"] = "31.02.2025"
    zup.state.infobase.touch()
    snapshot = read_snapshot(_odata(portal, zup), today=ZUP_TODAY)
    problem = next(p for p in snapshot.problems if p.record == broken["Сотрудник_Key"])
    assert (problem.field, problem.code) == ("ДатаУвольнения", "bad_date")
    assert "'31.02.2025' is not a date" in problem.message
    assert snapshot.is_blocked(broken["Сотрудник_Key"])
    assert len(snapshot.blocked) < 20


def test_password_is_encrypted_and_push_key_hashed(installed, zup):
    from django.db import connection as db

    sandbox, portal = installed
    connection = _odata(portal, zup)
    with db.cursor() as cursor:
        cursor.execute("SELECT odata_password FROM payroll_connector_payrollconnection WHERE id=%s", [connection.pk])
        assert cursor.fetchone()[0] != "secret"
    connection, key = connect_push(portal)
    assert secret_matches(key, connection.push_key_hash) and key not in connection.push_key_hash


def test_payroll_connect_command(installed, zup):
    from io import StringIO

    from django.core.management import CommandError, call_command

    sandbox, portal = installed
    out = StringIO()
    call_command("payroll_connect", "--portal", portal.domain, "--odata-url", zup.odata_url, "--username", "odata",
                 "--password", "secret", stdout=out)
    assert "every entity set the sync needs can be read" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("payroll_connect", "--portal", portal.domain, "--odata-url", zup.odata_url, "--username", "odata",
                     "--password", "wrong", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("payroll_connect", "--portal", portal.domain, "--push", stdout=out)
    key = out.getvalue().split("shown once, keep it in the 1C settings): ")[1].split()[0]
    assert PayrollConnection.objects.get(portal=portal).mode == "push" and key.startswith("hrs_")


def test_openapi_and_schema_are_published(live_server, transactional_db):
    document = requests.get(f"{live_server.url}/payroll/api/v1/openapi.json", timeout=5).json()
    assert document["openapi"].startswith("3.")
    assert "/payroll/api/v1/packages" in document["paths"]
    assert "Package" in document["components"]["schemas"]
    assert "#/$defs/" not in json.dumps(document)
    schema = requests.get(f"{live_server.url}/payroll/api/v1/schema.json", timeout=5).json()
    assert schema["properties"]["kind"]["enum"] == ["snapshot", "changes"]
