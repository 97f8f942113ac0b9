"""Finding members as a person types them: ``search_members`` and ``identify``.

Card numbers are found without the spaces and dashes a printed card shows, e-mail in any
case, external ids and member ids as they are, and names by any part of them in any case;
a text with LIKE's wildcards finds only names that contain those characters.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from app.kit.pagination import PageParams
from app.ledger import service as ledger
from app.members import service
from app.members.models import Member
from tests.factories import adjust, enrol, purchase, write


async def search(app: FastAPI, text: str, limit: int = 50) -> list[str]:
    async with app.state.runtime.sessionmaker() as session:
        found, _ = await service.search_members(session, text, PageParams(limit))
    return [str(member.id) for member in found]


async def identify(app: FastAPI, text: str) -> str | None:
    async with app.state.runtime.sessionmaker() as session:
        found = await service.identify(session, text)
    return None if found is None else str(found.id)


def ids(*members: dict[str, Any]) -> list[str]:
    return [member["id"] for member in members]


async def test_a_card_number_is_found_with_the_spaces_and_dashes_of_a_printed_card(
    app, client, pos
):
    anna = await enrol(client, pos, name="Anna", card_number="2712345678901236")
    await enrol(client, pos, name="Ben")

    assert await search(app, "2712345678901236") == ids(anna)
    assert await search(app, " 2712 3456 7890 1236 ") == ids(anna)
    assert await search(app, "2712-3456-7890-1236") == ids(anna)
    assert await search(app, "271234567890123") == []  # a card number is matched whole


async def test_an_email_is_found_in_any_case_and_only_whole(app, client, pos):
    anna = await enrol(client, pos, email="anna.schmidt@example.com")
    await enrol(client, pos, email="ben@example.com")

    assert await search(app, "Anna.Schmidt@EXAMPLE.com") == ids(anna)
    assert await search(app, "@example.com") == []


async def test_an_external_id_or_a_member_id_is_found_as_it_is(app, client, pos):
    anna = await enrol(client, pos, external_id="CRM-4711")
    ben = await enrol(client, pos, external_id="crm-4711")

    assert await search(app, "CRM-4711") == ids(anna)
    assert await search(app, "crm-4711") == ids(ben)
    assert await search(app, "CRM-47") == []
    assert await search(app, ben["id"]) == ids(ben)
    assert await search(app, ben["id"].upper()) == ids(ben)


async def test_a_name_is_found_by_any_part_in_any_case_also_with_umlauts(app, client, pos):
    anna = await enrol(client, pos, name="Anna Schmidt")
    ayse = await enrol(client, pos, name="Ayşe Özdemir")
    await enrol(client, pos, name="Ben Meyer")

    assert await search(app, "schmi") == ids(anna)
    assert await search(app, "SCHMIDT") == ids(anna)
    assert await search(app, "özdemir") == ids(ayse)
    assert sorted(await search(app, "a")) == sorted(ids(anna, ayse))


async def test_wildcards_in_a_search_match_only_themselves(app, client, pos):
    percent = await enrol(client, pos, name="100% Kunde")
    underscore = await enrol(client, pos, name="a_b")
    await enrol(client, pos, name="Anna Schmidt")
    await enrol(client, pos, name="axb")

    assert await search(app, "%") == ids(percent)
    assert await search(app, "_") == ids(underscore)
    assert await search(app, "a_b") == ids(underscore)


async def test_without_a_text_every_member_is_listed_newest_first_a_page_at_a_time(
    app, client, pos
):
    enrolled = [await enrol(client, pos, name=f"Member {n}") for n in range(3)]
    async with app.state.runtime.sessionmaker() as session:
        first, cursor = await service.search_members(session, "  ", PageParams(2))
        second, end = await service.search_members(session, "", PageParams(2, cursor))

    assert [str(m.id) for m in [*first, *second]] == ids(*reversed(enrolled))
    assert cursor is not None
    assert end is None


async def test_merged_and_erased_records_are_found_as_they_are(app, client, pos, admin):
    anna = await enrol(client, pos, name="Anna", email="anna@example.com")
    duplicate = await enrol(client, pos, name="Anna S.", email="anna.s@example.com")
    merged = await write(
        client, f"/v1/members/{anna['id']}/merge", admin, {"source_member_id": duplicate["id"]}
    )
    assert merged.status_code == 200, merged.text
    erased = await enrol(client, pos, name="Erika", email="erika@example.com")
    assert (await client.delete(f"/v1/members/{erased['id']}", headers=admin)).status_code == 200

    async with app.state.runtime.sessionmaker() as session:
        found, _ = await service.search_members(session, "anna.s@example.com", PageParams(10))
        assert [(str(m.id), m.status) for m in found] == [(duplicate["id"], "merged")]
    assert await search(app, "erika@example.com") == []  # the old address is gone
    assert await search(app, "Erika") == []
    assert await search(app, erased["id"]) == ids(erased)


async def test_identify_finds_the_record_itself_by_id_card_email_or_external_id(
    app, client, pos, admin
):
    anna = await enrol(client, pos, email="anna@example.com", external_id="crm-1")
    duplicate = await enrol(client, pos, card_number="2712345678901236")
    await write(
        client, f"/v1/members/{anna['id']}/merge", admin, {"source_member_id": duplicate["id"]}
    )

    assert await identify(app, anna["id"]) == anna["id"]
    assert await identify(app, "ANNA@example.com ") == anna["id"]
    assert await identify(app, "crm-1") == anna["id"]
    # A merged record is named as itself, not as the member it became.
    assert await identify(app, "2712 3456 7890 1236") == duplicate["id"]
    assert await identify(app, duplicate["id"]) == duplicate["id"]
    assert await identify(app, "Anna") is None
    assert await identify(app, str(uuid.uuid4())) is None
    assert await identify(app, "   ") is None


async def test_duplicates_merged_into_a_member_are_listed_in_the_order_they_were_merged(
    app, client, pos, admin
):
    anna = await enrol(client, pos)
    first, second, other = [await enrol(client, pos) for _ in range(3)]
    for duplicate in (second, first):
        response = await write(
            client, f"/v1/members/{anna['id']}/merge", admin, {"source_member_id": duplicate["id"]}
        )
        assert response.status_code == 200, response.text

    async with app.state.runtime.sessionmaker() as session:
        merged: Sequence[Member] = await service.duplicates_merged_into(
            session, uuid.UUID(anna["id"])
        )
        none: Sequence[Member] = await service.duplicates_merged_into(
            session, uuid.UUID(other["id"])
        )
    assert [str(member.id) for member in merged] == ids(second, first)
    assert none == []


async def test_a_members_ledger_entries_are_paged_newest_first(app, client, pos, admin):
    anna = await enrol(client, pos)
    await purchase(client, pos, anna, 1000)
    await adjust(client, admin, anna, 5, "goodwill")
    await adjust(client, admin, anna, -2, "correction")

    async with app.state.runtime.sessionmaker() as session:
        member_id = uuid.UUID(anna["id"])
        first, cursor = await ledger.transactions(session, member_id, PageParams(2))
        rest, end = await ledger.transactions(session, member_id, PageParams(2, cursor))

    assert [(t.type, t.points, t.reason) for t in [*first, *rest]] == [
        ("adjustment", -2, "correction"),
        ("adjustment", 5, "goodwill"),
        ("purchase", 10, None),
    ]
    assert end is None
