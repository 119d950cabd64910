"""Every reason the service writes in a history event comes from backend/audit/reasons.py.

An event's `reason` is read by the patient in their history; the page words the service's own
reasons in the reader's language (frontend/src/lib/history.js), and tests/test_history_reasons.py
checks each reason of the module against it. A text written in place elsewhere would escape
that check: this guard reads the backend's source (AST) and refuses a string literal or an
f-string given as an event's reason.

The calls that carry a reason are found, not listed: `PendingEvent(reason=...)` (the audit
writer's event), then every function that hands one of its parameters on as such a reason
(`AccessLog.note`, `record_change`, `change`, sharing's `_changed`, auth's `security_change`,
support's `_note` and `_acting`, ...), until none is added. A parameter or any other
variable (the practitioner's own stated reason) is fine; a literal, an f-string, a `+` or
`%` of them, a `.format`, a conditional with one as a branch, or a name assigned one (in the
function or the module) is not. An empty string (no reason) is fine.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent / "backend"
REASONS_MODULE = BACKEND / "audit" / "reasons.py"


@dataclass(frozen=True)
class Sink:
    """A callable whose argument at `position` (or keyword `keyword`) becomes an event's reason."""

    name: str
    position: int | None
    keyword: str | None


BASE = Sink("PendingEvent", 5, "reason")


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _argument(call: ast.Call, sink: Sink) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg is not None and kw.arg == sink.keyword:
            return kw.value
    if sink.position is not None and sink.position < len(call.args):
        arg = call.args[sink.position]
        return None if isinstance(arg, ast.Starred) else arg
    return None


def _sinks_called(call: ast.Call, sinks: dict[str, list[Sink]]) -> list[Sink]:
    name = _callee(call)
    return sinks.get(name, []) if name else []


def _parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], list[str]]:
    positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    return positional, [a.arg for a in fn.args.kwonlyargs]


def _functions(trees: dict[Path, ast.Module]) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [
        node for tree in trees.values() for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def find_sinks(trees: dict[Path, ast.Module]) -> dict[str, list[Sink]]:
    """PendingEvent, then every function passing a parameter of its own on as a reason."""
    sinks: dict[str, list[Sink]] = {BASE.name: [BASE]}
    functions = _functions(trees)
    added = True
    while added:
        added = False
        for fn in functions:
            positional, keyword_only = _parameters(fn)
            for node in ast.walk(fn):
                if not isinstance(node, ast.Call):
                    continue
                for sink in _sinks_called(node, sinks):
                    arg = _argument(node, sink)
                    if not isinstance(arg, ast.Name):
                        continue
                    if arg.id in positional:
                        found = Sink(fn.name, positional.index(arg.id), arg.id)
                    elif arg.id in keyword_only:
                        found = Sink(fn.name, None, arg.id)
                    else:
                        continue
                    if found not in sinks.setdefault(fn.name, []):
                        sinks[fn.name].append(found)
                        added = True
    return sinks


def _assigned(scope: ast.AST, name: str) -> list[ast.expr]:
    """The values `name` is assigned in `scope` (not in the functions nested in a module)."""
    values: list[ast.expr] = []
    nodes = ast.walk(scope) if not isinstance(scope, ast.Module) else iter(scope.body)
    for node in nodes:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            values.append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.target.id == name and node.value is not None:
            values.append(node.value)
    return values


def literal_like(expr: ast.expr, scopes: list[ast.AST], seen: frozenset[str] = frozenset()) -> bool:
    """Whether `expr` is a text written in place: a literal, an f-string, or made of them."""
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, str) and expr.value != ""
    if isinstance(expr, ast.JoinedStr):
        return True
    if isinstance(expr, ast.BinOp):
        return literal_like(expr.left, scopes, seen) or literal_like(expr.right, scopes, seen)
    if isinstance(expr, ast.IfExp):
        return literal_like(expr.body, scopes, seen) or literal_like(expr.orelse, scopes, seen)
    if isinstance(expr, ast.BoolOp):
        return any(literal_like(v, scopes, seen) for v in expr.values)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "format":
        return literal_like(expr.func.value, scopes, seen)
    if isinstance(expr, ast.Name) and expr.id not in seen:
        return any(
            literal_like(value, scopes, seen | {expr.id})
            for scope in scopes for value in _assigned(scope, expr.id)
        )
    return False


def _scoped_calls(tree: ast.Module) -> list[tuple[ast.Call, list[ast.AST]]]:
    """Each call of a module, with the scopes its names are looked up in (innermost first)."""
    found: list[tuple[ast.Call, list[ast.AST]]] = []

    def visit(node: ast.AST, scopes: list[ast.AST]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, [child, *scopes])
                continue
            if isinstance(child, ast.Call):
                found.append((child, scopes))
            visit(child, scopes)

    visit(tree, [tree])
    return found


def written_in_place(trees: dict[Path, ast.Module]) -> list[str]:
    """`file:line name(...)` for each reason given as a text written in place."""
    sinks = find_sinks(trees)
    problems = []
    for path, tree in trees.items():
        if path == REASONS_MODULE:
            continue
        for call, scopes in _scoped_calls(tree):
            for sink in _sinks_called(call, sinks):
                arg = _argument(call, sink)
                if arg is not None and literal_like(arg, scopes):
                    problems.append(f"{path.relative_to(BACKEND.parent)}:{call.lineno} {sink.name}(...)")
    return sorted(set(problems))


def parse(sources: dict[Path, str]) -> dict[Path, ast.Module]:
    return {path: ast.parse(text, filename=str(path)) for path, text in sources.items()}


def backend_sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(BACKEND.rglob("*.py"))}


def test_the_calls_carrying_a_reason_are_found() -> None:
    sinks = find_sinks(parse(backend_sources()))
    # The guard would pass vacuously if the reason were no longer followed through these.
    for name in ("note", "record_change", "change", "_changed", "security_change", "_note", "_acting"):
        assert name in sinks, name


def test_no_reason_is_written_in_place() -> None:
    assert written_in_place(parse(backend_sources())) == []


PLANTED = '''
from backend.audit.writer import PendingEvent
from backend.audit import reasons

GREETING = "bonjour"


def helper(ctx, record, what):
    ctx.access_log.note(record.id, "X", reason=what)


async def uses(ctx, record, stated, fmt, choice):
    ctx.access_log.note(record.id, "X", reason="écrit ici")  # refused
    await ctx.access_log.record_change(record.id, "X", reason=f"format {fmt}")  # refused
    helper(ctx, record, "un texte")  # refused
    helper(ctx, record, what=GREETING)  # refused
    label = "par SMS" if choice else "par e-mail"
    helper(ctx, record, "codes " + label)  # refused
    PendingEvent(record.id, "X", None, set(), None, "{}".format(fmt))  # refused
    helper(ctx, record, reasons.SOMETHING)
    helper(ctx, record, stated)
    helper(ctx, record, reasons.ok(fmt) if choice else "")
    ctx.access_log.note(record.id, "X", reason=" ".join(stated.split()))
'''


def test_a_planted_literal_is_refused() -> None:
    trees = parse(backend_sources()) | parse({BACKEND / "planted.py": PLANTED})
    planted = {
        int(p.split(":")[1].split()[0]) for p in written_in_place(trees) if p.startswith("backend/planted.py")
    }
    refused = {n for n, line in enumerate(PLANTED.splitlines(), 1) if line.endswith("# refused")}
    assert len(refused) == 6
    assert planted == refused
