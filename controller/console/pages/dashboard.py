"""The dashboard: the home page of every role (filled in by the dashboard step)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from controller.console.deps import PageDep

router = APIRouter()


@router.get("/")
def dashboard(page: PageDep) -> Response:
    """What is happening on the actor's wards now."""
    return page.render("dashboard.html")
