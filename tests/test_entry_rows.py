"""Page entries are read as `EntryRow`s, not models (issue #14): the same values, types, order.

Runs on the suite's database, so both SQLite (text UUIDs, dates, JSON; integer booleans)
and PostgreSQL (native values, JSON as text) are checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest

from backend import sql
from backend.domain.enums import EntrySource, Profession, RecordStatus, Section
from backend.models import Entry, Record, StoredFile
from backend.resolvers import records
from backend.resolvers.entry_pages import EntryRow, PageRequest, _branch, load_pages
from backend.resolvers.pagination import encode_entry_cursor
from backend.schema.types import to_entry
from tests import factories

SECTIONS = (Section.ALLERGIES, Section.MEDICATIONS, Section.LAB_RESULTS, Section.HOSPITAL_STAYS,
            Section.DOCUMENTS, Section.VACCINATIONS)


def _same(a: Any, b: Any, where: str) -> None:
    """Equal, of the same type, down through dataclasses (strawberry types are dataclasses)."""
    assert type(a) is type(b), (where, type(a), type(b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
        return
    assert a == b, (where, a, b)
    if isinstance(a, dt.datetime):
        assert a.tzinfo == b.tzinfo, (where, a.tzinfo, b.tzinfo)


async def _record_with_entries() -> Record:
    """Several sections, details of each kind of value, masked, superseded, a file, authors."""
    _, record = await factories.patient()
    author, _ = await factories.practitioner(Profession.PHARMACIEN)
    for i in range(4):
        await factories.entry(record, Section.ALLERGIES, title=f"a{i}", days_ago=1 + i // 2,
                              masked=i == 1, substance=f"s{i}", severity="high")
        await factories.entry(record, Section.MEDICATIONS, title=f"m{i}", days_ago=1 + i // 2,
                              author=author if i % 2 else None, cip13="3400930000000",
                              quantity=i, dose="")
    old = await factories.entry(record, Section.ALLERGIES, title="old", days_ago=9, substance="x")
    new = await Entry.create(
        record=record, section=Section.ALLERGIES, title="corrected", code="Z88.0",
        care_date=old.care_date, author=author, author_name="", author_profession="pharmacien",
        source=old.source, details={"substance": "y", "reaction": None}, supersedes=old,
    )
    await Entry.filter(id=old.id).update(superseded=True)
    await Entry.filter(id=new.id).update(masked=True)
    await factories.entry(record, Section.LAB_RESULTS, title="lab", analyte="HbA1c", value="6.1",
                          abnormal=True, fileName="lab.pdf", contentType="application/pdf")
    await factories.entry(record, Section.HOSPITAL_STAYS, title="stay", facility="CHU",
                          admissionDate="2024-01-02", dischargeDate="")
    await factories.entry(record, Section.DOCUMENTS, title="doc", documentType="CR", size=3,
                          fileName="cr.pdf")
    await factories.entry(record, Section.VACCINATIONS, title="vac", doseNumber=True, lot=7)
    for section in (Section.LAB_RESULTS, Section.DOCUMENTS):
        stored = await StoredFile.create(record=record, content_type="application/pdf", size=3,
                                         filename="f.pdf", key_id="k1", wrapped_key=b"w", nonce=b"n")
        await Entry.filter(record_id=record.id, section=section).update(file_id=stored.id)
    return record


def _request(record: Record, section: Section, first: int = 20,
             after: tuple[dt.date, Any] | None = None, *, hide_masked: bool = False) -> PageRequest:
    return PageRequest(record_id=record.id, section=section, first=first, after=after,
                       include_superseded=True, with_total=True, hide_masked=hide_masked, masked_author=None)


async def test_rows_are_what_the_orm_gives() -> None:
    """Column by column, the row's values are the model's, built from the same row."""
    record = await _record_with_entries()
    requests = [_request(record, s) for s in SECTIONS]
    params: list[Any] = []
    text = " UNION ALL ".join(_branch(k, req, params) for k, req in enumerate(requests))
    models = {m.id: m for m in (Entry._init_from_db(**dict(row)) for row in await sql.fetch(text, params))}
    rows = [e for page in await load_pages(requests) for e in page.entries]
    assert len(rows) == len(models) == await Entry.filter(record_id=record.id).count()
    for row in rows:
        model = models[row.id]
        for f in dataclasses.fields(EntryRow):
            value = getattr(row, f.name)
            if f.name == "details":  # the column's JSON text, decoded when a detail is read
                assert isinstance(value, str)
                value = sql.driver_reader(Entry, "details")(value)
            elif f.name == "created_at":  # the driver's value, read when the field is read
                value = sql.driver_reader(Entry, "created_at")(value)
            _same(value, getattr(model, f.name), f.name)


async def test_to_entry_of_a_row_is_to_entry_of_the_model() -> None:
    record = await _record_with_entries()
    pages = await load_pages([_request(record, s) for s in SECTIONS])
    models = {m.id: m for m in await Entry.filter(record_id=record.id)}
    seen = 0
    for page in pages:
        for row in page.entries:
            for show_masked in (True, False):
                _same(to_entry(row, show_masked), to_entry(models[row.id], show_masked), str(row.id))
            seen += 1
    assert seen == len(models) == 14


async def test_pages_keep_their_order_and_cursors() -> None:
    """Newest first, id breaking ties, `first + 1` rows; the cursors are the models'."""
    record = await _record_with_entries()
    for hide_masked in (False, True):
        after: dict[Section, tuple[dt.date, Any] | None] = {s: None for s in SECTIONS}
        pages_read = 0
        while True:
            asked = [s for s in SECTIONS if pages_read == 0 or after[s] is not None]
            if not asked:
                break
            pages = await load_pages([_request(record, s, 2, after[s], hide_masked=hide_masked)
                                      for s in asked])
            for section, page in zip(asked, pages, strict=True):
                query = Entry.filter(record_id=record.id, section=section)
                if hide_masked:
                    query = query.filter(masked=False)
                models = await query.order_by("-care_date", "-id")
                cursor = after[section]
                if cursor is not None:
                    models = [m for m in models if (m.care_date, m.id) < cursor]
                expected = models[:3]
                assert [e.id for e in page.entries] == [m.id for m in expected]
                assert [records.cursor_of(e) for e in page.entries] == [
                    encode_entry_cursor(m.care_date, m.id) for m in expected
                ]
                visible = Entry.filter(record_id=record.id, section=section)
                total = await (visible.filter(masked=False) if hide_masked else visible).count()
                assert page.total == (total if page.entries else None)
                after[section] = (
                    (page.entries[1].care_date, page.entries[1].id) if len(page.entries) > 2 else None
                )
            pages_read += 1
        assert pages_read >= 2  # pages after a cursor too


def test_fast_text_dates_match_the_fields_converters() -> None:
    """SQLite's text dates and times: `fromisoformat` where it can, the same as Tortoise's parser."""
    created_at = Entry._meta.fields_map["created_at"]
    care_date = Entry._meta.fields_map["care_date"]
    read_created = sql._datetime(created_at)
    read_date = sql._text_date(care_date)
    for text in ("2026-12-04 18:20:19.667733+00:00", "2026-12-04 18:20:19+00:00",
                 "2026-12-04T18:20:19Z", "2026-12-04 20:20:19.5+02:00", "2026-12-04 18:20:19"):
        _same(read_created(text), created_at.to_python_value(text), text)
    for text in ("2026-12-03", "2026-12-03 00:00:00", "2026-12-03T10:00:00+01:00"):
        _same(read_date(text), care_date.to_python_value(text), text)
    now = dt.datetime.now(dt.UTC)
    _same(read_created(now), created_at.to_python_value(now), "datetime")
    _same(read_date(now.date()), now.date(), "date")


def test_native_datetimes_are_what_the_fields_converter_gives() -> None:
    """asyncpg's datetimes in UTC take a shortcut; anything else the field's converter."""
    created_at = Entry._meta.fields_map["created_at"]
    read = sql._datetime(created_at)
    paris = dt.timezone(dt.timedelta(hours=1))
    for value in (dt.datetime(2026, 12, 5, 17, 0, 1, 5, tzinfo=dt.UTC),
                  dt.datetime(2026, 12, 5, 18, 0, tzinfo=paris),
                  dt.datetime(2026, 12, 5, 18, 0),
                  "2026-12-05 18:00:00+01:00", None):
        _same(read(value), created_at.to_python_value(value), repr(value))


def test_json_read_is_what_the_fields_converter_gives() -> None:
    """The details decoded directly; anything else, and invalid text, by the field's converter."""
    from tortoise.exceptions import FieldError

    details = Entry._meta.fields_map["details"]
    read = sql.reader(Entry, "details", None)
    assert read is not None
    for value in ('{"quantity": 2, "dose": "1 cp"}', "[1, 2]", "null", "{}", b'{"a": 1}',
                  {"already": "decoded"}, None):
        _same(read(value), details.to_python_value(value), repr(value))
    for invalid in ("{", "nan nan"):
        with pytest.raises(FieldError):
            read(invalid)


def test_each_entry_type_is_what_its_constructor_builds() -> None:
    """`to_entry` fills an instance's `__dict__` directly: the fields of `Entry` but
    `created_at`, and the row that one and the details are read from; once they are read,
    every field and nothing else, and an instance equal to the one the type's own
    constructor makes from the same values."""
    import uuid

    from backend.domain.enums import EntrySource
    from backend.schema import types
    from backend.schema.types import ENTRY_TYPES

    common = {f.name for f in dataclasses.fields(types.Entry)} - {"created_at", "author"}

    seen = set()
    for section in Section:
        if section is Section.EMERGENCY:
            continue
        row = EntryRow(
            id=uuid.uuid4(), section=section, title="t", code="c", care_date=dt.date(2024, 1, 2),
            source=EntrySource.PRACTITIONER, author_name="Dr A", author_profession="médecin",
            created_at=dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC), supersedes_id=uuid.uuid4(),
            superseded=False, masked=True, details={"quantity": 2, "fileName": "f.pdf"},
            file_id=uuid.uuid4(),
        )
        entry = to_entry(row, True)
        cls = type(entry)
        names = [f.name for f in dataclasses.fields(entry)]
        assert set(vars(entry)) == common | {types._PENDING}, cls
        assert vars(entry)[types._PENDING] is row
        rebuilt = cls(**{name: getattr(entry, name) for name in names})
        assert sorted(vars(entry)) == sorted(names), cls
        assert rebuilt == entry and vars(rebuilt) == vars(entry)
        seen.add(cls)
    assert seen == set(ENTRY_TYPES)


def test_a_pages_edges_are_what_their_constructor_builds() -> None:
    """`_connection` makes each edge without `EntryEdge.__init__`: equal to the edge the
    constructor makes from the same node, holding the same attributes."""
    from backend.resolvers.records import EntryPage, RecordView
    from backend.schema.record import EntryEdge, _connection

    rows = [
        EntryRow(
            id=uuid.uuid4(), section=Section.ALLERGIES, title=f"t{k}", code="c",
            care_date=dt.date(2024, 1, 2 + k), source=EntrySource.PRACTITIONER, author_name="Dr A",
            author_profession=None, created_at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
            supersedes_id=None, superseded=False, masked=False, details={}, file_id=None,
        )
        for k in range(3)
    ]
    view = RecordView(record=None, viewer=None, facts=None, sharing=None)  # type: ignore[arg-type]
    page = EntryPage(rows, False, view, None)  # type: ignore[arg-type]
    edges = _connection(page).edges
    assert [edge.node.title for edge in edges] == ["t0", "t1", "t2"]
    for edge in edges:
        rebuilt = EntryEdge(node=edge.node)
        assert type(edge) is EntryEdge and edge == rebuilt and vars(edge) == vars(rebuilt)


async def test_a_model_from_a_row_is_the_orms() -> None:
    """`sql.model` builds what the ORM's `_init_from_db` builds from the same row: the same
    attributes, values and types, for records in several states and for entries; a row
    without every column goes to the ORM's own way."""
    record = await _record_with_entries()
    await Record.filter(id=record.id).update(
        closed_at=dt.datetime(2024, 3, 4, 5, 6, 7, 890000, tzinfo=dt.UTC),
        deletion_requested_at=dt.datetime(2024, 3, 5, tzinfo=dt.UTC),
        emergency_contacts=[{"name": "Léa", "phone": "0601020304", "relation": None}],
    )
    _, other = await factories.patient()
    await Record.filter(id=other.id).update(status=RecordStatus.CLOSED)
    seen = 0
    for table, cls in (("record", Record), ("entry", Entry)):
        for row in await sql.fetch(f'SELECT * FROM "{table}"', []):
            built, reference = sql.model(cls, row), cls._init_from_db(**dict(row))
            assert type(built) is cls
            assert vars(built).keys() == vars(reference).keys()
            for name, value in vars(reference).items():
                _same(vars(built)[name], value, f"{table}.{name}")
            seen += 1
    assert seen == 2 + 14
    partial = (await sql.fetch('SELECT "id", "ins" FROM "record"', []))[0]
    assert sql.model(Record, partial)._partial is True


def test_details_are_read_when_one_is_first_read() -> None:
    """A page row's details stay JSON text until a detail field is read, its `created_at`
    the driver's value and its author unmade until they are read: reading the other
    fields, or asking for any other missing attribute, reads none of them; the first detail
    read decodes them once for all the entry's detail fields; text the decoder refuses fails
    that read, with the field converter's own error, and not the entry's other fields."""
    import uuid

    from tortoise.exceptions import FieldError

    from backend.domain.enums import EntrySource
    from backend.schema import types

    def row(details: str) -> EntryRow:
        return EntryRow(
            id=uuid.uuid4(), section=Section.MEDICATIONS, title="t", code="c",
            care_date=dt.date(2024, 1, 2), source=EntrySource.PRACTITIONER, author_name="Dr A",
            author_profession=None, created_at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
            supersedes_id=None, superseded=False, masked=False, details=details, file_id=None,
        )

    entry = to_entry(row('{"dose": "1/j", "quantity": 3, "atc": ""}'), True)
    assert (entry.title, entry.date) == ("t", dt.date(2024, 1, 2))
    assert getattr(entry, "__as_strawberry_type__", None) is None
    with pytest.raises(AttributeError):
        entry.not_a_field  # type: ignore[attr-defined]  # noqa: B018
    assert "dose" not in vars(entry) and "created_at" not in vars(entry)
    assert entry.dose == "1/j"  # type: ignore[attr-defined]
    assert types._PENDING in vars(entry)  # still needed for `created_at`
    assert (entry.quantity, entry.atc, entry.cip13) == (3, None, None)  # type: ignore[attr-defined]
    assert entry.created_at == dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    assert types._PENDING in vars(entry) and "author" not in vars(entry)  # still needed for `author`
    assert entry.author == types.Author(display_name="Dr A", profession=None)
    assert types._PENDING not in vars(entry)
    assert entry.author is entry.author  # made once

    # The other order: `created_at` first, the details after; on SQLite, its text.
    later = to_entry(row("{}"), True)
    later_row = vars(later)[types._PENDING]
    later_row.created_at = "2024-01-02T00:00:00+00:00"
    assert later.created_at == dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    assert types._PENDING in vars(later)
    assert later.dose is None  # type: ignore[attr-defined]
    assert types._PENDING in vars(later)
    later_row.author_name = ""  # an entry without an author
    assert later.author is None
    assert types._PENDING not in vars(later)

    broken = to_entry(row("{not json"), True)
    assert broken.title == "t"
    with pytest.raises(FieldError):
        broken.dose  # type: ignore[attr-defined]  # noqa: B018


def test_a_statement_written_once_takes_each_requests_values() -> None:
    """The pages statement is kept by the shapes of its pages; a later request of the same
    shapes gets the same text and exactly the parameters writing it anew would give."""
    import itertools
    import uuid

    from backend.resolvers import entry_pages

    record_id, author = uuid.uuid4(), uuid.uuid4()
    requests = [
        PageRequest(record_id=record_id, section=section, first=5 + k,
                    after=(dt.date(2024, 1, 1) + dt.timedelta(days=k), uuid.uuid4()) if after else None,
                    include_superseded=superseded, with_total=count, hide_masked=hide,
                    masked_author=author if with_author else None)
        for k, ((count, hide, with_author, superseded, after), section) in enumerate(
            zip(itertools.product((False, True), repeat=5), itertools.cycle(SECTIONS), strict=False)
        )
    ]
    assert len(requests) == 32
    entry_pages._STATEMENTS.clear()
    for group in (requests[:10], requests[10:25], requests[25:], requests[::-1]):
        fresh: list[Any] = []
        text = " UNION ALL ".join(_branch(k, req, fresh) for k, req in enumerate(group))
        assert entry_pages._statement(group) == (text, fresh)  # written, then kept
        assert entry_pages._statement(group) == (text, fresh)  # kept, values listed anew
        again = [r._replace(record_id=uuid.uuid4(), first=r.first + 1) for r in group]
        fresh = []
        text = " UNION ALL ".join(_branch(k, req, fresh) for k, req in enumerate(again))
        assert entry_pages._statement(again) == (text, fresh)
