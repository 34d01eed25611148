"""The role matrix walked for refusals: each route × the identities it must turn away.

- nobody signed in (or a bogus token) gets 401 from every route but the public ones
  and signed media;
- a role the row does not name gets 403, before anything is looked up;
- ward B's actor (officer, approver and evaluator at once) gets 403 from every route on
  ward A's things, and from lists sees nothing of ward A.

The table is ``MATRIX`` in ``test_role_matrix.py``.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_role_matrix import MATRIX
from tests.integration.test_role_matrix_support import SCOPED_ROLES, _line, app_world, send, world
from tests.support.two_wards import TwoWards

pytestmark = pytest.mark.integration

__all__ = ["app_world", "world"]  # the fixtures, imported for pytest


def test_nobody_and_the_wrong_roles_are_refused_at_the_door(
    world: tuple[TwoWards, TestClient],
) -> None:
    w, client = world
    wrong: list[str] = []
    bogus = {"Authorization": "Bearer wct_not-a-token-at-all"}
    for (method, path), rule in MATRIX.items():
        if rule.scope in ("public", "signed"):
            continue
        call = rule.call(w)
        for who, headers in (("nobody", {}), ("a bogus token", bogus)):
            got = send(client, method, call, headers)
            if got.status_code != 401:
                wrong.append(_line(method, path, who, got, "401"))
        refused = [r for r in SCOPED_ROLES if r not in rule.roles]
        if not rule.roles & set(SCOPED_ROLES):
            refused.append("other_ward")  # ward B's actor holds every role but admin
        for who in refused:
            got = send(client, method, call, w.headers[who])
            if got.status_code != 403:
                wrong.append(_line(method, path, who, got, "403"))
    assert not wrong, "\n".join(wrong)


def test_another_wards_actor_is_refused_and_sees_nothing_of_ours(
    world: tuple[TwoWards, TestClient],
) -> None:
    w, client = world
    wrong: list[str] = []
    for (method, path), rule in MATRIX.items():
        if rule.scope in ("public", "signed"):
            continue
        got = send(client, method, rule.call(w), w.headers["other_ward"])
        if rule.scope == "ward" and got.status_code != 403:
            wrong.append(_line(method, path, "ward B's actor", got, "403"))
        # A refusal may name what was asked for; an answer may not show ward A's things.
        answered = got.status_code < 400
        leaked = sorted(m for m in w.markers() if answered and m and m in got.text)
        if leaked:
            wrong.append(f"{method} {path} showed ward B's actor ward A's {leaked}")
    assert not wrong, "\n".join(wrong)
