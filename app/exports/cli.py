"""``stammkunde export members|transactions``: streamed to a file or stdout, with a progress
bar on stderr."""

import asyncio
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from app.config import get_settings
from app.db.readers import create_read_engine
from app.db.session import create_sessionmaker
from app.exports import service
from app.exports.formats import Format, Writer
from app.exports.service import Dataset

export_cli = typer.Typer(
    help="Export members or ledger transactions as CSV or JSON lines.", no_args_is_help=True
)

FormatOption = Annotated[Format, typer.Option("--format", help="csv, or jsonl: one JSON a line.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="File to write [default: stdout].")
]


@export_cli.command("members")
def members(format: FormatOption = Format.csv, output: OutputOption = None) -> None:
    """Every member record (merged and erased ones too) with its balance, by id."""
    _export(Dataset.members, format, output)


@export_cli.command("transactions")
def transactions(format: FormatOption = Format.csv, output: OutputOption = None) -> None:
    """Every ledger transaction of every member, oldest first."""
    _export(Dataset.transactions, format, output)


def _export(dataset: Dataset, format: Format, output: Path | None) -> None:
    if output is None:
        written = asyncio.run(_write(dataset, format, sys.stdout))
    else:
        with output.open("w", newline="", encoding="utf-8") as out:
            written = asyncio.run(_write(dataset, format, out))
    typer.echo(f"exported {written} {dataset.value}", err=True)


async def _write(dataset: Dataset, format: Format, out: TextIO) -> int:
    engine = create_read_engine(get_settings())
    progress = Progress(
        TextColumn(f"exporting {dataset.value}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    written = 0
    try:
        async with create_sessionmaker(engine)() as session:
            # A count first, for the bar; rows written meanwhile come on top of it.
            task = progress.add_task("export", total=await service.count(session, dataset))
            writer = Writer(out, format, service.columns(dataset))
            with progress:
                async for row in service.rows(session, dataset):
                    writer.write(row)
                    written += 1
                    if written % service.BATCH_SIZE == 0:
                        progress.update(task, completed=written)
                progress.update(task, completed=written)
    finally:
        await engine.dispose()
    return written
