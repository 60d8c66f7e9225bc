"""Reading PHP-style nested parameters (`FILTER[>ID]=5`, `select[]=ID`) the way Bitrix24's PHP does."""
from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[]+)((?:\[[^\]]*\])*)$")


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        keys = list(node.keys())
        if keys and all(k.isdigit() for k in keys) and sorted(int(k) for k in keys) == list(range(len(keys))):
            return [node[str(i)] for i in range(len(keys))]
    return node


def nest(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if not match:
            root[raw_key] = value
            continue
        parts = [match.group(1)] + re.findall(r"\[([^\]]*)\]", match.group(2))
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _listify(root)


def parse_query(query: str) -> dict[str, Any]:
    return nest(parse_qsl(query, keep_blank_values=True))


def flatten(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The inverse of `nest`, for the form posts the portal sends (events, install, robots)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            pairs.extend(flatten(value, name))
        elif isinstance(value, (list, tuple)):
            pairs.extend(flatten({str(i): v for i, v in enumerate(value)}, name))
        elif value is None:
            pairs.append((name, ""))
        else:
            pairs.append((name, str(value)))
    return pairs
