"""Delivering Bitrix24's requests to 1C:ZUP: unposted draft documents, made at most once.

Mode A writes by OData: `Document_Отпуск` (or `Document_ЗаявкаНаОтпуск` in КОРП, or
`Document_ОтпускБезСохраненияОплаты`) and `Document_РаботаСверхурочно`, all unposted; HR calculates and
posts them in ZUP. The document's comment carries the item's marker, and a delivery first looks for a
document with that marker, so a retried delivery (after a crash or a lost answer) adopts the document it
already made instead of making a second. Mode B leaves items for 1C to collect (GET /outbox) and confirm
(POST /outbox/<id>/ack).
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from .errors import PayrollError, PayrollODataError
from .models import OutboxItem, OutboxKind, OutboxStatus, PayrollConnection
from .odata.client import ODataClient, datetime_literal
from .push.store import records_of

log = logging.getLogger(__name__)

# Vacation kinds the workflow action offers (ZUP's names).
VACATION_KINDS = {
    "ОтпускОсновной": "Ежегодный основной отпуск",
    "ДополнительныйОтпуск": "Дополнительный отпуск",
    "ОтпускБезСохраненияОплаты": "Отпуск без сохранения оплаты",
}
ABSENT_STATES_IGNORED = {"", "Работа", "Увольнение", "НеОпределено"}
MAX_BACKOFF = 3600


class Rejected(Exception):
    """The request cannot go to ZUP as it is; the message (Russian) says what to fix."""


def _dt(day: date) -> str:
    return day.strftime("%Y-%m-%dT00:00:00")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- facts about the employee, from ZUP (A) or the pushed state (B) ------------------------------------------
def _employment_odata(client: ODataClient, person: str, on: date) -> dict:
    rows = client.get("InformationRegister_ТекущиеКадровыеДанныеСотрудников",
                      select=["Сотрудник_Key", "ТекущаяОрганизация_Key", "ДатаПриема", "ДатаУвольнения", "ТекущийВидЗанятости"],
                      filter=f"ФизическоеЛицо_Key eq guid'{person}'")
    return _pick_employment([{
        "guid": r["Сотрудник_Key"], "organisation_guid": r["ТекущаяОрганизация_Key"],
        "hire_date": (r.get("ДатаПриема") or "")[:10], "termination_date": (r.get("ДатаУвольнения") or "")[:10],
        "kind": "main" if r.get("ТекущийВидЗанятости") == "ОсновноеМестоРаботы" else "part_time"} for r in rows], on)


def _pick_employment(rows: list[dict], on: date) -> dict:
    day = on.isoformat()
    active = [r for r in rows if r["hire_date"] and r["hire_date"] <= day
              and (not r.get("termination_date") or r["termination_date"] in ("0001-01-01",) or r["termination_date"] >= day)]
    if not active:
        raise Rejected("У сотрудника нет действующего трудоустройства в 1С:ЗУП на эти даты (уволен или ещё не принят). "
                       "Проверьте сотрудника в заявке.")
    return sorted(active, key=lambda r: r.get("kind") != "main")[0]


def _overlaps_odata(client: ODataClient, employment: str, start: date, end: date) -> list[dict]:
    rows = client.get("InformationRegister_ДанныеСостоянийСотрудников_RecordType",
                      select=["ДокументОснование", "Состояние", "Начало", "Окончание", "Сторно"],
                      filter=f"Сотрудник_Key eq guid'{employment}' and Active eq true and Начало le {datetime_literal(end)} "
                             f"and (Окончание ge {datetime_literal(start)} or Окончание eq datetime'0001-01-01T00:00:00')")
    return _live_absences([{"document_guid": r["ДокументОснование"], "kind": r["Состояние"], "start": r["Начало"][:10],
                            "end": r["Окончание"][:10], "reversed": r.get("Сторно")} for r in rows])


def _live_absences(rows: list[dict]) -> list[dict]:
    cancelled = {(r["document_guid"], r["kind"], r["start"]) for r in rows if r.get("reversed")}
    return [r for r in rows if not r.get("reversed") and r["kind"] not in ABSENT_STATES_IGNORED
            and (r["document_guid"], r["kind"], r["start"]) not in cancelled]


def _facts_pushed(connection: PayrollConnection, person: str, start: date, end: date) -> tuple[dict, list[dict]]:
    employment = _pick_employment(records_of(connection, "employments", person_guid=person), start)
    day_start, day_end = start.isoformat(), end.isoformat()
    overlaps = _live_absences([a for a in records_of(connection, "absences", employment_guid=employment["guid"])
                               if a["start"] <= day_end and (not a.get("end") or a["end"] >= day_start)])
    return employment, overlaps


def prepare(item: OutboxItem, connection: PayrollConnection, client: ODataClient | None) -> None:
    """Resolve the employment the document is for, and check the request against what ZUP already has."""
    payload = item.payload
    start = date.fromisoformat(payload.get("start") or payload["date"])
    end = date.fromisoformat(payload.get("end") or payload["date"])
    if client is not None:
        employment = _employment_odata(client, item.person_guid, start)
        overlaps = _overlaps_odata(client, employment["guid"], start, end) if item.kind == OutboxKind.VACATION else []
    else:
        employment, overlaps = _facts_pushed(connection, item.person_guid, start, end)
        overlaps = overlaps if item.kind == OutboxKind.VACATION else []
    if overlaps:
        first = overlaps[0]
        raise Rejected(f"В эти дни в 1С:ЗУП у сотрудника уже есть отсутствие ({first['kind']}, "
                       f"{date.fromisoformat(first['start']):%d.%m.%Y}–{date.fromisoformat(first['end']):%d.%m.%Y}). "
                       "Выберите другие даты.")
    payload["employment_guid"] = employment["guid"]
    payload["organisation_guid"] = employment["organisation_guid"]


# -- documents --------------------------------------------------------------------------------------------
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


def _vacation_kind_keys(client: ODataClient) -> dict[str, str]:
    """Catalog_ВидыОтпусков: the additional vacation's kind, by its ZUP name."""
    rows = client.get("Catalog_ВидыОтпусков", select=["Ref_Key", "Description", "ОсновнойОтпуск"])
    extra = next((r["Ref_Key"] for r in rows if not r.get("ОсновнойОтпуск") and "ополнительн" in r.get("Description", "")), "")
    return {"ДополнительныйОтпуск": extra}


def deliver(item: OutboxItem, connection: PayrollConnection, client: ODataClient | None) -> None:
    """Try once; the item ends delivered, refused, rejected or (transient trouble) pending with a next attempt."""
    try:
        if "employment_guid" not in item.payload:
            prepare(item, connection, client)
        if client is None:  # mode B: ready for 1C to collect
            item.save(update_fields=["payload", "updated_at"])
            return
        keys = _vacation_kind_keys(client) if item.payload.get("kind") == "ДополнительныйОтпуск" else {}
        entity, body = document_for(item, connection, keys)
        existing = client.get(entity, select=["Ref_Key", "Number"], filter=f"Комментарий eq {_literal(body['Комментарий'])}")
        document = existing[0] if existing else client.create(entity, body)
        item.status, item.document_entity = OutboxStatus.DELIVERED, entity
        item.document_ref, item.document_number = document.get("Ref_Key", ""), document.get("Number", "")
        item.delivered_at, item.last_error = timezone.now(), ""
    except Rejected as exc:
        item.status, item.message = OutboxStatus.REJECTED, str(exc)
    except PayrollError as exc:
        if exc.transient:
            item.attempts += 1
            item.last_error = exc.message
            item.next_attempt_at = timezone.now() + timedelta(seconds=min(MAX_BACKOFF, 15 * 2 ** item.attempts))
        elif isinstance(exc, PayrollODataError) and exc.entity.startswith("Document_"):
            item.status, item.message = OutboxStatus.REFUSED, exc.remote_message
        else:
            item.attempts += 1
            item.last_error = exc.message
            item.next_attempt_at = timezone.now() + timedelta(seconds=MAX_BACKOFF)
    item.save()


def acknowledge(item: OutboxItem, *, document_number: str = "", document_ref: str = "", refusal: str = "") -> OutboxItem:
    """Mode B: 1C confirms an item (its document) or refuses it; a second confirmation changes nothing."""
    with transaction.atomic():
        item = OutboxItem.objects.select_for_update().get(pk=item.pk)
        if item.status != OutboxStatus.PENDING:
            return item
        if refusal:
            item.status, item.message = OutboxStatus.REFUSED, refusal
        else:
            item.status, item.document_number, item.document_ref = OutboxStatus.DELIVERED, document_number, document_ref
            item.delivered_at = timezone.now()
        item.save()
    return item


def collectable(connection: PayrollConnection):
    """Mode B: what 1C should make now (checked items not yet confirmed)."""
    return OutboxItem.objects.filter(portal_id=connection.portal_id, status=OutboxStatus.PENDING,
                                     payload__has_key="employment_guid").order_by("created_at")

