"""Where a domain refusal goes on a console form: beside the control it is about.

The domain names a refusal with a stable ``code``, its ``params`` and the ``field`` it is
about (``controller/domain/errors.py``); ``i18n.refusal_text`` says it in the reader's
language. A form's controls are not always named like the domain's fields (the
schedule's ``q_session`` is the domain's ``session``): each page passes its own table,
and a refusal whose field the form does not show goes to the page's ``default`` place.
"""

from __future__ import annotations

from collections.abc import Mapping

from controller.domain.errors import DomainError


def refusal_field(exc: DomainError, fields: Mapping[str, str], default: str) -> str:
    """The form control ``exc`` is shown beside, or ``default`` when the form has none."""
    return fields.get(exc.field or "", default)
