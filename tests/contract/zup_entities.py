"""Every ZUP 3.1 entity set hrsync reads or writes by OData, and the fields it names, with sources.

The sources are the configuration dumps: `yevgeniy1212/zup-korp` (КОРП for Kazakhstan 3.1.2) through the
team's reference `shared/reference/zup/zup31-hr-entities.json` (copied to sandbox/zup/, with the dump files it
leaves out named in sandbox/zup/metadata.py), and `scriperirkth/zup-structure` (RU КОРП 3.1.38).
tests/test_contract.py checks each field against that metadata, and records every request of a whole sync,
a robot delivery and an overtime run against the sandbox ZUP: an entity or a field not here fails it.
A field `Section/Column` is a tabular-section column.
"""
from __future__ import annotations

REFERENCE = "shared/reference/zup/zup31-hr-entities.json (yevgeniy1212/zup-korp)"

# entity set -> (fields read: $select, $filter, $orderby; source)
ZUP_READS: dict[str, tuple[frozenset[str], str]] = {
    "Catalog_Организации": (frozenset({"Ref_Key", "Description", "DeletionMark"}), REFERENCE),
    "Catalog_ПодразделенияОрганизаций": (frozenset({
        "Ref_Key", "Code", "Description", "Parent_Key", "Owner_Key", "DeletionMark", "Сформировано", "ДатаСоздания",
        "Расформировано", "ДатаРасформирования"}), REFERENCE),
    "Catalog_Должности": (frozenset({"Ref_Key", "Description", "DeletionMark"}), REFERENCE),
    "Catalog_Сотрудники": (frozenset({"Ref_Key", "Code", "ФизическоеЛицо_Key", "ГоловнаяОрганизация_Key", "DeletionMark"}),
                           REFERENCE),
    "Catalog_ФизическиеЛица": (frozenset({
        "Ref_Key", "IsFolder", "DeletionMark", "Фамилия", "Имя", "Отчество", "ДатаРождения", "Пол",
        "КонтактнаяИнформация"}), REFERENCE),
    "Catalog_ВидыОтпусков": (frozenset({"Ref_Key", "Description", "ОсновнойОтпуск", "ОтпускБезОплаты", "DeletionMark"}),
                             REFERENCE),
    "InformationRegister_ТекущиеКадровыеДанныеСотрудников": (frozenset({
        "Сотрудник_Key", "ФизическоеЛицо_Key", "ТекущаяОрганизация_Key", "ТекущееПодразделение_Key",
        "ТекущаяДолжность_Key", "ДатаПриема", "ДатаУвольнения", "ТекущийВидЗанятости"}), REFERENCE),
    "InformationRegister_ДанныеСостоянийСотрудников_RecordType": (frozenset({
        "Сотрудник_Key", "ДокументОснование", "ДокументОснование_Type", "Сторно", "Состояние", "Начало", "Окончание",
        "Active"}), REFERENCE + "; recorder-subordinate: flat records in _RecordType (kb.1ci.com 17.4.13)"),
    "InformationRegister_ПодразделенияОрганизацииРуководители": (frozenset({
        "Period", "Подразделение_Key", "Руководитель_Key"}),
        "scriperirkth/zup-structure InformationRegisters/ПодразделенияОрганизацииРуководители.xml"),
    # КОРП with a staff schedule (PAYROLL_ODATA_HEADS_SOURCE=staff_positions).
    "InformationRegister_ПозицииРуководителейПодразделений": (frozenset({
        "Period", "Подразделение_Key", "ПозицияШтатногоРасписания_Key"}),
        "scriperirkth/zup-structure InformationRegisters/ПозицииРуководителейПодразделений.xml"),
    "Catalog_СтруктураПредприятия": (frozenset({"Ref_Key", "Источник", "Источник_Type"}), REFERENCE),
    "InformationRegister_КадроваяИсторияСотрудников_RecordType": (frozenset({
        "Period", "Сотрудник_Key", "ФизическоеЛицо_Key", "ДолжностьПоШтатномуРасписанию_Key", "ВидСобытия", "Active"}),
        REFERENCE),
    # "Already delivered?": the documents hrsync writes, found by the marker in their comment.
    **{entity: (frozenset({"Ref_Key", "Number", "Комментарий"}), REFERENCE) for entity in (
        "Document_Отпуск", "Document_ОтпускБезСохраненияОплаты", "Document_РаботаСверхурочно", "Document_ЗаявкаНаОтпуск")},
}

_COMMON = {"Date", "Организация_Key", "Сотрудник_Key", "Комментарий"}
# entity set -> (fields written in a POST; source). Editions differ for ЗаявкаНаОтпуск (writer.py's table).
ZUP_WRITES: dict[str, tuple[frozenset[str], str]] = {
    "Document_Отпуск": (frozenset(_COMMON | {
        "ФизическоеЛицо_Key", "ПериодРегистрации", "ДатаНачалаПериодаОтсутствия", "ДатаОкончанияПериодаОтсутствия",
        "ПредоставитьОсновнойОтпуск", "ДатаНачалаОсновногоОтпуска", "ДатаОкончанияОсновногоОтпуска",
        "КоличествоДнейОсновногоОтпуска", "ПредоставитьДополнительныйОтпуск", "ДополнительныеОтпуска",
        "ДополнительныеОтпуска/LineNumber", "ДополнительныеОтпуска/ВидОтпуска_Key", "ДополнительныеОтпуска/ДатаНачала",
        "ДополнительныеОтпуска/ДатаОкончания", "ДополнительныеОтпуска/КоличествоДней"}), REFERENCE),
    "Document_ОтпускБезСохраненияОплаты": (frozenset(_COMMON | {
        "ФизическоеЛицо_Key", "ПериодРегистрации", "ДатаНачала", "ДатаОкончания", "ВидОтпуска_Key"}), REFERENCE),
    "Document_РаботаСверхурочно": (frozenset({
        "Date", "Организация_Key", "Комментарий", "ПериодРегистрации", "ВремяУчтено", "Сотрудники",
        "Сотрудники/LineNumber", "Сотрудники/Сотрудник_Key", "Сотрудники/Дата", "Сотрудники/ОтработаноЧасов",
        "Сотрудники/СпособКомпенсацииПереработки"}), REFERENCE),
    "Document_ЗаявкаНаОтпуск": (frozenset({
        "Date", "ФизическоеЛицо_Key", "Сотрудник_Key", "ДатаНачала", "ДатаОкончания", "Статус", "КоличествоДней",
        "ОписаниеОтпуска", "Комментарий"}),
        "scriperirkth/zup-structure Documents/ЗаявкаНаОтпуск.xml (RU 3.1.38; KZ 3.1.2 has no Сотрудник)"),
}
