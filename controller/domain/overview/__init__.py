"""Overview (tổng quan): read-only figures for the console's dashboard and device lists.

- :mod:`.devices` — each device's state: online, last seen, clock offset, amplifier and
  volume at its last confirmed play, enrolment;
- :mod:`.today` — the day's planned plays by session, what is playing now, and the
  alerts (offline devices, missed plays, clocks off, security records).

Everything is scoped to the actor's wards; nothing here writes.
"""
