"""The pushed source state and how packages change it.

A full snapshot replaces the state; a change package edits it record by record, each change with
its own result, through a `RecordStore` that reads and writes only the records a change touches (the
database one is payroll_connector.push.store). The state becomes SourceRecords for the common
assembler, exactly like an OData read.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable, Protocol

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
            state["heads"][head["department_guid"]] = _head(head)
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

    def expect(self, changes: list[dict]) -> None:
        """The records these changes will look at, read ahead in bulk (a store may also read each when asked)."""


def apply_changes(store: RecordStore, package: Package) -> list[dict[str, Any]]:
    """Apply a change package in order; returns one result per change ({index, op, record, status, problem})."""
    results = []
    changes = [change.model_dump(mode="json") for change in package.changes or []]
    store.expect(changes)
    for index, data in enumerate(changes):
        record, problem = _CHANGES[data["op"]](store, data)
        results.append({"index": index, "op": data["op"], "record": record,
                        "status": "rejected" if problem else "applied", "problem": problem})
    return results


# One function per kind of change: (the store, the change) -> (the record it is about, why it was refused or "").
def _hire(store: RecordStore, data: dict) -> tuple[str, str]:
    store.put("persons", data["person"]["guid"], data["person"])
    store.put("employments", data["employment"]["guid"], data["employment"])
    return data["employment"]["guid"], ""


def _person_changed(store: RecordStore, data: dict) -> tuple[str, str]:
    store.put("persons", data["person"]["guid"], data["person"])
    return data["person"]["guid"], ""


def _transfer(store: RecordStore, data: dict) -> tuple[str, str]:
    return _replace(store, "employments", data["employment"], unknown="unknown employment: send its hire first")


def _replace(store: RecordStore, entity: str, value: dict, *, unknown: str = "") -> tuple[str, str]:
    """Store the record whole; with `unknown`, only over one already known (else refused with that text)."""
    record = value["guid"]
    if unknown and store.get(entity, record) is None:
        return record, unknown
    store.put(entity, record, value)
    return record, ""


def _termination(store: RecordStore, data: dict) -> tuple[str, str]:
    return _amend(store, "employments", data["employment_guid"], {"termination_date": data["termination_date"]},
                  unknown="unknown employment")


def _amend(store: RecordStore, entity: str, record: str, changes: dict, *, unknown: str) -> tuple[str, str]:
    """Change some fields of a known record; an unknown one is refused with `unknown`."""
    known = store.get(entity, record)
    if known is None:
        return record, unknown
    store.put(entity, record, {**known, **changes})
    return record, ""


def _absence(store: RecordStore, data: dict) -> tuple[str, str]:
    absence = data["absence"]
    # A re-posted document replaces what it recorded for that employee.
    for key, known in store.absences_of(absence["document_guid"], absence["employment_guid"]):
        if key != _absence_key(absence) and not known.get("reversed"):
            store.put("absences", key, {**known, "reversed": True})
    store.put("absences", _absence_key(absence), absence)
    return absence["document_guid"], ""


def _absence_cancelled(store: RecordStore, data: dict) -> tuple[str, str]:
    matched = store.absences_of(data["document_guid"], data["employment_guid"])
    for key, known in matched:
        store.put("absences", key, {**known, "reversed": True})
    return data["document_guid"], "" if matched else "no absence of this document and employment is known"


def _department(store: RecordStore, data: dict) -> tuple[str, str]:
    creating = data["op"] == "department_created"
    return _replace(store, "departments", data["department"],
                    unknown="" if creating else "unknown department: send department_created first")


def _department_disbanded(store: RecordStore, data: dict) -> tuple[str, str]:
    return _amend(store, "departments", data["department_guid"], {"disbanded": data["disbanded"]},
                  unknown="unknown department")


def _head(data: dict) -> dict:
    """A head record as stored: the department and whom the package named (a person, or an employment)."""
    return {k: data[k] for k in ("department_guid", "person_guid", "employment_guid") if data.get(k)}


def _head_changed(store: RecordStore, data: dict) -> tuple[str, str]:
    record = data["department_guid"]
    if data.get("person_guid") or data.get("employment_guid"):
        store.put("heads", record, _head(data))
    else:
        store.remove("heads", record)
    return record, ""


_CHANGES: dict[str, Callable[[RecordStore, dict], tuple[str, str]]] = {
    "hire": _hire, "person_changed": _person_changed, "transfer": _transfer, "termination": _termination,
    "absence_added": _absence, "absence_changed": _absence, "absence_cancelled": _absence_cancelled,
    "department_created": _department, "department_renamed": _department, "department_moved": _department,
    "department_disbanded": _department_disbanded, "head_changed": _head_changed,
}
CHANGE_KINDS = frozenset(_CHANGES)  # the `op` values of a change package


def looked_up(change: dict) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """What applying a change reads: (entity, key) of a record it amends or replaces, and the (document,
    employment) whose absences it looks at. The functions above read nothing else."""
    op = change["op"]
    if op == "transfer":
        return ("employments", change["employment"]["guid"]), None
    if op == "termination":
        return ("employments", change["employment_guid"]), None
    if op in ("department_renamed", "department_moved"):
        return ("departments", change["department"]["guid"]), None
    if op == "department_disbanded":
        return ("departments", change["department_guid"]), None
    if op in ("absence_added", "absence_changed"):
        return None, (change["absence"]["document_guid"], change["absence"]["employment_guid"])
    if op == "absence_cancelled":
        return None, (change["document_guid"], change["employment_guid"])
    return None, None


def records_of_snapshot(parts: list[dict[str, Any]]) -> Iterable[tuple[str, str, dict]]:
    """(entity, key, record) for every record of a snapshot's parts; heads are records of their own."""
    state = state_from_snapshot(parts)
    for entity in (*ENTITIES, "absences"):
        for key, record in state[entity].items():
            yield entity, key, record
    for department, head in state["heads"].items():
        yield "heads", department, head


def _parse_dates(record: dict) -> dict:
    return {k: (date.fromisoformat(v) if k in _DATE_FIELDS and isinstance(v, str) and v else v) for k, v in record.items()}


def source_records(rows: Iterable[tuple[str, dict]]) -> SourceRecords:
    """SourceRecords from (entity, record) pairs, dates parsed, for the common assembler."""
    source = SourceRecords()
    for entity, record in rows:
        getattr(source, entity).append(_parse_dates(record))
    return source
