"""ORM models, one module per area; import them from here.

Timestamps use ``UtcDateTime`` (aware, UTC). Ids are short prefixed strings so they
read well in logs, topics and evidence; places use their official codes.
"""

from controller.db.models.core import (
    Base,
    Broadcast,
    BroadcastTarget,
    Bulletin,
    Device,
    MediaAsset,
    PlaybackEvidence,
    RejectedMessageLog,
    new_id,
)

__all__ = [
    "Base",
    "Broadcast",
    "BroadcastTarget",
    "Bulletin",
    "Device",
    "MediaAsset",
    "PlaybackEvidence",
    "RejectedMessageLog",
    "new_id",
]
