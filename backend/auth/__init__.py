"""Passwords, one-time codes, passkeys, sessions and partner tokens (DESIGN §5)."""
