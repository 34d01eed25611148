"""Mount the console on the app: its pages at ``/``, its static files, the offline API docs.

``controller/api/app.py`` calls :func:`install_console` once, after the API's routers and
error handlers, so the API's paths are matched first and keep their JSON answers.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from controller.composition import ControllerRuntime
from controller.console.api_docs import install_api_docs
from controller.console.deps import ConsoleState
from controller.console.errors import install_console_errors
from controller.console.numbers import rate, signed
from controller.console.pages import console_router
from controller.console.security import (
    CsrfGuard,
    KeptForms,
    LoginLimiter,
    load_or_create_key,
)
from controller.console.timefmt import format_local

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_PATH = "/static"


def template_env() -> Environment:
    """The Jinja2 environment: HTML escaped, undefined names fail loudly in tests."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["localtime"] = format_local
    env.filters["signed"] = signed  # {{ offset | signed(lang) }}: 0,0 / +1,2 / -0,4
    env.filters["rate"] = rate  # {{ 0.952 | rate(lang) }}: 95,2 % / 95.2%
    return env


def install_console(app: FastAPI, runtime: ControllerRuntime) -> None:
    """Add the console's pages, static files, error pages and the offline API docs."""
    key = load_or_create_key(runtime.settings.data_dir / "console.key")
    app.state.console = ConsoleState(
        env=template_env(), csrf=CsrfGuard(key), limiter=LoginLimiter(), kept=KeptForms()
    )
    install_console_errors(app)
    install_api_docs(app, STATIC_PATH)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="static")
    app.include_router(console_router())
