"""`dmp audit rekey` cut off halfway, the service writing under the new key before it is run
again: the second run moves what the first did not, and every chain verifies under the new
key alone."""

from __future__ import annotations

import httpx
import pytest

from backend.audit import rekey as rekeying
from backend.models import PurgedRecord
from backend.purge import purge_record
from tests.history_helpers import setup
from tests.test_audit_rekey import _read, _rekey, _rows, _verify, _write_with, keys  # noqa: F401


async def test_a_rekey_cut_off_halfway_is_finished_by_running_it_again(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    old, new = keys
    chains = [await setup(client) for _ in range(3)]
    for s in chains:
        await _read(s, 2)
    gone = await setup(client)
    await _read(gone, 1)
    await purge_record(gone["record"])
    seal = (await PurgedRecord.get(record_id=gone["record"].id)).mac

    _write_with(new)  # the service restarted with the new key
    moved = 0
    real = rekeying._rekey_chain

    async def cut_off_after_one(*args: object) -> None:
        nonlocal moved
        if moved == 1:
            raise KeyboardInterrupt  # the operator's ^C, or the machine going down
        await real(*args)  # type: ignore[arg-type]
        moved += 1

    monkeypatch.setattr(rekeying, "_rekey_chain", cut_off_after_one)
    with pytest.raises(KeyboardInterrupt):
        await rekeying.rekey(new, old)
    monkeypatch.undo()
    assert (await PurgedRecord.get(record_id=gone["record"].id)).mac == seal  # not reached

    # The service goes on, under the new key, on a chain moved and on chains not yet moved.
    for s in chains:
        await _read(s, 1)
    halfway = _verify(new, old)
    assert halfway.returncode == 0, halfway.stdout
    assert "still under DMP_PREVIOUS_AUDIT_KEY" in halfway.stdout

    done = _rekey(new, old)
    assert done.returncode == 0, done.stdout + done.stderr
    # The two chains not moved, with the event each got since (chained to an old MAC); the one
    # moved goes on under the new key and is left as it is.
    assert "sealed 2 chain(s) anew under DMP_AUDIT_KEY (6 event(s)); 1 already under it; " \
           "1 purge seal(s) sealed anew; 0 left as they were" in done.stdout
    after = _verify(new)
    assert after.returncode == 0, after.stdout
    assert "3 record(s), 9 event(s)" in after.stdout
    assert [len(await _rows(s["record"])) for s in chains] == [3, 3, 3]
