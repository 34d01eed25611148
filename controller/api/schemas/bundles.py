"""Evidence archive schemas: archive a ward's period, and the archives made so far.

The bundle itself is not a schema here: it is sent as the very bytes a file holds.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from controller.api.bounds import AreaCode, Instant


class ArchiveCreate(BaseModel):
    """Archive one ward's evidence for a period that is over."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    ward: AreaCode = Field(description="Ward code, e.g. 26734.")
    start: Instant = Field(alias="from", description="Start of the period (included).")
    end: Instant = Field(alias="to", description="End of the period (excluded).")


class ArchivePublic(BaseModel):
    """One archive: the verified bundle's place, fingerprint and counts, who and when."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ward_code: str
    period_from: datetime = Field(description="Start of the period (included).")
    period_to: datetime = Field(description="End of the period (excluded).")
    label: str = Field(description="The period's name, e.g. 2026-03 or 2026-03-02.")
    path: str = Field(description="The bundle file, relative to the controller's data dir.")
    bundle_sha256: str = Field(description="sha256 of the file's bytes.")
    bundle_digest: str = Field(description="The bundle's own digest of its content.")
    row_count: int = Field(description="Evidence rows in the bundle.")
    device_count: int = Field(description="Devices with evidence in the period.")
    missing_count: int = Field(description="Sequence numbers never received (archived as is).")
    broken_link_count: int = Field(description="Links a device broke (archived as is).")
    verified_at: datetime = Field(description="When the written file was verified.")
    archived_by: str = Field(description="The administrator who archived it.")
