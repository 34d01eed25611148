"""The repository's examples, set up in the demo so the README runs as written.

The demo imports the example places (``examples/ward*.yaml``), makes the content the
example programmes refer to by code (``vov1-du-phong``, from an example recording) and
applies the programmes in ``schedules/examples/`` unchanged. Every step is idempotent:
a demo restarted on the same data folder finds what it made and leaves it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from controller.composition import ControllerRuntime
from controller.domain.actors import EVERYONE, SYSTEM, Actor
from controller.domain.content import workflow
from controller.domain.content.bulletins import BulletinDraft, find_by_code
from controller.domain.errors import DomainError
from controller.domain.places import importer
from controller.domain.places import service as places
from controller.domain.programmes.problems import ProgrammeInvalid
from controller.domain.programmes.service import current_programme, save_programme
from controller.domain.programmes.yaml_io import load_programme
from wardcast_protocol.messages import SourceLevel

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PLACES = (EXAMPLES / "ward.yaml", EXAMPLES / "ward-xa-hoa-tien.yaml")
PROGRAMMES = sorted((ROOT / "schedules" / "examples").glob("*.yaml"))


# (ward, code, title, recording, source level): content the example programmes name.
CONTENT = (
    (
        "20326",
        "vov1-du-phong",
        "Tiếp sóng VOV1 gián đoạn — bản tin dự phòng",
        EXAMPLES / "vov1-du-phong.mp3",
        SourceLevel.COMMUNE,
    ),
)

# The demo's content is written by the ward officer and approved by the leader, as the
# workflow demands of everyone (nobody approves their own).
_AUTHOR = Actor("can-bo", EVERYONE)
_APPROVER = Actor("chu-tich", EVERYONE)


def import_places(runtime: ControllerRuntime) -> list[str]:
    """Import every example ward file; their ward codes."""
    wards = []
    with runtime.db.session() as session:
        for path in PLACES:
            doc = importer.parse_yaml(path.read_text(encoding="utf-8"))
            importer.apply_import(session, doc, runtime.clock.now())
            wards.append(doc.ward.code)
    return wards


def place_devices(session: Session, ward: str, device_ids: list[str]) -> None:
    """Spread the demo's devices over the ward's groups, in order."""
    groups = [g.code for g in places.groups_of(session, ward)]
    for index, device_id in enumerate(device_ids):
        places.place_device(session, device_id, ward, groups[index % len(groups)])


def make_content(runtime: ControllerRuntime) -> None:
    """The approved bulletins the example programmes refer to by code."""
    for ward, code, title, recording, level in CONTENT:
        with runtime.db.session() as session:
            if find_by_code(session, code, ward) is not None:
                continue
            now = runtime.clock.now()
            draft = BulletinDraft(
                title, source_level=level, created_by=_AUTHOR.name, ward_code=ward, code=code
            )
            made = runtime.bulletins.create_from_upload(
                session, draft, recording, recording.name, now
            )
            workflow.transition(session, made, workflow.Status.SUBMITTED, _AUTHOR, now)
            workflow.transition(session, made, workflow.Status.APPROVED, _APPROVER, now)


def apply_programmes(runtime: ControllerRuntime, wards: set[str]) -> None:
    """The example programmes of these wards, as shipped (unless the ward has one). The
    others are left for the reader to apply, as the README shows."""
    for path in PROGRAMMES:
        with runtime.db.session() as session:
            try:
                doc = load_programme(path.read_text(encoding="utf-8"))
                if doc.ward in wards and current_programme(session, doc.ward) is None:
                    save_programme(session, doc.ward, doc, SYSTEM, runtime.clock.now())
            except (ProgrammeInvalid, DomainError) as exc:
                log.warning("example programme %s not applied: %s", path.name, exc)
