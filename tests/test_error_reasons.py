"""BAD_USER_INPUT errors name the rule the input broke (`extensions.reason`), and every
reason is worded in both of the page's catalogues and listed in the API guide."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx

from backend.domain.enums import Profession
from backend.domain.reasons import Reason
from backend.models import AccessEvent, Entry, Grant
from tests import factories
from tests.care_items import ADD_ENTRY
from tests.conftest import Caller, session_for

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = {lang: ROOT / "frontend" / "src" / "i18n" / f"{lang}.js" for lang in ("fr", "en")}


def _catalogue_reasons(path: Path) -> dict[str, str]:
    text = path.read_text()
    return dict(re.findall(r'^\s*"reason\.([A-Z_]+)": "(.*)",$', text, re.M))


def test_every_reason_is_worded_in_both_catalogues_and_no_other() -> None:
    names = {r.value for r in Reason}
    for lang, path in CATALOGUES.items():
        worded = _catalogue_reasons(path)
        assert set(worded) == names, lang


def test_every_reason_is_listed_in_the_api_guide() -> None:
    guide = (ROOT / "docs" / "api.md").read_text()
    missing = [r.value for r in Reason if f"`{r.value}`" not in guide]
    assert missing == []


def _names_a_reason(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Reason"


def test_every_refusal_names_its_reason() -> None:
    """No BadUserInput is raised without a reason: the constructor requires one, and no call
    passes it a plain string instead of a member of Reason."""
    offenders = []
    for path in (ROOT / "backend").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "BadUserInput"
            ):
                if not _names_a_reason(node.args[1] if len(node.args) > 1 else None):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


_RAISERS = {"BadUserInput", "InvalidIdentifier", "InvalidCode", "InvalidDetails", "WeakPassword", "Refused"}


def test_every_raise_sends_the_values_its_sentence_needs() -> None:
    """A catalogue sentence's {placeholders} are filled from the error's extensions: each
    place that raises a reason passes them all, or the page would show a raw `{max}`."""
    worded = _catalogue_reasons(CATALOGUES["fr"])
    needs = {name: set(re.findall(r"\{(\w+)\}", text)) for name, text in worded.items()}
    missing = []
    for path in (ROOT / "backend").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or getattr(node.func, "id", None) not in _RAISERS:
                continue
            given = {k.arg for k in node.keywords if k.arg}
            for arg in node.args:
                if _names_a_reason(arg):
                    reason = arg.attr  # type: ignore[attr-defined]
                    lacking = sorted(needs[reason] - given)
                    if lacking:
                        missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {reason} {lacking}")
    assert missing == []


async def test_a_refusal_carries_its_reason_and_values_and_writes_nothing(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    account, practitioner = await factories.practitioner(Profession.PHARMACIEN)
    await Grant.create(record=record, practitioner=practitioner, sections=["MEDICATIONS"])
    caller = Caller(client, session=await session_for(account))
    entries, events = await Entry.filter(record_id=record.id).count(), await AccessEvent.all().count()

    result = await caller.gql(ADD_ENTRY, {"input": {
        "ins": record.ins, "section": "MEDICATIONS", "title": "x" * 301, "date": "2024-01-01",
    }})
    assert result.codes == ["BAD_USER_INPUT"]
    extensions = result.errors[0]["extensions"]
    assert extensions == {"code": "BAD_USER_INPUT", "reason": "FIELD_TOO_LONG", "field": "title", "max": 300}
    result = await caller.gql(ADD_ENTRY, {"input": {
        "ins": record.ins, "section": "MEDICATIONS", "title": "  ", "date": "2024-01-01",
    }})
    assert result.errors[0]["extensions"]["reason"] == "FIELD_REQUIRED"

    result = await caller.gql(ADD_ENTRY, {"input": {
        "ins": record.ins, "section": "MEDICATIONS", "title": "Metformine", "date": "2024-01-01",
        "medication": {"quantity": 100000},
    }})
    extensions = result.errors[0]["extensions"]
    assert extensions["reason"] == "OUT_OF_RANGE" and extensions["field"] == "details.quantity"
    assert extensions["min"] == 0 and extensions["max"] > 0

    result = await caller.gql(ADD_ENTRY, {"input": {
        "ins": "123", "section": "MEDICATIONS", "title": "Metformine", "date": "2024-01-01",
    }})
    assert result.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_INS"}
    # The message stays the developers' English.
    assert "INS must be 15 characters" in result.errors[0]["message"]

    assert await Entry.filter(record_id=record.id).count() == entries
    assert await AccessEvent.all().count() == events


async def test_a_variable_its_type_refuses_is_a_request_error(client: httpx.AsyncClient) -> None:
    """A value its type refuses, sent as a variable, is answered as when it is written in
    the document: BAD_USER_INPUT with graphql-core's words, no data, nothing run."""
    _, record = await factories.patient()
    account, practitioner = await factories.practitioner(Profession.PHARMACIEN)
    await Grant.create(record=record, practitioner=practitioner, sections=["MEDICATIONS"])
    caller = Caller(client, session=await session_for(account))
    valid = {"ins": record.ins, "section": "MEDICATIONS", "title": "Metformine", "date": "2024-01-01"}
    for change in ({"date": "2024-02-30"}, {"date": "0000-01-01"}, {"date": 20240101},
                   {"section": "SECRETS"}, {"title": None}):
        result = await caller.gql(ADD_ENTRY, {"input": {**valid, **change}})
        assert result.codes == ["BAD_USER_INPUT"], (change, result.errors)
        assert result.errors[0]["message"].startswith("Variable '$input'"), change
        assert "data" not in result.response.json(), change
        response = await client.post(
            "/graphql", json={"query": ADD_ENTRY, "variables": {"input": {**valid, **change}}},
            headers={**caller.headers(), "accept": "application/graphql-response+json"},
        )
        assert response.status_code == 400, change
    assert await Entry.filter(record_id=record.id).count() == 0
    assert await AccessEvent.all().count() == 0
