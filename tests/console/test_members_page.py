"""/admin/members/{id}: personal data, balance, tier, vouchers, gifts and the timeline."""

import re
import uuid
from datetime import datetime
from typing import Any

from app.console.i18n import Formatter
from tests.console.members_support import section, text_of
from tests.factories import adjust, balance, enrol, purchase, set_program, write

ENGLISH = Formatter("en", "Europe/Berlin")


def page_of(member: dict[str, Any]) -> str:
    return f"/admin/members/{member['id']}"


async def create_tier(client, admin, name: str, rank: int, threshold: int) -> None:
    body = {"name": name, "rank": rank, "threshold": threshold, "multiplier": "1"}
    response = await client.post("/v1/tiers", json=body, headers=admin)
    assert response.status_code == 201, response.text


async def buy_voucher(client, pos, admin, member: dict[str, Any]) -> dict[str, Any]:
    reward = await client.post(
        "/v1/rewards",
        json={
            "name": "5 € off",
            "cost_points": 400,
            "kind": "amount",
            "value": 500,
            "valid_days": 30,
        },
        headers=admin,
    )
    assert reward.status_code == 201, reward.text
    bought = await write(
        client, f"/v1/members/{member['id']}/vouchers", pos, {"reward_id": reward.json()["id"]}
    )
    assert bought.status_code == 201, bought.text
    voucher: dict[str, Any] = bought.json()
    return voucher


async def give_points(client, pos, sender, recipient, points: int) -> dict[str, Any]:
    made = await write(client, f"/v1/members/{sender['id']}/gifts", pos, {"points": points})
    assert made.status_code == 201, made.text
    gift: dict[str, Any] = made.json()
    claimed = await write(
        client, f"/v1/gifts/{gift['code']}/claim", pos, {"member_id": recipient["id"]}
    )
    assert claimed.status_code == 201, claimed.text
    return gift


async def test_the_member_page_shows_data_balance_tier_vouchers_gifts_and_timeline(
    console, client, pos, admin
):
    await set_program(client, admin, points_expiry_months=1, pending_days=14)
    await create_tier(client, admin, "Silver", 1, 100)
    await create_tier(client, admin, "Gold", 2, 500)
    anna = await enrol(
        client,
        pos,
        name="Anna Schmidt",
        email="anna@example.com",
        phone="+49 30 1234567",
        birthdate="1990-05-17",
        external_id="crm-4711",
    )
    friend = await enrol(client, pos, name="Ben Meyer")
    await purchase(client, pos, anna, 15000, order_id="order-150")
    await adjust(client, admin, anna, 800, "Kulanz: late delivery")
    voucher = await buy_voucher(client, pos, admin, anna)
    gift = await give_points(client, pos, anna, friend, 100)

    response = await console.get(page_of(anna))
    assert response.status_code == 200, response.text
    page = response.text

    assert re.search(r"<h1>Anna Schmidt</h1>", page)
    personal = section(page, "personal-heading")
    for shown in (
        "E-mail anna@example.com",
        "Phone +49301234567",
        f"Card number {anna['card_number']}",
        "External id crm-4711",
        "Birthdate May 17, 1990",
        f"Referral code {anna['referral_code']}",
        "Status Active",
    ):
        assert shown in personal, shown

    held = section(page, "balance-heading")
    assert "Available 300" in held
    assert "Pending 150" in held
    expiring = (await balance(client, pos, anna))["expiring"]
    assert expiring
    for soon in expiring:
        when = ENGLISH.day(datetime.fromisoformat(soon["expires_at"]))
        assert f"{soon['points']} points on {when}" in held

    tier = section(page, "tier-heading")
    assert "Tier Silver" in tier
    assert "Next tier Gold: 350 points to go" in tier
    assert re.search(r"Qualifying points since \w+ 1, \d{4} 150", tier)
    assert '<label for="tier-progress">Progress to Gold</label>' in page
    assert '<progress id="tier-progress" max="500" value="150">' in page

    vouchers = section(page, "vouchers-heading")
    assert f"…{voucher['code_last4']} €5.00 Active" in vouchers

    gifts = section(page, "gifts-heading")
    assert f"…{gift['code_last4']} 100 points Claimed Ben Meyer" in gifts
    assert f'href="/admin/members/{friend["id"]}"' in page

    timeline = section(page, "timeline-heading")
    entries = [
        "Gift made -100 300",
        "Reward bought with points -400 400",
        "Adjustment +800 800 Reason: Kulanz: late delivery",
        "Purchase +150 0 Order order-150",
        "Enrolled",
    ]
    positions = [timeline.index(entry) for entry in entries]
    assert positions == sorted(positions), timeline  # newest first


async def test_the_timeline_is_paged_newest_first(console, client, pos, admin):
    anna = await enrol(client, pos, name="Anna")
    for n in range(1, 27):
        await adjust(client, admin, anna, n, f"reason {n}")

    first = await console.get(page_of(anna))
    reasons = re.findall(r"Reason: reason (\d+)", text_of(first.text))
    assert reasons == [str(n) for n in range(26, 1, -1)]
    assert "Enrolled" not in section(first.text, "timeline-heading")
    next_link = re.search(r'href="([^"]*cursor=[^"]+)">Next page</a>', first.text)
    assert next_link is not None

    second = await console.get(next_link.group(1).replace("&amp;", "&"))
    timeline = section(second.text, "timeline-heading")
    assert re.findall(r"Reason: reason (\d+)", timeline) == ["1"]
    assert "Enrolled" in timeline
    assert "Next page" not in timeline


async def test_a_notice_is_shown_for_known_outcomes_only(console, client, pos):
    anna = await enrol(client, pos, name="Anna")

    done = await console.get(page_of(anna), params={"done": "adjusted"})
    assert '<div class="notice" role="status">The points were adjusted.</div>' in done.text
    other = await console.get(page_of(anna), params={"done": "<b>hacked</b>"})
    assert 'role="status"' not in other.text
    assert "<b>hacked" not in other.text


async def test_the_page_in_german_has_german_labels_numbers_and_dates(console, client, pos, admin):
    anna = await enrol(client, pos, name="Anna Schmidt", birthdate="1990-05-17")
    await adjust(client, admin, anna, 1234, "Kulanz")
    await console.get("/admin/language/de")

    page = (await console.get(page_of(anna))).text

    assert '<html lang="de">' in page
    assert "Geburtsdatum 17.05.1990" in section(page, "personal-heading")
    assert "Verfügbar 1.234" in section(page, "balance-heading")
    timeline = section(page, "timeline-heading")
    assert timeline.startswith("Verlauf")
    assert "Anpassung +1.234 1.234 Grund: Kulanz" in timeline
    assert "Punkte anpassen" in page
    assert '<label for="points">Punkte' in page


async def test_an_unknown_member_is_a_not_found_page(console):
    response = await console.get(f"/admin/members/{uuid.uuid4()}")
    assert response.status_code == 404
    assert "Member not found" in response.text

    malformed = await console.get("/admin/members/not-an-id")
    assert malformed.status_code == 422
