"""Start-up moves its long-lived objects out of the garbage collector's full passes, and a
request leaves nothing for it: what a consultation builds is freed when it ends."""

from __future__ import annotations

import gc
from collections import Counter

import httpx

from backend.app import settle_memory
from tests.history_helpers import setup


def test_settle_memory_freezes_what_exists_and_leaves_new_objects_collectable() -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        assert gc.get_freeze_count() == 0
        settle_memory()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the schema, the models and the modules
        cycle: list[object] = []
        cycle.append(cycle)  # made afterwards: still collected
        del cycle
        assert gc.collect() >= 1
        assert gc.get_freeze_count() == frozen
        assert gc.get_threshold()[0] > thresholds[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


CONSULTATION = """query Read($ins: String!) { patientRecord(ins: $ins) {
  ins sectionAccess { section mode }
  allergies(first: 20) { edges { node { id title date } } }
  medications(first: 20) { edges { node { id title date } } }
  emergencyProfile { bloodGroup } } }"""

# What a request builds: none of it may wait for the cyclic collector.
_REQUEST_TYPES = {"Context", "Loaders", "DataLoader", "ExecutionContext", "AccessLog", "EntryRow"}


async def test_a_consultation_leaves_no_reference_cycle(client: httpx.AsyncClient) -> None:
    s = await setup(client)  # two entries, both sections granted
    caller, record = s["as_pro"], s["record"]
    first = (await caller.gql(CONSULTATION, {"ins": record.ins})).ok()  # caches, connections
    assert first["patientRecord"]["allergies"]["edges"][0]["node"]["title"] == "Pénicilline"

    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        again = (await caller.gql(CONSULTATION, {"ins": record.ins})).ok()
        gc.collect()
        left = Counter(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert again == first
    assert {name: n for name, n in left.items() if name in _REQUEST_TYPES} == {}
