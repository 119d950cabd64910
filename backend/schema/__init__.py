"""Strawberry types; `schema` is the public GraphQL contract (checked in as schema.graphql)."""
