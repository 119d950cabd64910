"""Fields started at once by the product's executor (backend/schema/execution.py,
`execute_fields`) behave as graphql-core's tasks do: same answers in the same order, same
errors at the same paths, sibling loads batched, a context of their own, and cancellation
passed on, with the cancelled fields' clean-up awaited.

Each query runs on strawberry's own executor and on the product's; the answers and what the
resolvers recorded are compared.
"""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar
from typing import Any

import pytest
import strawberry
from strawberry.dataloader import DataLoader

from backend.schema import execution

VAR: ContextVar[str] = ContextVar("VAR", default="outer")
CALLS: list[str] = []  # calls of the sync method returning a coroutine


def _log(info: Any) -> list[str]:
    log: list[str] = info.context["log"]
    return log


@strawberry.type
class Box:
    @strawberry.field
    async def a(self, info: strawberry.Info) -> int:
        value: int = await info.context["loader"].load(1)
        return value

    @strawberry.field
    async def b(self, info: strawberry.Info) -> int:
        value: int = await info.context["loader"].load(2)
        return value

    @strawberry.field
    async def immediate(self) -> str:  # never suspends
        return "now"

    @strawberry.field
    async def turns(self) -> str:  # bare yields, then a timer
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)
        return "turned"

    @strawberry.field
    async def nullable_fails(self) -> str | None:
        await asyncio.sleep(0)
        raise ValueError("nullable failed")

    @strawberry.field
    async def required_fails(self) -> str:
        await asyncio.sleep(0)
        raise ValueError("required failed")

    @strawberry.field
    def required_fails_at_once(self) -> str:
        raise ValueError("failed at once")

    @strawberry.field
    async def required_fails_before_waiting(self) -> str:
        raise ValueError("failed before waiting")

    @strawberry.field
    async def caught(self) -> str:
        """A future's exception reaches the coroutine awaiting it."""
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_exception, KeyError("k"))
        try:
            await future
        except KeyError:
            return "caught"
        return "missed"

    @strawberry.field
    async def sets_var(self) -> str:
        VAR.set("inner")
        await asyncio.sleep(0)
        return VAR.get()

    @strawberry.field
    async def reads_var(self) -> str:
        await asyncio.sleep(0)
        return VAR.get()

    @strawberry.field
    async def long(self, info: strawberry.Info) -> str:
        """Waits; cancelled, it records it and awaits its clean-up before giving up."""
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            _log(info).append("cancelled")
            await asyncio.sleep(0)
            _log(info).append("cleaned up")
            raise
        _log(info).append("finished")
        return "long"

    @strawberry.field
    def future(self) -> str:
        """An awaitable that is not a coroutine."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, "from a future")
        return future  # type: ignore[return-value]

    @strawberry.field
    def coroutine(self) -> str:
        """A sync method returning a coroutine: called once, its coroutine awaited."""
        CALLS.append("coroutine")
        return self._later()  # type: ignore[return-value]

    async def _later(self) -> str:
        await asyncio.sleep(0)
        return "from a coroutine"

    @strawberry.field
    async def locked_twice(self, info: strawberry.Info) -> str:
        """Takes the context's lock twice, waiting inside it: released the first time, the
        lock goes to a field waiting for it, which must go on for this one to get it back."""
        for _ in range(2):
            async with info.context["lock"]:
                await asyncio.sleep(0)
        return "twice"

    @strawberry.field
    async def locked_once(self, info: strawberry.Info) -> str:
        async with info.context["lock"]:
            await asyncio.sleep(0)
        return "once"

    @strawberry.field
    async def inner(self) -> Box:
        await asyncio.sleep(0)
        return Box()


@strawberry.type
class Query:
    @strawberry.field
    def box(self) -> Box:
        return Box()

    @strawberry.field
    async def later_box(self) -> Box | None:
        await asyncio.sleep(0)
        return Box()


REFERENCE = strawberry.Schema(query=Query)
PRODUCT = strawberry.Schema(query=Query, execution_context_class=execution.ExecutionContext)
execution.prepare(PRODUCT)

QUERIES = {
    "sibling loads": "{ box { a b immediate } }",
    "order kept": "{ box { turns immediate a future caught b } }",
    "nested": "{ laterBox { a inner { b turns } } box { turns inner { a immediate } } }",
    "a nullable field fails": "{ box { a nullableFails b } }",
    "a non-null field fails": "{ laterBox { a requiredFails b } box { immediate } }",
    "a non-null field fails at once": "{ laterBox { turns requiredFailsAtOnce } box { a } }",
    "a non-null field fails before waiting": "{ laterBox { long requiredFailsBeforeWaiting a } box { b } }",
    "context variables": "{ box { setsVar readsVar } }",
    "a future": "{ box { future immediate } }",
    "a sync method's coroutine": "{ box { coroutine immediate } }",
    "a lock handed from one field to another": "{ box { lockedTwice lockedOnce a } }",
}


async def _run(schema: strawberry.Schema, query: str) -> tuple[str, dict[str, Any]]:
    batches: list[list[int]] = []
    CALLS.clear()

    async def load(keys: list[int]) -> list[int]:
        batches.append(list(keys))
        return [key * 10 for key in keys]

    context = {"loader": DataLoader(load_fn=load), "log": [], "batches": batches, "lock": asyncio.Lock()}
    # A field never resumed would leave the answer waiting for ever: a failure, not a hang.
    result = await asyncio.wait_for(schema.execute(query, context_value=context), 10)
    await asyncio.sleep(0.1)  # whatever runs in the background ends
    errors = [{"message": e.message, "path": e.path} for e in result.errors or []]
    context["calls"] = list(CALLS)
    # Dumped as text: the order of the fields is compared too.
    return json.dumps({"data": result.data, "errors": errors}), context


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_same_answer_as_strawberry(name: str) -> None:
    """Same answer, errors, clean-up and calls. The loads are batched as well or better: a
    field goes on as soon as what it waits for is done, where a task of its own would go on
    an event-loop turn later, so loads of several levels may share a batch, and a load whose
    field is cancelled before its batch is sent is not sent."""
    expected, expected_context = await _run(REFERENCE, QUERIES[name])
    got, context = await _run(PRODUCT, QUERIES[name])
    assert got == expected
    assert context["log"] == expected_context["log"]
    assert context["calls"] == expected_context["calls"]
    batches, expected_batches = context["batches"], expected_context["batches"]
    assert len(batches) <= len(expected_batches)
    loaded = [key for batch in batches for key in batch]
    assert len(loaded) == len(set(loaded)) and set(loaded) <= {key for b in expected_batches for key in b}


async def test_sibling_loads_are_one_batch() -> None:
    answer, context = await _run(PRODUCT, "{ box { a b } }")
    assert json.loads(answer)["data"] == {"box": {"a": 10, "b": 20}}
    assert context["batches"] == [[1, 2]]


async def test_a_field_context_is_its_own() -> None:
    answer, _ = await _run(PRODUCT, "{ box { setsVar readsVar } }")
    assert json.loads(answer)["data"] == {"box": {"setsVar": "inner", "readsVar": "outer"}}
    assert VAR.get() == "outer"


async def test_a_failed_non_null_field_cancels_its_siblings_and_awaits_their_clean_up() -> None:
    answer, context = await _run(PRODUCT, "{ laterBox { requiredFails long } }")
    assert json.loads(answer)["data"] == {"laterBox": None}
    assert context["log"] == ["cancelled", "cleaned up"]


async def test_a_sync_failure_lets_started_fields_finish() -> None:
    """graphql-core settles the awaitables it abandons in the background; so does this."""
    answer, context = await _run(PRODUCT, "{ laterBox { long requiredFailsAtOnce } }")
    assert json.loads(answer)["data"] == {"laterBox": None}
    assert context["log"] == ["finished"]


async def test_the_request_cancelled_cancels_the_running_field() -> None:
    context: dict[str, Any] = {"loader": None, "log": []}
    task = asyncio.ensure_future(PRODUCT.execute("{ box { immediate long } }", context_value=context))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert context["log"] == ["cancelled", "cleaned up"]


async def test_fields_run_without_a_task_each() -> None:
    """The point of starting them at once: no task per field, one for the loader's batch."""
    created: list[Any] = []
    loop = asyncio.get_running_loop()
    factory = loop.get_task_factory()

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        created.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting)
    try:
        answer, _ = await _run(PRODUCT, "{ box { a b turns caught } }")
        product_tasks = len(created)
        created.clear()
        expected, _ = await _run(REFERENCE, "{ box { a b turns caught } }")
    finally:
        loop.set_task_factory(factory)
    assert answer == expected
    assert len(created) == product_tasks + 4  # graphql-core's gather: one task per field
