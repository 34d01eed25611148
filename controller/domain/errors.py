"""Domain errors. Routes map them to HTTP statuses; the CLI to exit codes.

Every message is written for the officer who will read it, not for a developer.

A refusal a console user can meet also carries a stable ``code`` (dotted, e.g.
``"bulletin.text_too_long"``) and the ``params`` its sentence needs: the console shows
``refusal.<code>`` from its catalogs in the reader's language (Vietnamese first), while
``message`` stays the English sentence for the API, the logs and the CLI. ``field``
names the input the refusal is about (``"text"``, ``"start"``…), so a form can show it
beside that control. Codes are part of the contract: rename one only with its catalog
keys (``tests/unit/test_refusal_codes.py`` checks every code has both).
"""

from __future__ import annotations

from collections.abc import Mapping

Param = str | int | float


class DomainError(Exception):
    """Base of every refusal the domain makes on purpose."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, Param] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.params: dict[str, Param] = dict(params or {})
        self.field = field


class InvalidInput(DomainError):
    """The request cannot be carried out as given."""

    status = 422


class NotFound(DomainError):
    """A named thing does not exist."""

    status = 404


class Conflict(DomainError):
    """The request contradicts what is already stored."""

    status = 409


class TooLarge(DomainError):
    """An upload or text over the configured limit."""

    status = 413


class Unavailable(DomainError):
    """A needed service (speech, storage) is not available right now."""

    status = 503
