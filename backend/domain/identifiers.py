"""INS/NIR and RPPS checks (DESIGN §2)."""

from __future__ import annotations

import re

from backend.domain.reasons import Reason, Refused

_INS = re.compile(r"[12378]\d{4}(?:\d{2}|2A|2B)\d{6}\d{2}", re.ASCII)
INS_LENGTH = 15  # 13 characters and a 2-digit key
RPPS_DIGITS = 11
_RPPS = re.compile(rf"\d{{{RPPS_DIGITS}}}", re.ASCII)
# What people type or paste inside a number: spaces (a tab, a non-breaking one), dots, dashes.
_SEPARATORS = re.compile(r"[\s.-]")


class InvalidIdentifier(Refused):
    """An INS or RPPS number that fails its format or checksum."""


def without_separators(raw: str) -> str:
    """An INS or RPPS number as typed or pasted, without its spaces, dots and dashes."""
    return _SEPARATORS.sub("", raw or "")


def normalize_ins(raw: str) -> str:
    """Return the INS without spaces, upper-cased, or raise InvalidIdentifier."""
    ins = without_separators(raw).upper()
    if len(ins) != INS_LENGTH or not _INS.fullmatch(ins):
        raise InvalidIdentifier(
            "INS must be 15 characters: 13 digits (2A/2B for Corsica) + key", Reason.INVALID_INS
        )
    if ins[13:] != ins_key(ins[:13]):
        raise InvalidIdentifier("INS key does not match its number", Reason.INVALID_INS)
    return ins


def is_valid_ins(raw: str) -> bool:
    try:
        normalize_ins(raw)
    except InvalidIdentifier:
        return False
    return True


def ins_key(body13: str) -> str:
    """The two-digit key of a 13-character INS body (used to build demo numbers)."""
    number = body13.upper()
    if number[5:7] == "2A":
        number = number[:5] + "19" + number[7:]
    elif number[5:7] == "2B":
        number = number[:5] + "18" + number[7:]
    return f"{97 - int(number) % 97:02d}"


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalize_rpps(raw: str) -> str:
    """Return the 11-digit RPPS number, or raise InvalidIdentifier."""
    rpps = re.sub(r"\s", "", raw or "")
    if not _RPPS.fullmatch(rpps):
        raise InvalidIdentifier("RPPS must be 11 digits", Reason.INVALID_RPPS)
    if not luhn_ok(rpps):
        raise InvalidIdentifier("RPPS check digit is wrong", Reason.INVALID_RPPS)
    return rpps


def rpps_check_digit(body10: str) -> str:
    """The Luhn digit that completes a 10-digit RPPS body."""
    for digit in "0123456789":
        if luhn_ok(body10 + digit):
            return digit
    raise AssertionError("unreachable: some digit always completes a Luhn number")
