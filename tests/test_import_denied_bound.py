"""Items an existing record refuses (closed or deleted, another birth date) are a denied attempt
in its history, one a record and batch; but 200 batches of one refused item wrote 200 events in
12 s. Now an organization's imports write at most DENIED_EVENTS_PER_RECORD_PER_DAY of them on a
record per UTC day; past them the record refuses every item of the organization until the day
ends, the right birth date's too, with one message and no event: a guess the history does not
note learns nothing. And a token's tries refused by existing records, distinct (record,
birthDate) pairs, are bounded per hour (REFUSED_TRIES_PER_HOUR): a token at the bound is
refused whole (RATE_LIMITED, nothing written) before its batch is read, whatever it holds; the
batch that reaches the bound is answered."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend import accounts, clock, importfile
from backend.auth.limits import utc_hour
from backend.models import AccessEvent, ActivationCode, Entry, OutboxMessage, RateCounter, Record
from backend.resolvers import imports
from tests import factories
from tests.care_items import IMPORT, INSURER, insurer_token, medication_item
from tests.conftest import Caller, session_for

OTHER_BIRTH = "1990-01-01"
RIGHT_BIRTH = "1985-06-12"  # factories.patient's
REFUSED_TODAY = ("FORBIDDEN", imports.REFUSED_TODAY)


@pytest.fixture(autouse=True)
def _start_of_a_day() -> None:
    """The whole test in one UTC day and hour: a minute into the next day."""
    now = clock.now()
    clock.shift(now.replace(hour=0, minute=1, second=0, microsecond=0) + dt.timedelta(days=1) - now)


def test_the_bounds() -> None:
    assert imports.DENIED_EVENTS_PER_RECORD_PER_DAY == 3
    assert imports.REFUSED_TRIES_PER_HOUR == 1000


async def _denied(record: Record) -> list[AccessEvent]:
    return list(await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").order_by("seq"))


async def _import(caller: Caller, items: list[dict[str, Any]]) -> Any:
    return (await caller.gql(IMPORT, {"items": items})).ok()["importCareHistory"]


def _codes(payload: Any) -> list[tuple[str, str]]:
    return [(r["code"], r["message"]) for r in payload["rejected"]]


async def test_a_record_notes_three_denied_imports_an_organization_a_day_then_refuses_it(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()  # born 1985-06-12
    owner, closed = await factories.patient()
    assert (await Caller(client, session=await session_for(owner)).gql(
        "mutation { closeMyRecord { status } }")).ok()["closeMyRecord"]["status"] == "CLOSED"
    _, accepting = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    for n in range(6):
        payload = await _import(insurer, [
            medication_item(record.ins, n, birthDate=OTHER_BIRTH),
            medication_item(closed.ins, n),
            medication_item(accepting.ins, n),
            # The record's own birth date, after the other one in the batch: one INS given two
            # birth dates by a batch takes none of its items.
            medication_item(record.ins, 50 + n),
        ])
        if n < 3:
            # The first three batches keep their codes.
            assert [(r["index"], r["code"], r["message"]) for r in payload["rejected"]] == [
                (0, "BAD_USER_INPUT", imports.MIXED_BIRTH_DATES),
                (1, "FORBIDDEN", "The record is closed or deleted"),
                (3, "BAD_USER_INPUT", imports.MIXED_BIRTH_DATES),
            ]
            assert payload["created"] == 1
        else:
            # Then both records refuse every item of the organization, whatever its birth date
            # (or the record's status), with one message; the other records take theirs.
            assert [(r["index"], r["code"], r["message"]) for r in payload["rejected"]] == [
                (i, *REFUSED_TODAY) for i in (0, 1, 3)]
            assert payload["created"] == 1
    # Three denied attempts on each record, with their reasons; the later batches noted nothing.
    assert [(e.mode, e.reason) for e in await _denied(record)] == [
        ("INSURER", "import refusé : date de naissance différente")] * 3
    assert [(e.mode, e.reason) for e in await _denied(closed)] == [
        ("INSURER", "import refusé : dossier fermé")] * 3
    assert await Entry.filter(record_id=record.id).count() == 0
    assert await AccessEvent.filter(record_id=record.id, action="ENTRIES_IMPORTED").count() == 0
    assert not await Entry.filter(record_id=closed.id).exists()
    # The accepted items were imported, and noted, batch after batch.
    assert await Entry.filter(record_id=accepting.id).count() == 6
    assert await AccessEvent.filter(record_id=accepting.id, action="ENTRIES_IMPORTED").count() == 6

    # Another organization's imports are noted on their own: the patient sees each insurer try.
    _, other = await accounts.create_token("insurer", ["insurer:import"], organization="Mutuelle Test")
    elsewhere = Caller(client, token=other)
    for n in range(4):
        payload = await _import(elsewhere, [medication_item(record.ins, 100 + n, birthDate=OTHER_BIRTH)])
        assert _codes(payload) == [REFUSED_TODAY if n == 3 else (
            "BAD_USER_INPUT", "birthDate does not match the record of this INS")]
    assert len(await _denied(record)) == 6

    # A second token of the first organization counts with it: refused, and not noted.
    second = Caller(client, token=await insurer_token())
    payload = await _import(second, [medication_item(record.ins, 200)])
    assert _codes(payload) == [REFUSED_TODAY]
    assert len(await _denied(record)) == 6
    assert await Entry.filter(record_id=record.id).count() == 0

    # The next day, the record answers the organization again, and notes its refusals.
    clock.shift(dt.timedelta(days=1))
    payload = await _import(insurer, [medication_item(record.ins, 300, birthDate=OTHER_BIRTH)])
    assert _codes(payload) == [("BAD_USER_INPUT", "birthDate does not match the record of this INS")]
    assert len(await _denied(record)) == 7
    payload = await _import(insurer, [medication_item(record.ins, 301)])
    assert payload["created"] == 1 and payload["rejected"] == []


async def test_past_three_noted_guesses_the_right_birth_date_is_refused_as_the_wrong_ones(
    client: httpx.AsyncClient,
) -> None:
    """The INS gives the year and month of birth: one-item batches guessing the day found it
    in at most 31 tries, of which the history noted 3. Now the fourth and later guesses are
    all answered alike, the right one too, and write nothing."""
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    answers = {}
    for day in range(1, 31):
        guess = f"1985-06-{day:02d}"
        payload = await _import(insurer, [medication_item(record.ins, day, birthDate=guess)])
        answers[guess] = (payload["created"], *_codes(payload))
    wrong = (0, ("BAD_USER_INPUT", "birthDate does not match the record of this INS"))
    assert list(answers.values()) == [wrong] * 3 + [(0, REFUSED_TODAY)] * 27
    assert answers[RIGHT_BIRTH] == (0, REFUSED_TODAY)
    assert len(await _denied(record)) == 3
    assert not await Entry.filter(record_id=record.id).exists()
    assert not await AccessEvent.filter(record_id=record.id, action="ENTRIES_IMPORTED").exists()


async def test_a_pending_record_refusing_the_organization_takes_no_address(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    assert (await _import(insurer, [medication_item(ins, 0)]))["created"] == 1  # opened, no contact
    for n in range(3):
        await _import(insurer, [medication_item(ins, 10 + n, birthDate=OTHER_BIRTH)])
    record = await Record.get(ins=ins)
    payload = await _import(insurer, [medication_item(ins, 20, contactEmail="alice@example.org")])
    assert _codes(payload) == [REFUSED_TODAY]
    fresh = await Record.get(id=record.id)
    assert (fresh.pending_contact, fresh.status) == (None, "PENDING")
    assert not await ActivationCode.filter(record_id=record.id).exists()
    assert not await OutboxMessage.filter(record_id=record.id).exists()
    assert await Entry.filter(record_id=record.id).count() == 1


async def test_many_batches_at_once_on_one_record_note_three_and_answer_three(
    client: httpx.AsyncClient,
) -> None:
    """The record's row is locked while its counter is read (SQLite: the import holds the write
    lock), so batches at once are answered as one after the other."""
    _, record = await factories.patient()
    callers = [Caller(client, token=await insurer_token()) for _ in range(4)]
    results = await asyncio.gather(*(
        callers[n % 4].gql(IMPORT, {"items": [medication_item(record.ins, n, birthDate=OTHER_BIRTH),
                                              medication_item(factories.new_ins(), 1000 + n)]})
        for n in range(12)))
    payloads = [r.ok()["importCareHistory"] for r in results]
    assert sorted(_codes(p)[0][0] for p in payloads) == ["BAD_USER_INPUT"] * 3 + ["FORBIDDEN"] * 9
    assert all(p["created"] == 1 for p in payloads)
    assert len(await _denied(record)) == 3


async def _counts() -> tuple[int, int, int, int]:
    return (await Entry.all().count(), await Record.all().count(), await AccessEvent.all().count(),
            await RateCounter.all().count())


async def _tries() -> int | None:
    """The refused tries counted this hour (of the one token that has any)."""
    found = await RateCounter.filter(key__startswith="import-refused:", window_start=utc_hour()).first()
    return None if found is None else found.count


async def test_a_token_at_its_refused_tries_is_rate_limited_whatever_the_batch_holds(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "REFUSED_TRIES_PER_HOUR", 4)
    patients = [(await factories.patient())[1] for _ in range(3)]
    insurer = Caller(client, token=await insurer_token())
    # Three records refuse the items; the many items of one patient with one birth date are one try.
    payload = await _import(insurer, [
        *(medication_item(p.ins, n, birthDate=OTHER_BIRTH) for n, p in enumerate(patients)),
        *(medication_item(patients[0].ins, 10 + n, birthDate=OTHER_BIRTH) for n in range(5)),
        medication_item(factories.new_ins(), 20),
    ])
    assert (payload["created"], len(payload["rejected"])) == (1, 8)
    assert await _tries() == 3

    # Two birth dates guessed on one record are two tries: the batch that reaches the bound
    # (past it here) is answered as any, its accepted items imported; its count stops at the bound.
    new_ins = factories.new_ins()
    payload = await _import(insurer, [
        medication_item(patients[1].ins, 30, birthDate="1991-01-01"),
        medication_item(patients[1].ins, 31, birthDate="1992-01-01"),
        medication_item(new_ins, 32),
        medication_item(patients[2].ins, 33),
    ])
    assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"] * 2
    assert payload["created"] == 2
    assert await Record.filter(ins=new_ins).exists()
    assert await _tries() == 4

    # From then on the token is refused whole until the hour ends, whatever the batch holds:
    # items no record refuses, the right birth date, a new patient, invalid items, nothing.
    before = await _counts()
    for items in (
        [medication_item(patients[2].ins, 40)],
        [medication_item(patients[2].ins, 41, birthDate=OTHER_BIRTH)],
        [medication_item(factories.new_ins(), 42)],
        [medication_item(patients[2].ins, 43, title="")],
        [],
    ):
        limited = await insurer.gql(IMPORT, {"items": items})
        assert limited.codes == ["RATE_LIMITED"] and limited.data is None
        # Retried once the hour is over (the test runs a minute into it).
        assert 0 < limited.errors[0]["extensions"]["retryAfter"] <= 59 * 60
    assert await _counts() == before
    assert await _tries() == 4

    # Another token has a bound of its own.
    other = Caller(client, token=await insurer_token())
    payload = await _import(other, [medication_item(patients[2].ins, 60, birthDate=OTHER_BIRTH)])
    assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"]
    # The next hour, the token's batches are answered again.
    clock.shift(dt.timedelta(hours=1))
    payload = await _import(insurer, [medication_item(patients[1].ins, 70)])
    assert payload["created"] == 1


async def test_past_the_bound_a_guess_is_refused_right_or_wrong(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the bound, a wrong birth date was RATE_LIMITED (rolled back, unnoted) and the right
    one imported: one guess a request, without end. Now every request is refused alike."""
    monkeypatch.setattr(imports, "REFUSED_TRIES_PER_HOUR", 1)
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    payload = await _import(insurer, [medication_item(record.ins, 0, birthDate=OTHER_BIRTH)])
    assert [r["code"] for r in payload["rejected"]] == ["BAD_USER_INPUT"]
    assert len(await _denied(record)) == 1
    before = await _counts()
    answers = []
    for n in range(20):
        guess = (dt.date(1985, 6, 1) + dt.timedelta(days=n)).isoformat()
        result = await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 100 + n, birthDate=guess)]})
        answers.append(result.codes)
    assert answers == [["RATE_LIMITED"]] * 20
    assert await _counts() == before
    assert not await Entry.filter(record_id=record.id).exists()


async def test_a_batch_over_the_bound_on_its_own_is_answered_then_the_token_waits_the_hour(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose own refused pairs passed the bound was refused on a fresh counter, rolled
    back, and refused again every hour: its retryAfter never helped."""
    monkeypatch.setattr(imports, "REFUSED_TRIES_PER_HOUR", 2)
    records = [(await factories.patient())[1] for _ in range(3)]
    insurer = Caller(client, token=await insurer_token())
    batch = [medication_item(r.ins, n, birthDate=OTHER_BIRTH) for n, r in enumerate(records)]
    batch.append(medication_item(factories.new_ins(), 99))
    payload = await _import(insurer, batch)
    assert ([r["code"] for r in payload["rejected"]], payload["created"]) == (["BAD_USER_INPUT"] * 3, 1)
    assert await _tries() == 2
    limited = await insurer.gql(IMPORT, {"items": batch})
    assert limited.codes == ["RATE_LIMITED"]
    clock.shift(dt.timedelta(seconds=limited.errors[0]["extensions"]["retryAfter"]))
    # Once waited, the batch is answered again (its items now unchanged or refused).
    payload = await _import(insurer, batch)
    assert ([r["code"] for r in payload["rejected"]], payload["unchanged"]) == (["BAD_USER_INPUT"] * 3, 1)
    assert await Record.all().count() == 4


async def test_batches_at_once_from_a_token_past_the_bound_never_import(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "REFUSED_TRIES_PER_HOUR", 1)
    records = [(await factories.patient())[1] for _ in range(9)]
    insurer = Caller(client, token=await insurer_token())
    await _import(insurer, [medication_item(records[8].ins, 0, birthDate=OTHER_BIRTH)])
    before = await _counts()
    results = await asyncio.gather(*(
        insurer.gql(IMPORT, {"items": [
            medication_item(r.ins, 10 + n, birthDate=OTHER_BIRTH if n % 2 else RIGHT_BIRTH),
            medication_item(factories.new_ins(), 20 + n),
        ]})
        for n, r in enumerate(records[:8])))
    assert [r.codes for r in results] == [["RATE_LIMITED"]] * 8
    assert await _counts() == before


async def test_batches_at_once_reaching_the_bound_are_all_answered_and_counted_up_to_it(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches already running when the bound is reached are answered (none fails on the
    counter's lock), the count stops at the bound, and the next batch is refused."""
    monkeypatch.setattr(imports, "REFUSED_TRIES_PER_HOUR", 3)
    records = [(await factories.patient())[1] for _ in range(8)]
    insurer = Caller(client, token=await insurer_token())
    results = await asyncio.gather(*(
        insurer.gql(IMPORT, {"items": [medication_item(r.ins, n, birthDate=OTHER_BIRTH),
                                       medication_item(factories.new_ins(), 100 + n)]})
        for n, r in enumerate(records)))
    assert all(r.codes in ([], ["RATE_LIMITED"]) for r in results)
    answered = [r for r in results if not r.codes]
    assert len(answered) >= 3
    assert await AccessEvent.filter(action="ACCESS_DENIED").count() == len(answered)
    assert await _tries() == 3
    limited = await insurer.gql(IMPORT, {"items": [medication_item(records[0].ins, 50)]})
    assert limited.codes == ["RATE_LIMITED"]


async def test_import_file_stops_at_the_bound_and_says_from_which_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch that reaches the bound is imported; the next is refused whole, and the run
    stops there with its first line (FILE.progress keeps where to resume)."""
    monkeypatch.setattr(imports, "REFUSED_TRIES_PER_HOUR", 2)
    records = [(await factories.patient())[1] for _ in range(3)]
    await insurer_token()
    lines = [medication_item(r.ins, n, birthDate=OTHER_BIRTH) for n, r in enumerate(records)]
    lines += [medication_item(factories.new_ins(), 10 + n) for n in range(3)]
    path = tmp_path / "care.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(importfile.ImportFileError) as stopped:
        await importfile.import_file(path, INSURER, progress_stream=io.StringIO(), batch_size=3)
    assert str(stopped.value) == f"line 4 onwards: {imports.TOO_MANY_REFUSED_TRIES}"
    assert await Record.all().count() == 3  # the second batch's patients were not opened
    assert len(await AccessEvent.filter(action="ACCESS_DENIED")) == 3


async def test_a_batch_giving_an_ins_several_birth_dates_imports_none_of_its_items(
    client: httpx.AsyncClient,
) -> None:
    """Answered item by item, 31 birth dates in one batch found the record's own for one noted
    attempt: a batch that gives an existing record more than one birth date has all its items
    for that record refused, the right date's included, with one denied attempt."""
    _, record = await factories.patient()  # born 1985-06-12
    _, accepting = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    guesses = [medication_item(record.ins, day, birthDate=f"1985-06-{day:02d}") for day in range(1, 31)]
    payload = await _import(insurer, [*guesses, medication_item(accepting.ins, 99)])
    assert payload["created"] == 1  # the other record's item
    rejected = payload["rejected"]
    assert [r["index"] for r in rejected] == list(range(30))
    # Every item alike, the right date's (index 11) as the wrong ones: nothing picks it out.
    assert {(r["code"], r["message"]) for r in rejected} == {("BAD_USER_INPUT", imports.MIXED_BIRTH_DATES)}
    assert await Entry.filter(record_id=record.id).count() == 0
    assert [(e.mode, e.reason) for e in await _denied(record)] == [
        ("INSURER", "import refusé : date de naissance différente")]
    # One birth date, the record's, in a batch: imported.
    payload = await _import(insurer, [medication_item(record.ins, 40), medication_item(record.ins, 41)])
    assert payload["created"] == 2 and payload["rejected"] == []


async def test_a_batch_giving_a_pending_record_several_birth_dates_gives_it_no_address(
    client: httpx.AsyncClient,
) -> None:
    """A pending record without a contact took the address of a batch whose items it all
    refused (two birth dates), and an activation code went there: the mailbox told which date
    was right."""
    doctor, _ = await factories.practitioner()
    ins = factories.new_ins()
    opened = await Caller(client, session=await session_for(doctor)).gql(
        "mutation($input: OpenRecordInput!) { openRecordForPatient(input: $input) { activationCode } }",
        {"input": {"ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": RIGHT_BIRTH}})
    opened.ok()
    record = await Record.get(ins=ins)
    codes = await ActivationCode.filter(record_id=record.id).count()
    mails = await OutboxMessage.all().count()
    insurer = Caller(client, token=await insurer_token())
    items = [medication_item(ins, day, birthDate=f"1985-06-{day:02d}", contactEmail="guess@example.test")
             for day in range(10, 15)]
    payload = await _import(insurer, items)
    assert payload["created"] == 0 and len(payload["rejected"]) == 5
    await record.refresh_from_db()
    assert record.pending_contact != "guess@example.test"
    assert await ActivationCode.filter(record_id=record.id).count() == codes
    assert await OutboxMessage.all().count() == mails
