"""Passkeys (WebAuthn): registration, login, management (DESIGN §5)."""

from __future__ import annotations

import datetime as dt

import strawberry

from backend.models import PasskeyCredential
from backend.resolvers import passkeys
from backend.resolvers.context import Info
from backend.schema.account import LoginPayload
from backend.schema.auth import login_payload


@strawberry.type
class PasskeyOptionsPayload:
    options_json: str = strawberry.field(
        description="PublicKeyCredential creation or request options, as WebAuthn JSON "
        "(give to @simplewebauthn/browser's startRegistration / startAuthentication)."
    )


@strawberry.type
class Passkey:
    id: strawberry.ID
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None

    @classmethod
    def of(cls, row: PasskeyCredential) -> Passkey:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
        )


@strawberry.type
class PasskeyQuery:
    @strawberry.field(description="The signed-in account's passkeys, oldest first.")
    async def my_passkeys(self, info: Info) -> list[Passkey]:
        return [Passkey.of(row) for row in await passkeys.my_passkeys(info.context)]


@strawberry.type
class PasskeyMutation:
    @strawberry.mutation(
        description="Start adding a passkey (needs a second factor from the last 10 minutes)."
    )
    async def begin_passkey_registration(self, info: Info) -> PasskeyOptionsPayload:
        return PasskeyOptionsPayload(options_json=await passkeys.begin_registration(info.context))

    @strawberry.mutation(
        description="Finish adding a passkey with the authenticator's response (JSON)."
    )
    async def finish_passkey_registration(
        self, info: Info, credential_json: str, name: str | None = None
    ) -> Passkey:
        row = await passkeys.finish_registration(info.context, credential_json, name)
        return Passkey.of(row)

    @strawberry.mutation(
        description="Start a passkey login: with the attemptToken of startLogin, as the second "
        "factor; without, passwordless (the browser offers its passkeys for this site)."
    )
    async def begin_passkey_login(
        self, info: Info, attempt_token: str | None = None
    ) -> PasskeyOptionsPayload:
        return PasskeyOptionsPayload(
            options_json=await passkeys.begin_login(info.context, attempt_token)
        )

    @strawberry.mutation(
        description="Finish a passkey login; sets the session cookie on success."
    )
    async def finish_passkey_login(
        self, info: Info, credential_json: str, attempt_token: str | None = None
    ) -> LoginPayload:
        return login_payload(
            await passkeys.finish_login(info.context, credential_json, attempt_token)
        )

    @strawberry.mutation(description="Rename one of the signed-in account's passkeys.")
    async def rename_passkey(self, info: Info, id: strawberry.ID, name: str) -> Passkey:
        return Passkey.of(await passkeys.rename_passkey(info.context, str(id), name))

    @strawberry.mutation(
        description="Remove a passkey (needs a second factor from the last 10 minutes)."
    )
    async def remove_passkey(self, info: Info, id: strawberry.ID) -> bool:
        return await passkeys.remove_passkey(info.context, str(id))


QUERIES: tuple[type, ...] = (PasskeyQuery,)
MUTATIONS: tuple[type, ...] = (PasskeyMutation,)
