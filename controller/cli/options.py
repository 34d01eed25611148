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
        help="Địa chỉ máy chủ điều khiển — the controller's base URL.",
    ),
]
# ``schedules validate`` checks offline unless it is told where a controller is.
OptionalControllerUrlOption = Annotated[
    str | None,
    typer.Option(
        "--controller-url",
        envvar=URL_ENV,
        help="Đối chiếu với máy chủ này (không lưu gì) — also check zones and bulletins "
        "against this controller (nothing is stored).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_ENV,
        help="Mã truy cập API — API token, sent as 'Authorization: Bearer …'.",
        show_default=False,
    ),
]
PERIOD_HELP = (
    f"Kỳ, theo ngày giờ địa phương của phường, gồm cả hai đầu — the period, local dates in "
    f"the ward's time zone, both ends included: {EXAMPLES}."
)
PeriodOption = Annotated[str, typer.Option("--period", help=PERIOD_HELP, show_default=False)]
LogLevelOption = Annotated[
    str,
    typer.Option("--log-level", help="Mức ghi nhật ký — log level: DEBUG, INFO, WARNING, ERROR."),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Ghi ra tệp này thay vì đầu ra chuẩn — write to this file instead of standard output.",
        dir_okay=False,
    ),
]
