"""PHP-style query strings: the form Bitrix24 parses inside `batch` commands (reference §3)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]" if prefix else str(key), item, out)
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append((prefix, ""))
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, out)
    elif isinstance(value, bool):
        out.append((prefix, "Y" if value else "N"))
    elif value is None:
        out.append((prefix, ""))
    else:
        out.append((prefix, str(value)))


def php_query(params: dict[str, Any]) -> str:
    """{'FILTER': {'>ID': 5}, 'select': ['ID']} -> 'FILTER%5B%3EID%5D=5&select%5B0%5D=ID'.

    `$result[...]` references are left readable so the portal can substitute them.
    """
    pairs: list[tuple[str, str]] = []
    _flatten("", params, pairs)
    safe = "$[]"  # keeps `$result[key][0][ID]` intact in values
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=safe)}" for k, v in pairs)


def command(method: str, params: dict[str, Any] | None = None) -> str:
    """One `batch` command string: 'method?query'."""
    return f"{method}?{php_query(params)}" if params else method
