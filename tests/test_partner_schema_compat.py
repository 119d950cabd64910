"""The contract never breaks silently: schema.graphql against the last released contract.

A breaking change (graphql-core's `find_breaking_changes`) fails the suite, except the
removal of something the released contract already marked @deprecated — the rule written
in docs/CHANGELOG.md. Dangerous changes (a new enum value, a changed default) are listed in
the failure text for context but do not fail on their own.
"""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_named_type,
)

ROOT = Path(__file__).resolve().parent.parent
CURRENT = ROOT / "schema.graphql"
RELEASED = ROOT / "docs" / "schema-released.graphql"



def _retire_deprecated(schema: GraphQLSchema) -> GraphQLSchema:
    """The released contract minus what it had deprecated: those may go in a later release.

    Deprecated fields, input fields, arguments and enum values are dropped, then every type
    no longer reachable from the roots (a type only deprecated fields used may go too).
    """
    for named in schema.type_map.values():
        if named.name.startswith("__"):
            continue
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for name, field in list(named.fields.items()):
                if field.deprecation_reason is not None:
                    del named.fields[name]
                    continue
                for arg_name, argument in list(getattr(field, "args", {}).items()):
                    if argument.deprecation_reason is not None:
                        del field.args[arg_name]
        elif isinstance(named, GraphQLEnumType):
            for name, value in list(named.values.items()):
                if value.deprecation_reason is not None:
                    del named.values[name]
    reachable = _reachable(schema)
    for name in list(schema.type_map):
        if not name.startswith("__") and name not in reachable:
            del schema.type_map[name]
    return schema


def _reachable(schema: GraphQLSchema) -> set[str]:
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    pending: list[GraphQLNamedType] = [t for t in roots if t is not None]
    for directive in schema.directives:
        pending.extend(get_named_type(a.type) for a in directive.args.values())
    seen: set[str] = set()
    while pending:
        named = pending.pop()
        if named.name in seen:
            continue
        seen.add(named.name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field in named.fields.values():
                pending.append(get_named_type(field.type))
                pending.extend(get_named_type(a.type) for a in getattr(field, "args", {}).values())
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            pending.extend(named.interfaces)
        if isinstance(named, GraphQLInterfaceType):
            pending.extend(schema.get_possible_types(named))
        if isinstance(named, GraphQLUnionType):
            pending.extend(named.types)
    return seen


def contract_breaks(released_sdl: str, current_sdl: str) -> tuple[list[str], list[str]]:
    """(breaking changes not covered by a prior deprecation, dangerous changes)."""
    released = _retire_deprecated(build_schema(released_sdl))
    current = build_schema(current_sdl)
    breaking = [f"{c.type.name}: {c.description}" for c in find_breaking_changes(released, current)]
    dangerous = [f"{c.type.name}: {c.description}"
                 for c in find_dangerous_changes(build_schema(released_sdl), current)]
    return breaking, dangerous


def test_current_schema_keeps_the_released_contract() -> None:
    breaking, dangerous = contract_breaks(RELEASED.read_text(), CURRENT.read_text())
    assert not breaking, (
        "schema.graphql breaks the released contract (docs/schema-released.graphql).\n"
        "Deprecate first (@deprecated in a release), remove later; see docs/CHANGELOG.md.\n"
        "Breaking:\n  " + "\n  ".join(breaking)
        + ("\nAlso dangerous:\n  " + "\n  ".join(dangerous) if dangerous else "")
    )


# --- the checker itself ---------------------------------------------------------------------

SDL = CURRENT.read_text()


def _drop(sdl: str, line: str) -> str:
    """Remove one definition line (or block) and the description just above it."""
    assert sdl.count(line) == 1, line
    before, after = sdl.split(line)
    before = before.rstrip(" ")
    if before.endswith('"""\n'):
        opening = before[:-4].rfind('"""')
        before = before[:opening].rstrip(" ")
    return before + after


def _deprecate(sdl: str, line: str, reason: str = "Use something else.") -> str:
    assert sdl.count(line) == 1, line
    return sdl.replace(line, line.rstrip("\n") + f' @deprecated(reason: "{reason}")\n')


DIRECTORY = "  practitionerDirectory(search: String!): [PractitionerInfo!]!\n"
EXPORT = "  exportMyRecord(format: ExportFormat! = JSON): ExportPayload!\n"


def _kinds(changes: list[str]) -> list[str]:
    return [change.split(":")[0] for change in changes]


def test_an_unchanged_contract_has_no_break() -> None:
    breaking, _ = contract_breaks(SDL, SDL)
    assert breaking == []


def test_removing_a_field_is_reported() -> None:
    breaking, _ = contract_breaks(SDL, _drop(SDL, DIRECTORY))
    assert _kinds(breaking) == ["FIELD_REMOVED"]
    assert "Query.practitionerDirectory" in breaking[0]


def test_deprecate_then_remove_passes() -> None:
    deprecated = _deprecate(SDL, DIRECTORY)
    assert contract_breaks(SDL, deprecated)[0] == []  # deprecating is no break
    assert contract_breaks(deprecated, _drop(SDL, DIRECTORY))[0] == []  # next release removes


def test_a_type_used_only_by_a_deprecated_field_may_go_with_it() -> None:
    released = _deprecate(SDL, EXPORT, "Download the export at /export instead.")
    current = _drop(SDL, EXPORT)
    start = current.index("type ExportPayload {")
    current = current[:start] + current[current.index("}\n", start) + 2:]
    assert "ExportPayload" not in current
    assert contract_breaks(released, current)[0] == []
    # Without the released deprecation, both the field and the type are reported.
    breaking = contract_breaks(SDL, current)[0]
    assert sorted(_kinds(breaking)) == ["FIELD_REMOVED", "TYPE_REMOVED"]


def test_removing_an_enum_value_needs_a_prior_deprecation_too() -> None:
    line = "  EMERGENCY_REVIEWED\n"
    removed = _drop(SDL, line)
    breaking = contract_breaks(SDL, removed)[0]
    assert _kinds(breaking) == ["VALUE_REMOVED_FROM_ENUM"]
    assert "EMERGENCY_REVIEWED" in breaking[0]
    assert contract_breaks(_deprecate(SDL, line), removed)[0] == []


def test_other_breaking_changes_are_reported() -> None:
    stricter = SDL.replace("  myRecordStatus: RecordLifecycle\n", "  myRecordStatus: RecordLifecycle!\n")
    assert stricter != SDL
    assert contract_breaks(SDL, stricter)[0] == []  # a nullable output made non-null is safe
    required_arg = SDL.replace(
        "    ins: String!\n  ): PatientRecord", "    ins: String!\n    reason: String!\n  ): PatientRecord"
    )
    assert required_arg != SDL
    breaking = contract_breaks(SDL, required_arg)[0]
    assert _kinds(breaking) == ["REQUIRED_ARG_ADDED"]
    assert "patientRecord" in breaking[0]
    renamed = SDL.replace("type Author {\n  displayName: String!", "type Author {\n  name: String!")
    assert renamed != SDL
    breaking = contract_breaks(SDL, renamed)[0]
    assert _kinds(breaking) == ["FIELD_REMOVED"]
    assert "Author.displayName" in breaking[0]
    looser = SDL.replace("type Author {\n  displayName: String!", "type Author {\n  displayName: String")
    assert _kinds(contract_breaks(SDL, looser)[0]) == ["FIELD_CHANGED_KIND"]


def test_a_new_enum_value_is_dangerous_not_breaking() -> None:
    changed = SDL.replace("enum EntrySource {\n  INSURER\n", "enum EntrySource {\n  INSURER\n  HOSPITAL\n")
    assert changed != SDL
    breaking, dangerous = contract_breaks(SDL, changed)
    assert breaking == []
    assert _kinds(dangerous) == ["VALUE_ADDED_TO_ENUM"]
    assert "HOSPITAL" in dangerous[0]


def test_the_changelog_names_every_released_operation() -> None:
    released = build_schema(RELEASED.read_text())
    changelog = (ROOT / "docs" / "CHANGELOG.md").read_text()
    roots = [released.query_type, released.mutation_type]
    missing = [f"{root.name}.{name}" for root in roots if root is not None
               for name in root.fields if f"`{name}" not in changelog]
    assert not missing, f"docs/CHANGELOG.md does not list: {', '.join(missing)}"
