"""The three commands' help: Vietnamese first, English after, and one option vocabulary.

Every command and group of ``wardcast``, ``wardcast-agent`` and ``wardcast-demo``
describes itself as ``<tiếng Việt> — <English>`` (an officer reads the first half, a
maintainer the second). The options every command shares are spelled and explained
the same wherever they appear: ``--controller-url``, ``--token``, ``--period``,
``--output``, ``--log-level``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer

from controller.cli.main import app as wardcast
from edge_agent.cli import app as agent
from sim.cli import app as demo

APPS = {"wardcast": wardcast, "wardcast-agent": agent, "wardcast-demo": demo}
SHARED = ("--controller-url", "--token", "--period", "--output", "--log-level")
SEPARATOR = " — "


# Typer carries its own copy of click: commands and options are recognised by shape.
Command = Any


def _commands(name: str, command: Command) -> Iterator[tuple[str, Command]]:
    yield name, command
    for sub_name, sub in getattr(command, "commands", {}).items():
        yield from _commands(f"{name} {sub_name}", sub)


def _all() -> list[tuple[str, Command]]:
    return [
        found
        for name, app in APPS.items()
        for found in _commands(name, typer.main.get_command(app))
    ]


def _vietnamese(text: str) -> bool:
    # Vietnamese without a single diacritic is rare; English with one is rarer.
    return any(ord(ch) > 0x7F and ch.isalpha() for ch in text)


@pytest.mark.parametrize(("name", "command"), _all(), ids=[name for name, _ in _all()])
def test_every_command_says_what_it_does_in_vietnamese_then_english(
    name: str, command: Command
) -> None:
    summary = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
    vietnamese, sep, english = summary.partition(SEPARATOR)
    if name == "wardcast":  # "Wardcast — đài truyền thanh…": the name comes first
        vietnamese, sep, english = english.partition(SEPARATOR)
    assert sep and _vietnamese(vietnamese) and english and not _vietnamese(english), (
        f"`{name} --help` should open with '<tiếng Việt>{SEPARATOR}<English>', not {summary!r}"
    )


def test_shared_options_are_spelled_and_explained_alike() -> None:
    helps: dict[str, set[str]] = {option: set() for option in SHARED}
    for _, command in _all():
        for param in command.params:
            if param.param_type_name != "option":
                continue
            for option in SHARED:
                if option in param.opts:
                    helps[option].add(param.help or "")
    for option, texts in helps.items():
        assert texts, f"no command has {option}"
        # `schedules validate` documents its offline default, `evidence fetch` a required file.
        if option not in ("--controller-url", "--output"):
            assert len(texts) == 1, f"{option} is explained {len(texts)} ways: {sorted(texts)}"
        for text in texts:
            assert SEPARATOR in text and _vietnamese(text.split(SEPARATOR)[0]), (option, text)
