"""Why an input is refused: the reasons of BAD_USER_INPUT errors.

A refused input answers BAD_USER_INPUT with an English message for developers and, in
`extensions.reason`, the name of the rule it broke. The name is stable: a client branches on
it and words it in its reader's language (the patient page has a sentence for each, in
French and English). The values a sentence needs travel beside it as further extensions
(`field`, `max`, …): `field` is the input's name as the API spells it (`title`,
`details.cip13`).

A few RATE_LIMITED refusals of sign-in carry a reason too, where « try again later » would
not help: a code whose tries are used up, a locked code login, the day's reset tries used up.
Their `code` stays RATE_LIMITED for callers that read only the code. A sign-in reason is
given only where an identifier that names no account (a decoy attempt) gets the same answer,
or after the right password: it never tells whether an account exists.

One FORBIDDEN refusal carries a reason: the owner's own write on their record, or download of
one of its documents, while it waits for its deletion (RECORD_PENDING_DELETION; cancelling the
request mends it). Only the owner
is given it: anyone else gets the refusal they get on any record they may not change.

Add a reason here, not a new message alone: the page's catalogues must word it
(`tests/test_error_reasons.py` checks both catalogues and docs/api.md).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    # Identifiers
    INVALID_INS = "INVALID_INS"
    INVALID_RPPS = "INVALID_RPPS"
    INVALID_ID = "INVALID_ID"  # field: an id or cursor that is not one
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"  # a record of this INS holds another name or birth date
    # Free text and values
    FIELD_REQUIRED = "FIELD_REQUIRED"  # field
    FIELD_TOO_LONG = "FIELD_TOO_LONG"  # field, max
    FIELD_TOO_SHORT = "FIELD_TOO_SHORT"  # field, min
    FIELD_INVALID = "FIELD_INVALID"  # field: not of the expected kind (a number, a date…)
    OUT_OF_RANGE = "OUT_OF_RANGE"  # field, min, max
    DATE_IN_FUTURE = "DATE_IN_FUTURE"  # field
    DATE_TOO_OLD = "DATE_TOO_OLD"  # field
    DATE_BEFORE_BIRTH = "DATE_BEFORE_BIRTH"
    DATES_REVERSED = "DATES_REVERSED"  # field: the later date given earlier than the first
    # Contacts and sign-in
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    EMAIL_UNAVAILABLE = "EMAIL_UNAVAILABLE"
    SMS_NEEDS_PHONE = "SMS_NEEDS_PHONE"
    SMS_NEEDS_VERIFIED_PHONE = "SMS_NEEDS_VERIFIED_PHONE"
    SMS_UNAVAILABLE = "SMS_UNAVAILABLE"
    NO_PENDING_CHANGE = "NO_PENDING_CHANGE"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"  # noqa: S105 - a rule's name (min)
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG"  # noqa: S105 - a rule's name (max)
    PASSWORD_TOO_COMMON = "PASSWORD_TOO_COMMON"  # noqa: S105 - a rule's name
    WRONG_PASSWORD = "WRONG_PASSWORD"  # noqa: S105 - a rule's name
    WRONG_CODE = "WRONG_CODE"
    NO_CODE_WAITING = "NO_CODE_WAITING"
    ATTEMPT_EXPIRED = "ATTEMPT_EXPIRED"
    ACTIVATION_REFUSED = "ACTIVATION_REFUSED"
    PASSKEY_NOT_VERIFIED = "PASSKEY_NOT_VERIFIED"
    # RATE_LIMITED (see the module's docstring)
    CODE_TRIES_USED_UP = "CODE_TRIES_USED_UP"  # this code's tries: a new code is needed
    CODE_LOGIN_LOCKED = "CODE_LOGIN_LOCKED"  # too many wrong codes today: support or a passkey
    RESET_TRIES_USED_UP = "RESET_TRIES_USED_UP"  # the day's reset-code tries, account or identifier
    # Entries
    CODE_INVALID = "CODE_INVALID"
    DETAILS_UNKNOWN = "DETAILS_UNKNOWN"  # fields
    DETAILS_OF_OTHER_SECTION = "DETAILS_OF_OTHER_SECTION"
    CORRECTION_UNKNOWN = "CORRECTION_UNKNOWN"
    CORRECTION_OTHER_SECTION = "CORRECTION_OTHER_SECTION"
    EMERGENCY_PROFILE_SEPARATE = "EMERGENCY_PROFILE_SEPARATE"
    TOO_MANY_CONTACTS = "TOO_MANY_CONTACTS"  # max
    TOO_MANY_PASSKEYS = "TOO_MANY_PASSKEYS"  # max
    # Documents
    FILE_TOO_LARGE = "FILE_TOO_LARGE"  # maxMb
    FILE_EMPTY = "FILE_EMPTY"
    RECORD_FILES_FULL = "RECORD_FILES_FULL"  # maxMb: the record's documents, all together
    FILE_NOT_ACCEPTED = "FILE_NOT_ACCEPTED"
    UPLOAD_SECTION = "UPLOAD_SECTION"
    DOCUMENT_REPLACED_BY_UPLOAD = "DOCUMENT_REPLACED_BY_UPLOAD"  # addEntry naming an entry with a file
    # Sharing
    NO_SECTION_CHOSEN = "NO_SECTION_CHOSEN"
    SECTIONS_NOT_ALLOWED = "SECTIONS_NOT_ALLOWED"  # profession, sections
    PRACTITIONER_BLOCKED = "PRACTITIONER_BLOCKED"
    IS_TREATING_PHYSICIAN = "IS_TREATING_PHYSICIAN"
    TREATING_PHYSICIAN_NOT_DOCTOR = "TREATING_PHYSICIAN_NOT_DOCTOR"
    # FORBIDDEN, to the record's owner only (see the module's docstring)
    RECORD_PENDING_DELETION = "RECORD_PENDING_DELETION"  # the owner's write while deletion waits
    # Support and imports
    SEARCH_TERM_NEEDED = "SEARCH_TERM_NEEDED"
    ACCOUNT_NOT_LOCKED = "ACCOUNT_NOT_LOCKED"
    ALREADY_ACTIVATED = "ALREADY_ACTIVATED"
    NO_CONTACT_ON_FILE = "NO_CONTACT_ON_FILE"
    TOO_MANY_ITEMS = "TOO_MANY_ITEMS"  # maxItems


class Refused(ValueError):
    """Input a rule of the domain refuses: the English message, the rule's reason, and the
    values its wording needs (see the module's docstring)."""

    def __init__(self, message: str, reason: Reason, **params: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params
