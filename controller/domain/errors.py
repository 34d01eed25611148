"""Domain errors. Routes map them to HTTP statuses; the CLI to exit codes.

Every message is written for the officer who will read it, not for a developer.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain makes on purpose."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
