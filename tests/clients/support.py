"""What the client tests share: the expected outcome of the flow, and the tools they run."""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = PROJECT_ROOT / "openapi" / "openapi.json"
PYTHON_CLIENT_CONFIG = PROJECT_ROOT / "examples" / "python" / "client-config.yaml"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
COMMAND_TIMEOUT_SECONDS = 120

# The flow (tests/clients/python_flow.py, typescript/src/flow.ts) in numbers: 1 point per
# 1.00 EUR, 10 points for joining, a 5 EUR voucher for 100 points.
EXPECTED_SUMMARY = {
    "earned_at_till": 120,  # 2 x 45.00 coffee + 30.00 mug
    "available_after_sale": 130,  # + the signup bonus
    "voucher_points_spent": 100,
    "voucher_valid": True,
    "voucher_discount": 500,
    "second_redemption": [409, "voucher_already_redeemed"],
    "earned_online": 35,  # 40.00 less the 5.00 voucher
    "points_reversed": 30,  # the mug
    "gift_points": 20,
    "gift_status_before_claim": "open",
    "recipient_enrolled": True,
    "recipient_available": 30,  # the gift + the signup bonus
    "sender_available": 15,  # 130 - 100 + 35 - 30 - 20
}


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> "subprocess.CompletedProcess[str]":
    """Run a command to its end (bounded); fail the test with its output if it fails."""
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {completed.returncode}\n"
            f"--- stdout ---\n{completed.stdout[-4000:]}\n--- stderr ---\n{completed.stderr[-4000:]}"
        )
    return completed


def generate_python_client(into: Path) -> Path:
    """Generate the client package from the committed document; return the folder to import from."""
    package = into / "stammkunde_client"
    run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(DOCUMENT),
            "--config",
            str(PYTHON_CLIENT_CONFIG),
            "--meta",
            "none",
            # It would leave out what it cannot generate, warn, and succeed.
            "--fail-on-warning",
            "--output-path",
            str(package),
        ],
        cwd=into,
    )
    return into


# --- Node.js ----------------------------------------------------------------------------------

TYPESCRIPT_PROJECT = Path(__file__).resolve().parent / "typescript"
GENERATED = TYPESCRIPT_PROJECT / "generated"
# What the type check depends on: when none of it changed since a check that passed, the
# generated types and the check are reused (each test process would otherwise redo them).
CHECKED_INPUTS = [
    DOCUMENT,
    TYPESCRIPT_PROJECT / "package.json",
    TYPESCRIPT_PROJECT / "package-lock.json",
    TYPESCRIPT_PROJECT / "tsconfig.json",
    *sorted((TYPESCRIPT_PROJECT / "src").glob("*.ts")),
    *sorted((PROJECT_ROOT / "examples" / "webhooks").glob("*.ts")),
]


def node_tools() -> tuple[str, str]:
    """Paths of ``node`` and ``npm``: without them skip, or fail where they are required."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    message = "Node.js and npm are needed to test the TypeScript client"
    if os.environ.get("STAMMKUNDE_REQUIRE_NODE") == "1":
        pytest.fail(f"{message}, and STAMMKUNDE_REQUIRE_NODE=1")
    pytest.skip(message)


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def prepare_typescript_project(npm: str) -> Path:
    """Install the locked packages, generate the types from the committed document, and
    type-check the flow and the examples against them; return ``node_modules/.bin``.

    Test processes run this one at a time (a file lock): the first does the work, the others
    find it done.
    """
    GENERATED.mkdir(exist_ok=True)
    with (GENERATED / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = TYPESCRIPT_PROJECT / "node_modules" / ".installed-lock-sha256"
        wanted = _digest(TYPESCRIPT_PROJECT / "package-lock.json")
        if not installed.exists() or installed.read_text() != wanted:
            run([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"], cwd=TYPESCRIPT_PROJECT)
            installed.write_text(wanted)
        checked = GENERATED / ".checked-sha256"
        inputs = _digest(*CHECKED_INPUTS)
        if not checked.exists() or checked.read_text() != inputs:
            checked.unlink(missing_ok=True)
            run([npm, "run", "--silent", "generate"], cwd=TYPESCRIPT_PROJECT)
            run([npm, "run", "--silent", "typecheck"], cwd=TYPESCRIPT_PROJECT)
            checked.write_text(inputs)
    return TYPESCRIPT_PROJECT / "node_modules" / ".bin"
