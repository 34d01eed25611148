"""``wardcast report``: an evidence report from a running controller, over HTTP.

    wardcast report --ward 00037 --period month:2026-11
    wardcast report --ward 00037 --group to-3 --period week:2026-W47 --format pdf -o to3.pdf
    wardcast report --province 01 --period quarter:2026-Q4 --format csv -o q4.csv
    wardcast report --ward 00037 --period day:2026-11-21 --missed

JSON and CSV go to standard output unless ``--output`` names a file; a PDF needs
``--output``. Exit codes: 0 done; 1 the controller refused (unknown ward, a period
that is not one — its reason is printed); 2 the controller or the file could not be
used.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from controller.cli.client import DEFAULT_URL, TIMEOUT_S, ControllerClient, fail, refusal
from controller.cli.options import ControllerUrlOption, OutputOption, PeriodOption, TokenOption

app = typer.Typer(
    help="Evidence reports (báo cáo): planned against played, targets judged; JSON, CSV, PDF.",
    no_args_is_help=True,
)

# A province-year is summed on demand; give it longer than a programme's round trip.
REPORT_TIMEOUT_S = TIMEOUT_S * 8


@app.callback(invoke_without_command=True)
def report(
    period: PeriodOption,
    ward: Annotated[str | None, typer.Option(help="Ward code, e.g. 00037.")] = None,
    group: Annotated[str | None, typer.Option(help="Residential group code (with --ward).")] = None,
    device: Annotated[str | None, typer.Option(help="One device's id.")] = None,
    district: Annotated[str | None, typer.Option(help="District code: all its wards.")] = None,
    province: Annotated[str | None, typer.Option(help="Province code: all its wards.")] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json, csv (UTF-8 with BOM) or pdf.")
    ] = "json",
    output: OutputOption = None,
    missed: Annotated[
        bool, typer.Option(help="List the missed plays instead (json or csv).")
    ] = False,
    controller_url: ControllerUrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Fetch a report (or the missed plays) for one scope and period."""
    if output_format not in ("json", "csv", "pdf"):
        fail(f"--format is json, csv or pdf, not {output_format!r}")
    if missed and output_format == "pdf":
        fail("missed plays come as json or csv")
    if output_format == "pdf" and output is None:
        fail("a PDF needs a file: add --output report.pdf")
    scope = {
        "ward": ward,
        "group": group,
        "device": device,
        "district": district,
        "province": province,
    }
    params = {key: value for key, value in scope.items() if value}
    params.update(period=period, format=output_format)
    path = "/api/v1/evidence/missed" if missed else "/api/v1/reports"
    with ControllerClient(controller_url, token, timeout_s=REPORT_TIMEOUT_S) as client:
        response = client.send("GET", path, params=params)
    if response.status_code != 200:
        # 1: the question was refused (unknown ward, not a period); 2: the controller was.
        code = 2 if response.status_code in (401, 403) or response.status_code >= 500 else 1
        fail(refusal(response), code)
    content = response.content
    if output is None:
        sys.stdout.buffer.write(content if output_format != "json" else content + b"\n")
        sys.stdout.flush()
        return
    try:
        output.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    typer.echo(f"wrote {output} ({len(content):,} bytes)", err=True)
