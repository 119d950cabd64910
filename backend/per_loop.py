"""One object per event loop, made when first asked for on it: a lock or a semaphore that
bounds work within one process (tests run several loops in turn; an asyncio lock belongs to
the loop it is first used on)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def per_loop(make: Callable[[], T]) -> Callable[[], T]:
    """A function giving the running loop's object, made by `make` the first time."""
    made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def of_this_loop() -> T:
        loop = asyncio.get_running_loop()
        value = made.get(loop)
        if value is None:
            value = made[loop] = make()
        return value

    return of_this_loop
