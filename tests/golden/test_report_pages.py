"""Golden pages: each page of the report PDF, rendered to PNG, matches the committed one.

A change to the report's look shows up here as a failed comparison, with the new page
written beside the test's temporary files to look at. When the change is intended,
write the new pages over the committed ones and look at them before committing::

    WARDCAST_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden -q

Pages are rendered by pdftoppm (Debian: poppler-utils, installed by scripts/install.sh)
at 100 dpi. A page matches when at most 10 of its pixels differ by more than 48 (of 255)
in any colour channel: room for an edge smoothed a shade differently, none for a moved
line, a changed word or a different number (one changed digit is some 30 pixels).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from controller.domain.reports.model import Report
from tests.golden.reports import ward_report

PAGES = Path(__file__).resolve().parent / "report_pages"
DPI = 100
CHANNEL_TOLERANCE = 48  # of 255, in any channel: a shade of anti-aliasing
MAX_DIFFERENT = 10  # pixels beyond the tolerance on one page
UPDATE = os.environ.get("WARDCAST_UPDATE_GOLDEN") == "1"

CASES = {
    "ward-month-vi": lambda: ward_report("vi"),
    "ward-month-en": lambda: ward_report("en"),
    "ward-day-vi": lambda: ward_report("vi", one_day=date(2026, 11, 25)),
}


def render(report: Report, folder: Path) -> list[Path]:
    """The report's PDF pages as PNG files in ``folder``, in page order."""
    from controller.domain.reports.pdf import find_font, report_pdf

    if find_font() is None:
        pytest.skip("DejaVu Sans is not installed (fonts-dejavu-core)")
    pdf = folder / "report.pdf"
    pdf.write_bytes(report_pdf(report))
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(folder / "page")],
        check=True,
        capture_output=True,
    )
    # pdftoppm pads the page number to the page count's width: sort by the number.
    return sorted(folder.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def pixels_different(expected: Path, actual: Path) -> int:
    """How many pixels differ by more than the tolerance (all of them if sizes differ)."""
    with Image.open(expected) as a, Image.open(actual) as b:
        if a.size != b.size:
            return max(a.size[0] * a.size[1], b.size[0] * b.size[1])
        diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
        # Per pixel, the largest difference of its three channels.
        channels = diff.split()
        largest = ImageChops.lighter(ImageChops.lighter(channels[0], channels[1]), channels[2])
        histogram = largest.histogram()
        return sum(histogram[CHANNEL_TOLERANCE + 1 :])


@pytest.mark.parametrize("name", sorted(CASES))
def test_report_pages_look_as_committed(name: str, tmp_path: Path) -> None:
    pytest.importorskip("fpdf")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed (Debian: poppler-utils; scripts/install.sh)")
    pages = render(CASES[name](), tmp_path)
    committed = sorted(PAGES.glob(f"{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if UPDATE:
        for old in committed:
            old.unlink()
        PAGES.mkdir(exist_ok=True)
        for n, page in enumerate(pages, start=1):
            shutil.copyfile(page, PAGES / f"{name}-{n}.png")
        return
    assert len(pages) == len(committed), (
        f"{name}: {len(pages)} pages rendered, {len(committed)} committed; new pages in "
        f"{tmp_path} (WARDCAST_UPDATE_GOLDEN=1 to accept them)"
    )
    for n, (page, golden) in enumerate(zip(pages, committed, strict=True), start=1):
        off = pixels_different(golden, page)
        assert off <= MAX_DIFFERENT, (
            f"{name} page {n}: {off} pixels differ from {golden.name}; the new page is "
            f"{page} (WARDCAST_UPDATE_GOLDEN=1 to accept it)"
        )


def test_the_comparison_sees_a_changed_figure(tmp_path: Path) -> None:
    """A single changed number on a page is caught; the same page is not."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed (Debian: poppler-utils; scripts/install.sh)")
    pytest.importorskip("fpdf")
    report = ward_report("vi", one_day=date(2026, 11, 25))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = render(report, tmp_path / "a")[0]
    changed = report.model_copy(update={"plays": report.plays.model_copy(update={"missed": 37})})
    second = render(changed, tmp_path / "b")[0]  # one digit: 36 missed plays become 37
    assert pixels_different(first, first) == 0
    assert pixels_different(first, second) > MAX_DIFFERENT
