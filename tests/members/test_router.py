"""Members: enrolment, look-up, changes, referrals, and who may do what."""

import re
import uuid

from app.api_keys.models import Scope
from tests.factories import assert_problem, enrol, headers_for

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PRINTED_CARD = "2712345678901236"  # a card from a printed batch: 16 digits, Luhn-valid


def luhn_valid(number: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_the_printed_card_of_these_examples_is_luhn_valid():
    assert luhn_valid(PRINTED_CARD)
    assert not luhn_valid("2712345678901238")


# Enrolment


async def test_a_new_member_gets_a_luhn_valid_16_digit_card_number_and_a_referral_code(client, pos):
    response = await client.post(
        "/v1/members",
        json={"email": "anna@example.com", "name": "Anna Schmidt", "external_id": "crm-4711"},
        headers=pos,
    )

    assert response.status_code == 201, response.text
    member = response.json()
    assert re.fullmatch(r"27\d{14}", member["card_number"])
    assert luhn_valid(member["card_number"])
    assert len(member["referral_code"]) == 8
    assert set(member["referral_code"]) <= set(CROCKFORD)
    assert member["email"] == "anna@example.com"
    assert member["name"] == "Anna Schmidt"
    assert member["external_id"] == "crm-4711"
    assert member["referred_by_id"] is None
    assert member["status"] == "active"
    uuid.UUID(member["id"])


async def test_a_card_number_or_email_that_is_not_one_is_refused(client, pos):
    for field, value in (
        ("card_number", "2712345678901238"),  # wrong check digit
        ("card_number", "2712345"),  # too short
        ("card_number", "2712-3456-7890-1236"),
        ("card_number", "27123456789O1236"),
        ("email", "not-an-email"),
    ):
        response = await client.post("/v1/members", json={field: value}, headers=pos)

        body = assert_problem(response, 422, "validation_error")
        assert [error["loc"] for error in body["errors"]] == [["body", field]], value


async def test_a_card_number_external_id_or_email_belongs_to_one_member_only(client, pos):
    anna = await enrol(
        client,
        pos,
        external_id="crm-1",
        card_number=PRINTED_CARD,
        email="Anna.Schmidt@Example.com",
    )
    assert anna["card_number"] == PRINTED_CARD  # a printed card keeps its number
    assert anna["email"] == "anna.schmidt@example.com"  # emails are kept in lower case

    for duplicate, taken in (
        ({"external_id": "crm-1"}, ["external_id"]),
        ({"card_number": PRINTED_CARD}, ["card_number"]),
        ({"email": "anna.schmidt@example.com"}, ["email"]),
        ({"email": "ANNA.SCHMIDT@EXAMPLE.COM"}, ["email"]),
        ({"external_id": "crm-2", "email": "anna.schmidt@example.com"}, ["email"]),
    ):
        response = await client.post("/v1/members", json=duplicate, headers=pos)

        body = assert_problem(response, 409, "member_exists")
        assert body["fields"] == taken
    listed = await client.get("/v1/members", headers=pos)
    assert len(listed.json()["items"]) == 1


async def test_a_client_cannot_set_server_owned_fields(client, pos):
    anna = await enrol(client, pos, name="Anna")

    for extra in (
        {"status": "vip"},
        {"balance": 1000},
        {"tier": "gold"},
        {"id": str(uuid.uuid4())},
    ):
        created = await client.post("/v1/members", json={"name": "Eve", **extra}, headers=pos)
        changed = await client.patch(f"/v1/members/{anna['id']}", json=extra, headers=pos)

        for response in (created, changed):
            body = assert_problem(response, 422, "validation_error")
            assert body["errors"][0]["type"] == "extra_forbidden"
    changed = await client.patch(
        f"/v1/members/{anna['id']}", json={"referral_code": "AAAAAAAA"}, headers=pos
    )
    assert_problem(changed, 422, "validation_error")
    listed = await client.get("/v1/members", headers=pos)
    assert listed.json()["items"] == [anna]


# Referrals


async def test_enrolling_with_a_referral_code_links_the_new_member_to_the_referrer(client, pos):
    anna = await enrol(client, pos, name="Anna")

    ben = await enrol(client, pos, name="Ben", referral_code=anna["referral_code"])
    carl = await enrol(client, pos, name="Carl", referral_code=anna["referral_code"].lower())

    assert ben["referred_by_id"] == anna["id"]
    assert carl["referred_by_id"] == anna["id"]
    assert ben["referral_code"] != anna["referral_code"]


async def test_a_referral_code_may_be_typed_loosely(client, pos):
    """Spaces, dashes and O/I/L for 0/1/1 are read as the code (it has none of O, I, L)."""
    anna = await enrol(client, pos, name="Anna")
    code = anna["referral_code"]
    typed = f"{code[:4]} - {code[4:]}".lower().replace("0", "o").replace("1", "l")

    dora = await enrol(client, pos, name="Dora", referral_code=typed)

    assert dora["referred_by_id"] == anna["id"]


async def test_an_unknown_referral_code_is_422_and_enrols_no_one(client, pos):
    response = await client.post("/v1/members", json={"referral_code": "ZZZZZZZZ"}, headers=pos)

    body = assert_problem(response, 422, "referral_code_unknown")
    assert "ZZZZZZZZ" in body["detail"]
    listed = await client.get("/v1/members", headers=pos)
    assert listed.json()["items"] == []


# Look-up


async def test_a_member_is_found_by_card_number_external_id_or_email(client, pos):
    anna = await enrol(client, pos, external_id="crm-1", email="anna@example.com")
    await enrol(client, pos, external_id="crm-2", email="ben@example.com")

    for query in (
        {"card_number": anna["card_number"]},
        {"external_id": "crm-1"},
        {"email": "anna@example.com"},
        {"email": "  ANNA@Example.com "},
    ):
        response = await client.get("/v1/members", params=query, headers=pos)

        assert response.status_code == 200, response.text
        assert [m["id"] for m in response.json()["items"]] == [anna["id"]], query
    no_one = await client.get("/v1/members", params={"external_id": "crm-999"}, headers=pos)
    assert no_one.json() == {"items": [], "next_cursor": None}


async def test_get_a_member_by_id(client, pos):
    anna = await enrol(client, pos, name="Anna", birthdate="1990-03-01")

    response = await client.get(f"/v1/members/{anna['id']}", headers=pos)

    assert response.status_code == 200
    assert response.json() == anna
    assert response.json()["birthdate"] == "1990-03-01"


async def test_an_unknown_member_is_404_member_not_found(client, pos):
    unknown = uuid.uuid4()

    for response in (
        await client.get(f"/v1/members/{unknown}", headers=pos),
        await client.patch(f"/v1/members/{unknown}", json={"name": "X"}, headers=pos),
    ):
        body = assert_problem(response, 404, "member_not_found")
        assert str(unknown) in body["detail"]


async def test_members_get_their_own_numbers_and_are_listed_newest_first_by_cursor(client, pos):
    enrolled = [await enrol(client, pos, name=f"member {n}") for n in range(5)]
    newest_first = [m["id"] for m in reversed(enrolled)]
    assert len({m["card_number"] for m in enrolled}) == 5
    assert len({m["referral_code"] for m in enrolled}) == 5

    first = (await client.get("/v1/members", params={"limit": 2}, headers=pos)).json()
    second = (
        await client.get(
            "/v1/members", params={"limit": 2, "cursor": first["next_cursor"]}, headers=pos
        )
    ).json()
    third = (
        await client.get(
            "/v1/members", params={"limit": 2, "cursor": second["next_cursor"]}, headers=pos
        )
    ).json()

    assert [m["id"] for m in first["items"]] == newest_first[:2]
    assert [m["id"] for m in second["items"]] == newest_first[2:4]
    assert [m["id"] for m in third["items"]] == newest_first[4:]
    assert third["next_cursor"] is None


# Changes


async def test_patch_replaces_the_fields_given_and_keeps_the_others(client, pos):
    anna = await enrol(client, pos, name="Anna", email="anna@example.com", external_id="crm-1")

    response = await client.patch(
        f"/v1/members/{anna['id']}",
        json={"name": "Anna Müller", "email": "Anna.Mueller@Example.com"},
        headers=pos,
    )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "Anna Müller"
    assert changed["email"] == "anna.mueller@example.com"
    assert changed["external_id"] == "crm-1"
    assert changed["card_number"] == anna["card_number"]
    assert changed["referral_code"] == anna["referral_code"]
    again = await client.get(f"/v1/members/{anna['id']}", headers=pos)
    assert again.json() == changed


async def test_patch_with_null_clears_an_optional_field(client, pos):
    anna = await enrol(client, pos, name="Anna", email="anna@example.com")

    response = await client.patch(f"/v1/members/{anna['id']}", json={"email": None}, headers=pos)

    assert response.status_code == 200, response.text
    assert response.json()["email"] is None
    assert response.json()["name"] == "Anna"


async def test_a_card_number_can_be_replaced_but_not_cleared(client, pos):
    anna = await enrol(client, pos)

    cleared = await client.patch(
        f"/v1/members/{anna['id']}", json={"card_number": None}, headers=pos
    )
    replaced = await client.patch(
        f"/v1/members/{anna['id']}", json={"card_number": PRINTED_CARD}, headers=pos
    )

    assert_problem(cleared, 422, "validation_error")
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["card_number"] == PRINTED_CARD


async def test_patch_to_another_members_identity_is_409_and_changes_nothing(client, pos):
    anna = await enrol(
        client, pos, external_id="crm-1", card_number=PRINTED_CARD, email="a@example.com"
    )
    ben = await enrol(client, pos, name="Ben")

    for change in (
        {"external_id": "crm-1"},
        {"card_number": PRINTED_CARD},
        {"email": "A@Example.com"},
    ):
        response = await client.patch(f"/v1/members/{ben['id']}", json=change, headers=pos)

        body = assert_problem(response, 409, "member_exists")
        assert body["fields"] == list(change)
    assert (await client.get(f"/v1/members/{ben['id']}", headers=pos)).json() == ben
    # Giving one's own identity again is no conflict.
    own = {"external_id": "crm-1", "card_number": PRINTED_CARD, "email": "A@example.com"}
    response = await client.patch(f"/v1/members/{anna['id']}", json=own, headers=pos)
    assert response.status_code == 200, response.text


# Who may do what


async def test_a_partner_may_look_members_up_but_not_enrol_or_change_them(app, client, pos):
    partner = await headers_for(app, Scope.partner)
    anna = await enrol(client, pos, email="anna@example.com")

    looked_up = await client.get(
        "/v1/members", params={"email": "anna@example.com"}, headers=partner
    )
    read = await client.get(f"/v1/members/{anna['id']}", headers=partner)
    created = await client.post("/v1/members", json={"name": "Eve"}, headers=partner)
    changed = await client.patch(f"/v1/members/{anna['id']}", json={"name": "Eve"}, headers=partner)

    assert looked_up.status_code == 200
    assert read.status_code == 200
    assert_problem(created, 403, "insufficient_scope")
    assert_problem(changed, 403, "insufficient_scope")
    assert (await client.get(f"/v1/members/{anna['id']}", headers=pos)).json()["name"] is None


async def test_shops_and_admins_may_enrol_too_and_no_one_without_a_key(app, client):
    for scope in (Scope.shop, Scope.admin):
        member = await enrol(client, await headers_for(app, scope), name=f"by {scope}")

        assert member["name"] == f"by {scope}"
    anonymous = await client.post("/v1/members", json={"name": "Eve"})
    assert_problem(anonymous, 401, "unauthenticated")
