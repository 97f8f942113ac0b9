"""The ``stammkunde`` command: serve, migrate, manage API keys, export the OpenAPI document."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys import repository as api_key_repository
from app.api_keys import service as api_key_service
from app.api_keys.models import Scope
from app.config import Settings, get_settings, resolve_secret_key
from app.db import migrations
from app.db.engine import create_engine
from app.db.session import create_sessionmaker
from app.kit.pagination import MAX_LIMIT, PageParams

cli = typer.Typer(help="Stammkunde loyalty service.", no_args_is_help=True)
apikey_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
cli.add_typer(apikey_cli, name="apikey")

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
    bootstrap_admin_key: Annotated[
        bool,
        typer.Option(help="On first start (no API keys yet) create an admin key and print it."),
    ] = False,
) -> None:
    """Serve the HTTP API with uvicorn."""
    settings = get_settings()
    resolve_secret_key(settings)  # fail early, and create the embedded secret before forking
    if migrate_first:
        migrations.upgrade(settings.database_url)
    if bootstrap_admin_key:
        _print_bootstrap_admin_key()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        access_log=False,
        log_config=None,
        proxy_headers=True,
    )


def _print_bootstrap_admin_key() -> None:
    async def create_if_none(session: AsyncSession, settings: Settings) -> str | None:
        if await api_key_repository.any_exist(session):
            return None
        _, key = await api_key_service.create_api_key(
            session, resolve_secret_key(settings), "bootstrap admin", [Scope.admin]
        )
        return key

    key = _with_session(create_if_none)
    if key is not None:
        typer.echo(
            "\n  First start: an admin API key was created. It is shown only this once:\n\n"
            f"    {key}\n\n"
            f"  Try: curl -H 'Authorization: Bearer {key}' http://127.0.0.1:8000/v1/api-keys\n",
            err=True,
        )


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

    typer.echo(f"revoked {_with_session(revoke)}", err=True)


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


def render_openapi(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main() -> None:
    cli()
