"""Place schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProvinceIn(_In):
    """A province's name (its code is in the path)."""

    name: str = Field(min_length=1, max_length=200, examples=["Hà Nội"])


class DistrictIn(_In):
    """A district: its province and name."""

    province_code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200, examples=["Hoàn Kiếm"])


class WardIn(_In):
    """A ward: its district, name and the time zone its programme is scheduled in."""

    district_code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200, examples=["Hàng Bạc"])
    timezone: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)


class GroupIn(_In):
    """A residential group's name."""

    name: str = Field(min_length=1, max_length=200, examples=["Tổ dân phố 1"])


class ZoneIn(_In):
    """A zone: a name and the group codes it covers."""

    name: str = Field(min_length=1, max_length=200)
    groups: list[str] = Field(min_length=1)


class PlacementIn(_In):
    """Where a device serves."""

    ward_code: str | None = None
    group_code: str | None = None


class PlacePublic(BaseModel):
    """A province or district."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str


class GroupPublic(BaseModel):
    """A residential group."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str


class ZonePublic(BaseModel):
    """A zone."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    group_codes: list[str]


class WardPublic(BaseModel):
    """A ward with its groups, zones and devices."""

    code: str
    name: str
    district_code: str
    timezone: str
    groups: list[GroupPublic] = []
    zones: list[ZonePublic] = []
    devices: list[str] = []


class ImportResult(BaseModel):
    """What an import stored."""

    ward_code: str
    groups: int
    zones: int
    devices_created: int
    devices_known: int
