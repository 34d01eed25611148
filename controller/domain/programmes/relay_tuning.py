"""A relay's tuning (tiếp sóng): how a device judges a relayed stream, with its bounds.

Prebuffer, dead air allowed and silence level, each unset by default (the protocol's
default, what the device assumes) and bounded where a station engineer would bound
it, with the reason in the refusal. Apart from ``schema.py`` because the bounds, their
reasons and their JSON Schema hints are one subject a reader checks against the agent.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from controller.domain.programmes.fields import DocumentModel
from wardcast_protocol.messages import RelaySpec

# How a device judges a relayed stream. Bounds a station engineer would set: a
# dead-air limit under 2 s takes a network hiccup for a dead stream, and over two
# minutes of dead air is not a relay any more; programme sits around -20 dBFS, so a
# silence threshold above that takes the programme itself for silence.
PREBUFFER_S = (0.0, 60.0)
DEAD_AFTER_S = (2.0, 120.0)
SILENCE_DB = (-90.0, -20.0)
# Unset, a value is the protocol's default (what the device assumes).
_SPEC = RelaySpec.model_fields


def _in_range(name: str, bounds: tuple[float, float], unit: str, why: str) -> AfterValidator:
    low, high = bounds

    def check(value: float | None) -> float | None:
        if value is not None and not low <= value <= high:
            raise PydanticCustomError(
                "relay_tuning",
                "{name} is {low} to {high} {unit}: {why} (got {value})",
                {
                    "name": name,
                    "low": f"{low:g}",
                    "high": f"{high:g}",
                    "unit": unit,
                    "why": why,
                    "value": f"{value:g}",
                },
            )
        return value

    return AfterValidator(check)


PrebufferS = Annotated[
    float | None,
    _in_range("prebuffer_s", PREBUFFER_S, "s", "how long before the relay the device connects"),
]
DeadAfterS = Annotated[
    float | None,
    _in_range(
        "dead_after_s",
        DEAD_AFTER_S,
        "s",
        "under 2 s a network hiccup would count as a dead stream, over 2 minutes the "
        "loudspeakers would stay quiet too long",
    ),
]
SilenceDb = Annotated[
    float | None,
    _in_range(
        "silence_db",
        SILENCE_DB,
        "dBFS",
        "programme sits around -20 dBFS, so a higher threshold would take it for silence",
    ),
]


def _tuning_field(title: str, meaning: str, name: str, bounds: tuple[float, float]) -> Any:
    """An optional tuning field: its meaning, the device's default and its bounds."""
    return Field(
        default=None,
        title=title,
        description=f"{meaning} (default {_SPEC[name].default:g}).",
        json_schema_extra={"minimum": bounds[0], "maximum": bounds[1]},
    )


def prebuffer_field() -> Any:
    """The prebuffer field, as the ward's defaults and each relay item write it."""
    meaning = "Seconds before the relay the device connects to the stream"
    return _tuning_field("Prebuffer", meaning, "prebuffer_s", PREBUFFER_S)


def dead_after_field() -> Any:
    """The dead air allowed field, as the ward's defaults and each relay item write it."""
    meaning = (
        "Seconds of dead air or silence before the fallback plays; also the longest "
        "wait between tries of a failing stream"
    )
    return _tuning_field("Dead air allowed", meaning, "dead_after_s", DEAD_AFTER_S)


def silence_field() -> Any:
    """The silence level field, as the ward's defaults and each relay item write it."""
    meaning = "Below this level (dBFS) the stream counts as silent"
    return _tuning_field("Silence level", meaning, "silence_db", SILENCE_DB)


class RelayTuning(DocumentModel):
    """How the devices judge a relayed stream (tiếp sóng); unset values: the defaults."""

    prebuffer_s: PrebufferS = prebuffer_field()
    dead_after_s: DeadAfterS = dead_after_field()
    silence_db: SilenceDb = silence_field()

    def over(self, defaults: RelayTuning | None) -> RelayTuning:
        """These values, and ``defaults``' where these are unset."""
        if defaults is None:
            return self
        mine = self.model_dump(exclude_none=True)
        return RelayTuning.model_validate({**defaults.model_dump(exclude_none=True), **mine})
