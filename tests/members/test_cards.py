"""Card numbers end in a Luhn check digit, so a till rejects a mistyped number."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.members.cards import (
    CARD_LENGTH,
    CARD_PREFIX,
    generate_card_number,
    is_valid_card_number,
    luhn_check_digit,
)
from app.members.schemas import MemberCreate

digit_strings = st.text(alphabet="0123456789", min_size=7, max_size=18)


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("7992739871", "3"),  # the textbook example
        ("411111111111111", "1"),  # a well-known test card number
        ("000000000000000", "0"),
        ("271234567890123", "6"),
        ("2700000000000001", "1"),
    ],
)
def test_the_check_digit_is_luhn(body, check):
    assert luhn_check_digit(body) == check
    assert is_valid_card_number(body + check)


def test_generated_numbers_are_16_digits_with_our_prefix_and_valid():
    for _ in range(200):
        number = generate_card_number()

        assert len(number) == CARD_LENGTH == 16
        assert number.isdigit()
        assert number.startswith(CARD_PREFIX)
        assert is_valid_card_number(number)


def test_generated_numbers_are_random():
    assert len({generate_card_number() for _ in range(1000)}) == 1000


@given(digit_strings, st.data())
def test_every_single_digit_typo_is_detected(body, data):
    number = body + luhn_check_digit(body)
    position = data.draw(st.integers(min_value=0, max_value=len(number) - 1), label="position")
    wrong = data.draw(st.sampled_from("0123456789".replace(number[position], "")), label="typed")

    assert is_valid_card_number(number)
    assert not is_valid_card_number(number[:position] + wrong + number[position + 1 :])


def test_every_single_digit_typo_in_a_generated_number_is_detected():
    number = generate_card_number()
    for position in range(len(number)):
        for wrong in "0123456789".replace(number[position], ""):
            assert not is_valid_card_number(number[:position] + wrong + number[position + 1 :])


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1234566",  # too short, though 6 is the right check digit for 123456
        "12345675",  # 4 would be right
        "79927398713" + "00000000" + "9",  # 20 digits
        "2712 3456 7890 1236",
        "2712-3456-7890-1236",
        "271234567890123a",
        "-271234567890123",
    ],
)
def test_only_8_to_19_plain_digits_with_a_valid_check_digit_are_card_numbers(number):
    assert not is_valid_card_number(number)


def test_lengths_from_8_to_19_digits_are_accepted():
    assert luhn_check_digit("123456") == "6"
    assert not is_valid_card_number("1234566")  # 7 digits, though the check digit is right
    for length in range(8, 20):
        body = "7" * (length - 1)
        assert is_valid_card_number(body + luhn_check_digit(body))
    body = "7" * 19
    assert not is_valid_card_number(body + luhn_check_digit(body))


def in_script(number: str, zero: int) -> str:
    """``number`` written with the digits of another script, whose zero is ``zero``."""
    return number.translate({ord("0") + d: zero + d for d in range(10)})


@pytest.mark.parametrize(
    "number",
    [
        in_script("2712345678901236", 0x0660),  # Arabic-Indic digits
        in_script("2712345678901236", 0xFF10),  # full-width digits
        "27123456789\u00b21236",  # a superscript two is a "digit" to str.isdigit
    ],
)
def test_digits_of_other_scripts_are_not_card_numbers(number):
    assert not is_valid_card_number(number)


def test_the_documented_example_card_number_is_valid():
    schema = MemberCreate.model_json_schema()
    [example] = schema["properties"]["card_number"]["anyOf"][0]["examples"]

    assert is_valid_card_number(example)
    MemberCreate(card_number=example)
