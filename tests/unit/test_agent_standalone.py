"""The agent stands alone: a Pi runs ``pip install wardcast[agent]`` and nothing else.

Two guards, neither needs the network:

- at run time, a fresh interpreter imports the agent's entry point and every module of
  the agent's packages, builds an agent, and fails if any controller-side package was
  imported (by name, with the file that imported it);
- at packaging time, pyproject.toml's base set plus the ``agent`` extra, closed over the
  installed distributions' own requirements, names no controller-side distribution, and
  every third-party module the agent's packages import comes from that closure (the
  same for the controller with its extra), so an import added without its dependency
  fails here rather than on a Pi.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
AGENT_PACKAGES = ("edge_agent", "wardcast_protocol", "firmware_stubs")
FIRST_PARTY = {"controller", "edge_agent", "firmware_stubs", "wardcast_protocol", "sim", "bench"}
# Top-level modules of the controller side: none may be loaded by an agent.
CONTROLLER_MODULES = {
    "controller",
    "sim",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "fpdf",
    "matplotlib",
    "uvicorn",
    "apscheduler",
    "gtts",
    "pydub",
    "multipart",
    "python_multipart",
    "prometheus_client",
}
# Their distributions: none may be installed by `pip install wardcast[agent]`.
CONTROLLER_DISTRIBUTIONS = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "fpdf2",
    "matplotlib",
    "uvicorn",
    "apscheduler",
    "gtts",
    "pydub",
    "python-multipart",
    "prometheus-client",
}

# Runs in a fresh interpreter. A meta-path finder placed first notes, for each
# controller-side module imported, the first project file on the stack (the culprit),
# then lets the import proceed, so the report names every offender at once.
_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys, traceback
    from pathlib import Path

    FORBIDDEN = set(json.loads(sys.argv[1]))
    PACKAGES = json.loads(sys.argv[2])
    DATA_DIR = Path(sys.argv[3])
    culprits = {}

    class Recorder:
        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top in FORBIDDEN and top not in culprits:
                frames = [f.filename for f in traceback.extract_stack()[:-1]]
                ours = [f for f in frames if "importlib" not in f and "<" not in f]
                culprits[top] = ours[-1] if ours else "?"
            return None

    sys.meta_path.insert(0, Recorder())

    import edge_agent.cli  # the console script's module: `wardcast-agent`
    from edge_agent.config import AgentConfig
    from edge_agent.http_fetch import StreamingHttpFetcher
    from edge_agent.wiring import build_agent
    from wardcast_protocol.signing import SigningKey

    key = SigningKey.load_or_create(DATA_DIR / "controller.key")
    config = AgentConfig(
        device_id="standalone-001",
        controller_public_key=key.public_key_b64,
        data_dir=DATA_DIR / "agent",
    )
    build_agent(config, StreamingHttpFetcher())
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            importlib.import_module(info.name)

    loaded = {m.partition(".")[0] for m in sys.modules} & FORBIDDEN
    print(json.dumps({top: culprits.get(top, "?") for top in sorted(loaded)}))
    """
)


def test_the_agent_imports_nothing_from_the_controller_side(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
            json.dumps(sorted(CONTROLLER_MODULES)),
            json.dumps(AGENT_PACKAGES),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # not the checkout: only what is installed is importable by name
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {}, f"the agent imported controller-side modules (module: by): {loaded}"


# -- packaging ------------------------------------------------------------------------


def _normal(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    assert isinstance(project, dict)
    return project


def _declared(*extras: str) -> list[Requirement]:
    """The base requirements plus those of ``extras``, as pyproject.toml declares them."""
    project = _project()
    optional = project.get("optional-dependencies", {})
    lines = list(project["dependencies"])
    for extra in extras:
        assert extra in optional, f"pyproject.toml has no [{extra}] extra"
        lines += optional[extra]
    return [Requirement(line) for line in lines]


def _closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution these requirements install, by the installed ones' metadata.

    The test venv holds every extra, so each name resolves; a requirement's own extras
    are followed, and environment markers are evaluated for this interpreter.
    """
    found: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    # (requirement, the extras asked of the distribution that lists it)
    todo = [(r, set(r.extras)) for r in requirements]
    while todo:
        requirement, extras = todo.pop()
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": e}) for e in (extras or {""})
        ):
            continue
        name = _normal(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        found.add(name)
        try:
            wanted = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{requirement.name} is declared but not installed in the test venv")
        todo += [(Requirement(line), set(requirement.extras)) for line in wanted]
    return found


def _third_party_imports(packages: tuple[str, ...]) -> dict[str, str]:
    """Top-level third-party module -> one file of ``packages`` that imports it."""
    found: dict[str, str] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_the_agent_set_installs_no_controller_distribution() -> None:
    closure = _closure(_declared("agent"))
    assert not closure & CONTROLLER_DISTRIBUTIONS, sorted(closure & CONTROLLER_DISTRIBUTIONS)


@pytest.mark.parametrize(
    ("packages", "extras"),
    [
        (AGENT_PACKAGES, ("agent",)),
        (("controller", "sim"), ("controller",)),
    ],
    ids=["agent", "controller"],
)
def test_every_import_comes_from_the_declared_set(
    packages: tuple[str, ...], extras: tuple[str, ...]
) -> None:
    closure = _closure(_declared(*extras))
    providers = metadata.packages_distributions()
    missing = {
        module: where
        for module, where in _third_party_imports(packages).items()
        if not {_normal(d) for d in providers.get(module, [])} & closure
    }
    assert missing == {}, f"imported but not declared in pyproject.toml (module: file): {missing}"
