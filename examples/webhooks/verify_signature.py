"""Check the ``Stammkunde-Signature`` header of a webhook delivery (Python 3.11+, stdlib only).

The header reads ``t=<unix seconds>,v1=<hex>``; ``<hex>`` is HMAC-SHA256, keyed with the
endpoint's whole secret (``whsec_...``, as UTF-8), of ``"<t>."`` followed by the raw request
body. Verify the bytes as they arrived, before parsing the JSON, and refuse a timestamp more
than five minutes from your clock so that a captured request cannot be replayed later.
"""

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


def verify_signature(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """True if ``header`` signs the raw ``body`` under ``secret`` within the tolerance."""
    fields = [part.strip().partition("=") for part in header.split(",")]
    timestamps = [value for name, _, value in fields if name == "t"]
    signatures = [value for name, _, value in fields if name == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    # More than one v1 may come while a secret is being rotated: any one that matches will do.
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
