"""A relay's books on their own: frames as heard, pauses, outages, flickers, cuts, reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge_agent.relay_books import RECOVER_S, RelayTally

T0 = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def books(window_s: float = 60) -> RelayTally:
    return RelayTally(T0, at(window_s))


def sound(tally: RelayTally, start_s: float, until_s: float, step: float = 0.5) -> bool:
    """Frames of sound from ``start_s`` to ``until_s``, each written as it starts."""
    back = False
    t = start_s
    while t < until_s - 1e-9:
        back = tally.sound(at(t), step, at(t)) or back
        t += step
    return back


def test_sound_is_relayed_from_when_it_plays_and_the_first_is_the_start() -> None:
    tally = books()
    sound(tally, 0, 10)
    tally.close(at(10), 60)
    assert (tally.relayed_s, tally.gap_count, tally.actual_start) == (10, 0, T0)


def test_audio_still_queued_when_the_sink_closes_was_never_heard() -> None:
    tally = books()
    # Two frames written at once at +1: the second would play from +1.5.
    tally.sound(at(1), 0.5, at(1))
    tally.sound(at(1.5), 0.5, at(1))
    tally.cut(at(1.2))
    assert tally.relayed_s == pytest.approx(0.2)


def test_a_short_pause_is_programme_and_a_long_one_opens_the_outage_where_it_began() -> None:
    tally = books()
    sound(tally, 0, 2)
    assert tally.silence(at(2), 1.0, at(2), dead_after_s=3) is None
    sound(tally, 3, 5)
    assert tally.relayed_s == 5  # the pause between sounds counts
    assert tally.silence(at(5), 2.0, at(5), dead_after_s=3) is None
    began = tally.silence(at(7), 1.0, at(7), dead_after_s=3)
    assert began == at(5)
    assert tally.open_gap(at(8)) and tally.gap_from == at(5)
    tally.close(at(20), 60)
    assert (tally.relayed_s, tally.gap_s, tally.gap_count) == (5, 15, 1)


def test_an_outage_closes_only_when_the_stream_has_been_back_for_recover_s() -> None:
    tally = books()
    sound(tally, 0, 4)
    assert tally.open_gap(at(4))
    assert not sound(tally, 6, 7)  # a flicker: one second, then nothing
    assert not tally.open_gap(at(7))  # still the same outage
    assert tally.in_gap
    assert sound(tally, 10, 10 + RECOVER_S)  # back
    assert not tally.in_gap
    sound(tally, 10 + RECOVER_S, 20)
    tally.close(at(20), 60)
    # Relayed: 4 + the flicker + 10 from +10; the gap: +4..+10 less the flicker.
    assert (tally.relayed_s, tally.gap_s, tally.gap_count) == (15, 5, 1)
    assert tally.relayed_s + tally.gap_s == 20


def test_an_outage_open_at_the_end_closes_with_the_window() -> None:
    tally = books(window_s=10)
    sound(tally, 0, 4)
    tally.open_gap(at(4))
    tally.fallback(at(7), 3.0)
    tally.close(at(12), 10)
    assert (tally.relayed_s, tally.gap_s, tally.fallback_s) == (4, 6, 3)


def test_a_silent_start_is_not_a_start_the_fallback_is() -> None:
    tally = books()
    tally.silence(at(0), 0.5, at(0), dead_after_s=3)
    assert tally.actual_start is None
    tally.fallback(at(3), 5.0)
    assert tally.actual_start == at(3)


def test_reasons_are_distinct_and_in_the_order_things_happened() -> None:
    tally = books()
    tally.note("stream silent", at(30))
    tally.note("agent error")  # no time: after the timed ones
    tally.note("stream ended", at(5))
    tally.note("connection refused", at(6))
    tally.note("stream ended", at(40))
    assert tally.reasons() == [
        "stream ended",
        "connection refused",
        "stream silent",
        "agent error",
    ]
