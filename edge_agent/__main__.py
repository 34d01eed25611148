"""``wardcast-agent`` (and ``python -m edge_agent``): ``run`` without the CLI framework.

``run`` as systemd starts it goes straight to ``edge_agent.service`` (typer and click
stay unloaded: 1.7 MiB of a Pi's memory); every other command and option goes to the
typer application in ``edge_agent.cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from edge_agent.service import plain_run, run_service


def main(argv: Sequence[str] | None = None) -> None:
    """The ``wardcast-agent`` console script."""
    args = sys.argv[1:] if argv is None else argv
    level = plain_run(args)
    if level is None:
        from edge_agent.cli import app

        app(args=list(args), prog_name="wardcast-agent")
        return
    sys.exit(run_service(level))


if __name__ == "__main__":
    main()
