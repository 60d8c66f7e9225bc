"""Bitrix24 posts events and frames as forms with bracketed keys (`auth[member_id]`); read them as dicts."""
from __future__ import annotations

import re
from typing import Any

_PART = re.compile(r"\[([^\]]*)\]")


def nested(form) -> dict[str, Any]:
    """QueryDict -> nested dict: {'auth': {'member_id': …}, 'data': {'CLEAN': '1'}, 'event': …}."""
    root: dict[str, Any] = {}
    for raw_key in form.keys():
        value = form.get(raw_key)
        head, _, rest = raw_key.partition("[")
        parts = [head] + (_PART.findall("[" + rest) if rest else [])
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return root
