"""Reconnect delays: growing to a cap, each drawn from the upper part of its step."""

from __future__ import annotations

import random

import pytest

from wardcast_protocol.backoff import Backoff


def test_without_jitter_the_steps_grow_by_half_up_to_the_cap() -> None:
    backoff = Backoff(1.0, 5.0, jitter=0.0)
    assert [backoff.next() for _ in range(6)] == [1.0, 1.5, 2.25, 3.375, 5.0, 5.0]
    doubling = Backoff(1.0, 30.0, jitter=0.0, growth=2)
    assert [doubling.next() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_each_delay_falls_in_the_upper_part_of_its_step_never_beyond_it() -> None:
    backoff = Backoff(1.0, 30.0, jitter=0.5, rng=random.Random(7), growth=2)
    steps = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    for step in steps:
        delay = backoff.next()
        assert step / 2 <= delay <= step


def test_devices_dropped_together_do_not_come_back_together() -> None:
    # A ward of devices, each with its own generator as each link has.
    first_tries = [Backoff(1.0, 30.0).next() for _ in range(200)]
    assert max(first_tries) - min(first_tries) > 0.4  # spread over most of half a step
    assert len({round(t, 3) for t in first_tries}) > 100  # ~165 expected of 500 slots


def test_a_connection_that_held_starts_again_from_the_first_step() -> None:
    backoff = Backoff(1.0, 30.0, jitter=0.0, growth=2)
    for _ in range(4):
        backoff.next()
    assert backoff.step_s == 16.0
    backoff.reset()
    assert backoff.next() == 1.0


@pytest.mark.parametrize(
    ("first_s", "max_s", "jitter", "growth"),
    [(0.0, 30.0, 0.5, 1.5), (5.0, 1.0, 0.5, 1.5), (1.0, 30.0, 1.5, 1.5), (1.0, 30.0, 0.5, 0.9)],
)
def test_nonsense_settings_are_refused(
    first_s: float, max_s: float, jitter: float, growth: float
) -> None:
    with pytest.raises(ValueError):
        Backoff(first_s, max_s, jitter, growth=growth)
