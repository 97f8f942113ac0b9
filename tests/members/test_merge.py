"""Merging duplicate members: one person, one customer file.

``POST /v1/members/{target}/merge {source_member_id}`` folds the duplicate (source) into the
target: points through the escrow account in two steps, each local to one member, lots with
their expiry, pending points still pending, vouchers, purchases, open gifts, payments with
points, bonuses and referrals; the source stays as a ``merged`` record whose look-ups lead
to the target. The ledger verifies after every merge.
"""

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import Scope
from app.bonuses.models import BonusGrant
from app.earning import service as earning
from app.earning.models import Purchase
from app.earning.schemas import PurchaseCreate, PurchaseReturnCreate
from app.events.models import Event
from app.gifts.models import Gift
from app.kit.errors import StammkundeError
from app.kit.idempotency import REPLAY_HEADER
from app.ledger import jobs, verify
from app.ledger import service as ledger_service
from app.ledger.models import (
    AccountKind,
    EarnLot,
    LedgerTransaction,
    LotStatus,
    Posting,
    program_account_id,
)
from app.members import merge as merge_service
from app.members import service as members_service
from app.members.schemas import MemberCreate
from app.program.schemas import ProgramUpdate, ReturnPolicy
from app.program.service import update_program
from app.referrals.models import Referral
from app.spending import service as spending
from app.spending.schemas import AdjustmentCreate, RedemptionCreate
from tests.conftest import bearer, create_key
from tests.factories import (
    Headers,
    adjust,
    assert_problem,
    balance,
    cancel_redemption,
    claim,
    days_ago,
    enrol,
    fetch_member,
    idempotent,
    item,
    look_up,
    member_id,
    purchase,
    redeem,
    return_purchase,
    set_program,
    stammkunde,
    transactions,
    write,
)
from tests.ledger.test_ledger_properties import empty_database
from tests.live_server import LiveServer

FIVE_OFF = {"name": "5 € off", "cost_points": 40, "kind": "amount", "value": 500, "valid_days": 30}


@pytest.fixture
async def anna(client, pos) -> dict[str, Any]:
    """The member record that stays."""
    return await enrol(client, pos, name="Anna", email="anna@example.com")


@pytest.fixture
async def twin(client, pos) -> dict[str, Any]:
    """Anna's duplicate record: a second card she got at another store."""
    return await enrol(client, pos, name="Anna S.", email="anna.s@example.com", external_id="crm-9")


async def merge_request(
    client: httpx.AsyncClient, admin: Headers, target: Any, source: Any, key: str | None = None
) -> httpx.Response:
    return await client.post(
        f"/v1/members/{member_id(target)}/merge",
        json={"source_member_id": member_id(source)},
        headers=idempotent(admin, key),
    )


async def merge(client, admin, target, source) -> dict[str, Any]:
    response = await merge_request(client, admin, target, source)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def history(client, headers, member) -> list[tuple[str, int]]:
    """The member's ledger, oldest first: (type, points)."""
    items = (await transactions(client, headers, member, limit=200))["items"]
    return [(t["type"], t["points"]) for t in reversed(items)]


async def points(client, headers, member) -> tuple[int, int]:
    current = await balance(client, headers, member)
    return current["available"], current["pending"]


async def ledger_mismatch(app: FastAPI) -> str | None:
    async with app.state.runtime.sessionmaker() as session:
        return await verify.first_mismatch(session)


async def escrow_points(app: FastAPI) -> int:
    """What the gift escrow account holds (credits - debits)."""
    async with app.state.runtime.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Posting.side, func.sum(Posting.amount))
                .where(Posting.account_id == program_account_id(AccountKind.gift_escrow))
                .group_by(Posting.side)
            )
        ).all()
    sums = {side: int(total) for side, total in rows}
    return sums.get("credit", 0) - sums.get("debit", 0)


async def events(app: FastAPI, type: str) -> list[tuple[uuid.UUID | None, dict[str, Any]]]:
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.scalars(select(Event).where(Event.type == type).order_by(Event.id))
        return [(event.member_id, event.data) for event in rows]


async def rows(app: FastAPI, statement: Any) -> list[Any]:
    async with app.state.runtime.sessionmaker() as session:
        return list((await session.scalars(statement)).all())


# --- Points and lots -----------------------------------------------------------------------


async def test_points_move_with_their_expiry_and_the_ledger_verifies(
    app, client, admin, database, pos, anna, twin
):
    # Anna has 5 points expiring in about 40 days; her duplicate record has points from
    # three sales that expire at different dates, and 10 that expired already.
    own = await purchase(client, pos, anna, 500, occurred_at=days_ago(690))
    soon = await purchase(client, pos, twin, 4000, occurred_at=days_ago(700))
    later = await purchase(client, pos, twin, 2500, occurred_at=days_ago(680))
    await purchase(client, pos, twin, 1000, occurred_at=days_ago(750))
    fresh = await purchase(client, pos, twin, 3000)

    merged = await merge(client, admin, anna, twin)

    assert merged["id"] == anna["id"]
    assert merged["status"] == "active"
    assert merged["merged_into_id"] is None
    # The 10 expired points expired on the duplicate; everything else is Anna's now.
    assert await points(client, pos, twin) == (0, 0)
    now = await balance(client, pos, anna)
    assert (now["available"], now["pending"]) == (5 + 40 + 25 + 30, 0)
    assert now["expiring"] == [
        {"points": 40, "expires_at": soon["expires_at"]},
        {"points": 5, "expires_at": own["expires_at"]},
        {"points": 25, "expires_at": later["expires_at"]},
    ]
    # Each side's ledger shows its step; each step names the other member.
    assert await history(client, pos, twin) == [
        ("purchase", 40),
        ("purchase", 25),
        ("purchase", 10),
        ("purchase", 30),
        ("expiry", -10),
        ("merge_out", -95),
    ]
    assert await history(client, pos, anna) == [("purchase", 5), ("merge_in", 95)]
    [merge_in] = (await transactions(client, pos, anna, limit=1))["items"]
    [merge_out] = (await transactions(client, pos, twin, limit=1))["items"]
    assert (merge_in["related_id"], merge_out["related_id"]) == (twin["id"], anna["id"])
    assert merge_in["reference"] == merge_out["reference"] == "merge"
    # Through escrow and out again: it holds what it held before.
    assert await escrow_points(app) == 0
    # The lot of the fresh sale keeps its expiry too (two years on, outside the 90 days).
    async with app.state.runtime.sessionmaker() as session:
        lots = (
            await session.scalars(select(EarnLot).where(EarnLot.member_id == uuid.UUID(anna["id"])))
        ).all()
    fresh_expiry = datetime.fromisoformat(fresh["expires_at"])
    assert [lot.remaining for lot in lots if lot.expires_at == fresh_expiry] == [30]

    # Anna spends them first-expiring-first, as if she had earned them on this card.
    await redeem(client, pos, anna, 42)
    assert (await balance(client, pos, anna))["expiring"][:2] == [
        {"points": 3, "expires_at": own["expires_at"]},
        {"points": 25, "expires_at": later["expires_at"]},
    ]
    result = await stammkunde(database.url, "verify")
    assert result.exit_code == 0, result.output
    assert await ledger_mismatch(app) is None


async def test_pending_points_stay_pending_until_their_date(app, client, admin, pos, anna, twin):
    await set_program(client, admin, pending_days=14)
    bought = await purchase(client, pos, twin, 4590)
    assert await points(client, pos, twin) == (0, 45)

    await merge(client, admin, anna, twin)

    assert await points(client, pos, anna) == (0, 45)
    assert await points(client, pos, twin) == (0, 0)
    assert await ledger_mismatch(app) is None
    sessionmaker = app.state.runtime.sessionmaker
    assert await jobs.release_due_pending(sessionmaker, now=days_ago(0)) == 0
    released_at = datetime.fromisoformat(bought["available_at"])
    assert await jobs.release_due_pending(sessionmaker, now=released_at) >= 1
    assert await points(client, pos, anna) == (45, 0)
    assert await ledger_mismatch(app) is None


@pytest.mark.parametrize(
    ("anna_points", "twin_points", "anna_after"),
    [
        (80, -50, 30),  # the duplicate's debt (points spent, then the sale returned) moves
        (-20, 50, 30),  # the duplicate's points first pay back Anna's debt
        (10, -50, -40),  # a debt larger than Anna's points stays a debt
    ],
)
async def test_a_negative_balance_moves_too(
    app, client, admin, pos, anna, twin, anna_points, twin_points, anna_after
):
    async def give(member: dict[str, Any], wanted: int) -> None:
        if wanted > 0:
            await adjust(client, admin, member, wanted, "test points")
            return
        sale = await purchase(client, pos, member, -wanted * 100)
        await redeem(client, pos, member, -wanted)
        await return_purchase(client, pos, sale, amount=-wanted * 100)

    await give(anna, anna_points)
    await give(twin, twin_points)
    assert (await points(client, pos, anna))[0] == anna_points
    assert (await points(client, pos, twin))[0] == twin_points

    await merge(client, admin, anna, twin)

    assert await points(client, pos, anna) == (anna_after, 0)
    assert await points(client, pos, twin) == (0, 0)
    assert await escrow_points(app) == 0
    assert await ledger_mismatch(app) is None


async def test_a_duplicate_without_points_writes_no_ledger_entries(app, client, admin, pos, twin):
    bare = await enrol(client, pos)

    await merge(client, admin, bare, twin)

    assert await history(client, pos, bare) == []
    assert await history(client, pos, twin) == []
    assert (await fetch_member(client, pos, twin))["status"] == "merged"
    assert await events(app, "member.merged") == [
        (
            uuid.UUID(bare["id"]),
            {"source_member_id": twin["id"], "points_moved": 0, "pending_moved": 0},
        )
    ]


async def test_the_merged_event_names_the_source_and_the_points(
    app, client, admin, pos, anna, twin
):
    await set_program(client, admin, pending_days=14)
    await purchase(client, pos, twin, 3000)
    await set_program(client, admin, pending_days=0)
    await purchase(client, pos, twin, 1200)

    await merge(client, admin, anna, twin)

    assert await events(app, "member.merged") == [
        (
            uuid.UUID(anna["id"]),
            {"source_member_id": twin["id"], "points_moved": 12, "pending_moved": 30},
        )
    ]


# --- What refers to the duplicate ----------------------------------------------------------


async def test_a_return_of_the_duplicates_purchase_takes_the_points_from_anna(
    app, client, admin, pos, anna, twin
):
    mugs = await purchase(client, pos, twin, 6000, items=[item("MUG", 2, 3000)])
    # A sale whose points expired before the merge: a return takes them from the expired
    # account, not from Anna, who lost them already.
    expired = await purchase(client, pos, twin, 12000, occurred_at=days_ago(740))
    await adjust(client, admin, anna, 100, "test points")

    await merge(client, admin, anna, twin)
    assert await points(client, pos, anna) == (160, 0)

    returned = await return_purchase(client, pos, mugs, items={"MUG": 1})
    assert returned["points_reversed"] == 30
    assert returned["balance"] == {"available": 130, "pending": 0}
    # Taken from the mugs' own lot, now Anna's; her goodwill points are untouched.
    lots = await rows(app, select(EarnLot).where(EarnLot.member_id == uuid.UUID(anna["id"])))
    assert sorted((lot.points, lot.remaining) for lot in lots) == [(60, 30), (100, 100)]
    returned = await return_purchase(client, pos, expired, amount=6000)
    assert returned["points_reversed"] == 60
    assert returned["balance"] == {"available": 130, "pending": 0}
    assert await points(client, pos, anna) == (130, 0)
    assert await points(client, pos, twin) == (0, 0)
    assert await ledger_mismatch(app) is None


async def test_a_pending_purchase_returned_after_the_merge_takes_the_pending_points(
    app, client, admin, pos, anna, twin
):
    await set_program(client, admin, pending_days=14)
    sale = await purchase(client, pos, twin, 5000)
    await merge(client, admin, anna, twin)

    returned = await return_purchase(client, pos, sale, amount=5000)

    assert returned["points_reversed"] == 50
    assert returned["balance"] == {"available": 0, "pending": 0}
    assert await ledger_mismatch(app) is None


async def test_a_payment_cancelled_after_the_merge_gives_the_points_to_anna(
    app, client, admin, pos, anna, twin
):
    sale = await purchase(client, pos, twin, 5000, occurred_at=days_ago(700))
    paid = await redeem(client, pos, twin, 20, order_id="web-7")
    await merge(client, admin, anna, twin)
    assert await points(client, pos, anna) == (30, 0)

    response = await cancel_redemption(client, pos, paid)

    assert response.status_code == 200, response.text
    assert response.json()["balance"] == {"available": 50, "pending": 0}
    assert await points(client, pos, twin) == (0, 0)
    # Back with the expiry of the lot they were paid from.
    assert (await balance(client, pos, anna))["expiring"] == [
        {"points": 50, "expires_at": sale["expires_at"]}
    ]
    assert await ledger_mismatch(app) is None


async def test_vouchers_move_to_anna(app, client, admin, pos, anna, twin):
    reward = (await client.post("/v1/rewards", json=FIVE_OFF, headers=admin)).json()
    await adjust(client, admin, twin, 50, "test points")
    bought = await write(
        client, f"/v1/members/{twin['id']}/vouchers", pos, {"reward_id": reward["id"]}
    )
    assert bought.status_code == 201, bought.text

    await merge(client, admin, anna, twin)

    listed = await client.get(f"/v1/members/{anna['id']}/vouchers", headers=pos)
    assert [v["code_last4"] for v in listed.json()["items"]] == [bought.json()["code_last4"]]
    assert [v["member_id"] for v in listed.json()["items"]] == [anna["id"]]
    gone = await client.get(f"/v1/members/{twin['id']}/vouchers", headers=pos)
    assert gone.json()["items"] == []
    looked_up = await client.get(f"/v1/vouchers/{bought.json()['code']}", headers=pos)
    assert looked_up.json()["member_id"] == anna["id"]
    assert await points(client, pos, anna) == (10, 0)


async def test_an_open_gift_of_the_duplicate_goes_back_to_anna(app, client, admin, pos, anna, twin):
    await adjust(client, admin, twin, 100, "test points")
    response = await write(client, f"/v1/members/{twin['id']}/gifts", pos, {"points": 30})
    assert response.status_code == 201, response.text
    gift = response.json()
    assert await escrow_points(app) == 30

    await merge(client, admin, anna, twin)

    [stored] = await rows(app, select(Gift).where(Gift.id == uuid.UUID(gift["id"])))
    assert str(stored.sender_id) == anna["id"]
    assert stored.status == "open"
    assert await escrow_points(app) == 30  # the open gift's points, no more and no less
    assert await points(client, pos, anna) == (70, 0)
    assert await ledger_mismatch(app) is None

    cancelled = await write(
        client, f"/v1/gifts/{gift['code']}/cancel", pos, {"member_id": anna["id"]}
    )

    assert cancelled.status_code == 200, cancelled.text
    assert await points(client, pos, anna) == (100, 0)
    assert await points(client, pos, twin) == (0, 0)
    assert await escrow_points(app) == 0
    assert await ledger_mismatch(app) is None


async def test_bonuses_the_duplicate_got_are_not_given_to_anna_again(app, client, admin, pos, anna):
    await set_program(client, admin, profile_completion_bonus=50, signup_bonus=10)
    complete = await enrol(client, pos, name="Anna", email="a2@example.com", birthdate="1990-05-01")
    assert await points(client, pos, complete) == (60, 0)

    await merge(client, admin, anna, complete)
    # Anna completes her profile: the person had the profile bonus already.
    response = await client.patch(
        f"/v1/members/{anna['id']}", json={"birthdate": "1990-05-01"}, headers=pos
    )

    assert response.status_code == 200, response.text
    assert await points(client, pos, anna) == (60, 0)
    grants = await rows(app, select(BonusGrant))
    # Anna enrolled before the bonuses were offered; the duplicate's count as hers now.
    assert {(str(g.member_id), g.kind) for g in grants} == {
        (anna["id"], "profile"),
        (anna["id"], "signup"),
    }

    # A bonus both records got stays with each: one per member and period.
    again = await enrol(client, pos, name="Anna Schmidt")
    await merge(client, admin, anna, again)

    grants = await rows(app, select(BonusGrant))
    assert {(str(g.member_id), g.kind) for g in grants} == {
        (anna["id"], "profile"),
        (anna["id"], "signup"),
        (again["id"], "signup"),
    }
    assert await points(client, pos, anna) == (70, 0)
    assert await ledger_mismatch(app) is None


async def test_referrals_follow_the_person(app, client, admin, pos):
    olga = await enrol(client, pos, name="Olga")
    twin = await enrol(client, pos, name="Anna S.", referral_code=olga["referral_code"])
    anna = await enrol(client, pos, name="Anna")
    friend = await enrol(client, pos, name="Friend", referral_code=twin["referral_code"])

    await merge(client, admin, anna, twin)

    assert (await fetch_member(client, pos, anna))["referred_by_id"] == olga["id"]
    assert (await fetch_member(client, pos, friend))["referred_by_id"] == anna["id"]
    referrals = {
        (str(r.referee_id), str(r.referrer_id), r.status) for r in await rows(app, select(Referral))
    }
    assert referrals == {
        (anna["id"], olga["id"], "pending"),
        (friend["id"], anna["id"], "pending"),
    }


async def test_a_referral_between_the_two_records_ends(app, client, admin, pos):
    anna = await enrol(client, pos, name="Anna")
    twin = await enrol(client, pos, name="Anna S.", referral_code=anna["referral_code"])
    other = await enrol(client, pos, name="Other")
    referred_twice = await enrol(client, pos, name="Anna T.", referral_code=other["referral_code"])

    await merge(client, admin, twin, anna)  # the referee stays: she recommended herself
    await merge(client, admin, twin, referred_twice)  # she was recommended once already

    assert (await fetch_member(client, pos, twin))["referred_by_id"] is None
    referrals = {
        (str(r.referee_id), str(r.referrer_id), r.status) for r in await rows(app, select(Referral))
    }
    assert referrals == {
        (twin["id"], anna["id"], "void"),
        (referred_twice["id"], other["id"], "void"),
    }


# --- Look-ups and writes that name the duplicate -------------------------------------------


async def test_look_ups_of_the_duplicate_lead_to_anna(client, admin, pos, anna, twin):
    await merge(client, admin, anna, twin)

    for query in (
        {"card_number": twin["card_number"]},
        {"email": "ANNA.S@example.com"},
        {"external_id": "crm-9"},
        {"card_number": anna["card_number"]},
    ):
        assert [m["id"] for m in await look_up(client, pos, **query)] == [anna["id"]], query
    # By its id the duplicate is still there, saying where it went.
    record = await fetch_member(client, pos, twin)
    assert record["status"] == "merged"
    assert record["merged_into_id"] == anna["id"]
    assert record["merged_at"] is not None
    assert record["card_number"] == twin["card_number"]
    # The list of all members still shows both records.
    everyone = await look_up(client, pos)
    assert {m["id"] for m in everyone} == {anna["id"], twin["id"]}


async def test_a_sale_to_the_duplicates_card_or_id_credits_anna(
    app, client, admin, pos, anna, twin
):
    await merge(client, admin, anna, twin)

    by_card = await purchase(client, pos, twin, 2000, by_card=True)
    by_id = await purchase(client, pos, twin, 1000)
    receipt = await purchase(client, pos, None, 500)
    claimed = await claim(client, pos, receipt["claim_code"], twin)

    assert by_card["member_id"] == by_id["member_id"] == anna["id"]
    assert by_id["balance"] == {"available": 30, "pending": 0}
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["member_id"] == anna["id"]
    assert await points(client, pos, anna) == (35, 0)
    assert await points(client, pos, twin) == (0, 0)
    quote = await client.post(
        "/v1/quotes",
        json={
            "card_number": twin["card_number"],
            "order_id": "q-1",
            "channel": "pos",
            "currency": "EUR",
            "total": 1000,
        },
        headers=pos,
    )
    assert quote.status_code == 200, quote.text
    assert quote.json()["member_id"] == anna["id"]
    assert await ledger_mismatch(app) is None


async def test_payments_credits_rewards_and_gifts_for_the_duplicates_id_use_annas_points(
    app, client, admin, pos, anna, twin
):
    await adjust(client, admin, anna, 500, "welcome back")
    await merge(client, admin, anna, twin)
    reward = await client.post("/v1/rewards", json=FIVE_OFF, headers=admin)
    assert reward.status_code == 201, reward.text

    paid = await redeem(client, pos, twin, 100)
    credited = await adjust(client, admin, twin, 10, "goodwill")
    bought = await write(
        client, f"/v1/members/{twin['id']}/vouchers", pos, {"reward_id": reward.json()["id"]}
    )
    gift = await write(client, f"/v1/members/{twin['id']}/gifts", pos, {"points": 70})

    assert paid["balance"]["available"] == 400
    assert credited["balance"]["available"] == 410
    assert bought.status_code == 201, bought.text
    assert bought.json()["member_id"] == anna["id"]
    assert gift.status_code == 201, gift.text
    assert gift.json()["balance"]["available"] == 300
    assert await points(client, pos, anna) == (300, 0)
    assert await points(client, pos, twin) == (0, 0)
    assert await ledger_mismatch(app) is None


async def test_a_chain_of_merges_leads_to_the_last_record(app, client, admin, pos, anna, twin):
    third = await enrol(client, pos, name="Anna Schmidt")
    await adjust(client, admin, twin, 7, "test points")
    await merge(client, admin, anna, twin)
    await merge(client, admin, third, anna)

    assert [m["id"] for m in await look_up(client, pos, card_number=twin["card_number"])] == [
        third["id"]
    ]
    sale = await purchase(client, pos, twin, 1000, by_card=True)
    assert sale["member_id"] == third["id"]
    assert await points(client, pos, third) == (17, 0)
    assert (await fetch_member(client, pos, twin))["merged_into_id"] == anna["id"]
    assert await ledger_mismatch(app) is None


# --- Refusals and retries ------------------------------------------------------------------


async def test_refusals(app, client, admin, pos, anna, twin):
    unknown = str(uuid.uuid4())

    assert_problem(await merge_request(client, admin, anna, anna), 422, "merge_same_member")
    assert_problem(await merge_request(client, admin, unknown, twin), 404, "member_not_found")
    assert_problem(await merge_request(client, admin, anna, unknown), 404, "member_not_found")
    await merge(client, admin, anna, twin)
    again = assert_problem(await merge_request(client, admin, anna, twin), 409, "member_merged")
    assert "source" in again["detail"]
    other = await enrol(client, pos)
    into_merged = assert_problem(
        await merge_request(client, admin, twin, other), 409, "member_merged"
    )
    assert "target" in into_merged["detail"]
    # Only an admin merges, with an Idempotency-Key, naming the source and nothing else.
    body = {"source_member_id": other["id"]}
    path = f"/v1/members/{anna['id']}/merge"
    assert_problem(
        await client.post(path, json=body, headers=idempotent(pos)), 403, "insufficient_scope"
    )
    assert_problem(
        await client.post(path, json=body, headers=admin), 400, "idempotency_key_missing"
    )
    assert_problem(
        await client.post(path, json={**body, "points": 5}, headers=idempotent(admin)),
        422,
        "validation_error",
    )
    assert (await fetch_member(client, pos, other))["status"] == "active"
    assert len(await events(app, "member.merged")) == 1


async def test_a_replayed_merge_merges_once(app, client, admin, pos, anna, twin):
    await adjust(client, admin, twin, 25, "test points")
    key = f"merge-{uuid.uuid4()}"

    first = await merge_request(client, admin, anna, twin, key)
    replay = await merge_request(client, admin, anna, twin, key)

    assert first.status_code == 200, first.text
    assert (replay.status_code, replay.content) == (200, first.content)
    assert replay.headers[REPLAY_HEADER] == "true"
    assert await history(client, pos, anna) == [("merge_in", 25)]
    assert await history(client, pos, twin) == [("adjustment", 25), ("merge_out", -25)]
    assert len(await events(app, "member.merged")) == 1
    # The same key for another merge is refused.
    other = await enrol(client, pos)
    assert_problem(
        await merge_request(client, admin, anna, other, key), 422, "idempotency_key_reused"
    )


# --- Concurrency ---------------------------------------------------------------------------


async def test_sales_to_the_duplicate_during_the_merge_are_never_lost(
    app: FastAPI, server: LiveServer
) -> None:
    """Sales to the duplicate's card race its merge: each ends on one record, and after the
    merge all of them are Anna's; nothing is lost on the merged record."""
    till = bearer(await create_key(app, Scope.pos, name="till"))
    admin = bearer(await create_key(app, Scope.admin, name="admin"))
    timeout = httpx.Timeout(60.0, connect=10.0)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=timeout, trust_env=False
    ) as http:
        anna = await enrol(http, till, name="Anna")
        twin = await enrol(http, till, name="Anna S.")
        await purchase(http, till, twin, 10_000)

        async def sale(n: int) -> httpx.Response:
            body = {
                "card_number": twin["card_number"],
                "order_id": f"race-{n}",
                "channel": "pos",
                "currency": "EUR",
                "total": 100 * (n + 1),
            }
            return await http.post("/v1/purchases", json=body, headers=idempotent(till))

        sales = [asyncio.ensure_future(sale(n)) for n in range(20)]
        merged = asyncio.ensure_future(merge_request(http, admin, anna, twin))
        sales += [asyncio.ensure_future(sale(n)) for n in range(20, 40)]
        async with asyncio.timeout(90):
            responses = await asyncio.gather(*sales)
            merge_response = await merged

        assert merge_response.status_code == 200, merge_response.text
        assert [r.status_code for r in responses] == [201] * 40, [r.text for r in responses]
        earned = sum(r.json()["points_earned"] for r in responses)
        assert earned == sum(n + 1 for n in range(40))
        assert await points(http, till, anna) == (100 + earned, 0)
        assert await points(http, till, twin) == (0, 0)
    async with app.state.runtime.sessionmaker() as session:
        twin_id = uuid.UUID(twin["id"])
        after_merge = await session.scalar(
            select(func.count()).where(
                LedgerTransaction.member_id == twin_id,
                LedgerTransaction.seq
                > select(LedgerTransaction.seq)
                .where(
                    LedgerTransaction.member_id == twin_id, LedgerTransaction.type == "merge_out"
                )
                .scalar_subquery(),
            )
        )
        assert after_merge == 0  # nothing was credited to the merged record after its merge
        assert await verify.first_mismatch(session) is None


# --- Invariants, for any history of the two records ----------------------------------------


@dataclass(frozen=True)
class Buy:
    member: int  # 0: Anna (the target), 1: the duplicate (the source)
    total: int


@dataclass(frozen=True)
class Return:
    purchase: int  # index into the purchases so far (modulo)
    percent: int


@dataclass(frozen=True)
class Redeem:
    member: int
    points: int


@dataclass(frozen=True)
class Cancel:
    redemption: int


@dataclass(frozen=True)
class Adjust:
    member: int
    points: int


@dataclass(frozen=True)
class Wait:
    days: int
    run_jobs: bool  # False: due lots wait for the merge (or the next payment) to expire them


@dataclass(frozen=True)
class Rules:
    pending_days: int
    expiry_months: int
    policy: ReturnPolicy


ANNA, TWIN = 0, 1
either = st.sampled_from([ANNA, TWIN])
before_merge = st.one_of(
    st.builds(Buy, either, st.integers(0, 30_000)),
    st.builds(Return, st.integers(0, 20), st.integers(1, 100)),
    st.builds(Redeem, either, st.integers(1, 400)),
    st.builds(Cancel, st.integers(0, 20)),
    st.builds(Adjust, either, st.integers(-200, 200).filter(bool)),
    st.builds(Wait, st.integers(0, 40), st.booleans()),
)
# After the merge, writes by id go to Anna; a sale may still name the duplicate.
after_merge = st.one_of(
    st.builds(Buy, either, st.integers(0, 30_000)),
    st.builds(Return, st.integers(0, 20), st.integers(1, 100)),
    st.builds(Redeem, st.just(ANNA), st.integers(1, 400)),
    st.builds(Cancel, st.integers(0, 20)),
    st.builds(Adjust, st.just(ANNA), st.integers(-200, 200).filter(bool)),
    st.builds(Wait, st.integers(0, 40), st.just(True)),
)
rules = st.builds(
    Rules, st.sampled_from([0, 14]), st.sampled_from([0, 1, 2]), st.sampled_from(ReturnPolicy)
)


@dataclass
class History:
    app: FastAPI
    clock: datetime = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    members: list[uuid.UUID] = field(default_factory=list)
    purchases: list[uuid.UUID] = field(default_factory=list)
    redemptions: list[uuid.UUID] = field(default_factory=list)

    async def start(self, rules: Rules) -> None:
        async with self.app.state.runtime.sessionmaker() as session:
            for _ in (ANNA, TWIN):
                self.members.append(
                    (await members_service.create_member(session, MemberCreate())).id
                )
            await update_program(
                session,
                ProgramUpdate(
                    pending_days=rules.pending_days,
                    points_expiry_months=rules.expiry_months,
                    return_policy=rules.policy,
                    points_per_currency_unit=1,
                ),
            )
            await session.commit()

    async def step(self, op: Any) -> None:
        self.clock += timedelta(minutes=7)
        sessionmaker = self.app.state.runtime.sessionmaker
        if isinstance(op, Wait):
            self.clock += timedelta(days=op.days)
            if op.run_jobs:
                await jobs.release_due_pending(sessionmaker, now=self.clock)
                await jobs.expire_due_lots(sessionmaker, now=self.clock)
            return
        async with sessionmaker() as session:
            try:
                await self._write(session, op)
                await session.commit()
            except StammkundeError:
                await session.rollback()

    async def _write(self, session: AsyncSession, op: Any) -> None:
        if isinstance(op, Buy):
            data = PurchaseCreate(
                member_id=self.members[op.member],
                order_id=f"order-{uuid.uuid4().hex}",
                channel="pos",
                currency="EUR",
                total=op.total,
            )
            secret = self.app.state.runtime.secret_key
            recorded = await earning.record_purchase(session, secret, data, now=self.clock)
            self.purchases.append(recorded.purchase.id)
        elif isinstance(op, Return) and self.purchases:
            bought = self.purchases[op.purchase % len(self.purchases)]
            total = await session.scalar(select(Purchase.total).where(Purchase.id == bought))
            amount = PurchaseReturnCreate(amount=max(1, (total or 0) * op.percent // 100))
            await earning.record_return(session, bought, amount, now=self.clock)
        elif isinstance(op, Redeem):
            wanted = RedemptionCreate(points=op.points)
            paid, _ = await spending.redeem(session, self.members[op.member], wanted, self.clock)
            self.redemptions.append(paid.id)
        elif isinstance(op, Cancel) and self.redemptions:
            paid_id = self.redemptions[op.redemption % len(self.redemptions)]
            await spending.cancel_redemption(session, paid_id, now=self.clock)
        elif isinstance(op, Adjust):
            change = AdjustmentCreate(points=op.points, reason="test")
            await spending.adjust(session, self.members[op.member], change, now=self.clock)

    async def balances(self, member_id: uuid.UUID) -> tuple[int, int]:
        async with self.app.state.runtime.sessionmaker() as session:
            view = await ledger_service.balance(session, member_id, now=self.clock)
        return view.available, view.pending

    async def lots(self, member_id: uuid.UUID) -> list[EarnLot]:
        return await rows(self.app, select(EarnLot).where(EarnLot.member_id == member_id))

    async def check(self) -> None:
        assert await ledger_mismatch(self.app) is None
        assert await escrow_points(self.app) == 0
        assert await self.balances(self.members[TWIN]) == (0, 0)
        assert all(lot.remaining == 0 for lot in await self.lots(self.members[TWIN]))


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=rules,
    before=st.lists(before_merge, max_size=12),
    after=st.lists(after_merge, max_size=6),
)
@example(
    rules=Rules(14, 1, ReturnPolicy.unlimited),
    # Both records: a debt, pending points, points past their expiry, a payment.
    before=[
        Buy(TWIN, 10_000),
        Wait(20, True),
        Buy(TWIN, 5_000),
        Redeem(TWIN, 80),
        Return(0, 100),
        Buy(TWIN, 3_000),
        Buy(ANNA, 2_000),
        Wait(25, False),
        Adjust(ANNA, 40),
    ],
    after=[Cancel(0), Return(1, 50), Return(2, 100), Wait(20, True), Buy(TWIN, 1_000)],
)
async def test_a_merge_keeps_every_point_for_any_history(
    app, migrated_database, database, rules, before, after
):
    await empty_database(app, migrated_database.url, database.url)
    history = History(app)
    await history.start(rules)
    for op in before:
        await history.step(op)
    history.clock += timedelta(minutes=7)
    anna, twin = history.members
    anna_before, twin_before = await history.balances(anna), await history.balances(twin)

    def due(lot: EarnLot) -> bool:
        """Available and past its expiry: the merge expires it first."""
        expires_at = lot.expires_at
        return lot.status == LotStatus.available and bool(expires_at and expires_at <= now)

    now = history.clock
    twin_lots = [lot for lot in await history.lots(twin) if lot.remaining > 0]
    moving = sorted(
        (lot.remaining, lot.status, lot.available_at, lot.expires_at)
        for lot in twin_lots
        if not due(lot)
    )
    expiring_now = sum(lot.remaining for lot in twin_lots if due(lot))

    async with app.state.runtime.sessionmaker() as session:
        merged = await merge_service.merge(session, anna, twin, now=history.clock)
        await session.commit()

    # Every point the duplicate held, but those past their expiry, is Anna's now.
    assert merged.moved.available == twin_before[0] - expiring_now
    assert merged.moved.pending == twin_before[1]
    assert await history.balances(anna) == (
        anna_before[0] + twin_before[0] - expiring_now,
        anna_before[1] + twin_before[1],
    )
    # Lot by lot, with their expiry and their status.
    moved_in = await rows(
        app,
        select(EarnLot).where(
            EarnLot.member_id == anna,
            EarnLot.transaction_id.in_(
                select(LedgerTransaction.id).where(
                    LedgerTransaction.member_id == anna, LedgerTransaction.type == "merge_in"
                )
            ),
        ),
    )
    assert (
        sorted((lot.points, lot.status, lot.available_at, lot.expires_at) for lot in moved_in)
        == moving
    )
    await history.check()
    for op in after:
        await history.step(op)
        await history.check()
