"""The benchmark harness, run for two seconds a workload so that it cannot rot: it starts
both servers, drives them with wrk, prints the table, and the ledger verifies afterwards.
The real measurement is `make bench`, outside the test suite."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import POSTGRES_SERVER_URL

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 300

# The bench needs the local PostgreSQL and wrk (which it installs from Debian's packages
# when it may). Like every PostgreSQL test, it exists where those are at hand; CI, which
# requires PostgreSQL, always runs it.
WRK_AT_HAND = shutil.which("wrk") is not None or (
    shutil.which("apt-get") is not None and os.geteuid() == 0
)
BENCH_RUNS_HERE = POSTGRES_SERVER_URL is not None and (
    WRK_AT_HAND or os.environ.get("STAMMKUNDE_REQUIRE_POSTGRES") == "1"
)


def _the_bench_harness_runs_and_reports_both_targets() -> None:
    command = [sys.executable, "-m", "bench.run", "--duration", "2", "--warmup", "0"]
    command += ["--rounds", "1", "--members", "500", "--workloads", "purchase,balance"]
    command += ["--connections", "8", "--no-save", "--history-entries", "4000"]
    command += ["--rss-requests", "200"]

    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )

    assert result.returncode == 0, result.stdout + result.stderr
    table = result.stdout.split("\n\n")[-1].split("\nmemory")[0]
    rows = {
        line.split()[0] + " " + line.split()[1]: line.split() for line in table.splitlines()[2:]
    }
    expected = {"postgresql purchase", "postgresql balance", "postgresql+history purchase"}
    assert set(rows) == expected | {"sqlite purchase"}, table
    assert "history: 4000 ledger entries (2000 purchases)" in result.stdout, result.stdout
    assert "RSS per worker" in result.stdout, result.stdout
    for name, (_, _, rate, _, _, errors, baseline, ratio) in rows.items():
        assert min(float(rate), float(baseline), float(ratio)) > 0, name
        assert errors == "0", table


if BENCH_RUNS_HERE:
    test_the_bench_harness_runs_and_reports_both_targets = (
        _the_bench_harness_runs_and_reports_both_targets
    )
