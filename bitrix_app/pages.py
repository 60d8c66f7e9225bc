"""The app's pages: thin views over hrsync's services and selectors, served twice.

Inside the portal's frame each page needs the frame session (bitrix_app.frame); in the console outside
it, a signed-in user given that portal (bitrix_app.console). Either sets `request.portal`,
`request.page_session` (who looks, and whether they may change things) and `request.console`; the pages
below do not care which. Every change also needs an administrator: in the frame one rechecked with
Bitrix24, in the console one the operator made so. Secrets are never sent back to the page.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from hrsync import selectors
from hrsync import services as sync_services
from hrsync.sync.plan import ABSENCE_TYPES
from hrsync.tasks import confirm_sync, preview_portal, sync_portal
from payroll_connector import services as payroll
from payroll_connector.errors import PayrollError
from payroll_connector.models import ZupEdition

from .frame import FrameSession, frame_headers, render_frame
from .gateway.fields import DATE_FORMATS, site_dates
from .services import set_date_format, still_admin


def _since(request: HttpRequest):
    try:
        return datetime.fromisoformat(request.GET["since"]) if request.GET.get("since") else None
    except ValueError:
        return None


def _started_url(request: HttpRequest) -> str:
    """The progress page of the run just asked for (it starts in a worker a moment later)."""
    return _url(request, "progress", since=(timezone.now() - timedelta(seconds=1)).isoformat())


def _url(request: HttpRequest, name: str, **params) -> str:
    """A page's address, in the frame's or the console's URLs; the frame's session token never goes into it
    (it travels in the body or a header)."""
    if request.console:
        path = reverse(f"console:{name}", kwargs={"portal_id": request.portal.pk})
    else:
        path = reverse(f"bitrix_app:{name}")
    return path + (("?" + urlencode(params)) if params else "")


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """After a change, move to another page: in the console a redirect; in the frame the way its pages
    navigate, a POST carrying the session (a redirect would have to put the token into the URL)."""
    if request.console:
        return HttpResponseRedirect(url)
    return render_frame(request, "bitrix_app/go.html", {"url": url, "s": request.page_session.dumps()},
                        portal=request.portal)


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    session = request.page_session
    context = {"portal": request.portal, "session": session, "s": session.dumps(), "console": request.console,
               "page": template.split("/")[-1][:-5], **context}
    if request.console:
        return _headers(request, render(request, template, context, status=status))
    return render_frame(request, template, context, portal=request.portal, status=status)


def _headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The frame's pages may be framed by their portal only; the console's by nobody."""
    if request.console:
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        response["Cache-Control"] = "no-store"
        return response
    return frame_headers(response, request.portal)


def _forbidden(request: HttpRequest, text: str) -> HttpResponse:
    return _headers(request, HttpResponseForbidden(text))


def _admin_now(request: HttpRequest) -> bool:
    session = request.page_session
    if request.console:
        return session.is_admin  # the operator's word (PortalMember.is_admin, or a superuser)
    return session.is_admin and FrameSession.admin_confirmed(session.token, still_admin=still_admin)


def admin_required(view):
    """Changes (POST) need an administrator, rechecked before the change."""
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method == "POST" and not _admin_now(request):
            return _forbidden(request, _("Only the portal's administrators can change hrsync's settings."))
        return view(request, *args, **kwargs)
    return wrapper


def admin_only(view):
    """Pages that read what only administrators may see, or that cost a run (preview, the journal's CSV)."""
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.page_session.is_admin:
            return _forbidden(request, _("Only the portal's administrators can do this."))
        return view(request, *args, **kwargs)
    return wrapper


# The pages. bitrix_app.urls serves each inside the frame, bitrix_app.console_urls in the console.
@admin_required
def home(request: HttpRequest) -> HttpResponse:
    return _render(request, "bitrix_app/home.html", selectors.overview(request.portal))


@admin_required
def connect(request: HttpRequest) -> HttpResponse:
    portal = request.portal
    connection = selectors.connection_of(portal)
    context: dict = {"new_key": None, "check": None, "error": ""}
    if request.method == "POST":
        form = request.POST
        action = form.get("action")
        organisations = _lines(form.get("organisations"))
        try:
            if action == "odata":
                password = form.get("password") or (connection.odata_password if connection else "")
                connection = payroll.connect_odata(portal, url=form.get("odata_url", "").strip(),
                                                   username=form.get("username", "").strip(), password=password,
                                                   organisation_filter=organisations)
                context["check"] = payroll.check_odata(connection)
            elif action == "check" and connection:
                context["check"] = payroll.check_odata(connection)
            elif action == "push" or (action == "rotate" and connection is None):
                connection, context["new_key"] = payroll.connect_push(portal, organisation_filter=organisations)
            elif action == "rotate":
                context["new_key"] = payroll.rotate_push_key(connection)
            elif action == "settings":
                # Every number is checked before anything is saved: a field left empty or mistyped is an
                # error that names the field, never a silent return to the default (the guard is a safety).
                numbers = {name: _number(form, name, label, kind, low, high) for name, label, kind, low, high in _SETTINGS_NUMBERS}
                if connection:
                    payroll.update_connection(connection, schedule_minutes=numbers["schedule_minutes"],
                                              edition=form.get("edition") or ZupEdition.STANDARD,
                                              organisation_filter=organisations)
                set_date_format(portal, form.get("date_format", ""))
                sync_services.save_sync_settings(
                    portal, guard_percent=numbers["guard_percent"], guard_count=numbers["guard_count"],
                    lead_days=numbers["lead_days"],
                    organisations_as_departments=form.get("organisations_as_departments") == "on")
                context["saved"] = numbers
        except SettingsInvalid as exc:
            context["error"] = exc.message
        except (ValueError, PayrollError) as exc:
            context["error"] = str(exc)
    if context["check"]:
        rows = [(payroll.composition_name(entity), outcome) for entity, outcome in context["check"].items()]
        context["check_rows"] = rows
        context["check_bad"] = sum(1 for _name, outcome in rows if outcome != "ok")
        context["check_total"] = len(payroll.REQUIRED_ENTITIES)
    context["connection"] = connection
    context["config"] = selectors.sync_config_of(portal)
    context["date_formats"] = DATE_FORMATS
    context["editions"] = ZupEdition.choices
    context["default_date_format"] = site_dates("", portal.language).site_format
    context["push_urls"] = {name: request.build_absolute_uri(f"/payroll/api/v1/{name}")
                            for name in ("packages", "outbox", "openapi.json")}
    return _render(request, "bitrix_app/connect.html", context)


class SettingsInvalid(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# The settings form's numbers: (field, label, type, lowest, highest).
_SETTINGS_NUMBERS = (
    ("schedule_minutes", gettext_lazy("Run every, minutes"), int, 5, 10080),
    ("guard_percent", gettext_lazy("Dismissal guard, percent of active users"), float, 0, 100),
    ("guard_count", gettext_lazy("… or more people than"), int, 0, 100000),
    ("lead_days", gettext_lazy("Create future hires this many days early"), int, 0, 365),
)


def _number(form, name: str, label: str, kind: type, low: float, high: float) -> int | float:
    """A number of the settings form: the browser sends it locale-free (<input type=number>); a comma is
    taken too (typed into a plain field). Empty, not a number or out of range: SettingsInvalid naming it."""
    raw = (form.get(name) or "").strip().replace(",", ".")
    try:
        value = kind(float(raw)) if kind is int and raw and float(raw).is_integer() else kind(raw)
    except ValueError:
        raise SettingsInvalid(_("«%(field)s»: enter a number (got «%(value)s»). Nothing was saved.")
                              % {"field": label, "value": raw}) from None
    if not low <= value <= high:
        raise SettingsInvalid(_("«%(field)s»: must be between %(low)s and %(high)s. Nothing was saved.")
                              % {"field": label, "low": low, "high": high})
    return value


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@admin_required
def departments(request: HttpRequest) -> HttpResponse:
    portal = request.portal
    if request.method == "POST":
        if request.POST.get("action") == "accept_all":
            sync_services.accept_all_department_matches(portal)
        else:
            bitrix_id = request.POST.get("bitrix_id")
            sync_services.decide_department(portal, request.POST["payroll_id"], request.POST["decision"],
                                            int(bitrix_id) if bitrix_id else None)
        return _go(request, _url(request, "departments"))
    source = selectors.latest_source(portal)
    mappings = selectors.department_mappings(portal)
    proposals = {n["payroll_id"]: n for n in selectors.latest_notices(portal)
                 if n["code"] == "department_match_proposed" and n["payroll_id"] not in mappings}  # not yet decided
    rows = _tree_rows(source, mappings, proposals)
    planned = selectors.departments_planned(portal)  # the same plan the preview shows: one source of truth
    for row in rows:
        row["planned"] = row["guid"] in planned
    bitrix_tree, error = selectors.bitrix_department_paths(portal)
    names = {d["id"]: d["path"] for d in bitrix_tree}
    for row in rows:
        target = (row["mapping"].bitrix_id if row["mapping"] else None) or (row["proposal"] or {}).get("proposal", {}).get("department_id")
        row["bitrix_path"] = names.get(target, "")
    return _render(request, "bitrix_app/departments.html", {"rows": rows, "has_source": bool(source),
                                                             "proposals": len(proposals), "bitrix_tree": bitrix_tree,
                                                             "error": error, "organisations_as_departments":
                                                                 selectors.sync_config_of(portal).organisations_as_departments})


def _tree_rows(source: dict, mappings: dict, proposals: dict) -> list[dict]:
    organisations = [{"guid": g, "name": n, "parent": None, "org": g} for g, n in source.get("organisations", [])]
    departments = [{"guid": g, "name": n, "parent": parent or org, "org": org, "disbanded": disbanded}
                   for g, n, parent, org, disbanded in source.get("departments", [])]
    children: dict = {}
    for node in organisations + departments:
        children.setdefault(node["parent"], []).append(node)
    rows: list[dict] = []

    def walk(parent, depth):
        for node in sorted(children.get(parent, []), key=lambda n: n["name"]):
            mapping = mappings.get(node["guid"])
            rows.append({**node, "depth": depth, "indent": depth * 20, "mapping": mapping, "proposal": proposals.get(node["guid"])})
            walk(node["guid"], depth + 1)
    walk(None, 0)
    return rows


@admin_required
def absence_types(request: HttpRequest) -> HttpResponse:
    portal = request.portal
    if request.method == "POST":
        chosen = {key[5:]: value for key, value in request.POST.items() if key.startswith("kind:")}
        sync_services.save_absence_types(portal, chosen)
        return _go(request, _url(request, "absence_types", saved=1))
    return _render(request, "bitrix_app/absence_types.html", {"kinds": selectors.absence_kinds(portal),
                                                               "types": ABSENCE_TYPES, "saved": request.GET.get("saved")})


@admin_required
@admin_only
def preview(request: HttpRequest) -> HttpResponse:
    """Opening the tab asks a worker for a dry run and follows it like a run; `?run=` shows one's plan."""
    portal = request.portal
    run_id = request.GET.get("run")
    since = None
    if run_id:
        run = selectors.preview_run(portal, int(run_id)) if run_id.isdigit() else None
    else:
        since = timezone.now() - timedelta(seconds=1)
        preview_portal.delay(portal.pk)
        run = selectors.preview_run(portal, since=since)  # already there when the worker was quick
    ready = run is not None and run.finished_at is not None
    context = {"run": run if ready else None, "groups": selectors.planned_by_phase(run) if ready else [],
               "error": run.error if ready and run.error else "", "waiting": selectors.waiting_run(portal),
               "preparing": not ready, "since": since.isoformat() if since else ""}
    return _render(request, "bitrix_app/preview.html", context)


@admin_required
def run_now(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _go(request, _url(request, "preview"))
    target = _started_url(request)
    sync_portal.delay(request.portal.pk, "manual", request.POST.get("person") or None)
    return _go(request, target)


@admin_required
def confirm(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.waiting_run(request.portal, run_id)
    if run is None or request.method != "POST":
        return _go(request, _url(request, "home"))
    if request.POST.get("decision") == "cancel":
        sync_services.cancel_run(run)
        return _go(request, _url(request, "home"))
    target = _started_url(request)
    confirm_sync.delay(run.pk)
    return _go(request, target)


@admin_required
def progress(request: HttpRequest) -> HttpResponse:
    progress_now = selectors.run_progress(request.portal, since=_since(request), preview=request.GET.get("preview") == "1")
    if request.GET.get("format") == "json":
        return _headers(request, JsonResponse(progress_now))
    return _render(request, "bitrix_app/progress.html", {"progress": progress_now, "since": request.GET.get("since", "")})


@admin_required
def journal(request: HttpRequest) -> HttpResponse:
    portal = request.portal
    if request.method == "POST":  # retry one person
        target = _started_url(request)
        sync_portal.delay(portal.pk, "person", request.POST["person"])
        return _go(request, target)
    filters = {"run_id": request.GET.get("run") or None, "query": request.GET.get("q", "").strip(),
               "kind": request.GET.get("kind", ""), "status": request.GET.get("status", "")}
    if request.GET.get("format") == "csv":
        if not request.page_session.is_admin:  # e-mails and names of everyone: administrators only
            return _forbidden(request, _("Only the portal's administrators can do this."))
        response = HttpResponse(selectors.journal_csv(portal, **filters), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="hrsync-journal.csv"'
        return _headers(request, response)
    params = {k: v for k, v in (("run", filters["run_id"]), ("q", filters["query"]), ("kind", filters["kind"]),
                                 ("status", filters["status"])) if v}
    number = int(request.GET["page"]) if request.GET.get("page", "").isdigit() else 1
    ops, number, count, pages = selectors.journal_page(portal, page=number, **filters)
    page = {"number": number, "pages": pages, "count": count,
            "previous": _url(request, "journal", **params, page=number - 1) if number > 1 else "",
            "next": _url(request, "journal", **params, page=number + 1) if number < pages else ""}
    return _render(request, "bitrix_app/journal.html", {"ops": ops, "page": page, "runs": selectors.recent_runs(portal),
                                                         "filters": filters, "kinds": selectors.operation_kinds(),
                                                         "statuses": selectors.operation_statuses(),
                                                         "csv_url": _url(request, "journal", format="csv", **params)})


@admin_required
def guide(request: HttpRequest) -> HttpResponse:
    """The short guide for the HR administrator and the 1C administrator (in Russian, their language)."""
    return _render(request, "bitrix_app/guide.html", {})


@admin_required
def outbox(request: HttpRequest) -> HttpResponse:
    return _render(request, "bitrix_app/requests.html", {"items": selectors.requests_to_zup(request.portal)})


# Every page, once: (path under the frame's /bitrix/app/ and the console's /console/<portal>/, view, name).
# bitrix_app.urls wraps each with the frame session, bitrix_app.console_urls with the console's sign-in.
PAGES = (
    ("home/", require_GET(home), "home"),
    ("connect/", connect, "connect"),
    ("departments/", departments, "departments"),
    ("absence-types/", absence_types, "absence_types"),
    ("preview/", preview, "preview"),
    ("run/", run_now, "run"),
    ("runs/<int:run_id>/confirm/", confirm, "confirm"),
    ("progress/", progress, "progress"),
    ("journal/", journal, "journal"),
    ("requests/", outbox, "requests"),
    ("guide/", require_GET(guide), "guide"),
)
