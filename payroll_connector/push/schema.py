"""The push package (mode B): what 1C posts to /payroll/api/v1/packages, versioned, as pydantic models.

The same models give the JSON Schema published at /payroll/api/v1/schema.json and in the OpenAPI
document. Field names are ours (English, stable); values are ZUP's (its GUIDs, its absence states).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hrsync.sync.model import EARLIEST_DATE, LATEST_DATE

SCHEMA_VERSION = "1.0"

Guid = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
Text = Annotated[str, StringConstraints(max_length=1000)]
# The dates an HR record may carry (hrsync.sync.model): a package with another is refused, record named.
Day = Annotated[date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]


class _Record(BaseModel):
    # Strict: "true" is not a boolean and "2" not a number, so the stored package means exactly what
    # the validated one did (dates still come as ISO strings, as JSON has no dates).
    model_config = ConfigDict(extra="forbid", strict=True)


class OrganisationIn(_Record):
    guid: Guid
    name: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class DepartmentIn(_Record):
    guid: Guid
    name: Text
    parent_guid: Guid | None = None
    organisation_guid: Guid
    code: Text = ""
    created: Day | None = None
    disbanded: Day | None = None


class PositionIn(_Record):
    guid: Guid
    name: Text


class PersonIn(_Record):
    guid: Guid = Field(description="Catalog_ФизическиеЛица.Ref_Key")
    last_name: Text = ""
    first_name: Text = ""
    middle_name: Text = ""
    birthday: Day | None = None
    gender: Literal["M", "F", ""] = ""
    email: Text = Field("", description="Checked by the app: a wrong one is reported for that person")
    phones: list[Text] = Field(default_factory=list, max_length=20)


class EmploymentIn(_Record):
    guid: Guid = Field(description="Catalog_Сотрудники.Ref_Key")
    person_guid: Guid
    personnel_number: Text = Field("", description="Табельный номер (Catalog_Сотрудники.Code)")
    organisation_guid: Guid
    department_guid: Guid | None = None
    position_guid: Guid | None = None
    hire_date: Day
    termination_date: Day | None = None
    kind: Literal["main", "internal_part_time", "external_part_time"] = "main"


class HeadIn(_Record):
    """A department's head today (ПодразделенияОрганизацииРуководители: Руководитель is a ФизическоеЛицо).
    Version 1.0 packages named an employment instead; both are accepted, one is needed."""

    department_guid: Guid
    person_guid: Guid | None = Field(None, description="Catalog_ФизическиеЛица.Ref_Key of the head")
    employment_guid: Guid | None = Field(None, description="an employment of the head (the first version's way)")

    @model_validator(mode="after")
    def _names_the_head(self):
        if not self.person_guid and not self.employment_guid:
            raise ValueError("a head needs person_guid (or employment_guid)")
        return self


class AbsenceIn(_Record):
    document_guid: Guid = Field(description="ДокументОснование of the ДанныеСостоянийСотрудников record")
    document_kind: Text = Field("", description="e.g. Document_Отпуск")
    employment_guid: Guid
    kind: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="Состояние as ZUP names it: ОтпускОсновной, Болезнь, Командировка, …")
    start: Day
    end: Day | None = None
    reversed: bool = False


class SnapshotBody(_Record):
    """A full picture. Large ones may come in parts: same snapshot_id, part 1..parts."""

    snapshot_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    part: int = Field(1, ge=1)
    parts: int = Field(1, ge=1, le=1000)
    organisations: list[OrganisationIn] = Field(default_factory=list)
    departments: list[DepartmentIn] = Field(default_factory=list)
    positions: list[PositionIn] = Field(default_factory=list)
    persons: list[PersonIn] = Field(default_factory=list)
    employments: list[EmploymentIn] = Field(default_factory=list)
    heads: list[HeadIn] = Field(default_factory=list)
    absences: list[AbsenceIn] = Field(default_factory=list)


class Hire(_Record):
    op: Literal["hire"]
    person: PersonIn
    employment: EmploymentIn


class Transfer(_Record):
    op: Literal["transfer"]
    employment: EmploymentIn


class Termination(_Record):
    op: Literal["termination"]
    employment_guid: Guid
    termination_date: Day


class PersonChanged(_Record):
    op: Literal["person_changed"]
    person: PersonIn


class AbsenceAdded(_Record):
    op: Literal["absence_added", "absence_changed"]
    absence: AbsenceIn


class AbsenceCancelled(_Record):
    op: Literal["absence_cancelled"]
    document_guid: Guid
    employment_guid: Guid


class DepartmentUpsert(_Record):
    op: Literal["department_created", "department_renamed", "department_moved"]
    department: DepartmentIn


class DepartmentDisbanded(_Record):
    op: Literal["department_disbanded"]
    department_guid: Guid
    disbanded: Day


class HeadChanged(_Record):
    """The department's head from now on; neither person_guid nor employment_guid: it has none."""

    op: Literal["head_changed"]
    department_guid: Guid
    person_guid: Guid | None = None
    employment_guid: Guid | None = None


Change = Annotated[
    Union[Hire, Transfer, Termination, PersonChanged, AbsenceAdded, AbsenceCancelled, DepartmentUpsert,
          DepartmentDisbanded, HeadChanged],
    Field(discriminator="op"),
]


class Package(_Record):
    model_config = ConfigDict(extra="forbid", strict=True)

    schema_version: Literal["1.0"]
    package_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="Chosen by 1C, unique per connection: a package sent twice is processed once")
    kind: Literal["snapshot", "changes"]
    created_at: datetime | None = None
    snapshot: SnapshotBody | None = None
    changes: list[Change] | None = None


def package_json_schema() -> dict:
    schema = Package.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "/payroll/api/v1/schema.json"
    schema["title"] = f"hrsync payroll package v{SCHEMA_VERSION}"
    # Each kind carries its own body; services.parse_package refuses a package without it, by name.
    schema["allOf"] = [
        {"if": {"properties": {"kind": {"const": "snapshot"}}, "required": ["kind"]},
         "then": {"required": ["snapshot"], "properties": {"snapshot": {"$ref": "#/$defs/SnapshotBody"}}}},
        {"if": {"properties": {"kind": {"const": "changes"}}, "required": ["kind"]},
         "then": {"required": ["changes"], "properties": {"changes": {"type": "array"}}}},
    ]
    return schema
