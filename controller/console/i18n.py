"""The console's words: one catalog file per language, Vietnamese first.

``locales/vi.json`` is the reference catalog; ``locales/en.json`` must hold the same keys
(``tests/unit/test_console_i18n.py`` checks both ways). Templates never hold words of
their own: they call ``t("key", name=value)``, which formats ``{name}`` placeholders.
A key missing from the chosen language falls back to Vietnamese, then to the key itself,
so a half-translated page still renders (and the test names the missing key).

The domain's refusals have their own catalog pair, ``locales/refusals.vi.json`` and
``refusals.en.json`` (keys ``refusal.<code>``), merged into each language's catalog: a
domain code is translated there, next to the codes' test, not among the pages' words.
``refusal_text`` turns a ``DomainError`` into the reader's language. Further page words
may live in ``<part>.vi.json`` / ``<part>.en.json`` pairs (:func:`extra_files`), merged
the same way (a key in two files is an error).

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

from controller.domain.errors import DomainError

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "wardcast_lang"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


REFUSAL_PREFIX = "refusal."


def _read(name: str) -> dict[str, str]:
    data = json.loads((LOCALES / name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{name} must be an object of key -> text")
    return {str(k): str(v) for k, v in data.items()}


def extra_files(language: str) -> list[str]:
    """The language's further page-word files, ``<part>.<language>.json``, by name.

    A part of the console may keep its words in a file of its own (e.g.
    ``extra.vi.json`` beside ``extra.en.json``): merged into the language's catalog
    like the main file, so two engineers can add words without editing the same file.
    """
    skip = {f"{language}.json", f"refusals.{language}.json"}
    return sorted(p.name for p in LOCALES.glob(f"*.{language}.json") if p.name not in skip)


@cache
def catalog(language: str) -> Mapping[str, str]:
    """The catalog of one language (its pages' words and its refusals; read once)."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}")
    words = _read(f"{language}.json")
    for extra in extra_files(language):
        more = _read(extra)
        twice = sorted(set(more) & set(words))
        if twice:  # one home per key: an extra file never silently overrides another
            raise ValueError(f"{extra}: keys already in the {language} catalog: {twice}")
        words.update(more)
    refusals = _read(f"refusals.{language}.json")
    misplaced = [k for k in refusals if not k.startswith(REFUSAL_PREFIX)] + [
        k for k in words if k.startswith(REFUSAL_PREFIX)
    ]
    if misplaced:  # one home per key, so neither file silently overrides the other
        raise ValueError(f"{language}: refusal keys belong in refusals.{language}.json only")
    return {**words, **refusals}


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


def refusal_text(t: Translator, exc: DomainError, fallback: str | None = None) -> str:
    """A domain refusal in the reader's language.

    ``refusal.<code>`` with its ``params`` when the catalog has the code; otherwise the
    domain's English sentence inside the page's generic ``fallback`` sentence (a key
    with a ``{reason}`` field, e.g. ``"editorial.refused"``), or alone without one.
    """
    if exc.code and t.has(REFUSAL_PREFIX + exc.code):
        values = {name: _value_word(t, name, value) for name, value in exc.params.items()}
        return t(REFUSAL_PREFIX + exc.code, **values)
    return t(fallback, reason=exc.message) if fallback else exc.message


# A parameter that is one of the product's words (a bulletin's state, a broadcast's
# status, a role) is shown with the page's own word for it, not the domain's English one.
_VALUE_WORDS = {"state": "state.", "target_state": "state.", "status": "bstatus.", "role": "role."}


def _value_word(t: Translator, name: str, value: str | int | float) -> str | int | float:
    prefix = _VALUE_WORDS.get(name)
    if prefix is not None and isinstance(value, str) and t.has(prefix + value):
        return t(prefix + value)
    if isinstance(value, float) and t.language == "vi":
        return f"{value:g}".replace(".", ",")  # 3,5 giây: Vietnamese writes a decimal comma
    return value
