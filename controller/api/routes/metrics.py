"""``GET /metrics``: Prometheus's scrape, for a bearer of the metrics token or an admin.

Two ways in, both ``Authorization: Bearer …``: the dedicated ``WARDCAST_METRICS_TOKEN``
(what a Prometheus server is given: it reads nothing else, and it does not expire
with a sign-in), or an administrator's API token through the same check as every
other route (``deps.current_credential``). Counts of devices by ward are not for
the public, and the page names every route, so it is never open.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from controller.api.deps import RuntimeDep, current_credential
from controller.domain.actors import Role
from controller.metrics.exporter import CONTENT_TYPE, MetricsExporter

_bearer = HTTPBearer(
    auto_error=False,
    # A scheme of its own: under the API's name its description would replace the API's
    # in the OpenAPI document (one name, one entry), and Swagger's Authorize would say
    # "metrics token" for every route.
    scheme_name="MetricsBearer",
    description="WARDCAST_METRICS_TOKEN, or an administrator's API token.",
)


def scrape_allowed(
    runtime: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Pass the metrics token (compared in constant time) or an administrator; else 401/403."""
    expected = runtime.settings.metrics_token
    given = bearer.credentials.strip() if bearer is not None else ""
    if (
        expected is not None
        and given
        and hmac.compare_digest(given.encode(), expected.get_secret_value().encode())
    ):
        return
    current_credential(runtime, bearer).actor.require(Role.ADMIN, "reading /metrics")


def metrics_router(exporter: MetricsExporter) -> APIRouter:
    """The scrape route over one controller's exporter."""
    router = APIRouter(tags=["system"])

    @router.get(
        "/metrics",
        dependencies=[Depends(scrape_allowed)],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text."}},
    )
    def metrics() -> Response:
        """Prometheus metrics, text exposition format (docs/operations.md)."""
        return Response(exporter.render(), media_type=CONTENT_TYPE)

    return router
