"""One error tree for 1C:ZUP, chosen from 1C's answer (`PayrollError.from_response`).

`transient` errors are retried with backoff; the rest are shown as they are, with 1C's own message.
"""
from __future__ import annotations

from typing import Any


class PayrollError(Exception):
    transient = False

    def __init__(self, message: str, *, entity: str = "") -> None:
        self.entity = entity
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self)

    @classmethod
    def from_response(cls, status: int, payload: Any, text: str, *, entity: str, base_url: str = "") -> "PayrollError":
        """The error an HTTP answer of the standard OData interface stands for (zup-odata.md §1, errors).

        401/403: the user or password (or the role «Удаленный доступ (OData)»); an `odata.error` body:
        1C's own code and message (404 with it: the entity set is not published); a 5xx or an answer
        that is not JSON: the infobase is not answering properly, which passes.
        """
        if status in (401, 403):
            return PayrollAuthError(
                f"1C:ZUP refused the user name or password (HTTP {status}); check the OData user "
                "and that it has the role «Удаленный доступ (OData)»", entity=entity)
        if isinstance(payload, dict) and "odata.error" in payload:
            error = payload["odata.error"] if isinstance(payload["odata.error"], dict) else {}
            code = str(error.get("code", ""))
            message = error.get("message")
            message = str(message.get("value", "")) if isinstance(message, dict) else str(message or "")
            if status == 404 or _says_not_found(message, entity):
                return PayrollNotPublished(code, message, entity=entity, http_status=status)
            return PayrollODataError(code, message, entity=entity, http_status=status)
        if status >= 500 or payload is None:
            return PayrollUnavailable(f"1C:ZUP{' at ' + base_url if base_url else ''} answered HTTP {status} "
                                      "without an OData body", entity=entity)
        return PayrollODataError(str(status), text[:500], entity=entity, http_status=status)


class PayrollAuthError(PayrollError):
    """1C refused the user name or password (HTTP 401/403)."""


class PayrollUnavailable(PayrollError):
    """The infobase did not answer (network, timeout, 5xx without an OData error)."""

    transient = True


class PayrollODataError(PayrollError):
    """1C answered with an `odata.error`: its code and message, as 1C wrote them."""

    def __init__(self, code: str, message: str, *, entity: str = "", http_status: int | None = None) -> None:
        self.code = code
        self.remote_message = message
        self.http_status = http_status
        super().__init__(f"{entity + ': ' if entity else ''}1C error {code}: {message}", entity=entity)


class PayrollNotPublished(PayrollODataError):
    """The entity set is not in the infobase's standard OData composition."""

    def __init__(self, code: str, message: str, *, entity: str = "", http_status: int | None = None) -> None:
        super().__init__(code, message, entity=entity, http_status=http_status)
        self.args = (
            f"{entity} is not published in the infobase's standard OData interface (1C said: {message}). "
            "In 1C:ZUP open Администрирование → Синхронизация данных → «Настройки стандартного интерфейса OData», "
            f"tick {entity.split('_', 1)[-1]} on the «Состав» tab, save, and check again.",
        )


class PayrollPackageInvalid(PayrollError):
    """A pushed package does not match the schema: a list of {record, field, problem}."""

    def __init__(self, problems: list[dict]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the package")


class PackageConflict(PayrollError):
    """A package_id already received with other content: 1C must choose a new id for new content."""

    def __init__(self, package_id: str) -> None:
        self.package_id = package_id
        super().__init__(f"package {package_id} was received before with other content; send new content "
                         "under a new package_id")


class PayrollRequestRejected(PayrollError):
    """A request from Bitrix24 cannot go to ZUP as it is; the message (in Russian) says what to fix."""


def _says_not_found(message: str, entity: str) -> bool:
    # 1C answers an unpublished entity set with its own words, in the infobase's language.
    lowered = message.lower()
    return entity.lower() in lowered and any(w in lowered for w in ("not found", "не найден", "unknown", "неизвест"))
