"""The durable outbox: a down mail server delays a message, never loses it (DESIGN §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from backend.domain.enums import OutboxChannel

if TYPE_CHECKING:
    from backend.models.accounts import Account
    from backend.models.records import Record


class OutboxMessage(Model):
    id = fields.UUIDField(primary_key=True)
    channel = fields.CharEnumField(OutboxChannel, max_length=8)
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="outbox", null=True, on_delete=fields.SET_NULL
    )
    record: fields.ForeignKeyNullableRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="outbox", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=300, null=True)
    # A short-lived code (sign-in, reset, contact, fresh factor): sent before the other due
    # messages, which may be thousands (an insurer's import) and would outlast it.
    urgent = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "outbox_message"
        indexes = (("sent_at", "next_attempt_at"), ("sent_at", "urgent", "next_attempt_at"))
