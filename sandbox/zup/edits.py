"""HR's work in the sandbox ZUP: a hire, a transfer, a dismissal, a vacation, recorded the way ZUP's documents
record them (the current HR data register, the register of employees' states). The tests use ZupEditor
directly; the demo asks the running sandbox for a change through its control API (`/_sandbox/change`) or
`python -m sandbox.zup.change hire|transfer|vacation|dismiss`, to have something to sync and to watch.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

CHANGES = ("hire", "transfer", "vacation", "dismiss")
_LAST = ("Смирнова", "Кузнецов", "Попова", "Васильев", "Соколова", "Михайлов", "Новикова", "Фёдоров")
_FIRST = {"а": ("Анна", "Мария", "Ольга", "Елена"), "": ("Иван", "Пётр", "Алексей", "Дмитрий")}


class ZupEditor:
    """HR's work in ZUP, done on the sandbox infobase as ZUP's documents would record it."""

    def __init__(self, infobase):
        self.base = infobase

    def rows(self, entity):
        return self.base.rows(entity)

    def current(self, employee_key):
        return next(r for r in self.rows("InformationRegister_ТекущиеКадровыеДанныеСотрудников") if r["Сотрудник_Key"] == employee_key)

    def hire(self, *, last, first, email, department, position, org, hired: date, person=None, kind="ОсновноеМестоРаботы"):
        if person is None:
            person = {"Ref_Key": str(uuid.uuid4()), "Parent_Key": "00000000-0000-0000-0000-000000000000", "IsFolder": False,
                      "DeletionMark": False, "Description": f"{last} {first}", "Фамилия": last, "Имя": first, "Отчество": "",
                      "ФИО": f"{last} {first}", "ДатаРождения": "1990-01-01T00:00:00", "Пол": "Женский",
                      "КонтактнаяИнформация": [{"LineNumber": "1", "Тип": "АдресЭлектроннойПочты", "Представление": email,
                                                "АдресЭП": email, "НомерТелефона": ""}]}
            self.rows("Catalog_ФизическиеЛица").append(person)
        employee = {"Ref_Key": str(uuid.uuid4()), "Code": f"9{len(self.rows('Catalog_Сотрудники')):09d}",
                    "Description": person["Description"], "ФизическоеЛицо_Key": person["Ref_Key"],
                    "ГоловнаяОрганизация_Key": org, "ВАрхиве": False, "ГоловнойСотрудник_Key": "00000000-0000-0000-0000-000000000000",
                    "DeletionMark": False}
        self.rows("Catalog_Сотрудники").append(employee)
        self.rows("InformationRegister_ТекущиеКадровыеДанныеСотрудников").append({
            "Сотрудник_Key": employee["Ref_Key"], "ФизическоеЛицо_Key": person["Ref_Key"], "ГоловнаяОрганизация_Key": org,
            "ТекущаяОрганизация_Key": org, "ТекущееПодразделение_Key": department, "ТекущаяДолжность_Key": position,
            "ДатаПриема": hired.strftime("%Y-%m-%dT00:00:00"), "ДатаУвольнения": "0001-01-01T00:00:00",
            "ТекущийВидЗанятости": kind})
        self.base.touch()
        return person, employee

    def transfer(self, employee_key, department):
        self.current(employee_key)["ТекущееПодразделение_Key"] = department
        self.base.touch()

    def terminate(self, employee_key, day: date):
        self.current(employee_key)["ДатаУвольнения"] = day.strftime("%Y-%m-%dT00:00:00")
        self.base.touch()

    def department(self, guid):
        return next(r for r in self.rows("Catalog_ПодразделенияОрганизаций") if r["Ref_Key"] == guid)

    def rename(self, guid, name):
        self.department(guid)["Description"] = name
        self.base.touch()

    def move(self, guid, parent):
        self.department(guid)["Parent_Key"] = parent
        self.base.touch()

    def reverse(self, absence_row):
        self.rows("InformationRegister_ДанныеСостоянийСотрудников_RecordType").append(
            {**absence_row, "Recorder": str(uuid.uuid4()), "Сторно": True})
        self.base.touch()

    def vacation(self, employee_key, start: date, days: int):
        document = str(uuid.uuid4())
        row = {"Recorder": document, "Recorder_Type": "StandardODATA.Document_Отпуск", "LineNumber": "1", "Active": True,
               "Сотрудник_Key": employee_key, "ДокументОснование": document,
               "ДокументОснование_Type": "StandardODATA.Document_Отпуск", "Сторно": False, "Состояние": "ОтпускОсновной",
               "Начало": start.strftime("%Y-%m-%dT00:00:00"),
               "Окончание": (start + timedelta(days=days - 1)).strftime("%Y-%m-%dT00:00:00"),
               "ОкончаниеПредположительно": "0001-01-01T00:00:00", "ВидВремени_Key": "00000000-0000-0000-0000-000000000000"}
        self.rows("InformationRegister_ДанныеСостоянийСотрудников_RecordType").append(row)
        self.base.touch()
        return row


def _active(editor: ZupEditor, today: date) -> list[dict]:
    return [r for r in editor.rows("InformationRegister_ТекущиеКадровыеДанныеСотрудников")
            if r["ДатаУвольнения"].startswith("0001") and r["ДатаПриема"][:10] <= today.isoformat()]


def _name(editor: ZupEditor, person_key: str) -> str:
    person = next(p for p in editor.rows("Catalog_ФизическиеЛица") if p["Ref_Key"] == person_key)
    return person["Description"]


def _department_name(editor: ZupEditor, key: str) -> str:
    return editor.department(key)["Description"]


def make_change(infobase, kind: str, *, seed: int | None = None) -> str:
    """One change of the given kind, on people and departments the infobase has; returns what was done (Russian)."""
    if kind not in CHANGES:
        raise ValueError(f"unknown change {kind!r}: one of {', '.join(CHANGES)}")
    rng = random.Random(seed)
    editor = ZupEditor(infobase)
    today = infobase.today
    departments = [d for d in editor.rows("Catalog_ПодразделенияОрганизаций")
                   if not d["DeletionMark"] and not d.get("Расформировано")]
    active = _active(editor, today)
    if kind == "hire":
        department = rng.choice(departments)
        position = rng.choice(editor.rows("Catalog_Должности"))["Ref_Key"]
        feminine = rng.choice(("а", ""))
        last = rng.choice([n for n in _LAST if n.endswith("а") == bool(feminine)])
        first = rng.choice(_FIRST[feminine])
        email = f"demo.{uuid.uuid4().hex[:8]}@example.ru"
        editor.hire(last=last, first=first, email=email, department=department["Ref_Key"], position=position,
                    org=department["Owner_Key"], hired=today)
        return f"Принят(а) {last} {first} в «{department['Description']}» с {today:%d.%m.%Y}, e-mail {email}"
    row = rng.choice(active)
    who = _name(editor, row["ФизическоеЛицо_Key"])
    if kind == "transfer":
        target = rng.choice([d for d in departments if d["Ref_Key"] != row["ТекущееПодразделение_Key"]
                             and d["Owner_Key"] == row["ТекущаяОрганизация_Key"]])
        editor.transfer(row["Сотрудник_Key"], target["Ref_Key"])
        return f"{who} переведен(а) в «{target['Description']}»"
    if kind == "vacation":
        start = today + timedelta(days=7)
        editor.vacation(row["Сотрудник_Key"], start, 14)
        return f"{who}: отпуск с {start:%d.%m.%Y} на 14 дней"
    editor.terminate(row["Сотрудник_Key"], today - timedelta(days=1))
    return f"{who} уволен(а) {today - timedelta(days=1):%d.%m.%Y}"
