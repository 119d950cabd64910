"""The signed-in account."""

from __future__ import annotations

import strawberry

from backend.auth.contacts import OwnContacts
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
        own = await _own_contacts(info)
        return own.code_channel if own else None

    @strawberry.field(
        description="The account's own e-mail address, as confirmed; null for a partner token."
    )
    async def email(self, info: Info) -> str | None:
        own = await _own_contacts(info)
        return own.email if own else None

    @strawberry.field(
        description="The account's own phone number; null if none, or for a partner token."
    )
    async def phone(self, info: Info) -> str | None:
        own = await _own_contacts(info)
        return own.phone if own else None


async def _own_contacts(info: Info) -> OwnContacts | None:
    """The signed-in account's own contacts and code channel, read once per request: shown
    to the account itself only (a partner token acts for an organisation's software, not
    for the person)."""
    viewer = info.context.viewer
    if viewer.account_id is None or viewer.token_id is not None:
        return None
    return await info.context.own_contacts.load(viewer.account_id)


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
