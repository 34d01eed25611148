"""Ward programmes (chương trình phát thanh): sessions, recurrence, conflicts, YAML files.

Pure logic, no database and no web framework: the controller stores the documents,
answers :class:`~controller.domain.programmes.content.ContentLookup` and compiles plans;
this package says what a programme is, when its sessions air and what is wrong
with it. Modules:

- ``schema``      the document (pydantic models; schedules/schema.json comes from them)
- ``fields``      its field types (codes, local times, one-line text) and offline checks
- ``relay_tuning``  how a device judges a relayed stream, with its bounds
- ``rrules``      RRULE text, parsed and checked part by part
- ``recurrence``  air times in the ward's zone, stored as UTC; session lengths
- ``conflicts``   what saving runs: every conflict, in document order
- ``conflict``    one conflict, and the phrases its messages share
- ``document_checks``  codes, zones, stream URLs, relay tuning, lengths (as written)
- ``airing_checks``    a session's air times: never, off days, quiet hours, content
- ``clashes``     two sessions on the air at once for the same residents
- ``yaml_io``     YAML files with line numbers for every problem, written back stably
- ``problems``    a file's problems at their path and line; the lines of its values by path
- ``validation_messages``  schema errors in plain words, at their lines
- ``diff``        what applying a programme changes, in readable lines
- ``client``, ``cli``  the ``wardcast schedules`` commands, over the controller's HTTP API
"""

from controller.domain.programmes.conflict import Conflict
from controller.domain.programmes.conflicts import check
from controller.domain.programmes.content import ContentInfo, ContentLookup
from controller.domain.programmes.diff import diff
from controller.domain.programmes.fields import TimeRange
from controller.domain.programmes.problems import Problem, ProgrammeInvalid
from controller.domain.programmes.recurrence import (
    CHIME_S,
    RecurrenceError,
    occurrences,
    session_cap_s,
    session_length_s,
    session_span_s,
)
from controller.domain.programmes.schema import (
    BulletinsItem,
    ChimeItem,
    FixedBulletinItem,
    ProgrammeDoc,
    RelayItem,
    RundownItem,
    SessionDef,
    TargetDef,
    WardRules,
    json_schema,
)
from controller.domain.programmes.yaml_io import dump_programme, load_programme

__all__ = [
    "CHIME_S",
    "BulletinsItem",
    "ChimeItem",
    "Conflict",
    "ContentInfo",
    "ContentLookup",
    "FixedBulletinItem",
    "Problem",
    "ProgrammeDoc",
    "ProgrammeInvalid",
    "RecurrenceError",
    "RelayItem",
    "RundownItem",
    "SessionDef",
    "TargetDef",
    "TimeRange",
    "WardRules",
    "check",
    "diff",
    "dump_programme",
    "json_schema",
    "load_programme",
    "occurrences",
    "session_cap_s",
    "session_length_s",
    "session_span_s",
]
