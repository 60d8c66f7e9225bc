"""The sandbox ZUP speaks 1C's OData conventions and generates the same company from the same seed."""
from datetime import date

import requests

from sandbox.zup.generator import generate_company
from sandbox.zup.odata_query import compile_filter
from tests.conftest import ZUP_TODAY

AUTH = ("odata", "secret")


def test_generation_is_deterministic_from_seed_and_size():
    one = generate_company(seed=3, size=120, today=ZUP_TODAY)
    two = generate_company(seed=3, size=120, today=ZUP_TODAY)
    other = generate_company(seed=4, size=120, today=ZUP_TODAY)
    assert one.entities == two.entities
    assert one.entities != other.entities
    assert len([r for r in one.entities["Catalog_ФизическиеЛица"] if not r["IsFolder"]]) >= 120


def test_odata_envelope_auth_and_errors(zup):
    url = zup.odata_url
    assert requests.get(url + "Catalog_Организации", params={"$format": "json"}, timeout=5).status_code == 401
    body = requests.get(url + "Catalog_Организации", params={"$format": "json"}, auth=AUTH, timeout=5).json()
    assert body["odata.metadata"].endswith("$metadata#Catalog_Организации")
    assert {o["Description"] for o in body["value"]} == {'ООО "Ромашка"', 'ООО "Ромашка Сервис"'}
    missing = requests.get(url + "Catalog_НетТакого", auth=AUTH, timeout=5)
    assert missing.status_code == 404 and missing.json()["odata.error"]["message"]["lang"] == "ru"
    bad_filter = requests.get(url + "Catalog_Сотрудники", params={"$filter": "Code eq"}, auth=AUTH, timeout=5)
    assert bad_filter.status_code == 400 and "odata.error" in bad_filter.json()
    service = requests.get(url, auth=AUTH, timeout=5).json()
    assert "InformationRegister_ДанныеСостоянийСотрудников_RecordType" in {e["name"] for e in service["value"]}


def test_filter_select_orderby_and_paging(zup):
    url = zup.odata_url + "InformationRegister_ДанныеСостоянийСотрудников_RecordType"
    params = {"$format": "json", "$select": "Сотрудник_Key,Состояние,Начало",
              "$filter": "Active eq true and Состояние eq 'Болезнь' and Начало ge datetime'2026-10-01T00:00:00'",
              "$orderby": "Начало desc,Сотрудник_Key"}
    rows = requests.get(url, params=params, auth=AUTH, timeout=5).json()["value"]
    assert rows and all(r["Состояние"] == "Болезнь" and r["Начало"] >= "2026-10-01" for r in rows)
    assert set(rows[0]) == {"Сотрудник_Key", "Состояние", "Начало"}
    assert [r["Начало"] for r in rows] == sorted((r["Начало"] for r in rows), reverse=True)
    page = requests.get(url, params={**params, "$top": 2, "$skip": 1}, auth=AUTH, timeout=5).json()["value"]
    assert page == rows[1:3]


def test_guid_literals_and_boolean_logic():
    predicate = compile_filter("(Ref_Key eq guid'AAAAAAAA-0000-0000-0000-000000000001' or Code eq '2') and not DeletionMark eq true")
    assert predicate({"Ref_Key": "aaaaaaaa-0000-0000-0000-000000000001", "Code": "1", "DeletionMark": False})
    assert predicate({"Ref_Key": "x", "Code": "2", "DeletionMark": False})
    assert not predicate({"Ref_Key": "x", "Code": "2", "DeletionMark": True})


def test_documents_are_created_unposted_and_posted_on_request(zup):
    url = zup.odata_url + "Document_Отпуск"
    created = requests.post(url, params={"$format": "json"}, auth=AUTH, timeout=5,
                            json={"Date": "2026-12-01T00:00:00", "Posted": True, "Комментарий": "Битрикс24 #5"})
    assert created.status_code == 201
    document = created.json()
    assert document["Posted"] is False and document["Number"]
    posted = requests.post(f"{url}(guid'{document['Ref_Key']}')/Post", params={"PostingModeOperational": "false"},
                           auth=AUTH, timeout=5)
    assert posted.status_code == 200
    again = requests.get(f"{url}(guid'{document['Ref_Key']}')", params={"$format": "json"}, auth=AUTH, timeout=5).json()
    assert again["Posted"] is True
    found = requests.get(url, params={"$format": "json", "$filter": "substringof('Битрикс24 #5', Комментарий)"}, auth=AUTH,
                         timeout=5).json()["value"]
    assert [d["Ref_Key"] for d in found] == [document["Ref_Key"]]


def test_refusal_and_downtime_on_demand(zup):
    requests.post(f"{zup.url}/_sandbox/faults", json={"refuse_documents": 1}, timeout=5)
    refused = requests.post(zup.odata_url + "Document_Отпуск", auth=AUTH, json={"Date": "2026-12-01T00:00:00"}, timeout=5)
    assert refused.status_code == 400 and "отсутствует" in refused.json()["odata.error"]["message"]["value"]
    requests.post(f"{zup.url}/_sandbox/faults", json={"down": True}, timeout=5)
    assert requests.get(zup.odata_url, auth=AUTH, timeout=5).status_code == 503


def test_organisation_filter_keeps_one_organisation(installed, zup):
    from payroll_connector.services import connect_odata, read_snapshot

    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret",
                               organisation_filter=['ООО "Ромашка Сервис"'])
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    assert [o.name for o in snapshot.organisations] == ['ООО "Ромашка Сервис"']
    org = snapshot.organisations[0].guid
    assert all(d.organisation_guid == org for d in snapshot.departments)
    assert all(e.organisation_guid == org for p in snapshot.persons for e in p.employments)
    assert 0 < len(snapshot.persons) < 150
    assert not any(p.code in ("unknown_organisation", "unknown_employment") for p in snapshot.problems)


def test_today_is_not_needed_for_the_default():
    assert generate_company(seed=1, size=20).today == date.today()
