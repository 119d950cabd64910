"""The FHIR export gives a numeric lab value exactly as its author wrote it.

In FHIR a decimal's precision is part of its value: "5.40" mmol/L says the measure went to the
hundredth, "5.4" that it did not. fhir.resources writes a decimal with a fraction as a float
(5.4); the export puts the written number back, and the Bundle is still fhir.resources' own,
validated.
"""

from __future__ import annotations

import json

import httpx
from fhir.resources.R4B.bundle import Bundle

from backend.domain.enums import Section
from tests import factories
from tests.conftest import Caller, session_for

EXPORT = "mutation { exportMyRecord(format: FHIR) { content } }"

# As written -> as the Bundle's JSON must say it.
VALUES = {
    "5.40": "5.40",
    "0.50": "0.50",
    "1.000": "1.000",
    "-0.10": "-0.10",
    "7": "7",
    "7.0": "7.0",
    "0.0000001": "0.0000001",
    "12345678901234567891": "12345678901234567891",
    "9007199254740993.50": "9007199254740993.50",
    # JSON allows no leading zero: the same number, its precision kept.
    "007.50": "7.50",
}
# As long as a detail may be (200 characters), beyond any float's or 64-bit integer's digits.
VALUES["9" * 150 + "." + "0" * 49] = "9" * 150 + "." + "0" * 49
VALUES["1" + "0" * 199] = "1" + "0" * 199


async def test_a_lab_value_keeps_its_digits_as_written(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    ids = {
        written: str((await factories.entry(
            record, Section.LAB_RESULTS, title="Dosage", value=written, unit="mmol/L")).id)
        for written in VALUES
    }
    content = (await Caller(client, session=await session_for(owner)).gql(EXPORT)).ok()[
        "exportMyRecord"]["content"]

    # The numbers' text, as a reader keeping decimals exactly sees them.
    raw = json.loads(content, parse_float=str, parse_int=str)
    by_id = {item["resource"]["id"]: item["resource"] for item in raw["entry"]}
    assert {w: by_id[i]["valueQuantity"]["value"] for w, i in ids.items()} == VALUES
    assert all(by_id[i]["valueQuantity"]["unit"] == "mmol/L" for i in ids.values())
    # Still numbers (not strings), in a Bundle fhir.resources validates.
    plain = json.loads(content)
    assert all(
        isinstance(item["resource"]["valueQuantity"]["value"], int | float)
        for item in plain["entry"] if item["resource"]["id"] in ids.values()
    )
    Bundle.model_validate(plain)


async def test_other_numbers_and_text_values_are_as_before(client: httpx.AsyncClient) -> None:
    """Only the decimals given change: a value with words stays a string, an integer dose
    stays an integer."""
    owner, record = await factories.patient()
    words = await factories.entry(record, Section.LAB_RESULTS, title="CRP", value="élevée 5.40")
    vaccine = await factories.entry(record, Section.VACCINATIONS, title="DTP", doseNumber=3)
    content = (await Caller(client, session=await session_for(owner)).gql(EXPORT)).ok()[
        "exportMyRecord"]["content"]
    by_id = {item["resource"]["id"]: item["resource"] for item in json.loads(content)["entry"]}
    assert by_id[str(words.id)]["valueString"] == "élevée 5.40"
    assert by_id[str(vaccine.id)]["protocolApplied"] == [{"doseNumberPositiveInt": 3}]
