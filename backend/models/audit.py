"""The access history: append-only, numbered and HMAC-chained per record (DESIGN §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from backend.models.records import Record


class AccessEvent(Model):
    id = fields.IntField(primary_key=True)
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="events", on_delete=fields.CASCADE
    )
    seq = fields.IntField()
    at = fields.DatetimeField()
    actor_id = fields.CharField(max_length=64, null=True)
    actor_name = fields.CharField(max_length=200)
    actor_profession = fields.CharField(max_length=32, null=True)
    actor_role = fields.CharField(max_length=16)
    action = fields.CharField(max_length=32)
    mode = fields.CharField(max_length=24, null=True)
    sections: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    entry_id = fields.CharField(max_length=64, null=True)
    reason = fields.TextField(default="")
    mac = fields.CharField(max_length=64)

    class Meta:
        table = "access_event"
        unique_together = (("record", "seq"),)
        # The first-access notice asks whether this actor came before.
        indexes = (("record_id", "actor_id"),)


class PurgedRecord(Model):
    """What is left of a purged record's history: where its chain ended, sealed with the audit
    key. `dmp audit verify --anchor` tells a record purged since the anchor from one whose rows
    were deleted some other way. No personal data: the record's id only."""

    record_id = fields.UUIDField(primary_key=True)
    purged_at = fields.DatetimeField()
    last_seq = fields.IntField()
    last_mac = fields.CharField(max_length=64)
    mac = fields.CharField(max_length=64)

    class Meta:
        table = "purged_record"
