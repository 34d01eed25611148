"""Alembic environment: runs migrations on the connection the controller hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from controller.db.models import Base

target_metadata = Base.metadata


def run() -> None:
    """Run migrations online, on a given connection or on ``sqlalchemy.url``."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
