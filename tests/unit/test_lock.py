"""The lock covers pyproject.toml: a dependency added or changed without ``make lock`` fails here.

Three guards, none needs the network or uv:

- ``uv.lock`` was resolved from the very requirements pyproject.toml declares now (uv
  records them in the lock as the project's ``requires-dist``);
- each exported set (``requirements/agent.txt``, ``controller.txt``, ``dev.txt``) pins
  every dependency its extras name, at a version the declared specifier allows, with
  hashes, and at the version uv.lock holds;
- the agent's set installs no controller-side distribution.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
RELOCK = "run `make lock` (scripts/lock.sh) and commit uv.lock and requirements/"
# Which extras each exported file holds (scripts/lock.sh exports them so).
SETS = {
    "agent": ("agent",),
    "controller": ("controller", "postgres"),
    "dev": ("agent", "controller", "postgres", "dev"),
}
CONTROLLER_ONLY = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "uvicorn",
    "fpdf2",
    "jinja2",
    "alembic",
    # The agent reads its environment itself (edge_agent/config.py).
    "pydantic-settings",
}
# A requirement as compared: name, specifier, extras, the extra it belongs to ("" = base).
Declared = tuple[str, str, tuple[str, ...], str]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _spec(text: str) -> str:
    return ",".join(sorted(str(s) for s in SpecifierSet(text)))


def _project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project: dict[str, Any] = tomllib.load(handle)["project"]
    return project


def _declared() -> set[Declared]:
    project = _project()
    found: set[Declared] = set()
    groups = {"": project["dependencies"], **project.get("optional-dependencies", {})}
    for extra, lines in groups.items():
        for line in lines:
            req = Requirement(line)
            found.add(
                (_normal(req.name), _spec(str(req.specifier)), tuple(sorted(req.extras)), extra)
            )
    return found


def _lock() -> dict[str, Any]:
    path = ROOT / "uv.lock"
    assert path.is_file(), f"uv.lock is missing: {RELOCK}"
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _locked_requirements(lock: dict[str, Any]) -> set[Declared]:
    (project,) = [p for p in lock["package"] if p["name"] == "wardcast"]
    found: set[Declared] = set()
    for entry in project["metadata"]["requires-dist"]:
        marker = entry.get("marker", "")
        extra = re.fullmatch(r"extra == '([^']+)'", marker)
        assert extra or not marker, f"unexpected marker in uv.lock: {marker}"
        found.add(
            (
                _normal(entry["name"]),
                _spec(entry.get("specifier", "")),
                tuple(sorted(entry.get("extras", []))),
                extra.group(1) if extra else "",
            )
        )
    return found


def _pins(path: Path) -> dict[str, tuple[Version, bool, str]]:
    """name -> (version, hashed, marker) of each requirement in an exported file."""
    text = path.read_text(encoding="utf-8")
    pins: dict[str, tuple[Version, bool, str]] = {}
    # One requirement: its line, its '--hash' continuation lines, then '# via' comments.
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = block.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        req = Requirement(head)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path.name}: {head} is not pinned"
        marker = str(req.marker) if req.marker else ""
        pins[_normal(req.name)] = (Version(spec.version), "--hash=sha256:" in block, marker)
    return pins


def test_uv_lock_was_resolved_from_pyproject_as_it_is() -> None:
    declared, locked = _declared(), _locked_requirements(_lock())
    assert declared - locked == set(), f"declared but not locked: {declared - locked}; {RELOCK}"
    assert locked - declared == set(), (
        f"locked but no longer declared: {locked - declared}; {RELOCK}"
    )


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_exported_set_pins_every_dependency_it_names(name: str) -> None:
    path = ROOT / "requirements" / f"{name}.txt"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: {RELOCK}"
    pins = _pins(path)
    wanted = {"", *SETS[name]}
    for dep, spec, _, extra in _declared():
        if extra not in wanted:
            continue
        assert dep in pins, f"{path.name} lacks {dep} ([{extra or 'base'}]): {RELOCK}"
        version = pins[dep][0]
        assert version in SpecifierSet(spec), f"{path.name}: {dep}=={version} is not {spec}"
    unhashed = sorted(dep for dep, (_, hashed, _) in pins.items() if not hashed)
    assert unhashed == [], f"{path.name}: pins without hashes: {unhashed}"
    locked: dict[str, set[Version]] = {}
    for p in _lock()["package"]:  # a package may be locked at two versions (one per Python)
        locked.setdefault(_normal(p["name"]), set()).add(Version(p["version"]))
    stale = {dep: str(v) for dep, (v, _, _) in pins.items() if v not in locked.get(dep, set())}
    assert stale == {}, f"{path.name} differs from uv.lock: {stale}; {RELOCK}"


def test_the_agent_set_holds_no_controller_distribution() -> None:
    pins = _pins(ROOT / "requirements" / "agent.txt")
    assert not set(pins) & CONTROLLER_ONLY, sorted(set(pins) & CONTROLLER_ONLY)


def test_a_dependency_added_without_relocking_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project()
    added = {**project, "dependencies": [*project["dependencies"], "left-pad>=1"]}
    monkeypatch.setattr(f"{__name__}._project", lambda: added)
    assert ("left-pad", ">=1", (), "") in _declared() - _locked_requirements(_lock())


def test_the_exports_evaluate_for_this_interpreter() -> None:
    # pip reads the markers uv writes: each must parse (and this Python gets cryptography).
    pins = _pins(ROOT / "requirements" / "agent.txt")
    for _, _, marker in pins.values():
        if marker:
            Marker(marker).evaluate()
    assert "cryptography" in pins


def test_the_documented_offline_check_passes() -> None:
    # docs/dependencies.md shows `scripts/lock.sh --check`: uv re-validates the lock offline.
    uv = ROOT / ".venv" / "bin" / "uv"
    if not uv.exists() and shutil.which("uv") is None:
        pytest.skip("uv is not installed (make install puts it in .venv)")
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "lock.sh"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
