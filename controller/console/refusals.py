"""A domain refusal on a console page: in the reader's language, beside its field.

The domain names a refusal with a stable ``code``, its ``params`` and the ``field`` it is
about (``controller/domain/errors.py``); ``refusal_text`` (``i18n``) turns it into the
reader's language. A form's controls are not always named like the domain's fields
(the schedule's ``q_session`` is the domain's ``session``): each page passes its own
table, and a refusal whose field the form does not show goes to the page's ``default``
place (usually ``"form"``, the message above the buttons).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from controller.console.i18n import Translator, refusal_text
from controller.domain.errors import DomainError


def same_names(names: Iterable[str]) -> dict[str, str]:
    """A field table for a form whose controls carry the domain's names."""
    return {name: name for name in names}


def refusal_field(exc: DomainError, fields: Mapping[str, str], default: str) -> str:
    """The form control ``exc`` is shown beside, or ``default`` when the form has none."""
    return fields.get(exc.field or "", default)


def place_refusal(
    errors: dict[str, str],
    t: Translator,
    exc: DomainError,
    *,
    fields: Mapping[str, str],
    default: str,
    fallback: str | None = None,
) -> None:
    """Put ``exc``, in the reader's words, beside its control in ``errors``."""
    errors[refusal_field(exc, fields, default)] = refusal_text(t, exc, fallback)
