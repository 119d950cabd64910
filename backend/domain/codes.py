"""Shape checks for the coding systems of entries (CIP13, ATC, CCAM, LOINC, LPP, ICD-10).

These check the form and check digits only, not membership in the official tables.
"""

from __future__ import annotations

import re

from backend.domain.enums import Section
from backend.domain.identifiers import luhn_ok
from backend.domain.reasons import Reason, Refused
from backend.domain.text import one_line

_CIP13 = re.compile(r"3400\d{9}", re.ASCII)
# Level-5 ATC code: anatomical group, therapeutic, pharmacological, chemical, substance.
_ATC = re.compile(r"[ABCDGHJLMNPRSV]\d{2}[A-Z]{2}\d{2}", re.ASCII)
_CCAM = re.compile(r"[A-Z]{4}\d{3}", re.ASCII)
# A LOINC number is written without leading zeros: "02345-7" would be a second form of 2345-7.
_LOINC = re.compile(r"([1-9]\d{0,6})-(\d)", re.ASCII)
_LPP = re.compile(r"\d{7}", re.ASCII)
_ICD10 = re.compile(r"[A-Z]\d{2}(?:\.?[0-9A-Z]{1,4})?", re.ASCII)


class InvalidCode(Refused):
    """A code that does not have the shape of its coding system."""


def _ean13_digit(body12: str) -> int:
    """EAN-13's check digit: the odd positions weigh 1, the even ones 3. Summed by slices: an
    insurer's import checks it for every medication it sends (docs/benchmarks.md, S4)."""
    total = sum(map(int, body12[0:12:2])) + 3 * sum(map(int, body12[1:12:2]))
    return (10 - total % 10) % 10


def _ean13_ok(digits: str) -> bool:
    return _ean13_digit(digits[:12]) == int(digits[12])


def is_cip13(code: str) -> bool:
    return bool(_CIP13.fullmatch(code)) and _ean13_ok(code)


def is_atc(code: str) -> bool:
    return bool(_ATC.fullmatch(code))


def is_ccam(code: str) -> bool:
    return bool(_CCAM.fullmatch(code))


def is_loinc(code: str) -> bool:
    match = _LOINC.fullmatch(code)
    return match is not None and luhn_ok(match.group(1) + match.group(2))


def is_lpp(code: str) -> bool:
    return bool(_LPP.fullmatch(code))


def is_icd10(code: str) -> bool:
    return bool(_ICD10.fullmatch(code))


def ean13_check_digit(body12: str) -> str:
    """The digit that completes a 12-digit EAN-13 body (used to build demo and test codes)."""
    return str(_ean13_digit(body12))


def loinc_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return digit
    raise AssertionError("unreachable: some digit always completes a Luhn number")


CHECKS = {
    "cip13": (is_cip13, "a CIP13 code (13 digits starting 3400, EAN-13 check digit)"),
    "atc": (is_atc, "an ATC code such as A10BA02"),
    "ccam": (is_ccam, "a CCAM code such as ZBQK002"),
    "loinc": (is_loinc, "a LOINC code such as 2345-7 (with its check digit)"),
    "lpp": (is_lpp, "an LPP code (7 digits)"),
    "icd10": (is_icd10, "an ICD-10 code such as E11.9"),
}

# The coding systems the `code` of an entry may use, per section; absent: free text.
SECTION_CODES: dict[Section, tuple[str, ...]] = {
    Section.MEDICATIONS: ("cip13", "atc"),
    Section.MEDICAL_DEVICES: ("lpp",),
    Section.PROCEDURES: ("ccam",),
    Section.IMAGING: ("ccam",),
    Section.LAB_RESULTS: ("loinc",),
    Section.HOSPITAL_STAYS: ("icd10",),
    Section.MEDICAL_HISTORY: ("icd10",),
}


def normalize_code(system: str, raw: str) -> str:
    """The code in its canonical form, or InvalidCode. The refusal does not quote the value:
    the caller has it, it may be of any size, and a code names a medicine or an act."""
    code = raw.strip().upper().replace(" ", "")
    check, label = CHECKS[system]
    if not check(code):
        raise InvalidCode(f"the code is not {label}", Reason.CODE_INVALID)
    return code


def normalize_section_code(section: Section, raw: str) -> str:
    """The `code` of an entry, checked against the coding systems of its section."""
    raw = raw.strip()
    systems = SECTION_CODES.get(section)
    if not raw:
        return ""
    if systems is None:
        # Free text, kept as it shows, as the title is (no direction override or zero-width).
        text = one_line(raw)
        if len(text) > 64:
            raise InvalidCode("a code is at most 64 characters", Reason.FIELD_TOO_LONG, field="code", max=64)
        return text
    for system in systems:
        try:
            return normalize_code(system, raw)
        except InvalidCode:
            continue
    labels = " or ".join(CHECKS[s][1] for s in systems)
    raise InvalidCode(f"the code of a {section.value} entry must be {labels}", Reason.CODE_INVALID)
