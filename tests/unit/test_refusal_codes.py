"""Every refusal code the domain raises has its sentence in both console catalogs.

The codes are found by reading the source of the domain, the audio pipeline and the
routes and pages that refuse an upload themselves: ``code="…"`` in a refusal's call; a
``code=`` given by a name takes the code-like strings of the function around it. So a
new code without a translation fails here, not in front of an officer at 5 a.m. A
``params={…}`` literal beside it must name exactly the ``{fields}`` the sentences use.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.console.i18n import (
    LANGUAGES,
    REFUSAL_PREFIX,
    Translator,
    catalog,
    placeholders,
    refusal_text,
)
from controller.domain.actors import Forbidden
from controller.domain.errors import Conflict, InvalidInput
from tests.support.auth import auth_headers
from tests.unit.controller_support import make_harness

ROOT = Path(__file__).resolve().parents[2] / "controller"
SOURCES = [ROOT / "domain", ROOT / "audio", ROOT / "console", ROOT / "api"]
CODE = re.compile(r"^[a-z]+(\.[a-z_]+)+$")


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _param_names(call: ast.Call) -> set[str] | None:
    """The keys of a ``params={…}`` literal in ``call``; None when not written out."""
    for keyword in call.keywords:
        if keyword.arg == "params":
            dicts = [n for n in ast.walk(keyword.value) if isinstance(n, ast.Dict)]
            if not dicts:
                return None
            return {
                k.value
                for d in dicts
                for k in d.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
    return set()


def _refusal_classes(trees: list[ast.Module]) -> set[str]:
    """The names of DomainError's and AudioRejected's families in the sources."""
    names = {"DomainError", "AudioRejected"}
    classes = [n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    grown = True
    while grown:
        more = {c.name for c in classes if any(_strings_of_name(b) & names for b in c.bases)}
        grown = not more <= names
        names |= more
    return names


def _strings_of_name(node: ast.expr) -> set[str]:
    return {node.id} if isinstance(node, ast.Name) else set()


def raised_codes() -> dict[str, set[str] | None]:
    """Every refusal code raised in the controller's sources, with its params' names."""
    found: dict[str, set[str] | None] = {}
    paths = [p for root in SOURCES for p in sorted(root.rglob("*.py"))]
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in paths]
    refusals = _refusal_classes(trees)
    for path, tree in zip(paths, trees, strict=True):
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            if not (isinstance(call.func, ast.Name) and call.func.id in refusals):
                continue
            for keyword in call.keywords:
                if keyword.arg != "code":
                    continue
                codes = {s for s in _strings(keyword.value) if CODE.match(s)}
                if isinstance(keyword.value, ast.Name):  # chosen from a table in the function
                    around = [
                        f for f in functions if f.lineno <= call.lineno <= (f.end_lineno or 0)
                    ]
                    codes = {s for s in _strings(around[-1]) if CODE.match(s)} if around else set()
                    assert codes, f"{path}:{call.lineno}: code={keyword.value.id} names no code"
                params = _param_names(call)
                for code in codes:
                    earlier = found.setdefault(code, params)
                    assert None in (earlier, params) or earlier == params, (
                        f"{path}:{call.lineno}: {code} raised with {params}, elsewhere {earlier}"
                    )
    return found


def test_the_scan_finds_the_codes() -> None:
    codes = raised_codes()
    assert {"bulletin.own_approval", "queue.past_day", "audio.too_quiet"} <= set(codes)
    assert codes["queue.past_day"] == {"day", "today"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_has_a_sentence_with_its_fields(language: str) -> None:
    words = catalog(language)
    for code, params in sorted(raised_codes().items()):
        key = REFUSAL_PREFIX + code
        assert key in words, f"{language}: no {key}"
        if params is not None:
            assert placeholders(words[key]) == params, (language, code, params)


def test_no_sentence_is_left_without_a_code() -> None:
    keys = {k.removeprefix(REFUSAL_PREFIX) for k in catalog("vi") if k.startswith(REFUSAL_PREFIX)}
    assert keys <= set(raised_codes()), sorted(keys - set(raised_codes()))


def test_a_refusal_reads_in_the_readers_language() -> None:
    past = InvalidInput(
        "the first day 2026-11-20 is past",
        code="queue.past_day",
        params={"day": "20/11/2026", "today": "22/11/2026"},
    )
    assert "20/11/2026" in refusal_text(Translator("vi"), past)
    assert "past" not in refusal_text(Translator("vi"), past)
    assert refusal_text(Translator("en"), past) != past.message
    # A state is shown with the catalog's own word for it.
    wrong = Conflict(
        "bulletin b1 is approved ...",
        code="bulletin.wrong_state",
        params={"state": "approved", "target_state": "draft"},
    )
    assert "Đã duyệt" in refusal_text(Translator("vi"), wrong)
    role = Forbidden(
        "x needs the 'approver' role", code="access.role_missing", params={"role": "approver"}
    )
    assert "Lãnh đạo phường (duyệt tin)" in refusal_text(Translator("vi"), role)
    cut = InvalidInput("cut short", code="audio.cut_short", params={"decoded_s": 3.5})
    assert "3,5 giây" in refusal_text(Translator("vi"), cut)
    assert "3.5 s" in refusal_text(Translator("en"), cut)
    # Without a code (or an unknown one): the English sentence inside the page's own.
    plain = InvalidInput("something odd")
    assert refusal_text(Translator("vi"), plain) == "something odd"
    assert refusal_text(Translator("en"), plain, "editorial.refused") == Translator("en")(
        "editorial.refused", reason="something odd"
    )
    unknown = InvalidInput("odd", code="no.such_code")
    assert refusal_text(Translator("vi"), unknown) == "odd"


def test_the_api_adds_the_code_beside_its_english_detail(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    try:
        with TestClient(create_app(runtime=h.runtime)) as api:
            headers = auth_headers(h.runtime, "officer")
            missing = api.get("/api/v1/broadcasts/brd-none", headers=headers)
            assert missing.status_code == 404
            assert missing.json() == {
                "detail": "no broadcast 'brd-none'",
                "code": "broadcast.unknown",
                "params": {"id": "brd-none"},
            }
            plain = api.post("/api/v1/places/import", content=b"x", headers=headers)
            assert plain.status_code == 403 and plain.json()["code"] == "access.role_missing"
            assert "importing places" in plain.json()["detail"]  # the English stays
    finally:
        h.runtime.stop()
