"""The ``stammkunde`` command: serve, migrate, manage API keys, export the OpenAPI document."""

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs
from app.analytics import report as analytics_report
from app.analytics import service as analytics_service
from app.analytics.errors import PeriodInvalid
from app.api_keys import repository as api_key_repository
from app.api_keys import service as api_key_service
from app.api_keys.errors import ApiKeyNotFound
from app.api_keys.models import Scope
from app.config import Settings, get_settings, resolve_secret_key
from app.config_reference import write_readme
from app.db import migrations
from app.db.engine import create_engine
from app.db.session import create_sessionmaker
from app.exports.cli import export_cli
from app.imports.cli import import_cli
from app.kit.pagination import MAX_LIMIT, PageParams
from app.ledger import verify as ledger_verify
from app.program import service as program_service
from app.program.schemas import ProgramUpdate

cli = typer.Typer(help="Stammkunde loyalty service.", no_args_is_help=True)
apikey_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
cli.add_typer(apikey_cli, name="apikey")
cli.add_typer(import_cli, name="import")
cli.add_typer(export_cli, name="export")

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")

T = TypeVar("T")


def _with_session(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction against the configured database."""
    settings = get_settings()

    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                result = await work(session, settings)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database schema to the latest (or the given) migration."""
    migrations.upgrade(get_settings().database_url, revision)
    typer.echo(
        f"database at {migrations.head_revision() if revision == 'head' else revision}", err=True
    )


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Run migrations before serving.")
    ] = True,
    demo: Annotated[
        bool,
        typer.Option(
            help="First start of a local trial: set up the demo programme and print a new "
            "admin key (only while no API key exists)."
        ),
    ] = False,
) -> None:
    """Serve the HTTP API with uvicorn."""
    settings = get_settings()
    resolve_secret_key(settings)  # fail early, and create the embedded secret before forking
    if migrate_first:
        migrations.upgrade(settings.database_url)
    if demo:
        _seed_demo_on_first_start(f"http://{host or settings.host}:{port or settings.port}")
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


def _stopped(_signum: int, _frame: FrameType | None) -> None:
    """uvicorn drains on SIGTERM and then raises the signal again for the handler it found:
    a stop that was asked for and carried out is a clean exit, not death by a signal (143)."""
    raise SystemExit(0)


DEMO_PROGRAM = ProgramUpdate(
    currency="EUR",
    points_per_currency_unit=Decimal(1),
    pending_days=0,
    points_expiry_months=24,
    point_value_minor=1,
    receipt_claim_days=30,
)


def _seed_demo_on_first_start(base_url: str) -> None:
    async def seed(session: AsyncSession, settings: Settings) -> str | None:
        if await api_key_repository.any_exist(session):
            return None
        await program_service.update_program(session, DEMO_PROGRAM)
        _, key = await api_key_service.create_api_key(
            session, resolve_secret_key(settings), "demo admin", [Scope.admin]
        )
        return key

    key = _with_session(seed)
    if key is not None:
        typer.echo(
            "\n  First start: demo programme set up (EUR, 1 point per 1.00, 1 point = 0.01 EUR)."
            "\n  An admin API key was created. It is shown only this once:\n\n"
            f"    {key}\n\n"
            f"  export STAMMKUNDE_KEY={key}\n"
            f'  curl -H "Authorization: Bearer $STAMMKUNDE_KEY" {base_url}/v1/program\n'
            f"\n  Admin console: {base_url}/admin (log in with the key above)\n",
            err=True,
        )


@cli.command("seed-demo")
def seed_demo() -> None:
    """Set the programme to the demo settings (EUR, 1 point per 1.00, 24 months' validity)."""

    async def seed(session: AsyncSession, _settings: Settings) -> None:
        await program_service.update_program(session, DEMO_PROGRAM)

    _with_session(seed)
    typer.echo("demo programme set up", err=True)


@apikey_cli.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who uses the key, e.g. 'Till 3'.")],
    scope: Annotated[list[Scope], typer.Option(help="Scope; repeat for several.")],
) -> None:
    """Create an API key and print it alone on stdout (it is not shown again)."""

    async def create(session: AsyncSession, settings: Settings) -> str:
        _, key = await api_key_service.create_api_key(
            session, resolve_secret_key(settings), name, scope
        )
        return key

    typer.echo(_with_session(create))


@apikey_cli.command("list")
def apikey_list() -> None:
    """List API keys, newest first (key ids only; secrets are not stored)."""

    async def fetch(session: AsyncSession, _settings: Settings) -> list[str]:
        lines: list[str] = []
        params = PageParams(limit=MAX_LIMIT)
        while True:
            keys, cursor = await api_key_service.list_api_keys(session, params)
            for key in keys:
                status = "revoked" if key.revoked_at else "active"
                lines.append(
                    f"{key.key_id}\t{','.join(key.scopes)}\t{status}\t{key.name}\t{key.id}"
                )
            if cursor is None:
                return lines
            params = PageParams(limit=MAX_LIMIT, cursor=cursor)

    for line in _with_session(fetch):
        typer.echo(line)


@apikey_cli.command("revoke")
def apikey_revoke(reference: Annotated[str, typer.Argument(help="Key id or id.")]) -> None:
    """Revoke an API key at once."""

    async def revoke(session: AsyncSession, _settings: Settings) -> str:
        api_key = await api_key_service.revoke_api_key(session, reference)
        return api_key.key_id

    try:
        key_id = _with_session(revoke)
    except ApiKeyNotFound as error:
        # A mistyped key id is an operator's slip, not a crash: no traceback.
        typer.echo(error.detail, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {key_id}", err=True)


jobs_cli = typer.Typer(help="Background jobs (pending points, expiry, clean-up).")
cli.add_typer(jobs_cli, name="jobs")


@jobs_cli.command("run")
def jobs_run(
    once: Annotated[bool, typer.Option(help="Run every job once and exit.")] = False,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds between runs [default: STAMMKUNDE_JOBS_INTERVAL_SECONDS]."),
    ] = None,
) -> None:
    """Run the jobs; safe next to other runners and to the served process's own jobs."""
    settings = get_settings()

    async def run() -> dict[str, int] | None:
        engine = create_engine(settings)
        try:
            sessionmaker = create_sessionmaker(engine)
            config = jobs.JobConfig(settings, resolve_secret_key(settings))
            if once:
                return await jobs.run_once(sessionmaker, config=config)
            await jobs.run_forever(sessionmaker, interval or settings.jobs_interval_seconds, config)
            return None
        finally:
            await engine.dispose()

    handled = asyncio.run(run())
    for name, count in (handled or {}).items():
        typer.echo(f"{name}\t{count}")


@cli.command()
def verify() -> None:
    """Recompute the ledger; exit 1 naming the first mismatch."""

    async def check(session: AsyncSession, _settings: Settings) -> str | None:
        return await ledger_verify.first_mismatch(session)

    problem = _with_session(check)
    if problem is not None:
        typer.echo(f"ledger mismatch: {problem}", err=True)
        raise typer.Exit(code=1)
    typer.echo("ledger verified: every transaction balances, balances, chains and lots agree")


@cli.command()
def report(
    from_: Annotated[
        datetime,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day (inclusive), local date."),
    ],
    to: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Day the period ends at (exclusive).")
    ],
) -> None:
    """Print the figures of a period and its ABC classes as a table (as the API defines them)."""

    async def figures(session: AsyncSession, _settings: Settings) -> str:
        start, end = from_.date(), to.date()
        return analytics_report.render(
            await analytics_service.kpis(session, start, end),
            await analytics_service.abc_summary(session, start, end),
        )

    try:
        typer.echo(_with_session(figures), nl=False)
    except PeriodInvalid as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(2) from None


@cli.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = (
        DEFAULT_OPENAPI_PATH
    ),
) -> None:
    """Write the OpenAPI document generated from the app."""
    from app.main import create_app

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_openapi(create_app().openapi()))
    typer.echo(f"wrote {output}", err=True)


@cli.command("config-reference")
def config_reference_command(
    readme: Annotated[Path, typer.Option(help="The README to update.")] = Path("README.md"),
) -> None:
    """Rewrite the README's table of settings from the Settings class."""
    changed = write_readme(readme)
    typer.echo(f"{readme} {'updated' if changed else 'already up to date'}", err=True)


def render_openapi(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main() -> None:
    cli()
