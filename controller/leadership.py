"""Which replica runs the scheduled jobs: one leader, chosen by the database.

Several controllers may share one PostgreSQL (docs/scale.md): each takes device
traffic and serves the API, but the scheduled jobs (recompile, gap requests, report
sums) must run once, not once per replica. The leader is whoever holds a
PostgreSQL *session-level advisory lock* on a connection of its own: the lock lives
as long as that connection, so a leader that dies or loses the database frees it at
once, and the next replica to try takes over (``Maintenance`` tries every
``leader_poll_s``). No table, no lease to renew, no clock to trust.

On SQLite the database is a file of one process: that process always leads.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# pg_try_advisory_lock takes a bigint; any constant the whole installation agrees on.
MAINTENANCE_LOCK_KEY = 0x5741524443415354  # "WARDCAST"


class Leadership:
    """Try to lead, check that we still do, step down (not thread-safe: one caller)."""

    def __init__(self, engine: Engine, key: int = MAINTENANCE_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._conn: Connection | None = None
        self._shared = engine.dialect.name == "postgresql"
        self._tried = False

    @property
    def shared(self) -> bool:
        """True when other processes may share the database (PostgreSQL)."""
        return self._shared

    @property
    def leading(self) -> bool:
        """True while this process holds the lock (always on SQLite once tried)."""
        return self._conn is not None or (not self._shared and self._tried)

    def try_lead(self) -> bool:
        """Take the lead if it is free (or already ours); True when leading."""
        self._tried = True
        if not self._shared:
            return True
        if self._conn is not None:
            return self.still_leading()
        conn = self._engine.connect()
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar()
            )
            conn.commit()  # the lock is the session's, not the transaction's
        except Exception:
            conn.close()
            log.exception("could not ask the database who leads")
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        log.warning("this replica now runs the scheduled jobs (advisory lock held)")
        return True

    def still_leading(self) -> bool:
        """Check the lock's connection is alive; False (and stepped down) if it is not."""
        if not self._shared:
            return True
        conn = self._conn
        if conn is None:
            return False
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
            return True
        except Exception as exc:
            log.error("lost the database connection that held the lead: %s", exc)
            self._drop()
            return False

    def step_down(self) -> None:
        """Release the lock (stopping): another replica may lead at once."""
        conn = self._conn
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            conn.commit()
        except Exception as exc:  # closing the connection frees it anyway
            log.warning("could not release the advisory lock cleanly: %s", exc)
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to the pool: a pooled copy would keep the lock
                conn.close()
            except Exception:
                log.debug("closing the lock connection failed", exc_info=True)
