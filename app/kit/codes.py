"""Bearer codes people read aloud at a till: vouchers, gifts, receipt claims.

12 symbols from Crockford's base32 alphabet (60 random bits from a CSPRNG), one Luhn mod 32
check symbol, printed in groups of four: ``7KQ2-M9XD-4TNB-R``. Input is forgiving (case,
spaces, dashes, and O/I/L read as 0/1/1); a wrong check symbol tells a typo from an unknown
code. Codes are stored only as an HMAC under the server secret, plus their last four
symbols for listings.
"""

import hashlib
import hmac
import secrets

from app.kit.errors import StammkundeError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
RANDOM_SYMBOLS = 12
GROUP = 4


class CodeInvalid(StammkundeError):
    status = 422
    code = "code_invalid"
    title = "Code mistyped"


def check_symbol(symbols: str) -> str:
    """Luhn mod 32: catches every single mistyped symbol and most swapped neighbours."""
    total = 0
    factor = 2
    for symbol in reversed(symbols):
        addend = factor * _VALUE[symbol]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_canonical(prefix: str = "") -> str:
    """A new code in canonical form (no dashes): 60 bits from the CSPRNG, drawn at once
    (bulk campaigns draw 100 000 of them), and the check symbol."""
    bits = secrets.randbits(RANDOM_SYMBOLS * 5)
    body = prefix + "".join(
        ALPHABET[(bits >> shift) & 31] for shift in range(0, RANDOM_SYMBOLS * 5, 5)
    )
    return body + check_symbol(body)


def generate_code(prefix: str = "") -> str:
    """A new code, grouped for reading; ``prefix`` (e.g. ``G``) marks the kind of code."""
    return format_code(new_canonical(prefix))


def format_code(canonical: str) -> str:
    return "-".join(canonical[i : i + GROUP] for i in range(0, len(canonical), GROUP))


def canonical_symbols(raw: str) -> str:
    """What someone typed, as our symbols: no spaces or dashes, upper case, O/I/L as 0/1/1."""
    return "".join(raw.split()).replace("-", "").upper().translate(_READ_AS)


def normalize_code(raw: str, prefix: str = "", error: type[StammkundeError] = CodeInvalid) -> str:
    """The canonical form of a typed code, or ``error`` when it cannot be one of ours."""
    canonical = canonical_symbols(raw)
    expected_length = len(prefix) + RANDOM_SYMBOLS + 1
    if (
        len(canonical) != expected_length
        or not canonical.startswith(prefix)
        or any(symbol not in _VALUE for symbol in canonical)
        or check_symbol(canonical[:-1]) != canonical[-1]
    ):
        raise error("This code is mistyped: check it and enter it again.")
    return canonical


def hash_code(server_secret: bytes, canonical: str) -> str:
    return hmac.new(server_secret, b"code:" + canonical.encode(), hashlib.sha256).hexdigest()


def last_four(canonical: str) -> str:
    return canonical[-4:]
