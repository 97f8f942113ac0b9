"""/admin/members: one search box over card number, e-mail, name and external id."""

import re

from tests.console.members_support import member_links, text_of
from tests.factories import enrol, purchase, write

SEARCH = "/admin/members"


async def found(console, text: str) -> list[str]:
    response = await console.get(SEARCH, params={"q": text})
    assert response.status_code == 200, response.text
    return member_links(results_of(response.text))


def results_of(page: str) -> str:
    return page[page.index('id="results"') :]


async def test_the_search_page_has_a_labelled_search_box_and_a_button(console):
    page = (await console.get(SEARCH)).text

    assert '<label for="q">Search members' in page
    assert 'id="q-hint">Card number, e-mail, name or external id</p>' in page
    assert 'aria-describedby="q-hint"' in page
    assert '<button type="submit">Search</button>' in page
    # Search as you type, picking the results out of the whole page.
    assert 'hx-get="/admin/members"' in page
    assert 'hx-select="#results"' in page


async def test_a_card_number_is_found_as_printed_with_spaces_or_dashes(console, client, pos):
    anna = await enrol(client, pos, name="Anna Schmidt", card_number="2712345678901236")
    await enrol(client, pos, name="Ben Meyer")

    for typed in ("2712345678901236", "2712 3456 7890 1236", "2712-3456-7890-1236"):
        assert await found(console, typed) == [anna["id"]], typed


async def test_an_email_is_found_in_any_case(console, client, pos):
    anna = await enrol(client, pos, name="Anna", email="anna@example.com")
    await enrol(client, pos, name="Ben", email="ben@example.com")

    assert await found(console, "ANNA@Example.com") == [anna["id"]]


async def test_a_name_is_found_by_a_part_of_it_in_any_case(console, client, pos):
    anna = await enrol(client, pos, name="Anna Schmidt")
    await enrol(client, pos, name="Ben Meyer")

    assert await found(console, "schmi") == [anna["id"]]
    assert await found(console, "ANNA S") == [anna["id"]]


async def test_an_external_id_is_found_whole(console, client, pos):
    anna = await enrol(client, pos, name="Anna", external_id="crm-4711")
    await enrol(client, pos, name="Ben", external_id="crm-4712")

    assert await found(console, "crm-4711") == [anna["id"]]
    assert await found(console, "crm-471") == []


async def test_the_results_show_name_email_card_external_id_tier_and_enrolment(
    console, client, pos, admin
):
    tier = await client.post(
        "/v1/tiers",
        json={"name": "Silver", "rank": 1, "threshold": 5, "multiplier": "1"},
        headers=admin,
    )
    assert tier.status_code == 201, tier.text
    anna = await enrol(client, pos, name="Anna Schmidt", email="anna@example.com")
    await purchase(client, pos, anna, 1000)

    page = (await console.get(SEARCH, params={"q": "anna@example.com"})).text
    text = text_of(results_of(page))

    for heading in ("Name", "E-mail", "Card number", "External id", "Tier", "Enrolled"):
        assert f'<th scope="col">{heading}</th>' in page
    assert "Anna Schmidt anna@example.com " + anna["card_number"] in text
    assert "Silver" in text
    assert "Members found for “anna@example.com”" in text


async def test_without_a_search_the_newest_members_come_first_with_a_next_page_link(
    console, client, pos
):
    enrolled = [await enrol(client, pos, name=f"Member {n:02}") for n in range(27)]
    newest_first = [member["id"] for member in reversed(enrolled)]

    first = await console.get(SEARCH)
    assert "Newest members" in text_of(first.text)
    assert member_links(results_of(first.text)) == newest_first[:25]
    next_link = re.search(r'href="(/admin/members\?[^"]*cursor=[^"]+)">Next page</a>', first.text)
    assert next_link is not None

    second = await console.get(next_link.group(1).replace("&amp;", "&"))
    assert member_links(results_of(second.text)) == newest_first[25:]
    assert "Next page" not in second.text


async def test_a_search_without_results_says_so(console, client, pos):
    await enrol(client, pos, name="Anna")

    page = await console.get(SEARCH, params={"q": "nobody"})

    assert page.status_code == 200
    assert "No member matches “nobody”." in text_of(page.text)
    assert member_links(results_of(page.text)) == []


async def test_a_bad_cursor_or_an_overlong_search_is_an_error_page_not_a_500(console):
    bad = await console.get(SEARCH, params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert "Invalid cursor" in bad.text

    too_long = await console.get(SEARCH, params={"q": "x" * 201})
    assert too_long.status_code == 422


async def test_a_merged_record_shows_the_member_it_became_and_an_erased_one_is_marked(
    console, client, pos, admin
):
    anna = await enrol(client, pos, name="Anna Schmidt")
    duplicate = await enrol(client, pos, name="Anna S.", email="anna.s@example.com")
    merged = await write(
        client, f"/v1/members/{anna['id']}/merge", admin, {"source_member_id": duplicate["id"]}
    )
    assert merged.status_code == 200, merged.text
    erika = await enrol(client, pos, name="Erika")
    assert (await client.delete(f"/v1/members/{erika['id']}", headers=admin)).status_code == 200

    page = (await console.get(SEARCH, params={"q": "anna.s@example.com"})).text
    assert member_links(results_of(page)) == [duplicate["id"], anna["id"]]
    assert "Anna S. Merged Now part of Anna Schmidt" in text_of(results_of(page))

    page = (await console.get(SEARCH, params={"q": erika["id"]})).text
    assert "Erased member Erased" in text_of(results_of(page))
    assert "Erika" not in text_of(results_of(page))
