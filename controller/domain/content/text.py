"""The text a loudspeaker says: cleaned of control characters before it is spoken.

A NUL in a bulletin once cut the speech silently at that point: the speech engines read
C strings. Officers paste from word processors, whose manual line breaks (vertical tab)
and page breaks (form feed) are control characters too; refusing those would refuse
ordinary paste. So spoken text is *cleaned*, never refused for them: every whitespace
control (tab, line and page breaks) reads as a space, every other control character
(C0, DEL and C1, e.g. NUL or ESC) is removed, and runs of whitespace collapse to one
space. The cleaned text is what is stored and what is spoken, so the record shows
exactly what the speakers said. A text with nothing left to say is refused.
"""

from __future__ import annotations

import unicodedata


def clean_spoken_text(text: str) -> str:
    """``text`` with control characters removed and whitespace collapsed to single spaces."""
    kept = "".join(ch if ch.isspace() or unicodedata.category(ch) != "Cc" else "" for ch in text)
    return " ".join(kept.split())


def removed_controls(text: str) -> int:
    """How many non-whitespace control characters :func:`clean_spoken_text` drops."""
    return sum(1 for ch in text if not ch.isspace() and unicodedata.category(ch) == "Cc")
