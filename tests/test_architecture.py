"""The shape of the house: layers that import one way, a core that imports alone, one home per vocabulary."""
import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

from hrsync.sync.operations import Reason
from hrsync.texts import REASON_MSGIDS

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("hrsync", "bitrix_app", "payroll_connector")


def _python_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py")) if "migrations" not in path.parts]


def test_the_import_contracts_hold():
    """.importlinter: entry points -> orchestration -> adapters -> shared kernel -> core, and the two adapters apart."""
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "6 kept" in result.stdout


def test_the_core_imports_in_a_bare_interpreter():
    """No site-packages at all (-S -I): Django, Celery and requests cannot even be found."""
    code = ("import sys; sys.path.insert(0, %r); import hrsync.sync, hrsync.sync.plan, hrsync.sync.assemble, "
            "hrsync.sync.operations; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('django', 'celery', 'requests', 'pydantic')))" % str(ROOT))
    result = subprocess.run([sys.executable, "-S", "-I", "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_import_hides_inside_a_function():
    """The import graph is what the top of each module says; Django's AppConfig.ready() is the one exception."""
    hidden = []
    for path in _python_files(*PRODUCT):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name != "ready":
                hidden += [f"{path.relative_to(ROOT)}:{inner.lineno}" for inner in ast.walk(node)
                           if isinstance(inner, (ast.Import, ast.ImportFrom))]
    assert hidden == []


# Bitrix24's wire vocabulary: REST method names and the field names of users and departments.
_BITRIX_METHOD = re.compile(r"^(user|department|calendar|bizproc|im|timeman|lists|event|app|batch)\.[a-z.]+$")
_BITRIX_FIELD = re.compile(r"^(UF_[A-Z_]+|XML_ID|WORK_POSITION|PERSONAL_[A-Z_]+|SECOND_NAME|LAST_NAME|ACTIVE|PARENT)$")


def _string_literals(path: Path) -> list[tuple[int, str]]:
    found = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if token.type == tokenize.STRING:
            try:
                value = ast.literal_eval(token.string)
            except (ValueError, SyntaxError):  # an f-string: its literal parts are enough here
                value = token.string
            if isinstance(value, str):
                found.append((token.start[0], value))
    return found


def test_orchestration_and_core_never_spell_a_bitrix24_method_or_field():
    """Those live in bitrix_app (its client and gateway): the sync speaks the core's terms."""
    orchestration = [p for p in _python_files("hrsync") if p.name not in ("settings.py",)]
    spelled = [f"{path.relative_to(ROOT)}:{line}: {value}" for path in orchestration
               for line, value in _string_literals(path)
               if _BITRIX_METHOD.match(value) or _BITRIX_FIELD.match(value)]
    assert spelled == []


def test_zup_names_stay_in_the_zup_adapter():
    """Entity sets and register names of 1C:ZUP are spelled in payroll_connector only."""
    zup_entity = re.compile(r"(Catalog|Document|InformationRegister|AccumulationRegister)_[А-Яа-яЁё]")
    outside = [p for folder in ("hrsync", "bitrix_app") for p in _python_files(folder) if p.name != "settings.py"]
    spelled = [f"{path.relative_to(ROOT)}:{line}" for path in outside for line, value in _string_literals(path)
               if zup_entity.search(value)]
    assert spelled == []


def test_every_reason_has_its_text_in_the_catalogue():
    assert set(REASON_MSGIDS) == set(Reason)
    po = (ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    missing = [text for text in REASON_MSGIDS.values() if f'msgid "{text}"' not in po.replace("\\'", "'")]
    assert missing == []


def test_every_problem_the_assembler_reports_has_its_text():
    """A problem shown on a Russian page is its code's text: a code without one would show the core's English."""
    from hrsync.texts import NOTICE_TEXTS

    source = (ROOT / "hrsync" / "sync" / "assemble.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'report\([^,]+,\s*[^,]+,\s*[^,]+,\s*"([a-z_]+)"', source))
    assert len(codes) > 15 and "date_out_of_range" in source
    assert codes | {"date_out_of_range"} <= set(NOTICE_TEXTS)


def test_every_change_the_push_schema_accepts_has_its_handler():
    from payroll_connector.push.records import CHANGE_KINDS
    from payroll_connector.push.schema import package_json_schema

    schema = package_json_schema()
    accepted = {value for definition in schema.get("$defs", {}).values()
                for value in (definition.get("properties", {}).get("op", {}).get("enum")
                              or [definition.get("properties", {}).get("op", {}).get("const")]) if value}
    assert accepted == CHANGE_KINDS


def test_the_field_table_covers_exactly_the_fields_the_core_owns():
    """operations.USER_FIELDS is the core's list; the planner fills it and the gateway maps every one."""
    from datetime import date

    from bitrix_app.gateway.fields import USER_FIELDS as BITRIX_NAMES
    from hrsync.sync.model import Person
    from hrsync.sync.operations import USER_FIELDS
    from hrsync.sync.plan import user_fields

    person = Person("p", "Иванова", "Анна", "", date(1990, 1, 1), "F", "a@b.ru", ())
    assert tuple(user_fields(person, None, {})) == USER_FIELDS
    assert set(BITRIX_NAMES) == set(USER_FIELDS)


_GUESS_TAG = re.compile(r"\[((?:G|Z)-[a-z-]+)\]")


def test_every_sandbox_guess_is_listed_in_one_place():
    """sandbox/GUESSES.md lists each rule that has no source; the code tags it with the same name."""
    in_code = set()
    for path in (ROOT / "sandbox").rglob("*.py"):
        in_code |= set(_GUESS_TAG.findall(path.read_text(encoding="utf-8")))
    listed = set(re.findall(r"^\| ((?:G|Z)-[a-z-]+) \|", (ROOT / "sandbox" / "GUESSES.md").read_text(encoding="utf-8"), re.M))
    assert in_code == listed and len(listed) >= 10
    # An untagged "guess" in a comment is a rule that escaped the list.
    for path in (ROOT / "sandbox").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bguess\b", line, re.I):
                assert _GUESS_TAG.search(line), f"{path.relative_to(ROOT)}:{number}: a guess without its tag"
