"""Erasure on request: ``DELETE /v1/members/{id}`` removes the person's data for good, the
ledger and the figures keep their numbers (``app.members.erasure``)."""

import re
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db.models import Base
from app.events.models import Event
from app.gifts.models import Gift
from app.ledger.models import AccountKind, LedgerTransaction, Posting, Side, program_account_id
from app.referrals import jobs as referral_jobs
from app.referrals.models import Referral
from tests.factories import (
    adjust,
    assert_ledger_verifies,
    assert_problem,
    balance,
    enrol,
    fetch_member,
    idempotent,
    look_up,
    purchase,
    redeem,
    return_purchase,
    set_program,
    stammkunde,
    transactions,
    write,
)

ANNA = {
    "name": "Anna Schmidt",
    "email": "anna.schmidt@example.com",
    "external_id": "crm-4711",
    "birthdate": "1990-05-17",
    "card_number": "2712345678901236",
    "segments": ["vip-evening"],
}
CARD_PSEUDONYM = re.compile(r"^erased-[0-9a-f]{12}$")
CODE_PSEUDONYM = re.compile(r"^erased-[0-9a-f]{9}$")


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, **ANNA)


async def erase(client, admin, member, **headers: str) -> dict[str, Any]:
    response = await client.delete(f"/v1/members/{member['id']}", headers=admin | headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def events(app, type: str) -> list[Event]:
    async with app.state.runtime.sessionmaker() as session:
        statement = select(Event).where(Event.type == type).order_by(Event.created_at, Event.id)
        return list((await session.scalars(statement)).all())


async def expired_account_total(app) -> int:
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.execute(
            select(Posting.side, func.sum(Posting.amount))
            .where(Posting.account_id == program_account_id(AccountKind.expired))
            .group_by(Posting.side)
        )
        sides = {side: int(total) for side, total in rows.all()}
    return sides.get(Side.credit, 0) - sides.get(Side.debit, 0)


async def stored_values(app) -> list[Any]:
    """Every value in every table of the database."""
    values: list[Any] = []
    async with app.state.runtime.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                values.extend(row)
    return values


async def test_erasure_removes_the_personal_data_and_keeps_the_record_readable_by_id(
    app, client, admin, pos, anna
):
    erased = await erase(client, admin, anna)

    assert erased == await fetch_member(client, pos, anna)
    assert erased["id"] == anna["id"]
    assert erased["status"] == "erased"
    assert erased["erased_at"] is not None
    for field in ("name", "email", "external_id", "birthdate"):
        assert erased[field] is None
    assert erased["segments"] == []
    assert erased["tier"] is None
    assert CARD_PSEUDONYM.match(erased["card_number"])
    assert CODE_PSEUDONYM.match(erased["referral_code"])


async def test_the_old_card_number_email_and_external_id_find_nothing_any_more(
    client, admin, pos, anna
):
    await erase(client, admin, anna)

    assert await look_up(client, pos, card_number=ANNA["card_number"]) == []
    assert await look_up(client, pos, email=ANNA["email"]) == []
    assert await look_up(client, pos, external_id=ANNA["external_id"]) == []
    by_card = await write(
        client,
        "/v1/purchases",
        pos,
        {"card_number": ANNA["card_number"], "order_id": "o-1", "channel": "pos"}
        | {"currency": "EUR", "total": 1000},
    )
    assert_problem(by_card, 404, "member_not_found")
    # The identifiers are free again: the person can enrol anew, as a new member.
    again = await enrol(client, pos, **ANNA)
    assert again["id"] != anna["id"]


async def test_pseudonyms_are_random_unique_and_nothing_of_the_old_values_stays(
    app, client, admin, pos, anna
):
    ben = await enrol(client, pos, name="Ben Berg", email="ben@example.com", external_id="crm-2")
    await purchase(client, pos, anna, 4590)
    await write(
        client, f"/v1/members/{anna['id']}/gifts", pos, {"points": 5, "message": "Anna Schmidt"}
    )

    first, second = await erase(client, admin, anna), await erase(client, admin, ben)

    assert first["card_number"] != second["card_number"]
    assert first["referral_code"] != second["referral_code"]
    for pseudonym in (first["card_number"], first["referral_code"]):
        assert ANNA["card_number"] not in pseudonym
        assert anna["referral_code"] not in pseudonym
    old = [*ANNA.values(), anna["referral_code"], "Ben Berg", "ben@example.com", "crm-2"]
    old_texts = [value for value in old if isinstance(value, str)]
    for value in await stored_values(app):
        assert value != date.fromisoformat(ANNA["birthdate"])
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        if isinstance(value, str | dict | list):
            assert not any(text in str(value) for text in old_texts), value


async def test_erasure_forfeits_the_points_to_the_expired_account_and_the_ledger_verifies(
    app, client, admin, pos, anna, database
):
    await set_program(client, admin, pending_days=14)
    await adjust(client, admin, anna, 100, "goodwill")
    await purchase(client, pos, anna, 4590)  # 45 pending
    await redeem(client, pos, anna, 30)

    await erase(client, admin, anna)

    current = await balance(client, pos, anna)
    assert (current["available"], current["pending"], current["expiring"]) == (0, 0, [])
    [last, *_] = (await transactions(client, pos, anna))["items"]
    assert (last["type"], last["points"], last["balance_after"], last["pending_after"]) == (
        "erasure",
        -115,
        0,
        0,
    )
    assert await expired_account_total(app) == 115
    [forfeited] = await events(app, "points.forfeited")
    assert (forfeited.data["available_change"], forfeited.data["pending_change"]) == (-70, -45)
    result = await stammkunde(database.url, "verify")
    assert result.exit_code == 0, result.output


async def test_a_debt_left_by_a_return_is_written_off(app, client, admin, pos, anna):
    bought = await purchase(client, pos, anna, 4590)
    await redeem(client, pos, anna, 45)
    await return_purchase(client, pos, bought, amount=4590)
    assert (await balance(client, pos, anna))["available"] == -45

    await erase(client, admin, anna)

    assert (await balance(client, pos, anna))["available"] == 0
    [last, *_] = (await transactions(client, pos, anna))["items"]
    assert (last["type"], last["points"]) == ("erasure", 45)
    assert await expired_account_total(app) == 0
    await assert_ledger_verifies(app)


async def test_erasure_emits_member_erased_once_with_ids_only_and_erasing_again_changes_nothing(
    app, client, admin, pos, anna
):
    await adjust(client, admin, anna, 10, "goodwill")
    first = await erase(client, admin, anna)
    again = await erase(client, admin, anna)
    replayed = await erase(client, admin, anna, **idempotent({}, "erase-anna"))
    replayed_again = await erase(client, admin, anna, **idempotent({}, "erase-anna"))

    assert first == again == replayed == replayed_again
    [erased] = await events(app, "member.erased")
    assert erased.member_id == uuid.UUID(anna["id"])
    assert erased.data == {"member_id": anna["id"], "erased_member_ids": [anna["id"]]}
    assert len(await events(app, "points.forfeited")) == 1
    types = [t["type"] for t in (await transactions(client, pos, anna))["items"]]
    assert types == ["erasure", "adjustment"]


async def test_an_erased_member_takes_no_writes(app, client, admin, pos, anna):
    ben = await enrol(client, pos, name="Ben")
    await adjust(client, admin, anna, 100, "goodwill")
    paid = await redeem(client, pos, anna, 10)
    await adjust(client, admin, ben, 100, "goodwill")
    gift = await write(client, f"/v1/members/{ben['id']}/gifts", pos, {"points": 5})
    reward = await client.post(
        "/v1/rewards",
        json={"name": "Mug", "cost_points": 5, "kind": "amount", "value": 100, "valid_days": 30},
        headers=admin,
    )
    assert (gift.status_code, reward.status_code) == (201, 201), (gift.text, reward.text)
    await erase(client, admin, anna)
    member = f"/v1/members/{anna['id']}"
    sale = {"member_id": anna["id"], "order_id": "o-1", "channel": "pos", "currency": "EUR"}

    refused = [
        await write(client, "/v1/purchases", pos, sale | {"total": 1000}),
        await write(client, f"{member}/redemptions", pos, {"points": 1}),
        await write(client, f"{member}/adjustments", admin, {"points": 5, "reason": "x"}),
        await write(client, f"{member}/vouchers", pos, {"reward_id": reward.json()["id"]}),
        await write(client, f"{member}/gifts", pos, {"points": 1}),
        await write(client, f"/v1/redemptions/{paid['id']}/cancel", pos),
        await write(
            client, f"/v1/gifts/{gift.json()['code']}/claim", pos, {"member_id": anna["id"]}
        ),
        await client.patch(member, json={"name": "Anna"}, headers=pos),
        await client.post(
            f"{member}/merge", json={"source_member_id": ben["id"]}, headers=idempotent(admin)
        ),
        await client.post(
            f"/v1/members/{ben['id']}/merge",
            json={"source_member_id": anna["id"]},
            headers=idempotent(admin),
        ),
    ]

    for response in refused:
        assert_problem(response, 409, "member_erased")
    enrolled = await client.post(
        "/v1/members", json={"referral_code": anna["referral_code"]}, headers=pos
    )
    assert_problem(enrolled, 422, "referral_code_unknown")
    assert (await fetch_member(client, pos, anna))["name"] is None
    assert (await balance(client, pos, anna))["available"] == 0
    await assert_ledger_verifies(app)


async def test_a_return_of_an_erased_members_purchase_takes_its_points_from_the_expired_account(
    app, client, admin, pos, anna
):
    bought = await purchase(client, pos, anna, 4590)
    await redeem(client, pos, anna, 20)
    await erase(client, admin, anna)  # 25 forfeited
    assert await expired_account_total(app) == 25

    returned = await return_purchase(client, pos, bought, amount=4590)

    assert returned["points_reversed"] == 25  # what was forfeited; the 20 spent stay spent
    assert (await balance(client, pos, anna))["available"] == 0
    assert await expired_account_total(app) == 0
    await assert_ledger_verifies(app)


async def test_open_gifts_of_an_erased_member_are_taken_back_and_their_texts_forgotten(
    app, client, admin, pos, anna
):
    ben = await enrol(client, pos, name="Ben")
    await adjust(client, admin, anna, 100, "goodwill")
    await adjust(client, admin, ben, 100, "goodwill")
    open_gift = await write(
        client, f"/v1/members/{anna['id']}/gifts", pos, {"points": 30, "message": "Für Ben"}
    )
    to_anna = await write(
        client, f"/v1/members/{ben['id']}/gifts", pos, {"points": 5, "message": "Liebe Anna"}
    )
    claimed = await write(
        client, f"/v1/gifts/{to_anna.json()['code']}/claim", pos, {"member_id": anna["id"]}
    )
    assert claimed.status_code == 201, claimed.text

    await erase(client, admin, anna)

    looked_up = await client.get(f"/v1/gifts/{open_gift.json()['code']}", headers=pos)
    assert looked_up.json()["status"] == "cancelled"
    assert [e.data["gift_id"] for e in await events(app, "gift.cancelled")] == [
        open_gift.json()["id"]
    ]
    [forfeited] = await events(app, "points.forfeited")
    assert forfeited.data["points"] == -105  # 100 - 30 + 5, and the 30 back
    async with app.state.runtime.sessionmaker() as session:
        texts = (await session.execute(select(Gift.message, Gift.recipient_hint))).all()
    assert [tuple(row) for row in texts] == [(None, None), (None, None)]
    await assert_ledger_verifies(app)


async def test_erasing_a_merged_duplicate_erases_the_person_and_all_their_records(
    app, client, admin, pos, anna
):
    twin = await enrol(client, pos, name="Anna S.", email="anna.s@example.com")
    merged = await client.post(
        f"/v1/members/{anna['id']}/merge",
        json={"source_member_id": twin["id"]},
        headers=idempotent(admin),
    )
    assert merged.status_code == 200, merged.text

    erased_twin = await erase(client, admin, twin)

    assert (erased_twin["id"], erased_twin["status"]) == (twin["id"], "erased")
    assert erased_twin["merged_into_id"] == anna["id"]
    assert (await fetch_member(client, pos, anna))["status"] == "erased"
    for old in ({"email": "anna.s@example.com"}, {"email": ANNA["email"]}):
        assert await look_up(client, pos, **old) == []
    [erased] = await events(app, "member.erased")
    assert erased.data == {"member_id": anna["id"], "erased_member_ids": [anna["id"], twin["id"]]}


async def test_a_referrer_erased_before_the_reward_gets_none(app, client, admin, pos, anna):
    await set_program(client, admin, referral_bonus_referrer=50, referral_bonus_referee=20)
    ben = await enrol(client, pos, name="Ben", referral_code=anna["referral_code"])
    await purchase(client, pos, ben, 2500)  # qualifies: Ben gets his bonus now
    await erase(client, admin, anna)

    await referral_jobs.reward_referrers(app.state.runtime.sessionmaker)

    async with app.state.runtime.sessionmaker() as session:
        referral = await session.scalar(select(Referral))
        anna_entries = await session.scalar(
            select(func.count()).where(LedgerTransaction.member_id == uuid.UUID(anna["id"]))
        )
    assert referral is not None
    assert referral.status == "void"
    assert anna_entries == 0
    assert (await balance(client, pos, ben))["available"] == 45


async def test_erasure_is_for_admins_and_for_known_members(client, admin, pos, anna):
    forbidden = await client.delete(f"/v1/members/{anna['id']}", headers=pos)
    unknown = await client.delete(f"/v1/members/{uuid.uuid4()}", headers=admin)

    assert_problem(forbidden, 403, "insufficient_scope")
    assert_problem(unknown, 404, "member_not_found")
    assert (await fetch_member(client, pos, anna))["status"] == "active"


async def test_a_replay_of_a_stored_answer_that_held_the_personal_data_answers_erased(
    client, admin, pos
):
    headers = idempotent(pos, "enrol-anna")
    enrolled = await client.post("/v1/members", json=ANNA, headers=headers)
    assert enrolled.status_code == 201, enrolled.text
    other = await client.post("/v1/members", json={"name": "Ben"}, headers=idempotent(pos, "ben"))

    await erase(client, admin, enrolled.json())
    replayed = await client.post("/v1/members", json=ANNA, headers=headers)
    other_replayed = await client.post(
        "/v1/members", json={"name": "Ben"}, headers=idempotent(pos, "ben")
    )

    assert_problem(replayed, 409, "member_erased")
    assert "Anna" not in replayed.text
    assert await look_up(client, pos, email=ANNA["email"]) == []  # not enrolled again
    assert (other_replayed.status_code, other_replayed.json()) == (201, other.json())
