"""Report speed on a province-year of evidence, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.reports --rows 10000000          # the target size
    .venv/bin/python -m bench.reports --rows 300000 --db sqlite  # a quick run

Generates one province (10 districts, ~100 wards, ~2,000 loudspeaker clusters at
10M rows; fewer devices for fewer rows, always a whole year) with each ward's
programme and targets, every planned play, and evidence for the plays the devices
confirmed: most on time, some late, some failed or skipped, a few devices flaky,
a few days offline, so reports have missed plays to find. Rows go in by bulk
insert (executemany on SQLite with bulk-load pragmas, COPY on PostgreSQL — the
append-only triggers refuse only UPDATE and DELETE). Then it times, per database:

* ward-year and province-month reports, cold (the rollups are summed first) and
  warm (the rollups already summed: what every later report costs);
* the same after late evidence arrives for an old day (that day is re-summed);
* ``refresh_recent`` (the periodic job keeping yesterday and today summed).

PostgreSQL is started on loopback from Debian's package by LocalPostgres (as the
``postgres`` user when run as root). Evidence here is synthetic: not signed.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select

from bench.common import peak_rss_mib
from controller.db.models import (
    Bulletin,
    Device,
    District,
    MediaAsset,
    PlannedPlay,
    PlaybackEvidence,
    Programme,
    Province,
    ResidentialGroup,
    Ward,
)
from controller.db.models.rollups import ReportPlaysRollup, ReportRollupDay, ReportRollupState
from controller.db.session import Database
from controller.domain.programmes.schema import ProgrammeDoc
from controller.domain.reports.rollups import (
    DEVICE_LEVEL,
    WARD_LEVEL,
    RollupRules,
    ensure_rollups,
    refresh_recent,
)
from controller.domain.reports.service import ReportRequest, build_report
from tests.support.local_postgres import LocalPostgres

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
    devices = max(20, round(rows / per_device))
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
                category = _category(rotation, item.slot)
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


def _category(rotation: int, slot: int) -> str:
    return CATEGORIES[(rotation + slot) % len(CATEGORIES)]


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})"


def _reference_data(db: Database, spec: Spec) -> list[Place]:
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
                "title": f"{_category(rotation, slot)}: bản tin số {rotation * 7 + slot}",
                "origin": "text",
                "media_sha256": SHA,
                "created_at": now,
                "status": "approved",
                "category": _category(rotation, slot),
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


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _report(db: Database, request: ReportRequest, now: datetime) -> tuple[float, Any]:
    def run() -> Any:
        with db.session() as session:
            return build_report(session, request, now, RollupRules())

    return _timed(run)


def _late_evidence(db: Database, ward: str, day: date, received: datetime) -> None:
    """One more confirmation arriving late for an old day: that day must be re-summed."""
    with db.session() as session:
        play = session.scalar(
            select(PlannedPlay)
            .where(
                PlannedPlay.ward_code == ward,
                PlannedPlay.planned_start >= datetime(day.year, day.month, day.day, tzinfo=UTC),
            )
            .order_by(PlannedPlay.planned_start)
            .limit(1)
        )
        assert play is not None
        session.add(
            PlaybackEvidence(
                device_id=play.device_id, ward_code=ward, group_code=play.group_code,
                event_id=f"late-{time.time_ns()}", seq=10_000_000 + time.time_ns() % 1_000_000,
                prev_hash="", digest="late", item_id=f"late-{time.time_ns()}", broadcast_id="late",
                trigger="manual", priority="normal", source_level="commune",
                planned_start=play.planned_start, planned_duration_s=10.0,
                actual_start=play.planned_start, played_duration_s=10.0, outcome="completed",
                recorded_at=play.planned_start, received_at=received,
                signed="{}", sig="late",
            )
        )  # fmt: skip


def _forget_rollups(db: Database) -> None:
    """Empty the rollups of a reused database, so 'cold' means cold again."""
    with db.session() as session:
        for table in (*DEVICE_LEVEL, *WARD_LEVEL, ReportRollupDay, ReportRollupState):
            session.execute(delete(table))


def run_on(
    name: str,
    url: str,
    spec: Spec,
    loader: Callable[[Database, list[Place], int], tuple[int, int]] | None,
) -> dict[str, float]:
    """Generate (unless ``loader`` is None: reuse), load and time the reports; the figures."""
    db = Database(url)
    db.migrate()
    figures: dict[str, float] = {}
    t0 = time.perf_counter()
    if loader is None:
        _forget_rollups(db)
        _, devices = places(spec)
        with db.session() as session:
            planned = session.scalar(select(func.count()).select_from(PlannedPlay)) or 0
            evidence = session.scalar(select(func.count()).select_from(PlaybackEvidence)) or 0
        print(f"[{name}] reusing {planned:,} planned plays, {evidence:,} evidence rows")
    else:
        devices = _reference_data(db, spec)
        planned, evidence = loader(db, devices, spec.seed)
        figures["generate_s"] = time.perf_counter() - t0
        print(
            f"[{name}] generated {planned:,} planned plays, {evidence:,} evidence rows, "
            f"{len(devices):,} devices in {spec.wards} wards: {figures['generate_s']:.1f} s"
        )
    ward = devices[0].ward_code
    now = datetime.now(UTC)
    ward_year = ReportRequest(f"year:{YEAR}", ward=ward)
    province_month = ReportRequest(f"month:{YEAR}-11", province=PROVINCE)
    for label, request in (("ward-year", ward_year), ("province-month", province_month)):
        cold, report = _report(db, request, now)
        warm, report = _report(db, request, now)
        again, _ = _report(db, request, now)
        figures[f"{label}_cold_s"], figures[f"{label}_warm_s"] = cold, min(warm, again)
        print(
            f"[{name}] {label:15s} cold {cold * 1000:8.0f} ms (sums the rollups)   "
            f"warm {min(warm, again) * 1000:6.0f} ms   "
            f"({report.plays.planned:,} plays planned, {report.plays.missed:,} missed, "
            f"{report.sessions.planned:,} sessions, {len(report.devices):,} devices)"
        )
    _late_evidence(db, ward, date(YEAR, 11, 10), now + timedelta(minutes=1))
    late, _ = _report(db, ward_year, now + timedelta(minutes=5))
    figures["ward-year_after_late_evidence_s"] = late
    print(f"[{name}] ward-year after late evidence for one old day: {late * 1000:.0f} ms")
    t_all, _ = _timed(lambda: _build_all(db, now))
    figures["sum_whole_year_s"] = t_all
    print(f"[{name}] summing the whole province-year into rollups: {t_all:.1f} s")
    t_cold_all, report = _report(db, ReportRequest(f"year:{YEAR}", province=PROVINCE), now)
    print(f"[{name}] province-year report with every day summed: {t_cold_all * 1000:.0f} ms")

    def recent() -> int:
        with db.session() as session:
            return refresh_recent(session, now + timedelta(minutes=10), RollupRules())

    t_recent, days = _timed(recent)
    print(f"[{name}] refresh_recent (periodic job): {days} ward-days in {t_recent * 1000:.0f} ms")
    with db.session() as session:
        rollup_rows = session.scalar(select(func.count()).select_from(ReportPlaysRollup))
    print(f"[{name}] rollup rows (plays): {rollup_rows:,}; peak RSS {peak_rss_mib():.0f} MiB")
    db.dispose()
    return figures


def _build_all(db: Database, now: datetime) -> None:
    with db.session() as session:
        wards = list(session.scalars(select(Ward)))
        ensure_rollups(session, wards, date(YEAR, 1, 1), date(YEAR, 12, 31), now, RollupRules())


def main() -> None:
    """Parse arguments, run on the chosen databases, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="Evidence rows wanted.")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workdir", type=Path, default=None, help="Where the SQLite file goes.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Time again on data already generated (same --rows): the bench.db in --workdir, "
        "or the database at --postgres-url.",
    )
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="Use this PostgreSQL database instead of starting a throwaway cluster.",
    )
    args = parser.parse_args()
    spec = spec_for(args.rows)
    print(
        f"province-year {YEAR}: ~{args.rows:,} evidence rows wanted -> "
        f"{spec.devices:,} devices, {spec.wards} wards"
    )
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wardcast-bench-"))
    try:
        if args.db in ("sqlite", "both"):
            path = workdir / "bench.db"
            reuse = args.reuse and path.exists()
            if not reuse:
                path.unlink(missing_ok=True)
            run_on("sqlite", f"sqlite:///{path}", spec, None if reuse else load_sqlite)
        if args.db in ("postgresql", "both") and args.postgres_url:
            loader = None if args.reuse else load_postgres
            run_on("postgresql", args.postgres_url, spec, loader)
        elif args.db in ("postgresql", "both"):
            with LocalPostgres() as cluster:
                url = cluster.create_database("wardcast_bench")
                run_on("postgresql", url, spec, load_postgres)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
