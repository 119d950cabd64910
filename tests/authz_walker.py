"""Walks schema.graphql to every place medical content can leave, and builds the queries.

The policy tables here are written from DESIGN §3 and §6, independently of backend/authz:
every field of a type that holds medical content, and every path from a root type to one,
must be named here, or `walk` reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from backend.domain.enums import Section

S = Section

# Field policies of the types that hold medical content.
IDENTITY = "identity"  # shown with the record to whoever may see any section
META = "meta"  # the viewer's own access modes
CONTENT = "content"  # part of an entry or a section, shown only with it
OWNER_ONLY = "owner-only"  # null for everyone but the owner
HISTORY = "history"  # part of the record's access history, shown only with it (DESIGN §4)


@dataclass(frozen=True)
class SectionField:
    section: Section


CONNECTION_FIELDS: dict[str, Section] = {
    "medications": S.MEDICATIONS,
    "medicalDevices": S.MEDICAL_DEVICES,
    "procedures": S.PROCEDURES,
    "imaging": S.IMAGING,
    "labResults": S.LAB_RESULTS,
    "hospitalStays": S.HOSPITAL_STAYS,
    "medicalHistory": S.MEDICAL_HISTORY,
    "allergies": S.ALLERGIES,
    "vaccinations": S.VACCINATIONS,
    "documents": S.DOCUMENTS,
}

ENTRY_TYPE: dict[Section, str] = {
    S.MEDICATIONS: "MedicationEntry",
    S.MEDICAL_DEVICES: "MedicalDeviceEntry",
    S.PROCEDURES: "ProcedureEntry",
    S.IMAGING: "ImagingEntry",
    S.LAB_RESULTS: "LabResultEntry",
    S.HOSPITAL_STAYS: "HospitalStayEntry",
    S.MEDICAL_HISTORY: "MedicalHistoryEntry",
    S.ALLERGIES: "AllergyEntry",
    S.VACCINATIONS: "VaccinationEntry",
    S.DOCUMENTS: "DocumentEntry",
}

ENTRY_BASE: dict[str, object] = {
    name: CONTENT
    for name in (
        "id", "section", "title", "code", "date", "source", "author", "createdAt", "supersedes",
        "superseded",
    )
} | {"masked": OWNER_ONLY}


def _entry(*details: str) -> dict[str, object]:
    return ENTRY_BASE | {name: CONTENT for name in details}


FIELD_POLICY: dict[str, dict[str, object]] = {
    "PatientRecord": {
        "ins": IDENTITY,
        "firstName": IDENTITY,
        "lastName": IDENTITY,
        "birthDate": IDENTITY,
        "status": IDENTITY,
        "accessMode": META,
        "sectionAccess": META,
        "accessibleSections": META,
        "emergencyExpiresAt": META,
        **{name: SectionField(section) for name, section in CONNECTION_FIELDS.items()},
        "emergencyProfile": SectionField(S.EMERGENCY),
    },
    "SectionAccess": {"section": META, "mode": META},
    "EntryConnection": {"edges": CONTENT, "pageInfo": CONTENT, "totalCount": CONTENT},
    "EntryEdge": {"cursor": CONTENT, "node": CONTENT},
    "PageInfo": {"hasNextPage": CONTENT, "endCursor": CONTENT},
    "Author": {"displayName": CONTENT, "profession": CONTENT},
    "EmergencyProfile": {
        "bloodGroup": CONTENT, "emergencyContacts": CONTENT, "advanceDirectives": CONTENT
    },
    "EmergencyContact": {"name": CONTENT, "phone": CONTENT, "relation": CONTENT},
    "Entry": ENTRY_BASE,
    "MedicationEntry": _entry("cip13", "atc", "dose", "prescriber", "quantity"),
    "MedicalDeviceEntry": _entry("lppCode", "quantity"),
    "ProcedureEntry": _entry("ccamCode", "performer"),
    "ImagingEntry": _entry("ccamCode", "modality", "bodySite", "report"),
    "LabResultEntry": _entry(
        "analyte", "loinc", "value", "unit", "referenceRange", "abnormal", "fileName", "contentType",
        "downloadUrl",
    ),
    "HospitalStayEntry": _entry("facility", "admissionDate", "dischargeDate"),
    "MedicalHistoryEntry": _entry("condition", "icd10", "notes"),
    "AllergyEntry": _entry("substance", "reaction", "severity"),
    "VaccinationEntry": _entry("vaccine", "lot", "doseNumber"),
    "DocumentEntry": _entry(
        "documentType", "description", "fileName", "contentType", "size", "downloadUrl"
    ),
    # The access history: its events name entries, and give their owner their current title.
    "AccessEventConnection": {"edges": HISTORY, "pageInfo": HISTORY, "totalCount": HISTORY},
    "AccessEventEdge": {"cursor": HISTORY, "node": HISTORY},
    "AccessEventNode": {
        **{name: HISTORY for name in (
            "id", "seq", "at", "actorId", "actorName", "actorProfession", "actorRole", "action", "mode",
            "sections", "entryId", "reason", "emergency",
        )},
        "entryTitle": OWNER_ONLY,
    },
}

# The types that are medical content by themselves; what they reach is too. A history event
# carries an entry's title (entryTitle) and names its entry and sections: the record's owner
# alone reads it. Its page is a root too, so that the path to it is the query that gives it.
MEDICAL_ROOTS = ("PatientRecord", "Entry", "EmergencyProfile", "AccessEventNode", "AccessEventConnection")

# Every path from a root type to medical content, and who may get content through it.
DECISION = "decision"  # the access decision: exact expectations per actor state
WRITER = "writer"  # the entry just written: TREATING_PHYSICIAN or GRANTED, or the owner (DESIGN §3)
OWNER = "owner"  # the owner only
OWNER_OR_TREATING = "owner-or-treating"  # the emergency profile's editors (DESIGN §2, §3)

ROOT_POLICY: dict[str, str] = {
    "Query.myRecord": DECISION,
    "Query.patientRecord": DECISION,
    "Query.myAccessHistory": OWNER,
    "Mutation.regulatorAccess.record": DECISION,
    "Mutation.openBreakGlass.record": DECISION,
    "Mutation.addEntry.entry": WRITER,
    "Mutation.uploadDocument.entry": WRITER,
    "Mutation.maskEntry": OWNER,
    "Mutation.unmaskEntry": OWNER,
    "Mutation.updateEmergencyProfile.emergencyProfile": OWNER_OR_TREATING,
    "Mutation.closeMyRecord": OWNER,
    "Mutation.reopenMyRecord": OWNER,
}


@dataclass
class Walk:
    paths: dict[str, str] = field(default_factory=dict)  # path -> the content type reached
    content_types: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _required(arg: Any) -> bool:
    """Non-null without a default (graphql-core 3.3 keeps SDL defaults in `default`)."""
    has_default = getattr(arg, "default", None) is not None or arg.default_value is not Undefined
    return isinstance(arg.type, GraphQLNonNull) and not has_default


def _fields_of(t: Any) -> dict[str, GraphQLField]:
    return dict(t.fields) if isinstance(t, GraphQLObjectType | GraphQLInterfaceType) else {}


def _composites(schema: GraphQLSchema, t: Any) -> list[Any]:
    """An output type and, for interfaces and unions, every concrete type behind it."""
    if isinstance(t, GraphQLUnionType):
        return list(t.types)
    if isinstance(t, GraphQLInterfaceType):
        return [t, *schema.get_possible_types(t)]
    if isinstance(t, GraphQLObjectType):
        return [t]
    return []


def content_types(schema: GraphQLSchema) -> set[str]:
    """The medical roots and every composite type reachable from them."""
    todo = [schema.get_type(name) for name in MEDICAL_ROOTS if schema.get_type(name) is not None]
    seen: set[str] = set()
    while todo:
        t = todo.pop()
        for composite in _composites(schema, t):
            if composite.name in seen:
                continue
            seen.add(composite.name)
            for f in _fields_of(composite).values():
                todo.append(get_named_type(f.type))
    return seen


def carriers(schema: GraphQLSchema, inner: set[str]) -> set[str]:
    """The content types that are, or lead to, a medical root (PageInfo, say, does not)."""
    found = {name for name in inner if name in MEDICAL_ROOTS}
    entry = schema.get_type("Entry")
    if isinstance(entry, GraphQLInterfaceType):
        found |= {t.name for t in schema.get_possible_types(entry)}
    changed = True
    while changed:
        changed = False
        for name in inner - found:
            for composite in _composites(schema, schema.get_type(name)):
                if any(get_named_type(f.type).name in found for f in _fields_of(composite).values()):
                    found.add(name)
                    changed = True
                    break
    return found


def walk(schema: GraphQLSchema, root_policy: dict[str, str] | None = None) -> Walk:
    root_policy = ROOT_POLICY if root_policy is None else root_policy
    result = Walk(content_types=content_types(schema))
    inner = result.content_types
    medical = carriers(schema, inner)
    for name in sorted(inner):
        t = schema.get_type(name)
        policy = FIELD_POLICY.get(name)
        if policy is None:
            result.problems.append(f"{name}: holds medical content and has no field policy")
            continue
        for fname, f in _fields_of(t).items():
            if fname not in policy:
                result.problems.append(f"{name}.{fname}: no policy")
            elif any(_required(a) for a in f.args.values()):
                result.problems.append(f"{name}.{fname}: required argument the walker cannot fill")
        for fname in policy:
            if fname not in _fields_of(t):
                result.problems.append(f"{name}.{fname}: policy for a field that does not exist")

    def visit(t: Any, prefix: str, seen: frozenset[str]) -> None:
        for composite in _composites(schema, t):
            for fname, f in _fields_of(composite).items():
                target = get_named_type(f.type)
                path = f"{prefix}.{fname}"
                if target.name in medical:
                    result.paths[path] = target.name
                elif not is_leaf_type(target) and target.name not in seen:
                    visit(target, path, seen | {target.name})

    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None:
            visit(root, root.name, frozenset({root.name}))
    for path, target in sorted(result.paths.items()):
        if path not in root_policy:
            result.problems.append(f"{path}: reaches {target} with no policy")
    for path in root_policy:
        if path not in result.paths:
            result.problems.append(f"{path}: policy for a path that does not exist")
    return result


def selection(schema: GraphQLSchema, type_name: str, args: dict[str, str] | None = None) -> str:
    """Every field of a content type, recursively; interfaces add one fragment per type."""
    t = schema.get_type(type_name)
    parts: list[str] = ["__typename"]
    own = _fields_of(t)
    for fname, f in own.items():
        parts.append(_field_selection(schema, fname, f, args))
    for impl in _composites(schema, t)[1:]:
        extra = [
            _field_selection(schema, fname, f, args)
            for fname, f in _fields_of(impl).items() if fname not in own
        ]
        if extra:
            parts.append(f"... on {impl.name} {{ {' '.join(extra)} }}")
    return " ".join(parts)


def _field_selection(schema: GraphQLSchema, name: str, f: GraphQLField, args: dict[str, str] | None) -> str:
    target = get_named_type(f.type)
    arg_text = ""
    if args and name in CONNECTION_FIELDS and "first" in f.args:
        arg_text = "(" + ", ".join(f"{k}: {v}" for k, v in args.items()) + ")"
    if is_leaf_type(target):
        return name + arg_text
    return f"{name}{arg_text} {{ {selection(schema, target.name, args)} }}"


class CannotFill(Exception):
    """A required argument the walker has no value for."""


def argument_value(schema: GraphQLSchema, name: str, type_: Any, values: dict[str, Any]) -> Any:
    if name in values:
        return values[name]
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        return {
            fname: argument_value(schema, fname, f.type, values)
            for fname, f in named.fields.items()
            if _required(f) or fname in values
        }
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    by_type = {"String": "x", "Int": 1, "Boolean": False, "ID": values.get("id"),
               "Date": "2020-01-01", "DateTime": "2020-01-01T00:00:00+00:00"}
    value = by_type.get(named.name)
    if value is None:
        raise CannotFill(f"{name}: {type_}")
    return [value] if str(type_).startswith("[") else value


def operation(schema: GraphQLSchema, path: str, values: dict[str, Any],
              section_args: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """The document that follows `path` from its root and selects all of the content it reaches."""
    root_name, *names = path.split(".")
    t: Any = schema.get_type(root_name)
    variables: dict[str, Any] = {}
    declared: list[str] = []
    opened: list[str] = []
    for depth, name in enumerate(names):
        f = None
        for composite in _composites(schema, t):
            f = _fields_of(composite).get(name)
            if f is not None:
                break
        assert f is not None, path
        call = []
        for arg_name, arg in f.args.items():
            if not _required(arg) and arg_name not in values:
                continue
            var = f"v{depth}_{arg_name}"
            variables[var] = argument_value(schema, arg_name, arg.type, values)
            declared.append(f"${var}: {arg.type}")
            call.append(f"{arg_name}: ${var}")
        opened.append(name + (f"({', '.join(call)})" if call else ""))
        t = get_named_type(f.type)
    text = f"{opened[-1]} {{ {selection(schema, t.name, section_args)} }}"
    for part in reversed(opened[:-1]):
        text = f"{part} {{ __typename {text} }}"
    keyword = "query" if root_name == "Query" else "mutation"
    header = f"{keyword}({', '.join(declared)})" if declared else keyword
    return f"{header} {{ {text} }}", variables
