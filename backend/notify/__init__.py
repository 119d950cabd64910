"""Notifications through the durable outbox: e-mail (aiosmtplib) and SMS senders.

Other areas call `notify_new_document(record_id)` and `notify_security(account, what)`.
"""

from backend.notify.notices import notify_new_document, notify_security

__all__ = ["notify_new_document", "notify_security"]
