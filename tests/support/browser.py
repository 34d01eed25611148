"""Driving the console in Debian's Chromium, for tests/e2e/test_console_browser.py.

Playwright (the Python package) drives `/usr/bin/chromium`, installed by the project's
set-up: the tests never download a browser (`playwright install` is never run). Each
page a test reaches goes through :class:`PageCheck`: axe-core (axe_playwright_python)
with no serious or critical violation, every form control labelled, and a screenshot at
1280 and 390 px wide. Screenshots land in docs/screenshots/ only when
``WARDCAST_UPDATE_SCREENSHOTS=1`` (so a test run never dirties the tree); otherwise in a
temporary folder, taken all the same so the step is exercised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, FloatRect, Page, ViewportSize, expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "docs" / "screenshots"
UPDATE = os.environ.get("WARDCAST_UPDATE_SCREENSHOTS") == "1"
# (name, viewport): a laptop and a phone (an iPhone 12-14's CSS width); one device
# pixel per CSS pixel keeps the files small.
WIDTHS = (
    ("1280", ViewportSize(width=1280, height=800)),
    ("390", ViewportSize(width=390, height=844)),
)
MAX_HEIGHT = 2400  # a long page is cut there: the top of a page is what a reader sees
BAD_IMPACTS = ("serious", "critical")
# Every visible form control must have a name a screen reader reads out: a <label for>,
# a wrapping label, aria-label(ledby), or (buttons) their text.
_UNLABELLED_JS = """
() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby')
    && !((el.tagName === 'BUTTON') && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))
"""


def launch_args() -> dict[str, Any]:
    """Playwright's launch arguments for Debian's Chromium (no sandbox: tests run as root
    in containers, where Chromium's sandbox cannot start)."""
    return {"executable_path": str(CHROMIUM), "args": ["--no-sandbox"], "headless": True}


def new_context(browser: Browser, timeout_ms: float) -> BrowserContext:
    """A fresh browser profile (no cookies) as a ward's phone has it: Vietnamese, Hà Nội's
    time, so date fields read dd/mm/yyyy in the screenshots."""
    context = browser.new_context(
        viewport=WIDTHS[0][1], locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    context.set_default_timeout(timeout_ms)
    return context


def sign_in(page: Page, base: str, username: str, password: str, then: str = "/") -> None:
    """Sign in through the form (the way a person does) and land on ``then``."""
    page.goto(f"{base}/login?next={then}")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("button[type=submit]:not(.link)")
    expect(page.locator("form[action='/logout']")).to_be_visible()


def _violations(page: Page, axe: Axe) -> list[str]:
    found: dict[str, Any] = axe.run(page).response
    lines = []
    for v in found["violations"]:
        if v.get("impact") in BAD_IMPACTS:
            where = "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} — at {where}")
    return lines


def _save_png(raw: bytes, path: Path) -> None:
    """A palette PNG (64 colours): a third of the size, and the console's few flat
    colours survive it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
        small.save(path, optimize=True)


@dataclass
class PageCheck:
    """Checks each page a test reaches and takes its screenshots; remembers what it did."""

    folder: Path
    axe: Axe = field(default_factory=Axe)
    shots: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def for_run(cls, scratch: Path) -> PageCheck:
        """docs/screenshots/ when asked to update them, else a scratch folder."""
        return cls(SHOTS if UPDATE else scratch / "screenshots")

    def __call__(self, page: Page, name: str, *, accessible: bool = True) -> None:
        """Check the page now open and save ``<name>-1280.png`` and ``<name>-390.png``.

        Accessibility problems are collected, not raised: the flow goes on, and the
        last test lists every page's problems at once.
        """
        page.wait_for_load_state("load")
        if accessible:
            self.problems += [f"{name}: {line}" for line in _violations(page, self.axe)]
            unlabelled = page.evaluate(_UNLABELLED_JS)
            self.problems += [f"{name}: unlabelled control {html}" for html in unlabelled]
        start = page.viewport_size
        for width, viewport in WIDTHS:
            page.set_viewport_size(viewport)
            height = page.evaluate("document.documentElement.scrollHeight")
            clip = FloatRect(x=0, y=0, width=viewport["width"], height=min(height, MAX_HEIGHT))
            raw = page.screenshot(full_page=True, clip=clip, animations="disabled")
            _save_png(raw, self.folder / f"{name}-{width}.png")
            self.shots.append(f"{name}-{width}.png")
        if start is not None:
            page.set_viewport_size(start)
