"""The clients in examples/ run against a real `dmp serve` and print what the guide says."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend import accounts
from backend.domain.enums import AccessAction
from backend.models import AccessEvent, Entry, Record
from tests.care_items import IMPORT, medication_item
from tests.factories import new_ins
from tests.partner_world import INSURER, World, build
from tests.server import dmp_server, run_dmp

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@pytest.fixture(scope="module")
def server(database: None) -> Iterator[str]:
    with dmp_server() as origin:
        yield origin


def run(world: World, actor: str | None, *command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMP_")}
    env["DMP_URL"] = world.origin
    if actor is not None:
        env["DMP_TOKEN"] = world.tokens[actor]
    return subprocess.run(list(command), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def practice(world: World, actor: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return run(world, actor, PYTHON, "examples/practice_client.py", *args)


def node(world: World, actor: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return run(world, actor, "node", "examples/first_call.mjs", *args)


def extract(tmp_path: Path, lines: list[str]) -> Path:
    """An NDJSON extract in `tmp_path` holding `lines`, each ended by a newline (UTF-8)."""
    path = tmp_path / "extract.ndjson"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


async def test_practice_client_lists_the_sections_granted_with_their_mode(server: str) -> None:
    world = await build(server)

    done = practice(world, "practitioner", world.values["INS"], "--entries", "2")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Alice MARTIN, born 1985-06-12 — record ACTIVE, access GRANTED"
    sections = [line.split()[:3] for line in lines[1:] if not line.startswith("    ")]
    assert sections == [
        ["MEDICATIONS", "GRANTED", "3"], ["LAB_RESULTS", "GRANTED", "1"],
        ["ALLERGIES", "GRANTED", "1"], ["VACCINATIONS", "GRANTED", "0"],
        ["DOCUMENTS", "GRANTED", "1"],
    ]
    assert "LAB_RESULTS      GRANTED              1 entry" in lines
    assert "VACCINATIONS     GRANTED              0 entries" in lines
    medications = lines.index(next(x for x in lines if x.startswith("MEDICATIONS")))
    assert lines[medications + 1].endswith("  Ventoline 100 µg, inhalateur")
    assert lines[medications + 2].endswith("  Amoxicilline 1 g, 6 comprimés")
    assert not lines[medications + 3].startswith("    ")
    # The read is in Alice's access history, with exactly the sections the client saw.
    record = await Record.get(ins=world.values["INS"])
    event = await AccessEvent.filter(record_id=record.id).order_by("-seq").first()
    assert event is not None and event.action == AccessAction.RECORD_READ.value
    assert sorted(event.sections) == sorted(["MEDICATIONS", "LAB_RESULTS", "ALLERGIES", "VACCINATIONS",
                                             "DOCUMENTS"])


async def test_node_first_call_prints_the_same_as_the_python_client(server: str) -> None:
    world = await build(server)
    ins = world.values["INS"]
    for args in ((ins,), (ins, "--entries", "3"), (ins, "--entries", "100")):
        python_out, node_out = practice(world, "practitioner", *args), node(world, "practitioner", *args)
        assert node_out.returncode == 0, node_out.stderr
        assert node_out.stdout == python_out.stdout
    assert "MEDICATIONS      GRANTED              3 entries" in node_out.stdout


async def test_clients_list_up_to_a_full_page_of_each_section(server: str) -> None:
    """--entries N lists the N latest entries up to the largest page (100): ten sections of
    100 entries of the clients' few fields are well within the cost limit."""
    world = await build(server)
    ins = world.values["INS"]
    items = [medication_item(ins, n) for n in range(100, 160)]
    imported = world.post("insurer", IMPORT, {"items": items})
    assert imported["data"]["importCareHistory"]["created"] == 60, imported

    for client in (practice, node):
        done = client(world, "practitioner", ins, "--entries", "100")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        medications = lines.index("MEDICATIONS      GRANTED              63 entries")
        listed = list(itertools.takewhile(lambda x: x.startswith("    "), lines[medications + 1:]))
        assert len(listed) == 63


async def test_emergency_modes_and_refusals_are_shown(server: str) -> None:
    world = await build(server)
    bob = world.values["EMERGENCY_INS"]
    for client in (practice, node):
        refused = client(world, "practitioner", bob)
        assert refused.returncode == 1
        assert refused.stderr.strip() == "error FORBIDDEN: No access to this record"
        assert refused.stdout == ""
    opened = world.post("regulator", """mutation ($ins: String!) {
      regulatorAccess(ins: $ins, reason: "Appel au 15 : douleur thoracique") { mode } }""", {"ins": bob})
    assert opened["data"]["regulatorAccess"]["mode"] == "EMERGENCY_REGULATOR"
    for client in (practice, node):
        done = client(world, "regulator", bob)
        assert done.returncode == 0, done.stderr
        assert "access EMERGENCY_REGULATOR" in done.stdout.splitlines()[0]
        assert "EMERGENCY        EMERGENCY_REGULATOR  blood group unknown" in done.stdout
        assert "MEDICATIONS      EMERGENCY_REGULATOR  1 entry" in done.stdout


async def test_clients_explain_bad_usage_and_bad_tokens(server: str) -> None:
    world = await build(server)
    ins = world.values["INS"]
    for client in (practice, node):
        unset = client(world, None, ins)
        assert unset.returncode == 2
        assert "DMP_TOKEN" in unset.stderr
    world.tokens["revoked"] = "dmp_not-a-token"
    for client in (practice, node):
        bad = client(world, "revoked", ins)
        assert bad.returncode == 1
        assert bad.stderr.strip() == "error UNAUTHENTICATED: Invalid or expired token"


async def test_insurer_import_rejects_a_line_that_is_not_utf8(server: str, tmp_path: Path) -> None:
    world = await build(server)
    path = tmp_path / "latin1.ndjson"
    good = json.dumps(medication_item(new_ins(), 1)).encode()
    path.write_bytes(good + b"\n" + '{"title": "Doliprane 1 g, boîte"}'.encode("latin-1") + b"\n")
    done = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "total: 1 accepted (1 created, 0 corrected, 0 unchanged), 1 rejected",
        "  line 2: - BAD_USER_INPUT not UTF-8 text",
    ]


async def test_insurer_import_sets_aside_an_item_graphql_refuses_whole(server: str, tmp_path: Path) -> None:
    """An item without a required field, or with one the API does not know, makes GraphQL
    refuse the whole batch: the example sets it aside with the reason and sends the rest."""
    world = await build(server)
    ins = new_ins()
    items = [medication_item(ins, n) for n in range(1, 6)]
    del items[1]["title"]
    items[3]["note"] = "Zoélie"
    path = extract(tmp_path, [json.dumps(item) for item in items])
    before = await Entry.filter(organization=INSURER).count()

    done = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path))

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "batch 1: lines 1-5: 3 accepted, 2 rejected",
        "total: 3 accepted (3 created, 0 corrected, 0 unchanged), 2 rejected",
        "  line 2: MED-2 BAD_USER_INPUT Expected value of type 'CareItemInput' to include required field"
        " 'title'.",
        "  line 4: MED-4 BAD_USER_INPUT Expected value of type 'CareItemInput' not to include unknown field"
        " 'note'. Did you mean 'code' or 'date'?",
    ]
    assert await Entry.filter(organization=INSURER).count() == before + 3


async def test_insurer_import_sends_batches_and_lists_rejected_lines(server: str, tmp_path: Path) -> None:
    world = await build(server)
    patients = [new_ins() for _ in range(3)]
    lines = [json.dumps(medication_item(patients[n % 3], n)) for n in range(1, 26)]
    lines[4] = "{oops"
    bad = medication_item(patients[0], 99)
    bad["date"] = "2999-01-01"
    lines[9] = json.dumps(bad)
    lines.insert(12, "")
    path = extract(tmp_path, lines)
    before = await Entry.filter(organization=INSURER).count()

    done = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path), "--batch-size", "10")

    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[:3] == [
        "batch 1: lines 1-11: 9 accepted, 1 rejected",
        "batch 2: lines 12-22: 10 accepted, 0 rejected",
        "batch 3: lines 23-26: 4 accepted, 0 rejected",
    ]
    assert out[3] == "total: 23 accepted (23 created, 0 corrected, 0 unchanged), 2 rejected"
    assert out[4].startswith("  line 5: - BAD_USER_INPUT not valid JSON")
    assert out[5] == "  line 10: MED-99 BAD_USER_INPUT date is in the future"
    assert await Entry.filter(organization=INSURER).count() == before + 23

    again = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path))
    assert again.returncode == 0, again.stderr
    assert "total: 23 accepted (0 created, 0 corrected, 23 unchanged), 2 rejected" in again.stdout
    assert await Entry.filter(organization=INSURER).count() == before + 23

    refused = run(world, "practitioner", PYTHON, "examples/insurer_import.py", str(path))
    assert refused.returncode == 1
    assert "FORBIDDEN" in refused.stderr
    assert await Entry.filter(organization=INSURER).count() == before + 23


async def test_insurer_import_applies_a_correction_later_in_its_batch_as_import_file_does(
    server: str, tmp_path: Path
) -> None:
    """A corrected line appended later in the extract, within one batch: the example sends it
    in the next batch, so it is a correction (`corrected`, the last line current) and not the
    API's CONFLICT of one batch sending an item twice; the result does not depend on
    --batch-size. An exact copy is `unchanged` and ends no batch."""
    world = await build(server)
    ins = new_ins()
    first, other = medication_item(ins, 1), medication_item(ins, 2)
    corrected = {**first, "title": "Doliprane 500 mg (corrigé)"}
    lines = [first, other, dict(other), corrected, medication_item(ins, 3)]
    path = extract(tmp_path, [json.dumps(item) for item in lines])
    before = await Entry.filter(organization=INSURER).count()

    done = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path))

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "batch 1: lines 1-3: 3 accepted, 0 rejected",
        "batch 2: lines 4-5: 2 accepted, 0 rejected",
        "total: 5 accepted (3 created, 1 corrected, 1 unchanged), 0 rejected",
    ]
    assert await Entry.filter(organization=INSURER).count() == before + 4
    current = await Entry.filter(organization=INSURER, external_id="MED-1", superseded=False,
                                 record__ins=ins).values_list("title", flat=True)
    assert current == ["Doliprane 500 mg (corrigé)"]

    again = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path), "--batch-size", "1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == (
        "total: 5 accepted (0 created, 2 corrected, 3 unchanged), 0 rejected"
    )


async def test_insurer_import_rejects_lines_the_request_could_not_carry(server: str, tmp_path: Path) -> None:
    """A lone surrogate (the escape \\ud800), NaN or a number beyond a float: Python's JSON
    reads them, but they cannot go into the UTF-8 JSON of a request. Each rejects its line
    only; the import stopped at them, after retrying them as a transport failure."""
    world = await build(server)
    ins = new_ins()
    items = [medication_item(ins, n) for n in range(1, 5)]
    lines = [json.dumps(item) for item in items]
    lines[1] = lines[1].replace('"title": "', '"title": "\\ud800', 1)
    lines[2] = lines[2].replace('"quantity": 2', '"quantity": NaN')
    lines[3] = lines[3].replace('"quantity": 2', '"quantity": 1e999')
    path = extract(tmp_path, lines)
    before = await Entry.filter(organization=INSURER).count()

    done = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path))

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "batch 1: lines 1-1: 1 accepted, 0 rejected",
        "total: 1 accepted (1 created, 0 corrected, 0 unchanged), 3 rejected",
        "  line 2: - BAD_USER_INPUT text holding a lone surrogate (not a character)",
        "  line 3: - BAD_USER_INPUT not valid JSON: NaN is not a JSON value",
        "  line 4: - BAD_USER_INPUT a number out of range",
    ]
    assert await Entry.filter(organization=INSURER).count() == before + 1


async def test_insurer_import_names_the_field_graphql_refuses(server: str, tmp_path: Path) -> None:
    """GraphQL's refusal names the item and its field (`at [1].date`): the field is kept."""
    world = await build(server)
    items = [medication_item(new_ins(), n) for n in range(1, 4)]
    items[1]["date"] = 20240101
    path = extract(tmp_path, [json.dumps(item) for item in items])

    done = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path))

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "total: 2 accepted (2 created, 0 corrected, 0 unchanged), 1 rejected",
        "  line 2: MED-2 BAD_USER_INPUT date: Value cannot represent a Date: Expected a string.",
    ]


async def test_insurer_import_says_to_send_smaller_batches_when_one_is_too_large(
    server: str, tmp_path: Path
) -> None:
    """A batch over the 10 MB request limit (HTTP 413) cannot succeed by being sent again:
    the example says so instead of asking to re-run the same command."""
    world = await build(server)
    ins = new_ins()
    padding = "x" * 11_000
    lines = [json.dumps({**medication_item(ins, n), "title": padding}) for n in range(1, 1001)]
    path = extract(tmp_path, lines)
    before = await Entry.filter(organization=INSURER).count()

    done = run(world, "insurer", PYTHON, "examples/insurer_import.py", str(path))

    assert done.returncode == 1
    assert done.stderr.startswith("error: the import stopped: BAD_USER_INPUT: The request body is too large")
    assert "send smaller batches (--batch-size)" in done.stderr
    assert await Entry.filter(organization=INSURER).count() == before


async def test_the_local_try_of_the_readme_runs_on_the_demo_data(server: str) -> None:
    """examples/README.md names the demo's doctor and patient: seed-demo makes them, and the
    doctor is the patient's treating physician."""
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    assert "--practitioner 10000000017" in readme
    assert "practice_client.py 285067512345639" in readme
    seeded = run_dmp("seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "RPPS 10000000017 (medecin)" in seeded.stdout
    assert "camille.martin@demo.dmp      INS 285067512345639" in seeded.stdout
    _, token = await accounts.create_token("try", ["practitioner"], practitioner_rpps="10000000017")
    world = World(server, {"try": token}, "")

    done = practice(world, "try", "285067512345639", "--entries", "3")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "Camille MARTIN, born 1985-06-12 — record ACTIVE, access TREATING_PHYSICIAN"
    )


async def test_the_readme_insurer_try_imports_its_sample_extract_into_the_demo_data(server: str) -> None:
    """The local try's import names a file that is in examples/: its items are Camille Martin's
    (her INS and birth date as seed-demo makes them), all imported but the one whose wrong code
    shows a rejected line; sent again, they are unchanged."""
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    assert "examples/insurer_import.py examples/extract.ndjson" in readme
    assert f'--scope insurer:import --organization "{INSURER}"' in readme
    seeded = run_dmp("seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    # seed-demo shows its insurer token once; run again, it sends to create-token for another.
    again = run_dmp("seed-demo")
    assert "insurer token: already created (dmp list-tokens; dmp create-token for another)" in again.stdout
    _, token = await accounts.create_token("try insurer", ["insurer:import"], organization=INSURER)
    world = World(server, {"insurer": token}, "")

    done = run(world, "insurer", PYTHON, "examples/insurer_import.py", "examples/extract.ndjson")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "batch 1: lines 1-4: 3 accepted, 1 rejected",
        "total: 3 accepted (3 created, 0 corrected, 0 unchanged), 1 rejected",
        "  line 4: EX-2025-0004 BAD_USER_INPUT the code of a MEDICATIONS entry must be a CIP13 code"
        " (13 digits starting 3400, EAN-13 check digit) or an ATC code such as A10BA02",
    ]
    again = run(world, "insurer", PYTHON, "examples/insurer_import.py", "examples/extract.ndjson")
    assert again.returncode == 0, again.stderr
    assert "total: 3 accepted (0 created, 0 corrected, 3 unchanged), 1 rejected" in again.stdout
