"""The role matrix walked for admissions: who may call a route gets in, and how.

- every role the row names gets past the door (neither 401 nor 403);
- the public doors ask for no token: health answers, a sign-in returns a token;
- media opens to a signed link only, not to an account's token.

The table is ``MATRIX`` in ``test_role_matrix.py``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_role_matrix import MATRIX
from tests.integration.test_role_matrix_support import V1, Call, _line, app_world, send, world
from tests.support.two_wards import TwoWards

pytestmark = pytest.mark.integration

__all__ = ["app_world", "world"]  # the fixtures, imported for pytest


def test_every_allowed_role_gets_past_the_door(world: tuple[TwoWards, TestClient]) -> None:
    w, client = world
    wrong: list[str] = []
    for (method, path), rule in MATRIX.items():
        if rule.scope in ("public", "signed"):
            continue
        for who in sorted(rule.roles, key=lambda r: r == "admin"):  # the admin last
            got = send(client, method, rule.call(w), w.headers[who])
            if got.status_code in (401, 403):
                wrong.append(_line(method, path, who, got, "neither 401 nor 403"))
    assert not wrong, "\n".join(wrong)


def test_the_public_doors_ask_for_no_token(world: tuple[TwoWards, TestClient]) -> None:
    w, client = world
    for (method, path), rule in MATRIX.items():
        if rule.scope == "public":
            got = send(client, method, rule.call(w), {})
            assert "sign in" not in got.text, _line(method, path, "nobody", got, "no sign-in")
    assert send(client, "GET", Call(f"{V1}/health"), {}).status_code == 200
    signed_in = send(client, "POST", MATRIX[("POST", f"{V1}/auth/token")].call(w), {})
    assert signed_in.status_code == 200 and signed_in.json()["token"].startswith("wct_")


def test_media_opens_to_a_signed_link_only(world: tuple[TwoWards, TestClient]) -> None:
    w, client = world
    unsigned = send(client, "GET", Call(f"/media/{w.media_sha256}.ogg"), {})
    assert unsigned.status_code == 403
    # Not with an account either: a token is not a signature.
    as_admin = send(client, "GET", Call(f"/media/{w.media_sha256}.ogg"), w.headers["admin"])
    assert as_admin.status_code == 403
    url = w.runtime.media_signer.at(w.runtime.clock.now()).url(w.media_sha256, "ogg")
    parts = urlsplit(url)
    signed = client.get(f"{parts.path}?{parts.query}")
    assert signed.status_code == 200 and signed.content.startswith(b"OggS")
