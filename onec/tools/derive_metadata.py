"""Derive `onec/metadata/zup31-objects.json` from a ZUP 3.1 configuration dump (Designer XML files).

The extension's BSL names ZUP's objects, their attributes, dimensions, resources, tabular sections and
enumeration values; tests/test_onec_extension.py checks every such name against this file. The file is
derived, not written by hand: run this against a clone of a public dump (the one used here is
`yevgeniy1212/zup-korp`, ЗУП КОРП для Казахстана 3.1.2.21) and commit what it prints:

    python onec/tools/derive_metadata.py /path/to/zup-korp > onec/metadata/zup31-objects.json

The object list below is what the extension uses; a test fails when the code names an object that is
not in the file, so adding one here is the way to let the code use it.
"""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

SOURCE = "yevgeniy1212/zup-korp (ЗУП КОРП для Казахстана 3.1.2.21), Designer XML dump"

OBJECTS = [
    "Language.Русский",
    "Catalog.Организации", "Catalog.ПодразделенияОрганизаций", "Catalog.Должности", "Catalog.Сотрудники",
    "Catalog.ФизическиеЛица", "Catalog.ВидыОтпусков",
    "Document.ПриемНаРаботу", "Document.ПриемНаРаботуСписком", "Document.КадровыйПеревод",
    "Document.КадровыйПереводСписком", "Document.Увольнение", "Document.УвольнениеСписком", "Document.Отпуск",
    "Document.БольничныйЛист", "Document.Командировка", "Document.ОтпускБезСохраненияОплаты",
    "Document.ОтпускПоУходуЗаРебенком", "Document.ЗаявкаНаОтпуск", "Document.РаботаСверхурочно",
    "InformationRegister.ТекущиеКадровыеДанныеСотрудников", "InformationRegister.ДанныеСостоянийСотрудников",
    "InformationRegister.КадроваяИсторияСотрудников", "InformationRegister.ПодразделенияОрганизацииРуководители",
    "Enum.ВидыЗанятости", "Enum.ПолФизическогоЛица", "Enum.ТипыКонтактнойИнформации", "Enum.СостоянияСотрудника",
    "CommonModule.ОбщегоНазначения",
]
FOLDERS = {"Language": "Languages", "Catalog": "Catalogs", "Document": "Documents", "Enum": "Enums",
           "InformationRegister": "InformationRegisters", "CommonModule": "CommonModules"}
MD = "{http://v8.1c.ru/8.3/MDClasses}"


def _show(repo: Path, path: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"], check=True, capture_output=True).stdout.decode("utf-8-sig")


def _names(parent, tag: str) -> list[str]:
    children = parent.find(f"{MD}ChildObjects")
    if children is None:
        return []
    return [item.find(f"{MD}Properties/{MD}Name").text for item in children.findall(f"{MD}{tag}")]


def describe(repo: Path, full_name: str) -> dict:
    kind, name = full_name.split(".")
    path = f"{FOLDERS[kind]}/{name}.xml"
    root = ET.fromstring(_show(repo, path))
    element = next(iter(root))
    entry: dict = {"uuid": element.get("uuid"), "file": path}
    if kind in ("Catalog", "Document"):
        entry["attributes"] = _names(element, "Attribute")
        children = element.find(f"{MD}ChildObjects")
        entry["tabular_sections"] = {
            section.find(f"{MD}Properties/{MD}Name").text: _names(section, "Attribute")
            for section in (children.findall(f"{MD}TabularSection") if children is not None else [])}
    elif kind == "InformationRegister":
        props = element.find(f"{MD}Properties")
        entry.update(periodicity=props.find(f"{MD}InformationRegisterPeriodicity").text,
                     write_mode=props.find(f"{MD}WriteMode").text,
                     dimensions=_names(element, "Dimension"), resources=_names(element, "Resource"),
                     attributes=_names(element, "Attribute"))
    elif kind == "Enum":
        entry["values"] = _names(element, "EnumValue")
    elif kind == "CommonModule":
        module = _show(repo, f"CommonModules/{name}/Ext/Module.bsl")
        entry["exports"] = sorted({line.split("(")[0].split()[-1] for line in module.splitlines()
                                   if line.startswith(("Функция ", "Процедура ")) and line.rstrip().endswith("Экспорт")})
    return entry


def main() -> None:
    repo = Path(sys.argv[1])
    out = {"_source": SOURCE, "_how": "onec/tools/derive_metadata.py", "objects": {n: describe(repo, n) for n in OBJECTS}}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
