"""HTTP face of the sandbox portal: REST, batch, its OAuth server, the portal's frames, a control API."""
from __future__ import annotations

import re
import secrets
import socket
import time
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Flask, Response, jsonify, render_template_string, request

from . import methods
from .operating import Hit
from .phpquery import flatten, nest, parse_query
from .state import PortalState, RestError

_WEBHOOK_PATH = re.compile(r"^(?P<user>\d+)/(?P<key>[^/]+)/(?P<method>[^/]+/?)$")
_REF = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)")


def _request_params() -> dict[str, Any]:
    params = parse_query(request.query_string.decode())
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            params.update(body)
    elif request.form:
        params.update(nest(request.form.items(multi=True)))
    return params


def _time_block(started: float) -> dict[str, Any]:
    finish = time.time()
    return {"start": started, "finish": finish, "duration": finish - started, "processing": finish - started,
            "date_start": time.strftime("%Y-%m-%dT%H:%M:%S+03:00", time.localtime(started)),
            "date_finish": time.strftime("%Y-%m-%dT%H:%M:%S+03:00", time.localtime(finish))}


def _calls(name: str, params: dict, method: str) -> bool:
    """Whether a request runs `method`: itself, or a command of its batch."""
    if name != "batch":
        return name == method
    commands = params.get("cmd") or {}
    commands = commands.values() if isinstance(commands, dict) else commands
    return any(str(c).partition("?")[0].removesuffix(".json") == method for c in commands)


def _blocked() -> RestError:
    # CRestServer::processCall: RestException ERROR_OPERATION_TIME_LIMIT, 429; the error answer carries no
    # `time` block (processException -> outputError), so no operating_reset_at either.
    return RestError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")


def _run_method(state: PortalState, name: str, caller: int, params: dict,
                scopes: tuple[str, ...] | None = None) -> tuple[Any, int | None, int | None]:
    """`scopes`: a webhook's own; an application's come from its registration."""
    if name == "batch":
        raise RestError(400, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Nested batch is not allowed")
    entry = methods.METHODS.get(name)
    if entry is None:
        raise RestError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
    scope, admin_only, handler = entry
    if scope and scope not in (state.app.scope if scopes is None else scopes):
        raise RestError(403, "insufficient_scope", "The request requires higher privileges than provided by the access token")
    if admin_only and not state.users.get(caller, {}).get("IS_ADMIN"):
        raise RestError(403, "ACCESS_DENIED", "Access denied")
    blocked_until = state.faults.operating_limit.get(name)
    if blocked_until and blocked_until > time.time():
        state.refused(name)
        raise _blocked()
    state.count(name)
    state.record(name, params)
    if name == "scope" and scopes is not None:
        return list(scopes), None, None  # `scope` answers the caller's own scopes (DOCS common/system/scope.md)
    outcome = handler(state, caller, params)
    if isinstance(outcome, tuple):
        return outcome
    return outcome, None, None


def _resolve(value: str, results: dict[str, Any]) -> str:
    """Substitute `$result[key][path…]` with earlier results (an unresolved one becomes empty: guess [G-batch-unresolved])."""
    def replace(match: re.Match) -> str:
        node: Any = results.get(match.group(1))
        for part in re.findall(r"\[([^\]]*)\]", match.group(2)):
            if isinstance(node, list):
                node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
            elif isinstance(node, dict):
                node = node.get(part)
            else:
                node = None
        return "" if node is None or isinstance(node, (dict, list)) else str(node)
    return _REF.sub(replace, value)


def _resolve_all(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve_all(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_all(v, results) for v in value]
    return _resolve(value, results) if isinstance(value, str) else value


def _run_batch(state: PortalState, caller: int, params: dict, hit: Hit,
               scopes: tuple[str, ...] | None = None) -> dict[str, Any]:
    commands = params.get("cmd") or {}
    if isinstance(commands, list):
        commands = {str(i): c for i, c in enumerate(commands)}
    if len(commands) > 50:
        raise RestError(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
    # A form body sends halt=1; a JSON body (b24pysdk) sends "halt": true.
    halt = params.get("halt") is True or str(params.get("halt", "0")).lower() in ("1", "true", "y")
    results: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    totals: dict[str, Any] = {}
    nexts: dict[str, Any] = {}
    times: dict[str, Any] = {}
    for key, raw in commands.items():
        started = time.time()
        name, _, query = str(raw).partition("?")
        name = name.removesuffix(".json")
        try:
            # The command's query is decoded first and the references resolved in its values, so an encoded
            # `%24result%5B1%5D…` (b24pysdk) is resolved like a bare `$result[1]…`: guess [G-batch-unresolved].
            sub_params = _resolve_all(parse_query(query), results) if query else {}
            # Each command runs through CRestServer::processCall as its own method (CRestServerBatchItem):
            # checked against, and charged to, that method's budget.
            if name in methods.METHODS and hit.blocked(name):
                state.refused(name)
                raise _blocked()
            result, total, nxt = hit.run(name, lambda: _run_method(state, name, caller, sub_params, scopes))
        except RestError as exc:
            errors[key] = {"error": exc.code, "error_description": exc.description}
            if halt:
                break
            continue
        state.stats["commands"] += 1
        results[key] = result
        if total is not None:
            totals[key] = total
        if nxt is not None:
            nexts[key] = nxt
        times[key] = {**_time_block(started), **hit.time_block(name)}
    # Empty sections come back as [] (reference §3).
    return {"result": results or [], "result_error": errors or [], "result_total": totals or [],
            "result_next": nexts or [], "result_time": times or []}


def create_portal_app(state: PortalState) -> Flask:
    app = Flask("sandbox_portal")
    # Every portal serves /oauth/token/ itself (dev.1c-bitrix.ru/community/blogs/b24_marketplace/8323.php
    # exchanges a code at https://<portal>/oauth/token/); an on-premise portal started with `on_premise`
    # names itself as SERVER_ENDPOINT, so its pairs are renewed here. [G-onpremise-refresh]
    _serve_token_endpoint(app, state)

    @app.route("/rest/<path:name>", methods=["GET", "POST"])
    def rest(name: str):
        started = time.time()
        # `/rest/user.get`, `/rest/user.get.json`, `/rest/user.get/` (b24pysdk), and an incoming webhook's
        # `/rest/<user ID>/<key>/user.get` (the REST docs' webhook examples).
        webhook = _WEBHOOK_PATH.match(name)
        name = (webhook.group("method") if webhook else name).rstrip("/").removesuffix(".json")
        faults = state.faults
        with state.lock:
            state.stats["http_requests"] += 1
            if faults.moved_to:
                # A portal that changed its address redirects with 302, which b24pysdk follows by switching
                # its token's domain (credentials/bitrix_token.py); issue 9 reports the code.
                return Response(status=302, headers={"Location": f"{faults.moved_to.rstrip('/')}/rest/{name}"})
            if faults.take("drop"):
                _drop_connection()
                return Response(status=500)
            slow = faults.take("slow")
            if faults.take("rate_limit_503") or not state.bucket.admit():
                state.stats["rejected_503"] += 1
                return jsonify(error="QUERY_LIMIT_EXCEEDED", error_description="Too many requests"), 503
            if faults.take("server_error_500"):
                return jsonify(error="INTERNAL_SERVER_ERROR", error_description="Internal server error"), 500
        if slow:
            time.sleep(faults.slow_seconds)
        params = _request_params()
        if faults.slow_method and _calls(name, params, faults.slow_method):
            # Tests: the first request that runs this method is held before it runs (then runs).
            with state.lock:
                faults.slow_method, state.stats["held"] = "", state.stats.get("held", 0) + 1
            time.sleep(faults.slow_seconds)
        try:
            with state.lock:
                if webhook:
                    caller, scopes = state.user_for_webhook(int(webhook.group("user")), webhook.group("key"))
                    entity = f"webhook:{webhook.group('user')}:{webhook.group('key')}"
                else:
                    caller, scopes = state.user_for_token(params.pop("auth", None)), None
                    entity = f"app:{state.app.client_id}"
                # The budget is per app (or webhook) and method: LoadLimiter's key (see operating.py).
                hit = state.operating.hit(entity)
                try:
                    if name in methods.METHODS or name == "batch":
                        if hit.blocked(name):
                            state.refused(name)
                            raise _blocked()
                    if name == "batch":
                        state.count("batch")
                        result, total, nxt = hit.run("batch", lambda: _run_batch(state, caller, params, hit, scopes)), None, None
                    else:
                        result, total, nxt = hit.run(name, lambda: _run_method(state, name, caller, params, scopes))
                    operating = hit.time_block(name)
                finally:
                    hit.finish()
        except RestError as exc:
            return jsonify(exc.body()), exc.status
        body: dict[str, Any] = {"result": result}
        if nxt is not None:
            body["next"] = nxt
        if total is not None:
            body["total"] = total
        body["time"] = {**_time_block(started), **operating}
        return jsonify(body)

    # -- the portal's frames: what a browser sees when the admin opens the app --------------------------
    @app.get("/marketplace/app/")
    def app_frame():
        return _frame_page(state, target_url=state.app.app_url, title="hrsync", placement="DEFAULT")

    @app.get("/marketplace/install/")
    def install_frame():
        with state.lock:
            _begin_install(state)
        return _frame_page(state, target_url=state.app.install_url, title="Установка приложения", placement="DEFAULT")

    @app.get("/bx24/api/v1/")
    def bx24_js():
        return Response(_BX24_JS, mimetype="application/javascript")

    # -- control API for the demo, tests and benchmarks ---------------------------------------------------
    @app.post("/_sandbox/install")
    def control_install():
        """The admin opens the installer: the portal POSTs the install form into the frame."""
        data = request.get_json(silent=True) or {}
        with state.lock:
            _begin_install(state)
            form = _frame_form(state, int(data.get("user_id", 1)), "DEFAULT")
        response = requests.post(f"{state.app.install_url}?{_frame_query(state)}", data=form, timeout=30)
        return jsonify(status=response.status_code, body=response.text, form_keys=sorted(form))

    @app.post("/_sandbox/install-finish")
    def control_install_finish():
        """BX24.installFinish() reached the portal: the app is installed and events start flowing."""
        with state.lock:
            state.app_installed = True
            deliveries = _deliver(state, "ONAPPINSTALL", {"VERSION": str(state.app.version), "ACTIVE": "Y",
                                                          "INSTALLED": "Y", "LANGUAGE_ID": state.language},
                                  with_tokens=True)
        return jsonify(installed=True, deliveries=deliveries)

    @app.post("/_sandbox/tokens")
    def control_tokens():
        """Benchmarks: the app counts as installed and gets a token pair for a user, without the install
        frames (a benchmark has no browser and no web process to install through)."""
        data = request.get_json(silent=True) or {}
        with state.lock:
            state.app_present = state.app_installed = True
            return jsonify(state.issue_tokens(int(data.get("user_id", 1))))

    @app.get("/_sandbox/users")
    def control_users():
        """Benchmarks: a user by payroll ID (XML_ID) or e-mail, as the portal holds it, to see a change arrive."""
        xml_id, email = request.args.get("xml_id", ""), request.args.get("email", "").lower()
        with state.lock:
            found = [dict(u) for u in state.users.values()
                     if (xml_id and u.get("XML_ID") == xml_id) or (email and str(u.get("EMAIL", "")).lower() == email)]
        return jsonify(users=found)

    @app.post("/_sandbox/uninstall")
    def control_uninstall():
        data = request.get_json(silent=True) or {}
        with state.lock:
            deliveries = _deliver(state, "ONAPPUNINSTALL", {"LANGUAGE_ID": state.language,
                                                            "CLEAN": int(data.get("clean", 0))}, with_tokens=False)
            state.app_present = state.app_installed = False
            state.access_tokens.clear()
            state.refresh_tokens.clear()
            state.event_bindings.clear()
            state.application_token = ""
        return jsonify(uninstalled=True, deliveries=deliveries)

    @app.post("/_sandbox/faults")
    def control_faults():
        data = request.get_json(silent=True) or {}
        with state.lock:
            for key in ("rate_limit_503", "server_error_500", "slow", "drop"):
                if key in data:
                    setattr(state.faults, key, int(data[key]))
            if "moved_to" in data:
                state.faults.moved_to = str(data["moved_to"])
            if "slow_method" in data:
                state.faults.slow_method = str(data["slow_method"])
            if "slow_seconds" in data:
                state.faults.slow_seconds = float(data["slow_seconds"])
            for name, seconds in (data.get("operating_limit") or {}).items():
                state.faults.operating_limit[name] = time.time() + float(seconds)
            if data.get("expire_tokens"):
                state.expire_all_tokens()
            if data.get("revoke_refresh_tokens"):
                state.revoke_refresh_tokens()
        return jsonify(ok=True)

    @app.post("/_sandbox/limits")
    def control_limits():
        data = request.get_json(silent=True) or {}
        with state.lock:
            if "rate" in data:
                state.bucket.rate = float(data["rate"])
            if "burst" in data:
                state.bucket.burst = int(data["burst"])
            if "enabled" in data:
                state.bucket.enabled = bool(data["enabled"])
            if "access_ttl" in data:
                state.access_ttl = float(data["access_ttl"])
            if "license_family" in data:
                state.license_family = str(data["license_family"])
            if "max_users" in data:
                state.max_users = int(data["max_users"])
            # The time budget (operating.py): its switch, its scale, and how long each method takes here.
            budget = data.get("operating") or {}
            for key in ("limit", "bucket_seconds", "ban_seconds"):
                if key in budget:
                    setattr(state.operating, key, float(budget[key]))
            if "enabled" in budget:
                state.operating.enabled = bool(budget["enabled"])
            state.operating.server_time.update({m: float(s) for m, s in (data.get("server_time") or {}).items()})
            state.bucket.level = 0.0
        return jsonify(ok=True)

    @app.post("/_sandbox/webhook")
    def control_webhook():
        """Make an incoming webhook for a user, with scopes (what the portal's Developer resources page does)."""
        data = request.get_json(silent=True) or {}
        with state.lock:
            user_id = int(data.get("user_id") or 1)
            key = str(data.get("key") or secrets.token_hex(8))
            state.webhooks[(user_id, key)] = tuple(data.get("scopes") or state.app.scope)
        return jsonify(url=f"{state.client_endpoint}{user_id}/{key}/", user_id=user_id, key=key)

    @app.post("/_sandbox/site")
    def control_site():
        """The site's culture: its language (app.info LANGUAGE_ID) and date format (FORMAT_DATE)."""
        data = request.get_json(silent=True) or {}
        with state.lock:
            state.language = str(data.get("language") or state.language)
            state.date_format = str(data.get("date_format") or state.date_format)
        return jsonify(language=state.language, date_format=state.date_format)

    @app.post("/_sandbox/seed")
    def control_seed():
        """Fill the portal with generated users and departments (for list reading and benchmarks)."""
        data = request.get_json(silent=True) or {}
        with state.lock:
            root = min(state.departments)
            deps = [state.add_department_unchecked(f"Отдел {i + 1}", root) for i in range(int(data.get("departments", 0)))]
            targets = deps or [root]
            for i in range(int(data.get("users", 0))):
                state.add_user_unchecked({
                    "NAME": "Сотрудник", "LAST_NAME": f"Номер{i + 1}", "EMAIL": f"user{state._ids['user'] + 1}@seed.example",
                    "UF_DEPARTMENT": [targets[i % len(targets)]], "WORK_POSITION": "Специалист",
                })
        return jsonify(users=len(state.users), departments=len(state.departments))

    @app.post("/_sandbox/bizproc/run")
    def control_bizproc_run():
        """A workflow reaches the app's action: the portal posts the call to its handler (reference §7)."""
        data = request.get_json(silent=True) or {}
        code = data.get("code", "hrsync_vacation_to_zup")
        with state.lock:
            action = state.robots.get(code) or state.activities.get(code)
            if action is None:
                return jsonify(error="no such action installed"), 404
            event_token = data.get("event_token") or f"{secrets.token_hex(8)}|{code}|{secrets.token_hex(8)}"
            state.pending_event_tokens.add(event_token)
            tokens = state.issue_tokens(int(action.get("AUTH_USER_ID") or 1))
            auth = {"access_token": tokens["access_token"], "expires_in": tokens["expires_in"], "scope": tokens["scope"],
                    "domain": state.domain, "server_endpoint": state.server_endpoint,
                    "client_endpoint": state.client_endpoint, "member_id": state.member_id,
                    "user_id": int(action.get("AUTH_USER_ID") or 1), "status": "L",
                    "application_token": data.get("application_token", state.application_token)}
            document_id = data.get("document_id", ["lists", "BizprocDocument", "777"])
        body = flatten({"workflow_id": data.get("workflow_id", secrets.token_hex(8)), "code": code,
                        "document_id": document_id, "document_type": ["lists", "BizprocDocument", "iblock_30"],
                        "event_token": event_token, "properties": data.get("properties", {}),
                        "use_subscription": "Y", "timeout_duration": "0", "ts": str(int(time.time())), "auth": auth})
        response = requests.post(action["HANDLER"], data=body, timeout=30)
        return jsonify(status=response.status_code, body=response.text[:2000], event_token=event_token)

    @app.post("/_sandbox/lists/element")
    def control_list_element():
        """An element of a Processes list (e.g. a vacation request HR fills in)."""
        data = request.get_json(silent=True) or {}
        with state.lock:
            elements = state.list_elements.setdefault(int(data["iblock_id"]), {})
            element_id = max(elements, default=700) + 1
            elements[element_id] = {"ID": str(element_id), "IBLOCK_ID": str(data["iblock_id"]), **data.get("fields", {})}
        return jsonify(id=element_id)

    @app.post("/_sandbox/webhook/run")
    def control_webhook_run():
        """The built-in Webhook action: a POST with only document_id, no tokens (reference §7)."""
        data = request.get_json(silent=True) or {}
        body = flatten({"document_id": ["lists", "BizprocDocument", str(data["element_id"])]})
        response = requests.post(data["url"], data=body, timeout=30)
        return jsonify(status=response.status_code, body=response.text[:2000])

    @app.post("/_sandbox/timeman")
    def control_timeman():
        """Time-tracking reports of users (what timeman.timecontrol.reports.get will answer)."""
        data = request.get_json(silent=True) or {}
        with state.lock:
            for report in data.get("reports", []):
                state.timeman_reports[(int(report["user_id"]), int(report["year"]), int(report["month"]))] = report["days"]
        return jsonify(ok=True)

    @app.get("/_sandbox/state")
    def control_state():
        with state.lock:
            return jsonify(
                domain=state.domain, member_id=state.member_id, app_installed=state.app_installed,
                app_present=state.app_present, users=len(state.users), departments=len(state.departments),
                events=len(state.events), event_bindings=state.event_bindings, notifications=state.notifications,
                robots=list(state.robots), activities=list(state.activities),
                bizproc_events_sent=state.bizproc_events_sent,
                live_refresh_tokens=len(state.refresh_tokens), stats=state.stats,
                bucket={"rate": state.bucket.rate, "burst": state.bucket.burst, "enabled": state.bucket.enabled},
            )

    @app.post("/_sandbox/stats/reset")
    def control_stats_reset():
        with state.lock:
            state.stats.update(http_requests=0, rejected_503=0, rejected_429=0, commands=0, by_method={},
                               token_refreshes=0)
        return jsonify(ok=True)

    @app.post("/_sandbox/users")
    def control_add_user():
        """Add a portal user directly (e.g. a non-admin colleague who opens the app)."""
        data = request.get_json(silent=True) or {}
        with state.lock:
            user_id = state.add_user_unchecked({k: v for k, v in data.items() if k != "admin"})
            state.users[user_id]["IS_ADMIN"] = bool(data.get("admin"))
        return jsonify(id=user_id)

    return app


def _serve_token_endpoint(app: Flask, state: PortalState) -> None:
    """The token endpoint, with the parameters of DOCS settings/oauth/index.md (a GET with the query)."""

    @app.get("/oauth/token/")
    def token():
        args = request.args
        with state.lock:
            if args.get("client_id") != state.app.client_id or args.get("client_secret") != state.app.client_secret:
                return jsonify(error="invalid_client", error_description="Invalid client"), 400
            if args.get("grant_type") != "refresh_token":
                return jsonify(error="invalid_request", error_description="Unsupported grant_type"), 400
            user_id = state.refresh_tokens.pop(args.get("refresh_token", ""), None)  # single use
            if user_id is None or not state.app_present:
                return jsonify(error="invalid_grant", error_description="Invalid refresh token"), 400
            state.stats["token_refreshes"] += 1
            return jsonify(state.issue_tokens(user_id))


def create_oauth_app(state: PortalState) -> Flask:
    """The OAuth server (oauth.bitrix.info in the cloud): token endpoint and app.info for handshakes."""
    app = Flask("sandbox_oauth")

    _serve_token_endpoint(app, state)

    # b24pysdk calls `/rest/app.info/` (trailing slash); both spellings are the same method.
    @app.route("/rest/app.info", methods=["GET", "POST"])
    @app.route("/rest/app.info/", methods=["GET", "POST"])
    def app_info():
        """What the token belongs to, in the OAuth server's own shape (not the portal's app.info).

        Source: b24pysdk api/responses/bitrix_app_info_response.py (B24AppInfoResult, B24AppInfoInstall),
        the SDK that validates frame and event data against this answer; PHPSDK src/Core/ApiClient.php
        asks the same endpoint because "we can't trust tokens from portal placement or portal event".
        """
        params = _request_params()
        with state.lock:
            try:
                user_id = state.user_for_token(params.get("auth"))
            except RestError as exc:
                return jsonify(exc.body()), exc.status
            token = state.access_tokens[params.get("auth")]
            result = {
                "client_id": state.app.client_id, "scope": ",".join(state.app.scope),
                "expires": time.strftime("%Y-%m-%dT%H:%M:%S+03:00", time.localtime(token.expires_at)),
                "install": {"installed": state.app_installed, "version": state.app.version, "status": "L",
                            "scope": ",".join(state.app.scope), "domain": state.domain,
                            "uri": state.client_endpoint.removesuffix("rest/").rstrip("/"),
                            "client_endpoint": state.client_endpoint, "member_id": state.member_id,
                            "member_type": "PORTAL"},
                "user_id": user_id,
            }
            return jsonify(result=result, time=_time_block(time.time()))

    return app


# -- the portal's side of install, events and frames ---------------------------------------------------------
def _begin_install(state: PortalState) -> None:
    state.app_present = True
    if not state.application_token:
        state.application_token = secrets.token_hex(16)


def _frame_query(state: PortalState) -> str:
    scheme_flag = "1" if state.client_endpoint.startswith("https") else "0"
    return urlencode({"DOMAIN": state.domain, "PROTOCOL": scheme_flag, "LANG": state.language,
                      "APP_SID": secrets.token_hex(8)})


def _frame_form(state: PortalState, user_id: int, placement: str) -> dict[str, str]:
    tokens = state.issue_tokens(user_id)
    return {"AUTH_ID": tokens["access_token"], "AUTH_EXPIRES": str(tokens["expires_in"]),
            "REFRESH_ID": tokens["refresh_token"], "SERVER_ENDPOINT": state.server_endpoint,
            "member_id": state.member_id, "status": "L", "PLACEMENT": placement, "PLACEMENT_OPTIONS": "{}",
            "APPLICATION_TOKEN": state.application_token, "APPLICATION_SCOPE": ",".join(state.app.scope)}


def _deliver(state: PortalState, event: str, data: dict, *, with_tokens: bool) -> list[dict]:
    """POST an event to every handler bound to it, form-encoded as Bitrix24 does (reference §1)."""
    auth: dict[str, Any] = {"domain": state.domain, "server_endpoint": state.server_endpoint,
                            "client_endpoint": state.client_endpoint, "member_id": state.member_id,
                            "application_token": state.application_token, "status": "L"}
    if with_tokens:
        tokens = state.issue_tokens(1)
        auth.update(access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
                    expires_in=tokens["expires_in"], scope=tokens["scope"], user_id=1)
    deliveries = []
    for binding in [b for b in state.event_bindings if b["event"] == event]:
        body = flatten({"event": event, "event_handler_id": "1", "data": data, "ts": str(int(time.time())), "auth": auth})
        try:
            response = requests.post(binding["handler"], data=body, timeout=30)
            deliveries.append({"handler": binding["handler"], "status": response.status_code})
        except requests.RequestException as exc:  # no retries, as in the cloud (reference §1)
            deliveries.append({"handler": binding["handler"], "error": exc.__class__.__name__})
    return deliveries


def _drop_connection() -> None:
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def _frame_page(state: PortalState, *, target_url: str, title: str, placement: str) -> str:
    user_id = int(request.args.get("user_id", 1))
    if "lang" in request.args:
        state.language = request.args["lang"]
    with state.lock:
        form = _frame_form(state, user_id, placement)
        query = _frame_query(state)
    return render_template_string(_FRAME_HTML, title=title, action=f"{target_url}?{query}", form=form)


_FRAME_HTML = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>{{ title }} — Битрикс24 (песочница)</title>
<style>body{margin:0;font:14px "Helvetica Neue",Arial,sans-serif;background:#eef2f4}
header{background:#2fc6f6;color:#fff;padding:10px 20px;font-weight:bold}
#appframe{border:0;width:100%;height:600px;background:#fff}</style></head>
<body><header>Битрикс24 · {{ title }}</header>
<iframe id="appframe" name="appframe"></iframe>
<form id="bxform" method="post" target="appframe" action="{{ action }}">
{% for k, v in form.items() %}<input type="hidden" name="{{ k }}" value="{{ v }}">{% endfor %}
</form>
<script>
window.addEventListener("message", function (e) {
  var m = e.data || {};
  if (!m.bx24) return;
  var frame = document.getElementById("appframe");
  if (m.bx24 === "installFinish") {
    fetch("/_sandbox/install-finish", {method: "POST"}).then(function () {
      document.body.setAttribute("data-installed", "yes");
    });
  } else if (m.bx24 === "resizeWindow" && m.height) {
    frame.style.height = m.height + "px";
  }
});
document.getElementById("bxform").submit();
</script></body></html>"""

# A stand-in for the BX24 JS library (api.bitrix24.com/api/v1/): the same calls, sent to the parent
# portal window by postMessage.
_BX24_JS = """(function () {
  function send(cmd, extra) { var m = {bx24: cmd}; for (var k in (extra || {})) m[k] = extra[k]; window.parent.postMessage(m, "*"); }
  window.BX24 = {
    init: function (cb) { if (cb) setTimeout(cb, 0); },
    installFinish: function () { send("installFinish"); },
    fitWindow: function () { send("resizeWindow", {height: Math.max(400, document.documentElement.offsetHeight + 20)}); },
    resizeWindow: function (w, h) { send("resizeWindow", {width: w, height: h}); },
    getScrollSize: function () { return {scrollWidth: document.documentElement.scrollWidth, scrollHeight: document.documentElement.scrollHeight}; },
    isAdmin: function () { return true; }
  };
})();"""
