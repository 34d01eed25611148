"""The console's door: sign-in and out, sessions, CSRF, rate limits, passwords, language."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response

from controller.composition import ControllerRuntime
from controller.console.security import SESSION_COOKIE
from tests.support.auth import PASSWORD
from tests.support.console import (
    WARD_A,
    console_client,
    csrf_of,
    make_account,
    sign_in,
)
from tests.unit.controller_support import Harness, make_harness


def runtime_of(client: TestClient) -> ControllerRuntime:
    runtime: ControllerRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def login(client: TestClient, username: str, password: str, next_path: str = "/") -> Response:
    token = csrf_of(client.get("/login").text)
    data = {"csrf_token": token, "username": username, "password": password, "next": next_path}
    answer: Response = client.post("/login", data=data)
    return answer


def test_a_page_without_a_session_sends_to_sign_in_and_back(client: TestClient) -> None:
    answer = client.get("/admin/users?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fadmin%2Fusers%3Fx%3D1"
    username = make_account(runtime_of(client))
    signed = login(client, username, PASSWORD, "/admin/users?x=1")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/admin/users?x=1"
    assert client.get("/admin/users?x=1").status_code == 200


def test_the_session_cookie_is_secure_http_only_and_lax(client: TestClient) -> None:
    username = make_account(runtime_of(client))
    signed = login(client, username, PASSWORD)
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=wct_")
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    page = client.get("/")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_next_to_another_site_is_refused(client: TestClient) -> None:
    username = make_account(runtime_of(client))
    signed = login(client, username, PASSWORD, "//evil.example/")
    assert signed.headers["location"] == "/"


def test_a_wrong_password_says_nothing_about_the_account(client: TestClient) -> None:
    username = make_account(runtime_of(client))
    known = login(client, username, "wrong-password-1")
    unknown = login(client, "nobody-here", "wrong-password-1")
    assert known.status_code == unknown.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in known.text
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in unknown.text
    assert 'value="nobody-here"' in unknown.text  # kept as typed


def test_sign_in_is_rate_limited_per_account_then_per_address(client: TestClient) -> None:
    username = make_account(runtime_of(client))
    for _ in range(5):
        assert login(client, username, "wrong-password-1").status_code == 401
    limited = login(client, username, PASSWORD)  # even the right password waits
    assert limited.status_code == 429
    assert "Quá nhiều lần đăng nhập sai" in limited.text
    # Unknown names are limited the same way (no enumeration by the limit either).
    for _ in range(5):
        login(client, "ghost", "wrong-password-1")
    assert login(client, "ghost", "x-wrong-password").status_code == 429
    # The address limit: 20 failures from one address, whatever the names.
    for i in range(10):
        login(client, f"spray{i}", "wrong-password-1")
    assert login(client, "fresh-name", "wrong-password-1").status_code == 429


def test_a_form_without_its_csrf_token_gets_the_403_page(client: TestClient) -> None:
    sign_in(client)
    answer = client.post("/account/password", data={"current_password": "x"})
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"]
    assert "Biểu mẫu đã hết hạn" in answer.text and "Traceback" not in answer.text
    forged = client.post("/logout", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    anonymous = TestClient(client.app, base_url="https://testserver")
    refused = anonymous.post("/login", data={"username": "admin", "password": "x"})
    assert refused.status_code == 403


def test_logout_revokes_the_token_itself(client: TestClient) -> None:
    sign_in(client)
    secret = client.cookies[SESSION_COOKIE]
    page = client.get("/")
    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
    # A copy of the cookie made before signing out no longer works, here or in the API.
    client.cookies.set(SESSION_COOKIE, secret)
    assert client.get("/").status_code == 303
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_an_expired_session_keeps_the_typed_form_for_the_same_page(
    client: TestClient, h: Harness
) -> None:
    sign_in(client)
    page = client.get("/admin/users/new")
    asyncio.run(h.clock.advance(9 * 3600))  # past the 8 h sign-in token
    posted = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_of(page.text),
            "username": "can-bo-moi",
            "display_name": "Nguyễn Văn Mới",
            "password": "not-kept-ever-1",
        },
    )
    assert posted.status_code == 303
    target = posted.headers["location"]
    assert target.startswith("/login?next=%2Fadmin%2Fusers%2Fnew%3Fkept%3D")
    assert "expired=1" in target
    again = client.get(target)
    assert "Phiên làm việc đã hết hạn" in again.text
    signed = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(again.text),
            "username": "admin",
            "password": PASSWORD,
            "next": again.text.split('name="next" value="')[1].split('"')[0].replace("&amp;", "&"),
        },
    )
    back = client.get(signed.headers["location"])
    assert back.status_code == 200
    assert 'value="can-bo-moi"' in back.text and "Nguyễn Văn Mới" in back.text
    assert "not-kept-ever-1" not in back.text


def test_password_change_with_inline_errors(client: TestClient) -> None:
    sign_in(client, "officer", ["00037"])
    form = client.get("/account/password")
    token = csrf_of(form.text)
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "not-the-password",
            "new_password": "a-new-password-1",
            "new_password2": "a-new-password-1",
        },
    )
    assert wrong.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in wrong.text and 'aria-invalid="true"' in wrong.text
    mismatch = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a-new-password-1",
            "new_password2": "a-new-password-2",
        },
    )
    assert "Hai lần nhập mật khẩu mới không khớp." in mismatch.text
    done = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a-new-password-1",
            "new_password2": "a-new-password-1",
        },
    )
    assert done.status_code == 303
    assert "Đã đổi mật khẩu." in client.get(done.headers["location"]).text


def test_vietnamese_first_and_an_english_switch(client: TestClient) -> None:
    page = client.get("/login")
    assert '<html lang="vi">' in page.text and "Đăng nhập" in page.text
    switched = client.get("/lang/en?next=/login")
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    english = client.get("/login")
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    assert client.get("/lang/xx?next=/login").status_code == 303  # ignored, no error


def test_the_api_docs_are_served_without_a_cdn(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "/static/vendor/" in html
        assert "cdn.jsdelivr" not in html and "fonts.googleapis" not in html
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/vendor/redoc/redoc.standalone.js",
        "/static/vendor/htmx/htmx.min.js",
    ):
        assert client.get(asset).status_code == 200, asset
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token, or the token POST /api/v1/auth/token returns.",
    }
    spec = client.get("/openapi.json").json()
    assert spec["paths"]["/api/v1/bulletins"]["get"]["security"] == [{"BearerToken": []}]
    assert not any(
        p == "/" or p.startswith("/admin") for p in client.get("/openapi.json").json()["paths"]
    )


def test_guessing_the_current_password_is_limited_too(client: TestClient) -> None:
    sign_in(client, "officer", [WARD_A])
    token = csrf_of(client.get("/account/password").text)
    data = {
        "csrf_token": token,
        "current_password": "a-wrong-guess-1",
        "new_password": "a-new-password-1",
        "new_password2": "a-new-password-1",
    }
    for _ in range(5):
        assert "Mật khẩu hiện tại không đúng." in client.post("/account/password", data=data).text
    limited = client.post("/account/password", data={**data, "current_password": PASSWORD})
    assert limited.status_code == 422 and "Quá nhiều lần nhập sai" in limited.text


def test_signed_in_the_login_page_goes_straight_on(client: TestClient) -> None:
    sign_in(client)
    answer = client.get("/login?next=/admin/devices")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/devices"


def test_the_secure_flag_is_a_setting(tmp_path: Path) -> None:
    harness = make_harness(tmp_path)
    try:
        settings = harness.runtime.settings.model_copy(update={"console_cookie_secure": False})
        harness.runtime.settings = settings
        with console_client(harness.runtime) as plain:
            username = make_account(harness.runtime)
            answer = login(plain, username, PASSWORD)
            assert answer.status_code == 303
            assert "Secure" not in answer.headers["set-cookie"]
            assert "HttpOnly" in answer.headers["set-cookie"]
    finally:
        harness.runtime.stop()


def test_an_expired_post_returns_to_the_page_the_form_was_on(
    client: TestClient, h: Harness
) -> None:
    sign_in(client)
    page = client.get("/admin/devices?sort=id")
    asyncio.run(h.clock.advance(9 * 3600))
    posted = client.post(
        "/admin/devices/to-1/code",  # a POST-only address: no page to return to
        data={"csrf_token": csrf_of(page.text)},
        headers={"Referer": "https://testserver/admin/devices?sort=id"},
    )
    assert posted.status_code == 303
    assert posted.headers["location"].startswith(
        "/login?next=%2Fadmin%2Fdevices%3Fsort%3Did%26kept%3D"
    )
    elsewhere = client.post(
        "/admin/devices/to-1/code",
        data={"csrf_token": csrf_of(page.text)},
        headers={"Referer": "https://evil.example/admin/devices"},
    )
    assert "next=%2Fadmin%2Fdevices%2Fto-1%2Fcode" in elsewhere.headers["location"]
