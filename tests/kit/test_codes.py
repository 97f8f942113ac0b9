"""Bearer codes read aloud at a till: random, grouped, forgiving to type, typos detected."""

import math
import re
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.earning.errors import ClaimCodeInvalid
from app.kit import codes
from app.kit.codes import (
    ALPHABET,
    RANDOM_SYMBOLS,
    CodeInvalid,
    check_symbol,
    format_code,
    generate_code,
    hash_code,
    last_four,
    normalize_code,
)

SECRET = b"test-secret-key-that-is-long-enough-0123456789"
OTHER_SECRET = b"another-server-secret-that-is-long-enough-9876543210"
SYMBOL = f"[{ALPHABET}]"
PLAIN_CODE = re.compile(rf"^{SYMBOL}{{4}}-{SYMBOL}{{4}}-{SYMBOL}{{4}}-{SYMBOL}$")

bodies = st.text(alphabet=ALPHABET, min_size=RANDOM_SYMBOLS, max_size=RANDOM_SYMBOLS)
prefixes = st.sampled_from(["", "R", "G"])


def canonical(body: str) -> str:
    return body + check_symbol(body)


# --- shape and randomness ------------------------------------------------------------------


def test_the_alphabet_is_crockford_base32_without_look_alikes():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set(ALPHABET) & set("ILOU")
    assert set(ALPHABET) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_a_code_carries_at_least_60_random_bits():
    assert RANDOM_SYMBOLS * math.log2(len(ALPHABET)) >= 60


def test_a_code_is_12_symbols_and_a_check_symbol_in_groups_of_four():
    code = generate_code()

    assert PLAIN_CODE.match(code), code
    symbols = code.replace("-", "")
    assert len(symbols) == RANDOM_SYMBOLS + 1
    assert symbols[-1] == check_symbol(symbols[:-1])
    assert normalize_code(code) == symbols


@pytest.mark.parametrize("prefix", ["R", "G"])
def test_a_prefix_comes_first_and_shifts_the_groups(prefix):
    code = generate_code(prefix)

    # "R" + 12 random + check = 14 symbols: RXXX-XXXX-XXXX-XC.
    assert re.match(rf"^{prefix}{SYMBOL}{{3}}-{SYMBOL}{{4}}-{SYMBOL}{{4}}-{SYMBOL}{{2}}$", code)
    symbols = code.replace("-", "")
    assert symbols[-1] == check_symbol(symbols[:-1])  # the check covers the prefix too
    assert normalize_code(code, prefix) == symbols
    with pytest.raises(CodeInvalid):
        normalize_code(code)  # not a plain code
    other = "G" if prefix == "R" else "R"
    with pytest.raises(CodeInvalid):
        normalize_code(code, other)


def test_every_symbol_turns_up_in_every_random_position():
    seen: dict[int, set[str]] = defaultdict(set)
    for _ in range(2000):
        symbols = generate_code().replace("-", "")
        for position, symbol in enumerate(symbols[:RANDOM_SYMBOLS]):
            seen[position].add(symbol)

    # 2000 draws per position miss one of 32 symbols with a probability of about 1e-26.
    assert all(seen[position] == set(ALPHABET) for position in range(RANDOM_SYMBOLS))


def test_codes_do_not_repeat():
    generated = {generate_code() for _ in range(5000)}

    assert len(generated) == 5000


def test_the_random_symbols_come_from_the_secrets_module(monkeypatch):
    class Fixed:
        @staticmethod
        def randbits(bits: int) -> int:
            assert bits == 60
            return sum(ALPHABET.index("7") << shift for shift in range(0, 60, 5))

    monkeypatch.setattr(codes, "secrets", Fixed)

    assert generate_code() == format_code(canonical("7" * 12))


# --- forgiving input -----------------------------------------------------------------------


def test_typed_codes_may_use_lower_case_spaces_and_dashes():
    code = canonical("7KQ2M9XD4TNB")

    for typed in [
        format_code(code),
        format_code(code).lower(),
        code.lower(),
        " ".join(code),
        f"  {code[:4]} {code[4:8]}  {code[8:]}\t",
        f"{code[:2]}-{code[2:7]}--{code[7:]}",
    ]:
        assert normalize_code(typed) == code, typed


def test_look_alike_letters_read_as_digits():
    code = canonical("0101Z1010AB1")
    assert "0" in code
    assert "1" in code

    typed = code.replace("0", "O").replace("1", "I", 2).replace("1", "l")

    assert normalize_code(typed) == code
    assert normalize_code(typed.lower()) == code
    assert normalize_code(format_code(code).replace("0", "o")) == code


@given(prefixes, bodies)
def test_a_generated_or_formatted_code_normalises_to_itself(prefix, body):
    code = canonical(prefix + body)

    assert normalize_code(format_code(code), prefix) == code
    assert normalize_code(format_code(code).lower(), prefix) == code


# --- typos are detected --------------------------------------------------------------------


@given(prefixes, bodies, st.data())
def test_every_single_mistyped_symbol_is_detected(prefix, body, data):
    code = canonical(prefix + body)
    position = data.draw(st.integers(min_value=0, max_value=len(code) - 1), label="position")
    wrong = data.draw(st.sampled_from(ALPHABET.replace(code[position], "")), label="typed")
    typo = code[:position] + wrong + code[position + 1 :]

    with pytest.raises(CodeInvalid, match="mistyped"):
        normalize_code(format_code(typo), prefix)


def test_the_check_symbol_tells_every_substitution_apart_exhaustively_for_one_code():
    code = canonical("R" + "7KQ2M9XD4TNB")
    for position in range(len(code)):
        for wrong in ALPHABET.replace(code[position], ""):
            typo = code[:position] + wrong + code[position + 1 :]
            with pytest.raises(CodeInvalid):
                normalize_code(typo, "R")


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "7KQ2-M9XD-4TNB",  # the check symbol missing
        "7KQ2-M9XD-4TNB-RR",  # one symbol too many
        "7KQ2-M9XD-4TNU-R",  # U is not in the alphabet
        "7KQ2-M9XD-4TN*-R",
        "7KQ2-M9XD-4TNB-Ä",
    ],
)
def test_codes_of_the_wrong_length_or_with_foreign_symbols_are_refused(typed):
    with pytest.raises(CodeInvalid):
        normalize_code(typed)


@given(prefixes, bodies, st.data())
def test_a_swapped_or_dropped_symbol_never_reads_as_a_valid_code_of_another_length(
    prefix, body, data
):
    code = canonical(prefix + body)
    position = data.draw(st.integers(min_value=0, max_value=len(code) - 1))

    with pytest.raises(CodeInvalid):
        normalize_code(code[:position] + code[position + 1 :], prefix)


def test_the_caller_chooses_the_error_raised():
    with pytest.raises(ClaimCodeInvalid):
        normalize_code("R000-0000-0000-00", "R", ClaimCodeInvalid)
    code = generate_code("R")
    assert normalize_code(code, "R", ClaimCodeInvalid) == code.replace("-", "")


def test_the_error_is_a_422_problem_with_a_stable_code():
    with pytest.raises(CodeInvalid) as caught:
        normalize_code("nonsense")

    assert caught.value.status == 422
    assert caught.value.code == "code_invalid"


# --- storage -------------------------------------------------------------------------------


def test_codes_are_stored_as_an_hmac_under_the_server_secret():
    code = normalize_code(generate_code())

    stored = hash_code(SECRET, code)

    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert code not in stored
    assert hash_code(SECRET, code) == stored  # the same code finds the same row
    assert hash_code(OTHER_SECRET, code) != stored  # another deployment's secret, another hash
    assert hash_code(SECRET, normalize_code(generate_code())) != stored


@given(bodies, bodies)
def test_different_codes_hash_differently(first, second):
    if first != second:
        assert hash_code(SECRET, canonical(first)) != hash_code(SECRET, canonical(second))


def test_listings_show_only_the_last_four_symbols():
    assert last_four("7KQ2M9XD4TNBR") == "TNBR"
