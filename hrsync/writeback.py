"""Bitrix24 -> ZUP: vacation requests from workflows and overtime from time tracking, via the outbox.

The workflow action posts to /bitrix/bizproc/; the request is checked and stored at once, delivered to
ZUP by a task (payroll_connector.outbox), and the workflow is told the outcome once
(bitrix_app.gateway.workflows.tell_workflow).
"""
from __future__ import annotations

import logging
import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bitrix_app.client import BitrixClient, BitrixError
from bitrix_app.client.errors import BitrixAccessDenied, BitrixMethodError
from bitrix_app.gateway import workflows
from bitrix_app.gateway.workflows import VacationCall
from bitrix_app.models import Portal
from hrsync.crypto import hash_secret, secret_matches
from payroll_connector.models import ConnectionMode, OutboxItem, OutboxKind, OutboxStatus, PayrollConnection
from payroll_connector.odata.writer import VACATION_KINDS
from payroll_connector.outbox import deliver
from payroll_connector.services import odata_client

from .models import PersonMapping, SyncConfig, WorkflowWebhook

log = logging.getLogger(__name__)


class CallerUnknown(Exception):
    """A workflow's call that names no known portal, or a webhook key nobody holds (-> 401, nothing stored)."""


class DocumentUnreadable(Exception):
    """The Webhook action named a list element that is not there (-> 404, nothing stored)."""


def register_workflow_action(portal: Portal) -> dict[str, str]:
    """The same action as an automation robot and as a designer activity; registering twice is fine."""
    definition = workflows.action_definition(handler_url=f"{settings.APP_BASE_URL}/bitrix/bizproc/",
                                             auth_user_id=int(portal.token_user_id or 1),
                                             vacation_kinds=VACATION_KINDS, default_kind="ОтпускОсновной")
    return workflows.register_action(BitrixClient.for_portal(portal), definition)


# -- the workflow's call ------------------------------------------------------------------------------------
def portal_for_robot(call: VacationCall) -> Portal:
    portal = Portal.objects.filter(member_id=call.member_id).first()
    if portal is None or not secret_matches(call.application_token, portal.application_token_hash):
        raise CallerUnknown("unknown portal or wrong application_token")
    return portal


def receive_vacation_request(portal: Portal, call: VacationCall, *, key: str = "",
                             requires_event_token: bool = True) -> OutboxItem:
    """Check a workflow's call and store it; the same event_token twice gives the one item."""
    key = key or (f"bp:{call.event_token}" if call.event_token else "")
    existing = OutboxItem.objects.filter(portal=portal, key=key).first() if key else None
    if existing:
        return existing
    user_id, start, end, kind = call.employee, call.first_day, call.last_day, call.kind
    problems = []
    if user_id is None:
        problems.append("Не указан сотрудник.")
    if start is None or end is None:
        problems.append("Даты отпуска не распознаны: укажите первый и последний день.")
    elif end < start:
        problems.append("Первый день отпуска позже последнего: поменяйте даты местами.")
    if kind not in VACATION_KINDS:
        problems.append(f"Вид отпуска «{kind}» не поддерживается: выберите один из: {', '.join(VACATION_KINDS.values())}.")
    mapping = PersonMapping.objects.filter(portal=portal, user_id=user_id).first() if user_id else None
    if user_id and mapping is None:
        problems.append("Сотрудник не связан с 1С:ЗУП (его нет среди синхронизированных): проверьте, что он есть в ЗУП "
                        "и синхронизация прошла.")
    if requires_event_token and not call.event_token:
        problems.append("Нет event_token: действие должно ждать ответа (USE_SUBSCRIPTION).")
    item = OutboxItem(
        portal=portal, kind=OutboxKind.VACATION, key=key or f"bp-none:{timezone.now().timestamp()}",
        event_token=call.event_token, bitrix_user_id=user_id, person_guid=mapping.payroll_id if mapping else "",
        payload={"kind": kind, "start": start.isoformat() if start else None, "end": end.isoformat() if end else None,
                 "comment": call.comment[:500], "workflow_id": call.workflow_id, "document_id": call.document_id},
    )
    if problems:
        item.status, item.message = OutboxStatus.REJECTED, " ".join(problems)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # the same event_token arrived twice at once
        return OutboxItem.objects.get(portal=portal, key=item.key)
    return item


# -- delivery and the answer to the workflow -------------------------------------------------------------------
def process_outbox(portal: Portal) -> dict[str, int]:
    """Deliver what is due (mode A) or prepare it for 1C to collect (mode B); tell workflows the outcome."""
    connection = PayrollConnection.objects.filter(portal=portal).first()
    counts = {"delivered": 0, "refused": 0, "rejected": 0, "waiting": 0, "reported": 0}
    if connection is None:
        return counts
    client = odata_client(connection) if connection.mode == ConnectionMode.ODATA else None
    now = timezone.now()
    due = OutboxItem.objects.filter(portal=portal, status=OutboxStatus.PENDING).order_by("created_at")
    for item_id in list(due.values_list("pk", flat=True)):
        # Each item is delivered under its row lock, held until its outcome is saved: a second delivery
        # of the same item (another worker, a lapsed lease) waits, then finds it no longer pending. Exactly
        # once however long ZUP takes; a worker killed mid-write leaves the marker to find (outbox.deliver).
        with transaction.atomic():
            item = OutboxItem.objects.select_for_update().filter(pk=item_id, status=OutboxStatus.PENDING).first()
            if item is None:
                continue
            if item.next_attempt_at and item.next_attempt_at > now:
                counts["waiting"] += 1
                continue
            if client is None and "employment_guid" in item.payload:
                counts["waiting"] += 1  # prepared; 1C has not confirmed it yet
                continue
            deliver(item, connection, client)
        counts[{OutboxStatus.DELIVERED: "delivered", OutboxStatus.REFUSED: "refused",
                OutboxStatus.REJECTED: "rejected"}.get(item.status, "waiting")] += 1
    counts["reported"] = report_outcomes(portal)
    return counts


def report_outcomes(portal: Portal) -> int:
    """The workflow is told once per finished vacation request (a used event token answers ACCESS_DENIED).

    Requests from the plain Webhook action have no event token (that action waits for nothing): the
    employee gets a Bitrix24 notification instead.
    """
    items = list(OutboxItem.objects.filter(portal=portal, kind=OutboxKind.VACATION, reported_at__isnull=True)
                 .exclude(status=OutboxStatus.PENDING))
    if not items:
        return 0
    client = BitrixClient.for_portal(portal)
    reported = 0
    for item in items:
        status = {OutboxStatus.DELIVERED: "accepted", OutboxStatus.REFUSED: "refused"}.get(item.status, "rejected")
        message = (f"Черновик документа {item.document_number} создан в 1С:ЗУП" if status == "accepted"
                   else item.message)
        try:
            if item.event_token:
                workflows.tell_workflow(client, item.event_token, status=status, document_number=item.document_number,
                                        message=message)
            elif item.bitrix_user_id:
                workflows.notify(client, item.bitrix_user_id, f"Заявка на отпуск: {message}", tag=f"hrsync-request-{item.pk}")
        except (BitrixAccessDenied, BitrixMethodError) as exc:
            # The workflow is gone or was already told (a retry after a crash): nothing more to say.
            log.info("Workflow of item %s not told: %s", item.pk, exc.message)
        except BitrixError as exc:
            log.warning("Could not report item %s: %s", item.pk, exc.message)
            continue
        OutboxItem.objects.filter(pk=item.pk).update(reported_at=timezone.now())
        reported += 1
    return reported


# -- overtime from time tracking ---------------------------------------------------------------------------
def collect_overtime(portal: Portal, year: int, month: int) -> dict[str, Any]:
    """Days over the norm in Bitrix24 time tracking -> overtime items, once per person and day.

    A day counts when it is complete and its final duration exceeds the configured one. A later
    correction replaces an undelivered item, or becomes a correcting item when the first was delivered.
    """
    mappings = list(PersonMapping.objects.filter(portal=portal))
    person_of = {m.user_id: m.payroll_id for m in mappings}
    reports = workflows.worked_days(BitrixClient.for_portal(portal), list(person_of), year=year, month=month)
    counts = {"users": len(mappings), "with_time_tracking": 0, "created": 0, "updated": 0, "corrections": 0,
              "unchanged": 0}
    for user_id, days in reports.items():
        if not days:
            continue
        counts["with_time_tracking"] += 1
        for day in days:
            if not day.complete or day.worked_seconds <= day.norm_seconds:
                continue
            hours = round((day.worked_seconds - day.norm_seconds) / 3600, 2)
            counts[_record_overtime(portal, person_of[user_id], user_id, day.day, hours)] += 1
    counts["time_tracking_off"] = counts["with_time_tracking"] == 0
    config, _ = SyncConfig.objects.get_or_create(portal=portal)
    config.overtime_state = {**counts, "month": f"{year}-{month:02d}", "checked_at": timezone.now().isoformat()}
    config.save(update_fields=["overtime_state"])
    return counts


def _record_overtime(portal: Portal, person: str, user_id: int, day: date, hours: float) -> str:
    key = f"overtime:{person}:{day.isoformat()}"
    with transaction.atomic():
        live = (OutboxItem.objects.select_for_update().filter(portal=portal, key__startswith=key)
                .exclude(status=OutboxStatus.REPLACED).order_by("-created_at").first())
        payload = {"date": day.isoformat(), "hours": hours}
        if live is None:
            OutboxItem.objects.create(portal=portal, kind=OutboxKind.OVERTIME, key=key, person_guid=person,
                                      bitrix_user_id=user_id, payload=payload)
            return "created"
        if live.payload.get("hours") == hours:
            return "unchanged"
        if live.status == OutboxStatus.PENDING:  # not in ZUP yet: the new figure replaces the old
            live.payload = {**live.payload, "hours": hours}
            live.save(update_fields=["payload", "updated_at"])
            return "updated"
        version = OutboxItem.objects.filter(portal=portal, key__startswith=key).count() + 1
        OutboxItem.objects.create(portal=portal, kind=OutboxKind.OVERTIME, key=f"{key}:v{version}", person_guid=person,
                                  bitrix_user_id=user_id, correction_of=live,
                                  payload={**payload, "comment": f"Исправление: было {live.payload.get('hours')} ч"})
        return "corrections"


# -- the plain "Webhook" action ----------------------------------------------------------------------------
def create_webhook(portal: Portal, *, iblock_id: int, first_day_field: str, last_day_field: str,
                   employee_field: str = "CREATED_BY", kind_field: str = "", comment_field: str = "",
                   iblock_type: str = "bitrix_processes") -> str:
    """A new secret URL for the portal's Webhook action (shown once; only its hash is kept)."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    WorkflowWebhook.objects.update_or_create(portal=portal, defaults={
        "key_id": key_id, "secret_hash": hash_secret(f"{key_id}.{secret}"), "iblock_type": iblock_type,
        "iblock_id": iblock_id, "employee_field": employee_field, "kind_field": kind_field,
        "first_day_field": first_day_field, "last_day_field": last_day_field, "comment_field": comment_field})
    return f"{settings.APP_BASE_URL}/bitrix/webhook/{key_id}.{secret}/"


def webhook_for_key(key: str) -> WorkflowWebhook:
    key_id = key.split(".", 1)[0]
    hook = WorkflowWebhook.objects.filter(key_id=key_id).select_related("portal").first()
    if hook is None or not secret_matches(key, hook.secret_hash) or not hook.portal.is_operational:
        raise CallerUnknown("unknown webhook")
    return hook


def receive_webhook_request(hook: WorkflowWebhook, document_id: list) -> OutboxItem:
    """The Webhook action sends only document_id: the request's fields are read back from the document."""
    element_id = str(document_id[-1] if document_id else "")
    key = f"wh:{hook.iblock_id}:{element_id}"
    existing = OutboxItem.objects.filter(portal=hook.portal, key=key).first()
    if existing:
        return existing
    element = workflows.read_list_element(BitrixClient.for_portal(hook.portal), iblock_type=hook.iblock_type,
                                          iblock_id=hook.iblock_id, element_id=element_id)
    if element is None:
        raise DocumentUnreadable(f"no element {element_id} in list {hook.iblock_id}")

    def value(code: str, default: str = "") -> Any:
        return workflows.element_value(element, code) if code else default
    call = VacationCall(member_id=hook.portal.member_id, application_token="", event_token="", workflow_id="",
                        document_id=document_id, employee=workflows.parse_user(value(hook.employee_field)),
                        kind=str(value(hook.kind_field, "ОтпускОсновной") or ""),
                        first_day=workflows.parse_day(value(hook.first_day_field)),
                        last_day=workflows.parse_day(value(hook.last_day_field)),
                        comment=str(value(hook.comment_field) or ""))
    return receive_vacation_request(hook.portal, call, key=key, requires_event_token=False)
