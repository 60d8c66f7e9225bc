"""ZUP's employee states: which are absences, and the Bitrix24 absence type each gets by default.

The values of the enumeration СостоянияСотрудника, as the RU КОРП 3.1.38 configuration lists them
(scriperirkth/zup-structure, Enums/СостоянияСотрудника.xml: 29 values; the issue reports the same list
in the KZ 3.1.2 dump). The `Состояние` of the register of employees' states takes these values,
and a pushed absence's `kind` is one of them. None: the state is not an absence (the employee works, or
the record marks a transfer or the dismissal). A value not in this table is reported, never guessed.
"""
from __future__ import annotations

# state -> the Bitrix24 absence type shown by default (an admin may map each differently), or None
EMPLOYEE_STATES: dict[str, str | None] = {
    "Работа": None,
    "Перемещение": None,
    "РаботаВОтпускеПоУходуЗаРебенком": None,  # works while on parental leave: at work
    "Факт": None,
    "Увольнение": None,
    "ПростойПоВинеРаботника": "OTHER",
    "ПростойПоВинеРаботодателя": "OTHER",
    "ПростойНеЗависящийОтРаботодателяИРаботника": "OTHER",
    "ОтсутствиеПоНевыясненнымПричинам": "OTHER",
    "ОтпускОсновной": "VACATION",
    "ДополнительныйОтпуск": "VACATION",
    "ДополнительныйОтпускНеоплачиваемый": "LEAVEUNPAYED",
    "ОтпускУчебныйОплачиваемый": "VACATION",
    "ОтпускУчебныйНеоплачиваемый": "LEAVEUNPAYED",
    "ОтпускПоУходуЗаРебенком": "LEAVEMATERINITY",
    "Командировка": "ASSIGNMENT",
    "ОтсутствиеССохранениемОплаты": "OTHER",
    "ВыполнениеГосударственныхОбязанностей": "OTHER",
    "ДополнительныеВыходныеДниОплачиваемые": "OTHER",
    "ДополнительныеВыходныеДниНеоплачиваемые": "LEAVEUNPAYED",
    # The KZ КОРП 3.1.2 dump (yevgeniy1212/zup-korp, Enums/СостоянияСотрудника.xml) spells the same value with a
    # capital О: the same state, so the same default; a base of either edition reports it by its own spelling.
    "ДополнительныеВыходныеДниНеОплачиваемые": "LEAVEUNPAYED",
    "Прогул": "OTHER",
    "ВынужденныйПрогул": "OTHER",
    "ОтпускНаСанаторноКурортноеЛечение": "VACATION",
    "Болезнь": "LEAVESICK",
    "БолезньБезОплаты": "LEAVESICK",
    "ОтпускПоБеременностиИРодам": "LEAVEMATERINITY",
    "ОтпускНеоплачиваемыйПоРазрешениюРаботодателя": "LEAVEUNPAYED",
    "ОтпускНеоплачиваемыйПоЗаконодательству": "LEAVEUNPAYED",
    "ТрудовойДоговорПриостановлен": "OTHER",
}

# Not absences: skipped where records are read. The empty value is 1C's empty enumeration reference.
NOT_ABSENCES = frozenset({""} | {state for state, shown in EMPLOYEE_STATES.items() if shown is None})
DEFAULT_ABSENCE_TYPES = {state: shown for state, shown in EMPLOYEE_STATES.items() if shown is not None}


def is_known_state(state: str) -> bool:
    return state in EMPLOYEE_STATES


# How ZUP shows each state to its users: the synonym of the enumeration value (<Synonym> in Russian of
# Enums/СостоянияСотрудника.xml in both dumps; they agree but for the one value spelled two ways).
# Pages show these, never the identifier.
STATE_SYNONYMS: dict[str, str] = {
    "Работа": "Работа",
    "Перемещение": "Перемещение",
    "РаботаВОтпускеПоУходуЗаРебенком": "Работа в отпуске по уходу за ребенком",
    "ПростойПоВинеРаботника": "Простой, отстранение по вине работника",
    "ПростойПоВинеРаботодателя": "Простой, отстранение по вине работодателя",
    "ПростойНеЗависящийОтРаботодателяИРаботника": "Простой, отстранение, не зависящий от работодателя и работника",
    "ОтсутствиеПоНевыясненнымПричинам": "Отсутствие по невыясненным причинам",
    "ОтпускОсновной": "Отпуск основной",
    "ДополнительныйОтпуск": "Дополнительный отпуск",
    "ДополнительныйОтпускНеоплачиваемый": "Дополнительный отпуск (неоплачиваемый)",
    "ОтпускУчебныйОплачиваемый": "Отпуск учебный оплачиваемый",
    "ОтпускУчебныйНеоплачиваемый": "Отпуск учебный неоплачиваемый",
    "ОтпускПоУходуЗаРебенком": "Отпуск по уходу за ребенком",
    "Командировка": "Командировка",
    "ОтсутствиеССохранениемОплаты": "Отсутствие с сохранением оплаты",
    "ВыполнениеГосударственныхОбязанностей": "Выполнение государственных обязанностей",
    "ДополнительныеВыходныеДниОплачиваемые": "Дополнительные выходные дни (оплачиваемые)",
    "ДополнительныеВыходныеДниНеоплачиваемые": "Дополнительные выходные дни неоплачиваемые",  # RU 3.1.38
    "ДополнительныеВыходныеДниНеОплачиваемые": "Дополнительные выходные дни не оплачиваемые",  # KZ 3.1.2
    "Прогул": "Прогул",
    "ВынужденныйПрогул": "Вынужденный прогул",
    "ОтпускНаСанаторноКурортноеЛечение": "Отпуск на санаторно-курортное лечение",
    "Болезнь": "Болезнь",
    "БолезньБезОплаты": "Болезнь без оплаты",
    "ОтпускПоБеременностиИРодам": "Отпуск по беременности и родам",
    "ОтпускНеоплачиваемыйПоРазрешениюРаботодателя": "Отпуск неоплачиваемый по разрешению работодателя",
    "ОтпускНеоплачиваемыйПоЗаконодательству": "Отпуск неоплачиваемый по законодательству",
    "Факт": "Факт",
    "Увольнение": "Увольнение",
    "ТрудовойДоговорПриостановлен": "Трудовой договор приостановлен",
}

assert set(STATE_SYNONYMS) == set(EMPLOYEE_STATES)
