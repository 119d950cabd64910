"""Authentication state, all in the database (DESIGN §5, §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from backend.domain.enums import CodeChannel, CodePurpose

if TYPE_CHECKING:
    from backend.models.accounts import Account, Practitioner


class LoginAttempt(Model):
    """A started login (or contact check, reset): the code and passkey challenge bind to it."""

    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="login_attempts", null=True, on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(CodePurpose, max_length=16)
    password_ok = fields.BooleanField(default=False)
    expires_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # A reset (real or decoy): the keyed hash of the identifier typed, whose daily budget of
    # tries its codes spend, besides its account's if it names one (`limits.take_reset_try`).
    budget = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "login_attempt"


class OneTimeCode(Model):
    id = fields.UUIDField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="codes", on_delete=fields.CASCADE
    )
    attempt: fields.ForeignKeyNullableRelation[LoginAttempt] = fields.ForeignKeyField(
        "models.LoginAttempt", related_name="codes", null=True, on_delete=fields.CASCADE
    )
    session: fields.ForeignKeyNullableRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name="codes", null=True, on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(CodePurpose, max_length=16)
    channel = fields.CharEnumField(CodeChannel, max_length=8)
    code_hash = fields.CharField(max_length=64)
    tries = fields.IntField(default=0)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "one_time_code"


class Session(Model):
    id = fields.UUIDField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    fresh_factor_at = fields.DatetimeField(null=True)
    user_agent = fields.CharField(max_length=200, default="")
    revoked_at = fields.DatetimeField(null=True)
    # The passkey that opened it, if one did: removing that passkey ends the sessions it
    # opened. Not a foreign key: the passkey's row is deleted, the session ended first.
    passkey_id = fields.UUIDField(null=True)

    class Meta:
        table = "session"


class ApiToken(Model):
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=100)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=12)
    scopes: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    organization = fields.CharField(max_length=100, null=True)
    practitioner: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="tokens", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class PasskeyCredential(Model):
    id = fields.UUIDField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="passkeys", on_delete=fields.CASCADE
    )
    credential_id = fields.CharField(max_length=400, unique=True)
    public_key = fields.BinaryField()
    sign_count = fields.BigIntField(default=0)
    name = fields.CharField(max_length=100)
    transports: fields.JSONField[list[Any]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkey_credential"


class PasskeyChallenge(Model):
    id = fields.UUIDField(primary_key=True)
    challenge = fields.CharField(max_length=128, unique=True)
    purpose = fields.CharField(max_length=16)
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="passkey_challenges", null=True, on_delete=fields.CASCADE
    )
    session: fields.ForeignKeyNullableRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name="passkey_challenges", null=True, on_delete=fields.CASCADE
    )
    attempt: fields.ForeignKeyNullableRelation[LoginAttempt] = fields.ForeignKeyField(
        "models.LoginAttempt", related_name="passkey_challenges", null=True, on_delete=fields.CASCADE
    )
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkey_challenge"


class RateCounter(Model):
    """A fixed-window counter shared by every process (rate limits)."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=200)
    window_start = fields.DatetimeField()
    count = fields.IntField(default=0)

    class Meta:
        table = "rate_counter"
        unique_together = (("key", "window_start"),)
