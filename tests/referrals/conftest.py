import pytest

from tests.factories import enrol, set_program
from tests.referrals.helpers import RULES


@pytest.fixture
async def anna(client, admin, pos):
    """The referrer, in a programme with referral bonuses."""
    await set_program(client, admin, **RULES)
    return await enrol(client, pos, name="Anna")
