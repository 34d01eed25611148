"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from controller.api.errors import ERROR_RESPONSES, install_error_handlers
from controller.api.middleware import RequestContextMiddleware
from controller.api.routes import (
    accounts,
    broadcasts,
    bulletins,
    bundles,
    devices,
    emergencies,
    enrolment,
    evidence,
    places,
    programmes,
    reports,
    security_records,
    system,
    tts,
)
from controller.api.routes.media import media_router
from controller.api.routes.metrics import metrics_router
from controller.composition import ControllerRuntime
from controller.console.install import install_console
from controller.metrics.exporter import MetricsExporter
from controller.settings import Settings, get_settings


def create_app(
    settings: Settings | None = None, runtime: ControllerRuntime | None = None
) -> FastAPI:
    """Build the app; it starts (and stops) its runtime unless one is given started."""
    owns_runtime = runtime is None
    rt = runtime or ControllerRuntime(settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_runtime:
            rt.start()
        try:
            yield
        finally:
            if owns_runtime:
                rt.stop()

    app = FastAPI(
        title="Wardcast",
        summary="Đài truyền thanh thông minh — smart loudspeaker controller for wards.",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        # /docs and /redoc are served by the console from vendored assets (no CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = rt
    install_error_handlers(app)
    # First: routes are tried in order, and a ward's thousand loudspeakers fetching a new
    # emergency's clip should not each be matched against the whole API before it.
    app.include_router(media_router(rt.media, rt.media_signer, rt.clock))
    for module in (
        system,
        accounts,
        places,
        programmes,
        devices,
        enrolment,
        bulletins,
        broadcasts,
        emergencies,
        evidence,
        bundles,
        reports,
        security_records,
        tts,
    ):
        app.include_router(module.router)
    exporter = MetricsExporter(rt.db, rt.clock, rt.settings.device_offline_after_s)
    app.include_router(metrics_router(exporter))
    install_console(app, rt)  # the console at /, after the API: its paths match first
    app.add_middleware(RequestContextMiddleware)  # request ids in logs, latency histogram
    return app
