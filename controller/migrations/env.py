"""Alembic environment: runs migrations on the connection the controller hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from controller.db.models import Base

target_metadata = Base.metadata

# APScheduler creates and owns its job table; migrations must leave it alone.
_NOT_OURS = {"apscheduler_jobs"}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Keep tables owned by other libraries out of autogenerate."""
    return not (type_ == "table" and name in _NOT_OURS)


def run() -> None:
    """Run migrations online, on a given connection or on ``sqlalchemy.url``."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
