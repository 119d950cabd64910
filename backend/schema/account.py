"""The signed-in account."""

from __future__ import annotations

import strawberry

from backend.domain import enums
from backend.models import Account
from backend.resolvers.context import Info
from backend.schema.types import CodeChannel, Role


@strawberry.type
class Me:
    id: strawberry.ID
    role: Role
    display_name: str
    profession: str | None
    is_regulator: bool

    @strawberry.field(
        description="Where the account's sign-in codes go (EMAIL or SMS); null for a partner token."
    )
    async def code_channel(self, info: Info) -> CodeChannel | None:
        account_id = info.context.viewer.account_id
        if account_id is None:
            return None
        account = await Account.filter(id=account_id).only("id", "code_channel").first()
        return enums.CodeChannel(account.code_channel) if account else None

    @strawberry.field(
        description="The account's own e-mail address, as confirmed; null for a partner token."
    )
    async def email(self, info: Info) -> str | None:
        return await _own_contact(info, "email")

    @strawberry.field(
        description="The account's own phone number; null if none, or for a partner token."
    )
    async def phone(self, info: Info) -> str | None:
        return await _own_contact(info, "phone")


async def _own_contact(info: Info, name: str) -> str | None:
    """One of the signed-in account's own contacts: shown to the account itself only (a
    partner token acts for an organisation's software, not for the person)."""
    viewer = info.context.viewer
    if viewer.account_id is None or viewer.token_id is not None:
        return None
    found = await Account.filter(id=viewer.account_id).values_list(name, flat=True)
    return str(found[0]) if found and found[0] else None


@strawberry.type
class LoginPayload:
    """A completed login: the session cookie is set on the response."""

    me: Me


def me_of(info: Info) -> Me | None:
    v = info.context.viewer
    if v.role is None:
        return None
    return Me(
        id=strawberry.ID(str(v.account_id or v.token_id)),
        role=v.role,
        display_name=v.display_name,
        profession=v.profession.value if v.profession else None,
        is_regulator=v.is_regulator,
    )


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in account, or null when signed out.")
    def me(self, info: Info) -> Me | None:
        return me_of(info)


QUERIES: tuple[type, ...] = (AccountQuery,)
MUTATIONS: tuple[type, ...] = ()
