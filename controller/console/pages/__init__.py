"""The console's pages: one module per page or group of pages, each with its ``router``.

A new page adds its module to ``PAGE_MODULES`` (and its menu row to
``controller/console/nav.py``); ``console_router`` includes them all behind
``mark_console``, so their errors are shown as pages.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from controller.console.deps import mark_console
from controller.console.pages import (
    account,
    admin_devices,
    admin_users,
    approvals,
    auth,
    broadcasts,
    bulletin_edit,
    bulletins,
    dashboard,
    devices,
    emergency,
    emergency_live,
    evidence,
    reports,
    schedule,
)

PAGE_MODULES = (
    auth,
    dashboard,
    account,
    admin_users,
    admin_devices,
    bulletins,
    approvals,
    schedule,
    emergency,
    emergency_live,
    broadcasts,
    bulletin_edit,
    reports,
    evidence,
    devices,
)


def console_router() -> APIRouter:
    """Every console page, kept out of the OpenAPI document (it describes the JSON API)."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(mark_console)])
    for module in PAGE_MODULES:
        router.include_router(module.router)
    return router
