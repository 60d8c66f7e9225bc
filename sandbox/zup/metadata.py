"""What the sandbox ZUP knows of ZUP 3.1's metadata: its entity sets, their properties, per edition.

Source: `zup31-hr-entities.json`, a copy of the team's reference (`../shared/reference/zup/`, its README says
how it was made): derived by a script from the configuration dump `yevgeniy1212/zup-korp` (КОРП for
Kazakhstan 3.1.2.21), cross-checked against a Russian БЗК dump. The Russian КОРП 3.1.38 differences and the
registers the reference left out are below, each with the dump file it comes from
(`scriperirkth/zup-structure`). The OData names follow the rules the reference cites: a reference `X` is the
property `X_Key` (Edm.Guid), an enum is a string, a composite type is `X` plus `X_Type`.

From this table the sandbox builds its `$metadata` (EDMX), refuses a document with a property the
document does not have, and refuses a `$select` of a property the entity set does not have.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

EDITION_RU = "ru-3.1.38"  # ЗУП КОРП 3.1.38 (scriperirkth/zup-structure)
EDITION_KZ = "kz-3.1.2"  # ЗУП КОРП для Казахстана 3.1.2 (yevgeniy1212/zup-korp)
EDITIONS = (EDITION_RU, EDITION_KZ)

_FIELD = re.compile(r"^(?P<names>[^(]+?)\s*(?:\(check \$metadata[^)]*\)\s*)?\((?P<role>Att|Dim|Res): (?P<type>[^)]*)\)")

# Standard properties by kind of object (kb.1ci.com, Developer Guide 17.4.13; the reference README).
_STANDARD = {
    "Catalog": {"Ref_Key": "Edm.Guid", "DataVersion": "Edm.String", "DeletionMark": "Edm.Boolean",
                "Code": "Edm.String", "Description": "Edm.String", "Predefined": "Edm.Boolean"},
    "Document": {"Ref_Key": "Edm.Guid", "DataVersion": "Edm.String", "DeletionMark": "Edm.Boolean",
                 "Number": "Edm.String", "Date": "Edm.DateTime", "Posted": "Edm.Boolean"},
    "InformationRegister": {},
}
_HIERARCHICAL = {"Parent_Key": "Edm.Guid", "IsFolder": "Edm.Boolean"}
_SUBORDINATE = {"Owner_Key": "Edm.Guid"}
_RECORDER = {"Recorder": "Edm.String", "Recorder_Type": "Edm.String", "LineNumber": "Edm.Int64", "Active": "Edm.Boolean"}
_PERIODIC = {"Period": "Edm.DateTime"}

# Tabular-section columns the reference lists by name only; these are references (so `…_Key`), by the
# types in the same dumps' Documents/*.xml and Catalogs/*.xml; the other columns are typed as strings [Z-column-types].
_REFERENCE_COLUMNS = frozenset({"ВидОтпуска", "ВидРасчета", "ВидРасчетаКомпенсации", "ВидВремени", "Сотрудник",
                                "СтатьяФинансирования", "СтатьяРасходов", "СпособОтраженияЗарплатыВБухучете", "Вид"})

# What RU КОРП 3.1.38 has beyond the KZ reference, or the reference left out (added by hand, with the file).
_RU_ONLY = {
    # Documents/ЗаявкаНаОтпуск.xml: the attribute Сотрудник (Cat.Сотрудники); issue 9 and the reference README.
    "Document_ЗаявкаНаОтпуск": {"Сотрудник_Key": "Edm.Guid"},
}
_EXTRA_ENTITIES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    # InformationRegisters/ПодразделенияОрганизацииРуководители.xml (both dumps): periodic by day, independent;
    # dimension Подразделение (Cat.ПодразделенияОрганизаций), resource Руководитель (Cat.ФизическиеЛица).
    "InformationRegister_ПодразделенияОрганизацииРуководители": ({
        **_PERIODIC, "Active": "Edm.Boolean", "Подразделение_Key": "Edm.Guid", "Руководитель_Key": "Edm.Guid"},
        ("Period", "Подразделение_Key")),
    # InformationRegisters/ПозицииРуководителейПодразделений.xml (scriperirkth/zup-structure): periodic,
    # dimension Подразделение (Cat.СтруктураПредприятия), resource ПозицияШтатногоРасписания (Cat.ШтатноеРасписание).
    "InformationRegister_ПозицииРуководителейПодразделений": ({
        **_PERIODIC, "Active": "Edm.Boolean", "Подразделение_Key": "Edm.Guid", "ПозицияШтатногоРасписания_Key": "Edm.Guid"},
        ("Period", "Подразделение_Key")),
}


@dataclass(frozen=True)
class EntityType:
    name: str
    properties: dict[str, str]  # OData name -> Edm type
    tabular: dict[str, dict[str, str]] = field(default_factory=dict)  # section -> column -> Edm type
    keys: tuple[str, ...] = ("Ref_Key",)

    def problems(self, body: dict) -> list[str]:
        """What 1C would refuse in a document body: a property the document does not have, or a value
        that is not of the property's type (an empty string for a reference is not a GUID), tabular rows included."""
        wrong = []
        for name, value in body.items():
            if name.startswith("odata."):
                continue
            if name in self.properties:
                wrong += _type_problem(name, self.properties[name], value)
            elif name in self.tabular and isinstance(value, list):
                allowed = self.tabular[name]
                for row in value:
                    for column, cell in (row.items() if isinstance(row, dict) else ()):
                        wrong += ([f"{name}/{column}: нет такой колонки"] if column not in allowed
                                  else _type_problem(f"{name}/{column}", allowed[column], cell))
            else:
                wrong.append(f"{name}: нет такого свойства")
        return sorted(set(wrong))

    def has_path(self, path: str) -> bool:
        """A `$select` item: a property, a tabular section, or `Section/Column` (1C allows those)."""
        head, _, column = path.partition("/")
        if not column:
            return head in self.properties or head in self.tabular
        return head in self.tabular and column in self.tabular[head]


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def _type_problem(name: str, edm: str, value) -> list[str]:
    """OData v3 JSON: Edm.Guid and Edm.DateTime as strings of their own form, booleans and numbers as such."""
    if value is None:
        return []
    ok = {"Edm.Guid": lambda v: isinstance(v, str) and bool(_GUID.match(v)),
          "Edm.DateTime": lambda v: isinstance(v, str) and bool(_DATETIME.match(v)),
          "Edm.Boolean": lambda v: isinstance(v, bool),
          "Edm.Double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          "Edm.Int64": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v.isdigit())}
    check = ok.get(edm)
    return [] if check is None or check(value) else [f"{name}: значение {value!r} не {edm}"]


def _edm(type_text: str) -> str:
    kind = type_text.split(".")[0].split(",")[0].strip()
    return {"Cat": "Edm.Guid", "Doc": "Edm.Guid", "ChartOfCalculationTypesRef": "Edm.Guid", "dateTime": "Edm.DateTime",
            "boolean": "Edm.Boolean", "decimal": "Edm.Double"}.get(kind, "Edm.String")  # [Z-edm-types]


def _properties(entry: dict) -> tuple[dict[str, str], list[str]]:
    """The properties, and the register's dimensions (its key, with Period when periodic)."""
    out: dict[str, str] = {}
    dimensions: list[str] = []
    for text in entry.get("fields", []):
        match = _FIELD.match(text)
        if match is None:
            continue
        names = [n.strip() for n in match.group("names").split("|")]
        if len(names) == 2:  # composite: the value and its type, both strings
            out[names[0]], out[names[1]] = "Edm.String", "Edm.String"
        else:
            out[names[0]] = _edm(match.group("type"))
        if match.group("role") == "Dim":
            dimensions += names
    return out, dimensions


def _columns(names: list[str]) -> dict[str, str]:
    columns = {"LineNumber": "Edm.Int64"}
    for name in names:
        if name.startswith("..."):
            continue
        columns[f"{name}_Key" if name in _REFERENCE_COLUMNS else name] = "Edm.Guid" if name in _REFERENCE_COLUMNS else "Edm.String"
    return columns


@cache
def _reference() -> dict:
    return json.loads((Path(__file__).with_name("zup31-hr-entities.json")).read_text(encoding="utf-8"))


@cache
def entity_types(edition: str = EDITION_RU) -> dict[str, EntityType]:
    """Every entity set the sandbox publishes a type for, by its OData name."""
    types: dict[str, EntityType] = {}
    for name, entry in _reference().items():
        if name.startswith("_"):
            continue
        kind = name.split("_", 1)[0]
        props = dict(_STANDARD.get(kind, {}))
        if entry.get("Hierarchical") == "true":
            props.update(_HIERARCHICAL)
        if entry.get("Owners"):
            props.update(_SUBORDINATE)
        own, dimensions = _properties(entry)
        props.update(own)
        if edition == EDITION_RU:
            props.update(_RU_ONLY.get(name, {}))
        tabular = {section: _columns(columns) for section, columns in entry.get("tabular_sections", {}).items()}
        if kind == "InformationRegister":
            if entry.get("InformationRegisterPeriodicity", "Nonperiodical") != "Nonperiodical":
                props.update(_PERIODIC)
            flat = entry.get("flat_entity_set")
            if flat:  # recorder-subordinate: flat records in …_RecordType (kb.1ci.com 17.4.13)
                types[flat] = EntityType(flat, {**_RECORDER, **props}, keys=("Recorder", "LineNumber"))
                continue
            periodic = ("Period",) if "Period" in props else ()
            types[name] = EntityType(name, props, keys=periodic + tuple(dimensions))  # kb.1ci.com 17.4.13
            continue
        types[name] = EntityType(name, props, tabular)
    for name, (props, keys) in _EXTRA_ENTITIES.items():  # key: the period and the dimensions
        types[name] = EntityType(name, dict(props), keys=keys)
    return types


def edmx(names: list[str], edition: str = EDITION_RU) -> str:
    """`$metadata` as 1C publishes it: EDMX 1.0, one schema `StandardODATA`, one entity type per set."""
    types = entity_types(edition)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">',
           '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
           'm:DataServiceVersion="3.0">',
           '<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="StandardODATA">']
    for name in names:
        entity = types.get(name)
        if entity is None:
            continue
        out.append(f'<EntityType Name="{name}"><Key>'
                   + "".join(f'<PropertyRef Name="{k}"/>' for k in entity.keys) + "</Key>")
        out += [f'<Property Name="{p}" Type="{t}" Nullable="true"/>' for p, t in entity.properties.items()]
        out += [f'<Property Name="{section}" Type="Collection(StandardODATA.{name}_{section}_RowType)" Nullable="true"/>'
                for section in entity.tabular]
        out.append("</EntityType>")
        for section, columns in entity.tabular.items():
            out.append(f'<ComplexType Name="{name}_{section}_RowType">'
                       + "".join(f'<Property Name="{c}" Type="{t}" Nullable="true"/>' for c, t in columns.items())
                       + "</ComplexType>")
    out.append('<EntityContainer Name="StandardODATA" m:IsDefaultEntityContainer="true">')
    out += [f'<EntitySet Name="{n}" EntityType="StandardODATA.{n}"/>' for n in names if n in types]
    out += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "".join(out)
