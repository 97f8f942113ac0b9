"""OpenAPI links: which value of one operation's response a following operation takes.

A client reads them as "what can I do next with this": enrol a member, then sell to them;
take the purchase's id to a return; take a voucher's code to the checkout. Stateful
testing (Schemathesis) follows them to build sequences of calls. A link's ``requestBody``
names only the fields it supplies; the rest of the body is the caller's.
"""

from typing import Any

Link = tuple[str, dict[str, str], dict[str, str]]

MEMBER = {"member_id": "$response.body#/id"}
ON_MEMBER = {"member_id": "$response.body#/member_id"}
VOUCHER = {"code": "$response.body#/code"}
FIRST_CODE = {"code": "$response.body#/codes/0"}
SAME_VOUCHER = {"code": "$request.path.code"}
GIFT = {"code": "$response.body#/code"}

# source operation id -> its success status -> link name -> (target, parameters, body)
LINKS: dict[str, dict[str, dict[str, Link]]] = {
    "create_member": {
        "201": {
            "GetMember": ("get_member", MEMBER, {}),
            "UpdateMember": ("update_member", MEMBER, {}),
            "GetBalance": ("get_balance", MEMBER, {}),
            "ListTransactions": ("list_transactions", MEMBER, {}),
            "GetMemberTier": ("get_member_tier", MEMBER, {}),
            "CreatePurchase": ("create_purchase", {}, {"member_id": "$response.body#/id"}),
            "CreateAdjustment": ("create_adjustment", MEMBER, {}),
            "CreateRedemption": ("create_redemption", MEMBER, {}),
            "IssueVoucher": ("issue_voucher", MEMBER, {}),
            "CreateGift": ("create_gift", MEMBER, {}),
            "LinkReferrer": ("link_referrer", MEMBER, {}),
            "EraseMember": ("erase_member", MEMBER, {}),
        }
    },
    "create_purchase": {
        "201": {
            "CreateReturn": ("create_return", {"purchase_id": "$response.body#/id"}, {}),
            "ClaimReceipt": ("claim_receipt", {}, {"claim_code": "$response.body#/claim_code"}),
            "GetBalance": ("get_balance", ON_MEMBER, {}),
            "CreateRedemption": ("create_redemption", ON_MEMBER, {}),
            "IssueVoucher": ("issue_voucher", ON_MEMBER, {}),
            "CreateGift": ("create_gift", ON_MEMBER, {}),
        }
    },
    "create_adjustment": {
        "201": {
            "CreateRedemption": ("create_redemption", ON_MEMBER, {}),
            "IssueVoucher": ("issue_voucher", ON_MEMBER, {}),
            "CreateGift": ("create_gift", ON_MEMBER, {}),
        }
    },
    "create_redemption": {
        "201": {
            "CancelRedemption": ("cancel_redemption", {"redemption_id": "$response.body#/id"}, {}),
        }
    },
    "create_reward": {
        "201": {
            "GetReward": ("get_reward", {"reward_id": "$response.body#/id"}, {}),
            "UpdateReward": ("update_reward", {"reward_id": "$response.body#/id"}, {}),
            "IssueVoucher": ("issue_voucher", {}, {"reward_id": "$response.body#/id"}),
            "CreateVoucherBatch": ("create_voucher_batch", {}, {"reward_id": "$response.body#/id"}),
            "CreateGift": ("create_gift", {}, {"reward_id": "$response.body#/id"}),
        }
    },
    "issue_voucher": {
        "201": {
            "GetVoucher": ("get_voucher", VOUCHER, {}),
            "ValidateVoucher": ("validate_voucher", VOUCHER, {}),
            "ReserveVoucher": ("reserve_voucher", VOUCHER, {}),
            "RedeemVoucher": ("redeem_voucher", VOUCHER, {}),
        }
    },
    "create_voucher_batch": {
        "201": {
            "GetVoucher": ("get_voucher", FIRST_CODE, {}),
            "ValidateVoucher": ("validate_voucher", FIRST_CODE, {}),
            "ReserveVoucher": ("reserve_voucher", FIRST_CODE, {}),
            "RedeemVoucher": ("redeem_voucher", FIRST_CODE, {}),
        }
    },
    "reserve_voucher": {
        "201": {
            "RedeemVoucher": (
                "redeem_voucher",
                SAME_VOUCHER,
                {
                    "reservation_id": "$response.body#/reservation_id",
                    "order_id": "$response.body#/order_id",
                },
            ),
            "ReleaseVoucher": (
                "release_voucher",
                SAME_VOUCHER,
                {"reservation_id": "$response.body#/reservation_id"},
            ),
        }
    },
    "redeem_voucher": {
        "201": {
            "RollbackVoucher": (
                "rollback_voucher",
                SAME_VOUCHER,
                {"redemption_id": "$response.body#/redemption_id"},
            ),
            "ListVoucherHistory": ("list_voucher_history", SAME_VOUCHER, {}),
        }
    },
    "create_gift": {
        "201": {
            "GetGift": ("get_gift", GIFT, {}),
            "ClaimGift": ("claim_gift", GIFT, {}),
            "CancelGift": ("cancel_gift", GIFT, {"member_id": "$request.path.member_id"}),
        }
    },
    "claim_gift": {
        "201": {
            "GetBalance": ("get_balance", ON_MEMBER, {}),
        }
    },
    "create_tier": {
        "201": {
            "GetTier": ("get_tier", {"tier_id": "$response.body#/id"}, {}),
            "UpdateTier": ("update_tier", {"tier_id": "$response.body#/id"}, {}),
            "DeleteTier": ("delete_tier", {"tier_id": "$response.body#/id"}, {}),
        }
    },
    "create_campaign": {
        "201": {
            "GetCampaign": ("get_campaign", {"campaign_id": "$response.body#/id"}, {}),
            "UpdateCampaign": ("update_campaign", {"campaign_id": "$response.body#/id"}, {}),
            "DeleteCampaign": ("delete_campaign", {"campaign_id": "$response.body#/id"}, {}),
        }
    },
    "create_webhook_endpoint": {
        "201": {
            name: (target, {"endpoint_id": "$response.body#/id"}, {})
            for name, target in (
                ("GetWebhookEndpoint", "get_webhook_endpoint"),
                ("UpdateWebhookEndpoint", "update_webhook_endpoint"),
                ("RotateWebhookSecret", "rotate_webhook_secret"),
                ("ListWebhookDeliveries", "list_webhook_deliveries"),
                ("DeleteWebhookEndpoint", "delete_webhook_endpoint"),
            )
        }
    },
}


def add_links(document: dict[str, Any]) -> None:
    """Add ``links`` to the success responses of the operations in ``LINKS``."""
    operations = {
        operation["operationId"]: operation
        for path_item in document.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for source, by_status in LINKS.items():
        for status, links in by_status.items():
            response = operations[source]["responses"][status]
            response["links"] = {
                name: _link(target, parameters, body)
                for name, (target, parameters, body) in sorted(links.items())
            }


def _link(target: str, parameters: dict[str, str], body: dict[str, str]) -> dict[str, Any]:
    link: dict[str, Any] = {"operationId": target}
    if parameters:
        link["parameters"] = parameters
    if body:
        link["requestBody"] = body
    return link
