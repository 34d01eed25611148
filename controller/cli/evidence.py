"""``wardcast evidence``: check an evidence bundle offline; fetch or archive one from a controller.

``verify`` needs nothing but the file: no controller, no database, no network. It
prints what is valid, missing, reordered or tampered per device, one line per fault,
and ``verified: N valid, M faults``. Exit 0 all valid; 1 faults; 2 not a usable bundle
(unreadable, not JSON, truncated, another format, another ward).

``fetch`` and ``archive`` ask a running controller over HTTP, for a ``--period``
written as for ``wardcast report`` (``month:2026-11`` is November in the ward's zone)
or as exact instants ``FROM..TO``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer

from controller.cli.client import DEFAULT_URL, ControllerClient, fail, refusal
from controller.cli.options import ControllerUrlOption, PeriodOption, TokenOption
from controller.cli.periods import utc_bounds
from controller.domain.errors import InvalidInput
from controller.domain.evidence.bundles import verify as verifier
from controller.domain.evidence.bundles.format import write_atomic
from controller.progress import Waiting

app = typer.Typer(
    help="Hồ sơ bằng chứng phát thanh — evidence bundles: verify offline, fetch, archive.",
    no_args_is_help=True,
)

TIMEOUT_S = 600.0  # a ward-year bundle is tens of megabytes, built on demand
INSTANTS_NOTE = (
    "The period may also be exact instants, FROM..TO with a zone on each side "
    "(2026-11-01T00:00+07:00..2026-12-01T00:00+07:00, end excluded)."
)

WardOption = Annotated[str, typer.Option("--ward", help="Ward code, e.g. 26734.")]


@app.command()
def verify(
    bundle: Annotated[
        Path, typer.Argument(help="The bundle file (JSON).", dir_okay=False, show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ward: Annotated[
        str | None, typer.Option(help="Refuse a bundle of any other ward (exit 2).")
    ] = None,
    controller_key: Annotated[
        str | None,
        typer.Option(help="The controller's published public key (base64): who must have signed."),
    ] = None,
) -> None:
    """Kiểm tra gói bằng chứng ngoại tuyến — verify an evidence bundle offline. Exit 0/1/2.

    Signatures, chains, order, period and ward; on a terminal, a progress line on
    standard error (WARDCAST_PROGRESS=always|never to force it).
    """
    code = verifier.run(
        bundle,
        as_json=as_json,
        expected_ward=ward,
        controller_key=controller_key,
        out=sys.stdout,
        err=sys.stderr,
    )
    raise typer.Exit(code)


def _bounds(client: ControllerClient, ward: str, period: str) -> dict[str, str]:
    """The query's ward, from and to: a calendar period is read in the ward's zone."""

    def zone_of() -> str:
        response = client.send("GET", f"/api/v1/wards/{quote(ward, safe='')}")
        if response.status_code != 200:
            fail(refusal(response))
        try:
            return str(response.json()["timezone"])
        except (ValueError, KeyError, TypeError):
            fail(f"the controller at {client.base_url} did not say ward {ward}'s time zone")

    try:
        start, end = utc_bounds(period, zone_of)
    except InvalidInput as exc:
        fail(f"--period {exc.message}")
    return {"ward": ward, "from": start.isoformat(), "to": end.isoformat()}


@app.command(epilog=INSTANTS_NOTE)
def fetch(
    ward: WardOption,
    period: PeriodOption,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Ghi gói vào tệp này — where to write the bundle.",
            dir_okay=False,
        ),
    ],
    controller_url: ControllerUrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Tải gói bằng chứng của phường về rồi kiểm tra — download a ward's bundle, verify it."""
    with ControllerClient(controller_url, token, timeout_s=TIMEOUT_S) as client:
        query = _bounds(client, ward, period)
        with Waiting("tải gói bằng chứng · fetching the bundle"):
            response = client.send("GET", "/api/v1/evidence/bundle", params=query)
    if response.status_code != 200:
        fail(refusal(response))
    write_atomic(output, response.content)
    typer.echo(f"wrote {output} ({len(response.content)} bytes)", err=True)
    raise typer.Exit(verifier.run(output, expected_ward=ward, out=sys.stdout, err=sys.stderr))


@app.command(epilog=INSTANTS_NOTE)
def archive(
    ward: WardOption,
    period: PeriodOption,
    controller_url: ControllerUrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Lưu trữ bằng chứng một kỳ trên máy chủ — archive a ward's period on the controller.

    Administrators only: the controller writes a verified bundle to its own disk.
    """
    with ControllerClient(controller_url, token, timeout_s=TIMEOUT_S) as client:
        body = _bounds(client, ward, period)
        with Waiting("lưu trữ · archiving"):
            response = client.send("POST", "/api/v1/evidence/archives", json=body)
    if response.status_code != 201:
        fail(refusal(response), 1)
    typer.echo(json.dumps(response.json(), ensure_ascii=False, indent=1))
