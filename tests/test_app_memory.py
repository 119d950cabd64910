"""Start-up moves its long-lived objects out of the garbage collector's full passes."""

from __future__ import annotations

import gc

from backend.app import settle_memory


def test_settle_memory_freezes_what_exists_and_leaves_new_objects_collectable() -> None:
    gc.unfreeze()
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
    finally:
        gc.unfreeze()
