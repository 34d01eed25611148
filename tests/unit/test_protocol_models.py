"""Message models: timestamps are aware and UTC, unknown fields and mutation are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tests.unit.test_protocol_strategies import (
    FAST,
    QUICK,
    aware_datetimes,
    commands,
    device_states,
    events,
    kinds_and_bodies,
    plan_items,
    plans,
)
from wardcast_protocol.channels import BODY_MODELS
from wardcast_protocol.messages import (
    Command,
    DeviceState,
    Kind,
    Plan,
    PlanItem,
    PlaybackEvent,
)

# Every datetime field of every body, as (strategy of a valid body, field path).
DATETIME_FIELDS = [
    (device_states, DeviceState, ("device_time",)),
    (plans, Plan, ("generated_at",)),
    (plan_items, PlanItem, ("planned_start",)),
    (commands, Command, ("issued_at",)),
    (commands, Command, ("expires_at",)),
    (events, PlaybackEvent, ("planned_start",)),
    (events, PlaybackEvent, ("recorded_at",)),
    (events, PlaybackEvent, ("actual_start",)),
]


def _with(body: BaseModel, field: str, value: object) -> dict[str, object]:
    data = body.model_dump(mode="json")
    data[field] = value
    return data


@pytest.mark.parametrize(("bodies", "model", "path"), DATETIME_FIELDS)
@QUICK
@given(data=st.data(), moment=aware_datetimes)
def test_aware_datetimes_in_any_zone_are_normalised_to_utc(
    data: st.DataObject,
    bodies: st.SearchStrategy[BaseModel],
    model: type[BaseModel],
    path: tuple[str],
    moment: datetime,
) -> None:
    body = data.draw(bodies)
    (field,) = path
    parsed = model.model_validate(_with(body, field, moment.isoformat()))
    value = getattr(parsed, field)
    assert value.tzinfo is UTC
    assert value == moment  # the same instant


@pytest.mark.parametrize(("bodies", "model", "path"), DATETIME_FIELDS)
@QUICK
@given(data=st.data(), moment=aware_datetimes)
def test_naive_datetimes_are_refused(
    data: st.DataObject,
    bodies: st.SearchStrategy[BaseModel],
    model: type[BaseModel],
    path: tuple[str],
    moment: datetime,
) -> None:
    body = data.draw(bodies)
    (field,) = path
    naive = moment.replace(tzinfo=None)
    with pytest.raises(ValidationError):
        model.model_validate(_with(body, field, naive.isoformat()))
    with pytest.raises(ValidationError):
        model.model_validate({**body.model_dump(), field: naive})


def test_vietnam_local_time_becomes_utc() -> None:
    local = datetime(2026, 11, 23, 5, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    state = DeviceState(device_time=local)
    assert state.device_time == datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert state.model_dump(mode="json")["device_time"] == "2026-11-22T22:30:00Z"


@FAST
@given(kinds_and_bodies(), st.text(min_size=1, max_size=20))
def test_unknown_fields_are_refused(pair: tuple[Kind, BaseModel], extra: str) -> None:
    kind, body = pair
    data = body.model_dump(mode="json")
    if extra in data:
        return
    data[extra] = 1
    with pytest.raises(ValidationError):
        BODY_MODELS[kind].model_validate(data)


@FAST
@given(kinds_and_bodies())
def test_messages_are_frozen(pair: tuple[Kind, BaseModel]) -> None:
    _, body = pair
    name = next(iter(type(body).model_fields))
    with pytest.raises(ValidationError):
        setattr(body, name, getattr(body, name))


def test_a_command_order_is_chosen_by_its_action() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stop = Command.model_validate(
        {
            "command_id": "c1",
            "device_ids": ["to-1"],
            "issued_at": now.isoformat(),
            "expires_at": (now + timedelta(minutes=5)).isoformat(),
            "order": {"action": "stop", "item_id": "it-1"},
        }
    )
    assert stop.order.action == "stop"
    with pytest.raises(ValidationError):
        Command.model_validate(
            {
                "command_id": "c1",
                "device_ids": ["to-1"],
                "issued_at": now.isoformat(),
                "expires_at": now.isoformat(),
                "order": {"action": "reboot"},
            }
        )
