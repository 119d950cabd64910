"""Sign-up, sign-in, sessions and sign-in settings (DESIGN §2 identity proof, §5)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from backend.domain import enums
from backend.resolvers import auth, login, signup
from backend.resolvers.context import Info
from backend.schema.account import LoginPayload, Me
from backend.schema.types import CodeChannel


@strawberry.enum(description="A second factor the account can use to finish signing in.")
class LoginFactor(Enum):
    CODE = "CODE"
    PASSKEY = "PASSKEY"


@strawberry.input
class OpenRecordInput:
    ins: str
    first_name: str
    last_name: str
    birth_date: dt.date
    email: str | None = strawberry.field(default=None, description="Where to e-mail the activation code")
    phone: str | None = strawberry.field(default=None, description="Where to text the activation code")


@strawberry.type
class OpenRecordPayload:
    ins: str
    activation_code: str = strawberry.field(description="Hand it to the patient; shown once")
    expires_at: dt.datetime
    sent_to: str | None = strawberry.field(description="Masked address the code was also sent to")


@strawberry.input
class CreateRecordInput:
    ins: str
    activation_code: str
    email: str
    password: str
    phone: str | None = None
    code_channel: CodeChannel = CodeChannel.EMAIL


@strawberry.type
class CreateRecordPayload:
    attempt_token: str = strawberry.field(description="Pass it to verifyContact with the e-mailed code")
    sent_to: str


@strawberry.type
class StartLoginPayload:
    attempt_token: str
    factors: list[LoginFactor]
    code_sent_to: str | None


@strawberry.type
class RequestResetPayload:
    attempt_token: str


@strawberry.type
class FreshFactorPayload:
    sent_to: str


@strawberry.type
class ContactChangePayload:
    sent_to: str = strawberry.field(description="Masked new address the confirmation code went to")


@strawberry.type
class SessionInfo:
    id: strawberry.ID
    created_at: dt.datetime
    last_seen_at: dt.datetime
    user_agent: str
    current: bool


def login_payload(signed: login.SignedIn) -> LoginPayload:
    account, practitioner = signed.account, signed.practitioner
    return LoginPayload(me=Me(
        id=strawberry.ID(str(account.id)),
        role=enums.Role(account.role),
        display_name=account.display_name,
        profession=practitioner.profession.value if practitioner else None,
        is_regulator=bool(practitioner and practitioner.is_regulator),
        contacts_of=account.id,
    ))


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The signed-in account's open sessions.")
    async def my_sessions(self, info: Info) -> list[SessionInfo]:
        rows = await auth.my_sessions(info.context)
        return [SessionInfo(id=strawberry.ID(str(r.id)), created_at=r.created_at,
                            last_seen_at=r.last_seen_at, user_agent=r.user_agent, current=r.current)
                for r in rows]


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Practitioner: open a PENDING record after checking the "
                                     "patient's identity; returns a one-time activation code.")
    async def open_record_for_patient(self, info: Info, input: OpenRecordInput) -> OpenRecordPayload:
        r = await signup.open_record_for_patient(
            info.context, input.ins, input.first_name, input.last_name, input.birth_date,
            input.email, input.phone,
        )
        return OpenRecordPayload(ins=r.ins, activation_code=r.activation_code,
                                 expires_at=r.expires_at, sent_to=r.sent_to)

    @strawberry.mutation(description="Patient: activate a record with its INS and activation code.")
    async def create_record(self, info: Info, input: CreateRecordInput) -> CreateRecordPayload:
        r = await signup.create_record(
            info.context, input.ins, input.activation_code, input.email, input.phone,
            input.password, enums.CodeChannel(input.code_channel),
        )
        return CreateRecordPayload(attempt_token=r.attempt_token, sent_to=r.sent_to)

    @strawberry.mutation(description="Confirm the e-mail of a new record with its code; signs in.")
    async def verify_contact(self, info: Info, attempt_token: str, code: str) -> LoginPayload:
        return login_payload(await signup.verify_contact(info.context, attempt_token, code))

    @strawberry.mutation(description="First step of signing in: identifier (e-mail, INS or RPPS) "
                                     "and password. Always answers alike.")
    async def start_login(self, info: Info, identifier: str, password: str) -> StartLoginPayload:
        r = await login.start_login(info.context, identifier, password)
        return StartLoginPayload(attempt_token=r.attempt_token,
                                 factors=[LoginFactor(f) for f in r.factors],
                                 code_sent_to=r.code_sent_to)

    @strawberry.mutation(description="Second step: the one-time code; sets the session cookie.")
    async def complete_login(self, info: Info, attempt_token: str, code: str) -> LoginPayload:
        return login_payload(await login.complete_login(info.context, attempt_token, code))

    @strawberry.mutation(description="End the current session.")
    async def logout(self, info: Info) -> bool:
        return await auth.logout(info.context)

    @strawberry.mutation(description="End every session of the account; returns how many.")
    async def logout_everywhere(self, info: Info) -> int:
        return await auth.logout_everywhere(info.context)

    @strawberry.mutation(description="End one of the account's sessions.")
    async def revoke_session(self, info: Info, id: strawberry.ID) -> bool:
        return await auth.revoke_session(info.context, str(id))

    @strawberry.mutation(description="Send a password-reset code; never reveals whether the "
                                     "account exists.")
    async def request_password_reset(self, info: Info, identifier: str) -> RequestResetPayload:
        return RequestResetPayload(attempt_token=await login.request_password_reset(info.context, identifier))

    @strawberry.mutation(description="Choose a new password with the reset code; ends every session.")
    async def reset_password(self, info: Info, attempt_token: str, code: str, new_password: str) -> bool:
        return await login.reset_password(info.context, attempt_token, code, new_password)

    @strawberry.mutation(description="Send a code to confirm a sensitive change.")
    async def request_fresh_factor(self, info: Info) -> FreshFactorPayload:
        return FreshFactorPayload(sent_to=await auth.request_fresh_factor(info.context))

    @strawberry.mutation(description="Confirm the code: sensitive changes are allowed for 10 minutes.")
    async def confirm_fresh_factor(self, info: Info, code: str) -> bool:
        return await auth.confirm_fresh_factor(info.context, code)

    @strawberry.mutation(description="Needs a fresh second factor.")
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        return await auth.change_password(info.context, current_password, new_password)

    @strawberry.mutation(description="Needs a fresh second factor; a code goes to the new address.")
    async def change_email(self, info: Info, new_email: str) -> ContactChangePayload:
        return ContactChangePayload(sent_to=await auth.change_email(info.context, new_email))

    @strawberry.mutation(description="Needs a fresh second factor.")
    async def confirm_email_change(self, info: Info, code: str) -> bool:
        return await auth.confirm_email_change(info.context, code)

    @strawberry.mutation(description="Needs a fresh second factor; a code goes to the new number.")
    async def change_phone(self, info: Info, new_phone: str) -> ContactChangePayload:
        return ContactChangePayload(sent_to=await auth.change_phone(info.context, new_phone))

    @strawberry.mutation(description="Needs a fresh second factor.")
    async def confirm_phone_change(self, info: Info, code: str) -> bool:
        return await auth.confirm_phone_change(info.context, code)

    @strawberry.mutation(description="Needs a fresh second factor. SMS needs a verified phone.")
    async def set_code_channel(self, info: Info, channel: CodeChannel) -> CodeChannel:
        return await auth.set_code_channel(info.context, enums.CodeChannel(channel))


QUERIES: tuple[type, ...] = (AuthQuery,)
MUTATIONS: tuple[type, ...] = (AuthMutation,)
