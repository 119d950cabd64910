"""Stored files: content recognition and encryption at rest (DESIGN §2, §7)."""
