"""Issue 9: a contract that keeps the app to what the real systems have (tables in tests/contract/).

1. Every field in the ZUP table exists in the configuration-dump metadata (sandbox/zup/metadata.py), and the
   sandbox's copy of the reference is the team's reference, byte for byte, where that is at hand.
2. Every Bitrix24 method the code names is in the Bitrix24 table.
3. A whole sync, a robot delivery (an annual, an additional and an unpaid vacation) and an overtime run
   against the sandboxes call only methods, parameters, entity sets and fields in the tables.
"""
import re
from pathlib import Path

import pytest

from hrsync.models import PersonMapping
from hrsync.services import run_sync
from hrsync.writeback import collect_overtime, process_outbox
from payroll_connector.services import connect_odata
from sandbox.zup.metadata import EDITION_KZ, EDITION_RU, entity_types
from tests.contract.bitrix_methods import BATCH, BITRIX_METHODS
from tests.contract.zup_entities import ZUP_READS, ZUP_WRITES
from tests.conftest import ROOT, ZUP_TODAY, control
from tests.test_requests import _month_of_days, _run_workflow

SHARED_REFERENCE = ROOT.parent / "shared" / "reference" / "zup" / "zup31-hr-entities.json"


@pytest.mark.parametrize("table", ["reads", "writes"])
def test_every_zup_field_the_app_names_is_in_the_metadata(table):
    types = entity_types(EDITION_RU)
    rows = ZUP_READS if table == "reads" else ZUP_WRITES
    missing = {entity: sorted(f for f in fields if entity not in types or not types[entity].has_path(f))
               for entity, (fields, _) in rows.items()}
    assert {e: f for e, f in missing.items() if f} == {}
    # The Kazakh edition's request has no Сотрудник: the writer sends it only to the Russian one.
    assert not entity_types(EDITION_KZ)["Document_ЗаявкаНаОтпуск"].has_path("Сотрудник_Key")


def test_the_sandbox_metadata_is_the_teams_reference():
    if not SHARED_REFERENCE.exists():
        pytest.skip("the team's shared reference is not beside this checkout")
    assert (ROOT / "sandbox" / "zup" / "zup31-hr-entities.json").read_bytes() == SHARED_REFERENCE.read_bytes()


_METHOD_LITERAL = re.compile(r"""(?:Command|call|OffsetList|IdWindows|iter_list)\(\s*f?["']([a-z][a-z0-9_.]+)["']""")


def test_every_method_the_code_names_is_in_the_table():
    named = set()
    for path in [*(ROOT / "bitrix_app").rglob("*.py"), *(ROOT / "hrsync").rglob("*.py")]:
        named |= set(_METHOD_LITERAL.findall(path.read_text(encoding="utf-8")))
    named |= {f"{prefix}.{verb}" for prefix in ("bizproc.activity", "bizproc.robot") for verb in ("add", "update")}
    assert named - set(BITRIX_METHODS) == set()
    assert len(named) > 15


def test_a_sync_a_delivery_and_an_overtime_run_stay_inside_the_contract(installed, zup, eager_celery):
    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run_sync(portal, today=ZUP_TODAY)
    users = list(PersonMapping.objects.filter(portal=portal).values_list("user_id", flat=True))
    user_id = users[5]
    _run_workflow(sandbox, user_id)
    _run_workflow(sandbox, user_id, "01.07.2027", "03.07.2027", kind="ДополнительныйОтпуск")
    _run_workflow(sandbox, user_id, "02.08.2027", "04.08.2027", kind="ОтпускБезСохраненияОплаты")
    control(sandbox, "timeman", {"reports": [{"user_id": user_id, "year": 2026, "month": 10,
                                              "days": _month_of_days(user_id)}]})
    collect_overtime(portal, 2026, 10)
    process_outbox(portal)

    called = sandbox.state.calls
    assert {"user.get", "user.add", "department.add", "calendar.event.add", "bizproc.event.send",
            "timeman.timecontrol.reports.get"} <= set(called)
    outside = {method: sorted({key for params in calls for key in params} - BITRIX_METHODS[method].params)
               if method in BITRIX_METHODS else ["(method not in the table)"] for method, calls in called.items()}
    assert {m: keys for m, keys in outside.items() if keys} == {}
    assert sandbox.state.stats["by_method"].get("batch", 0) > 0 and BATCH.params == {"cmd", "halt"}

    requests_made = zup.state.calls
    written = {c["entity"] for c in requests_made if c["method"] == "POST"}
    assert {"Document_Отпуск", "Document_ОтпускБезСохраненияОплаты", "Document_РаботаСверхурочно"} <= written
    problems = []
    for call in requests_made:
        table = ZUP_WRITES if call["method"] == "POST" else ZUP_READS
        if call["entity"] not in table:
            problems.append(f"{call['method']} {call['entity']}: not in the table")
            continue
        problems += [f"{call['method']} {call['entity']}: {f}" for f in call["fields"] if f not in table[call["entity"]][0]]
    assert sorted(set(problems)) == []
