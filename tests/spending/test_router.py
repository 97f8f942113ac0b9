"""Spending points: paying with points, cancelling a payment, and goodwill adjustments."""

import uuid
from datetime import datetime, timedelta

import pytest

from app.api_keys.models import Scope
from app.ledger import jobs
from tests.factories import (
    adjust,
    assert_problem,
    balance,
    cancel_redemption,
    days_ago,
    enrol,
    headers_for,
    purchase,
    redeem,
    set_program,
    transactions,
    write,
)


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, name="Anna")


def redemptions_of(member) -> str:
    return f"/v1/members/{member['id']}/redemptions"


# Redemptions


async def test_paying_with_points_is_worth_the_programmes_point_value(client, admin, pos, anna):
    await set_program(client, admin, point_value_minor=5)  # 1 point pays 0.05 EUR
    await purchase(client, pos, anna, 20000)

    paid = await redeem(client, pos, anna, 150, order_id="POS-3-000913")

    assert paid["points"] == 150
    assert (paid["value_minor"], paid["currency"]) == (750, "EUR")
    assert paid["order_id"] == "POS-3-000913"
    assert paid["status"] == "completed"
    assert paid["member_id"] == anna["id"]
    assert paid["balance"] == {"available": 50, "pending": 0}
    newest = (await transactions(client, pos, anna))["items"][0]
    assert (newest["type"], newest["points"], newest["reference"]) == (
        "redemption",
        -150,
        "POS-3-000913",
    )


async def test_the_points_that_expire_first_are_spent_first(app, client, pos, anna):
    # Bought in this order, but the older sale's points expire about a month sooner.
    later = await purchase(client, pos, anna, 10000, occurred_at=days_ago(670))
    sooner = await purchase(client, pos, anna, 10000, occurred_at=days_ago(700))

    await redeem(client, pos, anna, 150)

    current = await balance(client, pos, anna)
    assert current["available"] == 50
    assert current["expiring"] == [{"points": 50, "expires_at": later["expires_at"]}]
    # When the sooner lot's date comes, nothing of it is left to expire; the later one's 50 are.
    sessionmaker = app.state.runtime.sessionmaker
    sooner_expiry = datetime.fromisoformat(sooner["expires_at"])
    later_expiry = datetime.fromisoformat(later["expires_at"])
    assert await jobs.expire_due_lots(sessionmaker, now=sooner_expiry + timedelta(seconds=1)) == 0
    assert (await balance(client, pos, anna))["available"] == 50
    assert await jobs.expire_due_lots(sessionmaker, now=later_expiry + timedelta(seconds=1)) == 1
    assert (await balance(client, pos, anna))["available"] == 0


async def test_points_never_expiring_are_spent_last(client, admin, pos, anna):
    await set_program(client, admin, points_expiry_months=0)
    await purchase(client, pos, anna, 10000)
    await set_program(client, admin, points_expiry_months=24)
    expiring = await purchase(client, pos, anna, 10000, occurred_at=days_ago(700))

    await redeem(client, pos, anna, 60)

    assert (await balance(client, pos, anna))["expiring"] == [
        {"points": 40, "expires_at": expiring["expires_at"]}
    ]


async def test_paying_more_points_than_available_is_409_with_what_is_available(
    client, admin, pos, anna
):
    await purchase(client, pos, anna, 4590)
    await set_program(client, admin, pending_days=14)
    await purchase(client, pos, anna, 10000)  # pending: not to be spent yet

    response = await write(client, redemptions_of(anna), pos, {"points": 46})

    problem = assert_problem(response, 409, "insufficient_points")
    assert (problem["available"], problem["requested"]) == (45, 46)
    assert (await balance(client, pos, anna))["available"] == 45
    assert (await redeem(client, pos, anna, 45))["balance"]["available"] == 0


async def test_one_redemption_per_member_and_order(client, pos, anna):
    ben = await enrol(client, pos, name="Ben")
    for member in (anna, ben):
        await purchase(client, pos, member, 10000)
    first = await redeem(client, pos, anna, 10, order_id="web-77")

    again = await write(client, redemptions_of(anna), pos, {"points": 10, "order_id": "web-77"})
    bens = await redeem(client, pos, ben, 10, order_id="web-77")

    assert assert_problem(again, 409, "redemption_exists")["redemption_id"] == first["id"]
    assert (await balance(client, pos, anna))["available"] == 90
    assert bens["balance"]["available"] == 90


async def test_cancelling_gives_the_points_back_with_their_original_expiry(client, pos, anna):
    later = await purchase(client, pos, anna, 10000, occurred_at=days_ago(670))
    sooner = await purchase(client, pos, anna, 5000, occurred_at=days_ago(700))
    paid = await redeem(client, pos, anna, 120, order_id="web-78")

    cancelled = await cancel_redemption(client, pos, paid)
    again = await cancel_redemption(client, pos, paid)
    unknown = await cancel_redemption(client, pos, str(uuid.uuid4()))

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["balance"] == {"available": 150, "pending": 0}
    assert (await balance(client, pos, anna))["expiring"] == [
        {"points": 50, "expires_at": sooner["expires_at"]},
        {"points": 100, "expires_at": later["expires_at"]},
    ]
    assert_problem(again, 409, "redemption_already_cancelled")
    assert_problem(unknown, 404, "redemption_not_found")
    newest = (await transactions(client, pos, anna))["items"][0]
    assert (newest["type"], newest["points"], newest["reference"]) == (
        "redemption_cancel",
        120,
        "web-78",
    )


async def test_redemptions_that_cannot_be_made(client, pos, anna):
    await purchase(client, pos, anna, 10000)

    without_key = await client.post(redemptions_of(anna), json={"points": 10}, headers=pos)
    nothing = await write(client, redemptions_of(anna), pos, {"points": 0})
    negative = await write(client, redemptions_of(anna), pos, {"points": -10})
    unknown_member = await write(
        client, f"/v1/members/{uuid.uuid4()}/redemptions", pos, {"points": 1}
    )

    assert_problem(without_key, 400, "idempotency_key_missing")
    assert_problem(nothing, 422, "validation_error")
    assert_problem(negative, 422, "validation_error")
    assert_problem(unknown_member, 404, "member_not_found")
    assert (await balance(client, pos, anna))["available"] == 100


# Adjustments


async def test_a_goodwill_credit_stays_in_the_ledger_with_its_reason(client, admin, pos, anna):
    credited = await adjust(client, admin, anna, 200, "Kulanz: late delivery")

    assert (credited["points"], credited["reason"]) == (200, "Kulanz: late delivery")
    assert credited["balance"] == {"available": 200, "pending": 0}
    [entry] = (await transactions(client, pos, anna))["items"]
    assert (entry["type"], entry["points"], entry["reason"]) == (
        "adjustment",
        200,
        "Kulanz: late delivery",
    )
    assert entry["id"] == credited["id"]
    assert (await balance(client, pos, anna))["lifetime_earned"] == 200


async def test_a_correction_takes_points_away_but_not_more_than_there_are(client, admin, pos, anna):
    await adjust(client, admin, anna, 200, "Kulanz")

    corrected = await adjust(client, admin, anna, -50, "double credit")
    too_much = await write(
        client,
        f"/v1/members/{anna['id']}/adjustments",
        admin,
        {"points": -151, "reason": "typo"},
    )

    assert corrected["balance"] == {"available": 150, "pending": 0}
    assert assert_problem(too_much, 409, "insufficient_points")["available"] == 150
    assert (await balance(client, pos, anna))["available"] == 150
    newest = (await transactions(client, pos, anna))["items"][0]
    assert (newest["points"], newest["reason"]) == (-50, "double credit")


async def test_an_adjustment_needs_points_and_a_reason(client, admin, pos, anna):
    path = f"/v1/members/{anna['id']}/adjustments"

    for invalid in (
        {"points": 0, "reason": "nothing"},
        {"points": 10},
        {"points": 10, "reason": ""},
    ):
        assert_problem(await write(client, path, admin, invalid), 422, "validation_error")
    assert (await balance(client, pos, anna))["available"] == 0


async def test_only_admins_adjust_points(app, client, pos, anna):
    shop = await headers_for(app, Scope.shop)
    path = f"/v1/members/{anna['id']}/adjustments"

    for headers in (pos, shop):
        response = await write(client, path, headers, {"points": 100, "reason": "self-service"})

        assert_problem(response, 403, "insufficient_scope")
    assert (await balance(client, pos, anna))["available"] == 0


async def test_points_past_their_expiry_cannot_be_spent_even_before_the_expiry_job(
    client, pos, anna
):
    await purchase(client, pos, anna, 10000, occurred_at=days_ago(740))  # expired ~10 days ago
    await purchase(client, pos, anna, 2000)

    refused = await write(client, f"/v1/members/{anna['id']}/redemptions", pos, {"points": 50})

    assert_problem(refused, 409, "insufficient_points")
    assert refused.json()["available"] == 20
    paid = await redeem(client, pos, anna, 20)
    assert paid["balance"] == {"available": 0, "pending": 0}
    kinds = [entry["type"] for entry in (await transactions(client, pos, anna))["items"]]
    assert kinds == ["redemption", "expiry", "purchase", "purchase"]
