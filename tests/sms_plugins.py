"""SMS plug-ins for the tests (DMP_SMS_BACKEND=tests.sms_plugins:…), written as an operator's
would be (docs/operations.md, "SMS plug-ins"): a class made without arguments, reading its
own settings from the environment, with `async def send(phone, text)`."""

from __future__ import annotations

import asyncio
import json
import os

from backend.notify.senders import Undeliverable

# What Recorder instances were asked to send, in order: (phone, text).
SENT: list[tuple[str, str]] = []


class Recorder:
    async def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


class FileRecorder:
    """For a served `dmp` in its own process: each text as a JSON line in the file named by
    DMP_TEST_SMS_FILE."""

    def __init__(self) -> None:
        self.path = os.environ["DMP_TEST_SMS_FILE"]

    async def send(self, phone: str, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"to": phone, "text": text}) + "\n")


class Counted:
    """Counts how many senders were made."""

    made = 0

    def __init__(self) -> None:
        Counted.made += 1

    async def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


class NeedsKey:
    """A provider's sender that cannot work without its key."""

    def __init__(self) -> None:
        self.key = os.environ.get("ACME_SMS_KEY")
        if not self.key:
            raise RuntimeError("ACME_SMS_KEY is not set")

    async def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


class RejectsKey:
    """A provider's client that checks its key when made, and repeats the key in its error."""

    def __init__(self) -> None:
        raise PermissionError(f"the provider refused the key {os.environ.get('ACME_SMS_KEY')}")

    async def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


class Refusing:
    """A provider that refuses every text, repeating it in its error (as some do)."""

    async def send(self, phone: str, text: str) -> None:
        raise ConnectionError(f"provider refused {phone}: {text}")


class AnswersAnError:
    """A provider that answers each text with an error of its own (an HTTP 400, say)."""

    async def send(self, phone: str, text: str) -> None:
        raise RuntimeError(f"the provider answered 400 for {phone}")


class RefusingForGood:
    """A provider that says a number reaches no network, repeating the number and the text."""

    async def send(self, phone: str, text: str) -> None:
        raise Undeliverable(f"no network for {phone}: {text}")


class Hanging:
    """A provider that never answers."""

    async def send(self, phone: str, text: str) -> None:
        await asyncio.sleep(3600)


class Blocking:
    """A sender written without `async`: the outbox would block the event loop on it."""

    def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


def make_recorder() -> Recorder:
    return Recorder()


NOT_A_FACTORY = 42
