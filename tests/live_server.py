"""A real ``uvicorn`` process on 127.0.0.1, for tests that need real concurrency.

The in-process ASGI client runs each request inside the test's own event loop; a process of
its own, with its own engine and connection pool, is what tills talk to and what a
concurrency test needs. Everything here is bounded (the start, the wait for ``/healthz``,
the stop), and the process is always ended, also when the test fails.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET_KEY

HOST = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
START_ATTEMPTS = 3
POLL_SECONDS = 0.05
LOG_TAIL_CHARS = 4000


class LiveServerError(RuntimeError):
    """The server did not come up (its log's tail is in the message)."""


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        except OSError:
            return ""

    def not_answering(self) -> LiveServerError:
        return LiveServerError(
            f"uvicorn did not answer /healthz within {START_TIMEOUT_SECONDS:g}s:\n{self.log_tail()}"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_environment(database_url: str) -> dict[str, str]:
    # The parent's STAMMKUNDE_* settings must not leak into the server under test.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STAMMKUNDE_")}
    environment.update(
        {
            "STAMMKUNDE_DATABASE_URL": database_url,
            "STAMMKUNDE_SECRET_KEY": TEST_SECRET_KEY,
            "STAMMKUNDE_RUN_JOBS": "false",
            "STAMMKUNDE_RATE_LIMITS": json.dumps({"pos": 0, "shop": 0, "partner": 0, "admin": 0}),
            "STAMMKUNDE_LOG_LEVEL": "WARNING",
            "STAMMKUNDE_LOG_FORMAT": "console",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return environment


def _command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "app.main:create_app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--lifespan",
        "on",
        "--no-access-log",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "5",
        # Longer than any pause between bursts: a pooled connection that the server closes
        # for idleness just as the client sends on it fails the request (httpx ReadError).
        "--timeout-keep-alive",
        "120",
    ]


def _spawn(database_url: str, log_path: Path) -> LiveServer:
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            _command(port),
            cwd=PROJECT_ROOT,
            env=server_environment(database_url),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return LiveServer(f"http://{HOST}:{port}", process, log_path)


async def wait_until_healthy(
    base_url: str,
    process: subprocess.Popen[bytes],
    deadline: float,
    timed_out: Callable[[], Exception],
) -> bool:
    """True once /healthz answers 200; False if the process exited first; past
    ``deadline`` the error ``timed_out`` makes (with the log's tail, say) is raised."""
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                if (await http.get("/healthz")).status_code == 200:
                    # Still ours: had the port been taken, our process would have exited.
                    return process.poll() is None
            except httpx.TransportError:
                pass
            await asyncio.sleep(POLL_SECONDS)
    raise timed_out()


async def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        await asyncio.to_thread(process.wait, STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait, STOP_TIMEOUT_SECONDS)


async def _start(database_url: str, log_path: Path) -> LiveServer:
    """Start the server; retry on another port if it exits at once (the port got taken)."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    for _ in range(START_ATTEMPTS):
        server = _spawn(database_url, log_path)
        try:
            if await wait_until_healthy(
                server.base_url, server.process, deadline, server.not_answering
            ):
                return server
        except BaseException:
            await _stop(server.process)
            raise
    raise LiveServerError(f"uvicorn exited before it answered:\n{server.log_tail()}")


@asynccontextmanager
async def live_server(database_url: str, log_path: Path) -> AsyncIterator[LiveServer]:
    """A uvicorn process serving ``app.main:create_app`` on ``database_url``."""
    server = await _start(database_url, log_path)
    try:
        yield server
    finally:
        await _stop(server.process)
