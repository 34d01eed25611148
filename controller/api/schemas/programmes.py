"""Programme schemas: a ward's programme (lịch phát sóng), its check, and its queue."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from controller.api.bounds import Code, Day, Identifier
from controller.domain.programmes.schema import ProgrammeDoc


class ProgrammeUpdate(BaseModel):
    """A programme document (the YAML file's content, as JSON), to check or to save."""

    model_config = ConfigDict(extra="forbid")

    document: ProgrammeDoc = Field(description="The whole programme, as its YAML file holds it.")


class ProgrammePublic(BaseModel):
    """The stored programme."""

    version: int = Field(description="Incremented on every save.")
    document: ProgrammeDoc = Field(description="Exactly what was applied.")


class ConflictPublic(BaseModel):
    """One reason a programme cannot be saved."""

    code: str = Field(description="A short machine word for the kind of conflict.")
    message: str = Field(description="What is wrong, for a person.")
    path: str = Field(description="Where in the document, e.g. sessions[1].start.")
    line: int | None = Field(default=None, description="Line in the source file, when known.")


class ProgrammeCheckPublic(BaseModel):
    """What saving would change, and what stands in the way."""

    conflicts: list[ConflictPublic] = Field(description="Empty when it could be saved.")
    diff: list[str] = Field(description="Changes against the stored programme, one per line.")


class ProgrammeSavedPublic(BaseModel):
    """The stored version and what changed."""

    version: int = Field(description="The version now stored.")
    diff: list[str] = Field(description="Changes against the previous version, one per line.")


class QueueEntryCreate(BaseModel):
    """Queue an approved bulletin into a session for some days (local dates)."""

    model_config = ConfigDict(extra="forbid")

    bulletin_id: Identifier = Field(
        description="An approved bulletin: its id, or the code people gave it."
    )
    session_code: Code = Field(description="A session of the ward's programme.")
    first_date: Day = Field(description="First day it airs (ward's local date): today or later.")
    last_date: Day = Field(description="Last day it airs (included).")


class QueueEntryPublic(BaseModel):
    """A queue entry."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    session_code: str
    bulletin_id: str
    first_date: date
    last_date: date
    position: int = Field(description="Order within the session.")
    added_by: str = Field(description="Who queued it.")
