"""The record, its entries, imports and stored files (DESIGN §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from backend.domain.enums import EntrySource, RecordStatus, Section

if TYPE_CHECKING:
    from backend.models.accounts import Account, Practitioner


class Record(Model):
    id = fields.UUIDField(primary_key=True)
    ins = fields.CharField(max_length=15, unique=True)
    owner: fields.OneToOneNullableRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="record", null=True, on_delete=fields.SET_NULL
    )
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    birth_date = fields.DateField()
    status = fields.CharEnumField(RecordStatus, max_length=8, default=RecordStatus.PENDING)
    # A column, so the database itself holds at most one treating physician per record.
    treating_physician: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="treated_records", null=True, on_delete=fields.SET_NULL
    )
    allow_regulator = fields.BooleanField(default=True)
    allow_break_glass = fields.BooleanField(default=True)
    notify_new_documents = fields.BooleanField(default=False)
    blood_group = fields.CharField(max_length=3, null=True)
    emergency_contacts: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    advance_directives = fields.TextField(default="")
    # Where the activation code of a PENDING record is sent, and sent again by support: the
    # e-mail address an insurer holds or a practitioner was given, and the phone number a
    # practitioner was given. Both are forgotten once the patient activates the record.
    pending_contact = fields.CharField(max_length=254, null=True)
    pending_phone = fields.CharField(max_length=32, null=True)
    # Head of the access-history chain.
    event_seq = fields.IntField(default=0)
    # Moved by `dmp audit rekey` when it seals this record's chain anew: an event write that
    # read the head before checks it did not change, or reads the head's new MAC again.
    audit_epoch = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    activated_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    deletion_requested_at = fields.DatetimeField(null=True)

    class Meta:
        table = "record"


class ActivationCode(Model):
    id = fields.UUIDField(primary_key=True)
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="activation_codes", on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=64)
    issued_by = fields.CharField(max_length=200)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    tries = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "activation_code"
        # A record's codes are read by record (checking one, issuing one, an import's batch,
        # the purge): without it each read scans every record's codes.
        indexes = (("record_id",),)


class StoredFile(Model):
    id = fields.UUIDField(primary_key=True)
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="files", on_delete=fields.CASCADE
    )
    content_type = fields.CharField(max_length=64)
    size = fields.IntField()
    filename = fields.CharField(max_length=255)
    key_id = fields.CharField(max_length=32)
    wrapped_key = fields.BinaryField()
    nonce = fields.BinaryField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stored_file"


class Entry(Model):
    id = fields.UUIDField(primary_key=True)
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="entries", on_delete=fields.CASCADE
    )
    section = fields.CharEnumField(Section, max_length=16)
    code = fields.CharField(max_length=64, default="")
    title = fields.CharField(max_length=300)
    care_date = fields.DateField()
    author: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="authored_entries", null=True, on_delete=fields.SET_NULL
    )
    author_name = fields.CharField(max_length=200, default="")
    author_profession = fields.CharField(max_length=32, null=True)
    source = fields.CharEnumField(EntrySource, max_length=12)
    details: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    file: fields.OneToOneNullableRelation[StoredFile] = fields.OneToOneField(
        "models.StoredFile", related_name="entry", null=True, on_delete=fields.SET_NULL
    )
    masked = fields.BooleanField(default=False)
    supersedes: fields.ForeignKeyNullableRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="corrections", null=True, on_delete=fields.SET_NULL
    )
    superseded = fields.BooleanField(default=False)
    organization = fields.CharField(max_length=100, null=True)
    external_id = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "entry"
        # Keyset pagination per section, newest first.
        indexes = (("record_id", "section", "care_date", "id"),)


class ImportKey(Model):
    """Makes imports idempotent: one row per (record, organization, external id)."""

    id = fields.IntField(primary_key=True)
    record: fields.ForeignKeyRelation[Record] = fields.ForeignKeyField(
        "models.Record", related_name="import_keys", on_delete=fields.CASCADE
    )
    organization = fields.CharField(max_length=100)
    external_id = fields.CharField(max_length=100)
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="import_keys", on_delete=fields.CASCADE
    )
    content_hash = fields.CharField(max_length=64)

    class Meta:
        table = "import_key"
        unique_together = (("record", "organization", "external_id"),)


class PurgedIdentity(Model):
    """An INS whose record was purged (deleted at the patient's request, or closed for ten
    years), kept as a keyed hash: an insurer's import does not open a new record for it, which
    would bring the deleted history back. No INS in clear; lifted when a practitioner opens a
    record for the patient at the point of care."""

    ins_mac = fields.CharField(max_length=64, primary_key=True)
    purged_at = fields.DatetimeField()

    class Meta:
        table = "purged_identity"
