"""Signup and profile-completion bonuses: each credited once, as its own ledger transaction."""

import uuid
from datetime import datetime

from sqlalchemy import select

from app.bonuses.models import BonusGrant
from app.events.models import Event
from app.ledger import verify
from app.ledger.models import (
    Account,
    AccountKind,
    LedgerTransaction,
    Posting,
    Side,
    program_account_id,
)
from app.program import calendar
from app.program.schemas import ProgramSettings
from tests.factories import balance, enrol, idempotent, set_program, transactions

COMPLETE = {"email": "anna@example.com", "name": "Anna Schmidt", "birthdate": "1990-05-17"}


async def history(client, pos, member) -> list[tuple[str, int]]:
    """The member's transactions as (type, points), oldest first."""
    items = (await transactions(client, pos, member))["items"]
    return sorted((t["type"], t["points"]) for t in items)


async def grants(app, member) -> list[tuple[str, str, int, bool]]:
    """The member's bonus grants as (kind, period, points, has a transaction)."""
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(BonusGrant)
            .where(BonusGrant.member_id == uuid.UUID(member["id"]))
            .order_by(BonusGrant.kind)
        )
        return [(g.kind, g.period, g.points, g.transaction_id is not None) for g in rows]


async def earned_events(app, member) -> list[dict]:
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(Event.data).where(
                Event.member_id == uuid.UUID(member["id"]), Event.type == "points.earned"
            )
        )
        return sorted(rows.all(), key=lambda data: data["type"])


# Signup bonus


async def test_the_signup_bonus_is_credited_at_enrolment_as_its_own_transaction(
    app, client, admin, pos
):
    await set_program(client, admin, signup_bonus=100, points_expiry_months=1)

    anna = await enrol(client, pos, name="Anna")

    assert anna["name"] == "Anna"
    assert "balance" not in anna  # the response is the member; the balance endpoint has points
    current = await balance(client, pos, anna)
    assert (current["available"], current["pending"], current["lifetime_earned"]) == (100, 0, 100)
    # A lot with the programme's expiry, counted from the enrolment.
    [expiring] = current["expiring"]
    created = datetime.fromisoformat(anna["created_at"])
    expected = calendar.expires_at(created, ProgramSettings(points_expiry_months=1))
    assert expiring["points"] == 100
    assert datetime.fromisoformat(expiring["expires_at"]) == expected
    assert await history(client, pos, anna) == [("signup_bonus", 100)]
    assert await grants(app, anna) == [("signup", "", 100, True)]
    [event] = await earned_events(app, anna)
    assert (event["type"], event["points"]) == ("signup_bonus", 100)


async def test_a_retried_enrolment_credits_the_signup_bonus_once(app, client, admin, pos):
    await set_program(client, admin, signup_bonus=100)
    headers = idempotent(pos)

    first = await client.post("/v1/members", json={"name": "Anna"}, headers=headers)
    again = await client.post("/v1/members", json={"name": "Anna"}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert (await balance(client, pos, first.json()))["available"] == 100
    assert await history(client, pos, first.json()) == [("signup_bonus", 100)]


async def test_no_signup_bonus_when_the_programme_offers_none(app, client, pos):
    anna = await enrol(client, pos, name="Anna")

    current = await balance(client, pos, anna)
    assert (current["available"], current["lifetime_earned"]) == (0, 0)
    assert await history(client, pos, anna) == []
    assert await grants(app, anna) == []
    assert await earned_events(app, anna) == []


async def test_each_member_gets_their_own_signup_bonus(client, admin, pos):
    await set_program(client, admin, signup_bonus=100)

    anna = await enrol(client, pos, name="Anna")
    ben = await enrol(client, pos, name="Ben")

    assert (await balance(client, pos, anna))["available"] == 100
    assert (await balance(client, pos, ben))["available"] == 100


# Profile-completion bonus


async def test_enrolling_with_a_complete_profile_earns_both_bonuses(app, client, admin, pos):
    await set_program(client, admin, signup_bonus=100, profile_completion_bonus=50)

    anna = await enrol(client, pos, **COMPLETE)

    current = await balance(client, pos, anna)
    assert (current["available"], current["lifetime_earned"]) == (150, 150)
    assert await history(client, pos, anna) == [("profile_bonus", 50), ("signup_bonus", 100)]
    assert await grants(app, anna) == [("profile", "", 50, True), ("signup", "", 100, True)]
    assert [(e["type"], e["points"]) for e in await earned_events(app, anna)] == [
        ("profile_bonus", 50),
        ("signup_bonus", 100),
    ]


async def test_an_incomplete_profile_at_enrolment_earns_no_profile_bonus(app, client, admin, pos):
    await set_program(client, admin, profile_completion_bonus=50)

    for missing in ("email", "name", "birthdate"):
        fields = {k: v for k, v in COMPLETE.items() if k != missing}
        fields["email"] = f"{missing}@example.com" if missing != "email" else None
        member = await enrol(client, pos, **fields)

        assert await history(client, pos, member) == [], missing
        assert await grants(app, member) == [], missing


async def test_the_patch_that_completes_the_profile_earns_the_bonus_once_ever(
    app, client, admin, pos
):
    await set_program(client, admin, profile_completion_bonus=50)
    anna = await enrol(client, pos, name="Anna Schmidt")
    path = f"/v1/members/{anna['id']}"

    async def patch(**fields):
        response = await client.patch(path, json=fields, headers=pos)
        assert response.status_code == 200, response.text
        return response.json()

    await patch(email="anna@example.com")
    assert await history(client, pos, anna) == []

    updated = await patch(birthdate="1990-05-17")
    assert updated["birthdate"] == "1990-05-17"
    assert await history(client, pos, anna) == [("profile_bonus", 50)]

    # Changing a complete profile, clearing it and completing it again earn nothing more.
    await patch(name="Anna Müller")
    await patch(email=None)
    await patch(email="anna.mueller@example.com")
    await patch(birthdate=None)
    await patch(birthdate="1990-05-18")

    assert await history(client, pos, anna) == [("profile_bonus", 50)]
    assert await grants(app, anna) == [("profile", "", 50, True)]
    current = await balance(client, pos, anna)
    assert (current["available"], current["lifetime_earned"]) == (50, 50)


async def test_a_profile_complete_at_enrolment_is_not_rewarded_again_by_a_patch(client, admin, pos):
    await set_program(client, admin, profile_completion_bonus=50)
    anna = await enrol(client, pos, **COMPLETE)
    path = f"/v1/members/{anna['id']}"

    await client.patch(path, json={"birthdate": None}, headers=pos)
    response = await client.patch(path, json={"birthdate": "1990-05-17"}, headers=pos)

    assert response.status_code == 200, response.text
    assert await history(client, pos, anna) == [("profile_bonus", 50)]


async def test_a_profile_completed_before_the_bonus_was_offered_earns_nothing_later(
    app, client, admin, pos
):
    anna = await enrol(client, pos, **COMPLETE)
    await set_program(client, admin, profile_completion_bonus=50)

    response = await client.patch(f"/v1/members/{anna['id']}", json={"name": "A. S."}, headers=pos)

    assert response.status_code == 200, response.text
    assert await history(client, pos, anna) == []
    assert await grants(app, anna) == []


async def test_no_profile_bonus_when_the_programme_offers_none(app, client, admin, pos):
    await set_program(client, admin, signup_bonus=100)

    anna = await enrol(client, pos, **COMPLETE)

    assert await history(client, pos, anna) == [("signup_bonus", 100)]
    assert await grants(app, anna) == [("signup", "", 100, True)]


async def test_bonus_transactions_are_credits_from_the_issued_account(app, client, admin, pos):
    """Each bonus moves points from the programme's issued account to the member's available
    account; the ledger still verifies."""
    await set_program(client, admin, signup_bonus=100, profile_completion_bonus=50)
    anna = await enrol(client, pos, **COMPLETE)
    member_id = uuid.UUID(anna["id"])

    async with app.state.runtime.sessionmaker() as session:
        available = await session.scalar(
            select(Account.id).where(
                Account.member_id == member_id, Account.kind == AccountKind.available
            )
        )
        legs = await session.execute(
            select(LedgerTransaction.type, Posting.side, Posting.account_id, Posting.amount)
            .join(Posting, Posting.transaction_id == LedgerTransaction.id)
            .where(LedgerTransaction.member_id == member_id)
        )
        issued = program_account_id(AccountKind.issued)
        assert sorted(tuple(row) for row in legs.all()) == sorted(
            [
                ("profile_bonus", Side.debit, issued, 50),
                ("profile_bonus", Side.credit, available, 50),
                ("signup_bonus", Side.debit, issued, 100),
                ("signup_bonus", Side.credit, available, 100),
            ]
        )
        assert await verify.first_mismatch(session) is None
