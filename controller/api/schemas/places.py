"""Place schemas: provinces, districts, wards, residential groups, zones, placement, import.

Places are written with PUT on their official code (the code is in the path), so every
request body here is an ``…Update``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from controller.api.bounds import AreaCode, Code, one_line

Name = Annotated[str, one_line(200, 1)]


class ProvinceUpdate(BaseModel):
    """A province's name (its code is in the path)."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Its name.", examples=["Hà Nội"])


class DistrictUpdate(BaseModel):
    """A district: its province and name."""

    model_config = ConfigDict(extra="forbid")

    province_code: AreaCode = Field(description="The (existing) province.")
    name: Name = Field(description="Its name.", examples=["Hoàn Kiếm"])


class WardUpdate(BaseModel):
    """A ward: its district, name and the time zone its programme is scheduled in."""

    model_config = ConfigDict(extra="forbid")

    district_code: AreaCode = Field(description="The (existing) district.")
    name: Name = Field(description="Its name.", examples=["Hàng Bạc"])
    timezone: Annotated[str, one_line(64)] = Field(
        default="Asia/Ho_Chi_Minh", description="IANA zone of its programme."
    )


class GroupUpdate(BaseModel):
    """A residential group's name (tổ dân phố)."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Its name.", examples=["Tổ dân phố 1"])


class ZoneUpdate(BaseModel):
    """A zone: a name and the group codes it covers."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Its name.")
    groups: list[Code] = Field(
        min_length=1, max_length=1000, description="Codes of the ward's groups it covers."
    )


class PlacementUpdate(BaseModel):
    """Where a device serves."""

    model_config = ConfigDict(extra="forbid")

    ward_code: AreaCode | None = Field(default=None, description="The ward; omit to unplace.")
    group_code: Code | None = Field(default=None, description="A group of that ward.")


class ProvincePublic(BaseModel):
    """A province."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="Official code.")
    name: str


class DistrictPublic(BaseModel):
    """A district."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="Official code.")
    name: str


class GroupPublic(BaseModel):
    """A residential group (tổ dân phố)."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="Code, unique within the ward.")
    name: str


class ZonePublic(BaseModel):
    """A zone: groups addressed together."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="Code, unique within the ward.")
    name: str
    group_codes: list[str] = Field(description="The groups it covers.")


class WardPublic(BaseModel):
    """A ward with its groups, zones and devices."""

    code: str = Field(description="Official code.")
    name: str
    district_code: str
    timezone: str = Field(description="IANA zone its programme is scheduled in.")
    groups: list[GroupPublic] = Field(default=[], description="Empty in the list of wards.")
    zones: list[ZonePublic] = Field(default=[], description="Empty in the list of wards.")
    devices: list[str] = Field(default=[], description="Ids of devices placed in it.")


class PlaceImportPublic(BaseModel):
    """What an import stored."""

    ward_code: str
    groups: int = Field(description="Groups written.")
    zones: int = Field(description="Zones written.")
    devices_created: int = Field(description="Devices registered by this import.")
    devices_known: int = Field(description="Devices already registered (placed again).")
