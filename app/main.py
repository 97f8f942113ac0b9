"""The application factory: ``uvicorn --factory app.main:create_app``."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__, jobs
from app.api import router as api_router
from app.config import Settings, get_settings, resolve_secret_key
from app.console import router as console
from app.db.engine import create_engine
from app.db.migrations import head_revision
from app.db.session import create_sessionmaker
from app.imports import router as imports_router
from app.kit.errors import install_error_handlers
from app.kit.logging import configure_logging
from app.kit.middleware import BodyLimitMiddleware, RequestContextMiddleware
from app.kit.openapi import build_openapi, operation_id
from app.kit.ratelimit import RateLimiter
from app.kit.runtime import Runtime
from app.ops.router import router as ops_router
from app.ops.shutdown import CancelledRequestMiddleware

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Points, rewards, vouchers and gift codes for merchants' loyalty programmes.

Every `/v1` call is authenticated with an API key: `Authorization: Bearer stk_…`. Keys carry
scopes (`pos`, `shop`, `partner`, `admin`); `admin` keys may call everything.
Errors are `application/problem+json` (RFC 9457) with a stable `code`.
Writes that move points or change a voucher or gift take an `Idempotency-Key` header:
a retry with the same key returns the first response and changes nothing.
"""

# One tag per feature, in the order a new integrator meets them.
TAGS = [
    {"name": "members", "description": "Enrol, look up, update, merge and erase members."},
    {"name": "earning", "description": "Quotes, purchases, receipt claims and returns."},
    {"name": "ledger", "description": "A member's balance and ledger transactions."},
    {"name": "spending", "description": "Paying with points, and goodwill adjustments."},
    {"name": "rewards", "description": "The rewards catalogue that vouchers are issued from."},
    {"name": "vouchers", "description": "Issue vouchers to members, or batches of campaign codes."},
    {
        "name": "voucher checkout",
        "description": "Validate, reserve, redeem, release and roll back a voucher at a till.",
    },
    {"name": "gifts", "description": "Points passed to a friend as a gift code."},
    {"name": "referrals", "description": "Who brought whom, and their bonuses."},
    {"name": "tiers", "description": "Tier ladder, members' tiers and manual (VIP) tiers."},
    {"name": "campaigns", "description": "Time-boxed earning rules: multipliers and bonuses."},
    {"name": "program", "description": "The programme's settings: currency, earning rate, expiry."},
    {"name": "imports", "description": "Bringing an existing customer file in."},
    {"name": "events", "description": "The feed of what happened, for polling integrations."},
    {"name": "webhooks", "description": "Signed event deliveries to the merchant's endpoints."},
    {"name": "analytics", "description": "Programme figures and A/B/C customer classes."},
    {"name": "api-keys", "description": "API keys for tills, shops, partner apps and admins."},
    {"name": "operations", "description": "Liveness, readiness and metrics, without a key."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    secret_key = resolve_secret_key(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.runtime = Runtime(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            secret_key=secret_key,
            rate_limiter=RateLimiter(),
            head_revision=head_revision(),
        )
        logger.info("stammkunde %s started", __version__, extra={"database": engine.dialect.name})
        jobs_task = None
        if settings.run_jobs:
            jobs_task = asyncio.create_task(
                jobs.run_forever(
                    app.state.runtime.sessionmaker,
                    settings.jobs_interval_seconds,
                    jobs.JobConfig(settings, secret_key),
                )
            )
        try:
            yield
        finally:
            if jobs_task is not None:
                jobs_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await jobs_task
            await engine.dispose()

    app = FastAPI(
        title="Stammkunde",
        version=__version__,
        summary="Loyalty engine: points, rewards, vouchers and gift codes over HTTP.",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        redoc_url=None,
    )
    install_error_handlers(app)
    # The body limit is ours, not FastAPI's max_body_size, so that a 413 is problem+json too;
    # added first so that it runs inside the request context (request id, access log).
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_size=settings.max_body_bytes,
        path_limits={imports_router.UPLOAD_PATH: imports_router.MAX_UPLOAD_BYTES},
    )
    app.add_middleware(CancelledRequestMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(ops_router)
    app.include_router(api_router)
    app.include_router(console.router)
    app.mount(console.STATIC_PATH, StaticFiles(directory=console.STATIC_DIRECTORY))
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app
