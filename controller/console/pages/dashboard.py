"""The dashboard: every role's home — devices, today's sessions, what plays now, alerts.

The live part is a fragment (``/dashboard/live``) that htmx reloads every 20 seconds,
so a phone on a weak link fetches a few kilobytes, not the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import PageDep
from controller.console.page import Page
from controller.console.pages.devices import statuses
from controller.domain.overview import today

router = APIRouter()
DEVICE_ROWS = 100


def live_context(page: Page, session: Session) -> dict[str, Any]:
    """The figures of the live part, in the actor's wards."""
    assert page.actor is not None
    devices = statuses(page, session)
    # Trouble first: offline, then clocks off, then the rest; a phone shows the first rows.
    shown = sorted(devices, key=lambda d: (d.online, not d.clock_suspect, d.device_id))
    return {
        "devices": shown[:DEVICE_ROWS],
        "more_devices": max(0, len(shown) - DEVICE_ROWS),
        "online": sum(1 for d in devices if d.online),
        "offline": sum(1 for d in devices if not d.online and d.revoked_at is None),
        "sessions": today.sessions_today(session, page.actor, page.now, page.tz),
        "playing": today.playing_now(session, page.actor, page.now),
        "alerts": today.alerts(session, page.actor, page.now, devices),
        "updated_at": page.now,
    }


@router.get("/")
def dashboard(page: PageDep, session: SessionDep) -> Response:
    """What is happening on the actor's wards now."""
    return page.render("dashboard.html", **live_context(page, session))


@router.get("/dashboard/live")
def dashboard_live(page: PageDep, session: SessionDep) -> Response:
    """The live part alone (htmx polls it)."""
    return page.render("_dashboard_live.html", **live_context(page, session))
