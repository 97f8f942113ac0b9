"""A till and a webshop, end to end, through the client generated from the OpenAPI document.

Imported only once the generated ``stammkunde_client`` package is on ``sys.path``. Every call
goes through the generated functions and models; the result is the summary that
``support.EXPECTED_SUMMARY`` describes, the same one the TypeScript flow prints.
"""

import uuid
from typing import Any, TypeVar

from stammkunde_client import AuthenticatedClient
from stammkunde_client.api.api_keys import create_api_key
from stammkunde_client.api.earning import create_purchase, create_return
from stammkunde_client.api.gifts import claim_gift, create_gift, get_gift
from stammkunde_client.api.ledger import get_balance
from stammkunde_client.api.members import create_member, list_members
from stammkunde_client.api.program import update_program
from stammkunde_client.api.rewards import create_reward
from stammkunde_client.api.voucher_checkout import (
    redeem_voucher,
    reserve_voucher,
    validate_voucher,
)
from stammkunde_client.api.vouchers import issue_voucher
from stammkunde_client.models import (
    ApiKeyCreate,
    ApiKeyCreated,
    Balance,
    Channel,
    GiftClaim,
    GiftClaimed,
    GiftCreate,
    GiftCreated,
    GiftRead,
    GiftStatus,
    LineItem,
    MemberCreate,
    MemberRead,
    PageMemberRead,
    Problem,
    ProgramSettings,
    ProgramUpdate,
    PurchaseCreate,
    PurchaseRead,
    PurchaseReturnCreate,
    PurchaseReturnRead,
    ReturnedItem,
    RewardCreate,
    RewardRead,
    Scope,
    VoucherIssue,
    VoucherIssued,
    VoucherKind,
    VoucherRedeem,
    VoucherRedemptionRead,
    VoucherReservationCreate,
    VoucherReservationRead,
    VoucherValidate,
    VoucherValidation,
)
from stammkunde_client.types import Response

T = TypeVar("T")


def expect(response: Response[Any], status: int, kind: type[T]) -> T:
    """The response has this status and parsed into this model."""
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, kind), response.parsed
    return response.parsed


def key() -> str:
    return uuid.uuid4().hex


def new_key(admin: AuthenticatedClient, name: str, scope: Scope) -> str:
    body = ApiKeyCreate(name=name, scopes=[scope])
    created = expect(
        create_api_key.sync_detailed(client=admin, body=body, idempotency_key=key()),
        201,
        ApiKeyCreated,
    )
    assert isinstance(created.key, str)
    return created.key


def available(client: AuthenticatedClient, member_id: uuid.UUID) -> int:
    balance = expect(get_balance.sync_detailed(member_id, client=client), 200, Balance)
    return balance.available


def run_flow(base_url: str, admin_key: str) -> dict[str, Any]:
    admin = AuthenticatedClient(base_url=base_url, token=admin_key)

    # Back office: the programme, a reward, and a key for the till and one for the shop.
    program = expect(
        update_program.sync_detailed(
            client=admin,
            body=ProgramUpdate(
                currency="EUR", points_per_currency_unit="1", pending_days=0, signup_bonus=10
            ),
        ),
        200,
        ProgramSettings,
    )
    assert (program.currency, program.signup_bonus) == ("EUR", 10)
    reward = expect(
        create_reward.sync_detailed(
            client=admin,
            body=RewardCreate(
                name="5 EUR off",
                kind=VoucherKind.AMOUNT,
                value=500,
                valid_days=30,
                cost_points=100,
            ),
        ),
        201,
        RewardRead,
    )
    till = AuthenticatedClient(base_url=base_url, token=new_key(admin, "till 1", Scope.POS))
    shop = AuthenticatedClient(base_url=base_url, token=new_key(admin, "webshop", Scope.SHOP))

    # At the till: Anna joins and pays by card.
    anna = expect(
        create_member.sync_detailed(
            client=till,
            body=MemberCreate(email="anna@example.com", name="Anna Schmidt"),
            idempotency_key=key(),
        ),
        201,
        MemberRead,
    )
    sale = expect(
        create_purchase.sync_detailed(
            client=till,
            body=PurchaseCreate(
                card_number=anna.card_number,
                order_id="POS-1-0001",
                channel=Channel.POS,
                store_id="berlin-mitte",
                currency="EUR",
                total=12000,
                items=[
                    LineItem(sku="COFFEE-1KG", category="coffee", quantity=2, unit_price=4500),
                    LineItem(sku="MUG", category="merch", quantity=1, unit_price=3000),
                ],
            ),
            idempotency_key=key(),
        ),
        201,
        PurchaseRead,
    )
    after_sale = available(till, anna.id)

    # In the webshop: Anna finds herself by e-mail and buys the reward with points.
    page = expect(
        list_members.sync_detailed(client=shop, email="anna@example.com"), 200, PageMemberRead
    )
    assert [member.id for member in page.items] == [anna.id]
    voucher = expect(
        issue_voucher.sync_detailed(
            anna.id, client=shop, body=VoucherIssue(reward_id=reward.id), idempotency_key=key()
        ),
        201,
        VoucherIssued,
    )
    assert isinstance(voucher.code, str)
    checkout = expect(
        validate_voucher.sync_detailed(
            voucher.code, client=shop, body=VoucherValidate(total=4000, currency="EUR")
        ),
        200,
        VoucherValidation,
    )
    reservation = expect(
        reserve_voucher.sync_detailed(
            voucher.code,
            client=shop,
            body=VoucherReservationCreate(order_id="WEB-0001", ttl_seconds=600),
            idempotency_key=key(),
        ),
        201,
        VoucherReservationRead,
    )
    redeem_body = VoucherRedeem(
        order_id="WEB-0001",
        total=4000,
        currency="EUR",
        channel=Channel.WEB,
        reservation_id=reservation.reservation_id,
    )
    redemption = expect(
        redeem_voucher.sync_detailed(
            voucher.code, client=shop, body=redeem_body, idempotency_key=key()
        ),
        201,
        VoucherRedemptionRead,
    )
    # A second redemption (a new request, not a replay) is a problem with a stable code.
    again = expect(
        redeem_voucher.sync_detailed(
            voucher.code, client=shop, body=redeem_body, idempotency_key=key()
        ),
        409,
        Problem,
    )
    web_order = expect(
        create_purchase.sync_detailed(
            client=shop,
            body=PurchaseCreate(
                member_id=anna.id,
                order_id="WEB-0001",
                channel=Channel.WEB,
                currency="EUR",
                total=4000 - redemption.discount,
            ),
            idempotency_key=key(),
        ),
        201,
        PurchaseRead,
    )

    # Back at the till: the mug comes back.
    returned = expect(
        create_return.sync_detailed(
            sale.id,
            client=till,
            body=PurchaseReturnCreate(items=[ReturnedItem(sku="MUG", quantity=1)]),
            idempotency_key=key(),
        ),
        201,
        PurchaseReturnRead,
    )

    # Anna gives Ben 20 points; Ben claims them in the shop and is enrolled on the spot.
    gift = expect(
        create_gift.sync_detailed(
            anna.id,
            client=shop,
            body=GiftCreate(points=20, message="For your first coffee"),
            idempotency_key=key(),
        ),
        201,
        GiftCreated,
    )
    assert isinstance(gift.code, str)
    shown = expect(get_gift.sync_detailed(gift.code, client=shop), 200, GiftRead)
    assert shown.status == GiftStatus.OPEN
    claimed = expect(
        claim_gift.sync_detailed(
            gift.code,
            client=shop,
            body=GiftClaim(member=MemberCreate(email="ben@example.com", name="Ben Weber")),
            idempotency_key=key(),
        ),
        201,
        GiftClaimed,
    )

    return {
        "earned_at_till": sale.points_earned,
        "available_after_sale": after_sale,
        "voucher_points_spent": voucher.points_spent,
        "voucher_valid": checkout.valid,
        "voucher_discount": redemption.discount,
        "second_redemption": [again.status, again.code],
        "earned_online": web_order.points_earned,
        "points_reversed": returned.points_reversed,
        "gift_points": gift.points,
        "gift_status_before_claim": str(shown.status),
        "recipient_enrolled": claimed.member_created,
        "recipient_available": available(till, claimed.member_id),
        "sender_available": available(till, anna.id),
    }
