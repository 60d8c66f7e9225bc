"""Writing to a ZUP 3.1 infobase by OData: the draft documents hrsync makes (names as ZUP spells them).

`Document_Отпуск` (or `Document_ЗаявкаНаОтпуск` in КОРП, or `Document_ОтпускБезСохраненияОплаты`) and
`Document_РаботаСверхурочно`, all unposted: HR calculates and posts them in ZUP. The document's
comment carries the request's marker, so a retried delivery finds the document it already made.
"""
from __future__ import annotations

from datetime import date

from django.utils import timezone

from ..models import OutboxItem, OutboxKind, PayrollConnection
from .client import ODataClient

# Vacation kinds the workflow action offers (ZUP's names).
VACATION_KINDS = {
    "ОтпускОсновной": "Ежегодный основной отпуск",
    "ДополнительныйОтпуск": "Дополнительный отпуск",
    "ОтпускБезСохраненияОплаты": "Отпуск без сохранения оплаты",
}


def _dt(day: date) -> str:
    return day.strftime("%Y-%m-%dT00:00:00")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"  # an OData string literal: a quote is doubled


def document_for(item: OutboxItem, connection: PayrollConnection, vacation_kind_keys: dict[str, str]) -> tuple[str, dict]:
    payload = item.payload
    comment = f"{item.marker}. {payload.get('comment') or ''}".strip()
    common = {"Date": _dt(timezone.localdate()), "Организация_Key": payload["organisation_guid"],
              "Сотрудник_Key": payload["employment_guid"], "Комментарий": comment[:1000]}
    if item.kind == OutboxKind.OVERTIME:
        day = date.fromisoformat(payload["date"])
        return "Document_РаботаСверхурочно", {
            "Date": common["Date"], "Организация_Key": common["Организация_Key"], "Комментарий": common["Комментарий"],
            "ПериодРегистрации": _dt(day.replace(day=1)), "ВремяУчтено": False,
            "Сотрудники": [{"LineNumber": "1", "Сотрудник_Key": payload["employment_guid"], "Дата": _dt(day),
                            "ОтработаноЧасов": payload["hours"], "СпособКомпенсацииПереработки": "ПовышеннаяОплата"}]}
    start, end = date.fromisoformat(payload["start"]), date.fromisoformat(payload["end"])
    days = (end - start).days + 1
    kind = payload["kind"]
    if connection.corp_edition:
        return "Document_ЗаявкаНаОтпуск", {
            **common, "ФизическоеЛицо_Key": item.person_guid, "ДатаНачала": _dt(start), "ДатаОкончания": _dt(end),
            "КоличествоДней": days, "Статус": "Рассматривается", "ОписаниеОтпуска": VACATION_KINDS.get(kind, kind)}
    if kind == "ОтпускБезСохраненияОплаты":
        return "Document_ОтпускБезСохраненияОплаты", {**common, "ДатаНачала": _dt(start), "ДатаОкончания": _dt(end)}
    body = {**common, "ФизическоеЛицо_Key": item.person_guid, "ПериодРегистрации": _dt(start.replace(day=1)),
            "ДатаНачалаПериодаОтсутствия": _dt(start), "ДатаОкончанияПериодаОтсутствия": _dt(end)}
    if kind == "ОтпускОсновной":
        body.update(ПредоставитьОсновнойОтпуск=True, ДатаНачалаОсновногоОтпуска=_dt(start),
                    ДатаОкончанияОсновногоОтпуска=_dt(end), КоличествоДнейОсновногоОтпуска=days)
    else:
        body.update(ПредоставитьДополнительныйОтпуск=True, ДополнительныеОтпуска=[{
            "LineNumber": "1", "ВидОтпуска_Key": vacation_kind_keys.get(kind, ""), "ДатаНачала": _dt(start),
            "ДатаОкончания": _dt(end), "КоличествоДней": days}])
    return "Document_Отпуск", body


def vacation_kind_keys(client: ODataClient) -> dict[str, str]:
    """Catalog_ВидыОтпусков: the additional vacation's kind, by its ZUP name."""
    rows = client.get("Catalog_ВидыОтпусков", select=["Ref_Key", "Description", "ОсновнойОтпуск"])
    extra = next((r["Ref_Key"] for r in rows if not r.get("ОсновнойОтпуск") and "ополнительн" in r.get("Description", "")), "")
    return {"ДополнительныйОтпуск": extra}


def find_document(client: ODataClient, entity: str, marker: str) -> dict | None:
    """The document a delivery made before (its comment starts with the request's marker), if any.

    `Комментарий` is a string of unlimited length in every document hrsync writes, and 1C's query language
    cannot compare those with `=` (so `eq` fails); LIKE can, which is what `substringof` becomes. The rows
    found are then checked to begin with the marker and its full stop (`#12.` is not `#123.`).
    """
    prefix = f"{marker}."
    rows = client.get(entity, select=["Ref_Key", "Number", "Комментарий"],
                      filter=f"substringof({_literal(prefix)}, Комментарий)")
    return next((row for row in rows if str(row.get("Комментарий") or "").startswith(prefix)), None)


def create_document(client: ODataClient, entity: str, body: dict) -> dict:
    """A new unposted document (a POST without ?post: 1C saves it as a draft)."""
    return client.create(entity, body)
