"""A chunk that collides with a member created meanwhile: rolled back, tried again, reported."""

import pytest

from app.imports import repository
from app.imports.errors import ImportConflict
from app.imports.service import MemberImport
from tests.factories import enrol, look_up

COLUMNS = {"external_id": 0, "email": 1}
CHUNK = [(2, ("x-1", "anna@example.com")), (3, ("x-2", "ben@example.com"))]


def blind_to_members(monkeypatch: pytest.MonkeyPatch, times: int | None) -> None:
    """The duplicate check misses every member for its first ``times`` look-ups (all of
    them with None), as if they had been enrolled after it looked."""
    looked = 0
    members_by = repository.members_by

    async def blind(session, field, values):
        nonlocal looked
        looked += 1
        if field in COLUMNS and (times is None or looked <= times):
            return {}
        return await members_by(session, field, values)

    monkeypatch.setattr(repository, "members_by", blind)


async def test_the_chunk_is_tried_again_and_the_newcomer_reported(app, client, admin, monkeypatch):
    anna = await enrol(client, admin, email="anna@example.com")
    blind_to_members(monkeypatch, times=4)  # the first attempt's four identity look-ups
    run = MemberImport(b"k" * 32, 2, COLUMNS, "DE")

    async with app.state.runtime.sessionmaker() as session:
        result = await run.import_chunk(session, CHUNK)
        await session.commit()

    assert (result.tally.created, result.tally.duplicates) == (1, 1)
    assert [(r.line, r.reason, r.duplicate_of) for r in result.rejects] == [
        (2, "duplicate_email", anna["id"])
    ]
    assert [m["external_id"] for m in await look_up(client, admin, email="ben@example.com")] == [
        "x-2"
    ]


async def test_a_chunk_that_collides_twice_is_a_conflict_and_writes_nothing(
    app, client, admin, monkeypatch
):
    await enrol(client, admin, email="anna@example.com")
    blind_to_members(monkeypatch, times=None)
    run = MemberImport(b"k" * 32, 2, COLUMNS, "DE")

    async with app.state.runtime.sessionmaker() as session:
        with pytest.raises(ImportConflict):
            await run.import_chunk(session, CHUNK)
        await session.commit()

    assert await look_up(client, admin, email="ben@example.com") == []
