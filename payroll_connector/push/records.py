"""The pushed source state and how packages change it.

A full snapshot replaces the state; a change package edits it record by record, each change with
its own result, through a `RecordStore` that reads and writes only the records a change touches (the
database one is payroll_connector.push.store). The state becomes SourceRecords for the common
assembler, exactly like an OData read.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Protocol

from hrsync.sync.assemble import SourceRecords

from .schema import Package

ENTITIES = ("organisations", "departments", "positions", "persons", "employments")
_DATE_FIELDS = {"created", "disbanded", "birthday", "hire_date", "termination_date", "start", "end"}


def empty_state() -> dict[str, Any]:
    return {**{name: {} for name in ENTITIES}, "heads": {}, "absences": {}}


def _absence_key(absence: dict) -> str:
    return f"{absence['document_guid']}|{absence['employment_guid']}|{absence['kind']}|{absence['start']}"


def state_from_snapshot(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The source state from the parts of a snapshot (validated bodies, as JSON-mode dicts)."""
    state = empty_state()
    for body in parts:
        for name in ENTITIES:
            for record in body.get(name, []):
                state[name][record["guid"]] = record
        for head in body.get("heads", []):
            state["heads"][head["department_guid"]] = head["employment_guid"]
        for absence in body.get("absences", []):
            key = _absence_key(absence)
            known = state["absences"].get(key)
            # An absence and its сторно share the key, and may arrive in different parts, in any order.
            state["absences"][key] = {**absence, "reversed": bool(absence.get("reversed") or (known or {}).get("reversed"))}
    return state


class RecordStore(Protocol):
    """One connection's pushed records, by entity and key (absences are keyed document|employment|kind|start)."""

    def get(self, entity: str, key: str) -> dict | None: ...

    def put(self, entity: str, key: str, record: dict) -> None: ...

    def remove(self, entity: str, key: str) -> None: ...

    def absences_of(self, document_guid: str, employment_guid: str) -> list[tuple[str, dict]]: ...


def apply_changes(store: RecordStore, package: Package) -> list[dict[str, Any]]:
    """Apply a change package in order; returns one result per change ({index, op, record, status, problem})."""
    results = []
    for index, change in enumerate(package.changes or []):
        data = change.model_dump(mode="json")
        op = data["op"]
        record, problem = "", ""
        if op == "hire":
            record = data["employment"]["guid"]
            store.put("persons", data["person"]["guid"], data["person"])
            store.put("employments", record, data["employment"])
        elif op == "person_changed":
            record = data["person"]["guid"]
            store.put("persons", record, data["person"])
        elif op == "transfer":
            record = data["employment"]["guid"]
            if store.get("employments", record) is None:
                problem = "unknown employment: send its hire first"
            else:
                store.put("employments", record, data["employment"])
        elif op == "termination":
            record = data["employment_guid"]
            known = store.get("employments", record)
            if known is None:
                problem = "unknown employment"
            else:
                store.put("employments", record, {**known, "termination_date": data["termination_date"]})
        elif op in ("absence_added", "absence_changed"):
            absence = data["absence"]
            record = absence["document_guid"]
            # A re-posted document replaces what it recorded for that employee.
            for key, known in store.absences_of(absence["document_guid"], absence["employment_guid"]):
                if key != _absence_key(absence) and not known.get("reversed"):
                    store.put("absences", key, {**known, "reversed": True})
            store.put("absences", _absence_key(absence), absence)
        elif op == "absence_cancelled":
            record = data["document_guid"]
            matched = store.absences_of(data["document_guid"], data["employment_guid"])
            if not matched:
                problem = "no absence of this document and employment is known"
            for key, known in matched:
                store.put("absences", key, {**known, "reversed": True})
        elif op in ("department_created", "department_renamed", "department_moved"):
            record = data["department"]["guid"]
            if op != "department_created" and store.get("departments", record) is None:
                problem = "unknown department: send department_created first"
            else:
                store.put("departments", record, data["department"])
        elif op == "department_disbanded":
            record = data["department_guid"]
            known = store.get("departments", record)
            if known is None:
                problem = "unknown department"
            else:
                store.put("departments", record, {**known, "disbanded": data["disbanded"]})
        elif op == "head_changed":
            record = data["department_guid"]
            if data.get("employment_guid"):
                store.put("heads", record, {"department_guid": record, "employment_guid": data["employment_guid"]})
            else:
                store.remove("heads", record)
        results.append({"index": index, "op": op, "record": record,
                        "status": "rejected" if problem else "applied", "problem": problem})
    return results


def records_of_snapshot(parts: list[dict[str, Any]]) -> Iterable[tuple[str, str, dict]]:
    """(entity, key, record) for every record of a snapshot's parts; heads are records of their own."""
    state = state_from_snapshot(parts)
    for entity in (*ENTITIES, "absences"):
        for key, record in state[entity].items():
            yield entity, key, record
    for department, employment in state["heads"].items():
        yield "heads", department, {"department_guid": department, "employment_guid": employment}


def _parse_dates(record: dict) -> dict:
    return {k: (date.fromisoformat(v) if k in _DATE_FIELDS and isinstance(v, str) and v else v) for k, v in record.items()}


def source_records(rows: Iterable[tuple[str, dict]]) -> SourceRecords:
    """SourceRecords from (entity, record) pairs, dates parsed, for the common assembler."""
    source = SourceRecords()
    for entity, record in rows:
        getattr(source, entity).append(_parse_dates(record))
    return source
