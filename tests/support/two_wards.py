"""Two wards of one district, with something of every kind in ward A, and who acts on them.

The role-matrix test and the scope tests ask "may this person do that to ward A's
thing?", so ward A holds one of everything a route can name — bulletins in each
state, a broadcast, a programme and a queue entry, devices, stored media — and
ward B holds just enough to be someone's scope. The accounts are the six identities
of the matrix: administrator, ward A's officer, approver and evaluator, nobody, and
an actor of ward B who holds every non-admin role (so a missing ward check shows,
whatever role a route asks for).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from controller.composition import ControllerRuntime
from controller.db.models import Bulletin, BulletinTransition, MediaAsset
from controller.domain.actors import SYSTEM, Role
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.devices.service import register_device
from controller.domain.emergencies.service import EmergencyMessage
from controller.domain.places import service as places
from controller.domain.programmes.service import queue_bulletin, save_programme
from controller.domain.programmes.yaml_io import load_programme
from controller.settings import Settings
from tests.support.auth import PASSWORD, auth_headers
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.signing import SigningKey

WARD_A, WARD_B = "00037", "00038"
WARD_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PROGRAMME = Path(__file__).resolve().parents[2] / "schedules/examples/phuong-hang-bac.yaml"
WRITER = "writer"  # wrote and submitted ward A's bulletins: none of the identities below
SPARE_USER = "spare"  # an account the administrator's routes may change freely
IDENTITIES = ("admin", "officer", "approver", "evaluator", "anonymous", "other_ward")
AUDIO = b"OggS" + bytes(range(256)) * 8


@dataclass
class TwoWards:
    """The runtime, ward A's things by name, and each identity's headers."""

    runtime: ControllerRuntime
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    media_sha256: str = ""
    draft_id: str = "bul-a-draft"
    submitted_id: str = "bul-a-submitted"
    approved_id: str = "bul-a-approved"
    broadcast_id: str = ""
    queue_entry_id: str = ""
    emergency_id: str = ""
    device_a: str = "to-a1"
    device_b: str = "to-b1"
    spare_device: str = "to-a-spare"
    # The wards' own date (UTC+7): from 17:00 UTC it is already tomorrow there.
    today: date = field(default_factory=lambda: datetime.now(WARD_ZONE).date())

    def markers(self) -> set[str]:
        """Strings that appear only in ward A's things: none may reach ward B's actor."""
        return {
            WARD_A,
            self.device_a,
            self.spare_device,
            self.draft_id,
            self.submitted_id,
            self.approved_id,
            self.broadcast_id,
            self.queue_entry_id,
            self.emergency_id,
        }


def build(tmp_path: Path) -> TwoWards:
    """A started runtime (fake broker, no chime) with both wards and every identity."""
    settings = Settings(data_dir=tmp_path, environment="test", gtts_enabled=False)
    runtime = ControllerRuntime(
        settings,
        transport=FakeBroker().link("controller"),
        run_maintenance=False,
        prepare_chime=False,
    )
    runtime.start()
    world = TwoWards(runtime)
    _places(world)
    _content(world)
    _accounts(world)
    return world


def _places(w: TwoWards) -> None:
    now = w.runtime.clock.now()
    with w.runtime.db.session() as session:
        places.upsert_province(session, "01", "Hà Nội")
        session.flush()
        places.upsert_district(session, "002", "01", "Hoàn Kiếm")
        session.flush()
        places.upsert_ward(session, WARD_A, "002", "Hàng Bạc", "Asia/Ho_Chi_Minh")
        places.upsert_ward(session, WARD_B, "002", "Hàng Buồm", "Asia/Ho_Chi_Minh")
        session.flush()
        for code in ("tdp-1", "tdp-2", "tdp-spare"):
            places.upsert_group(session, WARD_A, code, code)
        places.upsert_group(session, WARD_B, "tdp-1", "Tổ 1")
        session.flush()
        places.upsert_zone(session, WARD_A, "z-spare", "Spare", ["tdp-spare"])
        for device_id, ward, group in (
            (w.device_a, WARD_A, "tdp-1"),
            (w.spare_device, WARD_A, "tdp-2"),
            (w.device_b, WARD_B, "tdp-1"),
        ):
            key = SigningKey.generate().public_key_b64
            register_device(session, device_id, device_id, key, now)
            places.place_device(session, device_id, ward, group)


def _content(w: TwoWards) -> None:
    now = w.runtime.clock.now()
    stored = w.runtime.media.put(AUDIO, extension="ogg", content_type="audio/ogg")
    w.media_sha256 = stored.sha256
    with w.runtime.db.session() as session:
        session.add(
            MediaAsset(
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
                duration_s=3.0,
                content_type="audio/ogg",
                extension="ogg",
                created_at=now,
            )
        )
        for bulletin_id, status in (
            (w.draft_id, "draft"),
            (w.submitted_id, "submitted"),
            (w.approved_id, "approved"),
            ("bul-b-approved", "approved"),
        ):
            ward = WARD_B if bulletin_id.startswith("bul-b") else WARD_A
            session.add(
                Bulletin(
                    id=bulletin_id,
                    title=f"Thông báo {bulletin_id}",
                    origin="text",
                    text="Xin chào bà con.",
                    media_sha256=stored.sha256,
                    created_at=now,
                    created_by=WRITER,
                    status=status,
                    ward_code=ward,
                )
            )
            session.flush()
            if status != "draft":
                session.add(
                    BulletinTransition(
                        bulletin_id=bulletin_id,
                        from_status="draft",
                        to_status="submitted",
                        actor=WRITER,
                        at=now,
                    )
                )
        save_programme(
            session, WARD_A, load_programme(PROGRAMME.read_text(encoding="utf-8")), SYSTEM, now
        )
        last = w.today + timedelta(days=3)
        entry = queue_bulletin(session, WARD_A, "sang", w.approved_id, w.today, last, SYSTEM, now)
        w.queue_entry_id = entry.id
    start = now + timedelta(hours=2)
    request = BroadcastRequest(w.approved_id, [w.device_a], start)
    w.broadcast_id = w.runtime.broadcasts.schedule(request).id
    # A Test message: recorded for ward A, never sounded (its progress is over at once).
    drill = EmergencyMessage(
        "drill-a",
        "ubnd@hangbac.gov.vn",
        now,
        status="Test",
        description="Diễn tập.",
        ward_code=WARD_A,
    )
    w.emergency_id = w.runtime.emergencies.receive(drill, SYSTEM)[0].id


def _accounts(w: TwoWards) -> None:
    rt = w.runtime
    w.headers = {
        "admin": auth_headers(rt, Role.ADMIN),
        "officer": auth_headers(rt, Role.OFFICER, wards=[WARD_A]),
        "approver": auth_headers(rt, Role.APPROVER, wards=[WARD_A]),
        "evaluator": auth_headers(rt, Role.EVALUATOR, wards=[WARD_A]),
        "anonymous": {},
        "other_ward": auth_headers(
            rt,
            username="other-00038",
            wards=[WARD_B],
            roles=[Role.OFFICER, Role.APPROVER, Role.EVALUATOR],
        ),
    }
    auth_headers(rt, Role.OFFICER, wards=[WARD_A], username=SPARE_USER)


SPARE_PASSWORD = PASSWORD
