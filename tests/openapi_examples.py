"""Records the OpenAPI document's request and response examples from the test suite.

``make openapi-examples`` runs the SQLite half of the suite with
``STAMMKUNDE_RECORD_OPENAPI_EXAMPLES`` set to a directory: every successful JSON exchange of
the ``client`` fixture is appended there, and at the end the richest exchange of each
operation is kept in ``app/openapi_examples.json``. Examples are thus real answers of the
service, and a test checks them against the schemas.
"""

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

RECORD_DIRECTORY = os.environ.get("STAMMKUNDE_RECORD_OPENAPI_EXAMPLES")
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = PROJECT_ROOT / "openapi" / "openapi.json"
EXAMPLES = PROJECT_ROOT / "app" / "openapi_examples.json"
MAX_EXAMPLE_CHARS = 3000
# Keys and secrets shown once at creation: recorded ones are real, if throwaway.
SECRET_PREFIXES = {"stk_": "stk_k7x2m9q4_3vJq9pZ0sL8wXr2uYt6nB1cD5eF7gH9i", "whsec_": "whsec_Zx8…"}


def _operation_patterns() -> list[tuple[str, re.Pattern[str], str]]:
    document = json.loads(DOCUMENT.read_text())
    patterns = [
        (
            method.upper(),
            re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"),
            operation["operationId"],
            path.count("{"),
        )
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    # A literal segment wins over a parameter: /v1/purchases/claim is not a purchase id.
    patterns.sort(key=lambda pattern: pattern[3])
    return [(method, regex, operation_id) for method, regex, operation_id, _ in patterns]


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


class Recorder:
    def __init__(self, directory: Path) -> None:
        self.path = directory / f"exchanges-{os.getpid()}.jsonl"
        self.patterns = _operation_patterns()

    def operation_id(self, method: str, path: str) -> str | None:
        for pattern_method, regex, operation_id in self.patterns:
            if pattern_method == method and regex.match(path):
                return operation_id
        return None

    async def record(self, response: httpx.Response) -> None:
        request = response.request
        if not 200 <= response.status_code < 300:
            return
        operation_id = self.operation_id(request.method, request.url.path)
        if operation_id is None:
            return
        await response.aread()
        exchange = {
            "operation_id": operation_id,
            "status": str(response.status_code),
            "request": _json(request.content),
            "response": _json(response.content),
        }
        with self.path.open("a") as out:
            out.write(json.dumps(exchange) + "\n")


def event_hooks() -> dict[str, list[Any]]:
    """The ``client`` fixture's hooks: a recorder while recording, nothing otherwise."""
    if not RECORD_DIRECTORY:
        return {}
    return {"response": [Recorder(Path(RECORD_DIRECTORY)).record]}


def _redacted(value: Any) -> Any:
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, str):
        for prefix, placeholder in SECRET_PREFIXES.items():
            if value.startswith(prefix):
                return placeholder
    return value


def _leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_leaves(item) for item in value.values())
    if isinstance(value, list):
        return sum(_leaves(item) for item in value)
    return int(value is not None)


def _exchanges(directory: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(directory.glob("exchanges-*.jsonl")):
        for line in path.read_text().splitlines():
            exchange = json.loads(line)
            # Lists stay whole: a purchase's breakdown must still add up to its points.
            exchange["request"] = _redacted(exchange["request"])
            exchange["response"] = _redacted(exchange["response"])
            yield exchange


def richest_examples(directory: Path) -> dict[str, dict[str, Any]]:
    """Per operation, the exchange that shows the most fields while staying short."""
    best: dict[str, tuple[tuple[bool, int], dict[str, Any]]] = {}
    for exchange in _exchanges(directory):
        short = len(json.dumps(exchange)) <= MAX_EXAMPLE_CHARS
        rank = (short, _leaves(exchange["request"]) + _leaves(exchange["response"]))
        operation_id = exchange.pop("operation_id")
        if operation_id not in best or rank > best[operation_id][0]:
            best[operation_id] = (rank, exchange)
    return {operation_id: exchange for operation_id, (_, exchange) in sorted(best.items())}


def write_recorded_examples(session: pytest.Session) -> None:
    # Under xdist the workers only record; the controller (or a lone process) writes.
    if not RECORD_DIRECTORY or hasattr(session.config, "workerinput"):
        return
    examples = richest_examples(Path(RECORD_DIRECTORY))
    EXAMPLES.write_text(json.dumps(examples, indent=2, ensure_ascii=False) + "\n")
