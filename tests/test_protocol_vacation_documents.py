"""Issue 9, defects 4 and 8: the vacation documents carry only what each document has, in its types.

The sandbox ZUP takes each document's attributes from the configuration dumps (sandbox/zup/metadata.py) and
refuses a body naming one the document lacks, or a value that is not of its type, as 1C does (its wording
is a guess). `Document_ЗаявкаНаОтпуск` has no `Организация` in either КОРП dump, and no `Сотрудник` in the
Kazakh one; an additional or unpaid vacation goes with its kind from `Catalog_ВидыОтпусков`, and an
empty string is never sent for a reference.
"""
import pytest
import requests

from payroll_connector.models import OutboxItem, OutboxStatus, ZupEdition
from tests.test_requests import _documents, _run_workflow, synced  # noqa: F401  (the fixture)

AUTH = ("odata", "secret")


def _set_edition(portal, zup, app_edition, sandbox_edition):
    requests.post(f"{zup.url}/_sandbox/edition", json={"edition": sandbox_edition}, timeout=10).raise_for_status()
    portal.payroll_connection.edition = app_edition
    portal.payroll_connection.save()


@pytest.mark.parametrize("app_edition, sandbox_edition, has_employee", [
    (ZupEdition.CORP_RU, "ru-3.1.38", True), (ZupEdition.CORP_KZ, "kz-3.1.2", False)])
def test_a_vacation_request_has_only_the_attributes_of_its_edition(synced, app_edition, sandbox_edition, has_employee):
    sandbox, portal, zup, person, user_id = synced
    _set_edition(portal, zup, app_edition, sandbox_edition)
    _run_workflow(sandbox, user_id, "01.09.2027", "05.09.2027")
    item = OutboxItem.objects.get(portal=portal)
    assert item.status == OutboxStatus.DELIVERED, item.message
    [claim] = _documents(zup, "Document_ЗаявкаНаОтпуск")
    assert claim["Статус"] == "Рассматривается" and claim["КоличествоДней"] == 5 and claim["Posted"] is False
    assert claim["ФизическоеЛицо_Key"] == person.guid and "Организация_Key" not in claim
    assert ("Сотрудник_Key" in claim) is has_employee


def test_the_sandbox_refuses_what_a_document_does_not_have(zup):
    """What made the old request fail: Организация on ЗаявкаНаОтпуск; Сотрудник in the Kazakh edition."""
    url = f"{zup.odata_url}Document_ЗаявкаНаОтпуск?$format=json"
    body = {"ФизическоеЛицо_Key": "6f1c1c3e-8a43-4a55-8f3c-0d0b1a2b3c4d", "Организация_Key": "6f1c1c3e-8a43-4a55-8f3c-0d0b1a2b3c4d"}
    refused = requests.post(url, json=body, auth=AUTH, timeout=10)
    assert refused.status_code == 400 and "Организация_Key" in refused.json()["odata.error"]["message"]["value"]
    requests.post(f"{zup.url}/_sandbox/edition", json={"edition": "kz-3.1.2"}, timeout=10).raise_for_status()
    body = {"ФизическоеЛицо_Key": body["ФизическоеЛицо_Key"], "Сотрудник_Key": body["ФизическоеЛицо_Key"]}
    assert requests.post(url, json=body, auth=AUTH, timeout=10).status_code == 400
    assert not _documents(zup, "Document_ЗаявкаНаОтпуск")


def test_additional_and_unpaid_vacations_go_with_their_kind(synced):
    sandbox, portal, zup, person, user_id = synced
    kinds = {k["Description"]: k["Ref_Key"] for k in zup.state.infobase.entities["Catalog_ВидыОтпусков"]}
    _run_workflow(sandbox, user_id, "01.07.2027", "03.07.2027", kind="ДополнительныйОтпуск")
    [extra] = _documents(zup)
    assert extra["ПредоставитьДополнительныйОтпуск"] is True
    assert extra["ДополнительныеОтпуска"][0]["ВидОтпуска_Key"] == kinds["Дополнительный отпуск за ненормированный рабочий день"]
    _run_workflow(sandbox, user_id, "2027-08-02", "2027-08-04", kind="ОтпускБезСохраненияОплаты")
    [unpaid] = _documents(zup, "Document_ОтпускБезСохраненияОплаты")
    assert unpaid["ВидОтпуска_Key"] == kinds["Отпуск без оплаты"]  # HR cannot post it without the kind
    assert unpaid["ФизическоеЛицо_Key"] == person.guid


def test_a_kind_the_catalogue_lacks_is_left_out_not_sent_empty(synced):
    sandbox, portal, zup, person, user_id = synced
    zup.state.infobase.entities["Catalog_ВидыОтпусков"] = [
        k for k in zup.state.infobase.entities["Catalog_ВидыОтпусков"] if k["ОсновнойОтпуск"]]
    zup.state.infobase.touch()
    _run_workflow(sandbox, user_id, "01.07.2027", "03.07.2027", kind="ДополнительныйОтпуск")
    item = OutboxItem.objects.get(portal=portal)
    assert item.status == OutboxStatus.DELIVERED, item.message  # the sandbox refuses "" for a reference
    [extra] = _documents(zup)
    assert "ВидОтпуска_Key" not in extra["ДополнительныеОтпуска"][0]


def test_the_sandbox_refuses_an_empty_string_for_a_reference(zup):
    url = f"{zup.odata_url}Document_Отпуск?$format=json"
    body = {"ДополнительныеОтпуска": [{"LineNumber": "1", "ВидОтпуска_Key": ""}]}
    refused = requests.post(url, json=body, auth=AUTH, timeout=10)
    assert refused.status_code == 400 and "ВидОтпуска_Key" in refused.json()["odata.error"]["message"]["value"]
