"""The member import and the exports on 100 000 rows, timed on SQLite and PostgreSQL.

Writes a member file (external id, e-mail, phone in national format, name, birthdate, an
opening balance on every other row; one row in 500 repeats an earlier e-mail and one in 500
has an invalid one), imports it into a fresh database with `stammkunde import members`,
imports it again (which must create and post nothing), exports members and transactions,
and runs `stammkunde verify`. Prints the seconds of each step and the peak memory of the
import process. Everything runs on this machine (PostgreSQL on 127.0.0.1).

    .venv/bin/python -m bench.imports --rows 100000
"""

import asyncio
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from bench.run import SECRET_KEY, recreate_database

DATABASE = "stammkunde_bench_import"
BACKENDS = ("sqlite", "postgresql")

cli = typer.Typer(add_completion=False)


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "email", "phone", "name", "birthdate", "points"])
        for i in range(rows):
            email = f"customer{i}@example.com"
            if i % 500 == 499:
                email = f"Customer{i - 250}@Example.com"  # a likely duplicate
            elif i % 500 == 250:
                email = f"customer{i}@"  # rejected
            writer.writerow(
                [
                    f"bench-{i}",
                    email,
                    f"0151 {i:08d}",
                    f"Customer {i}",
                    f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
                    str(i % 1000) if i % 2 else "",
                ]
            )


def run(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "stammkunde"), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"stammkunde {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - started, result.stdout


def peak_rss_mb() -> float:
    """The largest resident set of any child process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def bench(backend: str, rows: int, directory: Path, members_file: Path) -> dict[str, str]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'import.db'}"
    else:
        url = asyncio.run(recreate_database(DATABASE)).replace(
            "postgresql://", "postgresql+asyncpg://"
        )
    env = {
        **os.environ,
        "STAMMKUNDE_DATABASE_URL": url,
        "STAMMKUNDE_SECRET_KEY": SECRET_KEY,
        "STAMMKUNDE_LOG_FORMAT": "console",
    }
    run(env, "migrate")
    first, summary = run(env, "import", "members", str(members_file))
    rss = peak_rss_mb()
    again, repeat = run(env, "import", "members", str(members_file))
    created = dict(line.split("\t") for line in summary.splitlines())
    repeated = dict(line.split("\t") for line in repeat.splitlines())
    if repeated["created"] != "0" or repeated["points"] != "0":
        raise SystemExit(f"the second import changed something: {repeated}")
    members, _ = run(env, "export", "members", "--output", str(directory / "exported-members.csv"))
    entries, _ = run(
        env, "export", "transactions", "--format", "jsonl", "--output", str(directory / "t.jsonl")
    )
    verified, _ = run(env, "verify")
    return {
        "database": backend,
        "import s": f"{first:.1f}",
        "rows/s": f"{rows / first:,.0f}",
        "created": created["created"],
        "points": created["points"],
        "again s": f"{again:.1f}",
        "export members s": f"{members:.1f}",
        "export transactions s": f"{entries:.1f}",
        "verify s": f"{verified:.1f}",
        "peak RSS MB": f"{rss:.0f}",
    }


@cli.command()
def main(
    rows: Annotated[int, typer.Option(min=1, max=1_000_000)] = 100_000,
    database: Annotated[list[str] | None, typer.Option(help="sqlite, postgresql")] = None,
) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        members_file = directory / "members.csv"
        write_file(members_file, rows)
        results = [
            bench(backend, rows, directory, members_file) for backend in database or BACKENDS
        ]
    columns = list(results[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for result in results:
        print("| " + " | ".join(result[column] for column in columns) + " |")


if __name__ == "__main__":
    cli()
