"""Logging set-up for the console commands: one readable line per event."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    """Timestamped, named lines on stderr; quiet the chatty libraries."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("httpx", "httpcore", "uvicorn.access", "alembic", "pydub.converter"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
