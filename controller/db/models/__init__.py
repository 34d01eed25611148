"""ORM models, one module per area; import them from here.

Timestamps use ``UtcDateTime`` (aware, UTC). Ids are short prefixed strings so they
read well in logs, topics and evidence; places use their official codes.
"""

from controller.db.models.accounts import ApiToken, User
from controller.db.models.archives import EvidenceArchive
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
from controller.db.models.emergencies import Emergency
from controller.db.models.enrolment import DeviceEnrolment, ProvinceBridge, ProvinceBroker
from controller.db.models.integrity import DeviceChain, EvidenceGap, PlannedPlay
from controller.db.models.places import District, Province, ResidentialGroup, Ward, Zone
from controller.db.models.programmes import PlanSnapshot, Programme, QueuedBulletin
from controller.db.models.rejections import RejectionCounter
from controller.db.models.rollups import (
    ReportBulletinsRollup,
    ReportDeviceDay,
    ReportDeviceMonth,
    ReportPlaysRollup,
    ReportRollupDay,
    ReportRollupState,
    ReportSessionsRollup,
    ReportWardBulletin,
    ReportWardDay,
    ReportWardSessions,
)
from controller.db.models.security import SecurityRecord
from controller.db.models.workflow import BulletinTransition

__all__ = [
    "ApiToken",
    "Base",
    "Broadcast",
    "BroadcastTarget",
    "Bulletin",
    "BulletinTransition",
    "Device",
    "DeviceChain",
    "DeviceEnrolment",
    "District",
    "Emergency",
    "EvidenceArchive",
    "EvidenceGap",
    "MediaAsset",
    "PlanSnapshot",
    "PlannedPlay",
    "PlaybackEvidence",
    "Programme",
    "Province",
    "ProvinceBridge",
    "ProvinceBroker",
    "QueuedBulletin",
    "RejectedMessageLog",
    "RejectionCounter",
    "ReportBulletinsRollup",
    "ReportDeviceDay",
    "ReportDeviceMonth",
    "ReportPlaysRollup",
    "ReportRollupDay",
    "ReportRollupState",
    "ReportSessionsRollup",
    "ReportWardBulletin",
    "ReportWardDay",
    "ReportWardSessions",
    "ResidentialGroup",
    "SecurityRecord",
    "User",
    "Ward",
    "Zone",
    "new_id",
]
