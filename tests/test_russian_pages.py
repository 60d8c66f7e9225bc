"""Issue 12, defects 3–5: an HR admin reads every page in Russian without a code in sight. Every page of the
frame is opened in Debian's headless Chromium after a real run and a preview, and its text is searched for
the core's operation kinds, Bitrix24's absence type codes, ZUP's state identifiers and English status words;
the catalogue has no untranslated or fuzzy entry; an absence line names whose absence it is; previews stay
out of the journal, which is paged; a remapped absence type says so instead of «изменено в ЗУП»."""
import re

import pytest

from hrsync.models import SyncOperation, SyncRun
from hrsync.selectors import JOURNAL_PAGE
from hrsync.services import preview, run_sync, save_absence_types
from hrsync.sync.operations import OPERATION_KINDS, Reason
from hrsync.sync.plan import ABSENCE_TYPES
from hrsync.sync.states import EMPLOYEE_STATES, STATE_SYNONYMS
from tests.conftest import ROOT, ZUP_TODAY
from tests.test_browser_pages import shot
from tests.test_browser_settings import _open, browser_page, portal_in_russian  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]

TABS = ("home", "connect", "departments", "absences", "preview", "journal", "requests")
# ZUP identifiers that are not also the word ZUP shows (Болезнь, Командировка, Прогул are both).
ZUP_IDENTIFIERS = sorted(state for state in EMPLOYEE_STATES if STATE_SYNONYMS[state] != state)
ENGLISH_STATUSES = ("failed", "done", "skipped", "planned", "intent", "succeeded", "partial")


def raw_codes(text: str) -> list[str]:
    found = [kind for kind in OPERATION_KINDS if re.search(rf"\b{kind}\b", text)]
    found += [code for code in ABSENCE_TYPES if re.search(rf"\b{code}\b", text)]
    found += [state for state in ZUP_IDENTIFIERS if re.search(rf"(?<![\w]){state}(?![\w])", text)]
    found += [word for word in ENGLISH_STATUSES if re.search(rf"\b{word}\b", text)]
    found += re.findall(r"\b(?:Catalog|Document|InformationRegister)_\w+", text)  # OData names, not ZUP's
    return found


def test_the_check_finds_codes():
    assert raw_codes("Запланировано: CreateUser 3, тип VACATION, ОтпускНеоплачиваемыйПоРазрешениюРаботодателя, failed") == [
        "CreateUser", "VACATION", "ОтпускНеоплачиваемыйПоРазрешениюРаботодателя", "failed"]
    assert raw_codes("Создание сотрудника: 3 · Отпуск неоплачиваемый по разрешению работодателя · Болезнь") == []


def test_the_russian_catalogue_is_complete():
    po = (ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]  # the first block is the header
    fuzzy = [e for e in entries if re.search(r"^#,.*\bfuzzy\b", e, re.M) and not e.startswith("#~")]
    empty = [e for e in entries if re.search(r'^msgstr ""$(?!\n")', e, re.M) and not e.startswith("#~")]
    assert fuzzy == [] and empty == []


def test_every_russian_page_reads_without_a_code(portal_in_russian, browser_page, eager_celery):
    sandbox, portal = portal_in_russian
    page, errors = browser_page
    run = run_sync(portal, today=ZUP_TODAY)
    assert run.planned.get("AddAbsence") and run.planned.get("CreateUser")
    preview(portal)
    texts = {}
    for tab in TABS:
        frame = _open(page, sandbox, tab)
        frame.locator("h1").first.wait_for()
        if tab == "preview":
            frame.get_by_test_id("plan-summary").wait_for()
        texts[tab] = frame.locator("body").inner_text()
        shot(page, f"ru-{tab}")
    found = {tab: raw_codes(text) for tab, text in texts.items()}
    assert found == {tab: [] for tab in TABS}
    assert errors == []

    # Whose absence: every absence line of the journal names the person.
    absences = SyncOperation.objects.filter(run=run, kind="AddAbsence")
    assert all(re.match(r"^\S+ \S+.*: \S", op.label) for op in absences), [op.label for op in absences[:3]]
    first = absences.first()
    assert first.label in _journal_text(page, sandbox, first.label)  # the journal shows it, found by the person


def _journal_text(page, sandbox, label: str) -> str:
    frame = _open(page, sandbox, "journal")
    frame.get_by_test_id("journal-search").fill(label.split(":")[0])
    frame.get_by_test_id("journal-filter").click()
    frame.get_by_test_id("journal").wait_for()
    return frame.get_by_test_id("journal").inner_text()


def test_previews_stay_out_of_the_journal_which_is_paged(portal_in_russian, browser_page):
    sandbox, portal = portal_in_russian
    page, errors = browser_page
    run = run_sync(portal, today=ZUP_TODAY)
    for _ in range(3):
        preview(portal)
    assert SyncRun.objects.filter(portal=portal, dry_run=True).count() == 3
    frame = _open(page, sandbox, "journal")
    frame.get_by_test_id("journal").wait_for()
    runs = frame.locator("select[name=run] option").all_inner_texts()
    assert len(runs) == 2 and f"#{run.pk}" in runs[1] and "предпросмотр" not in " ".join(runs).lower()
    total = run.operations.count()
    assert total > JOURNAL_PAGE
    assert frame.locator("tr[data-status]").count() == JOURNAL_PAGE
    pages = frame.get_by_test_id("journal-pages").inner_text()
    assert f"из {-(-total // JOURNAL_PAGE)}" in pages and str(total) in pages
    first_page_first = frame.locator("tr[data-status] td").nth(2).inner_text()
    frame.get_by_test_id("journal-next").click()
    frame.get_by_test_id("journal-previous").wait_for()
    assert frame.locator("tr[data-status] td").nth(2).inner_text() != first_page_first
    shot(page, "journal-page-2")
    assert errors == []


def test_a_remapped_absence_type_says_so(portal_in_russian, browser_page):
    sandbox, portal = portal_in_russian
    page, errors = browser_page
    run_sync(portal, today=ZUP_TODAY)
    save_absence_types(portal, {"Командировка": "OTHER"})
    remap = run_sync(portal, today=ZUP_TODAY)
    updates = list(remap.operations.filter(kind="UpdateAbsence"))
    assert updates and all(op.reason == Reason.ABSENCE_TYPE_REMAPPED for op in updates)
    frame = _open(page, sandbox, "journal")
    frame.locator("select[name=run]").select_option(str(remap.pk))
    frame.get_by_test_id("journal-filter").click()
    frame.locator("tr[data-status] >> text=в hrsync изменён тип Битрикс24").first.wait_for()
    text = frame.get_by_test_id("journal").inner_text()
    assert "изменено в ЗУП" not in text and "Командировка → Другое отсутствие" in text.replace("\u00a0", " ")
    shot(page, "journal-remapped")
    assert errors == []


def test_the_departments_page_and_the_preview_say_the_same(portal_in_russian, browser_page):
    """Defect 6: «will be created» exactly for the departments the preview creates; a disbanded one is not."""
    sandbox, portal = portal_in_russian
    page, errors = browser_page
    planned = preview(portal)
    creates = set(planned.operations.filter(kind="CreateDepartment").values_list("payroll_id", flat=True))
    disbanded = {guid for guid, _n, _p, _o, gone in planned.source_summary["departments"] if gone}
    assert creates and disbanded
    frame = _open(page, sandbox, "departments")
    frame.get_by_test_id("department-map").wait_for()
    said = set(frame.locator("tr[data-guid]:has([data-testid=will-be-created])").evaluate_all(
        "rows => rows.map(r => r.dataset.guid)"))
    assert said == creates
    not_created = set(frame.locator("tr[data-guid]:has([data-testid=not-created])").evaluate_all(
        "rows => rows.map(r => r.dataset.guid)"))
    assert disbanded - creates <= not_created and not (not_created & creates)
    shot(page, "departments-truth")
    assert errors == []


def test_the_frame_grows_with_its_content(portal_in_russian, browser_page, eager_celery):
    """Defect 7: opening the list of records that need attention makes the frame taller (BX24.fitWindow)."""
    sandbox, portal = portal_in_russian
    page, errors = browser_page
    run_sync(portal, today=ZUP_TODAY)
    frame = _open(page, sandbox, "preview")
    frame.get_by_test_id("plan-summary").wait_for()
    page.wait_for_timeout(300)
    iframe = page.locator("#appframe")
    before = iframe.bounding_box()["height"]
    frame.locator("details summary").first.click()
    page.wait_for_function("h => document.getElementById('appframe').getBoundingClientRect().height > h + 100", arg=before)
    after = iframe.bounding_box()["height"]
    inner = frame.locator("html").evaluate("e => e.offsetHeight")
    assert after > before and after >= inner  # the whole page shows, no inner scroll
    shot(page, "frame-grown")
    assert errors == []


def test_empty_states_guide_and_counts_lead_somewhere(portal_in_russian, browser_page, zup):
    """Defect 8: the empty requests page says how to add the action; attention counts are links; the OData
    check sums up and names objects as the 1C administrator ticks them."""
    sandbox, portal = portal_in_russian
    page, errors = browser_page
    run_sync(portal, today=ZUP_TODAY)
    frame = _open(page, sandbox, "requests")
    howto = frame.get_by_test_id("requests-howto")
    howto.wait_for()
    assert "Передать отпуск в 1С:ЗУП" in howto.inner_text() and "Бизнес-процессы" in howto.inner_text()
    shot(page, "requests-empty")

    frame = _open(page, sandbox, "home")
    frame.get_by_test_id("attention-failed").click()
    frame.get_by_test_id("journal").wait_for()
    assert frame.locator("select[name=status]").input_value() == "failed"

    frame = _open(page, sandbox, "connect")
    frame.get_by_test_id("odata-url").fill(zup.odata_url)
    frame.get_by_test_id("odata-user").fill("odata")
    frame.get_by_test_id("odata-password").fill("secret")
    frame.get_by_test_id("odata-save").click()
    summary = frame.get_by_test_id("check-summary")
    summary.wait_for()
    assert "доступны для чтения" in summary.inner_text() or "читаются" in summary.inner_text()
    table = frame.get_by_test_id("check").inner_text()
    assert "Справочник.Организации" in table and "Catalog_" not in table
    assert raw_codes(frame.locator("body").inner_text()) == []
    shot(page, "connect-checked")
    assert errors == []


def test_the_guide_is_one_click_from_the_overview(portal_in_russian, browser_page):
    sandbox, portal = portal_in_russian
    page, errors = browser_page
    frame = _open(page, sandbox, "home")
    frame.get_by_test_id("guide-link").click()
    guide = frame.get_by_test_id("guide")
    guide.wait_for()
    text = guide.inner_text()
    assert "Удаленный доступ (OData)" in text and "пригласит всех сотрудников" in text and "Журнале" in text
    assert raw_codes(text) == []
    shot(page, "guide")
    assert errors == []
