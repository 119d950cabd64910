"""Summarize a py-spy profile (raw collapsed stacks) of the server under load.

`bench.run --profile FILE` records the server with py-spy during S1 (spread) and prints
this summary: where the server's time goes, by layer and by function.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

# Layers, tried in order on each frame's file path (the innermost matching frame wins).
LAYERS: list[tuple[str, str]] = [
    ("asyncpg driver", "asyncpg/"),
    ("aiosqlite/sqlite3", "aiosqlite/"),
    ("tortoise ORM", "tortoise/"),
    ("pypika (SQL building)", "pypika"),
    ("graphql-core (execution, validation)", "graphql/"),
    ("strawberry", "strawberry/"),
    ("logging", "logging/"),
    ("json", "json/"),
    ("uvicorn / h11 / httptools", "uvicorn/"),
    ("starlette", "starlette/"),
    ("asyncio event loop", "asyncio/"),
    ("dmp backend", "backend/"),
]
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:]*)(?::\d+)?\)$")


def parse(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        frames = []
        for raw in stack.split(";"):
            m = FRAME.match(raw)
            frames.append((m["func"], m["file"]) if m else (raw, ""))
        stacks.append((frames, int(count)))
    return stacks


def layer_of(frames: list[tuple[str, str]]) -> str:
    """The layer of the innermost frame that belongs to a known layer."""
    for _func, file in reversed(frames):
        for name, marker in LAYERS:
            if marker in file:
                return name
    return "other (interpreter, C code)"


def summarize(path: Path, top: int = 25) -> str:
    stacks = parse(path)
    total = sum(count for _, count in stacks) or 1
    layers: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks:
        layers[layer_of(frames)] += count
        seen = set()
        for func, file in frames:
            key = f"{func} ({short(file)})"
            if key not in seen:
                inclusive[key] += count
                seen.add(key)
        if frames:
            func, file = frames[-1]
            own[f"{func} ({short(file)})"] += count
    lines = [f"{total} samples", "", "Self time by layer (innermost known frame):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in layers.most_common()]
    lines += ["", f"Inclusive time, top {top} functions:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", f"Self time, top {top} functions:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25))
