"""Every form the console serves, checked from the app's own routes (so a new page is too).

- a POST without a CSRF token gets the 403 page, whoever posts it;
- an evaluator's POST is refused (403) everywhere but their own sign-out and password;
- nobody signed in reaches no page.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.support.console import WARD_A, csrf_of, sign_in

# Forms any signed-in role may post: their own account, and signing in and out.
OWN = {"/login", "/logout", "/account/password"}


def console_paths(app: FastAPI, method: str = "POST") -> list[str]:
    """The console's paths (not in the OpenAPI document) for a method, placeholders filled."""
    found = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        console = isinstance(route, APIRoute) and not context.include_in_schema
        if console and method in (context.methods or ()):
            found.add(re.sub(r"\{[^}]+\}", "x", str(context.path_format)))
    return sorted(found)


def test_every_console_form_refuses_a_post_without_its_csrf_token(client: TestClient) -> None:
    paths = console_paths(client.app)  # type: ignore[arg-type]
    assert "/admin/users/new" in paths and "/logout" in paths
    sign_in(client)
    wrong = []
    for path in paths:
        if path == "/login":
            continue  # anonymous: covered in test_console_auth
        answer = client.post(path, data={"title": "x"})
        if answer.status_code != 403 or "Biểu mẫu đã hết hạn" not in answer.text:
            wrong.append(f"{path}: {answer.status_code} {answer.text[:120]!r}")
    assert not wrong, "\n".join(wrong)


def test_an_evaluator_can_post_no_form_that_changes_things(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    token = csrf_of(client.get("/").text)
    wrong = []
    for path in console_paths(client.app):  # type: ignore[arg-type]
        if path in OWN:
            continue
        answer = client.post(path, data={"csrf_token": token, "title": "x"})
        if answer.status_code != 403:
            wrong.append(f"{path}: {answer.status_code} {answer.text[:120]!r}")
    assert not wrong, "\n".join(wrong)


def test_every_console_page_asks_who_is_there(client: TestClient) -> None:
    """Nobody signed in: every page and fragment sends to sign-in, and back afterwards."""
    wrong = []
    for path in console_paths(client.app, "GET"):  # type: ignore[arg-type]
        if path in ("/login", "/lang/x"):
            continue
        answer = client.get(path)
        if answer.status_code != 303 or not answer.headers["location"].startswith("/login?next="):
            wrong.append(f"{path}: {answer.status_code}")
    assert not wrong, "\n".join(wrong)
