"""``wardcast-demo``: the controller with embedded defaults and simulated edge agents.

It lives outside both sides because it runs both: the controller never imports the
agent, and the agent never imports the controller; only this package sees the two.

wardcast-demo                # serve on http://127.0.0.1:8000 until Ctrl-C
wardcast-demo --smoke        # one broadcast to every agent, wait for each signed confirmation
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from controller.cli.options import LogLevelOption

app = typer.Typer(
    help="Trình diễn Wardcast: máy chủ và thiết bị mô phỏng trong một tiến trình — "
    "Wardcast demo: the controller and simulated edge agents in one process.",
    add_completion=False,
)


@app.command()
def demo(
    smoke: Annotated[
        bool, typer.Option(help="Broadcast one bulletin, wait for every confirmation, exit.")
    ] = False,
    agents: Annotated[int, typer.Option(min=1, max=1000, help="Simulated edge agents.")] = 3,
    port: Annotated[
        int | None,
        typer.Option(help="API port (default WARDCAST_HTTP_PORT, else 8000; smoke: a free one)."),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the demo keeps its state.")] = None,
    deadline_s: Annotated[float, typer.Option(help="Smoke: how long to wait.")] = 60.0,
    welcome: Annotated[
        bool,
        typer.Option(
            envvar="WARDCAST_DEMO_WELCOME",
            help="Broadcast a welcome bulletin a few seconds after start.",
        ),
    ] = True,
    log_level: LogLevelOption = "INFO",
) -> None:
    """Chạy máy chủ với thiết bị mô phỏng — start the controller and simulated agents.

    Ctrl-C stops it; --smoke broadcasts one bulletin, waits for every confirmation, exits.
    """
    from controller.logs import configure_logging
    from edge_agent.logs import ContextFilter
    from sim.demo import run_demo

    level = "WARNING" if smoke and log_level == "INFO" else log_level
    handler = configure_logging(level, os.environ.get("WARDCAST_LOG_FORMAT", "auto"))
    handler.addFilter(ContextFilter())  # the agents' message ids, through our handler
    code = run_demo(
        smoke=smoke,
        agents=agents,
        port=port,
        data_dir=data_dir,
        deadline_s=deadline_s,
        welcome=welcome,
    )
    raise typer.Exit(code)


if __name__ == "__main__":  # `python -m sim.cli`
    app()
