"""``stammkunde import members FILE.csv``: the import of ``app.imports.service``, committed a
chunk at a time so that memory stays flat and a file of any size goes in one run."""

import asyncio
import csv
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from app.config import Settings, get_settings, resolve_secret_key
from app.db.engine import create_engine
from app.db.session import create_sessionmaker
from app.imports import source
from app.imports.mapping import parse_overrides
from app.imports.service import CHUNK_SIZE, MemberImport, Tally
from app.kit.errors import StammkundeError
from app.members.phones import DEFAULT_REGION, is_region

import_cli = typer.Typer(help="Import data from files.", no_args_is_help=True)

REJECTS_HEADER = ("line", "reason", "detail", "duplicate_of")


def _region(code: str) -> str:
    if not is_region(code):
        raise typer.BadParameter(f"{code!r} is not a region code (ISO 3166 alpha-2, e.g. DE)")
    return code


@import_cli.command("members")
def members(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="CSV file, UTF-8, header first."),
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="field=column where a column's header is not a default name; field= leaves "
            "a field out. Repeatable.",
        ),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Where the rejected rows go, with reasons.", show_default="FILE.rejects.csv"
        ),
    ] = None,
    default_region: Annotated[
        str,
        typer.Option(help="How phone numbers without a country code are read.", callback=_region),
    ] = DEFAULT_REGION,
    chunk_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Rows per transaction.")
    ] = CHUNK_SIZE,
    dry_run: Annotated[bool, typer.Option(help="Check and report; write nothing.")] = False,
) -> None:
    """Import members; report rejected rows and likely duplicates.

    Running it again with the same file creates nothing and posts nothing.
    """
    rejects = rejects or file.with_suffix(".rejects.csv")
    started = time.perf_counter()
    try:
        overrides = parse_overrides(map_ or [])
        tally = asyncio.run(
            _import(get_settings(), file, overrides, rejects, default_region, chunk_size, dry_run)
        )
    except StammkundeError as error:
        typer.echo(f"import stopped: {error.detail}", err=True)
        raise typer.Exit(2) from None
    for name in ("rows", "created", "already_imported", "duplicates", "invalid", "points"):
        typer.echo(f"{name}\t{getattr(tally, name)}")
    rejected = tally.duplicates + tally.invalid
    typer.echo(
        f"{rejected} rejected rows written to {rejects}; "
        f"{time.perf_counter() - started:.1f} s"
        + ("; dry run: nothing was written to the database" if dry_run else ""),
        err=True,
    )


async def _import(
    settings: Settings,
    file: Path,
    overrides: dict[str, str],
    rejects: Path,
    region: str,
    chunk_size: int,
    dry_run: bool,
) -> Tally:
    size = file.stat().st_size  # noqa: ASYNC240 (a stat before any work, not in the loop)
    engine = create_engine(settings)
    tally = Tally()
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rows]} rows"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    # The bar follows the bytes read; rows are counted beside it.
    task = progress.add_task("importing", total=size, rows=0)
    try:
        sessionmaker = create_sessionmaker(engine)
        with (
            progress,
            progress.open(file, "r", encoding="utf-8-sig", newline="", task_id=task) as lines,
            rejects.open("w", newline="", encoding="utf-8") as out,
        ):
            member_file = source.open_member_file(lines, overrides)
            writer = csv.writer(out)
            writer.writerow((*REJECTS_HEADER, *member_file.header))
            run = MemberImport(
                resolve_secret_key(settings), len(member_file.header), member_file.columns, region
            )
            for chunk in source.chunks(member_file.records, chunk_size):
                async with sessionmaker() as session:
                    result = await run.import_chunk(session, chunk)
                    await (session.rollback() if dry_run else session.commit())
                tally.add(result.tally)
                writer.writerows(
                    (r.line, r.reason, r.detail, r.duplicate_of or "", *r.values)
                    for r in result.rejects
                )
                progress.update(task, rows=tally.rows)
    finally:
        await engine.dispose()
    return tally
