"""Every method on every kind of path answers consistently: a 405 names in `Allow` the methods
that path answers (HEAD included only where it is answered), and each method it names is
answered; a refusal is a JSON `errors` list with `BAD_USER_INPUT`."""

from __future__ import annotations

import httpx
import pytest

from backend.static import DIST

FILE = "/files/00000000-0000-0000-0000-000000000000"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PATHS = ["/graphql", FILE, "/", "/some/screen", "/healthz", "/livez"]
if (DIST / "assets").exists():
    PATHS.append("/assets/none.js")


async def test_head_on_the_api_is_refused_with_the_methods_it_answers(client: httpx.AsyncClient) -> None:
    answer = await client.head("/graphql")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert answer.headers["content-type"].startswith("application/json")
    assert "content-security-policy" in answer.headers


@pytest.mark.parametrize("path", PATHS)
async def test_a_405_names_what_the_path_answers_and_that_is_answered(
    client: httpx.AsyncClient, path: str,
) -> None:
    answers = {method: await client.request(method, path) for method in METHODS}
    refused = {method: answer for method, answer in answers.items() if answer.status_code == 405}
    assert refused, path  # every path refuses some method
    allows = {answer.headers.get("allow") for answer in refused.values()}
    assert len(allows) == 1 and None not in allows, (path, allows)
    allowed = {m.strip() for m in allows.pop().split(",")}
    assert allowed and not allowed & refused.keys(), (path, allowed)
    assert allowed | refused.keys() == set(METHODS), (path, allowed)
    for method, answer in refused.items():
        assert answer.headers["content-type"].startswith("application/json"), (path, method)
        assert "content-security-policy" in answer.headers, (path, method)
        if method != "HEAD":  # a HEAD answer has no body
            assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (path, method)


@pytest.mark.skipif(not (DIST / "assets").exists(), reason="the frontend is not built")
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_missing_asset_is_a_json_not_found(client: httpx.AsyncClient, method: str) -> None:
    answer = await client.request(method, "/assets/none.js")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/json")
    assert "content-security-policy" in answer.headers
    if method == "GET":
        assert answer.json() == {"errors": [{"message": "Not found", "extensions": {"code": "NOT_FOUND"}}]}
