"""Error schemas: the one body every refusal has, whatever its status.

``detail`` is a sentence for a person when the domain refuses (a bulletin not found,
a period that is not one), and a list of issues when the request's own shape is wrong
(a missing field, an offset past its limit): the list is FastAPI's validation format,
kept as it is because clients already read it. Either way the status says which kind,
and the OpenAPI document declares this schema for every error status, so what the API
documents and what it sends are the same. A domain refusal may add ``code`` (stable,
dotted), its ``params`` and the ``field`` it concerns: ``detail`` stays English.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from controller.api.schemas.programmes import ConflictPublic


class ValidationIssuePublic(BaseModel):
    """One thing wrong with a request: where it is and what is wrong."""

    type: str = Field(description="A machine word for the kind, e.g. less_than_equal.")
    loc: list[str | int] = Field(description="Where: e.g. ['query', 'offset'].")
    msg: str = Field(description="What is wrong, for a person.")
    input: Any = Field(default=None, description="The value refused.")
    ctx: dict[str, Any] | None = Field(default=None, description="The limit it broke, if any.")


class ErrorPublic(BaseModel):
    """A refusal: why, and for some refusals every item at fault."""

    detail: str | list[ValidationIssuePublic] = Field(
        description="Why, in a sentence; or, for a malformed request, each issue."
    )
    conflicts: list[ConflictPublic] | None = Field(
        default=None, description="A programme's conflicts, when that is why."
    )
    problems: list[str] | None = Field(
        default=None, description="An import file's problems, when that is why."
    )
    code: str | None = Field(
        default=None,
        description="A stable code for the refusal (e.g. bulletin.own_approval), to translate.",
    )
    params: dict[str, str | int | float] | None = Field(
        default=None, description="The values the refusal's sentence names, with its code."
    )
    field: str | None = Field(default=None, description="The input the refusal is about.")
