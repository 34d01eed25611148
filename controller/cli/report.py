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
from pathlib import Path
from typing import Annotated, NoReturn

import httpx
import typer

from controller.cli.client import DEFAULT_URL, TIMEOUT_S

app = typer.Typer(
    help="Evidence reports (báo cáo): planned against played, targets judged; JSON, CSV, PDF.",
    no_args_is_help=True,
)

# Tests replace this with a transport to an app in the same process.
http_transport: httpx.BaseTransport | None = None


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI's validation errors
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}"
            for e in detail
            if isinstance(e, dict)
        )
    return str(detail)


def fetch(
    base_url: str,
    path: str,
    params: dict[str, str],
    token: str | None = None,
    timeout_s: float = TIMEOUT_S * 8,
) -> httpx.Response:
    """GET ``path`` from the controller; transport failures become a clean exit 2."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout_s,
            transport=http_transport,
        ) as client:
            return client.get(path, params=params)
    except httpx.TimeoutException:
        _fail(f"the controller at {base_url} did not answer in time")
    except httpx.HTTPError as exc:
        _fail(f"cannot reach the controller at {base_url}: {exc}")


@app.callback(invoke_without_command=True)
def report(
    period: Annotated[
        str,
        typer.Option(
            help="day:2026-11-22, week:2026-W47, month:2026-11, quarter:2026-Q4, year:2026 "
            "or 2026-11-01..2026-11-30 (local dates, both included)."
        ),
    ],
    ward: Annotated[str | None, typer.Option(help="Ward code, e.g. 00037.")] = None,
    group: Annotated[str | None, typer.Option(help="Residential group code (with --ward).")] = None,
    device: Annotated[str | None, typer.Option(help="One device's id.")] = None,
    district: Annotated[str | None, typer.Option(help="District code: all its wards.")] = None,
    province: Annotated[str | None, typer.Option(help="Province code: all its wards.")] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json, csv (UTF-8 with BOM) or pdf.")
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.", dir_okay=False)
    ] = None,
    missed: Annotated[
        bool, typer.Option(help="List the missed plays instead (json or csv).")
    ] = False,
    controller_url: Annotated[
        str,
        typer.Option(
            "--controller-url", envvar="WARDCAST_CONTROLLER_URL", help="The controller's URL."
        ),
    ] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option(envvar="WARDCAST_API_TOKEN", help="API token (sent as a Bearer token)."),
    ] = None,
) -> None:
    """Fetch a report (or the missed plays) for one scope and period."""
    if output_format not in ("json", "csv", "pdf"):
        _fail(f"--format is json, csv or pdf, not {output_format!r}")
    if missed and output_format == "pdf":
        _fail("missed plays come as json or csv")
    if output_format == "pdf" and output is None:
        _fail("a PDF needs a file: add --output report.pdf")
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
    response = fetch(controller_url, path, params, token)
    if response.status_code != 200:
        code = 2 if response.status_code in (401, 403) or response.status_code >= 500 else 1
        _fail(f"the controller refused ({response.status_code}): {_detail(response)}", code)
    content = response.content
    if output is None:
        sys.stdout.buffer.write(content if output_format != "json" else content + b"\n")
        sys.stdout.flush()
        return
    try:
        output.write_bytes(content)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    typer.echo(f"wrote {output} ({len(content):,} bytes)", err=True)
