"""The pushed state in the database, record by record (PayrollRecord): what a change package reads and writes.

A change reads the few rows it names, and the store writes back only what changed, in one statement
per kind of write; so a package's cost follows its changes, not the size of the company.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from ..models import PayrollConnection, PayrollRecord
from .records import looked_up


def _indexed(entity: str, record: dict) -> dict[str, str]:
    return {"document_guid": record.get("document_guid") or "" if entity == "absences" else "",
            "employment_guid": record.get("employment_guid") or "" if entity in ("absences", "heads") else
            (record.get("guid") or "" if entity == "employments" else ""),
            "person_guid": record.get("person_guid") or "" if entity in ("employments", "heads") else ""}


def row(connection: PayrollConnection, entity: str, key: str, record: dict) -> PayrollRecord:
    return PayrollRecord(connection=connection, entity=entity, key=key, data=record, **_indexed(entity, record))


class DatabaseRecordStore:
    """RecordStore (push.records) of one connection; call `flush()` to write what changed."""

    def __init__(self, connection: PayrollConnection) -> None:
        self.connection = connection
        self._cache: dict[tuple[str, str], dict | None] = {}
        self._changed: dict[tuple[str, str], dict | None] = {}
        # The absences this package changed, by (document, employment), and the ones it removed: a lookup by
        # document looks at its own few, not at every change so far (a package of thousands stays linear).
        self._absences_by_document: dict[tuple[str, str], dict[str, dict]] = {}
        self._absences_removed: set[str] = set()
        self._absences_stored: dict[tuple[str, str], dict[str, dict]] = {}  # read ahead by `expect`

    def _records(self):
        return PayrollRecord.objects.filter(connection=self.connection)

    def get(self, entity: str, key: str) -> dict | None:
        if (entity, key) not in self._cache:
            found = self._records().filter(entity=entity, key=key).values_list("data", flat=True).first()
            self._cache[(entity, key)] = found
        return self._cache[(entity, key)]

    def put(self, entity: str, key: str, record: dict) -> None:
        self._cache[(entity, key)] = self._changed[(entity, key)] = record
        if entity == "absences":
            self._absences_removed.discard(key)
            self._absences_by_document.setdefault((record["document_guid"], record["employment_guid"]), {})[key] = record

    def remove(self, entity: str, key: str) -> None:
        if entity == "absences":
            self._absences_removed.add(key)
            for changed in self._absences_by_document.values():
                changed.pop(key, None)
        self._cache[(entity, key)] = self._changed[(entity, key)] = None

    def expect(self, changes: list[dict]) -> None:
        """Read what the changes will look at in one query per entity, not one per change: a package of
        thousands of changes costs a few statements before it is applied (push.records.looked_up says what)."""
        wanted: dict[str, set[str]] = {}
        pairs: set[tuple[str, str]] = set()
        for change in changes:
            record, pair = looked_up(change)
            if record and record not in self._cache:
                wanted.setdefault(record[0], set()).add(record[1])
            if pair and pair not in self._absences_stored:
                pairs.add(pair)
        for entity, keys in wanted.items():
            found = dict(self._records().filter(entity=entity, key__in=sorted(keys)).values_list("key", "data"))
            for key in keys:
                self._cache[(entity, key)] = found.get(key)
        if pairs:
            for pair in pairs:
                self._absences_stored[pair] = {}
            rows = self._records().filter(entity="absences", document_guid__in=sorted({d for d, _ in pairs}))
            for key, data, document, employment in rows.values_list("key", "data", "document_guid", "employment_guid"):
                if (document, employment) in pairs:
                    self._absences_stored[(document, employment)][key] = data

    def absences_of(self, document_guid: str, employment_guid: str) -> list[tuple[str, dict]]:
        stored = self._absences_stored.get((document_guid, employment_guid))
        found = dict(stored) if stored is not None else {key: data for key, data in self._records().filter(
            entity="absences", document_guid=document_guid, employment_guid=employment_guid).values_list("key", "data")}
        for key in self._absences_removed:  # what this package already changed wins
            found.pop(key, None)
        found.update(self._absences_by_document.get((document_guid, employment_guid), {}))
        return sorted(found.items())

    def flush(self) -> None:
        upserts = [row(self.connection, e, k, r) for (e, k), r in self._changed.items() if r is not None]
        removals = [(e, k) for (e, k), r in self._changed.items() if r is None]
        if upserts:
            PayrollRecord.objects.bulk_create(
                upserts, update_conflicts=True, unique_fields=["connection", "entity", "key"],
                update_fields=["data", "document_guid", "employment_guid", "person_guid"], batch_size=1000)
        for entity, key in removals:
            self._records().filter(entity=entity, key=key).delete()
        self._changed.clear()
        self._absences_by_document.clear()
        self._absences_removed.clear()
        self._absences_stored.clear()

    @property
    def touched(self) -> set[tuple[str, str]]:
        return set(self._changed)


def replace_all(connection: PayrollConnection, records: Iterable[tuple[str, str, dict]]) -> int:
    """A full snapshot: the connection's records become exactly these."""
    PayrollRecord.objects.filter(connection=connection).delete()
    rows = [row(connection, entity, key, record) for entity, key, record in records]
    PayrollRecord.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def all_records(connection: PayrollConnection) -> Iterator[tuple[str, dict]]:
    yield from PayrollRecord.objects.filter(connection=connection).values_list("entity", "data").iterator(chunk_size=5000)


def records_of(connection: PayrollConnection, entity: str, **indexed: str) -> list[dict]:
    return list(PayrollRecord.objects.filter(connection=connection, entity=entity, **indexed).values_list("data", flat=True))
