"""``Page``: what a console route is handed — who is signed in, their words, zone, CSRF token.

A route takes one of the typed dependencies of :mod:`controller.console.deps` and answers
``page.render("folder/name.html", key=value…)`` or ``page.redirect("/path", done="done.key")``.
Every template receives ``page`` and these names: ``t`` (translate), ``when`` (a UTC
instant in the page's zone), ``csrf_token``, ``actor``, ``lang``, ``nav``, ``form``
(values as typed, for re-rendering), ``errors`` (field -> message) and ``done`` (the
confirmation after a redirect).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment

from controller.composition import ControllerRuntime
from controller.console.i18n import LANGUAGE_NAMES, LANGUAGES, Translator
from controller.console.nav import visible_nav
from controller.console.security import CSRF_FIELD, CSRF_HEADER
from controller.console.timefmt import format_local, utc_offset_label
from controller.domain.actors import Actor


@dataclass(frozen=True)
class FormValues:
    """A posted form as typed: ``get`` for one value, ``getlist`` for checkboxes/selects."""

    values: Mapping[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        """The field's (first) value, stripped of surrounding blanks; ``default`` if absent."""
        found = self.values.get(name)
        return found[0].strip() if found else default

    def raw(self, name: str) -> str:
        """The field's value exactly as typed (passwords: spaces count)."""
        found = self.values.get(name)
        return found[0] if found else ""

    def getlist(self, name: str) -> list[str]:
        """Every value of a multi-valued field (checkboxes, multiple selects)."""
        return [v.strip() for v in self.values.get(name, []) if v.strip()]

    def has(self, name: str, value: str) -> bool:
        """Whether ``value`` is among the field's values (to re-check a checkbox)."""
        return value in self.values.get(name, [])


@dataclass
class Page:
    """One request of the console, ready to render."""

    request: Request
    runtime: ControllerRuntime
    env: Environment
    t: Translator
    csrf_token: str
    tz: str
    actor: Actor | None = None
    token_id: str | None = None
    kept: FormValues | None = None

    @property
    def lang(self) -> str:
        """The language of the page (``vi`` or ``en``)."""
        return self.t.language

    @property
    def now(self) -> datetime:
        """The controller's clock (fake in tests)."""
        return self.runtime.clock.now()

    def when(self, instant: datetime | None, style: str = "datetime", tz: str | None = None) -> str:
        """An instant in the page's zone (or ``tz``), day/month/year and 24 h."""
        return format_local(instant, tz or self.tz, style)

    def context(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        """Everything a template may use."""
        done = self.request.query_params.get("done", "")
        base: dict[str, Any] = {
            "page": self,
            "t": self.t,
            "when": self.when,
            "lang": self.lang,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "actor": self.actor,
            "csrf_token": self.csrf_token,
            "csrf_field": CSRF_FIELD,
            "csrf_header": CSRF_HEADER,
            "nav": visible_nav(self.actor) if self.actor else [],
            "path": self.request.url.path,
            "here": _here(self.request),
            "tz_label": utc_offset_label(self.tz, self.now),
            "done": done if done.startswith("done.") and self.t.has(done) else "",
            "form": self.kept or FormValues(),
            "errors": {},
            # Signed-in staff see when orders cannot leave (console.md, "broker down").
            "broker_down": self.actor is not None and not self.runtime.broker_connected(),
        }
        base.update(extra)
        return base

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        """The template rendered with the page's context; ``status`` for errors (422…)."""
        html = self.env.get_template(template).render(self.context(context))
        return HTMLResponse(html, status_code=status, headers=NO_STORE)

    def redirect(self, url: str, *, done: str | None = None) -> RedirectResponse:
        """303 to ``url`` (POST → redirect → GET), with a confirmation key to show there."""
        if done:
            url += ("&" if "?" in url else "?") + urlencode({"done": done})
        return RedirectResponse(url, status_code=303)


# Pages show people's data: never kept by a shared computer's cache or a proxy; never
# framed by another site (clickjacking a "send emergency" button); referrers stay on
# this site (the kept-form return reads them).
NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _here(request: Request) -> str:
    """The current path and query (the ``next`` a sign-in returns to)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to return to after sign-in; anything else (another site) is refused."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
