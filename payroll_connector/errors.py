"""One error tree for 1C:ZUP. `transient` errors are retried with backoff; the rest are shown as they are."""
from __future__ import annotations


class PayrollError(Exception):
    transient = False

    def __init__(self, message: str, *, entity: str = "") -> None:
        self.entity = entity
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self)


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
