"""The province-year that ``bench.reports`` times: its shape, its rows, and how they go in.

One province (10 districts, ~100 wards, ~2,000 loudspeaker clusters at 10M evidence
rows), each ward with its programme and targets, every planned play of the year and
evidence for the plays the devices confirmed. Rows are made deterministically from a
seed and loaded in bulk — an import, around the domain: no day is marked dirty.
"""

from __future__ import annotations

import io
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from controller.db.models import (
    Bulletin,
    Device,
    District,
    MediaAsset,
    Programme,
    Province,
    ResidentialGroup,
    Ward,
)
from controller.db.session import Database
from controller.domain.programmes.schema import ProgrammeDoc

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
BATCH = 20_000

PLANNED_COLUMNS = (
    "device_id", "item_id", "ward_code", "group_code", "broadcast_id", "bulletin_id",
    "session_key", "kind", "category", "source_level", "priority", "trigger", "planned_start",
    "planned_duration_s", "first_planned_at", "withdrawn_at",
)  # fmt: skip
EVIDENCE_COLUMNS = (
    "device_id", "ward_code", "group_code", "event_id", "seq", "prev_hash", "digest", "item_id",
    "broadcast_id", "bulletin_id", "trigger", "priority", "source_level", "media_sha256",
    "planned_start", "planned_duration_s", "actual_start", "played_duration_s", "outcome",
    "reason", "session_key", "relayed_s", "relay_gap_s", "fallback_s", "plan_version",
    "amplifier_on", "volume", "recorded_at", "received_at", "signed", "sig",
)  # fmt: skip


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


def _programme(code: str, name: str, weekdays_only: bool) -> dict[str, Any]:
    days = "MO,TU,WE,TH,FR" if weekdays_only else "MO,TU,WE,TH,FR,SA,SU"
    doc = {
        "ward": code,
        "name": f"Chương trình phát thanh {name}",
        "timezone": "Asia/Ho_Chi_Minh",
        "rules": {"broadcast_days": days.split(","), "max_session_minutes": 60},
        "sessions": [
            {
                "code": "sang",
                "name": "Buổi sáng",
                "rrule": f"FREQ=WEEKLY;BYDAY={days}",
                "start": "05:30",
                "rundown": [
                    {"kind": "chime", "which": "opening"},
                    {
                        "kind": "relay",
                        "station": "VOV1",
                        "source_level": "central",
                        "url": "http://stream.vov.vn/vov1",
                        "minutes": 15,
                    },
                    {"kind": "bulletins"},
                    {"kind": "chime", "which": "closing"},
                ],
            },
            {
                "code": "trua",
                "name": "Buổi trưa",
                "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                "start": "11:30",
                "rundown": [
                    {"kind": "chime", "which": "opening"},
                    {"kind": "bulletins"},
                    {"kind": "chime", "which": "closing"},
                ],
            },
            {
                "code": "chieu",
                "name": "Buổi chiều",
                "rrule": f"FREQ=WEEKLY;BYDAY={days}",
                "start": "17:00",
                "rundown": [
                    {"kind": "chime", "which": "opening"},
                    {
                        "kind": "relay",
                        "station": "Đài tỉnh",
                        "source_level": "provincial",
                        "url": "http://radio.quangnam.vn/live",
                        "minutes": 10,
                    },
                    {"kind": "bulletins"},
                    {"kind": "chime", "which": "closing"},
                ],
            },
        ],
        "targets": [
            {
                "code": "hai-buoi-moi-ngay",
                "description": "Ít nhất 2 buổi phát mỗi ngày phát sóng",
                "kind": "sessions_per_day",
                "minimum": 2,
            },
            {
                "code": "nam-ngay-moi-tuan",
                "description": "Phát ít nhất 5 ngày mỗi tuần",
                "kind": "days_per_week",
                "minimum": 5,
            },
            {
                "code": "tiep-song-vov",
                "description": "Tiếp sóng thời sự VOV ít nhất 14 phút mỗi ngày",
                "kind": "relay_daily",
                "minimum": 14,
                "source_level": "central",
            },
        ],
    }
    return ProgrammeDoc.model_validate(doc).model_dump(mode="json")


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


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})"


def reference_data(db: Database, spec: Spec) -> list[Place]:
    """Province, districts, wards, groups, devices, programmes, bulletins (ORM: small)."""
    wards, devices = places(spec)
    now = datetime(YEAR, 1, 1, tzinfo=UTC)
    with db.session() as session:
        session.add(Province(code=PROVINCE, name="Quảng Nam"))
        session.flush()
        for d in sorted({w[1] for w in wards}):
            session.add(District(code=d, province_code=PROVINCE, name=f"Huyện {d}"))
        session.flush()
        for code, district, name, _ in wards:
            session.add(
                Ward(code=code, district_code=district, name=name, timezone="Asia/Ho_Chi_Minh")
            )
        session.flush()
        for code, _, name, weekdays_only in wards:
            session.add(
                Programme(
                    ward_code=code,
                    version=1,
                    document=_programme(code, name, weekdays_only),
                    updated_at=now,
                )
            )
        for place in devices:
            session.add(
                ResidentialGroup(
                    id=f"grp-{place.ward_code}-{place.group_code}",
                    ward_code=place.ward_code,
                    code=place.group_code,
                    name=f"Tổ dân phố {place.group_code[3:]}",
                )
            )
            session.add(
                Device(
                    id=place.device_id,
                    name=f"Cụm loa {place.group_code}",
                    ward_code=place.ward_code,
                    group_code=place.group_code,
                    public_key="bench",
                    registered_at=now,
                    online=True,
                    last_seen_at=datetime(YEAR + 1, 1, 1, tzinfo=UTC),
                )
            )
        session.add(
            MediaAsset(
                sha256=SHA,
                size_bytes=1,
                duration_s=1.0,
                content_type="audio/ogg",
                extension="ogg",
                created_at=now,
            )
        )
        session.flush()
        bulletins = [
            {
                "id": f"b{code}-{rotation:03d}-{slot}",
                "title": f"{category_of(rotation, slot)}: bản tin số {rotation * 7 + slot}",
                "origin": "text",
                "media_sha256": SHA,
                "created_at": now,
                "status": "approved",
                "category": category_of(rotation, slot),
                "ward_code": code,
            }
            for code, *_ in wards
            for rotation in range(122)
            for slot in range(7)
        ]
        session.execute(insert(Bulletin), bulletins)
    return devices


def load_sqlite(db: Database, devices: list[Place], seed: int) -> tuple[int, int]:
    """executemany in big transactions with bulk-load pragmas; (planned, evidence) rows."""
    raw = db.engine.raw_connection()
    conn = raw.driver_connection
    assert isinstance(conn, sqlite3.Connection)  # the pysqlite driver's own connection
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache: the indexes stay hot
    conn.execute("PRAGMA temp_store=MEMORY")
    fmt = Timestamps("")
    planned_sql = _insert_sql("planned_plays", PLANNED_COLUMNS)
    evidence_sql = _insert_sql("playback_evidence", EVIDENCE_COLUMNS)
    counts = [0, 0]
    planned_rows: list[tuple[Any, ...]] = []
    evidence_rows: list[tuple[Any, ...]] = []

    def flush() -> None:
        conn.executemany(planned_sql, planned_rows)
        conn.executemany(evidence_sql, evidence_rows)
        conn.commit()
        counts[0] += len(planned_rows)
        counts[1] += len(evidence_rows)
        planned_rows.clear()
        evidence_rows.clear()

    for place in devices:
        for planned, evidence in device_rows(place, seed, fmt):
            planned_rows.append(planned)
            if evidence is not None:
                evidence_rows.append(evidence)
        if len(planned_rows) >= BATCH * 5:
            flush()
    flush()
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("ANALYZE")
    raw.close()
    return counts[0], counts[1]


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    return str(value)


def load_postgres(db: Database, devices: list[Place], seed: int) -> tuple[int, int]:
    """COPY ... FROM STDIN in text format; (planned, evidence) rows."""
    raw = db.engine.raw_connection()
    conn: Any = raw.driver_connection
    fmt = Timestamps("+00")
    counts = [0, 0]
    buffers = [io.StringIO(), io.StringIO()]
    statements = (
        f"COPY planned_plays ({','.join(PLANNED_COLUMNS)}) FROM STDIN",
        f"COPY playback_evidence ({','.join(EVIDENCE_COLUMNS)}) FROM STDIN",
    )

    def flush() -> None:
        with conn.cursor() as cur:
            for i, statement in enumerate(statements):
                with cur.copy(statement) as copy:
                    copy.write(buffers[i].getvalue())
                buffers[i].seek(0)
                buffers[i].truncate()
        conn.commit()

    pending = 0
    for place in devices:
        for planned, evidence in device_rows(place, seed, fmt):
            buffers[0].write("\t".join(map(_copy_text, planned)) + "\n")
            counts[0] += 1
            pending += 1
            if evidence is not None:
                buffers[1].write("\t".join(map(_copy_text, evidence)) + "\n")
                counts[1] += 1
        if pending >= BATCH * 5:
            flush()
            pending = 0
    flush()
    with conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.commit()
    raw.close()
    return counts[0], counts[1]
