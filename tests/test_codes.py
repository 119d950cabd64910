"""The check digits of entry codes (backend/domain/codes.py)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from backend.domain.codes import (
    CHECKS,
    SECTION_CODES,
    InvalidCode,
    ean13_check_digit,
    is_cip13,
    normalize_code,
    normalize_section_code,
)


def test_an_ean13_check_digit_computed_by_hand() -> None:
    # 4·1 + 0·3 + 0·1 + 6·3 + 3·1 + 8·3 + 1·1 + 3·3 + 3·1 + 3·3 + 9·1 + 3·3 = 89 → 1
    assert ean13_check_digit("400638133393") == "1"
    # 3 + 12 + 0 + 0 + 9 + 9 + 0 + 0 + 0 + 0 + 0 + 3 = 36 → 4
    assert ean13_check_digit("340093000001") == "4"
    assert is_cip13("3400930000014")
    assert not is_cip13("3400930000019")
    assert not is_cip13("4006381333931")  # a valid EAN-13, but not a CIP13 (3400…)


def test_exactly_one_check_digit_completes_each_cip13() -> None:
    rng = random.Random(13)
    for _ in range(500):
        body = "3400" + "".join(rng.choice("0123456789") for _ in range(8))
        accepted = [d for d in "0123456789" if is_cip13(body + d)]
        assert accepted == [ean13_check_digit(body)]


@pytest.mark.parametrize("raw", [
    "3400930000019", "340093000001", "34009300000144", "3401930000014",
    "3400９３００００14",  # full-width digits, with a valid check digit
])
def test_a_malformed_cip13_is_refused_with_its_label(raw: str) -> None:
    with pytest.raises(InvalidCode, match="CIP13"):
        normalize_code("cip13", raw)


def test_a_cip13_is_read_without_its_spaces() -> None:
    assert normalize_code("cip13", " 3400 9300 0001 4 ") == "3400930000014"


def test_the_pages_code_hints_name_the_systems_each_section_takes() -> None:
    """The add-entry form's « Code » hint (frontend/src/lib/entryInput.js CODE_SYSTEMS) names
    the coding systems the server checks for each section, and its examples pass that check."""
    root = Path(__file__).parents[1] / "frontend" / "src"
    source = (root / "lib" / "entryInput.js").read_text()
    block = re.search(r"export const CODE_SYSTEMS = \{(.*?)\};", source, re.S)
    assert block is not None
    page = {name: tuple(re.findall(r"'(\w+)'", systems))
            for name, systems in re.findall(r"(\w+): \[([^\]]*)\]", block.group(1))}
    assert page == {section.value: systems for section, systems in SECTION_CODES.items()}
    assert set(CHECKS) >= {system for systems in page.values() for system in systems}
    for language in ("fr", "en"):
        catalogue = (root / "i18n" / f"{language}.js").read_text()
        for section, systems in SECTION_CODES.items():
            hint = re.search(rf'"addEntry\.codeHint\.{"_".join(systems)}": "([^"]*)"', catalogue)
            assert hint is not None, (language, section)
            example = re.search(r"(?:par exemple|for example) (\S+)\.$", hint.group(1))
            if example is not None:
                assert normalize_section_code(section, example.group(1)) == example.group(1), language
