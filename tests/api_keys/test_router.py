"""The /v1/api-keys endpoints, and authentication as every /v1 endpoint sees it."""

import uuid

import pytest

from app.api_keys.models import Scope
from tests.conftest import bearer, create_key

PROBLEM = "application/problem+json"
LISTED_FIELDS = {"id", "name", "key_id", "scopes", "created_at", "revoked_at", "last_used_at"}


def idempotent(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or uuid.uuid4().hex}


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == f"urn:stammkunde:problem:{code}"


async def create_via_api(client, admin, name="till", scopes=("pos",)):
    response = await client.post(
        "/v1/api-keys", json={"name": name, "scopes": list(scopes)}, headers=idempotent(admin)
    )
    assert response.status_code == 201, response.text
    return response.json()


# Authentication


async def test_a_request_without_a_key_is_401(client):
    response = await client.get("/v1/api-keys")

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer not-a-key",
        "Bearer stk_",
        "Bearer stk_abc",
        "Basic dXNlcjpwYXNz",
        "stk_abc_def",
    ],
)
async def test_a_malformed_key_is_401(client, authorization):
    response = await client.get("/v1/api-keys", headers={"Authorization": authorization})

    assert_problem(response, 401, "unauthenticated")


async def test_an_unknown_key_is_401(client, admin_key):
    secret = admin_key.rsplit("_", 1)[1]

    response = await client.get("/v1/api-keys", headers=bearer(f"stk_nosuchkeyid_{secret}"))

    assert_problem(response, 401, "unauthenticated")


async def test_a_key_with_a_wrong_secret_is_401(client, admin_key):
    other_last = "b" if admin_key.endswith("a") else "a"

    response = await client.get("/v1/api-keys", headers=bearer(admin_key[:-1] + other_last))

    assert_problem(response, 401, "unauthenticated")


async def test_a_revoked_key_is_401(app, client, admin):
    key = await create_key(app, Scope.admin, name="to revoke")
    key_id = key.split("_")[1]
    assert (await client.get("/v1/api-keys", headers=bearer(key))).status_code == 200

    assert (await client.delete(f"/v1/api-keys/{key_id}", headers=admin)).status_code == 204

    assert_problem(await client.get("/v1/api-keys", headers=bearer(key)), 401, "unauthenticated")


@pytest.mark.parametrize("scope", [Scope.pos, Scope.shop, Scope.partner])
async def test_a_key_without_admin_scope_is_403_on_admin_endpoints(app, client, admin, scope):
    key = await create_key(app, scope)
    headers = bearer(key)
    target = await create_via_api(client, admin)

    listing = await client.get("/v1/api-keys", headers=headers)
    creation = await client.post(
        "/v1/api-keys", json={"name": "x", "scopes": ["admin"]}, headers=idempotent(headers)
    )
    revocation = await client.delete(f"/v1/api-keys/{target['id']}", headers=headers)

    for response in (listing, creation, revocation):
        assert_problem(response, 403, "insufficient_scope")
    # The refused revocation changed nothing.
    assert (await client.get("/v1/api-keys", headers=bearer(target["key"]))).status_code == 403
    items = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    assert next(item for item in items if item["id"] == target["id"])["revoked_at"] is None
    assert len(items) == 3  # admin, the scoped key, the target: the refused create made none


async def test_a_key_with_several_scopes_including_admin_may_administer(app, client):
    key = await create_key(app, Scope.pos, Scope.admin)

    assert (await client.get("/v1/api-keys", headers=bearer(key))).status_code == 200


# Creating


async def test_admin_creates_a_key_and_sees_it_once(client, admin):
    response = await client.post(
        "/v1/api-keys",
        json={"name": "Till 3, Hauptstraße", "scopes": ["shop", "pos"]},
        headers=idempotent(admin, "create-till-3"),
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Till 3, Hauptstraße"
    assert created["scopes"] == ["pos", "shop"]
    assert created["revoked_at"] is None
    assert created["last_used_at"] is None
    assert created["key"].startswith(f"stk_{created['key_id']}_")
    secret = created["key"].split("_", 2)[2]
    assert len(secret) * 5 >= 256

    listing = await client.get("/v1/api-keys", headers=admin)
    assert listing.status_code == 200
    assert secret not in listing.text
    items = listing.json()["items"]
    listed = next(item for item in items if item["id"] == created["id"])
    assert "key" not in listed
    assert {k: v for k, v in created.items() if k != "key"} == listed
    for item in items:
        assert set(item) == LISTED_FIELDS


async def test_a_created_key_works_at_once(client, admin):
    created = await create_via_api(client, admin, scopes=["admin"])

    response = await client.get("/v1/api-keys", headers=bearer(created["key"]))

    assert response.status_code == 200
    listed = next(item for item in response.json()["items"] if item["id"] == created["id"])
    assert listed["last_used_at"] is not None


async def test_creating_requires_an_idempotency_key(client, admin):
    response = await client.post(
        "/v1/api-keys", json={"name": "till", "scopes": ["pos"]}, headers=admin
    )

    assert_problem(response, 400, "idempotency_key_missing")
    assert len((await client.get("/v1/api-keys", headers=admin)).json()["items"]) == 1


async def test_a_retried_create_returns_the_same_key_and_creates_none(client, admin):
    headers = idempotent(admin, "retry-me")
    body = {"name": "till", "scopes": ["pos"]}

    first = await client.post("/v1/api-keys", json=body, headers=headers)
    second = await client.post("/v1/api-keys", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    for field in ("id", "key_id", "name", "scopes", "created_at"):
        assert second.json()[field] == first.json()[field]
    assert second.headers.get("idempotent-replayed") == "true"
    assert len((await client.get("/v1/api-keys", headers=admin)).json()["items"]) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"name": "till", "scopes": ["pos"], "key_id": "chosen"},
        {"name": "till", "scopes": ["pos"], "secret_hash": "0" * 64},
        {"name": "till", "scopes": ["pos"], "revoked_at": None},
        {"name": "till", "scopes": ["pos"], "key": "stk_chosen_secret"},
    ],
)
async def test_extra_fields_are_422(client, admin, body):
    response = await client.post("/v1/api-keys", json=body, headers=idempotent(admin))

    assert_problem(response, 422, "validation_error")
    assert response.json()["errors"][0]["type"] == "extra_forbidden"
    assert len((await client.get("/v1/api-keys", headers=admin)).json()["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "till", "scopes": []},
        {"name": "till"},
        {"name": "till", "scopes": ["root"]},
        {"name": "till", "scopes": "pos"},
        {"name": "", "scopes": ["pos"]},
        {"name": "x" * 101, "scopes": ["pos"]},
        {"scopes": ["pos"]},
        {"name": "till", "scopes": ["pos", "shop", "partner", "admin", "pos"]},
    ],
)
async def test_invalid_bodies_are_422(client, admin, body):
    response = await client.post("/v1/api-keys", json=body, headers=idempotent(admin))

    assert_problem(response, 422, "validation_error")
    assert response.json()["errors"]
    assert len((await client.get("/v1/api-keys", headers=admin)).json()["items"]) == 1


async def test_empty_scopes_are_422_naming_the_field(client, admin):
    response = await client.post(
        "/v1/api-keys", json={"name": "till", "scopes": []}, headers=idempotent(admin)
    )

    assert_problem(response, 422, "validation_error")
    assert response.json()["errors"][0]["loc"] == ["body", "scopes"]


async def test_a_refused_body_frees_its_idempotency_key_for_the_corrected_request(client, admin):
    headers = idempotent(admin, "fix-and-retry")

    refused = await client.post(
        "/v1/api-keys", json={"name": "till", "scopes": []}, headers=headers
    )
    corrected = await client.post(
        "/v1/api-keys", json={"name": "till", "scopes": ["pos"]}, headers=headers
    )

    assert refused.status_code == 422
    assert corrected.status_code == 201, corrected.text


# Listing


async def test_the_listing_pages_newest_first(client, admin):
    created = [(await create_via_api(client, admin, name=f"till {n}"))["id"] for n in range(5)]

    seen: list[dict] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/api-keys", params=params, headers=admin)).json()
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)) == 6
    assert set(created) <= set(ids)
    order = [(item["created_at"], item["id"]) for item in seen]
    assert order == sorted(order, reverse=True)


async def test_a_foreign_cursor_is_400(client, admin):
    response = await client.get(
        "/v1/api-keys", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=admin
    )

    assert_problem(response, 400, "invalid_cursor")


@pytest.mark.parametrize("limit", [0, 201, -1])
async def test_a_limit_out_of_range_is_422(client, admin, limit):
    response = await client.get("/v1/api-keys", params={"limit": limit}, headers=admin)

    assert_problem(response, 422, "validation_error")


# Revoking


async def test_revoking_by_id_is_204_and_stops_the_key_at_once(client, admin):
    created = await create_via_api(client, admin, scopes=["admin"])
    assert (await client.get("/v1/api-keys", headers=bearer(created["key"]))).status_code == 200

    response = await client.delete(f"/v1/api-keys/{created['id']}", headers=admin)

    assert response.status_code == 204
    assert response.content == b""
    after = await client.get("/v1/api-keys", headers=bearer(created["key"]))
    assert_problem(after, 401, "unauthenticated")
    items = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    assert next(item for item in items if item["id"] == created["id"])["revoked_at"] is not None


async def test_revoking_by_key_id_works(client, admin):
    created = await create_via_api(client, admin, scopes=["admin"])

    response = await client.delete(f"/v1/api-keys/{created['key_id']}", headers=admin)

    assert response.status_code == 204
    after = await client.get("/v1/api-keys", headers=bearer(created["key"]))
    assert_problem(after, 401, "unauthenticated")


async def test_revoking_one_key_leaves_the_others_working(app, client, admin):
    revoked = await create_via_api(client, admin, scopes=["admin"])
    kept = await create_via_api(client, admin, scopes=["admin"])

    await client.delete(f"/v1/api-keys/{revoked['id']}", headers=admin)

    assert (await client.get("/v1/api-keys", headers=bearer(kept["key"]))).status_code == 200
    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200


@pytest.mark.parametrize(
    "reference", ["0190a1b2-0000-7000-8000-000000000000", "nosuchkeyid", "x" * 64]
)
async def test_revoking_an_unknown_key_is_404(client, admin, reference):
    response = await client.delete(f"/v1/api-keys/{reference}", headers=admin)

    assert_problem(response, 404, "api_key_not_found")


async def test_revoking_twice_is_harmless(client, admin):
    created = await create_via_api(client, admin)

    first = await client.delete(f"/v1/api-keys/{created['id']}", headers=admin)
    items = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    revoked_at = next(item for item in items if item["id"] == created["id"])["revoked_at"]
    second = await client.delete(f"/v1/api-keys/{created['key_id']}", headers=admin)

    assert first.status_code == second.status_code == 204
    items = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    assert next(item for item in items if item["id"] == created["id"])["revoked_at"] == revoked_at


async def test_an_admin_key_may_revoke_itself(client, admin):
    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200
    own_key_id = admin["Authorization"].split("_")[1]

    response = await client.delete(f"/v1/api-keys/{own_key_id}", headers=admin)

    assert response.status_code == 204
    assert_problem(await client.get("/v1/api-keys", headers=admin), 401, "unauthenticated")
