"""The console's words and times: catalogs that match, templates without words of their own."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.console.i18n import LANGUAGES, Translator, catalog, choose_language, placeholders
from controller.console.timefmt import format_local, from_local, utc_offset_label

TEMPLATES = Path(__file__).resolve().parents[3] / "controller" / "console" / "templates"
VIETNAMESE_MARKS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)


def test_every_language_has_every_key_with_the_same_fields() -> None:
    reference = catalog("vi")
    for language in LANGUAGES:
        words = catalog(language)
        assert set(words) == set(reference), (
            f"{language}: missing {sorted(set(reference) - set(words))}, "
            f"extra {sorted(set(words) - set(reference))}"
        )
        for key, text in words.items():
            assert placeholders(text) == placeholders(reference[key]), (language, key)


def test_vietnamese_is_written_with_its_diacritics() -> None:
    texts = catalog("vi").values()
    marked = [t for t in texts if VIETNAMESE_MARKS.search(t)]
    assert len(marked) > 0.8 * len(texts)  # most sentences carry marks; codes and names aside


def test_a_missing_key_falls_back_and_fields_are_filled() -> None:
    en = Translator("en")
    assert en("login.too_many", minutes=3) == "Too many failed sign-ins. Try again in 3 minutes."
    assert en("no.such.key") == "no.such.key"
    assert Translator("vi")("login.title") == "Đăng nhập"
    assert choose_language("fr") == "vi" and choose_language(None) == "vi"
    assert choose_language("en") == "en"


# Text between tags in a template must come from t(): what is left once Jinja's blocks,
# comments and expressions and the HTML tags are removed may only be punctuation.
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_TAGS = re.compile(r"<[^>]*>|[\w-]+=\"[^\"]*\"", re.S)  # tags; attributes a macro emits
_ALLOWED = re.compile(r"^[\s·/–(),:*—|.'-]*$")


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_words_of_their_own(path: Path) -> None:
    text = _TAGS.sub(" ", _JINJA.sub(" ", path.read_text(encoding="utf-8")))
    # Literal command words shown to be typed are not prose.
    text = text.replace("wardcast-agent enrol --line", "").replace("Wardcast", "")
    assert _ALLOWED.match(text), f"{path.name}: {text.split()[:10]}"


def test_times_are_shown_in_the_wards_zone() -> None:
    instant = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert format_local(instant, "Asia/Ho_Chi_Minh") == "23/11/2026 05:30"
    assert format_local(instant, "Asia/Ho_Chi_Minh", "time") == "05:30"
    assert format_local(instant.replace(tzinfo=None), "Asia/Ho_Chi_Minh", "time") == "05:30"
    assert format_local(instant, "Europe/Paris", "time") == "23:30"
    assert format_local(instant, "Not/A_Zone", "time") == "05:30"  # the default zone
    assert format_local(None, "Asia/Ho_Chi_Minh") == "—"
    assert from_local("2026-11-23T05:30", "Asia/Ho_Chi_Minh") == instant
    with pytest.raises(ValueError):
        from_local("tomorrow at five", "Asia/Ho_Chi_Minh")
    assert utc_offset_label("Asia/Ho_Chi_Minh", instant) == "Asia/Ho_Chi_Minh (UTC+07:00)"
