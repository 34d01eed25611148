"""The HTTP layer's rules, read from the syntax tree of ``controller/api``.

Routes are thin: schemas live in ``controller/api/schemas/<resource>.py`` with one naming
family, routes hold no SQL and touch no transport object, and blocking work runs in
``def`` routes (FastAPI's threadpool) rather than on the event loop. A new route or
schema that breaks one of these fails here, with the file and line to look at.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[2] / "controller" / "api"
ROUTES = API / "routes"
SCHEMAS = API / "schemas"

Modules = Iterable[tuple[str, ast.Module]]

SCHEMA_SUFFIXES = ("Create", "Update", "Public")
# Shared field models that are neither a request body nor a response of their own.
# Empty today; add a name only with a comment saying why no suffix fits.
SCHEMA_NAME_ALLOWED: frozenset[str] = frozenset()
# Attributes that are transport objects on the runtime: only the composition root and
# the messaging package hold them; routes ask the runtime or a domain service instead.
TRANSPORT_ATTRIBUTES = {"bridge", "transport", "outbound"}
TRANSPORT_MODULES = (
    "controller.messaging",
    "wardcast_protocol.transport",
    "wardcast_protocol.mqtt_link",
    "wardcast_protocol.asyncio_mqtt_link",
)
# Query-building and executing calls: SQL belongs to the domain's query functions.
SQL_CALLS = {"select", "insert", "update", "delete", "text"}
SQL_METHODS = {"execute", "scalars", "scalar", "query"}


def _modules(folder: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(folder.rglob("*.py")):
        yield str(path.relative_to(API.parent.parent)), ast.parse(path.read_text(), str(path))


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


def schemas_in_routes(modules: Modules) -> list[str]:
    """Pydantic models defined in route modules."""
    found = []
    for name, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and "BaseModel" in _base_names(node):
                found.append(f"{name}:{node.lineno}: class {node.name}")
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "pydantic"
                and any(alias.name == "BaseModel" for alias in node.names)
            ):
                found.append(f"{name}:{node.lineno}: imports pydantic.BaseModel")
    return found


def unfamily_schema_names(modules: Modules) -> list[str]:
    """Classes in schema modules whose name is not <Thing>Create|Update|Public."""
    return [
        f"{name}:{node.lineno}: {node.name}"
        for name, tree in modules
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and node.name not in SCHEMA_NAME_ALLOWED
        and not node.name.endswith(SCHEMA_SUFFIXES)
    ]


def functions_in_schemas(modules: Modules) -> list[str]:
    """Module-level functions in schema modules (a schema module is a list of shapes)."""
    return [
        f"{name}:{node.lineno}: {node.name}"
        for name, tree in modules
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def sql_in_routes(modules: Modules) -> list[str]:
    """Query building, executing, or SQLAlchemy imports beyond the Session type."""
    found = []
    for name, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                # Typing a helper's session parameter is fine; building queries is not.
                extra = [a.name for a in node.names if a.name != "Session"]
                if extra:
                    found.append(f"{name}:{node.lineno}: imports {', '.join(extra)}")
            if isinstance(node, ast.Import) and any(
                a.name.startswith("sqlalchemy") for a in node.names
            ):
                found.append(f"{name}:{node.lineno}: imports sqlalchemy")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in SQL_CALLS:
                found.append(f"{name}:{node.lineno}: {func.id}(…)")
            if isinstance(func, ast.Attribute) and func.attr in SQL_METHODS:
                found.append(f"{name}:{node.lineno}: .{func.attr}(…)")
    return found


def transport_access(modules: Modules) -> list[str]:
    """``.bridge``/``.transport``/``.outbound`` read, or a messaging module imported."""
    found = []
    for name, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in TRANSPORT_ATTRIBUTES:
                found.append(f"{name}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                TRANSPORT_MODULES
            ):
                found.append(f"{name}:{node.lineno}: imports {node.module}")
            if isinstance(node, ast.Import) and any(
                a.name.startswith(TRANSPORT_MODULES) for a in node.names
            ):
                found.append(f"{name}:{node.lineno}: imports a transport module")
    return found


def async_routes(modules: Modules) -> list[str]:
    """Every ``async def`` in route modules."""
    return [
        f"{name}:{node.lineno}: async def {node.name}"
        for name, tree in modules
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef)
    ]


def test_the_rules_look_where_the_layer_is() -> None:
    assert (ROUTES / "places.py").is_file()
    assert (SCHEMAS / "places.py").is_file()


def test_routes_define_no_schema() -> None:
    found = schemas_in_routes(_modules(ROUTES))
    assert not found, "schemas belong in controller/api/schemas/: " + "; ".join(found)


def test_every_schema_has_a_family_name() -> None:
    found = unfamily_schema_names(_modules(SCHEMAS))
    assert not found, f"a schema's name ends with one of {SCHEMA_SUFFIXES}: " + "; ".join(found)


def test_schema_modules_define_schemas_only() -> None:
    found = functions_in_schemas(_modules(SCHEMAS))
    assert not found, "conversions belong beside the routes: " + "; ".join(found)


def test_routes_hold_no_sql() -> None:
    found = sql_in_routes(_modules(ROUTES))
    assert not found, "move queries into controller/domain/<feature>/: " + "; ".join(found)


def test_the_api_touches_no_transport_object() -> None:
    found = transport_access(_modules(API))
    assert not found, "ask the runtime or a domain service instead: " + "; ".join(found)


def test_routes_are_plain_def() -> None:
    # FastAPI runs a `def` route in its threadpool; an `async def` one runs on the event
    # loop, where a blocking database call or file write stalls every other request.
    # An awaited read (the raw body) belongs in a dependency (deps.BodyBytes).
    found = async_routes(_modules(ROUTES))
    assert not found, "make these `def`: " + "; ".join(found)


@pytest.mark.parametrize(
    ("check", "source"),
    [
        (schemas_in_routes, "from pydantic import BaseModel\nclass X(BaseModel): ..."),
        (schemas_in_routes, "import pydantic\nclass X(pydantic.BaseModel): ..."),
        (unfamily_schema_names, "class ThingIn(BaseModel): ..."),
        (unfamily_schema_names, "class ThingOut(BaseModel): ..."),
        (functions_in_schemas, "def to_public(row): ..."),
        (sql_in_routes, "from sqlalchemy import select"),
        (sql_in_routes, "def f(s): return s.scalars(q)"),
        (sql_in_routes, "def f(s): return s.execute(q)"),
        (sql_in_routes, "def f(): return select(X)"),
        (transport_access, "def f(runtime): runtime.bridge.forget_key('a')"),
        (transport_access, "def f(runtime): return runtime.transport.connected"),
        (transport_access, "from controller.messaging.bridge import ControllerBridge"),
        (async_routes, "async def route(): ..."),
    ],
)
def test_each_check_catches_what_it_names(
    check: Callable[[Modules], list[str]], source: str
) -> None:
    # The tests above read the real tree and expect nothing; shown a violation, each
    # check must report it, so a check that matches nothing cannot pass unnoticed.
    found = check([("example.py", ast.parse(textwrap.dedent(source)))])
    assert found and all(f.startswith("example.py:") for f in found)


@pytest.mark.parametrize(
    ("check", "source"),
    [
        (schemas_in_routes, "from controller.api.schemas.places import WardPublic"),
        (unfamily_schema_names, "class WardUpdate(BaseModel): ...\nclass WardPublic: ..."),
        (sql_in_routes, "from sqlalchemy.orm import Session\ndef f(s: Session): ..."),
        (transport_access, "def f(runtime): return runtime.broker_connected()"),
        (async_routes, "def route(): ..."),
    ],
)
def test_each_check_lets_the_allowed_pass(
    check: Callable[[Modules], list[str]], source: str
) -> None:
    assert check([("example.py", ast.parse(source))]) == []
