"""Voucher requests take exactly what the OpenAPI document allows: counts, values and
amounts are JSON integers, ids hyphenated UUIDs; a refused batch issues no voucher."""

import pytest
from sqlalchemy import func, select

from app.vouchers.models import Voucher
from tests.factories import assert_problem, write

TEMPLATE = {"kind": "amount", "value": 500, "valid_days": 30}


async def vouchers(app):
    async with app.state.runtime.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Voucher))


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"template": TEMPLATE, "count": "10"}, ["body", "count"]),
        ({"template": TEMPLATE, "count": True}, ["body", "count"]),
        ({"template": {**TEMPLATE, "value": True}, "count": 1}, ["body", "template", "value"]),
        (
            {"template": {**TEMPLATE, "valid_days": "30"}, "count": 1},
            ["body", "template", "valid_days"],
        ),
        (
            {"template": {**TEMPLATE, "min_order_total": 20.5}, "count": 1},
            ["body", "template", "min_order_total"],
        ),
        ({"reward_id": "0193c2a45b6e7c8d9e0f1a2b3c4d5e6f", "count": 1}, ["body", "reward_id"]),
    ],
)
async def test_a_batch_the_document_calls_invalid_is_refused_and_issues_nothing(
    app, client, admin, body, loc
):
    response = await write(client, "/v1/vouchers", admin, body)

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [loc]
    assert await vouchers(app) == 0
