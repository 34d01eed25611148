"""docs/protocol.md cannot drift from wardcast_protocol.

Each ```json block labelled ``<!-- example kind=K form=body|envelope name=N -->`` is
checked: a body against ``BODY_MODELS[K]``, an envelope by opening it with the demo
keys. The generated sections must equal a fresh run of scripts/protocol_examples.py,
and the documented rejection reasons must be exactly those envelope.py raises.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from wardcast_protocol import envelope, topics
from wardcast_protocol.channels import BODY_MODELS
from wardcast_protocol.envelope import open_envelope, signed_digest
from wardcast_protocol.messages import Kind, PlaybackEvent

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"
SCRIPT = ROOT / "scripts" / "protocol_examples.py"

LABEL = re.compile(
    r"<!-- example kind=(?P<kind>\w+) form=(?P<form>body|envelope) name=(?P<name>[\w-]+) -->\n"
    r"```json\n(?P<json>.*?)\n```",
    re.S,
)


@dataclass(frozen=True)
class Block:
    """One labelled example in the document."""

    kind: Kind
    form: str
    name: str
    text: str


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("protocol_examples", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _blocks() -> list[Block]:
    text = DOC.read_text(encoding="utf-8")
    return [Block(Kind(m["kind"]), m["form"], m["name"], m["json"]) for m in LABEL.finditer(text)]


BLOCKS = _blocks()
BODIES = {b.name: b for b in BLOCKS if b.form == "body"}
ENVELOPES = {b.name: b for b in BLOCKS if b.form == "envelope"}


@pytest.fixture(scope="module")
def script() -> ModuleType:
    """scripts/protocol_examples.py, imported from its path (scripts/ is not a package)."""
    return _load_script()


def test_every_kind_has_a_body_and_an_envelope_example() -> None:
    assert {b.kind for b in BODIES.values()} == set(Kind)
    assert set(BODIES) == set(ENVELOPES)
    assert len(BLOCKS) == len(BODIES) + len(ENVELOPES), "an example name is used twice"


@pytest.mark.parametrize("block", list(BODIES.values()), ids=lambda b: b.name)
def test_body_examples_validate_against_their_model(block: Block) -> None:
    body = BODY_MODELS[block.kind].model_validate_json(block.text)
    # The document shows the canonical JSON form, field for field.
    assert body.model_dump(mode="json") == json.loads(block.text)


@pytest.mark.parametrize("block", list(ENVELOPES.values()), ids=lambda b: b.name)
def test_envelope_examples_open_with_the_demo_keys(block: Block, script: ModuleType) -> None:
    opened = open_envelope(block.text.encode("utf-8"), block.kind, script.demo_public_key)
    expected = BODY_MODELS[block.kind].model_validate_json(BODIES[block.name].text)
    assert opened.body == expected
    if block.kind is not Kind.AVAILABILITY:  # availability comes from both sides
        device_sent = block.kind in {Kind.STATE, Kind.EVENT, Kind.SECURITY}
        assert (opened.sender != envelope.CONTROLLER_SENDER) == device_sent


def test_event_examples_form_a_hash_chain(script: ModuleType) -> None:
    events = [
        open_envelope(b.text.encode("utf-8"), Kind.EVENT, script.demo_public_key)
        for b in ENVELOPES.values()
        if b.kind is Kind.EVENT
    ]
    assert len(events) >= 2
    prev = ""
    for seq, verified in enumerate(events, start=1):
        assert isinstance(verified.body, PlaybackEvent)
        assert verified.body.seq == seq
        assert verified.body.prev_hash == prev
        prev = signed_digest(verified.signed)


def test_generated_sections_are_current(script: ModuleType) -> None:
    current = DOC.read_text(encoding="utf-8")
    assert script.render(current) == current, (
        "docs/protocol.md is stale: run .venv/bin/python scripts/protocol_examples.py --write"
    )


def _reasons_raised_in_envelope_py() -> set[str]:
    tree = ast.parse(Path(envelope.__file__).read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "RejectedMessage"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def test_documented_rejection_reasons_are_exactly_those_raised() -> None:
    section = DOC.read_text(encoding="utf-8").split("## 5.", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\|[^\n]*\| `(\w+)` \|$", section, re.M))
    assert documented == _reasons_raised_in_envelope_py()


def test_every_topic_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"`{topics.CONTROLLER_AVAILABILITY}`" in text
    for channel in topics.DeviceChannel:
        assert f"`{topics.ROOT}/device/{{device_id}}/{channel.value}`" in text
