"""The agent refuses commands not for it, replayed, stale, early or retained; logs and reports."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from edge_agent import security
from edge_agent.core import EdgeAgent
from edge_agent.security import SecurityLog
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.envelope import CONTROLLER_SENDER, open_envelope, seal
from wardcast_protocol.messages import Command, EventAck, Kind, PlanItem, PlayNow, SecurityReport
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic

__all__ = ["rig"]  # the fixture, used by name below

OTHER = "to-02"


def _sent(rig: Rig) -> list[SecurityReport]:
    """Every report published, resends included."""
    keys = {DEVICE: rig.device_key.public_key_b64}.get
    out = []
    for payload in rig.published(DeviceChannel.SECURITY):
        body = open_envelope(payload, Kind.SECURITY, keys, expected_sender=DEVICE).body
        assert isinstance(body, SecurityReport)
        out.append(body)
    return out


def _reports(rig: Rig) -> list[SecurityReport]:
    """Distinct reports received (resends dropped, as the controller does)."""
    return list({r.report_id: r for r in _sent(rig)}.values())


def _junk_as_the_link_drops(rig: Rig) -> None:
    """A refused message received just as the link went down: its report must wait."""
    link = rig.broker.links[-1]
    link.go_offline()
    link.deliver(ReceivedMessage(device_topic(DEVICE, DeviceChannel.COMMAND), b"junk", False))


def _command(
    rig: Rig,
    item: PlanItem,
    *,
    devices: tuple[str, ...] = (DEVICE,),
    issued_in_s: float = 0,
    ttl_s: float = 60,
) -> Command:
    issued = rig.now + timedelta(seconds=issued_in_s)
    return Command(
        command_id=uuid.uuid4().hex,
        device_ids=devices,
        issued_at=issued,
        expires_at=issued + timedelta(seconds=ttl_s),
        order=PlayNow(item=item),
    )


def _deliver(rig: Rig, command: Command, *, retain: bool = False) -> None:
    rig.ctl.publish(DEVICE, DeviceChannel.COMMAND, Kind.COMMAND, command, retain=retain)


async def _nothing_played(rig: Rig) -> None:
    await rig.tick(60)
    assert rig.started == []
    assert rig.events() == []


async def test_a_play_now_captured_for_another_device_and_replayed_here_is_refused(
    rig: Rig,
) -> None:
    agent = await rig.start_agent()
    sent = rig.ctl.play_now(OTHER, rig.item("now-b", 0))
    (captured,) = rig.broker.published(device_topic(OTHER, DeviceChannel.COMMAND))
    # The attacker republishes the controller's signed bytes, untouched, on our topic.
    rig.broker.route(
        "attacker", device_topic(DEVICE, DeviceChannel.COMMAND), captured.payload, False, None
    )
    await settle()
    await _nothing_played(rig)
    (entry,) = agent.security.entries()
    assert (entry.reason, entry.command_id, entry.item_id) == (
        "not_addressed",
        sent.command_id,
        "now-b",
    )
    assert OTHER in entry.detail
    (report,) = _reports(rig)
    assert (report.report_id, report.reason) == (entry.report_id, "not_addressed")
    assert report.topic == device_topic(DEVICE, DeviceChannel.COMMAND)
    assert agent.stats.refused["not_addressed"] == 1


async def test_a_command_naming_several_devices_including_this_one_plays(rig: Rig) -> None:
    agent = await rig.start_agent()
    _deliver(rig, _command(rig, rig.item("now-all", 0), devices=(OTHER, DEVICE)))
    await settle()
    await rig.tick(1)
    assert [s[0] for s in rig.started] == ["now-all"]
    assert agent.security.entries() == []


async def test_a_command_delivered_retained_is_refused_even_for_this_device(rig: Rig) -> None:
    # Planted retained on our command topic while the device was away.
    _deliver(rig, _command(rig, rig.item("planted", 0)), retain=True)
    agent = await rig.start_agent()
    await _nothing_played(rig)
    (entry,) = agent.security.entries()
    assert entry.reason == "retained"
    assert [r.reason for r in _reports(rig)] == ["retained"]


async def test_a_replayed_command_is_refused_and_logged_also_after_a_restart(rig: Rig) -> None:
    agent = await rig.start_agent()
    command = _command(rig, rig.item("now-1", 0))
    _deliver(rig, command)
    _deliver(rig, command)
    await settle()
    await rig.tick(40)
    assert [s[0] for s in rig.started] == ["now-1"]
    assert [e.reason for e in agent.security.entries()] == ["replayed"]
    await agent.stop()
    again = await rig.start_agent()
    _deliver(rig, command)
    await settle()
    await rig.tick(40)
    assert [s[0] for s in rig.started] == ["now-1"]
    assert [e.reason for e in again.security.entries()] == ["replayed", "replayed"]


@pytest.mark.parametrize(("issued_in_s", "reason"), [(-120, "expired"), (600, "issued_in_future")])
async def test_a_stale_or_early_command_is_refused(
    rig: Rig, issued_in_s: float, reason: str
) -> None:
    agent = await rig.start_agent()
    _deliver(rig, _command(rig, rig.item("late", 0), issued_in_s=issued_in_s))
    await settle()
    await _nothing_played(rig)
    assert [e.reason for e in agent.security.entries()] == [reason]


async def test_a_command_from_a_clock_a_little_ahead_still_plays(rig: Rig) -> None:
    agent = await rig.start_agent()
    _deliver(rig, _command(rig, rig.item("now-1", 0), issued_in_s=security.CLOCK_SKEW_S - 10))
    await settle()
    await rig.tick(1)
    assert [s[0] for s in rig.started] == ["now-1"]
    assert agent.security.entries() == []


async def test_a_forged_command_is_rejected_logged_and_reported(rig: Rig) -> None:
    agent = await rig.start_agent()
    forger = SigningKey.generate()
    wire = seal(Kind.COMMAND, _command(rig, rig.item("x", 0)), CONTROLLER_SENDER, forger, rig.now)
    rig.broker.route("attacker", device_topic(DEVICE, DeviceChannel.COMMAND), wire, False, None)
    await settle()
    await _nothing_played(rig)
    assert [e.reason for e in agent.security.entries()] == ["bad_signature"]
    assert [r.reason for r in _reports(rig)] == ["bad_signature"]


async def test_reports_wait_for_the_link_and_are_resent_until_acked(rig: Rig) -> None:
    agent = await rig.start_agent(resend_interval_s=10)
    _junk_as_the_link_drops(rig)
    await settle()
    assert agent.security.entries()[0].reason == "malformed"
    assert _sent(rig) == []  # written to the log, not lost: sent when the link is back
    rig.broker.links[-1].go_online()
    await settle()
    (report,) = _sent(rig)
    await rig.tick(25)  # housekeeping rounds more than the resend interval later
    sent = len(_sent(rig))
    assert sent >= 2  # not acknowledged: sent again
    rig.ctl.publish(DEVICE, DeviceChannel.ACK, Kind.ACK, _ack(report_ids=(report.report_id,)))
    await settle()
    assert agent.security.unacked() == []
    assert agent.security.entries()[0].acked
    await rig.tick(30)
    assert len(_sent(rig)) == sent  # acknowledged: never again


def _ack(**ids: tuple[str, ...]) -> EventAck:
    return EventAck.model_validate(ids)


async def test_the_log_and_its_unsent_reports_survive_a_restart(rig: Rig) -> None:
    agent = await rig.start_agent()
    _junk_as_the_link_drops(rig)
    await settle()
    await agent.stop()
    assert _sent(rig) == []
    again = await rig.start_agent()
    assert [e.reason for e in again.security.entries()] == ["malformed"]
    assert [r.reason for r in _reports(rig)] == ["malformed"]


async def test_a_flood_is_logged_one_by_one_up_to_a_limit_then_counted(rig: Rig) -> None:
    agent = await rig.start_agent()
    topic = device_topic(DEVICE, DeviceChannel.COMMAND)
    for n in range(security.MAX_PER_MINUTE + 70):
        rig.broker.route("attacker", topic, b"junk %d" % n, False, None)
    await settle()
    assert len(agent.security.entries(1000)) == security.MAX_PER_MINUTE
    await rig.tick(95)  # a housekeeping round after the minute sums up what was counted
    newest = agent.security.entries()[0]
    assert newest.reason == "flood"
    assert "70 more refusals" in newest.detail and "malformed ×70" in newest.detail
    assert len(_reports(rig)) == security.MAX_PER_MINUTE + 1
    assert agent.stats.refused["malformed"] == security.MAX_PER_MINUTE + 70


async def test_an_event_the_controller_refused_is_forgotten_and_noted_locally(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.play_now(DEVICE, rig.item("now-1", 0))
    await settle()
    await rig.tick(40)
    (event,) = rig.events()
    rig.ctl.publish(DEVICE, DeviceChannel.ACK, Kind.ACK, _ack(refused_event_ids=(event.event_id,)))
    await settle()
    assert agent.pending_events() == []
    (entry,) = agent.security.entries()
    assert entry.reason == "event_refused" and event.event_id in entry.detail
    assert entry.acked  # the controller made this record itself: nothing to report
    assert _reports(rig) == []


def test_the_log_is_bounded_acknowledged_entries_first(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(security, "MAX_ENTRIES", 5)
    monkeypatch.setattr(security, "MAX_PER_MINUTE", 100)
    log = SecurityLog(tmp_path / "security.db", DEVICE, SigningKey.generate(), fake_clock)
    first = log.refuse(security.Refused("malformed", "1"), "t")
    for n in range(2, 7):
        log.refuse(security.Refused("malformed", str(n)), "t")
    log.acknowledge([r.report_id for r in first])
    assert [e.detail for e in log.entries()] == ["6", "5", "4", "3", "2"]
    log.close()


def test_seen_command_ids_are_kept_past_expiry_by_the_clock_tolerance() -> None:
    now = FakeClock().now()
    assert now - security.forget_before(now) == timedelta(seconds=security.CLOCK_SKEW_S)


async def test_an_agent_without_a_security_log_yet_creates_it(rig: Rig) -> None:
    agent: EdgeAgent = await rig.start_agent()
    assert (rig.tmp / DEVICE / "security.db").exists()
    assert agent.security.entries() == []
