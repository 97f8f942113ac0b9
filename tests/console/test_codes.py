"""Console: looking up voucher and gift codes as people type them; campaign codes as CSV."""

import csv
import html
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.kit import codes
from app.vouchers.models import Voucher
from tests.console.conftest import ConsoleClient
from tests.factories import adjust, assert_problem, enrol, write

FIVE_OFF = {"name": "5 € off", "cost_points": 400, "kind": "amount", "value": 500, "valid_days": 30}
ACTION_KEY = re.compile(r'name="action_key" value="([^"]+)"')


def as_typed(code: str) -> str:
    """How a person types a printed code: lower case, spaces instead of dashes."""
    return code.lower().replace("-", " ")


def unknown_code(prefix: str = "") -> str:
    body = prefix + "7KQ2M9XD4TNB"
    return codes.format_code(body + codes.check_symbol(body))


def mistyped(code: str) -> str:
    canonical = codes.canonical_symbols(code)
    return canonical[:-1] + ("0" if canonical[-1] != "0" else "1")


async def create_reward(client, admin, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/rewards", json=FIVE_OFF | fields, headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def member_with_points(client, pos, admin, points: int, **fields: Any) -> dict[str, Any]:
    member = await enrol(client, pos, **fields)
    await adjust(client, admin, member, points, "test points")
    return member


async def bought_voucher(client, pos, admin) -> tuple[dict[str, Any], dict[str, Any]]:
    """A member buys the 5 € reward; returns the member and the issued voucher (with code)."""
    member = await member_with_points(client, pos, admin, 1000, name="Anna Weber")
    reward = await create_reward(client, admin)
    response = await write(
        client, f"/v1/members/{member['id']}/vouchers", pos, {"reward_id": reward["id"]}
    )
    assert response.status_code == 201, response.text
    return member, response.json()


async def look_up(console: ConsoleClient, code: str, **fields: str):
    return await console.post_form("/admin/codes", {"code": code, **fields})


async def vouchers_stored(app) -> int:
    async with app.state.runtime.sessionmaker() as session:
        count: int = await session.scalar(select(func.count()).select_from(Voucher))
    return count


def action_key_of(page: str) -> str:
    match = ACTION_KEY.search(page)
    assert match is not None, "the form carries no action key"
    return match.group(1)


def field_error(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', page)
    assert match is not None, f"no message next to {name}"
    return html.unescape(match.group(1))


# --- look-ups -------------------------------------------------------------------------------


async def test_the_lookup_form_has_a_code_field_and_a_button(console):
    response = await console.get("/admin/codes")

    assert response.status_code == 200, response.text
    assert '<label for="code">Code' in response.text
    assert ">Look up</button>" in response.text
    assert 'action="/admin/codes"' in response.text
    assert 'method="post"' in response.text


async def test_a_voucher_typed_in_lower_case_with_spaces_shows_its_terms_and_history(
    console, client, pos, admin
):
    member, voucher = await bought_voucher(client, pos, admin)
    code = voucher["code"]
    redeemed = await write(
        client,
        f"/v1/vouchers/{code}/redeem",
        pos,
        {"order_id": "WEB-1", "total": 4000, "currency": "EUR"},
    )
    assert redeemed.status_code == 201, redeemed.text
    rolled_back = await write(
        client,
        f"/v1/vouchers/{code}/rollback",
        pos,
        {"redemption_id": redeemed.json()["redemption_id"]},
    )
    assert rolled_back.status_code == 200, rolled_back.text

    response = await look_up(console, f"  {as_typed(code)} ")

    assert response.status_code == 200, response.text
    page = response.text
    assert f"Voucher ending in {voucher['code_last4']}" in page
    assert "Amount off" in page
    assert "€5.00" in page
    assert '<span class="status active">Active</span>' in page
    assert f'<a href="/admin/members/{member["id"]}">Anna Weber</a>' in page
    assert "5 € off" in page  # the reward
    history = page[page.index("What happened") :]
    events = [
        "Redemption rolled back",
        "Redeemed: €5.00 off",
        "Issued for 400 points",
    ]
    positions = [history.index(event) for event in events]
    assert positions == sorted(positions)  # newest first
    assert "WEB-1" in history


async def test_a_gift_code_shows_its_sender_recipient_and_times(console, client, pos, admin):
    sender = await member_with_points(client, pos, admin, 500, name="Anna Weber")
    friend = await enrol(client, pos, name="Ben Krause")
    given = await write(client, f"/v1/members/{sender['id']}/gifts", pos, {"points": 120})
    assert given.status_code == 201, given.text
    gift = given.json()

    open_page = (await look_up(console, as_typed(gift["code"]))).text
    claimed = await write(
        client, f"/v1/gifts/{gift['code']}/claim", pos, {"member_id": friend["id"]}
    )
    assert claimed.status_code == 201, claimed.text
    response = await look_up(console, gift["code"].lower())

    assert f"Gift ending in {gift['code_last4']}" in open_page
    assert '<span class="status open">Open</span>' in open_page
    assert "Recipient" not in open_page
    assert response.status_code == 200, response.text
    page = response.text
    assert '<span class="status claimed">Claimed</span>' in page
    assert "120 points" in page
    assert f'<a href="/admin/members/{sender["id"]}">Anna Weber</a>' in page
    assert f'<a href="/admin/members/{friend["id"]}">Ben Krause</a>' in page
    for label in ("Created", "Expires", "Claimed"):
        assert f"<dt>{label}</dt>" in page


@pytest.mark.parametrize("prefix", ["", "G"])
async def test_an_unknown_code_is_a_message_with_404(console, prefix):
    response = await look_up(console, unknown_code(prefix))

    assert response.status_code == 404
    assert field_error(response.text, "code") == "No voucher or gift has this code."
    assert '<label for="code">Code' in response.text  # the form again, not an error page


async def test_a_mistyped_code_gets_the_apis_message_for_typos(console, client, pos, admin):
    _, voucher = await bought_voucher(client, pos, admin)

    typo = await look_up(console, mistyped(voucher["code"]))
    blank = await look_up(console, "   ")

    assert typo.status_code == 422
    assert field_error(typo.text, "code") == "This code is mistyped: check it and enter it again."
    api = await client.get(f"/v1/vouchers/{mistyped(voucher['code'])}", headers=pos)
    assert api.json()["detail"] == "This code is mistyped: check it and enter it again."
    assert blank.status_code == 422
    assert field_error(blank.text, "code") == "Enter a voucher or gift code."


async def test_failed_look_ups_are_limited_for_the_admin_key_as_in_the_api(
    console, client, pos, admin
):
    _, voucher = await bought_voucher(client, pos, admin)
    for attempt in range(20):
        guess = await look_up(console, unknown_code() if attempt % 2 else "ABCD")
        assert guess.status_code in (404, 422)

    limited = await look_up(console, voucher["code"])
    api = await client.get(f"/v1/vouchers/{voucher['code']}", headers=admin)

    assert limited.status_code == 429
    assert "Too many unknown or mistyped codes" in field_error(limited.text, "code")
    assert int(limited.headers["Retry-After"]) >= 1
    # One budget per key: the console's failures count for the API's look-ups too.
    assert_problem(api, 429, "rate_limited")
    assert (await client.get(f"/v1/vouchers/{voucher['code']}", headers=pos)).status_code == 200


async def test_the_lookup_is_refused_without_the_forms_csrf_token(console, client, pos, admin):
    _, voucher = await bought_voucher(client, pos, admin)

    response = await console.post("/admin/codes", data={"code": voucher["code"]})

    assert response.status_code == 403
    assert voucher["code_last4"] not in response.text


# --- campaign codes -------------------------------------------------------------------------


def rows_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


async def batch_form(console: ConsoleClient) -> str:
    response = await console.get("/admin/codes/batches")
    assert response.status_code == 200, response.text
    return response.text


async def test_a_batch_is_the_csv_download_and_its_codes_work_at_the_till(
    app, console, client, pos
):
    form = await batch_form(console)
    fields = {
        "action_key": action_key_of(form),
        "count": "7",
        "kind": "amount",
        "value": "5.00",
        "min_order_total": "20",
        "valid_days": "30",
        "channels": "pos",
    }

    response = await console.post_form("/admin/codes/batches", fields)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="voucher-codes-\d{4}-\d{2}-\d{2}\.csv"',
        response.headers["content-disposition"],
    )
    rows = rows_of(response)
    assert len(rows) == 7
    assert {"code", "kind", "value", "currency", "expires_at"} <= set(rows[0])
    assert {(r["kind"], r["value"], r["currency"], r["channels"]) for r in rows} == {
        ("amount", "500", "EUR", "pos")
    }
    assert len({row["code"] for row in rows}) == 7
    assert len({row["batch_id"] for row in rows}) == 1
    for row in rows:
        checked = await client.post(
            f"/v1/vouchers/{row['code']}/validate",
            json={"total": 4000, "currency": "EUR", "channel": "pos"},
            headers=pos,
        )
        assert checked.json() == {"valid": True, "discount": 500, "reason": None}
    read = (await client.get(f"/v1/vouchers/{rows[0]['code']}", headers=pos)).json()
    assert (read["batch_id"], read["min_order_total"], read["member_id"]) == (
        rows[0]["batch_id"],
        2000,
        None,
    )
    assert read["expires_at"].replace("+00:00", "Z") == rows[0]["expires_at"]
    assert await vouchers_stored(app) == 7


async def test_sending_the_same_batch_form_again_creates_nothing_more(app, console):
    fields = {
        "action_key": action_key_of(await batch_form(console)),
        "count": "3",
        "kind": "percent",
        "value": "12.5",
        "valid_days": "10",
    }

    first = await console.post_form("/admin/codes/batches", fields)
    again = await console.post_form("/admin/codes/batches", fields)

    assert [row["value"] for row in rows_of(first)] == ["1250"] * 3  # basis points, as the API
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("text/html")
    assert "These codes were already created" in again.text
    assert await vouchers_stored(app) == 3


async def test_a_batch_from_a_reward_takes_its_terms(app, console, client, admin):
    reward = await create_reward(
        client, admin, name="Coffee", kind="product", value=None, sku="COFFEE-1"
    )
    form = await batch_form(console)
    assert f'<option value="{reward["id"]}">Coffee</option>' in form

    response = await console.post_form(
        "/admin/codes/batches",
        {"action_key": action_key_of(form), "count": "2", "reward_id": reward["id"]},
    )

    rows = rows_of(response)
    assert [(r["kind"], r["sku"], r["value"]) for r in rows] == [("product", "COFFEE-1", "")] * 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"count": "0", "kind": "amount", "value": "5", "valid_days": "30"}, "count", "Must be at least 1."),
        ({"count": "100001", "kind": "amount", "value": "5", "valid_days": "30"}, "count", "Must be at most 100000."),
        ({"count": "ten", "kind": "amount", "value": "5", "valid_days": "30"}, "count", "Enter a whole number."),
        ({"count": "5", "kind": "amount", "value": "5"}, "valid_days", "Required."),
        ({"count": "5", "kind": "amount", "value": "5.555", "valid_days": "30"}, "value", "Enter at most 2 decimal places."),
        ({"count": "5", "kind": "amount", "value": "five", "valid_days": "30"}, "value", "Enter an amount, e.g. 5.00."),
        ({"count": "5", "kind": "amount", "valid_days": "30"}, "value", "Enter the amount off."),
        ({"count": "5", "kind": "percent", "value": "150", "valid_days": "30"}, "value", "Enter a percentage from 0.01 to 100, with at most 2 decimal places."),
        ({"count": "5", "kind": "coupon", "value": "5", "valid_days": "30"}, "kind", "Choose one of: 'amount', 'percent' or 'product'."),
        ({"count": "5", "value": "5", "valid_days": "30"}, "kind", "Required."),
        ({"count": "", "kind": "amount", "value": "5", "valid_days": "30", "min_order_total": "-1"}, "min_order_total", "Must be at least 0.00."),
    ],
)  # fmt: skip
async def test_mistakes_are_shown_next_to_their_fields_and_create_nothing(
    app, console, fields, field, message
):
    key = action_key_of(await batch_form(console))

    response = await console.post_form("/admin/codes/batches", {"action_key": key, **fields})

    assert response.status_code == 422, response.text
    assert field_error(response.text, field) == message
    assert "Please correct the marked fields." in response.text
    assert f'id="{field}"' in response.text
    assert await vouchers_stored(app) == 0


async def test_rules_across_fields_are_shown_above_the_form(app, console, client, admin):
    reward = await create_reward(client, admin)
    key = action_key_of(await batch_form(console))

    both = await console.post_form(
        "/admin/codes/batches",
        {"action_key": key, "count": "5", "reward_id": reward["id"], "kind": "amount", "value": "1", "valid_days": "3"},
    )  # fmt: skip
    neither = await console.post_form("/admin/codes/batches", {"action_key": key, "count": "5"})
    # The refused attempts did not use up the form: the same submission works once it is right.
    fixed = await console.post_form(
        "/admin/codes/batches", {"action_key": key, "count": "5", "reward_id": reward["id"]}
    )

    for refused in (both, neither):
        assert refused.status_code == 422
        assert "give either template or reward_id" in refused.text
    assert fixed.status_code == 200
    assert len(rows_of(fixed)) == 5
    assert await vouchers_stored(app) == 5


async def test_a_batch_needs_the_forms_csrf_token(app, console):
    key = action_key_of(await batch_form(console))

    response = await console.post(
        "/admin/codes/batches",
        data={"action_key": key, "count": "5", "kind": "amount", "value": "500", "valid_days": "3"},
    )

    assert response.status_code == 403
    assert await vouchers_stored(app) == 0


async def test_the_pages_speak_german(console, client, pos, admin):
    _, voucher = await bought_voucher(client, pos, admin)
    switched = await console.get("/admin/language/de?next=/admin/codes")
    assert switched.status_code == 303

    form = await console.get("/admin/codes")
    found = await look_up(console, voucher["code"])
    batch = await console.get("/admin/codes/batches")

    assert form.headers["content-language"] == "de"
    assert "Code nachschlagen" in form.text
    assert ">Nachschlagen</button>" in form.text
    assert "Gutschein mit Endung" in found.text
    assert "Verlauf" in found.text
    assert "Anzahl der Codes" in batch.text
