"""Phone numbers, stored in E.164 (``+4930123456``) so that one number has one spelling."""

import phonenumbers

# How a number without a country code is read. The merchant's home market; an import can
# name another (``--default-region``).
DEFAULT_REGION = "DE"


def is_region(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS


def to_e164(value: str, region: str = DEFAULT_REGION) -> str:
    """``value`` (``030 1234567``, ``+49 (30) 123-4567``, ``0049 30 …``) in E.164.

    Raises ValueError for text that is not a valid number of a real numbering plan.
    """
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"not a phone number: {error}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number (give it with its country code, e.g. +49…)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
