"""``wardcast schedules``: ward programmes as YAML files — validate, apply, export.

Exit codes: 0 done (or valid); 1 the programme has problems or conflicts (each
printed as ``FILE:LINE: path: message``); 2 the file or the controller could not be
used (unreadable file, not UTF-8, controller unreachable or refusing the token).

The controller checks by path; the lines come from the file, so a conflict the
controller finds is still shown at its line.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import quote
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError

from controller.cli.client import AUTH_HINT, DEFAULT_URL, ControllerClient, Reply, fail
from controller.cli.options import (
    ControllerUrlOption,
    OptionalControllerUrlOption,
    OutputOption,
    TokenOption,
)
from controller.domain.programmes.conflict import Conflict
from controller.domain.programmes.conflicts import check
from controller.domain.programmes.problems import (
    Problem,
    ProgrammeInvalid,
    SourceMap,
    format_path,
)
from controller.domain.programmes.recurrence import RecurrenceError, occurrences
from controller.domain.programmes.schema import ProgrammeDoc, json_schema_text
from controller.domain.programmes.yaml_io import dump_programme, load_with_lines

app = typer.Typer(
    help="Chương trình phát thanh dạng YAML — ward programmes as YAML: validate, apply, export.",
    no_args_is_help=True,
)


# Tests replace this with a fixed "now".
def _now() -> datetime:
    return datetime.now(UTC)


FileArg = Annotated[
    Path, typer.Argument(help="The programme's YAML file.", dir_okay=False, show_default=False)
]


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{path} is not UTF-8 text (bad byte at offset {exc.start}): save it as UTF-8")


def _load(path: Path) -> tuple[ProgrammeDoc, SourceMap]:
    """The file's programme, or every problem printed and exit 1."""
    try:
        return load_with_lines(_read(path), source=str(path))
    except ProgrammeInvalid as exc:
        _report(path, exc.problems)


def _report(path: Path, problems: Sequence[Problem]) -> NoReturn:
    for problem in problems:
        typer.echo(problem.render(str(path)))
    count = len(problems)
    typer.echo(f"{path}: {count} problem{'s' if count != 1 else ''}", err=True)
    raise typer.Exit(1)


def _as_conflicts(raw: Any) -> list[Conflict]:
    """The controller's conflict dicts, tolerating missing keys."""
    found: list[Conflict] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            found.append(
                Conflict(
                    code=str(item.get("code", "conflict")),
                    message=str(item.get("message", item)),
                    path=str(item.get("path") or ""),
                )
            )
    return found


def _located(conflicts: Iterable[Conflict], lines: SourceMap) -> list[Problem]:
    return [
        Problem(c.path, lines.line_of(c.path) if c.path else None, f"{c.message} [{c.code}]")
        for c in conflicts
    ]


def _schema_errors(reply: Reply, lines: SourceMap) -> list[Problem]:
    """FastAPI's 422 body (pydantic errors with ``loc``), located in the file."""
    detail = reply.body.get("detail")
    problems: list[Problem] = []
    for error in detail if isinstance(detail, list) else []:
        if not isinstance(error, dict):
            continue
        loc = [part for part in error.get("loc", []) if isinstance(part, str | int)]
        while loc and loc[0] in ("body", "document"):
            loc = loc[1:]
        kept, line = lines.resolve(loc)
        problems.append(Problem(format_path(kept), line, str(error.get("msg", error))))
    return problems


def _refusal(reply: Reply, lines: SourceMap) -> list[Problem]:
    """Why the controller answered 422: its conflicts, or schema errors, or its detail."""
    return (
        _located(_as_conflicts(reply.body.get("conflicts")), lines)
        or _schema_errors(reply, lines)
        or [Problem("", None, f"the controller refused the programme: {reply.detail}")]
    )


def _programme(ward: str, suffix: str = "") -> str:
    """``/api/v1/wards/{ward}/programme`` (GET, PUT) or ``…/programme/check`` (POST)."""
    return f"/api/v1/wards/{quote(ward, safe='')}/programme{suffix}"


def _payload(doc: ProgrammeDoc) -> dict[str, Any]:
    return {"document": doc.model_dump(mode="json")}


def _unexpected(reply: Reply, path: Path, doc: ProgrammeDoc, lines: SourceMap) -> NoReturn:
    """Statuses every command treats alike."""
    if reply.status == 404:
        message = reply.detail or "not found"
        _report(path, [Problem("ward", lines.line_of("ward"), f"ward {doc.ward}: {message}")])
    if reply.status in (401, 403):
        fail(f"the controller refused ({reply.status}: {reply.detail or 'no detail'}); {AUTH_HINT}")
    fail(f"the controller answered {reply.status}: {reply.detail or reply.body}")


def _print_diff(lines: Any) -> None:
    changes = [str(line) for line in lines] if isinstance(lines, list) else []
    for line in changes:
        typer.echo(line)
    if not changes:
        typer.echo("no changes")


def _next_air(doc: ProgrammeDoc, now: datetime) -> datetime | None:
    soonest: datetime | None = None
    for session in doc.sessions:
        try:
            times = occurrences(
                session, doc.timezone, now, now + timedelta(days=366), doc.rules.broadcast_days
            )
        except RecurrenceError:
            continue
        if times and (soonest is None or times[0] < soonest):
            soonest = times[0]
    return soonest


@app.command()
def validate(
    file: FileArg,
    controller_url: OptionalControllerUrlOption = None,
    token: TokenOption = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Check the file alone, even if WARDCAST_CONTROLLER_URL is set."
        ),
    ] = False,
) -> None:
    """Kiểm tra tệp chương trình — check a programme file; every problem with its line."""
    doc, lines = _load(file)
    if controller_url and not offline:
        with ControllerClient(controller_url, token) as client:
            reply = client.call("POST", _programme(doc.ward, "/check"), _payload(doc))
        if reply.status == 422:
            _report(file, _refusal(reply, lines))
        if reply.status != 200:
            _unexpected(reply, file, doc, lines)
        conflicts = _as_conflicts(reply.body.get("conflicts"))
    else:
        conflicts = check(doc, zones=None, content=None, now=_now())
    if conflicts:
        _report(file, _located(conflicts, lines))
    count = len(doc.sessions)
    summary = f"{file}: valid — ward {doc.ward}, {count} session{'s' if count != 1 else ''}"
    soonest = _next_air(doc, _now())
    if soonest is not None:
        local = soonest.astimezone(ZoneInfo(doc.timezone))
        summary += f", next on air {local:%Y-%m-%d %H:%M} ({doc.timezone})"
    typer.echo(summary)


@app.command()
def apply(
    file: FileArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the changes and conflicts; store nothing.")
    ] = False,
    controller_url: ControllerUrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Áp dụng chương trình cho phường — replace the ward's programme, all or nothing."""
    doc, lines = _load(file)
    with ControllerClient(controller_url, token) as client:
        if dry_run:
            reply = client.call("POST", _programme(doc.ward, "/check"), _payload(doc))
        else:
            reply = client.call("PUT", _programme(doc.ward), _payload(doc))
    if reply.status == 422:
        _report(file, _refusal(reply, lines))
    if reply.status != 200:
        _unexpected(reply, file, doc, lines)
    _print_diff(reply.body.get("diff"))
    if dry_run:
        conflicts = _as_conflicts(reply.body.get("conflicts"))
        if conflicts:
            _report(file, _located(conflicts, lines))
        typer.echo(f"{file}: dry run, nothing applied", err=True)
        return
    typer.echo(f"applied: ward {doc.ward} programme is now version {reply.body.get('version')}")


@app.command()
def export(
    ward: Annotated[str, typer.Argument(help="The ward's code, e.g. 00037.", show_default=False)],
    controller_url: ControllerUrlOption = DEFAULT_URL,
    token: TokenOption = None,
    output: OutputOption = None,
) -> None:
    """Xuất chương trình hiện hành ra YAML — write the ward's current programme as YAML."""
    with ControllerClient(controller_url, token) as client:
        reply = client.call("GET", _programme(ward))
    if reply.status == 404:
        fail(f"ward {ward}: {reply.detail or 'no programme on the controller'}", 1)
    if reply.status in (401, 403):
        fail(f"the controller refused ({reply.status}); {AUTH_HINT}")
    if reply.status != 200:
        fail(f"the controller answered {reply.status}: {reply.detail or reply.body}")
    try:
        doc = ProgrammeDoc.model_validate(reply.body.get("document"))
    except ValidationError as exc:
        fail(f"the controller's programme does not fit this version's schema: {exc}")
    text = dump_programme(doc)
    if output is None:
        typer.echo(text, nl=False)
        return
    _write_atomically(output, text)
    typer.echo(f"wrote {output} (version {reply.body.get('version')})", err=True)


@app.command("schema")
def schema_command(output: OutputOption = None) -> None:
    """In lược đồ JSON của chương trình — print the programme's JSON Schema."""
    text = json_schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        _write_atomically(output, text)


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror or exc}")
