"""Members' phone numbers: stored in E.164, one member per number."""

from tests.factories import assert_problem, enrol, fetch_member


async def test_a_phone_number_is_stored_in_e164_however_it_is_written(client, pos):
    anna = await enrol(client, pos, name="Anna", phone="030 / 123 45 67")
    ben = await enrol(client, pos, name="Ben", phone="+43 1 5134567")

    assert anna["phone"] == "+49301234567"  # without a country code: German
    assert ben["phone"] == "+4315134567"
    assert (await fetch_member(client, pos, anna))["phone"] == "+49301234567"


async def test_a_phone_number_belongs_to_one_member_only(client, pos):
    anna = await enrol(client, pos, phone="+49 30 1234567")

    response = await client.post("/v1/members", json={"phone": "0301234567"}, headers=pos)

    body = assert_problem(response, 409, "member_exists")
    assert body["fields"] == ["phone"]
    ben = await enrol(client, pos, phone="+49 30 7654321")
    changed = await client.patch(
        f"/v1/members/{ben['id']}", json={"phone": "030 1234567"}, headers=pos
    )
    assert_problem(changed, 409, "member_exists")
    assert (await fetch_member(client, pos, anna))["phone"] == "+49301234567"


async def test_a_phone_number_can_be_changed_and_cleared(client, pos):
    anna = await enrol(client, pos, phone="030 1234567")

    changed = await client.patch(
        f"/v1/members/{anna['id']}", json={"phone": "+49 40 1234567"}, headers=pos
    )
    assert changed.json()["phone"] == "+49401234567"
    cleared = await client.patch(f"/v1/members/{anna['id']}", json={"phone": None}, headers=pos)
    assert cleared.json()["phone"] is None


async def test_text_that_is_not_a_phone_number_is_refused(client, pos):
    for value in ("12", "call me", "+49 30", ""):
        response = await client.post("/v1/members", json={"phone": value}, headers=pos)

        body = assert_problem(response, 422, "validation_error")
        assert [error["loc"] for error in body["errors"]] == [["body", "phone"]], value
