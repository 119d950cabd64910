"""A multipart media type in capitals is read as one whatever its parameters say: the
shortcut that leaves a JSON request alone looked for `application/json` anywhere in the
header, so `Multipart/Form-Data; boundary=…application/json…` was not named in lower case for
strawberry and was refused as "Unsupported content type"."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request

from backend.graphql_view import _media_type_named_lower
from backend.models import StoredFile
from tests.conftest import GraphQLResult
from tests.document_samples import pdf
from tests.test_http_multipart_edges import multipart, patient, post

# A boundary may hold a `/` (RFC 2046, 5.1.1 bchars).
BOUNDARY = "application/json"


def _body(boundary: str) -> bytes:
    return multipart(pdf()).replace(b"dmp-edge-7f3a", boundary.encode())


@pytest.mark.parametrize("content_type", [
    f'Multipart/Form-Data; boundary="{BOUNDARY}"', f"Multipart/Form-Data; boundary=x; note={BOUNDARY}",
])
async def test_a_multipart_type_in_capitals_is_read_whatever_its_parameters(
    client: httpx.AsyncClient, content_type: str
) -> None:
    caller = await patient(client)
    boundary = BOUNDARY if "boundary=\"" in content_type else "x"
    response = await post(caller, _body(boundary), content_type)
    entry = GraphQLResult(response).ok()["uploadDocument"]["entry"]
    assert entry["size"] == len(pdf())
    assert await StoredFile.all().count() == 1


@pytest.mark.parametrize(("sent", "read"), [
    ("Multipart/Form-Data; note=application/json", "multipart/form-data; note=application/json"),
    ("Application/JSON; charset=utf-8", "application/json; charset=utf-8"),
    ("application/json; charset=UTF-8", "application/json; charset=UTF-8"),
    ("Text/Plain; note=application/json", "Text/Plain; note=application/json"),
])
def test_the_media_type_alone_is_named_in_lower_case(sent: str, read: str) -> None:
    request = Request({"type": "http", "method": "POST", "path": "/graphql", "query_string": b"",
                       "headers": [(b"content-type", sent.encode())]})
    assert _media_type_named_lower(request).headers["content-type"] == read
