"""What every fuzz test shares: the document, the Schemathesis configuration and the one
change made to a generated case before it is sent.

The document is the app's own (``tests/test_openapi.py`` keeps the committed copy equal to
it). Every check stays on for every operation. Where a check expects something the document
cannot promise, ``RULES_BEYOND_THE_SCHEMA`` widens it for that operation only, and says why.
"""

import itertools
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import schemathesis
from hypothesis import settings

from app.kit.idempotency import HEADER as IDEMPOTENCY_HEADER
from app.kit.idempotency import KEY_PATTERN as IDEMPOTENCY_KEY_PATTERN
from app.kit.idempotency import MAX_KEY_LENGTH
from app.main import create_app
from app.vouchers.schemas import MAX_BATCH
from tests.conftest import make_settings

DOCUMENT: dict[str, Any] = create_app(make_settings("sqlite+aiosqlite:///unused.db")).openapi()

# Deterministic in CI: the same cases on every run, nothing remembered between runs.
EXAMPLES_PER_OPERATION = 50
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None
)

# A schema-valid request may still be refused with these statuses (check
# positive_data_acceptance), because the operation has a rule JSON Schema does not express
# or that depends on data the generator cannot know. Refusals are 422 problems with a
# documented code; every other check applies unchanged.
RULES_BEYOND_THE_SCHEMA: dict[str, tuple[list[str], str]] = {
    "update_program": (["422"], "timezone must name an IANA time zone"),
    "create_member": (["422"], "referral_code must be an existing member's code"),
    "update_member": (["422"], "a card number's Luhn check digit; a phone number's validity"),
    "create_quote": (["422"], "member_id or card_number, not both"),
    "create_purchase": (["422"], "member_id or card_number, not both"),
    "claim_receipt": (["422"], "a claim code carries a check symbol"),
    "create_return": (["422"], "items or amount, not both"),
    "create_campaign": (["422"], "each kind needs its own fields; starts_at before ends_at"),
    "update_campaign": (["422"], "each kind needs its own fields; starts_at before ends_at"),
    "create_tier": (["422"], "a higher rank needs a threshold no lower than the ranks below"),
    "update_tier": (["422"], "a higher rank needs a threshold no lower than the ranks below"),
    "assign_manual_tier": (["422"], "a manual tier must end in the future"),
    "create_adjustment": (["422"], "points must not be 0"),
    "create_reward": (["422"], "each voucher kind takes its own fields"),
    "update_reward": (["422"], "each voucher kind takes its own fields"),
    "create_voucher_batch": (["422"], "template or reward_id, not both"),
    "get_voucher": (["422"], "a voucher code carries a check symbol"),
    "list_voucher_history": (["422"], "a voucher code carries a check symbol"),
    "validate_voucher": (["422"], "a voucher code carries a check symbol"),
    "reserve_voucher": (["422"], "a voucher code carries a check symbol"),
    "redeem_voucher": (["422"], "a voucher code carries a check symbol"),
    "release_voucher": (["422"], "a voucher code carries a check symbol"),
    "rollback_voucher": (["422"], "a voucher code carries a check symbol"),
    "create_gift": (["422"], "points or reward_id, not both"),
    "get_gift": (["422"], "a gift code carries a check symbol"),
    "claim_gift": (["422"], "a gift code carries a check symbol"),
    "cancel_gift": (["422"], "a gift code carries a check symbol"),
    "create_webhook_endpoint": (["422"], "the URL's host must resolve to public addresses"),
    "update_webhook_endpoint": (["422"], "the URL's host must resolve to public addresses"),
    "import_members": (["422"], "the file's rows, and the mapping's columns, are read only then"),
    "get_kpis": (["422"], "the period's end must follow its start"),
    "get_abc_segments": (["422"], "the period's end must follow its start"),
    "list_abc_members": (["422"], "the period's end must follow its start"),
    "get_points_flow": (
        ["422"],
        "the period's end must follow its start; at most 366 buckets of the interval",
    ),
    "get_monthly_retention": (
        ["422"],
        "the period's end must follow its start; at most 36 months",
    ),
}

_DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

# Every list: a cursor must be one the service handed out (400 invalid_cursor otherwise).
LISTS = sorted(
    operation["operationId"]
    for item in DOCUMENT["paths"].values()
    for operation in item.values()
    if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
)
for _list in LISTS:
    _statuses, _why = RULES_BEYOND_THE_SCHEMA.get(_list, ([], ""))
    RULES_BEYOND_THE_SCHEMA[_list] = (
        ["400", *_statuses],
        _why or "a cursor must be one the service handed out",
    )


# Schemathesis' own list, and 413: an invalid body may also be too large, and the size limit
# is checked first.
REFUSALS_OF_INVALID_DATA = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "checks": {"negative_data_rejection": {"expected-statuses": REFUSALS_OF_INVALID_DATA}},
            "operations": [
                {
                    "include-operation-id": operation_id,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": _DEFAULT_ACCEPTED + statuses
                        }
                    },
                }
                for operation_id, (statuses, _why) in RULES_BEYOND_THE_SCHEMA.items()
            ],
        }
    )


def load_schema() -> Any:
    return schemathesis.openapi.from_dict(DOCUMENT, config=_config())


_keys: Iterator[int] = itertools.count()

FUZZ_BATCH_SIZE = 100

# Never contacted: the service under test runs no jobs, so no webhook is ever delivered.
WEBHOOK_ADDRESS = "1.1.1.1"


def prepare(case: schemathesis.Case) -> None:
    """Adjust a generated case so that it tests the operation and not the test set-up.

    - A valid ``Idempotency-Key`` becomes one never used before: generated keys repeat
      (``"0"``, ``"a"``), and a repeat with another body is rightly refused as reused.
      Invalid keys (empty, too long, not printable ASCII) are sent as generated.
    - A webhook URL's host name becomes an address literal: the service resolves names
      when an endpoint is saved, and the tests send nothing beyond 127.0.0.1.
    - A valid batch of campaign codes is cut to a hundred: the largest (100 000) takes
      seconds and is tested on its own (tests/vouchers); invalid counts are sent as generated.
    """
    headers = case.headers or {}
    key = headers.get(IDEMPOTENCY_HEADER)
    if (
        isinstance(key, str)
        and len(key) <= MAX_KEY_LENGTH
        and re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key)
    ):
        headers[IDEMPOTENCY_HEADER] = f"fuzz-{next(_keys)}"
    if case.path == "/v1/vouchers" and isinstance(case.body, dict):
        count = case.body.get("count")
        if type(count) is int and FUZZ_BATCH_SIZE < count <= MAX_BATCH:
            case.body["count"] = FUZZ_BATCH_SIZE
    if case.path.startswith("/v1/webhook-endpoints") and isinstance(case.body, dict):
        url = case.body.get("url")
        if isinstance(url, str):
            case.body["url"] = _without_host_name(url)


def _without_host_name(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return url
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return url
    netloc = WEBHOOK_ADDRESS if port is None else f"{WEBHOOK_ADDRESS}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))
