"""How long a device waits before it tries the broker again: growing, capped, jittered.

A whole ward's devices lose the broker at the same instant when it restarts, or when
the centre's link drops. With plain doubling (1, 2, 4 … s) they all tried again at the
same instants: a thousand TLS handshakes, sessions resumed and retained plans sent in
the same few milliseconds, every time, until the broker is back. Each delay is
therefore drawn from the upper part of its step, ``[(1 - jitter) × step, step]``
("equal jitter"): the devices spread over half a step. The price is the tail: a
device whose try falls just before the broker is back waits for its whole next step.
So the steps grow by half each time, not double (1, 1.5, 2.25 … s, up to the cap),
which keeps that step short in the first seconds of an outage. ``bench.reconnect``
measures the trade on a real broker (docs/scale.md): for 1,000 links and a broker
down 2 to 6 s, the busiest 100 ms took 66-148 reconnects against 438-629 with the
plain doubling every device shared before, and the last link was back 2.2-4.9 s after
the broker against 1.2-3.5 s. A connection that held a while starts again from the
first step.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Reconnect delays for one link: ``next()`` after each failure, ``reset()`` after
    a connection that held."""

    def __init__(
        self,
        first_s: float = 1.0,
        max_s: float = 30.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
        *,
        growth: float = 1.5,
    ) -> None:
        """Steps grow ``growth`` times from ``first_s`` up to ``max_s``; ``jitter`` (0 to 1)
        is the share of a step a delay may fall short of it (0: every device alike)."""
        if not 0 < first_s <= max_s:
            raise ValueError(f"need 0 < first_s <= max_s, got {first_s} and {max_s}")
        if not 0 <= jitter <= 1:
            raise ValueError(f"jitter is a share of a step, 0 to 1, got {jitter}")
        if growth < 1:
            raise ValueError(f"steps must not shrink: growth {growth}")
        self._growth = growth
        self._first_s = first_s
        self._max_s = max_s
        self._jitter = jitter
        # Each link draws from its own generator, seeded by the OS: devices started
        # together (a fleet, or Pis powered on by one switch) must not draw alike.
        self._rng = rng or random.Random()
        self._step = first_s

    @property
    def step_s(self) -> float:
        """The current step: the longest the next delay can be."""
        return self._step

    def next(self) -> float:
        """The delay before the next attempt; the step after it grows (up to the cap)."""
        step = self._step
        self._step = min(step * self._growth, self._max_s)
        return step * (1 - self._jitter * self._rng.random())

    def reset(self) -> None:
        """Start again from the first step (a connection held)."""
        self._step = self._first_s
