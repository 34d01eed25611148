"""Import a ward's groups, zones and devices from YAML or CSV, all or nothing.

YAML carries the whole place (province, district, ward, groups, zones, devices);
CSV carries one device per row for a ward that already exists:

    group_code,group_name,device_id,device_name,public_key,zones
    tdp-1,Tổ dân phố 1,hb-01,Cụm loa TDP 1,<base64 key>,ven-song;cho

Every problem is reported (with its row or path), and nothing is stored unless the
whole file is good.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from controller.domain.devices.service import register_device
from controller.domain.errors import DomainError, InvalidInput
from controller.domain.places import service as places
from wardcast_protocol.topics import DEVICE_ID_PATTERN

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NamedPlace(_Doc):
    """A province or district: official code and name."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)


class WardPlace(NamedPlace):
    """The ward and its time zone."""

    timezone: str = "Asia/Ho_Chi_Minh"


class GroupRow(NamedPlace):
    """A residential group."""


class ZoneRow(NamedPlace):
    """A zone: a named set of groups."""

    groups: list[str] = Field(min_length=1)


class DeviceRow(_Doc):
    """A device, its key, and the group it serves."""

    device_id: str = Field(pattern=f"^{DEVICE_ID_PATTERN}$")
    name: str = ""
    public_key: str
    group: str


class WardImport(_Doc):
    """The whole of a ward's places in one document."""

    province: NamedPlace
    district: NamedPlace
    ward: WardPlace
    groups: list[GroupRow] = Field(min_length=1)
    zones: list[ZoneRow] = []
    devices: list[DeviceRow] = []


class ImportFailed(InvalidInput):
    """The file has problems; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the import was refused: " + "; ".join(problems[:20]))
        self.problems = problems


@dataclass
class ImportReport:
    """What an import did."""

    ward_code: str
    groups: int = 0
    zones: int = 0
    devices_created: int = 0
    devices_known: int = 0
    notes: list[str] = field(default_factory=list)


def parse_yaml(text: str) -> WardImport:
    """Parse a YAML ward document, reporting every schema problem with its path."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportFailed([f"not valid YAML: {exc}"]) from exc
    try:
        return WardImport.model_validate(data)
    except ValidationError as exc:
        raise ImportFailed(
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from exc


def apply_import(session: Session, doc: WardImport, now: datetime) -> ImportReport:
    """Store a parsed document in the caller's transaction (roll back on any error)."""
    problems: list[str] = []
    group_codes = [g.code for g in doc.groups]
    if len(set(group_codes)) != len(group_codes):
        problems.append("groups: a group code appears twice")
    for zone in doc.zones:
        missing = sorted(set(zone.groups) - set(group_codes))
        if missing:
            problems.append(f"zones.{zone.code}: unknown groups {missing}")
    for device in doc.devices:
        if device.group not in group_codes:
            problems.append(f"devices.{device.device_id}: unknown group {device.group!r}")
    if problems:
        raise ImportFailed(problems)
    places.upsert_province(session, doc.province.code, doc.province.name)
    session.flush()
    places.upsert_district(session, doc.district.code, doc.province.code, doc.district.name)
    session.flush()
    places.upsert_ward(session, doc.ward.code, doc.district.code, doc.ward.name, doc.ward.timezone)
    session.flush()
    report = ImportReport(doc.ward.code)
    for group in doc.groups:
        places.upsert_group(session, doc.ward.code, group.code, group.name)
        report.groups += 1
    for zone in doc.zones:
        places.upsert_zone(session, doc.ward.code, zone.code, zone.name, zone.groups)
        report.zones += 1
    _store_devices(session, doc.ward.code, doc.devices, now, report, problems)
    if problems:
        raise ImportFailed(problems)
    return report


def _store_devices(
    session: Session,
    ward_code: str,
    devices: list[DeviceRow],
    now: datetime,
    report: ImportReport,
    problems: list[str],
) -> None:
    for device in devices:
        try:
            _, created = register_device(
                session, device.device_id, device.name, device.public_key, now
            )
            places.place_device(session, device.device_id, ward_code, device.group)
        except DomainError as exc:
            problems.append(f"devices.{device.device_id}: {exc.message}")
            continue
        if created:
            report.devices_created += 1
        else:
            report.devices_known += 1


CSV_COLUMNS = ("group_code", "group_name", "device_id", "device_name", "public_key", "zones")


def apply_csv(session: Session, ward_code: str, text: str, now: datetime) -> ImportReport:
    """Import one device per row into an existing ward; zones are ';'-separated codes."""
    ward = places.get_ward(session, ward_code)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CSV_COLUMNS[:5] if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed([f"missing columns: {', '.join(missing)} (need {CSV_COLUMNS})"])
    groups: dict[str, str] = {g.code: g.name for g in places.groups_of(session, ward.code)}
    zones: dict[str, set[str]] = {
        z.code: set(z.group_codes) for z in places.zones_of(session, ward.code)
    }
    devices: list[DeviceRow] = []
    problems: list[str] = []
    for number, row in enumerate(reader, start=2):
        try:
            group = GroupRow(
                code=(row.get("group_code") or "").strip(),
                name=(row.get("group_name") or "").strip(),
            )
            device = DeviceRow(
                device_id=(row.get("device_id") or "").strip(),
                name=(row.get("device_name") or "").strip(),
                public_key=(row.get("public_key") or "").strip(),
                group=group.code,
            )
        except ValidationError as exc:
            problems += [
                f"row {number}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            ]
            continue
        groups[group.code] = group.name
        devices.append(device)
        for zone in filter(None, (z.strip() for z in (row.get("zones") or "").split(";"))):
            zones.setdefault(zone, set()).add(group.code)
    if problems:
        raise ImportFailed(problems)
    report = ImportReport(ward.code)
    for code, name in groups.items():
        places.upsert_group(session, ward.code, code, name)
        report.groups += 1
    for code, members in zones.items():
        existing = next((z for z in places.zones_of(session, ward.code) if z.code == code), None)
        places.upsert_zone(
            session, ward.code, code, existing.name if existing else code, sorted(members)
        )
        report.zones += 1
    _store_devices(session, ward.code, devices, now, report, problems)
    if problems:
        raise ImportFailed(problems)
    return report
