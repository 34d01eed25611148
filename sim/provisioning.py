"""The demo's ward and devices: simulated agents enrolled as real ones are, then placed.

Each simulated device gets what a real one gets at enrolment (a one-time code, a key
in its own data folder, its broker login, the broker's CA and the controller's key),
and the demo ward gets the example places, content and programmes, so plans show real
sessions and the README's commands find what they name. Apart from ``demo.py`` (which
runs the demo and prints its walk) because it only builds the state the demo starts
from, through the same services a real controller uses.
"""

from __future__ import annotations

from pathlib import Path

from controller.composition import ControllerRuntime
from controller.domain.actors import SYSTEM
from controller.domain.devices.enrolment import Credentials
from edge_agent.config import AgentConfig
from edge_agent.enrolment import Enrolment, store_enrolment
from sim.examples import apply_programmes, import_places, make_content, place_devices
from wardcast_protocol.signing import SigningKey

DEMO_WARD = "00037"


def provision_ward(runtime: ControllerRuntime, configs: list[AgentConfig]) -> str | None:
    """The example places (Hàng Bạc, the demo ward, and the commune of the rural example),
    the agents placed in the demo ward's groups, the content the example programmes name
    and the example programmes themselves, so plans show real sessions and the README's
    commands find what they name."""
    import_places(runtime)
    with runtime.db.session() as session:
        place_devices(session, DEMO_WARD, [c.device_id for c in configs])
    make_content(runtime)
    apply_programmes(runtime, {DEMO_WARD})
    runtime.plans.recompile()
    return DEMO_WARD


def enrol_device(
    runtime: ControllerRuntime, device_id: str, name: str, data_dir: Path
) -> tuple[SigningKey, Credentials]:
    """Create ``device_id`` (if missing) and enrol it as a real one is: a one-time code, a
    key made in ``data_dir``, and its enrolment (broker login, CA, the controller's key)
    stored there, where its agent reads them. The key and what the enrolment gave."""
    issued, _ = runtime.enrolment.create_device(SYSTEM, device_id, name, None)
    if issued.code is None:
        issued = runtime.enrolment.issue_code(SYSTEM, device_id)
    assert issued.code is not None
    key = SigningKey.load_or_create(data_dir / "device.key")
    given = runtime.enrolment.enrol(device_id, issued.code, key.public_key_b64)
    store_enrolment(
        data_dir,
        Enrolment(
            device_id=given.device_id,
            broker_url=given.broker_url,
            username=given.username,
            password=given.password,
            controller_public_key=given.controller_public_key,
            ca_pem=given.ca_pem,
        ),
    )
    return key, given


def provision_agents(runtime: ControllerRuntime, count: int) -> list[AgentConfig]:
    """Create each simulated device and enrol it as a real one is: a one-time code, a
    key generated in its data folder, and its broker login, the broker's CA and the
    controller's key stored there. Enrolled again at every start (a fresh broker
    password), so a demo folder kept across runs never holds a stale login."""
    configs = []
    for n in range(1, count + 1):
        device_id = f"demo-to-{n:03d}"
        data_dir = runtime.settings.data_dir / "agents" / device_id
        enrol_device(runtime, device_id, f"Tổ dân phố {n}", data_dir)
        configs.append(
            AgentConfig(
                data_dir=data_dir,
                player="simulated",
                # The demo's clips are seconds long: resend quickly so a dropped
                # confirmation shows up again while someone is watching.
                resend_interval_s=5.0,
                relay_settle_s=0.0,
                durable_outbox=False,
            )
        )
    return configs
