"""Naming a referrer after enrolment, its refusals, and the list of a member's referrals."""

import asyncio
import uuid

import pytest
from sqlalchemy import update

from app.api_keys.models import Scope
from app.members.models import Member, MemberStatus
from tests.factories import (
    assert_problem,
    claim,
    enrol,
    execute,
    headers_for,
    idempotent,
    purchase,
)
from tests.referrals.helpers import (
    MINIMUM_TOTAL,
    REFEREE_BONUS,
    REFERRER_BONUS,
    referral_bonuses,
    referrals_of,
    reward_referrers,
)


@pytest.fixture
async def ben(client, pos, anna):
    """Enrolled without a code: he forgot that Anna recommended us."""
    return await enrol(client, pos, name="Ben")


async def name_referrer(client, headers, member, code, **extra_headers):
    return await client.put(
        f"/v1/members/{member['id']}/referrer",
        json={"referral_code": code},
        headers={**headers, **extra_headers},
    )


async def referred_by(client, headers, member) -> str | None:
    response = await client.get(f"/v1/members/{member['id']}", headers=headers)
    return response.json()["referred_by_id"]


# PUT /v1/members/{member_id}/referrer


async def test_a_referrer_named_after_enrolment_counts_like_a_code_at_enrolment(
    app, client, pos, anna, ben
):
    response = await name_referrer(client, pos, ben, anna["referral_code"].lower())

    assert response.status_code == 200, response.text
    referral = response.json()
    assert (referral["referrer_id"], referral["referee_id"]) == (anna["id"], ben["id"])
    assert (referral["status"], referral["qualified_at"], referral["rewarded_at"]) == (
        "pending",
        None,
        None,
    )
    assert await referred_by(client, pos, ben) == anna["id"]

    await purchase(client, pos, ben, 2500)
    assert await reward_referrers(app) == 1

    assert await referral_bonuses(client, pos, ben) == [REFEREE_BONUS]
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]


async def test_naming_the_same_referrer_again_changes_nothing(client, pos, anna, ben):
    first = await name_referrer(client, pos, ben, anna["referral_code"])
    again = await name_referrer(client, pos, ben, anna["referral_code"])

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len((await referrals_of(client, pos, anna))["items"]) == 1


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(
    client, pos, anna, ben
):
    headers = idempotent(pos)
    first = await name_referrer(client, headers, ben, anna["referral_code"])
    replayed = await name_referrer(client, headers, ben, anna["referral_code"])

    assert first.status_code == replayed.status_code == 200
    assert replayed.json() == first.json()
    assert replayed.headers.get("Idempotent-Replayed") == "true"


async def test_a_purchase_below_the_minimum_does_not_close_the_door(app, client, pos, anna, ben):
    await purchase(client, pos, ben, MINIMUM_TOTAL - 1)

    assert (await name_referrer(client, pos, ben, anna["referral_code"])).status_code == 200

    await purchase(client, pos, ben, MINIMUM_TOTAL)
    assert await referral_bonuses(client, pos, ben) == [REFEREE_BONUS]


async def test_the_own_code_is_refused(client, pos, ben):
    response = await name_referrer(client, pos, ben, ben["referral_code"])

    assert_problem(response, 422, "referral_self")
    assert await referred_by(client, pos, ben) is None


async def test_a_loop_through_others_is_refused(client, pos, anna):
    ben = await enrol(client, pos, name="Ben", referral_code=anna["referral_code"])
    carl = await enrol(client, pos, name="Carl", referral_code=ben["referral_code"])

    # Anna recommended Ben, who recommended Carl: Carl cannot have recommended Anna.
    response = await name_referrer(client, pos, anna, carl["referral_code"])

    body = assert_problem(response, 422, "referral_loop")
    assert "directly or through others" in body["detail"]
    assert await referred_by(client, pos, anna) is None
    assert (await referrals_of(client, pos, carl))["items"] == []


async def test_a_direct_loop_is_refused(client, pos, anna):
    ben = await enrol(client, pos, name="Ben", referral_code=anna["referral_code"])

    response = await name_referrer(client, pos, anna, ben["referral_code"])

    assert_problem(response, 422, "referral_loop")


async def test_two_members_naming_each_other_at_once_link_only_one_way(client, pos, anna, ben):
    pairs = [(anna, ben)] + [
        (await enrol(client, pos, name=f"A{i}"), await enrol(client, pos, name=f"B{i}"))
        for i in range(3)
    ]

    responses = await asyncio.gather(
        *(
            name_referrer(client, pos, one, other["referral_code"])
            for first, second in pairs
            for one, other in ((first, second), (second, first))
        )
    )

    for linked, refused in zip(responses[::2], responses[1::2], strict=True):
        if linked.status_code != 200:
            linked, refused = refused, linked
        assert linked.status_code == 200, linked.text
        assert_problem(refused, 422, "referral_loop")
    for first, second in pairs:
        links = [await referred_by(client, pos, first), await referred_by(client, pos, second)]
        assert links.count(None) == 1


async def test_a_member_with_a_referrer_cannot_get_another(client, pos, anna, ben):
    carl = await enrol(client, pos, name="Carl", referral_code=anna["referral_code"])

    response = await name_referrer(client, pos, carl, ben["referral_code"])

    assert_problem(response, 409, "referral_exists")
    assert await referred_by(client, pos, carl) == anna["id"]
    assert (await referrals_of(client, pos, ben))["items"] == []


async def test_an_unknown_code_is_refused(client, pos, ben):
    response = await name_referrer(client, pos, ben, "ZZZZZZZZ")

    assert_problem(response, 422, "referral_code_unknown")
    assert await referred_by(client, pos, ben) is None


async def test_after_a_qualifying_purchase_it_is_too_late(app, client, pos, anna, ben):
    await purchase(client, pos, ben, MINIMUM_TOTAL)

    response = await name_referrer(client, pos, ben, anna["referral_code"])

    assert_problem(response, 409, "referral_too_late")
    assert await referred_by(client, pos, ben) is None
    assert await reward_referrers(app) == 0
    assert await referral_bonuses(client, pos, anna) == []


async def test_a_claimed_qualifying_receipt_also_makes_it_too_late(client, pos, anna, ben):
    receipt = await purchase(client, pos, None, MINIMUM_TOTAL)
    assert (await claim(client, pos, receipt["claim_code"], ben)).status_code == 201

    response = await name_referrer(client, pos, ben, anna["referral_code"])

    assert_problem(response, 409, "referral_too_late")


async def test_a_merged_records_code_names_the_member_it_was_merged_into(
    app, client, pos, anna, ben
):
    duplicate = await enrol(client, pos, name="Anna (old card)")
    await execute(
        app,
        update(Member)
        .where(Member.id == uuid.UUID(duplicate["id"]))
        .values(status=MemberStatus.merged, merged_into_id=uuid.UUID(anna["id"])),
    )

    own = await name_referrer(client, pos, anna, duplicate["referral_code"])
    linked = await name_referrer(client, pos, ben, duplicate["referral_code"])

    assert_problem(own, 422, "referral_self")
    assert linked.status_code == 200, linked.text
    assert linked.json()["referrer_id"] == anna["id"]


async def test_a_loop_through_a_merged_record_is_refused(app, client, pos, anna, ben):
    duplicate = await enrol(client, pos, name="Anna (old card)")
    carl = await enrol(client, pos, name="Carl", referral_code=duplicate["referral_code"])
    await execute(
        app,
        update(Member)
        .where(Member.id == uuid.UUID(duplicate["id"]))
        .values(status=MemberStatus.merged, merged_into_id=uuid.UUID(anna["id"])),
    )

    # Carl came on the old card's code, which is Anna's now.
    response = await name_referrer(client, pos, anna, carl["referral_code"])

    assert_problem(response, 422, "referral_loop")


async def test_naming_a_referrer_for_a_merged_record_names_it_for_the_member_it_became(
    app, client, pos, anna, ben
):
    old_card = await enrol(client, pos, name="Ben (old card)")
    await execute(
        app,
        update(Member)
        .where(Member.id == uuid.UUID(old_card["id"]))
        .values(status=MemberStatus.merged, merged_into_id=uuid.UUID(ben["id"])),
    )

    response = await name_referrer(client, pos, old_card, anna["referral_code"])

    assert response.status_code == 200, response.text
    assert response.json()["referee_id"] == ben["id"]
    assert await referred_by(client, pos, ben) == anna["id"]


async def test_naming_a_referrer_for_an_unknown_member_is_404(client, pos, anna):
    response = await name_referrer(client, pos, {"id": str(uuid.uuid4())}, anna["referral_code"])

    assert_problem(response, 404, "member_not_found")


async def test_naming_a_referrer_needs_a_pos_or_shop_key(app, client, anna, ben):
    partner = await headers_for(app, Scope.partner)
    shop = await headers_for(app, Scope.shop)

    assert_problem(
        await name_referrer(client, partner, ben, anna["referral_code"]), 403, "insufficient_scope"
    )
    assert (await name_referrer(client, shop, ben, anna["referral_code"])).status_code == 200


async def test_the_body_takes_only_the_referral_code(client, pos, anna, ben):
    response = await client.put(
        f"/v1/members/{ben['id']}/referrer",
        json={"referral_code": anna["referral_code"], "referrer_id": anna["id"]},
        headers=pos,
    )

    assert_problem(response, 422, "validation_error")


# GET /v1/members/{member_id}/referrals


async def test_the_referrals_a_member_made_newest_first_page_by_page(app, client, pos, anna):
    referees = [
        await enrol(client, pos, name=name, referral_code=anna["referral_code"])
        for name in ("Ben", "Carl", "Dora")
    ]
    await purchase(client, pos, referees[0], 2500)
    await reward_referrers(app)
    await purchase(client, pos, referees[1], 2500)

    first = await referrals_of(client, pos, anna, limit=2)
    second = await referrals_of(client, pos, anna, limit=2, cursor=first["next_cursor"])

    assert [r["referee_id"] for r in first["items"] + second["items"]] == [
        referees[2]["id"],
        referees[1]["id"],
        referees[0]["id"],
    ]
    assert second["next_cursor"] is None
    dora, carl = first["items"]
    [ben] = second["items"]
    assert [r["status"] for r in (dora, carl, ben)] == ["pending", "qualified", "rewarded"]
    assert {"id", "referee_id", "status", "qualified_at", "rewarded_at", "created_at"} <= set(ben)
    assert [r["qualified_at"] is None for r in (dora, carl, ben)] == [True, False, False]
    assert [r["rewarded_at"] is None for r in (dora, carl, ben)] == [True, True, False]
    # Only those Anna recommended: Ben recommended no one.
    assert (await referrals_of(client, pos, referees[0]))["items"] == []


async def test_the_referrals_of_a_merged_record_are_those_of_the_member_it_became(
    app, client, pos, anna
):
    ben = await enrol(client, pos, name="Ben", referral_code=anna["referral_code"])
    old_card = await enrol(client, pos, name="Anna (old card)")
    await execute(
        app,
        update(Member)
        .where(Member.id == uuid.UUID(old_card["id"]))
        .values(status=MemberStatus.merged, merged_into_id=uuid.UUID(anna["id"])),
    )

    [referral] = (await referrals_of(client, pos, old_card))["items"]

    assert (referral["referrer_id"], referral["referee_id"]) == (anna["id"], ben["id"])


async def test_partners_may_read_the_referrals(app, client, pos, anna):
    await enrol(client, pos, name="Ben", referral_code=anna["referral_code"])
    partner = await headers_for(app, Scope.partner)

    assert len((await referrals_of(client, partner, anna))["items"]) == 1


async def test_the_referrals_of_an_unknown_member_are_404(client, pos):
    response = await client.get(f"/v1/members/{uuid.uuid4()}/referrals", headers=pos)

    assert_problem(response, 404, "member_not_found")
