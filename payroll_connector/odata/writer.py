"""Writing to a ZUP 3.1 infobase by OData: the draft documents hrsync makes (names as ZUP spells them).

`Document_Отпуск` (or `Document_ЗаявкаНаОтпуск` in КОРП, or `Document_ОтпускБезСохраненияОплаты`) and
`Document_РаботаСверхурочно`, all unposted: HR calculates and posts them in ZUP. The document's
comment carries the request's marker, so a retried delivery finds the document it already made.
"""
from __future__ import annotations

from datetime import date

from django.utils import timezone

from ..models import OutboxItem, OutboxKind, PayrollConnection, ZupEdition
from .client import ODataClient

# Vacation kinds the workflow action offers (ZUP's names).
VACATION_KINDS = {
    "ОтпускОсновной": "Ежегодный основной отпуск",
    "ДополнительныйОтпуск": "Дополнительный отпуск",
    "ОтпускБезСохраненияОплаты": "Отпуск без сохранения оплаты",
}


# The attributes of `Document_ЗаявкаНаОтпуск` hrsync fills, per edition: only those the document has. RU КОРП
# 3.1.38 (scriperirkth/zup-structure, Documents/ЗаявкаНаОтпуск.xml): ФизическоеЛицо, Сотрудник, ДатаНачала,
# ДатаОкончания, Статус, КоличествоДней, ОписаниеОтпуска, …, Комментарий. KZ КОРП 3.1.2 (yevgeniy1212/zup-korp):
# the same without Сотрудник. Neither has Организация: the person's organisation follows from the person.
_REQUEST_ATTRIBUTES = ("Date", "ФизическоеЛицо_Key", "ДатаНачала", "ДатаОкончания", "Статус", "КоличествоДней",
                       "ОписаниеОтпуска", "Комментарий")
VACATION_REQUEST_ATTRIBUTES = {
    ZupEdition.CORP_RU: frozenset(_REQUEST_ATTRIBUTES + ("Сотрудник_Key",)),
    ZupEdition.CORP_KZ: frozenset(_REQUEST_ATTRIBUTES),
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
    if connection.edition in VACATION_REQUEST_ATTRIBUTES:
        request = {**common, "ФизическоеЛицо_Key": item.person_guid, "ДатаНачала": _dt(start), "ДатаОкончания": _dt(end),
                   "КоличествоДней": days, "Статус": "Рассматривается",  # Enum.СтатусыЗаявокСотрудников
                   "ОписаниеОтпуска": VACATION_KINDS.get(kind, kind)}
        wanted = VACATION_REQUEST_ATTRIBUTES[connection.edition]
        return "Document_ЗаявкаНаОтпуск", {name: value for name, value in request.items() if name in wanted}
    kind_key = {"ВидОтпуска_Key": vacation_kind_keys[kind]} if kind in vacation_kind_keys else {}
    if kind == "ОтпускБезСохраненияОплаты":
        return "Document_ОтпускБезСохраненияОплаты", {
            **common, "ФизическоеЛицо_Key": item.person_guid, "ПериодРегистрации": _dt(start.replace(day=1)),
            "ДатаНачала": _dt(start), "ДатаОкончания": _dt(end), **kind_key}
    body = {**common, "ФизическоеЛицо_Key": item.person_guid, "ПериодРегистрации": _dt(start.replace(day=1)),
            "ДатаНачалаПериодаОтсутствия": _dt(start), "ДатаОкончанияПериодаОтсутствия": _dt(end)}
    if kind == "ОтпускОсновной":
        body.update(ПредоставитьОсновнойОтпуск=True, ДатаНачалаОсновногоОтпуска=_dt(start),
                    ДатаОкончанияОсновногоОтпуска=_dt(end), КоличествоДнейОсновногоОтпуска=days)
    else:
        body.update(ПредоставитьДополнительныйОтпуск=True, ДополнительныеОтпуска=[{
            "LineNumber": "1", **kind_key, "ДатаНачала": _dt(start),
            "ДатаОкончания": _dt(end), "КоличествоДней": days}])
    return "Document_Отпуск", body


def vacation_kind_keys(client: ODataClient) -> dict[str, str]:
    """Catalog_ВидыОтпусков: the kind an additional and an unpaid vacation are drafted with, by ZUP's name.

    The robot offers one «Дополнительный отпуск» and one «Отпуск без сохранения оплаты»; a base has several
    kinds of each, so the first by name is taken (HR changes it in the draft). `Document_ОтпускБезСохраненияОплаты`
    cannot be posted without `ВидОтпуска`. A kind the catalogue lacks is left out of the document, never sent
    as an empty string (not a GUID, which 1C refuses for a reference).
    """
    rows = sorted((r for r in client.get("Catalog_ВидыОтпусков",
                                         select=["Ref_Key", "Description", "ОсновнойОтпуск", "ОтпускБезОплаты", "DeletionMark"])
                   if not r.get("DeletionMark") and not r.get("ОсновнойОтпуск")), key=lambda r: r.get("Description") or "")
    unpaid = [r["Ref_Key"] for r in rows if r.get("ОтпускБезОплаты")]
    extra = [r["Ref_Key"] for r in rows if not r.get("ОтпускБезОплаты")]
    preferred = [r["Ref_Key"] for r in rows if not r.get("ОтпускБезОплаты") and "ополнительн" in (r.get("Description") or "")]
    keys = {"ДополнительныйОтпуск": (preferred or extra or [""])[0], "ОтпускБезСохраненияОплаты": (unpaid or [""])[0]}
    return {kind: key for kind, key in keys.items() if key}


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
