"""Earning points: purchases, receipts claimed later, and returns, as the programme's rulebook."""

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update

from app.api_keys.models import Scope
from app.earning.models import Purchase
from app.kit.codes import generate_code
from tests.factories import (
    adjust,
    assert_ledger_verifies,
    assert_problem,
    balance,
    claim,
    days_ago,
    enrol,
    execute,
    headers_for,
    idempotent,
    item,
    purchase,
    redeem,
    return_purchase,
    set_program,
    transactions,
    write,
)

BERLIN = ZoneInfo("Europe/Berlin")
CROCKFORD = "[0-9A-HJKMNP-TV-Z]"


def end_of_local_day(day: date) -> datetime:
    """Points become available, expire and claims close at the next local midnight."""
    return datetime.combine(day + timedelta(days=1), time(0), BERLIN)


def at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def berlin_today() -> date:
    return datetime.now(BERLIN).date()


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, name="Anna")


# Purchases


async def test_a_purchase_earns_one_point_per_euro_rounded_down(client, pos, anna):
    bought = await purchase(client, pos, anna, 4590, order_id="POS-3-000912")

    assert bought["member_id"] == anna["id"]
    assert bought["order_id"] == "POS-3-000912"
    assert (bought["total"], bought["currency"]) == (4590, "EUR")
    assert bought["points_earned"] == 45
    assert bought["points_pending"] == 0
    assert bought["available_at"] is None
    assert bought["claim_code"] is None
    assert bought["balance"] == {"available": 45, "pending": 0}
    assert (await balance(client, pos, anna))["available"] == 45


async def test_a_fractional_rate_earns_rounded_down_points(client, admin, pos, anna):
    await set_program(client, admin, points_per_currency_unit="0.1")  # 1 point per 10.00

    earned = [(await purchase(client, pos, anna, total))["points_earned"] for total in (4590, 999)]

    assert earned == [4, 0]
    assert (await balance(client, pos, anna))["available"] == 4


async def test_in_yen_a_minor_unit_is_a_whole_yen(client, admin, pos, anna):
    await set_program(client, admin, currency="JPY", points_per_currency_unit="0.01")

    bought = await purchase(client, pos, anna, 1234, currency="JPY")  # ¥1,234, 1 point per ¥100

    assert bought["points_earned"] == 12


async def test_a_till_may_name_the_member_by_card_number(client, pos, anna):
    bought = await purchase(client, pos, anna, 1000, by_card=True)
    unknown_card = await write(
        client,
        "/v1/purchases",
        pos,
        {
            "card_number": "2712345678901236",
            "order_id": "o-2",
            "channel": "pos",
            "currency": "EUR",
            "total": 1000,
        },
    )

    assert bought["member_id"] == anna["id"]
    assert bought["points_earned"] == 10
    assert_problem(unknown_card, 404, "member_not_found")


async def test_points_stay_pending_until_the_end_of_the_return_windows_last_local_day(
    client, admin, pos, anna
):
    await set_program(client, admin, pending_days=14)
    yesterday = berlin_today() - timedelta(days=1)
    occurred_at = datetime.combine(yesterday, time(12), BERLIN)

    bought = await purchase(client, pos, anna, 4590, occurred_at=occurred_at)

    assert bought["points_earned"] == 45
    assert bought["points_pending"] == 45
    assert at(bought["available_at"]) == end_of_local_day(yesterday + timedelta(days=14))
    assert bought["balance"] == {"available": 0, "pending": 45}
    current = await balance(client, pos, anna)
    assert (current["available"], current["pending"], current["lifetime_earned"]) == (0, 45, 45)
    # A sale forwarded after its return window closed is available at once.
    late = await purchase(client, pos, anna, 1000, occurred_at=days_ago(20))
    assert (late["points_pending"], late["available_at"]) == (0, None)
    assert late["balance"] == {"available": 10, "pending": 45}


async def test_points_expire_at_the_end_of_the_local_day_months_after_the_sale(
    client, admin, pos, anna
):
    two_years = await purchase(
        client, pos, anna, 1000, occurred_at=datetime(2025, 3, 1, 10, tzinfo=BERLIN)
    )
    await set_program(client, admin, points_expiry_months=6)
    across_daylight_saving = await purchase(
        client, pos, anna, 1000, occurred_at=datetime(2026, 9, 15, 12, tzinfo=BERLIN)
    )
    from_a_months_last_day = await purchase(
        client, pos, anna, 1000, occurred_at=datetime(2026, 8, 31, 12, tzinfo=BERLIN)
    )
    await set_program(client, admin, points_expiry_months=0)
    never = await purchase(client, pos, anna, 1000)

    # 1 March 2025 + 24 months: spendable all of 1 March 2027, Berlin time (CET, +01:00).
    assert at(two_years["expires_at"]) == datetime(2027, 3, 1, 23, tzinfo=UTC)
    # Bought in summer time (+02:00), expires in winter time (+01:00).
    assert at(across_daylight_saving["expires_at"]) == datetime(2027, 3, 15, 23, tzinfo=UTC)
    # 31 August + 6 months is the last day of February.
    assert at(from_a_months_last_day["expires_at"]) == datetime(2027, 2, 28, 23, tzinfo=UTC)
    assert never["expires_at"] is None


async def test_one_purchase_per_order_id_whatever_the_idempotency_key(client, pos, anna):
    ben = await enrol(client, pos, name="Ben")
    first = await purchase(client, pos, anna, 4590, order_id="POS-3-000912")
    body = {
        "member_id": anna["id"],
        "order_id": "POS-3-000912",
        "channel": "pos",
        "currency": "EUR",
        "total": 4590,
    }

    again = await write(client, "/v1/purchases", pos, body)
    for_ben = await write(client, "/v1/purchases", pos, {**body, "member_id": ben["id"]})

    problem = assert_problem(again, 409, "purchase_exists")
    assert problem["purchase_id"] == first["id"]
    assert_problem(for_ben, 409, "purchase_exists")
    assert (await balance(client, pos, anna))["available"] == 45
    assert (await balance(client, pos, ben))["available"] == 0


async def test_a_retry_with_the_same_idempotency_key_replays_and_earns_nothing_more(
    client, pos, anna
):
    body = {"member_id": anna["id"], "order_id": "o-1", "channel": "pos", "currency": "EUR"}
    headers = idempotent(pos, "till-3-receipt-912")

    first = await client.post("/v1/purchases", json={**body, "total": 4590}, headers=headers)
    retry = await client.post("/v1/purchases", json={**body, "total": 4590}, headers=headers)
    other_request = await client.post("/v1/purchases", json={**body, "total": 10}, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert_problem(other_request, 422, "idempotency_key_reused")
    assert (await balance(client, pos, anna))["available"] == 45


async def test_purchases_that_cannot_be_recorded(app, client, pos, anna):
    body = {"member_id": anna["id"], "order_id": "o-1", "channel": "pos", "total": 4590}
    partner = await headers_for(app, Scope.partner)

    in_dollars = await write(client, "/v1/purchases", pos, {**body, "currency": "USD"})
    without_key = await client.post("/v1/purchases", json={**body, "currency": "EUR"}, headers=pos)
    member_twice = await write(
        client,
        "/v1/purchases",
        pos,
        {**body, "currency": "EUR", "card_number": anna["card_number"]},
    )
    unknown_member = await write(
        client, "/v1/purchases", pos, {**body, "currency": "EUR", "member_id": str(uuid.uuid4())}
    )
    by_a_partner = await write(client, "/v1/purchases", partner, {**body, "currency": "EUR"})

    assert "EUR" in assert_problem(in_dollars, 422, "currency_mismatch")["detail"]
    assert_problem(without_key, 400, "idempotency_key_missing")
    assert_problem(member_twice, 422, "validation_error")
    assert_problem(unknown_member, 404, "member_not_found")
    assert_problem(by_a_partner, 403, "insufficient_scope")
    assert await balance(client, pos, anna) == {
        "available": 0,
        "pending": 0,
        "lifetime_earned": 0,
        "expiring": [],
    }


# Receipts claimed later


async def test_a_receipt_without_a_member_gets_a_claim_code_and_earns_nothing_yet(
    client, admin, pos
):
    await set_program(client, admin, receipt_claim_days=1)

    receipt = await purchase(client, pos, None, 4590)

    assert re.fullmatch(
        f"R{CROCKFORD}{{3}}-{CROCKFORD}{{4}}-{CROCKFORD}{{4}}-{CROCKFORD}{{2}}",
        receipt["claim_code"],
    )
    assert at(receipt["claim_expires_at"]) == end_of_local_day(berlin_today() + timedelta(days=1))
    assert receipt["member_id"] is None
    assert receipt["points_earned"] == 45
    assert receipt["balance"] is None


async def test_a_member_claims_a_receipts_points_once_typing_the_code_loosely(client, pos, anna):
    ben = await enrol(client, pos, name="Ben")
    receipt = await purchase(client, pos, None, 4590, order_id="POS-3-000913")
    typed = receipt["claim_code"].lower().replace("-", " ")

    claimed = await claim(client, pos, typed, anna)
    again = await claim(client, pos, receipt["claim_code"], anna)
    by_ben = await claim(client, pos, receipt["claim_code"], ben)

    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["purchase_id"] == receipt["id"]
    assert claimed.json()["member_id"] == anna["id"]
    assert claimed.json()["points"] == 45
    assert claimed.json()["balance"] == {"available": 45, "pending": 0}
    assert_problem(again, 409, "receipt_already_claimed")
    assert_problem(by_ben, 409, "receipt_already_claimed")
    assert (await balance(client, pos, anna))["available"] == 45
    assert (await balance(client, pos, ben))["available"] == 0
    [entry] = (await transactions(client, pos, anna))["items"]
    assert (entry["type"], entry["points"], entry["reference"]) == (
        "receipt_claim",
        45,
        "POS-3-000913",
    )


async def test_a_mistyped_claim_code_is_told_apart_from_an_unknown_one(client, pos, anna):
    receipt = await purchase(client, pos, None, 4590)
    code = receipt["claim_code"]
    swapped_symbol = "7" if code[6] != "7" else "8"
    mistyped = code[:6] + swapped_symbol + code[7:]

    typo = await claim(client, pos, mistyped, anna)
    unknown = await claim(client, pos, generate_code("R"), anna)
    voucher_code = await claim(client, pos, generate_code("V"), anna)

    assert_problem(typo, 422, "claim_code_invalid")
    assert_problem(unknown, 404, "claim_code_not_found")
    assert_problem(voucher_code, 422, "claim_code_invalid")
    assert (await claim(client, pos, code, anna)).status_code == 201


async def test_a_receipt_cannot_be_claimed_after_its_window(app, client, pos, anna):
    receipt = await purchase(client, pos, None, 4590)
    await execute(
        app,
        update(Purchase)
        .where(Purchase.id == uuid.UUID(receipt["id"]))
        .values(claim_expires_at=datetime.now(UTC) - timedelta(seconds=1)),
    )

    response = await claim(client, pos, receipt["claim_code"], anna)

    assert_problem(response, 410, "receipt_claim_expired")
    assert (await balance(client, pos, anna))["available"] == 0


async def test_a_return_before_the_claim_reduces_what_the_claim_credits(client, pos, anna):
    receipt = await purchase(client, pos, None, 10000)

    returned = await return_purchase(client, pos, receipt, amount=2500)
    claimed = await claim(client, pos, receipt["claim_code"], anna)

    assert (returned["points_reversed"], returned["balance"]) == (25, None)
    assert claimed.json()["points"] == 75
    assert (await balance(client, pos, anna))["available"] == 75


# Returns


async def test_a_return_by_items_shares_the_receipts_discount_out_proportionally(client, pos, anna):
    # Two bags of coffee at 18.00 and a mug at 9.90 (45.90), paid 40.00 after a discount.
    bought = await purchase(
        client,
        pos,
        anna,
        4000,
        items=[item("COFFEE-1KG", 2, 1800, "coffee"), item("MUG", 1, 990, "merch")],
    )
    assert bought["points_earned"] == 40

    mug = await return_purchase(client, pos, bought, items={"MUG": 1})
    coffee = await return_purchase(client, pos, bought, items={"COFFEE-1KG": 2})

    # The mug was 9.90 of 45.90: 40.00 * 990 / 4590 = 8.62, refunded 8.62, 8 points back.
    assert (mug["amount"], mug["points_reversed"], mug["shortfall"]) == (862, 8, 0)
    assert mug["balance"] == {"available": 32, "pending": 0}
    # The last items returned take what is left: 31.38 and the remaining 32 points.
    assert (coffee["amount"], coffee["points_reversed"]) == (3138, 32)
    assert coffee["balance"] == {"available": 0, "pending": 0}


async def test_an_item_on_several_lines_is_returned_at_its_average_price(client, pos, anna):
    # Buy one, get one free: the second bag is its own line at 0.00. 27.90 paid, 27 points.
    bought = await purchase(
        client,
        pos,
        anna,
        2790,
        items=[item("COFFEE-1KG", 1, 1800), item("COFFEE-1KG", 1, 0), item("MUG", 1, 990)],
    )

    mug = await return_purchase(client, pos, bought, items={"MUG": 1})
    one_bag = await return_purchase(client, pos, bought, items={"COFFEE-1KG": 1})
    other_bag = await return_purchase(client, pos, bought, items={"COFFEE-1KG": 1})

    # The mug is 9.90 of 27.90; each bag is worth half of the 18.00 the two cost.
    assert [r["amount"] for r in (mug, one_bag, other_bag)] == [990, 900, 900]
    assert [r["points_reversed"] for r in (mug, one_bag, other_bag)] == [9, 9, 9]


async def test_partial_returns_by_amount_never_take_back_more_than_was_earned(client, pos, anna):
    bought = await purchase(client, pos, anna, 1000)  # 10.00: 10 points

    reversed_points = [
        (await return_purchase(client, pos, bought, amount=amount))["points_reversed"]
        for amount in (333, 333, 334)
    ]

    # Counted on what was returned in all: 3.33 -> 3, 6.66 -> 6, 10.00 -> 10.
    assert reversed_points == [3, 3, 4]
    current = await balance(client, pos, anna)
    assert (current["available"], current["lifetime_earned"]) == (0, 0)


async def test_a_return_by_amount_takes_back_the_proportional_points(client, pos, anna):
    bought = await purchase(client, pos, anna, 5000)

    returned = await return_purchase(client, pos, bought, amount=2000)

    assert (returned["amount"], returned["points_reversed"]) == (2000, 20)
    assert returned["balance"] == {"available": 30, "pending": 0}
    [reversal, _] = (await transactions(client, pos, anna))["items"]
    assert (reversal["type"], reversal["points"]) == ("purchase_return", -20)
    assert reversal["reference"] == bought["order_id"]


async def test_a_return_of_more_than_was_bought_is_422(client, pos, anna):
    bought = await purchase(
        client, pos, anna, 4590, items=[item("COFFEE-1KG", 2, 1800), item("MUG", 1, 990)]
    )
    await return_purchase(client, pos, bought, items={"MUG": 1})
    path = f"/v1/purchases/{bought['id']}/returns"

    refused = [
        await write(client, path, pos, body)
        for body in (
            {"amount": 4590},  # 9.90 of it were returned already
            {"items": [{"sku": "MUG", "quantity": 1}]},
            {"items": [{"sku": "COFFEE-1KG", "quantity": 3}]},
            {"items": [{"sku": "TEA", "quantity": 1}]},
        )
    ]
    unknown = await write(client, f"/v1/purchases/{uuid.uuid4()}/returns", pos, {"amount": 1})
    neither = await write(client, path, pos, {})

    for response in refused:
        assert_problem(response, 422, "return_exceeds_purchase")
    assert_problem(unknown, 404, "purchase_not_found")
    assert_problem(neither, 422, "validation_error")
    assert (await balance(client, pos, anna))["available"] == 45 - 9


async def test_a_return_takes_pending_points_first(client, admin, pos, anna):
    await adjust(client, admin, anna, 100, "welcome")
    await set_program(client, admin, pending_days=14)
    bought = await purchase(client, pos, anna, 5000)

    returned = await return_purchase(client, pos, bought, amount=2000)

    assert returned["points_reversed"] == 20
    assert returned["balance"] == {"available": 100, "pending": 30}


async def test_unlimited_returns_may_leave_a_debt_that_the_next_purchases_pay_back(
    app, client, pos, anna
):
    # Points earned about 23 months ago expire within 90 days, so the balance lists them.
    first = await purchase(client, pos, anna, 10000, occurred_at=days_ago(700))
    await redeem(client, pos, anna, 80)

    returned = await return_purchase(client, pos, first, amount=10000)

    assert (returned["points_reversed"], returned["shortfall"]) == (100, 0)
    assert returned["balance"] == {"available": -80, "pending": 0}
    assert (await balance(client, pos, anna))["expiring"] == []

    paying_back = await purchase(client, pos, anna, 5000, occurred_at=days_ago(690))
    assert paying_back["balance"] == {"available": -30, "pending": 0}
    in_credit = await purchase(client, pos, anna, 10000, occurred_at=days_ago(680))
    assert in_credit["balance"] == {"available": 70, "pending": 0}

    # 30 of the last purchase's 100 points paid the debt; its lot holds the other 70.
    current = await balance(client, pos, anna)
    assert current["expiring"] == [{"points": 70, "expires_at": in_credit["expires_at"]}]
    too_much = await write(client, f"/v1/members/{anna['id']}/redemptions", pos, {"points": 71})
    assert assert_problem(too_much, 409, "insufficient_points")["available"] == 70
    await assert_ledger_verifies(app)


async def test_within_balance_returns_stop_at_zero_and_report_the_shortfall(
    app, client, admin, pos, anna
):
    await set_program(client, admin, return_policy="within_balance")
    first = await purchase(client, pos, anna, 10000)
    await redeem(client, pos, anna, 80)

    returned = await return_purchase(client, pos, first, amount=10000)
    later = await purchase(client, pos, anna, 5000)

    assert (returned["points_reversed"], returned["shortfall"]) == (20, 80)
    assert returned["balance"] == {"available": 0, "pending": 0}
    assert later["balance"] == {"available": 50, "pending": 0}
    await assert_ledger_verifies(app)


async def test_only_pending_returns_take_back_only_points_still_pending(
    app, client, admin, pos, anna
):
    await set_program(client, admin, pending_days=14, return_policy="only_pending")
    settled = await purchase(client, pos, anna, 10000, occurred_at=days_ago(30))
    recent = await purchase(client, pos, anna, 5000)

    from_settled = await return_purchase(client, pos, settled, amount=5000)
    from_recent = await return_purchase(client, pos, recent, amount=2000)

    assert (from_settled["points_reversed"], from_settled["shortfall"]) == (0, 50)
    assert (from_recent["points_reversed"], from_recent["shortfall"]) == (20, 0)
    assert from_recent["balance"] == {"available": 100, "pending": 30}
    await assert_ledger_verifies(app)


async def test_a_return_after_the_points_expired_takes_them_from_the_expired_points(
    client, pos, anna
):
    """Anna already lost the points to expiry: the return must not take them a second time."""
    old = await purchase(client, pos, anna, 10000, occurred_at=days_ago(740))
    fresh = await purchase(client, pos, anna, 3000)
    assert (await redeem(client, pos, anna, 5))["balance"]["available"] == 25  # 100 expired

    returned = await return_purchase(client, pos, old, amount=10000)

    assert returned["points_reversed"] == 100
    assert returned["shortfall"] == 0
    assert returned["balance"] == {"available": 25, "pending": 0}
    assert (await balance(client, pos, anna))["available"] == 25
    assert fresh["points_earned"] == 30


async def test_a_receipts_claim_code_is_not_kept_for_replays(app, client, pos):
    """Only the response that creates a claim code shows it; a replay says null."""
    body = {"order_id": "no-card-1", "channel": "pos", "currency": "EUR", "total": 1234}
    headers = idempotent(pos, "receipt-1")
    first = await client.post("/v1/purchases", json=body, headers=headers)
    replay = await client.post("/v1/purchases", json=body, headers=headers)

    code = first.json()["claim_code"]
    assert re.fullmatch(r"R\w{3}-\w{4}-\w{4}-\w{2}", code)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == {**first.json(), "claim_code": None}
    async with app.state.runtime.sessionmaker() as session:
        stored = await session.scalar(text("SELECT response_body FROM idempotency_record"))
    assert code.encode() not in stored
    assert code.replace("-", "").encode() not in stored
