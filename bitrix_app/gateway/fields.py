"""The field table: the core's names for what ZUP owns ↔ Bitrix24's field names, both ways, in one place.

This is the only file where a ZUP value becomes a Bitrix24 field (`user_params`, `department_params`)
and a Bitrix24 answer becomes the core's terms (`canonical_user`, `canonical_department`). Dates travel
through the core as ISO strings; how a portal wants them written is `DateStyle` (an adapter of its own,
because the REST layer converts some date fields and not others: reference bitrix24-rest.md, users).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Mapping

from hrsync.sync.operations import DEPARTMENTS


class Kind(Enum):
    TEXT = "text"
    # A date the REST layer converts from ISO 8601 itself (rest/lib/api/user.php prepareSaveData runs
    # CRestUtil::unConvertDate on PERSONAL_BIRTHDAY only): written as ISO.
    DATE_CONVERTED = "date_converted"
    # A date user field the REST layer passes on as it came (prepareSaveData converts only UF_USR_* fields),
    # checked by main/lib/userfield/types/datetype.php against the site's format: written in that format.
    # Sent as ISO on a DD.MM.YYYY portal, user.add fails after registering the user (no name, no invitation).
    DATE_SITE = "date_site"


@dataclass(frozen=True)
class UserField:
    bitrix: str  # Bitrix24's name (user.get / user.add / user.update)
    kind: Kind = Kind.TEXT


# The core's name -> Bitrix24's. Values are strings: user.add refuses non-strings in WORK_/PERSONAL_.
USER_FIELDS: dict[str, UserField] = {
    "first_name": UserField("NAME"),
    "last_name": UserField("LAST_NAME"),
    "middle_name": UserField("SECOND_NAME"),
    "email": UserField("EMAIL"),
    "payroll_id": UserField("XML_ID"),  # how a crashed run, and a later one, recognise the user as ZUP's person
    "position": UserField("WORK_POSITION"),
    "employment_date": UserField("UF_EMPLOYMENT_DATE", Kind.DATE_SITE),
    "birthday": UserField("PERSONAL_BIRTHDAY", Kind.DATE_CONVERTED),
    "gender": UserField("PERSONAL_GENDER"),
    "mobile_phone": UserField("PERSONAL_MOBILE"),
}
USER_DEPARTMENTS = "UF_DEPARTMENT"  # the user's departments: a list of department IDs
USER_ACTIVE = "ACTIVE"  # "N" dismisses (the data stays), "Y" reinstates
USER_ID = "ID"

DEPARTMENT_NAME, DEPARTMENT_PARENT, DEPARTMENT_HEAD, DEPARTMENT_ID = "NAME", "PARENT", "UF_HEAD", "ID"


# Bitrix24's spelling of a date format -> strftime's.
_PATTERNS = {"DD.MM.YYYY": "%d.%m.%Y", "MM/DD/YYYY": "%m/%d/%Y", "DD/MM/YYYY": "%d/%m/%Y", "YYYY-MM-DD": "%Y-%m-%d",
             "DD-MM-YYYY": "%d-%m-%Y", "YYYY.MM.DD": "%Y.%m.%d"}
DATE_FORMATS = tuple(_PATTERNS)
# The site's FORMAT_DATE of a new cloud portal, by its language. UNCONFIRMED (the cultures are set when a
# portal is made, not in the module source): a portal whose site says otherwise sets Portal.date_format.
DATE_FORMAT_BY_LANGUAGE = {"ru": "DD.MM.YYYY", "by": "DD.MM.YYYY", "kz": "DD.MM.YYYY", "ua": "DD.MM.YYYY",
                           "de": "DD.MM.YYYY", "en": "MM/DD/YYYY"}
DEFAULT_DATE_FORMAT = "DD.MM.YYYY"


class DateStyle:
    """How a portal's date fields are written and read. The core's dates are ISO `YYYY-MM-DD`; answers
    come back in ISO 8601 (getUserData's CRestUtil::convertDate), with a time and zone."""

    def __init__(self, site_format: str = DEFAULT_DATE_FORMAT) -> None:
        if site_format not in _PATTERNS:
            raise ValueError(f"unknown date format {site_format!r}: one of {', '.join(_PATTERNS)}")
        self.site_format = site_format
        self._pattern = _PATTERNS[site_format]

    def write(self, iso_day: str, kind: Kind) -> str:
        if kind is Kind.DATE_SITE:
            return date.fromisoformat(iso_day[:10]).strftime(self._pattern)
        return iso_day

    def read(self, value: Any) -> str:
        """A date field from user.get, as an ISO day ("" when empty)."""
        text = str(value or "").strip()
        if not text:
            return ""
        try:
            return datetime.fromisoformat(text).date().isoformat()
        except ValueError:
            pass
        try:  # an answer in the site's format (older portals answer some user fields so)
            return datetime.strptime(text[:10], self._pattern).date().isoformat()
        except ValueError:
            return text[:10]


def site_dates(date_format: str, language: str) -> DateStyle:
    """The portal's own setting, else its language's default."""
    return DateStyle(date_format or DATE_FORMAT_BY_LANGUAGE.get((language or "")[:2].lower(), DEFAULT_DATE_FORMAT))


def portal_dates(portal) -> DateStyle:
    return site_dates(portal.date_format, portal.language)


ISO_DATES = DateStyle("YYYY-MM-DD")


def _written(field: UserField, value: Any, dates: DateStyle) -> Any:
    if field.kind is not Kind.TEXT and value:
        return dates.write(value.isoformat() if isinstance(value, date) else str(value), field.kind)
    return value


def user_params(values: Mapping[str, Any], *, dates: DateStyle = ISO_DATES, creating: bool = False) -> dict[str, Any]:
    """The core's user fields -> Bitrix24's (the departments list is the caller's: it needs IDs)."""
    params: dict[str, Any] = {}
    for name, value in values.items():
        if name == DEPARTMENTS:
            continue
        if creating and value in ("", None):
            continue  # user.add: an empty field is simply not set
        field = USER_FIELDS[name]
        params[field.bitrix] = _written(field, value, dates)
    return params


def canonical_user(raw: Mapping[str, Any], *, dates: DateStyle = ISO_DATES) -> dict[str, str]:
    """user.get's row -> the core's user fields, normalised for comparison with plan.user_fields."""
    values = {}
    for name, field in USER_FIELDS.items():
        value = raw.get(field.bitrix)
        values[name] = dates.read(value) if field.kind is not Kind.TEXT else str(value or "")
    return values


def user_departments(raw: Mapping[str, Any]) -> frozenset[int]:
    return frozenset(int(d) for d in (raw.get(USER_DEPARTMENTS) or []) if str(d).strip())


def user_is_active(raw: Mapping[str, Any]) -> bool:
    return raw.get(USER_ACTIVE) in (True, "Y", "true", 1)


def optional_id(value: Any) -> int | None:
    """A department's PARENT or UF_HEAD: empty, "0" or missing mean none."""
    try:
        return int(value) if value not in (None, "", "0", 0) else None
    except (TypeError, ValueError):
        return None
