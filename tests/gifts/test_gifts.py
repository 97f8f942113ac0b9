"""Gift-to-a-friend: points and rewards passed on by a code, claimed once, taken back or
expired back to the sender, with the gift escrow holding exactly the open gifts' points."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from app.api_keys.models import Scope
from app.events.models import Event
from app.gifts import service as gifts
from app.gifts.models import Gift
from app.ledger.models import AccountKind, EarnLot, Posting, program_account_id
from app.members.models import Member
from app.rewards.models import Reward
from app.vouchers.discount import Reason, Terms, usability
from app.vouchers.models import Voucher
from tests.factories import (
    adjust,
    assert_ledger_verifies,
    assert_problem,
    balance,
    enrol,
    execute,
    headers_for,
    idempotent,
    set_program,
    stammkunde,
    write,
)

BERLIN = ZoneInfo("Europe/Berlin")
GIFT_CODE = re.compile(r"^G[0-9A-HJKMNP-TV-Z]{3}(-[0-9A-HJKMNP-TV-Z]{4}){2}-[0-9A-HJKMNP-TV-Z]{2}$")


async def member_with(client, pos, admin, points: int, **fields: Any) -> dict[str, Any]:
    member = await enrol(client, pos, **fields)
    if points:
        await adjust(client, admin, member, points, "test points")
    return member


async def give(client, pos, sender, **body: Any) -> dict[str, Any]:
    response = await write(client, f"/v1/members/{sender['id']}/gifts", pos, body)
    assert response.status_code == 201, response.text
    gift: dict[str, Any] = response.json()
    return gift


async def claim_by(client, pos, code: str, **body: Any):
    return await write(client, f"/v1/gifts/{code}/claim", pos, body)


async def cancel_by(client, pos, code: str, member: dict[str, Any]):
    return await write(client, f"/v1/gifts/{code}/cancel", pos, {"member_id": member["id"]})


async def available(client, pos, member) -> int:
    return int((await balance(client, pos, member))["available"])


async def escrow_and_open_gifts(app) -> tuple[int, int]:
    """What the gift escrow account holds, and what the open gifts hold."""
    async with app.state.runtime.sessionmaker() as session:
        postings = (
            await session.execute(
                select(Posting.side, func.sum(Posting.amount))
                .where(Posting.account_id == program_account_id(AccountKind.gift_escrow))
                .group_by(Posting.side)
            )
        ).all()
        in_open = await session.scalar(
            select(func.coalesce(func.sum(Gift.points), 0)).where(Gift.status == "open")
        )
    sides = {side: int(total) for side, total in postings}
    return sides.get("credit", 0) - sides.get("debit", 0), int(in_open or 0)


async def assert_escrow_holds(app, points: int) -> None:
    assert await escrow_and_open_gifts(app) == (points, points)
    await assert_ledger_verifies(app)


async def event_types(app, member_id: str) -> list[str]:
    async with app.state.runtime.sessionmaker() as session:
        types = await session.scalars(
            select(Event.type)
            .where(Event.member_id == UUID(member_id), Event.type.like("gift.%"))
            .order_by(Event.created_at, Event.id)
        )
        return list(types)


async def test_points_leave_the_sender_at_once_and_become_the_friends_own(app, client, pos, admin):
    sender = await member_with(client, pos, admin, 1000, name="Anna Maria Schmidt")
    friend = await enrol(client, pos, name="Ben")

    gift = await give(client, pos, sender, points=300, message="Für dich!", recipient_hint="Ben")

    assert GIFT_CODE.match(gift["code"]), gift["code"]
    assert gift["code"].replace("-", "")[-4:] == gift["code_last4"]
    assert (gift["status"], gift["points"], gift["voucher"]) == ("open", 300, None)
    assert gift["balance"] == {"available": 700, "pending": 0}
    expected_expiry = datetime.combine(
        datetime.now(BERLIN).date() + timedelta(days=31), datetime.min.time(), BERLIN
    )
    assert datetime.fromisoformat(gift["expires_at"]) == expected_expiry
    await assert_escrow_holds(app, 300)

    shown = (await client.get(f"/v1/gifts/{gift['code'].lower()}", headers=pos)).json()
    assert shown == {
        "status": "open",
        "code_last4": gift["code_last4"],
        "points": 300,
        "voucher": None,
        "sender_first_name": "Anna",
        "message": "Für dich!",
        "expires_at": gift["expires_at"],
        "created_at": gift["created_at"],
    }

    response = await claim_by(client, pos, gift["code"], member_id=friend["id"])

    assert response.status_code == 201, response.text
    assert response.json() == {
        "gift_id": gift["id"],
        "member_id": friend["id"],
        "member_created": False,
        "points": 300,
        "voucher": None,
        "balance": {"available": 300, "pending": 0},
    }
    assert await available(client, pos, sender) == 700
    await assert_escrow_holds(app, 0)
    async with app.state.runtime.sessionmaker() as session:
        [lot] = await session.scalars(
            select(EarnLot).where(EarnLot.member_id == UUID(friend["id"]))
        )
    assert lot.remaining == 300
    assert lot.expires_at is not None
    assert lot.expires_at > datetime.now(UTC) + timedelta(days=700)  # a fresh 24 months
    assert (await client.get(f"/v1/gifts/{gift['code']}", headers=pos)).json()["status"] == (
        "claimed"
    )
    listed = (await client.get(f"/v1/members/{sender['id']}/gifts", headers=pos)).json()
    [summary] = listed["items"]
    assert (summary["status"], summary["recipient_id"], summary["recipient_hint"]) == (
        "claimed",
        friend["id"],
        "Ben",
    )
    assert "code" not in summary
    assert await event_types(app, sender["id"]) == ["gift.created"]
    assert await event_types(app, friend["id"]) == ["gift.claimed"]


async def test_a_friend_enrols_on_the_spot_referred_by_the_sender(app, client, pos, admin):
    sender = await member_with(client, pos, admin, 500)
    gift = await give(client, pos, sender, points=200)

    response = await claim_by(
        client, pos, gift["code"], member={"email": "ben@example.com", "name": "Ben"}
    )

    assert response.status_code == 201, response.text
    claimed = response.json()
    assert claimed["member_created"] is True
    assert claimed["balance"]["available"] == 200
    friend = (await client.get(f"/v1/members/{claimed['member_id']}", headers=pos)).json()
    assert (friend["email"], friend["referred_by_id"]) == ("ben@example.com", sender["id"])

    taken = await claim_by(client, pos, gift["code"], member={"email": "cleo@example.com"})
    assert_problem(taken, 409, "gift_already_claimed")
    assert (
        await client.get("/v1/members", params={"email": "cleo@example.com"}, headers=pos)
    ).json()["items"] == []


async def test_a_gift_is_claimed_once(app, client, pos, admin):
    sender = await member_with(client, pos, admin, 500)
    ben, cleo = await enrol(client, pos), await enrol(client, pos)
    gift = await give(client, pos, sender, points=200)
    assert (await claim_by(client, pos, gift["code"], member_id=ben["id"])).status_code == 201

    assert_problem(
        await claim_by(client, pos, gift["code"], member_id=cleo["id"]), 409, "gift_already_claimed"
    )
    assert_problem(await cancel_by(client, pos, gift["code"], sender), 409, "gift_already_claimed")
    assert await available(client, pos, cleo) == 0
    assert await available(client, pos, sender) == 300
    await assert_escrow_holds(app, 0)


async def test_the_sender_cannot_claim_their_own_gift_not_even_as_a_merged_duplicate(
    app, client, pos, admin
):
    sender = await member_with(client, pos, admin, 500)
    duplicate = await enrol(client, pos)
    await execute(
        app,
        update(Member)
        .where(Member.id == UUID(duplicate["id"]))
        .values(status="merged", merged_into_id=UUID(sender["id"])),
    )
    gift = await give(client, pos, sender, points=200)

    for claimer in (sender, duplicate):
        response = await claim_by(client, pos, gift["code"], member_id=claimer["id"])
        assert_problem(response, 422, "gift_own_claim")
    assert (await client.get(f"/v1/gifts/{gift['code']}", headers=pos)).json()["status"] == "open"
    await assert_escrow_holds(app, 200)


async def test_the_sender_takes_a_gift_back_into_the_lots_it_came_from(app, client, pos, admin):
    await set_program(client, admin, points_expiry_months=1)
    sender = await member_with(client, pos, admin, 500)
    before = (await balance(client, pos, sender))["expiring"]
    stranger = await enrol(client, pos)
    gift = await give(client, pos, sender, points=200)

    assert_problem(await cancel_by(client, pos, gift["code"], stranger), 422, "gift_not_sender")
    response = await cancel_by(client, pos, gift["code"], sender)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "gift_id": gift["id"],
        "status": "cancelled",
        "points": 200,
        "voucher_id": None,
        "balance": {"available": 500, "pending": 0},
    }
    assert (await balance(client, pos, sender))["expiring"] == before  # same lot, same expiry
    assert_problem(await cancel_by(client, pos, gift["code"], sender), 409, "gift_cancelled")
    assert_problem(
        await claim_by(client, pos, gift["code"], member_id=stranger["id"]), 409, "gift_cancelled"
    )
    assert await event_types(app, sender["id"]) == ["gift.created", "gift.cancelled"]
    await assert_escrow_holds(app, 0)


async def test_an_unclaimed_gift_expires_back_to_the_sender(app, client, pos, admin):
    sender = await member_with(client, pos, admin, 500)
    friend = await enrol(client, pos)
    gift = await give(client, pos, sender, points=200)
    await execute(
        app,
        update(Gift).where(Gift.id == UUID(gift["id"])).values(expires_at=datetime.now(UTC)),
    )

    assert (await client.get(f"/v1/gifts/{gift['code']}", headers=pos)).json()["status"] == (
        "expired"
    )
    assert_problem(
        await claim_by(client, pos, gift["code"], member_id=friend["id"]), 410, "gift_expired"
    )
    assert_problem(await cancel_by(client, pos, gift["code"], sender), 410, "gift_expired")
    await assert_escrow_holds(app, 200)  # until the job gives them back

    sessionmaker = app.state.runtime.sessionmaker
    assert await gifts.expire_due_gifts(sessionmaker, datetime.now(UTC)) == 1
    assert await gifts.expire_due_gifts(sessionmaker, datetime.now(UTC)) == 0

    assert await available(client, pos, sender) == 500
    assert await event_types(app, sender["id"]) == ["gift.created", "gift.expired"]
    await assert_escrow_holds(app, 0)


async def test_the_programmes_gift_limits(app, client, pos, admin):
    await set_program(
        client,
        admin,
        gift_min_points=10,
        gift_max_points=600,
        gift_max_open_per_member=2,
        gift_max_points_per_month=700,
    )
    sender = await member_with(client, pos, admin, 5000)
    path = f"/v1/members/{sender['id']}/gifts"

    assert_problem(await write(client, path, pos, {"points": 9}), 422, "gift_points_below_minimum")
    assert_problem(
        await write(client, path, pos, {"points": 601}), 422, "gift_points_above_maximum"
    )
    first = await give(client, pos, sender, points=300)
    await give(client, pos, sender, points=200)
    assert_problem(await write(client, path, pos, {"points": 10}), 422, "gift_open_limit_reached")

    await cancel_by(client, pos, first["code"], sender)  # no longer open nor given
    refused = await write(client, path, pos, {"points": 501})
    body = assert_problem(refused, 422, "gift_monthly_limit_reached")
    assert body["remaining"] == 500
    await give(client, pos, sender, points=500)
    assert await available(client, pos, sender) == 5000 - 700

    # Gifts of earlier months do not count towards this month's allowance.
    await execute(
        app,
        update(Gift)
        .where(Gift.sender_id == UUID(sender["id"]))
        .values(created_at=datetime.now(UTC) - timedelta(days=40)),
    )
    await set_program(client, admin, gift_max_open_per_member=0)
    await give(client, pos, sender, points=500)
    await assert_escrow_holds(app, 1200)


async def test_a_gift_needs_the_points(app, client, pos, admin):
    sender = await member_with(client, pos, admin, 100)
    response = await write(client, f"/v1/members/{sender['id']}/gifts", pos, {"points": 101})

    assert_problem(response, 409, "insufficient_points")
    assert await available(client, pos, sender) == 100
    await assert_escrow_holds(app, 0)


async def test_invalid_gifts_and_claims_are_422(app, client, pos, admin):
    sender = await member_with(client, pos, admin, 100)
    path = f"/v1/members/{sender['id']}/gifts"
    reward_id = "0193c2a4-5b6e-7c8d-9e0f-1a2b3c4d5e6f"
    for body in ({}, {"points": 10, "reward_id": reward_id}, {"points": 0}, {"points": 5, "x": 1}):
        assert_problem(await write(client, path, pos, body), 422, "validation_error")
    gift = await give(client, pos, sender, points=10)
    for body in ({}, {"member_id": sender["id"], "member": {"name": "Ben"}}):
        response = await write(client, f"/v1/gifts/{gift['code']}/claim", pos, body)
        assert_problem(response, 422, "validation_error")


async def test_codes_are_normalised_and_checked(app, client, pos, admin):
    sender = await member_with(client, pos, admin, 100)
    gift = await give(client, pos, sender, points=10)
    code = gift["code"]

    typed = " " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "
    assert (await client.get(f"/v1/gifts/{typed}", headers=pos)).status_code == 200
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert_problem(await client.get(f"/v1/gifts/{wrong}", headers=pos), 422, "gift_code_invalid")
    voucher_like = code[1:]
    assert_problem(
        await client.get(f"/v1/gifts/{voucher_like}", headers=pos), 422, "gift_code_invalid"
    )
    other = gifts.codes.generate_code(gifts.GIFT_CODE_PREFIX)
    assert_problem(await client.get(f"/v1/gifts/{other}", headers=pos), 404, "gift_not_found")


async def test_failed_gift_look_ups_are_limited_per_api_key(app, client):
    pos = await headers_for(app, Scope.pos)
    limit = app.state.runtime.settings.code_lookup_failures_per_minute
    unknown = gifts.codes.generate_code(gifts.GIFT_CODE_PREFIX)
    for _ in range(limit):
        assert (await client.get(f"/v1/gifts/{unknown}", headers=pos)).status_code == 404

    refused = await client.get(f"/v1/gifts/{unknown}", headers=pos)

    assert_problem(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1
    other_till = await headers_for(app, Scope.pos)
    assert (await client.get(f"/v1/gifts/{unknown}", headers=other_till)).status_code == 404


async def test_replays_answer_the_same_and_move_points_once(app, client, pos, admin):
    sender = await member_with(client, pos, admin, 500)
    friend = await enrol(client, pos)
    make = idempotent(pos, "gift-1")
    path = f"/v1/members/{sender['id']}/gifts"
    first = await client.post(path, json={"points": 200}, headers=make)
    again = await client.post(path, json={"points": 200}, headers=make)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == {**first.json(), "code": None}  # the code is never stored
    code = first.json()["code"]
    take = idempotent(pos, "claim-1")
    claimed = await client.post(
        f"/v1/gifts/{code}/claim", json={"member_id": friend["id"]}, headers=take
    )
    replayed = await client.post(
        f"/v1/gifts/{code}/claim", json={"member_id": friend["id"]}, headers=take
    )
    assert replayed.status_code == claimed.status_code == 201
    assert replayed.json() == claimed.json()
    assert await available(client, pos, sender) == 300
    assert await available(client, pos, friend) == 200
    await assert_escrow_holds(app, 0)


async def create_reward(client, admin, **fields: Any) -> dict[str, Any]:
    body = {"name": "5 € off", "cost_points": 400, "kind": "amount", "value": 500}
    response = await client.post(
        "/v1/rewards", json=body | {"valid_days": 30} | fields, headers=admin
    )
    assert response.status_code == 201, response.text
    reward: dict[str, Any] = response.json()
    return reward


async def stock_of(app, reward: dict[str, Any]) -> int | None:
    async with app.state.runtime.sessionmaker() as session:
        return await session.scalar(select(Reward.stock).where(Reward.id == UUID(reward["id"])))


async def test_a_reward_gift_hands_its_voucher_over_with_a_new_code(app, client, pos, admin):
    reward = await create_reward(client, admin, stock=3)
    sender = await member_with(client, pos, admin, 1000, name="Anna")
    friend = await enrol(client, pos)

    gift = await give(client, pos, sender, reward_id=reward["id"])

    assert gift["points"] is None
    assert gift["balance"]["available"] == 600
    voucher = gift["voucher"]
    assert (voucher["kind"], voucher["value"], voucher["reward_id"]) == (
        "amount",
        500,
        reward["id"],
    )
    assert "code" not in voucher
    assert await stock_of(app, reward) == 2
    held = (await client.get(f"/v1/members/{sender['id']}/vouchers", headers=pos)).json()
    assert [v["status"] for v in held["items"]] == ["gifted"]
    shown = (await client.get(f"/v1/gifts/{gift['code']}", headers=pos)).json()
    assert shown["voucher"] == voucher
    assert shown["points"] is None

    response = await claim_by(client, pos, gift["code"], member_id=friend["id"])

    assert response.status_code == 201, response.text
    claimed = response.json()
    assert claimed["points"] is None
    assert claimed["balance"] == {"available": 0, "pending": 0}
    code = claimed["voucher"]["code"]
    assert claimed["voucher"]["id"] == voucher["id"]
    own = (await client.get(f"/v1/vouchers/{code}", headers=pos)).json()
    assert (own["member_id"], own["status"]) == (friend["id"], "active")
    check = await client.post(
        f"/v1/vouchers/{code}/validate", json={"total": 4000, "currency": "EUR"}, headers=pos
    )
    assert check.json() == {"valid": True, "discount": 500, "reason": None}
    assert (await client.get(f"/v1/members/{sender['id']}/vouchers", headers=pos)).json()[
        "items"
    ] == []
    await assert_escrow_holds(app, 0)  # a voucher gift holds no points in escrow


async def test_a_voucher_in_an_open_gift_cannot_be_used(app, client, pos, admin):
    reward = await create_reward(client, admin)
    sender = await member_with(client, pos, admin, 1000)
    await give(client, pos, sender, reward_id=reward["id"])
    async with app.state.runtime.sessionmaker() as session:
        voucher = (await session.scalars(select(Voucher))).one()
    assert voucher.status == "gifted"
    assert usability(Terms.of(voucher), datetime.now(UTC)) == Reason.voucher_gifted


async def test_a_reward_gift_taken_back_returns_its_points_and_stock(app, client, pos, admin):
    reward = await create_reward(client, admin, stock=3)
    sender = await member_with(client, pos, admin, 1000)
    gift = await give(client, pos, sender, reward_id=reward["id"])

    response = await cancel_by(client, pos, gift["code"], sender)

    assert response.status_code == 200, response.text
    assert response.json()["balance"]["available"] == 1000
    assert response.json()["voucher_id"] == gift["voucher"]["id"]
    assert await stock_of(app, reward) == 3
    held = (await client.get(f"/v1/members/{sender['id']}/vouchers", headers=pos)).json()
    assert [v["status"] for v in held["items"]] == ["cancelled"]
    await assert_ledger_verifies(app)


async def test_verify_notices_escrow_that_does_not_match_the_open_gifts(
    app, client, pos, admin, database
):
    sender = await member_with(client, pos, admin, 500)
    gift = await give(client, pos, sender, points=200)
    assert (await stammkunde(database.url, "verify")).exit_code == 0
    await execute(app, update(Gift).where(Gift.id == UUID(gift["id"])).values(status="claimed"))

    result = await stammkunde(database.url, "verify")

    assert result.exit_code != 0
    assert "gift escrow holds 200 points, the open gifts 0" in result.output
