"""The sandbox ZUP over HTTP: the standard OData interface of a 1C infobase, plus a control API."""
from __future__ import annotations

import argparse
import base64
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server

from .edits import make_change
from .generator import Infobase, generate_company
from .metadata import EDITION_RU, EDITIONS, EntityType, edmx, entity_types
from .odata_query import QueryError, compile_filter, fields_named, sort_rows

BASE_PATH = "/zup/odata/standard.odata/"
# `Catalog_X(guid'…')`, a register record `InformationRegister_X(Name=guid'…',Period=datetime'…')`, and a
# document's `/Post` and `/Unpost` (kb.1ci.com, Developer Guide 17.4.13).
_KEYED = re.compile(r"^(?P<entity>[^(/]+)\((?P<key>[^)]*)\)(?P<action>/Post|/Unpost)?$")
_GUID_KEY = re.compile(r"guid'[0-9a-fA-F-]{36}'")
_LITERAL = re.compile(r"(?P<kind>guid|datetime)?'(?P<value>(?:[^']|'')*)'")
DOCUMENT_PREFIX = "Document_"


@dataclass
class ZupState:
    infobase: Infobase
    username: str = "odata"
    password: str = "secret"
    edition: str = EDITION_RU  # whose metadata it publishes (sandbox/zup/metadata.py)
    unpublished: set[str] = field(default_factory=set)
    unpublished_status: int = 404
    down: bool = False
    refuse_documents: int = 0  # next N document POSTs are refused with a 1C error
    refusal_message: str = "Сотрудник в указанный период уже отсутствует"
    slow_seconds: float = 0.0
    slow_post_seconds: float = 0.0  # extra time 1C takes to write a document (a POST)
    requests: int = 0
    # Every data request: method, entity set, and the fields it names ($select, $filter, $orderby, the body),
    # for the contract test (tests/contract/).
    calls: list[dict] = field(default_factory=list)
    posts: int = 0  # POSTs that reached the infobase (a test waits for one, then kills the writer)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _cache: dict = field(default_factory=dict)

    def query(self, entity_type: EntityType, filter_text: str | None, orderby: str | None) -> list[dict]:
        entity = entity_type.name
        key = (entity, filter_text, orderby, self.infobase.version)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            known = frozenset(entity_type.properties) | {f"{s}/{c}" for s, cs in entity_type.tabular.items() for c in cs}
            predicate = compile_filter(filter_text, unlimited=UNLIMITED_STRINGS.get(entity, frozenset()), known=known)
            rows = [r for r in self.infobase.rows(entity) if predicate(r)]
            self._cache[key] = sort_rows(rows, orderby)
        return self._cache[key]


# Attributes of unlimited length (Length 0 in the configuration dumps) of the entities hrsync filters: the
# `Комментарий` of the four documents it writes (yevgeniy1212/zup-korp, scriperirkth/zup-structure).
UNLIMITED_STRINGS = {entity: frozenset({"Комментарий"}) for entity in (
    "Document_Отпуск", "Document_ОтпускБезСохраненияОплаты", "Document_РаботаСверхурочно", "Document_ЗаявкаНаОтпуск")}


def odata_error(status: int, code: str, message: str) -> Response:
    body = {"odata.error": {"code": code, "message": {"lang": "ru", "value": message}}}
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def create_zup_app(state: ZupState) -> Flask:
    app = Flask("sandbox_zup")

    def authorised() -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == state.username and password == state.password

    @app.before_request
    def gate():
        if not request.path.startswith(BASE_PATH):
            return None
        with state.lock:
            state.requests += 1
            state.posts += request.method == "POST"
            down, slow = state.down, state.slow_seconds + (state.slow_post_seconds if request.method == "POST" else 0)
        if down:
            return Response("Service Unavailable", status=503)
        if slow:
            time.sleep(slow)
        if not authorised():
            return Response("", status=401, headers={"WWW-Authenticate": 'Basic realm="1C"'})
        return None

    @app.get(BASE_PATH)
    def service_document():
        with state.lock:
            names = sorted(e for e in entity_types(state.edition) if e not in state.unpublished)
        root = request.host_url.rstrip("/") + BASE_PATH
        return _json({"odata.metadata": root + "$metadata", "value": [{"name": n, "url": n} for n in names]})

    @app.route(BASE_PATH + "<path:resource>", methods=["GET", "POST", "PATCH", "DELETE"])
    def resource(resource: str):
        root = request.host_url.rstrip("/") + BASE_PATH
        keyed = _KEYED.match(resource)
        entity = keyed.group("entity") if keyed else resource
        with state.lock:
            types = entity_types(state.edition)
            if entity == "$metadata":
                names = sorted(e for e in types if e not in state.unpublished)
                return Response(edmx(names, state.edition), mimetype="application/xml")
            entity_type = types.get(entity)
            if entity_type is None or entity in state.unpublished:
                # Guess [Z-unpublished] (issue 9 calls it unconfirmed): a set that is not published answers with odata.error,
                # 404 by default; a test can make it 400, the other shape seen in 1C's answers.
                return odata_error(state.unpublished_status, "9", f"Не найден сегмент '{entity}'")
            _record(state, entity)
            refused = _refused_options(request.args)
            if refused:
                return refused
            if keyed:
                return _keyed(state, entity_type, keyed, root)
            if request.method == "POST":
                return _create_document(state, entity_type, root)
            if request.method != "GET":
                return odata_error(405, "15", f"Метод {request.method} не поддерживается для коллекции {entity}")
            args = request.args
            select = [s.strip() for s in args.get("$select", "").split(",") if s.strip()]
            unknown = [path for path in select if not entity_type.has_path(path)]
            if unknown:
                return odata_error(400, "6", f"Ошибка разбора параметра $select: неизвестное поле {unknown[0]}")
            try:
                rows = state.query(entity_type, args.get("$filter"), args.get("$orderby"))
            except QueryError as exc:
                return odata_error(400, "6", f"Ошибка разбора параметра $filter: {exc}")
            try:
                skip, top = int(args.get("$skip", 0) or 0), args.get("$top")
                page = rows[skip:skip + int(top)] if top else rows[skip:]
            except ValueError:
                return odata_error(400, "6", "Ошибка разбора параметров $top/$skip")
            body: dict[str, Any] = {"odata.metadata": f"{root}$metadata#{entity}"}
            if args.get("$inlinecount") == "allpages":  # OData v3: the count of all rows the filter keeps
                body["odata.count"] = str(len(rows))
            body["value"] = [_project(r, select) for r in page] if select else page
            return _json(body)

    _control_routes(app, state)
    return app


def _record(state: ZupState, entity: str) -> None:
    args = request.args
    named: set[str] = {s.strip() for s in args.get("$select", "").split(",") if s.strip()}
    named |= {part.strip().split(" ")[0] for part in args.get("$orderby", "").split(",") if part.strip()}
    try:
        named |= fields_named(args.get("$filter"))
    except QueryError:
        pass
    body = request.get_json(silent=True) if request.method in ("POST", "PATCH") else None
    for name, value in (body or {}).items() if isinstance(body, dict) else ():
        named.add(name)
        if isinstance(value, list):
            named |= {f"{name}/{column}" for row in value if isinstance(row, dict) for column in row}
    if len(state.calls) < 5000:
        state.calls.append({"method": request.method, "entity": entity, "fields": sorted(named)})


# The query options the sandbox serves (1C's standard interface: kb.1ci.com Developer Guide 17.4.13 lists
# $filter, $select, $orderby, $top, $skip, $format, $inlinecount, $expand and allowedOnly). The sandbox refuses
# the rest instead of ignoring them, and refuses $expand and a $format other than JSON, which it does not
# implement (a real base does: there a client would get data, here an error that says so) [Z-options].
_SERVED_OPTIONS = frozenset({"$filter", "$select", "$orderby", "$top", "$skip", "$format", "$inlinecount", "allowedOnly",
                             "PostingModeOperational"})


def _refused_options(args) -> Response | None:
    for name in args:
        if name.startswith("$") and name not in _SERVED_OPTIONS:
            return odata_error(400, "6", f"Параметр запроса {name} не поддерживается")
    if args.get("$format", "json") not in ("json", "application/json"):
        return odata_error(400, "6", "Песочница отвечает только в формате JSON ($format=json)")
    if args.get("$inlinecount", "allpages") not in ("allpages", "none"):
        return odata_error(400, "6", "Неверное значение $inlinecount")
    return None


def _project(row: dict, select: list[str]) -> dict:
    """`$select`: properties, and for a tabular section `Section/Column` keeps those columns of each row."""
    out: dict[str, Any] = {}
    for path in select:
        head, _, column = path.partition("/")
        if not column:
            out[head] = row.get(head)
            continue
        rows = out.setdefault(head, [{} for _ in row.get(head) or []])
        for target, source in zip(rows, row.get(head) or []):
            target[column] = source.get(column)
    return out


def _key_of(text: str) -> dict[str, str] | None:
    """`guid'…'` or `Name=guid'…',Period=datetime'…'` (a register record's key), as name -> value."""
    if _GUID_KEY.fullmatch(text):
        return {"Ref_Key": text[5:-1].lower()}
    parts = {}
    for item in text.split(","):
        name, _, literal = item.partition("=")
        match = _LITERAL.fullmatch(literal.strip())
        if not name.strip() or match is None:
            return None
        value = match.group("value")
        parts[name.strip()] = value.lower() if match.group("kind") == "guid" else value.replace("''", "'")
    return parts


def _keyed(state: ZupState, entity_type: EntityType, keyed: re.Match, root: str) -> Response:
    entity, action = entity_type.name, keyed.group("action")
    key = _key_of(keyed.group("key"))
    if key is None:
        return odata_error(400, "6", f"Неверный ключ: {keyed.group('key')}")
    if not set(key) <= set(entity_type.keys):
        return odata_error(400, "6", f"Ключ записи {entity}: {', '.join(entity_type.keys)}")
    rows = [r for r in state.infobase.rows(entity)
            if all(_same(r.get(name), value) for name, value in key.items())]
    shown = keyed.group("key")
    if not rows:
        return odata_error(404, "7", f"Объект не найден: {entity}({shown})")
    record = rows[0]
    is_document = entity.startswith(DOCUMENT_PREFIX)
    if action in ("/Post", "/Unpost"):
        if request.method != "POST" or not is_document:
            return odata_error(405, "15", f"{action[1:]} применимо только к документу (POST)")
        record["Posted"] = action == "/Post"
        state.infobase.touch()
        return Response(status=200)
    if request.method == "DELETE":
        if not is_document:
            # Guess [Z-delete-documents-only]: the sandbox lets a test delete only documents.
            return odata_error(403, "14", f"Удаление объектов {entity} в песочнице запрещено")
        state.infobase.documents.get(entity, {}).pop(record["Ref_Key"], None)
        state.infobase.rows(entity).remove(record)
        state.infobase.touch()
        return Response(status=204)
    if request.method == "PATCH":
        if not is_document:
            return odata_error(403, "14", f"Изменение объектов {entity} в песочнице запрещено")
        body, refused = _checked_body(entity_type)
        if refused:
            return refused
        record.update(body)
        state.infobase.touch()
    if request.method == "POST":
        return odata_error(405, "15", "POST по ключу объекта не поддерживается")
    select = [s.strip() for s in request.args.get("$select", "").split(",") if s.strip()]
    return _json({"odata.metadata": f"{root}$metadata#{entity}/@Element", **(_project(record, select) if select else record)})


def _same(stored: Any, wanted: str) -> bool:
    text = str(stored if stored is not None else "")
    return text.lower() == wanted if len(wanted) == 36 and wanted.count("-") == 4 else text.removesuffix("T00:00:00") == wanted.removesuffix("T00:00:00")


def _checked_body(entity_type: EntityType) -> tuple[dict, Response | None]:
    """The request's JSON object, or the refusal 1C would give it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {}, odata_error(400, "6", "Тело запроса не является объектом JSON")
    problems = entity_type.problems(body)
    if problems:
        # Guess [Z-refused-body] (no source for the code or the wording): 1C refuses a body that names a property
        # the object lacks or gives a value of the wrong type, and writes nothing.
        return body, odata_error(400, "6", f"Ошибка записи {entity_type.name}: {'; '.join(problems)}")
    return body, None


def _create_document(state: ZupState, entity_type: EntityType, root: str) -> Response:
    entity = entity_type.name
    if not entity.startswith(DOCUMENT_PREFIX):
        return odata_error(400, "15", f"Создание объектов {entity} через этот интерфейс не поддерживается")
    body, refused = _checked_body(entity_type)
    if refused:
        return refused
    if state.refuse_documents > 0:
        state.refuse_documents -= 1
        return odata_error(400, "-1", state.refusal_message)
    documents = state.infobase.documents.setdefault(entity, {})
    ref = str(uuid.uuid4())
    number = f"0000-{len(documents) + 1:06d}"
    document = {"Ref_Key": ref, "DataVersion": "AAAAAQAAAAA=", "DeletionMark": False, "Number": number,
                "Date": body.get("Date") or date.today().strftime("%Y-%m-%dT00:00:00"), "Posted": False, **body}
    document["Ref_Key"], document["Number"], document["Posted"] = ref, number, False  # created unposted, always
    documents[ref] = document
    state.infobase.rows(entity).append(document)
    state.infobase.touch()
    return _json({"odata.metadata": f"{root}$metadata#{entity}/@Element", **document}, status=201)


def _control_routes(app: Flask, state: ZupState) -> None:
    @app.post("/_sandbox/unpublish")
    def unpublish():
        data = request.get_json(silent=True) or {}
        with state.lock:
            state.unpublished.update(data.get("entities", []))
            state.unpublished.difference_update(data.get("publish", []))
            state.unpublished_status = int(data.get("status", state.unpublished_status))
        return _json({"unpublished": sorted(state.unpublished)})

    @app.post("/_sandbox/edition")
    def edition():
        data = request.get_json(silent=True) or {}
        if data.get("edition") not in EDITIONS:
            return _json({"error": f"edition must be one of {', '.join(EDITIONS)}"}, status=400)
        with state.lock:
            state.edition = data["edition"]
        return _json({"edition": state.edition})

    @app.post("/_sandbox/faults")
    def faults():
        data = request.get_json(silent=True) or {}
        with state.lock:
            if "down" in data:
                state.down = bool(data["down"])
            if "refuse_documents" in data:
                state.refuse_documents = int(data["refuse_documents"])
            if "refusal_message" in data:
                state.refusal_message = str(data["refusal_message"])
            if "slow_seconds" in data:
                state.slow_seconds = float(data["slow_seconds"])
        return _json({"ok": True})

    @app.post("/_sandbox/change")
    def change():
        """HR's work, for the demo: {"kind": "hire" | "transfer" | "vacation" | "dismiss"} (sandbox.zup.edits)."""
        data = request.get_json(silent=True) or {}
        try:
            with state.lock:
                done = make_change(state.infobase, str(data.get("kind", "")))
        except ValueError as exc:
            return _json({"error": str(exc)}, status=400)
        return _json({"kind": data["kind"], "done": done})

    @app.get("/_sandbox/state")
    def control_state():
        with state.lock:
            return _json({"seed": state.infobase.seed, "size": state.infobase.size,
                          "today": state.infobase.today.isoformat(), "requests": state.requests,
                          "entities": {k: len(v) for k, v in state.infobase.entities.items()},
                          "documents": {k: list(v.values()) for k, v in state.infobase.documents.items()}})


@dataclass
class RunningZup:
    state: ZupState
    server: BaseWSGIServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def odata_url(self) -> str:
        return self.url + BASE_PATH

    def shutdown(self) -> None:
        self.server.shutdown()


def start_zup(*, seed: int = 1, size: int = 300, today: date | None = None, port: int = 0,
              username: str = "odata", password: str = "secret", infobase: Infobase | None = None) -> RunningZup:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    state = ZupState(infobase or generate_company(seed=seed, size=size, today=today), username, password)
    server = make_server("127.0.0.1", port, create_zup_app(state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True, name=f"sandbox-zup-{server.server_port}").start()
    return RunningZup(state, server)


def main() -> None:
    parser = argparse.ArgumentParser(description="Sandbox 1C:ZUP infobase (standard OData interface)")
    parser.add_argument("--port", type=int, default=8201)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--username", default="odata")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="the company's today (benchmarks)")
    parser.add_argument("--departments", type=int, default=None, help="how many departments (default: by size)")
    args = parser.parse_args()
    infobase = generate_company(seed=args.seed, size=args.size, today=args.today,
                                **({"departments": args.departments} if args.departments else {}))
    running = start_zup(infobase=infobase, port=args.port, username=args.username, password=args.password)
    print(f"Sandbox ZUP: {running.odata_url} (user {args.username}), {args.size} employees, seed {args.seed}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
