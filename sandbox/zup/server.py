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

from .generator import Infobase, generate_company
from .odata_query import QueryError, compile_filter, sort_rows

BASE_PATH = "/zup/odata/standard.odata/"
_KEYED = re.compile(r"^(?P<entity>[^(/]+)\(guid'(?P<ref>[0-9a-fA-F-]{36})'\)(?P<action>/Post|/Unpost)?$")
DOCUMENT_PREFIX = "Document_"


@dataclass
class ZupState:
    infobase: Infobase
    username: str = "odata"
    password: str = "secret"
    unpublished: set[str] = field(default_factory=set)
    down: bool = False
    refuse_documents: int = 0  # next N document POSTs are refused with a 1C error
    refusal_message: str = "Сотрудник в указанный период уже отсутствует"
    slow_seconds: float = 0.0
    slow_post_seconds: float = 0.0  # extra time 1C takes to write a document (a POST)
    requests: int = 0
    posts: int = 0  # POSTs that reached the infobase (a test waits for one, then kills the writer)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _cache: dict = field(default_factory=dict)

    def query(self, entity: str, filter_text: str | None, orderby: str | None) -> list[dict]:
        key = (entity, filter_text, orderby, self.infobase.version)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            predicate = compile_filter(filter_text, unlimited=UNLIMITED_STRINGS.get(entity, frozenset()))
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
            names = sorted(e for e in state.infobase.entities if e not in state.unpublished)
        root = request.host_url.rstrip("/") + BASE_PATH
        return _json({"odata.metadata": root + "$metadata", "value": [{"name": n, "url": n} for n in names]})

    @app.route(BASE_PATH + "<path:resource>", methods=["GET", "POST", "PATCH"])
    def resource(resource: str):
        root = request.host_url.rstrip("/") + BASE_PATH
        keyed = _KEYED.match(resource)
        entity = keyed.group("entity") if keyed else resource
        with state.lock:
            if entity == "$metadata":
                names = sorted(e for e in state.infobase.entities if e not in state.unpublished)
                xml = "".join(f'<EntitySet Name="{n}"/>' for n in names)
                return Response(f'<?xml version="1.0"?><edmx:Edmx><EntityContainer>{xml}</EntityContainer></edmx:Edmx>',
                                mimetype="application/xml")
            known = entity in state.infobase.entities or entity.startswith(DOCUMENT_PREFIX)
            if not known or entity in state.unpublished:
                return odata_error(404, "9", f"Не найден сегмент '{entity}'")
            if keyed:
                return _keyed(state, entity, keyed.group("ref").lower(), keyed.group("action"), root)
            if request.method == "POST":
                return _create_document(state, entity, root)
            if request.method != "GET":
                return odata_error(405, "15", "Метод не поддерживается")
            args = request.args
            try:
                rows = state.query(entity, args.get("$filter"), args.get("$orderby"))
            except QueryError as exc:
                return odata_error(400, "6", f"Ошибка разбора параметра $filter: {exc}")
            skip, top = int(args.get("$skip", 0) or 0), args.get("$top")
            rows = rows[skip:skip + int(top)] if top else rows[skip:]
            select = [s.strip() for s in args.get("$select", "").split(",") if s.strip()]
            if select:
                rows = [{k: r.get(k) for k in select} for r in rows]
            return _json({"odata.metadata": f"{root}$metadata#{entity}", "value": rows})

    _control_routes(app, state)
    return app


def _keyed(state: ZupState, entity: str, ref: str, action: str | None, root: str) -> Response:
    document = state.infobase.documents.get(entity, {}).get(ref)
    if document is None:
        return odata_error(404, "7", f"Объект не найден: {entity}(guid'{ref}')")
    if action == "/Post" and request.method == "POST":
        document["Posted"] = True
        state.infobase.touch()
        return Response(status=200)
    if action == "/Unpost" and request.method == "POST":
        document["Posted"] = False
        state.infobase.touch()
        return Response(status=200)
    if request.method == "PATCH":
        document.update(request.get_json(silent=True) or {})
        state.infobase.touch()
    return _json({"odata.metadata": f"{root}$metadata#{entity}/@Element", **document})


def _create_document(state: ZupState, entity: str, root: str) -> Response:
    if not entity.startswith(DOCUMENT_PREFIX):
        return odata_error(400, "15", f"Создание объектов {entity} через этот интерфейс не поддерживается")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return odata_error(400, "6", "Тело запроса не является объектом JSON")
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
        return _json({"unpublished": sorted(state.unpublished)})

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
    args = parser.parse_args()
    running = start_zup(seed=args.seed, size=args.size, port=args.port, username=args.username, password=args.password)
    print(f"Sandbox ZUP: {running.odata_url} (user {args.username}), {args.size} employees, seed {args.seed}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
