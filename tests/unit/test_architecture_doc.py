"""docs/architecture.md names real modules: every path and class it cites exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
PATHS = sorted(set(re.findall(r"`([a-z_]+(?:/[a-z_0-9<>]+)*(?:\.py|\.md|/))`", DOC)))


def test_the_page_cites_modules() -> None:
    assert len(PATHS) > 30


def test_every_cited_path_exists() -> None:
    missing = [p for p in PATHS if "<" not in p and not (ROOT / p).exists()]
    assert missing == []


def test_every_cited_class_is_defined_where_the_page_says() -> None:
    # "`BroadcastService.schedule` (`controller/domain/broadcasts/service.py`)" and the like.
    pairs = re.findall(r"`([A-Z]\w+)(?:\.\w+)?(?:\(\))?` \(`([\w/]+\.py)`", DOC)
    assert pairs
    for name, path in pairs:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^(class|def) {name}\b", source, re.M), f"{name} not in {path}"
