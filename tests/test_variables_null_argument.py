"""A null variable for a non-null argument that has a default value.

Validation lets a nullable variable stand where the argument is non-null with a default
(GraphQL spec, "All Variable Usages Are Allowed"); a null sent for it is then refused as the
field runs, a field error (spec, CoerceArgumentValues). It is the caller's mistake:
BAD_USER_INPUT with graphql-core's words, never INTERNAL, and the field is not run.
"""

from __future__ import annotations

import json

import httpx

from backend.models import AccessEvent, Entry, Grant, StoredFile
from tests import factories
from tests.conftest import Caller, GraphQLResult, session_for
from tests.document_samples import pdf

MEDICATIONS = (
    "query($ins: String!, $f: Int) { patientRecord(ins: $ins) { ins medications(first: $f) { totalCount } } }"
)
UPLOAD = (
    "mutation($file: Upload!, $s: Section) {"
    ' uploadDocument(file: $file, title: "Compte rendu", section: $s) { entry { id } } }'
)


async def test_a_null_first_is_bad_user_input(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    account, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=["MEDICATIONS"])
    caller = Caller(client, session=await session_for(account))
    for _ in range(2):  # the first time through the full pipeline, then as an accepted document
        result = await caller.gql(MEDICATIONS, {"ins": record.ins, "f": None})
        assert result.codes == ["BAD_USER_INPUT"], result.errors
        assert result.errors[0]["path"] == ["patientRecord", "medications"]
        assert "'first'" in result.errors[0]["message"]
        assert result.data == {"patientRecord": {"ins": record.ins, "medications": None}}


async def test_a_null_section_in_an_upload_is_bad_user_input_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    client.cookies.clear()
    for name, value in caller.cookies().items():
        client.cookies.set(name, value)
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps({"query": UPLOAD, "variables": {"file": None, "s": None}}),
              "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("cr.pdf", pdf(), "application/pdf")},
        headers={**caller.headers(), "x-dmp-client": "dmp-web"},
    )
    result = GraphQLResult(response)
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert "'section'" in result.errors[0]["message"]
    assert await Entry.all().count() == 0
    assert await StoredFile.all().count() == 0
    assert await AccessEvent.filter(record_id=record.id).count() == 0
