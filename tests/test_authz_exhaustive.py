"""The proof: every path to medical content in schema.graphql, for every kind of caller.

The walker (tests/authz_walker.py) finds every field reachable from Query and Mutation that
leads to PatientRecord, an Entry, the emergency profile or the access history (whose events
name entries and give their titles), and fails on any field it has no policy for. Each actor
state below is run against every such path, and the answers are compared with an expectation
table written here from DESIGN §3 and §4 — not computed by decide().
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema

from backend import accounts, clock
from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import (
    AccessAction,
    AccessMode,
    EmergencyKind,
    Profession,
    RecordStatus,
    Role,
    Section,
)
from backend.files import storage
from backend.models import (
    AccessEvent,
    Account,
    BlockedPractitioner,
    EmergencySession,
    Entry,
    Grant,
    Practitioner,
    Record,
    StoredFile,
)
from backend.resolvers.history import event_id
from tests import factories
from tests.authz_walker import (
    CONNECTION_FIELDS,
    DECISION,
    ENTRY_TYPE,
    FIELD_POLICY,
    OWNER,
    OWNER_ONLY,
    OWNER_OR_TREATING,
    ROOT_POLICY,
    WRITER,
    operation,
    walk,
)
from tests.conftest import Caller, GraphQLResult, session_for

SCHEMA_SDL = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
SCHEMA = build_schema(SCHEMA_SDL)
S = Section
ALL = frozenset(Section)
WITH_ENTRIES = frozenset(CONNECTION_FIELDS.values())  # EMERGENCY is the profile, not a list
# DESIGN §3: "a pharmacist may see MEDICATIONS, ALLERGIES, LAB_RESULTS, VACCINATIONS, EMERGENCY".
PHARMACIST = frozenset({S.MEDICATIONS, S.ALLERGIES, S.LAB_RESULTS, S.VACCINATIONS, S.EMERGENCY})
# DESIGN §3: OWNER > TREATING_PHYSICIAN > GRANTED > EMERGENCY_REGULATOR > BREAK_GLASS.
STRENGTH = ["BREAK_GLASS", "EMERGENCY_REGULATOR", "GRANTED", "TREATING_PHYSICIAN", "OWNER"]
REASON = "Patient inconscient, régulation SAMU en cours"
BLOOD_GROUP = "O+"
DOCUMENT = b"%PDF-1.4 compte rendu"

Q_MY, Q_PR = "Query.myRecord", "Query.patientRecord"
M_REG, M_BG = "Mutation.regulatorAccess.record", "Mutation.openBreakGlass.record"
Q_HISTORY = "Query.myAccessHistory"


@dataclass(frozen=True)
class Sees:
    """The record comes back with exactly these sections, in these modes."""

    modes: Mapping[Section, str]
    masked: frozenset[Section] = frozenset()  # sections whose masked entry shows too
    status: str = "ACTIVE"
    owner: bool = False


Outcome = Sees | str | None  # Sees, an error code, None (null), or OTHER
OTHER = "OTHER"  # myRecord answers with the caller's own, different record
# What myAccessHistory gives: the target record's events with the named entries' titles, the
# events without titles (a record waiting for its deletion), no event (a pending record), or
# OTHER, F, U as above.
TITLED, UNTITLED, EMPTY = "TITLED", "UNTITLED", "EMPTY"
F, U = "FORBIDDEN", "UNAUTHENTICATED"


def only(mode: str, sections: frozenset[Section], masked: frozenset[Section] = frozenset()) -> Sees:
    return Sees({s: mode for s in sections}, masked)


def mixed(first: str, sections: frozenset[Section], rest: str, within: frozenset[Section] = ALL,
          masked: frozenset[Section] = frozenset()) -> Sees:
    return Sees({s: first if s in sections else rest for s in within}, masked)


OWNER_VIEW = Sees({s: "OWNER" for s in ALL}, WITH_ENTRIES, owner=True)


@dataclass
class World:
    client: httpx.AsyncClient
    owner: Account
    record: Record
    author: Account
    author_pid: Any
    visible: dict[Section, str] = field(default_factory=dict)
    masked: dict[Section, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # entry id -> title


async def build_world(client: httpx.AsyncClient) -> World:
    owner, record = await factories.patient()
    author, author_practitioner = await factories.practitioner(Profession.MEDECIN)
    await Record.filter(id=record.id).update(blood_group=BLOOD_GROUP)
    world = World(client, owner, record, author, author_practitioner.id)
    for section in WITH_ENTRIES:
        visible = await factories.entry(record, section, title=f"visible {section}", days_ago=1)
        masked = await factories.entry(
            record, section, title=f"masked {section}", days_ago=2, author=author, masked=True
        )
        world.visible[section], world.masked[section] = str(visible.id), str(masked.id)
        world.titles[str(visible.id)], world.titles[str(masked.id)] = visible.title, masked.title
        if section == S.DOCUMENTS:
            for entry in (visible, masked):
                await _attach_file(record, entry)
    # The owner masked one entry: their history names it, and gives them its title.
    await append(Actor(owner.id, owner.display_name, None, Role.PATIENT.value),
                 PendingEvent(record.id, AccessAction.ENTRY_MASKED, AccessMode.OWNER, {S.ALLERGIES},
                              entry_id=world.masked[S.ALLERGIES]))
    return world


async def _attach_file(record: Record, entry: Entry) -> None:
    file_id = uuid.uuid4()
    sealed = await storage.write(file_id, DOCUMENT)
    stored = await StoredFile.create(
        id=file_id, record=record, content_type="application/pdf", size=len(DOCUMENT),
        filename="compte-rendu.pdf", key_id=sealed.key_id, wrapped_key=sealed.wrapped_key,
        nonce=sealed.nonce,
    )
    await Entry.filter(id=entry.id).update(file_id=stored.id)


async def _caller(world: World, account: Account) -> Caller:
    return Caller(world.client, session=await session_for(account))


async def _pro(world: World, profession: Profession = Profession.MEDECIN,
               regulator: bool = False) -> tuple[Caller, Practitioner]:
    account, practitioner = await factories.practitioner(profession, regulator=regulator)
    return await _caller(world, account), practitioner


async def _grant(world: World, practitioner: Practitioner, sections: frozenset[Section]) -> None:
    # Written directly: the state (e.g. a grant beyond the matrix) may predate today's rules.
    await Grant.create(record_id=world.record.id, practitioner_id=practitioner.id,
                       sections=[s.value for s in sections])


async def _session(world: World, practitioner: Practitioner, kind: EmergencyKind,
                   expired: bool = False) -> None:
    now = clock.now()
    await EmergencySession.create(
        record_id=world.record.id, practitioner_id=practitioner.id, kind=kind, reason=REASON,
        opened_at=now - dt.timedelta(minutes=90 if expired else 1),
        expires_at=now - dt.timedelta(minutes=1) if expired else now + dt.timedelta(minutes=20),
    )


async def _status(world: World, status: RecordStatus) -> None:
    await Record.filter(id=world.record.id).update(status=status)


Setup = Callable[[World], Awaitable[Caller]]


@dataclass(frozen=True)
class State:
    name: str
    setup: Setup
    my_record: Outcome
    patient_record: Outcome
    regulator: Outcome
    break_glass: Outcome
    owner: bool = False  # may mask, unmask, close, reopen
    edits_profile: bool = False  # owner, or treating physician of an active record
    writes_lab_results: bool = False  # the addEntry and upload probes write to LAB_RESULTS
    # The record's owner, refused (pending, waiting for deletion): not an attempt by someone
    # else, so no event (DESIGN §4: accesses by anyone but its owner).
    owns_refused: bool = False
    # How /files refuses: 404 as for a missing id; the owner of a record waiting for its
    # deletion is told so (403).
    download_refusal: int = 404
    # What myAccessHistory gives (DESIGN §4: the patient alone reads their record's history).
    history: str = F


async def anonymous(world: World) -> Caller:
    return Caller(world.client)


async def owner(world: World) -> Caller:
    return await _caller(world, world.owner)


async def other_patient(world: World) -> Caller:
    account, _ = await factories.patient()
    return await _caller(world, account)


async def no_grant(world: World) -> Caller:
    return (await _pro(world))[0]


def granted(section: Section) -> Setup:
    async def setup(world: World) -> Caller:
        caller, practitioner = await _pro(world)
        await _grant(world, practitioner, frozenset({section}))
        return caller

    return setup


async def pharmacist_granted_all(world: World) -> Caller:
    caller, practitioner = await _pro(world, Profession.PHARMACIEN)
    await _grant(world, practitioner, ALL)
    return caller


async def treating(world: World) -> Caller:
    caller, practitioner = await _pro(world)
    await Record.filter(id=world.record.id).update(treating_physician_id=practitioner.id)
    return caller


async def author_granted(world: World) -> Caller:
    author = await Practitioner.get(id=world.author_pid)
    await _grant(world, author, frozenset({S.ALLERGIES, S.MEDICATIONS}))
    return await _caller(world, world.author)


async def author_without_grant(world: World) -> Caller:
    return await _caller(world, world.author)


async def blocked(world: World) -> Caller:
    caller, practitioner = await _pro(world, regulator=True)
    await _grant(world, practitioner, ALL)
    await _session(world, practitioner, EmergencyKind.REGULATOR)
    await _session(world, practitioner, EmergencyKind.BREAK_GLASS)
    await BlockedPractitioner.create(record_id=world.record.id, practitioner_id=practitioner.id)
    return caller


def regulator(opposed: bool = False, expired: bool = False) -> Setup:
    async def setup(world: World) -> Caller:
        caller, practitioner = await _pro(world, regulator=True)
        await _session(world, practitioner, EmergencyKind.REGULATOR, expired=expired)
        if opposed:
            await Record.filter(id=world.record.id).update(allow_regulator=False)
        return caller

    return setup


def break_glass(opposed: bool = False, expired: bool = False) -> Setup:
    async def setup(world: World) -> Caller:
        caller, practitioner = await _pro(world, Profession.PHARMACIEN)
        await _session(world, practitioner, EmergencyKind.BREAK_GLASS, expired=expired)
        if opposed:
            await Record.filter(id=world.record.id).update(allow_break_glass=False)
        return caller

    return setup


async def granted_and_break_glass(world: World) -> Caller:
    caller, practitioner = await _pro(world)
    await _grant(world, practitioner, frozenset({S.MEDICATIONS}))
    await _session(world, practitioner, EmergencyKind.BREAK_GLASS)
    return caller


async def support(world: World) -> Caller:
    return await _caller(world, await factories.support())


async def insurer_token(world: World) -> Caller:
    _, token = await accounts.create_token("cpam", ["insurer:import"], organization="CPAM")
    return Caller(world.client, token=token)


async def practitioner_token(world: World) -> Caller:
    _, practitioner = await factories.practitioner(Profession.MEDECIN)
    await _grant(world, practitioner, frozenset({S.ALLERGIES}))
    _, token = await accounts.create_token("cabinet", ["practitioner"], practitioner_rpps=practitioner.rpps)
    return Caller(world.client, token=token)


def with_status(status: RecordStatus, setup: Setup) -> Setup:
    async def wrapped(world: World) -> Caller:
        caller = await setup(world)
        await _status(world, status)
        return caller

    return wrapped


async def treating_with_grant(world: World) -> Caller:
    caller, practitioner = await _pro(world, regulator=True)
    await Record.filter(id=world.record.id).update(treating_physician_id=practitioner.id)
    await _grant(world, practitioner, ALL)
    return caller


CLOSED_OWNER = Sees({s: "OWNER" for s in ALL}, WITH_ENTRIES, status="CLOSED", owner=True)

STATES: list[State] = [
    State("anonymous", anonymous, U, U, U, U, history=U),
    State("owner", owner, OWNER_VIEW, OWNER_VIEW, F, F, owner=True, edits_profile=True, history=TITLED),
    State("another patient", other_patient, OTHER, F, F, F, history=OTHER),
    State("practitioner without grant", no_grant, None, F, F, only("BREAK_GLASS", ALL)),
    *[
        State(f"granted {s.value} only", granted(s), None, only("GRANTED", frozenset({s})), F,
              mixed("GRANTED", frozenset({s}), "BREAK_GLASS"), writes_lab_results=s == S.LAB_RESULTS)
        for s in Section
    ],
    State("pharmacist granted every section", pharmacist_granted_all, None,
          only("GRANTED", PHARMACIST), F, only("GRANTED", PHARMACIST), writes_lab_results=True),
    State("treating physician", treating, None, only("TREATING_PHYSICIAN", ALL, WITH_ENTRIES), F,
          only("TREATING_PHYSICIAN", ALL, WITH_ENTRIES), edits_profile=True, writes_lab_results=True),
    State("author of the masked entries, granted two sections", author_granted, None,
          only("GRANTED", frozenset({S.ALLERGIES, S.MEDICATIONS}),
               frozenset({S.ALLERGIES, S.MEDICATIONS})),
          F,
          mixed("GRANTED", frozenset({S.ALLERGIES, S.MEDICATIONS}), "BREAK_GLASS", masked=WITH_ENTRIES)),
    State("author of the masked entries, no grant", author_without_grant, None, F, F,
          only("BREAK_GLASS", ALL, WITH_ENTRIES)),
    State("blocked (with grant and open emergency sessions)", blocked, None, F, F, F),
    State("regulator, session open", regulator(), None, only("EMERGENCY_REGULATOR", ALL),
          only("EMERGENCY_REGULATOR", ALL), only("EMERGENCY_REGULATOR", ALL)),
    State("regulator, patient opposed", regulator(opposed=True), None, F, F, only("BREAK_GLASS", ALL)),
    State("regulator, session expired", regulator(expired=True), None, F,
          only("EMERGENCY_REGULATOR", ALL), only("EMERGENCY_REGULATOR", ALL)),
    State("break-glass, session open", break_glass(), None, only("BREAK_GLASS", PHARMACIST), F,
          only("BREAK_GLASS", PHARMACIST)),
    State("break-glass, patient opposed", break_glass(opposed=True), None, F, F, F),
    State("break-glass, session expired", break_glass(expired=True), None, F, F,
          only("BREAK_GLASS", PHARMACIST)),
    State("granted MEDICATIONS with break-glass open", granted_and_break_glass, None,
          mixed("GRANTED", frozenset({S.MEDICATIONS}), "BREAK_GLASS"), F,
          mixed("GRANTED", frozenset({S.MEDICATIONS}), "BREAK_GLASS")),
    State("support", support, None, F, F, F),
    State("insurer token", insurer_token, None, F, F, F),
    State("practitioner token granted ALLERGIES", practitioner_token, None,
          only("GRANTED", frozenset({S.ALLERGIES})), F,
          mixed("GRANTED", frozenset({S.ALLERGIES}), "BREAK_GLASS")),
    State("closed record, owner", with_status(RecordStatus.CLOSED, owner), CLOSED_OWNER, CLOSED_OWNER,
          F, F, owner=True, history=TITLED),
    State("closed record, treating physician with grant", with_status(RecordStatus.CLOSED,
          treating_with_grant), None, F, F, F),
    State("pending record, owner", with_status(RecordStatus.PENDING, owner), None, F, F, F,
          owns_refused=True, history=EMPTY),
    State("pending record, granted practitioner", with_status(RecordStatus.PENDING,
          granted(S.ALLERGIES)), None, F, F, F),
    State("deleted record, owner", with_status(RecordStatus.DELETED, owner), None, F, F, F,
          owns_refused=True, download_refusal=403, history=UNTITLED),
    State("deleted record, treating physician with grant", with_status(RecordStatus.DELETED,
          treating_with_grant), None, F, F, F),
]


def test_the_walker_knows_every_path_and_field() -> None:
    result = walk(SCHEMA)
    assert result.problems == []
    assert set(result.paths) == set(ROOT_POLICY)


@pytest.mark.parametrize(
    ("edit", "reported"),
    [
        (("type PatientRecord {", "type PatientRecord {\n  secretNotes: String"),
         "PatientRecord.secretNotes: no policy"),
        (("interface Entry {", "interface Entry {\n  internalComment: String"),
         "Entry.internalComment: no policy"),
        (("type EmergencyContact {", "type EmergencyContact {\n  address: String"),
         "EmergencyContact.address: no policy"),
        (("type Query {", "type Query {\n  entry(id: ID!): Entry"),
         "Query.entry: reaches Entry with no policy"),
        (("type Query {", "type Query {\n  allRecords: [PatientRecord!]!"),
         "Query.allRecords: reaches PatientRecord with no policy"),
        (("type Query {",
          "type Query {\n  nurseView: NurseView\n}\ntype NurseView {\n  notes: EntryConnection"),
         "Query.nurseView.notes: reaches EntryConnection with no policy"),
        (("interface Entry {",
          "type GeneticsEntry implements Entry {\n  id: ID!\n  section: Section!\n  title: String!\n"
          "  code: String!\n  date: Date!\n  source: EntrySource!\n  author: Author\n"
          "  createdAt: DateTime!\n  supersedes: ID\n  superseded: Boolean!\n  masked: Boolean\n"
          "  genome: String\n}\n\ninterface Entry {"),
         "GeneticsEntry: holds medical content and has no field policy"),
        (("type AccessEventNode {", "type AccessEventNode {\n  entryNotes: String"),
         "AccessEventNode.entryNotes: no policy"),
        (("type Query {", "type Query {\n  recordHistory(ins: String!): AccessEventConnection!"),
         "Query.recordHistory: reaches AccessEventConnection with no policy"),
        (("type Query {", "type Query {\n  lastAccess: AccessEventNode"),
         "Query.lastAccess: reaches AccessEventNode with no policy"),
    ],
)
def test_the_walker_reports_what_has_no_policy(edit: tuple[str, str], reported: str) -> None:
    old, new = edit
    assert old in SCHEMA_SDL
    copy = build_schema(SCHEMA_SDL.replace(old, new, 1))
    assert reported in walk(copy).problems
    assert reported not in walk(SCHEMA).problems


UPLOAD = "<upload>"
_BODY = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
UPLOADED_PDF = (
    _BODY + b"xref\n0 1\ntrailer\n<< /Root 1 0 R >>\nstartxref\n" + str(len(_BODY)).encode() + b"\n%%EOF\n"
)


async def _send(caller: Caller, document: str, variables: dict[str, Any]) -> GraphQLResult:
    """JSON, or a GraphQL multipart request when a variable is a file."""
    files = [name for name, value in variables.items() if value == UPLOAD]
    if not files:
        return await caller.gql(document, variables)
    operations = {"query": document, "variables": {k: (None if k in files else v)
                                                   for k, v in variables.items()}}
    caller.client.cookies.clear()
    for k, v in caller.cookies().items():
        caller.client.cookies.set(k, v)
    response = await caller.client.post(
        "/graphql",
        data={"operations": json.dumps(operations),
              "map": json.dumps({str(i): [f"variables.{name}"] for i, name in enumerate(files)})},
        files={str(i): ("note.pdf", UPLOADED_PDF, "application/pdf") for i in range(len(files))},
        headers={**caller.headers(), "x-dmp-client": "test"},
    )
    return GraphQLResult(response)


def _strongest(modes: Mapping[Section, str]) -> str | None:
    return max(modes.values(), key=STRENGTH.index) if modes else None


def _owner_only_fields(value: Any, type_name: str, owner: bool, where: str) -> None:
    """Every field the policy marks owner-only is null for everyone else, wherever it appears."""
    if isinstance(value, list):
        for item in value:
            _owner_only_fields(item, type_name, owner, where)
        return
    if not isinstance(value, dict):
        return
    policy = FIELD_POLICY.get(value.get("__typename", type_name), {})
    for key, item in value.items():
        if policy.get(key) == OWNER_ONLY and not owner:
            assert item is None, f"{where}: {key} shown to a non-owner"
        if isinstance(item, dict | list):
            _owner_only_fields(item, key, owner, f"{where}.{key}")


def _check_record(data: dict[str, Any], sees: Sees, world: World, where: str) -> None:
    assert data["ins"] == world.record.ins, where
    assert data["status"] == sees.status, where
    modes = {Section(s): m for s, m in sees.modes.items()}
    assert {Section(a["section"]): a["mode"] for a in data["sectionAccess"]} == modes, where
    assert {Section(s) for s in data["accessibleSections"]} == set(modes), where
    assert data["accessMode"] == _strongest(modes), where
    for name, section in CONNECTION_FIELDS.items():
        connection = data[name]
        if section not in modes:
            assert connection is None, f"{where}: {name} should be null"
            continue
        expected = [world.visible[section]]
        if section in sees.masked:
            expected.append(world.masked[section])
        nodes = [edge["node"] for edge in connection["edges"]]
        assert [n["id"] for n in nodes] == expected, f"{where}: {name}"
        assert connection["totalCount"] == len(expected), f"{where}: {name} totalCount"
        assert connection["pageInfo"]["hasNextPage"] is False, where
        for node in nodes:
            assert node["__typename"] == ENTRY_TYPE[section], where
            assert node["section"] == section.value, where
            if sees.owner:
                assert node["masked"] is (node["id"] == world.masked[section]), where
    profile = data["emergencyProfile"]
    if S.EMERGENCY in modes:
        assert profile is not None and profile["bloodGroup"] == BLOOD_GROUP, where
    else:
        assert profile is None, f"{where}: emergencyProfile should be null"


def _root_value(result: Any, path: str) -> Any:
    data = result.data or {}
    value: Any = data
    for name in path.split(".")[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _check_decision(result: Any, outcome: Outcome, world: World, where: str) -> None:
    value = _root_value(result, where)
    if isinstance(outcome, Sees):
        assert result.errors == [], f"{where}: {result.errors}"
        assert value is not None, where
        _check_record(value, outcome, world, where)
    elif outcome is None:
        assert result.errors == [] and value is None, f"{where}: {result.errors} {value}"
    elif outcome == OTHER:
        assert result.errors == [] and value["ins"] != world.record.ins, where
        seeded = set(world.visible.values()) | set(world.masked.values())
        assert not seeded & _ids(value), where
    else:
        assert result.codes == [outcome], f"{where}: {result.errors}"
        assert value is None, where


async def _about_target(world: World, value: Any) -> bool:
    """Does this answer carry anything of the target record?"""
    if value is None:
        return False
    if isinstance(value, dict) and value.get("ins") == world.record.ins:
        return True
    ids = _ids(value)
    return bool(ids) and await Entry.filter(record_id=world.record.id, id__in=list(ids)).exists()


def _ids(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(_ids(v) for v in value)) if value else set()
    if isinstance(value, dict):
        found = {value["id"]} if isinstance(value.get("id"), str) else set()
        return found.union(*(_ids(v) for v in value.values()))
    return set()


async def _new_events(world: World, after: int) -> list[AccessEvent]:
    return await AccessEvent.filter(record_id=world.record.id, id__gt=after).order_by("id")


async def _last_event_id() -> int:
    last = await AccessEvent.all().order_by("-id").first()
    return last.id if last else 0


def _may_succeed(state: State, policy: str) -> bool:
    if policy == WRITER:
        return state.writes_lab_results or state.owner  # the owner writes DOCUMENTS, LAB_RESULTS…
    if policy == OWNER:
        return state.owner
    if policy == OWNER_OR_TREATING:
        return state.edits_profile
    raise AssertionError(policy)


@pytest.mark.parametrize("state", STATES, ids=[s.name for s in STATES])
async def test_every_path_for_every_actor(client: httpx.AsyncClient, state: State) -> None:
    world = await build_world(client)
    caller = await state.setup(world)
    values = {"ins": world.record.ins, "reason": REASON, "id": world.masked[S.ALLERGIES],
              "bloodGroup": "AB-", "section": S.LAB_RESULTS.value, "file": UPLOAD}
    expected = {Q_MY: state.my_record, Q_PR: state.patient_record, M_REG: state.regulator,
                M_BG: state.break_glass}
    await _check_downloads(caller, world, state.patient_record, state.download_refusal)
    for path, policy in ROOT_POLICY.items():
        document, variables = operation(SCHEMA, path, values, {"first": "2"})
        before = await _last_event_id()
        result = await _send(caller, document, variables)
        assert result.status == 200, (path, result.response.text)
        owner_view = (
            expected.get(path) in (OWNER_VIEW, CLOSED_OWNER) if policy == DECISION else state.owner
        )
        _owner_only_fields(result.data, "", owner_view, path)
        if policy == DECISION:
            _check_decision(result, expected[path], world, path)
        elif path == Q_HISTORY:
            await _check_history(result, state.history, world)
        elif not _may_succeed(state, policy):
            # Refused, or about the caller's own record (another patient closing theirs).
            value = _root_value(result, path)
            assert not await _about_target(world, value), f"{path}: {state.name} got {value}"
            if policy == WRITER:
                assert not await Entry.filter(record_id=world.record.id, title="x").exists()
        if path == Q_PR:
            await _check_events(world, state.patient_record, before, state.owns_refused)


async def _check_history(result: GraphQLResult, outcome: str, world: World) -> None:
    """The record's owner alone gets its events, and with them the titles of the entries they
    name; anyone else gets a refusal, or another patient their own history: nothing of ours."""
    page = _root_value(result, Q_HISTORY)
    if outcome in (F, U):
        assert result.codes == [outcome], f"{Q_HISTORY}: {result.errors}"
        assert page is None, f"{Q_HISTORY}: {page}"
        return
    assert result.errors == [], f"{Q_HISTORY}: {result.errors}"
    nodes = [edge["node"] for edge in page["edges"]]
    seqs = await AccessEvent.filter(record_id=world.record.id).values_list("seq", flat=True)
    ours = {event_id(world.record.id, seq) for seq in seqs}
    if outcome in (OTHER, EMPTY):
        assert not {n["id"] for n in nodes} & ours, f"{Q_HISTORY}: events of the record"
        assert not {n["entryId"] for n in nodes} & set(world.titles), f"{Q_HISTORY}: its entries"
        assert not {n["entryTitle"] for n in nodes} & set(world.titles.values()), Q_HISTORY
        if outcome == EMPTY:
            assert nodes == [] and page["totalCount"] == 0, Q_HISTORY
        return
    assert nodes and {n["id"] for n in nodes} <= ours, Q_HISTORY
    masked = [n for n in nodes if n["action"] == "ENTRY_MASKED" and n["entryId"] == world.masked[S.ALLERGIES]]
    assert len(masked) == 1, nodes
    for node in nodes:
        title = world.titles.get(node["entryId"]) if outcome == TITLED else None
        assert node["entryTitle"] == title, node
    assert masked[0]["entryTitle"] == (f"masked {S.ALLERGIES}" if outcome == TITLED else None)


async def _check_events(world: World, outcome: Outcome, before: int, owns_refused: bool) -> None:
    """A practitioner's read is one RECORD_READ per mode, the strongest first, each listing
    the sections returned in that mode; a refusal is noted, but for the owner's own."""
    events = await _new_events(world, before)
    if isinstance(outcome, Sees) and outcome.owner:
        assert events == []
    elif isinstance(outcome, Sees):
        modes = sorted(set(outcome.modes.values()), key=STRENGTH.index, reverse=True)
        assert [e.action for e in events] == ["RECORD_READ"] * len(modes)
        assert [e.mode for e in events] == modes
        for event in events:
            assert set(event.sections) == {s.value for s, m in outcome.modes.items() if m == event.mode}
    elif outcome == F and not owns_refused:
        assert [e.action for e in events] == ["ACCESS_DENIED"]
    else:
        assert events == []


async def _check_downloads(caller: Caller, world: World, outcome: Outcome, refusal: int) -> None:
    """GET /files/{entryId} answers under the same decision as the documents section."""
    for masked, entry_id in ((False, world.visible[S.DOCUMENTS]), (True, world.masked[S.DOCUMENTS])):
        caller.client.cookies.clear()
        for k, v in caller.cookies().items():
            caller.client.cookies.set(k, v)
        response = await caller.client.get(f"/files/{entry_id}", headers=caller.headers())
        if isinstance(outcome, Sees) and S.DOCUMENTS in outcome.modes and (
            not masked or S.DOCUMENTS in outcome.masked
        ):
            assert response.status_code == 200 and response.content == DOCUMENT, entry_id
        else:
            assert response.status_code == (401 if outcome == U else refusal), response.text
            assert DOCUMENT not in response.content
