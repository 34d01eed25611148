"""Driving the console in tests: a client over HTTPS, signing in, and CSRF tokens.

    client = console_client(runtime)
    sign_in(client, "admin")                       # an administrator, made if missing
    sign_in(client, "officer", wards=["00037"])     # a scoped officer
    client.post("/account/password", data={"csrf_token": csrf_of(page.text), ...})

The client's base URL is ``https://testserver`` so the Secure cookies are sent back, as a
browser does on HTTPS (and on http://localhost).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.domain.actors import Role
from controller.domain.places import service as places
from tests.support.auth import PASSWORD, issue_token, username_for

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def console_client(runtime: ControllerRuntime) -> TestClient:
    """A client of the whole app (API and console), not following redirects."""
    return TestClient(
        create_app(runtime=runtime), base_url="https://testserver", follow_redirects=False
    )


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "no csrf_token field on the page"
    return found.group(1)


def make_account(
    runtime: ControllerRuntime, role: Role | str = Role.ADMIN, wards: Sequence[str] = ()
) -> str:
    """Create the test account of this role and wards (if missing); its username."""
    issue_token(runtime.db, runtime.clock.now(), role, wards=wards)
    return username_for(role, wards)


def sign_in(
    client: TestClient,
    role: Role | str = Role.ADMIN,
    wards: Sequence[str] = (),
    *,
    next_path: str = "/",
) -> str:
    """Sign in through the form as the test account of this role; its username."""
    runtime: ControllerRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    username = make_account(runtime, role, wards)
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(form.text),
            "username": username,
            "password": PASSWORD,
            "next": next_path,
        },
    )
    assert answer.status_code == 303, answer.text
    return username


WARD_A, WARD_B = "00037", "00040"


def add_two_wards(runtime: ControllerRuntime) -> None:
    """Two wards of one district: Hàng Bạc (A) and Hàng Buồm (B), and a device in each."""
    with runtime.db.session() as session:
        places.upsert_province(session, "01", "Hà Nội")
        session.flush()
        places.upsert_district(session, "002", "01", "Hoàn Kiếm")
        session.flush()
        places.upsert_ward(session, WARD_A, "002", "Hàng Bạc", "Asia/Ho_Chi_Minh")
        places.upsert_ward(session, WARD_B, "002", "Hàng Buồm", "Asia/Ho_Chi_Minh")
        session.flush()
        places.upsert_group(session, WARD_A, "to-1", "Tổ dân phố 1")
        places.upsert_group(session, WARD_B, "to-2", "Tổ dân phố 2")
        session.flush()
        places.place_device(session, "to-1", WARD_A, "to-1")
        places.place_device(session, "to-2", WARD_B, "to-2")
