"""Spoken text is cleaned, not refused: a NUL once cut the speech where it stood."""

from __future__ import annotations

import pytest

from controller.domain.content.text import clean_spoken_text, removed_controls


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("Xin chào\x00 bà con", "Xin chào bà con"),
        ("Thông báo:\tcắt nước\r\ntừ 8 giờ", "Thông báo: cắt nước từ 8 giờ"),
        ("Dòng một\x0bdòng hai\x0c", "Dòng một dòng hai"),  # Word's manual line and page breaks
        ("\x1b[31mKhẩn cấp\x1b[0m", "[31mKhẩn cấp[0m"),  # ESC removed; its text stays visible
        ("a\x7fb\x85c", "ab c"),  # DEL removed; NEL is a line break in Unicode
        ("  \x00 \x01 ", ""),
    ],
)
def test_control_characters_are_removed_and_whitespace_collapsed(raw: str, spoken: str) -> None:
    assert clean_spoken_text(raw) == spoken


def test_the_removed_characters_are_counted() -> None:
    assert removed_controls("Xin\x00 chào\x1b\t") == 2
    assert removed_controls("Xin chào") == 0
