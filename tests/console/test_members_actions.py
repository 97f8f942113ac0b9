"""Actions on a member page: goodwill adjustment, merging a duplicate, erasure.

Each first shows a confirmation page and writes nothing; the confirmed form does it once,
through the same services as the API, and the member page shows it afterwards.
"""

from typing import Any

from sqlalchemy import func, select

from app.ledger.models import LedgerTransaction
from tests.console.members_support import (
    confirmation_form,
    field_message,
    redirected_to,
    section,
    text_of,
)
from tests.factories import balance, enrol, fetch_member, purchase, transactions, write


def page_of(member: dict[str, Any]) -> str:
    return f"/admin/members/{member['id']}"


async def ledger_entries(app) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerTransaction)) or 0)


async def confirm(console, confirmation: Any) -> Any:
    """Submit a confirmation page's form as shown."""
    assert confirmation.status_code == 200, confirmation.text
    action, fields = confirmation_form(confirmation.text)
    return await console.post(action, data=fields)


def hidden_fields(confirmation: str) -> dict[str, str]:
    return confirmation_form(confirmation)[1]


async def available(client, pos, member) -> int:
    points: int = (await balance(client, pos, member))["available"]
    return points


# --- Goodwill adjustment ------------------------------------------------------------------


async def test_an_adjustment_is_confirmed_first_then_credited_once(console, client, pos, app):
    anna = await enrol(client, pos, name="Anna Schmidt")
    await purchase(client, pos, anna, 10000)
    form = {"points": "250", "reason": "Kulanz: late delivery"}

    asked = await console.post_form(f"{page_of(anna)}/adjust", form)

    assert asked.status_code == 200
    shown = text_of(asked.text)
    assert "Adjust the points of Anna Schmidt?" in shown
    assert "250 points will be credited to Anna Schmidt." in shown
    assert "Reason: Kulanz: late delivery" in shown
    assert "Available now: 100 points; afterwards: 350 points." in shown
    assert '<button type="submit">Confirm adjustment</button>' in asked.text
    assert f'href="{page_of(anna)}">Cancel</a>' in asked.text
    assert await available(client, pos, anna) == 100  # nothing written yet

    done = await confirm(console, asked)
    assert redirected_to(done) == f"{page_of(anna)}?done=adjusted"
    assert await available(client, pos, anna) == 350

    again = await console.post(f"{page_of(anna)}/adjust", data=hidden_fields(asked.text))
    assert redirected_to(again) == f"{page_of(anna)}?done=adjusted"
    assert await available(client, pos, anna) == 350  # the same confirmation counts once

    page = await console.get(redirected_to(done))
    assert "The points were adjusted." in page.text
    assert "Adjustment +250 350 Reason: Kulanz: late delivery" in section(
        page.text, "timeline-heading"
    )
    [entry] = [
        t for t in (await transactions(client, pos, anna))["items"] if t["type"] == "adjustment"
    ]
    assert (entry["points"], entry["reason"]) == (250, "Kulanz: late delivery")


async def test_a_correction_takes_points_and_more_than_available_is_refused(
    console, client, pos, app
):
    anna = await enrol(client, pos, name="Anna")
    await purchase(client, pos, anna, 5000)

    too_much = await console.post_form(f"{page_of(anna)}/adjust", {"points": "-80", "reason": "x"})
    assert too_much.status_code == 422
    assert field_message(too_much.text, "points") == "The member has only 50 points available."

    asked = await console.post_form(f"{page_of(anna)}/adjust", {"points": "-20", "reason": "typo"})
    assert "20 points will be taken from Anna." in text_of(asked.text)
    assert redirected_to(await confirm(console, asked)).endswith("?done=adjusted")
    assert await available(client, pos, anna) == 30


async def test_a_confirmed_correction_over_the_balance_writes_nothing(console, client, pos, app):
    anna = await enrol(client, pos, name="Anna")
    await purchase(client, pos, anna, 5000)
    asked = await console.post_form(f"{page_of(anna)}/adjust", {"points": "-50", "reason": "x"})
    fields = hidden_fields(asked.text)
    # Spent at the till between the confirmation page and the click on "Confirm".
    spent = await write(client, f"/v1/members/{anna['id']}/redemptions", pos, {"points": 10})
    assert spent.status_code == 201, spent.text
    entries = await ledger_entries(app)

    refused = await console.post(f"{page_of(anna)}/adjust", data=fields)

    assert refused.status_code == 422
    assert field_message(refused.text, "points") == "The member has only 40 points available."
    assert await ledger_entries(app) == entries
    assert await available(client, pos, anna) == 40


async def test_invalid_adjustments_show_messages_next_to_the_fields_and_write_nothing(
    console, client, pos, app
):
    anna = await enrol(client, pos, name="Anna")
    entries = await ledger_entries(app)
    url = f"{page_of(anna)}/adjust"
    confirmed = {"confirmed": "yes", "action_key": "console:abcdefghijklmnop"}

    cases = [
        ({"points": "0", "reason": "x"}, "points", "Enter a number of points other than 0."),
        ({"points": "10", "reason": "  "}, "reason", "Required."),
        ({"points": "10"}, "reason", "Required."),
        ({"points": "ten", "reason": "x"}, "points", "Enter a whole number."),
        ({"points": "1.5", "reason": "x"}, "points", "Enter a whole number."),
        ({"points": "", "reason": "x"}, "points", "Required."),
        ({"points": "10", "reason": "x" * 501}, "reason", "Enter at most 500 characters."),
    ]
    for form, field, message in cases:
        for extra in ({}, confirmed):
            response = await console.post_form(url, form | extra)
            assert response.status_code == 422, form
            assert field_message(response.text, field) == message, form
            assert 'aria-invalid="true"' in response.text
            # What was entered is shown again.
            if form.get("reason", "").strip():
                assert f'value="{form["reason"]}"' in response.text

    assert await ledger_entries(app) == entries


async def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(
    console, client, pos, app
):
    anna = await enrol(client, pos, name="Anna")
    entries = await ledger_entries(app)
    form = {
        "points": "100",
        "reason": "x",
        "confirmed": "yes",
        "action_key": "console:abcdefghijklmnop",
    }

    for url in (f"{page_of(anna)}/adjust", f"{page_of(anna)}/erase"):
        refused = await console.post(url, data=form)
        assert refused.status_code == 403, url
        forged = await console.post(url, data=form | {"csrf_token": "forged"})
        assert forged.status_code == 403, url

    assert await ledger_entries(app) == entries
    assert (await fetch_member(client, pos, anna))["name"] == "Anna"


async def test_without_a_login_an_action_leads_to_the_login_page(anonymous_console, client, pos):
    anna = await enrol(client, pos, name="Anna")
    response = await anonymous_console.post(
        f"{page_of(anna)}/adjust", data={"points": "5", "reason": "x"}
    )
    assert redirected_to(response) == "/admin/login"
    assert await available(client, pos, anna) == 0


# --- Merging a duplicate ------------------------------------------------------------------


async def test_a_duplicate_is_merged_after_confirmation_and_shows_in_both_timelines(
    console, client, pos, admin
):
    anna = await enrol(client, pos, name="Anna Schmidt", email="anna@example.com")
    duplicate = await enrol(client, pos, name="Anna S.", card_number="2712345678901236")
    await purchase(client, pos, duplicate, 7000)
    form = {"duplicate": "2712 3456 7890 1236"}

    asked = await console.post_form(f"{page_of(anna)}/merge", form)

    shown = text_of(asked.text)
    assert "Merge a duplicate into Anna Schmidt?" in shown
    assert "You entered: 2712 3456 7890 1236" in shown
    assert "Anna S. (card number 2712345678901236, enrolled" in shown
    assert f"will be merged into Anna Schmidt (card number {anna['card_number']}" in shown
    assert "Moving to Anna Schmidt: 70 available and 0 pending points" in shown
    assert '<button type="submit">Confirm merge</button>' in asked.text
    assert (await fetch_member(client, pos, duplicate))["status"] == "active"

    done = await confirm(console, asked)

    assert redirected_to(done) == f"{page_of(anna)}?done=merged"
    assert (await fetch_member(client, pos, duplicate))["merged_into_id"] == anna["id"]
    assert await available(client, pos, anna) == 70
    again = await console.post(f"{page_of(anna)}/merge", data=hidden_fields(asked.text))
    assert redirected_to(again) == f"{page_of(anna)}?done=merged"

    page = (await console.get(redirected_to(done))).text
    assert "The duplicate was merged into this member." in page
    timeline = section(page, "timeline-heading")
    assert "Points moved here from a merged duplicate +70 70 Anna S." in timeline
    assert "Duplicate merged into this member Anna S." in timeline
    assert f'href="/admin/members/{duplicate["id"]}"' in page

    old = (await console.get(page_of(duplicate))).text
    assert "This record was merged into another member" in old
    assert f'<a href="/admin/members/{anna["id"]}">Go to Anna Schmidt</a>' in old
    old_timeline = section(old, "timeline-heading")
    assert "Merged into another member Anna Schmidt" in old_timeline
    assert "Points moved to the member this record was merged into -70 0" in old_timeline
    assert "Merge duplicate" not in old  # a merged record takes no actions


async def test_a_duplicate_without_points_is_merged_and_still_shows_in_the_timeline(
    console, client, pos
):
    anna = await enrol(client, pos, name="Anna")
    duplicate = await enrol(client, pos, name="Anna twin", email="twin@example.com")

    asked = await console.post_form(f"{page_of(anna)}/merge", {"duplicate": "TWIN@example.com"})
    assert redirected_to(await confirm(console, asked)).endswith("?done=merged")

    timeline = section((await console.get(page_of(anna))).text, "timeline-heading")
    assert "Duplicate merged into this member Anna twin" in timeline
    assert (await fetch_member(client, pos, duplicate))["status"] == "merged"


async def test_merges_that_are_refused_say_why_next_to_the_field_and_write_nothing(
    console, client, pos, admin
):
    anna = await enrol(client, pos, name="Anna", external_id="crm-1")
    ben = await enrol(client, pos, name="Ben")
    merged = await enrol(client, pos, name="Merged", email="merged@example.com")
    response = await write(
        client, f"/v1/members/{ben['id']}/merge", admin, {"source_member_id": merged["id"]}
    )
    assert response.status_code == 200, response.text
    erased = await enrol(client, pos, name="Erika")
    assert (await client.delete(f"/v1/members/{erased['id']}", headers=admin)).status_code == 200
    url = f"{page_of(anna)}/merge"

    cases = [
        ("", "Required."),
        ("crm-1", "This is the member itself: enter the duplicate record."),
        ("nobody@example.com", "No member has this card number, e-mail, external id or member id."),
        ("merged@example.com", "This record was already merged into Ben."),
        (erased["id"], "This record's personal data was erased; it cannot be merged."),
    ]
    for entered, message in cases:
        for extra in ({}, {"confirmed": "yes", "action_key": "console:abcdefghijklmnop"}):
            refused = await console.post_form(url, {"duplicate": entered} | extra)
            assert refused.status_code == 422, entered
            assert field_message(refused.text, "duplicate") == message, entered
            assert f'value="{entered}"' in refused.text

    assert (await fetch_member(client, pos, anna))["status"] == "active"
    assert (await fetch_member(client, pos, ben))["status"] == "active"


async def test_a_merge_confirmed_after_the_duplicate_was_merged_elsewhere_is_refused(
    console, client, pos, admin
):
    anna = await enrol(client, pos, name="Anna")
    ben = await enrol(client, pos, name="Ben")
    duplicate = await enrol(client, pos, name="Twin", email="twin@example.com")
    asked = await console.post_form(f"{page_of(anna)}/merge", {"duplicate": "twin@example.com"})
    response = await write(
        client, f"/v1/members/{ben['id']}/merge", admin, {"source_member_id": duplicate["id"]}
    )
    assert response.status_code == 200, response.text

    refused = await confirm(console, asked)

    assert refused.status_code == 422
    assert field_message(refused.text, "duplicate") == "This record was already merged into Ben."
    assert (await fetch_member(client, pos, duplicate))["merged_into_id"] == ben["id"]


# --- Erasure ------------------------------------------------------------------------------


async def test_erasure_is_confirmed_with_a_warning_then_done_and_shown(console, client, pos, admin):
    anna = await enrol(client, pos, name="Anna Schmidt", email="anna@example.com")
    await purchase(client, pos, anna, 4000)

    asked = await console.post_form(f"{page_of(anna)}/erase")

    shown = text_of(asked.text)
    assert "Erase the personal data of Anna Schmidt?" in shown
    assert "Warning: the name, e-mail, phone, birthdate and external id of Anna Schmidt" in shown
    assert "40 available and 0 pending points are forfeited" in shown
    assert "An erasure cannot be undone." in shown
    assert '<button type="submit" class="danger">Erase personal data</button>' in asked.text
    assert (await fetch_member(client, pos, anna))["name"] == "Anna Schmidt"

    done = await confirm(console, asked)

    assert redirected_to(done) == f"{page_of(anna)}?done=erased"
    erased = await fetch_member(client, pos, anna)
    assert (erased["status"], erased["name"], erased["email"]) == ("erased", None, None)
    again = await console.post(f"{page_of(anna)}/erase", data=hidden_fields(asked.text))
    assert redirected_to(again) == f"{page_of(anna)}?done=erased"

    page = (await console.get(redirected_to(done))).text
    assert "The personal data was erased." in page
    assert "<h1>Erased member" in page
    assert "Anna Schmidt" not in page
    assert erased["card_number"] in section(page, "personal-heading")
    timeline = section(page, "timeline-heading")
    assert "Personal data erased" in timeline
    assert "Points forfeited at the erasure -40 0" in timeline
    assert "Adjust points" not in page
    assert "Erase personal data" not in page


async def test_an_erasure_without_points_still_shows_in_the_timeline(console, client, pos):
    anna = await enrol(client, pos, name="Anna")

    asked = await console.post_form(f"{page_of(anna)}/erase")
    assert redirected_to(await confirm(console, asked)).endswith("?done=erased")

    timeline = section((await console.get(page_of(anna))).text, "timeline-heading")
    assert "Personal data erased" in timeline
    assert "Points forfeited" not in timeline


async def test_an_erased_member_takes_no_adjustment(console, client, pos, admin, app):
    anna = await enrol(client, pos, name="Anna")
    assert (await client.delete(f"/v1/members/{anna['id']}", headers=admin)).status_code == 200
    entries = await ledger_entries(app)

    refused = await console.post_form(
        f"{page_of(anna)}/adjust",
        {
            "points": "10",
            "reason": "x",
            "confirmed": "yes",
            "action_key": "console:abcdefghijklmnop",
        },
    )

    assert refused.status_code == 422
    assert "This member's personal data was erased; the record takes no changes." in text_of(
        refused.text
    )
    assert await ledger_entries(app) == entries
