"""Minor units per currency (ISO 4217): most have 2 decimals; these differ."""

from decimal import Decimal

_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def to_major_units(amount_minor: int, currency: str) -> Decimal:
    """Exact: 1999 EUR minor units are Decimal('19.99')."""
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))
