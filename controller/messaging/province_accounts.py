"""A province broker's own logins: its devices' password and ACL files, from the database.

A nation runs a mosquitto per province bridged to the centre (docs/scale.md); a
province's devices log in *there*, with the login they got at enrolment, so that
broker needs their lines. They are made exactly as the centre's own files
(``broker_accounts``, ``broker_files``): from the database, hashes only (never a
password), at the same moments (every start, enrolment, revocation, bridge login, and
a device's move seen by the fan-out), for every province with a broker address
(``wardcast broker province-url``), each in
``<data_dir>/broker/provinces/<code>/{passwd,acl}``; and on demand by ``wardcast
broker province-files <province>``.

A province's files hold the enrolled, unrevoked devices placed in its wards, each with
its own channels and its ward's broadcast channel (the centre's device lines, the
same ``%u`` patterns); no controller and no bridge login (the bridge is the province
broker's own connection, not a client of it). Getting them to the province's host
and reloading its mosquitto (SIGHUP) is the operator's: rsync from a cron job, a
configuration manager. A device moved to another province leaves its old province's
file at the next write, and that broker drops its session when it reloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from controller.db.models import Province
from controller.domain.devices.service import broker_logins, wards_of_devices
from controller.domain.errors import NotFound
from controller.domain.places.service import provinces_of_devices
from controller.messaging.broker_files import (
    device_acl_lines,
    render_password_file,
    write_for_broker,
)
from wardcast_protocol.topics import is_valid_province_code

PROVINCES_DIR = "provinces"


@dataclass(frozen=True, slots=True)
class ProvinceLogins:
    """What one province's broker must know: its devices' logins and wards."""

    province_code: str
    logins: tuple[tuple[str, str], ...]  # (device id, Mosquitto hash), by id
    wards: Mapping[str, str]  # device id -> ward code


@dataclass(frozen=True, slots=True)
class ProvinceFiles:
    """A province broker's files as written, and how many devices they let in."""

    password_file: Path
    acl_file: Path
    devices: int


def province_directory(state_dir: Path, province_code: str) -> Path:
    """Where the controller keeps a province broker's files (``state_dir``: its
    own broker's, ``<data_dir>/broker``)."""
    return state_dir / PROVINCES_DIR / province_code


def by_province(
    logins: Iterable[tuple[str, str]],
    wards: Mapping[str, str],
    provinces: Mapping[str, str],
    codes: Iterable[str],
) -> list[ProvinceLogins]:
    """Split the devices' logins among ``codes`` by the province of their ward."""
    wanted: dict[str, list[tuple[str, str]]] = {code: [] for code in codes}
    for user, hashed in logins:
        province = provinces.get(user)
        if province in wanted:
            wanted[province].append((user, hashed))
    return [
        ProvinceLogins(
            code, tuple(found), {user: wards[user] for user, _ in found if user in wards}
        )
        for code, found in sorted(wanted.items())
    ]


def read_province_logins(session: Session, codes: Iterable[str]) -> list[ProvinceLogins]:
    """Each of ``codes``' devices' logins, from the database."""
    logins = broker_logins(session)
    wards = wards_of_devices(session, [user for user, _ in logins])
    return by_province(logins, wards, provinces_of_devices(session), codes)


def render_province_acl(province_code: str, wards: Mapping[str, str]) -> str:
    """A province broker's ACL: its devices' lines, as at the centre, and nothing else."""
    lines = [
        f"# Written by the Wardcast controller for the broker of province {province_code};",
        "# edits are lost. Only this province's devices log in here.",
        *device_acl_lines(wards),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_province_files(directory: Path, province: ProvinceLogins) -> ProvinceFiles:
    """Write one province broker's ``passwd`` and ``acl`` in ``directory`` (when changed)."""
    directory.mkdir(parents=True, exist_ok=True)
    password_file, acl_file = directory / "passwd", directory / "acl"
    write_for_broker(password_file, render_password_file(province.logins))
    write_for_broker(acl_file, render_province_acl(province.province_code, province.wards))
    return ProvinceFiles(password_file, acl_file, len(province.logins))


def write_for_province(session: Session, province_code: str, directory: Path) -> ProvinceFiles:
    """Write a province broker's files now (``wardcast broker province-files``)."""
    if not is_valid_province_code(province_code) or session.get(Province, province_code) is None:
        raise NotFound(f"no province {province_code!r}")
    [province] = read_province_logins(session, [province_code])
    return write_province_files(directory, province)
