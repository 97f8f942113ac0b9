"""`stammkunde serve` as a process of its own on 127.0.0.1, as an operator starts it.

Unlike ``tests.live_server`` (uvicorn on an app), this runs the command itself, with what it
does before serving (migrations) and on SIGTERM (the grace period, the exit status). Every
wait is bounded and the process is always ended, also when the test fails.
"""

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.factories import stammkunde
from tests.live_server import (
    HOST,
    PROJECT_ROOT,
    free_port,
    server_environment,
    wait_until_healthy,
)

START_TIMEOUT_SECONDS = 60.0
KILL_TIMEOUT_SECONDS = 10.0
START_ATTEMPTS = 3
LOG_TAIL_CHARS = 4000
STAMMKUNDE = str(Path(sys.executable).with_name("stammkunde"))


class ServiceError(RuntimeError):
    """The service did not come up (its log's tail is in the message)."""


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        except OSError:
            return ""

    def not_answering(self) -> ServiceError:
        return ServiceError(
            f"the service did not answer /healthz within {START_TIMEOUT_SECONDS:g}s:\n"
            f"{self.log_tail()}"
        )

    async def terminate(self, within: float) -> float:
        """Send SIGTERM and wait for the exit; the seconds it took (TimeoutExpired past
        ``within``)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(self.process.wait, within)
        return time.monotonic() - started

    async def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            await asyncio.to_thread(self.process.wait, KILL_TIMEOUT_SECONDS)


def serve_environment(database_url: str, **settings: str) -> dict[str, str]:
    """What the tests' servers run with (secret, no jobs, no rate limits) plus ``settings``,
    given without their ``STAMMKUNDE_`` prefix."""
    environment = server_environment(database_url)
    environment.update({f"STAMMKUNDE_{name.upper()}": value for name, value in settings.items()})
    return environment


def _spawn(command: Sequence[str], environment: Mapping[str, str], log_path: Path) -> Service:
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(command),
            cwd=PROJECT_ROOT,
            env={**environment, "STAMMKUNDE_HOST": HOST, "STAMMKUNDE_PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Service(process, port, log_path)


@asynccontextmanager
async def running(
    command: Sequence[str], environment: Mapping[str, str], log_path: Path
) -> AsyncIterator[Service]:
    """Run ``command`` with ``environment`` and STAMMKUNDE_HOST/PORT set to a free port on
    127.0.0.1, until /healthz answers; kill it afterwards if it still runs."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    for _ in range(START_ATTEMPTS):
        service = _spawn(command, environment, log_path)
        try:
            # An exit before answering is most likely the port taken meanwhile: try another.
            if await wait_until_healthy(
                service.base_url, service.process, deadline, service.not_answering
            ):
                break
        except BaseException:
            await service.kill()
            raise
    else:
        raise ServiceError(f"the service exited before it answered:\n{service.log_tail()}")
    try:
        yield service
    finally:
        await service.kill()


async def set_up_till(database_url: str) -> dict[str, str]:
    """The demo programme (1 point per 1.00 EUR, no pending days) and a till's API key,
    made with the CLI as an operator would; the headers that authenticate as the till."""
    seeded = await stammkunde(database_url, "seed-demo")
    assert seeded.exit_code == 0, seeded.output
    created = await stammkunde(database_url, "apikey", "create", "--name", "till", "--scope", "pos")
    assert created.exit_code == 0, created.output
    return {"Authorization": f"Bearer {created.stdout.strip()}"}
