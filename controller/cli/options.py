"""The options every ``wardcast`` command spells the same way, defined once.

``--controller-url`` (``WARDCAST_CONTROLLER_URL``) and ``--token`` (``WARDCAST_TOKEN``)
on every command that talks to a controller; ``--period`` in the grammar of
:func:`controller.domain.reports.periods.parse_period` wherever a command covers a
span of time; ``--output``/``-o`` wherever a command writes a file. The edge agent
(``wardcast-agent``) spells its own copies the same way, since it imports nothing here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from controller.domain.reports.periods import EXAMPLES

URL_ENV = "WARDCAST_CONTROLLER_URL"
TOKEN_ENV = "WARDCAST_TOKEN"  # noqa: S105 - the variable's name, not a secret

ControllerUrlOption = Annotated[
    str,
    typer.Option(
        "--controller-url",
        envvar=URL_ENV,
        help="The controller's base URL (địa chỉ máy chủ điều khiển).",
    ),
]
# ``schedules validate`` checks offline unless it is told where a controller is.
OptionalControllerUrlOption = Annotated[
    str | None,
    typer.Option(
        "--controller-url",
        envvar=URL_ENV,
        help="Also check zones and bulletins against this controller (nothing is stored).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_ENV,
        help="API token, sent as 'Authorization: Bearer …'.",
        show_default=False,
    ),
]
PERIOD_HELP = f"{EXAMPLES} (local dates in the ward's time zone, both included)."
PeriodOption = Annotated[str, typer.Option("--period", help=PERIOD_HELP, show_default=False)]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to this file instead of standard output.", dir_okay=False
    ),
]
