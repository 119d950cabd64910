"""INS/NIR and RPPS validation (DESIGN §2)."""

from __future__ import annotations

import pytest

from backend.domain.identifiers import (
    InvalidIdentifier,
    ins_key,
    is_valid_ins,
    normalize_ins,
    normalize_rpps,
    rpps_check_digit,
)


@pytest.mark.parametrize(
    "ins",
    [
        "185057512345673",  # mainland, key computed by hand: 97 - (1850575123456 mod 97)
        "1 85 05 75 123 456 73",  # spaces are tolerated
        "269054958815780",  # a commonly published example NIR
        "185052A12345633",  # Corsica 2A (counts as 19)
        "185052B12345660",  # Corsica 2B (counts as 18)
    ],
)
def test_valid_ins(ins: str) -> None:
    assert is_valid_ins(ins)
    assert len(normalize_ins(ins)) == 15


@pytest.mark.parametrize(
    "ins",
    [
        "",
        "18505751234567",  # 14 characters
        "1850575123456730",  # 16 characters
        "185057512345674",  # wrong key
        "385057512345673",  # sex digit 3 and wrong key
        "18505751234567A",  # letter in the key
        "185052C12345633",  # 2C is not a Corsican department
        "18505A212345633",  # letters in the wrong place
        # Digits of other scripts, which Python's \d and int() accept, with a valid key.
        "1８５０５７５１２３４５６73",  # full-width
        "1٨٥٠٥٧٥١٢٣٤٥٦73",  # Arabic-Indic
    ],
)
def test_invalid_ins(ins: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_ins(ins)


def test_corsican_keys_differ_from_mainland() -> None:
    assert ins_key("185052A123456") == "33"
    assert ins_key("185052B123456") == "60"
    assert ins_key("1850519123456") == ins_key("185052A123456")


@pytest.mark.parametrize("rpps", ["10000000017", "10003554287", "10101010101"])
def test_valid_rpps(rpps: str) -> None:
    if rpps != "10000000017":
        rpps = rpps[:10] + rpps_check_digit(rpps[:10])
    assert normalize_rpps(rpps) == rpps


@pytest.mark.parametrize("rpps", [
    "", "1000000001", "100000000171", "10000000018", "1000000001A",
    "１０００００００017",  # full-width digits, with a valid Luhn digit
])
def test_invalid_rpps(rpps: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_rpps(rpps)
