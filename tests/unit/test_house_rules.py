"""scripts/house_rules.py on small temporary trees: each rule caught, a clean tree passes.

Never run against the real repository here: that is `make check-house`'s job, and the
real tree changes under other people's hands.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "house_rules.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("house_rules", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need their module registered
    spec.loader.exec_module(module)
    return module


house_rules = _load()

CLEAN = {
    "wardcast_protocol/topics.py": '''
        """Topics."""
        ROOT = "wardcast/v1"


        def device_topic(device_id: str) -> str:
            """The topic of one device."""
            return f"{ROOT}/device/{device_id}/state"
    ''',
    "controller/service.py": '''
        """A service that publishes through the protocol package.

        It sends on wardcast/v1/device/<id>/plan: a docstring may name a topic.
        """
        import logging

        from wardcast_protocol.topics import device_topic

        log = logging.getLogger(__name__)
        ROUTE = "/api/v1/device/{device_id}"  # an HTTP route, not a topic


        class Publisher:
            """Publishes plans."""

            def send_plan(self, transport, device_id: str) -> None:
                """Publish a retained plan."""
                transport.publish(device_topic(device_id), b"", retain=True)

            def _helper(self) -> None:
                pass

            def __repr__(self) -> str:
                return "Publisher()"
    ''',
    "controller/cli/main.py": '''
        """The command line may print."""


        def main() -> None:
            """Entry point."""
            print("hello")
    ''',
    "controller/migrations/versions/0001_init.py": '''
        """Initial schema."""


        def upgrade() -> None:
            pass
    ''',
    "edge_agent/core.py": '''
        """The agent."""
        from wardcast_protocol import topics
    ''',
    "bench/fanout.py": """
        def run():
            print("bench may print, and needs no docstrings")
    """,
}


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return tmp_path


def _rules(tmp_path: Path, extra: dict[str, str]) -> list[tuple[str, int, str]]:
    root = _tree(tmp_path, {**CLEAN, **extra})
    return [(v.path, v.line, v.rule) for v in house_rules.check_tree(root)]


def test_a_clean_tree_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path, CLEAN)
    assert house_rules.check_tree(root) == []
    assert house_rules.main(["--root", str(root)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "source",
    [
        'TOPIC = "wardcast/v1/device/a/state"',
        'PREFIX = "wardcast/v"',
        'FILTER = "x/device/+/event"',
        'def t(d):\n    """Doc."""\n    return f"{ROOT}/device/{d}/command"',
        'def t(d):\n    """Doc."""\n    return "wardcast/v1/" + d',
    ],
)
def test_topic_literals_outside_the_protocol_are_caught(tmp_path: Path, source: str) -> None:
    found = _rules(tmp_path, {"edge_agent/bad.py": f'"""Bad."""\n{source}\n'})
    assert {rule for path, _, rule in found if path == "edge_agent/bad.py"} == {"topic-literal"}


def test_topic_literals_are_checked_in_bench_and_firmware_stubs_too(tmp_path: Path) -> None:
    found = _rules(
        tmp_path,
        {
            "bench/load.py": 'T = "wardcast/v1/device/x/event"\n',
            "firmware_stubs/relay.py": '"""Relay."""\nT = "wardcast/v1/device/x/event"\n',
        },
    )
    assert ("bench/load.py", 1, "topic-literal") in found
    assert ("firmware_stubs/relay.py", 2, "topic-literal") in found


PRIVATE_PRINT = '''
    """Module."""


    def _helper() -> None:
        print("private helpers are library code too")
'''


@pytest.mark.parametrize(
    "package", ["controller", "edge_agent", "firmware_stubs", "wardcast_protocol"]
)
def test_print_in_library_code_is_caught(tmp_path: Path, package: str) -> None:
    found = _rules(tmp_path, {f"{package}/x.py": PRIVATE_PRINT})
    assert found == [(f"{package}/x.py", 5, "print-call")]


def test_print_is_allowed_in_cli_demo_and_bench(tmp_path: Path) -> None:
    # CLEAN already prints in controller/cli/main.py and bench/fanout.py.
    assert _rules(tmp_path, {"edge_agent/demo.py": '"""Demo may print."""\nprint(1)\n'}) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("edge_agent/x.py", "import controller"),
        ("edge_agent/x.py", "from controller.settings import Settings"),
        ("firmware_stubs/x.py", "import controller.db as db"),
        ("wardcast_protocol/x.py", "from edge_agent import core"),
        ("wardcast_protocol/x.py", "import firmware_stubs"),
        ("wardcast_protocol/x.py", "if True:\n    import controller"),
        ("controller/x.py", "import edge_agent"),
        ("controller/cli/x.py", "from edge_agent.cli import app"),
        ("controller/x.py", "from sim.demo import run_demo"),
        ("edge_agent/x.py", "import sim"),
    ],
)
def test_forbidden_imports_are_caught(tmp_path: Path, path: str, source: str) -> None:
    found = _rules(tmp_path, {path: f'"""Module."""\n{source}\n'})
    line = 2 + source.count("\n")
    assert found == [(path, line, "forbidden-import")]


def test_allowed_imports_pass(tmp_path: Path) -> None:
    found = _rules(
        tmp_path,
        {
            "controller/x.py": "from wardcast_protocol import envelope\n",
            "sim/x.py": "import edge_agent\nimport controller\n",
            "edge_agent/y.py": "import controllers_of_amplifiers\nfrom . import core\n",
        },
    )
    assert not any(r[2] == "forbidden-import" for r in found)


@pytest.mark.parametrize(
    "call",
    [
        "transport.publish(device_topic(d, DeviceChannel.COMMAND), p, retain=True)",
        "transport.publish(self._event_topic, p, retain=True)",
        "transport.publish(topic=ack_topic(d), payload=p, retain=True)",
        "client.publish(COMMAND_TOPIC, p, 1, True)",
        "self._publish(DeviceChannel.EVENT, body, retain=True)",
    ],
)
def test_retained_commands_events_and_acks_are_caught(tmp_path: Path, call: str) -> None:
    params = "transport, client, d, p, body, self"
    source = f'"""Module."""\n\n\ndef f({params}):\n    """Send."""\n    {call}\n'
    found = _rules(tmp_path, {"controller/x.py": source})
    assert ("controller/x.py", 6, "retained-command") in found


@pytest.mark.parametrize(
    "call",
    [
        "transport.publish(device_topic(d, DeviceChannel.COMMAND), p, retain=False)",
        "transport.publish(device_topic(d, DeviceChannel.PLAN), p, retain=True)",
        "transport.publish(state_topic, p, retain=True)",
        "transport.publish(command_topic, p)",
    ],
)
def test_retained_state_and_unretained_commands_pass(tmp_path: Path, call: str) -> None:
    source = f'"""Module."""\n\n\ndef f(transport, d, p):\n    """Send."""\n    {call}\n'
    found = _rules(tmp_path, {"controller/x.py": source})
    assert not any(r[2] == "retained-command" for r in found)


def test_missing_docstrings_are_caught(tmp_path: Path) -> None:
    source = '''
        """Module."""


        def public():
            pass


        async def public_async():
            pass


        class Public:
            def method(self):
                pass

            @property
            def value(self):
                """Documented."""
                return 1

            @value.setter
            def value(self, v):
                pass

            def __init__(self):
                pass


        class _Private:
            def method(self):
                pass
    '''
    found = _rules(tmp_path, {"firmware_stubs/x.py": source})
    missing = sorted(r[1] for r in found if r[2] == "missing-docstring")
    # public (line 4), public_async (8), Public (12), Public.method (13).
    assert missing == [4, 8, 12, 13]


def test_migrations_need_no_docstrings(tmp_path: Path) -> None:
    found = _rules(tmp_path, {})
    assert not any("migrations" in r[0] for r in found)


def test_a_syntax_error_is_reported_not_raised(tmp_path: Path) -> None:
    found = _rules(tmp_path, {"controller/broken.py": "def (:\n"})
    assert ("controller/broken.py", 1, "syntax") in found


def test_main_prints_path_line_rule_message_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {"edge_agent/bad.py": '"""Bad."""\nimport controller\n', "controller/p.py": PRIVATE_PRINT}
    root = _tree(tmp_path, {**CLEAN, **bad})
    assert house_rules.main(["--root", str(root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "controller/p.py:5: print-call: print() in library code: use logging",
        "edge_agent/bad.py:2: forbidden-import: edge_agent must not import controller",
    ]


def test_an_import_cycle_is_caught_even_behind_type_checking(tmp_path: Path) -> None:
    found = _rules(
        tmp_path,
        {
            "controller/runtime.py": '"""Runtime."""\nfrom controller.jobs import run\n',
            "controller/jobs.py": (
                '"""Jobs."""\nfrom typing import TYPE_CHECKING\n'
                "if TYPE_CHECKING:\n    from controller import runtime\n"
            ),
        },
    )
    assert [r for r in found if r[2] == "import-cycle"] == [
        ("controller/jobs.py", 1, "import-cycle")
    ]


def test_imports_without_a_cycle_pass(tmp_path: Path) -> None:
    found = _rules(
        tmp_path,
        {
            "controller/a/__init__.py": '"""Package."""\nfrom controller.a.b import x\n',
            "controller/a/b.py": '"""B."""\nfrom . import c\n',
            "controller/a/c.py": '"""C."""\nimport controller.d\n',
            "controller/d.py": '"""D."""\n',
        },
    )
    assert not any(r[2] == "import-cycle" for r in found)
