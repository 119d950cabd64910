"""DMP_RECORD_STORAGE_MB: the room a record's documents take together, set by the operator."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backend import config
from backend.domain.enums import AccessAction
from backend.models import AccessEvent, Entry, OutboxMessage, StoredFile
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import files_on_disk, pdf, upload


@pytest.mark.usefixtures("one_mb_per_record")
async def test_an_upload_beyond_the_configured_room_is_refused_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    (await upload(caller, pdf("x" * 600_000))).ok()
    before = files_on_disk()
    events = [e.action for e in await AccessEvent.filter(record_id=record.id)]
    refused = await upload(caller, pdf("y" * 600_000))
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "RECORD_FILES_FULL"
    assert refused.errors[0]["extensions"]["maxMb"] == 1
    assert refused.errors[0]["message"] == "The record's documents would go beyond 1 MB together"
    assert await StoredFile.filter(record_id=record.id).count() == 1
    assert await Entry.filter(record_id=record.id).count() == 1
    assert files_on_disk() == before  # the sealed file written before the check is removed
    assert [e.action for e in await AccessEvent.filter(record_id=record.id)] == events
    assert events == [AccessAction.ENTRY_ADDED.value]
    assert await OutboxMessage.all().count() == 0
    # What fits the room is still taken.
    (await upload(caller, pdf("z" * 300_000))).ok()


def test_the_default_room_is_500_mb(tmp_path: Path) -> None:
    assert config.load({"DMP_DATA_DIR": str(tmp_path / "data")}).record_storage_mb == 500
    assert config.load({"DMP_DATA_DIR": str(tmp_path / "data"), "DMP_RECORD_STORAGE_MB": ""}
                       ).record_storage_mb == 500
    assert config.load({"DMP_DATA_DIR": str(tmp_path / "data"), "DMP_RECORD_STORAGE_MB": "2048"}
                       ).record_storage_mb == 2048


@pytest.mark.parametrize(
    ("raw", "refusal"),
    [
        ("0", "DMP_RECORD_STORAGE_MB must be between 1 and 10000, got 0"),
        ("-5", "DMP_RECORD_STORAGE_MB must be between 1 and 10000, got -5"),
        ("10001", "DMP_RECORD_STORAGE_MB must be between 1 and 10000, got 10001"),
        ("1.5", "DMP_RECORD_STORAGE_MB must be a whole number, got '1.5'"),
        ("500MB", "DMP_RECORD_STORAGE_MB must be a whole number, got '500MB'"),
    ],
)
def test_a_bad_room_stops_the_service_in_one_line(tmp_path: Path, raw: str, refusal: str) -> None:
    with pytest.raises(config.ConfigError, match=refusal) as refused:
        config.load({"DMP_DATA_DIR": str(tmp_path / "data"), "DMP_RECORD_STORAGE_MB": raw})
    assert "\n" not in str(refused.value)
