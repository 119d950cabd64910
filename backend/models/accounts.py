"""People who sign in: patients, practitioners, support staff."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from backend.domain.enums import CodeChannel, Profession, Role

# The columns that keep a person's name with what they did (an event's actor, an entry's
# author) hold 200 characters; a first and a last name of 100 each make 201.
DISPLAY_NAME_MAX = 200


def display_name_of(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name}"[:DISPLAY_NAME_MAX]


class Account(Model):
    id = fields.UUIDField(primary_key=True)
    role = fields.CharEnumField(Role, max_length=16)
    email = fields.CharField(max_length=254, unique=True, null=True)
    phone = fields.CharField(max_length=32, null=True)
    email_verified = fields.BooleanField(default=False)
    # A new e-mail or phone waits here until its code is confirmed.
    pending_email = fields.CharField(max_length=254, null=True)
    pending_phone = fields.CharField(max_length=32, null=True)
    phone_verified = fields.BooleanField(default=False)
    password_hash = fields.CharField(max_length=255, null=True)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    code_channel = fields.CharEnumField(CodeChannel, max_length=8, default=CodeChannel.EMAIL)
    # Code failures are counted per UTC day, in the database, with atomic updates.
    failure_day = fields.DateField(null=True)
    failure_count = fields.IntField(default=0)
    locked_at = fields.DatetimeField(null=True)
    lock_reason = fields.CharField(max_length=200, null=True)
    last_login_at = fields.DatetimeField(null=True)
    last_failed_login_at = fields.DatetimeField(null=True)
    # Set by an operator (`dmp disable-account`): no sign-in, session or token of the account
    # is accepted until `dmp enable-account` clears it.
    disabled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    practitioner: fields.BackwardOneToOneRelation[Practitioner]

    class Meta:
        table = "account"

    @property
    def display_name(self) -> str:
        return display_name_of(self.first_name, self.last_name)


class Practitioner(Model):
    id = fields.UUIDField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="practitioner", on_delete=fields.CASCADE
    )
    rpps = fields.CharField(max_length=11, unique=True)
    profession = fields.CharEnumField(Profession, max_length=32)
    city = fields.CharField(max_length=100, default="")
    is_regulator = fields.BooleanField(default=False)
    # Lower-cased "first last city rpps" for the directory search.
    search_text = fields.CharField(max_length=300, db_index=True, default="")

    class Meta:
        table = "practitioner"
