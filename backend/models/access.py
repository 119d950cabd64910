"""Sharing facts: grants, blocks and emergency sessions (DESIGN §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from backend.domain.enums import EmergencyKind, ReviewState

if TYPE_CHECKING:
    from backend.models.accounts import Practitioner
    from backend.models.records import Record


class Grant(Model):
    id = fields.IntField(primary_key=True)
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="grants", on_delete=fields.CASCADE
    )
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="grants", on_delete=fields.CASCADE
    )
    sections: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "grant"
        unique_together = (("record", "practitioner"),)


class BlockedPractitioner(Model):
    id = fields.IntField(primary_key=True)
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="blocks", on_delete=fields.CASCADE
    )
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="blocks", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "blocked_practitioner"
        unique_together = (("record", "practitioner"),)


class EmergencySession(Model):
    id = fields.UUIDField(primary_key=True)
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="emergency_sessions", on_delete=fields.CASCADE
    )
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="emergency_sessions", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(EmergencyKind, max_length=12)
    reason = fields.TextField()
    opened_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    review_state = fields.CharEnumField(ReviewState, max_length=12, default=ReviewState.PENDING)
    reviewed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "emergency_session"
        indexes = (("record_id", "practitioner_id", "expires_at"),)
