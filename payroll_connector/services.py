"""What the push API, the tasks, the management command and (later) the settings page call."""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import date
from typing import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from hrsync.crypto import hash_secret, secret_matches
from hrsync.sync.assemble import absence_guid, assemble_snapshot
from hrsync.sync.model import PayrollSnapshot, RecordProblem

from .errors import PackageConflict, PayrollAuthError, PayrollError, PayrollPackageInvalid, PayrollUnavailable
from .models import ConnectionMode, PackageStatus, PayrollConnection, PayrollPackage, PayrollRecord, PayrollSourceState, ZupEdition
from .odata.client import ODataClient
from .odata.reader import ReaderSettings, read_source_records
from .push.records import CHANGE_KINDS, apply_changes, records_of_snapshot, source_records
from .push.store import DatabaseRecordStore, all_records, replace_all
from .push.schema import Package
from .signals import package_processed

log = logging.getLogger(__name__)

# Entity sets the OData reader needs; "Check" reads one record of each.
REQUIRED_ENTITIES = (
    "Catalog_Организации", "Catalog_ПодразделенияОрганизаций", "Catalog_Должности", "Catalog_Сотрудники",
    "Catalog_ФизическиеЛица", "InformationRegister_ТекущиеКадровыеДанныеСотрудников",
    "InformationRegister_ДанныеСостоянийСотрудников_RecordType",
)


# -- connections --------------------------------------------------------------------------------------
def connect_odata(portal, *, url: str, username: str, password: str, organisation_filter=()) -> PayrollConnection:
    connection, _ = PayrollConnection.objects.update_or_create(portal=portal, defaults={
        "mode": ConnectionMode.ODATA, "odata_url": url, "odata_username": username, "odata_password": password,
        "organisation_filter": list(organisation_filter), "push_key_id": None, "push_key_hash": "",
    })
    return connection


def connect_push(portal, *, organisation_filter=()) -> tuple[PayrollConnection, str]:
    connection, _ = PayrollConnection.objects.update_or_create(portal=portal, defaults={
        "mode": ConnectionMode.PUSH, "odata_url": "", "odata_username": "", "odata_password": "",
        "organisation_filter": list(organisation_filter),
    })
    return connection, rotate_push_key(connection)


def update_connection(connection: PayrollConnection, *, schedule_minutes: int, edition: str,
                      organisation_filter=()) -> PayrollConnection:
    """The connection's settings from the settings page; a run every 5 minutes at the most."""
    connection.schedule_minutes = max(5, int(schedule_minutes))
    if edition not in ZupEdition.values:
        raise ValueError(_("Unknown ZUP edition: %(edition)s") % {"edition": edition})
    connection.edition = edition
    connection.organisation_filter = list(organisation_filter)
    connection.save(update_fields=["schedule_minutes", "edition", "organisation_filter", "updated_at"])
    return connection


def rotate_push_key(connection: PayrollConnection) -> str:
    """A new key, shown once; the old one stops working at once. Only its hash is stored."""
    key_id = secrets.token_hex(6)
    key = f"hrs_{key_id}_{secrets.token_urlsafe(32)}"
    connection.push_key_id = key_id
    connection.push_key_hash = hash_secret(key)
    connection.save(update_fields=["push_key_id", "push_key_hash", "updated_at"])
    return key


def connection_for_push_key(key: str) -> PayrollConnection | None:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "hrs" or "\x00" in key or len(parts[1]) > 24:
        return None
    connection = PayrollConnection.objects.filter(push_key_id=parts[1], mode=ConnectionMode.PUSH).select_related("portal").first()
    if connection is None or not secret_matches(key, connection.push_key_hash):
        return None
    return connection


def odata_client(connection: PayrollConnection) -> ODataClient:
    return ODataClient(connection.odata_url, connection.odata_username, connection.odata_password,
                       timeout=(settings.PAYROLL_HTTP_CONNECT_TIMEOUT, settings.PAYROLL_HTTP_TIMEOUT),
                       page_size=settings.PAYROLL_ODATA_PAGE_SIZE)


_COMPOSITION_PREFIXES = {"Catalog_": "Справочник.", "Document_": "Документ.", "InformationRegister_": "РегистрСведений.",
                         "AccumulationRegister_": "РегистрНакопления."}


def composition_name(entity: str) -> str:
    """An entity set by the name the 1C administrator ticks in ZUP's «Состав» of the OData interface:
    Catalog_Организации -> Справочник.Организации (a register's records set -> the register)."""
    for prefix, kind in _COMPOSITION_PREFIXES.items():
        if entity.startswith(prefix):
            return kind + entity.removeprefix(prefix).removesuffix("_RecordType")
    return entity


def check_odata(connection: PayrollConnection) -> dict[str, str]:
    """Read one record of every entity set the reader needs: {entity: "ok" | the error, with the fix}."""
    client = odata_client(connection)
    outcome: dict[str, str] = {}
    for entity in REQUIRED_ENTITIES:
        try:
            client.get(entity, top=1)
            outcome[entity] = "ok"
        except PayrollError as exc:
            outcome[entity] = exc.message
            if isinstance(exc, (PayrollAuthError, PayrollUnavailable)):
                break  # the same answer for every entity
    return outcome


# -- snapshots -----------------------------------------------------------------------------------------
def reader_settings(connection: PayrollConnection, today: date | None = None) -> ReaderSettings:
    return ReaderSettings(today=today or timezone.localdate(), absence_history_days=connection.absence_history_days,
                          heads_source=settings.PAYROLL_ODATA_HEADS_SOURCE,
                          heads_entity=settings.PAYROLL_ODATA_HEADS_ENTITY,
                          heads_department_field=settings.PAYROLL_ODATA_HEADS_DEPARTMENT_FIELD,
                          heads_person_field=settings.PAYROLL_ODATA_HEADS_PERSON_FIELD)


def read_snapshot(connection: PayrollConnection, *, today: date | None = None,
                  persons: Iterable[str] | None = None) -> PayrollSnapshot:
    """The current HR picture of the connection: read from ZUP (mode A) or from what 1C pushed (mode B).

    `persons`: of what 1C pushed, only these people (their employments and absences) besides the structure
    (organisations, departments, positions, heads): what a run for a pushed change needs. ZUP read by
    OData is read whole."""
    organisation_filter = frozenset(connection.organisation_filter) or None
    if persons is not None and connection.mode == ConnectionMode.PUSH:
        return assemble_snapshot(source_records(records_of_persons(connection, set(persons))),
                                 organisation_filter=organisation_filter)
    if connection.mode == ConnectionMode.ODATA:
        try:
            source = read_source_records(odata_client(connection), reader_settings(connection, today))
        except PayrollError as exc:
            PayrollConnection.objects.filter(pk=connection.pk).update(last_error=exc.message)
            raise
        PayrollConnection.objects.filter(pk=connection.pk).update(last_read_at=timezone.now(), last_error="")
    else:
        source = source_records(all_records(connection))
    return assemble_snapshot(source, organisation_filter=organisation_filter)


# -- push packages ----------------------------------------------------------------------------------------
def _schema_problems(document, error: ValidationError) -> list[dict]:
    problems = []
    for item in error.errors()[:500]:
        location = [p for p in item["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
        path, node, record_guid = [], document, ""
        for part in location[:-1] if len(location) > 1 else location:
            path.append(f"[{part}]" if isinstance(part, int) else part)
            node = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
            if isinstance(node, dict):
                # The record's own id: most have `guid`, an absence is named by its document.
                record_guid = str(_record_id(node) or record_guid)
        record = "".join(p if p.startswith("[") else f".{p}" for p in path).lstrip(".")
        field = str(location[-1]) if location else ""
        if record_guid:
            record += f" ({record_guid})"
        problems.append({"record": record or "package", "field": field, "problem": item["msg"]})
    return problems


# pydantic names the member of a tagged union in an error's location: not a field the 1C side wrote.
_UNION_TAGS = CHANGE_KINDS


def _has(node, part) -> bool:
    return (isinstance(node, dict) and part in node) or (isinstance(node, list) and isinstance(part, int) and part < len(node))


def _record_id(node: dict) -> str:
    value = node.get("guid") or node.get("document_guid")
    return value if isinstance(value, str) and "\x00" not in value else ""


def _nul_problems(document) -> list[dict]:
    """Every string (key or value) holding U+0000, named by record and field: PostgreSQL cannot store it."""
    problems: list[dict] = []
    stack = [(document, "package", "")]
    while stack and len(problems) < 100:
        node, record, guid = stack.pop()
        if isinstance(node, dict):
            guid = str(_record_id(node) or guid)
            for key, value in node.items():
                where = f"{record} ({guid})" if guid and record != "package" else record
                if "\x00" in key or (isinstance(value, str) and "\x00" in value):
                    problems.append({"record": where, "field": key.replace("\x00", "\\u0000"),
                                     "problem": "contains the NUL character (\\u0000), which no text may hold"})
                elif isinstance(value, (dict, list)):
                    stack.append((value, key if record == "package" else f"{record}.{key}", guid))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, str) and "\x00" in value:
                    problems.append({"record": f"{record}[{index}]", "field": record.rsplit(".", 1)[-1],
                                     "problem": "contains the NUL character (\\u0000), which no text may hold"})
                elif isinstance(value, (dict, list)):
                    stack.append((value, f"{record}[{index}]", ""))
    return problems


def _edge_problems(raw: bytes) -> tuple[object, list[dict]]:
    """What no schema says but the app and its database need: JSON, not absurdly deep, no NUL in any text."""
    try:
        document = json.loads(raw)
    except RecursionError:  # the C decoder stops at Python's recursion limit (about 1,000 levels)
        return None, [{"record": "package", "field": "", "problem": "JSON nested too deeply"}]
    except ValueError as exc:
        return None, [{"record": "package", "field": "", "problem": f"Invalid JSON: {str(exc)[:200]}"}]
    return document, _nul_problems(document)


def parse_package(raw: bytes) -> Package:
    document, problems = _edge_problems(raw)
    if problems:
        raise PayrollPackageInvalid(problems)
    try:
        package = Package.model_validate_json(raw)
    except ValidationError as exc:
        raise PayrollPackageInvalid(_schema_problems(document, exc)) from exc
    if package.kind == "snapshot" and package.snapshot is None:
        raise PayrollPackageInvalid([{"record": "package", "field": "snapshot", "problem": "a snapshot package needs `snapshot`"}])
    if package.kind == "changes" and package.changes is None:
        raise PayrollPackageInvalid([{"record": "package", "field": "changes", "problem": "a changes package needs `changes`"}])
    if package.snapshot and package.snapshot.part > package.snapshot.parts:
        raise PayrollPackageInvalid([{"record": "snapshot", "field": "part", "problem": "part is larger than parts"}])
    if package.snapshot and package.snapshot.parts > 1 and not package.snapshot.snapshot_id:
        raise PayrollPackageInvalid([{"record": "snapshot", "field": "snapshot_id", "problem": "a snapshot in parts needs snapshot_id"}])
    return package


def receive_package(connection: PayrollConnection, raw: bytes) -> tuple[PayrollPackage, bool]:
    """Store a valid package once (a repeat returns the first); the caller queues its processing."""
    package = parse_package(raw)
    snapshot = package.snapshot
    fields = {"kind": package.kind, "snapshot_id": (snapshot.snapshot_id or "") if snapshot else "",
              "part": snapshot.part if snapshot else 1, "parts": snapshot.parts if snapshot else 1}
    package_id = package.package_id
    digest = hashlib.sha256(raw).hexdigest()
    # The validated model of a large snapshot weighs hundreds of MB; only the raw text is kept.
    del package, snapshot
    with transaction.atomic():
        stored, created = PayrollPackage.objects.get_or_create(
            connection=connection, package_id=package_id,
            defaults={**fields, "body": raw.decode("utf-8"), "body_sha256": digest})
        if not created and stored.body_sha256 and stored.body_sha256 != digest:
            raise PackageConflict(package_id)
        PayrollConnection.objects.filter(pk=connection.pk).update(last_package_at=timezone.now())
    return stored, created


def _problem_rows(problems: list[RecordProblem]) -> list[dict]:
    return [{"entity": p.entity, "record": p.record, "label": p.label, "field": p.field, "code": p.code,
             "problem": p.message, "blocking": p.blocking} for p in problems]


def _record_counts(connection: PayrollConnection) -> dict[str, int]:
    counts = dict(PayrollRecord.objects.filter(connection=connection).values_list("entity").annotate(n=Count("pk")))
    return {name: counts.get(name, 0) for name in ("organisations", "departments", "positions", "persons",
                                                   "employments", "absences")}


def records_of_persons(connection: PayrollConnection, persons: set[str]) -> list[tuple[str, dict]]:
    """The structure whole (few records: organisations, departments, positions, heads), and of people only
    these, with their employments and those employments' absences: a few statements, whatever the size."""
    rows = PayrollRecord.objects.filter(connection=connection)
    out = list(rows.filter(entity__in=("organisations", "departments", "positions", "heads")).values_list("entity", "data"))
    out += list(rows.filter(entity="persons", key__in=sorted(persons)).values_list("entity", "data"))
    employments = list(rows.filter(entity="employments", person_guid__in=sorted(persons)).values_list("key", "data"))
    out += [("employments", data) for _, data in employments]
    out += list(rows.filter(entity="absences", employment_guid__in=sorted(k for k, _ in employments)).values_list("entity", "data"))
    return out


def persons_touched(connection: PayrollConnection, touched: set[tuple[str, str]]) -> set[str]:
    """The people a change package touched: its persons, the owners of its employments, absences and heads."""
    rows = PayrollRecord.objects.filter(connection=connection)
    keys = {entity: {k for e, k in touched if e == entity} for entity in ("persons", "employments", "absences", "heads")}
    persons = set(keys["persons"])
    employments = set(keys["employments"])
    # An absence's key names its employment (push.records._absence_key), removed ones' included.
    employments |= {key.split("|")[1] for key in keys["absences"] if key.count("|") >= 3}
    if keys["heads"]:
        persons |= {p for p in rows.filter(entity="heads", key__in=sorted(keys["heads"])).values_list(
            "person_guid", flat=True) if p}
    if employments:
        persons |= set(rows.filter(entity="employments", key__in=sorted(employments)).values_list("person_guid", flat=True))
    return persons


def _problems_of_changes(connection: PayrollConnection, results: list[dict], touched: set[tuple[str, str]]) -> list[RecordProblem]:
    """The checks of the assembler, run on what a change package touched and what that refers to.

    Organisations, departments and positions are few and are all read (a department's checks walk its
    tree); of persons, employments and absences only the touched ones and their neighbours are, so the
    cost follows the package, not the company. The periodic full read reports everything anyway.
    """
    rows = PayrollRecord.objects.filter(connection=connection)
    touched_keys = {key for _, key in touched} | {r["record"] for r in results if r["record"]}
    employment_keys = {k for e, k in touched if e == "employments"}
    absence_rows = list(rows.filter(entity="absences", key__in=[k for e, k in touched if e == "absences"]))
    employment_keys |= {r.employment_guid for r in absence_rows}
    heads = list(rows.filter(entity="heads", key__in=touched_keys))
    employment_keys |= {r.employment_guid for r in heads if r.employment_guid}
    person_keys = {k for e, k in touched if e == "persons"} | {r.person_guid for r in heads if r.person_guid}
    employments = list(rows.filter(entity="employments", key__in=employment_keys))
    person_keys |= {r.person_guid for r in employments}
    persons = list(rows.filter(entity="persons", key__in=person_keys))
    emails = [str(p.data.get("email") or "").strip() for p in persons if p.data.get("email")]
    if emails:  # a duplicate e-mail is a problem of both people
        persons += list(rows.filter(entity="persons").exclude(key__in=person_keys).filter(
            data__email__in=emails))
    person_keys = {p.key for p in persons}
    employments += list(rows.filter(entity="employments", person_guid__in=person_keys).exclude(key__in=employment_keys))
    neighbourhood = [(r.entity, r.data) for r in rows.filter(entity__in=("organisations", "departments", "positions"))]
    neighbourhood += [(r.entity, r.data) for r in [*persons, *employments, *absence_rows]]
    neighbourhood += [(r.entity, r.data) for r in heads]
    snapshot = assemble_snapshot(source_records(neighbourhood),
                                 organisation_filter=frozenset(connection.organisation_filter) or None)
    absence_ids = {absence_guid(a.data["document_guid"], a.data["employment_guid"], a.data["kind"],
                                date.fromisoformat(a.data["start"])) for a in absence_rows}
    wanted = touched_keys | absence_ids
    return [p for p in snapshot.problems if p.record in wanted]


def fail_package(package_pk: int, error: str) -> None:
    """Processing broke on something the checks at the edge did not catch: say so on the package."""
    PayrollPackage.objects.filter(pk=package_pk).exclude(status=PackageStatus.PROCESSED).update(
        status=PackageStatus.FAILED, error=error[:2000], processed_at=timezone.now())


def process_package(package_pk: int) -> PayrollPackage:
    """Apply one package to the connection's source state, once, with a result per record."""
    with transaction.atomic():
        package = PayrollPackage.objects.select_for_update().select_related("connection").get(pk=package_pk)
        if package.status == PackageStatus.PROCESSED:
            return package
        state, _ = PayrollSourceState.objects.select_for_update().get_or_create(connection=package.connection)
        if package.kind == "snapshot":
            parts = list(PayrollPackage.objects.select_for_update().filter(
                connection=package.connection, snapshot_id=package.snapshot_id, kind="snapshot",
            ).exclude(status=PackageStatus.PROCESSED).order_by("part")) if package.parts > 1 else [package]
            if len({p.part for p in parts}) < package.parts:
                package.status = PackageStatus.WAITING_FOR_PARTS
                package.results = {"summary": {"parts_received": len(parts), "parts": package.parts}}
                package.save(update_fields=["status", "results"])
                return package
            replace_all(package.connection, records_of_snapshot([json.loads(p.body)["snapshot"] for p in parts]))
            change_results: list[dict] = []
            snapshot = assemble_snapshot(source_records(all_records(package.connection)),
                                         organisation_filter=frozenset(package.connection.organisation_filter) or None)
            problems = list(snapshot.problems)
            summary = {"organisations": len(snapshot.organisations), "departments": len(snapshot.departments),
                       "positions": len(snapshot.positions), "persons": len(snapshot.persons),
                       "employments": sum(len(p.employments) for p in snapshot.persons),
                       "absences": len(snapshot.absences)}
        else:
            parts = [package]
            store = DatabaseRecordStore(package.connection)
            change_results = apply_changes(store, Package.model_validate_json(package.body))
            touched = store.touched  # (before the flush, which forgets it)
            store.flush()
            problems = _problems_of_changes(package.connection, change_results, touched)
            summary = _record_counts(package.connection)
            summary["persons_touched"] = sorted(persons_touched(package.connection, touched))
        state.version += 1
        state.save()
        summary.update(problems=len(problems), blocked=sum(1 for p in problems if p.blocking),
                       changes_applied=sum(1 for r in change_results if r["status"] == "applied"),
                       changes_rejected=sum(1 for r in change_results if r["status"] == "rejected"))
        results = {"summary": summary, "changes": change_results, "problems": _problem_rows(problems)}
        now = timezone.now()
        for part in parts:
            part.status = PackageStatus.PROCESSED
            part.processed_at = now
            part.results = results if part.pk == package.pk else {"summary": summary, "processed_with": package.package_id}
            part.body = ""
            part.save(update_fields=["status", "processed_at", "results", "body"])
        package.refresh_from_db()
    log.info("Package %s of portal %s processed: %s", package.package_id, package.connection.portal_id, summary)
    touched = package.results.get("summary", {}).get("persons_touched") if package.kind == "changes" else None
    package_processed.send(sender=PayrollPackage, connection=package.connection, package=package,
                           persons=None if touched is None else frozenset(touched))
    return package
