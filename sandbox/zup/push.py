"""The sandbox ZUP acting as 1C in push mode (mode B): what a 1C extension would post to the app.

It reads its own infobase the way such an extension would (current HR data, absences with their
сторно, heads) and sends versioned JSON packages to /payroll/api/v1/packages with the connection's key.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import requests

from .generator import ABSENCE_ENTITY, CURRENT_ENTITY, EMPTY_DATE, HEADS_ENTITY, NULL_GUID, Infobase

KINDS = {"ОсновноеМестоРаботы": "main", "ВнутреннееСовместительство": "internal_part_time",
         "Подработка": "internal_part_time", "Совместительство": "external_part_time"}
# 1C's extension leaves out the states that are not absences (the enumeration's, as the dump lists them).
NOT_ABSENCES = {"", "Работа", "Перемещение", "РаботаВОтпускеПоУходуЗаРебенком", "Факт", "Увольнение"}


def _day(value: str | None) -> str | None:
    return None if not value or value == EMPTY_DATE else value[:10]


def _ref(value: str | None) -> str | None:
    return None if not value or value == NULL_GUID else value


def snapshot_records(base: Infobase, *, absence_history_days: int = 90) -> dict[str, list[dict[str, Any]]]:
    e = base.entities
    employees = {r["Ref_Key"]: r for r in e["Catalog_Сотрудники"] if not r["DeletionMark"]}
    employments, with_jobs = [], set()
    for row in e[CURRENT_ENTITY]:
        employee = employees.get(row["Сотрудник_Key"])
        if employee is None or not _day(row["ДатаПриема"]):
            continue
        with_jobs.add(row["ФизическоеЛицо_Key"])
        employments.append({
            "guid": row["Сотрудник_Key"], "person_guid": row["ФизическоеЛицо_Key"], "personnel_number": employee["Code"],
            "organisation_guid": _ref(row["ТекущаяОрганизация_Key"]) or employee["ГоловнаяОрганизация_Key"],
            "department_guid": _ref(row["ТекущееПодразделение_Key"]), "position_guid": _ref(row["ТекущаяДолжность_Key"]),
            "hire_date": _day(row["ДатаПриема"]), "termination_date": _day(row["ДатаУвольнения"]),
            "kind": KINDS.get(row["ТекущийВидЗанятости"], "main"),
        })
    persons = []
    for row in e["Catalog_ФизическиеЛица"]:
        if row["IsFolder"] or row["DeletionMark"] or row["Ref_Key"] not in with_jobs:
            continue
        contacts = row["КонтактнаяИнформация"]
        email = next((c["АдресЭП"] or c["Представление"] for c in contacts if c["Тип"] == "АдресЭлектроннойПочты"), "")
        persons.append({
            "guid": row["Ref_Key"], "last_name": row["Фамилия"], "first_name": row["Имя"], "middle_name": row["Отчество"],
            "birthday": _day(row["ДатаРождения"]), "gender": {"Мужской": "M", "Женский": "F"}.get(row["Пол"], ""),
            "email": email, "phones": [c["Представление"] or c["НомерТелефона"] for c in contacts if c["Тип"] == "Телефон"],
        })
    since = (base.today - timedelta(days=absence_history_days)).isoformat()
    absences = []
    for row in e[ABSENCE_ENTITY]:
        end = _day(row["Окончание"])
        if not row["Active"] or row["Состояние"] in NOT_ABSENCES or (end is not None and end < since):
            continue
        absences.append({
            "document_guid": row["ДокументОснование"],
            "document_kind": row["ДокументОснование_Type"].removeprefix("StandardODATA."),
            "employment_guid": row["Сотрудник_Key"], "kind": row["Состояние"], "start": _day(row["Начало"]),
            "end": end, "reversed": bool(row["Сторно"]),
        })
    return {
        "organisations": [{"guid": r["Ref_Key"], "name": r["Description"]} for r in e["Catalog_Организации"]
                          if not r["DeletionMark"]],
        "departments": [{
            "guid": r["Ref_Key"], "name": r["Description"], "code": r["Code"], "parent_guid": _ref(r["Parent_Key"]),
            "organisation_guid": r["Owner_Key"], "created": _day(r["ДатаСоздания"]) if r["Сформировано"] else None,
            "disbanded": _day(r["ДатаРасформирования"]) if r["Расформировано"] else None,
        } for r in e["Catalog_ПодразделенияОрганизаций"] if not r["DeletionMark"]],
        "positions": [{"guid": r["Ref_Key"], "name": r["Description"]} for r in e["Catalog_Должности"] if not r["DeletionMark"]],
        "persons": persons,
        "employments": employments,
        "heads": current_heads(e.get(HEADS_ENTITY, []), base.today),
        "absences": absences,
    }


def current_heads(rows: list[dict], today) -> list[dict]:
    """What 1C's extension sends: each department's head today (the register's slice of the last)."""
    last: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: r["Period"]):
        if row["Period"][:10] <= today.isoformat():
            last[row["Подразделение_Key"]] = row
    return [{"department_guid": d, "person_guid": r["Руководитель_Key"]} for d, r in sorted(last.items())
            if r["Руководитель_Key"] != NULL_GUID]


def snapshot_packages(base: Infobase, *, parts: int = 1, snapshot_id: str | None = None,
                      absence_history_days: int = 90) -> list[dict[str, Any]]:
    """The full picture as `parts` packages (people, employments and absences split across them)."""
    records = snapshot_records(base, absence_history_days=absence_history_days)
    snapshot_id = snapshot_id or str(uuid.uuid4())
    packages = []
    for part in range(parts):
        body: dict[str, Any] = {"snapshot_id": snapshot_id, "part": part + 1, "parts": parts}
        for name, rows in records.items():
            body[name] = rows[part::parts]
        packages.append({"schema_version": "1.0", "package_id": f"{snapshot_id}-{part + 1}-of-{parts}",
                         "kind": "snapshot", "created_at": datetime.now().isoformat(timespec="seconds"),
                         "snapshot": body})
    return packages


def changes_package(changes: list[dict[str, Any]], package_id: str | None = None) -> dict[str, Any]:
    return {"schema_version": "1.0", "package_id": package_id or str(uuid.uuid4()), "kind": "changes",
            "created_at": datetime.now().isoformat(timespec="seconds"), "changes": changes}


def post_package(app_url: str, key: str, package: dict[str, Any], *, timeout: float = 120) -> requests.Response:
    return requests.post(f"{app_url.rstrip('/')}/payroll/api/v1/packages", json=package, timeout=timeout,
                         headers={"Authorization": f"Bearer {key}"})


def main() -> None:
    """Act as 1C: post the generated company to the app as a snapshot (in parts)."""
    import argparse

    from .generator import generate_company

    parser = argparse.ArgumentParser(description="Post the sandbox company to hrsync as 1C would (push mode)")
    parser.add_argument("--app-url", required=True)
    parser.add_argument("--key", required=True, help="the connection's push key (manage.py payroll_connect --push)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--parts", type=int, default=1)
    args = parser.parse_args()
    base = generate_company(seed=args.seed, size=args.size)
    for package in snapshot_packages(base, parts=args.parts):
        response = post_package(args.app_url, args.key, package)
        print(f"{package['package_id']}: HTTP {response.status_code} {response.text[:300]}")


if __name__ == "__main__":
    main()
