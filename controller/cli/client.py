"""One HTTP client for every ``wardcast`` command that talks to a controller.

:class:`ControllerClient` carries the base URL, the token (``Authorization: Bearer``)
and the timeout. A command never sees a transport failure: an unreachable controller,
a timeout or an answer that is not the Wardcast API is printed as one line,
``error: …``, and the process exits 2 — never a traceback. HTTP statuses are left to
the command, since a 404 or a 422 means something different to each; :func:`refusal`
turns any error body (FastAPI's ``detail``, a string or a list of validation errors)
into the one line that explains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn

import httpx
import typer

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 15.0
AUTH_HINT = "give a token with --token or WARDCAST_TOKEN"

# Tests replace this with a fake controller's transport (an httpx.BaseTransport);
# read when a client is made, so a monkeypatch reaches every command.
http_transport: httpx.BaseTransport | None = None


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on one line of standard error and exit with ``code``."""
    typer.echo(f"error: {_one_line(message)}", err=True)
    raise typer.Exit(code)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def error_detail(body: Any) -> str:
    """The reason in an error body, on one line, whatever shape the server gave it."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI's validation errors
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg', 'invalid')}"
            if isinstance(e, dict)
            else str(e)
            for e in detail
        )
    return _one_line(str(detail))


def refusal(response: httpx.Response) -> str:
    """``the controller refused (404): no ward '99999'`` for an error response."""
    try:
        detail = error_detail(response.json())
    except ValueError:
        detail = _one_line(response.text[:300]) or response.reason_phrase
    hint = f"; {AUTH_HINT}" if response.status_code in (401, 403) else ""
    return f"the controller refused ({response.status_code}): {detail}{hint}"


@dataclass(frozen=True)
class Reply:
    """An HTTP status and its JSON body (a dict; {} when the body was empty)."""

    status: int
    body: dict[str, Any]

    @property
    def detail(self) -> str:
        """The error's ``detail`` as one line of text ('' when there is none)."""
        return error_detail(self.body) if "detail" in self.body else ""


class ControllerClient:
    """A running controller's HTTP API, as the command line uses it."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout_s: float = TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout_s,
            transport=transport if transport is not None else http_transport,
        )

    def __enter__(self) -> ControllerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """The controller's response, whatever its status; no answer at all exits 2."""
        try:
            return self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException:
            fail(f"the controller at {self.base_url} did not answer in time")
        except httpx.HTTPError as exc:
            fail(f"cannot reach the controller at {self.base_url}: {exc}")

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Reply:
        """Like :meth:`send` for JSON endpoints; an answer that is not a JSON object exits 2."""
        response = self.send(method, path, json=payload)
        if not response.content:
            return Reply(response.status_code, {})
        try:
            body = response.json()
        except ValueError:
            fail(
                f"the controller at {self.base_url} answered {response.status_code} "
                "with something that is not JSON (is this the Wardcast API?)"
            )
        if not isinstance(body, dict):
            fail(f"the controller answered {response.status_code} with unexpected JSON")
        return Reply(response.status_code, body)
