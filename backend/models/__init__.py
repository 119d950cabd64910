"""Tortoise models for the whole domain. Tortoise discovers the models listed here."""

from backend.models.access import BlockedPractitioner, EmergencySession, Grant
from backend.models.accounts import Account, Practitioner
from backend.models.audit import AccessEvent, PurgedRecord
from backend.models.auth import (
    ApiToken,
    LoginAttempt,
    OneTimeCode,
    PasskeyChallenge,
    PasskeyCredential,
    RateCounter,
    Session,
)
from backend.models.notify import OutboxMessage
from backend.models.records import ActivationCode, Entry, ImportKey, PurgedIdentity, Record, StoredFile

__all__ = [
    "AccessEvent",
    "PurgedIdentity",
    "PurgedRecord",
    "Account",
    "ActivationCode",
    "ApiToken",
    "BlockedPractitioner",
    "EmergencySession",
    "Entry",
    "Grant",
    "ImportKey",
    "LoginAttempt",
    "OneTimeCode",
    "OutboxMessage",
    "PasskeyChallenge",
    "PasskeyCredential",
    "Practitioner",
    "RateCounter",
    "Record",
    "Session",
    "StoredFile",
]
