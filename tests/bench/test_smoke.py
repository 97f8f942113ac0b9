"""The benchmark harness, run for two seconds a workload so that it cannot rot: it starts
both servers, drives them with wrk, prints the table, and the ledger verifies afterwards.
The real measurement is `make bench`, outside the test suite."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 300


def test_the_bench_harness_runs_and_reports_both_targets() -> None:
    command = [sys.executable, "-m", "bench.run", "--duration", "2", "--warmup", "0"]
    command += ["--rounds", "1", "--members", "500", "--workloads", "purchase,balance"]
    command += ["--connections", "8", "--no-save"]

    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )

    assert result.returncode == 0, result.stdout + result.stderr
    table = result.stdout.split("\n\n")[-1]
    rows = {
        line.split()[0] + " " + line.split()[1]: line.split() for line in table.splitlines()[2:]
    }
    assert set(rows) == {"postgresql purchase", "postgresql balance", "sqlite purchase"}, table
    for name, (_, _, rate, _, _, errors, baseline, ratio) in rows.items():
        assert min(float(rate), float(baseline), float(ratio)) > 0, name
        assert errors == "0", table
