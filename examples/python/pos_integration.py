"""A till talks to Stammkunde through the generated Python client (see ../README.md).

    STAMMKUNDE_BASE_URL=http://127.0.0.1:8000 STAMMKUNDE_API_KEY=stk_... python pos_integration.py

Runs one customer's visit with a key of scope ``pos``: a new card, a sale, a voucher at the
till if the customer has one, a return. Every write carries an ``Idempotency-Key`` made from
the till's own receipt number, so a till that retries after a timeout (or after a restart)
books nothing twice: the service answers a replay with the first response.
"""

import os
import uuid
from typing import Any, TypeVar

import httpx
from stammkunde_client import AuthenticatedClient
from stammkunde_client.api.earning import create_purchase, create_return
from stammkunde_client.api.ledger import get_balance
from stammkunde_client.api.members import create_member, list_members
from stammkunde_client.api.voucher_checkout import redeem_voucher
from stammkunde_client.models import (
    Balance,
    Channel,
    LineItem,
    MemberCreate,
    MemberRead,
    PageMemberRead,
    Problem,
    PurchaseCreate,
    PurchaseRead,
    PurchaseReturnCreate,
    PurchaseReturnRead,
    ReturnedItem,
    VoucherRedeem,
    VoucherRedemptionRead,
)

T = TypeVar("T")
STORE = "berlin-mitte"
CURRENCY = "EUR"


class StammkundeError(Exception):
    """The service refused: ``code`` is stable (``insufficient_points``, ``voucher_expired``...)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.code}: {problem.detail}")
        self.code = problem.code
        self.status = problem.status


def answer(result: Any, model: type[T]) -> T:
    """The parsed answer, or the refusal raised with its code."""
    if isinstance(result, Problem):
        raise StammkundeError(result)
    if not isinstance(result, model):
        raise RuntimeError(f"unexpected answer: {result!r}")
    return result


class Till:
    def __init__(self, base_url: str, api_key: str, till_id: str) -> None:
        self.client = AuthenticatedClient(
            base_url=base_url, token=api_key, timeout=httpx.Timeout(10.0)
        )
        self.till_id = till_id

    def key(self, receipt: str, step: str) -> str:
        # Stable per receipt and step: a retry of the same step is a replay, not a second write.
        return f"{self.till_id}:{receipt}:{step}"

    def find_card(self, card_number: str) -> MemberRead | None:
        page = answer(
            list_members.sync(client=self.client, card_number=card_number), PageMemberRead
        )
        return page.items[0] if page.items else None

    def new_card(self, receipt: str, email: str | None = None) -> MemberRead:
        """Enrol the customer at the till; the service prints a card number."""
        body = MemberCreate(email=email)
        created = create_member.sync(
            client=self.client, body=body, idempotency_key=self.key(receipt, "enrol")
        )
        return answer(created, MemberRead)

    def redeem(self, receipt: str, code: str, total: int) -> int:
        """Take a voucher on this receipt; the discount in minor units."""
        body = VoucherRedeem(order_id=receipt, total=total, currency=CURRENCY, channel=Channel.POS)
        redeemed = redeem_voucher.sync(
            code, client=self.client, body=body, idempotency_key=self.key(receipt, "voucher")
        )
        return answer(redeemed, VoucherRedemptionRead).discount

    def sell(self, receipt: str, card_number: str, lines: list[LineItem]) -> PurchaseRead:
        total = sum(line.unit_price * line.quantity for line in lines)
        body = PurchaseCreate(
            card_number=card_number,
            order_id=receipt,
            channel=Channel.POS,
            store_id=STORE,
            currency=CURRENCY,
            total=total,
            items=lines,
        )
        sold = create_purchase.sync(
            client=self.client, body=body, idempotency_key=self.key(receipt, "sale")
        )
        return answer(sold, PurchaseRead)

    def take_back(self, receipt: str, sale: PurchaseRead, sku: str) -> PurchaseReturnRead:
        body = PurchaseReturnCreate(items=[ReturnedItem(sku=sku, quantity=1)])
        returned = create_return.sync(
            sale.id, client=self.client, body=body, idempotency_key=self.key(receipt, "return")
        )
        return answer(returned, PurchaseReturnRead)

    def points(self, member: MemberRead) -> int:
        return answer(get_balance.sync(member.id, client=self.client), Balance).available


def visit(till: Till, voucher_code: str | None = None) -> None:
    receipt = f"R-{uuid.uuid4().hex[:8]}"
    member = till.new_card(receipt)
    print(f"new card {member.card_number}")
    # Next time the customer shows the card, the till finds them by its number.
    found = till.find_card(member.card_number)
    print(f"card {member.card_number} belongs to member {found.id if found else None}")

    lines = [
        LineItem(sku="COFFEE-1KG", category="coffee", quantity=2, unit_price=1800),
        LineItem(sku="MUG", category="merch", quantity=1, unit_price=990),
    ]
    if voucher_code:
        total = sum(line.unit_price * line.quantity for line in lines)
        try:
            print(f"voucher takes {till.redeem(receipt, voucher_code, total)} off")
        except StammkundeError as refused:
            print(f"voucher refused: {refused.code}")  # the cashier says why and goes on
    sale = till.sell(receipt, member.card_number, lines)
    print(f"sale {receipt}: {sale.points_earned} points, balance {till.points(member)}")

    returned = till.take_back(f"{receipt}-RET", sale, "MUG")
    print(f"mug returned: {returned.points_reversed} points back, balance {till.points(member)}")


if __name__ == "__main__":
    visit(
        Till(os.environ["STAMMKUNDE_BASE_URL"], os.environ["STAMMKUNDE_API_KEY"], "till-1"),
        voucher_code=os.environ.get("STAMMKUNDE_VOUCHER_CODE"),
    )
