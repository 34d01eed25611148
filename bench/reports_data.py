"""The province-year that ``bench.reports`` times: its shape and its rows.

One province (10 districts, ~100 wards, ~2,000 loudspeaker clusters at 10M evidence
rows), every planned play of the year and evidence for the plays the devices
confirmed. Rows are made deterministically from a seed (same seed, same rows), so
every database is given the same year. The province's wards, programmes and devices
go in by ``bench.reports_province``; these rows by ``bench.reports_import``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

YEAR = 2025
ZONE_OFFSET_S = 7 * 3600  # Asia/Ho_Chi_Minh: UTC+7, no daylight saving
PROVINCE = "48"
SHA = "ab" * 32
CATEGORIES = (
    "Thời sự",
    "An ninh trật tự",
    "Y tế",
    "Nông nghiệp",
    "Phòng chống thiên tai",
    "Văn hóa",
)
OUTCOME_WEIGHTS = (
    ("completed", 940),
    ("partial", 25),
    ("preempted", 5),
    ("failed", 20),
    ("skipped", 10),
)


@dataclass(frozen=True)
class Item:
    """One planned item of a session template: local second of day, duration, what."""

    offset_s: int  # seconds after the session's start
    duration_s: float
    kind: str  # media | relay
    source_level: str
    category: str
    slot: int | None  # bulletin slot (None: chime or relay)


SANG = (
    Item(0, 6.0, "media", "commune", "chime", None),
    Item(8, 900.0, "relay", "central", "relay", None),
    Item(912, 150.0, "media", "commune", "", 0),
    Item(1066, 120.0, "media", "district", "", 1),
    Item(1190, 180.0, "media", "provincial", "", 2),
    Item(1374, 6.0, "media", "commune", "chime", None),
)
TRUA = (
    Item(0, 6.0, "media", "commune", "chime", None),
    Item(8, 200.0, "media", "commune", "", 3),
    Item(212, 6.0, "media", "commune", "chime", None),
)
CHIEU = (
    Item(0, 6.0, "media", "commune", "chime", None),
    Item(8, 600.0, "relay", "provincial", "relay", None),
    Item(612, 160.0, "media", "commune", "", 4),
    Item(776, 140.0, "media", "commune", "", 5),
    Item(920, 6.0, "media", "commune", "chime", None),
)
SESSIONS = (
    ("sang", 5 * 3600 + 1800, SANG, False),
    ("trua", 11 * 3600 + 1800, TRUA, True),
    ("chieu", 17 * 3600, CHIEU, False),
)


@dataclass(frozen=True)
class Spec:
    """The province's shape, from the number of evidence rows wanted."""

    rows: int
    devices: int
    wards: int
    seed: int = 20251


def spec_for(rows: int) -> Spec:
    """Devices for ``rows`` evidence rows in a year (~13.3 items a device-day, ~96 % confirmed)."""
    per_device = 365 * 13.3 * 0.96
    devices = max(1, round(rows / per_device))
    return Spec(rows=rows, devices=devices, wards=max(1, round(devices / 20)))


class Timestamps:
    """Fast 'YYYY-MM-DD HH:MM:SS.ffffff' text for epoch seconds (strftime is too slow here)."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self._days: dict[int, str] = {}

    def __call__(self, epoch: float) -> str:
        day, rest = divmod(epoch, 86400)
        key = int(day)
        prefix = self._days.get(key)
        if prefix is None:
            prefix = self._days[key] = (date(1970, 1, 1) + timedelta(days=key)).isoformat()
        micros = round(rest * 1_000_000)
        secs, micro = divmod(micros, 1_000_000)
        hours, secs = divmod(secs, 3600)
        minutes, secs = divmod(secs, 60)
        return f"{prefix} {hours:02d}:{minutes:02d}:{secs:02d}.{micro:06d}{self.suffix}"


@dataclass
class Place:
    """A generated device and where it stands."""

    device_id: str
    ward_code: str
    group_code: str
    weekdays_only: bool
    reliability: float


def places(spec: Spec) -> tuple[list[tuple[str, str, str, bool]], list[Place]]:
    """Wards (code, district, name, weekdays only) and devices spread over them."""
    rng = random.Random(spec.seed)
    wards = [
        (f"{20000 + i:05d}", f"{500 + i % 10}", f"Phường {i + 1}", rng.random() < 0.3)
        for i in range(spec.wards)
    ]
    devices: list[Place] = []
    for n in range(spec.devices):
        code, _, _, weekdays_only = wards[n % spec.wards]
        group = f"to-{n // spec.wards + 1:02d}"
        reliability = rng.choices((0.995, 0.97, 0.85), weights=(70, 25, 5))[0]
        devices.append(Place(f"loa-{code}-{group}", code, group, weekdays_only, reliability))
    return wards, devices


def _local_midnight_epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() - ZONE_OFFSET_S


def device_rows(
    place: Place, seed: int, fmt: Timestamps
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """(planned row, evidence row or None) for every item of one device's year."""
    rng = random.Random(f"{seed}:{place.device_id}")
    outcomes = [name for name, _ in OUTCOME_WEIGHTS]
    weights = [w for _, w in OUTCOME_WEIGHTS]
    seq = 0
    prev = ""
    offline = False
    first_day = date(YEAR, 1, 1)
    for day_index in range(365):
        day = first_day + timedelta(days=day_index)
        weekend = day.weekday() >= 5
        # Offline spells: ~1.5 % of days, a day or three at a time.
        offline = rng.random() < (0.5 if offline else 0.006)
        midnight = _local_midnight_epoch(day)
        planned_at = fmt(midnight - 2 * 86400)
        rotation = day_index // 3
        items: list[tuple[str | None, float, Item, str]] = []
        for code, start_s, template, weekdays_session in SESSIONS:
            if weekend and (weekdays_session or place.weekdays_only):
                continue
            occurrence = f"{place.ward_code}:{code}:{day.isoformat()}"
            for item in template:
                if weekend and item.slot == 2:
                    continue  # no provincial bulletin at weekends
                items.append((occurrence, midnight + start_s + item.offset_s, item, code))
        if rng.random() < 0.4:
            items.append(
                (None, midnight + 9 * 3600 + 7, Item(0, 45.0, "media", "commune", "", 6), "manual")
            )
        for n, (key, start, item, code) in enumerate(items):
            bulletin: str | None
            if item.slot is not None:
                bulletin = f"b{place.ward_code}-{rotation:03d}-{item.slot}"
                category = category_of(rotation, item.slot)
            else:
                bulletin, category = None, item.category
            item_id = f"p-{day_index:03d}-{code}-{n:02d}"
            broadcast = (
                f"prog-{place.ward_code}-{code}" if key else f"bc-{place.ward_code}-{day_index:03d}"
            )
            trigger = "programme" if key else "manual"
            withdrawn = fmt(start - 3600) if rng.random() < 0.004 else None
            start_text = fmt(start)
            planned = (
                place.device_id, item_id, place.ward_code, place.group_code, broadcast, bulletin,
                key, item.kind, category, item.source_level, "normal", trigger, start_text,
                item.duration_s, planned_at, withdrawn,
            )  # fmt: skip
            evidence = None
            if withdrawn is None and not offline and rng.random() < place.reliability:
                outcome = rng.choices(outcomes, weights)[0]
                late = rng.random() < 0.05
                actual = start + (rng.uniform(6, 40) if late else rng.uniform(-0.3, 0.8))
                played = item.duration_s * (
                    1.0 if outcome == "completed" else rng.uniform(0.1, 0.9)
                )
                if outcome in ("failed", "skipped"):
                    played = 0.0
                relayed = played if item.kind == "relay" else None
                seq += 1
                digest = f"{rng.getrandbits(256):064x}"
                recorded = actual + played
                received = recorded + rng.uniform(0.05, 3.0)
                actual_text = fmt(actual) if outcome != "skipped" else None
                signed = (
                    f'{{"v":1,"kind":"playback_event","device_id":"{place.device_id}",'
                    f'"event_id":"ev-{seq}","seq":{seq},"item_id":"{item_id}",'
                    f'"broadcast_id":"{broadcast}","outcome":"{outcome}",'
                    f'"planned_start":"{start_text}","actual_start":"{actual_text}",'
                    f'"played_duration_s":{played:.3f},"prev_hash":"{prev}"}}'
                )
                evidence = (
                    place.device_id, place.ward_code, place.group_code, f"ev-{seq}", seq, prev,
                    digest, item_id, broadcast, bulletin, trigger, "normal", item.source_level,
                    SHA, start_text, item.duration_s, actual_text, played, outcome, None, key,
                    relayed, 0.0 if relayed is not None else None, None, 1, True, 80,
                    fmt(recorded), fmt(received), signed, "x" * 88,
                )  # fmt: skip
                prev = digest
            yield planned, evidence


def category_of(rotation: int, slot: int) -> str:
    return CATEGORIES[(rotation + slot) % len(CATEGORIES)]
