"""A request with two Content-Type headers is bounded as the view reads it: the view (Starlette's
`headers.get`, strawberry) reads the first, the body limits read the last, so a JSON body sent
with a second, multipart, Content-Type was held whole under the upload limit (21 MB) instead of
the body limit (10 MB), and a multipart body sent with a second JSON one skipped the rule that
an upload declares its length."""

from __future__ import annotations

import json

from backend.middleware import HttpEdge
from backend.upload_limit import MAX_BODY, MAX_MULTIPART_BODY
from tests.test_http_edge import answering, run, scope

JSON = (b"content-type", b"application/json")
MULTIPART = (b"content-type", b"multipart/form-data; boundary=x")


async def test_a_json_body_with_a_second_multipart_type_keeps_the_body_limit() -> None:
    assert MAX_BODY < MAX_BODY + 1 < MAX_MULTIPART_BODY
    app, calls = answering()
    length = (b"content-length", str(MAX_BODY + 1).encode())
    sent = await run(HttpEdge(app), scope(headers=[JSON, MULTIPART, length]))
    assert calls == []  # refused before the body is read
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_multipart_body_with_a_second_json_type_declares_its_length() -> None:
    app, calls = answering()
    sent = await run(HttpEdge(app), scope(headers=[MULTIPART, JSON]))
    assert calls == []
    assert sent[0]["status"] == 411
