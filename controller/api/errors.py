"""Turn every error into a clear JSON answer; never show a traceback to a user."""

from __future__ import annotations

import dataclasses
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from controller.domain.errors import DomainError

log = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors to their status, and anything unexpected to a plain 500."""

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        content: dict[str, object] = {"detail": exc.message}
        # Refusals that carry a list (programme conflicts, import problems) show it all.
        conflicts = getattr(exc, "conflicts", None)
        if conflicts is not None:
            content["conflicts"] = [dataclasses.asdict(c) for c in conflicts]
        problems = getattr(exc, "problems", None)
        if problems is not None:
            content["problems"] = list(problems)
        return JSONResponse(status_code=exc.status, content=content)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            status_code=500,
            content={"detail": "internal error; the controller log has the details"},
        )
