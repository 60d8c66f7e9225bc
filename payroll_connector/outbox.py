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

from hrsync.sync.states import NOT_ABSENCES

from .errors import PayrollError, PayrollODataError, PayrollRequestRejected
from .models import OutboxItem, OutboxKind, OutboxStatus, PayrollConnection
from .odata.client import ODataClient
from .odata.reader import absence_states, current_employments
from .odata.writer import create_document, document_for, find_document, vacation_kind_keys
from .push.store import records_of
from .signals import outbox_acknowledged

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600


# -- facts about the employee, from ZUP (A) or the pushed state (B) ------------------------------------------
def _pick_employment(rows: list[dict], on: date) -> dict:
    day = on.isoformat()
    active = [r for r in rows if r["hire_date"] and r["hire_date"] <= day
              and (not r.get("termination_date") or r["termination_date"] in ("0001-01-01",) or r["termination_date"] >= day)]
    if not active:
        raise PayrollRequestRejected("У сотрудника нет действующего трудоустройства в 1С:ЗУП на эти даты (уволен или ещё не принят). "
                       "Проверьте сотрудника в заявке.")
    return sorted(active, key=lambda r: r.get("kind") != "main")[0]


def _live_absences(rows: list[dict]) -> list[dict]:
    cancelled = {(r["document_guid"], r["kind"], r["start"]) for r in rows if r.get("reversed")}
    return [r for r in rows if not r.get("reversed") and r["kind"] not in NOT_ABSENCES
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
        employment = _pick_employment(current_employments(client, item.person_guid), start)
        overlaps = (_live_absences(absence_states(client, employment["guid"], start, end))
                    if item.kind == OutboxKind.VACATION else [])
    else:
        employment, overlaps = _facts_pushed(connection, item.person_guid, start, end)
        overlaps = overlaps if item.kind == OutboxKind.VACATION else []
    if overlaps:
        first = overlaps[0]
        raise PayrollRequestRejected(f"В эти дни в 1С:ЗУП у сотрудника уже есть отсутствие ({first['kind']}, "
                       f"{date.fromisoformat(first['start']):%d.%m.%Y}–{date.fromisoformat(first['end']):%d.%m.%Y}). "
                       "Выберите другие даты.")
    payload["employment_guid"] = employment["guid"]
    payload["organisation_guid"] = employment["organisation_guid"]


def deliver(item: OutboxItem, connection: PayrollConnection, client: ODataClient | None) -> None:
    """Try once; the item ends delivered, refused, rejected or (transient trouble) pending with a next attempt."""
    try:
        if "employment_guid" not in item.payload:
            prepare(item, connection, client)
        if client is None:  # mode B: ready for 1C to collect
            item.save(update_fields=["payload", "updated_at"])
            return
        keys = vacation_kind_keys(client) if item.payload.get("kind") in ("ДополнительныйОтпуск", "ОтпускБезСохраненияОплаты") else {}
        entity, body = document_for(item, connection, keys)
        document = find_document(client, entity, item.marker) or create_document(client, entity, body)
        item.status, item.document_entity = OutboxStatus.DELIVERED, entity
        item.document_ref, item.document_number = document.get("Ref_Key", ""), document.get("Number", "")
        item.delivered_at, item.last_error = timezone.now(), ""
    except PayrollRequestRejected as exc:
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
    outbox_acknowledged.send(sender=OutboxItem, item=item)  # the workflow is told at once
    return item


def collectable(connection: PayrollConnection):
    """Mode B: what 1C should make now (checked items not yet confirmed)."""
    return OutboxItem.objects.filter(portal_id=connection.portal_id, status=OutboxStatus.PENDING,
                                     payload__has_key="employment_guid").order_by("created_at")

