"""The 1C:ZUP extension (onec/extension/): checked here without a 1C platform.

- every BSL module parses with tree-sitter-bsl with no error node; every XML file is well formed;
- the dump is what onec/tools/make_dump.py writes, and its objects are consistent: every object
  Configuration.xml lists has its file, every subscription, job, form and command names a procedure
  that exists (exported, with the parameters the event passes), adopted objects carry the UUIDs of the
  configuration dump;
- every ZUP object, attribute, dimension, resource, tabular section and enumeration value the BSL names
  (managers, query texts, BSP functions) exists in ZUP 3.1's metadata (onec/metadata/zup31-objects.json,
  derived from the public configuration dump);
- every JSON field the BSL writes is a field of the app's published JSON Schema, every required field is
  written, and every field it reads from the app's answers is one the app sends;
- the golden packages (onec/golden/, the packages the extension builds for the changes described there)
  validate against the published schema, have the BSL's fields in the BSL's order, and are accepted by
  the push API end to end; the way back is acknowledged the way the BSL does it.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import jsonschema_rs
import pytest
import requests
import tree_sitter
import tree_sitter_bsl

from payroll_connector.models import OutboxItem, OutboxKind, OutboxStatus, PayrollConnection, ZupEdition
from payroll_connector.odata.writer import document_for
from payroll_connector.push.schema import package_json_schema
from payroll_connector.services import connect_push, read_snapshot
from sandbox.zup.push import post_package

ROOT = Path(__file__).resolve().parents[1]
ONEC = ROOT / "onec"
EXTENSION = ONEC / "extension"
GOLDEN = sorted((ONEC / "golden").glob("*.json"))
EXCHANGE = EXTENSION / "CommonModules" / "hrsync_ОбменСервер" / "Ext" / "Module.bsl"
MD = "{http://v8.1c.ru/8.3/MDClasses}"

sys.path.insert(0, str(ONEC / "tools"))
import make_dump  # noqa: E402  (the dump's single description, a script rather than a package)

ZUP = json.loads((ONEC / "metadata" / "zup31-objects.json").read_text(encoding="utf-8"))["objects"]
BSL_FILES = sorted(EXTENSION.rglob("*.bsl"))
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bsl.language()))


def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _errors(node, found: list) -> list:
    if node.type == "ERROR" or node.is_missing:
        found.append(node)
    for child in node.children:
        _errors(child, found)
    return found


def _line(source: bytes, offset: int) -> int:
    return source[:offset].count(b"\n") + 1


def _strings(path: Path) -> list[str]:
    """The string literals of a module, as 1C reads them ("" is a quote, | continues a line)."""
    out = []

    def walk(node):
        if node.type in ("string", "multiline_string"):
            raw = node.text.decode("utf-8")[1:-1].replace('""', '"')
            out.append(re.sub(r"\n\s*\|", "\n", raw))
            return
        for child in node.children:
            walk(child)
    walk(PARSER.parse(_source(path).encode("utf-8")).root_node)
    return out


_PROC = re.compile(r"^(?:&\S+\s+)*(Процедура|Функция)\s+(\w+)\(([^)]*)\)\s*(Экспорт)?", re.M)


def _procedures(path: Path) -> dict[str, tuple[int, bool]]:
    """name -> (number of parameters, exported)."""
    return {m.group(2): (len([p for p in m.group(3).split(",") if p.strip()]), bool(m.group(4)))
            for m in _PROC.finditer(_source(path))}


def _bodies(path: Path) -> dict[str, str]:
    text = _source(path)
    starts = list(_PROC.finditer(text))
    return {m.group(2): text[m.end():(starts[i + 1].start() if i + 1 < len(starts) else len(text))]
            for i, m in enumerate(starts)}


def _code(path: Path) -> str:
    """The module without comments and string literals (each becomes ""): what names metadata in code."""
    source = _source(path).encode("utf-8")
    cuts = []

    def walk(node):
        if node.type in ("string", "line_comment"):
            cuts.append((node.start_byte, node.end_byte, b'""' if node.type == "string" else b""))
            return
        for child in node.children:
            walk(child)
    walk(PARSER.parse(source).root_node)
    for start, end, replacement in reversed(cuts):
        source = source[:start] + replacement + source[end:]
    return source.decode("utf-8")


# --- parsing and well-formedness --------------------------------------------------------------------

def test_there_are_modules_to_check():
    names = {p.relative_to(EXTENSION).as_posix() for p in BSL_FILES}
    assert {"CommonModules/hrsync_ОбменСервер/Ext/Module.bsl", "CommonModules/hrsync_РегистрацияИзменений/Ext/Module.bsl",
            "CommonForms/hrsync_НастройкиОбмена/Ext/Form/Module.bsl",
            "CommonCommands/hrsync_НастройкиОбмена/Ext/CommandModule.bsl"} <= names


@pytest.mark.parametrize("path", BSL_FILES, ids=lambda p: p.relative_to(EXTENSION).as_posix())
def test_every_bsl_module_parses_without_an_error_node(path):
    source = _source(path).encode("utf-8")
    errors = _errors(PARSER.parse(source).root_node, [])
    where = [f"line {_line(source, e.start_byte)}: {e.type}" for e in errors]
    assert where == []


def test_the_parser_does_find_errors():
    """The check above can fail: a module with a broken statement has error nodes."""
    broken = "Процедура А()\n\tЕсли Б Тогда\n\tВ = ;\nКонецПроцедуры\n".encode("utf-8")
    assert _errors(PARSER.parse(broken).root_node, [])


def test_every_xml_file_is_well_formed():
    files = sorted(EXTENSION.rglob("*.xml"))
    assert len(files) > 30
    for path in files:
        ET.parse(path)


def test_the_dump_is_what_make_dump_writes():
    expected = make_dump.files()
    for relative, content in expected.items():
        assert (EXTENSION / relative).read_text(encoding="utf-8") == content, f"{relative}: run onec/tools/make_dump.py"
    written = {p.relative_to(EXTENSION).as_posix() for p in EXTENSION.rglob("*.xml")}
    assert written == set(expected), "files in onec/extension/ that make_dump.py does not write"
    check = subprocess.run([sys.executable, str(ONEC / "tools" / "make_dump.py"), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


# --- the extension's own consistency -------------------------------------------------------------------

def _configuration_children() -> list[tuple[str, str]]:
    root = ET.parse(EXTENSION / "Configuration.xml").getroot()
    children = root.find(f"{MD}Configuration/{MD}ChildObjects")
    return [(child.tag.removeprefix(MD), child.text) for child in children]


def test_every_listed_object_has_its_file_and_every_object_file_is_listed():
    listed = _configuration_children()
    files = {p.relative_to(EXTENSION).as_posix() for p in EXTENSION.glob("*/*.xml")}
    assert {f"{make_dump.FOLDER[kind]}/{name}.xml" for kind, name in listed} == files
    props = ET.parse(EXTENSION / "Configuration.xml").getroot().find(f"{MD}Configuration/{MD}Properties")
    assert props.find(f"{MD}ObjectBelonging").text == "Adopted"
    assert props.find(f"{MD}NamePrefix").text == "hrsync_"
    own = [name for kind, name in listed if kind not in ("Language", "Document", "Catalog")
           and name != make_dump.HEADS_REGISTER]
    assert all(name.startswith("hrsync_") for name in own)


def test_modules_forms_and_commands_have_their_code():
    for kind, name in _configuration_children():
        if kind == "CommonModule":
            assert (EXTENSION / "CommonModules" / name / "Ext" / "Module.bsl").exists()
        elif kind == "CommonForm":
            assert (EXTENSION / "CommonForms" / name / "Ext" / "Form.xml").exists()
            assert (EXTENSION / "CommonForms" / name / "Ext" / "Form" / "Module.bsl").exists()
        elif kind == "CommonCommand":
            assert (EXTENSION / "CommonCommands" / name / "Ext" / "CommandModule.bsl").exists()


def _module(name: str) -> Path:
    return EXTENSION / "CommonModules" / name / "Ext" / "Module.bsl"


# Parameters the platform passes to a subscription's handler, by event and source.
_HANDLER_PARAMETERS = {("Posting", "DocumentObject"): 3, ("UndoPosting", "DocumentObject"): 2,
                       ("BeforeWrite", "CatalogObject"): 2, ("OnWrite", "CatalogObject"): 2,
                       ("OnWrite", "InformationRegisterRecordSet"): 3}


def test_subscriptions_name_adopted_sources_and_exported_handlers():
    adopted = {(kind, name) for kind, name in _configuration_children() if kind in ("Document", "Catalog", "InformationRegister")}
    subscribed_documents = set()
    for path in sorted((EXTENSION / "EventSubscriptions").glob("*.xml")):
        props = ET.parse(path).getroot().find(f"{MD}EventSubscription/{MD}Properties")
        event = props.find(f"{MD}Event").text
        _, module, procedure = props.find(f"{MD}Handler").text.split(".")
        sources = [t.text.removeprefix("cfg:") for t in props.find(f"{MD}Source")]
        for source in sources:
            type_kind, name = source.split(".")
            kind = {"DocumentObject": "Document", "CatalogObject": "Catalog",
                    "InformationRegisterRecordSet": "InformationRegister"}[type_kind]
            assert (kind, name) in adopted, f"{path.name}: {source} is not adopted by the extension"
            if kind == "Document":
                subscribed_documents.add(name)
            parameters, exported = _procedures(_module(module))[procedure]
            assert exported and parameters == _HANDLER_PARAMETERS[(event, type_kind)], f"{path.name}: {procedure}"
    # The documents issue 14 lists, posting and unposting alike.
    assert subscribed_documents == set(make_dump.DOCUMENTS) == {
        "ПриемНаРаботу", "ПриемНаРаботуСписком", "КадровыйПеревод", "КадровыйПереводСписком", "Увольнение",
        "УвольнениеСписком", "Отпуск", "БольничныйЛист", "Командировка", "ОтпускБезСохраненияОплаты",
        "ОтпускПоУходуЗаРебенком"}


def test_adopted_objects_carry_the_configuration_dumps_uuids():
    for kind, name in _configuration_children():
        path = EXTENSION / make_dump.FOLDER[kind] / f"{name}.xml"
        props = next(iter(ET.parse(path).getroot())).find(f"{MD}Properties")
        belonging = props.find(f"{MD}ObjectBelonging")
        if belonging is None:
            assert name.startswith("hrsync_")
            continue
        assert belonging.text == "Adopted"
        assert props.find(f"{MD}ExtendedConfigurationObject").text == ZUP[f"{kind}.{name}"]["uuid"]


def test_the_job_the_form_and_the_command_call_what_exists():
    job = ET.parse(EXTENSION / "ScheduledJobs" / "hrsync_Обмен.xml").getroot().find(f"{MD}ScheduledJob/{MD}Properties")
    _, module, procedure = job.find(f"{MD}MethodName").text.split(".")
    assert _procedures(_module(module))[procedure] == (0, True)

    form = ET.parse(EXTENSION / "CommonForms" / "hrsync_НастройкиОбмена" / "Ext" / "Form.xml").getroot()
    lf = "{http://v8.1c.ru/8.3/xcf/logform}"
    form_code = _procedures(EXTENSION / "CommonForms" / "hrsync_НастройкиОбмена" / "Ext" / "Form" / "Module.bsl")
    for event in form.iter(f"{lf}Event"):
        assert event.text in form_code
    commands = {c.get("name"): c.find(f"{lf}Action").text for c in form.iter(f"{lf}Command")}
    assert all(action in form_code for action in commands.values())
    attributes = {a.get("name") for a in form.iter(f"{lf}Attribute")}
    assert {p.text for p in form.iter(f"{lf}DataPath")} <= attributes
    assert {b.text.removeprefix("Form.Command.") for b in form.iter(f"{lf}CommandName")} <= set(commands)
    form_source = _source(EXTENSION / "CommonForms" / "hrsync_НастройкиОбмена" / "Ext" / "Form" / "Module.bsl")
    used = set(re.findall(r"\b([А-ЯЁA-Z]\w+)\b", re.sub(r'"[^"\n]*"', "", form_source)))
    assert attributes - {"КлючЗадан"} <= used | {"Состояние"}

    command = _source(EXTENSION / "CommonCommands" / "hrsync_НастройкиОбмена" / "Ext" / "CommandModule.bsl")
    for form_name in re.findall(r'ОткрытьФорму\("ОбщаяФорма\.(\w+)"', command):
        assert (EXTENSION / "CommonForms" / f"{form_name}.xml").exists()

    rights = ET.parse(EXTENSION / "Roles" / "hrsync_НастройкаОбмена" / "Ext" / "Rights.xml").getroot()
    listed = {f"{kind}.{name}" for kind, name in _configuration_children()}
    for name in rights.iter("{http://v8.1c.ru/8.2/roles}name"):
        if "." in name.text:
            assert name.text in listed


def test_calls_between_modules_reach_exported_procedures():
    own_modules = {p.parent.parent.name: _procedures(p) for p in (EXTENSION / "CommonModules").glob("*/Ext/Module.bsl")}
    bsp = set(ZUP["CommonModule.ОбщегоНазначения"]["exports"])
    for path in BSL_FILES:
        code = _code(path)
        for module, procedure in re.findall(r"(?<![.\w])(hrsync_\w+)\.(\w+)\(", code):
            assert own_modules[module][procedure][1], f"{path.name}: {module}.{procedure} is not exported"
        for procedure in re.findall(r"\bОбщегоНазначения\.(\w+)\(", code):
            assert procedure in bsp, f"{path.name}: ОбщегоНазначения.{procedure} is not in ZUP's БСП"
        for literal in _strings(path):
            match = re.fullmatch(r"(hrsync_\w+)\.(\w+)", literal)
            if match:  # background jobs name their method in a string
                assert own_modules[match.group(1)][match.group(2)][1]
        own_procedures = _procedures(path)
        for called in set(re.findall(r"(?<![.\w])([А-ЯЁ]\w+)\(", re.sub(r"\bНовый\s+\w+\(", "(", code))):
            if called in own_procedures or called in _PLATFORM:
                continue
            pytest.fail(f"{path.relative_to(EXTENSION)}: {called}() is neither the module's nor the platform's")


# Global-context functions of the platform the modules call (a misspelt own procedure fails above).
_PLATFORM = {
    "НСтр", "СтрШаблон", "СокрЛП", "Лев", "Сред", "СтрДлина", "СтрНайти", "СтрЗаменить", "СтрРазделить", "СтрСоединить",
    "СтрНачинаетсяС", "СтрЗаканчиваетсяНа", "НРег", "Формат", "Строка", "Число", "Цел", "Макс", "ЗначениеЗаполнено",
    "ТекущаяДатаСеанса", "ТекущаяУниверсальнаяДатаВМиллисекундах", "НачалоДня", "КонецДня", "XMLСтрока", "XMLЗначение",
    "Тип", "ТипЗнч", "УстановитьПривилегированныйРежим", "НачатьТранзакцию", "ЗафиксироватьТранзакцию",
    "ОтменитьТранзакцию", "ИнформацияОбОшибке", "ОписаниеОшибки", "ЗаписьЖурналаРегистрации", "ЗаписатьJSON",
    "ПрочитатьJSON", "КодироватьСтроку", "ЗаполнитьЗначенияСвойств", "ПоказатьПредупреждение",
    "ПоказатьОповещениеПользователя", "ОткрытьФорму",
}


# --- names of ZUP's metadata ----------------------------------------------------------------------

_MANAGERS = {"Справочники": "Catalog", "Документы": "Document", "РегистрыСведений": "InformationRegister",
             "Перечисления": "Enum", "Константы": "Constant"}
_QUERY_KINDS = {"Справочник": "Catalog", "Документ": "Document", "РегистрСведений": "InformationRegister"}
_STANDARD_FIELDS = {
    "Catalog": {"Ссылка", "Код", "Наименование", "ПометкаУдаления", "Родитель", "Владелец", "ЭтоГруппа", "Предопределенный"},
    "Document": {"Ссылка", "Номер", "Дата", "Проведен", "ПометкаУдаления"},
    "InformationRegister": {"Период", "Регистратор", "НомерСтроки", "Активность"},
    "TabularSection": {"Ссылка", "НомерСтроки"},
}


def _own_objects() -> dict[str, dict]:
    own: dict[str, dict] = {f"Constant.{c.name}": {} for c in make_dump.CONSTANTS}
    for reg in make_dump.REGISTERS:
        own[f"InformationRegister.{reg.name}"] = {"dimensions": [f.name for f in reg.dimensions],
                                                  "resources": [f.name for f in reg.resources],
                                                  "periodicity": "Nonperiodical"}
    return own


def _object(kind: str, name: str) -> dict:
    full = f"{kind}.{name}"
    found = ZUP.get(full) or _own_objects().get(full)
    assert found is not None, f"{full} is neither in ZUP 3.1's metadata (onec/metadata/zup31-objects.json) nor the extension's"
    return found


def _fields(kind: str, entry: dict, section: str | None) -> set[str]:
    if section:
        return _STANDARD_FIELDS["TabularSection"] | set(entry["tabular_sections"][section])
    return _STANDARD_FIELDS[kind] | set(entry.get("attributes", [])) | set(entry.get("dimensions", [])) | set(entry.get("resources", []))


_SOURCE = re.compile(r"\b(Справочник|Документ|РегистрСведений)\.(\w+)(?:\.(\w+))?(?:\([^()]*\))?\s+КАК\s+(\w+)")


def _query_names(text: str) -> list[str]:
    """Every metadata name a query text uses that is not in ZUP's (or the extension's) metadata."""
    wrong = []
    aliases: dict[str, set[str]] = {}
    for kind_ru, name, third, alias in _SOURCE.findall(text):
        kind = _QUERY_KINDS[kind_ru]
        entry = _object(kind, name)
        section = None
        if third and kind == "InformationRegister":
            if third not in ("СрезПоследних", "СрезПервых") or entry["periodicity"] == "Nonperiodical":
                wrong.append(f"{name}.{third}: not a virtual table of this register")
        elif third:
            if third not in entry.get("tabular_sections", {}):
                wrong.append(f"{name}.{third}: no such tabular section")
                continue
            section = third
        aliases[alias] = _fields(kind, entry, section)
    for alias, field in re.findall(r"\b(\w+)\.(\w+)", text):
        if alias in aliases and field not in aliases[alias]:
            wrong.append(f"{alias}.{field}")
    for enum, value in re.findall(r"ЗНАЧЕНИЕ\(Перечисление\.(\w+)\.(\w+)\)", text):
        if value not in _object("Enum", enum)["values"]:
            wrong.append(f"Перечисление.{enum}.{value}")
    return wrong


def test_the_query_check_finds_a_wrong_name():
    assert _query_names("ВЫБРАТЬ Т.НетТакого ИЗ РегистрСведений.ТекущиеКадровыеДанныеСотрудников КАК Т") == ["Т.НетТакого"]
    assert _query_names("ВЫБРАТЬ Т.Тип ИЗ Справочник.ФизическиеЛица.КонтактнаяИнформация КАК Т ГДЕ Т.Тип = "
                        "ЗНАЧЕНИЕ(Перечисление.ТипыКонтактнойИнформации.Голубь)") == ["Перечисление.ТипыКонтактнойИнформации.Голубь"]
    with pytest.raises(AssertionError):
        _query_names("ВЫБРАТЬ 1 ИЗ РегистрСведений.РуководителиПодразделений КАК Р")


def test_every_zup_name_the_code_uses_exists_in_zup_31():
    queries = 0
    for path in BSL_FILES:
        for literal in _strings(path):
            if "ВЫБРАТЬ" in literal:
                queries += 1
                assert _query_names(literal) == [], f"{path.name}: {literal[:200]}"
        code = _code(path)
        for manager, name, member in re.findall(r"(?<![.\w])(Справочники|Документы|РегистрыСведений|Перечисления|Константы)\.(\w+)(?:\.(\w+))?", code):
            entry = _object(_MANAGERS[manager], name)
            if manager == "Перечисления":
                assert member in entry["values"], f"Перечисления.{name}.{member}"
        for job in re.findall(r"Метаданные\.РегламентныеЗадания\.(\w+)", code):
            assert job == make_dump.JOB
    assert queries >= 12


def test_the_documents_the_way_back_fills_have_those_attributes_in_zup():
    """The extension fills documents by the names the app sends (document_for); they exist in the dump."""
    connection = PayrollConnection(edition=ZupEdition.STANDARD)
    guid = "00000000-0000-4000-8000-000000000001"
    items = [OutboxItem(kind=OutboxKind.VACATION, person_guid=guid,
                        payload={"employment_guid": guid, "organisation_guid": guid, "kind": kind,
                                 "start": "2027-06-01", "end": "2027-06-14", "comment": ""})
             for kind in ("ОтпускОсновной", "ДополнительныйОтпуск", "ОтпускБезСохраненияОплаты")]
    items.append(OutboxItem(kind=OutboxKind.OVERTIME, person_guid=guid,
                            payload={"employment_guid": guid, "organisation_guid": guid, "date": "2026-10-05", "hours": 2.5}))
    documents = [document_for(item, connection, {"ДополнительныйОтпуск": guid, "ОтпускБезСохраненияОплаты": guid})
                 for item in items]
    documents.append(document_for(items[0], PayrollConnection(edition=ZupEdition.CORP_KZ), {}))
    for entity, fields in documents:
        entry = ZUP[f"Document.{entity.removeprefix('Document_')}"]
        for name, value in fields.items():
            if name == "Date":
                continue
            if isinstance(value, list):
                columns = set(entry["tabular_sections"][name])
                assert {c.removesuffix("_Key") for row in value for c in row if c != "LineNumber"} <= columns, name
            else:
                assert name.removesuffix("_Key") in entry["attributes"], f"{entity}.{name}"


# --- the JSON the extension writes and reads ----------------------------------------------------------

SCHEMA = package_json_schema()
_RECORD_BUILDERS = {"ЗаписьОрганизации": "OrganisationIn", "ЗаписьДолжности": "PositionIn",
                    "ЗаписьПодразделения": "DepartmentIn", "ЗаписьФизическогоЛица": "PersonIn",
                    "ЗаписьСотрудника": "EmploymentIn", "ЗаписьРуководителя": "HeadIn", "ЗаписьОтсутствия": "AbsenceIn"}
# Fields of the schema the extension leaves out on purpose: HeadIn.employment_guid is the first version's way.
_NOT_SENT = {"HeadIn": {"employment_guid"}}


def _keys(body: str, variable: str) -> list[str]:
    """The keys a function inserts into `variable`, in order, once each (a key set in two branches counts once)."""
    return list(dict.fromkeys(re.findall(rf"\b{variable}\.Вставить\(\"(\w+)\"", body)))


def _definition(name: str) -> tuple[list[str], set[str]]:
    definition = SCHEMA["$defs"][name] if name != "Package" else SCHEMA
    return list(definition["properties"]), set(definition.get("required", []))


def _record_keys() -> dict[str, list[str]]:
    bodies = _bodies(EXCHANGE)
    return {schema_name: _keys(bodies[builder], "Запись") for builder, schema_name in _RECORD_BUILDERS.items()}


def test_every_record_the_extension_writes_has_the_schemas_fields():
    for schema_name, keys in _record_keys().items():
        properties, required = _definition(schema_name)
        assert set(keys) == set(properties) - _NOT_SENT.get(schema_name, set()), schema_name
        assert required <= set(keys), schema_name


def _changes_written() -> list[tuple[str, set[str]]]:
    """(op, fields) of every change the module builds: Изменение(op, field, …) then Изменение.Вставить(…)."""
    literal = _source(EXCHANGE)
    # the ops are string literals, so they are read from the source; commented-out lines are skipped
    pattern = re.compile(r'Изменение\((?:\?\([^,]+,\s*"(\w+)",\s*"(\w+)"\)|"(\w+)"),\s*"(\w+)"|Изменение\.Вставить\("(\w+)"')
    changes: list[tuple[list[str], set[str]]] = []
    for match in pattern.finditer(literal):
        if re.match(r"\s*//", literal[literal.rfind("\n", 0, match.start()) + 1:match.start()]):
            continue
        if match.group(5):
            changes[-1][1].add(match.group(5))
            continue
        ops = [o for o in (match.group(1), match.group(2), match.group(3)) if o]
        changes.append((ops, {"op", match.group(4)}))
    return [(op, fields) for ops, fields in changes for op in ops]


def test_every_change_the_extension_writes_is_a_change_of_the_schema():
    mapping = SCHEMA["properties"]["changes"]["anyOf"][0]["items"]["discriminator"]["mapping"]
    written = _changes_written()
    assert {op for op, _ in written} == set(mapping), "every kind of change the app takes is sent"
    for op, fields in written:
        properties, required = _definition(mapping[op].rsplit("/", 1)[1])
        assert fields <= set(properties), f"{op}: {fields - set(properties)}"
        assert required <= fields, op


def test_packages_and_snapshot_bodies_have_the_schemas_fields():
    bodies = _bodies(EXCHANGE)
    properties, required = _definition("Package")
    package = _keys(bodies["ДобавитьПакет"], "Пакет")
    assert set(package) <= set(properties) and required <= set(package)
    snapshot, _ = _definition("SnapshotBody")
    sections = _keys(bodies["ДанныеСнимка"], "Данные")
    assert set(sections) == set(snapshot) - {"snapshot_id", "part", "parts"}
    assert set(_keys(bodies["СформироватьСнимок"], "Тело")) == {"snapshot_id", "part", "parts"}


# --- golden packages ----------------------------------------------------------------------------------

def _golden(name: str) -> dict:
    return json.loads((ONEC / "golden" / name).read_text(encoding="utf-8"))


def test_golden_packages_validate_against_the_published_schema(client):
    published = client.get("/payroll/api/v1/schema.json").json()
    validator = jsonschema_rs.validator_for(published)
    assert len(GOLDEN) == 4
    for path in GOLDEN:
        package = json.loads(path.read_text(encoding="utf-8"))
        errors = [e.message for e in validator.iter_errors(package)]
        assert errors == [], path.name
    broken = _golden("03-changes.json")
    broken["changes"][3]["employment"].pop("hire_date")
    assert not validator.is_valid(broken)  # the validation can fail


def test_golden_records_have_the_bsl_fields_in_the_bsl_order():
    """The golden packages are what the BSL builds: the same fields, in the order the BSL inserts them."""
    order = _record_keys()
    bodies = _bodies(EXCHANGE)
    package_order = _keys(bodies["ДобавитьПакет"], "Пакет")
    sections = {"organisations": "OrganisationIn", "departments": "DepartmentIn", "positions": "PositionIn",
                "persons": "PersonIn", "employments": "EmploymentIn", "heads": "HeadIn", "absences": "AbsenceIn"}
    fields_of = {"person": "PersonIn", "employment": "EmploymentIn", "department": "DepartmentIn", "absence": "AbsenceIn"}
    for path in GOLDEN:
        package = json.loads(path.read_text(encoding="utf-8"))
        kind = package["kind"]
        assert list(package) == [k for k in package_order if k in package]
        assert list(package)[-1] == kind
        if kind == "snapshot":
            body = package["snapshot"]
            assert list(body) == ["snapshot_id", "part", "parts", *_keys(bodies["ДанныеСнимка"], "Данные")]
            for section, rows in body.items():
                for row in rows if isinstance(rows, list) else []:
                    assert list(row) == order[sections[section]], f"{path.name} {section}"
            continue
        for change in package["changes"]:
            for key, value in change.items():
                if key in fields_of:
                    assert list(value) == order[fields_of[key]], f"{path.name} {change['op']}.{key}"


@pytest.fixture
def pushed_golden(installed, eager_celery, live_server):
    sandbox, portal = installed
    connection, key = connect_push(portal)
    answers = [post_package(live_server.url, key, json.loads(path.read_text(encoding="utf-8"))) for path in GOLDEN]
    return sandbox, portal, connection, key, answers


def _status(live_server, key: str, package_id: str) -> dict:
    return requests.get(f"{live_server.url}/payroll/api/v1/packages/{package_id}",
                        headers={"Authorization": f"Bearer {key}"}, timeout=10).json()


def test_golden_packages_are_accepted_end_to_end(pushed_golden, live_server):
    sandbox, portal, connection, key, answers = pushed_golden
    assert [a.status_code for a in answers] == [202, 202, 202, 202]
    for path in GOLDEN:
        status = _status(live_server, key, json.loads(path.read_text(encoding="utf-8"))["package_id"])
        assert status["status"] == "processed", (path.name, status)
    changes = _status(live_server, key, _golden("03-changes.json")["package_id"])["results"]["changes"]
    assert [c["status"] for c in changes] == ["applied"] * 9, changes

    snapshot = read_snapshot(connection, today=date(2026, 12, 6))
    persons = {p.last_name: p for p in snapshot.persons}
    assert set(persons) == {"Иванов", "Петрова", "Сидоров", "Кузнецова", "Смирнов"}
    assert persons["Кузнецова"].email == "kuznetsova@romashka.example"  # person_changed
    assert [e.department_guid for e in persons["Кузнецова"].employments] == ["0d000000-0000-4000-8000-000000000004"]
    assert persons["Сидоров"].employments[0].termination_date is None  # dismissed, then the dismissal was cancelled
    assert len(persons["Петрова"].employments) == 2  # main job and part-time
    departments = {d.guid: d for d in snapshot.departments}
    assert departments["0d000000-0000-4000-8000-000000000003"].name == "Склад готовой продукции"
    assert departments["0d000000-0000-4000-8000-000000000004"].parent_guid == "0d000000-0000-4000-8000-000000000001"
    heads = {h.department_guid: h.person_guid for h in snapshot.heads}
    assert heads == {"0d000000-0000-4000-8000-000000000001": "0f000000-0000-4000-8000-000000000001",
                     "0d000000-0000-4000-8000-000000000004": "0f000000-0000-4000-8000-000000000005"}
    absences = {(a.document_guid, a.kind): a for a in snapshot.absences}
    assert absences[("0c000000-0000-4000-8000-000000000001", "ОтпускОсновной")].reversed  # its posting was undone
    assert not absences[("0c000000-0000-4000-8000-000000000003", "Командировка")].reversed

    # A resend (the same package_id, the same body: what the extension does after a lost answer) is harmless.
    again = post_package(live_server.url, key, _golden("03-changes.json"))
    assert (again.status_code, again.json()["duplicate"]) == (200, True)


def test_the_way_back_is_acknowledged_as_the_extension_does(pushed_golden, live_server):
    """The outbox items carry what the extension reads; its acknowledgement (number and ref, or a refusal) is taken."""
    sandbox, portal, connection, key, _ = pushed_golden
    guid = "0e000000-0000-4000-8000-000000000001"
    items = [OutboxItem.objects.create(portal=portal, kind=OutboxKind.VACATION, key=f"golden-{n}",
                                       person_guid="0f000000-0000-4000-8000-000000000001",
                                       payload={"employment_guid": guid, "organisation_guid": "0a000000-0000-4000-8000-000000000001",
                                                "kind": "ОтпускОсновной", "start": "2027-06-01", "end": "2027-06-14",
                                                "comment": "Согласовано"}) for n in (9001, 9002)]
    headers = {"Authorization": f"Bearer {key}"}
    collected = requests.get(f"{live_server.url}/payroll/api/v1/outbox", headers=headers, timeout=10).json()
    status = _status(live_server, key, _golden("03-changes.json")["package_id"])

    # Every field the BSL reads from the app's answers is one the app sends.
    sent: set[str] = set()

    def keys_of(value):
        if isinstance(value, dict):
            sent.update(value)
            for inner in value.values():
                keys_of(inner)
        elif isinstance(value, list):
            for inner in value:
                keys_of(inner)
    keys_of(collected)
    keys_of(status)
    # The snapshot's results name its problems (Кузнецова has no e-mail in it): each with the fields the BSL logs.
    snapshot_status = _status(live_server, key, _golden("02-snapshot-part2.json")["package_id"])
    assert snapshot_status["results"]["problems"], snapshot_status
    keys_of(snapshot_status)
    read = set(re.findall(r'\["(\w+)"\]', _source(EXCHANGE)))
    assert read <= sent, read - sent

    by_id = {i["id"]: i for i in collected["items"]}
    first, second = by_id[items[0].pk], by_id[items[1].pk]
    assert first["document"]["fields"]["Комментарий"].startswith(first["marker"] + ".")  # what ДокументПоМетке looks for
    bodies = _bodies(EXCHANGE)
    ack_keys = set(_keys(bodies["ОбработатьЗаявку"], "Тело"))
    refusal_keys = set(_keys(bodies["Отказать"], "Тело"))
    assert ack_keys == {"document_number", "document_ref"} and refusal_keys == {"refused"}
    # The body as the extension sends it: UTF-8 JSON, charset named in the Content-Type.
    ok = requests.post(f"{live_server.url}/payroll/api/v1/outbox/{first['id']}/ack", timeout=10,
                       data=json.dumps({"document_number": "ЗУП-000123", "document_ref": "5e000000-0000-4000-8000-000000000001"},
                                       ensure_ascii=False).encode("utf-8"),
                       headers={**headers, "Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200 and ok.json()["status"] == OutboxStatus.DELIVERED
    refused = requests.post(f"{live_server.url}/payroll/api/v1/outbox/{second['id']}/ack", timeout=10,
                            json={"refused": "В этой базе ЗУП нет документа Document_ЗаявкаНаОтпуск"}, headers=headers)
    assert refused.status_code == 200 and refused.json()["status"] == OutboxStatus.REFUSED
    assert requests.get(f"{live_server.url}/payroll/api/v1/outbox", headers=headers, timeout=10).json()["items"] == []
