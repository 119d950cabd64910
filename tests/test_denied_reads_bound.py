"""Refused reads of records are bounded per caller and hour: each refusal on an existing
record is a denied attempt in its history (a row of its chain), and without a bound one
account filled a patient's history with them at will. Every refusal counts, whatever refused
it (no grant, an unknown INS, a pending record), so the count tells nothing; past the bound
the answer is RATE_LIMITED, nothing written, the same for an INS that names a record and one
that does not. A granted read is never counted, and is answered past the bound."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from backend import clock
from backend.domain.enums import RecordStatus, Section
from backend.models import AccessEvent, Entry, Grant, Record
from backend.resolvers import records
from tests import factories
from tests.care_items import insurer_token
from tests.conftest import Caller, session_for
from tests.test_authz_reading import count_queries

READ = "query($ins: String!) { patientRecord(ins: $ins) { firstName } }"
BOUND = 60


@pytest.fixture(autouse=True)
def _start_of_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole test in one window; the 30 ms floor of refusals not waited (it is tested
    elsewhere), so that sixty refusals take no seconds."""
    from backend.schema import extensions

    async def no_wait(since: float) -> None:
        return None

    monkeypatch.setattr(extensions, "answer_no_sooner", no_wait)
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)


def test_the_bound_is_sixty_refused_reads_an_hour() -> None:
    assert records.REFUSED_READS_PER_HOUR == BOUND


async def _pending() -> Record:
    return await Record.create(ins=factories.new_ins(), first_name="A", last_name="B",
                               birth_date=dt.date(1980, 1, 1), status=RecordStatus.PENDING)


async def _refused_events() -> int:
    return await AccessEvent.filter(action="ACCESS_DENIED").count()


@pytest.mark.parametrize("kind", ["no grant", "unknown INS", "pending record", "both"])
async def test_the_61st_refused_read_is_rate_limited_and_writes_nothing(
    client: httpx.AsyncClient, kind: str
) -> None:
    _, record = await factories.patient()
    pending = await _pending()
    account, practitioner = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    for n in range(BOUND):
        ins = {"no grant": record.ins, "unknown INS": factories.new_ins(), "pending record": pending.ins,
               "both": record.ins if n % 2 else factories.new_ins()}[kind]
        assert (await caller.gql(READ, {"ins": ins})).codes == ["FORBIDDEN"]
    written = await _refused_events()
    assert written == {"no grant": BOUND, "unknown INS": 0, "pending record": BOUND, "both": BOUND // 2}[kind]

    # Past the bound: the same answer, and nothing written, whatever the INS names.
    answers = []
    for ins in (record.ins, factories.new_ins(), pending.ins):
        limited = await caller.gql(READ, {"ins": ins})
        assert limited.codes == ["RATE_LIMITED"] and limited.data == {"patientRecord": None}
        # The seconds to the hour's end tell the time, nothing of the INS.
        assert 0 < limited.errors[0]["extensions"].pop("retryAfter") <= 3600
        answers.append((limited.codes, limited.errors[0]["message"], limited.errors[0]["extensions"]))
    assert answers[0] == answers[1] == answers[2]
    assert await _refused_events() == written

    # The bound is of refusals: a granted read is answered, and written, past it.
    await Grant.create(record=record, practitioner=practitioner, sections=[Section.ALLERGIES.value])
    assert (await caller.gql(READ, {"ins": record.ins})).ok()["patientRecord"] == {"firstName": "Alice"}
    assert await AccessEvent.filter(record_id=record.id, action="RECORD_READ").count() == 1

    # Another caller has a bound of its own.
    other = Caller(client, session=await session_for((await factories.practitioner())[0]))
    assert (await other.gql(READ, {"ins": pending.ins})).codes == ["FORBIDDEN"]
    assert await _refused_events() == written + 1

    # The next hour, the caller's refusals are answered (and written) again.
    clock.shift(dt.timedelta(hours=1))
    caller = Caller(client, session=await session_for(account))
    assert (await caller.gql(READ, {"ins": pending.ins})).codes == ["FORBIDDEN"]
    assert await _refused_events() == written + 2


async def test_past_the_bound_a_record_and_an_unknown_ins_run_the_same_statements(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "REFUSED_READS_PER_HOUR", 2)
    _, record = await factories.patient()
    for make in (factories.practitioner, factories.patient):
        caller = Caller(client, session=await session_for((await make())[0]))
        for _ in range(2):
            assert (await caller.gql(READ, {"ins": factories.new_ins()})).codes == ["FORBIDDEN"]
        # Past the bound already (and the session's first use, touched, behind it).
        assert (await caller.gql(READ, {"ins": record.ins})).codes == ["RATE_LIMITED"]
        shapes = []
        for ins in (record.ins, factories.new_ins()):
            with count_queries() as statements:
                assert (await caller.gql(READ, {"ins": ins})).codes == ["RATE_LIMITED"]
            shapes.append([s.split(" WHERE ")[0] for s in statements])
        assert shapes[0] == shapes[1] and any("rate_counter" in s for s in shapes[0])


async def test_a_granted_read_takes_no_counter(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    account, practitioner = await factories.practitioner()
    await Grant.create(record=record, practitioner=practitioner, sections=[Section.ALLERGIES.value])
    caller = Caller(client, session=await session_for(account))
    (await caller.gql(READ, {"ins": record.ins})).ok()
    with count_queries() as statements:
        (await caller.gql(READ, {"ins": record.ins})).ok()
    assert statements and not any("rate_counter" in s for s in statements)


async def test_an_insurers_token_has_a_bound_of_its_own(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "REFUSED_READS_PER_HOUR", 3)
    _, record = await factories.patient()
    first, second = Caller(client, token=await insurer_token()), Caller(client, token=await insurer_token())
    for _ in range(3):
        assert (await first.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    assert (await first.gql(READ, {"ins": record.ins})).codes == ["RATE_LIMITED"]
    assert (await first.gql(READ, {"ins": factories.new_ins()})).codes == ["RATE_LIMITED"]
    assert await _refused_events() == 3
    assert (await second.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    assert await _refused_events() == 4


async def test_refused_downloads_count_with_refused_reads_and_are_bounded_alike(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document the caller may not read is a denied attempt in its record's history, as a
    refused read is: counted with them, whether the document exists or not; past the bound,
    429 and nothing written, after the same floor, for both."""
    import uuid

    from backend import downloads
    from tests.document_samples import download, pdf, upload

    waited: list[int] = []

    async def answer_no_sooner(since: float) -> None:
        waited.append(1)

    monkeypatch.setattr(downloads, "answer_no_sooner", answer_no_sooner)
    monkeypatch.setattr(records, "REFUSED_READS_PER_HOUR", 4)
    owner, record = await factories.patient()
    entry_id = (await upload(Caller(client, session=await session_for(owner)), pdf("secret"), "cr.pdf")
                ).ok()["uploadDocument"]["entry"]["id"]
    account, practitioner = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    assert (await caller.gql(READ, {"ins": record.ins})).codes == ["FORBIDDEN"]
    assert (await caller.gql(READ, {"ins": factories.new_ins()})).codes == ["FORBIDDEN"]
    assert (await download(caller, entry_id)).status_code == 404
    assert (await download(caller, str(uuid.uuid4()))).status_code == 404
    assert await _refused_events() == 2

    refused, missing = await download(caller, entry_id), await download(caller, str(uuid.uuid4()))
    assert refused.status_code == missing.status_code == 429
    answers = [answer.json() for answer in (refused, missing)]
    for answer, body in zip((refused, missing), answers, strict=True):
        # The seconds to the hour's end, in the body and the header: the time, nothing of the entry.
        assert 0 < body["errors"][0]["extensions"].pop("retryAfter") <= 3600
        assert 0 < int(answer.headers["retry-after"]) <= 3600
    assert answers[0] == answers[1]
    assert answers[0]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused.headers.get("cache-control") == "no-store"
    assert waited == [1] * 4  # the two 404 and the two 429 alike
    assert (await caller.gql(READ, {"ins": record.ins})).codes == ["RATE_LIMITED"]
    assert await _refused_events() == 2

    # A document the caller may read is downloaded past the bound, and written.
    await Grant.create(record=record, practitioner=practitioner, sections=[Section.DOCUMENTS.value])
    granted = await download(caller, entry_id)
    assert granted.status_code == 200 and granted.content == pdf("secret")
    assert await AccessEvent.filter(record_id=record.id, action="DOCUMENT_DOWNLOADED").count() == 1


async def test_refused_writes_count_with_refused_reads_and_are_bounded_alike(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """addEntry, uploadDocument and updateEmergencyProfile refused on an existing record each
    write a denied attempt, as a refused read does: counted with them, whether the INS names
    a record or not; past the bound, RATE_LIMITED and nothing written, for both alike."""
    from tests.care_items import ADD_ENTRY
    from tests.document_samples import pdf, upload
    from tests.test_content_add_entry import medication

    profile = ("mutation($input: EmergencyProfileInput!) {"
               " updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }")
    monkeypatch.setattr(records, "REFUSED_READS_PER_HOUR", 6)
    _, record = await factories.patient()
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))

    async def attempts(ins: str) -> list[str]:
        added = await caller.gql(ADD_ENTRY, {"input": medication(ins)})
        uploaded = await upload(caller, pdf("x"), "cr.pdf", ins=ins)
        changed = await caller.gql(profile, {"input": {"ins": ins, "bloodGroup": "AB-"}})
        return [*added.codes, *uploaded.codes, *changed.codes]

    assert await attempts(record.ins) == ["FORBIDDEN"] * 3
    assert await attempts(factories.new_ins()) == ["FORBIDDEN"] * 3
    assert await _refused_events() == 3
    assert await attempts(record.ins) == await attempts(factories.new_ins()) == ["RATE_LIMITED"] * 3
    assert (await caller.gql(READ, {"ins": record.ins})).codes == ["RATE_LIMITED"]
    assert await _refused_events() == 3
    assert not await Record.filter(id=record.id, blood_group="AB-").exists()
    assert not await Entry.filter(record_id=record.id).exists()
