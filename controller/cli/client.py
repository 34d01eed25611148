"""The controller's programme endpoints, from the command line's side (HTTP, no server code).

``GET /api/v1/wards/{ward}/programme``, ``POST …/programme/check`` and
``PUT …/programme``. Transport failures become :class:`ControllerUnreachable` with a
sentence for the officer; HTTP statuses are returned for the caller to judge, since
a 404 or a 422 means something different to each command.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from controller.domain.programmes.schema import ProgrammeDoc

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 15.0


class ControllerUnreachable(Exception):
    """The controller could not be asked, or answered with something unreadable."""


@dataclass(frozen=True)
class Reply:
    """An HTTP status and its JSON body (a dict; {} when the body was empty)."""

    status: int
    body: dict[str, Any]

    @property
    def detail(self) -> str:
        """The error's ``detail`` as text, whatever shape the server gave it."""
        detail = self.body.get("detail", "")
        return detail if isinstance(detail, str) else str(detail)


class ProgrammeClient:
    """Reads, checks and replaces a ward's programme on a running controller."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self._base_url, headers=headers, timeout=timeout_s, transport=transport
        )

    def __enter__(self) -> ProgrammeClient:
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

    def _path(self, ward: str, suffix: str = "") -> str:
        return f"/api/v1/wards/{quote(ward, safe='')}/programme{suffix}"

    def _send(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Reply:
        try:
            response = self._http.request(method, path, json=payload)
        except httpx.TimeoutException:
            raise ControllerUnreachable(
                f"the controller at {self._base_url} did not answer in time"
            ) from None
        except httpx.HTTPError as exc:
            raise ControllerUnreachable(
                f"cannot reach the controller at {self._base_url}: {exc}"
            ) from None
        if not response.content:
            return Reply(response.status_code, {})
        try:
            body = response.json()
        except ValueError:
            raise ControllerUnreachable(
                f"the controller at {self._base_url} answered {response.status_code} "
                "with something that is not JSON (is this the Wardcast API?)"
            ) from None
        if not isinstance(body, dict):
            raise ControllerUnreachable(
                f"the controller answered {response.status_code} with unexpected JSON"
            )
        return Reply(response.status_code, body)

    def get(self, ward: str) -> Reply:
        """The programme the controller holds: 200 {version, document} or 404."""
        return self._send("GET", self._path(ward))

    def check(self, doc: ProgrammeDoc) -> Reply:
        """Ask the controller to check ``doc`` (zones, content) and diff it; nothing is stored."""
        return self._send("POST", self._path(doc.ward, "/check"), _payload(doc))

    def put(self, doc: ProgrammeDoc) -> Reply:
        """Replace the ward's programme with ``doc``, all or nothing: 200, 404 or 422."""
        return self._send("PUT", self._path(doc.ward), _payload(doc))


def _payload(doc: ProgrammeDoc) -> dict[str, Any]:
    return {"document": doc.model_dump(mode="json")}
