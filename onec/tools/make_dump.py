"""Write the metadata XML of the 1C:ZUP extension `hrsync` (Designer's "dump to files" format, 2.17).

The extension's objects are described once, below; this script writes `onec/extension/**/*.xml` from
that description, so names, UUIDs and cross-references cannot drift apart. The BSL modules
(`Ext/Module.bsl`, `Ext/Form/Module.bsl`, `Ext/CommandModule.bsl`) are written by hand beside them.
tests/test_onec_extension.py checks that the committed files are what this script writes.

    python onec/tools/make_dump.py            # rewrite onec/extension/
    python onec/tools/make_dump.py --check    # exit 1 if the committed files differ

Format: the one Designer writes for extensions (Конфигуратор → Конфигурация → Расширения конфигурации →
Выгрузить в файлы); adopted objects carry `ObjectBelonging=Adopted` and the UUID of the configuration's
object (`ExtendedConfigurationObject`, taken from `onec/metadata/zup31-objects.json`, which is derived from
a public ZUP 3.1 dump). The extension keeps its mapping by names
(`KeepMappingToExtendedConfigurationObjectsByIDs=false`), so a base whose objects carry other UUIDs
(another release, ПРОФ or КОРП) still matches them by name on load.
"""
from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "extension"
NAME = "hrsync"
PREFIX = "hrsync_"
FORMAT_VERSION = "2.17"
VERSION = "1.0.0"
_NS = uuid.UUID("6b1f0b3e-4a52-4c1b-9d2e-0b0c1a2f3e4d")

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<MetaDataObject xmlns="http://v8.1c.ru/8.3/MDClasses" xmlns:app="http://v8.1c.ru/8.2/managed-application/core" '
          'xmlns:cfg="http://v8.1c.ru/8.1/data/enterprise/current-config" xmlns:cmi="http://v8.1c.ru/8.2/managed-application/cmi" '
          'xmlns:ent="http://v8.1c.ru/8.1/data/enterprise" xmlns:lf="http://v8.1c.ru/8.2/managed-application/logform" '
          'xmlns:style="http://v8.1c.ru/8.1/data/ui/style" xmlns:sys="http://v8.1c.ru/8.1/data/ui/fonts/system" '
          'xmlns:v8="http://v8.1c.ru/8.1/data/core" xmlns:v8ui="http://v8.1c.ru/8.1/data/ui" '
          'xmlns:web="http://v8.1c.ru/8.1/data/ui/colors/web" xmlns:win="http://v8.1c.ru/8.1/data/ui/colors/windows" '
          'xmlns:xen="http://v8.1c.ru/8.3/xcf/enums" xmlns:xpr="http://v8.1c.ru/8.3/xcf/predef" '
          'xmlns:xr="http://v8.1c.ru/8.3/xcf/readable" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
          f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="{FORMAT_VERSION}">\n')


def uid(*parts: str) -> str:
    """A stable UUID for one of the extension's own things (the same every time the dump is written)."""
    return str(uuid.uuid5(_NS, "/".join(parts)))


def text(value: str) -> str:
    return escape(value)


def local(value: str, indent: str) -> str:
    """A LocalStringType in Russian (the configuration's only language)."""
    return (f"\n{indent}\t<v8:item>\n{indent}\t\t<v8:lang>ru</v8:lang>\n{indent}\t\t<v8:content>{text(value)}</v8:content>\n"
            f"{indent}\t</v8:item>\n{indent}")


# The types the extension's own attributes use.
def string_type(length: int = 0) -> str:
    return (f"<v8:Type>xs:string</v8:Type><v8:StringQualifiers><v8:Length>{length}</v8:Length>"
            "<v8:AllowedLength>Variable</v8:AllowedLength></v8:StringQualifiers>")


def number_type(digits: int, fraction: int = 0) -> str:
    return (f"<v8:Type>xs:decimal</v8:Type><v8:NumberQualifiers><v8:Digits>{digits}</v8:Digits>"
            f"<v8:FractionDigits>{fraction}</v8:FractionDigits><v8:AllowedSign>Nonnegative</v8:AllowedSign></v8:NumberQualifiers>")


BOOLEAN = "<v8:Type>xs:boolean</v8:Type>"
DATETIME = "<v8:Type>xs:dateTime</v8:Type><v8:DateQualifiers><v8:DateFractions>DateTime</v8:DateFractions></v8:DateQualifiers>"


@dataclass(frozen=True)
class Field:
    name: str
    synonym: str
    type: str


@dataclass(frozen=True)
class Register:
    name: str
    synonym: str
    comment: str
    dimensions: tuple[Field, ...]
    resources: tuple[Field, ...]


@dataclass(frozen=True)
class Constant:
    name: str
    synonym: str
    type: str


@dataclass(frozen=True)
class Subscription:
    name: str
    synonym: str
    sources: tuple[str, ...]  # cfg types, e.g. DocumentObject.Отпуск
    event: str
    handler: str  # CommonModule.<module>.<procedure>



# --- What the extension consists of ---------------------------------------------------------------

# Documents whose posting changes what the app reads (issue 14's list), by the group the exchange sends them as.
HR_DOCUMENTS = ("ПриемНаРаботу", "ПриемНаРаботуСписком", "КадровыйПеревод", "КадровыйПереводСписком", "Увольнение",
                "УвольнениеСписком")
ABSENCE_DOCUMENTS = ("Отпуск", "БольничныйЛист", "Командировка", "ОтпускБезСохраненияОплаты", "ОтпускПоУходуЗаРебенком")
DOCUMENTS = HR_DOCUMENTS + ABSENCE_DOCUMENTS
CATALOGS = ("ФизическиеЛица", "ПодразделенияОрганизаций")
HEADS_REGISTER = "ПодразделенияОрганизацииРуководители"

CONSTANTS = (
    Constant(f"{PREFIX}АдресПриложения", "hrsync: адрес приложения", string_type(500)),
    Constant(f"{PREFIX}ОбменВключен", "hrsync: обмен включен", BOOLEAN),
    Constant(f"{PREFIX}ИнтервалОбменаМинут", "hrsync: интервал обмена, минут", number_type(4)),
    Constant(f"{PREFIX}ПолнаяВыгрузкаКаждыеЧасов", "hrsync: полная выгрузка каждые, часов", number_type(4)),
    Constant(f"{PREFIX}ДатаПолнойВыгрузки", "hrsync: дата последней полной выгрузки", DATETIME),
    Constant(f"{PREFIX}ЗапрошенаПолнаяВыгрузка", "hrsync: запрошена полная выгрузка", BOOLEAN),
)

REGISTERS = (
    Register(f"{PREFIX}ОчередьИзменений", "hrsync: очередь изменений",
             "Объекты, изменения которых ещё не отправлены в приложение; запись на объект (повторное изменение "
             "заменяет запись)",
             (Field("ВидОбъекта", "Вид объекта", string_type(150)), Field("Идентификатор", "Идентификатор", string_type(36))),
             (Field("Событие", "Событие", string_type(30)),
              Field("Зарегистрировано", "Зарегистрировано, мс", number_type(15)))),
    Register(f"{PREFIX}ИсходящиеПакеты", "hrsync: исходящие пакеты",
             "Пакеты в формате приложения: хранятся до подтверждения, повторная отправка несёт тот же package_id",
             (Field("Номер", "Номер", number_type(15)),),
             (Field("ИдентификаторПакета", "Идентификатор пакета", string_type(100)),
              Field("ВидПакета", "Вид пакета", string_type(20)),
              Field("Тело", "Тело", string_type(0)),
              Field("Состояние", "Состояние", string_type(20)),
              Field("Попыток", "Попыток", number_type(10)),
              Field("ПоследняяОшибка", "Последняя ошибка", string_type(0)),
              Field("Создан", "Создан", DATETIME),
              Field("Отправлен", "Отправлен", DATETIME))),
    Register(f"{PREFIX}ОтправленныеЗаписи", "hrsync: отправленные записи документов",
             "Каких сотрудников касался документ в последнем отправленном пакете: после отмены проведения "
             "движений нет, а сказать приложению, чьё отсутствие отменено, нужно",
             (Field("Документ", "Документ", string_type(36)), Field("Сотрудник", "Сотрудник", string_type(36))),
             (Field("Вид", "Вид", string_type(20)),)),
)

SUBSCRIPTIONS = (
    Subscription(f"{PREFIX}ПроведениеДокументов", "hrsync: проведение кадровых документов",
                 tuple(f"DocumentObject.{d}" for d in DOCUMENTS), "Posting",
                 f"CommonModule.{PREFIX}РегистрацияИзменений.ПриПроведенииДокумента"),
    Subscription(f"{PREFIX}ОтменаПроведенияДокументов", "hrsync: отмена проведения кадровых документов",
                 tuple(f"DocumentObject.{d}" for d in DOCUMENTS), "UndoPosting",
                 f"CommonModule.{PREFIX}РегистрацияИзменений.ПриОтменеПроведенияДокумента"),
    Subscription(f"{PREFIX}ПередЗаписьюПодразделения", "hrsync: перед записью подразделения",
                 ("CatalogObject.ПодразделенияОрганизаций",), "BeforeWrite",
                 f"CommonModule.{PREFIX}РегистрацияИзменений.ПередЗаписьюПодразделения"),
    Subscription(f"{PREFIX}ЗаписьСправочников", "hrsync: запись физических лиц и подразделений",
                 tuple(f"CatalogObject.{c}" for c in CATALOGS), "OnWrite",
                 f"CommonModule.{PREFIX}РегистрацияИзменений.ПриЗаписиСправочника"),
    Subscription(f"{PREFIX}ЗаписьРуководителей", "hrsync: запись руководителей подразделений",
                 (f"InformationRegisterRecordSet.{HEADS_REGISTER}",), "OnWrite",
                 f"CommonModule.{PREFIX}РегистрацияИзменений.ПриЗаписиРуководителей"),
)

MODULES = (
    # name, synonym, comment, server-call (callable from the client)
    (f"{PREFIX}РегистрацияИзменений", "hrsync: регистрация изменений",
     "Обработчики подписок: ставят изменённые объекты в очередь, в транзакции пользователя ничего не отправляют"),
    (f"{PREFIX}ОбменСервер", "hrsync: обмен с приложением",
     "Регламентное задание: пакеты изменений и снимки в приложение, заявки из приложения в документы ЗУП"),
)
JOB = f"{PREFIX}Обмен"
FORM = f"{PREFIX}НастройкиОбмена"
COMMAND = f"{PREFIX}НастройкиОбмена"
SUBSYSTEM = f"{PREFIX}Битрикс24"
ROLE = f"{PREFIX}НастройкаОбмена"

# The settings form: attributes (name, title, type, password) and commands (name, title, tooltip).
FORM_ATTRIBUTES = (
    ("АдресПриложения", "Адрес приложения", string_type(500), False),
    ("КлючПодключения", "Ключ подключения", string_type(200), True),
    ("КлючЗадан", "Ключ задан", BOOLEAN, False),
    ("ОбменВключен", "Обмен включен", BOOLEAN, False),
    ("ИнтервалОбменаМинут", "Отправлять изменения каждые, минут", number_type(4), False),
    ("ПолнаяВыгрузкаКаждыеЧасов", "Полная выгрузка каждые, часов (0 — только по запросу)", number_type(4), False),
    ("Состояние", "Состояние обмена", string_type(0), False),
)
FORM_COMMANDS = (
    ("Сохранить", "Сохранить", "Сохранить настройки и расписание регламентного задания"),
    ("ПроверитьПодключение", "Проверить подключение", "Спросить приложение, принимает ли оно ключ"),
    ("ОтправитьСейчас", "Выполнить обмен сейчас", "Отправить накопленные изменения и забрать заявки, не дожидаясь расписания"),
    ("ЗапроситьПолнуюВыгрузку", "Полная выгрузка", "Отправить при следующем обмене всю кадровую картину (снимок)"),
    ("ОбновитьСостояние", "Обновить", "Показать очередь и последние ошибки"),
)


def _adopted() -> list[tuple[str, str]]:
    return ([("Document", d) for d in DOCUMENTS] + [("Catalog", c) for c in CATALOGS]
            + [("InformationRegister", HEADS_REGISTER)])


def _reference() -> dict:
    return json.loads((ROOT / "metadata" / "zup31-objects.json").read_text(encoding="utf-8"))["objects"]


GENERATED = {
    "Document": [("DocumentObject", "Object"), ("DocumentRef", "Ref"), ("DocumentSelection", "Selection"),
                 ("DocumentList", "List"), ("DocumentManager", "Manager")],
    "Catalog": [("CatalogObject", "Object"), ("CatalogRef", "Ref"), ("CatalogSelection", "Selection"),
                ("CatalogList", "List"), ("CatalogManager", "Manager")],
    "InformationRegister": [("InformationRegisterRecord", "Record"), ("InformationRegisterManager", "Manager"),
                            ("InformationRegisterSelection", "Selection"), ("InformationRegisterList", "List"),
                            ("InformationRegisterRecordSet", "RecordSet"), ("InformationRegisterRecordKey", "RecordKey"),
                            ("InformationRegisterRecordManager", "RecordManager")],
    "Constant": [("ConstantManager", "Manager"), ("ConstantValueManager", "ValueManager"),
                 ("ConstantValueKey", "ValueKey")],
}


def generated_types(kind: str, name: str) -> str:
    rows = []
    for prefix, category in GENERATED[kind]:
        rows.append(f'\t\t\t<xr:GeneratedType name="{prefix}.{name}" category="{category}">\n'
                    f'\t\t\t\t<xr:TypeId>{uid(kind, name, prefix, "type")}</xr:TypeId>\n'
                    f'\t\t\t\t<xr:ValueId>{uid(kind, name, prefix, "value")}</xr:ValueId>\n'
                    "\t\t\t</xr:GeneratedType>\n")
    return "\t\t<InternalInfo>\n" + "".join(rows) + "\t\t</InternalInfo>\n"


def wrap(kind: str, name: str, body: str, *, internal: str = "") -> str:
    return f'{HEADER}\t<{kind} uuid="{uid(kind, name)}">\n{internal}{body}\t</{kind}>\n</MetaDataObject>\n'


def adopted_object(kind: str, name: str, original: str) -> str:
    properties = ("\t\t<Properties>\n\t\t\t<ObjectBelonging>Adopted</ObjectBelonging>\n"
                  f"\t\t\t<Name>{name}</Name>\n\t\t\t<Comment/>\n"
                  f"\t\t\t<ExtendedConfigurationObject>{original}</ExtendedConfigurationObject>\n\t\t</Properties>\n")
    children = "\t\t<ChildObjects/>\n" if kind in ("Document", "Catalog", "InformationRegister") else ""
    internal = generated_types(kind, name) if kind in GENERATED else "\t\t<InternalInfo/>\n"
    return wrap(kind, name, properties + children, internal=internal)


def language(original: str) -> str:
    body = ("\t\t<Properties>\n\t\t\t<ObjectBelonging>Adopted</ObjectBelonging>\n\t\t\t<Name>Русский</Name>\n"
            f"\t\t\t<Comment/>\n\t\t\t<ExtendedConfigurationObject>{original}</ExtendedConfigurationObject>\n"
            "\t\t\t<LanguageCode>ru</LanguageCode>\n\t\t</Properties>\n")
    return wrap("Language", "Русский", body, internal="\t\t<InternalInfo/>\n")


def _register_field(tag: str, register: str, item: Field) -> str:
    extra = ("\t\t\t\t\t<Master>false</Master>\n\t\t\t\t\t<MainFilter>true</MainFilter>\n"
             "\t\t\t\t\t<DenyIncompleteValues>false</DenyIncompleteValues>\n") if tag == "Dimension" else ""
    return (f'\t\t\t<{tag} uuid="{uid("InformationRegister", register, tag, item.name)}">\n\t\t\t\t<Properties>\n'
            f"\t\t\t\t\t<Name>{item.name}</Name>\n\t\t\t\t\t<Synonym>{local(item.synonym, chr(9) * 5)}</Synonym>\n"
            f"\t\t\t\t\t<Comment/>\n\t\t\t\t\t<Type>{item.type}</Type>\n{extra}"
            "\t\t\t\t\t<Indexing>DontIndex</Indexing>\n\t\t\t\t\t<FullTextSearch>DontUse</FullTextSearch>\n"
            f"\t\t\t\t</Properties>\n\t\t\t</{tag}>\n")


def register(reg: Register) -> str:
    body = (f"\t\t<Properties>\n\t\t\t<Name>{reg.name}</Name>\n\t\t\t<Synonym>{local(reg.synonym, chr(9) * 3)}</Synonym>\n"
            f"\t\t\t<Comment>{text(reg.comment)}</Comment>\n\t\t\t<UseStandardCommands>false</UseStandardCommands>\n"
            "\t\t\t<InformationRegisterPeriodicity>Nonperiodical</InformationRegisterPeriodicity>\n"
            "\t\t\t<WriteMode>Independent</WriteMode>\n\t\t\t<MainFilterOnPeriod>false</MainFilterOnPeriod>\n"
            "\t\t\t<DataLockControlMode>Managed</DataLockControlMode>\n\t\t\t<FullTextSearch>DontUse</FullTextSearch>\n"
            "\t\t\t<DataHistory>DontUse</DataHistory>\n\t\t</Properties>\n\t\t<ChildObjects>\n"
            + "".join(_register_field("Resource", reg.name, f) for f in reg.resources)
            + "".join(_register_field("Dimension", reg.name, f) for f in reg.dimensions)
            + "\t\t</ChildObjects>\n")
    return wrap("InformationRegister", reg.name, body, internal=generated_types("InformationRegister", reg.name))


def constant(item: Constant) -> str:
    body = (f"\t\t<Properties>\n\t\t\t<Name>{item.name}</Name>\n\t\t\t<Synonym>{local(item.synonym, chr(9) * 3)}</Synonym>\n"
            f"\t\t\t<Comment/>\n\t\t\t<Type>{item.type}</Type>\n\t\t\t<UseStandardCommands>false</UseStandardCommands>\n"
            "\t\t\t<DataLockControlMode>Managed</DataLockControlMode>\n\t\t\t<DataHistory>DontUse</DataHistory>\n"
            "\t\t</Properties>\n")
    return wrap("Constant", item.name, body, internal=generated_types("Constant", item.name))


def common_module(name: str, synonym: str, comment: str) -> str:
    body = (f"\t\t<Properties>\n\t\t\t<Name>{name}</Name>\n\t\t\t<Synonym>{local(synonym, chr(9) * 3)}</Synonym>\n"
            f"\t\t\t<Comment>{text(comment)}</Comment>\n\t\t\t<Global>false</Global>\n"
            "\t\t\t<ClientManagedApplication>false</ClientManagedApplication>\n\t\t\t<Server>true</Server>\n"
            "\t\t\t<ExternalConnection>true</ExternalConnection>\n\t\t\t<ClientOrdinaryApplication>false</ClientOrdinaryApplication>\n"
            "\t\t\t<ServerCall>false</ServerCall>\n\t\t\t<Privileged>false</Privileged>\n"
            "\t\t\t<ReturnValuesReuse>DontUse</ReturnValuesReuse>\n\t\t</Properties>\n")
    return wrap("CommonModule", name, body)


def subscription(item: Subscription) -> str:
    sources = "".join(f"\t\t\t\t<v8:Type>cfg:{s}</v8:Type>\n" for s in item.sources)
    body = (f"\t\t<Properties>\n\t\t\t<Name>{item.name}</Name>\n\t\t\t<Synonym>{local(item.synonym, chr(9) * 3)}</Synonym>\n"
            f"\t\t\t<Comment/>\n\t\t\t<Source>\n{sources}\t\t\t</Source>\n\t\t\t<Event>{item.event}</Event>\n"
            f"\t\t\t<Handler>{item.handler}</Handler>\n\t\t</Properties>\n")
    return wrap("EventSubscription", item.name, body)


def scheduled_job() -> str:
    body = (f"\t\t<Properties>\n\t\t\t<Name>{JOB}</Name>\n\t\t\t<Synonym>{local('hrsync: обмен с Битрикс24', chr(9) * 3)}</Synonym>\n"
            f"\t\t\t<Comment/>\n\t\t\t<MethodName>CommonModule.{PREFIX}ОбменСервер.ВыполнитьОбмен</MethodName>\n"
            f"\t\t\t<Description>{text('hrsync: обмен с Битрикс24')}</Description>\n\t\t\t<Key>{JOB}</Key>\n"
            "\t\t\t<Use>false</Use>\n\t\t\t<Predefined>true</Predefined>\n"
            "\t\t\t<RestartCountOnFailure>3</RestartCountOnFailure>\n"
            "\t\t\t<RestartIntervalOnFailure>60</RestartIntervalOnFailure>\n\t\t</Properties>\n")
    return wrap("ScheduledJob", JOB, body)


def common_form() -> str:
    body = (f"\t\t<Properties>\n\t\t\t<Name>{FORM}</Name>\n\t\t\t<Synonym>{local('hrsync: обмен с Битрикс24', chr(9) * 3)}</Synonym>\n"
            "\t\t\t<Comment/>\n\t\t\t<FormType>Managed</FormType>\n\t\t\t<IncludeHelpInContents>false</IncludeHelpInContents>\n"
            "\t\t\t<UsePurposes>\n\t\t\t\t<v8:Value xsi:type=\"app:ApplicationUsePurpose\">PlatformApplication</v8:Value>\n"
            "\t\t\t</UsePurposes>\n\t\t\t<UseStandardCommands>false</UseStandardCommands>\n"
            "\t\t\t<ExtendedPresentation/>\n\t\t\t<Explanation/>\n\t\t</Properties>\n")
    return wrap("CommonForm", FORM, body)


def form_content() -> str:
    ids = iter(range(1, 1000))
    items = []
    for name, _title, type_, password in FORM_ATTRIBUTES:
        if name == "КлючЗадан":
            continue
        if type_ == BOOLEAN:
            items.append(f'\t\t<CheckBoxField name="{name}" id="{next(ids)}">\n\t\t\t<DataPath>{name}</DataPath>\n'
                         "\t\t\t<CheckBoxType>Auto</CheckBoxType>\n"
                         f'\t\t\t<ContextMenu name="{name}КонтекстноеМеню" id="{next(ids)}"/>\n'
                         f'\t\t\t<ExtendedTooltip name="{name}РасширеннаяПодсказка" id="{next(ids)}"/>\n\t\t</CheckBoxField>\n')
            continue
        extra = "\t\t\t<PasswordMode>true</PasswordMode>\n" if password else ""
        if name == "Состояние":
            extra = "\t\t\t<ReadOnly>true</ReadOnly>\n\t\t\t<MultiLine>true</MultiLine>\n\t\t\t<Height>6</Height>\n"
        items.append(f'\t\t<InputField name="{name}" id="{next(ids)}">\n\t\t\t<DataPath>{name}</DataPath>\n{extra}'
                     f'\t\t\t<ContextMenu name="{name}КонтекстноеМеню" id="{next(ids)}"/>\n'
                     f'\t\t\t<ExtendedTooltip name="{name}РасширеннаяПодсказка" id="{next(ids)}"/>\n\t\t</InputField>\n')
    for name, _title, _tip in FORM_COMMANDS:
        items.append(f'\t\t<Button name="Кнопка{name}" id="{next(ids)}">\n\t\t\t<Type>UsualButton</Type>\n'
                     f"\t\t\t<CommandName>Form.Command.{name}</CommandName>\n"
                     f'\t\t\t<ExtendedTooltip name="Кнопка{name}РасширеннаяПодсказка" id="{next(ids)}"/>\n\t\t</Button>\n')
    attributes = []
    for index, (name, title, type_, _password) in enumerate(FORM_ATTRIBUTES, start=1):
        attributes.append(f'\t\t<Attribute name="{name}" id="{index}">\n\t\t\t<Title>{local(title, chr(9) * 3)}</Title>\n'
                          f"\t\t\t<Type>{type_}</Type>\n\t\t</Attribute>\n")
    commands = []
    for index, (name, title, tip) in enumerate(FORM_COMMANDS, start=1):
        commands.append(f'\t\t<Command name="{name}" id="{index}">\n\t\t\t<Title>{local(title, chr(9) * 3)}</Title>\n'
                        f"\t\t\t<ToolTip>{local(tip, chr(9) * 3)}</ToolTip>\n\t\t\t<Action>{name}</Action>\n\t\t</Command>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Form xmlns="http://v8.1c.ru/8.3/xcf/logform" xmlns:app="http://v8.1c.ru/8.2/managed-application/core" '
            'xmlns:cfg="http://v8.1c.ru/8.1/data/enterprise/current-config" xmlns:v8="http://v8.1c.ru/8.1/data/core" '
            'xmlns:v8ui="http://v8.1c.ru/8.1/data/ui" xmlns:xr="http://v8.1c.ru/8.3/xcf/readable" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'version="{FORMAT_VERSION}">\n'
            f"\t<Title>{local('hrsync: обмен с Битрикс24', chr(9))}</Title>\n\t<AutoTitle>false</AutoTitle>\n"
            '\t<AutoCommandBar name="ФормаКоманднаяПанель" id="-1"/>\n'
            '\t<Events>\n\t\t<Event name="OnCreateAtServer">ПриСозданииНаСервере</Event>\n\t</Events>\n'
            "\t<ChildItems>\n" + "".join(items) + "\t</ChildItems>\n"
            "\t<Attributes>\n" + "".join(attributes) + "\t</Attributes>\n"
            "\t<Commands>\n" + "".join(commands) + "\t</Commands>\n</Form>\n")


def common_command() -> str:
    body = (f"\t\t<Properties>\n\t\t\t<Name>{COMMAND}</Name>\n"
            f"\t\t\t<Synonym>{local('Обмен с Битрикс24 (hrsync)', chr(9) * 3)}</Synonym>\n\t\t\t<Comment/>\n"
            "\t\t\t<Group>NavigationPanelOrdinary</Group>\n\t\t\t<Representation>Auto</Representation>\n"
            f"\t\t\t<ToolTip>{local('Адрес приложения, ключ, расписание и состояние обмена с Битрикс24', chr(9) * 3)}</ToolTip>\n"
            "\t\t\t<Picture/>\n\t\t\t<Shortcut/>\n\t\t\t<IncludeHelpInContents>false</IncludeHelpInContents>\n"
            "\t\t\t<CommandParameterType/>\n\t\t\t<ParameterUseMode>Single</ParameterUseMode>\n"
            "\t\t\t<ModifiesData>false</ModifiesData>\n\t\t\t<OnMainServerUnavalableBehavior>Auto</OnMainServerUnavalableBehavior>\n"
            "\t\t</Properties>\n")
    return wrap("CommonCommand", COMMAND, body)


def subsystem() -> str:
    body = (f"\t\t<Properties>\n\t\t\t<Name>{SUBSYSTEM}</Name>\n\t\t\t<Synonym>{local('Битрикс24 (hrsync)', chr(9) * 3)}</Synonym>\n"
            "\t\t\t<Comment/>\n\t\t\t<IncludeHelpInContents>false</IncludeHelpInContents>\n"
            "\t\t\t<IncludeInCommandInterface>true</IncludeInCommandInterface>\n\t\t\t<Explanation/>\n\t\t\t<Picture/>\n"
            f'\t\t\t<Content>\n\t\t\t\t<xr:Item xsi:type="xr:MDObjectRef">CommonCommand.{COMMAND}</xr:Item>\n'
            f'\t\t\t\t<xr:Item xsi:type="xr:MDObjectRef">CommonForm.{FORM}</xr:Item>\n\t\t\t</Content>\n'
            "\t\t</Properties>\n\t\t<ChildObjects/>\n")
    return wrap("Subsystem", SUBSYSTEM, body)


def role() -> str:
    body = (f"\t\t<Properties>\n\t\t\t<Name>{ROLE}</Name>\n"
            f"\t\t\t<Synonym>{local('hrsync: настройка обмена с Битрикс24', chr(9) * 3)}</Synonym>\n\t\t\t<Comment/>\n"
            "\t\t</Properties>\n")
    return wrap("Role", ROLE, body)


def rights() -> str:
    def obj(name: str, *names: str) -> str:
        return (f"\t<object>\n\t\t<name>{name}</name>\n"
                + "".join(f"\t\t<right>\n\t\t\t<name>{r}</name>\n\t\t\t<value>true</value>\n\t\t</right>\n" for r in names)
                + "\t</object>\n")
    # Only the settings' user interface: the data is read and written by the extension's server code in
    # privileged mode, so an HR user who posts a document needs no right on the queue.
    parts = [obj(f"Subsystem.{SUBSYSTEM}", "View"), obj(f"CommonForm.{FORM}", "View"),
             obj(f"CommonCommand.{COMMAND}", "View")]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Rights xmlns="http://v8.1c.ru/8.2/roles" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Rights" version="{FORMAT_VERSION}">\n'
            "\t<setForNewObjects>false</setForNewObjects>\n\t<setForAttributesByDefault>true</setForAttributesByDefault>\n"
            "\t<independentRightsOfChildObjects>false</independentRightsOfChildObjects>\n" + "".join(parts) + "</Rights>\n")


def configuration(children: list[tuple[str, str]]) -> str:
    order = ["Language", "Subsystem", "Role", "CommonModule", "CommonCommand", "CommonForm", "EventSubscription",
             "ScheduledJob", "Constant", "Catalog", "Document", "InformationRegister"]
    rows = "".join(f"\t\t\t<{kind}>{name}</{kind}>\n" for kind, name in sorted(children, key=lambda c: (order.index(c[0]), c[1])))
    contained = "".join(
        f"\t\t\t<xr:ContainedObject>\n\t\t\t\t<xr:ClassId>{class_id}</xr:ClassId>\n"
        f"\t\t\t\t<xr:ObjectId>{uid('Configuration', class_id)}</xr:ObjectId>\n\t\t\t</xr:ContainedObject>\n"
        for class_id in ("9cd510cd-abfc-11d4-9434-004095e12fc7", "9fcd25a0-4822-11d4-9414-008048da11f9",
                         "e3687481-0a87-462c-a166-9f34594f9bba", "9de14907-ec23-4a07-96f0-85521cb6b53b",
                         "51f2d5d8-ea4d-4064-8892-82951750031e", "e68182ea-4237-4383-967f-90c1e3370bc7",
                         "fb282519-d103-4dd3-bc12-cb271d631dfc"))
    body = ("\t\t<Properties>\n\t\t\t<ObjectBelonging>Adopted</ObjectBelonging>\n"
            f"\t\t\t<Name>{NAME}</Name>\n\t\t\t<Synonym>{local('hrsync: обмен 1С:ЗУП с Битрикс24', chr(9) * 3)}</Synonym>\n"
            "\t\t\t<Comment/>\n\t\t\t<ConfigurationExtensionPurpose>AddOn</ConfigurationExtensionPurpose>\n"
            "\t\t\t<KeepMappingToExtendedConfigurationObjectsByIDs>false</KeepMappingToExtendedConfigurationObjectsByIDs>\n"
            f"\t\t\t<NamePrefix>{PREFIX}</NamePrefix>\n"
            "\t\t\t<ConfigurationExtensionCompatibilityMode>Version8_3_17</ConfigurationExtensionCompatibilityMode>\n"
            "\t\t\t<DefaultRunMode>ManagedApplication</DefaultRunMode>\n"
            "\t\t\t<UsePurposes>\n\t\t\t\t<v8:Value xsi:type=\"app:ApplicationUsePurpose\">PlatformApplication</v8:Value>\n"
            "\t\t\t</UsePurposes>\n\t\t\t<ScriptVariant>Russian</ScriptVariant>\n\t\t\t<DefaultRoles/>\n"
            f"\t\t\t<Vendor>hrsync</Vendor>\n\t\t\t<Version>{VERSION}</Version>\n"
            "\t\t\t<DefaultLanguage>Language.Русский</DefaultLanguage>\n"
            f"\t\t\t<BriefInformation>{local('Обмен кадровыми данными 1С:ЗУП 3.1 с Битрикс24 через приложение hrsync', chr(9) * 3)}</BriefInformation>\n"
            "\t\t\t<DetailedInformation/>\n\t\t\t<Copyright/>\n\t\t\t<VendorInformationAddress/>\n"
            "\t\t\t<ConfigurationInformationAddress/>\n"
            "\t\t\t<InterfaceCompatibilityMode>TaxiEnableVersion8_2</InterfaceCompatibilityMode>\n"
            f"\t\t</Properties>\n\t\t<ChildObjects>\n{rows}\t\t</ChildObjects>\n")
    return wrap("Configuration", NAME, body, internal=f"\t\t<InternalInfo>\n{contained}\t\t</InternalInfo>\n")


FOLDER = {"Language": "Languages", "Subsystem": "Subsystems", "Role": "Roles", "CommonModule": "CommonModules",
          "CommonCommand": "CommonCommands", "CommonForm": "CommonForms", "EventSubscription": "EventSubscriptions",
          "ScheduledJob": "ScheduledJobs", "Constant": "Constants", "Catalog": "Catalogs", "Document": "Documents",
          "InformationRegister": "InformationRegisters"}


def files() -> dict[str, str]:
    """Every generated file of the dump, by its path under onec/extension/."""
    reference = _reference()
    out: dict[str, str] = {}
    children: list[tuple[str, str]] = []

    def add(kind: str, name: str, content: str) -> None:
        out[f"{FOLDER[kind]}/{name}.xml"] = content
        children.append((kind, name))

    add("Language", "Русский", language(reference["Language.Русский"]["uuid"]))
    for kind, name in _adopted():
        add(kind, name, adopted_object(kind, name, reference[f"{kind}.{name}"]["uuid"]))
    for item in CONSTANTS:
        add("Constant", item.name, constant(item))
    for reg in REGISTERS:
        add("InformationRegister", reg.name, register(reg))
    for name, synonym, comment in MODULES:
        add("CommonModule", name, common_module(name, synonym, comment))
    for item in SUBSCRIPTIONS:
        add("EventSubscription", item.name, subscription(item))
    add("ScheduledJob", JOB, scheduled_job())
    add("CommonForm", FORM, common_form())
    out[f"CommonForms/{FORM}/Ext/Form.xml"] = form_content()
    add("CommonCommand", COMMAND, common_command())
    add("Subsystem", SUBSYSTEM, subsystem())
    add("Role", ROLE, role())
    out[f"Roles/{ROLE}/Ext/Rights.xml"] = rights()
    out["Configuration.xml"] = configuration(children)
    return out


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for path, content in files().items():
        target = OUT / path
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != content:
                stale.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    if stale:
        print("out of date (run python onec/tools/make_dump.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
