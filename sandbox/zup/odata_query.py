"""The part of OData v3 query options 1C's standard interface supports that hrsync and its tests use:
$filter (eq ne gt ge lt le, and or not, parentheses; guid'…', datetime'…', '…', numbers, true/false;
substringof('…', Field) and startswith(Field, '…')), $orderby (field [asc|desc], …), $select, $top, $skip.

An unlimited string (a Length 0 string attribute, such as the `Комментарий` of every document hrsync
writes: Document_Отпуск, _ОтпускБезСохраненияОплаты, _РаботаСверхурочно, _ЗаявкаНаОтпуск in both dumps)
cannot be compared with eq/ne/gt/… in 1C's query language, which $filter is translated to; ПОДОБНО (LIKE),
which substringof and startswith become, is allowed. The error's wording is a guess [Z-error-wording]."""
from __future__ import annotations

import re
from typing import Any, Callable

_TOKEN = re.compile(r"""\s*(?:
    (?P<guid>guid'[0-9a-fA-F-]{36}')|
    (?P<datetime>datetime'[0-9T:\-.]+')|
    (?P<string>'(?:[^']|'')*')|
    (?P<number>-?\d+(?:\.\d+)?)|
    (?P<paren>[()])|
    (?P<comma>,)|
    (?P<word>[^\s(),']+)
)""", re.X)

Predicate = Callable[[dict], bool]


class QueryError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, Any]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"cannot read $filter at: {text[pos:pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        raw = match.group(kind)
        if kind == "guid":
            out.append(("value", raw[5:-1].lower()))
        elif kind == "datetime":
            value = raw[9:-1]
            out.append(("value", value if "T" in value else value + "T00:00:00"))
        elif kind == "string":
            out.append(("value", raw[1:-1].replace("''", "'")))
        elif kind == "number":
            out.append(("value", float(raw) if "." in raw else int(raw)))
        elif kind in ("paren", "comma"):
            out.append((raw, raw))
        elif raw in ("true", "false"):
            out.append(("value", raw == "true"))
        elif raw in ("eq", "ne", "gt", "ge", "lt", "le", "and", "or", "not"):
            out.append((raw, raw))
        else:
            out.append(("field", raw))
    return out


_COMPARE = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
            "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) and len(value) == 36 and value.count("-") == 4 else value


_FUNCTIONS = {
    # substringof('text', Field): does Field contain text (OData v3)
    "substringof": lambda needle, haystack: isinstance(haystack, str) and str(needle) in haystack,
    # startswith(Field, 'text')
    "startswith": lambda haystack, prefix: isinstance(haystack, str) and haystack.startswith(str(prefix)),
}


class _Parser:
    def __init__(self, tokens, unlimited: frozenset[str] = frozenset(), known: frozenset[str] | None = None):
        self.tokens = tokens
        self.i = 0
        self.unlimited = unlimited
        self.known = known

    def peek(self):
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self):
        if self.i >= len(self.tokens):
            raise QueryError("$filter ends too early")
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.or_()
        if self.i != len(self.tokens):
            raise QueryError("unexpected text at the end of $filter")
        return predicate

    def or_(self) -> Predicate:
        left = self.and_()
        while self.peek() == "or":
            self.take()
            right = self.and_()
            left = (lambda l, r: lambda row: l(row) or r(row))(left, right)
        return left

    def and_(self) -> Predicate:
        left = self.unary()
        while self.peek() == "and":
            self.take()
            right = self.unary()
            left = (lambda l, r: lambda row: l(row) and r(row))(left, right)
        return left

    def unary(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.unary()
            return lambda row: not inner(row)
        if self.peek() == "(":
            self.take()
            inner = self.or_()
            if self.peek() != ")":
                raise QueryError("missing ) in $filter")
            self.take()
            return inner
        return self.comparison()

    def call(self, name: str) -> Predicate:
        self.take()  # (
        args = [self.operand(compared=False)]
        while self.peek() == ",":
            self.take()
            args.append(self.operand(compared=False))
        if self.peek() != ")":
            raise QueryError(f"missing ) after the arguments of {name}")
        self.take()
        if len(args) != 2:
            raise QueryError(f"{name} takes two arguments")
        function = _FUNCTIONS[name]
        return lambda row: bool(function(args[0](row), args[1](row)))

    def operand(self, *, compared: bool = True):
        kind, value = self.take()
        if kind == "field":
            if self.known is not None and value not in self.known:
                # Guess [Z-unknown-field]: 1C refuses a field the entity set does not have (no source for the wording).
                raise QueryError(f"Неизвестное поле {value}")
            if compared and value in self.unlimited:
                raise QueryError(f"Поле {value} имеет неограниченную длину: его нельзя сравнивать (используйте "
                                 "substringof)")
            return lambda row: _norm(row.get(value))
        if kind == "value":
            constant = _norm(value)
            return lambda row: constant
        raise QueryError(f"unexpected {value!r} in $filter")

    def comparison(self) -> Predicate:
        if self.peek() == "field" and self.tokens[self.i][1] in _FUNCTIONS and self.i + 1 < len(self.tokens) \
                and self.tokens[self.i + 1][0] == "(":
            name = self.take()[1]
            called = self.call(name)
            if self.peek() in ("eq", "ne"):  # substringof(…) eq true
                op = self.take()[0]
                expected = self.operand(compared=False)
                return (lambda c, e, negate: lambda row: (c(row) == e(row)) != negate)(called, expected, op == "ne")
            return called
        left = self.operand()
        op = self.peek()
        if op not in _COMPARE:
            raise QueryError(f"expected a comparison, found {op!r}")
        self.take()
        right = self.operand()
        compare = _COMPARE[op]

        def predicate(row):
            a, b = left(row), right(row)
            try:
                return compare(a, b)
            except TypeError:
                return False
        return predicate


def fields_named(text: str | None) -> set[str]:
    """The fields a $filter names (for the contract test's record of calls)."""
    if not text:
        return set()
    return {value for kind, value in _tokens(text) if kind == "field" and value not in _FUNCTIONS}


def compile_filter(text: str | None, *, unlimited: frozenset[str] = frozenset(),
                   known: frozenset[str] | None = None) -> Predicate:
    """`unlimited`: the entity's fields of unlimited length, which no comparison may name; `known`: the
    fields it has (None: any)."""
    if not text:
        return lambda row: True
    return _Parser(_tokens(text), unlimited, known).parse()


def sort_rows(rows: list[dict], orderby: str | None) -> list[dict]:
    if not orderby:
        return rows
    for part in reversed([p.strip() for p in orderby.split(",") if p.strip()]):
        name, _, direction = part.partition(" ")
        rows = sorted(rows, key=lambda r: (r.get(name) is None, str(r.get(name) if r.get(name) is not None else "")),
                      reverse=direction.strip().lower() == "desc")
    return rows
