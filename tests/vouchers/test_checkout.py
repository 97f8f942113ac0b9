"""A checkout with a voucher through the API, on SQLite and PostgreSQL: validate, reserve,
redeem, release, roll back; every refusal; reservation expiry; the clean-up job; code
normalisation and typos; the brute-force limit."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from app.api_keys.models import Scope
from app.jobs import JOBS
from app.kit import codes
from app.vouchers.checkout import clean_up_vouchers
from app.vouchers.models import Voucher
from tests.factories import Headers, assert_problem, execute, headers_for, idempotent, write
from tests.vouchers.checkout_helpers import (
    count_history,
    make_voucher,
    redemptions,
    stored_voucher,
    voucher_history,
)


@pytest.fixture
async def till(app: FastAPI) -> Headers:
    return await headers_for(app, Scope.pos)


def order(total: int = 4000, **fields: Any) -> dict[str, Any]:
    return {"total": total, "currency": "EUR", **fields}


async def validate(
    client: httpx.AsyncClient, till: Headers, code: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/vouchers/{code}/validate", json=order(**fields), headers=till
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def reserve(
    client: httpx.AsyncClient, till: Headers, code: str, order_id: str, **fields: Any
) -> httpx.Response:
    body = {"order_id": order_id, **fields}
    return await write(client, f"/v1/vouchers/{code}/reservations", till, body)


async def redeem(
    client: httpx.AsyncClient, till: Headers, code: str, order_id: str, **fields: Any
) -> httpx.Response:
    body = {"order_id": order_id, **order(**fields)}
    return await write(client, f"/v1/vouchers/{code}/redeem", till, body)


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- the lifecycle ------------------------------------------------------------------------


async def test_full_lifecycle_validate_reserve_redeem_roll_back(app, client, till):
    code = await make_voucher(app, "amount", 500)

    assert await validate(client, till, code) == {"valid": True, "discount": 500, "reason": None}

    before = datetime.now(UTC)
    held = expect(await reserve(client, till, code, "WEB-1"), 201)
    expires_at = at(held["expires_at"])
    assert (
        before + timedelta(seconds=899) <= expires_at <= datetime.now(UTC) + timedelta(seconds=901)
    )

    # The same order again extends its hold under the same reservation.
    again = expect(await reserve(client, till, code, "WEB-1", ttl_seconds=1800), 201)
    assert again["reservation_id"] == held["reservation_id"]
    assert at(again["expires_at"]) > expires_at + timedelta(seconds=800)

    # Another order is refused while the hold lasts, and sees why when validating.
    assert_problem(await reserve(client, till, code, "WEB-2"), 409, "voucher_reserved")
    assert_problem(await redeem(client, till, code, "WEB-2"), 409, "voucher_reserved")
    assert await validate(client, till, code, order_id="WEB-2") == {
        "valid": False,
        "discount": 0,
        "reason": "voucher_reserved",
    }
    assert (await validate(client, till, code, order_id="WEB-1"))["valid"] is True

    redeemed = expect(
        await redeem(client, till, code, "WEB-1", reservation_id=held["reservation_id"]), 201
    )
    assert redeemed["discount"] == 500
    assert (await stored_voucher(app, code)).status == "redeemed"
    assert (await stored_voucher(app, code)).reservation_id is None

    assert_problem(await redeem(client, till, code, "WEB-3"), 409, "voucher_already_redeemed")
    assert_problem(await reserve(client, till, code, "WEB-3"), 409, "voucher_already_redeemed")
    assert (await validate(client, till, code))["reason"] == "voucher_already_redeemed"

    # A refund: the voucher is active again and another order can use it.
    path = f"/v1/vouchers/{code}/rollback"
    state = expect(
        await write(client, path, till, {"redemption_id": redeemed["redemption_id"]}), 200
    )
    assert state["status"] == "active"
    assert_problem(
        await write(client, path, till, {"redemption_id": redeemed["redemption_id"]}),
        409,
        "voucher_redemption_rolled_back",
    )
    second = expect(await redeem(client, till, code, "WEB-3", total=300), 201)
    assert second["discount"] == 300

    stored = await redemptions(app, code)
    assert [(r.order_id, r.discount, r.rolled_back_at is not None) for r in stored] == [
        ("WEB-1", 500, True),
        ("WEB-3", 300, False),
    ]
    assert await voucher_history(app, code) == [
        "reserved",
        "reservation_extended",
        "redeemed",
        "rolled_back",
        "redeemed",
    ]
    listed = expect(await client.get(f"/v1/vouchers/{code}/history", headers=till), 200)
    assert [change["action"] for change in listed["items"]] == [
        "redeemed",
        "rolled_back",
        "redeemed",
        "reservation_extended",
        "reserved",
    ]
    assert listed["items"][0]["order_id"] == "WEB-3"
    assert listed["items"][1]["data"] == {"redemption_id": redeemed["redemption_id"]}


async def test_validate_writes_nothing(app, client, till):
    code = await make_voucher(app, "percent", 1000)
    before = await count_history(app)

    assert await validate(client, till, code, total=1999) == {
        "valid": True,
        "discount": 199,
        "reason": None,
    }
    assert await count_history(app) == before
    voucher = await stored_voucher(app, code)
    assert (voucher.status, voucher.reservation_id) == ("active", None)


async def test_discount_of_each_kind_through_the_api(app, client, till):
    coffee = {"sku": "COFFEE", "category": "coffee", "quantity": 2, "unit_price": 1800}
    mug = {"sku": "MUG", "category": "merch", "quantity": 1, "unit_price": 1000}
    percent = await make_voucher(app, "percent", 5000, categories=["coffee"], max_discount=1500)
    product = await make_voucher(app, "product", None, sku="MUG")

    assert (await validate(client, till, percent, total=4600, items=[coffee, mug]))[
        "discount"
    ] == 1500
    redeemed = expect(await redeem(client, till, product, "POS-1", items=[coffee, mug]), 201)
    assert redeemed["discount"] == 1000


async def test_a_replayed_redeem_returns_the_first_answer_and_redeems_once(app, client, till):
    code = await make_voucher(app)
    headers = idempotent(till, "redeem-once")
    path = f"/v1/vouchers/{code}/redeem"
    body = {"order_id": "POS-1", **order()}

    first = await client.post(path, json=body, headers=headers)
    replay = await client.post(path, json=body, headers=headers)

    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert len(await redemptions(app, code)) == 1


# --- each refusal -------------------------------------------------------------------------

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("voucher", "request_fields", "reason", "status", "code"),
    [
        ({"expires_at": "past"}, {}, "voucher_expired", 410, "voucher_expired"),
        ({"valid_from": "future"}, {}, "voucher_not_yet_valid", 422, "voucher_not_applicable"),
        ({"status": "cancelled"}, {}, "voucher_cancelled", 409, "voucher_cancelled"),
        ({"status": "redeemed"}, {}, "voucher_already_redeemed", 409, "voucher_already_redeemed"),
        ({"status": "expired"}, {}, "voucher_expired", 410, "voucher_expired"),
        (
            {"channels": ["web"]},
            {"channel": "pos"},
            "channel_not_allowed",
            422,
            "voucher_not_applicable",
        ),
        (
            {"min_order_total": 5000},
            {"total": 4999},
            "below_min_order_total",
            422,
            "voucher_not_applicable",
        ),
        (
            {"categories": ["tea"]},
            {"items": [{"sku": "MUG", "category": "merch", "quantity": 1, "unit_price": 4000}]},
            "no_applicable_items",
            422,
            "voucher_not_applicable",
        ),
        ({}, {"currency": "USD"}, "currency_mismatch", 422, "voucher_not_applicable"),
    ],
)
async def test_each_refusal(app, client, till, voucher, request_fields, reason, status, code):
    now = datetime.now(UTC)
    fields = dict(voucher)
    if fields.get("expires_at") == "past":
        fields["valid_from"], fields["expires_at"] = now - 30 * DAY, now - DAY
    if fields.get("valid_from") == "future":
        fields["valid_from"] = now + DAY
    voucher_code = await make_voucher(app, **fields)
    body = order(**request_fields)

    assert await validate(client, till, voucher_code, **body) == {
        "valid": False,
        "discount": 0,
        "reason": reason,
    }
    problem = assert_problem(
        await redeem(client, till, voucher_code, "POS-1", **body), status, code
    )
    if code == "voucher_not_applicable":
        assert problem["reason"] == reason
    assert await redemptions(app, voucher_code) == []
    assert "redeemed" not in await voucher_history(app, voucher_code)


async def test_unknown_and_mistyped_codes(app, client, till):
    code = await make_voucher(app)
    canonical = codes.normalize_code(code)
    wrong_check = canonical[:-1] + ("0" if canonical[-1] != "0" else "1")
    unknown_body = "7KQ2M9XD4TNB"
    unknown = unknown_body + codes.check_symbol(unknown_body)

    bodies = {
        "validate": order(),
        "reservations": {"order_id": "POS-1"},
        "redeem": {"order_id": "POS-1", **order()},
    }
    for path, body in bodies.items():
        mistyped = await write(client, f"/v1/vouchers/{wrong_check}/{path}", till, body)
        assert_problem(mistyped, 422, "voucher_code_invalid")
        missing = await write(client, f"/v1/vouchers/{unknown}/{path}", till, body)
        assert_problem(missing, 404, "voucher_not_found")


async def test_a_reservation_id_that_is_not_the_vouchers_is_refused(app, client, till):
    code = await make_voucher(app)
    held = expect(await reserve(client, till, code, "WEB-1"), 201)
    other = await make_voucher(app)
    elsewhere = expect(await reserve(client, till, other, "WEB-1"), 201)

    response = await redeem(client, till, code, "WEB-1", reservation_id=elsewhere["reservation_id"])
    assert_problem(response, 404, "voucher_reservation_not_found")
    release = await write(
        client,
        f"/v1/vouchers/{code}/release",
        till,
        {"reservation_id": elsewhere["reservation_id"]},
    )
    assert_problem(release, 404, "voucher_reservation_not_found")
    rollback = await write(
        client, f"/v1/vouchers/{code}/rollback", till, {"redemption_id": held["reservation_id"]}
    )
    assert_problem(rollback, 404, "voucher_redemption_not_found")


async def test_the_scope_is_pos_or_shop(app, client):
    code = await make_voucher(app)
    partner = await headers_for(app, Scope.partner)
    response = await client.post(f"/v1/vouchers/{code}/validate", json=order(), headers=partner)
    assert_problem(response, 403, "insufficient_scope")
    shop = await headers_for(app, Scope.shop)
    assert (await validate(client, shop, code))["valid"] is True


# --- reservations: ttl, expiry, release ---------------------------------------------------


async def test_ttl_is_cut_to_the_configured_maximum(app, client, till):
    code = await make_voucher(app)
    held = expect(await reserve(client, till, code, "WEB-1", ttl_seconds=86_400), 201)
    assert at(held["expires_at"]) <= datetime.now(UTC) + timedelta(seconds=3600)
    assert at(held["expires_at"]) > datetime.now(UTC) + timedelta(seconds=3500)


async def test_a_lapsed_reservation_frees_the_voucher_without_a_job(app, client, till):
    code = await make_voucher(app)
    held = expect(await reserve(client, till, code, "WEB-1"), 201)
    assert_problem(await reserve(client, till, code, "WEB-2"), 409, "voucher_reserved")

    await execute(
        app,
        update(Voucher)
        .where(Voucher.id == (await stored_voucher(app, code)).id)
        .values(reserved_until=datetime.now(UTC) - timedelta(seconds=1)),
    )

    assert (await validate(client, till, code, order_id="WEB-2"))["valid"] is True
    taken = expect(await reserve(client, till, code, "WEB-2"), 201)
    assert taken["reservation_id"] != held["reservation_id"]
    # The first order's hold is gone: its reservation id no longer redeems.
    late = await redeem(client, till, code, "WEB-1", reservation_id=held["reservation_id"])
    assert_problem(late, 409, "voucher_reserved")
    expect(await redeem(client, till, code, "WEB-2", reservation_id=taken["reservation_id"]), 201)


async def test_a_lapsed_reservation_of_the_same_order_starts_a_new_one(app, client, till):
    code = await make_voucher(app)
    held = expect(await reserve(client, till, code, "WEB-1"), 201)
    await execute(
        app,
        update(Voucher)
        .where(Voucher.id == (await stored_voucher(app, code)).id)
        .values(reserved_until=datetime.now(UTC) - timedelta(seconds=1)),
    )
    again = expect(await reserve(client, till, code, "WEB-1"), 201)
    assert again["reservation_id"] != held["reservation_id"]
    assert await voucher_history(app, code) == ["reserved", "reserved"]


async def test_release_frees_the_voucher(app, client, till):
    code = await make_voucher(app)
    held = expect(await reserve(client, till, code, "WEB-1"), 201)
    path = f"/v1/vouchers/{code}/release"

    state = expect(await write(client, path, till, {"reservation_id": held["reservation_id"]}), 200)
    assert state["status"] == "active"
    assert state["reserved_until"] is None
    assert_problem(
        await write(client, path, till, {"reservation_id": held["reservation_id"]}),
        404,
        "voucher_reservation_not_found",
    )
    expect(await reserve(client, till, code, "WEB-2"), 201)
    assert await voucher_history(app, code) == ["reserved", "released", "reserved"]


async def test_rollback_after_the_expiry_date_leaves_the_voucher_expired(app, client, till):
    code = await make_voucher(app)
    redeemed = expect(await redeem(client, till, code, "POS-1"), 201)
    await execute(
        app,
        update(Voucher)
        .where(Voucher.id == (await stored_voucher(app, code)).id)
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)),
    )

    path = f"/v1/vouchers/{code}/rollback"
    state = expect(
        await write(client, path, till, {"redemption_id": redeemed["redemption_id"]}), 200
    )

    assert state["status"] == "expired"
    assert_problem(await redeem(client, till, code, "POS-2"), 410, "voucher_expired")
    first, *rest = await voucher_history(app, code)
    # Rolled back and expired are recorded at the same instant: in either order.
    assert (first, sorted(rest)) == ("redeemed", ["expired", "rolled_back"])


async def test_the_clean_up_job_clears_lapsed_reservations_and_expires_vouchers(app, client, till):
    lapsed_code, live_code, past_code = [await make_voucher(app) for _ in range(3)]
    expect(await reserve(client, till, lapsed_code, "WEB-1"), 201)
    expect(await reserve(client, till, live_code, "WEB-2"), 201)
    now = datetime.now(UTC)
    await execute(
        app,
        update(Voucher)
        .where(Voucher.id == (await stored_voucher(app, lapsed_code)).id)
        .values(reserved_until=now - timedelta(minutes=1)),
        update(Voucher)
        .where(Voucher.id == (await stored_voucher(app, past_code)).id)
        .values(expires_at=now - timedelta(minutes=1)),
    )
    assert "clean_up_vouchers" in JOBS

    sessionmaker = app.state.runtime.sessionmaker
    assert await clean_up_vouchers(sessionmaker, now) == 2
    assert await clean_up_vouchers(sessionmaker, now) == 0

    cleared = await stored_voucher(app, lapsed_code)
    assert (cleared.status, cleared.reservation_id, cleared.reserved_until) == (
        "active",
        None,
        None,
    )
    assert (await stored_voucher(app, live_code)).reserved_order_id == "WEB-2"
    assert (await stored_voucher(app, past_code)).status == "expired"
    assert await voucher_history(app, lapsed_code) == ["reserved", "reservation_expired"]
    assert await voucher_history(app, past_code) == ["expired"]


# --- codes: normalisation, typos, brute force ---------------------------------------------


async def test_codes_are_normalised(app, client, till):
    body = "0123ABCD1XYZ"
    canonical = body + codes.check_symbol(body)
    code = await make_voucher(app, code=codes.format_code(canonical))
    # Lower case, spaces instead of dashes, O for 0 and l / I for 1: what people type.
    typed = "o l23 abcd iXyZ " + canonical[-1].lower()

    assert (await validate(client, till, typed))["valid"] is True
    expect(await redeem(client, till, typed.replace(" ", "-"), "POS-1"), 201)
    assert (await stored_voucher(app, code)).status == "redeemed"


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(position=st.integers(0, 12), replacement=st.sampled_from(codes.ALPHABET))
async def test_any_single_mistyped_symbol_is_refused_as_mistyped(
    app, client, position, replacement
):
    till = await headers_for(app, Scope.pos)  # its own look-up budget for each example
    code = await make_voucher(app)
    canonical = codes.normalize_code(code)
    if canonical[position] == replacement:
        replacement = codes.ALPHABET[(codes.ALPHABET.index(replacement) + 1) % 32]
    typo = canonical[:position] + replacement + canonical[position + 1 :]

    assert (await validate(client, till, code))["valid"] is True
    response = await client.post(f"/v1/vouchers/{typo}/validate", json=order(), headers=till)
    assert_problem(response, 422, "voucher_code_invalid")


async def test_failed_look_ups_are_limited_per_api_key(app, client, till):
    code = await make_voucher(app)
    canonical = codes.normalize_code(code)
    mistyped = canonical[:-1] + ("0" if canonical[-1] != "0" else "1")
    unknown_body = "7KQ2M9XD4TNB"
    unknown = unknown_body + codes.check_symbol(unknown_body)

    for attempt in range(20):
        guess = mistyped if attempt % 2 else unknown
        response = await client.post(f"/v1/vouchers/{guess}/validate", json=order(), headers=till)
        assert response.status_code in (404, 422), response.text

    limited = await client.post(f"/v1/vouchers/{unknown}/validate", json=order(), headers=till)
    problem = assert_problem(limited, 429, "rate_limited")
    assert "code" in problem["detail"]
    assert int(limited.headers["Retry-After"]) >= 1
    # Also a right code, and also a write, while the key is limited.
    right = await client.post(f"/v1/vouchers/{code}/validate", json=order(), headers=till)
    assert_problem(right, 429, "rate_limited")
    assert_problem(await redeem(client, till, code, "POS-1"), 429, "rate_limited")

    other = await headers_for(app, Scope.pos)
    assert (await validate(client, other, code))["valid"] is True
    missing = await client.post(f"/v1/vouchers/{unknown}/validate", json=order(), headers=other)
    assert_problem(missing, 404, "voucher_not_found")
