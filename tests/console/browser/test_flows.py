"""What a shop manager does in the console, in a real browser: find a member created
through the API and credit goodwill points, create a campaign, read the dashboard's
charts, look up a voucher. Each page is also checked with axe-core."""

import re
import uuid

import httpx
from playwright.async_api import Page, expect

from tests.console.browser.conftest import accessibility_violations, log_in


async def enrol_with_purchase(api: httpx.AsyncClient, name: str, total: int) -> dict[str, str]:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    member = await api.post(
        "/v1/members",
        json={"name": name, "email": email},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert member.status_code == 201, member.text
    purchase = await api.post(
        "/v1/purchases",
        json={
            "member_id": member.json()["id"],
            "order_id": f"order-{uuid.uuid4()}",
            "channel": "pos",
            "currency": "EUR",
            "total": total,
            "items": [
                {"sku": "ESPRESSO", "category": "coffee", "quantity": 1, "unit_price": total}
            ],
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert purchase.status_code == 201, purchase.text
    created: dict[str, str] = member.json()
    return created


async def available_points(api: httpx.AsyncClient, member_id: str) -> int:
    balance = await api.get(f"/v1/members/{member_id}/balance")
    points: int = balance.json()["available"]
    return points


async def test_goodwill_points_for_a_member_found_by_name(
    page: Page, api: httpx.AsyncClient, admin_key_live: str
) -> None:
    member = await enrol_with_purchase(api, "Erika Mustermann", 4200)
    before = await available_points(api, member["id"])
    await log_in(page, admin_key_live)

    await page.get_by_role("link", name="Members", exact=True).click()
    await page.get_by_label("Search members").fill("mustermann")
    await page.get_by_label("Search members").press("Enter")
    await page.get_by_role("link", name="Erika Mustermann").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Erika Mustermann")
    assert await accessibility_violations(page) == []

    await page.get_by_role("spinbutton", name="Points", exact=True).fill("50")
    await page.get_by_role("textbox", name="Reason", exact=True).fill("Parcel arrived late")
    # From the keyboard: Enter in the form submits it.
    await page.get_by_role("textbox", name="Reason", exact=True).press("Enter")
    # Nothing happens before the confirmation.
    await expect(page.get_by_role("button", name="Confirm adjustment")).to_be_visible()
    assert await available_points(api, member["id"]) == before
    await page.get_by_role("button", name="Confirm adjustment").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Erika Mustermann")
    assert await available_points(api, member["id"]) == before + 50
    await expect(page.get_by_text("Parcel arrived late").first).to_be_visible()
    await expect(page.locator("main")).to_contain_text(str(before + 50))


async def test_a_campaign_created_in_the_console_is_one_the_api_knows(
    page: Page, api: httpx.AsyncClient, admin_key_live: str
) -> None:
    await log_in(page, admin_key_live)
    await page.get_by_role("link", name="Programme", exact=True).click()
    await page.get_by_role("link", name="Campaigns").first.click()
    await page.get_by_role("link", name="New campaign").click()
    assert await accessibility_violations(page) == []

    # A mistake first: the message stands next to the field, and nothing is created.
    await page.get_by_role("textbox", name="Name", exact=True).fill("Double points week")
    await page.get_by_label("Kind").select_option("multiplier")
    await page.get_by_role("textbox", name="Multiplier", exact=True).fill("zwei")
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.locator("#multiplier-error")).to_be_visible()
    assert (await api.get("/v1/campaigns")).json()["items"] == []

    await page.get_by_role("textbox", name="Multiplier", exact=True).fill("2")
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.get_by_role("cell", name="Double points week", exact=True)).to_be_visible()
    campaigns = (await api.get("/v1/campaigns")).json()["items"]
    assert [(c["name"], c["kind"], c["multiplier"]) for c in campaigns] == [
        ("Double points week", "multiplier", "2")
    ]


async def test_the_dashboard_draws_its_charts(
    page: Page, api: httpx.AsyncClient, admin_key_live: str
) -> None:
    for index, total in enumerate((12000, 3000, 800)):
        await enrol_with_purchase(api, f"Customer {index}", total)
    await log_in(page, admin_key_live)

    for chart in ("points-flow", "members-by-tier", "abc", "retention"):
        svg = page.locator(f'svg[data-chart="{chart}"]')
        await expect(svg).to_be_visible()
        box = await svg.bounding_box()
        assert box is not None, chart
        assert box["width"] > 100, chart
        assert box["height"] > 20, chart
    # Points were issued today: the issued series has a bar of some height.
    heights = await page.locator('svg[data-chart="points-flow"] rect.series-1').evaluate_all(
        "bars => bars.map(bar => bar.getBBox().height)"
    )
    assert max(heights) > 0
    await expect(page.locator("main")).to_contain_text("158")  # 120 + 30 + 8 points issued
    assert await accessibility_violations(page) == []


async def test_a_voucher_is_found_by_its_code_typed_as_a_person_would(
    page: Page, api: httpx.AsyncClient, admin_key_live: str
) -> None:
    member = await enrol_with_purchase(api, "Jonas Weber", 5000)
    reward = await api.post(
        "/v1/rewards",
        json={
            "name": "5 EUR off",
            "cost_points": 20,
            "kind": "amount",
            "value": 500,
            "valid_days": 30,
        },
    )
    assert reward.status_code == 201, reward.text
    voucher = await api.post(
        f"/v1/members/{member['id']}/vouchers",
        json={"reward_id": reward.json()["id"]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert voucher.status_code == 201, voucher.text
    code: str = voucher.json()["code"]
    await log_in(page, admin_key_live)

    await page.get_by_role("link", name="Vouchers and gifts").click()
    typed = " ".join(re.findall(".{1,3}", code.replace("-", "").lower()))
    await page.get_by_role("textbox", name="Code", exact=True).fill(typed)
    await page.get_by_role("button", name="Look up").click()
    # A bearer code is a secret: the page names the voucher by its last characters only.
    await expect(page.locator("main")).to_contain_text(code.replace("-", "")[-4:])
    await expect(page.locator("main")).to_contain_text("Jonas Weber")
    await expect(page.locator("main")).to_contain_text("5 EUR off")
    assert await accessibility_violations(page) == []
