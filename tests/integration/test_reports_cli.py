"""``wardcast report`` against a real controller over HTTP (the ward of test_reports_support)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from controller.api.app import create_app
from controller.api.routes import reports as reports_routes
from controller.api.server import BackgroundServer
from controller.cli.evidence import app as evidence_app
from controller.cli.report import TABLES
from controller.cli.report import app as report_app
from controller.composition import ControllerRuntime
from controller.domain.evidence.bundles.format import iso_utc
from controller.domain.reports.periods import parse_period
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from tests.integration.test_reports_support import NOW, PERIOD, seed
from tests.support.auth import auth_headers
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("c"), environment="test", http_port=port,
        gtts_enabled=False,
    )  # fmt: skip
    runtime = ControllerRuntime(
        settings,
        clock=FakeClock(NOW),
        transport=FakeBroker().link("controller"),
        run_maintenance=False,
        prepare_chime=False,
    )
    runtime.start()
    seed(runtime)
    app = create_app(runtime=runtime)
    if not any(getattr(r, "path", "") == "/api/v1/reports" for r in app.routes):
        app.include_router(reports_routes.router)  # until app.py mounts it
    server = BackgroundServer(app, "127.0.0.1", port).start()
    # The commands read their token from WARDCAST_TOKEN: an inspector's, for every ward.
    token = auth_headers(runtime, "evaluator", all_wards=True)["Authorization"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WARDCAST_TOKEN", token.removeprefix("Bearer "))
        yield server.base_url
    server.stop()
    runtime.stop()


def run(url: str, *args: str) -> Result:
    return runner.invoke(report_app, [*args, "--controller-url", url])


def test_json_to_stdout(controller: str) -> None:
    result = run(controller, "--ward", "00037", "--period", PERIOD)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["plays"]["missed"], report["scope"]["name"]) == (4, "Phúc Xá")


def test_csv_and_pdf_to_files(controller: str, tmp_path: Path) -> None:
    csv_file, pdf_file = tmp_path / "bao-cao.csv", tmp_path / "bao-cao.pdf"
    result = run(
        controller, "--ward", "00037", "--group", "to-2", "--period", PERIOD,
        "--format", "csv", "--table", "summary", "--output", str(csv_file),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "Tổ 2" in csv_file.read_text(encoding="utf-8-sig")
    pytest.importorskip("fpdf")
    result = run(
        controller, "--device", "d2", "--period", PERIOD, "--format", "pdf", "-o", str(pdf_file)
    )
    assert result.exit_code == 0, result.output
    assert pdf_file.read_bytes().startswith(b"%PDF")
    assert f"wrote {pdf_file}" in result.stderr


def test_every_table_into_a_folder_and_a_workbook(controller: str, tmp_path: Path) -> None:
    folder = tmp_path / "bao-cao"
    result = run(
        controller, "--ward", "00037", "--period", PERIOD, "--format", "csv", "-o", str(folder)
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name.rsplit("-", 1)[1] for p in folder.iterdir())
    assert names == sorted(f"{t}.csv" for t in TABLES if t != "wards")
    days = (folder / "wardcast-report-00037-2026-11-18..2026-11-20-days.csv").read_bytes()
    assert days.startswith(b"\xef\xbb\xbf") and b";" in days
    pytest.importorskip("openpyxl")
    book = tmp_path / "bao-cao.xlsx"
    result = run(
        controller, "--ward", "00037", "--period", PERIOD, "--format", "xlsx", "--lang", "en",
        "-o", str(book),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert book.read_bytes().startswith(b"PK")


def test_missed_as_csv(controller: str) -> None:
    args = ("--ward", "00037", "--period", PERIOD, "--missed", "--format", "csv")
    result = run(controller, *args, "--sep", "comma")
    assert result.exit_code == 0, result.output
    lines = result.stdout.lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 1 + 4  # header, four missed plays: one table
    assert all(line.startswith("d2,") for line in lines[1:])
    semicolons = run(controller, *args).stdout.lstrip("\ufeff").splitlines()
    assert semicolons[1].startswith("d2;to-2;19/11/2026 05:30;")  # the default: ';', vi dates


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--ward", "99999", "--period", PERIOD], 1, "no ward '99999'"),
        (["--ward", "00037", "--period", "2026-11-20..2026-11-01"], 1, "ends before it starts"),
        (["--ward", "00037", "--period", PERIOD, "--format", "pdf"], 2, "needs a file"),
        (["--ward", "00037", "--period", PERIOD, "--format", "xls"], 2, "json, csv, xlsx or pdf"),
        (["--ward", "00037", "--period", PERIOD, "--format", "csv"], 2, "add --output FOLDER"),
        (["--ward", "00037", "--period", PERIOD, "--sep", "tab"], 2, "semicolon or comma"),
    ],
)
def test_refusals_exit_non_zero_with_the_reason(
    controller: str, args: list[str], code: int, says: str
) -> None:
    result = run(controller, *args)
    assert result.exit_code == code, result.output
    assert says in result.stderr


def test_controller_down_is_exit_2() -> None:
    result = run(f"http://127.0.0.1:{free_port()}", "--ward", "00037", "--period", PERIOD)
    assert result.exit_code == 2
    assert "cannot reach the controller" in result.stderr


def test_evidence_reads_the_same_period_as_the_report(controller: str, tmp_path: Path) -> None:
    """One ``--period`` string: the report's days are the bundle's [from, to)."""
    report = json.loads(run(controller, "--ward", "00037", "--period", PERIOD).stdout)["period"]
    bundle_file = tmp_path / "bundle.json"
    args = ["fetch", "--ward", "00037", "--period", PERIOD, "-o", str(bundle_file)]
    fetched = runner.invoke(evidence_app, [*args, "--controller-url", controller])
    assert f"wrote {bundle_file}" in fetched.stderr, fetched.output
    bundle = json.loads(bundle_file.read_bytes())["period"]
    start, end = parse_period(PERIOD).utc_bounds(report["timezone"])
    assert (report["first"], report["last"]) == ("2026-11-18", "2026-11-20")
    assert (bundle["from"], bundle["to"]) == (iso_utc(start), iso_utc(end))
    assert bundle["label"] == "2026-11-18_2026-11-20"
