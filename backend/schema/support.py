"""GraphQL types and root fields of this area; registered in QUERIES and MUTATIONS."""

from __future__ import annotations

QUERIES: tuple[type, ...] = ()
MUTATIONS: tuple[type, ...] = ()
