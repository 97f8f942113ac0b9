"""Endpoint secrets and the ``Stammkunde-Signature`` header.

An endpoint's secret is ``whsec_`` + base64url(HMAC-SHA256(server secret, salt)) with a
random per-endpoint salt: the database holds only the salt, so a copy of it signs nothing,
and a new salt rotates the secret. (Changing the server secret changes every endpoint's
secret too; rotate them and hand out the new ones.)

A delivery is signed as ``Stammkunde-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>``
is HMAC-SHA256 under the whole secret string (UTF-8) of ``"<t>.<raw body>"``. Receivers
recompute it over the raw body and refuse a timestamp more than 300 seconds away from their
clock, which makes a captured request useless for a replay later.
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_HEADER = "Stammkunde-Signature"
EVENT_ID_HEADER = "Stammkunde-Event-Id"
EVENT_TYPE_HEADER = "Stammkunde-Event-Type"
DELIVERY_ID_HEADER = "Stammkunde-Delivery-Id"
TOLERANCE_SECONDS = 300

_DERIVATION_CONTEXT = b"stammkunde webhook endpoint secret\x00"


def new_salt() -> str:
    return secrets.token_hex(16)


def endpoint_secret(server_secret: bytes, salt: str) -> str:
    digest = hmac.new(server_secret, _DERIVATION_CONTEXT + salt.encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` value: hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"
