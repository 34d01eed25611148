"""The province as the controller holds it before the year's rows: its reference data.

Districts, wards each with its programme and targets, residential groups, devices
(loudspeaker clusters), the media asset and the bulletins the plays name, written
through the ORM (small beside the rows). Its places come from
``bench.reports_data.places``, so they match the rows made for the same spec.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from bench.reports_data import PROVINCE, SHA, YEAR, Place, Spec, category_of, places
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
