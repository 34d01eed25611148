"""Every file the console serves or renders is in the wheel: package-data covers it."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONTROLLER = ROOT / "controller"


def test_package_data_covers_every_console_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["controller"]
    console = CONTROLLER / "console"
    files = [
        path.relative_to(CONTROLLER).as_posix()
        for folder in ("templates", "static", "locales")
        for path in (console / folder).rglob("*")
        if path.is_file()
    ]
    assert files
    # fnmatch's "*" crosses "/", setuptools' does not: compare segment counts too.
    missed = [
        f
        for f in files
        if not any(fnmatch(f, p) and f.count("/") == p.count("/") for p in patterns)
    ]
    assert not missed, f"add a package-data pattern in pyproject.toml for: {missed}"
    assert (console / "__init__.py").exists() and (console / "pages" / "__init__.py").exists()
