"""``wardcast evidence``: check an evidence bundle offline; fetch or archive one from a controller.

``verify`` needs nothing but the file: no controller, no database, no network. It
prints what is valid, missing, reordered or tampered per device, one line per fault,
and ``verified: N valid, M faults``. Exit 0 all valid; 1 faults; 2 not a usable bundle
(unreadable, not JSON, truncated, another format, another ward).

``fetch`` and ``archive`` ask a running controller over HTTP.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import quote

import typer

from controller.domain.evidence.bundles import verify as verifier

app = typer.Typer(
    help="Evidence bundles (hồ sơ bằng chứng phát thanh): verify offline, fetch, archive.",
    no_args_is_help=True,
)

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 600.0  # a ward-year bundle is tens of megabytes, built on demand

# Tests replace this with a fake controller's transport (an httpx.BaseTransport).
http_transport: Any = None

UrlOption = Annotated[
    str,
    typer.Option(
        "--controller-url", envvar="WARDCAST_CONTROLLER_URL", help="The controller's base URL."
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="WARDCAST_API_TOKEN", help="API token (sent as a Bearer token)."
    ),
]
WardOption = Annotated[str, typer.Option("--ward", help="Ward code, e.g. 26734.")]
FromOption = Annotated[str, typer.Option("--from", help="Start, ISO 8601 with a zone.")]
ToOption = Annotated[str, typer.Option("--to", help="End (excluded), ISO 8601 with a zone.")]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


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
    """Verify a bundle offline: signatures, chains, order, period, ward. Exit 0/1/2."""
    code = verifier.run(
        bundle,
        as_json=as_json,
        expected_ward=ward,
        controller_key=controller_key,
        out=sys.stdout,
        err=sys.stderr,
    )
    raise typer.Exit(code)


def _client(url: str, token: str | None) -> Any:
    import httpx  # only the HTTP commands need it; verify stays light

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url=url.rstrip("/"), headers=headers, timeout=TIMEOUT_S, transport=http_transport
    )


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return str(response.text[:300])


@app.command()
def fetch(
    ward: WardOption,
    start: FromOption,
    end: ToOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the bundle.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Download a ward's bundle for a period from a controller, then verify it."""
    import httpx

    from controller.domain.evidence.bundles.format import write_atomic

    query = f"ward={quote(ward)}&from={quote(start)}&to={quote(end)}"
    try:
        with _client(url, token) as client:
            response = client.get(f"/api/v1/evidence/bundle?{query}")
    except httpx.HTTPError as exc:
        _fail(f"cannot reach the controller at {url}: {exc}")
    if response.status_code != 200:
        _fail(f"the controller refused ({response.status_code}): {_detail(response)}")
    write_atomic(out, response.content)
    typer.echo(f"wrote {out} ({len(response.content)} bytes)", err=True)
    raise typer.Exit(verifier.run(out, expected_ward=ward, out=sys.stdout, err=sys.stderr))


@app.command()
def archive(
    ward: WardOption,
    start: FromOption,
    end: ToOption,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Ask the controller to archive a ward's period (admin): a verified bundle on its disk."""
    import httpx

    try:
        with _client(url, token) as client:
            response = client.post(
                "/api/v1/evidence/archives", json={"ward": ward, "from": start, "to": end}
            )
    except httpx.HTTPError as exc:
        _fail(f"cannot reach the controller at {url}: {exc}")
    if response.status_code != 201:
        _fail(f"the controller refused ({response.status_code}): {_detail(response)}", 1)
    typer.echo(json.dumps(response.json(), ensure_ascii=False, indent=1))
