"""`make bench`: the service against this machine's own ceiling, measured side by side.

Starts a fresh PostgreSQL database ``stammkunde_bench``, the service under uvicorn and the
baseline (bench/baseline.py: one UPDATE and one INSERT per earn, raw asyncpg) with the same
uvicorn settings, and drives both with wrk (bench/load.lua) on 127.0.0.1, alternating
service and baseline runs. Prints one table (requests/s, p50/p99, errors, ratio = service ÷
baseline) and writes it as JSON under bench/results/. Then, on PostgreSQL: each worker's
memory (RSS) after 50 000 and 100 000 requests; purchases again with a ledger history of
5 million entries bulk-loaded (bench/history.py); the figures endpoint's time on that
history's purchases. Then purchases on SQLite, and ``stammkunde verify`` on what the runs
wrote.

    .venv/bin/python -m bench.run --duration 20 --warmup 5 --rounds 2
"""

import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import httpx
import typer

from bench.baseline import prepare as prepare_baseline
from bench.history import load_history

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
BENCH_DATABASE = "stammkunde_bench"
SECRET_KEY = secrets.token_urlsafe(32)  # a fresh server secret for every bench run
MEMBERS = 100_000
PAYERS = 1_000
VOUCHER_BATCH = 100_000
SERVICE_WORKLOADS = ("purchase", "redemption", "voucher", "balance", "mixed")
START_TIMEOUT_SECONDS = 60.0
CODES_PER_RUN = 20_000  # more than a run redeems; each run takes the next slice of codes
HISTORY_ENTRIES = 5_000_000
RSS_REQUESTS = 100_000
RSS_SLICE_SECONDS = 5.0

cli = typer.Typer(add_completion=False)


@dataclass
class Run:
    target: str  # "service" or "baseline"
    workload: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def ensure_wrk() -> str:
    """wrk from Debian's package, installed here when missing and we may."""
    found = shutil.which("wrk")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        found = shutil.which("wrk")
    if found is None:
        sys.exit("wrk is needed: apt-get install wrk")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def service_environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "STAMMKUNDE_DATABASE_URL": database_url,
        "STAMMKUNDE_SECRET_KEY": SECRET_KEY,
        "STAMMKUNDE_RUN_JOBS": "false",
        "STAMMKUNDE_LOG_LEVEL": "WARNING",
        "STAMMKUNDE_RATE_LIMITS": '{"pos": 0, "shop": 0, "partner": 0, "admin": 0}',
        "STAMMKUNDE_CODE_LOOKUP_FAILURES_PER_MINUTE": "0",
    }


def uvicorn_command(app: str, port: int, workers: int, factory: bool) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return command + (["--factory"] if factory else [])


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # uvicorn's supervisor; the workers are its children


@contextmanager
def server(command: list[str], env: dict[str, str], probe: str, log: Path) -> Iterator[Server]:
    """A uvicorn process, up once ``probe`` answers; always stopped afterwards."""
    port = int(command[command.index("--port") + 1])
    base_url = f"http://{HOST}:{port}"
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[4]} did not start; see {log}")
            try:
                if httpx.get(base_url + probe, timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Server(base_url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


_code_runs_started = 0
CODE_WORKLOADS = frozenset({"voucher", "mixed"})


def run_wrk(
    wrk: str, base_url: str, workload: str, seconds: float, connections: int, env: dict[str, str]
) -> dict[str, Any]:
    global _code_runs_started
    offset = _code_runs_started * CODES_PER_RUN
    _code_runs_started += workload in CODE_WORKLOADS
    threads = min(connections, os.cpu_count() or 2)
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s"]
    command += ["--timeout", "10s", "-s", str(ROOT / "bench" / "load.lua"), base_url]
    run_env = {
        **os.environ,
        **env,
        "BENCH_WORKLOAD": workload,
        "BENCH_THREADS": str(threads),
        "BENCH_TAG": f"{workload}-{time.time_ns()}",
        "BENCH_CODE_OFFSET": str(offset),
    }
    result = subprocess.run(command, env=run_env, capture_output=True, text=True, check=True)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_FAILURES "):
            print(f"  {workload} at {base_url}: {line.removeprefix('BENCH_FAILURES ')}")
        if line.startswith("BENCH_RESULT "):
            figures: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
            return figures
    raise RuntimeError(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")


def to_run(target: str, workload: str, figures: dict[str, Any]) -> Run:
    return Run(
        target=target,
        workload=workload,
        requests_per_second=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=figures["errors"],
    )


async def recreate_database(name: str) -> str:
    connection = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{POSTGRES}/{name}"


SEED_MEMBERS = """
INSERT INTO member (id, card_number, referral_code, status, segments, updated_at, created_at)
SELECT gen_random_uuid(), '9' || lpad(i::text, 15, '0'), 'B' || lpad(i::text, 9, '0'),
       'active', '[]'::jsonb, now(), now()
FROM generate_series(1, $1) AS i
"""
SEED_ACCOUNTS = """
INSERT INTO account (id, member_id, kind, balance, entry_count, chain_head, created_at)
SELECT gen_random_uuid(), id, 'available', 0, 0, repeat('0', 64), now() FROM member;
INSERT INTO account (id, member_id, kind, balance, created_at)
SELECT gen_random_uuid(), id, 'pending', 0, now() FROM member;
"""


async def seed_members(dsn: str, count: int) -> list[str]:
    """``count`` members with their accounts, bulk-loaded; their ids."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(SEED_MEMBERS, count)
        await connection.execute(SEED_ACCOUNTS)
        return [str(row["id"]) for row in await connection.fetch("SELECT id FROM member")]
    finally:
        await connection.close()


def stammkunde(env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).parent / "stammkunde"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout


def set_up_programme(
    base_url: str, token: str, dsn: str, payers: list[str], codes_wanted: int, work: Path
) -> None:
    """A tier with a multiplier for everyone, one active campaign, points for the payers,
    and ``codes_wanted`` campaign voucher codes."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=300) as http:

        def post(path: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
            extra = {"Idempotency-Key": key} if key else {}
            response = http.post(path, json=body, headers=extra)
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            return answer

        tier = post("/v1/tiers", {"name": "Gold", "rank": 1, "threshold": 1, "multiplier": "1.5"})
        post("/v1/campaigns", {"name": "Double points", "kind": "multiplier", "multiplier": "2"})
        for number, payer in enumerate(payers):
            post(
                f"/v1/members/{payer}/adjustments",
                {"points": 1_000_000, "reason": "bench"},
                key=f"seed-{number}",
            )
        codes: list[str] = []
        while len(codes) < codes_wanted:
            template = {"kind": "amount", "value": 500, "valid_days": 30}
            body = {"template": template, "count": min(VOUCHER_BATCH, codes_wanted - len(codes))}
            codes += post("/v1/vouchers", body, key=f"codes-{len(codes)}")["codes"]
    asyncio.run(_assign_tier(dsn, tier["id"]))
    (work / "codes.txt").write_text("\n".join(codes) + "\n")


async def _assign_tier(dsn: str, tier_id: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("UPDATE member SET tier_id = $1", tier_id)
    finally:
        await connection.close()


def median_run(runs: list[Run]) -> Run:
    """The runs of one target and workload folded into one: medians of each figure."""
    return Run(
        target=runs[0].target,
        workload=runs[0].workload,
        requests_per_second=statistics.median(r.requests_per_second for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
    )


def table(rows: list[dict[str, Any]]) -> str:
    header = f"{'workload':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    header += f"{'baseline req/s':>16}{'ratio':>8}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['workload']:<28}{row['requests_per_second']:>10.0f}{row['p50_ms']:>9.1f}"
            f"{row['p99_ms']:>9.1f}{row['errors']:>8}{row['baseline_requests_per_second']:>16.0f}"
            f"{row['ratio']:>8.2f}"
        )
    return "\n".join(lines)


def compare(
    wrk: str,
    service_url: str,
    baseline_url: str,
    workloads: tuple[str, ...],
    rounds: int,
    seconds: float,
    warmup: float,
    connections: int,
    env: dict[str, str],
    label: str,
) -> list[dict[str, Any]]:
    """Each workload against the baseline earn, alternating, ``rounds`` times each."""
    rows = []
    for workload in workloads:
        service_runs: list[Run] = []
        baseline_runs: list[Run] = []
        for _ in range(rounds):
            for target, url, load in (
                ("service", service_url, workload),
                ("baseline", baseline_url, "earn"),
            ):
                if warmup:
                    run_wrk(wrk, url, load, warmup, connections, env)
                figures = run_wrk(wrk, url, load, seconds, connections, env)
                (service_runs if target == "service" else baseline_runs).append(
                    to_run(target, workload, figures)
                )
        service, baseline = median_run(service_runs), median_run(baseline_runs)
        row = {
            **asdict(service),
            "workload": f"{label} {workload}",
            "baseline_requests_per_second": baseline.requests_per_second,
            "baseline_errors": baseline.errors,
            "ratio": service.requests_per_second / baseline.requests_per_second,
        }
        rows.append(row)
        print(table([row]).splitlines()[-1], flush=True)
    return rows


@cli.command()
def main(
    duration: Annotated[float, typer.Option(help="Seconds per measured run.")] = 20,
    warmup: Annotated[float, typer.Option(help="Seconds of warm-up before each run.")] = 5,
    rounds: Annotated[int, typer.Option(help="Alternating runs per workload.")] = 2,
    connections: Annotated[int, typer.Option(help="Concurrent connections.")] = 64,
    workers: Annotated[int, typer.Option(help="uvicorn workers of both servers.")] = 2,
    members: Annotated[int, typer.Option(help="Members to bulk-load.")] = MEMBERS,
    workloads: Annotated[str, typer.Option(help="Comma-separated workloads.")] = ",".join(
        SERVICE_WORKLOADS
    ),
    sqlite: Annotated[bool, typer.Option(help="Also measure the embedded SQLite.")] = True,
    save: Annotated[bool, typer.Option(help="Write the results under bench/results/.")] = True,
    history_entries: Annotated[
        int, typer.Option(help="Ledger entries to bulk-load for the growth run; 0: none.")
    ] = HISTORY_ENTRIES,
    rss_requests: Annotated[
        int, typer.Option(help="Requests before the last memory sample; 0: no samples.")
    ] = RSS_REQUESTS,
    rss_workload: Annotated[str, typer.Option(help="Workload of the memory run.")] = "purchase",
) -> None:
    """Run the benchmark and print the table."""
    wrk = ensure_wrk()
    chosen = tuple(w for w in workloads.split(",") if w)
    extras: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="stammkunde-bench-") as scratch:
        work = Path(scratch)
        options = PostgresOptions(
            duration, warmup, rounds, connections, workers, members, chosen,
            history_entries, rss_requests, rss_workload,
        )  # fmt: skip
        rows = bench_postgres(wrk, work, options, extras)
        if sqlite:
            rows += bench_sqlite(wrk, work, duration, warmup, rounds, connections, members)
    print()
    print(table(rows))
    for line in describe(extras):
        print(line)
    if save:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
        document = {
            "at": stamp,
            "cpus": os.cpu_count(),
            "connections": connections,
            "workers": workers,
            "duration_s": duration,
            "rounds": rounds,
            "rows": rows,
            **extras,
        }
        path = RESULTS / f"{stamp}.json"
        path.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwritten to {path.relative_to(ROOT)}")


@dataclass(frozen=True)
class PostgresOptions:
    duration: float
    warmup: float
    rounds: int
    connections: int
    workers: int
    members: int
    workloads: tuple[str, ...]
    history_entries: int
    rss_requests: int
    rss_workload: str


def bench_postgres(
    wrk: str, work: Path, options: PostgresOptions, extras: dict[str, Any]
) -> list[dict[str, Any]]:
    dsn = asyncio.run(recreate_database(BENCH_DATABASE))
    env = service_environment(dsn.replace("postgresql://", "postgresql+asyncpg://"))
    stammkunde(env, "migrate")
    ids = asyncio.run(seed_members(dsn, options.members))
    asyncio.run(prepare_baseline(dsn))
    (work / "members.txt").write_text("\n".join(ids) + "\n")
    (work / "payers.txt").write_text("\n".join(ids[:PAYERS]) + "\n")
    token = stammkunde(env, "apikey", "create", "--name", "bench", "--scope", "admin").strip()
    load_env = {
        "BENCH_TOKEN": token,
        "BENCH_MEMBERS": str(work / "members.txt"),
        "BENCH_PAYERS": str(work / "payers.txt"),
        "BENCH_CODES": str(work / "codes.txt"),
    }
    workers = options.workers
    service_command = uvicorn_command("app.main:create_app", free_port(), workers, factory=True)
    baseline_command = uvicorn_command("bench.baseline:app", free_port(), workers, factory=False)
    baseline_env = {**os.environ, "BENCH_BASELINE_DATABASE": dsn}
    with (
        server(service_command, env, "/healthz", work / "service.log") as service,
        server(baseline_command, baseline_env, "/docs", work / "baseline.log") as baseline,
    ):
        needs = set(options.workloads) | ({options.rss_workload} if options.rss_requests else set())
        payers = ids[:PAYERS] if needs & {"redemption", "mixed"} else []
        code_runs = options.rounds * (2 if options.warmup else 1) * len(needs & CODE_WORKLOADS)
        code_runs += _rss_runs(options) if options.rss_workload in CODE_WORKLOADS else 0
        set_up_programme(service.url, token, dsn, payers, code_runs * CODES_PER_RUN, work)

        def measure(workloads: tuple[str, ...], label: str) -> list[dict[str, Any]]:
            return compare(
                wrk, service.url, baseline.url, workloads, options.rounds, options.duration,
                options.warmup, options.connections, load_env, label,
            )  # fmt: skip

        rows = measure(options.workloads, "postgresql")
        if options.rss_requests:
            extras["memory"] = measure_memory(wrk, service, options, load_env)
        if options.history_entries:
            started = time.monotonic()
            written = asyncio.run(load_history(dsn, options.history_entries))
            extras["history"] = {
                "transactions": written,
                "entries": 2 * written,
                "load_seconds": round(time.monotonic() - started, 1),
            }
            rows += measure(("purchase",), "postgresql+history")
            extras["kpis_seconds"] = time_kpis(service.url, token)
    started = time.monotonic()
    verify(env)
    extras["verify_seconds"] = round(time.monotonic() - started, 1)
    return rows


def _rss_runs(options: PostgresOptions) -> int:
    """Slices the memory run may take, with room to spare: each takes codes of its own."""
    return 2 + options.rss_requests // 1000


def worker_rss_mb(supervisor_pid: int) -> dict[str, float]:
    """Each uvicorn worker's resident memory by process id, from /proc (Linux)."""
    children = Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children").read_text().split()
    # Not multiprocessing's resource tracker, the other child: only the spawned workers.
    workers = [
        pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    sizes = {}
    for pid in workers:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes[pid] = int(line.split()[1]) / 1024
    return sizes


def measure_memory(
    wrk: str, service: Server, options: PostgresOptions, env: dict[str, str]
) -> dict[str, Any]:
    """Each worker's RSS after half and after all of ``rss_requests`` requests, in slices of
    wrk runs; a leak shows as growth between the two."""
    served, samples = 0, {}
    half = options.rss_requests // 2
    while served < options.rss_requests:
        figures = run_wrk(
            wrk, service.url, options.rss_workload, RSS_SLICE_SECONDS, options.connections, env
        )
        served += int(figures["requests"])
        if served >= half and "half" not in samples:
            samples["half"] = (served, worker_rss_mb(service.pid))
    samples["all"] = (served, worker_rss_mb(service.pid))
    (half_served, at_half), (all_served, at_all) = samples["half"], samples["all"]
    # The same workers throughout (a replaced worker would be a crash, and fail this).
    assert at_half.keys() == at_all.keys(), "a worker was replaced during the memory run"
    growth = max((at_all[pid] - at_half[pid]) / at_half[pid] * 100 for pid in at_half)
    return {
        "workload": options.rss_workload,
        "requests_at_first_sample": half_served,
        "rss_mb_at_first_sample": [round(at_half[pid], 1) for pid in sorted(at_half)],
        "requests_at_last_sample": all_served,
        "rss_mb_at_last_sample": [round(at_all[pid], 1) for pid in sorted(at_half)],
        "max_growth_percent": round(growth, 2),
    }


def time_kpis(base_url: str, token: str) -> float:
    """Median seconds of three ``GET /v1/analytics/kpis`` over the last twelve months."""
    today = datetime.now(UTC).date()
    period = {"from": (today.replace(day=1) - timedelta(days=365)).isoformat()}
    period["to"] = (today + timedelta(days=1)).isoformat()
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    for _ in range(3):
        started = time.monotonic()
        response = httpx.get(
            base_url + "/v1/analytics/kpis", params=period, headers=headers, timeout=600
        )
        response.raise_for_status()
        timings.append(time.monotonic() - started)
    return round(statistics.median(timings), 2)


def describe(extras: dict[str, Any]) -> list[str]:
    lines = []
    if "memory" in extras:
        memory = extras["memory"]
        lines.append(
            f"memory ({memory['workload']}): RSS per worker {memory['rss_mb_at_first_sample']} MB "
            f"after {memory['requests_at_first_sample']} requests, "
            f"{memory['rss_mb_at_last_sample']} MB after {memory['requests_at_last_sample']}; "
            f"growth at most {memory['max_growth_percent']} %"
        )
    if "history" in extras:
        history = extras["history"]
        lines.append(
            f"history: {history['entries']} ledger entries ({history['transactions']} purchases) "
            f"loaded in {history['load_seconds']} s; figures over them in "
            f"{extras['kpis_seconds']} s"
        )
    if "verify_seconds" in extras:
        lines.append(f"stammkunde verify on PostgreSQL: {extras['verify_seconds']} s")
    return lines


def bench_sqlite(
    wrk: str,
    work: Path,
    duration: float,
    warmup: float,
    rounds: int,
    connections: int,
    members: int,
) -> list[dict[str, Any]]:
    """Purchases on the embedded default against a raw aiosqlite earn, one worker each."""
    database = work / "stammkunde.db"
    env = service_environment(f"sqlite+aiosqlite:///{database}")
    stammkunde(env, "migrate")
    ids = asyncio.run(_seed_sqlite(database, members))
    baseline_file = work / "baseline.db"
    asyncio.run(prepare_baseline(str(baseline_file)))
    (work / "sqlite-members.txt").write_text("\n".join(ids) + "\n")
    token = stammkunde(env, "apikey", "create", "--name", "bench", "--scope", "admin").strip()
    load_env = {"BENCH_TOKEN": token, "BENCH_MEMBERS": str(work / "sqlite-members.txt")}
    service_command = uvicorn_command("app.main:create_app", free_port(), 1, factory=True)
    baseline_command = uvicorn_command("bench.baseline:app", free_port(), 1, factory=False)
    baseline_env = {**os.environ, "BENCH_BASELINE_DATABASE": str(baseline_file)}
    with (
        server(service_command, env, "/healthz", work / "sqlite-service.log") as service,
        server(baseline_command, baseline_env, "/docs", work / "sqlite-baseline.log") as baseline,
    ):
        rows = compare(
            wrk,
            service.url,
            baseline.url,
            ("purchase",),
            rounds,
            duration,
            warmup,
            connections,
            load_env,
            "sqlite",
        )
    verify(env)
    return rows


async def _seed_sqlite(database: Path, count: int) -> list[str]:
    """Members with their accounts, in one transaction, through the service's own models."""
    import uuid

    import aiosqlite

    ids = [uuid.uuid4() for _ in range(count)]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    async with aiosqlite.connect(database) as sqlite:
        await sqlite.executemany(
            "INSERT INTO member (id, card_number, referral_code, status, segments, updated_at, "
            "created_at) VALUES (?, ?, ?, 'active', '[]', ?, ?)",
            (
                (member.hex, f"9{number:015d}", f"B{number:09d}", now, now)
                for number, member in enumerate(ids)
            ),
        )
        await sqlite.executemany(
            "INSERT INTO account (id, member_id, kind, balance, entry_count, chain_head, "
            "created_at) VALUES (?, ?, 'available', 0, 0, ?, ?)",
            ((uuid.uuid4().hex, member.hex, "0" * 64, now) for member in ids),
        )
        await sqlite.executemany(
            "INSERT INTO account (id, member_id, kind, balance, created_at) "
            "VALUES (?, ?, 'pending', 0, ?)",
            ((uuid.uuid4().hex, member.hex, now) for member in ids),
        )
        await sqlite.commit()
    return [str(member) for member in ids]


def verify(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "stammkunde"), "verify"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"stammkunde verify failed after the bench:\n{result.stdout}")


if __name__ == "__main__":
    cli()
