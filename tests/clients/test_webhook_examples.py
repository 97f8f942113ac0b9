"""The webhook examples (examples/webhooks) accept what the service really sends, and only that.

The signature comes from a real delivery by the service's worker, so that the examples and
the signing code cannot drift apart. Signing does not depend on the database: SQLite only.
"""

import asyncio
import base64
import importlib.util
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import DEVNULL, STDOUT, Popen, TimeoutExpired
from typing import Any

import pytest

from app.config import Settings
from app.db.base import utcnow
from app.events.service import emit
from tests.clients.support import PROJECT_ROOT, TYPESCRIPT_PROJECT, run
from tests.conftest import make_settings
from tests.live_server import free_port
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_endpoint, deliveries, run_worker, worker_config

EXAMPLES = PROJECT_ROOT / "examples" / "webhooks"
RECEIVER_START_SECONDS = 20.0
STOP_SECONDS = 10.0

pytestmark = pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)


@pytest.fixture
def settings(database) -> Settings:
    # The receivers listen on 127.0.0.1.
    return make_settings(database.url, webhook_allow_private=True)


async def record_event(app: Any) -> str:
    """An event whose body has non-ASCII text: the signature covers the UTF-8 bytes."""
    async with app.state.runtime.sessionmaker() as session:
        event = emit(session, "points.earned", uuid.uuid4(), {"note": "Grüße, 🎁"})
        await session.commit()
    return str(event.id)


@pytest.fixture
async def cases(app, client, admin) -> list[dict[str, Any]]:
    """A real delivery, as received, with variations; each case says what a verifier answers."""
    async with Receiver() as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        await record_event(app)
        assert await run_worker(app, utcnow()) == 1
    [request] = receiver.requests
    secret, header, body = endpoint["secret"], request.headers["stammkunde-signature"], request.body
    assert "Grüße".encode() in body
    signed_at = int(dict(part.split("=", 1) for part in header.split(","))["t"])
    signature = header.split("v1=")[1]

    def case(expected: bool, **changes: Any) -> dict[str, Any]:
        given = {"secret": secret, "header": header, "body": body, "now": signed_at, **changes}
        return {**given, "expected": expected}

    return [
        case(True),
        case(True, now=signed_at + 300),
        case(True, now=signed_at - 300),
        case(False, now=signed_at + 301),
        case(False, now=signed_at - 301),
        case(False, body=body.replace("Grüße".encode(), "Grüsse".encode())),
        case(False, body=body + b" "),
        case(False, secret=secret + "x"),
        case(False, header=f"v1={signature}"),
        case(False, header=f"t={signed_at},v1={signature[:-2]}"),
        case(False, header=f"t={signed_at},v1=not-hex"),
        case(False, header=""),
        # While a secret is rotated a delivery may carry two signatures; one match is enough.
        case(True, header=f"t={signed_at},v1={'0' * 64},v1={signature}"),
    ]


def load_python_example(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_python_example_verifies_a_real_signature(cases):
    verify = load_python_example("verify_signature").verify_signature

    answers = [verify(c["secret"], c["header"], c["body"], now=c["now"]) for c in cases]

    assert answers == [c["expected"] for c in cases]


async def test_the_typescript_example_verifies_a_real_signature(node_bin, cases):
    given = [
        {
            "secret": c["secret"],
            "header": c["header"],
            "body_base64": base64.b64encode(c["body"]).decode(),
            "now": c["now"],
        }
        for c in cases
    ]
    command = [str(node_bin / "tsx"), "src/verify-cases.ts"]

    done = await asyncio.to_thread(run, command, TYPESCRIPT_PROJECT, None, json.dumps(given))

    assert json.loads(done.stdout) == [c["expected"] for c in cases]


# --- the example receivers, end to end --------------------------------------------------------


@contextmanager
def example_receiver(command: list[str], secret: str, log: Path) -> Iterator[Popen[bytes]]:
    """The example receiver in a process of its own, ended when the block ends."""
    environment = {**os.environ, "STAMMKUNDE_WEBHOOK_SECRET": secret, "NO_COLOR": "1"}
    with log.open("wb") as output:
        # A session of its own: tsx runs the script in a child process, ended with it.
        process = Popen(
            command,
            cwd=EXAMPLES,
            env=environment,
            stdin=DEVNULL,
            stdout=output,
            stderr=STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_SECONDS)


def wait_for_text(log: Path, text: str, process: Popen[bytes]) -> str:
    """The receiver's output, once it shows ``text`` (bounded)."""
    deadline = time.monotonic() + RECEIVER_START_SECONDS
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if text in content:
            return content
        assert process.poll() is None, f"the receiver exited:\n{content}"
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} from the receiver:\n{log.read_text(errors='replace')}")


@pytest.fixture(params=["python", "typescript"])
def receiver_command(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "python":
        return [sys.executable, "receiver.py"]
    node_bin: Path = request.getfixturevalue("node_bin")
    return [str(node_bin / "tsx"), "receiver.ts"]


async def test_an_example_receiver_takes_signed_deliveries_and_refuses_others(
    app, client, admin, receiver_command, tmp_path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    ours = await create_endpoint(client, admin, url)
    # Another endpoint at the same receiver signs with a secret the receiver does not know.
    other = await create_endpoint(client, admin, url)
    command = [*receiver_command, "--port", str(port)]
    log = tmp_path / "receiver.log"
    with example_receiver(command, ours["secret"], log) as process:
        await asyncio.to_thread(
            wait_for_text, log, f"listening on {url.removesuffix('hooks')}", process
        )
        event_id = await record_event(app)

        # Generous: on a busy machine a slow answer must not become a failed delivery.
        assert await run_worker(app, utcnow(), config=worker_config(app, timeout=5.0)) == 2

        printed = await asyncio.to_thread(wait_for_text, log, event_id, process)
    assert printed.count(event_id) == 1
    [accepted] = await deliveries(client, admin, ours)
    [refused] = await deliveries(client, admin, other)
    assert (accepted["status"], accepted["last_status_code"]) == ("delivered", 204)
    assert refused["status"] != "delivered"
    assert refused["last_status_code"] == 400
