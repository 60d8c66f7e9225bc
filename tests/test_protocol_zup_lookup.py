"""Issue 9, defect 5: 1C cannot compare a string of unlimited length; the "made already?" lookup uses LIKE.

`Комментарий` is Length 0 in Document_Отпуск, _ОтпускБезСохраненияОплаты, _РаботаСверхурочно and
_ЗаявкаНаОтпуск (both dumps). `eq` on it is refused, as 1C's query language refuses `=`; `substringof`
(ПОДОБНО) is allowed. The delivery that crashed after its POST is covered by
tests/test_requests.py::test_a_worker_killed_mid_delivery_does_not_double_the_document.
"""
import requests

from payroll_connector.odata.client import ODataClient
from payroll_connector.odata.writer import find_document

AUTH = ("odata", "secret")


def _document(zup, comment: str) -> dict:
    answer = requests.post(f"{zup.odata_url}Document_Отпуск?$format=json", auth=AUTH, timeout=10,
                           json={"Date": "2026-11-02T00:00:00", "Комментарий": comment})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_eq_on_an_unlimited_string_is_refused_and_substringof_is_not(zup):
    _document(zup, "Битрикс24 hrsync #7. Согласовано")
    refused = requests.get(f"{zup.odata_url}Document_Отпуск", auth=AUTH, timeout=10, params={
        "$format": "json", "$filter": "Комментарий eq 'Битрикс24 hrsync #7. Согласовано'"})
    assert refused.status_code == 400 and "odata.error" in refused.json()
    found = requests.get(f"{zup.odata_url}Document_Отпуск", auth=AUTH, timeout=10, params={
        "$format": "json", "$filter": "substringof('hrsync #7.', Комментарий)"})
    assert found.status_code == 200 and len(found.json()["value"]) == 1


def test_the_lookup_finds_its_own_document_and_not_a_neighbours(zup):
    client = ODataClient(zup.odata_url, *AUTH)
    mine = _document(zup, "Битрикс24 hrsync #12. Согласовано")
    _document(zup, "Битрикс24 hrsync #123. Другая заявка")
    assert find_document(client, "Document_Отпуск", "Битрикс24 hrsync #12")["Ref_Key"] == mine["Ref_Key"]
    assert find_document(client, "Document_Отпуск", "Битрикс24 hrsync #1") is None
