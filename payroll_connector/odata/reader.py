"""Read the HR picture of a ZUP 3.1 infobase by OData into SourceRecords (names as ZUP spells them).

Current department, position and dates come from InformationRegister_ТекущиеКадровыеДанныеСотрудников;
all absences from InformationRegister_ДанныеСостоянийСотрудников_RecordType (one feed for 28 document
kinds; only `Active` rows; `Сторно` rows cancel the record they mirror). Only the fields used are selected.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hrsync.sync.assemble import SourceRecords
from hrsync.sync.model import RecordProblem
from hrsync.sync.states import NOT_ABSENCES

from ..errors import PayrollNotPublished
from .client import NULL_GUID, ODataClient, datetime_literal

# СостоянияСотрудника values that are not absences.
# States that are not absences: hrsync.sync.states, the enumeration from the configuration dump.
# ВидыЗанятости -> our employment kinds.
EMPLOYMENT_KINDS = {
    "ОсновноеМестоРаботы": "main",
    "ВнутреннееСовместительство": "internal_part_time",
    "Подработка": "internal_part_time",
    "Совместительство": "external_part_time",
}
GENDERS = {"Мужской": "M", "Женский": "F"}
EMPTY_DATE = "0001-01-01T00:00:00"


@dataclass(frozen=True)
class ReaderSettings:
    today: date
    absence_history_days: int = 90
    # Department heads: InformationRegister.ПодразделенияОрганизацииРуководители (scriperirkth/zup-structure, RU 3.1.38), periodic by
    # day, dimension Подразделение, resource Руководитель (a ФизическоеЛицо). Settings, for a configuration
    # that keeps them elsewhere; when the entity is not published, heads are left empty (a warning).
    # "organisation_heads" (the register above) or "staff_positions" (КОРП with a staff schedule, below).
    heads_source: str = "organisation_heads"
    heads_entity: str = "InformationRegister_ПодразделенияОрганизацииРуководители"
    heads_department_field: str = "Подразделение_Key"
    heads_person_field: str = "Руководитель_Key"


class _Dates:
    def __init__(self, problems: list[RecordProblem]) -> None:
        self.problems = problems

    def parse(self, value, *, entity: str, record: str, field: str, required: bool = False) -> date | None:
        if value in (None, "", EMPTY_DATE):
            if required:
                self.problems.append(RecordProblem(entity, record, field, "missing_date", f"{field} is empty"))
            return None
        try:
            return datetime.fromisoformat(str(value)).date()
        except ValueError:
            self.problems.append(RecordProblem(entity, record, field, "bad_date", f"{value!r} is not a date"))
            return None


def _ref(value) -> str | None:
    return None if not value or value == NULL_GUID else str(value)


def read_source_records(client: ODataClient, settings: ReaderSettings) -> SourceRecords:
    """Everything the sync needs, entity by entity, in the push package's shape (hrsync.sync.assemble)."""
    problems: list[RecordProblem] = []
    dates = _Dates(problems)
    out = SourceRecords(problems=problems)
    out.organisations = _organisations(client)
    out.departments = _departments(client, dates)
    out.positions = _positions(client)
    out.employments = _employments(client, dates)
    out.persons = _persons(client, dates, {e["person_guid"] or "" for e in out.employments})
    out.absences = _absences(client, dates, since=settings.today - timedelta(days=settings.absence_history_days))
    out.heads = (_heads_by_staff_positions if settings.heads_source == "staff_positions" else _heads)(
        client, settings, problems)
    return out


def _organisations(client: ODataClient) -> list[dict]:
    rows = client.iter_entities("Catalog_Организации", select=["Ref_Key", "Description", "DeletionMark"], orderby="Ref_Key")
    return [{"guid": row["Ref_Key"], "name": row.get("Description") or ""} for row in rows if not row.get("DeletionMark")]


def _departments(client: ODataClient, dates: _Dates) -> list[dict]:
    departments = []
    for row in client.iter_entities(
        "Catalog_ПодразделенияОрганизаций",
        select=["Ref_Key", "Code", "Description", "Parent_Key", "Owner_Key", "DeletionMark", "Сформировано",
                "ДатаСоздания", "Расформировано", "ДатаРасформирования"],
        orderby="Ref_Key",
    ):
        if row.get("DeletionMark"):
            continue
        guid = row["Ref_Key"]
        departments.append({
            "guid": guid, "name": row.get("Description") or "", "code": row.get("Code") or "",
            "parent_guid": _ref(row.get("Parent_Key")), "organisation_guid": row.get("Owner_Key"),
            "created": dates.parse(row.get("ДатаСоздания"), entity="departments", record=guid, field="ДатаСоздания")
            if row.get("Сформировано") else None,
            "disbanded": dates.parse(row.get("ДатаРасформирования"), entity="departments", record=guid,
                                     field="ДатаРасформирования") if row.get("Расформировано") else None,
        })
    return departments


def _positions(client: ODataClient) -> list[dict]:
    rows = client.iter_entities("Catalog_Должности", select=["Ref_Key", "Description", "DeletionMark"], orderby="Ref_Key")
    return [{"guid": row["Ref_Key"], "name": row.get("Description") or ""} for row in rows if not row.get("DeletionMark")]


def _employments(client: ODataClient, dates: _Dates) -> list[dict]:
    """Catalog_Сотрудники for who the employee is; the register for where they work now."""
    employees = {row["Ref_Key"]: row for row in client.iter_entities(
        "Catalog_Сотрудники", select=["Ref_Key", "Code", "ФизическоеЛицо_Key", "ГоловнаяОрганизация_Key", "DeletionMark"],
        orderby="Ref_Key") if not row.get("DeletionMark")}
    employments = []
    for row in client.iter_entities(
        "InformationRegister_ТекущиеКадровыеДанныеСотрудников",
        select=["Сотрудник_Key", "ФизическоеЛицо_Key", "ТекущаяОрганизация_Key", "ТекущееПодразделение_Key",
                "ТекущаяДолжность_Key", "ДатаПриема", "ДатаУвольнения", "ТекущийВидЗанятости"],
        orderby="Сотрудник_Key",
    ):
        guid = row["Сотрудник_Key"]
        employee = employees.get(guid)
        if employee is None:
            continue  # a deleted employee's leftover row
        hire = dates.parse(row.get("ДатаПриема"), entity="employments", record=guid, field="ДатаПриема")
        if hire is None:
            continue  # never hired (a draft employee), or a broken date already reported
        employments.append({
            "guid": guid, "person_guid": _ref(row.get("ФизическоеЛицо_Key")) or _ref(employee.get("ФизическоеЛицо_Key")),
            "personnel_number": employee.get("Code") or "",
            "organisation_guid": _ref(row.get("ТекущаяОрганизация_Key")) or _ref(employee.get("ГоловнаяОрганизация_Key")),
            "department_guid": _ref(row.get("ТекущееПодразделение_Key")),
            "position_guid": _ref(row.get("ТекущаяДолжность_Key")),
            "hire_date": hire,
            "termination_date": dates.parse(row.get("ДатаУвольнения"), entity="employments", record=guid,
                                            field="ДатаУвольнения"),
            "kind": EMPLOYMENT_KINDS.get(row.get("ТекущийВидЗанятости") or "", "main"),
        })
    return employments


def _persons(client: ODataClient, dates: _Dates, people_with_jobs: set[str]) -> list[dict]:
    persons = []
    for row in client.iter_entities(
        "Catalog_ФизическиеЛица",
        select=["Ref_Key", "IsFolder", "DeletionMark", "Фамилия", "Имя", "Отчество", "ДатаРождения", "Пол",
                "КонтактнаяИнформация"],
        orderby="Ref_Key",
    ):
        guid = row["Ref_Key"]
        if row.get("IsFolder") or row.get("DeletionMark") or guid not in people_with_jobs:
            continue  # ФизическиеЛица also holds relatives, applicants, contractors
        contacts = row.get("КонтактнаяИнформация") or []
        emails = [c.get("АдресЭП") or c.get("Представление") or "" for c in contacts if c.get("Тип") == "АдресЭлектроннойПочты"]
        phones = [c.get("Представление") or c.get("НомерТелефона") or "" for c in contacts if c.get("Тип") == "Телефон"]
        persons.append({
            "guid": guid, "last_name": row.get("Фамилия") or "", "first_name": row.get("Имя") or "",
            "middle_name": row.get("Отчество") or "",
            "birthday": dates.parse(row.get("ДатаРождения"), entity="persons", record=guid, field="ДатаРождения"),
            "gender": GENDERS.get(row.get("Пол") or "", ""), "email": next((e for e in emails if e), ""),
            "phones": [p for p in phones if p],
        })
    return persons


def _absences(client: ODataClient, dates: _Dates, *, since: date) -> list[dict]:
    absences = []
    for row in client.iter_entities(
        "InformationRegister_ДанныеСостоянийСотрудников_RecordType",
        select=["Сотрудник_Key", "ДокументОснование", "ДокументОснование_Type", "Сторно", "Состояние", "Начало",
                "Окончание"],
        orderby="Сотрудник_Key,ДокументОснование,Состояние,Начало,Сторно",
        filter=f"Active eq true and (Окончание ge {datetime_literal(since)} or Окончание eq datetime'{EMPTY_DATE}')",
    ):
        kind = row.get("Состояние") or ""
        if kind in NOT_ABSENCES:
            continue
        record = f"{row.get('ДокументОснование')}/{row.get('Сотрудник_Key')}"
        start = dates.parse(row.get("Начало"), entity="absences", record=record, field="Начало", required=True)
        if start is None:
            continue
        absences.append({
            "document_guid": row.get("ДокументОснование"),
            "document_kind": str(row.get("ДокументОснование_Type") or "").removeprefix("StandardODATA."),
            "employment_guid": row.get("Сотрудник_Key"), "kind": kind, "start": start,
            "end": dates.parse(row.get("Окончание"), entity="absences", record=record, field="Окончание"),
            "reversed": bool(row.get("Сторно")),
        })
    return absences


def _heads(client: ODataClient, settings: ReaderSettings, problems: list[RecordProblem]) -> list[dict]:
    """Each department's head today: the register's last record on or before today (a slice of the last),
    taken here from its rows (few: one per change of head); an empty Руководитель means no head."""
    department_field, person_field = settings.heads_department_field, settings.heads_person_field
    try:
        current = _slice_last(client.iter_entities(settings.heads_entity, select=["Period", department_field, person_field],
                                                   orderby=f"{department_field},Period"),
                              department_field, settings.today.isoformat())
    except PayrollNotPublished as exc:
        problems.append(RecordProblem("heads", settings.heads_entity, "", "heads_not_published", exc.message,
                                      blocking=False))
        return []
    heads = {department: _ref(row.get(person_field)) for department, row in current.items()}
    return [{"department_guid": department, "person_guid": person} for department, person in sorted(heads.items())
            if person]


STAFF_HEADS_ENTITY = "InformationRegister_ПозицииРуководителейПодразделений"
STRUCTURE_ENTITY = "Catalog_СтруктураПредприятия"
HISTORY_ENTITY = "InformationRegister_КадроваяИсторияСотрудников_RecordType"
_GUIDS_PER_FILTER = 20  # `or`-ed comparisons per request, to keep the URL short


def _slice_last(rows, key: str, today: str) -> dict[str, dict]:
    """Per `key`, the row of the latest Period on or before today."""
    latest: dict[str, dict] = {}
    for row in rows:
        period = str(row.get("Period") or "")[:10]
        name = _ref(row.get(key))
        if name and period <= today and period >= str(latest.get(name, {}).get("Period") or "")[:10]:
            latest[name] = row
    return latest


def _rows_where(client: ODataClient, entity: str, field: str, guids: list[str], select: list[str]) -> list[dict]:
    rows: list[dict] = []
    for start in range(0, len(guids), _GUIDS_PER_FILTER):
        part = guids[start:start + _GUIDS_PER_FILTER]
        rows += client.get(entity, select=select, filter=" or ".join(f"{field} eq guid'{g}'" for g in part))
    return rows


def _heads_by_staff_positions(client: ODataClient, settings: ReaderSettings, problems: list[RecordProblem]) -> list[dict]:
    """КОРП with a staff schedule: ПозицииРуководителейПодразделений (scriperirkth/zup-structure, RU 3.1.38;
    periodic; dimension Подразделение → Catalog.СтруктураПредприятия, resource ПозицияШтатногоРасписания)
    names each unit's head position; the head is the person whose employment holds that position today
    (their last КадроваяИсторияСотрудников record on or before today has it and is not a termination).
    A unit of the enterprise structure stands for a ПодразделенияОрганизаций through its `Источник`."""
    today = settings.today.isoformat()
    try:
        positions = {unit: _ref(row.get("ПозицияШтатногоРасписания_Key")) for unit, row in _slice_last(
            client.iter_entities(STAFF_HEADS_ENTITY, select=["Period", "Подразделение_Key", "ПозицияШтатногоРасписания_Key"],
                                 orderby="Подразделение_Key,Period"), "Подразделение_Key", today).items()}
        positions = {unit: position for unit, position in positions.items() if position}
        departments = {row["Ref_Key"]: _ref(row.get("Источник")) for row in client.iter_entities(
            STRUCTURE_ENTITY, select=["Ref_Key", "Источник", "Источник_Type"], orderby="Ref_Key")
            if str(row.get("Источник_Type") or "").endswith("Catalog_ПодразделенияОрганизаций")}
        history = ["Period", "Сотрудник_Key", "ФизическоеЛицо_Key", "ДолжностьПоШтатномуРасписанию_Key", "ВидСобытия", "Active"]
        candidates = {r["Сотрудник_Key"] for r in _rows_where(client, HISTORY_ENTITY, "ДолжностьПоШтатномуРасписанию_Key",
                                                              sorted(set(positions.values())), history)}
        records = [r for r in _rows_where(client, HISTORY_ENTITY, "Сотрудник_Key", sorted(candidates), history)
                   if r.get("Active", True)]
    except PayrollNotPublished as exc:
        problems.append(RecordProblem("heads", exc.entity or STAFF_HEADS_ENTITY, "", "heads_not_published", exc.message,
                                      blocking=False))
        return []
    holders: dict[str, tuple[str, str]] = {}  # position -> (since, person): the longest holder when several
    for row in _slice_last(records, "Сотрудник_Key", today).values():
        position = _ref(row.get("ДолжностьПоШтатномуРасписанию_Key"))
        if position and row.get("ВидСобытия") != "Увольнение" and row.get("ФизическоеЛицо_Key"):
            since = str(row.get("Period") or "")[:10]
            if position not in holders or since < holders[position][0]:
                holders[position] = (since, row["ФизическоеЛицо_Key"])
    heads = {departments[unit]: holders[position][1] for unit, position in positions.items()
             if departments.get(unit) and position in holders}
    return [{"department_guid": department, "person_guid": person} for department, person in sorted(heads.items())]


# -- facts about one employee (checking a request before its document is made) --------------------------
def current_employments(client: ODataClient, person: str) -> list[dict]:
    """The person's employments now (ТекущиеКадровыеДанныеСотрудников), as the push package spells them."""
    rows = client.get("InformationRegister_ТекущиеКадровыеДанныеСотрудников",
                      select=["Сотрудник_Key", "ТекущаяОрганизация_Key", "ДатаПриема", "ДатаУвольнения", "ТекущийВидЗанятости"],
                      filter=f"ФизическоеЛицо_Key eq guid'{person}'")
    return [{
        "guid": r["Сотрудник_Key"], "organisation_guid": r["ТекущаяОрганизация_Key"],
        "hire_date": (r.get("ДатаПриема") or "")[:10], "termination_date": (r.get("ДатаУвольнения") or "")[:10],
        "kind": "main" if r.get("ТекущийВидЗанятости") == "ОсновноеМестоРаботы" else "part_time"} for r in rows]


def absence_states(client: ODataClient, employment: str, start: date, end: date) -> list[dict]:
    """The employment's states that touch these days (ДанныеСостоянийСотрудников), сторно rows included."""
    rows = client.get("InformationRegister_ДанныеСостоянийСотрудников_RecordType",
                      select=["ДокументОснование", "Состояние", "Начало", "Окончание", "Сторно"],
                      filter=f"Сотрудник_Key eq guid'{employment}' and Active eq true and Начало le {datetime_literal(end)} "
                             f"and (Окончание ge {datetime_literal(start)} or Окончание eq datetime'0001-01-01T00:00:00')")
    return [{"document_guid": r["ДокументОснование"], "kind": r["Состояние"], "start": r["Начало"][:10],
             "end": r["Окончание"][:10], "reversed": r.get("Сторно")} for r in rows]
