async def test_create_and_list_api_keys(client, admin):
    response = await client.post(
        "/v1/api-keys",
        json={"name": "till", "scopes": ["pos"]},
        headers={**admin, "Idempotency-Key": "k1"},
    )
    assert response.status_code == 201, response.text
    listing = await client.get("/v1/api-keys", headers=admin)
    assert listing.status_code == 200
    assert len(listing.json()["items"]) == 2
