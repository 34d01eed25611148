"""Numbers on the console's pages, written as the reader's language writes them.

Vietnamese writes a decimal comma (``0,5 giây``, ``95,2 %``), English a point. Rates
reuse the report domain's writer (:func:`controller.domain.reports.cells.percent`), so a
page and the report's PDF show the same figure the same way.
"""

from __future__ import annotations

from controller.domain.reports.cells import percent
from controller.domain.reports.labels import Lang


def _lang(language: str) -> Lang:
    return "en" if language == "en" else "vi"


def signed(value: float, language: str, places: int = 1) -> str:
    """An offset with its sign (``+1,2``, ``-0,4``); zero once rounded is ``0,0``, unsigned.

    A clock 0.04 s behind is not "-0.0": a minus on nothing reads as a fault.
    """
    text = f"{abs(value):.{places}f}"
    if float(text) != 0:
        text = ("-" if value < 0 else "+") + text
    return text.replace(".", ",") if _lang(language) == "vi" else text


def rate(value: float | None, language: str) -> str:
    """A 0..1 rate as per cent (``100,0 %`` in Vietnamese, ``100.0%`` in English); — for none."""
    if value is None:
        return "—"
    figure = percent(value, _lang(language))
    # Vietnamese puts a (non-breaking) space before the per cent sign; English does not.
    return f"{figure}\u00a0%" if _lang(language) == "vi" else f"{figure}%"
