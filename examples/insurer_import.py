"""The insurer's import over the API: an NDJSON file of care items, sent in batches.

    export DMP_URL=https://dmp.example.fr DMP_TOKEN=dmp_…
    python examples/insurer_import.py FILE.ndjson [--batch-size 1000]

One CareItemInput per line (ins, firstName, lastName, birthDate, externalId, section, code,
title, date, details, contactEmail). Each batch goes to importCareHistory; since imports are
idempotent per externalId, a batch that failed in transit is simply sent again. A line that
corrects an earlier line of its batch (the same INS and externalId, other content: a corrected
line appended later in the extract) starts the next batch, as `dmp import-file` does: it is
imported as a correction, never refused with CONFLICT for appearing twice in one batch, and
the result does not depend on --batch-size. An item
GraphQL refuses whole (a missing field, an unknown one) is set aside with its reason and the
rest of its batch sent again; a line that is not a JSON object in UTF-8 (or holds what JSON
cannot carry: a lone surrogate, NaN, a number beyond a float) is rejected alone. Prints the
counts of each batch, the totals and every rejected item with its line number.
Needs httpx. Exit status: 0 (even with rejected items), 1 when the import cannot go on, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx

IMPORT = """
mutation Import($items: [CareItemInput!]!) {
  importCareHistory(items: $items) {
    accepted created corrected unchanged
    rejected { index externalId code message }
  }
}
"""
MAX_BATCH = 5000
RETRYABLE = {"INTERNAL", "CONFLICT", "RATE_LIMITED"}
ATTEMPTS = 4


class ImportFailed(Exception):
    pass


class ItemRefused(Exception):
    """An item GraphQL refused before the import ran (a missing field, a field of the wrong
    type): the whole batch is refused, naming the item's index in it."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


# "Variable '$items' has invalid value at [3]: Expected value of type 'CareItemInput' to
# include required field 'title'."
# "… at [2].date: Value cannot represent a Date: Expected a string." names the field too.
ITEM_REFUSED = re.compile(r"^Variable '\$items' has invalid value at \[(\d+)\]\.?([^:]*): (.*)$", re.DOTALL)


def read_items(path: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, item or None, why it is unreadable) for every non-empty line."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield number, None, "not UTF-8 text"
                continue
            if not line.strip():
                continue
            try:
                item = json.loads(line, parse_constant=_no_constant)
            except ValueError as exc:
                yield number, None, f"not valid JSON: {exc}"
                continue
            if not isinstance(item, dict):
                yield number, None, "not a JSON object"
                continue
            try:  # as the request will carry it: UTF-8 JSON (httpx refuses it otherwise)
                json.dumps(item, ensure_ascii=False, allow_nan=False).encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate, such as the escape \ud800
                yield number, None, "text holding a lone surrogate (not a character)"
                continue
            except ValueError:  # a number too large for a float, such as 1e999
                yield number, None, "a number out of range"
                continue
            yield number, item, ""


# An INS as the import reads it: without spaces, dots and dashes, upper-cased (2A/2B).
INS_SEPARATORS = re.compile(r"[\s.-]")


def import_key(item: dict[str, Any]) -> tuple[str, str]:
    """The key the import compares items by (the organization is the token's): the INS as it
    reads it and the externalId without the spaces at its ends."""
    return INS_SEPARATORS.sub("", str(item.get("ins"))).upper(), str(item.get("externalId")).strip()


def content(item: dict[str, Any]) -> str:
    """The item's content, compared as sent: two lines the import would read alike but that are
    written differently only start one more batch (the later one is then `unchanged`)."""
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def _no_constant(name: str) -> Any:
    """NaN and Infinity, which Python's JSON reads but JSON does not have."""
    raise ValueError(f"{name} is not a JSON value")


def send(client: httpx.Client, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One batch, retried with backoff when the failure is on the way or on the server's side."""
    for attempt in range(ATTEMPTS):
        try:
            response = client.post("/graphql", json={"query": IMPORT, "variables": {"items": items}})
            body = response.json()
        except (httpx.TransportError, ValueError) as exc:
            problem = f"transport: {exc}"
        else:
            errors = body.get("errors") or []
            if not errors and response.is_success:
                return dict(body["data"]["importCareHistory"])
            first = errors[0] if errors else {}
            code = first.get("extensions", {}).get("code", "") or f"HTTP {response.status_code}"
            problem = f"{code}: {first.get('message') or response.text[:200]}"
            refused = ITEM_REFUSED.match(first.get("message") or "") if code == "BAD_USER_INPUT" else None
            if refused:
                where, why = refused.group(2), refused.group(3)
                raise ItemRefused(int(refused.group(1)), f"{where}: {why}" if where else why)
            if response.status_code == 413:  # the batch's JSON is over the body limit
                raise ImportFailed(f"{problem}; send smaller batches (--batch-size)")
            if code not in RETRYABLE and response.status_code < 500:
                raise ImportFailed(problem)
        if attempt < ATTEMPTS - 1:
            time.sleep(2**attempt)
    raise ImportFailed(problem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import an NDJSON file of care items.")
    parser.add_argument("file")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    url, token = os.environ.get("DMP_URL"), os.environ.get("DMP_TOKEN")
    if not url or not token:
        print("set DMP_URL (e.g. https://dmp.example.fr) and DMP_TOKEN", file=sys.stderr)
        return 2
    if not 1 <= args.batch_size <= MAX_BATCH:
        print(f"--batch-size must be between 1 and {MAX_BATCH}", file=sys.stderr)
        return 2

    totals = {"accepted": 0, "created": 0, "corrected": 0, "unchanged": 0}
    rejected: list[tuple[int, str, str, str]] = []  # line, externalId, code, message
    batch: list[tuple[int, dict[str, Any]]] = []
    in_batch: dict[tuple[str, str], str] = {}  # the content of each key in the current batch
    batches = 0

    def flush(client: httpx.Client) -> None:
        nonlocal batches
        batches += 1
        lines = f"lines {batch[0][0]}-{batch[-1][0]}"
        set_aside = 0
        result: dict[str, Any] = {"accepted": 0, "rejected": []}
        while batch:
            try:
                result = send(client, [item for _, item in batch])
                break
            except ItemRefused as refused:  # that item aside, the rest of the batch again
                if not 0 <= refused.index < len(batch):
                    raise ImportFailed(f"BAD_USER_INPUT: {refused}") from None
                number, item = batch.pop(refused.index)
                rejected.append((number, str(item.get("externalId") or ""), "BAD_USER_INPUT", str(refused)))
                set_aside += 1
        for key in totals:
            totals[key] += result.get(key, 0)
        for r in result["rejected"]:
            rejected.append((batch[r["index"]][0], r["externalId"], r["code"], r["message"]))
        print(f"batch {batches}: {lines}: {result['accepted']} accepted, "
              f"{len(result['rejected']) + set_aside} rejected", flush=True)
        batch.clear()
        in_batch.clear()

    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=120) as client:
            for number, item, problem in read_items(args.file):
                if item is None:
                    rejected.append((number, "", "BAD_USER_INPUT", problem))
                    continue
                key, sent = import_key(item), content(item)
                if in_batch.get(key, sent) != sent:  # a correction of a line of this batch
                    flush(client)
                in_batch.setdefault(key, sent)
                batch.append((number, item))
                if len(batch) >= args.batch_size:
                    flush(client)
            if batch:
                flush(client)
    except OSError as exc:
        print(f"error: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ImportFailed as exc:
        print(f"error: the import stopped: {exc} (re-run it: items already imported stay unchanged)",
              file=sys.stderr)
        return 1

    print(f"total: {totals['accepted']} accepted ({totals['created']} created, {totals['corrected']} "
          f"corrected, {totals['unchanged']} unchanged), {len(rejected)} rejected")
    for line, external_id, code, message in sorted(rejected):
        print(f"  line {line}: {external_id or '-'} {code} {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
