"""Card numbers: digits with a Luhn check digit, so a till can reject a mistyped number."""

import secrets

CARD_PREFIX = "27"  # distinguishes our cards from payment cards in a scanner's eyes
CARD_LENGTH = 16


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    # ASCII only: str.isdigit() also accepts other scripts' digits and superscripts.
    return (
        number.isascii()
        and number.isdigit()
        and 8 <= len(number) <= 19
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def generate_card_number() -> str:
    random_length = CARD_LENGTH - len(CARD_PREFIX) - 1
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(random_length))
    return body + luhn_check_digit(body)
