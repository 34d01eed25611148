"""Downloading bundles and archiving periods: over HTTP, verified before anything is recorded."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from controller.api.errors import install_error_handlers
from controller.api.routes import bundles
from controller.db.models import PlaybackEvidence
from controller.db.models.archives import EvidenceArchive
from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.evidence.archives import archive_file, archive_period
from controller.domain.evidence.bundles.verify import EXIT_OK, run
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness
from tests.unit.test_bundles_support import DAY_END, DAY_START, WARD_A, Chains, Scene, scene

__all__ = ["scene"]

# The api fixture: a client of the bundle routes, and the scene they serve.
Api = tuple[TestClient, Harness, Chains]

DAY = {"ward": WARD_A, "from": "2026-03-02T00:00:00+07:00", "to": "2026-03-03T00:00:00+07:00"}


@pytest.fixture
def api(scene: Scene) -> Iterator[Api]:
    """The bundle routes on the scene's runtime, as the controller's app mounts them."""
    h, chains = scene
    app = FastAPI()
    install_error_handlers(app)
    app.state.runtime = h.runtime
    app.include_router(bundles.router)
    with TestClient(app) as client:
        client.headers.update(auth_headers(h.runtime, "admin"))
        yield client, h, chains


def verifies(path: Path) -> bool:
    out = io.StringIO()
    return run(path, out=out, err=out) == EXIT_OK


def evidence_count(h: Harness) -> int:
    with h.runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(PlaybackEvidence)) or 0


def test_a_bundle_downloads_as_a_file_that_verifies(api: Api, tmp_path: Path) -> None:
    client, _, _ = api
    response = client.get("/api/v1/evidence/bundle", params=DAY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert (
        'filename="wardcast-evidence-26734-2026-03-02.json"'
        in (response.headers["content-disposition"])
    )
    (tmp_path / "b.json").write_bytes(response.content)
    assert verifies(tmp_path / "b.json")


def test_unknown_ward_is_404_and_a_bad_period_422(api: Api) -> None:
    client, _, _ = api
    unknown = client.get("/api/v1/evidence/bundle", params={**DAY, "ward": "99999"})
    assert unknown.status_code == 404 and "no ward '99999'" in unknown.json()["detail"]
    swapped = {**DAY, "from": DAY["to"], "to": DAY["from"]}
    inverted = client.get("/api/v1/evidence/bundle", params=swapped)
    assert inverted.status_code == 422 and "before it starts" in inverted.json()["detail"]
    naive = client.get("/api/v1/evidence/bundle", params={**DAY, "from": "2026-03-02T00:00:00"})
    assert naive.status_code == 422


def test_archiving_writes_a_verified_bundle_and_keeps_every_row(api: Api) -> None:
    client, h, _ = api
    before = evidence_count(h)
    named = auth_headers(h.runtime, username="admin")
    response = client.post("/api/v1/evidence/archives", json=DAY, headers=named)
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["path"] == "archives/26734/2026-03-02.json"
    assert (record["label"], record["row_count"], record["device_count"]) == ("2026-03-02", 8, 2)
    assert record["missing_count"] == 0 and record["archived_by"] == "admin"
    path = h.runtime.settings.data_dir / record["path"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record["bundle_sha256"]
    assert verifies(path)
    assert evidence_count(h) == before  # archiving removes nothing
    # Again (late evidence may have come): a new file beside the first, never over it.
    again = client.post("/api/v1/evidence/archives", json=DAY).json()
    assert again["path"] == "archives/26734/2026-03-02.2.json"
    listed = client.get("/api/v1/evidence/archives", params={"ward": WARD_A}).json()
    assert [a["path"] for a in listed] == [record["path"], again["path"]]


def test_archiving_needs_an_administrator(api: Api) -> None:
    client, h, _ = api
    officer = Actor("Nguyễn Văn A", frozenset({Role.OFFICER}))
    with h.runtime.db.session() as session, pytest.raises(Forbidden, match="'admin' role"):
        archive_period(session, WARD_A, DAY_START, DAY_END, officer, h.runtime)
    officer_headers = auth_headers(h.runtime, "officer")
    response = client.post("/api/v1/evidence/archives", json=DAY, headers=officer_headers)
    assert response.status_code == 403
    assert not (h.runtime.settings.data_dir / "archives").exists()


def test_a_period_not_over_is_not_archived(api: Api) -> None:
    client, h, _ = api
    h.clock._now = DAY_END - timedelta(hours=1)
    response = client.post("/api/v1/evidence/archives", json=DAY)
    assert response.status_code == 422 and "once it is over" in response.json()["detail"]


def test_a_known_gap_is_archived_as_a_finding(api: Api) -> None:
    client, h, chains = api
    chains.make("to-2", DAY_START + timedelta(hours=9))  # lost
    chains.send("to-2", DAY_START + timedelta(hours=10))
    h.clock._now = DAY_END + timedelta(hours=3)
    response = client.post("/api/v1/evidence/archives", json=DAY)
    assert response.status_code == 201, response.text
    assert response.json()["missing_count"] == 1


def test_an_altered_evidence_store_is_refused_and_its_bundle_kept_aside(api: Api) -> None:
    client, h, _ = api
    # Someone with the database's keys drops the guard and edits a stored event.
    with h.runtime.db.session() as session:
        session.execute(text("DROP TRIGGER playback_evidence_no_update"))
        session.execute(
            text(
                "UPDATE playback_evidence SET signed = replace(signed, :was, :now) "
                "WHERE device_id = 'to-1' AND seq = 3"
            ),
            {"was": '"played_duration_s":12.0', "now": '"played_duration_s":900.0'},
        )
    response = client.post("/api/v1/evidence/archives", json=DAY)
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "did not verify (TAMPERED the signature does not match" in detail
    refused = h.runtime.settings.data_dir / "archives" / WARD_A / "2026-03-02.refused.json"
    assert refused.exists() and str(refused) in detail
    assert not (refused.parent / "2026-03-02.json").exists()
    with h.runtime.db.session() as session:
        assert session.scalars(select(EvidenceArchive)).all() == []


def test_an_archives_file_is_found_from_its_record(api: Api) -> None:
    client, h, _ = api
    client.post("/api/v1/evidence/archives", json=DAY)
    with h.runtime.db.session() as session:
        (record,) = session.scalars(select(EvidenceArchive)).all()
        assert archive_file(h.runtime.settings, record).exists()
