"""Issue 9, defect 1: date user fields in the portal's own format; the users a failed user.add left behind.

rest/lib/api/user.php converts PERSONAL_BIRTHDAY from ISO itself but passes UF_EMPLOYMENT_DATE on as it
came, and user.add registers the user before the update that checks it: an ISO employment date on a
DD.MM.YYYY portal leaves a nameless, uninvited user behind (the sandbox does the same, citing the source).
"""
import requests

from bitrix_app.gateway.fields import DateStyle, Kind, site_dates
from hrsync.models import OperationStatus, PersonMapping, RunStatus
from hrsync.services import run_sync
from payroll_connector.services import connect_odata, read_snapshot
from tests.conftest import ZUP_TODAY, control


def _rest(sandbox, portal, method, params):
    return requests.post(f"{sandbox.state.client_endpoint}{method}", json={**params, "auth": portal.access_token},
                         timeout=10).json()


def _a_person(connection):
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    person = next(p for p in snapshot.persons if p.email and not snapshot.is_blocked(p.guid) and any(
        e.termination_date is None and not snapshot.is_blocked(e.guid) for e in p.employments))
    return snapshot, person


def test_an_iso_employment_date_leaves_a_nameless_uninvited_user_behind(installed):
    sandbox, portal = installed
    answer = _rest(sandbox, portal, "user.add", {"EMAIL": "new@sandbox.example", "NAME": "Ольга", "XML_ID": "zup-1",
                                                 "UF_DEPARTMENT": [1], "UF_EMPLOYMENT_DATE": "2024-03-01"})
    assert "UF_EMPLOYMENT_DATE" in answer["error_description"]
    left = [u for u in sandbox.state.users.values() if u["EMAIL"] == "new@sandbox.example"]
    assert len(left) == 1 and left[0]["XML_ID"] == "zup-1" and left[0]["NAME"] == ""
    assert {"invitation_sent_to": "new@sandbox.example"} not in sandbox.state.outgoing_log
    # The site's own format goes through, and the answer is ISO again (CRestUtil::convertDate).
    ok = _rest(sandbox, portal, "user.add", {"EMAIL": "ok@sandbox.example", "NAME": "Пётр", "UF_DEPARTMENT": [1],
                                             "UF_EMPLOYMENT_DATE": "01.03.2024", "PERSONAL_BIRTHDAY": "1990-05-01"})
    read = _rest(sandbox, portal, "user.get", {"ID": ok["result"]})["result"][0]
    assert read["UF_EMPLOYMENT_DATE"].startswith("2024-03-01") and read["PERSONAL_BIRTHDAY"].startswith("1990-05-01")


def test_hires_are_written_in_the_portals_format_and_a_resync_changes_nothing(installed, zup):
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    first = run_sync(portal, today=ZUP_TODAY)
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert not first.operations.filter(status=OperationStatus.FAILED).exists()
    snapshot = read_snapshot(connection, today=ZUP_TODAY)
    hired = {e.person_guid: e.hire_date for p in snapshot.persons for e in p.employments if e.kind.value == "main"}
    users = {u["XML_ID"]: u for u in sandbox.state.users.values() if u["XML_ID"]}
    assert users and all(u["NAME"] for u in users.values())
    assert all(u["UF_EMPLOYMENT_DATE"] == hired[x].isoformat() for x, u in users.items() if x in hired)
    again = run_sync(portal, today=ZUP_TODAY)
    assert again.planned.get("UpdateUser", 0) == 0  # what was written reads back the same


def test_a_user_left_behind_is_completed_not_doubled(installed, zup):
    sandbox, portal = installed
    connection = connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    _, person = _a_person(connection)
    # What an earlier version of the app (ISO dates) left on a Russian portal.
    _rest(sandbox, portal, "user.add", {"EMAIL": person.email, "NAME": person.first_name, "XML_ID": person.guid,
                                        "UF_DEPARTMENT": [1], "UF_EMPLOYMENT_DATE": "2020-01-01"})
    run = run_sync(portal, today=ZUP_TODAY)
    assert run.status == RunStatus.SUCCEEDED, run.error
    theirs = [u for u in sandbox.state.users.values() if u["EMAIL"].lower() == person.email.lower()]
    assert len(theirs) == 1 and theirs[0]["NAME"] == person.first_name and theirs[0]["LAST_NAME"] == person.last_name
    assert PersonMapping.objects.get(portal=portal, payroll_id=person.guid).user_id == theirs[0]["ID"]
    notice = next(n for n in run.notices if n["code"] == "unfinished_user_completed")
    assert notice["payroll_id"] == person.guid and "Пригласить повторно" in notice["message"]


def test_an_english_portal_writes_month_first_and_a_portal_can_say_otherwise(installed, zup):
    sandbox, portal = installed
    control(sandbox, "site", {"language": "en", "date_format": "MM/DD/YYYY"})
    portal.language = "en"
    portal.save(update_fields=["language"])
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    run = run_sync(portal, today=ZUP_TODAY)
    assert run.status == RunStatus.SUCCEEDED and run.outcome["failed"] == 0, run.error
    # The site was changed to day first, and the admin says so on the settings page.
    control(sandbox, "site", {"date_format": "DD.MM.YYYY"})
    portal.date_format = "DD.MM.YYYY"
    portal.save(update_fields=["date_format"])
    mapping = PersonMapping.objects.filter(portal=portal).first()
    sandbox.state.users[mapping.user_id]["UF_EMPLOYMENT_DATE"] = "2001-02-03"
    fixed = run_sync(portal, today=ZUP_TODAY)
    assert fixed.outcome["failed"] == 0 and fixed.planned.get("UpdateUser") == 1


def test_the_date_styles():
    assert site_dates("", "ru").write("2024-03-01", Kind.DATE_SITE) == "01.03.2024"
    assert site_dates("", "en").write("2024-03-01", Kind.DATE_SITE) == "03/01/2024"
    assert site_dates("", "ru").write("2024-03-01", Kind.DATE_CONVERTED) == "2024-03-01"  # REST converts it
    assert site_dates("YYYY-MM-DD", "ru").site_format == "YYYY-MM-DD"
    assert DateStyle().read("2024-03-01T00:00:00+03:00") == "2024-03-01"
    assert DateStyle().read("01.03.2024") == "2024-03-01"
