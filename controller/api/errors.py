"""Turn every error into a clear JSON answer; never show a traceback to a user.

Every error body has one shape, :class:`~controller.api.schemas.errors.ErrorPublic`,
and :data:`ERROR_RESPONSES` declares it in the OpenAPI document for every error status
the API sends, so a client (or schemathesis) can check each answer against it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from controller.api.schemas.errors import ErrorPublic
from controller.domain.errors import DomainError

log = logging.getLogger(__name__)

_ERROR_STATUSES = {
    400: "The request cannot be carried out.",
    401: "No valid credentials.",
    403: "The credentials do not allow this.",
    404: "A thing named in the request does not exist.",
    409: "The request contradicts what is stored.",
    413: "An upload or text over its limit.",
    422: "A value outside its shape or range: `detail` lists each issue, or says why.",
    500: "An unexpected error; the controller log has the details.",
    503: "A service it needs (speech, storage, broker) is not available now.",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic, "description": text} for status, text in _ERROR_STATUSES.items()
}


def _json_safe(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` with text that UTF-8 cannot carry (a lone surrogate) replaced.

    A JSON body may carry ``"\\ud800"``; echoed back in a validation error it would make
    the answer itself unencodable (a 500 for a 422).
    """
    text = json.dumps(jsonable_encoder(content), ensure_ascii=False)
    safe: dict[str, Any] = json.loads(text.encode("utf-8", "replace").decode("utf-8"))
    return safe


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors to their status, and anything unexpected to a plain 500."""

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        content: dict[str, Any] = {"detail": exc.message}
        if exc.code is not None:  # a stable code a client may translate, with its values
            content["code"] = exc.code
            content["params"] = dict(exc.params)
        if exc.field is not None:
            content["field"] = exc.field
        # Refusals that carry a list (programme conflicts, import problems) show it all.
        conflicts = getattr(exc, "conflicts", None)
        if conflicts is not None:
            content["conflicts"] = [dataclasses.asdict(c) for c in conflicts]
        problems = getattr(exc, "problems", None)
        if problems is not None:
            content["problems"] = list(problems)
        headers = getattr(exc, "headers", None)  # a 401 says how to authenticate
        return JSONResponse(
            status_code=exc.status, content=_json_safe(content), headers=headers and dict(headers)
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content=_json_safe({"detail": exc.errors()}))

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # The last line of defence: the schemas bound what they can, but a value the
        # database still cannot hold (a NUL in a text, a number past its column) is the
        # request's fault, not the server's.
        log.warning("refused a value the database cannot store: %s", exc.orig)
        detail = "a value in the request cannot be stored (out of range or not text)"
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            status_code=500,
            content={"detail": "internal error; the controller log has the details"},
        )
