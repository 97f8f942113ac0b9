"""The tier ladder in the console: create, edit, the ladder's checks, delete after asking."""

from datetime import UTC, datetime, timedelta

from tests.console.programme_support import (
    alert,
    api_get,
    field_error,
    follow,
    form_of,
    form_values,
    notice,
)
from tests.factories import enrol

TIMES = "\N{MULTIPLICATION SIGN}"
TIERS = "/admin/programme/tiers"
NEW = f"{TIERS}/new"


async def create_tier(client, admin, name, rank, threshold, multiplier="1", **fields):
    body = {"name": name, "rank": rank, "threshold": threshold, "multiplier": multiplier}
    response = await client.post("/v1/tiers", json={**body, **fields}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_tier_is_created_from_the_form(console, client, admin):
    values = await form_of(console, NEW)
    assert values == {"name": "", "rank": "", "threshold": "", "multiplier": "1", "benefits": ""}
    values.update(
        name="Gold",
        rank="2",
        threshold="2000",
        multiplier="1.5",
        benefits="Free delivery, always\n\nBirthday coffee\n",
    )

    response = await console.post_form(NEW, values)

    assert response.headers["location"] == f"{TIERS}?done=created"
    page = (await follow(console, response)).text
    assert notice(page) == "Tier created."
    assert "Gold" in page
    assert "Free delivery, always" in page
    [tier] = await api_get(client, admin, "/v1/tiers")
    assert (tier["name"], tier["rank"], tier["threshold"]) == ("Gold", 2, 2000)
    assert tier["multiplier"] == "1.5"
    assert tier["benefits"] == ["Free delivery, always", "Birthday coffee"]


async def test_the_ladder_is_listed_by_rank(console, client, admin):
    await create_tier(client, admin, "Gold", 2, 300, "2", benefits=["Free delivery"])
    await create_tier(client, admin, "Silver", 1, 100, "1.25")

    page = (await console.get(TIERS)).text

    assert page.index("Silver") < page.index("Gold")
    assert f"{TIMES} 1.25" in page
    assert f"{TIMES} 2" in page
    assert '<th scope="col" class="number">Threshold (qualifying points)</th>' in page
    assert 'href="/admin/programme/tiers/new"' in page


async def test_the_ladders_checks_are_shown_next_to_the_fields(console, client, admin):
    await create_tier(client, admin, "Silver", 1, 100)
    values = {"name": "Gold", "rank": "2", "threshold": "50", "multiplier": "2"}

    response = await console.post_form(NEW, values)

    assert response.status_code == 422
    assert field_error(response.text, "threshold") == (
        "Thresholds must rise with the rank: more points than every lower tier, fewer than "
        "every higher one."
    )
    assert form_values(response.text, NEW)["threshold"] == "50"
    assert "Current ladder" in response.text

    response = await console.post_form(NEW, {**values, "name": "Silver", "rank": "1"})
    assert response.status_code == 422
    assert field_error(response.text, "name") == "Another tier has this name."
    assert field_error(response.text, "rank") == "Another tier has this rank."
    assert [tier["name"] for tier in await api_get(client, admin, "/v1/tiers")] == ["Silver"]


async def test_invalid_fields_are_explained_and_nothing_is_written(console, client, admin):
    values = {"name": "", "rank": "one", "threshold": "-5", "multiplier": "0,5", "benefits": ""}

    response = await console.post_form(NEW, values)

    assert response.status_code == 422
    assert field_error(response.text, "name") == "Required."
    assert field_error(response.text, "rank") == "Enter a whole number."
    assert field_error(response.text, "threshold") == "Must be at least 0."
    assert field_error(response.text, "multiplier") == (
        "Enter a number from 1 to 100 with at most 4 decimal places."
    )
    assert alert(response.text) == "Please correct the marked fields."
    assert form_values(response.text, NEW)["multiplier"] == "0,5"
    assert await api_get(client, admin, "/v1/tiers") == []


async def test_a_tier_is_edited_with_what_the_form_shows(console, client, admin):
    tier = await create_tier(client, admin, "Silver", 1, 100, "1.5", benefits=["Coffee"])
    url = f"{TIERS}/{tier['id']}"
    values = await form_of(console, url)
    assert values == {
        "name": "Silver",
        "rank": "1",
        "threshold": "100",
        "multiplier": "1.5",
        "benefits": "Coffee",
    }

    values.update(threshold="150", benefits="")
    response = await console.post_form(url, values)

    assert response.headers["location"] == f"{TIERS}?done=saved"
    assert notice((await follow(console, response)).text) == "Tier saved."
    changed = await api_get(client, admin, f"/v1/tiers/{tier['id']}")
    assert (changed["threshold"], changed["benefits"], changed["multiplier"]) == (150, [], "1.5")


async def test_an_edit_that_breaks_the_ladder_is_refused(console, client, admin):
    silver = await create_tier(client, admin, "Silver", 1, 100)
    await create_tier(client, admin, "Gold", 2, 300)
    url = f"{TIERS}/{silver['id']}"
    values = await form_of(console, url)

    response = await console.post_form(url, {**values, "threshold": "400"})

    assert response.status_code == 422
    assert field_error(response.text, "threshold").startswith("Thresholds must rise")
    assert (await api_get(client, admin, f"/v1/tiers/{silver['id']}"))["threshold"] == 100


async def test_a_tier_is_deleted_after_confirming(console, client, admin):
    tier = await create_tier(client, admin, "Silver", 1, 100)
    edit = (await console.get(f"{TIERS}/{tier['id']}")).text
    delete = f"{TIERS}/{tier['id']}/delete"
    assert f'action="{delete}"' in edit
    assert "Delete tier" in edit

    asked = await console.post_form(delete)

    assert asked.status_code == 200
    assert "Delete the tier Silver?" in asked.text
    assert len(await api_get(client, admin, "/v1/tiers")) == 1  # only asked so far
    confirmed = form_values(asked.text, delete)
    response = await console.post(delete, data=confirmed)
    assert response.headers["location"] == f"{TIERS}?done=deleted"
    assert notice((await follow(console, response)).text) == "Tier deleted."
    assert await api_get(client, admin, "/v1/tiers") == []
    # The same confirmation again (a double click) changes nothing and fails nothing.
    again = await console.post(delete, data=confirmed)
    assert again.headers["location"] == f"{TIERS}?done=deleted"


async def test_a_tier_members_hold_is_not_deleted(console, client, admin, pos):
    tier = await create_tier(client, admin, "Silver", 1, 100)
    anna = await enrol(client, pos, name="Anna")
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    response = await client.put(
        f"/v1/members/{anna['id']}/tier",
        json={"tier_id": tier["id"], "until": until},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    delete = f"{TIERS}/{tier['id']}/delete"
    confirmed = form_values((await console.post_form(delete)).text, delete)

    response = await console.post(delete, data=confirmed)

    assert response.status_code == 409
    assert alert(response.text).startswith("Members hold this tier, so it cannot be deleted.")
    assert len(await api_get(client, admin, "/v1/tiers")) == 1
    # Once nobody holds it, the same confirmation deletes it: the refusal recorded nothing.
    ended = await client.delete(f"/v1/members/{anna['id']}/tier", headers=admin)
    assert ended.status_code == 200, ended.text
    response = await console.post(delete, data=confirmed)
    assert response.status_code == 303
    assert await api_get(client, admin, "/v1/tiers") == []


async def test_without_the_csrf_token_no_tier_is_created(console, client, admin):
    response = await console.post(NEW, data={"name": "Gold", "rank": "1", "threshold": "10"})

    assert response.status_code == 403
    assert await api_get(client, admin, "/v1/tiers") == []
