"""The console's unit tests: a controller harness with two wards, and a client of the whole app.

A test file that needs another set-up defines its own ``h`` or ``client``; pytest takes the
module's fixture over these.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.console import add_two_wards, console_client
from tests.unit.controller_support import Harness, make_harness


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    """A controller (fake clock and transport) with wards A and B and a device in each."""
    harness = make_harness(tmp_path)
    add_two_wards(harness.runtime)
    yield harness
    harness.runtime.stop()


@pytest.fixture
def client(h: Harness) -> Iterator[TestClient]:
    """A client of the API and the console over https://testserver, not following redirects."""
    with console_client(h.runtime) as c:
        yield c
