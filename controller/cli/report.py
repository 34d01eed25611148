"""``wardcast report``: an evidence report from a running controller, over HTTP.

    wardcast report --ward 00037 --period month:2026-11
    wardcast report --ward 00037 --group to-3 --period week:2026-W47 --format pdf -o to3.pdf
    wardcast report --province 01 --period quarter:2026-Q4 --format xlsx -o q4.xlsx
    wardcast report --ward 00037 --period month:2026-11 --format csv -o bao-cao/
    wardcast report --ward 00037 --period month:2026-11 --format csv --table days
    wardcast report --ward 00037 --period day:2026-11-21 --missed

JSON goes to standard output unless ``--output`` names a file. A CSV file is one table:
``--table`` names it (to standard output or ``--output``); without ``--table`` every
table is written into the folder ``--output`` names, one CSV file each (or into one ZIP
when ``--output`` ends in ``.zip``). CSV is UTF-8 with BOM, ``;`` and a decimal comma
(``--sep comma``: ``,`` and a decimal point). XLSX and PDF need ``--output``.
``--lang en`` writes the texts in English. Exit codes: 0 done; 1 the controller refused
(unknown ward, a period that is not one — its reason is printed); 2 the controller or
the file could not be used.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import Annotated

import typer

from controller.cli.client import DEFAULT_URL, TIMEOUT_S, ControllerClient, fail, refusal
from controller.cli.options import ControllerUrlOption, OutputOption, PeriodOption, TokenOption
from controller.progress import Waiting

app = typer.Typer(
    help="Báo cáo cho thanh tra: kế hoạch so với thực phát — evidence reports: planned "
    "against played, targets judged; JSON, CSV, XLSX, PDF.",
    no_args_is_help=True,
)

# A province-year is summed on demand; give it longer than a programme's round trip.
REPORT_TIMEOUT_S = TIMEOUT_S * 8
FORMATS = ("json", "csv", "xlsx", "pdf")
TABLES = (
    "summary", "targets", "days", "sources", "categories", "coverage", "devices", "wards",
    "notes",
)  # fmt: skip


def _check(
    output_format: str, table: str | None, sep: str, lang: str, missed: bool, output: Path | None
) -> None:
    """Refuse, before asking anything, what cannot be answered or written."""
    if output_format not in FORMATS:
        fail(f"--format is json, csv, xlsx or pdf, not {output_format!r}")
    if table is not None and table not in TABLES:
        fail(f"--table is one of {', '.join(TABLES)}, not {table!r}")
    if table is not None and output_format != "csv":
        fail("--table names a CSV table: add --format csv")
    if sep not in ("semicolon", "comma"):
        fail(f"--sep is semicolon or comma, not {sep!r}")
    if lang not in ("vi", "en"):
        fail(f"--lang is vi or en, not {lang!r}")
    if missed and output_format not in ("json", "csv"):
        fail("missed plays come as json or csv")
    if output_format in ("pdf", "xlsx") and output is None:
        fail(f"a {output_format.upper()} needs a file: add --output report.{output_format}")
    if output_format == "csv" and table is None and not missed and output is None:
        fail("every table is a CSV file of its own: add --output FOLDER (or --table summary)")


@app.callback(invoke_without_command=True)
def report(
    period: PeriodOption,
    ward: Annotated[str | None, typer.Option(help="Ward code, e.g. 00037.")] = None,
    group: Annotated[str | None, typer.Option(help="Residential group code (with --ward).")] = None,
    device: Annotated[str | None, typer.Option(help="One device's id.")] = None,
    district: Annotated[str | None, typer.Option(help="District code: all its wards.")] = None,
    province: Annotated[str | None, typer.Option(help="Province code: all its wards.")] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json, csv (UTF-8 with BOM), xlsx or pdf.")
    ] = "json",
    table: Annotated[
        str | None,
        typer.Option(help=f"For csv: one table ({', '.join(TABLES)}); default: every table."),
    ] = None,
    sep: Annotated[
        str,
        typer.Option(help="For csv: semicolon (';', decimal comma) or comma (',', point)."),
    ] = "semicolon",
    lang: Annotated[str, typer.Option(help="Language of the report's texts: vi or en.")] = "vi",
    output: OutputOption = None,
    missed: Annotated[
        bool, typer.Option(help="List the missed plays instead (json or csv).")
    ] = False,
    controller_url: ControllerUrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Lấy báo cáo hoặc các lượt phát bị lỡ — fetch a report (or the missed plays)."""
    _check(output_format, table, sep, lang, missed, output)
    scope = {
        "ward": ward,
        "group": group,
        "device": device,
        "district": district,
        "province": province,
    }
    params = {key: value for key, value in scope.items() if value}
    every_table = output_format == "csv" and table is None and not missed
    params.update(period=period, format="zip" if every_table else output_format, lang=lang)
    if output_format == "csv":
        params["sep"] = sep
        if table is not None:
            params["table"] = table
    path = "/api/v1/evidence/missed" if missed else "/api/v1/reports"
    with (
        ControllerClient(controller_url, token, timeout_s=REPORT_TIMEOUT_S) as client,
        Waiting("lập báo cáo · building the report"),  # a province-year takes a while
    ):
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
    if every_table and output.suffix.lower() != ".zip":
        _unpack(content, output)
        return
    try:
        output.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    typer.echo(f"wrote {output} ({len(content):,} bytes)", err=True)


def _unpack(archive: bytes, folder: Path) -> None:
    """Write each CSV table of the controller's ZIP into ``folder`` (made if need be)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(archive)) as tables:
            for name in tables.namelist():
                target = folder / Path(name).name  # names are flat; never leave the folder
                target.write_bytes(tables.read(name))
                typer.echo(f"wrote {target}", err=True)
    except OSError as exc:
        fail(f"cannot write into {folder}: {exc.strerror or exc}")
    except zipfile.BadZipFile:
        fail("the controller's answer was not the ZIP of tables it should be")
