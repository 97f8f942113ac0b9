"""A PostgreSQL cluster of a test's own, in a temporary directory on a free port.

Tests that stop and start the database server must never touch the machine's shared
cluster (other test processes use it). This one is built with ``initdb`` and driven with
``pg_ctl`` from the installed server binaries; as root they run as the ``postgres`` user,
which the server insists on. Everything is bounded in time and the cluster is always
stopped (``immediate``) and removed, also when the test fails.
"""

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live_server import HOST, free_port

PG_CTL_TIMEOUT_SECONDS = 30
COMMAND_TIMEOUT_SECONDS = 60
SERVER_USER = "postgres"


def server_binaries() -> Path | None:
    """The bin directory of the newest installed PostgreSQL server, if there is one."""
    found = [
        path.parent
        for path in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")
        if (path.parent / "initdb").exists()
    ]
    if not found:
        return None

    def version(bin_dir: Path) -> tuple[int, ...]:
        name = bin_dir.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    return max(found, key=version)


def require_server_binaries() -> Path:
    """The binaries, or a skip; a failure where PostgreSQL is required (CI)."""
    binaries = server_binaries()
    if binaries is None:
        message = "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
        if os.environ.get("STAMMKUNDE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"STAMMKUNDE_REQUIRE_POSTGRES=1 but {message}")
        pytest.skip(message)
    return binaries


@dataclass
class Cluster:
    binaries: Path
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{HOST}:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.binaries / tool), *args]
        if os.geteuid() == 0:
            # The server refuses to run as root.
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        completed = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({completed.returncode}):\n{completed.stdout}{completed.stderr}"
                f"\n{self.log_tail()}"
            )

    def initdb(self) -> None:
        # No fsync: the data is thrown away, and the test is about connections, not disks.
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={HOST} -k {self.directory} "
            "-c fsync=off -c max_connections=50"
        )
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(PG_CTL_TIMEOUT_SECONDS),
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            "pg_ctl",
            "stop",
            "-D",
            str(self.data),
            "-m",
            mode,
            "-w",
            "-t",
            str(PG_CTL_TIMEOUT_SECONDS),
        )

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A running cluster of its own (trust auth, user postgres), removed afterwards."""
    binaries = require_server_binaries()
    # Under the shared temporary directory, not pytest's (root's is closed to other users).
    directory = Path(tempfile.mkdtemp(prefix="stammkunde-pg-"))
    try:
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(directory, user.pw_uid, user.pw_gid)
        cluster = Cluster(binaries, directory, free_port())
        cluster.initdb()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.is_running():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    cluster.stop("immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
