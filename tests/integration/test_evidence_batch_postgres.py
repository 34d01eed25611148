"""The evidence batch path stores exactly what the per-event path stores, on PostgreSQL.

The unit tier's equivalence test (tests/unit/test_evidence_batch.py) runs on SQLite;
on PostgreSQL the batch reads its keys as arrays (``= ANY``), locks chain rows
``FOR UPDATE`` for real and writes them in bulk, so the same random sequences are fed
here to two controllers on one real cluster and their databases and acks compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.local_postgres import LocalPostgres
from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_evidence_batch import START, _setup, assert_batch_matches_one_by_one
from wardcast_protocol.signing import SigningKey

_names = iter(range(1_000_000))


@pytest.fixture
def pg_pair(
    tmp_path: Path, postgres: LocalPostgres
) -> Iterator[tuple[Harness, Harness, dict[str, SigningKey]]]:
    keys = {d: SigningKey.generate() for d in ("to-1", "to-2")}
    one, many = (
        make_harness(
            tmp_path / name,
            START,
            database_url=postgres.create_database(f"wardcast_batch_{next(_names)}"),
        )
        for name in ("one", "many")
    )
    one.runtime.bridge.batch_evidence = False  # the reference: record_event, one by one
    for h in (one, many):
        _setup(h, keys)
    yield one, many, keys
    for h in (one, many):
        h.runtime.stop()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fork", [False, True])
def test_a_batch_stores_what_one_by_one_stores_on_postgresql(
    pg_pair: tuple[Harness, Harness, dict[str, SigningKey]],
    seed: int,
    fork: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, many, keys = pg_pair
    assert_batch_matches_one_by_one(one, many, keys, seed, fork, monkeypatch)
