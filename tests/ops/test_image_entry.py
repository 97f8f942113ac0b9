"""The image's entry command works: run outside a container as the Dockerfile runs it.

Docker cannot run in CI, so this reads the final stage of the Dockerfile (its ENV, COPY,
WORKDIR, CMD and HEALTHCHECK), maps the image's paths to this checkout and the virtual
environment the tests run in, and runs the very command line against a fresh database:
it must migrate, answer /healthz and /readyz, pass its own health check and stop cleanly.
Changing the Dockerfile changes what this runs, so the two cannot drift apart.
"""

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import httpx
import pytest

from app.db.migrations import head_revision
from tests.conftest import TEST_SECRET_KEY
from tests.live_server import HOST, PROJECT_ROOT
from tests.ops.service import running

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
# What `docker run -e ...` adds: the database and the secret; the image has neither.
DEPLOYMENT_ENVIRONMENT = ("STAMMKUNDE_DATABASE_URL", "STAMMKUNDE_SECRET_KEY")
STOP_SECONDS = 30.0
HEALTH_CHECK_SECONDS = 10.0


@dataclass
class Stage:
    """The final stage of a Dockerfile, as far as running it goes."""

    environment: dict[str, str] = field(default_factory=dict)
    workdir: PurePosixPath = field(default_factory=lambda: PurePosixPath("/"))
    user: str | None = None
    copies: list[tuple[str | None, str, PurePosixPath]] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)

    @property
    def command(self) -> list[str]:
        return self.entrypoint + self.cmd


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    found: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        instruction, _, arguments = (current + stripped).partition(" ")
        found.append((instruction.upper(), arguments.strip()))
        current = ""
    return found


def exec_form(arguments: str, instruction: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list), f"{instruction} must be in exec form: {arguments}"
    return [str(part) for part in value]


def final_stage(text: str) -> Stage:
    stage = Stage()
    for instruction, arguments in instructions(text):
        if instruction == "FROM":
            stage = Stage()
        elif instruction == "ENV":
            for assignment in shlex.split(arguments):
                name, _, value = assignment.partition("=")
                stage.environment[name] = value
        elif instruction == "WORKDIR":
            stage.workdir = stage.workdir / arguments
        elif instruction == "COPY":
            *options, source, destination = shlex.split(arguments)
            origin = next((o.split("=", 1)[1] for o in options if o.startswith("--from=")), None)
            stage.copies.append((origin, source, stage.workdir / destination))
        elif instruction == "USER":
            stage.user = arguments
        elif instruction == "ENTRYPOINT":
            stage.entrypoint = exec_form(arguments, instruction)
        elif instruction == "CMD":
            stage.cmd = exec_form(arguments, instruction)
        elif instruction == "HEALTHCHECK":
            _, _, check = arguments.partition(" CMD ")
            stage.healthcheck = exec_form(check, instruction)
    return stage


def local_paths(stage: Stage) -> dict[str, Path]:
    """Where what the image copies in is here: a directory copied from the build stage is
    its virtual environment (the tests' own), one copied from the context is in the checkout."""
    paths: dict[str, Path] = {}
    for origin, source, destination in stage.copies:
        paths[str(destination)] = Path(sys.prefix) if origin else PROJECT_ROOT / source
    return paths


def adapt(value: str, paths: dict[str, Path]) -> str:
    """``value`` with the image's paths replaced by their local ones; each path-like part
    (PATH has several) must be one the image copied in, or this test does not know it."""
    parts = []
    longest_first = sorted(paths, key=len, reverse=True)
    for part in value.split(":"):
        if part.startswith("/"):
            prefix = next((p for p in longest_first if part == p or part.startswith(f"{p}/")), None)
            assert prefix is not None, f"{part} is not a path the image copies in: {paths}"
            part = str(paths[prefix]) + part[len(prefix) :]
        parts.append(part)
    return ":".join(parts)


def image_environment(stage: Stage, database_url: str) -> dict[str, str]:
    """The environment the container would have, here: the machine's, without our
    settings, then the image's ENV (paths adapted, ``$VAR`` expanded), then the deployment's."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STAMMKUNDE_")}
    paths = local_paths(stage)
    for name, value in stage.environment.items():
        adapted = adapt(value, paths)
        environment[name] = re.sub(
            r"\$\{?(\w+)\}?", lambda m: environment.get(m.group(1), ""), adapted
        )
    environment["STAMMKUNDE_DATABASE_URL"] = database_url
    environment["STAMMKUNDE_SECRET_KEY"] = TEST_SECRET_KEY
    return environment


def resolve(command: list[str], environment: dict[str, str]) -> list[str]:
    """The command with its program found on the image's PATH, as the container finds it."""
    program = shutil.which(command[0], path=environment["PATH"])
    assert program is not None, f"{command[0]} is not on the image's PATH"
    return [program, *command[1:]]


# The Dockerfile as read


def test_the_dockerfile_has_the_parts_this_test_runs():
    stage = final_stage(DOCKERFILE.read_text())

    assert stage.command, "the final stage has no CMD or ENTRYPOINT"
    assert stage.healthcheck, "the final stage has no HEALTHCHECK"
    for name in DEPLOYMENT_ENVIRONMENT:
        assert name not in stage.environment, f"the image must not carry {name}"


def test_the_image_does_not_run_as_root():
    stage = final_stage(DOCKERFILE.read_text())

    assert stage.user is not None
    assert stage.user.split(":")[0] not in ("root", "0")


def test_the_stage_reader_follows_continuations_stages_and_workdir():
    text = """
FROM python:3.12-slim AS build
ENV A=build
CMD ["build"]
# the final stage
FROM python:3.12-slim
ENV PATH=/opt/venv/bin:$PATH \\
    B="two words"
WORKDIR /srv
WORKDIR app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
HEALTHCHECK --interval=5s CMD ["python", "-c", "pass"]
CMD ["stammkunde", "serve"]
"""
    stage = final_stage(text)

    assert stage.environment == {"PATH": "/opt/venv/bin:$PATH", "B": "two words"}
    assert stage.workdir == PurePosixPath("/srv/app")
    assert local_paths(stage) == {
        "/opt/venv": Path(sys.prefix),
        "/srv/app/migrations": PROJECT_ROOT / "migrations",
    }
    assert stage.command == ["stammkunde", "serve"]
    assert stage.healthcheck == ["python", "-c", "pass"]
    with pytest.raises(AssertionError, match="not a path the image copies in"):
        adapt("/etc/elsewhere", local_paths(stage))


# The image's command, run here


async def health_check_passes(stage: Stage, environment: dict[str, str]) -> bool:
    completed = await asyncio.to_thread(
        subprocess.run,
        resolve(stage.healthcheck, environment),
        env=environment,
        capture_output=True,
        timeout=HEALTH_CHECK_SECONDS,
        check=False,
    )
    return completed.returncode == 0


async def test_the_image_command_migrates_a_fresh_database_serves_and_stops(
    empty_database, tmp_path
):
    stage = final_stage(DOCKERFILE.read_text())
    environment = image_environment(stage, empty_database.url)
    command = resolve(stage.command, environment)
    assert Path(command[0]).is_relative_to(sys.prefix)

    async with running(command, environment, tmp_path / "service.log") as service:
        # Its health check finds the port in the environment, as in the container.
        environment["STAMMKUNDE_PORT"] = str(service.port)
        environment["STAMMKUNDE_HOST"] = HOST
        async with httpx.AsyncClient(base_url=service.base_url, trust_env=False) as http:
            health = await http.get("/healthz")
            ready = await http.get("/readyz")
        assert health.status_code == 200, service.log_tail()
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "revision": head_revision()}
        assert await health_check_passes(stage, environment)

        seconds = await service.terminate(within=STOP_SECONDS)

        assert service.process.returncode == 0, service.log_tail()
        print(f"stopped in {seconds:.2f}s")
    assert not await health_check_passes(stage, environment)
