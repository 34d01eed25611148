"""Writing programme files: readable YAML, and stable round trips (dump, load, dump)."""

from __future__ import annotations

from hypothesis import given, settings

from controller.domain.programmes.schema import ProgrammeDoc
from controller.domain.programmes.yaml_io import dump_programme, load_programme, load_with_lines
from tests.unit.test_programmes_yaml_support import GOOD, programmes


def test_dump_is_readable() -> None:
    doc, _ = load_with_lines(GOOD)
    text = dump_programme(doc)
    assert "ward: '00037'" in text
    assert 'start: "06:30"' in text
    assert '- {start: "22:00", end: "05:00"}' in text
    assert "name: Buổi sáng" in text  # Vietnamese as is, not \u escapes
    assert "broadcast_days: [MO, TU, WE, TH, FR]" in text
    assert "max_minutes: 14\n" in text or "max_minutes: 14}" in text
    assert "exdates:\n      - 2026-09-02" in text
    assert "null" not in text
    assert load_programme(text) == doc


@settings(max_examples=80, deadline=None)
@given(programmes())
def test_dump_then_load_gives_the_same_programme(doc: ProgrammeDoc) -> None:
    text = dump_programme(doc)
    again = load_programme(text)
    assert again == doc
    assert dump_programme(again) == text
