"""Care items, insurer tokens and GraphQL documents shared by the content tests."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from backend import accounts
from backend.domain.codes import ean13_check_digit

INSURER = "Assurance Maladie"

IMPORT = """
mutation ($items: [CareItemInput!]!) {
  importCareHistory(items: $items) {
    accepted created corrected unchanged rejected { index externalId code message }
  }
}"""

ADD_ENTRY = """
mutation ($input: AddEntryInput!) {
  addEntry(input: $input) {
    entry { id section title code date source supersedes superseded masked
            author { displayName profession }
            ... on MedicationEntry { cip13 atc dose quantity }
            ... on LabResultEntry { analyte loinc value abnormal }
            ... on VaccinationEntry { vaccine doseNumber } }
  }
}"""


def cip13(n: int) -> str:
    body = f"34009{n:07d}"
    return body + ean13_check_digit(body)


async def insurer_token(scopes: list[str] | None = None) -> str:
    _, token = await accounts.create_token("insurer", scopes or ["insurer:import"],
                                           organization=INSURER)
    return token


def medication_item(ins: str, n: int, **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ins": ins, "firstName": "Alice", "lastName": "Martin", "birthDate": "1985-06-12",
        "externalId": f"MED-{n}", "section": "MEDICATIONS", "code": cip13(n % 10_000_000),
        "title": f"Doliprane 1000 mg #{n}",
        "date": (dt.date.today() - dt.timedelta(days=1 + n % 700)).isoformat(),
        "details": {"atc": "N02BE01", "dose": "1 cp x 3/j", "quantity": 2},
    }
    item.update(over)
    return item


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends while installed (an executemany counts once)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s":
            self.count += 1

    def __enter__(self) -> QueryCounter:
        self._logger = logging.getLogger("tortoise.db_client")
        self._level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)
