"""A client for the standard OData (v3) interface of a 1C:ZUP 3.1 infobase (reference zup-odata.md §1).

Base URL `…/odata/standard.odata/`, HTTP Basic, `$format=json`; entity-set names percent-encoded;
paging with `$top`/`$skip` and a total `$orderby` (1C does no server-driven paging).
"""
from __future__ import annotations

import logging
from typing import Any, Iterator
from urllib.parse import quote

import requests

from ..errors import PayrollError, PayrollUnavailable

log = logging.getLogger(__name__)

NULL_GUID = "00000000-0000-0000-0000-000000000000"
_SAFE_IN_QUERY = "$,'()=:/"


def guid_literal(value: str) -> str:
    return f"guid'{value}'"


def datetime_literal(value) -> str:
    return f"datetime'{value.strftime('%Y-%m-%dT%H:%M:%S')}'"


class ODataClient:
    def __init__(self, base_url: str, username: str, password: str, *, timeout: tuple[float, float] = (5.0, 120.0),
                 page_size: int = 5000, session: requests.Session | None = None) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.session = session or requests.Session()
        self.session.auth = (username.encode("utf-8"), password.encode("utf-8"))  # 1C user names are often Cyrillic
        self.session.headers["Accept"] = "application/json"
        self.timeout = timeout
        self.page_size = page_size
        self.requests_made = 0

    def _url(self, path: str, query: dict[str, str] | None = None) -> str:
        url = self.base_url + quote(path, safe="()'=,/")
        if query:
            url += "?" + "&".join(f"{k}={quote(str(v), safe=_SAFE_IN_QUERY)}" for k, v in query.items())
        return url

    def _request(self, method: str, path: str, *, entity: str, query: dict[str, str] | None = None,
                 json: Any = None) -> Any:
        url = self._url(path, {"$format": "json", **(query or {})})
        self.requests_made += 1
        try:
            response = self.session.request(method, url, json=json, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise PayrollUnavailable(f"1C:ZUP at {self.base_url} did not answer ({exc.__class__.__name__})",
                                     entity=entity) from exc
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = None
        if response.status_code >= 400 or payload is None or (isinstance(payload, dict) and "odata.error" in payload):
            raise PayrollError.from_response(response.status_code, payload, response.text, entity=entity,
                                             base_url=self.base_url)
        return payload

    def get(self, entity: str, *, select: list[str] | None = None, filter: str | None = None,
            orderby: str | None = None, top: int | None = None, skip: int | None = None) -> list[dict]:
        query: dict[str, str] = {}
        if select:
            query["$select"] = ",".join(select)
        if filter:
            query["$filter"] = filter
        if orderby:
            query["$orderby"] = orderby
        if top is not None:
            query["$top"] = str(top)
        if skip:
            query["$skip"] = str(skip)
        return self._request("GET", entity, entity=entity, query=query).get("value", [])

    def iter_entities(self, entity: str, *, select: list[str], orderby: str, filter: str | None = None) -> Iterator[dict]:
        """Every row, page by page ($top/$skip over a total order, so no row is missed or repeated)."""
        skip = 0
        while True:
            rows = self.get(entity, select=select, filter=filter, orderby=orderby, top=self.page_size, skip=skip)
            yield from rows
            if len(rows) < self.page_size:
                return
            skip += len(rows)

    def published_entities(self) -> list[str]:
        payload = self._request("GET", "", entity="service document")
        return [item.get("url") or item.get("name") for item in payload.get("value", [])]

    def create(self, entity: str, body: dict) -> dict:
        return self._request("POST", entity, entity=entity, json=body)

    def post_document(self, entity: str, ref: str) -> None:
        self._request("POST", f"{entity}({guid_literal(ref)})/Post", entity=entity,
                      query={"PostingModeOperational": "false"})
