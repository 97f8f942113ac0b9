"""Operations endpoints, without authentication: liveness, readiness, metrics."""

import asyncio
import logging
import os
from typing import Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from pydantic import BaseModel
from sqlalchemy import text

from app.db.migrations import current_revision
from app.kit.errors import error_responses, problem_response
from app.kit.runtime import get_runtime

logger = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

READINESS_TIMEOUT_SECONDS = 5.0


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    revision: str | None


@router.get("/healthz", summary="Liveness: the process is up")
async def health_check() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the database answers and its schema is at the latest migration",
    responses=error_responses(extra={503: ["database_unreachable", "migrations_pending"]}),
    response_model=Readiness,
)
async def readiness_check(request: Request) -> Response | Readiness:
    runtime = get_runtime(request)
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            try:
                revision = await current_revision(conn)
            except Exception:
                revision = None
    except Exception as error:
        logger.warning("readiness: database unreachable: %s", type(error).__name__)
        return problem_response(
            503, "database_unreachable", "The database does not answer.", "Not ready"
        )
    if revision != runtime.head_revision:
        return problem_response(
            503,
            "migrations_pending",
            f"The database is at revision {revision}, the service needs "
            f"{runtime.head_revision}; run `stammkunde migrate`.",
            "Not ready",
        )
    return Readiness(status="ready", revision=revision)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
async def metrics() -> Response:
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """With several workers, PROMETHEUS_MULTIPROC_DIR makes every worker report all of them."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
