"""Generate the code-derived parts of docs/protocol.md from wardcast_protocol.

Every table of fields, topics and limits, and every example payload in the protocol
document is produced here from the models themselves; the examples are real envelopes,
sealed with fixed demo keys, so a reader can check them with any Ed25519 library.

    python scripts/protocol_examples.py            # print the generated sections
    python scripts/protocol_examples.py --write    # rewrite them in docs/protocol.md
    python scripts/protocol_examples.py --check    # exit 1 if the document is stale

This file is the command only: the examples and tables are built in ``sim/protocol_doc/``,
a package, so that its pieces import one another the ordinary way (scripts/ is not one).
tests/unit/test_protocol_docs.py loads this file by path and runs the same comparison,
so the document cannot drift from the code without a failing test.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from sim.protocol_doc.demo_messages import demo_public_key
from sim.protocol_doc.sections import SECTIONS

# The test opens the examples' envelopes with the key lookup it finds here.
__all__ = ["demo_public_key", "main", "render"]

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def _region(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED {name} -->\n)(.*?)(<!-- END GENERATED {name} -->)", re.S
    )


def _replacer(text: str) -> Callable[[re.Match[str]], str]:
    return lambda m: m[1] + text + m[3]


def render(doc: str) -> str:
    """``doc`` with every generated region replaced by fresh output."""
    for name, make in SECTIONS.items():
        pattern = _region(name)
        if not pattern.search(doc):
            raise SystemExit(f"{DOC_PATH}: no region 'BEGIN GENERATED {name}'")
        text = make().rstrip("\n") + "\n"
        # A function, not a replacement string: the text holds backslashes.
        doc = pattern.sub(_replacer(text), doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    """Print, write or check the generated sections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="update docs/protocol.md")
    group.add_argument("--check", action="store_true", help="fail if docs/protocol.md is stale")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        for name, make in SECTIONS.items():
            text = make().rstrip("\n")
            sys.stdout.write(f"<!-- BEGIN GENERATED {name} -->\n{text}\n")
            sys.stdout.write(f"<!-- END GENERATED {name} -->\n\n")
        return 0
    current = DOC_PATH.read_text(encoding="utf-8")
    fresh = render(current)
    if args.write:
        DOC_PATH.write_text(fresh, encoding="utf-8")
        return 0
    if fresh != current:
        sys.stderr.write(f"{DOC_PATH} is stale: run python scripts/protocol_examples.py --write\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
