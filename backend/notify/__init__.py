"""Notifications through the durable outbox: e-mail (aiosmtplib) and SMS senders."""
