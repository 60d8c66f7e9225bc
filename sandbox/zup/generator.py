"""A generated company, deterministic from a seed and a size, stored as a ZUP 3.1 infobase stores it.

Rows are what the standard OData interface returns: catalogs with Ref_Key/Code/Description/DeletionMark,
registers with their dimensions and resources, references as `…_Key` GUIDs, enums as strings, empty
dates as 0001-01-01T00:00:00. What makes real data hard is in on purpose: a tree 4–5 levels deep over two
organisations, part-time second jobs (internal and external), rehires (same person, new employment),
terminations, future-dated hires, persons without e-mail, duplicate e-mails, vacations, sick leaves,
business trips, parental leave, сторно (reversed) records, unposted documents, relatives in the persons
catalog, a folder, a deleted department.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from . import names

EMPTY_DATE = "0001-01-01T00:00:00"
NULL_GUID = "00000000-0000-0000-0000-000000000000"
# Department heads as ZUP 3.1 keeps them (InformationRegisters/ПодразделенияОрганизацииРуководители.xml in
# scriperirkth/zup-structure, RU 3.1.38): periodic by day (Period), dimension Подразделение, resource Руководитель, a ФизическоеЛицо.
HEADS_ENTITY = "InformationRegister_ПодразделенияОрганизацииРуководители"
ABSENCE_ENTITY = "InformationRegister_ДанныеСостоянийСотрудников_RecordType"
CURRENT_ENTITY = "InformationRegister_ТекущиеКадровыеДанныеСотрудников"
# КОРП with a staff schedule (sandbox/zup/metadata.py names the dump files).
STAFF_HEADS_ENTITY = "InformationRegister_ПозицииРуководителейПодразделений"
STRUCTURE_ENTITY = "Catalog_СтруктураПредприятия"
HISTORY_ENTITY = "InformationRegister_КадроваяИсторияСотрудников_RecordType"


def dt(day: date | None) -> str:
    return day.strftime("%Y-%m-%dT00:00:00") if day else EMPTY_DATE


@dataclass
class Infobase:
    seed: int
    size: int
    today: date
    entities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    documents: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # entity -> ref -> document
    version: int = 0  # bumped on every change, so cached query results are dropped

    def rows(self, entity: str) -> list[dict[str, Any]]:
        return self.entities.setdefault(entity, [])

    def find(self, entity: str, key: str, value: str) -> dict[str, Any] | None:
        return next((r for r in self.rows(entity) if r.get(key) == value), None)

    def touch(self) -> None:
        self.version += 1


class _Generator:
    def __init__(self, seed: int, size: int, today: date, departments: int | None = None) -> None:
        self.department_count = departments
        self.rng = random.Random(seed)
        self.today = today
        self.size = size
        self.base = Infobase(seed, size, today)
        self.emails: set[str] = set()
        self.employee_codes = 0

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def day_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    # -- structure --------------------------------------------------------------------------------------
    def organisations(self) -> list[dict]:
        rows = [
            {"Ref_Key": self.guid(), "Description": 'ООО "Ромашка"', "DeletionMark": False, "ИНН": "7701234567"},
            {"Ref_Key": self.guid(), "Description": 'ООО "Ромашка Сервис"', "DeletionMark": False, "ИНН": "7707654321"},
        ]
        self.base.entities["Catalog_Организации"] = rows
        return rows

    def departments(self, orgs: list[dict]) -> dict[str, list[dict]]:
        """Per organisation, a tree 4–5 levels deep; ~1 department per 12 employees."""
        total = self.department_count or max(14, self.size // 12)
        by_org: dict[str, list[dict]] = {}
        rows: list[dict] = []
        code = 0
        for index, org in enumerate(orgs):
            count = int(total * (0.75 if index == 0 else 0.25))
            nodes: list[tuple[dict, int]] = []
            used_names: set[tuple[str | None, str]] = set()

            def add(parent: dict | None, depth: int) -> dict:
                nonlocal code
                code += 1
                parent_key = parent["Ref_Key"] if parent else None
                if depth == 1:
                    base_name = self.rng.choice(names.DEPARTMENTS)
                    if self.rng.random() < 0.15:
                        base_name = f"Филиал «{self.rng.choice(names.CITIES)}»"
                else:
                    base_name = f"{self.rng.choice(names.UNIT_WORDS)} {self.rng.randint(1, 9)}"
                name, n = base_name, 2
                while (parent_key, name) in used_names:
                    name, n = f"{base_name} ({n})", n + 1
                used_names.add((parent_key, name))
                created = self.day_between(date(2012, 1, 1), self.today - timedelta(days=400))
                row = {"Ref_Key": self.guid(), "Code": f"{code:09d}", "Description": name,
                       "Parent_Key": parent_key or NULL_GUID, "Owner_Key": org["Ref_Key"], "DeletionMark": False,
                       "Сформировано": True, "ДатаСоздания": dt(created), "Расформировано": False,
                       "ДатаРасформирования": EMPTY_DATE, "ГоловнаяОрганизация_Key": org["Ref_Key"]}
                rows.append(row)
                nodes.append((row, depth))
                return row

            # One chain 5 deep so the tree always reaches that depth, then the rest anywhere up to 5.
            parent = None
            for depth in range(1, 6 if index == 0 else 5):
                parent = add(parent, depth)
            while len(nodes) < count:
                if self.rng.random() < 0.2:
                    add(None, 1)
                else:
                    candidates = [(n, d) for n, d in nodes if d < 5]
                    weights = [6 - d for _, d in candidates]
                    node, depth = self.rng.choices(candidates, weights)[0]
                    add(node, depth + 1)
            by_org[org["Ref_Key"]] = [n for n, _ in nodes]
        # Two disbanded departments (leaves, emptied) and one deleted one.
        leaves = [r for r in rows if not any(c["Parent_Key"] == r["Ref_Key"] for c in rows) and r["Parent_Key"] != NULL_GUID]
        for row in self.rng.sample(leaves, 2):
            row["Расформировано"] = True
            row["ДатаРасформирования"] = dt(self.today - timedelta(days=self.rng.randint(30, 300)))
        deleted = self.rng.choice([r for r in leaves if not r["Расформировано"]])
        deleted["DeletionMark"] = True
        self.base.entities["Catalog_ПодразделенияОрганизаций"] = rows
        return {org: [r for r in deps if not r["Расформировано"] and not r["DeletionMark"]] for org, deps in by_org.items()}

    def vacation_kinds(self) -> None:
        self.base.entities["Catalog_ВидыОтпусков"] = [
            {"Ref_Key": self.guid(), "Description": "Основной", "ОсновнойОтпуск": True, "ОтпускБезОплаты": False, "DeletionMark": False},
            {"Ref_Key": self.guid(), "Description": "Дополнительный отпуск за ненормированный рабочий день",
             "ОсновнойОтпуск": False, "ОтпускБезОплаты": False, "DeletionMark": False},
            {"Ref_Key": self.guid(), "Description": "Отпуск без оплаты", "ОсновнойОтпуск": False, "ОтпускБезОплаты": True,
             "DeletionMark": False},
        ]

    def positions(self) -> list[dict]:
        rows = [{"Ref_Key": self.guid(), "Description": name, "DeletionMark": False} for name in names.POSITIONS]
        self.base.entities["Catalog_Должности"] = rows
        return rows

    # -- people -----------------------------------------------------------------------------------------
    def person(self, *, with_email: bool = True, email: str | None = None) -> dict:
        female = self.rng.random() < 0.5
        first = self.rng.choice(names.FEMALE_FIRST if female else names.MALE_FIRST)
        last = self.rng.choice(names.LAST)[1 if female else 0]
        father = self.rng.choice(list(names.PATRONYMIC))
        middle = names.PATRONYMIC[father][1 if female else 0]
        birthday = self.day_between(date(1960, 1, 1), date(2004, 12, 31))
        contacts = []
        if with_email:
            if email is None:
                stem = f"{names.translit(first[0])}.{names.translit(last)}"
                email, n = f"{stem}@romashka.example", 2
                while email in self.emails:
                    email, n = f"{stem}{n}@romashka.example", n + 1
            self.emails.add(email)
            contacts.append({"LineNumber": "1", "Тип": "АдресЭлектроннойПочты", "Вид_Key": NULL_GUID,
                             "Представление": email, "АдресЭП": email, "НомерТелефона": ""})
        if self.rng.random() < 0.7:
            phone = f"+7 9{self.rng.randint(10, 99)} {self.rng.randint(100, 999)}-{self.rng.randint(10, 99)}-{self.rng.randint(10, 99)}"
            contacts.append({"LineNumber": str(len(contacts) + 1), "Тип": "Телефон", "Вид_Key": NULL_GUID,
                             "Представление": phone, "АдресЭП": "", "НомерТелефона": phone.replace(" ", "").replace("-", "")})
        row = {"Ref_Key": self.guid(), "Parent_Key": NULL_GUID, "IsFolder": False, "DeletionMark": False,
               "Description": f"{last} {first} {middle}", "Фамилия": last, "Имя": first, "Отчество": middle,
               "ФИО": f"{last} {first} {middle}", "ДатаРождения": dt(birthday), "Пол": "Женский" if female else "Мужской",
               "КонтактнаяИнформация": contacts}
        self.base.rows("Catalog_ФизическиеЛица").append(row)
        return row

    def employment(self, person: dict, org_key: str, department: dict, position: dict, *, hired: date,
                   terminated: date | None, kind: str) -> dict:
        self.employee_codes += 1
        employee = {"Ref_Key": self.guid(), "Code": f"{self.employee_codes:010d}", "Description": person["Description"],
                    "ФизическоеЛицо_Key": person["Ref_Key"], "ГоловнаяОрганизация_Key": org_key,
                    "ВАрхиве": bool(terminated and terminated < self.today), "ГоловнойСотрудник_Key": NULL_GUID,
                    "DeletionMark": False}
        self.base.rows("Catalog_Сотрудники").append(employee)
        self.base.rows(CURRENT_ENTITY).append({
            "Сотрудник_Key": employee["Ref_Key"], "ФизическоеЛицо_Key": person["Ref_Key"],
            "ГоловнаяОрганизация_Key": org_key, "ТекущаяОрганизация_Key": org_key,
            "ТекущееПодразделение_Key": department["Ref_Key"], "ТекущаяДолжность_Key": position["Ref_Key"],
            "ДатаПриема": dt(hired), "ДатаУвольнения": dt(terminated), "ТекущийВидЗанятости": kind,
            "ОсновноеРабочееМестоВОрганизации": kind == "ОсновноеМестоРаботы", "КоличествоСтавок": 1 if kind == "ОсновноеМестоРаботы" else 0.5,
        })
        return employee

    def absence(self, employee: dict, kind: str, document_kind: str, start: date, end: date, *,
                reversed_: bool = False, active: bool = True) -> None:
        document = self.guid()
        row = {"Recorder": document, "Recorder_Type": f"StandardODATA.{document_kind}", "LineNumber": "1",
               "Active": active, "Сотрудник_Key": employee["Ref_Key"], "ДокументОснование": document,
               "ДокументОснование_Type": f"StandardODATA.{document_kind}", "Сторно": False, "Состояние": kind,
               "Начало": dt(start), "Окончание": dt(end), "ОкончаниеПредположительно": EMPTY_DATE,
               "ВидВремени_Key": NULL_GUID}
        rows = self.base.rows(ABSENCE_ENTITY)
        rows.append(row)
        if reversed_:
            # The correcting document writes a mirror row with Сторно = true.
            rows.append({**row, "Recorder": self.guid(), "Сторно": True})

    def build(self) -> Infobase:
        rng, today = self.rng, self.today
        orgs = self.organisations()
        departments = self.departments(orgs)
        positions = self.positions()
        self.vacation_kinds()
        main_org, second_org = orgs[0]["Ref_Key"], orgs[1]["Ref_Key"]
        self.base.rows("Catalog_ФизическиеЛица").append({
            "Ref_Key": self.guid(), "Parent_Key": NULL_GUID, "IsFolder": True, "DeletionMark": False,
            "Description": "Родственники сотрудников", "Фамилия": "", "Имя": "", "Отчество": "", "ФИО": "",
            "ДатаРождения": EMPTY_DATE, "Пол": "", "КонтактнаяИнформация": []})
        active_main: list[tuple[dict, dict]] = []  # (employee, department)
        people: list[dict] = []
        for i in range(self.size):
            roll = rng.random()
            person = self.person(with_email=rng.random() >= 0.03)
            people.append(person)
            org = main_org if rng.random() < 0.8 else second_org
            department = rng.choice(departments[org])
            position = rng.choice(positions)
            hired = self.day_between(today - timedelta(days=3650), today - timedelta(days=30))
            if roll < 0.02:  # future-dated hire
                employee = self.employment(person, org, department, position,
                                           hired=today + timedelta(days=rng.randint(1, 30)), terminated=None,
                                           kind="ОсновноеМестоРаботы")
                continue
            if roll < 0.05:  # terminated in the past
                self.employment(person, org, department, position, hired=hired,
                                terminated=self.day_between(hired, today - timedelta(days=1)), kind="ОсновноеМестоРаботы")
                continue
            if roll < 0.065:  # rehired: an old employment ended, a new one (same person) runs
                left = self.day_between(hired, today - timedelta(days=20))
                self.employment(person, org, department, position, hired=hired, terminated=left, kind="ОсновноеМестоРаботы")
                hired = self.day_between(left + timedelta(days=1), today - timedelta(days=1))
                department = rng.choice(departments[org])
            if roll > 0.995:  # leaves at the end of this month
                terminated = today + timedelta(days=rng.randint(1, 20))
            else:
                terminated = None
            employee = self.employment(person, org, department, position, hired=hired, terminated=terminated,
                                       kind="ОсновноеМестоРаботы")
            active_main.append((employee, department))
            if rng.random() < 0.05:  # a second job: internal part-time, or external in the other organisation
                if rng.random() < 0.5:
                    self.employment(person, org, rng.choice(departments[org]), rng.choice(positions),
                                    hired=self.day_between(hired, today), terminated=None, kind="ВнутреннееСовместительство")
                else:
                    other = second_org if org == main_org else main_org
                    self.employment(person, other, rng.choice(departments[other]), rng.choice(positions),
                                    hired=self.day_between(hired, today), terminated=None, kind="Совместительство")
            self.absences_for(employee, hired)
        # Duplicate e-mails: a few people carry a colleague's address.
        with_email = [p for p in people if p["КонтактнаяИнформация"] and p["КонтактнаяИнформация"][0]["Тип"] == "АдресЭлектроннойПочты"]
        for person in rng.sample(with_email, max(2, self.size // 100)):
            source = rng.choice(with_email)
            if source is not person:
                person["КонтактнаяИнформация"][0].update(Представление=source["КонтактнаяИнформация"][0]["Представление"],
                                                          АдресЭП=source["КонтактнаяИнформация"][0]["АдресЭП"])
        # Relatives (not employees) also live in Catalog_ФизическиеЛица.
        for _ in range(max(3, self.size // 50)):
            self.person(with_email=False)
        # Heads for ~60 % of departments: an active main employee of that department (the person). Some
        # departments changed heads (an older record), some will (a record dated after today); which one
        # is the head today is the last record on or before today.
        by_department: dict[str, list[dict]] = {}
        for employee, department in active_main:
            by_department.setdefault(department["Ref_Key"], []).append(employee)
        heads = self.base.rows(HEADS_ENTITY)
        for department_key, staff in sorted(by_department.items()):
            if rng.random() >= 0.6:
                continue
            since = self.day_between(today - timedelta(days=700), today - timedelta(days=1))
            if len(staff) > 1 and rng.random() < 0.3:
                heads.append({"Period": dt(since - timedelta(days=200)), "Подразделение_Key": department_key,
                              "Руководитель_Key": rng.choice(staff)["ФизическоеЛицо_Key"], "Active": True})
            heads.append({"Period": dt(since), "Подразделение_Key": department_key,
                          "Руководитель_Key": rng.choice(staff)["ФизическоеЛицо_Key"], "Active": True})
            if len(staff) > 1 and rng.random() < 0.1:
                heads.append({"Period": dt(today + timedelta(days=30)), "Подразделение_Key": department_key,
                              "Руководитель_Key": rng.choice(staff)["ФизическоеЛицо_Key"], "Active": True})
        for entity in (ABSENCE_ENTITY, HEADS_ENTITY, "Catalog_Сотрудники", CURRENT_ENTITY):
            self.base.rows(entity)
        self.staff_positions()
        return self.base

    def staff_positions(self) -> None:
        """The same heads as КОРП with a staff schedule keeps them (no randomness: the rest stays as it was).

        Catalog_СтруктураПредприятия: a unit per department (`Источник` is the department).
        ПозицииРуководителейПодразделений (scriperirkth/zup-structure): the unit's head position, from the
        dates of the heads above. КадроваяИсторияСотрудников: the record that puts a head's employment on
        that position, and the one that moves the previous head off it. Simplification [Z-partial-history]:
        the sandbox writes history records only for heads' employments.
        """
        units = {}
        for department in self.base.rows("Catalog_ПодразделенияОрганизаций"):
            unit = str(uuid.UUID(int=int(uuid.UUID(department["Ref_Key"])) ^ 1))
            units[department["Ref_Key"]] = unit
            self.base.rows(STRUCTURE_ENTITY).append({
                "Ref_Key": unit, "Description": department["Description"], "DeletionMark": False, "IsFolder": False,
                "Parent_Key": units.get(department["Parent_Key"], NULL_GUID), "Источник": department["Ref_Key"],
                "Источник_Type": "StandardODATA.Catalog_ПодразделенияОрганизаций", "СоответствуетСтруктуреЮридическихЛиц": True})
        jobs = {(r["ФизическоеЛицо_Key"], r["ТекущееПодразделение_Key"]): r for r in self.base.rows(CURRENT_ENTITY)}
        history = self.base.rows(HISTORY_ENTITY)
        rows = sorted(self.base.rows(HEADS_ENTITY), key=lambda r: (r["Подразделение_Key"], r["Period"]))
        previous: dict[str, dict] = {}
        for row in rows:
            department = row["Подразделение_Key"]
            position = str(uuid.UUID(int=int(uuid.UUID(department)) ^ 2))
            self.base.rows(STAFF_HEADS_ENTITY).append({"Period": row["Period"], "Подразделение_Key": units[department],
                                                       "ПозицияШтатногоРасписания_Key": position, "Active": True})
            job = jobs.get((row["Руководитель_Key"], department))
            if job is None:
                continue
            record = {"Recorder": str(uuid.UUID(int=int(uuid.UUID(job["Сотрудник_Key"])) ^ len(history) + 3)),
                      "Recorder_Type": "StandardODATA.Document_КадровыйПеревод", "LineNumber": "1", "Active": True,
                      "Period": row["Period"], "Сотрудник_Key": job["Сотрудник_Key"],
                      "ФизическоеЛицо_Key": job["ФизическоеЛицо_Key"], "ГоловнаяОрганизация_Key": job["ГоловнаяОрганизация_Key"],
                      "Организация_Key": job["ТекущаяОрганизация_Key"], "Подразделение_Key": department,
                      "Должность_Key": job["ТекущаяДолжность_Key"], "ДолжностьПоШтатномуРасписанию_Key": position,
                      "ВидСобытия": "Перемещение"}
            before = previous.get(department)
            if before is not None and before["Сотрудник_Key"] != job["Сотрудник_Key"]:
                # The previous head moves off the position on the day the new one takes it.
                history.append({**before, "Recorder": record["Recorder"], "Period": row["Period"],
                                "ДолжностьПоШтатномуРасписанию_Key": NULL_GUID})
            history.append(record)
            previous[department] = record

    def absences_for(self, employee: dict, hired: date) -> None:
        rng, today = self.rng, self.today
        window_start = max(hired, today - timedelta(days=60))
        roll = rng.random()
        if roll < 0.30:
            start = self.day_between(window_start, today + timedelta(days=60))
            self.absence(employee, "ОтпускОсновной", "Document_Отпуск", start,
                         start + timedelta(days=rng.choice([6, 13, 13, 27])), reversed_=rng.random() < 0.07)
        elif roll < 0.40:
            start = self.day_between(window_start, today)
            self.absence(employee, "Болезнь", "Document_БольничныйЛист", start, start + timedelta(days=rng.randint(2, 14)))
        elif roll < 0.48:
            start = self.day_between(window_start, today + timedelta(days=30))
            self.absence(employee, "Командировка", "Document_Командировка", start, start + timedelta(days=rng.randint(1, 10)))
        elif roll < 0.49:
            start = self.day_between(today - timedelta(days=200), today)
            self.absence(employee, "ОтпускПоУходуЗаРебенком", "Document_ОтпускПоУходуЗаРебенком", start,
                         start + timedelta(days=3 * 365))
        elif roll < 0.50:
            start = self.day_between(window_start, today)
            self.absence(employee, "ОтпускПоБеременностиИРодам", "Document_БольничныйЛист", start, start + timedelta(days=139))
        elif roll < 0.52:
            start = self.day_between(window_start, today + timedelta(days=30))
            self.absence(employee, "ОтпускНеоплачиваемыйПоРазрешениюРаботодателя", "Document_ОтпускБезСохраненияОплаты",
                         start, start + timedelta(days=rng.randint(1, 5)))
        elif roll < 0.54:
            start = self.day_between(window_start, today + timedelta(days=60))
            self.absence(employee, "ДополнительныйОтпуск", "Document_Отпуск", start, start + timedelta(days=rng.randint(2, 7)))
        elif roll < 0.55:
            # A vacation whose document was unposted: its rows are not active.
            start = self.day_between(window_start, today + timedelta(days=30))
            self.absence(employee, "ОтпускОсновной", "Document_Отпуск", start, start + timedelta(days=13), active=False)
        elif roll < 0.57:
            # Long past: outside any reasonable history window.
            start = today - timedelta(days=rng.randint(400, 900))
            self.absence(employee, "ОтпускОсновной", "Document_Отпуск", start, start + timedelta(days=13))


def generate_company(*, seed: int = 1, size: int = 300, today: date | None = None, departments: int | None = None) -> Infobase:
    """`departments`: how many (default one per 12 employees, at least 14)."""
    return _Generator(seed, size, today or date.today(), departments).build()
