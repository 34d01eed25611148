"""House rules that a linter does not know, checked on the syntax tree (run by `make check-house`).

    topic-literal     no MQTT topic string outside wardcast_protocol/
    print-call        no print() in library code, except in cli.py, demo.py and cli/ packages
    forbidden-import  controller and edge agent never import each other (only sim/ sees both);
                      the protocol imports no side
    retained-command  never publish a command, event or ack with retain=True
    missing-docstring every public module-level function and class, and public method
    import-cycle      no import cycle among the product's modules (TYPE_CHECKING included)

Prints one `path:line: rule: message` per violation and exits 1 if there is any.
The checks read the `ast`, not the text, so a comment or a docstring that mentions a
topic or print() is not a violation, and a topic assembled in an f-string is.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LIBRARY = ("controller", "edge_agent", "firmware_stubs", "wardcast_protocol", "sim")
TOPIC_CHECKED = ("controller", "edge_agent", "firmware_stubs", "sim", "bench")
# Command-line modules talk to stdout: files with these names, and any package named "cli".
PRINT_ALLOWED_IN = {"cli.py", "demo.py"}
# The controller and the agent never import each other (a Pi installs no web stack, the
# controller no player); only the demo/simulator package (sim) may import both sides.
FORBIDDEN_IMPORTS = {
    "controller": {"edge_agent", "sim"},
    "edge_agent": {"controller", "sim"},
    "firmware_stubs": {"controller"},
    "wardcast_protocol": {"controller", "edge_agent", "firmware_stubs"},
}
NEVER_RETAINED_WORDS = {"command", "commands", "event", "events", "ack", "acks"}

# A topic-like string: no spaces, not a URL or an absolute path (HTTP routes start
# with "/"), and a "/device/" level. "{}" stands for an f-string's placeholders.
_TOPIC_LIKE = re.compile(r"^[^\s/:][^\s:]*/device/")


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule at one place."""

    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def _docstring_nodes(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings (they may mention topics)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _string_text(node: ast.AST) -> str | None:
    """The text of a string literal; an f-string's placeholders become "{}"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
            for v in node.values
        )
    return None


def check_topic_literals(tree: ast.Module, path: str) -> Iterator[Violation]:
    """Rule (a): topics are built only by wardcast_protocol.topics."""
    docstrings = _docstring_nodes(tree)
    inside_fstring = {
        id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values
    }
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in inside_fstring:
            continue  # an f-string is judged whole, not by its pieces
        text = _string_text(node)
        if text is None or not isinstance(node, ast.expr):
            continue  # only string literals (expressions, so with a line number) are judged
        if "wardcast/v" in text or _TOPIC_LIKE.match(text):
            yield Violation(
                path,
                node.lineno,
                "topic-literal",
                f"MQTT topic literal {text[:60]!r}: use wardcast_protocol.topics",
            )


def check_print_calls(tree: ast.Module, path: str) -> Iterator[Violation]:
    """Rule (b): library code logs; only command-line modules talk to stdout."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
        ):
            yield Violation(path, node.lineno, "print-call", "print() in library code: use logging")


def check_imports(tree: ast.Module, path: str, package: str) -> Iterator[Violation]:
    """Rule (c): the agent must run without the controller, the protocol without either."""
    forbidden = FORBIDDEN_IMPORTS.get(package, set())
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            if name.split(".")[0] in forbidden:
                line = getattr(node, "lineno", 1)
                yield Violation(path, line, "forbidden-import", f"{package} must not import {name}")


def _words(node: ast.AST) -> set[str]:
    """Lower-case words of the names, attributes and strings in an expression."""
    parts: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            parts.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            parts.append(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            parts.append(sub.value)
    return {w for part in parts for w in re.split(r"[^a-z0-9]+", part.lower()) if w}


def check_retained_commands(tree: ast.Module, path: str) -> Iterator[Violation]:
    """Rule (d): a retained command re-executes after every restart (best effort)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        # `publish` and the wrappers around it (`_publish`, `publish_state`, ...).
        if not name.lstrip("_").startswith("publish"):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        # paho's publish(topic, payload, qos, retain) also takes retain positionally.
        retain = keywords.get("retain", node.args[3] if len(node.args) > 3 else None)
        if not (isinstance(retain, ast.Constant) and retain.value is True):
            continue
        topic = keywords.get("topic", node.args[0] if node.args else None)
        if topic is not None and _words(topic) & NEVER_RETAINED_WORDS:
            yield Violation(
                path,
                node.lineno,
                "retained-command",
                f"retain=True on {ast.unparse(topic)}: commands, events, acks are never retained",
            )


Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _needs_docstring(node: Definition) -> bool:
    if node.name.startswith("_"):
        return False  # private, and dunder methods: their meaning is Python's
    for deco in node.decorator_list:
        name = ast.unparse(deco)
        # typing overloads and property setters share the documented definition's name.
        if name in {"overload", "typing.overload"} or name.endswith((".setter", ".deleter")):
            return False
    return ast.get_docstring(node) is None


def check_docstrings(tree: ast.Module, path: str) -> Iterator[Violation]:
    """Rule (e): module-level functions and classes, and methods of public classes."""
    for node in tree.body:
        candidates = [node]
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            candidates += node.body
        for item in candidates:
            if isinstance(item, Definition) and _needs_docstring(item):
                what = "class" if isinstance(item, ast.ClassDef) else "function"
                yield Violation(
                    path,
                    item.lineno,
                    "missing-docstring",
                    f"public {what} {item.name} has no docstring",
                )


def check_file(path: Path, root: Path) -> list[Violation]:
    """Every rule that applies to one file."""
    rel = path.relative_to(root).as_posix()
    package = rel.split("/")[0]
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    except SyntaxError as exc:
        return [Violation(rel, exc.lineno or 1, "syntax", str(exc.msg))]
    found: list[Violation] = []
    if package in TOPIC_CHECKED:
        found += check_topic_literals(tree, rel)
    if package in LIBRARY:
        if path.name not in PRINT_ALLOWED_IN and "cli" not in path.parts[:-1]:
            found += check_print_calls(tree, rel)
        found += check_imports(tree, rel, package)
        # Alembic generates migrations with bare upgrade()/downgrade(); they are not API.
        if "migrations" not in path.parts:
            found += check_docstrings(tree, rel)
    if package in LIBRARY or package in TOPIC_CHECKED:
        found += check_retained_commands(tree, rel)
    return found


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(tree: ast.Module, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The product modules ``module`` imports (anywhere in it, TYPE_CHECKING included)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # "from pkg import mod" imports the module pkg.mod; "from mod import name", mod.
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        found.update(n for n in names if n in known and n != module)
    return found


def check_import_cycles(root: Path) -> list[Violation]:
    """Rule (f): no import cycle in the product, even one hidden behind TYPE_CHECKING.

    A cycle means two modules cannot be understood (or tested) apart; it is how a
    service locator creeps back in. Implicit imports of parent packages are not edges.
    """
    paths: dict[str, Path] = {}
    for package in LIBRARY:
        for path in (root / package).rglob("*.py"):
            if "__pycache__" not in path.parts and "migrations" not in path.parts:
                paths[_module_name(path, root)] = path
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue  # reported by check_file
        graph[name] = _imported_modules(tree, name, path.name == "__init__.py", known)
    found: list[Violation] = []
    seen_cycles: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                if frozenset(cycle) not in seen_cycles:
                    seen_cycles.add(frozenset(cycle))
                    rel = paths[cycle[0]].relative_to(root).as_posix()
                    loop = " -> ".join([*cycle, nxt])
                    found.append(Violation(rel, 1, "import-cycle", f"import cycle: {loop}"))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return found


def check_tree(root: Path) -> list[Violation]:
    """Every violation under ``root``, sorted by place."""
    found: list[Violation] = []
    for package in sorted(set(LIBRARY) | set(TOPIC_CHECKED)):
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found += check_file(path, root)
    found += check_import_cycles(root)
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    """Check the repository (or ``--root``); print violations; 1 if any, else 0."""
    parser = argparse.ArgumentParser(description="Check Wardcast's house rules.")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    violations = check_tree(args.root.resolve())
    for violation in violations:
        sys.stdout.write(f"{violation}\n")
    if violations:
        sys.stderr.write(f"house rules: {len(violations)} violation(s)\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
