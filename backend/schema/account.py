"""The signed-in account."""

from __future__ import annotations

import uuid

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
    # Whose contacts the fields below show: the account described, who after a login is not
    # the request's caller; None for a partner token.
    contacts_of: strawberry.Private[uuid.UUID | None]

    @strawberry.field(
        description="Where the account's sign-in codes go (EMAIL or SMS); null for a partner token."
    )
    async def code_channel(self, info: Info) -> CodeChannel | None:
        own = await self._own_contacts(info)
        return own.code_channel if own else None

    @strawberry.field(
        description="The account's own e-mail address, as confirmed; null for a partner token."
    )
    async def email(self, info: Info) -> str | None:
        own = await self._own_contacts(info)
        return own.email if own else None

    @strawberry.field(
        description="The account's own phone number; null if none, or for a partner token."
    )
    async def phone(self, info: Info) -> str | None:
        own = await self._own_contacts(info)
        return own.phone if own else None

    async def _own_contacts(self, info: Info) -> OwnContacts | None:
        """The account's own contacts and code channel, read once per request."""
        if self.contacts_of is None:
            return None
        return await info.context.own_contacts.load(self.contacts_of)


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
        # Shown to the account itself only: a partner token acts for an organisation's
        # software, not for the person.
        contacts_of=v.account_id if v.token_id is None else None,
    )


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in account, or null when signed out.")
    def me(self, info: Info) -> Me | None:
        return me_of(info)


QUERIES: tuple[type, ...] = (AccountQuery,)
MUTATIONS: tuple[type, ...] = ()
