"""The pushed source state (one JSON document per connection) and how packages change it.

A full snapshot replaces the state; a change package edits it record by record, each change with
its own result. The state becomes SourceRecords for the common assembler, exactly like an OData read.
"""
from __future__ import annotations

from datetime import date
from typing import Any

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


def apply_changes(state: dict[str, Any], package: Package) -> list[dict[str, Any]]:
    """Apply a change package in order; returns one result per change ({index, op, record, status, problem})."""
    results = []
    for index, change in enumerate(package.changes or []):
        data = change.model_dump(mode="json")
        op = data["op"]
        record, problem = "", ""
        if op == "hire":
            record = data["employment"]["guid"]
            state["persons"][data["person"]["guid"]] = data["person"]
            state["employments"][record] = data["employment"]
        elif op == "person_changed":
            record = data["person"]["guid"]
            state["persons"][record] = data["person"]
        elif op == "transfer":
            record = data["employment"]["guid"]
            if record not in state["employments"]:
                problem = "unknown employment: send its hire first"
            else:
                state["employments"][record] = data["employment"]
        elif op == "termination":
            record = data["employment_guid"]
            if record not in state["employments"]:
                problem = "unknown employment"
            else:
                state["employments"][record]["termination_date"] = data["termination_date"]
        elif op in ("absence_added", "absence_changed"):
            absence = data["absence"]
            record = absence["document_guid"]
            # A re-posted document replaces what it recorded for that employee.
            for key in [k for k, a in state["absences"].items()
                        if a["document_guid"] == absence["document_guid"] and a["employment_guid"] == absence["employment_guid"]
                        and not a.get("reversed")]:
                if key != _absence_key(absence):
                    state["absences"][key]["reversed"] = True
            state["absences"][_absence_key(absence)] = absence
        elif op == "absence_cancelled":
            record = data["document_guid"]
            matched = [a for a in state["absences"].values()
                       if a["document_guid"] == data["document_guid"] and a["employment_guid"] == data["employment_guid"]]
            if not matched:
                problem = "no absence of this document and employment is known"
            for absence in matched:
                absence["reversed"] = True
        elif op in ("department_created", "department_renamed", "department_moved"):
            record = data["department"]["guid"]
            if op != "department_created" and record not in state["departments"]:
                problem = "unknown department: send department_created first"
            else:
                state["departments"][record] = data["department"]
        elif op == "department_disbanded":
            record = data["department_guid"]
            if record not in state["departments"]:
                problem = "unknown department"
            else:
                state["departments"][record]["disbanded"] = data["disbanded"]
        elif op == "head_changed":
            record = data["department_guid"]
            if data.get("employment_guid"):
                state["heads"][record] = data["employment_guid"]
            else:
                state["heads"].pop(record, None)
        results.append({"index": index, "op": op, "record": record,
                        "status": "rejected" if problem else "applied", "problem": problem})
    return results


def _parse_dates(record: dict) -> dict:
    return {k: (date.fromisoformat(v) if k in _DATE_FIELDS and isinstance(v, str) and v else v) for k, v in record.items()}


def records_from_state(state: dict[str, Any]) -> SourceRecords:
    return SourceRecords(
        **{name: [_parse_dates(r) for r in state[name].values()] for name in ENTITIES},
        heads=[{"department_guid": d, "employment_guid": e} for d, e in state["heads"].items()],
        absences=[_parse_dates(a) for a in state["absences"].values()],
    )
