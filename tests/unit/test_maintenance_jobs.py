"""The scheduled jobs' bodies: they act on the current controller and never raise."""

from __future__ import annotations

import logging

import pytest

from controller import maintenance


class _Jobs:
    """A stand-in controller whose rollup job fails and whose others count."""

    def recompile_plans(self) -> int:
        return 3

    def request_evidence_gaps(self) -> int:
        return 0

    def keep_rollups_current(self) -> int:
        raise RuntimeError("database is locked")

    def backfill_rollups(self) -> int:
        return 2


def test_a_failing_job_is_logged_and_the_others_still_report(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(maintenance, "_jobs", _Jobs())
    with caplog.at_level(logging.INFO, logger="controller.maintenance"):
        maintenance.recompile_all()
        maintenance.request_evidence_gaps()
        maintenance.keep_rollups_current()  # raises inside: logged, not raised
        maintenance.backfill_rollups()
    text = caplog.text
    assert "3 plans changed" in text
    assert "missing evidence" not in text  # nothing asked: a quiet job says nothing
    assert "re-summing report days failed; the next run will try again" in text
    assert "database is locked" in text
    assert "report sums backfilled: 2 ward-days" in text


def test_a_job_without_a_controller_is_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(maintenance, "_jobs", None)
    with caplog.at_level(logging.INFO, logger="controller.maintenance"):
        maintenance.backfill_rollups()
    assert "backfilling report sums ran with no controller; skipped" in caplog.text
