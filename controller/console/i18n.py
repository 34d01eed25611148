"""The console's words: one catalog file per language, Vietnamese first.

``locales/vi.json`` is the reference catalog; ``locales/en.json`` must hold the same keys
(``tests/unit/test_console_i18n.py`` checks both ways). Templates never hold words of
their own: they call ``t("key", name=value)``, which formats ``{name}`` placeholders.
A key missing from the chosen language falls back to Vietnamese, then to the key itself,
so a half-translated page still renders (and the test names the missing key).

The language is the ``wardcast_lang`` cookie (set by ``GET /lang/{code}``), else
Vietnamese: the people who run a ward's loudspeakers read Vietnamese first.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "wardcast_lang"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


@cache
def catalog(language: str) -> Mapping[str, str]:
    """The catalog of one language (read once per process)."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}")
    data = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{language}.json must be an object of key -> text")
    return {str(k): str(v) for k, v in data.items()}


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields a catalog text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def choose_language(cookie: str | None) -> str:
    """The language asked for by the cookie, if we speak it; else Vietnamese."""
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    """``t(key, **values)``: a catalog text in one language, its fields filled in."""

    language: str

    def __call__(self, key: str, **values: object) -> str:
        """The text for ``key``; a missing field is left visible rather than failing."""
        text = catalog(self.language).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text

    def has(self, key: str) -> bool:
        """Whether this language's catalog holds ``key`` (to translate domain codes)."""
        return key in catalog(self.language)
