"""The in-portal pages over HTTP: the admin's settings, previews and runs; read-only for others; tenants apart."""
import re

import requests

from bitrix_app.frame import FrameSession
from hrsync.models import AbsenceTypeMapping, SyncRun
from payroll_connector.models import PayrollConnection
from tests.conftest import control, install


def _open(sandbox, user_id=1):
    page = requests.get(f"{sandbox.url}/marketplace/app/?user_id={user_id}", timeout=10)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    action = re.search(r'action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    response = requests.post(action, data=fields, timeout=10)
    token = re.search(r'<meta name="hrsync-session" content="([^"]+)">', response.text)
    return response, token.group(1)


def _get(live_server, path, s, **params):
    """A page the way the pages open each other: a POST that carries the session and stands for a GET."""
    return requests.post(f"{live_server.url}/bitrix/app/{path}", params=params, data={"s": s, "_nav": "1"}, timeout=30)


def _post(live_server, path, s, **data):
    return requests.post(f"{live_server.url}/bitrix/app/{path}", data={"s": s, **data}, timeout=60)


def test_admin_connects_zup_previews_runs_and_reads_the_journal(installed, zup, live_server, eager_celery):
    sandbox, portal = installed
    home, s = _open(sandbox)
    assert "Не подключена" in home.text or "Not connected" in home.text or "подключ" in home.text
    connected = _post(live_server, "connect/", s, action="odata", odata_url=zup.odata_url, username="odata",
                      password="secret", organisations="")
    assert connected.status_code == 200 and "secret" not in connected.text  # the password is never sent back
    assert connected.text.count("доступно для чтения") + connected.text.count("readable") >= 7
    preview = _get(live_server, "preview/", s)
    assert "Создание сотрудника" in preview.text and "новое в ЗУП" in preview.text  # kinds and reasons in the portal's language
    assert ">CreateUser<" not in preview.text
    assert SyncRun.objects.get(portal=portal, dry_run=True)
    ran = _post(live_server, "run/", s)
    assert ran.status_code == 200  # redirected to the progress page
    progress = _get(live_server, "progress/", s, format="json").json()
    assert progress["percent"] == 100 and progress["status"] == "succeeded" and progress["done"] > 250
    journal = _get(live_server, "journal/", s, q="Иван")
    assert "<td>Создание сотрудника</td>" in journal.text
    csv = _get(live_server, "journal/", s, format="csv")
    assert csv.headers["Content-Type"].startswith("text/csv") and csv.text.count("\n") > 250
    assert _get(live_server, "departments/", s).status_code == 200
    saved = _post(live_server, "absence-types/", s, **{"kind:Командировка": "OTHER"})
    assert saved.status_code == 200 and AbsenceTypeMapping.objects.get(portal=portal, zup_kind="Командировка").bitrix_type == "OTHER"
    assert _get(live_server, "requests/", s).status_code == 200
    overview = _get(live_server, "home/", s)
    assert 'data-testid="charts"' in overview.text and "<svg" in overview.text


def test_a_non_admin_sees_read_only_pages(installed, zup, live_server):
    sandbox, portal = installed
    colleague = control(sandbox, "users", {"NAME": "Иван", "EMAIL": "ivan@sandbox.example", "admin": False})["id"]
    home, s = _open(sandbox, colleague)
    assert 'data-testid="readonly"' in home.text
    page = _get(live_server, "connect/", s)
    assert page.status_code == 200 and 'data-testid="odata-save"' not in page.text
    refused = _post(live_server, "connect/", s, action="push")
    assert refused.status_code == 403
    assert not PayrollConnection.objects.filter(portal=portal).exists()
    # A preview is a dry run against ZUP and the portal; the journal's CSV lists everyone's e-mail.
    assert _get(live_server, "preview/", s).status_code == 403
    assert _get(live_server, "journal/", s, format="csv").status_code == 403
    assert 'data-testid="journal-csv"' not in _get(live_server, "journal/", s).text
    assert not SyncRun.objects.filter(portal=portal).exists()


def test_a_preview_never_holds_the_sync_back(installed, zup):
    from hrsync.locks import portal_preview_lock
    from hrsync.services import run_sync
    from payroll_connector.services import connect_odata

    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    with portal_preview_lock(portal.pk):  # a preview is running
        run = run_sync(portal)
    assert run.status == "succeeded" and not run.dry_run


def test_forged_tokens_and_other_portals_are_refused(sandbox_factory, live_server, transactional_db):
    a, b = sandbox_factory(), sandbox_factory()
    portal_a, portal_b = install(a), install(b)
    SyncRun.objects.create(portal=portal_b, status="succeeded", planned={"CreateUser": 1}, error="B-ONLY-MARK")
    token_a = FrameSession.open(portal_a, "1", True, "ru").dumps()
    journal = _get(live_server, "journal/", token_a)
    assert journal.status_code == 200 and "B-ONLY-MARK" not in journal.text
    progress = _get(live_server, "progress/", token_a, format="json").json()
    assert progress["run"] is None  # B's run is not A's
    assert _get(live_server, "journal/", token_a + "x").status_code == 403
    assert _post(live_server, "connect/", "forged", action="push").status_code == 403
