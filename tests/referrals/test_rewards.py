"""Referral bonuses as the programme's rulebook: the referee's first qualifying purchase pays
the referee at once and the referrer through the job, once, whatever happens afterwards."""

import asyncio
import uuid
from datetime import datetime

import pytest
from sqlalchemy import update

from app.members.models import Member, MemberStatus
from tests.factories import (
    assert_ledger_verifies,
    assert_problem,
    balance,
    claim,
    enrol,
    execute,
    idempotent,
    purchase,
    return_purchase,
    set_program,
    stammkunde,
)
from tests.referrals.helpers import (
    MINIMUM_TOTAL,
    REFEREE_BONUS,
    REFERRER_BONUS,
    events,
    referral_bonuses,
    referrals_of,
    reward_referrers,
    statuses,
)


@pytest.fixture
async def ben(client, pos, anna):
    """Came on Anna's recommendation."""
    return await enrol(client, pos, name="Ben", referral_code=anna["referral_code"])


async def test_the_referee_gets_the_bonus_with_the_first_qualifying_purchase_the_referrer_from_the_job(
    app, client, database, pos, anna, ben
):
    await purchase(client, pos, anna, 5000)  # Anna has no referrer: her purchases pay no bonus
    assert (await referrals_of(client, pos, anna))["items"][0]["status"] == "pending"

    bought = await purchase(client, pos, ben, 2500)

    assert bought["balance"] == {"available": 25 + REFEREE_BONUS, "pending": 0}
    assert await referral_bonuses(client, pos, ben) == [REFEREE_BONUS]
    assert await referral_bonuses(client, pos, anna) == []
    [referral] = (await referrals_of(client, pos, anna))["items"]
    assert (referral["status"], referral["rewarded_at"]) == ("qualified", None)
    assert referral["qualified_at"] is not None

    assert await reward_referrers(app) == 1
    assert await reward_referrers(app) == 0

    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]
    assert (await balance(client, pos, anna))["available"] == 50 + REFERRER_BONUS
    assert (await balance(client, pos, ben))["available"] == 25 + REFEREE_BONUS
    [referral] = (await referrals_of(client, pos, anna))["items"]
    assert referral["status"] == "rewarded"
    assert referral["rewarded_at"] is not None
    await assert_ledger_verifies(app)
    result = await stammkunde(database.url, "verify")
    assert result.exit_code == 0, result.output


async def test_the_bonus_lots_expire_like_other_bonuses_and_reference_the_referral(
    app, client, admin, pos, anna, ben
):
    await set_program(client, admin, points_expiry_months=1)
    await purchase(client, pos, ben, 2500)
    await reward_referrers(app)

    [referral] = (await referrals_of(client, pos, anna))["items"]
    for member in (anna, ben):
        history = (await client.get(f"/v1/members/{member['id']}/transactions", headers=pos)).json()
        bonus = next(t for t in history["items"] if t["type"] == "referral_bonus")
        assert bonus["related_id"] == referral["id"]
        assert len((await balance(client, pos, member))["expiring"]) >= 1


async def test_a_purchase_below_the_minimum_total_qualifies_nothing(app, client, pos, anna, ben):
    await purchase(client, pos, ben, MINIMUM_TOTAL - 1)

    assert await referral_bonuses(client, pos, ben) == []
    assert await reward_referrers(app) == 0
    assert await statuses(client, pos, anna) == {ben["id"]: "pending"}

    await purchase(client, pos, ben, MINIMUM_TOTAL)  # exactly the minimum qualifies

    assert await referral_bonuses(client, pos, ben) == [REFEREE_BONUS]
    assert await reward_referrers(app) == 1
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]


async def test_a_retried_purchase_pays_the_bonus_once(app, client, pos, anna, ben):
    body = {"member_id": ben["id"], "order_id": "POS-1-0001", "channel": "pos", "currency": "EUR"}
    body["total"] = 2500
    headers = idempotent(pos)

    first = await client.post("/v1/purchases", json=body, headers=headers)
    replayed = await client.post("/v1/purchases", json=body, headers=headers)
    again = await client.post("/v1/purchases", json=body, headers=idempotent(pos))

    assert first.status_code == replayed.status_code == 201
    assert replayed.json() == first.json()
    assert_problem(again, 409, "purchase_exists")
    assert await referral_bonuses(client, pos, ben) == [REFEREE_BONUS]
    assert await reward_referrers(app) == 1
    assert await reward_referrers(app) == 0
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]


async def test_a_returned_purchase_keeps_the_bonus_and_buying_again_pays_none(
    app, client, pos, anna, ben
):
    bought = await purchase(client, pos, ben, 2500)
    assert await reward_referrers(app) == 1

    await return_purchase(client, pos, bought, amount=2500)
    await purchase(client, pos, ben, 2500)
    assert await reward_referrers(app) == 0

    assert await referral_bonuses(client, pos, ben) == [REFEREE_BONUS]
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]
    # 25 earned, 25 taken back by the return, 25 earned again, and the bonus.
    assert (await balance(client, pos, ben))["available"] == 25 + REFEREE_BONUS
    [referral] = (await referrals_of(client, pos, anna))["items"]
    assert referral["status"] == "rewarded"
    await assert_ledger_verifies(app)


async def test_a_referral_qualified_but_not_yet_rewarded_survives_a_return(
    app, client, pos, anna, ben
):
    bought = await purchase(client, pos, ben, 2500)
    await return_purchase(client, pos, bought, amount=2500)

    assert await reward_referrers(app) == 1
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]
    assert await referral_bonuses(client, pos, ben) == [REFEREE_BONUS]


async def test_a_receipt_claimed_later_qualifies(app, client, pos, anna, ben):
    receipt = await purchase(client, pos, None, 3000)
    assert await referral_bonuses(client, pos, ben) == []

    claimed = await claim(client, pos, receipt["claim_code"], ben)

    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["balance"]["available"] == 30 + REFEREE_BONUS
    assert await reward_referrers(app) == 1
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]
    await assert_ledger_verifies(app)


async def test_a_small_receipt_claimed_does_not_qualify(app, client, pos, anna, ben):
    receipt = await purchase(client, pos, None, MINIMUM_TOTAL - 1)

    assert (await claim(client, pos, receipt["claim_code"], ben)).status_code == 201

    assert await referral_bonuses(client, pos, ben) == []
    assert await statuses(client, pos, anna) == {ben["id"]: "pending"}


async def test_without_a_referee_bonus_the_referral_still_qualifies_for_the_referrer(
    app, client, admin, pos, anna, ben
):
    await set_program(client, admin, referral_bonus_referee=0)

    await purchase(client, pos, ben, 2500)

    assert await referral_bonuses(client, pos, ben) == []
    assert await statuses(client, pos, anna) == {ben["id"]: "qualified"}
    assert await reward_referrers(app) == 1
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]


async def test_the_monthly_cap_caps_the_referrer_and_the_referee_keeps_the_bonus(
    app, client, admin, pos, anna
):
    await set_program(client, admin, referral_max_per_referrer_per_month=2)
    referees = [
        await enrol(client, pos, name=f"R{i}", referral_code=anna["referral_code"])
        for i in range(3)
    ]
    for referee in referees:
        await purchase(client, pos, referee, 2500)

    assert await reward_referrers(app) == 3

    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS, REFERRER_BONUS]
    # The first two to qualify are rewarded, the third is capped.
    assert await statuses(client, pos, anna) == {
        referees[0]["id"]: "rewarded",
        referees[1]["id"]: "rewarded",
        referees[2]["id"]: "capped",
    }
    for referee in referees:
        assert await referral_bonuses(client, pos, referee) == [REFEREE_BONUS]
    assert await reward_referrers(app) == 0
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS, REFERRER_BONUS]
    await assert_ledger_verifies(app)


async def test_the_cap_counts_the_local_month_and_starts_again_in_the_next(
    app, client, admin, pos, anna
):
    await set_program(client, admin, referral_max_per_referrer_per_month=1)
    ben, carl, dora = [
        await enrol(client, pos, name=name, referral_code=anna["referral_code"])
        for name in ("Ben", "Carl", "Dora")
    ]
    await purchase(client, pos, ben, 2500)
    await purchase(client, pos, carl, 2500)

    # 23:59 on 31 May in Berlin: Ben's referral is rewarded, Carl's is over the cap.
    assert await reward_referrers(app, "2030-05-31T21:59:00+00:00") == 2
    assert await statuses(client, pos, anna) == {
        ben["id"]: "rewarded",
        carl["id"]: "capped",
        dora["id"]: "pending",
    }

    await purchase(client, pos, dora, 2500)
    # 00:00 on 1 June in Berlin: a new month.
    assert await reward_referrers(app, "2030-05-31T22:00:00+00:00") == 1

    assert (await statuses(client, pos, anna))[dora["id"]] == "rewarded"
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS, REFERRER_BONUS]
    for referee in (ben, carl, dora):
        assert await referral_bonuses(client, pos, referee) == [REFEREE_BONUS]


async def test_the_cap_is_per_referrer(app, client, admin, pos, anna):
    await set_program(client, admin, referral_max_per_referrer_per_month=1)
    bruno = await enrol(client, pos, name="Bruno")
    for referrer in (anna, anna, bruno):
        referee = await enrol(client, pos, referral_code=referrer["referral_code"])
        await purchase(client, pos, referee, 2500)

    assert await reward_referrers(app) == 3

    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]
    assert await referral_bonuses(client, pos, bruno) == [REFERRER_BONUS]


async def test_concurrent_job_runs_credit_each_referral_once_and_keep_the_cap(
    app, client, admin, pos, anna
):
    await set_program(client, admin, referral_max_per_referrer_per_month=3)
    bruno = await enrol(client, pos, name="Bruno")
    referees = []
    for referrer in (anna, anna, anna, anna, bruno, bruno):
        referee = await enrol(client, pos, referral_code=referrer["referral_code"])
        await purchase(client, pos, referee, 2500)
        referees.append(referee)
    now = datetime.fromisoformat("2030-05-15T12:00:00+00:00")

    counts = await asyncio.gather(*(reward_referrers(app, now) for _ in range(3)))

    assert sum(counts) == len(referees)
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS] * 3
    assert await referral_bonuses(client, pos, bruno) == [REFERRER_BONUS] * 2
    assert sorted((await statuses(client, pos, anna)).values()) == [
        "capped",
        "rewarded",
        "rewarded",
        "rewarded",
    ]
    assert len(await events(app, "referral.rewarded", anna)) == 3
    await assert_ledger_verifies(app)


async def test_the_referrer_gets_a_referral_rewarded_event(app, client, pos, anna, ben):
    await purchase(client, pos, ben, 2500)
    assert await events(app, "referral.rewarded", anna) == []

    await reward_referrers(app)

    [referral] = (await referrals_of(client, pos, anna))["items"]
    assert await events(app, "referral.rewarded", anna) == [
        {
            "referral_id": referral["id"],
            "referee_id": ben["id"],
            "referrer_points": REFERRER_BONUS,
            "referee_points": REFEREE_BONUS,
        }
    ]
    assert await events(app, "referral.rewarded", ben) == []
    for member, points in ((anna, REFERRER_BONUS), (ben, REFEREE_BONUS)):
        earned = await events(app, "points.earned", member)
        assert [(e["type"], e["points"]) for e in earned if e["type"] == "referral_bonus"] == [
            ("referral_bonus", points)
        ]


async def test_a_capped_referral_sends_no_rewarded_event(app, client, admin, pos, anna, ben):
    await set_program(client, admin, referral_max_per_referrer_per_month=1)
    carl = await enrol(client, pos, name="Carl", referral_code=anna["referral_code"])
    await purchase(client, pos, ben, 2500)
    await purchase(client, pos, carl, 2500)

    assert await reward_referrers(app) == 2

    [event] = await events(app, "referral.rewarded", anna)
    assert event["referee_id"] == ben["id"]


async def test_the_code_of_a_merged_record_leads_to_the_member_it_was_merged_into(
    app, client, pos, anna
):
    duplicate = await enrol(client, pos, name="Anna (old card)")
    await execute(
        app,
        update(Member)
        .where(Member.id == uuid.UUID(duplicate["id"]))
        .values(status=MemberStatus.merged, merged_into_id=uuid.UUID(anna["id"])),
    )

    ben = await enrol(client, pos, name="Ben", referral_code=duplicate["referral_code"])
    await purchase(client, pos, ben, 2500)
    await reward_referrers(app)

    assert ben["referred_by_id"] == anna["id"]
    assert await statuses(client, pos, anna) == {ben["id"]: "rewarded"}
    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]
    assert await referral_bonuses(client, pos, duplicate) == []


async def test_a_referrer_merged_after_the_referral_is_credited_on_the_member_it_became(
    app, client, pos, anna
):
    duplicate = await enrol(client, pos, name="Anna (old card)")
    ben = await enrol(client, pos, name="Ben", referral_code=duplicate["referral_code"])
    await execute(
        app,
        update(Member)
        .where(Member.id == uuid.UUID(duplicate["id"]))
        .values(status=MemberStatus.merged, merged_into_id=uuid.UUID(anna["id"])),
    )
    await purchase(client, pos, ben, 2500)

    assert await reward_referrers(app) == 1

    assert await referral_bonuses(client, pos, anna) == [REFERRER_BONUS]
    assert await referral_bonuses(client, pos, duplicate) == []
    [event] = await events(app, "referral.rewarded", anna)
    assert event["referee_id"] == ben["id"]


async def test_a_referral_between_records_merged_into_one_member_is_void(
    app, client, pos, anna, ben
):
    await purchase(client, pos, ben, 2500)
    # Before the job came round, Ben's record turned out to be Anna's and was merged.
    await execute(
        app,
        update(Member)
        .where(Member.id == uuid.UUID(ben["id"]))
        .values(status=MemberStatus.merged, merged_into_id=uuid.UUID(anna["id"])),
    )

    assert await reward_referrers(app) == 1

    assert await statuses(client, pos, anna) == {ben["id"]: "void"}
    assert await referral_bonuses(client, pos, anna) == []
    assert await events(app, "referral.rewarded", anna) == []
