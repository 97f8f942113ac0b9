"""Issuing vouchers: a member buys a reward with points; an admin creates campaign codes."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from app.api_keys.models import Scope
from app.events.models import Event
from app.kit import codes
from app.kit.idempotency import IdempotencyRecord
from app.ledger.models import EarnLot, LedgerTransaction
from app.rewards.models import Reward
from app.vouchers.errors import VoucherCodeInvalid
from app.vouchers.models import Voucher, VoucherHistory
from tests.factories import (
    adjust,
    assert_problem,
    balance,
    days_ago,
    enrol,
    execute,
    headers_for,
    idempotent,
    purchase,
    write,
)

REWARDS = "/v1/rewards"
BERLIN = ZoneInfo("Europe/Berlin")  # the programme's default time zone
FIVE_OFF = {"name": "5 € off", "cost_points": 400, "kind": "amount", "value": 500, "valid_days": 30}


async def create_reward(client, admin, **fields: Any) -> dict[str, Any]:
    response = await client.post(REWARDS, json=FIVE_OFF | fields, headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def member_with(client, pos, admin, points: int) -> dict[str, Any]:
    member = await enrol(client, pos)
    if points:
        await adjust(client, admin, member, points, "test points")
    return member


def vouchers_path(member: dict[str, Any]) -> str:
    return f"/v1/members/{member['id']}/vouchers"


async def issue(client, headers, member, reward, key: str | None = None):
    return await client.post(
        vouchers_path(member), json={"reward_id": reward["id"]}, headers=idempotent(headers, key)
    )


async def rows(app, statement) -> list[Any]:
    async with app.state.runtime.sessionmaker() as session:
        return list((await session.execute(statement)).all())


async def scalar(app, statement) -> Any:
    async with app.state.runtime.sessionmaker() as session:
        return await session.scalar(statement)


async def test_buying_a_reward_debits_first_expiring_points_and_shows_the_code_once(
    app, client, admin, pos
):
    anna = await enrol(client, pos, name="Anna")
    await purchase(client, pos, anna, 30000, occurred_at=days_ago(300))  # 300, expires first
    await adjust(client, admin, anna, 500, "goodwill")  # 500, expires later
    reward = await create_reward(client, admin, stock=5)

    response = await issue(client, pos, anna, reward, key="buy-1")

    assert response.status_code == 201, response.text
    issued = response.json()
    code = issued["code"]
    canonical = codes.normalize_code(code)
    assert code == codes.format_code(canonical)
    assert issued["code_last4"] == canonical[-4:]
    assert issued["kind"] == "amount"
    assert issued["value"] == 500
    assert issued["status"] == "active"
    assert issued["member_id"] == anna["id"]
    assert issued["reward_id"] == reward["id"]
    assert issued["currency"] == "EUR"
    assert issued["points_spent"] == 400
    assert issued["balance"]["available"] == 400
    # Valid to the end of the local (Berlin) day 30 days on.
    expires = datetime.fromisoformat(issued["expires_at"])
    created = datetime.fromisoformat(issued["created_at"])
    assert timedelta(days=30) < expires - created <= timedelta(days=31)
    assert expires.astimezone(BERLIN).time().isoformat() == "00:00:00"
    assert (await balance(client, pos, anna))["available"] == 400

    lots = await rows(app, select(EarnLot.points, EarnLot.remaining).order_by(EarnLot.expires_at))
    assert [tuple(lot) for lot in lots] == [(300, 0), (500, 400)]
    (spent,) = await rows(
        app, select(LedgerTransaction).where(LedgerTransaction.type == "voucher_purchase")
    )
    assert spent[0].points == -400
    assert str(spent[0].related_id) == issued["id"]
    assert await scalar(app, select(Reward.stock)) == 4

    # Everything that shows the voucher afterwards shows the last four only.
    looked_up = await client.get(f"/v1/vouchers/{code.lower()}", headers=pos)
    assert looked_up.status_code == 200, looked_up.text
    assert "code" not in looked_up.json()
    assert canonical not in looked_up.text
    assert code not in looked_up.text
    assert {k: v for k, v in issued.items() if k in looked_up.json()} == looked_up.json()
    listed = await client.get(vouchers_path(anna), headers=pos)
    assert listed.status_code == 200, listed.text
    assert [v["id"] for v in listed.json()["items"]] == [issued["id"]]
    assert listed.json()["items"][0]["code_last4"] == canonical[-4:]
    assert canonical not in listed.text
    assert code not in listed.text

    # A retry gets the same voucher back without the code; the stored answer never had it.
    replay = await issue(client, pos, anna, reward, key="buy-1")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == issued | {"code": None}
    (stored,) = await rows(
        app, select(IdempotencyRecord.response_body).where(IdempotencyRecord.key == "buy-1")
    )
    assert canonical.encode() not in stored[0]
    assert code.encode() not in stored[0]
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 1
    assert (await balance(client, pos, anna))["available"] == 400

    history = await rows(app, select(VoucherHistory.voucher_id, VoucherHistory.action))
    assert [(str(h[0]), h[1]) for h in history] == [(issued["id"], "issued")]
    (event,) = await rows(app, select(Event).where(Event.type == "voucher.issued"))
    assert event[0].data["voucher_id"] == issued["id"]
    assert event[0].data["code_last4"] == canonical[-4:]
    assert str(event[0].member_id) == anna["id"]
    assert canonical not in str(event[0].data)


@pytest.mark.parametrize(
    ("kind", "terms"),
    [
        ("percent", {"value": 1000, "max_discount": 800, "categories": ["coffee"]}),
        ("product", {"value": None, "sku": "CUP", "channels": ["pos"], "min_order_total": 100}),
    ],
)
async def test_the_voucher_keeps_a_copy_of_the_rewards_terms(app, client, admin, pos, kind, terms):
    reward = await create_reward(client, admin, kind=kind, **terms)
    member = await member_with(client, pos, admin, 400)

    issued = (await issue(client, pos, member, reward)).json()
    await client.patch(f"{REWARDS}/{reward['id']}", json={"categories": []}, headers=admin)

    looked_up = (await client.get(f"/v1/vouchers/{issued['code']}", headers=pos)).json()
    assert looked_up["kind"] == kind
    for name, value in terms.items():
        assert looked_up[name] == value


async def test_without_enough_points_nothing_is_issued(app, client, admin, pos):
    member = await member_with(client, pos, admin, 399)
    reward = await create_reward(client, admin, stock=2)

    response = await issue(client, pos, member, reward)

    body = assert_problem(response, 409, "insufficient_points")
    assert body["available"] == 399
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 0
    assert await scalar(app, select(func.count()).select_from(VoucherHistory)) == 0
    assert await scalar(app, select(Reward.stock)) == 2
    assert (await balance(client, pos, member))["available"] == 399
    assert (await client.get(vouchers_path(member), headers=pos)).json()["items"] == []


async def test_an_empty_stock_is_409(app, client, admin, pos):
    reward = await create_reward(client, admin, stock=1)
    first = await member_with(client, pos, admin, 400)
    second = await member_with(client, pos, admin, 400)

    assert (await issue(client, pos, first, reward)).status_code == 201
    response = await issue(client, pos, second, reward)

    assert_problem(response, 409, "reward_out_of_stock")
    assert (await balance(client, pos, second))["available"] == 400
    assert await scalar(app, select(Reward.stock)) == 0
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 1


async def test_concurrent_buyers_never_take_more_than_the_stock(app, client, admin, pos):
    reward = await create_reward(client, admin, stock=3)
    members = [await member_with(client, pos, admin, 400) for _ in range(10)]

    responses = await asyncio.gather(*(issue(client, pos, m, reward) for m in members))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [409] * 7, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "reward_out_of_stock")
    assert await scalar(app, select(Reward.stock)) == 0
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 3
    balances = sorted([(await balance(client, pos, m))["available"] for m in members])
    assert balances == [0] * 3 + [400] * 7


async def test_a_member_buying_twice_at_once_pays_twice_only_with_the_points(
    app, client, admin, pos
):
    reward = await create_reward(client, admin)
    member = await member_with(client, pos, admin, 1000)  # enough for two of 400

    responses = await asyncio.gather(*(issue(client, pos, member, reward) for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409]
    assert (await balance(client, pos, member))["available"] == 200
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 2


async def test_a_reward_outside_its_terms_is_not_available(app, client, admin, pos):
    member = await member_with(client, pos, admin, 10_000)
    now = datetime.now(UTC)
    withdrawn = await create_reward(client, admin, active=False)
    not_yet = await create_reward(client, admin, starts_at=(now + timedelta(days=1)).isoformat())
    over = await create_reward(
        client,
        admin,
        starts_at=(now - timedelta(days=10)).isoformat(),
        ends_at=(now - timedelta(seconds=1)).isoformat(),
    )
    running = await create_reward(
        client,
        admin,
        starts_at=(now - timedelta(days=10)).isoformat(),
        ends_at=(now + timedelta(days=1)).isoformat(),
    )

    for reward in (withdrawn, not_yet, over):
        assert_problem(await issue(client, pos, member, reward), 422, "reward_not_available")
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 0
    assert (await balance(client, pos, member))["available"] == 10_000
    assert (await issue(client, pos, member, running)).status_code == 201


async def test_a_tier_limited_reward_is_only_for_those_tiers(app, client, admin, pos):
    gold = await client.post(
        "/v1/tiers",
        json={"name": "Gold", "rank": 2, "threshold": 100_000, "multiplier": "1"},
        headers=admin,
    )
    assert gold.status_code == 201, gold.text
    reward = await create_reward(client, admin, tier_ids=[gold.json()["id"]])
    anna = await member_with(client, pos, admin, 400)
    ben = await member_with(client, pos, admin, 400)
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    assigned = await client.put(
        f"/v1/members/{anna['id']}/tier",
        json={"tier_id": gold.json()["id"], "until": until},
        headers=admin,
    )
    assert assigned.status_code == 200, assigned.text

    assert_problem(await issue(client, pos, ben, reward), 422, "reward_not_available")
    assert (await issue(client, pos, anna, reward)).status_code == 201


async def test_unknown_member_or_reward_is_404(client, admin, pos):
    reward = await create_reward(client, admin)
    member = await member_with(client, pos, admin, 400)
    stranger = {"id": str(uuid.uuid4())}

    assert_problem(await issue(client, pos, stranger, reward), 404, "member_not_found")
    assert_problem(
        await issue(client, pos, member, {"id": str(uuid.uuid4())}), 404, "reward_not_found"
    )
    listed = await client.get(vouchers_path(stranger), headers=pos)
    assert_problem(listed, 404, "member_not_found")
    missing_key = await client.post(
        vouchers_path(member), json={"reward_id": reward["id"]}, headers=pos
    )
    assert_problem(missing_key, 400, "idempotency_key_missing")


async def test_an_active_voucher_past_its_expiry_shows_expired(app, client, admin, pos):
    reward = await create_reward(client, admin)
    member = await member_with(client, pos, admin, 400)
    issued = (await issue(client, pos, member, reward)).json()
    assert issued["status"] == "active"

    past = datetime.now(UTC) - timedelta(minutes=1)
    await execute(app, update(Voucher).values(expires_at=past))

    looked_up = await client.get(f"/v1/vouchers/{issued['code']}", headers=pos)
    assert looked_up.json()["status"] == "expired"
    listed = await client.get(vouchers_path(member), headers=pos)
    assert listed.json()["items"][0]["status"] == "expired"


async def test_a_members_vouchers_page_newest_first(client, admin, pos):
    reward = await create_reward(client, admin, cost_points=1)
    member = await member_with(client, pos, admin, 3)
    made = [(await issue(client, pos, member, reward)).json()["id"] for _ in range(3)]
    other = await member_with(client, pos, admin, 1)
    await issue(client, pos, other, reward)

    first = (await client.get(vouchers_path(member), params={"limit": 2}, headers=pos)).json()
    second = (
        await client.get(
            vouchers_path(member), params={"limit": 2, "cursor": first["next_cursor"]}, headers=pos
        )
    ).json()

    assert [v["id"] for v in first["items"] + second["items"]] == made[::-1]
    assert second["next_cursor"] is None


async def test_looking_up_codes(client, pos):
    code = codes.generate_code()
    mistyped = code[:-1] + ("X" if code[-1] != "X" else "Y")  # a wrong check symbol
    assert_problem(
        await client.get(f"/v1/vouchers/{mistyped}", headers=pos), 422, VoucherCodeInvalid.code
    )
    unknown = codes.generate_code()
    assert_problem(
        await client.get(f"/v1/vouchers/{unknown}", headers=pos), 404, "voucher_not_found"
    )


async def test_scopes(app, client, admin):
    reward = await create_reward(client, admin)
    partner = await headers_for(app, Scope.partner)
    shop = await headers_for(app, Scope.shop)
    member = await member_with(client, shop, admin, 800)

    bought = await issue(client, partner, member, reward)
    assert bought.status_code == 201, bought.text
    assert (await issue(client, shop, member, reward)).status_code == 201
    code = bought.json()["code"]
    for headers in (partner, shop, admin):
        assert (await client.get(f"/v1/vouchers/{code}", headers=headers)).status_code == 200
        assert (await client.get(vouchers_path(member), headers=headers)).status_code == 200
    assert (await client.get(f"/v1/vouchers/{code}")).status_code == 401
    template = {"template": {"kind": "amount", "value": 100, "valid_days": 1}, "count": 1}
    for headers in (partner, shop):
        assert_problem(
            await write(client, "/v1/vouchers", headers, template), 403, "insufficient_scope"
        )
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 2


# Campaign vouchers in bulk


@pytest.mark.parametrize(
    "body",
    [
        {"count": 1},
        {"template": {"kind": "amount", "value": 100, "valid_days": 1}, "count": 0},
        {"template": {"kind": "amount", "value": 100, "valid_days": 1}, "count": 100_001},
        {"template": {"kind": "percent", "value": 20_000, "valid_days": 1}, "count": 1},
        {
            "template": {"kind": "amount", "value": 100, "valid_days": 1},
            "reward_id": str(uuid.uuid4()),
            "count": 1,
        },
    ],
)
async def test_invalid_batches_are_refused(app, client, admin, body):
    assert_problem(await write(client, "/v1/vouchers", admin, body), 422, "validation_error")
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 0


async def test_a_batch_from_a_reward_copies_its_terms_and_leaves_its_stock(app, client, admin, pos):
    reward = await create_reward(client, admin, kind="percent", value=1500, stock=1)

    response = await write(client, "/v1/vouchers", admin, {"reward_id": reward["id"], "count": 3})

    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["count"] == 3
    assert len(set(batch["codes"])) == 3
    looked_up = (await client.get(f"/v1/vouchers/{batch['codes'][0]}", headers=pos)).json()
    assert (looked_up["kind"], looked_up["value"]) == ("percent", 1500)
    assert looked_up["reward_id"] == reward["id"]
    assert looked_up["member_id"] is None
    assert looked_up["batch_id"] == batch["batch_id"]
    assert await scalar(app, select(Reward.stock)) == 1
    unknown = await write(
        client, "/v1/vouchers", admin, {"reward_id": str(uuid.uuid4()), "count": 1}
    )
    assert_problem(unknown, 404, "reward_not_found")


async def test_a_batch_of_100_000_codes(app, client, admin, pos, database, capsys):
    body = {
        "template": {
            "kind": "amount",
            "value": 1000,
            "min_order_total": 5000,
            "valid_days": 60,
            "channels": ["web"],
        },
        "count": 100_000,
    }
    headers = idempotent(admin, "summer-campaign")

    started = time.perf_counter()
    response = await client.post("/v1/vouchers", json=body, headers=headers)
    elapsed = time.perf_counter() - started

    assert response.status_code == 201, response.text[:500]
    with capsys.disabled():
        print(f"\n100 000 vouchers on {database.backend}: {elapsed:.2f} s")
    batch = response.json()
    assert batch["count"] == 100_000
    issued = batch["codes"]
    assert len(issued) == 100_000
    canonicals = [codes.normalize_code(code) for code in issued]  # each well-formed
    assert len(set(canonicals)) == 100_000
    assert all(code == codes.format_code(c) for code, c in zip(issued, canonicals, strict=True))
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 100_000
    assert await scalar(app, select(func.count(func.distinct(Voucher.code_hash)))) == 100_000
    assert await scalar(app, select(func.count()).select_from(VoucherHistory)) == 100_000
    for code in (issued[0], issued[49_999], issued[-1]):
        looked_up = await client.get(f"/v1/vouchers/{code}", headers=pos)
        assert looked_up.status_code == 200, looked_up.text
        found = looked_up.json()
        assert found["batch_id"] == batch["batch_id"]
        assert found["member_id"] is None
        assert (found["kind"], found["value"], found["status"]) == ("amount", 1000, "active")
        assert found["code_last4"] == codes.normalize_code(code)[-4:]
    (event,) = await rows(app, select(Event).where(Event.type == "voucher.batch_issued"))
    assert event[0].data["count"] == 100_000
    assert event[0].data["batch_id"] == batch["batch_id"]

    # A replay returns the batch without its codes; the stored answer never had them.
    replay = await client.post("/v1/vouchers", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.json() == batch | {"codes": []}
    (stored,) = await rows(
        app,
        select(IdempotencyRecord.response_body).where(IdempotencyRecord.key == "summer-campaign"),
    )
    assert issued[0].encode() not in stored[0]
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 100_000


async def test_a_batch_that_meets_a_stored_code_is_drawn_again(
    app, client, admin, pos, monkeypatch
):
    template = {"kind": "amount", "value": 100, "valid_days": 1}
    first = await write(client, "/v1/vouchers", admin, {"template": template, "count": 1})
    taken = codes.normalize_code(first.json()["codes"][0])
    fresh = [codes.normalize_code(codes.generate_code()) for _ in range(3)]
    # First draw: the stored code, then itself again (a repeat within the batch), then a new
    # one; the insert collides, so the whole batch is drawn again from the fresh codes.
    draws = iter([taken, taken, fresh[0], fresh[1], fresh[2]])
    monkeypatch.setattr(codes, "new_canonical", lambda: next(draws))

    response = await write(client, "/v1/vouchers", admin, {"template": template, "count": 2})

    assert response.status_code == 201, response.text
    assert [codes.normalize_code(c) for c in response.json()["codes"]] == fresh[1:]
    assert await scalar(app, select(func.count()).select_from(Voucher)) == 3
    assert await scalar(app, select(func.count()).select_from(VoucherHistory)) == 3
    for code in response.json()["codes"] + first.json()["codes"]:
        assert (await client.get(f"/v1/vouchers/{code}", headers=pos)).status_code == 200
