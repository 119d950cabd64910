"""The access history: events, their hash chain, and the per-request collector (DESIGN §4)."""
